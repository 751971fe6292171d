//! `DmaBuf` and `Mapping` for JavaScript, and the native half of `CpuAccess`
//! (its JavaScript half is cpu_access.js).

use std::cell::RefCell;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use dmabuf::Access;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::js::{self, Ctor, JsErr};
use crate::sync::SyncFile;
use crate::{access, arg_err, closed_err, fd_arg, os_err, range_err, uint};

/// What `DmaBuf.info()` returns.
#[napi(object)]
pub struct DmaBufInfo {
    /// Size in bytes.
    pub size: f64,
    /// The exporter (`udmabuf`, `system`, `vgem`, `videobuf2_vmalloc`, `nv_dmabuf`, ...).
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

pub(crate) struct Inner {
    buf: RefCell<Option<dmabuf::DmaBuf>>,
    /// CPU accesses begun and not yet ended, so close() can end them.
    active: RefCell<Vec<Access>>,
    /// A mapping of the whole buffer, made on first `read()`/`write()`.
    io_map: RefCell<Option<dmabuf::Mapping>>,
}

impl Inner {
    fn with<T>(&self, env: &Env, method: &str, f: impl FnOnce(&dmabuf::DmaBuf) -> dmabuf::Result<T>) -> Result<T> {
        let b = self.buf.borrow();
        let buf = b.as_ref().ok_or_else(|| closed_err(env, method, "DmaBuf"))?;
        f(buf).map_err(|e| os_err(env, method, e))
    }
}

/// A dma-buf: one owned, close-on-exec file descriptor for shared memory.
///
/// Close it with `close()` (or `using`); garbage collection closes it too,
/// but only eventually.
#[napi]
pub struct DmaBuf {
    pub(crate) inner: Rc<Inner>,
}

impl DmaBuf {
    pub(crate) fn wrap(buf: dmabuf::DmaBuf) -> DmaBuf {
        DmaBuf {
            inner: Rc::new(Inner {
                buf: RefCell::new(Some(buf)),
                active: RefCell::new(Vec::new()),
                io_map: RefCell::new(None),
            }),
        }
    }

    pub(crate) fn with<T>(
        &self,
        env: &Env,
        method: &str,
        f: impl FnOnce(&dmabuf::DmaBuf) -> dmabuf::Result<T>,
    ) -> Result<T> {
        self.inner.with(env, method, f)
    }

    /// Borrows the open dma-buf, or throws ERR_DMABUF_CLOSED.
    pub(crate) fn open(&self, env: &Env, method: &str) -> Result<std::cell::Ref<'_, dmabuf::DmaBuf>> {
        let b = self.inner.buf.borrow();
        if b.is_none() {
            return Err(closed_err(env, method, "DmaBuf"));
        }
        Ok(std::cell::Ref::map(b, |o| o.as_ref().expect("checked open above")))
    }

    /// Runs `f` over a whole-buffer mapping (made once, kept until close),
    /// bracketed by DMA_BUF_IOCTL_SYNC start/end for `acc`.
    fn with_io_map<T>(
        &self,
        env: &Env,
        method: &str,
        acc: Access,
        f: impl FnOnce(&dmabuf::Mapping) -> dmabuf::Result<T>,
    ) -> Result<T> {
        self.with(env, method, |buf| {
            let mut slot = self.inner.io_map.borrow_mut();
            if slot.as_ref().is_none_or(|m| acc.writes() && !m.access().writes()) {
                let want = if buf.is_writable()? { Access::ReadWrite } else { Access::Read };
                *slot = Some(buf.map(want)?);
            }
            let map = slot.as_ref().expect("mapping made above");
            let guard = buf.begin_cpu_access(acc)?;
            let out = f(map)?;
            guard.end()?;
            Ok(out)
        })
    }
}

#[napi]
impl DmaBuf {
    /// Wraps a dma-buf fd number. The fd is duplicated (F_DUPFD_CLOEXEC): the
    /// caller keeps, and must still close, its own.
    ///
    /// Throws `ENOTTY` when the fd is not a dma-buf, `EBADF` when it is not open.
    #[napi(factory)]
    pub fn from_fd(env: &Env, fd: f64) -> Result<DmaBuf> {
        let fd = fd_arg(env, "DmaBuf.fromFd", fd)?;
        dmabuf::DmaBuf::dup_from_raw(fd).map(DmaBuf::wrap).map_err(|e| os_err(env, "DmaBuf.fromFd", e))
    }

    /// The fd number, or -1 once closed.
    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        self.inner.buf.borrow().as_ref().map_or(-1, |b| b.as_raw_fd())
    }

    /// Size in bytes (0 once closed).
    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.inner.buf.borrow().as_ref().map_or(0.0, |b| b.size() as f64)
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.buf.borrow().is_none()
    }

    /// Size, exporter, name, inode (fstat and /proc/self/fdinfo).
    #[napi]
    pub fn info(&self, env: &Env) -> Result<DmaBufInfo> {
        let i = self.with(env, "DmaBuf.info", |b| b.info())?;
        Ok(DmaBufInfo {
            size: i.size as f64,
            exporter: i.exporter,
            name: i.name,
            inode: i.inode as f64,
            file_count: i.file_count.map(|c| c as f64),
            writable: i.writable,
        })
    }

    /// DMA_BUF_SET_NAME: names the buffer (at most 31 bytes).
    #[napi]
    pub fn set_name(&self, env: &Env, name: String) -> Result<()> {
        self.with(env, "DmaBuf.setName", |b| b.set_name(&name))
    }

    /// A new DmaBuf with its own fd for the same buffer.
    #[napi]
    pub fn dup(&self, env: &Env) -> Result<DmaBuf> {
        self.with(env, "DmaBuf.dup", |b| b.try_clone()).map(DmaBuf::wrap)
    }

    /// Closes the fd. CPU accesses still open are ended first. Mappings stay
    /// valid until unmapped. Calling it again does nothing.
    #[napi]
    pub fn close(&self) {
        let buf = self.inner.buf.borrow_mut().take();
        if let Some(buf) = buf {
            for acc in self.inner.active.borrow_mut().drain(..) {
                let _ = buf.sync_end(acc);
            }
            self.inner.io_map.borrow_mut().take();
        }
    }

    /// DMA_BUF_IOCTL_SYNC start for `beginCpuAccess` (cpu_access.js), which
    /// checks the access string and passes its DMA_BUF_SYNC_* bits: a number
    /// converts without the allocation a string costs on every call.
    #[napi(js_name = "__cpuAccessStart", skip_typescript)]
    pub fn cpu_access_start(&self, env: &Env, bits: u32) -> Result<()> {
        const M: &str = "DmaBuf.beginCpuAccess";
        let acc = access_bits(env, M, bits)?;
        self.with(env, M, |b| b.sync_start(acc))?;
        self.inner.active.borrow_mut().push(acc);
        Ok(())
    }

    /// DMA_BUF_IOCTL_SYNC end for `CpuAccess.end()` (cpu_access.js). Does
    /// nothing once the buffer is closed: `close()` ended every access.
    #[napi(js_name = "__cpuAccessEnd", skip_typescript)]
    pub fn cpu_access_end(&self, env: &Env, bits: u32) -> Result<()> {
        const M: &str = "CpuAccess.end";
        let acc = access_bits(env, M, bits)?;
        // close() drained the list, so a closed buffer finds nothing here.
        let pos = self.inner.active.borrow().iter().position(|a| *a == acc);
        match pos {
            Some(pos) => {
                self.inner.active.borrow_mut().remove(pos);
                self.with(env, M, |b| b.sync_end(acc))
            }
            None => Ok(()),
        }
    }

    /// mmap: maps `length` bytes at `offset` (a multiple of the page size;
    /// default: the whole buffer). `access` defaults to 'rw' on a read-write
    /// fd and 'r' on a read-only one. The Mapping's `buffer` is an
    /// ArrayBuffer over the memory itself (no copy).
    ///
    /// Throws `ERR_DMABUF_EXTERNAL_BUFFERS_DISALLOWED` where the runtime
    /// forbids external ArrayBuffers (Electron); use `read()`/`write()` there.
    #[napi(ts_args_type = "access?: Access, offset?: number, length?: number")]
    pub fn map(&self, env: &Env, access_: Option<String>, offset: Option<f64>, length: Option<f64>) -> Result<Mapping> {
        const M: &str = "DmaBuf.map";
        let offset = uint(env, M, "offset", offset.unwrap_or(0.0))?;
        let length = length.map(|l| uint(env, M, "length", l)).transpose()?;
        let acc = access_.map(|a| access(env, M, &a)).transpose()?;
        let map = self.with(env, M, |b| {
            let acc = match acc {
                Some(a) => a,
                None if b.is_writable()? => Access::ReadWrite,
                None => Access::Read,
            };
            let len = length.unwrap_or_else(|| b.size().saturating_sub(offset));
            b.map_range(acc, offset, len)
        })?;
        Mapping::new(env, map)
    }

    /// Copies `length` bytes at `offset` out of the buffer, bracketed by CPU
    /// read access. Works where `map()` cannot (Electron).
    #[napi]
    pub fn read(&self, env: &Env, offset: f64, length: f64) -> Result<Buffer> {
        const M: &str = "DmaBuf.read";
        let offset = uint(env, M, "offset", offset)?;
        let length = uint(env, M, "length", length)?;
        // Closed first: a closed DmaBuf has size 0, which would read as a range error.
        let size = self.open(env, M)?.size();
        if offset.checked_add(length).is_none_or(|end| end > size) {
            return Err(range_err(
                env,
                M,
                format!("range {offset}+{length} is past the end of the {size}-byte buffer"),
            ));
        }
        let mut out = vec![0u8; length as usize];
        if length > 0 {
            self.with_io_map(env, M, Access::Read, |m| m.read(offset as usize, &mut out))?;
        }
        Ok(out.into())
    }

    /// Copies `data` into the buffer at `offset`, bracketed by CPU write access.
    #[napi]
    pub fn write(&self, env: &Env, offset: f64, data: &[u8]) -> Result<()> {
        const M: &str = "DmaBuf.write";
        let offset = uint(env, M, "offset", offset)?;
        // Closed first: a closed DmaBuf has size 0, which would read as a range error.
        let size = self.open(env, M)?.size();
        if offset.checked_add(data.len() as u64).is_none_or(|end| end > size) {
            return Err(range_err(
                env,
                M,
                format!("range {offset}+{} is past the end of the {size}-byte buffer", data.len()),
            ));
        }
        if !data.is_empty() {
            self.with_io_map(env, M, Access::Write, |m| m.write(offset as usize, data))?;
        }
        Ok(())
    }

    /// DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a SyncFile with the buffer's current
    /// fences ('r': what a reader must wait for; 'w'/'rw': everything).
    #[napi(ts_args_type = "access: Access")]
    pub fn export_sync_file(&self, env: &Env, access_: String) -> Result<SyncFile> {
        let acc = access(env, "DmaBuf.exportSyncFile", &access_)?;
        self.with(env, "DmaBuf.exportSyncFile", |b| b.export_sync_file(acc)).map(SyncFile::wrap)
    }

    /// DMA_BUF_IOCTL_IMPORT_SYNC_FILE: attaches the SyncFile's fences ('w'/'rw':
    /// as a write, 'r': as a read). The SyncFile stays yours: the kernel only
    /// borrows it, so close it when you no longer need it.
    #[napi(ts_args_type = "syncFile: SyncFile, access: Access")]
    pub fn import_sync_file(&self, env: &Env, sync_file: &SyncFile, access_: String) -> Result<()> {
        const M: &str = "DmaBuf.importSyncFile";
        let acc = access(env, M, &access_)?;
        let sf = sync_file.open(env, M)?;
        self.with(env, M, |b| b.import_sync_file(&sf, acc))
    }

    /// Exports one SyncFile per buffer (the kmsroots/wlroots batch). All or
    /// nothing: on any failure (a closed buffer, a kernel error) the SyncFiles
    /// already made are closed and the error names the buffer's index.
    #[napi(ts_args_type = "buffers: DmaBuf[], access: Access")]
    pub fn export_sync_files(env: &Env, buffers: Vec<ClassInstance<DmaBuf>>, access_: String) -> Result<Vec<SyncFile>> {
        const M: &str = "DmaBuf.exportSyncFiles";
        let acc = access(env, M, &access_)?;
        let borrowed = open_all(env, M, &buffers)?;
        let bufs: Vec<&dmabuf::DmaBuf> = borrowed.iter().map(|b| &**b).collect();
        let out = dmabuf::export_sync_files(&bufs, acc).map_err(|e| os_err(env, M, e))?;
        Ok(out.into_iter().map(SyncFile::wrap).collect())
    }

    /// Imports one SyncFile into every buffer (the kmsroots/wlroots batch).
    /// Every buffer is checked first, so a closed one fails the call before
    /// any fence is attached. The SyncFile is only borrowed.
    #[napi(ts_args_type = "buffers: DmaBuf[], syncFile: SyncFile, access: Access")]
    pub fn import_sync_file_all(
        env: &Env,
        buffers: Vec<ClassInstance<DmaBuf>>,
        sync_file: &SyncFile,
        access_: String,
    ) -> Result<()> {
        const M: &str = "DmaBuf.importSyncFileAll";
        let acc = access(env, M, &access_)?;
        let borrowed = open_all(env, M, &buffers)?;
        let bufs: Vec<&dmabuf::DmaBuf> = borrowed.iter().map(|b| &**b).collect();
        let sf = sync_file.open(env, M)?;
        dmabuf::import_sync_file_all(&bufs, &sf, acc).map_err(|e| os_err(env, M, e))
    }
}

/// Borrows every buffer of a batch, or throws ERR_DMABUF_CLOSED naming the
/// first closed one's index before anything is done.
fn open_all<'a>(
    env: &Env,
    method: &str,
    buffers: &'a [ClassInstance<DmaBuf>],
) -> Result<Vec<std::cell::Ref<'a, dmabuf::DmaBuf>>> {
    buffers
        .iter()
        .enumerate()
        .map(|(i, b)| b.open(env, method).map_err(|_| closed_err(env, method, &format!("DmaBuf at index {i}"))))
        .collect()
}

/// Shared between the Mapping object and its ArrayBuffer's finalizer: the
/// memory is unmapped exactly once, by whichever comes first of `unmap()`
/// and the ArrayBuffer's release.
struct MapState(Mutex<Option<dmabuf::Mapping>>);

/// A mapping of a dma-buf. `buffer` is an ArrayBuffer over the mapped
/// memory. `unmap()` detaches it first (views then have length 0 and never
/// fault), then unmaps. Garbage collection unmaps as a backstop.
#[napi(custom_finalize)]
pub struct Mapping {
    state: Arc<MapState>,
    buffer: Option<sys::napi_ref>,
    offset: f64,
    length: f64,
    access: Access,
}

impl Mapping {
    fn new(env: &Env, map: dmabuf::Mapping) -> Result<Mapping> {
        let (ptr, len, offset, acc) = (map.as_ptr(), map.len(), map.offset(), map.access());
        let state = Arc::new(MapState(Mutex::new(Some(map))));
        let ab = match js::external_arraybuffer(env.raw(), ptr, len, state.clone()) {
            Ok(ab) => ab,
            Err(js::ExternalError::Disallowed) => {
                return Err(js::to_napi(
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
        let r = js::reference(env.raw(), ab)?;
        Ok(Mapping { state, buffer: Some(r), offset: offset as f64, length: len as f64, access: acc })
    }
}

impl ObjectFinalize for Mapping {
    fn finalize(self, env: Env) -> Result<()> {
        if let Some(r) = self.buffer {
            js::unref(env.raw(), r);
        }
        // The mapping itself goes when the ArrayBuffer is released too.
        Ok(())
    }
}

#[napi]
impl Mapping {
    /// The mapped memory, with no copy. Detached (byteLength 0) after `unmap()`.
    #[napi(getter, ts_return_type = "ArrayBuffer")]
    pub fn buffer(&self, env: &Env) -> Result<Unknown<'_>> {
        let r = self.buffer.ok_or_else(|| closed_err(env, "Mapping.buffer", "Mapping"))?;
        let v = js::deref(env.raw(), r)?;
        // SAFETY: `v` is the live ArrayBuffer held by our reference, in this callback's scope.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
    }

    /// Offset of the mapping in the buffer.
    #[napi(getter)]
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Length in bytes.
    #[napi(getter)]
    pub fn length(&self) -> f64 {
        self.length
    }

    /// 'r' or 'rw'.
    #[napi(getter, ts_return_type = "Access")]
    pub fn access(&self) -> &'static str {
        self.access.as_str()
    }

    /// Whether the memory is still mapped.
    #[napi(getter)]
    pub fn mapped(&self) -> bool {
        self.state.0.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Detaches `buffer`, then munmap. Calling it again does nothing.
    #[napi]
    pub fn unmap(&mut self, env: &Env) -> Result<()> {
        if let Some(r) = self.buffer {
            let ab = js::deref(env.raw(), r)?;
            js::detach(env.raw(), ab)?;
        }
        let taken = self.state.0.lock().map(|mut g| g.take()).unwrap_or(None);
        drop(taken);
        Ok(())
    }
}

/// The access for `DMA_BUF_SYNC_READ` (1), `DMA_BUF_SYNC_WRITE` (2) or both
/// (3), as cpu_access.js passes it.
fn access_bits(env: &Env, method: &str, bits: u32) -> Result<Access> {
    match bits {
        1 => Ok(Access::Read),
        2 => Ok(Access::Write),
        3 => Ok(Access::ReadWrite),
        _ => Err(arg_err(env, method, format!("bad access bits {bits}"))),
    }
}
