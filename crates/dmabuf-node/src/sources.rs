//! Where dma-bufs come from: udmabuf, dma-heaps, DRM (PRIME), and the
//! capability probe.

use std::cell::RefCell;
use std::os::fd::{AsFd, IntoRawFd};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::buf::DmaBuf;
use crate::{access, closed_err, fd_arg, os_err, uint};

/// Allocates a dma-buf of `size` bytes (rounded up to whole pages) from
/// /dev/udmabuf, backed by a new sealed memfd.
#[napi]
pub fn create_udmabuf(env: &Env, size: f64) -> Result<DmaBuf> {
    const M: &str = "createUdmabuf";
    let size = uint(env, M, "size", size)?;
    dmabuf::udmabuf::Udmabuf::open().and_then(|u| u.alloc(size)).map(DmaBuf::wrap).map_err(|e| os_err(env, M, e))
}

/// A memfd range for `Udmabuf.createList`.
#[napi(object)]
pub struct MemfdRange {
    /// The memfd's fd number (borrowed).
    pub fd: f64,
    /// Byte offset (page-aligned).
    pub offset: f64,
    /// Length (page-aligned, non-zero).
    pub size: f64,
}

/// An open /dev/udmabuf.
#[napi]
pub struct Udmabuf {
    dev: RefCell<Option<dmabuf::udmabuf::Udmabuf>>,
}

impl Udmabuf {
    fn with<T>(&self, env: &Env, m: &str, f: impl FnOnce(&dmabuf::udmabuf::Udmabuf) -> dmabuf::Result<T>) -> Result<T> {
        let d = self.dev.borrow();
        f(d.as_ref().ok_or_else(|| closed_err(env, m, "Udmabuf"))?).map_err(|e| os_err(env, m, e))
    }
}

/// Borrows a JS fd number for the duration of a call, after checking it is open.
fn borrow_fd(env: &Env, m: &str, fd: f64) -> Result<std::os::fd::OwnedFd> {
    let fd = fd_arg(env, m, fd)?;
    // A duplicate stands in for the caller's fd: it cannot be closed under us.
    dmabuf::dup_raw_fd(fd).map_err(|e| os_err(env, m, e))
}

#[napi]
impl Udmabuf {
    /// Opens /dev/udmabuf (or `path`). Throws ENOENT with a hint about
    /// CONFIG_UDMABUF when it does not exist.
    #[napi(factory)]
    pub fn open(env: &Env, path: Option<String>) -> Result<Udmabuf> {
        let d = match path {
            Some(p) => dmabuf::udmabuf::Udmabuf::open_path(p),
            None => dmabuf::udmabuf::Udmabuf::open(),
        }
        .map_err(|e| os_err(env, "Udmabuf.open", e))?;
        Ok(Udmabuf { dev: RefCell::new(Some(d)) })
    }

    /// A dma-buf of `size` bytes (rounded up to whole pages) over a new memfd.
    #[napi]
    pub fn alloc(&self, env: &Env, size: f64) -> Result<DmaBuf> {
        let size = uint(env, "Udmabuf.alloc", "size", size)?;
        self.with(env, "Udmabuf.alloc", |u| u.alloc(size)).map(DmaBuf::wrap)
    }

    /// Like `alloc`, and also returns the memfd (bytes written to either
    /// show in the other). The memfd number is yours to close.
    #[napi(ts_return_type = "{ buffer: DmaBuf, memfd: number }")]
    pub fn alloc_with_memfd(&self, env: &Env, size: f64) -> Result<Object<'_>> {
        let size = uint(env, "Udmabuf.allocWithMemfd", "size", size)?;
        let (buf, memfd) = self.with(env, "Udmabuf.allocWithMemfd", |u| u.alloc_with_memfd(size))?;
        let mut o = Object::new(env)?;
        o.set_named_property("buffer", DmaBuf::wrap(buf))?;
        o.set_named_property("memfd", memfd.into_raw_fd())?;
        Ok(o)
    }

    /// UDMABUF_CREATE over `size` bytes at `offset` of a memfd you own
    /// (sealed with F_SEAL_SHRINK; offset and size page-aligned).
    #[napi]
    pub fn create(&self, env: &Env, memfd: f64, offset: f64, size: f64) -> Result<DmaBuf> {
        const M: &str = "Udmabuf.create";
        let (offset, size) = (uint(env, M, "offset", offset)?, uint(env, M, "size", size)?);
        let fd = borrow_fd(env, M, memfd)?;
        self.with(env, M, |u| u.create(&fd, offset, size)).map(DmaBuf::wrap)
    }

    /// UDMABUF_CREATE_LIST: one dma-buf over several memfd ranges, in order.
    #[napi]
    pub fn create_list(&self, env: &Env, ranges: Vec<MemfdRange>) -> Result<DmaBuf> {
        const M: &str = "Udmabuf.createList";
        let mut fds = Vec::with_capacity(ranges.len());
        let mut spans = Vec::with_capacity(ranges.len());
        for r in &ranges {
            fds.push(borrow_fd(env, M, r.fd)?);
            spans.push((uint(env, M, "offset", r.offset)?, uint(env, M, "size", r.size)?));
        }
        let list: Vec<dmabuf::udmabuf::Range<'_>> = fds
            .iter()
            .zip(&spans)
            .map(|(fd, &(offset, size))| dmabuf::udmabuf::Range { memfd: fd.as_fd(), offset, size })
            .collect();
        self.with(env, M, |u| u.create_list(&list)).map(DmaBuf::wrap)
    }

    /// Closes the device fd (buffers made from it live on).
    #[napi]
    pub fn close(&self) {
        self.dev.borrow_mut().take();
    }
}

/// Names of the dma-heaps in /dev/dma_heap (empty when there are none).
#[napi]
pub fn list_heaps() -> Vec<String> {
    dmabuf::heap::list()
}

/// An open dma-heap.
#[napi]
pub struct Heap {
    heap: RefCell<Option<dmabuf::heap::Heap>>,
}

#[napi]
impl Heap {
    /// Opens /dev/dma_heap/`name`. Throws ENOENT listing the heaps that
    /// exist, or EACCES naming the node.
    #[napi(factory)]
    pub fn open(env: &Env, name: String) -> Result<Heap> {
        let h = dmabuf::heap::Heap::open(&name).map_err(|e| os_err(env, "Heap.open", e))?;
        Ok(Heap { heap: RefCell::new(Some(h)) })
    }

    /// The heap's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.heap.borrow().as_ref().map(|h| h.name().to_string()).unwrap_or_default()
    }

    /// DMA_HEAP_IOCTL_ALLOC: at least `size` bytes (rounded up to pages; see
    /// `DmaBuf.size`). `access` 'r' gives a read-only fd; default 'rw'.
    #[napi(ts_args_type = "size: number, access?: Access")]
    pub fn alloc(&self, env: &Env, size: f64, access_: Option<String>) -> Result<DmaBuf> {
        const M: &str = "Heap.alloc";
        let size = uint(env, M, "size", size)?;
        let acc = access_.map(|a| access(env, M, &a)).transpose()?.unwrap_or(dmabuf::Access::ReadWrite);
        let h = self.heap.borrow();
        let h = h.as_ref().ok_or_else(|| closed_err(env, M, "Heap"))?;
        h.alloc(size, acc).map(DmaBuf::wrap).map_err(|e| os_err(env, M, e))
    }

    /// Closes the heap's fd (buffers live on).
    #[napi]
    pub fn close(&self) {
        self.heap.borrow_mut().take();
    }
}

/// A counted GEM handle of a DrmDevice; the kernel handle is closed when the
/// last GemHandle for it is closed.
#[napi]
pub struct GemHandle {
    h: RefCell<Option<dmabuf::drm::GemHandle>>,
}

#[napi]
impl GemHandle {
    /// The kernel's handle number (0 once closed).
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.h.borrow().as_ref().map_or(0, |h| h.raw())
    }

    /// Drops this reference. Calling it again does nothing.
    #[napi]
    pub fn close(&self) {
        self.h.borrow_mut().take();
    }
}

/// An open DRM device node.
#[napi]
pub struct DrmDevice {
    dev: RefCell<Option<dmabuf::drm::DrmDevice>>,
}

impl DrmDevice {
    fn with<T>(&self, env: &Env, m: &str, f: impl FnOnce(&dmabuf::drm::DrmDevice) -> dmabuf::Result<T>) -> Result<T> {
        let d = self.dev.borrow();
        f(d.as_ref().ok_or_else(|| closed_err(env, m, "DrmDevice"))?).map_err(|e| os_err(env, m, e))
    }
}

fn gem<'a>(env: &Env, m: &str, h: &'a GemHandle) -> Result<std::cell::Ref<'a, dmabuf::drm::GemHandle>> {
    let b = h.h.borrow();
    if b.is_none() {
        return Err(closed_err(env, m, "GemHandle"));
    }
    Ok(std::cell::Ref::map(b, |o| o.as_ref().expect("checked above")))
}

#[napi]
impl DrmDevice {
    /// Opens a DRM node by path (/dev/dri/card0, /dev/dri/renderD128, ...).
    #[napi(factory)]
    pub fn open(env: &Env, path: String) -> Result<DrmDevice> {
        let d = dmabuf::drm::DrmDevice::open(&path).map_err(|e| os_err(env, "DrmDevice.open", e))?;
        Ok(DrmDevice { dev: RefCell::new(Some(d)) })
    }

    /// Opens the first node whose driver is `driver` ('vgem', 'i915', ...);
    /// `primary` prefers card* nodes (dumb buffers need one).
    #[napi(factory)]
    pub fn open_driver(env: &Env, driver: String, primary: Option<bool>) -> Result<DrmDevice> {
        let d = dmabuf::drm::DrmDevice::open_driver(
            &driver,
            if primary.unwrap_or(false) { dmabuf::drm::NodeKind::Primary } else { dmabuf::drm::NodeKind::Render },
        )
        .map_err(|e| os_err(env, "DrmDevice.openDriver", e))?;
        Ok(DrmDevice { dev: RefCell::new(Some(d)) })
    }

    /// Paths of the DRM nodes in /dev/dri.
    #[napi]
    pub fn list() -> Vec<String> {
        dmabuf::drm::list_nodes().into_iter().map(|p| p.to_string_lossy().into_owned()).collect()
    }

    /// DRM_IOCTL_VERSION: the driver's name.
    #[napi]
    pub fn driver_name(&self, env: &Env) -> Result<String> {
        self.with(env, "DrmDevice.driverName", |d| d.driver_name())
    }

    /// DRM_IOCTL_MODE_CREATE_DUMB: `{ handle, pitch, size }`.
    #[napi(ts_return_type = "{ handle: GemHandle, pitch: number, size: number }")]
    pub fn create_dumb(&self, env: &Env, width: u32, height: u32, bpp: u32) -> Result<Object<'_>> {
        let b = self.with(env, "DrmDevice.createDumb", |d| d.create_dumb(width, height, bpp))?;
        let mut o = Object::new(env)?;
        o.set_named_property("handle", GemHandle { h: RefCell::new(Some(b.handle)) })?;
        o.set_named_property("pitch", b.pitch)?;
        o.set_named_property("size", b.size as f64)?;
        Ok(o)
    }

    /// DRM_IOCTL_PRIME_HANDLE_TO_FD: the GEM object as a DmaBuf.
    #[napi(ts_args_type = "handle: GemHandle, access?: Access")]
    pub fn export(&self, env: &Env, handle: &GemHandle, access_: Option<String>) -> Result<DmaBuf> {
        const M: &str = "DrmDevice.export";
        let acc = access_.map(|a| access(env, M, &a)).transpose()?.unwrap_or(dmabuf::Access::ReadWrite);
        let h = gem(env, M, handle)?;
        self.with(env, M, |d| d.export(&h, acc)).map(DmaBuf::wrap)
    }

    /// DRM_IOCTL_PRIME_FD_TO_HANDLE: a counted GemHandle for the DmaBuf.
    #[napi]
    pub fn import(&self, env: &Env, buffer: &DmaBuf) -> Result<GemHandle> {
        const M: &str = "DrmDevice.import";
        let b = buffer.open(env, M)?;
        let h = self.with(env, M, |d| d.import(&b))?;
        Ok(GemHandle { h: RefCell::new(Some(h)) })
    }

    /// How many GemHandles are open for a kernel handle number.
    #[napi]
    pub fn handle_users(&self, env: &Env, handle: u32) -> Result<u32> {
        self.with(env, "DrmDevice.handleUsers", |d| Ok(d.handle_users(handle) as u32))
    }

    /// DRM_IOCTL_VGEM_FENCE_ATTACH (vgem): an unsignalled fence on the
    /// buffer, as a writer unless `write` is false. Returns the fence id.
    #[napi]
    pub fn vgem_fence_attach(&self, env: &Env, handle: &GemHandle, write: Option<bool>) -> Result<u32> {
        const M: &str = "DrmDevice.vgemFenceAttach";
        let h = gem(env, M, handle)?;
        self.with(env, M, |d| {
            d.vgem_fence_attach(&h, if write.unwrap_or(true) { dmabuf::Access::Write } else { dmabuf::Access::Read })
        })
    }

    /// DRM_IOCTL_VGEM_FENCE_SIGNAL (vgem).
    #[napi]
    pub fn vgem_fence_signal(&self, env: &Env, fence: u32) -> Result<()> {
        self.with(env, "DrmDevice.vgemFenceSignal", |d| d.vgem_fence_signal(fence))
    }

    /// Closes this reference to the device (GemHandles keep it open until closed).
    #[napi]
    pub fn close(&self) {
        self.dev.borrow_mut().take();
    }
}

/// A DRM node and its driver.
#[napi(object)]
pub struct DrmNodeInfo {
    pub path: String,
    pub driver: Option<String>,
}

/// Which dma-buf ioctls the kernel implements (null: nothing to try them on).
#[napi(object)]
pub struct IoctlSupport {
    pub sync: Option<bool>,
    pub set_name: Option<bool>,
    pub export_sync_file: Option<bool>,
    pub import_sync_file: Option<bool>,
}

/// What `capabilities()` returns.
#[napi(object)]
pub struct Capabilities {
    /// `uname -r`.
    pub kernel: String,
    /// dma-heap names.
    pub heaps: Vec<String>,
    /// Whether /dev/udmabuf exists.
    pub udmabuf: bool,
    /// DRM nodes.
    pub drm: Vec<DrmNodeInfo>,
    /// dma-buf ioctls.
    pub ioctls: IoctlSupport,
}

/// Probes heaps, udmabuf, DRM nodes and the dma-buf ioctls of this kernel.
#[napi]
pub fn capabilities() -> Capabilities {
    let c = dmabuf::capabilities();
    Capabilities {
        kernel: c.kernel,
        heaps: c.heaps,
        udmabuf: c.udmabuf,
        drm: c
            .drm
            .into_iter()
            .map(|n| DrmNodeInfo { path: n.path.to_string_lossy().into_owned(), driver: n.driver })
            .collect(),
        ioctls: IoctlSupport {
            sync: c.ioctls.sync,
            set_name: c.ioctls.set_name,
            export_sync_file: c.ioctls.export_sync_file,
            import_sync_file: c.ioctls.import_sync_file,
        },
    }
}
