//! Safe Linux DMA-BUF from Rust.
//!
//! A dma-buf is a file descriptor for memory that devices and processes share
//! without copying. This crate wraps the kernel's interfaces with owned fds
//! ([`std::os::fd::OwnedFd`]) and errors that carry the errno, the ioctl and
//! the fd:
//!
//! - [`DmaBuf`]: CPU access ([`DmaBuf::begin_cpu_access`],
//!   `DMA_BUF_IOCTL_SYNC`), mapping ([`DmaBuf::map`]), naming, introspection,
//!   and implicit fences in and out as [`SyncFile`]s
//!   ([`DmaBuf::export_sync_file`], [`DmaBuf::import_sync_file`], and the
//!   batch forms [`export_sync_files`] / [`import_sync_file_all`]).
//! - [`SyncFile`]: info, merge, wait.
//! - Sources: [`heap::Heap`] (dma-heaps), [`udmabuf::Udmabuf`] (memfd pages),
//!   [`drm::DrmDevice`] (GEM objects through PRIME, with counted handles),
//!   [`v4l2::V4l2Device`] (V4L2 buffers exported with `VIDIOC_EXPBUF`, and
//!   [`v4l2::DmaBufQueue`] to import dma-bufs into a V4L2 queue).
//! - [`kms::Card`]: KMS, showing dma-bufs on a display: connectors,
//!   CRTCs and planes with their formats and modifiers, dma-bufs imported as
//!   framebuffers, atomic commits with in- and out-fences as [`SyncFile`]s,
//!   page-flip events, DRM master.
//! - [`dvb::Demux`]: a DVB demux's buffers exported as dma-bufs
//!   (`DMX_EXPBUF`, kernels with `CONFIG_DVB_MMAP`), with [`dvb::Frontend`]
//!   to tune.
//! - [`Frame`]: an image in dma-bufs as the graphics and media stack
//!   describes one, a DRM [`Fourcc`], a [`Modifier`] and up to four planes
//!   (dma-buf, offset, pitch), checked when made; [`DrmFormat`] for
//!   `GStreamer`'s `drm-format` strings.
//! - [`capabilities`]: what this system offers.
//! - `vulkan` (Cargo feature `vulkan`): Vulkan buffers and images exported
//!   as dma-bufs and imported from them, semaphores and fences as
//!   [`SyncFile`]s, on `ash` with the loader opened at run time.
//!
//! ```no_run
//! use dmabuf::{Access, udmabuf::Udmabuf};
//!
//! # fn main() -> Result<(), dmabuf::Error> {
//! let buf = Udmabuf::open()?.alloc(4096)?;
//! let map = buf.map(Access::ReadWrite)?;
//! {
//!     let _cpu = buf.begin_cpu_access(Access::Write)?; // DMA_BUF_IOCTL_SYNC start
//!     map.write(0, b"hello")?;
//! } // DMA_BUF_IOCTL_SYNC end
//! let fence = buf.export_sync_file(Access::Write)?;
//! assert!(fence.wait(Some(std::time::Duration::from_millis(100)))?);
//! # Ok(()) }
//! ```
//!
//! Linux only. Kernel documentation: <https://docs.kernel.org/driver-api/dma-buf.html>
//! ## Layout
//!
//! Dependencies run one way, bottom to top; no source module imports a
//! sibling:
//!
//! | layer | modules | imports |
//! |---|---|---|
//! | bottom | `sys` (private: one file per uapi header), [`error`], `fd` and `guard` (private: the memory guard), [`fourcc`] (DRM format codes and their plane layouts) | `error` only |
//! | fences | [`sync_file`] | bottom |
//! | buffers | [`dma_buf`] | fences, bottom |
//! | sources | [`heap`], [`udmabuf`], [`drm`], [`v4l2`], [`dvb`]; `vulkan` (Cargo feature `vulkan`) | buffers, bottom; `vulkan` also fences, and `ash` instead of `sys` |
//! | top | `caps` ([`capabilities`]) | the sources, buffers, bottom |
//!
//! [`kms`] sits one step above [`drm`], the one source it imports: a KMS
//! card is a [`drm::DrmDevice`], so framebuffers share its GEM handle table.
//! It names formats with [`fourcc::Fourcc`], as `frame` does.
//!
//! Also at the top, beside `caps`: [`fdpass`] (dma-bufs, `sync_file`s and
//! other fds between processes over Unix sockets, and `pidfd_getfd`; its
//! system calls in `sys/socket.rs` and `sys/pidfd.rs`) and [`inspect`]
//! (every dma-buf on the system from `/proc`). `fdpass` imports no source;
//! `inspect` imports `udmabuf` and `heap` only to make a one-page buffer
//! whose device tells real dma-buf mappings from files named like them.
//! [`frame`] sits there too: it imports `dma_buf`, `v4l2`'s buffer and
//! format descriptions (for `Frame::from_v4l2`), `fdpass`'s `Channel`
//! (a frame as one message) and, with the `vulkan` feature, `vulkan`'s
//! images (`Frame::from_vulkan_image`, `Frame::to_vulkan_image`); `vulkan`
//! knows nothing of frames, only DRM fourccs from the bottom layer.
//!
//! The largest modules are folders split by role, each listing its
//! files in its module doc: `v4l2/` (device, format, buffer, queue,
//! controls, as v4l2r), `vulkan/` (device, adapter, memory, image, sync,
//! command, conv, as wgpu-hal's Vulkan backend), `fdpass/` (socket,
//! message, channel, recv, listener, process) and `frame/` (modifier,
//! v4l2, channel). Their public items are
//! re-exported from the folder's `mod.rs`, so paths such as
//! `dmabuf::v4l2::V4l2Device` name no file.
//!
//! Every ioctl is declared once, in `src/sys/<header>.rs` named after its
//! uapi header (`DMA_BUF_IOCTL_SYNC` in `sys/dma_buf.rs`,
//! `DMA_HEAP_IOCTL_ALLOC` in `sys/dma_heap.rs`, `UDMABUF_CREATE` in
//! `sys/udmabuf.rs`, `SYNC_IOC_MERGE` in `sys/sync_file.rs`, DRM's in
//! `sys/drm.rs`, `sys/drm_mode.rs` (mode setting) and `sys/vgem.rs`,
//! V4L2's in `sys/videodev2.rs`, DVB's in `sys/dmx.rs` and
//! `sys/frontend.rs`); the public method that calls it
//! carries the ioctl's name as a doc alias.
//!
//! ## Who owns an fd
//!
//! - *Adopt* an [`OwnedFd`](std::os::fd::OwnedFd): `DmaBuf::try_from(fd)`
//!   or [`DmaBuf::from_owned`] (likewise [`SyncFile`]). The object closes it;
//!   when the fd is refused, [`FromFdError`] hands it back.
//! - *Duplicate* an fd that stays yours: [`DmaBuf::dup_from`] (borrowed fd)
//!   or [`DmaBuf::dup_from_raw`] (a bare number from C, JavaScript or a
//!   parent process). JavaScript's `DmaBuf.fromFd(fd)` always duplicates.
//! - Every fd the crate creates is close-on-exec and owned from the line the
//!   kernel returns it.
#![cfg(target_os = "linux")]

mod caps;
pub mod dma_buf;
pub mod drm;
pub mod dvb;
pub mod error;
mod fd;
pub mod fdpass;
pub mod fourcc;
pub mod frame;
mod guard;
pub mod heap;
pub mod inspect;
pub mod kms;
pub mod memfd;
pub mod sync_file;
mod sys;
pub mod udmabuf;
pub mod unixfd;
#[cfg(feature = "vulkan")]
pub mod vulkan;
#[cfg(feature = "vulkan")]
pub use ash;
pub mod v4l2;

pub use caps::{capabilities, Capabilities, DrmNode, IoctlSupport};
pub use dma_buf::{
    export_sync_files, import_sync_file_all, Access, CpuAccess, DmaBuf, DmaBufInfo, Mapping, Placeholder,
};
pub use error::{Errno, Error, ErrorKind, FromFdError, Result};
pub use frame::{DrmFormat, Fourcc, Frame, FramePlane, Modifier};
pub use sync_file::{FenceInfo, FenceStatus, SyncFile, SyncFileInfo};

#[doc(hidden)]
pub use sys::request_codes as __request_codes;
#[doc(hidden)]
pub use sys::struct_sizes as __struct_sizes;

/// The crate README's examples, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadme;

/// The project README's Rust examples (only in a checkout: the packaged
/// crate has no project README, and doctests are not part of its build).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ProjectReadme;

/// `fcntl(F_DUPFD_CLOEXEC)` of an fd number the caller owns and keeps: a
/// new, owned, close-on-exec fd for the same open file. For fds that arrive
/// as bare numbers (from C, JavaScript or a parent process).
///
/// # Errors
/// `EBADF` when the number is not an open fd; `EMFILE`.
pub fn dup_raw_fd(fd: std::os::fd::RawFd) -> Result<std::os::fd::OwnedFd> {
    fd::dup_raw(fd)
}

/// The system's page size, the granularity of map offsets and udmabuf ranges.
#[must_use]
pub fn page_size() -> usize {
    fd::page_size()
}
