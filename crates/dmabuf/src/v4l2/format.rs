//! Formats: buffer types, memory kinds, pixel formats and their planes, fourcc
//! codes, `VIDIOC_ENUM_FMT`, `VIDIOC_G_FMT` / `VIDIOC_S_FMT` /
//! `VIDIOC_TRY_FMT`, and the rectangles of `VIDIOC_G_SELECTION` /
//! `VIDIOC_S_SELECTION`.

use crate::error::{Error, Result};
use crate::sys::videodev2 as sys;

use super::device::{c_string, V4l2Device};

/// The video buffer types this module handles (`enum v4l2_buf_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufType {
    /// `V4L2_BUF_TYPE_VIDEO_CAPTURE`: single-planar capture.
    VideoCapture,
    /// `V4L2_BUF_TYPE_VIDEO_OUTPUT`: single-planar output.
    VideoOutput,
    /// `V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE`: multi-planar capture.
    VideoCaptureMplane,
    /// `V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE`: multi-planar output.
    VideoOutputMplane,
}

impl BufType {
    /// The kernel's number.
    #[must_use]
    pub fn raw(self) -> u32 {
        match self {
            BufType::VideoCapture => sys::V4L2_BUF_TYPE_VIDEO_CAPTURE,
            BufType::VideoOutput => sys::V4L2_BUF_TYPE_VIDEO_OUTPUT,
            BufType::VideoCaptureMplane => sys::V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
            BufType::VideoOutputMplane => sys::V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE,
        }
    }

    /// The type for a kernel number, if it is one of the four.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<BufType> {
        [BufType::VideoCapture, BufType::VideoOutput, BufType::VideoCaptureMplane, BufType::VideoOutputMplane]
            .into_iter()
            .find(|t| t.raw() == raw)
    }

    /// Whether it is a multi-planar type.
    #[must_use]
    pub fn is_multiplanar(self) -> bool {
        matches!(self, BufType::VideoCaptureMplane | BufType::VideoOutputMplane)
    }

    /// Whether it is an output (userspace fills, the device consumes).
    #[must_use]
    pub fn is_output(self) -> bool {
        matches!(self, BufType::VideoOutput | BufType::VideoOutputMplane)
    }

    /// The single-planar type of the same direction (what
    /// `struct v4l2_selection` wants).
    #[must_use]
    pub fn single_planar(self) -> BufType {
        match self {
            BufType::VideoCaptureMplane => BufType::VideoCapture,
            BufType::VideoOutputMplane => BufType::VideoOutput,
            t => t,
        }
    }

    /// `"capture"`, `"output"`, `"capture-mplane"` or `"output-mplane"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BufType::VideoCapture => "capture",
            BufType::VideoOutput => "output",
            BufType::VideoCaptureMplane => "capture-mplane",
            BufType::VideoOutputMplane => "output-mplane",
        }
    }

    /// The inverse of [`BufType::as_str`].
    #[must_use]
    pub fn parse(s: &str) -> Option<BufType> {
        [BufType::VideoCapture, BufType::VideoOutput, BufType::VideoCaptureMplane, BufType::VideoOutputMplane]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// How a queue's buffers are backed (`enum v4l2_memory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    /// `V4L2_MEMORY_MMAP`: the driver allocates; these can be exported.
    Mmap,
    /// `V4L2_MEMORY_DMABUF`: the application brings dma-bufs.
    DmaBuf,
}

impl Memory {
    pub(super) fn raw(self) -> u32 {
        match self {
            Memory::Mmap => sys::V4L2_MEMORY_MMAP,
            Memory::DmaBuf => sys::V4L2_MEMORY_DMABUF,
        }
    }

    pub(super) fn from_raw(raw: u32) -> Memory {
        if raw == sys::V4L2_MEMORY_DMABUF {
            Memory::DmaBuf
        } else {
            Memory::Mmap
        }
    }
}

/// One plane of a [`Format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaneFormat {
    /// Bytes per line (0: the driver chooses).
    pub bytesperline: u32,
    /// Bytes of a whole plane (0: the driver chooses).
    pub sizeimage: u32,
}

/// A video format: `struct v4l2_pix_format` or `v4l2_pix_format_mplane`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Format {
    /// Pixels per line.
    pub width: u32,
    /// Lines.
    pub height: u32,
    /// The pixel format's fourcc ([`fourcc`] makes one from `"YUYV"`).
    pub pixelformat: u32,
    /// `enum v4l2_field` (1: progressive, `V4L2_FIELD_NONE`; 0: any).
    pub field: u32,
    /// `enum v4l2_colorspace` (0: the driver chooses).
    pub colorspace: u32,
    /// One entry per memory plane (single-planar formats have one).
    pub planes: Vec<PlaneFormat>,
}

/// A format a queue supports, as `VIDIOC_ENUM_FMT` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDesc {
    /// The pixel format's fourcc.
    pub pixelformat: u32,
    /// The driver's description (`"FWHT Compressed"`).
    pub description: String,
    /// `V4L2_FMT_FLAG_*` (`0x1`: compressed, `0x8`: the decoder follows
    /// resolution changes in the stream).
    pub flags: u32,
}

impl FormatDesc {
    /// Whether it is a coded (compressed) format: `V4L2_FMT_FLAG_COMPRESSED`.
    #[must_use]
    pub fn is_compressed(&self) -> bool {
        self.flags & sys::V4L2_FMT_FLAG_COMPRESSED != 0
    }
}

/// A rectangle of `VIDIOC_G_SELECTION` / `VIDIOC_S_SELECTION` (`struct v4l2_rect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    /// Left edge, in pixels.
    pub left: i32,
    /// Top edge, in lines.
    pub top: i32,
    /// Width in pixels.
    pub width: u32,
    /// Height in lines.
    pub height: u32,
}

/// `V4L2_SEL_TGT_CROP`: the part of an encoder's OUTPUT frames it encodes.
pub const SEL_TGT_CROP: u32 = 0x0000;
/// `V4L2_SEL_TGT_COMPOSE`: the part of a decoder's CAPTURE buffers that holds
/// the visible picture.
pub const SEL_TGT_COMPOSE: u32 = 0x0100;

/// The fourcc code of a four-character name (`"YUYV"`, `"NV12"`).
///
/// # Errors
/// `InvalidArgument` unless `name` is four ASCII characters.
pub fn fourcc(name: &str) -> Result<u32> {
    let b = name.as_bytes();
    if b.len() != 4 || !name.is_ascii() {
        return Err(Error::invalid("fourcc", None, format!("{name:?} is not four ASCII characters")));
    }
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The four characters of a fourcc code (`0x56595559` is `"YUYV"`).
#[must_use]
pub fn fourcc_name(code: u32) -> String {
    code.to_le_bytes().iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '?' }).collect()
}

impl V4l2Device {
    /// The `struct v4l2_format` of queue `t`, filled from `want`.
    fn format_arg(&self, op: &'static str, t: BufType, want: &Format) -> Result<sys::V4l2Format> {
        self.check_type(op, t)?;
        if want.planes.len() > sys::VIDEO_MAX_PLANES {
            return Err(Error::invalid(op, Some(self.raw()), "more than 8 planes (VIDEO_MAX_PLANES)"));
        }
        let mut arg = sys::V4l2Format::new(t.raw());
        write_format(t, want, &mut arg);
        Ok(arg)
    }

    /// `VIDIOC_G_FMT`: the queue's current format.
    ///
    /// # Errors
    /// `InvalidArgument` for a type this node does not have; the kernel's errors.
    #[doc(alias = "VIDIOC_G_FMT")]
    pub fn format(&self, t: BufType) -> Result<Format> {
        self.check_type("VIDIOC_G_FMT", t)?;
        let mut arg = sys::V4l2Format::new(t.raw());
        sys::g_fmt(self.fd(), &mut arg)?;
        Ok(read_format(t, &arg))
    }

    /// `VIDIOC_S_FMT`: sets the format and returns what the driver chose,
    /// which may differ (drivers adjust sizes, and replace a pixel format
    /// they lack). Compare with the request, or use
    /// [`V4l2Device::set_format_exact`] to make a change an error.
    ///
    /// # Errors
    /// `EBUSY` while buffers are allocated; the kernel's errors.
    #[doc(alias = "VIDIOC_S_FMT")]
    pub fn set_format(&self, t: BufType, format: &Format) -> Result<Format> {
        let mut arg = self.format_arg("VIDIOC_S_FMT", t, format)?;
        sys::s_fmt(self.fd(), &mut arg)?;
        Ok(read_format(t, &arg))
    }

    /// [`V4l2Device::set_format`], failing with `EINVAL` naming what the
    /// driver chose when width, height or pixel format differ from the
    /// request (the driver's choice is then in effect).
    ///
    /// # Errors
    /// As [`V4l2Device::set_format`]; `InvalidArgument` when the driver
    /// changed the request.
    pub fn set_format_exact(&self, t: BufType, format: &Format) -> Result<Format> {
        let got = self.set_format(t, format)?;
        exact(self.raw(), format, got)
    }

    /// `VIDIOC_ENUM_FMT` from index 0 until `EINVAL`: every format queue
    /// `t` supports now (a decoder's CAPTURE list may narrow to the
    /// stream's once it knows it).
    ///
    /// # Errors
    /// `InvalidArgument` for a type this node does not have; the kernel's
    /// errors other than the `EINVAL` that ends the list.
    #[doc(alias = "VIDIOC_ENUM_FMT")]
    pub fn formats(&self, t: BufType) -> Result<Vec<FormatDesc>> {
        self.check_type("VIDIOC_ENUM_FMT", t)?;
        let mut out = Vec::new();
        for index in 0.. {
            let mut arg = sys::V4l2FmtDesc::new(t.raw(), index);
            match sys::enum_fmt(self.fd(), &mut arg) {
                Ok(()) => out.push(FormatDesc {
                    pixelformat: arg.pixelformat,
                    description: c_string(&arg.description),
                    flags: arg.flags,
                }),
                Err(e) if e.errno() == nix::errno::Errno::EINVAL => break,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// `VIDIOC_G_SELECTION`: rectangle `target` ([`SEL_TGT_CROP`],
    /// [`SEL_TGT_COMPOSE`], ...) of queue `t`, such as the visible part of a
    /// decoder's CAPTURE buffers.
    ///
    /// # Errors
    /// `EINVAL` for a target the driver lacks on that queue.
    #[doc(alias = "VIDIOC_G_SELECTION")]
    pub fn selection(&self, t: BufType, target: u32) -> Result<Rect> {
        self.check_type("VIDIOC_G_SELECTION", t)?;
        let mut arg = sys::V4l2Selection { type_: t.single_planar().raw(), target, ..Default::default() };
        sys::g_selection(self.fd(), &mut arg)?;
        Ok(Rect { left: arg.r.left, top: arg.r.top, width: arg.r.width, height: arg.r.height })
    }

    /// `VIDIOC_S_SELECTION`: sets rectangle `target` of queue `t` (an
    /// encoder's crop) and returns what the driver chose.
    ///
    /// # Errors
    /// `EINVAL` for a target the driver lacks on that queue; `EBUSY` while
    /// streaming.
    #[doc(alias = "VIDIOC_S_SELECTION")]
    pub fn set_selection(&self, t: BufType, target: u32, r: Rect) -> Result<Rect> {
        self.check_type("VIDIOC_S_SELECTION", t)?;
        let mut arg = sys::V4l2Selection {
            type_: t.single_planar().raw(),
            target,
            r: sys::V4l2Rect { left: r.left, top: r.top, width: r.width, height: r.height },
            ..Default::default()
        };
        sys::s_selection(self.fd(), &mut arg)?;
        Ok(Rect { left: arg.r.left, top: arg.r.top, width: arg.r.width, height: arg.r.height })
    }

    /// `VIDIOC_TRY_FMT`: what the driver would choose, changing nothing.
    ///
    /// # Errors
    /// The kernel's errors.
    #[doc(alias = "VIDIOC_TRY_FMT")]
    pub fn try_format(&self, t: BufType, format: &Format) -> Result<Format> {
        let mut arg = self.format_arg("VIDIOC_TRY_FMT", t, format)?;
        sys::try_fmt(self.fd(), &mut arg)?;
        Ok(read_format(t, &arg))
    }
}

pub(super) fn write_format(t: BufType, f: &Format, arg: &mut sys::V4l2Format) {
    if t.is_multiplanar() {
        let mut mp = sys::V4l2PixFormatMplane {
            width: f.width,
            height: f.height,
            pixelformat: f.pixelformat,
            field: f.field,
            colorspace: f.colorspace,
            ..Default::default()
        };
        for (dst, src) in mp.plane_fmt.iter_mut().zip(&f.planes) {
            *dst =
                sys::V4l2PlanePixFormat { sizeimage: src.sizeimage, bytesperline: src.bytesperline, reserved: [0; 6] };
        }
        mp.num_planes = u8::try_from(f.planes.len().min(sys::VIDEO_MAX_PLANES)).unwrap_or(8);
        arg.set_pix_mp(mp);
    } else {
        let p = f.planes.first().copied().unwrap_or_default();
        arg.set_pix(sys::V4l2PixFormat {
            width: f.width,
            height: f.height,
            pixelformat: f.pixelformat,
            field: f.field,
            bytesperline: p.bytesperline,
            sizeimage: p.sizeimage,
            colorspace: f.colorspace,
            ..Default::default()
        });
    }
}

pub(super) fn read_format(t: BufType, arg: &sys::V4l2Format) -> Format {
    if t.is_multiplanar() {
        let mp = arg.pix_mp();
        let n = usize::from(mp.num_planes).min(sys::VIDEO_MAX_PLANES);
        let plane_fmt = mp.plane_fmt;
        Format {
            width: mp.width,
            height: mp.height,
            pixelformat: mp.pixelformat,
            field: mp.field,
            colorspace: mp.colorspace,
            planes: plane_fmt[..n]
                .iter()
                .map(|p| PlaneFormat { bytesperline: p.bytesperline, sizeimage: p.sizeimage })
                .collect(),
        }
    } else {
        let p = arg.pix();
        Format {
            width: p.width,
            height: p.height,
            pixelformat: p.pixelformat,
            field: p.field,
            colorspace: p.colorspace,
            planes: vec![PlaneFormat { bytesperline: p.bytesperline, sizeimage: p.sizeimage }],
        }
    }
}

/// `got` when the driver kept `want`'s size and pixel format, else the
/// `InvalidArgument` error of an exact `VIDIOC_S_FMT` naming both.
pub(crate) fn exact(fd: std::os::fd::RawFd, want: &Format, got: Format) -> Result<Format> {
    if got.width == want.width && got.height == want.height && got.pixelformat == want.pixelformat {
        return Ok(got);
    }
    Err(Error::invalid(
        "VIDIOC_S_FMT",
        Some(fd),
        format!(
            "the driver changed the format: asked for {}x{} {}, it chose {}x{} {}",
            want.width,
            want.height,
            fourcc_name(want.pixelformat),
            got.width,
            got.height,
            fourcc_name(got.pixelformat)
        ),
    ))
}
