//! V4L2: device buffers exported as dma-bufs (`VIDIOC_EXPBUF`, Linux 3.8),
//! dma-bufs from any source imported into a queue (`V4L2_MEMORY_DMABUF`),
//! and the small amount of streaming a dma-buf pipeline needs.
//!
//! This is a helper for dma-buf work, not a V4L2 library: it opens a video
//! node, reads and sets its format, requests buffers, exports them, queues,
//! dequeues, streams, and gets or sets a control. Single- and multi-planar
//! queues are both handled; a [`Format`] always lists its planes.
//!
//! - Export: [`V4l2Device::request_buffers`] with [`Memory::Mmap`], then
//!   [`V4l2Device::export`] per plane (or [`V4l2Device::export_buffer`] for
//!   all of a buffer's planes). V4L2 gives no offset inside an exported
//!   plane: the payload's start (`data_offset`) comes with each dequeued
//!   buffer ([`PlaneInfo::data_offset`]).
//! - Import: [`DmaBufQueue`] takes [`DmaBuf`]s *by value* while the driver
//!   holds them and gives them back from [`DmaBufQueue::dequeue`] or
//!   [`DmaBufQueue::stream_off`], so a queued buffer cannot be closed from
//!   under the driver. Queueing the same dma-bufs again (same inodes) reuses
//!   the same V4L2 index, as libcamera's buffer cache does, so drivers keep
//!   their mapping instead of re-importing on every frame.
//!
//! Kernel documentation: <https://docs.kernel.org/userspace-api/media/v4l/dmabuf.html>,
//! <https://docs.kernel.org/userspace-api/media/v4l/vidioc-expbuf.html>

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::PollFlags;

use crate::dma_buf::{Access, DmaBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::fd::{open_node, poll_ready};
use crate::sys::videodev2 as sys;

/// Where V4L2 nodes are described (`/sys/class/video4linux/videoN/name`).
pub const SYSFS_DIR: &str = "/sys/class/video4linux";

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
    fn raw(self) -> u32 {
        match self {
            Memory::Mmap => sys::V4L2_MEMORY_MMAP,
            Memory::DmaBuf => sys::V4L2_MEMORY_DMABUF,
        }
    }

    fn from_raw(raw: u32) -> Memory {
        if raw == sys::V4L2_MEMORY_DMABUF {
            Memory::DmaBuf
        } else {
            Memory::Mmap
        }
    }
}

/// `VIDIOC_QUERYCAP`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCaps {
    /// The driver's name (`vivid`, `uvcvideo`, ...).
    pub driver: String,
    /// The device's name.
    pub card: String,
    /// Where the device sits (`platform:vivid-000`).
    pub bus_info: String,
    /// The kernel's version (`KERNEL_VERSION` packing).
    pub version: u32,
    /// `V4L2_CAP_*` of the whole device.
    pub capabilities: u32,
    /// `V4L2_CAP_*` of this node (`device_caps`; `capabilities` when the
    /// driver does not set `V4L2_CAP_DEVICE_CAPS`).
    pub device_caps: u32,
}

impl DeviceCaps {
    /// The node's video buffer type, preferring capture and the
    /// multi-planar API: `None` for nodes without video streaming (VBI,
    /// radio, metadata, touch).
    #[must_use]
    pub fn video_buf_type(&self) -> Option<BufType> {
        let c = self.device_caps;
        if c & sys::V4L2_CAP_STREAMING == 0 {
            return None;
        }
        if c & (sys::V4L2_CAP_VIDEO_CAPTURE_MPLANE | sys::V4L2_CAP_VIDEO_M2M_MPLANE) != 0 {
            Some(BufType::VideoCaptureMplane)
        } else if c & (sys::V4L2_CAP_VIDEO_CAPTURE | sys::V4L2_CAP_VIDEO_M2M) != 0 {
            Some(BufType::VideoCapture)
        } else if c & sys::V4L2_CAP_VIDEO_OUTPUT_MPLANE != 0 {
            Some(BufType::VideoOutputMplane)
        } else if c & sys::V4L2_CAP_VIDEO_OUTPUT != 0 {
            Some(BufType::VideoOutput)
        } else {
            None
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

/// One plane of a buffer, as `VIDIOC_QUERYBUF` or `VIDIOC_DQBUF` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaneInfo {
    /// Size of the plane's memory.
    pub length: u32,
    /// Bytes of the plane that hold data, `data_offset` included.
    pub bytesused: u32,
    /// Where the payload starts in the plane (multi-planar API only; 0 for
    /// single-planar buffers).
    pub data_offset: u32,
    /// The MMAP offset (`m.mem_offset`), for `mmap` on the video node.
    pub mem_offset: u32,
}

/// A buffer as `VIDIOC_QUERYBUF` or `VIDIOC_DQBUF` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferInfo {
    /// The buffer's index in its queue.
    pub index: u32,
    /// The queue's type.
    pub buf_type: BufType,
    /// MMAP or DMABUF.
    pub memory: Memory,
    /// `V4L2_BUF_FLAG_*` (`0x40`: `ERROR`, `0x0010_0000`: `LAST`).
    pub flags: u32,
    /// `enum v4l2_field` of the frame.
    pub field: u32,
    /// The driver's frame counter.
    pub sequence: u32,
    /// The frame's timestamp (`CLOCK_MONOTONIC` for most drivers).
    pub timestamp: Duration,
    /// One entry per plane.
    pub planes: Vec<PlaneInfo>,
}

/// `V4L2_BUF_FLAG_ERROR`: the frame is damaged (data may be partial).
pub const BUF_FLAG_ERROR: u32 = 0x40;

/// A control as `VIDIOC_QUERY_EXT_CTRL` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlInfo {
    /// The control's id (`V4L2_CID_*` or a driver's own).
    pub id: u32,
    /// Its name (`"OSD Text Mode"`).
    pub name: String,
    /// `enum v4l2_ctrl_type` (1 integer, 2 boolean, 3 menu, ...).
    pub kind: u32,
    /// Smallest value.
    pub minimum: i64,
    /// Largest value.
    pub maximum: i64,
    /// Step between values.
    pub step: u64,
    /// Default value.
    pub default_value: i64,
    /// `V4L2_CTRL_FLAG_*`.
    pub flags: u32,
}

#[derive(Debug, Clone, Copy)]
struct QueueState {
    memory: Memory,
    count: u32,
}

#[derive(Debug)]
struct Inner {
    fd: OwnedFd,
    path: Option<PathBuf>,
    caps: DeviceCaps,
    /// What this handle last requested per buffer type.
    queues: Mutex<HashMap<BufType, QueueState>>,
}

/// An open V4L2 video node. Cheap to clone: clones share the open file.
///
/// The node is opened non-blocking: [`V4l2Device::dequeue`] answers `None`
/// when no buffer is ready, and [`V4l2Device::wait`] waits with `poll`.
#[derive(Debug, Clone)]
pub struct V4l2Device {
    inner: Arc<Inner>,
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn timeval(tv: sys::Timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let usecs = u32::try_from(tv.tv_usec).unwrap_or(0).min(999_999);
    Duration::new(secs, usecs * 1000)
}

impl V4l2Device {
    /// `open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)` of a video node,
    /// checked with `VIDIOC_QUERYCAP`.
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied` naming the node; `InvalidArgument`
    /// (`ENOTTY`) when the file is not a V4L2 device (checked through
    /// sysfs, then `VIDIOC_QUERYCAP`), saying what it is.
    #[doc(alias = "VIDIOC_QUERYCAP")]
    pub fn open(path: impl AsRef<Path>) -> Result<V4l2Device> {
        let path = path.as_ref();
        let fd = open_node(
            path,
            OFlag::O_RDWR | OFlag::O_NONBLOCK,
            "V4L2 device",
            "a V4L2 driver such as vivid (CONFIG_VIDEO_VIVID)",
        )?;
        Self::adopt(fd, Some(path))
    }

    /// A V4L2 device over a duplicate (`F_DUPFD_CLOEXEC`) of `fd`, which
    /// stays the caller's. The duplicate shares the open file, so its
    /// blocking mode is the caller's: [`V4l2Device::dequeue`] blocks on a
    /// node opened without `O_NONBLOCK`.
    ///
    /// # Errors
    /// `EBADF`, `EMFILE`; `InvalidArgument` (`ENOTTY`) when it is not V4L2.
    pub fn dup_from(fd: impl AsFd) -> Result<V4l2Device> {
        let fd = crate::fd::dup_raw(fd.as_fd().as_raw_fd())?;
        Self::adopt(fd, None)
    }

    fn adopt(fd: OwnedFd, path: Option<&Path>) -> Result<V4l2Device> {
        if let Some(p) = path {
            // sysfs first: other drivers' ioctls can share VIDIOC_QUERYCAP's
            // number (dma-heap's ALLOC is nr 0 too and answers EINVAL).
            crate::fd::check_device(fd.as_fd(), p, "video4linux", "V4L2 device")?;
        }
        let cap = match sys::querycap(fd.as_fd()) {
            Ok(c) => c,
            Err(e) if matches!(e.errno(), Errno::ENOTTY | Errno::EINVAL) => {
                let shown = path.map_or_else(|| format!("fd {}", fd.as_raw_fd()), |p| p.display().to_string());
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    Errno::ENOTTY,
                    "VIDIOC_QUERYCAP",
                    None,
                    format!("{shown} is not a V4L2 device (it is {})", crate::fd::describe(&fd)),
                ));
            }
            Err(e) => return Err(e),
        };
        let device_caps =
            if cap.capabilities & sys::V4L2_CAP_DEVICE_CAPS != 0 { cap.device_caps } else { cap.capabilities };
        let caps = DeviceCaps {
            driver: c_string(&cap.driver),
            card: c_string(&cap.card),
            bus_info: c_string(&cap.bus_info),
            version: cap.version,
            capabilities: cap.capabilities,
            device_caps,
        };
        Ok(V4l2Device {
            inner: Arc::new(Inner { fd, path: path.map(Path::to_path_buf), caps, queues: Mutex::new(HashMap::new()) }),
        })
    }

    fn raw(&self) -> RawFd {
        self.inner.fd.as_raw_fd()
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }

    /// The node's path, when it was opened by path.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// `VIDIOC_QUERYCAP`'s answer, read at open.
    #[must_use]
    pub fn caps(&self) -> &DeviceCaps {
        &self.inner.caps
    }

    /// The node's video buffer type ([`DeviceCaps::video_buf_type`]).
    ///
    /// # Errors
    /// `InvalidArgument` (`ENOTTY`) for a node without video streaming.
    pub fn buf_type(&self) -> Result<BufType> {
        self.inner.caps.video_buf_type().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                Errno::ENOTTY,
                "VIDIOC_QUERYCAP",
                Some(self.raw()),
                format!(
                    "{} has no video capture or output queue with streaming I/O (device_caps {:#x})",
                    self.name(),
                    self.inner.caps.device_caps
                ),
            )
        })
    }

    fn name(&self) -> String {
        self.inner.path.as_ref().map_or_else(|| format!("fd {}", self.raw()), |p| p.display().to_string())
    }

    fn state(&self, t: BufType) -> Option<QueueState> {
        self.inner.queues.lock().unwrap_or_else(PoisonError::into_inner).get(&t).copied()
    }

    fn set_state(&self, t: BufType, s: QueueState) {
        self.inner.queues.lock().unwrap_or_else(PoisonError::into_inner).insert(t, s);
    }

    fn check_type(&self, op: &'static str, t: BufType) -> Result<()> {
        let c = self.inner.caps.device_caps;
        let has = match t {
            BufType::VideoCapture => c & (sys::V4L2_CAP_VIDEO_CAPTURE | sys::V4L2_CAP_VIDEO_M2M) != 0,
            BufType::VideoOutput => c & (sys::V4L2_CAP_VIDEO_OUTPUT | sys::V4L2_CAP_VIDEO_M2M) != 0,
            BufType::VideoCaptureMplane => {
                c & (sys::V4L2_CAP_VIDEO_CAPTURE_MPLANE | sys::V4L2_CAP_VIDEO_M2M_MPLANE) != 0
            }
            BufType::VideoOutputMplane => c & (sys::V4L2_CAP_VIDEO_OUTPUT_MPLANE | sys::V4L2_CAP_VIDEO_M2M_MPLANE) != 0,
        };
        if has {
            Ok(())
        } else {
            Err(Error::invalid(
                op,
                Some(self.raw()),
                format!(
                    "{} has no {} queue (device_caps {:#x}; its video queue is {})",
                    self.name(),
                    t.as_str(),
                    c,
                    self.inner.caps.video_buf_type().map_or("none", BufType::as_str)
                ),
            ))
        }
    }

    fn format_call(&self, which: u8, t: BufType, want: Option<&Format>) -> Result<Format> {
        let op = ["VIDIOC_G_FMT", "VIDIOC_S_FMT", "VIDIOC_TRY_FMT"][usize::from(which)];
        self.check_type(op, t)?;
        let mut arg = sys::V4l2Format::new(t.raw());
        if let Some(f) = want {
            if f.planes.len() > sys::VIDEO_MAX_PLANES {
                return Err(Error::invalid(op, Some(self.raw()), "more than 8 planes (VIDEO_MAX_PLANES)"));
            }
            write_format(t, f, &mut arg);
        }
        sys::format(self.fd(), which, &mut arg)?;
        Ok(read_format(t, &arg))
    }

    /// `VIDIOC_G_FMT`: the queue's current format.
    ///
    /// # Errors
    /// `InvalidArgument` for a type this node does not have; the kernel's errors.
    #[doc(alias = "VIDIOC_G_FMT")]
    pub fn format(&self, t: BufType) -> Result<Format> {
        self.format_call(0, t, None)
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
        self.format_call(1, t, Some(format))
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
        if got.width != format.width || got.height != format.height || got.pixelformat != format.pixelformat {
            return Err(Error::invalid(
                "VIDIOC_S_FMT",
                Some(self.raw()),
                format!(
                    "the driver changed the format: asked for {}x{} {}, it chose {}x{} {}",
                    format.width,
                    format.height,
                    fourcc_name(format.pixelformat),
                    got.width,
                    got.height,
                    fourcc_name(got.pixelformat)
                ),
            ));
        }
        Ok(got)
    }

    /// `VIDIOC_TRY_FMT`: what the driver would choose, changing nothing.
    ///
    /// # Errors
    /// The kernel's errors.
    #[doc(alias = "VIDIOC_TRY_FMT")]
    pub fn try_format(&self, t: BufType, format: &Format) -> Result<Format> {
        self.format_call(2, t, Some(format))
    }

    /// `VIDIOC_REQBUFS`: allocates `count` buffers (MMAP) or slots (DMABUF)
    /// and returns how many the driver made, which may be more or fewer.
    /// `count` 0 frees them (memory exported as dma-bufs lives on in those).
    ///
    /// # Errors
    /// `InvalidArgument` when the queue does not support `memory`; `EBUSY`
    /// while streaming; the kernel's errors.
    #[doc(alias = "VIDIOC_REQBUFS")]
    pub fn request_buffers(&self, t: BufType, memory: Memory, count: u32) -> Result<u32> {
        self.check_type("VIDIOC_REQBUFS", t)?;
        let mut arg = sys::V4l2RequestBuffers { count, type_: t.raw(), memory: memory.raw(), ..Default::default() };
        sys::reqbufs(self.fd(), &mut arg).map_err(|e| self.memory_error(e, t, memory, arg.capabilities))?;
        self.set_state(t, QueueState { memory, count: arg.count });
        Ok(arg.count)
    }

    fn memory_error(&self, e: Error, t: BufType, memory: Memory, caps: u32) -> Error {
        if e.errno() != Errno::EINVAL {
            return e;
        }
        let bit = match memory {
            Memory::Mmap => sys::V4L2_BUF_CAP_SUPPORTS_MMAP,
            Memory::DmaBuf => sys::V4L2_BUF_CAP_SUPPORTS_DMABUF,
        };
        // Ask the queue what it supports (REQBUFS with count 0 of MMAP reports it).
        let mut probe =
            sys::V4l2RequestBuffers { count: 0, type_: t.raw(), memory: sys::V4L2_MEMORY_MMAP, ..Default::default() };
        let caps = if caps != 0 || sys::reqbufs(self.fd(), &mut probe).is_err() { caps } else { probe.capabilities };
        if caps != 0 && caps & bit == 0 {
            let what = if memory == Memory::Mmap { "MMAP" } else { "DMABUF" };
            e.with_detail(format!("the {} queue of {} does not support {what} buffers", t.as_str(), self.name()))
        } else {
            e
        }
    }

    /// `VIDIOC_CREATE_BUFS`: adds `count` buffers for `format` (the
    /// queue's current format when `None`) beside those already there;
    /// returns the first new index and how many were made.
    ///
    /// # Errors
    /// `ENOBUFS` past the queue's limit; the kernel's errors.
    #[doc(alias = "VIDIOC_CREATE_BUFS")]
    pub fn create_buffers(
        &self,
        t: BufType,
        memory: Memory,
        count: u32,
        format: Option<&Format>,
    ) -> Result<(u32, u32)> {
        self.check_type("VIDIOC_CREATE_BUFS", t)?;
        let fmt = match format {
            Some(f) => f.clone(),
            None => self.format(t)?,
        };
        let mut f = sys::V4l2Format::new(t.raw());
        write_format(t, &fmt, &mut f);
        let mut arg = sys::V4l2CreateBuffers {
            index: 0,
            count,
            memory: memory.raw(),
            format: f,
            capabilities: 0,
            flags: 0,
            max_num_buffers: 0,
            reserved: [0; 5],
        };
        sys::create_bufs(self.fd(), &mut arg)?;
        let total = arg.index + arg.count;
        let prev = self.state(t).map_or(0, |s| s.count);
        self.set_state(t, QueueState { memory, count: total.max(prev) });
        Ok((arg.index, arg.count))
    }

    fn bad_index(&self, op: &'static str, t: BufType, index: u32) -> Result<QueueState> {
        let Some(st) = self.state(t) else {
            return Err(Error::invalid(
                op,
                Some(self.raw()),
                format!(
                    "no buffers requested on the {} queue of {} (call request_buffers first)",
                    t.as_str(),
                    self.name()
                ),
            ));
        };
        if index >= st.count {
            return Err(Error::invalid(
                op,
                Some(self.raw()),
                format!("buffer index {index} is out of range: the {} queue has {} buffers", t.as_str(), st.count),
            ));
        }
        Ok(st)
    }

    fn buffer_call(&self, which: u8, arg: &mut sys::V4l2Buffer, planes: &mut [sys::V4l2Plane; 8]) -> Result<()> {
        let mp = BufType::from_raw(arg.type_).is_some_and(BufType::is_multiplanar);
        if mp {
            arg.m.planes = planes.as_mut_ptr();
            if arg.length == 0 {
                arg.length = 8;
            }
        }
        sys::buffer(self.fd(), which, arg)
    }

    /// `VIDIOC_QUERYBUF`: a buffer's planes (length, MMAP offset) and state.
    ///
    /// # Errors
    /// `InvalidArgument` for an index past the queue's buffers.
    #[doc(alias = "VIDIOC_QUERYBUF")]
    pub fn query_buffer(&self, t: BufType, index: u32) -> Result<BufferInfo> {
        self.check_type("VIDIOC_QUERYBUF", t)?;
        let st = self.bad_index("VIDIOC_QUERYBUF", t, index)?;
        let mut arg = sys::V4l2Buffer::new(t.raw(), st.memory.raw(), index);
        let mut planes = [sys::V4l2Plane::default(); 8];
        self.buffer_call(0, &mut arg, &mut planes)?;
        Ok(read_buffer(t, &arg, &planes))
    }

    /// `VIDIOC_EXPBUF`: one plane of an MMAP buffer as a new dma-buf
    /// (always `O_CLOEXEC`; `O_RDONLY` for [`Access::Read`], else `O_RDWR`).
    /// Each call makes a new dma-buf over the same memory. The export keeps
    /// the memory alive after the queue is freed.
    ///
    /// # Errors
    /// `InvalidArgument` when the queue's buffers are not MMAP, the index is
    /// past the queue's buffers or the plane past the buffer's planes;
    /// `Unsupported` when the kernel lacks `VIDIOC_EXPBUF` (before 3.8) or
    /// the driver does not implement it.
    #[doc(alias = "VIDIOC_EXPBUF")]
    pub fn export(&self, t: BufType, index: u32, plane: u32, access: Access) -> Result<DmaBuf> {
        self.check_type("VIDIOC_EXPBUF", t)?;
        let st = self.bad_index("VIDIOC_EXPBUF", t, index)?;
        if st.memory != Memory::Mmap {
            return Err(Error::invalid(
                "VIDIOC_EXPBUF",
                Some(self.raw()),
                format!(
                    "the {} queue holds DMABUF buffers: only MMAP buffers can be exported (request_buffers with MMAP)",
                    t.as_str()
                ),
            ));
        }
        let planes = self.query_buffer(t, index)?.planes.len();
        if usize::try_from(plane).map_or(true, |p| p >= planes) {
            return Err(Error::invalid(
                "VIDIOC_EXPBUF",
                Some(self.raw()),
                format!("plane {plane} is out of range: buffer {index} has {planes} plane(s)"),
            ));
        }
        #[allow(clippy::cast_sign_loss)] // Reason: open flags are small positive numbers.
        let flags = (libc::O_CLOEXEC | if access == Access::Read { libc::O_RDONLY } else { libc::O_RDWR }) as u32;
        let fd = sys::expbuf(self.fd(), t.raw(), index, plane, flags).map_err(|e| expbuf_error(e, &self.name()))?;
        let buf = DmaBuf::from_trusted(fd)?;
        if buf.info().is_ok_and(|i| i.name.is_none()) {
            buf.set_default_name(&format!("v4l2:{}:{index}.{plane}", self.inner.caps.driver));
        }
        Ok(buf)
    }

    /// Every plane of one MMAP buffer as dma-bufs ([`V4l2Device::export`]
    /// per plane). When plane N fails, the planes already exported are
    /// closed before the error returns.
    ///
    /// # Errors
    /// As [`V4l2Device::export`].
    #[doc(alias = "VIDIOC_EXPBUF")]
    pub fn export_buffer(&self, t: BufType, index: u32, access: Access) -> Result<Vec<DmaBuf>> {
        let planes = self.query_buffer(t, index)?.planes.len();
        let mut out = Vec::with_capacity(planes);
        for plane in 0..planes {
            // An early return drops `out`, closing what was exported.
            out.push(self.export(t, index, u32::try_from(plane).unwrap_or(u32::MAX), access)?);
        }
        Ok(out)
    }

    /// `VIDIOC_QBUF` of an MMAP buffer. For an output queue, `bytesused`
    /// gives each plane's payload (empty: the whole plane).
    ///
    /// # Errors
    /// `InvalidArgument` for a bad index or a queue that is not MMAP;
    /// `EINVAL` from the kernel for a buffer already queued.
    #[doc(alias = "VIDIOC_QBUF")]
    pub fn queue(&self, t: BufType, index: u32, bytesused: &[u32]) -> Result<()> {
        self.check_type("VIDIOC_QBUF", t)?;
        let st = self.bad_index("VIDIOC_QBUF", t, index)?;
        if st.memory != Memory::Mmap {
            return Err(Error::invalid(
                "VIDIOC_QBUF",
                Some(self.raw()),
                "the queue holds DMABUF buffers: queue them with a DmaBufQueue",
            ));
        }
        let mut arg = sys::V4l2Buffer::new(t.raw(), sys::V4L2_MEMORY_MMAP, index);
        let mut planes = [sys::V4l2Plane::default(); 8];
        if t.is_multiplanar() {
            let n = self.query_buffer(t, index)?.planes.len();
            for (i, p) in planes.iter_mut().take(n).enumerate() {
                p.bytesused = bytesused.get(i).copied().unwrap_or(0);
            }
            arg.length = u32::try_from(n).unwrap_or(8);
        } else {
            arg.bytesused = bytesused.first().copied().unwrap_or(0);
        }
        self.buffer_call(1, &mut arg, &mut planes)
    }

    /// `VIDIOC_DQBUF` without waiting: `None` when no buffer is done.
    ///
    /// # Errors
    /// `InvalidArgument` before buffers are requested; `EPIPE` from the
    /// kernel after the last buffer of a stream; `EINVAL` when not streaming.
    #[doc(alias = "VIDIOC_DQBUF")]
    pub fn dequeue(&self, t: BufType) -> Result<Option<BufferInfo>> {
        self.check_type("VIDIOC_DQBUF", t)?;
        let Some(st) = self.state(t) else {
            return Err(Error::invalid("VIDIOC_DQBUF", Some(self.raw()), "no buffers requested on this queue"));
        };
        let mut arg = sys::V4l2Buffer::new(t.raw(), st.memory.raw(), 0);
        let mut planes = [sys::V4l2Plane::default(); 8];
        match self.buffer_call(2, &mut arg, &mut planes) {
            Ok(()) => Ok(Some(read_buffer(t, &arg, &planes))),
            Err(e) if e.errno() == Errno::EAGAIN => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `poll` until a buffer of queue `t` can be dequeued (`POLLIN` for
    /// capture, `POLLOUT` for output) or `timeout` passes (`None`: no
    /// limit). Returns whether one is ready. An error condition (`POLLERR`:
    /// not streaming, or nothing queued) counts as ready, so that the
    /// following dequeue reports the kernel's error.
    ///
    /// # Errors
    /// The errors of `poll` (`ENOMEM`); an interrupted `poll` (`EINTR`) polls
    /// again for the time that is left.
    pub fn wait(&self, t: BufType, timeout: Option<Duration>) -> Result<bool> {
        let events = if t.is_output() { PollFlags::POLLOUT } else { PollFlags::POLLIN };
        Ok(poll_ready(self.fd(), events, timeout)?.is_some())
    }

    /// [`V4l2Device::wait`] then [`V4l2Device::dequeue`]: `None` on timeout.
    ///
    /// # Errors
    /// As both.
    pub fn dequeue_timeout(&self, t: BufType, timeout: Option<Duration>) -> Result<Option<BufferInfo>> {
        if let Some(b) = self.dequeue(t)? {
            return Ok(Some(b));
        }
        if !self.wait(t, timeout)? {
            return Ok(None);
        }
        match self.dequeue(t)? {
            Some(b) => Ok(Some(b)),
            // Ready but nothing to take: the error condition of a queue that
            // is not streaming or holds no buffer.
            None => Err(Error::os("VIDIOC_DQBUF", Some(self.raw()), Errno::EPIPE)
                .with_detail("the queue reported an error on poll: not streaming, or no buffer queued")),
        }
    }

    /// `VIDIOC_STREAMON`.
    ///
    /// # Errors
    /// `EINVAL` without buffers; the driver's errors (`EPIPE`, `ENOLINK`).
    #[doc(alias = "VIDIOC_STREAMON")]
    pub fn stream_on(&self, t: BufType) -> Result<()> {
        self.check_type("VIDIOC_STREAMON", t)?;
        sys::stream(self.fd(), t.raw(), true)
    }

    /// `VIDIOC_STREAMOFF`: stops and returns every queued buffer to the
    /// application (their dma-bufs are the application's again).
    ///
    /// # Errors
    /// The kernel's errors.
    #[doc(alias = "VIDIOC_STREAMOFF")]
    pub fn stream_off(&self, t: BufType) -> Result<()> {
        self.check_type("VIDIOC_STREAMOFF", t)?;
        sys::stream(self.fd(), t.raw(), false)
    }

    /// `VIDIOC_S_PARM`: asks for `numerator`/`denominator` seconds per
    /// frame (1/60: sixty frames a second) and returns what the driver
    /// chose. Drivers without `V4L2_CAP_TIMEPERFRAME` keep their rate.
    ///
    /// # Errors
    /// `InvalidArgument` for a zero term; `ENOTTY` on drivers without
    /// frame-rate control; `EBUSY` while streaming.
    #[doc(alias = "VIDIOC_S_PARM")]
    pub fn set_frame_interval(&self, t: BufType, numerator: u32, denominator: u32) -> Result<(u32, u32)> {
        if numerator == 0 || denominator == 0 {
            return Err(Error::invalid("VIDIOC_S_PARM", Some(self.raw()), "the frame interval needs non-zero terms"));
        }
        let mut arg = sys::V4l2StreamParm::new(t.raw(), numerator, denominator);
        sys::parm(self.fd(), true, &mut arg)?;
        Ok((arg.numerator, arg.denominator))
    }

    /// `VIDIOC_G_PARM`: the seconds per frame, and whether the driver lets
    /// them be set (`V4L2_CAP_TIMEPERFRAME`).
    ///
    /// # Errors
    /// `ENOTTY` on drivers without it.
    #[doc(alias = "VIDIOC_G_PARM")]
    pub fn frame_interval(&self, t: BufType) -> Result<(u32, u32, bool)> {
        let mut arg = sys::V4l2StreamParm::new(t.raw(), 0, 0);
        sys::parm(self.fd(), false, &mut arg)?;
        Ok((arg.numerator, arg.denominator, arg.capability & sys::V4L2_CAP_TIMEPERFRAME != 0))
    }

    /// `VIDIOC_G_CTRL`: a control's value.
    ///
    /// # Errors
    /// `EINVAL` for an unknown id.
    #[doc(alias = "VIDIOC_G_CTRL")]
    pub fn control(&self, id: u32) -> Result<i32> {
        sys::g_ctrl(self.fd(), id)
    }

    /// `VIDIOC_S_CTRL`: sets a control; returns the value the driver kept.
    ///
    /// # Errors
    /// `EINVAL` for an unknown id, `ERANGE` for a value out of range,
    /// `EBUSY` for a control locked while streaming, `EACCES` for a
    /// read-only one.
    #[doc(alias = "VIDIOC_S_CTRL")]
    pub fn set_control(&self, id: u32, value: i32) -> Result<i32> {
        sys::s_ctrl(self.fd(), id, value)
    }

    /// `VIDIOC_QUERY_EXT_CTRL` with `V4L2_CTRL_FLAG_NEXT_CTRL`: every
    /// control of the node (class headings left out).
    ///
    /// # Errors
    /// The kernel's errors other than the `EINVAL` that ends the list.
    #[doc(alias = "VIDIOC_QUERY_EXT_CTRL")]
    pub fn controls(&self) -> Result<Vec<ControlInfo>> {
        let mut out = Vec::new();
        let mut id = 0;
        loop {
            let mut q = sys::V4l2QueryExtCtrl::new(id | sys::V4L2_CTRL_FLAG_NEXT_CTRL);
            match sys::query_ext_ctrl(self.fd(), &mut q) {
                Ok(()) => {}
                Err(e) if e.errno() == Errno::EINVAL => break,
                Err(e) => return Err(e),
            }
            id = q.id;
            if q.type_ != sys::V4L2_CTRL_TYPE_CTRL_CLASS {
                out.push(ControlInfo {
                    id: q.id,
                    name: c_string(&q.name),
                    kind: q.type_,
                    minimum: q.minimum,
                    maximum: q.maximum,
                    step: q.step,
                    default_value: q.default_value,
                    flags: q.flags,
                });
            }
        }
        Ok(out)
    }

    /// The control whose name is `name` (ASCII case ignored), such as
    /// vivid's `"OSD Text Mode"`.
    ///
    /// # Errors
    /// `InvalidArgument` (`EINVAL`) listing nothing when none has that name.
    pub fn find_control(&self, name: &str) -> Result<ControlInfo> {
        self.controls()?.into_iter().find(|c| c.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
            Error::invalid(
                "VIDIOC_QUERY_EXT_CTRL",
                Some(self.raw()),
                format!("{} has no control named {name:?}", self.name()),
            )
        })
    }

    /// `VIDIOC_G_INPUT` (`output` false) or `VIDIOC_G_OUTPUT`.
    ///
    /// # Errors
    /// `ENOTTY` on nodes without inputs (or outputs).
    #[doc(alias = "VIDIOC_G_INPUT")]
    #[doc(alias = "VIDIOC_G_OUTPUT")]
    pub fn route(&self, output: bool) -> Result<u32> {
        sys::g_io(self.fd(), output)
    }

    /// `VIDIOC_S_INPUT` (`output` false) or `VIDIOC_S_OUTPUT`: selects the
    /// node's input or output by index.
    ///
    /// # Errors
    /// `EINVAL` for an index past the last; `EBUSY` while buffers exist.
    #[doc(alias = "VIDIOC_S_INPUT")]
    #[doc(alias = "VIDIOC_S_OUTPUT")]
    pub fn set_route(&self, output: bool, index: u32) -> Result<()> {
        sys::s_io(self.fd(), output, index)
    }
}

impl AsFd for V4l2Device {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}

/// `VIDIOC_EXPBUF`'s `ENOTTY` on a node known to be V4L2: the kernel (before
/// 3.8) or the driver (not videobuf2) lacks the ioctl.
fn expbuf_error(e: Error, name: &str) -> Error {
    if e.errno() == Errno::ENOTTY {
        e.with_kind(ErrorKind::Unsupported).with_detail(format!(
            "{name} does not implement VIDIOC_EXPBUF (it needs Linux 3.8 or later and a videobuf2 driver)"
        ))
    } else {
        e
    }
}

fn write_format(t: BufType, f: &Format, arg: &mut sys::V4l2Format) {
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
        arg.fmt.pix_mp = mp;
    } else {
        let p = f.planes.first().copied().unwrap_or_default();
        arg.fmt.pix = sys::V4l2PixFormat {
            width: f.width,
            height: f.height,
            pixelformat: f.pixelformat,
            field: f.field,
            bytesperline: p.bytesperline,
            sizeimage: p.sizeimage,
            colorspace: f.colorspace,
            ..Default::default()
        };
    }
}

fn read_format(t: BufType, arg: &sys::V4l2Format) -> Format {
    if t.is_multiplanar() {
        // SAFETY: the kernel filled the union's pix_mp member for a multi-planar type.
        let mp = unsafe { arg.fmt.pix_mp };
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
        // SAFETY: the kernel filled the union's pix member for a single-planar type.
        let p = unsafe { arg.fmt.pix };
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

fn read_buffer(t: BufType, arg: &sys::V4l2Buffer, planes: &[sys::V4l2Plane; 8]) -> BufferInfo {
    let list = if t.is_multiplanar() {
        let n = usize::try_from(arg.length).unwrap_or(0).min(sys::VIDEO_MAX_PLANES);
        planes[..n]
            .iter()
            .map(|p| PlaneInfo {
                length: p.length,
                bytesused: p.bytesused,
                data_offset: p.data_offset,
                // SAFETY: every member of the union is plain data; mem_offset
                // is the first 32 bits, meaningful for MMAP buffers.
                mem_offset: unsafe { p.m.mem_offset },
            })
            .collect()
    } else {
        vec![PlaneInfo {
            length: arg.length,
            bytesused: arg.bytesused,
            data_offset: 0,
            // SAFETY: as above, for the buffer's own union.
            mem_offset: unsafe { arg.m.offset },
        }]
    };
    BufferInfo {
        index: arg.index,
        buf_type: t,
        memory: Memory::from_raw(arg.memory),
        flags: arg.flags,
        field: arg.field,
        sequence: arg.sequence,
        timestamp: timeval(arg.timestamp),
        planes: list,
    }
}

/// Payload of one plane handed to [`DmaBufQueue::queue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlaneData {
    /// Bytes used, `data_offset` included (0 on capture queues, where the
    /// driver fills it in; 0 on output queues means the whole plane).
    pub bytesused: u32,
    /// Where the payload starts in the dma-buf (output queues).
    pub data_offset: u32,
}

/// A failed [`DmaBufQueue::queue`]: the error and the dma-bufs, handed back.
#[derive(Debug)]
pub struct QueueError {
    /// Why the buffers were not queued.
    pub error: Error,
    /// The dma-bufs, still open and the caller's again.
    pub bufs: Vec<DmaBuf>,
}

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for QueueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<QueueError> for Error {
    fn from(e: QueueError) -> Error {
        e.error
    }
}

/// A dequeued buffer of a [`DmaBufQueue`] and the dma-bufs it held.
#[derive(Debug)]
pub struct Dequeued {
    /// Index, sequence, timestamp, flags, and per plane `bytesused` and `data_offset`.
    pub info: BufferInfo,
    /// The dma-bufs queued with it, one per plane, in plane order.
    pub bufs: Vec<DmaBuf>,
}

#[derive(Debug, Default)]
struct Slot {
    /// (`st_dev`, `st_ino`) of each plane's dma-buf last queued here.
    key: Vec<(u64, u64)>,
    /// The dma-bufs while the driver holds them.
    held: Option<Vec<DmaBuf>>,
    /// When the slot was last queued (for reuse of the oldest).
    used: u64,
}

/// A `V4L2_MEMORY_DMABUF` queue: dma-bufs from any source go in and come
/// back out. The queue owns each [`DmaBuf`] while the driver holds it.
///
/// Index reuse: a set of dma-bufs (compared by inode) that was queued
/// before goes to the same V4L2 index, so the driver keeps its import;
/// new sets take a never-used index, else the least recently used free one.
#[derive(Debug)]
pub struct DmaBufQueue {
    dev: V4l2Device,
    t: BufType,
    format: Format,
    slots: Vec<Slot>,
    clock: u64,
}

fn inode(buf: &DmaBuf) -> Result<(u64, u64)> {
    let st = nix::sys::stat::fstat(buf.as_fd()).map_err(|e| Error::os("fstat", Some(buf.as_raw_fd()), e))?;
    #[allow(clippy::useless_conversion)] // Reason: the field types differ between C libraries.
    Ok((u64::from(st.st_dev), u64::from(st.st_ino)))
}

impl DmaBufQueue {
    /// `VIDIOC_REQBUFS` with `V4L2_MEMORY_DMABUF` for `count` slots on
    /// queue `t`, and `VIDIOC_G_FMT` to check plane sizes against.
    ///
    /// # Errors
    /// `InvalidArgument` when the queue lacks DMABUF support; the kernel's
    /// errors.
    #[doc(alias = "VIDIOC_REQBUFS")]
    pub fn new(dev: &V4l2Device, t: BufType, count: u32) -> Result<DmaBufQueue> {
        let format = dev.format(t)?;
        let n = dev.request_buffers(t, Memory::DmaBuf, count)?;
        let slots = (0..n).map(|_| Slot::default()).collect();
        Ok(DmaBufQueue { dev: dev.clone(), t, format, slots, clock: 0 })
    }

    /// The device.
    #[must_use]
    pub fn device(&self) -> &V4l2Device {
        &self.dev
    }

    /// The queue's type.
    #[must_use]
    pub fn buf_type(&self) -> BufType {
        self.t
    }

    /// The format read when the queue was made.
    #[must_use]
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// How many slots (V4L2 indexes) the queue has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the queue has no slots.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// How many buffers the driver holds now.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.slots.iter().filter(|s| s.held.is_some()).count()
    }

    /// The (device, inode) pairs last queued at `index`, one per plane.
    #[must_use]
    pub fn inodes(&self, index: u32) -> Option<&[(u64, u64)]> {
        self.slots.get(usize::try_from(index).ok()?).map(|s| s.key.as_slice())
    }

    fn pick(&self, key: &[(u64, u64)]) -> Option<usize> {
        let free = |s: &&Slot| s.held.is_none();
        if let Some(i) = self.slots.iter().position(|s| s.held.is_none() && s.key == key) {
            return Some(i);
        }
        if let Some(i) = self.slots.iter().position(|s| s.held.is_none() && s.key.is_empty()) {
            return Some(i);
        }
        self.slots.iter().enumerate().filter(|(_, s)| free(s)).min_by_key(|(_, s)| s.used).map(|(i, _)| i)
    }

    /// `VIDIOC_QBUF` of one dma-buf per plane (by value: the queue holds
    /// them until they are dequeued). `planes` gives each plane's
    /// `bytesused` and `data_offset` (missing entries are 0). Returns the
    /// V4L2 index used.
    ///
    /// # Errors
    /// Hands the dma-bufs back with: `InvalidArgument` for the wrong number
    /// of planes, a dma-buf smaller than the format's plane (after
    /// `data_offset`), or no free slot (`EBUSY`); the kernel's errors.
    #[doc(alias = "VIDIOC_QBUF")]
    pub fn queue(&mut self, bufs: Vec<DmaBuf>, planes: &[PlaneData]) -> std::result::Result<u32, QueueError> {
        match self.try_queue(&bufs, planes) {
            Ok(i) => {
                self.clock += 1;
                let slot = &mut self.slots[i];
                slot.held = Some(bufs);
                slot.used = self.clock;
                Ok(u32::try_from(i).unwrap_or(u32::MAX))
            }
            Err(error) => Err(QueueError { error, bufs }),
        }
    }

    fn try_queue(&mut self, bufs: &[DmaBuf], planes: &[PlaneData]) -> Result<usize> {
        let raw = Some(self.dev.raw());
        let want = self.format.planes.len();
        if bufs.len() != want {
            return Err(Error::invalid(
                "VIDIOC_QBUF",
                raw,
                format!("the format has {want} plane(s): queue one dma-buf per plane, not {}", bufs.len()),
            ));
        }
        for (i, (buf, pf)) in bufs.iter().zip(&self.format.planes).enumerate() {
            let off = u64::from(planes.get(i).map_or(0, |p| p.data_offset));
            if buf.size() < off + u64::from(pf.sizeimage) {
                return Err(Error::invalid(
                    "VIDIOC_QBUF",
                    raw,
                    format!(
                        "plane {i}: the dma-buf has {} bytes, the format needs {} (sizeimage) after data_offset {off}",
                        buf.size(),
                        pf.sizeimage
                    ),
                ));
            }
        }
        let key = bufs.iter().map(inode).collect::<Result<Vec<_>>>()?;
        let Some(i) = self.pick(&key) else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                Errno::EBUSY,
                "VIDIOC_QBUF",
                raw,
                format!("all {} slots of the queue are held by the driver: dequeue one first", self.slots.len()),
            ));
        };
        let mut arg = sys::V4l2Buffer::new(self.t.raw(), sys::V4L2_MEMORY_DMABUF, u32::try_from(i).unwrap_or(0));
        let mut pl = [sys::V4l2Plane::default(); 8];
        if self.t.is_multiplanar() {
            for (n, (p, buf)) in pl.iter_mut().zip(bufs).enumerate() {
                let d = planes.get(n).copied().unwrap_or_default();
                p.m.fd = buf.as_raw_fd();
                p.length = u32::try_from(buf.size()).unwrap_or(u32::MAX);
                p.bytesused = d.bytesused;
                p.data_offset = d.data_offset;
            }
            arg.length = u32::try_from(bufs.len()).unwrap_or(8);
        } else {
            arg.m.fd = bufs[0].as_raw_fd();
            arg.length = u32::try_from(bufs[0].size()).unwrap_or(u32::MAX);
            arg.bytesused = planes.first().map_or(0, |p| p.bytesused);
        }
        self.dev.buffer_call(1, &mut arg, &mut pl)?;
        self.slots[i].key = key;
        Ok(i)
    }

    /// `VIDIOC_DQBUF` after waiting up to `timeout` (`None`: no limit;
    /// zero: no wait): the buffer's info and its dma-bufs, or `None` on
    /// timeout.
    ///
    /// # Errors
    /// As [`V4l2Device::dequeue_timeout`].
    #[doc(alias = "VIDIOC_DQBUF")]
    pub fn dequeue(&mut self, timeout: Option<Duration>) -> Result<Option<Dequeued>> {
        let Some(info) = self.dev.dequeue_timeout(self.t, timeout)? else { return Ok(None) };
        Ok(Some(self.take(info)))
    }

    /// `VIDIOC_DQBUF` without waiting.
    ///
    /// # Errors
    /// As [`V4l2Device::dequeue`].
    pub fn try_dequeue(&mut self) -> Result<Option<Dequeued>> {
        let Some(info) = self.dev.dequeue(self.t)? else { return Ok(None) };
        Ok(Some(self.take(info)))
    }

    fn take(&mut self, info: BufferInfo) -> Dequeued {
        let bufs = usize::try_from(info.index)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.held.take())
            .unwrap_or_default();
        Dequeued { info, bufs }
    }

    /// `VIDIOC_STREAMON`.
    ///
    /// # Errors
    /// As [`V4l2Device::stream_on`].
    pub fn stream_on(&self) -> Result<()> {
        self.dev.stream_on(self.t)
    }

    /// `VIDIOC_STREAMOFF`: the driver lets go of every buffer; all the
    /// dma-bufs it held come back, by index.
    ///
    /// # Errors
    /// As [`V4l2Device::stream_off`] (the buffers stay held then).
    pub fn stream_off(&mut self) -> Result<Vec<(u32, Vec<DmaBuf>)>> {
        self.dev.stream_off(self.t)?;
        Ok(self
            .slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.held.take().map(|b| (u32::try_from(i).unwrap_or(u32::MAX), b)))
            .collect())
    }
}

/// A V4L2 video node that can stream, as [`list`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoNode {
    /// `/dev/videoN`.
    pub path: PathBuf,
    /// The name in `/sys/class/video4linux/videoN/name`.
    pub name: String,
    /// The driver (`VIDIOC_QUERYCAP`).
    pub driver: String,
    /// The node's video queue.
    pub buf_type: BufType,
    /// Whether its queue supports MMAP buffers, which can be exported.
    pub can_export: bool,
    /// Whether its queue accepts DMABUF buffers.
    pub can_import: bool,
}

/// The V4L2 video nodes (`/dev/video*`) with a streaming capture or output
/// queue, sorted by path. Nodes that cannot be opened are left out.
///
/// # Errors
/// `EMFILE`/`ENFILE`/`ENOMEM` while opening nodes; `/dev` unreadable.
pub fn list() -> Result<Vec<VideoNode>> {
    let mut out = Vec::new();
    let names = crate::fd::list_dir(Path::new("/dev"), "readdir")?;
    for n in names.into_iter().filter(|n| n.starts_with("video") && n[5..].bytes().all(|b| b.is_ascii_digit())) {
        let path = Path::new("/dev").join(&n);
        let dev = match V4l2Device::open(&path) {
            Ok(d) => d,
            Err(e) if matches!(e.errno(), Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM) => return Err(e),
            Err(_) => continue,
        };
        let Some(t) = dev.caps().video_buf_type() else { continue };
        let mut probe =
            sys::V4l2RequestBuffers { count: 0, type_: t.raw(), memory: sys::V4L2_MEMORY_MMAP, ..Default::default() };
        // REQBUFS with count 0 reports the queue's capabilities; on a busy
        // queue (another process streams) it fails and we say "unknown" as false.
        let caps = if sys::reqbufs(dev.fd(), &mut probe).is_ok() { probe.capabilities } else { 0 };
        let name = std::fs::read_to_string(Path::new(SYSFS_DIR).join(&n).join("name"))
            .map_or_else(|_| dev.caps().card.clone(), |s| s.trim().to_string());
        out.push(VideoNode {
            path,
            name,
            driver: dev.caps().driver.clone(),
            buf_type: t,
            can_export: caps & sys::V4L2_BUF_CAP_SUPPORTS_MMAP != 0,
            can_import: caps & sys::V4L2_BUF_CAP_SUPPORTS_DMABUF != 0,
        });
    }
    out.sort_by(|a, b| {
        let num = |p: &Path| p.to_string_lossy()[10..].parse::<u32>().unwrap_or(u32::MAX);
        num(&a.path).cmp(&num(&b.path))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourcc_round_trips() {
        assert_eq!(fourcc("YUYV").unwrap(), 0x5659_5559);
        assert_eq!(fourcc_name(0x5659_5559), "YUYV");
        assert!(fourcc("YUV").is_err());
        assert_eq!(BufType::parse("capture-mplane"), Some(BufType::VideoCaptureMplane));
        assert_eq!(BufType::from_raw(10), Some(BufType::VideoOutputMplane));
    }

    #[test]
    fn enotty_from_expbuf_means_unsupported() {
        let e = expbuf_error(Error::os("VIDIOC_EXPBUF", Some(5), Errno::ENOTTY), "/dev/video9");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(e.errno(), Errno::ENOTTY);
        assert!(e.to_string().contains("/dev/video9 does not implement VIDIOC_EXPBUF (it needs Linux 3.8"), "{e}");
        let other = expbuf_error(Error::os("VIDIOC_EXPBUF", Some(5), Errno::EINVAL), "/dev/video9");
        assert_eq!(other.kind(), ErrorKind::Os);
    }

    #[test]
    fn a_non_v4l2_file_is_named() {
        let e = V4l2Device::open("/dev/null").unwrap_err();
        assert_eq!(e.errno(), Errno::ENOTTY);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("is not a V4L2 device"), "{e}");
        let missing = V4l2Device::open("/dev/video-none").unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
    }
}
