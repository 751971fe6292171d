//! What this system offers: heaps, udmabuf, DRM nodes, and which dma-buf
//! ioctls the running kernel implements (found by trying them: `ENOTTY`
//! means absent).

use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::dma_buf::{Access, DmaBuf};
use crate::drm::{list_nodes, DrmDevice};
use crate::{heap, udmabuf};

/// A DRM device node and its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrmNode {
    /// e.g. `/dev/dri/renderD128`.
    pub path: PathBuf,
    /// The driver's name, when the node could be opened.
    pub driver: Option<String>,
}

/// Whether the running kernel implements each dma-buf ioctl. `None` when no
/// dma-buf could be made to try them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IoctlSupport {
    /// `DMA_BUF_IOCTL_SYNC` (Linux 4.6).
    pub sync: Option<bool>,
    /// `DMA_BUF_SET_NAME` (Linux 5.7).
    pub set_name: Option<bool>,
    /// `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` (Linux 6.0).
    pub export_sync_file: Option<bool>,
    /// `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` (Linux 6.0).
    pub import_sync_file: Option<bool>,
}

/// The result of [`capabilities`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The running kernel's release (`uname -r`).
    pub kernel: String,
    /// dma-heap names in `/dev/dma_heap`.
    pub heaps: Vec<String>,
    /// Whether `/dev/udmabuf` exists.
    pub udmabuf: bool,
    /// DRM nodes in `/dev/dri`.
    pub drm: Vec<DrmNode>,
    /// Which dma-buf ioctls work.
    pub ioctls: IoctlSupport,
}

fn present(r: crate::Result<()>) -> Option<bool> {
    match r {
        Ok(()) => Some(true),
        Err(e) if e.errno() == Errno::ENOTTY => Some(false),
        // Any other answer means the kernel knows the ioctl.
        Err(_) => Some(true),
    }
}

fn probe_buffer() -> Option<DmaBuf> {
    if let Ok(u) = udmabuf::Udmabuf::open() {
        if let Ok(b) = u.alloc(crate::page_size() as u64) {
            return Some(b);
        }
    }
    heap::list().iter().find_map(|name| heap::Heap::open(name).ok()?.alloc(crate::page_size() as u64, Access::ReadWrite).ok())
}

/// Probes the system. Cheap enough to call at start-up: a few `stat`s and
/// `open`s, and at most one page-sized allocation to try the ioctls on.
pub fn capabilities() -> Capabilities {
    let drm = list_nodes()
        .into_iter()
        .map(|path| {
            let driver = DrmDevice::open(&path).ok().and_then(|d| d.driver_name().ok());
            DrmNode { path, driver }
        })
        .collect();
    let mut ioctls = IoctlSupport::default();
    if let Some(buf) = probe_buffer() {
        ioctls.sync = present(buf.sync_start(Access::Read).and_then(|_| buf.sync_end(Access::Read)));
        ioctls.set_name = present(buf.set_name("dmabuf-probe"));
        match buf.export_sync_file(Access::Read) {
            Ok(sf) => {
                ioctls.export_sync_file = Some(true);
                ioctls.import_sync_file = present(buf.import_sync_file(&sf, Access::Read));
            }
            Err(e) => {
                ioctls.export_sync_file = present(Err(e));
                ioctls.import_sync_file = ioctls.export_sync_file;
            }
        }
    }
    Capabilities {
        kernel: nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default(),
        heaps: heap::list(),
        udmabuf: Path::new(udmabuf::DEFAULT_PATH).exists(),
        drm,
        ioctls,
    }
}
