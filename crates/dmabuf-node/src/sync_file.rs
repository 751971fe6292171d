//! `SyncFile` functions, with a wait that occupies no thread: each pending
//! wait is a duplicate fd watched by Node's event loop (`wait.rs`).

use std::os::fd::{AsRawFd, OwnedFd};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{fd_arg, miss, os};
use crate::fast::set_out;
use crate::table::{self, Obj};
use crate::wait::{self, timeout, Ids, Interest};

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

/// Resolves true once signalled, false when `timeoutMs` (negative: none)
/// passes first; `syncCancelWait(waitId)` resolves it with `null`. The
/// `SyncFile`'s fd is duplicated for the wait, so `close()` meanwhile is safe.
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>")]
pub fn sync_wait(env: &Env, h: f64, timeout_ms: f64, wait_id: u32) -> Result<PromiseRaw<'_, Option<bool>>> {
    const M: &str = "SyncFile.wait";
    let t = timeout(timeout_ms);
    let fd: OwnedFd = on_sync(env, h, M, dmabuf::SyncFile::try_clone)?.into();
    wait::ready(env, M, (Ids::Sync, wait_id), t, fd, Interest::READABLE, true)
}

/// Ends a pending `syncWait` (its promise resolves `null`); unknown ids are ignored.
#[napi(catch_unwind)]
pub fn sync_cancel_wait(env: &Env, wait_id: u32) {
    wait::cancel(env, Ids::Sync, wait_id);
}
