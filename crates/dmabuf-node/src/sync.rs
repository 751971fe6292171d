//! `SyncFile` for JavaScript, with a wait that occupies no thread: each
//! pending wait is an fd registered with the tokio reactor's epoll.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;

use crate::js::{self, Ctor, JsErr};
use crate::{closed_err, fd_arg, os_err, range_err};

/// One fence of a SyncFile.
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
    /// When it signalled (CLOCK_MONOTONIC, ns); 0n while active.
    pub timestamp_ns: BigInt,
}

/// What `SyncFile.info()` returns.
#[napi(object)]
pub struct SyncFileInfo {
    /// The sync_file's name.
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

/// A sync_file: an fd that signals when its fences have. Close it with
/// `close()` (or `using`).
#[napi]
pub struct SyncFile {
    inner: Rc<RefCell<Option<dmabuf::SyncFile>>>,
}

impl SyncFile {
    pub(crate) fn wrap(s: dmabuf::SyncFile) -> SyncFile {
        SyncFile { inner: Rc::new(RefCell::new(Some(s))) }
    }

    pub(crate) fn with<T>(
        &self,
        env: &Env,
        method: &str,
        f: impl FnOnce(&dmabuf::SyncFile) -> dmabuf::Result<T>,
    ) -> Result<T> {
        let sf = self.open(env, method)?;
        f(&sf).map_err(|e| os_err(env, method, e))
    }

    /// Borrows the open sync_file, or throws ERR_DMABUF_CLOSED.
    pub(crate) fn open(&self, env: &Env, method: &str) -> Result<std::cell::Ref<'_, dmabuf::SyncFile>> {
        let b = self.inner.borrow();
        if b.is_none() {
            return Err(closed_err(env, method, "SyncFile"));
        }
        Ok(std::cell::Ref::map(b, |o| o.as_ref().expect("checked open above")))
    }
}

fn timeout_arg(env: &Env, method: &str, t: Option<f64>) -> Result<Option<Duration>> {
    match t {
        None => Ok(None),
        Some(t) if t.is_infinite() && t > 0.0 => Ok(None),
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(Duration::from_secs_f64(t / 1000.0))),
        Some(t) => {
            Err(range_err(env, method, format!("timeout must be a non-negative number of milliseconds, got {t}")))
        }
    }
}

enum Outcome {
    Signaled,
    TimedOut,
    Aborted,
    /// A system call failed: (call, errno).
    Failed(&'static str, i32),
}

/// Waits on the reactor until the dup'd sync_file polls readable.
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
    // Already signalled: answer now, before the reactor has reported anything,
    // so that wait(0) on a signalled sync_file resolves true.
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

/// Listener state shared between the JS 'abort' handler and the future.
type AbortTx = Arc<Mutex<Option<oneshot::Sender<()>>>>;

fn abort_error(env: &Env) -> Error {
    let mut e = JsErr::new(Ctor::Error, "ABORT_ERR", "SyncFile.wait: the operation was aborted".into());
    e.name = Some("AbortError");
    js::to_napi(env, e)
}

#[napi]
impl SyncFile {
    /// Wraps a sync_file fd number; the fd is duplicated (the caller keeps its own).
    #[napi(factory)]
    pub fn from_fd(env: &Env, fd: f64) -> Result<SyncFile> {
        let fd = fd_arg(env, "SyncFile.fromFd", fd)?;
        dmabuf::SyncFile::dup_from_raw(fd).map(SyncFile::wrap).map_err(|e| os_err(env, "SyncFile.fromFd", e))
    }

    /// The fd number, or -1 once closed.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.inner.borrow().as_ref().map_or(-1, |s| s.as_raw_fd())
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.borrow().is_none()
    }

    /// Closes the fd; pending waits go on with their own duplicate. Calling it again does nothing.
    #[napi]
    pub fn close(&self) {
        self.inner.borrow_mut().take();
    }

    /// A new SyncFile with its own fd for the same fences.
    #[napi]
    pub fn dup(&self, env: &Env) -> Result<SyncFile> {
        self.with(env, "SyncFile.dup", |s| s.try_clone()).map(SyncFile::wrap)
    }

    /// SYNC_IOC_FILE_INFO: name, status and fences.
    #[napi]
    pub fn info(&self, env: &Env) -> Result<SyncFileInfo> {
        let i = self.with(env, "SyncFile.info", |s| s.info())?;
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

    /// SYNC_IOC_MERGE: a new SyncFile that signals when both have. Neither is consumed.
    #[napi]
    pub fn merge(&self, env: &Env, other: &SyncFile, name: Option<String>) -> Result<SyncFile> {
        const M: &str = "SyncFile.merge";
        let name = name.unwrap_or_else(|| "dmabuf-merge".into());
        let o = other.open(env, M)?;
        self.with(env, M, |s| s.merge(&o, &name)).map(SyncFile::wrap)
    }

    /// Whether every fence has signalled (poll with a zero timeout).
    #[napi]
    pub fn is_signaled(&self, env: &Env) -> Result<bool> {
        self.with(env, "SyncFile.isSignaled", |s| s.is_signaled())
    }

    /// Blocks the thread until signalled (true) or `timeoutMs` passes
    /// (false). Without a timeout it waits for ever. Prefer `wait()`.
    #[napi]
    pub fn wait_sync(&self, env: &Env, timeout_ms: Option<f64>) -> Result<bool> {
        let t = timeout_arg(env, "SyncFile.waitSync", timeout_ms)?;
        self.with(env, "SyncFile.waitSync", |s| s.wait(t))
    }

    /// Resolves true once every fence has signalled, false when `timeoutMs`
    /// passes first; rejects with an AbortError when `signal` aborts. No
    /// thread is blocked while it waits: the fd sits in the event reactor.
    #[napi(ts_args_type = "timeoutMs?: number, signal?: AbortSignal", ts_return_type = "Promise<boolean>")]
    pub fn wait<'e>(
        &self,
        env: &'e Env,
        timeout_ms: Option<f64>,
        signal: Option<Object<'e>>,
    ) -> Result<PromiseRaw<'e, bool>> {
        const M: &str = "SyncFile.wait";
        let timeout = timeout_arg(env, M, timeout_ms)?;
        let fd: OwnedFd = self.with(env, M, |s| s.try_clone())?.into();
        let raw_env = env.raw();

        // Abort: an 'abort' listener completes a oneshot; it is removed when
        // the wait settles, so a long-lived signal does not collect listeners.
        let (tx, rx) = oneshot::channel::<()>();
        let tx: AbortTx = Arc::new(Mutex::new(Some(tx)));
        let mut listener: Option<(sys::napi_ref, sys::napi_ref)> = None;
        // An already-aborted signal rejects the promise (it does not throw),
        // as Node's own promise APIs do.
        let pre_aborted = match &signal {
            Some(sig) => js::is_true(raw_env, js::get(raw_env, sig.raw(), "aborted")?),
            None => false,
        };
        if let Some(sig) = signal.filter(|_| !pre_aborted) {
            let tx2 = tx.clone();
            let f = env.create_function_from_closure::<(), (), _>("onabort", move |_ctx| {
                if let Some(tx) = tx2.lock().ok().and_then(|mut g| g.take()) {
                    let _ = tx.send(());
                }
                Ok(())
            })?;
            let ev = env.create_string("abort")?;
            js::call_method(raw_env, sig.raw(), "addEventListener", &[ev.raw(), f.raw()])?;
            listener = Some((js::reference(raw_env, sig.raw())?, js::reference(raw_env, f.raw())?));
        }

        let fut = async move {
            if pre_aborted {
                return Ok(Outcome::Aborted);
            }
            let ready = readable(fd);
            let aborted = async {
                // A dropped sender (no signal given) must not count as an abort.
                if rx.await.is_err() {
                    std::future::pending::<()>().await
                }
            };
            let timer = async {
                match timeout {
                    Some(t) => tokio::time::sleep(t).await,
                    None => std::future::pending::<()>().await,
                }
            };
            Ok(tokio::select! {
                // In this order: a signalled fence wins over a timeout that
                // is also due (wait(0)), and over an abort in the same tick.
                biased;
                r = ready => match r { Ok(()) => Outcome::Signaled, Err((op, errno)) => Outcome::Failed(op, errno) },
                _ = timer => Outcome::TimedOut,
                _ = aborted => Outcome::Aborted,
            })
        };
        drop(tx);
        env.spawn_future_with_callback(fut, move |env, outcome| {
            if let Some((sig, f)) = listener {
                if let (Ok(s), Ok(func)) = (js::deref(env.raw(), sig), js::deref(env.raw(), f)) {
                    if let Ok(ev) = env.create_string("abort") {
                        let _ = js::call_method(env.raw(), s, "removeEventListener", &[ev.raw(), func]);
                    }
                }
                js::unref(env.raw(), sig);
                js::unref(env.raw(), f);
            }
            match outcome {
                Outcome::Signaled => Ok(true),
                Outcome::TimedOut => Ok(false),
                Outcome::Aborted => Err(abort_error(env)),
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
}
