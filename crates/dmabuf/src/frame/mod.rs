//! [`Frame`]: an image in dma-bufs, described the way the whole Linux
//! graphics and media stack describes one (Wayland linux-dmabuf, `GStreamer`'s
//! `DMA_DRM` caps, `PipeWire`, `EGL_EXT_image_dma_buf_import`, KMS
//! framebuffers): a DRM [`Fourcc`], a format [`Modifier`], a size, and one
//! to four planes, each a dma-buf, an offset and a pitch.
//!
//! ## Files
//!
//! | file | what |
//! |---|---|
//! | `modifier.rs` | [`Modifier`], named and printed as `drm_info` does |
//! | `channel.rs` | a [`Frame`] as one [`Channel`](crate::fdpass::Channel) message: [`Frame::send`], [`Frame::recv`], [`Frame::from_message`] |
//! | `vulkan.rs` | (Cargo feature `vulkan`) Vulkan images as frames and back: `Frame::from_vulkan_image`, `Frame::to_vulkan_image` |
//! | `v4l2.rs` | V4L2 pixel formats as DRM fourccs ([`v4l2_to_drm`], [`drm_to_v4l2`]); [`Frame::from_v4l2`] |
//! | `mod.rs` | [`Frame`], [`FramePlane`], [`FrameError`], [`DrmFormat`] (`GStreamer`'s `drm-format` strings) |
//!
//! Reference: <https://docs.kernel.org/gpu/drm-kms.html#drm-format-handling>

mod channel;
mod modifier;
mod v4l2;
#[cfg(feature = "vulkan")]
mod vulkan;

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::str::FromStr;

pub use crate::fourcc::{FormatInfo, Fourcc, BIG_ENDIAN, FORMATS};
pub use modifier::Modifier;
pub use v4l2::{drm_to_v4l2, v4l2_layout, v4l2_to_drm, V4l2Layout};

use crate::dma_buf::DmaBuf;
use crate::error::{Error, Result};

/// The most planes a frame has (`AddFB2` and linux-dmabuf allow four).
pub const MAX_PLANES: usize = 4;

/// One plane of a [`Frame`]: where its rows start in which dma-buf.
#[derive(Debug)]
pub struct FramePlane {
    /// The buffer holding the plane. Several planes may hold duplicates of
    /// one buffer ([`DmaBuf::try_clone`]), each at its own offset.
    pub buf: DmaBuf,
    /// Where the plane's first row starts, in bytes from the buffer's start.
    pub offset: u32,
    /// Bytes from the start of one row to the start of the next (stride).
    pub pitch: u32,
}

impl FramePlane {
    /// A plane of `buf` at `offset`, rows `pitch` bytes apart.
    #[must_use]
    pub fn new(buf: DmaBuf, offset: u32, pitch: u32) -> FramePlane {
        FramePlane { buf, offset, pitch }
    }
}

/// An image in dma-bufs: width, height, [`Fourcc`], [`Modifier`] and its
/// planes, checked when made (see [`Frame::new`]). The frame owns the
/// planes' [`DmaBuf`]s and closes them on drop.
#[derive(Debug)]
pub struct Frame {
    width: u32,
    height: u32,
    fourcc: Fourcc,
    modifier: Modifier,
    planes: Vec<FramePlane>,
}

/// A [`Frame`] that was refused: the reason, and the planes handed back so
/// that no dma-buf the caller gave is lost. `?` turns it into the [`Error`].
#[derive(Debug)]
pub struct FrameError {
    /// Why the frame was refused (`InvalidArgument`, `EINVAL`).
    pub error: Error,
    /// The planes as given, still open.
    pub planes: Vec<FramePlane>,
}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Error {
        e.error
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

const OP: &str = "Frame::new";

impl Frame {
    /// Makes a frame of `planes`, after checking that they can hold a
    /// `width` × `height` image of `fourcc`:
    ///
    /// - width and height are not 0; there are 1 to 4 planes;
    /// - for a format of [`FORMATS`], exactly as many planes as the format
    ///   has. A modifier other than [`Modifier::LINEAR`] may bring more
    ///   (auxiliary planes, such as the compression-control surfaces of
    ///   Intel's `*_CCS` and AMD's DCC layouts); those extra planes are only
    ///   checked to start inside their buffer;
    /// - each plane's pitch is at least a row of the plane
    ///   (`ceil(width / hsub) * cpp`);
    /// - each plane's `offset + pitch * rows` (rows: `ceil(height / vsub)`)
    ///   is within its dma-buf's size (`lseek(SEEK_END)`), computed in
    ///   `u64` so that nothing overflows.
    ///
    /// For a fourcc not in the table only the plane count (1 to 4) and that
    /// each offset lies inside its buffer are checked: the row sizes are
    /// unknown. Tiled layouts are checked as if linear, which is a lower
    /// bound of what they need.
    ///
    /// # Errors
    /// `InvalidArgument` (`EINVAL`) naming the plane, its fd and the
    /// numbers, with the planes handed back in the [`FrameError`].
    pub fn new(
        width: u32,
        height: u32,
        fourcc: Fourcc,
        modifier: Modifier,
        planes: Vec<FramePlane>,
    ) -> std::result::Result<Frame, FrameError> {
        match validate(width, height, fourcc, modifier, &planes) {
            Ok(()) => Ok(Frame { width, height, fourcc, modifier, planes }),
            Err(error) => Err(FrameError { error, planes }),
        }
    }

    /// Pixels per row.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixel format.
    #[must_use]
    pub fn fourcc(&self) -> Fourcc {
        self.fourcc
    }

    /// The layout modifier.
    #[must_use]
    pub fn modifier(&self) -> Modifier {
        self.modifier
    }

    /// The format's row of [`FORMATS`], if it is there.
    #[must_use]
    pub fn format_info(&self) -> Option<&'static FormatInfo> {
        self.fourcc.info()
    }

    /// The planes.
    #[must_use]
    pub fn planes(&self) -> &[FramePlane] {
        &self.planes
    }

    /// The format as `GStreamer`'s `drm-format` field writes it.
    #[must_use]
    pub fn drm_format(&self) -> DrmFormat {
        DrmFormat { fourcc: self.fourcc, modifier: self.modifier }
    }

    /// Gives the planes (and their dma-bufs) back.
    #[must_use]
    pub fn into_planes(self) -> Vec<FramePlane> {
        self.planes
    }

    /// A second frame with the same description and a duplicate
    /// (`F_DUPFD_CLOEXEC`) of each plane's fd.
    ///
    /// # Errors
    /// `EMFILE` when the process is out of fds (the duplicates made so far
    /// are closed).
    pub fn try_clone(&self) -> Result<Frame> {
        let planes = self
            .planes
            .iter()
            .map(|p| Ok(FramePlane { buf: p.buf.try_clone()?, offset: p.offset, pitch: p.pitch }))
            .collect::<Result<Vec<_>>>()?;
        Ok(Frame { planes, ..*self })
    }
}

/// The checks of [`Frame::new`].
fn validate(width: u32, height: u32, fourcc: Fourcc, modifier: Modifier, planes: &[FramePlane]) -> Result<()> {
    let layout: Vec<PlaneLayout> = planes
        .iter()
        .map(|p| PlaneLayout {
            fd: Some(p.buf.as_fd().as_raw_fd()),
            size: p.buf.size(),
            offset: p.offset,
            pitch: p.pitch,
        })
        .collect();
    check_layout(width, height, fourcc, modifier, &layout)
}

/// A plane as [`check_layout`] sees it: the size of its buffer, and the fd
/// that errors name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneLayout {
    /// The fd the error names, if any.
    pub fd: Option<RawFd>,
    /// The size of the plane's dma-buf.
    pub size: u64,
    /// Where the plane starts in it.
    pub offset: u32,
    /// Bytes from one row to the next.
    pub pitch: u32,
}

/// The checks of [`Frame::new`] on plane descriptions alone (for a binding
/// that holds the dma-bufs elsewhere).
///
/// # Errors
/// As [`Frame::new`].
pub fn check_layout(width: u32, height: u32, fourcc: Fourcc, modifier: Modifier, planes: &[PlaneLayout]) -> Result<()> {
    let fd0 = planes.first().and_then(|p| p.fd);
    if width == 0 || height == 0 {
        return Err(Error::invalid(OP, fd0, format!("a {width}x{height} frame has no pixels")));
    }
    let info = fourcc.info();
    let name = fourcc.name();
    let n = planes.len();
    if n == 0 || n > MAX_PLANES {
        return Err(Error::invalid(OP, fd0, format!("{n} planes given; a frame has 1 to {MAX_PLANES}")));
    }
    if let Some(info) = info {
        let want = usize::from(info.planes);
        if n < want || (n > want && modifier.is_linear()) {
            let extra = if n > want { " (only a non-linear modifier may add auxiliary planes)" } else { "" };
            return Err(Error::invalid(
                OP,
                fd0,
                format!("{n} planes given; {name} with modifier {modifier} has {want}{extra}"),
            ));
        }
    }
    for (i, p) in planes.iter().enumerate() {
        let fd = p.fd;
        let size = p.size;
        let offset = u64::from(p.offset);
        let format_plane = info.filter(|f| i < usize::from(f.planes));
        let Some(f) = format_plane else {
            // Unknown format or auxiliary plane: only the start is known.
            if offset >= size {
                return Err(Error::invalid(
                    OP,
                    fd,
                    format!("plane {i}: offset {offset} is past the end of its {size}-byte dma-buf"),
                ));
            }
            continue;
        };
        let row = f.row_bytes(i, width);
        let rows = u64::from(f.plane_height(i, height));
        let pitch = u64::from(p.pitch);
        if pitch < row {
            return Err(Error::invalid(
                OP,
                fd,
                format!("plane {i}: pitch {pitch} is less than a row of {name} at width {width} ({row} bytes)"),
            ));
        }
        // Both factors fit in 32 bits, so the product fits in 64; the sum
        // adds at most 2^32 more to at most (2^32-1)^2.
        let end = offset + pitch * rows;
        if end > size {
            return Err(Error::invalid(
                OP,
                fd,
                format!(
                    "plane {i}: offset {offset} + pitch {pitch} x {rows} rows = {end} is past the end of its \
                     {size}-byte dma-buf"
                ),
            ));
        }
    }
    Ok(())
}

/// A format as `GStreamer`'s `drm-format` caps field writes it
/// (`video/x-raw(memory:DMABuf), format=DMA_DRM, drm-format=NV12:0x0100000000000002`):
/// the fourcc's four characters, then `:0x` and the modifier in 16 hex
/// digits unless it is [`Modifier::LINEAR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DrmFormat {
    /// The pixel format.
    pub fourcc: Fourcc,
    /// The layout modifier.
    pub modifier: Modifier,
}

impl DrmFormat {
    /// Parses `XR24`, `NV12` or `NV12:0x0100000000000002`: four printable
    /// ASCII characters (spaces allowed, as in `R8  `), then optionally `:`
    /// and the modifier as `0x` and 1 to 16 hex digits. No modifier means
    /// [`Modifier::LINEAR`].
    ///
    /// # Errors
    /// `InvalidArgument` saying what is wrong with the string.
    pub fn parse(s: &str) -> Result<DrmFormat> {
        const OP: &str = "drm-format";
        let (code, modifier) = match s.split_once(':') {
            Some((c, m)) => (c, Some(m)),
            None => (s, None),
        };
        let b = code.as_bytes();
        if b.len() != 4 || !b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
            return Err(Error::invalid(
                OP,
                None,
                format!("{s:?}: the format must be four printable ASCII characters, such as NV12 or XR24"),
            ));
        }
        let fourcc = Fourcc::from_chars([b[0], b[1], b[2], b[3]]);
        let modifier = match modifier {
            None => Modifier::LINEAR,
            Some(m) => {
                let hex = m.strip_prefix("0x").or_else(|| m.strip_prefix("0X"));
                match hex.filter(|h| (1..=16).contains(&h.len()) && h.bytes().all(|c| c.is_ascii_hexdigit())) {
                    Some(h) => Modifier(
                        u64::from_str_radix(h, 16)
                            .map_err(|e| Error::invalid(OP, None, format!("{s:?}: bad modifier {m:?}: {e}")))?,
                    ),
                    None => {
                        return Err(Error::invalid(
                            OP,
                            None,
                            format!("{s:?}: the modifier must be 0x and 1 to 16 hex digits, not {m:?}"),
                        ))
                    }
                }
            }
        };
        Ok(DrmFormat { fourcc, modifier })
    }
}

impl FromStr for DrmFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<DrmFormat> {
        DrmFormat::parse(s)
    }
}

impl fmt::Display for DrmFormat {
    /// `NV12` for a linear layout, else `NV12:0x0100000000000002`. A fourcc
    /// whose characters are not printable prints as hex, which
    /// [`DrmFormat::parse`] refuses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fourcc.0.to_le_bytes() {
            c if c.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => {
                for b in c {
                    write!(f, "{}", char::from(b))?;
                }
            }
            _ => write!(f, "{:#010x}", self.fourcc.0)?,
        }
        if !self.modifier.is_linear() {
            write!(f, ":{:#018x}", self.modifier.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn drm_format_parse_and_print() {
        let f = DrmFormat::parse("NV12").unwrap();
        assert_eq!(f, DrmFormat { fourcc: Fourcc::NV12, modifier: Modifier::LINEAR });
        assert_eq!(f.to_string(), "NV12");
        let f: DrmFormat = "NV12:0x0100000000000002".parse().unwrap();
        assert_eq!(f, DrmFormat { fourcc: Fourcc::NV12, modifier: Modifier(0x0100_0000_0000_0002) });
        assert_eq!(f.to_string(), "NV12:0x0100000000000002");
        let f = DrmFormat::parse("XR24:0x0").unwrap();
        assert_eq!((f.fourcc, f.modifier, f.to_string()), (Fourcc::XRGB8888, Modifier::LINEAR, "XR24".to_owned()));
        let f = DrmFormat::parse("AB24:0X00FFFFFFFFFFFFFF").unwrap();
        assert_eq!(f.modifier, Modifier::INVALID);
        assert_eq!(f.to_string(), "AB24:0x00ffffffffffffff");
        assert_eq!(DrmFormat::parse("R8  ").unwrap().fourcc, Fourcc::R8);
        // Round trip through the table.
        for info in FORMATS {
            for m in [Modifier::LINEAR, Modifier(0x0300_0000_0060_2014)] {
                let f = DrmFormat { fourcc: info.fourcc, modifier: m };
                assert_eq!(DrmFormat::parse(&f.to_string()).unwrap(), f, "{f}");
            }
        }
    }

    #[test]
    fn drm_format_bad_strings() {
        for (bad, says) in [
            ("", "four printable"),
            ("NV1", "four printable"),
            ("NV122", "four printable"),
            ("NV12:", "0x and 1 to 16 hex digits"),
            ("NV12:0x", "0x and 1 to 16 hex digits"),
            ("NV12:0100000000000002", "0x and 1 to 16 hex digits"),
            ("NV12:0x01000000000000020", "0x and 1 to 16 hex digits"),
            ("NV12:0xfg", "0x and 1 to 16 hex digits"),
            ("NV12:0x-1", "0x and 1 to 16 hex digits"),
            ("NV12:0x1:0x2", "0x and 1 to 16 hex digits"),
            ("N\u{e9}12", "four printable"),
            ("NV\t2", "four printable"),
            (":0x0", "four printable"),
        ] {
            let e = DrmFormat::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
            assert!(e.to_string().contains(says), "{bad:?}: {e}");
            assert!(e.to_string().contains(&format!("{bad:?}")), "{bad:?}: {e}");
        }
        assert_eq!(DrmFormat { fourcc: Fourcc(1), modifier: Modifier::LINEAR }.to_string(), "0x00000001");
    }
}
