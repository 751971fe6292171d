//! `<linux/videodev2.h>`: the V4L2 ioctls a dma-buf pipeline needs
//! (capabilities, formats, buffer queues, `VIDIOC_EXPBUF`, streaming,
//! controls and extended controls, input and output selection), and those
//! of memory-to-memory codecs (events, encoder and decoder commands,
//! selection rectangles).
//!
//! `struct v4l2_buffer` holds a `timeval` and pointer-sized unions, and
//! `struct v4l2_plane` such a union, so their sizes change with the
//! architecture: 88 and 64 bytes on 64-bit machines, 80 and 60 on 32-bit
//! ARM; both are asserted below. On 32-bit ARM the `timeval` is the 64-bit
//! `time_t` one, as Debian's armhf headers (`_TIME_BITS=64`) and the kernel's
//! native ioctl have it since Linux 5.6, not the 32-bit one that only the
//! kernel's `VIDIOC_*_TIME32` compatibility numbers still take (and that
//! Rust's `libc::timeval` has on `armv7-unknown-linux-gnueabihf`).
//! `struct v4l2_format`'s union is pointer aligned (it holds
//! `struct v4l2_window`): 208 bytes on 64-bit, 204 on 32-bit.
//! `struct v4l2_ext_controls` ends with a pointer (32 and 24 bytes), while
//! the packed `struct v4l2_ext_control` is 20 bytes on both (its union is
//! 8 bytes wide through `value64`). `struct v4l2_event` is 136 bytes on all
//! three: its union is 8-byte aligned on 32-bit ARM too (EABI aligns
//! `__s64` to 8), and its `struct timespec` is the 64-bit `time_t` one.
//!
//! One function per ioctl, named after it (`g_fmt`, `s_fmt`, `try_fmt`,
//! `querybuf`, `qbuf`, `dqbuf`, ...). `querybuf`, `qbuf` and `dqbuf` are
//! `unsafe`: a multi-planar `v4l2_buffer` carries a pointer to its planes
//! that the kernel writes through, and [`V4l2Buffer::point_at`] is how a
//! caller keeps that promise. The unions are read through accessors
//! (`V4l2Format::pix`, `V4l2Plane::mem_offset`, ...) so that no module
//! above touches a union field.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;

use super::{adopt, ioctls};
use crate::error::{Error, Result};

pub(crate) const V4L2_BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
pub(crate) const V4L2_BUF_TYPE_VIDEO_OUTPUT: u32 = 2;
pub(crate) const V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE: u32 = 9;
pub(crate) const V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE: u32 = 10;

pub(crate) const V4L2_MEMORY_MMAP: u32 = 1;
pub(crate) const V4L2_MEMORY_DMABUF: u32 = 4;

pub(crate) const V4L2_CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
pub(crate) const V4L2_CAP_VIDEO_OUTPUT: u32 = 0x0000_0002;
pub(crate) const V4L2_CAP_VIDEO_CAPTURE_MPLANE: u32 = 0x0000_1000;
pub(crate) const V4L2_CAP_VIDEO_OUTPUT_MPLANE: u32 = 0x0000_2000;
pub(crate) const V4L2_CAP_VIDEO_M2M_MPLANE: u32 = 0x0000_4000;
pub(crate) const V4L2_CAP_VIDEO_M2M: u32 = 0x0000_8000;
pub(crate) const V4L2_CAP_STREAMING: u32 = 0x0400_0000;
pub(crate) const V4L2_CAP_DEVICE_CAPS: u32 = 0x8000_0000;

pub(crate) const V4L2_BUF_CAP_SUPPORTS_MMAP: u32 = 1 << 0;
pub(crate) const V4L2_BUF_CAP_SUPPORTS_DMABUF: u32 = 1 << 2;

pub(crate) const V4L2_CTRL_FLAG_NEXT_CTRL: u32 = 0x8000_0000;
pub(crate) const V4L2_CTRL_TYPE_CTRL_CLASS: u32 = 6;

pub(crate) const V4L2_CTRL_TYPE_INTEGER: u32 = 1;
pub(crate) const V4L2_CTRL_TYPE_BOOLEAN: u32 = 2;
pub(crate) const V4L2_CTRL_TYPE_MENU: u32 = 3;
pub(crate) const V4L2_CTRL_TYPE_BUTTON: u32 = 4;
pub(crate) const V4L2_CTRL_TYPE_INTEGER64: u32 = 5;
pub(crate) const V4L2_CTRL_TYPE_STRING: u32 = 7;
pub(crate) const V4L2_CTRL_TYPE_BITMASK: u32 = 8;
pub(crate) const V4L2_CTRL_TYPE_INTEGER_MENU: u32 = 9;
/// `V4L2_CTRL_WHICH_CUR_VAL`: `which` of `struct v4l2_ext_controls` for
/// current values (controls of any class in one call).
pub(crate) const V4L2_CTRL_WHICH_CUR_VAL: u32 = 0;

pub(crate) const V4L2_FMT_FLAG_COMPRESSED: u32 = 0x0001;

pub(crate) const V4L2_ENC_CMD_START: u32 = 0;
pub(crate) const V4L2_ENC_CMD_STOP: u32 = 1;
pub(crate) const V4L2_DEC_CMD_START: u32 = 0;
pub(crate) const V4L2_DEC_CMD_STOP: u32 = 1;

/// `VIDEO_MAX_PLANES`.
pub(crate) const VIDEO_MAX_PLANES: usize = 8;

/// `struct v4l2_capability`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4l2Capability {
    pub driver: [u8; 16],
    pub card: [u8; 32],
    pub bus_info: [u8; 32],
    pub version: u32,
    pub capabilities: u32,
    pub device_caps: u32,
    pub reserved: [u32; 3],
}

/// `struct v4l2_pix_format` (single-planar).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2PixFormat {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
    pub colorspace: u32,
    pub priv_: u32,
    pub flags: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

/// `struct v4l2_plane_pix_format` (packed in the header; its fields fall on
/// natural boundaries, so `repr(C, packed)` only drops the tail padding).
#[repr(C, packed)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2PlanePixFormat {
    pub sizeimage: u32,
    pub bytesperline: u32,
    pub reserved: [u16; 6],
}

/// `struct v4l2_pix_format_mplane` (packed).
#[repr(C, packed)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2PixFormatMplane {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub colorspace: u32,
    pub plane_fmt: [V4l2PlanePixFormat; VIDEO_MAX_PLANES],
    pub num_planes: u8,
    pub flags: u8,
    pub ycbcr_enc: u8,
    pub quantization: u8,
    pub xfer_func: u8,
    pub reserved: [u8; 7],
}

/// The union `fmt` of `struct v4l2_format`: 200 bytes, pointer aligned.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union V4l2FormatUnion {
    pub pix: V4l2PixFormat,
    pub pix_mp: V4l2PixFormatMplane,
    pub raw_data: [u8; 200],
    // `struct v4l2_window` holds user pointers: they set the alignment.
    _align: [usize; 0],
}

/// `struct v4l2_format`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2Format {
    pub type_: u32,
    pub fmt: V4l2FormatUnion,
}

impl V4l2Format {
    pub(crate) fn new(type_: u32) -> Self {
        V4l2Format { type_, fmt: V4l2FormatUnion { raw_data: [0; 200] } }
    }

    /// The union as `struct v4l2_pix_format` (what a single-planar type uses).
    pub(crate) fn pix(&self) -> V4l2PixFormat {
        // SAFETY: every member of the union is plain integers, valid for any
        // bits; which one the kernel meant is the caller's reading of `type_`.
        unsafe { self.fmt.pix }
    }

    /// The union as `struct v4l2_pix_format_mplane` (multi-planar types).
    pub(crate) fn pix_mp(&self) -> V4l2PixFormatMplane {
        // SAFETY: as in `pix`: plain integers, valid for any bits.
        unsafe { self.fmt.pix_mp }
    }

    pub(crate) fn set_pix(&mut self, pix: V4l2PixFormat) {
        self.fmt.pix = pix;
    }

    pub(crate) fn set_pix_mp(&mut self, pix_mp: V4l2PixFormatMplane) {
        self.fmt.pix_mp = pix_mp;
    }
}

/// `struct v4l2_requestbuffers`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2RequestBuffers {
    pub count: u32,
    pub type_: u32,
    pub memory: u32,
    pub capabilities: u32,
    pub flags: u8,
    pub reserved: [u8; 3],
}

/// `struct v4l2_create_buffers`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2CreateBuffers {
    pub index: u32,
    pub count: u32,
    pub memory: u32,
    pub format: V4l2Format,
    pub capabilities: u32,
    pub flags: u32,
    pub max_num_buffers: u32,
    pub reserved: [u32; 5],
}

impl V4l2CreateBuffers {
    pub(crate) fn new(count: u32, memory: u32, format: V4l2Format) -> Self {
        V4l2CreateBuffers {
            index: 0,
            count,
            memory,
            format,
            capabilities: 0,
            flags: 0,
            max_num_buffers: 0,
            reserved: [0; 5],
        }
    }
}

/// `struct v4l2_timecode`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2Timecode {
    pub type_: u32,
    pub flags: u32,
    pub frames: u8,
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub userbits: [u8; 4],
}

/// `struct timeval` as `v4l2_buffer` holds it: two 64-bit fields everywhere
/// (`long` on 64-bit machines; `__time64_t` and a 64-bit `suseconds` on
/// 32-bit ones with a 64-bit `time_t`, 8-byte aligned).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

impl Timeval {
    /// The time as a [`Duration`] (negative or out-of-range parts read as 0).
    pub(crate) fn to_duration(self) -> Duration {
        let secs = u64::try_from(self.tv_sec).unwrap_or(0);
        let usecs = u32::try_from(self.tv_usec).unwrap_or(0).min(999_999);
        Duration::new(secs, usecs * 1000)
    }

    /// A [`Duration`] as seconds and microseconds (sub-microsecond parts dropped).
    pub(crate) fn from_duration(d: Duration) -> Self {
        Timeval { tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), tv_usec: i64::from(d.subsec_micros()) }
    }
}

/// The union `m` of `struct v4l2_plane`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union V4l2PlaneM {
    pub mem_offset: u32,
    pub userptr: usize,
    pub fd: i32,
}

/// `struct v4l2_plane`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2Plane {
    pub bytesused: u32,
    pub length: u32,
    pub m: V4l2PlaneM,
    pub data_offset: u32,
    pub reserved: [u32; 11],
}

impl Default for V4l2Plane {
    fn default() -> Self {
        V4l2Plane { bytesused: 0, length: 0, m: V4l2PlaneM { userptr: 0 }, data_offset: 0, reserved: [0; 11] }
    }
}

impl V4l2Plane {
    /// `m.mem_offset`: where an MMAP plane is mapped.
    pub(crate) fn mem_offset(&self) -> u32 {
        // SAFETY: every member of the union is plain data, valid for any
        // bits; `mem_offset` is its first 32 bits.
        unsafe { self.m.mem_offset }
    }
}

/// The union `m` of `struct v4l2_buffer`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union V4l2BufferM {
    pub offset: u32,
    pub userptr: usize,
    pub planes: *mut V4l2Plane,
    pub fd: i32,
}

/// `struct v4l2_buffer`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2Buffer {
    pub index: u32,
    pub type_: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: Timeval,
    pub timecode: V4l2Timecode,
    pub sequence: u32,
    pub memory: u32,
    pub m: V4l2BufferM,
    pub length: u32,
    pub reserved2: u32,
    pub request_fd: i32,
}

impl V4l2Buffer {
    pub(crate) fn new(type_: u32, memory: u32, index: u32) -> Self {
        V4l2Buffer {
            index,
            type_,
            bytesused: 0,
            flags: 0,
            field: 0,
            timestamp: Timeval::default(),
            timecode: V4l2Timecode::default(),
            sequence: 0,
            memory,
            m: V4l2BufferM { userptr: 0 },
            length: 0,
            reserved2: 0,
            request_fd: 0,
        }
    }

    /// `m.offset`: where a single-planar MMAP buffer is mapped.
    pub(crate) fn offset(&self) -> u32 {
        // SAFETY: every member of the union is plain data, valid for any
        // bits; `offset` is its first 32 bits.
        unsafe { self.m.offset }
    }

    /// Points a multi-planar buffer at `planes` (`m.planes`) and sets
    /// `length` to the planes the kernel may use (all of them when 0, never
    /// more than the array holds): what [`querybuf`], [`qbuf`] and [`dqbuf`]
    /// require. `planes` must then outlive the call.
    pub(crate) fn point_at(&mut self, planes: &mut [V4l2Plane; VIDEO_MAX_PLANES]) {
        const MAX: u32 = 8;
        const _: () = assert!(MAX as usize == VIDEO_MAX_PLANES);
        self.m.planes = planes.as_mut_ptr();
        if self.length == 0 || self.length > MAX {
            self.length = MAX;
        }
    }
}

/// `struct v4l2_exportbuffer`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2ExportBuffer {
    pub type_: u32,
    pub index: u32,
    pub plane: u32,
    pub flags: u32,
    pub fd: i32,
    pub reserved: [u32; 11],
}

/// `struct v4l2_control`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2Control {
    pub id: u32,
    pub value: i32,
}

/// `struct v4l2_query_ext_ctrl`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4l2QueryExtCtrl {
    pub id: u32,
    pub type_: u32,
    pub name: [u8; 32],
    pub minimum: i64,
    pub maximum: i64,
    pub step: u64,
    pub default_value: i64,
    pub flags: u32,
    pub elem_size: u32,
    pub elems: u32,
    pub nr_of_dims: u32,
    pub dims: [u32; 4],
    pub reserved: [u32; 32],
}

impl V4l2QueryExtCtrl {
    pub(crate) fn new(id: u32) -> Self {
        V4l2QueryExtCtrl {
            id,
            type_: 0,
            name: [0; 32],
            minimum: 0,
            maximum: 0,
            step: 0,
            default_value: 0,
            flags: 0,
            elem_size: 0,
            elems: 0,
            nr_of_dims: 0,
            dims: [0; 4],
            reserved: [0; 32],
        }
    }
}

/// `struct v4l2_streamparm` with its union as `struct v4l2_captureparm`
/// (whose layout `v4l2_outputparm` shares: capability, mode, timeperframe).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4l2StreamParm {
    pub type_: u32,
    pub capability: u32,
    pub mode: u32,
    pub numerator: u32,
    pub denominator: u32,
    pub extendedmode: u32,
    pub buffers: u32,
    pub reserved: [u32; 44],
}

impl V4l2StreamParm {
    pub(crate) fn new(type_: u32, numerator: u32, denominator: u32) -> Self {
        V4l2StreamParm {
            type_,
            capability: 0,
            mode: 0,
            numerator,
            denominator,
            extendedmode: 0,
            buffers: 0,
            reserved: [0; 44],
        }
    }
}

/// `struct v4l2_fmtdesc` (`VIDIOC_ENUM_FMT`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4l2FmtDesc {
    pub index: u32,
    pub type_: u32,
    pub flags: u32,
    pub description: [u8; 32],
    pub pixelformat: u32,
    pub mbus_code: u32,
    pub reserved: [u32; 3],
}

impl V4l2FmtDesc {
    pub(crate) fn new(type_: u32, index: u32) -> Self {
        V4l2FmtDesc { index, type_, flags: 0, description: [0; 32], pixelformat: 0, mbus_code: 0, reserved: [0; 3] }
    }
}

/// `struct v4l2_rect`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct V4l2Rect {
    pub left: i32,
    pub top: i32,
    pub width: u32,
    pub height: u32,
}

/// `struct v4l2_selection`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2Selection {
    pub type_: u32,
    pub target: u32,
    pub flags: u32,
    pub r: V4l2Rect,
    pub reserved: [u32; 9],
}

/// The union of `struct v4l2_ext_control`: a 32- or 64-bit value, or a
/// pointer to the payload (`string`, `p_u8`, ..., `ptr`).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub(crate) union V4l2ExtControlValue {
    pub value: i32,
    pub value64: i64,
    pub ptr: *mut u8,
}

/// `struct v4l2_ext_control` (packed in the header: 20 bytes on every
/// architecture, the union being 8 bytes wide there too).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2ExtControl {
    pub id: u32,
    pub size: u32,
    pub reserved2: [u32; 1],
    pub u: V4l2ExtControlValue,
}

impl V4l2ExtControl {
    pub(crate) fn new(id: u32) -> Self {
        V4l2ExtControl { id, size: 0, reserved2: [0], u: V4l2ExtControlValue { value64: 0 } }
    }

    /// `value`: the union's first 32 bits.
    pub(crate) fn value(&self) -> i32 {
        // SAFETY: every member is plain data valid for any bits (the pointer
        // is only read as a number here); `value` is the first 32 bits.
        unsafe { self.u.value }
    }

    /// `value64`.
    pub(crate) fn value64(&self) -> i64 {
        // SAFETY: as in `value`: the union's 8 bytes read as an integer.
        unsafe { self.u.value64 }
    }
}

/// `struct v4l2_ext_controls`: `which`, then a pointer to `count` controls
/// (24 bytes on 32-bit ARM, 32 on 64-bit machines).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2ExtControls {
    pub which: u32,
    pub count: u32,
    pub error_idx: u32,
    pub request_fd: i32,
    pub reserved: [u32; 1],
    pub controls: *mut V4l2ExtControl,
}

/// `struct v4l2_querymenu` (packed: 44 bytes); the union holds a menu
/// item's name or an integer menu's value.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2QueryMenu {
    pub id: u32,
    pub index: u32,
    pub name: [u8; 32],
    pub reserved: u32,
}

impl V4l2QueryMenu {
    /// `value` of an integer menu: the union's first 8 bytes.
    pub(crate) fn value(&self) -> i64 {
        let n = self.name;
        i64::from_ne_bytes([n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]])
    }
}

/// `struct v4l2_encoder_cmd`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2EncoderCmd {
    pub cmd: u32,
    pub flags: u32,
    pub raw: [u32; 8],
}

/// `struct v4l2_decoder_cmd`: the union (`stop.pts`, `start.speed` and
/// `format`, `raw.data`) is 64 bytes, 8-byte aligned by `pts`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2DecoderCmd {
    pub cmd: u32,
    pub flags: u32,
    pub raw: [u64; 8],
}

/// `struct v4l2_event_subscription`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct V4l2EventSubscription {
    pub type_: u32,
    pub id: u32,
    pub flags: u32,
    pub reserved: [u32; 5],
}

/// `struct timespec` as `struct v4l2_event` holds it: two 64-bit fields
/// on 64-bit machines and on 32-bit ones with a 64-bit `time_t` (the
/// kernel's `__kernel_timespec`, which its native `VIDIOC_DQEVENT` fills).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// The union `u` of `struct v4l2_event`: 64 bytes, 8-byte aligned (its
/// `struct v4l2_event_ctrl` holds an `__s64`), on all three architectures.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union V4l2EventUnion {
    pub data: [u8; 64],
    _align: [u64; 0],
}

/// `struct v4l2_event` (136 bytes on 64-bit machines and on 32-bit ARM with
/// a 64-bit `time_t`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct V4l2Event {
    pub type_: u32,
    pub u: V4l2EventUnion,
    pub pending: u32,
    pub sequence: u32,
    pub timestamp: Timespec,
    pub id: u32,
    pub reserved: [u32; 8],
}

impl V4l2Event {
    pub(crate) fn zeroed() -> Self {
        V4l2Event {
            type_: 0,
            u: V4l2EventUnion { data: [0; 64] },
            pending: 0,
            sequence: 0,
            timestamp: Timespec::default(),
            id: 0,
            reserved: [0; 8],
        }
    }

    /// The union's bytes.
    pub(crate) fn data(&self) -> [u8; 64] {
        // SAFETY: the union's only data member is a byte array, valid for any bits.
        unsafe { self.u.data }
    }
}

/// `V4L2_CAP_TIMEPERFRAME`.
pub(crate) const V4L2_CAP_TIMEPERFRAME: u32 = 0x1000;

const _: () = assert!(size_of::<V4l2StreamParm>() == 204);
const _: () = assert!(size_of::<V4l2Capability>() == 104);
const _: () = assert!(size_of::<V4l2PixFormat>() == 48);
const _: () = assert!(size_of::<V4l2PlanePixFormat>() == 20);
const _: () = assert!(size_of::<V4l2PixFormatMplane>() == 192);
const _: () = assert!(size_of::<V4l2RequestBuffers>() == 20);
const _: () = assert!(size_of::<V4l2Timecode>() == 16);
const _: () = assert!(size_of::<V4l2ExportBuffer>() == 64);
const _: () = assert!(size_of::<V4l2Control>() == 8);
const _: () = assert!(size_of::<V4l2QueryExtCtrl>() == 232);
const _: () = assert!(size_of::<V4l2FmtDesc>() == 64);
const _: () = assert!(size_of::<V4l2Selection>() == 64);
const _: () = assert!(size_of::<V4l2ExtControl>() == 20);
const _: () = assert!(size_of::<V4l2QueryMenu>() == 44);
const _: () = assert!(size_of::<V4l2EncoderCmd>() == 40);
const _: () = assert!(size_of::<V4l2DecoderCmd>() == 72);
const _: () = assert!(size_of::<V4l2EventSubscription>() == 32);
const _: () = assert!(size_of::<V4l2Event>() == 136);
const _: () = assert!(std::mem::offset_of!(V4l2Event, pending) == 72);
const _: () = assert!(std::mem::offset_of!(V4l2Event, id) == 96);
// Pointer-size dependent layouts: 64-bit machines, and 32-bit ARM with a
// 64-bit time_t (the sizes Debian's armhf C headers give; the C-header test,
// crates/dmabuf/tests/headers.rs, compares the ioctl numbers that encode
// them in the armv7 VM tier).
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<V4l2Format>() == 208);
    assert!(size_of::<V4l2CreateBuffers>() == 256);
    assert!(size_of::<V4l2Plane>() == 64);
    assert!(size_of::<V4l2Buffer>() == 88);
    assert!(size_of::<V4l2ExtControls>() == 32);
};
#[cfg(target_pointer_width = "32")]
const _: () = {
    assert!(size_of::<V4l2Format>() == 204);
    assert!(size_of::<V4l2CreateBuffers>() == 248);
    assert!(size_of::<V4l2Plane>() == 60);
    assert!(size_of::<V4l2Buffer>() == 80);
    assert!(size_of::<V4l2ExtControls>() == 24);
};
// Field offsets on x86_64, as `offsetof` gives them from the C header.
#[cfg(target_arch = "x86_64")]
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(V4l2Buffer, timestamp) == 24);
    assert!(offset_of!(V4l2Buffer, timecode) == 40);
    assert!(offset_of!(V4l2Buffer, sequence) == 56);
    assert!(offset_of!(V4l2Buffer, memory) == 60);
    assert!(offset_of!(V4l2Buffer, m) == 64);
    assert!(offset_of!(V4l2Buffer, length) == 72);
    assert!(offset_of!(V4l2Buffer, request_fd) == 80);
    assert!(offset_of!(V4l2Plane, m) == 8);
    assert!(offset_of!(V4l2Plane, data_offset) == 16);
    assert!(offset_of!(V4l2CreateBuffers, format) == 16);
    assert!(offset_of!(V4l2CreateBuffers, capabilities) == 224);
    assert!(offset_of!(V4l2Format, fmt) == 8);
    assert!(offset_of!(V4l2PixFormatMplane, num_planes) == 180);
    assert!(offset_of!(V4l2QueryExtCtrl, minimum) == 40);
    assert!(offset_of!(V4l2QueryExtCtrl, flags) == 72);
};
#[cfg(target_arch = "arm")]
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(V4l2Buffer, timestamp) == 24);
    assert!(offset_of!(V4l2Buffer, m) == 64);
    assert!(offset_of!(V4l2Format, fmt) == 4);
};

/// Sizes of the structs whose size no ioctl number encodes (they sit
/// inside another ioctl's argument or behind its pointer), by their C
/// name: the header-check test compares them with `sizeof`.
pub(crate) const STRUCT_SIZES: &[(&str, usize)] = &[
    ("struct v4l2_ext_control", size_of::<V4l2ExtControl>()),
    ("struct v4l2_rect", size_of::<V4l2Rect>()),
    ("struct v4l2_plane", size_of::<V4l2Plane>()),
    ("struct v4l2_pix_format", size_of::<V4l2PixFormat>()),
    ("struct v4l2_pix_format_mplane", size_of::<V4l2PixFormatMplane>()),
    ("struct v4l2_event", size_of::<V4l2Event>()),
    ("struct v4l2_ext_controls", size_of::<V4l2ExtControls>()),
    ("struct v4l2_querymenu", size_of::<V4l2QueryMenu>()),
    ("struct v4l2_decoder_cmd", size_of::<V4l2DecoderCmd>()),
    ("struct v4l2_encoder_cmd", size_of::<V4l2EncoderCmd>()),
    ("struct v4l2_selection", size_of::<V4l2Selection>()),
    ("struct v4l2_fmtdesc", size_of::<V4l2FmtDesc>()),
    ("struct v4l2_event_subscription", size_of::<V4l2EventSubscription>()),
];

const V: u8 = b'V';

ioctls! {
    read VIDIOC_QUERYCAP = raw_querycap(V, 0, V4l2Capability);
    readwrite VIDIOC_ENUM_FMT = raw_enum_fmt(V, 2, V4l2FmtDesc);
    readwrite VIDIOC_G_FMT = raw_g_fmt(V, 4, V4l2Format);
    readwrite VIDIOC_S_FMT = raw_s_fmt(V, 5, V4l2Format);
    readwrite VIDIOC_REQBUFS = raw_reqbufs(V, 8, V4l2RequestBuffers);
    readwrite VIDIOC_QUERYBUF = raw_querybuf(V, 9, V4l2Buffer);
    readwrite VIDIOC_QBUF = raw_qbuf(V, 15, V4l2Buffer);
    readwrite VIDIOC_EXPBUF = raw_expbuf(V, 16, V4l2ExportBuffer);
    readwrite VIDIOC_DQBUF = raw_dqbuf(V, 17, V4l2Buffer);
    write VIDIOC_STREAMON = raw_streamon(V, 18, i32);
    write VIDIOC_STREAMOFF = raw_streamoff(V, 19, i32);
    readwrite VIDIOC_G_PARM = raw_g_parm(V, 21, V4l2StreamParm);
    readwrite VIDIOC_S_PARM = raw_s_parm(V, 22, V4l2StreamParm);
    readwrite VIDIOC_G_CTRL = raw_g_ctrl(V, 27, V4l2Control);
    readwrite VIDIOC_S_CTRL = raw_s_ctrl(V, 28, V4l2Control);
    readwrite VIDIOC_QUERYMENU = raw_querymenu(V, 37, V4l2QueryMenu);
    read VIDIOC_G_INPUT = raw_g_input(V, 38, i32);
    readwrite VIDIOC_S_INPUT = raw_s_input(V, 39, i32);
    read VIDIOC_G_OUTPUT = raw_g_output(V, 46, i32);
    readwrite VIDIOC_S_OUTPUT = raw_s_output(V, 47, i32);
    readwrite VIDIOC_TRY_FMT = raw_try_fmt(V, 64, V4l2Format);
    readwrite VIDIOC_G_EXT_CTRLS = raw_g_ext_ctrls(V, 71, V4l2ExtControls);
    readwrite VIDIOC_S_EXT_CTRLS = raw_s_ext_ctrls(V, 72, V4l2ExtControls);
    readwrite VIDIOC_TRY_EXT_CTRLS = raw_try_ext_ctrls(V, 73, V4l2ExtControls);
    readwrite VIDIOC_ENCODER_CMD = raw_encoder_cmd(V, 77, V4l2EncoderCmd);
    readwrite VIDIOC_TRY_ENCODER_CMD = raw_try_encoder_cmd(V, 78, V4l2EncoderCmd);
    read VIDIOC_DQEVENT = raw_dqevent(V, 89, V4l2Event);
    write VIDIOC_SUBSCRIBE_EVENT = raw_subscribe_event(V, 90, V4l2EventSubscription);
    write VIDIOC_UNSUBSCRIBE_EVENT = raw_unsubscribe_event(V, 91, V4l2EventSubscription);
    readwrite VIDIOC_CREATE_BUFS = raw_create_bufs(V, 92, V4l2CreateBuffers);
    readwrite VIDIOC_G_SELECTION = raw_g_selection(V, 94, V4l2Selection);
    readwrite VIDIOC_S_SELECTION = raw_s_selection(V, 95, V4l2Selection);
    readwrite VIDIOC_DECODER_CMD = raw_decoder_cmd(V, 96, V4l2DecoderCmd);
    readwrite VIDIOC_TRY_DECODER_CMD = raw_try_decoder_cmd(V, 97, V4l2DecoderCmd);
    readwrite VIDIOC_QUERY_EXT_CTRL = raw_query_ext_ctrl(V, 103, V4l2QueryExtCtrl);
}

fn err(op: &'static str, dev: BorrowedFd<'_>, e: Errno) -> Error {
    Error::os(op, Some(dev.as_raw_fd()), e)
}

/// `VIDIOC_QUERYCAP`.
pub(crate) fn querycap(dev: BorrowedFd<'_>) -> Result<V4l2Capability> {
    let mut arg = V4l2Capability {
        driver: [0; 16],
        card: [0; 32],
        bus_info: [0; 32],
        version: 0,
        capabilities: 0,
        device_caps: 0,
        reserved: [0; 3],
    };
    // SAFETY: `arg` is a writable v4l2_capability.
    let r = unsafe { raw_querycap(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| err("VIDIOC_QUERYCAP", dev, e))?;
    Ok(arg)
}

/// `VIDIOC_G_FMT`: the queue's format (`arg.type_` names the queue).
pub(crate) fn g_fmt(dev: BorrowedFd<'_>, arg: &mut V4l2Format) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_format.
    let r = unsafe { raw_g_fmt(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_G_FMT", dev, e))
}

/// `VIDIOC_S_FMT`: sets the format; `arg` comes back as the driver chose.
pub(crate) fn s_fmt(dev: BorrowedFd<'_>, arg: &mut V4l2Format) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_format.
    let r = unsafe { raw_s_fmt(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_S_FMT", dev, e))
}

/// `VIDIOC_TRY_FMT`: `arg` comes back as the driver would choose it.
pub(crate) fn try_fmt(dev: BorrowedFd<'_>, arg: &mut V4l2Format) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_format.
    let r = unsafe { raw_try_fmt(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_TRY_FMT", dev, e))
}

/// `VIDIOC_REQBUFS`.
pub(crate) fn reqbufs(dev: BorrowedFd<'_>, arg: &mut V4l2RequestBuffers) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_requestbuffers.
    let r = unsafe { raw_reqbufs(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_REQBUFS", dev, e))
}

/// `VIDIOC_CREATE_BUFS`.
pub(crate) fn create_bufs(dev: BorrowedFd<'_>, arg: &mut V4l2CreateBuffers) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_create_buffers.
    let r = unsafe { raw_create_bufs(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_CREATE_BUFS", dev, e))
}

/// `VIDIOC_QUERYBUF`: a buffer's state and planes.
///
/// # Safety
/// For a multi-planar buffer type, `arg.m.planes` must point at `arg.length`
/// writable [`V4l2Plane`]s that stay alive for the call (the kernel writes
/// through the pointer); [`V4l2Buffer::point_at`] sets both.
pub(crate) unsafe fn querybuf(dev: BorrowedFd<'_>, arg: &mut V4l2Buffer) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_buffer; its plane pointer is
    // the caller's promise.
    let r = unsafe { raw_querybuf(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_QUERYBUF", dev, e))
}

/// `VIDIOC_QBUF`: hands a buffer to the driver.
///
/// # Safety
/// As [`querybuf`]: a multi-planar `arg` points at `arg.length` live,
/// writable planes.
pub(crate) unsafe fn qbuf(dev: BorrowedFd<'_>, arg: &mut V4l2Buffer) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_buffer; its plane pointer is
    // the caller's promise.
    let r = unsafe { raw_qbuf(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_QBUF", dev, e))
}

/// `VIDIOC_DQBUF`: takes a finished buffer back (`EAGAIN` on a
/// non-blocking node when none is done).
///
/// # Safety
/// As [`querybuf`]: a multi-planar `arg` points at `arg.length` live,
/// writable planes.
pub(crate) unsafe fn dqbuf(dev: BorrowedFd<'_>, arg: &mut V4l2Buffer) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_buffer; its plane pointer is
    // the caller's promise.
    let r = unsafe { raw_dqbuf(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_DQBUF", dev, e))
}

/// `VIDIOC_EXPBUF`: a new dma-buf fd for one plane of one buffer.
pub(crate) fn expbuf(dev: BorrowedFd<'_>, type_: u32, index: u32, plane: u32, flags: u32) -> Result<OwnedFd> {
    let mut arg = V4l2ExportBuffer { type_, index, plane, flags, fd: -1, reserved: [0; 11] };
    // SAFETY: `arg` is a valid, writable v4l2_exportbuffer.
    let r = unsafe { raw_expbuf(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| err("VIDIOC_EXPBUF", dev, e))?;
    // SAFETY: on success the kernel installed a new fd (the caller passes O_CLOEXEC).
    Ok(unsafe { adopt(arg.fd) })
}

/// `VIDIOC_STREAMON` of the queue `type_`.
pub(crate) fn streamon(dev: BorrowedFd<'_>, type_: u32) -> Result<()> {
    let arg = i32::try_from(type_).unwrap_or(i32::MAX);
    // SAFETY: the argument is an int holding the buffer type.
    let r = unsafe { raw_streamon(dev.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| err("VIDIOC_STREAMON", dev, e))
}

/// `VIDIOC_STREAMOFF` of the queue `type_`.
pub(crate) fn streamoff(dev: BorrowedFd<'_>, type_: u32) -> Result<()> {
    let arg = i32::try_from(type_).unwrap_or(i32::MAX);
    // SAFETY: the argument is an int holding the buffer type.
    let r = unsafe { raw_streamoff(dev.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| err("VIDIOC_STREAMOFF", dev, e))
}

/// `VIDIOC_G_CTRL`.
pub(crate) fn g_ctrl(dev: BorrowedFd<'_>, id: u32) -> Result<i32> {
    let mut arg = V4l2Control { id, value: 0 };
    // SAFETY: `arg` is a valid, writable v4l2_control.
    let r = unsafe { raw_g_ctrl(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| err("VIDIOC_G_CTRL", dev, e))?;
    Ok(arg.value)
}

/// `VIDIOC_S_CTRL`: returns the value the driver kept.
pub(crate) fn s_ctrl(dev: BorrowedFd<'_>, id: u32, value: i32) -> Result<i32> {
    let mut arg = V4l2Control { id, value };
    // SAFETY: `arg` is a valid, writable v4l2_control.
    let r = unsafe { raw_s_ctrl(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| err("VIDIOC_S_CTRL", dev, e))?;
    Ok(arg.value)
}

/// `VIDIOC_QUERY_EXT_CTRL`.
pub(crate) fn query_ext_ctrl(dev: BorrowedFd<'_>, arg: &mut V4l2QueryExtCtrl) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_query_ext_ctrl.
    let r = unsafe { raw_query_ext_ctrl(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_QUERY_EXT_CTRL", dev, e))
}

/// `VIDIOC_G_INPUT`: the index of the node's current input.
pub(crate) fn g_input(dev: BorrowedFd<'_>) -> Result<u32> {
    let mut arg: i32 = 0;
    // SAFETY: the argument is a writable int.
    let r = unsafe { raw_g_input(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| err("VIDIOC_G_INPUT", dev, e))?;
    Ok(u32::try_from(arg).unwrap_or(0))
}

/// `VIDIOC_G_OUTPUT`: the index of the node's current output.
pub(crate) fn g_output(dev: BorrowedFd<'_>) -> Result<u32> {
    let mut arg: i32 = 0;
    // SAFETY: the argument is a writable int.
    let r = unsafe { raw_g_output(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| err("VIDIOC_G_OUTPUT", dev, e))?;
    Ok(u32::try_from(arg).unwrap_or(0))
}

/// `VIDIOC_S_INPUT`: selects input `index`.
pub(crate) fn s_input(dev: BorrowedFd<'_>, index: u32) -> Result<()> {
    let mut arg = i32::try_from(index).unwrap_or(i32::MAX);
    // SAFETY: the argument is a writable int.
    let r = unsafe { raw_s_input(dev.as_raw_fd(), &raw mut arg) };
    r.map(drop).map_err(|e| err("VIDIOC_S_INPUT", dev, e))
}

/// `VIDIOC_S_OUTPUT`: selects output `index`.
pub(crate) fn s_output(dev: BorrowedFd<'_>, index: u32) -> Result<()> {
    let mut arg = i32::try_from(index).unwrap_or(i32::MAX);
    // SAFETY: the argument is a writable int.
    let r = unsafe { raw_s_output(dev.as_raw_fd(), &raw mut arg) };
    r.map(drop).map_err(|e| err("VIDIOC_S_OUTPUT", dev, e))
}

/// `VIDIOC_G_PARM`: the queue's streaming parameters (`arg.type_`).
pub(crate) fn g_parm(dev: BorrowedFd<'_>, arg: &mut V4l2StreamParm) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_streamparm.
    let r = unsafe { raw_g_parm(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_G_PARM", dev, e))
}

/// `VIDIOC_S_PARM`: sets them; `arg` comes back as the driver chose.
pub(crate) fn s_parm(dev: BorrowedFd<'_>, arg: &mut V4l2StreamParm) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_streamparm.
    let r = unsafe { raw_s_parm(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_S_PARM", dev, e))
}

/// `VIDIOC_ENUM_FMT`: the format at `arg.index` of queue `arg.type_`
/// (`EINVAL` past the last).
pub(crate) fn enum_fmt(dev: BorrowedFd<'_>, arg: &mut V4l2FmtDesc) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_fmtdesc.
    let r = unsafe { raw_enum_fmt(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_ENUM_FMT", dev, e))
}

/// `VIDIOC_QUERYMENU`: one item of a menu control (`EINVAL` for an index
/// the menu skips or past its end).
pub(crate) fn querymenu(dev: BorrowedFd<'_>, arg: &mut V4l2QueryMenu) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_querymenu.
    let r = unsafe { raw_querymenu(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_QUERYMENU", dev, e))
}

/// Which of the three extended-control ioctls [`ext_ctrls`] calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtCtrlsOp {
    Get,
    Set,
    Try,
}

impl ExtCtrlsOp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ExtCtrlsOp::Get => "VIDIOC_G_EXT_CTRLS",
            ExtCtrlsOp::Set => "VIDIOC_S_EXT_CTRLS",
            ExtCtrlsOp::Try => "VIDIOC_TRY_EXT_CTRLS",
        }
    }
}

/// `VIDIOC_G_EXT_CTRLS`, `VIDIOC_S_EXT_CTRLS` or `VIDIOC_TRY_EXT_CTRLS` of
/// `controls` (current values: `which` is `V4L2_CTRL_WHICH_CUR_VAL`). On
/// failure the error comes with `error_idx`, the control the kernel blamed
/// (`controls.len()` when it blamed none).
///
/// # Safety
/// Each control whose payload is a pointer (a string control) must point
/// at `size` bytes that are writable and stay alive for the call.
pub(crate) unsafe fn ext_ctrls(
    dev: BorrowedFd<'_>,
    op: ExtCtrlsOp,
    controls: &mut [V4l2ExtControl],
) -> std::result::Result<(), (Error, u32)> {
    let count = u32::try_from(controls.len()).unwrap_or(u32::MAX);
    let mut arg = V4l2ExtControls {
        which: V4L2_CTRL_WHICH_CUR_VAL,
        count,
        error_idx: 0,
        request_fd: 0,
        reserved: [0],
        controls: controls.as_mut_ptr(),
    };
    let raw = dev.as_raw_fd();
    let r = match op {
        // SAFETY: `arg` points at `count` live controls; their payload
        // pointers are the caller's promise.
        ExtCtrlsOp::Get => unsafe { raw_g_ext_ctrls(raw, &raw mut arg) },
        // SAFETY: as above.
        ExtCtrlsOp::Set => unsafe { raw_s_ext_ctrls(raw, &raw mut arg) },
        // SAFETY: as above.
        ExtCtrlsOp::Try => unsafe { raw_try_ext_ctrls(raw, &raw mut arg) },
    };
    r.map(drop).map_err(|e| (err(op.name(), dev, e), arg.error_idx))
}

/// `VIDIOC_ENCODER_CMD` (`try_` false) or `VIDIOC_TRY_ENCODER_CMD`.
pub(crate) fn encoder_cmd(dev: BorrowedFd<'_>, cmd: u32, flags: u32, try_: bool) -> Result<()> {
    let mut arg = V4l2EncoderCmd { cmd, flags, raw: [0; 8] };
    let r = if try_ {
        // SAFETY: `arg` is a valid, writable v4l2_encoder_cmd.
        unsafe { raw_try_encoder_cmd(dev.as_raw_fd(), &raw mut arg) }
    } else {
        // SAFETY: as above.
        unsafe { raw_encoder_cmd(dev.as_raw_fd(), &raw mut arg) }
    };
    let op = if try_ { "VIDIOC_TRY_ENCODER_CMD" } else { "VIDIOC_ENCODER_CMD" };
    r.map(drop).map_err(|e| err(op, dev, e))
}

/// `VIDIOC_DECODER_CMD` (`try_` false) or `VIDIOC_TRY_DECODER_CMD`.
pub(crate) fn decoder_cmd(dev: BorrowedFd<'_>, cmd: u32, flags: u32, try_: bool) -> Result<()> {
    let mut arg = V4l2DecoderCmd { cmd, flags, raw: [0; 8] };
    let r = if try_ {
        // SAFETY: `arg` is a valid, writable v4l2_decoder_cmd.
        unsafe { raw_try_decoder_cmd(dev.as_raw_fd(), &raw mut arg) }
    } else {
        // SAFETY: as above.
        unsafe { raw_decoder_cmd(dev.as_raw_fd(), &raw mut arg) }
    };
    let op = if try_ { "VIDIOC_TRY_DECODER_CMD" } else { "VIDIOC_DECODER_CMD" };
    r.map(drop).map_err(|e| err(op, dev, e))
}

/// `VIDIOC_SUBSCRIBE_EVENT`.
pub(crate) fn subscribe_event(dev: BorrowedFd<'_>, type_: u32, id: u32, flags: u32) -> Result<()> {
    let arg = V4l2EventSubscription { type_, id, flags, reserved: [0; 5] };
    // SAFETY: `arg` is a valid v4l2_event_subscription the kernel only reads.
    let r = unsafe { raw_subscribe_event(dev.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| err("VIDIOC_SUBSCRIBE_EVENT", dev, e))
}

/// `VIDIOC_UNSUBSCRIBE_EVENT`.
pub(crate) fn unsubscribe_event(dev: BorrowedFd<'_>, type_: u32, id: u32) -> Result<()> {
    let arg = V4l2EventSubscription { type_, id, flags: 0, reserved: [0; 5] };
    // SAFETY: `arg` is a valid v4l2_event_subscription the kernel only reads.
    let r = unsafe { raw_unsubscribe_event(dev.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| err("VIDIOC_UNSUBSCRIBE_EVENT", dev, e))
}

/// `VIDIOC_DQEVENT`: the oldest pending event (`ENOENT` when none is).
pub(crate) fn dqevent(dev: BorrowedFd<'_>) -> Result<V4l2Event> {
    let mut arg = V4l2Event::zeroed();
    // SAFETY: `arg` is a writable v4l2_event.
    let r = unsafe { raw_dqevent(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| err("VIDIOC_DQEVENT", dev, e))?;
    Ok(arg)
}

/// `VIDIOC_G_SELECTION`.
pub(crate) fn g_selection(dev: BorrowedFd<'_>, arg: &mut V4l2Selection) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_selection.
    let r = unsafe { raw_g_selection(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_G_SELECTION", dev, e))
}

/// `VIDIOC_S_SELECTION`: `arg.r` comes back as the driver chose.
pub(crate) fn s_selection(dev: BorrowedFd<'_>, arg: &mut V4l2Selection) -> Result<()> {
    // SAFETY: `arg` is a valid, writable v4l2_selection.
    let r = unsafe { raw_s_selection(dev.as_raw_fd(), arg) };
    r.map(drop).map_err(|e| err("VIDIOC_S_SELECTION", dev, e))
}
