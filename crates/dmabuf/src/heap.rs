//! DMA heaps: allocate dma-bufs from `/dev/dma_heap/<name>`
//! (`DMA_HEAP_IOCTL_ALLOC`, Linux 5.6, `CONFIG_DMABUF_HEAPS`).
//!
//! Heap names depend on the platform and kernel (`system`, `linux,cma`,
//! `reserved`, `default_cma_region`, ...): discover them with [`list`].
//!
//! Kernel documentation: <https://docs.kernel.org/userspace-api/dma-buf-heaps.html>

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::dma_buf::{Access, DmaBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::fd::{check_device, list_dir, open_node};
use crate::guard::check_alloc_size;
use crate::sys::dma_heap as sys;

/// Where heap device nodes live.
pub const HEAP_DIR: &str = "/dev/dma_heap";

/// Names of the heaps this system offers (the entries of `/dev/dma_heap`),
/// sorted. Empty when `/dev/dma_heap` does not exist.
///
/// # Errors
/// When the directory exists but cannot be read (`EMFILE`, `EACCES`): never
/// an empty list that only means "could not look".
pub fn list() -> Result<Vec<String>> {
    list_dir(Path::new(HEAP_DIR), "readdir")
}

/// Where the kernel lists its heaps when it was built with
/// `CONFIG_DMABUF_HEAPS` (the `dma_heap` device class), whatever `/dev` shows.
const HEAP_CLASS: &str = "/sys/class/dma_heap";

/// Why there is no `/dev/dma_heap`, with what to use instead: a kernel built
/// without `CONFIG_DMABUF_HEAPS` (no `/sys/class/dma_heap`; Debian's arm64
/// kernels are built so), one with the framework but no heap, or a `/dev`
/// that is not the kernel's (a container). `None` when it exists.
#[must_use]
pub fn missing_reason() -> Option<String> {
    if Path::new(HEAP_DIR).is_dir() {
        return None;
    }
    let udmabuf = if Path::new(crate::udmabuf::DEFAULT_PATH).exists() {
        "udmabuf (/dev/udmabuf is here)".to_string()
    } else {
        "udmabuf (CONFIG_UDMABUF, /dev/udmabuf)".to_string()
    };
    let instead =
        format!("allocate with {udmabuf} or DRM dumb buffers (a DRM node's CREATE_DUMB, exported with PRIME) instead");
    let class = Path::new(HEAP_CLASS);
    Some(if class.is_dir() {
        match list_dir(class, "readdir") {
            Ok(heaps) if heaps.is_empty() => format!("{HEAP_DIR} does not exist: this kernel has the DMA heap framework but no heap (CONFIG_DMABUF_HEAPS_SYSTEM, CONFIG_DMABUF_HEAPS_CMA); {instead}"),
            Ok(heaps) => format!("{HEAP_DIR} does not exist although the kernel has heaps ({}, listed in {HEAP_CLASS}): this /dev is not the kernel's devtmpfs (a container?); bind-mount {HEAP_DIR} into it, or {instead}", heaps.join(", ")),
            Err(e) => format!("{HEAP_DIR} does not exist ({HEAP_CLASS} could not be read: {}); {instead}", e.description()),
        }
    } else {
        format!("{HEAP_DIR} does not exist: this kernel was built without CONFIG_DMABUF_HEAPS (there is no {HEAP_CLASS}; Debian's arm64 kernels are built so); {instead}")
    })
}

/// An open dma-heap.
#[derive(Debug)]
pub struct Heap {
    fd: OwnedFd,
    name: String,
}

impl Heap {
    /// `open("/dev/dma_heap/<name>", O_RDONLY | O_CLOEXEC)`: heaps only need
    /// read access to allocate, so a 0444 node works (as libcamera and
    /// `GStreamer` open them).
    ///
    /// # Errors
    /// `NotFound` when there is no `/dev/dma_heap` (saying why, from
    /// [`missing_reason`]: no `CONFIG_DMABUF_HEAPS`, no heap, or a `/dev`
    /// that is not the kernel's, and naming udmabuf and DRM dumb buffers as
    /// the ways left) or no heap of that name (listing those that exist); `InvalidArgument` for a name that is a path (`/`, `.`, `..`,
    /// a NUL); `PermissionDenied` naming the node.
    pub fn open(name: &str) -> Result<Heap> {
        let dir = Path::new(HEAP_DIR);
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
            return Err(Error::invalid("open", None, format!("{name:?} is not a heap name (a name, not a path)")));
        }
        if let Some(reason) = missing_reason() {
            return Err(Error::new(ErrorKind::NotFound, Errno::ENOENT, "open", None, reason));
        }
        let path = dir.join(name);
        if !path.exists() {
            let have = match list_dir(dir, "readdir") {
                Ok(have) if have.is_empty() => "none".to_string(),
                Ok(have) => have.join(", "),
                Err(e) => format!("unknown: {}", e.description()),
            };
            return Err(Error::new(
                ErrorKind::NotFound,
                Errno::ENOENT,
                "open",
                None,
                format!("no dma-heap named {name:?} (available: {have})"),
            ));
        }
        let fd = open_node(&path, OFlag::O_RDONLY, "dma-heap", "CONFIG_DMABUF_HEAPS")?;
        check_device(fd.as_fd(), &path, "dma_heap", "dma-heap")?;
        Ok(Heap { fd, name: name.to_string() })
    }

    /// `open(path, O_RDONLY | O_CLOEXEC)`: a heap at an explicit device path.
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied` naming the node; `InvalidArgument`
    /// (`ENOTTY`) for a file that is not a dma-heap.
    pub fn open_path(path: impl AsRef<Path>) -> Result<Heap> {
        let path = path.as_ref();
        let fd = open_node(path, OFlag::O_RDONLY, "dma-heap", "CONFIG_DMABUF_HEAPS")?;
        check_device(fd.as_fd(), path, "dma_heap", "dma-heap")?;
        Ok(Heap { fd, name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default() })
    }

    /// The heap's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The heap's device path.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        Path::new(HEAP_DIR).join(&self.name)
    }

    /// `DMA_HEAP_IOCTL_ALLOC`: a new dma-buf of at least `size` bytes (the
    /// kernel rounds up to whole pages; [`DmaBuf::size`] reports what it
    /// gave), close-on-exec, read-write unless `access` is `Read`. The buffer
    /// is named `heap:<name>` for fdinfo.
    ///
    /// # Errors
    /// `InvalidArgument` for zero bytes; `ENOMEM` for more than this
    /// machine's memory (refused before the kernel sees it: some heaps have
    /// no cap and would call the OOM killer) and when the heap cannot
    /// satisfy the size.
    #[doc(alias = "DMA_HEAP_IOCTL_ALLOC")]
    pub fn alloc(&self, size: u64, access: Access) -> Result<DmaBuf> {
        if size == 0 {
            return Err(Error::invalid("DMA_HEAP_IOCTL_ALLOC", None, "cannot allocate zero bytes"));
        }
        check_alloc_size("DMA_HEAP_IOCTL_ALLOC", size)?;
        let mode = if access.writes() { OFlag::O_RDWR } else { OFlag::O_RDONLY };
        let flags = u32::try_from((mode | OFlag::O_CLOEXEC).bits()).unwrap_or(0);
        let fd = sys::alloc(self.fd.as_fd(), size, flags).map_err(|e| {
            if e.errno() == Errno::ENOMEM {
                e.with_detail(format!("the {} heap cannot allocate {size} bytes", self.name))
            } else {
                e
            }
        })?;
        let buf = DmaBuf::from_trusted(fd)?;
        buf.set_default_name(&format!("heap:{}", self.name));
        Ok(buf)
    }
}

impl AsFd for Heap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
