//! DRM: GEM buffers as dma-bufs through PRIME (`DRM_IOCTL_PRIME_HANDLE_TO_FD`,
//! `DRM_IOCTL_PRIME_FD_TO_HANDLE`, Linux 3.4), dumb buffers
//! (`DRM_IOCTL_MODE_CREATE_DUMB`), and vgem's test fences.
//!
//! GEM handles are per open device file and reference counted by *us*: the
//! kernel gives the same handle each time one dma-buf is imported, and one
//! `DRM_IOCTL_GEM_CLOSE` drops it for everybody. [`GemHandle`] therefore
//! counts its users and closes the handle when the last one is dropped.
//!
//! Kernel documentation: <https://docs.kernel.org/gpu/drm-mm.html#prime-buffer-sharing>

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::dma_buf::{Access, DmaBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::fd::open_node;
use crate::sys::drm as sys;
use crate::sys::vgem;

/// Where DRM device nodes live.
pub const DRI_DIR: &str = "/dev/dri";

#[derive(Debug)]
struct Device {
    fd: OwnedFd,
    path: PathBuf,
    /// handle -> number of live `GemHandle`s for it.
    handles: Mutex<HashMap<u32, usize>>,
}

/// An open DRM device node (`/dev/dri/card*` or `/dev/dri/renderD*`).
/// Cheap to clone: clones share the open file and its GEM handle table.
#[derive(Debug, Clone)]
pub struct DrmDevice {
    dev: Arc<Device>,
}

/// A counted reference to a GEM handle of one [`DrmDevice`].
/// The handle is closed (`DRM_IOCTL_GEM_CLOSE`) when the last reference drops.
#[derive(Debug)]
pub struct GemHandle {
    dev: Arc<Device>,
    handle: u32,
}

/// A dumb buffer: a GEM handle plus its layout.
#[derive(Debug)]
pub struct DumbBuffer {
    /// The GEM handle.
    pub handle: GemHandle,
    /// Bytes per row.
    pub pitch: u32,
    /// Total size in bytes.
    pub size: u64,
}

/// Which kind of DRM node [`DrmDevice::open_driver`] prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeKind {
    /// `renderD*`: rendering and buffer sharing, open to ordinary users.
    #[default]
    Render,
    /// `card*`: also modesetting and dumb buffers.
    Primary,
}

/// Lists DRM nodes in `/dev/dri` (`card*`, `renderD*`), render nodes
/// first, sorted by name. Empty when `/dev/dri` does not exist.
///
/// # Errors
/// When `/dev/dri` exists but cannot be read (`EMFILE`, `EACCES`).
pub fn list_nodes() -> Result<Vec<PathBuf>> {
    let mut nodes: Vec<PathBuf> = crate::fd::list_dir(Path::new(DRI_DIR), "readdir")?
        .into_iter()
        .filter(|n| n.starts_with("renderD") || n.starts_with("card"))
        .map(|n| Path::new(DRI_DIR).join(n))
        .collect();
    nodes.sort_by_key(|p| (!p.to_string_lossy().contains("renderD"), p.clone()));
    Ok(nodes)
}

impl DrmDevice {
    /// `open(path, O_RDWR | O_CLOEXEC)` of a DRM node, checked with
    /// `DRM_IOCTL_VERSION`.
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied` naming the node; `InvalidArgument`
    /// (`ENOTTY`) when the file is not a DRM device.
    pub fn open(path: impl AsRef<Path>) -> Result<DrmDevice> {
        let path = path.as_ref();
        let fd = open_node(path, OFlag::O_RDWR, "DRM device", "a DRM driver such as vgem")?;
        // Before any DRM ioctl: another driver may read DRM_IOCTL_VERSION's
        // number as a command of its own (a dma-heap takes ioctl 0 for an
        // allocation, and answered EINVAL, not ENOTTY).
        crate::fd::check_device(fd.as_fd(), path, "drm", "DRM device")?;
        if let Err(e) = sys::driver_name(fd.as_fd()) {
            if e.errno() == Errno::ENOTTY {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    Errno::ENOTTY,
                    "DRM_IOCTL_VERSION",
                    None,
                    format!("{} is not a DRM device (it is {})", path.display(), crate::fd::describe(&fd)),
                ));
            }
        }
        Ok(DrmDevice { dev: Arc::new(Device { fd, path: path.to_path_buf(), handles: Mutex::new(HashMap::new()) }) })
    }

    /// Opens the first node in `/dev/dri` whose driver (`DRM_IOCTL_VERSION`)
    /// is `driver` (e.g. `"vgem"`), trying nodes of the `prefer`red kind
    /// first ([`NodeKind::Primary`] for dumb buffers).
    ///
    /// # Errors
    /// `ENODEV` listing the nodes found, with their drivers or why they
    /// could not be opened; `EMFILE`/`ENFILE`/`ENOMEM` as they come.
    pub fn open_driver(driver: &str, prefer: NodeKind) -> Result<DrmDevice> {
        let mut nodes = list_nodes()?;
        if prefer == NodeKind::Primary {
            nodes.reverse();
        }
        let mut seen = Vec::new();
        for node in nodes {
            match DrmDevice::open(&node) {
                Ok(dev) => match dev.driver_name() {
                    Ok(name) if name == driver => return Ok(dev),
                    Ok(name) => seen.push(format!("{} ({name})", node.display())),
                    Err(e) => seen.push(format!("{} ({})", node.display(), e.code())),
                },
                // Out of fds or memory is the caller's problem to see, not "no such driver".
                Err(e) if matches!(e.errno(), Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM) => return Err(e),
                Err(e) => seen.push(format!("{} (cannot open: {})", node.display(), e.code())),
            }
        }
        let have = if seen.is_empty() { "none".to_string() } else { seen.join(", ") };
        Err(Error::os("open", None, Errno::ENODEV)
            .with_detail(format!("no DRM device with driver {driver} in {DRI_DIR} (found: {have})")))
    }

    /// The node's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dev.path
    }

    /// `DRM_IOCTL_VERSION`: the driver's name (`vgem`, `i915`, `amdgpu`, ...).
    ///
    /// # Errors
    /// Errors of the ioctl, which an open DRM node does not give in practice.
    #[doc(alias = "DRM_IOCTL_VERSION")]
    pub fn driver_name(&self) -> Result<String> {
        sys::driver_name(self.dev.fd.as_fd())
    }

    fn adopt_handle(&self, handle: u32) -> GemHandle {
        let mut map = self.dev.handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(handle).or_insert(0) += 1;
        GemHandle { dev: self.dev.clone(), handle }
    }

    /// `DRM_IOCTL_MODE_CREATE_DUMB`: a CPU-mappable buffer of `width` x
    /// `height` pixels of `bpp` bits. Needs a driver with dumb buffers (vgem,
    /// most KMS drivers) and usually a primary node.
    ///
    /// # Errors
    /// `InvalidArgument` for a zero dimension; `ENOMEM` for more bytes than
    /// this machine's memory; `EINVAL` from the kernel for a
    /// size it cannot hold; `ENOSYS`/`EOPNOTSUPP` from drivers without dumb
    /// buffers.
    #[doc(alias = "DRM_IOCTL_MODE_CREATE_DUMB")]
    pub fn create_dumb(&self, width: u32, height: u32, bpp: u32) -> Result<DumbBuffer> {
        if width == 0 || height == 0 || bpp == 0 {
            return Err(Error::invalid(
                "DRM_IOCTL_MODE_CREATE_DUMB",
                Some(self.dev.fd.as_raw_fd()),
                "width, height and bpp must be non-zero",
            ));
        }
        let bytes = u64::from(width) * u64::from(height) * u64::from(bpp).div_ceil(8);
        crate::guard::check_alloc_size("DRM_IOCTL_MODE_CREATE_DUMB", bytes)?;
        let r = sys::mode_create_dumb(self.dev.fd.as_fd(), width, height, bpp)?;
        Ok(DumbBuffer { handle: self.adopt_handle(r.handle), pitch: r.pitch, size: r.size })
    }

    /// `DRM_IOCTL_PRIME_HANDLE_TO_FD`: exports a GEM object as a dma-buf
    /// (close-on-exec; read-write unless `access` is `Read`).
    ///
    /// The kernel makes one dma-buf per GEM object and hands out that same
    /// open file on every later export (for an imported object, the original
    /// buffer's), so `access` only takes effect on the object's first export:
    /// check [`DmaBuf::is_writable`] where the mode matters.
    ///
    /// # Errors
    /// `InvalidArgument` for a handle of another device file; the kernel's
    /// errors (`ENOENT` for a closed handle, `EMFILE`).
    #[doc(alias = "DRM_IOCTL_PRIME_HANDLE_TO_FD")]
    pub fn export(&self, handle: &GemHandle, access: Access) -> Result<DmaBuf> {
        self.check_same(handle)?;
        let flags = sys::DRM_CLOEXEC | if access.writes() { sys::DRM_RDWR } else { 0 };
        let buf = DmaBuf::from_trusted(sys::prime_handle_to_fd(self.dev.fd.as_fd(), handle.handle, flags)?)?;
        if buf.info().is_ok_and(|i| i.name.is_none()) {
            buf.set_default_name(&format!("drm:{}", self.driver_name().unwrap_or_default()));
        }
        Ok(buf)
    }

    /// `DRM_IOCTL_PRIME_FD_TO_HANDLE`: imports a dma-buf (borrowed) as a GEM
    /// handle. Importing the same buffer twice yields the same kernel handle;
    /// each returned [`GemHandle`] counts as one user of it.
    ///
    /// # Errors
    /// The kernel's errors (`EINVAL` for a buffer the driver cannot import).
    #[doc(alias = "DRM_IOCTL_PRIME_FD_TO_HANDLE")]
    pub fn import(&self, buf: &DmaBuf) -> Result<GemHandle> {
        // Hold the table across the ioctl: otherwise a concurrent drop of the
        // last user could close the very handle the kernel is returning here.
        let mut map = self.dev.handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let handle = sys::prime_fd_to_handle(self.dev.fd.as_fd(), buf.as_fd())?;
        *map.entry(handle).or_insert(0) += 1;
        Ok(GemHandle { dev: self.dev.clone(), handle })
    }

    fn check_same(&self, handle: &GemHandle) -> Result<()> {
        if Arc::ptr_eq(&self.dev, &handle.dev) {
            Ok(())
        } else {
            Err(Error::invalid(
                "DRM GEM handle",
                Some(self.dev.fd.as_raw_fd()),
                "the GEM handle belongs to another DRM device file",
            ))
        }
    }

    /// `DRM_IOCTL_VGEM_FENCE_ATTACH` (vgem only): attaches a new unsignalled
    /// fence to the buffer, as a writer (`Access::Write`/`ReadWrite`, which
    /// later readers and writers wait for) or a reader (`Access::Read`,
    /// which later writers wait for). Until [`DrmDevice::vgem_fence_signal`]
    /// (or vgem's 10 s timeout), `sync_files` exported from the buffer stay
    /// pending. A tool for testing fences. Returns the fence's id.
    ///
    /// # Errors
    /// `InvalidArgument` for a handle of another device file; `ENOTTY` on
    /// drivers other than vgem; `EBUSY` for a write fence while a read fence
    /// is pending.
    #[doc(alias = "DRM_IOCTL_VGEM_FENCE_ATTACH")]
    pub fn vgem_fence_attach(&self, handle: &GemHandle, access: Access) -> Result<u32> {
        self.check_same(handle)?;
        let flags = if access.writes() { vgem::VGEM_FENCE_WRITE } else { 0 };
        vgem::fence_attach(self.dev.fd.as_fd(), handle.handle, flags)
    }

    /// `DRM_IOCTL_VGEM_FENCE_SIGNAL` (vgem only): signals a fence made by
    /// [`DrmDevice::vgem_fence_attach`].
    ///
    /// # Errors
    /// `ENOENT` for an unknown or already signalled fence; `ENOTTY` on
    /// drivers other than vgem.
    #[doc(alias = "DRM_IOCTL_VGEM_FENCE_SIGNAL")]
    pub fn vgem_fence_signal(&self, fence: u32) -> Result<()> {
        vgem::fence_signal(self.dev.fd.as_fd(), fence)
    }

    /// How many [`GemHandle`]s are live for a kernel handle (0 once closed).
    #[must_use]
    pub fn handle_users(&self, handle: u32) -> usize {
        self.dev.handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&handle).copied().unwrap_or(0)
    }
}

impl AsFd for DrmDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.fd.as_fd()
    }
}

impl GemHandle {
    /// The kernel's handle number (valid on this device file only).
    #[must_use]
    pub fn raw(&self) -> u32 {
        self.handle
    }
}

impl Clone for GemHandle {
    fn clone(&self) -> Self {
        let mut map = self.dev.handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(self.handle).or_insert(0) += 1;
        GemHandle { dev: self.dev.clone(), handle: self.handle }
    }
}

impl Drop for GemHandle {
    fn drop(&mut self) {
        let mut map = self.dev.handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let last = match map.get_mut(&self.handle) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                map.remove(&self.handle);
                true
            }
        };
        if last {
            // Closed while the table is locked, so a concurrent import of the
            // same buffer cannot get this handle number back before it is gone.
            let _ = sys::gem_close(self.dev.fd.as_fd(), self.handle);
        }
    }
}
