//! `DmaBuf` and Mapping functions. Each takes the `DmaBuf`'s handle first; the
//! ones that make a `DmaBuf` return its handle and put its fd and size in
//! output slots 0 and 1 of `args` ([`out_buf`]).

use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use dmabuf::Access;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::errors::{self, access, fd_arg, miss, os, range, uint};
use crate::fast::set_out;
use crate::js::{self, Ctor, JsErr};
use crate::table::{self, Buf, MapMemory, Obj};

/// What `DmaBuf.info()` returns.
#[napi(object)]
pub struct DmaBufInfo {
    /// Size in bytes.
    pub size: f64,
    /// The exporter (`udmabuf`, `system`, `drm`, `videobuf2_vmalloc`, `nv_dmabuf`, ...).
    pub exporter: String,
    /// The name set with `setName()` (or by the source), if any.
    pub name: Option<String>,
    /// Inode number: equal inodes mean the same buffer.
    pub inode: f64,
    /// How many open files refer to the buffer.
    pub file_count: Option<f64>,
    /// Whether this fd is read-write.
    pub writable: bool,
}

#[allow(clippy::cast_precision_loss)]
// Reason: sizes, inodes and counts below 2^53 are exact as JavaScript numbers,
// and no dma-buf or inode number comes near that.
pub(crate) fn num(v: u64) -> f64 {
    v as f64
}

/// Stores a new `DmaBuf`, returns its handle, and puts its fd and size in
/// output slots 0 and 1.
pub(crate) fn out_buf(env: &Env, method: &str, buf: dmabuf::DmaBuf) -> Result<f64> {
    let (fd, size) = (buf.as_raw_fd(), buf.size());
    let h = table::insert(Obj::Buf(Buf::new(buf))).map_err(|m| miss(env, method, "DmaBuf", &m))?;
    set_out(0, f64::from(fd));
    set_out(1, num(size));
    Ok(h)
}

/// Runs `f` on the `DmaBuf` behind `h`, turning both kinds of failure into
/// Node-style errors.
pub(crate) fn on_buf<T>(env: &Env, h: f64, method: &str, f: impl FnOnce(&mut Buf) -> dmabuf::Result<T>) -> Result<T> {
    table::with_buf(h, f).map_err(|m| miss(env, method, "DmaBuf", &m))?.map_err(|e| os(env, method, &e))
}

/// `fcntl(F_DUPFD_CLOEXEC)` of an fd number the caller keeps: DmaBuf.fromFd.
#[napi(catch_unwind)]
pub fn buf_from_fd(env: &Env, fd: f64) -> Result<f64> {
    const M: &str = "DmaBuf.fromFd";
    let fd = fd_arg(env, M, fd)?;
    let buf = dmabuf::DmaBuf::dup_from_raw(fd).map_err(|e| os(env, M, &e))?;
    out_buf(env, M, buf)
}

/// `fstat` and `/proc/self/fdinfo`: DmaBuf.info.
#[napi(catch_unwind)]
pub fn buf_info(env: &Env, h: f64) -> Result<DmaBufInfo> {
    let i = on_buf(env, h, "DmaBuf.info", |b| b.buf.info())?;
    Ok(DmaBufInfo {
        size: num(i.size),
        exporter: i.exporter,
        name: i.name,
        inode: num(i.inode),
        file_count: i.file_count.map(num),
        writable: i.writable,
    })
}

/// `DMA_BUF_SET_NAME`: DmaBuf.setName.
#[napi(catch_unwind)]
pub fn buf_set_name(env: &Env, h: f64, name: String) -> Result<()> {
    on_buf(env, h, "DmaBuf.setName", |b| b.buf.set_name(&name))
}

/// `fcntl(F_DUPFD_CLOEXEC)`: DmaBuf.dup.
#[napi(catch_unwind)]
pub fn buf_dup(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "DmaBuf.dup";
    let copy = on_buf(env, h, M, |b| b.buf.try_clone())?;
    out_buf(env, M, copy)
}

/// `mmap`: DmaBuf.map. `bits` 0 picks 'rw' on a read-write fd and 'r'
/// otherwise; a negative `length` maps to the end. Returns the Mapping's
/// handle; output slots 0, 1, 2: offset, length, access bits.
#[napi(catch_unwind)]
pub fn buf_map(env: &Env, h: f64, bits: f64, offset: f64, length: f64) -> Result<f64> {
    const M: &str = "DmaBuf.map";
    let offset = uint(env, M, "offset", offset)?;
    let length = if length < 0.0 { None } else { Some(uint(env, M, "length", length)?) };
    let want = if bits == 0.0 { None } else { Some(access(env, M, bits)?) };
    let map = on_buf(env, h, M, |b| {
        let acc = match want {
            Some(a) => a,
            None if b.buf.is_writable()? => Access::ReadWrite,
            None => Access::Read,
        };
        let len = length.unwrap_or_else(|| b.buf.size().saturating_sub(offset));
        b.buf.map_range(acc, offset, len)
    })?;
    store_mapping(env, M, map)
}

/// A new Mapping's handle; output slots 0, 1, 2: its offset, length and
/// access bits (1 'r', 3 'rw').
pub(crate) fn store_mapping(env: &Env, method: &str, map: dmabuf::Mapping) -> Result<f64> {
    set_out(0, num(map.offset()));
    set_out(1, num(map.len() as u64));
    set_out(2, if map.access().writes() { 3.0 } else { 1.0 });
    table::insert(Obj::Map(Arc::new(Mutex::new(MapMemory::Mapped(map))))).map_err(|m| miss(env, method, "Mapping", &m))
}

/// What the `ArrayBuffer`'s object finalizer holds: the mapping's memory and
/// the handle whose table entry it may still have to remove.
struct Keep {
    handle: f64,
    _memory: Arc<Mutex<MapMemory>>,
}

unsafe extern "C" fn release_mapping(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
    // SAFETY: `data` is the Box<Keep> leaked in `map_buffer`; Node calls this once.
    let keep = unsafe { Box::from_raw(data.cast::<Keep>()) };
    // Never unmapped and now unreachable: drop the table's share too. The
    // memory (the mapping, or the placeholder after unmap) goes with the
    // last share, which is only now that no JavaScript object, and so no
    // pending thread-pool job, can hold the address.
    let _ = table::remove(keep.handle);
    drop(keep);
}

/// Mapping.buffer: the external `ArrayBuffer` over the mapping, made on first
/// use. Its memory stays mapped (or, after unmap, reserved by a
/// placeholder) until the `ArrayBuffer` object itself is collected:
/// `napi_add_finalizer` on the object, because the external buffer's own
/// finalizer runs as soon as it is detached, while Node's thread pool may
/// still be using the pointer.
#[napi(catch_unwind, ts_return_type = "ArrayBuffer")]
pub fn map_buffer(env: &Env, mh: f64) -> Result<Unknown<'_>> {
    const M: &str = "Mapping.buffer";
    let memory = table::with_map(mh, |m| m.clone()).map_err(|m| miss(env, M, "Mapping", &m))?;
    let (ptr, len) = {
        let slot = memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*slot {
            MapMemory::Mapped(m) => (m.as_ptr(), m.len()),
            _ => {
                return Err(errors::raise(
                    env,
                    JsErr::new(Ctor::Error, "ERR_DMABUF_CLOSED", format!("{M}: the Mapping is unmapped")),
                ))
            }
        }
    };
    let ab = match js::external_arraybuffer(env.raw(), ptr, len) {
        Ok(ab) => ab,
        Err(js::ExternalError::Disallowed) => {
            return Err(errors::raise(
                env,
                JsErr::new(
                    Ctor::Error,
                    "ERR_DMABUF_EXTERNAL_BUFFERS_DISALLOWED",
                    "DmaBuf.map: this runtime forbids external ArrayBuffers (e.g. Electron's memory cage); use DmaBuf.read() and DmaBuf.write() instead".into(),
                ),
            ))
        }
        Err(js::ExternalError::Other(e)) => return Err(e),
    };
    let keep = Box::into_raw(Box::new(Keep { handle: mh, _memory: memory }));
    // SAFETY: `ab` is a live object of this scope; `keep` is handed to the finalizer.
    let status = unsafe {
        sys::napi_add_finalizer(
            env.raw(),
            ab,
            keep.cast(),
            Some(release_mapping),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: the finalizer was not registered, so `keep` is still ours.
        drop(unsafe { Box::from_raw(keep) });
        return Err(Error::from_reason("napi_add_finalizer failed"));
    }
    // SAFETY: `ab` is the ArrayBuffer just created in this callback's scope.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), ab) })
}

/// Runs `f` over a whole-buffer mapping (made once, kept until close),
/// bracketed by `DMA_BUF_IOCTL_SYNC` start/end for `acc`.
fn with_io_map<T>(
    env: &Env,
    h: f64,
    method: &str,
    acc: Access,
    f: impl FnOnce(&dmabuf::Mapping) -> dmabuf::Result<T>,
) -> Result<T> {
    on_buf(env, h, method, |b| {
        let map = match b.io_map.take() {
            Some(m) if !acc.writes() || m.access().writes() => m,
            _ => b.buf.map(if b.buf.is_writable()? { Access::ReadWrite } else { Access::Read })?,
        };
        let guard = b.buf.begin_cpu_access(acc)?;
        let out = f(&map);
        let ended = guard.end();
        b.io_map = Some(map);
        let out = out?;
        ended?;
        Ok(out)
    })
}

/// A copying read, bracketed by CPU read access: DmaBuf.read.
#[napi(catch_unwind)]
pub fn buf_read(env: &Env, h: f64, offset: f64, length: f64) -> Result<Buffer> {
    const M: &str = "DmaBuf.read";
    let offset = uint(env, M, "offset", offset)?;
    let length = uint(env, M, "length", length)?;
    let size = on_buf(env, h, M, |b| Ok(b.buf.size()))?;
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(range(env, M, &format!("range {offset}+{length} is past the end of the {size}-byte buffer")));
    }
    let (Ok(off), Ok(len)) = (usize::try_from(offset), usize::try_from(length)) else {
        return Err(range(env, M, "the range does not fit this address space"));
    };
    let mut out = vec![0u8; len];
    if len > 0 {
        with_io_map(env, h, M, Access::Read, |m| m.read(off, &mut out))?;
    }
    Ok(out.into())
}

/// A copying write, bracketed by CPU write access: DmaBuf.write.
#[napi(catch_unwind)]
pub fn buf_write(env: &Env, h: f64, offset: f64, data: Uint8Array) -> Result<()> {
    const M: &str = "DmaBuf.write";
    let offset = uint(env, M, "offset", offset)?;
    let size = on_buf(env, h, M, |b| Ok(b.buf.size()))?;
    if offset.checked_add(data.len() as u64).is_none_or(|end| end > size) {
        return Err(range(env, M, &format!("range {offset}+{} is past the end of the {size}-byte buffer", data.len())));
    }
    let Ok(off) = usize::try_from(offset) else {
        return Err(range(env, M, "the offset does not fit this address space"));
    };
    if !data.is_empty() {
        with_io_map(env, h, M, Access::Write, |m| m.write(off, &data))?;
    }
    Ok(())
}

/// `DMA_BUF_IOCTL_IMPORT_SYNC_FILE`: DmaBuf.importSyncFile.
#[napi(catch_unwind)]
pub fn buf_import_sync_file(env: &Env, h: f64, sf: f64, bits: f64) -> Result<()> {
    const M: &str = "DmaBuf.importSyncFile";
    let acc = access(env, M, bits)?;
    table::with_sync(sf, |_| ()).map_err(|m| miss(env, M, "SyncFile", &m))?;
    table::with_all(&[h, sf], |objs| match objs {
        [Obj::Buf(b), Obj::Sync(s)] => b.buf.import_sync_file(s, acc).map_err(|e| os(env, M, &e)),
        _ => Err(miss(env, M, "DmaBuf", &table::Miss::Closed)),
    })
    .map_err(|(_, m)| miss(env, M, "DmaBuf", &m))?
}

/// The dma-bufs of a batch, or `ERR_INVALID_ARG_TYPE` naming the first
/// entry that is another kind of object.
fn dma_bufs<'a>(env: &Env, method: &str, objs: &[&'a Obj]) -> Result<Vec<&'a dmabuf::DmaBuf>> {
    let mut bufs = Vec::with_capacity(objs.len());
    for (i, o) in objs.iter().enumerate() {
        match o {
            Obj::Buf(b) => bufs.push(&b.buf),
            other => {
                let message = format!("{method}: buffers[{i}] is a {}, not a DmaBuf", other.class());
                return Err(errors::raise(env, JsErr::new(Ctor::TypeError, "ERR_INVALID_ARG_TYPE", message)));
            }
        }
    }
    Ok(bufs)
}

/// The batch export (kmsroots/wlroots): DmaBuf.exportSyncFiles. Returns the
/// new `SyncFiles`' handles and fds, interleaved. All or nothing.
#[napi(catch_unwind)]
pub fn buf_export_sync_files(env: &Env, handles: Float64Array, bits: f64) -> Result<Vec<f64>> {
    const M: &str = "DmaBuf.exportSyncFiles";
    let acc = access(env, M, bits)?;
    let files = table::with_all(&handles, |objs| {
        let bufs = dma_bufs(env, M, objs)?;
        dmabuf::export_sync_files(&bufs, acc).map_err(|e| os(env, M, &e))
    })
    .map_err(|(i, m)| miss(env, M, &format!("DmaBuf at index {i}"), &m))??;
    let mut out = Vec::with_capacity(files.len() * 2);
    for sf in files {
        let fd = sf.as_raw_fd();
        // On a full table the SyncFiles stored so far would be lost to
        // JavaScript: take them back out and close them.
        match table::insert(Obj::Sync(sf)) {
            Ok(h) => {
                out.push(h);
                out.push(f64::from(fd));
            }
            Err(m) => {
                for h in out.iter().step_by(2) {
                    let _ = table::remove(*h);
                }
                return Err(miss(env, M, "SyncFile", &m));
            }
        }
    }
    Ok(out)
}

/// The batch import (kmsroots/wlroots): DmaBuf.importSyncFileAll.
#[napi(catch_unwind)]
pub fn buf_import_sync_file_all(env: &Env, handles: Float64Array, sf: f64, bits: f64) -> Result<()> {
    const M: &str = "DmaBuf.importSyncFileAll";
    let acc = access(env, M, bits)?;
    table::with_sync(sf, |_| ()).map_err(|m| miss(env, M, "SyncFile", &m))?;
    let mut all: Vec<f64> = handles.to_vec();
    all.push(sf);
    table::with_all(&all, |objs| {
        let Some((Obj::Sync(s), rest)) = objs.split_last() else {
            return Err(miss(env, M, "SyncFile", &table::Miss::Closed));
        };
        let bufs = dma_bufs(env, M, rest)?;
        dmabuf::import_sync_file_all(&bufs, s, acc).map_err(|e| os(env, M, &e))
    })
    .map_err(|(i, m)| miss(env, M, &format!("DmaBuf at index {i}"), &m))?
}
