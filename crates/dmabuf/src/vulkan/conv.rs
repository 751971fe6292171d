//! Conversions and errors: handle types, `VkResult` to errno and error kind,
//! Vulkan formats from DRM fourccs, plane geometry, names from C arrays.

use std::ffi::CStr;
use std::fmt;

use ash::vk;
use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};

use super::device::{MEMORY_DMA_BUF, MEMORY_FD};

/// An external memory handle type this module can export or import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandleType {
    /// `VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT`: a Linux dma-buf.
    DmaBuf,
    /// `VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT`: an fd only the same
    /// driver (and device) can import; not a dma-buf.
    OpaqueFd,
}

impl HandleType {
    pub(super) fn flag(self) -> vk::ExternalMemoryHandleTypeFlags {
        match self {
            HandleType::DmaBuf => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
            HandleType::OpaqueFd => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
        }
    }

    /// `"dma-buf"` or `"opaque-fd"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleType::DmaBuf => "dma-buf",
            HandleType::OpaqueFd => "opaque-fd",
        }
    }

    /// The extension that provides it.
    pub(super) fn extension(self) -> &'static CStr {
        match self {
            HandleType::DmaBuf => MEMORY_DMA_BUF,
            HandleType::OpaqueFd => MEMORY_FD,
        }
    }

    pub(super) fn all() -> [HandleType; 2] {
        [HandleType::DmaBuf, HandleType::OpaqueFd]
    }
}

impl fmt::Display for HandleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed import: why, and the handle, still open and yours again (the
/// same pattern as [`FromFdError`](crate::FromFdError)).
#[derive(Debug)]
pub struct ImportError<T> {
    /// Why the import failed.
    pub error: Error,
    /// What was given to the import, unconsumed.
    pub handle: T,
}

impl<T> From<ImportError<T>> for Error {
    fn from(e: ImportError<T>) -> Error {
        e.error
    }
}

impl<T> fmt::Display for ImportError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<T: fmt::Debug> std::error::Error for ImportError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A Vulkan result turned into this crate's error: the errno closest in
/// meaning, the Vulkan function as the operation, the `VkResult` named.
pub(super) fn vk_error(op: &'static str, r: vk::Result) -> Error {
    let (kind, errno) = match r {
        vk::Result::ERROR_OUT_OF_HOST_MEMORY | vk::Result::ERROR_OUT_OF_DEVICE_MEMORY => (ErrorKind::Os, Errno::ENOMEM),
        vk::Result::ERROR_INVALID_EXTERNAL_HANDLE => (ErrorKind::InvalidArgument, Errno::EINVAL),
        vk::Result::ERROR_EXTENSION_NOT_PRESENT
        | vk::Result::ERROR_FEATURE_NOT_PRESENT
        | vk::Result::ERROR_FORMAT_NOT_SUPPORTED => (ErrorKind::Unsupported, Errno::EOPNOTSUPP),
        vk::Result::ERROR_INITIALIZATION_FAILED | vk::Result::ERROR_INCOMPATIBLE_DRIVER => {
            (ErrorKind::NotFound, Errno::ENODEV)
        }
        vk::Result::ERROR_TOO_MANY_OBJECTS => (ErrorKind::Os, Errno::EMFILE),
        vk::Result::TIMEOUT => (ErrorKind::Os, Errno::ETIMEDOUT),
        _ => (ErrorKind::Os, Errno::EIO),
    };
    Error::new(kind, errno, op, None, format!("{op} returned VK_{r:?}"))
}

/// `err`, unless this process has run out of fds (a driver that could not
/// make one reports it its own way: `VK_ERROR_TOO_MANY_OBJECTS`, another
/// error, or fd -1): then `EMFILE` (or `ENFILE`, system-wide) naming the
/// same call, which is what the caller can act on.
pub(super) fn fd_error_or(err: Error) -> Error {
    use nix::fcntl::{open, OFlag};
    match open("/", OFlag::O_PATH | OFlag::O_CLOEXEC, nix::sys::stat::Mode::empty()) {
        Err(e @ (Errno::EMFILE | Errno::ENFILE)) => {
            let what = if e == Errno::EMFILE {
                "this process has no fd left (ulimit -n)"
            } else {
                "the system has no file left"
            };
            Error::new(ErrorKind::Os, e, err.op(), None, format!("{what}: {}", err.description()))
        }
        Ok(fd) => {
            drop(fd);
            err
        }
        Err(_) => err,
    }
}

pub(super) fn unsupported(op: &'static str, detail: String) -> Error {
    Error::new(ErrorKind::Unsupported, Errno::EOPNOTSUPP, op, None, detail)
}

pub(super) fn name_of(ext: &CStr) -> &str {
    ext.to_str().unwrap_or("?")
}

pub(super) fn version_string(v: u32) -> String {
    format!("{}.{}.{}", vk::api_version_major(v), vk::api_version_minor(v), vk::api_version_patch(v))
}

pub(super) fn transfer_usage() -> vk::BufferUsageFlags {
    vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST
}

pub(super) fn check_range(op: &'static str, len: u64, offset: u64, size: u64) -> Result<()> {
    match offset.checked_add(size) {
        Some(end) if end <= len && size > 0 => Ok(()),
        _ => Err(Error::invalid(op, None, format!("range {offset}+{size} is outside the {len}-byte buffer"))),
    }
}

pub(super) fn memory_plane_aspect(plane: u32) -> vk::ImageAspectFlags {
    match plane {
        0 => vk::ImageAspectFlags::MEMORY_PLANE_0_EXT,
        1 => vk::ImageAspectFlags::MEMORY_PLANE_1_EXT,
        2 => vk::ImageAspectFlags::MEMORY_PLANE_2_EXT,
        _ => vk::ImageAspectFlags::MEMORY_PLANE_3_EXT,
    }
}

/// Bytes per pixel of plane `plane` of the formats this module knows.
pub(super) fn bytes_per_pixel(format: vk::Format, plane: usize) -> Option<u32> {
    match (format, plane) {
        (vk::Format::R8_UNORM | vk::Format::G8_B8R8_2PLANE_420_UNORM, 0) => Some(1),
        (vk::Format::R8G8_UNORM | vk::Format::R5G6B5_UNORM_PACK16, 0) | (vk::Format::G8_B8R8_2PLANE_420_UNORM, 1) => {
            Some(2)
        }
        (vk::Format::R8G8B8A8_UNORM | vk::Format::B8G8R8A8_UNORM | vk::Format::A2R10G10B10_UNORM_PACK32, 0) => Some(4),
        _ => None,
    }
}

pub(super) fn plane_height(format: vk::Format, plane: usize, height: u32) -> u32 {
    if format == vk::Format::G8_B8R8_2PLANE_420_UNORM && plane == 1 {
        height.div_ceil(2)
    } else {
        height
    }
}

/// The Vulkan format of a DRM fourcc (`AR24` is `B8G8R8A8_UNORM` on a
/// little-endian machine), for the formats this module knows.
pub fn format_from_fourcc(fourcc: &str) -> Option<vk::Format> {
    Some(match fourcc {
        "AR24" | "XR24" => vk::Format::B8G8R8A8_UNORM,
        "AB24" | "XB24" => vk::Format::R8G8B8A8_UNORM,
        "R8  " | "R8" => vk::Format::R8_UNORM,
        "GR88" => vk::Format::R8G8_UNORM,
        "RG16" => vk::Format::R5G6B5_UNORM_PACK16,
        "NV12" => vk::Format::G8_B8R8_2PLANE_420_UNORM,
        _ => return None,
    })
}
