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

use crate::dma_buf::{Access, DmaBuf};
use crate::error::{Error, Result};
use crate::sys;
use crate::udmabuf::open_node;

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

/// Lists DRM nodes in `/dev/dri`, render nodes first, sorted by name.
pub fn list_nodes() -> Vec<PathBuf> {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir(DRI_DIR)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("renderD") || n.starts_with("card")))
                .collect()
        })
        .unwrap_or_default();
    nodes.sort_by_key(|p| (!p.to_string_lossy().contains("renderD"), p.clone()));
    nodes
}

impl DrmDevice {
    /// Opens a DRM node read-write, close-on-exec.
    pub fn open(path: impl AsRef<Path>) -> Result<DrmDevice> {
        let path = path.as_ref();
        let fd = open_node(path, "DRM device", "a DRM driver such as vgem")?;
        Ok(DrmDevice { dev: Arc::new(Device { fd, path: path.to_path_buf(), handles: Mutex::new(HashMap::new()) }) })
    }

    /// Opens the first node in `/dev/dri` whose driver is `driver` (e.g.
    /// `"vgem"`), preferring primary (`card*`) nodes when `primary` is set
    /// (dumb buffers need one), render nodes otherwise.
    pub fn open_driver(driver: &str, primary: bool) -> Result<DrmDevice> {
        let mut nodes = list_nodes();
        if primary {
            nodes.reverse();
        }
        let mut seen = Vec::new();
        for node in nodes {
            if let Ok(dev) = DrmDevice::open(&node) {
                match dev.driver_name() {
                    Ok(name) if name == driver => return Ok(dev),
                    Ok(name) => seen.push(format!("{} ({name})", node.display())),
                    Err(_) => {}
                }
            }
        }
        let have = if seen.is_empty() { "none".to_string() } else { seen.join(", ") };
        Err(Error::os("open", None, nix::errno::Errno::ENODEV)
            .with_detail(format!("no DRM device with driver {driver} in {DRI_DIR} (found: {have})")))
    }

    /// The node's path.
    pub fn path(&self) -> &Path {
        &self.dev.path
    }

    /// `DRM_IOCTL_VERSION`: the driver's name (`vgem`, `i915`, `amdgpu`, ...).
    #[doc(alias = "DRM_IOCTL_VERSION")]
    pub fn driver_name(&self) -> Result<String> {
        sys::drm_driver_name(self.dev.fd.as_fd())
    }

    fn adopt_handle(&self, handle: u32) -> GemHandle {
        let mut map = self.dev.handles.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(handle).or_insert(0) += 1;
        GemHandle { dev: self.dev.clone(), handle }
    }

    /// `DRM_IOCTL_MODE_CREATE_DUMB`: a CPU-mappable buffer of `width` x
    /// `height` pixels of `bpp` bits. Needs a driver with dumb buffers (vgem,
    /// most KMS drivers) and usually a primary node.
    #[doc(alias = "DRM_IOCTL_MODE_CREATE_DUMB")]
    pub fn create_dumb(&self, width: u32, height: u32, bpp: u32) -> Result<DumbBuffer> {
        if width == 0 || height == 0 || bpp == 0 {
            return Err(Error::invalid("DRM_IOCTL_MODE_CREATE_DUMB", Some(self.dev.fd.as_raw_fd()), "width, height and bpp must be non-zero"));
        }
        let r = sys::drm_mode_create_dumb(self.dev.fd.as_fd(), width, height, bpp)?;
        Ok(DumbBuffer { handle: self.adopt_handle(r.handle), pitch: r.pitch, size: r.size })
    }

    /// `DRM_IOCTL_PRIME_HANDLE_TO_FD`: exports a GEM object as a dma-buf
    /// (close-on-exec; read-write unless `access` is `Read`).
    ///
    /// The kernel makes one dma-buf per GEM object and hands out that same
    /// open file on every later export (for an imported object, the original
    /// buffer's), so `access` only takes effect on the object's first export:
    /// check [`DmaBuf::is_writable`] where the mode matters.
    #[doc(alias = "DRM_IOCTL_PRIME_HANDLE_TO_FD")]
    pub fn export(&self, handle: &GemHandle, access: Access) -> Result<DmaBuf> {
        self.check_same(handle)?;
        let flags = sys::DRM_CLOEXEC | if access.writes() { sys::DRM_RDWR } else { 0 };
        let buf = DmaBuf::from_trusted(sys::drm_prime_handle_to_fd(self.dev.fd.as_fd(), handle.handle, flags)?)?;
        if buf.info().map(|i| i.name.is_none()).unwrap_or(false) {
            buf.set_default_name(&format!("drm:{}", self.driver_name().unwrap_or_default()));
        }
        Ok(buf)
    }

    /// `DRM_IOCTL_PRIME_FD_TO_HANDLE`: imports a dma-buf (borrowed) as a GEM
    /// handle. Importing the same buffer twice yields the same kernel handle;
    /// each returned [`GemHandle`] counts as one user of it.
    #[doc(alias = "DRM_IOCTL_PRIME_FD_TO_HANDLE")]
    pub fn import(&self, buf: &DmaBuf) -> Result<GemHandle> {
        // Hold the table across the ioctl: otherwise a concurrent drop of the
        // last user could close the very handle the kernel is returning here.
        let mut map = self.dev.handles.lock().unwrap_or_else(|p| p.into_inner());
        let handle = sys::drm_prime_fd_to_handle(self.dev.fd.as_fd(), buf.as_fd())?;
        *map.entry(handle).or_insert(0) += 1;
        Ok(GemHandle { dev: self.dev.clone(), handle })
    }

    fn check_same(&self, handle: &GemHandle) -> Result<()> {
        if Arc::ptr_eq(&self.dev, &handle.dev) {
            Ok(())
        } else {
            Err(Error::invalid("DRM GEM handle", Some(self.dev.fd.as_raw_fd()), "the GEM handle belongs to another DRM device file"))
        }
    }

    /// `DRM_IOCTL_VGEM_FENCE_ATTACH` (vgem only): attaches a new unsignalled
    /// fence to the buffer, as a writer (`write`) or reader. Until
    /// [`DrmDevice::vgem_fence_signal`] (or vgem's 10 s timeout), sync_files
    /// exported from the buffer stay pending. A tool for testing fences.
    #[doc(alias = "DRM_IOCTL_VGEM_FENCE_ATTACH")]
    pub fn vgem_fence_attach(&self, handle: &GemHandle, write: bool) -> Result<u32> {
        self.check_same(handle)?;
        sys::vgem_fence_attach(self.dev.fd.as_fd(), handle.handle, write)
    }

    /// `DRM_IOCTL_VGEM_FENCE_SIGNAL` (vgem only): signals a fence made by
    /// [`DrmDevice::vgem_fence_attach`].
    #[doc(alias = "DRM_IOCTL_VGEM_FENCE_SIGNAL")]
    pub fn vgem_fence_signal(&self, fence: u32) -> Result<()> {
        sys::vgem_fence_signal(self.dev.fd.as_fd(), fence)
    }

    /// How many [`GemHandle`]s are live for a kernel handle (0 once closed).
    pub fn handle_users(&self, handle: u32) -> usize {
        self.dev.handles.lock().unwrap_or_else(|p| p.into_inner()).get(&handle).copied().unwrap_or(0)
    }
}

impl AsFd for DrmDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.fd.as_fd()
    }
}

impl GemHandle {
    /// The kernel's handle number (valid on this device file only).
    pub fn raw(&self) -> u32 {
        self.handle
    }
}

impl Clone for GemHandle {
    fn clone(&self) -> Self {
        let mut map = self.dev.handles.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(self.handle).or_insert(0) += 1;
        GemHandle { dev: self.dev.clone(), handle: self.handle }
    }
}

impl Drop for GemHandle {
    fn drop(&mut self) {
        let mut map = self.dev.handles.lock().unwrap_or_else(|p| p.into_inner());
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
            let _ = sys::drm_gem_close(self.dev.fd.as_fd(), self.handle);
        }
    }
}
