//! What this system offers: heaps, udmabuf, DRM nodes, V4L2 video nodes, and which dma-buf
//! ioctls the running kernel implements (found by trying them: `ENOTTY`
//! means absent).

use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::dma_buf::{Access, DmaBuf};
use crate::drm::{list_nodes, DrmDevice};
use crate::{dvb, heap, udmabuf};

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
    /// DVB demux nodes (`/dev/dvb/adapterN/demuxM`).
    pub dvb_demuxes: Vec<PathBuf>,
    /// Whether the first demux can export its buffers (`CONFIG_DVB_MMAP`):
    /// `None` when there is no demux to ask (or it could not be opened).
    pub dvb_export: Option<bool>,
    /// V4L2 video nodes with a streaming queue: name, single- or
    /// multi-planar, and whether they export (MMAP) and import (DMABUF).
    pub v4l2: Vec<crate::v4l2::VideoNode>,
}

/// Whether an ioctl tried on a dma-buf exists: `ENOTTY` means it does not;
/// success or any other errno means the kernel knows it.
fn present(r: crate::Result<()>) -> bool {
    !matches!(r, Err(e) if e.errno() == Errno::ENOTTY)
}

/// Out of fds or memory: the process's problem, which a probe must report
/// rather than read as "this system lacks it".
fn exhausted(e: &crate::Error) -> bool {
    matches!(e.errno(), Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM)
}

/// `Ok(None)` for "not here", `Err` for an exhausted process.
fn quietly<T>(r: crate::Result<T>) -> crate::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if exhausted(&e) => Err(e),
        Err(_) => Ok(None),
    }
}

fn probe_buffer(heaps: &[String]) -> crate::Result<Option<DmaBuf>> {
    let page = crate::fd::page_size_u64();
    if let Some(u) = quietly(udmabuf::Udmabuf::open())? {
        if let Some(b) = quietly(u.alloc(page))? {
            return Ok(Some(b));
        }
    }
    for name in heaps {
        if let Some(h) = quietly(heap::Heap::open(name))? {
            if let Some(b) = quietly(h.alloc(page, Access::ReadWrite))? {
                return Ok(Some(b));
            }
        }
    }
    Ok(None)
}

/// Probes the system. Cheap enough to call at start-up: a few `stat`s and
/// `open`s, and at most one page-sized allocation to try the ioctls on.
///
/// # Errors
/// When `/dev/dma_heap` or `/dev/dri` exists but cannot be listed
/// (`EMFILE`, `EACCES`), or the process is out of fds or memory while
/// probing (`EMFILE`, `ENFILE`, `ENOMEM`): the answer would otherwise claim
/// "none".
pub fn capabilities() -> crate::Result<Capabilities> {
    let heaps = heap::list()?;
    let mut drm = Vec::new();
    for path in list_nodes()? {
        let driver = quietly(DrmDevice::open(&path))?.and_then(|d| d.driver_name().ok());
        drm.push(DrmNode { path, driver });
    }
    let mut ioctls = IoctlSupport::default();
    if let Some(buf) = probe_buffer(&heaps)? {
        ioctls.sync = Some(present(buf.sync_start(Access::Read).and_then(|()| buf.sync_end(Access::Read))));
        ioctls.set_name = Some(present(buf.set_name("dmabuf-probe")));
        match buf.export_sync_file(Access::Read) {
            Ok(sf) => {
                ioctls.export_sync_file = Some(true);
                ioctls.import_sync_file = Some(present(buf.import_sync_file(&sf, Access::Read)));
            }
            Err(e) => {
                // Both arrived in Linux 6.0: without export, import is absent too.
                ioctls.export_sync_file = Some(present(Err(e)));
                ioctls.import_sync_file = ioctls.export_sync_file;
            }
        }
    }
    let dvb_demuxes = dvb::list_demuxes()?;
    let dvb_export = match dvb_demuxes.first() {
        Some(path) => dvb::probe_export(path)?,
        None => None,
    };
    Ok(Capabilities {
        dvb_demuxes,
        dvb_export,
        kernel: nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default(),
        heaps,
        udmabuf: Path::new(udmabuf::DEFAULT_PATH).exists(),
        drm,
        ioctls,
        v4l2: crate::v4l2::list()?,
    })
}
