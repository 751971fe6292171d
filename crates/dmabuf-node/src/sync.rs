//! `SyncFile` functions, with a wait that occupies no thread: each pending
//! wait is a duplicate fd registered with the tokio reactor's epoll.

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;

use crate::errors::{fd_arg, miss, os};
use crate::fast::set_out;
use crate::js::{self, Ctor, JsErr};
use crate::table::{self, Obj};

/// One fence of a `SyncFile`.
#[napi(object)]
pub struct FenceInfo {
    /// The driver that made it (`vgem`, `dma_fence_array`, ...).
    pub driver: String,
    /// Its timeline.
    pub timeline: String,
    /// 'active', 'signaled' or 'error'.
    #[napi(ts_type = "'active' | 'signaled' | 'error'")]
    pub status: String,
    /// The driver's negative errno when status is 'error'.
    pub error: Option<i32>,
    /// When it signalled (`CLOCK_MONOTONIC`, ns); 0n while active.
    pub timestamp_ns: BigInt,
}

/// What `SyncFile.info()` returns.
#[napi(object)]
pub struct SyncFileInfo {
    /// The `sync_file`'s name.
    pub name: String,
    /// 'active' until every fence has signalled.
    #[napi(ts_type = "'active' | 'signaled' | 'error'")]
    pub status: String,
    /// The driver's negative errno when status is 'error'.
    pub error: Option<i32>,
    /// Each fence.
    pub fences: Vec<FenceInfo>,
}

fn status(s: dmabuf::FenceStatus) -> (String, Option<i32>) {
    match s {
        dmabuf::FenceStatus::Error(e) => ("error".into(), Some(e)),
        s => (s.as_str().into(), None),
    }
}

/// Stores a new `SyncFile`, returns its handle, and puts its fd in output slot 0.
pub(crate) fn out_sync(env: &Env, method: &str, sf: dmabuf::SyncFile) -> Result<f64> {
    let fd = sf.as_raw_fd();
    let h = table::insert(Obj::Sync(sf)).map_err(|m| miss(env, method, "SyncFile", &m))?;
    set_out(0, f64::from(fd));
    Ok(h)
}

fn on_sync<T>(env: &Env, h: f64, method: &str, f: impl FnOnce(&dmabuf::SyncFile) -> dmabuf::Result<T>) -> Result<T> {
    table::with_sync(h, |s| f(s)).map_err(|m| miss(env, method, "SyncFile", &m))?.map_err(|e| os(env, method, &e))
}

/// A timeout in milliseconds from JavaScript (negative: none). One too long
/// for a `Duration` waits for ever too.
fn timeout(ms: f64) -> Option<Duration> {
    if ms < 0.0 {
        None
    } else {
        Duration::try_from_secs_f64(ms / 1000.0).ok()
    }
}

/// `fcntl(F_DUPFD_CLOEXEC)` of an fd number the caller keeps: SyncFile.fromFd.
#[napi(catch_unwind)]
pub fn sync_from_fd(env: &Env, fd: f64) -> Result<f64> {
    const M: &str = "SyncFile.fromFd";
    let fd = fd_arg(env, M, fd)?;
    let sf = dmabuf::SyncFile::dup_from_raw(fd).map_err(|e| os(env, M, &e))?;
    out_sync(env, M, sf)
}

/// `fcntl(F_DUPFD_CLOEXEC)`: SyncFile.dup.
#[napi(catch_unwind)]
pub fn sync_dup(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "SyncFile.dup";
    let copy = on_sync(env, h, M, dmabuf::SyncFile::try_clone)?;
    out_sync(env, M, copy)
}

/// `SYNC_IOC_FILE_INFO`: SyncFile.info.
#[napi(catch_unwind)]
pub fn sync_info(env: &Env, h: f64) -> Result<SyncFileInfo> {
    let i = on_sync(env, h, "SyncFile.info", dmabuf::SyncFile::info)?;
    let (st, err) = status(i.status);
    Ok(SyncFileInfo {
        name: i.name,
        status: st,
        error: err,
        fences: i
            .fences
            .into_iter()
            .map(|f| {
                let (st, err) = status(f.status);
                FenceInfo {
                    driver: f.driver,
                    timeline: f.timeline,
                    status: st,
                    error: err,
                    timestamp_ns: BigInt::from(f.timestamp_ns),
                }
            })
            .collect(),
    })
}

/// `SYNC_IOC_MERGE`: SyncFile.merge.
#[napi(catch_unwind)]
pub fn sync_merge(env: &Env, h: f64, other: f64, name: String) -> Result<f64> {
    const M: &str = "SyncFile.merge";
    table::with_sync(other, |_| ()).map_err(|m| miss(env, M, "SyncFile", &m))?;
    let merged = table::with_all(&[h, other], |objs| match objs {
        [Obj::Sync(a), Obj::Sync(b)] => a.merge(b, &name).map_err(|e| os(env, M, &e)),
        _ => Err(miss(env, M, "SyncFile", &table::Miss::Closed)),
    })
    .map_err(|(_, m)| miss(env, M, "SyncFile", &m))??;
    out_sync(env, M, merged)
}

/// `poll` with a zero timeout: SyncFile.isSignaled.
#[napi(catch_unwind)]
pub fn sync_is_signaled(env: &Env, h: f64) -> Result<bool> {
    on_sync(env, h, "SyncFile.isSignaled", dmabuf::SyncFile::is_signaled)
}

/// `poll`, blocking: SyncFile.waitSync. A negative timeout waits for ever.
#[napi(catch_unwind)]
pub fn sync_wait_sync(env: &Env, h: f64, timeout_ms: f64) -> Result<bool> {
    let t = timeout(timeout_ms);
    on_sync(env, h, "SyncFile.waitSync", |s| s.wait(t))
}

enum Outcome {
    Signaled,
    TimedOut,
    Cancelled,
    /// A system call failed: (call, errno).
    Failed(&'static str, i32),
}

thread_local! {
    /// Pending waits that JavaScript may cancel (an AbortSignal fired), by id.
    static CANCEL: RefCell<HashMap<u32, oneshot::Sender<()>>> = RefCell::new(HashMap::new());
}

/// Waits on the reactor until the duplicated `sync_file` polls readable.
async fn readable(fd: OwnedFd) -> std::result::Result<(), (&'static str, i32)> {
    let io = |op: &'static str| move |e: std::io::Error| (op, e.raw_os_error().unwrap_or(nix::libc::EIO));
    // SAFETY: `fd` is an OwnedFd moved into the AsyncFd, so it stays open and
    // the same for the AsyncFd's whole life.
    let afd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
        .map_err(|e| ("epoll_ctl", e.into_parts().1.raw_os_error().unwrap_or(nix::libc::EIO)))?;
    let signaled = || {
        let mut fds = [nix::poll::PollFd::new(std::os::fd::AsFd::as_fd(afd.get_ref()), nix::poll::PollFlags::POLLIN)];
        loop {
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) {
                Ok(n) => return Ok(n > 0),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(("poll", e as i32)),
            }
        }
    };
    // Already signalled: answer now, so that wait(0) on a signalled
    // sync_file resolves true.
    if signaled()? {
        return Ok(());
    }
    loop {
        let mut guard = afd.readable().await.map_err(io("epoll_wait"))?;
        // Edge-triggered readiness can be stale: confirm with a zero-timeout poll.
        if signaled()? {
            return Ok(());
        }
        guard.clear_ready();
    }
}

/// Resolves true once signalled, false when `timeoutMs` (negative: none)
/// passes first; `syncCancelWait(waitId)` resolves it with `null`. The
/// `SyncFile`'s fd is duplicated for the wait, so `close()` meanwhile is safe.
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>")]
pub fn sync_wait(env: &Env, h: f64, timeout_ms: f64, wait_id: u32) -> Result<PromiseRaw<'_, Option<bool>>> {
    const M: &str = "SyncFile.wait";
    let t = timeout(timeout_ms);
    let fd: OwnedFd = on_sync(env, h, M, dmabuf::SyncFile::try_clone)?.into();
    let (tx, rx) = oneshot::channel::<()>();
    CANCEL.with(|c| c.borrow_mut().insert(wait_id, tx));
    let fut = async move {
        let timer = async {
            match t.and_then(|t| tokio::time::Instant::now().checked_add(t)) {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending::<()>().await,
            }
        };
        let cancelled = async {
            // A dropped sender (the wait settled) must not count as a cancel.
            if rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        Ok(tokio::select! {
            // In this order: a signalled fence wins over a timeout that is
            // also due (wait(0)), and over a cancel in the same tick.
            biased;
            r = readable(fd) => match r { Ok(()) => Outcome::Signaled, Err((op, errno)) => Outcome::Failed(op, errno) },
            () = timer => Outcome::TimedOut,
            () = cancelled => Outcome::Cancelled,
        })
    };
    env.spawn_future_with_callback(fut, move |env, outcome| {
        CANCEL.with(|c| c.borrow_mut().remove(&wait_id));
        match outcome {
            Outcome::Signaled => Ok(Some(true)),
            Outcome::TimedOut => Ok(Some(false)),
            Outcome::Cancelled => Ok(None),
            Outcome::Failed(op, errno) => {
                let errno = nix::errno::Errno::from_raw(errno);
                let name = dmabuf::error::errno_name(errno);
                let mut e = JsErr::new(Ctor::Error, name, format!("{name}: {}, {M}", errno.desc()));
                e.errno = Some(-(errno as i32));
                e.syscall = Some(op.into());
                Err(js::to_napi(env, e))
            }
        }
    })
}

/// Ends a pending `syncWait` (its promise resolves `null`); unknown ids are ignored.
#[napi(catch_unwind)]
pub fn sync_cancel_wait(wait_id: u32) {
    if let Some(tx) = CANCEL.with(|c| c.borrow_mut().remove(&wait_id)) {
        let _ = tx.send(());
    }
}
