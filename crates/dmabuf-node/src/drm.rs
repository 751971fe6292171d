//! Where dma-bufs come from: udmabuf, dma-heaps, DRM (PRIME), and the
//! capability probe. Functions that make a `DmaBuf` return its handle with its
//! fd and size in output slots 0 and 1 (`dma_buf::out_buf`).

use std::os::fd::{AsFd, IntoRawFd};

use dmabuf::drm::NodeKind;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::{on_buf, out_buf};
use crate::errors::{access, fd_arg, miss, os, u32_arg, uint};
use crate::fast::set_out;
use crate::table::{self, Obj};

fn store(env: &Env, method: &str, obj: Obj) -> Result<f64> {
    let class = obj.class();
    table::insert(obj).map_err(|m| miss(env, method, class, &m))
}

/// Opens /dev/udmabuf and allocates from it: createUdmabuf.
#[napi(catch_unwind)]
pub fn create_udmabuf(env: &Env, size: f64) -> Result<f64> {
    const M: &str = "createUdmabuf";
    let size = uint(env, M, "size", size)?;
    let buf = dmabuf::udmabuf::Udmabuf::open().and_then(|u| u.alloc(size)).map_err(|e| os(env, M, &e))?;
    out_buf(env, M, buf)
}

/// `open("/dev/udmabuf")` (or `path`): Udmabuf.open.
#[napi(catch_unwind)]
pub fn udmabuf_open(env: &Env, path: Option<String>) -> Result<f64> {
    const M: &str = "Udmabuf.open";
    let d = match path {
        Some(p) => dmabuf::udmabuf::Udmabuf::open_path(p),
        None => dmabuf::udmabuf::Udmabuf::open(),
    }
    .map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Udmabuf(d))
}

fn on_udmabuf<T>(
    env: &Env,
    h: f64,
    m: &str,
    f: impl FnOnce(&dmabuf::udmabuf::Udmabuf) -> dmabuf::Result<T>,
) -> Result<T> {
    table::with_udmabuf(h, |u| f(u)).map_err(|x| miss(env, m, "Udmabuf", &x))?.map_err(|e| os(env, m, &e))
}

/// `UDMABUF_CREATE` over a new sealed memfd: Udmabuf.alloc.
#[napi(catch_unwind)]
pub fn udmabuf_alloc(env: &Env, h: f64, size: f64) -> Result<f64> {
    const M: &str = "Udmabuf.alloc";
    let size = uint(env, M, "size", size)?;
    let buf = on_udmabuf(env, h, M, |u| u.alloc(size))?;
    out_buf(env, M, buf)
}

/// Udmabuf.allocWithMemfd: output slot 2 holds the memfd, now the caller's.
#[napi(catch_unwind)]
pub fn udmabuf_alloc_with_memfd(env: &Env, h: f64, size: f64) -> Result<f64> {
    const M: &str = "Udmabuf.allocWithMemfd";
    let size = uint(env, M, "size", size)?;
    let (buf, memfd) = on_udmabuf(env, h, M, |u| u.alloc_with_memfd(size))?;
    let bh = out_buf(env, M, buf)?;
    set_out(2, f64::from(memfd.into_raw_fd()));
    Ok(bh)
}

/// `UDMABUF_CREATE` over a memfd the caller keeps: Udmabuf.create.
#[napi(catch_unwind)]
pub fn udmabuf_create(env: &Env, h: f64, memfd: f64, offset: f64, size: f64) -> Result<f64> {
    const M: &str = "Udmabuf.create";
    let (offset, size) = (uint(env, M, "offset", offset)?, uint(env, M, "size", size)?);
    // A duplicate stands in for the caller's fd: it cannot be closed under us.
    let fd = dmabuf::dup_raw_fd(fd_arg(env, M, memfd)?).map_err(|e| os(env, M, &e))?;
    let buf = on_udmabuf(env, h, M, |u| u.create(&fd, offset, size))?;
    out_buf(env, M, buf)
}

/// `UDMABUF_CREATE_LIST`: Udmabuf.createList, the ranges as three arrays.
#[napi(catch_unwind)]
pub fn udmabuf_create_list(
    env: &Env,
    h: f64,
    fds: Float64Array,
    offsets: Float64Array,
    sizes: Float64Array,
) -> Result<f64> {
    const M: &str = "Udmabuf.createList";
    let mut owned = Vec::with_capacity(fds.len());
    let mut spans = Vec::with_capacity(fds.len());
    for ((&fd, &offset), &size) in fds.iter().zip(offsets.iter()).zip(sizes.iter()) {
        owned.push(dmabuf::dup_raw_fd(fd_arg(env, M, fd)?).map_err(|e| os(env, M, &e))?);
        spans.push((uint(env, M, "offset", offset)?, uint(env, M, "size", size)?));
    }
    let ranges: Vec<dmabuf::udmabuf::Range<'_>> = owned
        .iter()
        .zip(&spans)
        .map(|(fd, &(offset, size))| dmabuf::udmabuf::Range { memfd: fd.as_fd(), offset, size })
        .collect();
    let buf = on_udmabuf(env, h, M, |u| u.create_list(&ranges))?;
    out_buf(env, M, buf)
}

/// The dma-heaps in `/dev/dma_heap`: listHeaps.
#[napi(catch_unwind)]
pub fn list_heaps(env: &Env) -> Result<Vec<String>> {
    dmabuf::heap::list().map_err(|e| os(env, "listHeaps", &e))
}

/// `open("/dev/dma_heap/<name>")`: Heap.open.
#[napi(catch_unwind)]
pub fn heap_open(env: &Env, name: String) -> Result<f64> {
    const M: &str = "Heap.open";
    let h = dmabuf::heap::Heap::open(&name).map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Heap(h))
}

/// `DMA_HEAP_IOCTL_ALLOC`: Heap.alloc.
#[napi(catch_unwind)]
pub fn heap_alloc(env: &Env, h: f64, size: f64, bits: f64) -> Result<f64> {
    const M: &str = "Heap.alloc";
    let size = uint(env, M, "size", size)?;
    let acc = access(env, M, bits)?;
    let buf = table::with_heap(h, |heap| heap.alloc(size, acc))
        .map_err(|m| miss(env, M, "Heap", &m))?
        .map_err(|e| os(env, M, &e))?;
    out_buf(env, M, buf)
}

/// `open` of a DRM node: DrmDevice.open.
#[napi(catch_unwind)]
pub fn drm_open(env: &Env, path: String) -> Result<f64> {
    const M: &str = "DrmDevice.open";
    let d = dmabuf::drm::DrmDevice::open(&path).map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Drm(d))
}

/// The first node whose driver is `driver`: DrmDevice.openDriver.
#[napi(catch_unwind)]
pub fn drm_open_driver(env: &Env, driver: String, primary: bool) -> Result<f64> {
    const M: &str = "DrmDevice.openDriver";
    let kind = if primary { NodeKind::Primary } else { NodeKind::Render };
    let d = dmabuf::drm::DrmDevice::open_driver(&driver, kind).map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Drm(d))
}

/// The DRM nodes in /dev/dri: DrmDevice.list.
#[napi(catch_unwind)]
pub fn drm_list(env: &Env) -> Result<Vec<String>> {
    let nodes = dmabuf::drm::list_nodes().map_err(|e| os(env, "DrmDevice.list", &e))?;
    Ok(nodes.into_iter().map(|p| p.to_string_lossy().into_owned()).collect())
}

fn on_drm<T>(env: &Env, h: f64, m: &str, f: impl FnOnce(&dmabuf::drm::DrmDevice) -> dmabuf::Result<T>) -> Result<T> {
    table::with_drm(h, |d| f(d)).map_err(|x| miss(env, m, "DrmDevice", &x))?.map_err(|e| os(env, m, &e))
}

/// `DRM_IOCTL_VERSION`: DrmDevice.driverName.
#[napi(catch_unwind)]
pub fn drm_driver_name(env: &Env, h: f64) -> Result<String> {
    on_drm(env, h, "DrmDevice.driverName", dmabuf::drm::DrmDevice::driver_name)
}

/// Stores a GEM handle; output slot 0 holds its kernel number.
fn out_gem(env: &Env, m: &str, g: dmabuf::drm::GemHandle) -> Result<f64> {
    let raw = g.raw();
    let h = store(env, m, Obj::Gem(g))?;
    set_out(0, f64::from(raw));
    Ok(h)
}

/// `DRM_IOCTL_MODE_CREATE_DUMB`: DrmDevice.createDumb. Output slots: 0 the
/// GEM handle's number, 1 pitch, 2 size.
#[napi(catch_unwind)]
pub fn drm_create_dumb(env: &Env, h: f64, width: f64, height: f64, bpp: f64) -> Result<f64> {
    const M: &str = "DrmDevice.createDumb";
    let (w, ht, b) =
        (u32_arg(env, M, "width", width)?, u32_arg(env, M, "height", height)?, u32_arg(env, M, "bpp", bpp)?);
    let dumb = on_drm(env, h, M, |d| d.create_dumb(w, ht, b))?;
    let (pitch, size) = (dumb.pitch, dumb.size);
    let gh = out_gem(env, M, dumb.handle)?;
    set_out(1, f64::from(pitch));
    #[allow(clippy::cast_precision_loss)] // Reason: a dumb buffer's size is far below 2^53.
    set_out(2, size as f64);
    Ok(gh)
}

/// Runs `f` with a DRM device and one of its GEM handles.
#[allow(clippy::many_single_char_names)] // Reason: the same short names as every function here.
fn on_drm_gem<T>(
    env: &Env,
    h: f64,
    gh: f64,
    m: &str,
    f: impl FnOnce(&dmabuf::drm::DrmDevice, &dmabuf::drm::GemHandle) -> dmabuf::Result<T>,
) -> Result<T> {
    table::with_gem(gh, |_| ()).map_err(|x| miss(env, m, "GemHandle", &x))?;
    table::with_drm(h, |_| ()).map_err(|x| miss(env, m, "DrmDevice", &x))?;
    table::with_all(&[h, gh], |objs| match objs {
        [Obj::Drm(d), Obj::Gem(g)] => f(d, g).map_err(|e| os(env, m, &e)),
        _ => Err(miss(env, m, "DrmDevice", &table::Miss::Closed)),
    })
    .map_err(|(_, x)| miss(env, m, "DrmDevice", &x))?
}

/// `DRM_IOCTL_PRIME_HANDLE_TO_FD`: DrmDevice.export.
#[napi(catch_unwind)]
pub fn drm_export(env: &Env, h: f64, gh: f64, bits: f64) -> Result<f64> {
    const M: &str = "DrmDevice.export";
    let acc = access(env, M, bits)?;
    let buf = on_drm_gem(env, h, gh, M, |d, g| d.export(g, acc))?;
    out_buf(env, M, buf)
}

/// `DRM_IOCTL_PRIME_FD_TO_HANDLE`: DrmDevice.import.
#[napi(catch_unwind)]
pub fn drm_import(env: &Env, h: f64, bh: f64) -> Result<f64> {
    const M: &str = "DrmDevice.import";
    on_buf(env, bh, M, |_| Ok(()))?;
    on_drm(env, h, M, |_| Ok(()))?;
    let g = table::with_all(&[h, bh], |objs| match objs {
        [Obj::Drm(d), Obj::Buf(b)] => d.import(&b.buf).map_err(|e| os(env, M, &e)),
        _ => Err(miss(env, M, "DmaBuf", &table::Miss::Closed)),
    })
    .map_err(|(_, x)| miss(env, M, "DmaBuf", &x))??;
    out_gem(env, M, g)
}

/// How many `GemHandles` are open for a kernel handle number.
#[napi(catch_unwind)]
pub fn drm_handle_users(env: &Env, h: f64, handle: f64) -> Result<u32> {
    const M: &str = "DrmDevice.handleUsers";
    let n = u32_arg(env, M, "handle", handle)?;
    on_drm(env, h, M, |d| Ok(u32::try_from(d.handle_users(n)).unwrap_or(u32::MAX)))
}

/// `DRM_IOCTL_VGEM_FENCE_ATTACH`: DrmDevice.vgemFenceAttach.
#[napi(catch_unwind)]
pub fn drm_vgem_fence_attach(env: &Env, h: f64, gh: f64, bits: f64) -> Result<u32> {
    const M: &str = "DrmDevice.vgemFenceAttach";
    let acc = access(env, M, bits)?;
    on_drm_gem(env, h, gh, M, |d, g| d.vgem_fence_attach(g, acc))
}

/// `DRM_IOCTL_VGEM_FENCE_SIGNAL`: DrmDevice.vgemFenceSignal.
#[napi(catch_unwind)]
pub fn drm_vgem_fence_signal(env: &Env, h: f64, fence: f64) -> Result<()> {
    const M: &str = "DrmDevice.vgemFenceSignal";
    let fence = u32_arg(env, M, "fence", fence)?;
    on_drm(env, h, M, |d| d.vgem_fence_signal(fence))
}

/// A DRM node and its driver.
#[napi(object)]
pub struct DrmNodeInfo {
    /// e.g. /dev/dri/renderD128.
    pub path: String,
    /// The driver's name, when the node could be opened.
    pub driver: Option<String>,
}

/// Which dma-buf ioctls the kernel implements (null: nothing to try them on).
#[napi(object)]
pub struct IoctlSupport {
    /// `DMA_BUF_IOCTL_SYNC`.
    pub sync: Option<bool>,
    /// `DMA_BUF_SET_NAME`.
    pub set_name: Option<bool>,
    /// `DMA_BUF_IOCTL_EXPORT_SYNC_FILE`.
    pub export_sync_file: Option<bool>,
    /// `DMA_BUF_IOCTL_IMPORT_SYNC_FILE`.
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
    /// DVB demux nodes (/dev/dvb/adapterN/demuxM).
    pub dvb_demuxes: Vec<String>,
    /// Whether the first demux exports buffers (`CONFIG_DVB_MMAP`); absent
    /// when there is no demux to ask.
    pub dvb_export: Option<bool>,
    /// V4L2 video nodes with a streaming queue (`V4l2Device.list()`): which
    /// export their buffers (MMAP) and which import dma-bufs (DMABUF).
    #[napi(js_name = "v4l2")]
    pub v4l2: Vec<crate::v4l2::V4l2Node>,
}

/// Probes heaps, udmabuf, DRM nodes and the dma-buf ioctls of this kernel.
#[napi(catch_unwind)]
pub fn capabilities(env: &Env) -> Result<Capabilities> {
    let c = dmabuf::capabilities().map_err(|e| os(env, "capabilities", &e))?;
    Ok(Capabilities {
        dvb_demuxes: c.dvb_demuxes.iter().map(|p| p.to_string_lossy().into_owned()).collect(),
        dvb_export: c.dvb_export,
        v4l2: c.v4l2.into_iter().map(crate::v4l2::V4l2Node::from).collect(),
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
    })
}
