//! Frames (`dmabuf::frame`): fourcc and modifier names, the format table,
//! `GStreamer` `drm-format` strings, and `Frame`'s checks on plane
//! descriptions (the TypeScript `Frame` holds the `DmaBuf`s itself).

use std::os::fd::AsRawFd;

use dmabuf::frame::{self as core, DrmFormat, Fourcc, Modifier, PlaneLayout};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::num;
use crate::errors::{os, range, store, value};
use crate::table::{self, Buf, Obj};

/// A frame made in Rust (received over a Channel, or from a Vulkan image)
/// with each plane's dma-buf stored, for TypeScript to wrap as a `Frame`.
#[napi(object)]
pub struct StoredFrame {
    pub width: u32,
    pub height: u32,
    /// The DRM fourcc code.
    pub fourcc: u32,
    /// The DRM format modifier.
    pub modifier: BigInt,
    /// Per plane: the stored `DmaBuf`'s handle, its fd number and size.
    pub handles: Vec<f64>,
    pub fds: Vec<i32>,
    pub sizes: Vec<f64>,
    pub offsets: Vec<u32>,
    pub pitches: Vec<u32>,
}

/// Stores each plane's dma-buf of `frame`; on a failure the ones already
/// stored are closed again, so nothing is left behind.
pub(crate) fn store_frame(env: &Env, method: &str, frame: dmabuf::Frame) -> Result<StoredFrame> {
    let mut r = StoredFrame {
        width: frame.width(),
        height: frame.height(),
        fourcc: frame.fourcc().raw(),
        modifier: BigInt::from(frame.modifier().raw()),
        handles: Vec::new(),
        fds: Vec::new(),
        sizes: Vec::new(),
        offsets: Vec::new(),
        pitches: Vec::new(),
    };
    for p in frame.into_planes() {
        let (fd, size) = (p.buf.as_raw_fd(), num(p.buf.size()));
        match store(env, method, Obj::Buf(Buf::new(p.buf))) {
            Ok(h) => {
                r.handles.push(h);
                r.fds.push(fd);
                r.sizes.push(size);
                r.offsets.push(p.offset);
                r.pitches.push(p.pitch);
            }
            Err(e) => {
                for &h in &r.handles {
                    drop(table::remove(h));
                }
                return Err(e);
            }
        }
    }
    Ok(r)
}

/// One row of the format table.
#[napi(object)]
pub struct FrameFormatInfo {
    pub fourcc: u32,
    pub name: String,
    pub planes: u32,
    pub cpp: Vec<u32>,
    pub hsub: u32,
    pub vsub: u32,
    pub is_yuv: bool,
}

/// A parsed `drm-format` string.
#[napi(object)]
pub struct DrmFormatValue {
    pub fourcc: u32,
    pub modifier: BigInt,
}

pub(crate) fn modifier(env: &Env, method: &str, m: &BigInt) -> Result<Modifier> {
    let (signed, v, lossless) = m.get_u64();
    if signed || !lossless {
        return Err(range(env, method, "a modifier must be a bigint from 0n to 2n ** 64n - 1n"));
    }
    Ok(Modifier(v))
}

/// `Fourcc::from_name`: a table name (`XRGB8888`) or 1 to 4 code characters.
#[napi(catch_unwind)]
pub fn fourcc_from_name(name: String) -> Option<u32> {
    Fourcc::from_name(&name).map(Fourcc::raw)
}

/// `Fourcc::name` (`XRGB8888`) and `Display` (`XR24`).
#[napi(catch_unwind)]
pub fn fourcc_names(code: u32) -> Vec<String> {
    let f = Fourcc(code);
    vec![f.name(), f.to_string()]
}

/// The format table (`dmabuf::frame::FORMATS`).
#[napi(catch_unwind)]
pub fn frame_formats() -> Vec<FrameFormatInfo> {
    core::FORMATS
        .iter()
        .map(|f| FrameFormatInfo {
            fourcc: f.fourcc.raw(),
            name: f.name.to_owned(),
            planes: u32::from(f.planes),
            cpp: f.cpp[..usize::from(f.planes)].iter().map(|&c| u32::from(c)).collect(),
            hsub: u32::from(f.hsub),
            vsub: u32::from(f.vsub),
            is_yuv: f.is_yuv,
        })
        .collect()
}

/// `Modifier`'s `Display`, as `drm_info` prints it.
#[napi(catch_unwind)]
pub fn modifier_name(env: &Env, m: BigInt) -> Result<String> {
    Ok(modifier(env, "drmModifierName", &m)?.to_string())
}

/// `DrmFormat::parse`.
#[napi(catch_unwind)]
pub fn drm_format_parse(env: &Env, s: String) -> Result<DrmFormatValue> {
    let f = DrmFormat::parse(&s).map_err(|e| os(env, "parseDrmFormat", &e))?;
    Ok(DrmFormatValue { fourcc: f.fourcc.raw(), modifier: BigInt::from(f.modifier.raw()) })
}

/// `DrmFormat`'s `Display`.
#[napi(catch_unwind)]
pub fn drm_format_string(env: &Env, fourcc: u32, m: BigInt) -> Result<String> {
    let modifier = modifier(env, "drmFormatString", &m)?;
    Ok(DrmFormat { fourcc: Fourcc(fourcc), modifier }.to_string())
}

/// `check_layout`: `Frame::new`'s checks on the planes' fds (named in the
/// error), dma-buf sizes, offsets and pitches.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)] // Reason: one flat call from TypeScript.
pub fn frame_check(
    env: &Env,
    width: u32,
    height: u32,
    fourcc: u32,
    m: BigInt,
    fds: Vec<i32>,
    sizes: Vec<f64>,
    offsets: Vec<u32>,
    pitches: Vec<u32>,
) -> Result<()> {
    const METHOD: &str = "new Frame";
    let modifier = modifier(env, METHOD, &m)?;
    let n = fds.len();
    if sizes.len() != n || offsets.len() != n || pitches.len() != n {
        return Err(value(env, METHOD, "the plane arrays differ in length"));
    }
    let mut planes = Vec::with_capacity(n);
    for i in 0..n {
        let size = sizes[i];
        if !(0.0..=9_007_199_254_740_991.0).contains(&size) || size.fract() != 0.0 {
            return Err(range(env, METHOD, "a dma-buf size must be a safe integer"));
        }
        // Reason: checked above to be a whole number below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let size = size as u64;
        planes.push(PlaneLayout { fd: Some(fds[i]), size, offset: offsets[i], pitch: pitches[i] });
    }
    core::check_layout(width, height, Fourcc(fourcc), modifier, &planes).map_err(|e| os(env, METHOD, &e))
}

/// Where the planes of a V4L2 buffer lie (`v4l2_layout`), per DRM plane.
#[napi(object, js_name = "FrameV4l2Layout")]
pub struct FrameV4l2Layout {
    pub fourcc: u32,
    /// The V4L2 memory plane (exported dma-buf) of each plane.
    pub mem_planes: Vec<u32>,
    pub offsets: Vec<u32>,
    pub pitches: Vec<u32>,
}

/// `v4l2_layout`: Frame.fromV4l2's layout, from the format's pixel format,
/// size and bytesperline per memory plane and the buffer's data offsets.
#[napi(catch_unwind, js_name = "frameV4l2Layout")]
#[allow(clippy::needless_pass_by_value)] // Reason: napi-rs hands the arguments over by value.
pub fn frame_v4l2_layout(
    env: &Env,
    pixelformat: String,
    width: u32,
    height: u32,
    bytesperline: Vec<u32>,
    data_offsets: Vec<u32>,
) -> Result<FrameV4l2Layout> {
    const METHOD: &str = "Frame.fromV4l2";
    let pixelformat = dmabuf::v4l2::fourcc(&pixelformat).map_err(|e| os(env, METHOD, &e))?;
    let format = dmabuf::v4l2::Format {
        width,
        height,
        pixelformat,
        field: 1,
        colorspace: 0,
        planes: bytesperline.iter().map(|&b| dmabuf::v4l2::PlaneFormat { bytesperline: b, sizeimage: 0 }).collect(),
    };
    let l = core::v4l2_layout(&format, &data_offsets).map_err(|e| os(env, METHOD, &e))?;
    Ok(FrameV4l2Layout {
        fourcc: l.fourcc.raw(),
        // At most 8 memory planes (VIDEO_MAX_PLANES): the index fits.
        mem_planes: l.planes.iter().map(|p| u32::try_from(p.0).unwrap_or(u32::MAX)).collect(),
        offsets: l.planes.iter().map(|p| p.1).collect(),
        pitches: l.planes.iter().map(|p| p.2).collect(),
    })
}

/// `Frame::header_of`: the binary header Channel.sendFrame sends (the Rust
/// `Frame::send`'s bytes), from a frame's numbers.
#[napi(catch_unwind)]
#[allow(clippy::needless_pass_by_value)] // Reason: napi-rs hands the arguments over by value.
pub fn frame_header(
    env: &Env,
    width: u32,
    height: u32,
    fourcc: u32,
    m: BigInt,
    offsets: Vec<u32>,
    pitches: Vec<u32>,
) -> Result<Buffer> {
    const METHOD: &str = "Channel.sendFrame";
    let modifier = modifier(env, METHOD, &m)?;
    if offsets.len() != pitches.len() {
        return Err(value(env, METHOD, "the plane arrays differ in length"));
    }
    let planes: Vec<(u32, u32)> = offsets.into_iter().zip(pitches).collect();
    let h =
        dmabuf::Frame::header_of(width, height, Fourcc(fourcc), modifier, &planes).map_err(|e| os(env, METHOD, &e))?;
    Ok(h.into())
}
