//! V4L2 pixel formats as DRM fourccs, and [`Frame::from_v4l2`]: a dequeued
//! V4L2 buffer described as a [`Frame`].

use std::os::fd::{AsFd, AsRawFd};

use crate::dma_buf::DmaBuf;
use crate::error::{Error, Result};
use crate::v4l2::{fourcc_name, BufferInfo, Format};

use super::{Fourcc, Frame, FramePlane, Modifier};

const fn code(c: [u8; 4]) -> u32 {
    u32::from_le_bytes(c)
}

/// V4L2 `pixelformat` to DRM fourcc, and whether the V4L2 format keeps
/// each plane in its own memory plane (the `M` formats such as NV12M).
///
/// V4L2 names RGB formats by their bytes in memory, DRM by the bits of a
/// little-endian word, so V4L2 RGB24 (R, G, B in memory) is DRM BGR888 and
/// V4L2 XBGR32 (B, G, R, X in memory) is DRM XRGB8888; each row checked
/// against the comments of `videodev2.h` and `drm_fourcc.h`.
const V4L2_TO_DRM: &[(u32, Fourcc, bool)] = &[
    (code(*b"GREY"), Fourcc::R8, false),
    (code(*b"RGBP"), Fourcc::RGB565, false),   // V4L2_PIX_FMT_RGB565
    (code(*b"RGB3"), Fourcc::BGR888, false),   // V4L2_PIX_FMT_RGB24: R, G, B
    (code(*b"BGR3"), Fourcc::RGB888, false),   // V4L2_PIX_FMT_BGR24: B, G, R
    (code(*b"XR24"), Fourcc::XRGB8888, false), // V4L2_PIX_FMT_XBGR32: B, G, R, X
    (code(*b"AR24"), Fourcc::ARGB8888, false), // V4L2_PIX_FMT_ABGR32: B, G, R, A
    (code(*b"BX24"), Fourcc::BGRX8888, false), // V4L2_PIX_FMT_XRGB32: X, R, G, B
    (code(*b"BA24"), Fourcc::BGRA8888, false), // V4L2_PIX_FMT_ARGB32: A, R, G, B
    (code(*b"XB24"), Fourcc::XBGR8888, false), // V4L2_PIX_FMT_RGBX32: R, G, B, X
    (code(*b"AB24"), Fourcc::ABGR8888, false), // V4L2_PIX_FMT_RGBA32: R, G, B, A
    (code(*b"RX24"), Fourcc::RGBX8888, false), // V4L2_PIX_FMT_BGRX32: X, B, G, R
    (code(*b"RA24"), Fourcc::RGBA8888, false), // V4L2_PIX_FMT_BGRA32: A, B, G, R
    (code(*b"YUYV"), Fourcc::YUYV, false),
    (code(*b"YVYU"), Fourcc::YVYU, false),
    (code(*b"UYVY"), Fourcc::UYVY, false),
    (code(*b"VYUY"), Fourcc::VYUY, false),
    (code(*b"NV12"), Fourcc::NV12, false),
    (code(*b"NV21"), Fourcc::NV21, false),
    (code(*b"NV16"), Fourcc::NV16, false),
    (code(*b"NV61"), Fourcc::NV61, false),
    (code(*b"NV24"), Fourcc::NV24, false),
    (code(*b"NV42"), Fourcc::NV42, false),
    (code(*b"P010"), Fourcc::P010, false),
    (code(*b"YU12"), Fourcc::YUV420, false), // V4L2_PIX_FMT_YUV420
    (code(*b"YV12"), Fourcc::YVU420, false), // V4L2_PIX_FMT_YVU420
    (code(*b"422P"), Fourcc::YUV422, false), // V4L2_PIX_FMT_YUV422P
    (code(*b"NM12"), Fourcc::NV12, true),    // V4L2_PIX_FMT_NV12M
    (code(*b"NM21"), Fourcc::NV21, true),    // V4L2_PIX_FMT_NV21M
    (code(*b"NM16"), Fourcc::NV16, true),    // V4L2_PIX_FMT_NV16M
    (code(*b"NM61"), Fourcc::NV61, true),    // V4L2_PIX_FMT_NV61M
    (code(*b"YM12"), Fourcc::YUV420, true),  // V4L2_PIX_FMT_YUV420M
    (code(*b"YM21"), Fourcc::YVU420, true),  // V4L2_PIX_FMT_YVU420M
    (code(*b"YM16"), Fourcc::YUV422, true),  // V4L2_PIX_FMT_YUV422M
    (code(*b"YM61"), Fourcc::YVU422, true),  // V4L2_PIX_FMT_YVU422M
    (code(*b"YM24"), Fourcc::YUV444, true),  // V4L2_PIX_FMT_YUV444M
    (code(*b"YM42"), Fourcc::YVU444, true),  // V4L2_PIX_FMT_YVU444M
];

/// The DRM fourcc of a V4L2 `pixelformat`, and whether the V4L2 format
/// keeps each plane in its own memory plane (NV12M, YUV420M). `None` for
/// formats outside the mapping (compressed, Bayer, vendor formats).
#[must_use]
pub fn v4l2_to_drm(pixelformat: u32) -> Option<(Fourcc, bool)> {
    V4L2_TO_DRM.iter().find(|(v, _, _)| *v == pixelformat).map(|(_, f, m)| (*f, *m))
}

/// The V4L2 `pixelformat` of a DRM fourcc: the contiguous one
/// (`V4L2_PIX_FMT_NV12`) or, with `multiplanar`, the one with a memory
/// plane per plane (`V4L2_PIX_FMT_NV12M`). `None` when V4L2 has no such
/// format in the mapping (a single-plane format has no `M` form: its
/// contiguous code serves both).
#[must_use]
pub fn drm_to_v4l2(fourcc: Fourcc, multiplanar: bool) -> Option<u32> {
    let single = fourcc.info().is_some_and(|i| i.planes == 1);
    V4L2_TO_DRM.iter().find(|(_, f, m)| *f == fourcc && (*m == multiplanar || (single && !m))).map(|(v, _, _)| *v)
}

const OP: &str = "Frame::from_v4l2";

/// Where each plane of a V4L2 buffer lies, as [`v4l2_layout`] derives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4l2Layout {
    /// The DRM format.
    pub fourcc: Fourcc,
    /// Per DRM plane: the V4L2 memory plane (the dma-buf) it is in, its
    /// offset there and its pitch.
    pub planes: Vec<(usize, u32, u32)>,
}

/// The planes of a V4L2 buffer of `format`, whose memory planes start
/// their payload at `data_offsets` (one per memory plane, from the
/// dequeued buffer; 0 for single-planar queues), as [`Frame::from_v4l2`]
/// lays them out.
///
/// # Errors
/// `InvalidArgument` when the pixel format is not in the mapping, when
/// `data_offsets` and the format disagree on the number of memory planes,
/// or when a derived offset or pitch does not fit in 32 bits.
pub fn v4l2_layout(format: &Format, data_offsets: &[u32]) -> Result<V4l2Layout> {
    let Some((fourcc, _)) = v4l2_to_drm(format.pixelformat) else {
        return Err(Error::invalid(
            OP,
            None,
            format!("V4L2 format {} has no DRM fourcc in the mapping", fourcc_name(format.pixelformat)),
        ));
    };
    let info = fourcc.info().ok_or_else(|| Error::invalid(OP, None, format!("{fourcc} is not in FORMATS")))?;
    let n_fmt = format.planes.len();
    if n_fmt == 0 || n_fmt != data_offsets.len() {
        return Err(Error::invalid(
            OP,
            None,
            format!("the format has {n_fmt} memory planes, the buffer {}", data_offsets.len()),
        ));
    }
    let n_planes = usize::from(info.planes);
    let mut planes = Vec::with_capacity(n_planes);
    if n_fmt == 1 {
        let bpl = u64::from(format.planes[0].bytesperline);
        let cpp0 = u64::from(info.cpp[0]);
        let mut offset = u64::from(data_offsets[0]);
        for i in 0..n_planes {
            let pitch = if i == 0 { bpl } else { bpl * u64::from(info.cpp[i]) / (u64::from(info.hsub) * cpp0) };
            planes.push((0, fit(offset, i, "offset")?, fit(pitch, i, "pitch")?));
            offset += pitch * u64::from(info.plane_height(i, format.height));
        }
    } else if n_fmt == n_planes {
        for (i, p) in format.planes.iter().enumerate() {
            planes.push((i, data_offsets[i], p.bytesperline));
        }
    } else {
        return Err(Error::invalid(
            OP,
            None,
            format!(
                "V4L2 format {} has {n_fmt} memory planes; {} needs 1 or {n_planes}",
                fourcc_name(format.pixelformat),
                info.name
            ),
        ));
    }
    Ok(V4l2Layout { fourcc, planes })
}

impl Frame {
    /// The frame of a dequeued V4L2 buffer: `format` is the queue's format
    /// (`VIDIOC_G_FMT`), `buffer` what `VIDIOC_DQBUF` returned, `bufs` the
    /// buffer's planes exported as dma-bufs (`VIDIOC_EXPBUF`, one per
    /// memory plane, as [`V4l2Device::export_buffer`] gives them). The
    /// dma-bufs are duplicated (`F_DUPFD_CLOEXEC`): they stay the caller's,
    /// to be reused for the next dequeue of the same index.
    ///
    /// - One memory plane (a single-planar queue, or a contiguous format
    ///   on a multi-planar one): every plane is in the one buffer, the
    ///   first at the plane's `data_offset`, each next one right after the
    ///   last (`bytesperline * rows`), with V4L2's rule for the chroma
    ///   pitch: `bytesperline * cpp / (hsub * cpp of plane 0)` (so NV12's
    ///   chroma rows are as wide as its luma rows, YUV420's half).
    /// - One memory plane per plane (NV12M, YUV420M): each plane in its
    ///   own buffer at its `data_offset`, with its own `bytesperline`.
    ///
    /// The modifier is [`Modifier::LINEAR`]: V4L2 formats are linear
    /// unless the fourcc says otherwise, and no tiled fourcc is mapped.
    /// [`v4l2_layout`] gives the same layout without fds.
    ///
    /// # Errors
    /// `InvalidArgument` (naming the caller's fd) when the pixel format is
    /// not in the mapping ([`v4l2_to_drm`]), when `format`, `buffer` and
    /// `bufs` disagree on the number of memory planes, when a pitch or
    /// offset does not fit in 32 bits, or when [`Frame::new`] refuses the
    /// result; `EMFILE`.
    ///
    /// [`V4l2Device::export_buffer`]: crate::v4l2::V4l2Device::export_buffer
    pub fn from_v4l2(format: &Format, buffer: &BufferInfo, bufs: &[DmaBuf]) -> Result<Frame> {
        let fd0 = bufs.first().map(|b| b.as_fd().as_raw_fd());
        let (n_fmt, n_buf, n_dma) = (format.planes.len(), buffer.planes.len(), bufs.len());
        if n_fmt != n_dma {
            return Err(Error::invalid(
                OP,
                fd0,
                format!("the format has {n_fmt} memory planes, the buffer {n_buf}, and {n_dma} dma-bufs were given"),
            ));
        }
        let offsets: Vec<u32> = buffer.planes.iter().map(|p| p.data_offset).collect();
        let layout = v4l2_layout(format, &offsets).map_err(|e| match fd0 {
            Some(fd) => e.with_fd(fd),
            None => e,
        })?;
        let mut planes = Vec::with_capacity(layout.planes.len());
        // The duplicates' numbers, each with the caller's fd it copies: a
        // refusal names the caller's fd, not a duplicate closed by then.
        let mut names = Vec::with_capacity(layout.planes.len());
        for &(mem, offset, pitch) in &layout.planes {
            let buf = bufs[mem].try_clone()?;
            names.push((buf.as_fd().as_raw_fd(), bufs[mem].as_fd().as_raw_fd()));
            planes.push(FramePlane { buf, offset, pitch });
        }
        Frame::new(format.width, format.height, layout.fourcc, Modifier::LINEAR, planes).map_err(|e| {
            let error = e.error;
            match error.fd().and_then(|d| names.iter().find(|(dup, _)| *dup == d)) {
                Some((_, caller)) => error.with_fd(*caller),
                None => error.without_fd(),
            }
        })
    }
}

/// A derived offset or pitch as the `u32` a plane holds.
fn fit(v: u64, plane: usize, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::invalid(OP, None, format!("plane {plane}: {what} {v} does not fit in 32 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v4l2::fourcc;

    #[test]
    fn mapping_both_ways() {
        assert_eq!(v4l2_to_drm(fourcc("RGB3").unwrap()), Some((Fourcc::BGR888, false)));
        assert_eq!(v4l2_to_drm(fourcc("BGR3").unwrap()), Some((Fourcc::RGB888, false)));
        assert_eq!(v4l2_to_drm(fourcc("XR24").unwrap()), Some((Fourcc::XRGB8888, false)));
        assert_eq!(v4l2_to_drm(fourcc("BX24").unwrap()), Some((Fourcc::BGRX8888, false)));
        assert_eq!(v4l2_to_drm(fourcc("NM12").unwrap()), Some((Fourcc::NV12, true)));
        assert_eq!(v4l2_to_drm(fourcc("YU12").unwrap()), Some((Fourcc::YUV420, false)));
        assert_eq!(v4l2_to_drm(fourcc("MJPG").unwrap()), None);
        assert_eq!(drm_to_v4l2(Fourcc::NV12, false), Some(fourcc("NV12").unwrap()));
        assert_eq!(drm_to_v4l2(Fourcc::NV12, true), Some(fourcc("NM12").unwrap()));
        assert_eq!(drm_to_v4l2(Fourcc::YUYV, true), Some(fourcc("YUYV").unwrap()));
        assert_eq!(drm_to_v4l2(Fourcc::YUV444, false), None);
        assert_eq!(drm_to_v4l2(Fourcc::XRGB16161616, false), None);
        for (v, f, m) in V4L2_TO_DRM {
            assert!(f.info().is_some(), "{f:?} is in FORMATS");
            assert_eq!(drm_to_v4l2(*f, *m), Some(*v), "{}", fourcc_name(*v));
            assert!(!m || f.info().unwrap().planes > 1, "{}: an M format has planes to split", fourcc_name(*v));
        }
    }
}
