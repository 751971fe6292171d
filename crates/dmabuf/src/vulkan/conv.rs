//! Conversions and errors: handle types, `VkResult` to errno and error kind,
//! Vulkan formats from DRM fourccs, plane geometry, names from C arrays.

use std::ffi::CStr;
use std::fmt;

use ash::vk;
use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::fourcc::Fourcc;

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
        vk::Result::ERROR_INVALID_EXTERNAL_HANDLE | vk::Result::ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT => {
            (ErrorKind::InvalidArgument, Errno::EINVAL)
        }
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

/// The DRM fourccs this module maps to Vulkan formats, each with its
/// format. On a little-endian machine DRM names bytes from the top of a
/// 32-bit word down and Vulkan from the first byte in memory up, so `AR24`
/// (`[31:0] A:R:G:B`, bytes B, G, R, A) is `B8G8R8A8_UNORM`. The first
/// fourcc of a format is the one [`fourcc_from_format`] gives back (the
/// alpha variant where two share a format: Vulkan keeps the fourth byte).
const FORMAT_TABLE: [(Fourcc, vk::Format); 8] = [
    (Fourcc::ARGB8888, vk::Format::B8G8R8A8_UNORM),
    (Fourcc::XRGB8888, vk::Format::B8G8R8A8_UNORM),
    (Fourcc::ABGR8888, vk::Format::R8G8B8A8_UNORM),
    (Fourcc::XBGR8888, vk::Format::R8G8B8A8_UNORM),
    (Fourcc::R8, vk::Format::R8_UNORM),
    (Fourcc::GR88, vk::Format::R8G8_UNORM),
    (Fourcc::RGB565, vk::Format::R5G6B5_UNORM_PACK16),
    (Fourcc::NV12, vk::Format::G8_B8R8_2PLANE_420_UNORM),
];

/// The Vulkan format of a DRM fourcc, for the formats this module knows
/// (`AR24`/`XR24` → `B8G8R8A8_UNORM`, `AB24`/`XB24` → `R8G8B8A8_UNORM`,
/// `R8`, `GR88` → `R8G8_UNORM`, `RG16` → `R5G6B5_UNORM_PACK16`, `NV12` →
/// `G8_B8R8_2PLANE_420_UNORM`).
#[must_use]
pub fn vk_format(fourcc: Fourcc) -> Option<vk::Format> {
    FORMAT_TABLE.iter().find(|(f, _)| *f == fourcc).map(|&(_, v)| v)
}

/// The DRM fourcc of a Vulkan format of [`vk_format`]'s table; where two
/// fourccs share a format, the one with alpha (`B8G8R8A8_UNORM` is `AR24`).
#[must_use]
pub fn fourcc_from_format(format: vk::Format) -> Option<Fourcc> {
    FORMAT_TABLE.iter().find(|(_, v)| *v == format).map(|&(f, _)| f)
}

/// The Vulkan format of a DRM fourcc written as its characters (`"AR24"`;
/// `"R8"` may leave out the trailing spaces), as [`vk_format`].
#[must_use]
pub fn format_from_fourcc(fourcc: &str) -> Option<vk::Format> {
    let b = fourcc.as_bytes();
    if b.is_empty() || b.len() > 4 {
        return None;
    }
    let mut c = [b' '; 4];
    c[..b.len()].copy_from_slice(b);
    vk_format(Fourcc::from_chars(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourcc_table_both_ways() {
        assert_eq!(format_from_fourcc("AR24"), Some(vk::Format::B8G8R8A8_UNORM));
        assert_eq!(format_from_fourcc("R8"), Some(vk::Format::R8_UNORM));
        assert_eq!(format_from_fourcc("R8  "), Some(vk::Format::R8_UNORM));
        assert_eq!(format_from_fourcc("YUYV"), None);
        assert_eq!(format_from_fourcc(""), None);
        assert_eq!(format_from_fourcc("NV12x"), None);
        assert_eq!(vk_format(Fourcc::XBGR8888), Some(vk::Format::R8G8B8A8_UNORM));
        assert_eq!(fourcc_from_format(vk::Format::B8G8R8A8_UNORM), Some(Fourcc::ARGB8888));
        assert_eq!(fourcc_from_format(vk::Format::A2R10G10B10_UNORM_PACK32), None);
        for (f, v) in FORMAT_TABLE {
            assert_eq!(vk_format(f), Some(v), "{f}");
            let back = fourcc_from_format(v).unwrap();
            assert_eq!(vk_format(back), Some(v), "{f}");
            let info = f.info().unwrap();
            for plane in 0..usize::from(info.planes) {
                assert_eq!(bytes_per_pixel(v, plane), Some(u32::from(info.cpp[plane])), "{f} plane {plane}");
            }
        }
    }
}
