//! The capability probe (`dmabuf::capabilities`): `capabilities()`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::os;

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
