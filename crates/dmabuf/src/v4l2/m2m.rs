//! Memory-to-memory devices: codecs and converters with an OUTPUT queue
//! (what goes in: raw frames for an encoder, bitstream for a decoder) and a
//! CAPTURE queue (what comes out) on one open file.
//!
//! [`M2mDevice`] follows the kernel's "Memory-to-memory Stateful Video
//! Encoder Interface" and "... Stateful Video Decoder Interface": it keeps
//! the state those documents define ([`CodecState`]) and refuses a call the
//! current state does not allow with an [`ErrorKind::InvalidState`] error
//! that names the state and the way out of it, instead of leaving the
//! driver to answer `EBUSY`, `EPIPE` or nothing at all.
//!
//! Each queue holds MMAP buffers (allocated by the driver, exportable as
//! dma-bufs with [`M2mDevice::export`]) or DMABUF slots (dma-bufs from any
//! source, taken by value while queued and given back by
//! [`M2mDevice::try_dequeue`] or [`M2mDevice::stream_off`], as
//! [`DmaBufQueue`](super::DmaBufQueue) does). Nothing here copies frame
//! bytes.
//!
//! No call blocks unless it says so: the device's fd polls `POLLOUT` when
//! an OUTPUT buffer is done, `POLLIN` for a CAPTURE buffer and `POLLPRI`
//! for an event, so an event loop can watch [`M2mDevice::as_fd`] and call
//! [`M2mDevice::try_dequeue`] and [`M2mDevice::try_dequeue_event`].
//!
//! Kernel documentation: <https://docs.kernel.org/userspace-api/media/v4l/dev-encoder.html>,
//! <https://docs.kernel.org/userspace-api/media/v4l/dev-decoder.html>,
//! <https://docs.kernel.org/userspace-api/media/v4l/dev-mem2mem.html>

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::PollFlags;

use crate::dma_buf::{Access, DmaBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::fd::poll_ready;
use crate::sys::videodev2 as sys;

use super::buffer::{BufferInfo, BUF_FLAG_LAST};
use super::device::V4l2Device;
use super::events::{Event, EVENT_EOS, EVENT_SOURCE_CHANGE};
use super::format::{fourcc_name, BufType, Format, FormatDesc, Memory, Rect, SEL_TGT_COMPOSE, SEL_TGT_CROP};
use super::queue::{DmaBufQueue, PlaneData, QueueError};

/// What an M2M device does, from the formats of its queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Raw frames in, a coded format (`V4L2_FMT_FLAG_COMPRESSED`) out.
    Encoder,
    /// A coded format in, raw frames out.
    Decoder,
    /// Raw frames in and out (scalers, colour converters such as vim2m).
    Converter,
}

impl Role {
    /// `"encoder"`, `"decoder"` or `"converter"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Encoder => "encoder",
            Role::Decoder => "decoder",
            Role::Converter => "converter",
        }
    }
}

/// One of the two queues of an M2M device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// What the application gives: raw frames (encoder, converter) or
    /// bitstream (decoder).
    Output,
    /// What the device gives back.
    Capture,
}

impl Queue {
    /// `"OUTPUT"` or `"CAPTURE"`, as the kernel's documents write them.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Output => "OUTPUT",
            Queue::Capture => "CAPTURE",
        }
    }
}

/// The states of the stateful codec interfaces (the documents' state
/// diagrams; a converter uses `Initialization` and `Running` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecState {
    /// Opened: formats are set and buffers allocated; a decoder stays here
    /// with OUTPUT streaming until the stream's format is known (the
    /// `SOURCE_CHANGE` event).
    Initialization,
    /// Decoder: the CAPTURE format is known (after `SOURCE_CHANGE`); the
    /// CAPTURE queue is to be set up (format, buffers, `VIDIOC_STREAMON`).
    CaptureSetup,
    /// Both queues stream: the documents' "Encoding" or "Decoding".
    Running,
    /// Decoder: the stream changed resolution; CAPTURE buffers of the old
    /// one are returned until the one flagged `V4L2_BUF_FLAG_LAST`.
    ResolutionChange,
    /// A stop command (`V4L2_ENC_CMD_STOP`, `V4L2_DEC_CMD_STOP`) was sent:
    /// pending OUTPUT buffers are processed until a CAPTURE buffer flagged
    /// `V4L2_BUF_FLAG_LAST`.
    Drain,
    /// The last buffer was dequeued (or OUTPUT stopped streaming, for an
    /// encoder): a start command or `VIDIOC_STREAMON` resumes.
    Stopped,
    /// The encoder's CAPTURE queue or the decoder's OUTPUT queue stopped
    /// streaming (the decoder document calls it "Seek"): its
    /// `VIDIOC_STREAMON` resumes.
    Reset,
}

impl CodecState {
    /// The state's name in the kernel's documents, for `role`.
    #[must_use]
    pub fn name(self, role: Role) -> &'static str {
        match (self, role) {
            (CodecState::Initialization, _) => "Initialization",
            (CodecState::CaptureSetup, _) => "Capture Setup",
            (CodecState::Running, Role::Encoder) => "Encoding",
            (CodecState::Running, Role::Decoder) => "Decoding",
            (CodecState::Running, Role::Converter) => "Running",
            (CodecState::ResolutionChange, _) => "Dynamic Resolution Change",
            (CodecState::Drain, _) => "Drain",
            (CodecState::Stopped, _) => "Stopped",
            (CodecState::Reset, Role::Decoder) => "Seek",
            (CodecState::Reset, _) => "Reset",
        }
    }

    /// A CAPTURE buffer flagged `V4L2_BUF_FLAG_LAST` was dequeued: a drain
    /// ends (Stopped), a resolution change moves on to Capture Setup.
    fn after_last_buffer(self) -> CodecState {
        match self {
            CodecState::ResolutionChange => CodecState::CaptureSetup,
            CodecState::Drain | CodecState::Running => CodecState::Stopped,
            s => s,
        }
    }

    /// A decoder's `V4L2_EVENT_SOURCE_CHANGE` was dequeued: the stream's
    /// format is known (Capture Setup) or changed while decoding (Dynamic
    /// Resolution Change, until its LAST buffer).
    fn after_source_change(self) -> CodecState {
        match self {
            CodecState::Initialization | CodecState::Stopped => CodecState::CaptureSetup,
            CodecState::Running | CodecState::Drain => CodecState::ResolutionChange,
            s => s,
        }
    }

    /// `VIDIOC_STREAMON` of `q` succeeded; `out` and `cap` say which queues
    /// stream now.
    fn after_stream_on(self, role: Role, q: Queue, out: bool, cap: bool) -> CodecState {
        match (role, q, self) {
            (Role::Decoder, Queue::Output, CodecState::Reset) if cap => CodecState::Running,
            (Role::Decoder, Queue::Output, CodecState::Reset) => CodecState::Initialization,
            (Role::Decoder, Queue::Output, s) => s,
            (Role::Decoder, Queue::Capture, _) if out => CodecState::Running,
            (Role::Decoder, Queue::Capture, _) => CodecState::Reset,
            (_, _, _) if out && cap => CodecState::Running,
            (_, _, s) => s,
        }
    }

    /// `VIDIOC_STREAMOFF` of `q` succeeded; `any` says whether a queue
    /// still streams.
    fn after_stream_off(self, role: Role, q: Queue, any: bool) -> CodecState {
        match (role, q, self) {
            (Role::Decoder, Queue::Capture, CodecState::ResolutionChange | CodecState::CaptureSetup) => {
                CodecState::CaptureSetup
            }
            (_, _, CodecState::Initialization) | (Role::Converter, _, _) => CodecState::Initialization,
            (_, _, _) if !any => CodecState::Initialization,
            (Role::Encoder, Queue::Output, _) | (Role::Decoder, Queue::Capture, _) => CodecState::Stopped,
            (Role::Encoder, Queue::Capture, _) | (Role::Decoder, Queue::Output, _) => CodecState::Reset,
        }
    }
}

/// A buffer dequeued from an M2M queue.
#[derive(Debug)]
pub struct M2mBuffer {
    /// Index, flags, timestamp (copied from the OUTPUT buffer it came
    /// from), sequence, and per plane `bytesused` and `data_offset`.
    pub info: BufferInfo,
    /// The dma-bufs it held, one per plane, the caller's again (DMABUF
    /// queues; empty for MMAP ones).
    pub bufs: Vec<DmaBuf>,
}

impl M2mBuffer {
    /// Whether it carries `V4L2_BUF_FLAG_LAST`.
    #[must_use]
    pub fn is_last(&self) -> bool {
        self.info.flags & BUF_FLAG_LAST != 0
    }

    /// The payload of plane 0 (`bytesused` less `data_offset`).
    #[must_use]
    pub fn payload(&self) -> u32 {
        self.info.planes.first().map_or(0, |p| p.bytesused.saturating_sub(p.data_offset))
    }
}

#[derive(Debug)]
struct Side {
    t: BufType,
    memory: Option<Memory>,
    count: u32,
    dmabuf: Option<DmaBufQueue>,
    streaming: bool,
    /// Buffers handed to the driver and not yet dequeued.
    queued: usize,
}

impl Side {
    fn new(t: BufType) -> Self {
        Side { t, memory: None, count: 0, dmabuf: None, streaming: false, queued: 0 }
    }
}

/// An open M2M device (`V4L2_CAP_VIDEO_M2M` or `V4L2_CAP_VIDEO_M2M_MPLANE`)
/// with both queues, its [`Role`] and its [`CodecState`].
///
/// The file is opened non-blocking; every `try_` call returns at once.
/// Events a codec sends (`V4L2_EVENT_EOS`, and `V4L2_EVENT_SOURCE_CHANGE`
/// for a decoder) are subscribed when it is opened.
#[derive(Debug)]
pub struct M2mDevice {
    dev: V4l2Device,
    role: Role,
    state: CodecState,
    out: Side,
    cap: Side,
}

/// An M2M device as [`list_m2m`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M2mNode {
    /// `/dev/videoN`.
    pub path: PathBuf,
    /// The name in sysfs (`stateful-encoder`, `vim2m`).
    pub name: String,
    /// The driver (`vicodec`, `vim2m`, `bcm2835-codec`).
    pub driver: String,
    /// What it does.
    pub role: Role,
    /// Formats of its OUTPUT queue (coded formats for a decoder).
    pub output_formats: Vec<FormatDesc>,
    /// Formats of its CAPTURE queue (coded formats for an encoder).
    pub capture_formats: Vec<FormatDesc>,
}

/// The M2M devices of the system (`/dev/video*` whose node has
/// `V4L2_CAP_VIDEO_M2M` or `V4L2_CAP_VIDEO_M2M_MPLANE`), with their roles
/// and the formats of both queues (`VIDIOC_ENUM_FMT`), sorted by path.
///
/// # Errors
/// As [`list`](super::list).
pub fn list_m2m() -> Result<Vec<M2mNode>> {
    let mut out = Vec::new();
    for node in super::list()? {
        let Ok(dev) = V4l2Device::open(&node.path) else { continue };
        if !is_m2m(&dev) {
            continue;
        }
        let Ok(m) = M2mDevice::from_device(dev) else { continue };
        out.push(M2mNode {
            path: node.path,
            name: node.name,
            driver: node.driver,
            role: m.role,
            output_formats: m.formats(Queue::Output)?,
            capture_formats: m.formats(Queue::Capture)?,
        });
    }
    Ok(out)
}

fn is_m2m(dev: &V4l2Device) -> bool {
    dev.caps().device_caps & (sys::V4L2_CAP_VIDEO_M2M | sys::V4L2_CAP_VIDEO_M2M_MPLANE) != 0
}

impl M2mDevice {
    /// Opens an M2M node ([`V4l2Device::open`]), finds its role from the
    /// formats of its queues and subscribes to the codec events.
    ///
    /// # Errors
    /// As [`V4l2Device::open`]; `InvalidArgument` (`ENOTTY`) when the node is
    /// not a memory-to-memory device.
    pub fn open(path: impl AsRef<Path>) -> Result<M2mDevice> {
        Self::from_device(V4l2Device::open(path)?)
    }

    /// An M2M device over an open node (which it keeps a handle of).
    ///
    /// # Errors
    /// As [`M2mDevice::open`].
    pub fn from_device(dev: V4l2Device) -> Result<M2mDevice> {
        if !is_m2m(&dev) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                Errno::ENOTTY,
                "VIDIOC_QUERYCAP",
                Some(dev.raw()),
                format!(
                    "{} is not a memory-to-memory device (device_caps {:#x} has neither V4L2_CAP_VIDEO_M2M nor V4L2_CAP_VIDEO_M2M_MPLANE)",
                    dev.name(),
                    dev.caps().device_caps
                ),
            ));
        }
        let mp = dev.caps().device_caps & sys::V4L2_CAP_VIDEO_M2M_MPLANE != 0;
        let (ot, ct) = if mp {
            (BufType::VideoOutputMplane, BufType::VideoCaptureMplane)
        } else {
            (BufType::VideoOutput, BufType::VideoCapture)
        };
        let coded = |t| -> Result<bool> { Ok(dev.formats(t)?.iter().any(FormatDesc::is_compressed)) };
        let role = if coded(ct)? {
            Role::Encoder
        } else if coded(ot)? {
            Role::Decoder
        } else {
            Role::Converter
        };
        let m = M2mDevice { dev, role, state: CodecState::Initialization, out: Side::new(ot), cap: Side::new(ct) };
        if role != Role::Converter {
            m.dev.subscribe_event(EVENT_EOS, 0)?;
        }
        if role == Role::Decoder {
            m.dev.subscribe_event(EVENT_SOURCE_CHANGE, 0)?;
        }
        Ok(m)
    }

    /// The node.
    #[must_use]
    pub fn device(&self) -> &V4l2Device {
        &self.dev
    }

    /// What the device does.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The state of the stateful interface.
    #[must_use]
    pub fn state(&self) -> CodecState {
        self.state
    }

    /// The V4L2 buffer type of `q` (multi-planar when the node is).
    #[must_use]
    pub fn buf_type(&self, q: Queue) -> BufType {
        self.side(q).t
    }

    /// How many buffers of `q` the driver holds (queued, not yet dequeued).
    #[must_use]
    pub fn queued(&self, q: Queue) -> usize {
        self.side(q).queued
    }

    /// Whether `q` streams.
    #[must_use]
    pub fn is_streaming(&self, q: Queue) -> bool {
        self.side(q).streaming
    }

    fn side(&self, q: Queue) -> &Side {
        match q {
            Queue::Output => &self.out,
            Queue::Capture => &self.cap,
        }
    }

    fn side_mut(&mut self, q: Queue) -> &mut Side {
        match q {
            Queue::Output => &mut self.out,
            Queue::Capture => &mut self.cap,
        }
    }

    fn what(&self) -> String {
        format!("{} {} ({})", self.dev.caps().driver, self.role.as_str(), self.dev.name())
    }

    /// Refuses `op` unless the state is one of `allowed`.
    fn require(&self, op: &'static str, allowed: &[CodecState], doing: &str, way_out: &str) -> Result<()> {
        if allowed.contains(&self.state) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|s| s.name(self.role)).collect();
        Err(Error::state(
            op,
            Some(self.dev.raw()),
            format!(
                "{doing}: the {} is in state {}, and this needs {}{}",
                self.what(),
                self.state.name(self.role),
                names.join(" or "),
                if way_out.is_empty() { String::new() } else { format!(" ({way_out})") }
            ),
        ))
    }

    /// `VIDIOC_ENUM_FMT` of queue `q`.
    ///
    /// # Errors
    /// As [`V4l2Device::formats`].
    #[doc(alias = "VIDIOC_ENUM_FMT")]
    pub fn formats(&self, q: Queue) -> Result<Vec<FormatDesc>> {
        self.dev.formats(self.side(q).t)
    }

    /// `VIDIOC_G_FMT` of queue `q`.
    ///
    /// # Errors
    /// As [`V4l2Device::format`].
    #[doc(alias = "VIDIOC_G_FMT")]
    pub fn format(&self, q: Queue) -> Result<Format> {
        self.dev.format(self.side(q).t)
    }

    /// `VIDIOC_S_FMT` of queue `q`, after checking that the queue lists
    /// the pixel format (`VIDIOC_ENUM_FMT`): drivers replace a format they
    /// lack with another without failing, which would turn a wrong queue or
    /// a typo into garbage output. Returns what the driver chose.
    ///
    /// The OUTPUT format is set in Initialization (or Reset for an
    /// encoder); a decoder's CAPTURE format once the stream's is known
    /// (Capture Setup).
    ///
    /// # Errors
    /// `InvalidArgument` (`EINVAL`) naming the formats the queue has when
    /// it lacks `format.pixelformat`; `InvalidState` while the queue
    /// streams or, for a decoder's CAPTURE queue, before Capture Setup; the
    /// kernel's errors (`EBUSY` while buffers are allocated).
    #[doc(alias = "VIDIOC_S_FMT")]
    pub fn set_format(&mut self, q: Queue, format: &Format) -> Result<Format> {
        let side = self.side(q);
        if side.streaming {
            return Err(Error::state(
                "VIDIOC_S_FMT",
                Some(self.dev.raw()),
                format!("the {} queue of the {} streams: stream it off first", q.as_str(), self.what()),
            ));
        }
        if self.role == Role::Decoder && q == Queue::Capture {
            self.require(
                "VIDIOC_S_FMT",
                &[CodecState::CaptureSetup, CodecState::Stopped],
                "setting the decoder's CAPTURE format",
                "it is known after the SOURCE_CHANGE event that follows the first OUTPUT buffers",
            )?;
        }
        let list = self.formats(q)?;
        if !list.iter().any(|f| f.pixelformat == format.pixelformat) {
            let names: Vec<String> = list.iter().map(|f| fourcc_name(f.pixelformat)).collect();
            return Err(Error::invalid(
                "VIDIOC_S_FMT",
                Some(self.dev.raw()),
                format!(
                    "the {} queue of the {} has no format {}: it takes {}",
                    q.as_str(),
                    self.what(),
                    fourcc_name(format.pixelformat),
                    names.join(", ")
                ),
            ));
        }
        let got = self.dev.set_format(side.t, format)?;
        if let Some(d) = self.side_mut(q).dmabuf.as_mut() {
            d.format = got.clone();
        }
        Ok(got)
    }

    /// [`M2mDevice::set_format`], then `InvalidArgument` (`EINVAL`) naming
    /// the driver's choice (which is in effect) when it changed the size or
    /// the pixel format.
    ///
    /// # Errors
    /// As [`M2mDevice::set_format`]; `InvalidArgument` when the driver
    /// changed the request.
    #[doc(alias = "VIDIOC_S_FMT")]
    pub fn set_format_exact(&mut self, q: Queue, format: &Format) -> Result<Format> {
        let got = self.set_format(q, format)?;
        super::format::exact(self.dev.raw(), format, got)
    }

    /// `VIDIOC_TRY_FMT` of queue `q`: what the driver would choose, changing
    /// nothing.
    ///
    /// # Errors
    /// As [`V4l2Device::try_format`].
    #[doc(alias = "VIDIOC_TRY_FMT")]
    pub fn try_format(&self, q: Queue, format: &Format) -> Result<Format> {
        self.dev.try_format(self.side(q).t, format)
    }

    /// The visible rectangle: a decoder's `V4L2_SEL_TGT_COMPOSE` of CAPTURE
    /// (`VIDIOC_G_SELECTION`), which may be smaller than the CAPTURE
    /// format's coded size; an encoder's `V4L2_SEL_TGT_CROP` of OUTPUT.
    ///
    /// # Errors
    /// `InvalidArgument` for a converter; the kernel's errors.
    #[doc(alias = "VIDIOC_G_SELECTION")]
    pub fn visible_rect(&self) -> Result<Rect> {
        match self.role {
            Role::Decoder => self.dev.selection(self.cap.t, SEL_TGT_COMPOSE),
            Role::Encoder => self.dev.selection(self.out.t, SEL_TGT_CROP),
            Role::Converter => Err(Error::invalid(
                "VIDIOC_G_SELECTION",
                Some(self.dev.raw()),
                format!("the {} has no visible rectangle apart from its formats", self.what()),
            )),
        }
    }

    /// `VIDIOC_REQBUFS` of `count` buffers of `memory` on queue `q`
    /// (0 frees them); returns how many the driver made.
    ///
    /// # Errors
    /// `InvalidState` while the queue streams, or for a decoder's CAPTURE
    /// queue before Capture Setup; the kernel's errors.
    #[doc(alias = "VIDIOC_REQBUFS")]
    pub fn request_buffers(&mut self, q: Queue, memory: Memory, count: u32) -> Result<u32> {
        if self.side(q).streaming {
            return Err(Error::state(
                "VIDIOC_REQBUFS",
                Some(self.dev.raw()),
                format!("the {} queue of the {} streams: stream it off first", q.as_str(), self.what()),
            ));
        }
        if self.role == Role::Decoder && q == Queue::Capture && count > 0 {
            self.require(
                "VIDIOC_REQBUFS",
                &[CodecState::CaptureSetup, CodecState::Stopped],
                "allocating the decoder's CAPTURE buffers",
                "their size is known after the SOURCE_CHANGE event that follows the first OUTPUT buffers",
            )?;
        }
        let t = self.side(q).t;
        // Freeing takes the memory the buffers have (vb2 frees either way).
        let memory = if count == 0 { self.side(q).memory.unwrap_or(memory) } else { memory };
        let n = if memory == Memory::DmaBuf && count > 0 {
            let dq = DmaBufQueue::new(&self.dev, t, count)?;
            let n = u32::try_from(dq.len()).unwrap_or(u32::MAX);
            self.side_mut(q).dmabuf = Some(dq);
            n
        } else {
            let n = self.dev.request_buffers(t, memory, count)?;
            self.side_mut(q).dmabuf = None;
            n
        };
        let side = self.side_mut(q);
        side.memory = if count == 0 { None } else { Some(memory) };
        side.count = n;
        side.queued = 0;
        if q == Queue::Output && count == 0 && self.state == CodecState::Reset {
            self.state = CodecState::Initialization;
        }
        Ok(n)
    }

    fn check_memory(&self, op: &'static str, q: Queue, want: Memory) -> Result<()> {
        let side = self.side(q);
        match side.memory {
            Some(m) if m == want => Ok(()),
            Some(m) => {
                let (has, how) = match m {
                    Memory::Mmap => ("MMAP buffers", "queue them by index with queue_buffer, export them with export"),
                    Memory::DmaBuf => ("DMABUF slots", "queue dma-bufs into them with queue_dmabuf"),
                };
                Err(Error::invalid(
                    op,
                    Some(self.dev.raw()),
                    format!("the {} queue of the {} holds {has}: {how}", q.as_str(), self.what()),
                ))
            }
            None => Err(Error::invalid(
                op,
                Some(self.dev.raw()),
                format!("the {} queue of the {} has no buffers: call request_buffers first", q.as_str(), self.what()),
            )),
        }
    }

    fn check_capture_queueable(&self, op: &'static str, q: Queue) -> Result<()> {
        if q == Queue::Capture && self.role == Role::Decoder {
            self.require(
                op,
                &[
                    CodecState::CaptureSetup,
                    CodecState::Running,
                    CodecState::Stopped,
                    CodecState::Drain,
                    CodecState::Reset,
                    CodecState::ResolutionChange,
                ],
                "queueing a decoder CAPTURE buffer",
                "the CAPTURE queue is set up after the SOURCE_CHANGE event",
            )?;
        }
        Ok(())
    }

    /// `VIDIOC_EXPBUF` of every plane of MMAP buffer `index` of queue `q`:
    /// new dma-bufs over the driver's memory (read-write).
    ///
    /// # Errors
    /// `InvalidArgument` when the queue holds DMABUF slots or no buffers;
    /// as [`V4l2Device::export_buffer`].
    #[doc(alias = "VIDIOC_EXPBUF")]
    pub fn export(&self, q: Queue, index: u32) -> Result<Vec<DmaBuf>> {
        self.check_memory("VIDIOC_EXPBUF", q, Memory::Mmap)?;
        self.dev.export_buffer(self.side(q).t, index, Access::ReadWrite)
    }

    /// `VIDIOC_EXPBUF` of plane `plane` of MMAP buffer `index` of queue `q`
    /// alone: a new dma-buf over the driver's memory (read-write).
    ///
    /// # Errors
    /// As [`M2mDevice::export`]; `InvalidArgument` naming the planes the
    /// buffer has for a plane out of range.
    #[doc(alias = "VIDIOC_EXPBUF")]
    pub fn export_plane(&self, q: Queue, index: u32, plane: u32) -> Result<DmaBuf> {
        self.check_memory("VIDIOC_EXPBUF", q, Memory::Mmap)?;
        self.dev.export(self.side(q).t, index, plane, Access::ReadWrite)
    }

    /// `VIDIOC_QBUF` of MMAP buffer `index` of queue `q`, with each plane's
    /// payload (`bytesused`; OUTPUT queues, empty for the whole plane) and
    /// a `timestamp` that the CAPTURE buffer made from it will carry.
    ///
    /// # Errors
    /// `InvalidArgument` when the queue holds DMABUF slots; `InvalidState`
    /// for a decoder's CAPTURE queue before Capture Setup; the kernel's
    /// errors (`EINVAL` for a buffer already queued).
    #[doc(alias = "VIDIOC_QBUF")]
    pub fn queue_buffer(&mut self, q: Queue, index: u32, bytesused: &[u32], timestamp: Duration) -> Result<()> {
        self.check_memory("VIDIOC_QBUF", q, Memory::Mmap)?;
        self.check_capture_queueable("VIDIOC_QBUF", q)?;
        self.dev.queue_at(self.side(q).t, index, bytesused, Some(timestamp))?;
        self.side_mut(q).queued += 1;
        Ok(())
    }

    /// `VIDIOC_QBUF` of dma-bufs (one per plane, by value: the queue holds
    /// them until they are dequeued) into a DMABUF slot of queue `q`.
    /// Returns the V4L2 index used.
    ///
    /// # Errors
    /// Hands the dma-bufs back with: `InvalidArgument` when the queue holds
    /// MMAP buffers, or as [`DmaBufQueue::queue`]; `InvalidState` for a
    /// decoder's CAPTURE queue before Capture Setup.
    #[doc(alias = "VIDIOC_QBUF")]
    pub fn queue_dmabuf(
        &mut self,
        q: Queue,
        bufs: Vec<DmaBuf>,
        planes: &[PlaneData],
        timestamp: Duration,
    ) -> std::result::Result<u32, QueueError> {
        if let Err(error) = self
            .check_memory("VIDIOC_QBUF", q, Memory::DmaBuf)
            .and_then(|()| self.check_capture_queueable("VIDIOC_QBUF", q))
        {
            return Err(QueueError { error, bufs });
        }
        let side = self.side_mut(q);
        let Some(dq) = side.dmabuf.as_mut() else {
            return Err(QueueError { error: Error::invalid("VIDIOC_QBUF", None, "no DMABUF queue"), bufs });
        };
        let i = dq.queue_at(bufs, planes, Some(timestamp))?;
        side.queued += 1;
        Ok(i)
    }

    /// `VIDIOC_DQBUF` of queue `q` without waiting: the buffer (and its
    /// dma-bufs, on a DMABUF queue), or `None` when none is done. A CAPTURE
    /// buffer flagged `V4L2_BUF_FLAG_LAST` ends a drain (state Stopped) or a
    /// resolution change (state Capture Setup).
    ///
    /// # Errors
    /// `InvalidArgument` when the queue has no buffers; `InvalidState` for
    /// the CAPTURE queue after its last buffer (Stopped, or Capture Setup
    /// after a resolution change: the kernel would answer `EPIPE`); the
    /// kernel's errors (`EINVAL` when the queue does not stream).
    #[doc(alias = "VIDIOC_DQBUF")]
    pub fn try_dequeue(&mut self, q: Queue) -> Result<Option<M2mBuffer>> {
        let side = self.side(q);
        let Some(memory) = side.memory else {
            return Err(Error::invalid(
                "VIDIOC_DQBUF",
                Some(self.dev.raw()),
                format!("the {} queue of the {} has no buffers: call request_buffers first", q.as_str(), self.what()),
            ));
        };
        let t = side.t;
        let got = match memory {
            Memory::DmaBuf => match self.side_mut(q).dmabuf.as_mut() {
                Some(dq) => dq.try_dequeue(),
                None => Ok(None),
            }
            .map(|d| d.map(|d| M2mBuffer { info: d.info, bufs: d.bufs })),
            Memory::Mmap => self.dev.dequeue(t).map(|i| i.map(|info| M2mBuffer { info, bufs: Vec::new() })),
        };
        let got = match got {
            Ok(g) => g,
            Err(e) if e.errno() == Errno::EPIPE => {
                return Err(Error::state(
                    "VIDIOC_DQBUF",
                    Some(self.dev.raw()),
                    format!(
                        "the {} returned its last CAPTURE buffer (V4L2_BUF_FLAG_LAST); state {}: a start command resumes, or VIDIOC_STREAMOFF then VIDIOC_STREAMON of CAPTURE where the driver still answers EPIPE after one (vicodec does)",
                        self.what(),
                        self.state.name(self.role)
                    ),
                ))
            }
            Err(e) => return Err(e),
        };
        if let Some(b) = &got {
            let side = self.side_mut(q);
            side.queued = side.queued.saturating_sub(1);
            if q == Queue::Capture && b.is_last() {
                self.state = self.state.after_last_buffer();
            }
        }
        Ok(got)
    }

    /// `poll` until a buffer of `q` is done (`POLLOUT` for OUTPUT, `POLLIN`
    /// for CAPTURE), then [`M2mDevice::try_dequeue`]; `None` when `timeout`
    /// passes first. Blocks: an event loop polls [`M2mDevice::as_fd`] instead.
    ///
    /// # Errors
    /// As [`M2mDevice::try_dequeue`]; the errors of `poll`.
    pub fn dequeue(&mut self, q: Queue, timeout: Duration) -> Result<Option<M2mBuffer>> {
        let deadline = Instant::now() + timeout;
        let events = if q == Queue::Output { PollFlags::POLLOUT } else { PollFlags::POLLIN };
        loop {
            if let Some(b) = self.try_dequeue(q)? {
                return Ok(Some(b));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let ready = poll_ready(self.dev.fd(), events, Some(left))?;
            if ready.is_some_and(|r| r.contains(PollFlags::POLLERR)) {
                // Nothing streams or nothing is queued: poll would spin.
                std::thread::sleep(Duration::from_millis(1).min(left));
            }
        }
    }

    /// `VIDIOC_DQEVENT` without waiting: the oldest event, `None` when
    /// none is pending. `SOURCE_CHANGE` moves a decoder to Capture Setup
    /// (from Initialization or Stopped) or to Dynamic Resolution Change
    /// (while decoding).
    ///
    /// # Errors
    /// As [`V4l2Device::dequeue_event`].
    #[doc(alias = "VIDIOC_DQEVENT")]
    pub fn try_dequeue_event(&mut self) -> Result<Option<Event>> {
        let ev = self.dev.dequeue_event()?;
        if let Some(e) = &ev {
            if e.kind == EVENT_SOURCE_CHANGE && self.role == Role::Decoder {
                self.state = self.state.after_source_change();
            }
        }
        Ok(ev)
    }

    /// `poll` for `POLLPRI` then [`M2mDevice::try_dequeue_event`]; `None`
    /// when `timeout` passes first. Blocks.
    ///
    /// # Errors
    /// As [`M2mDevice::try_dequeue_event`].
    pub fn dequeue_event(&mut self, timeout: Duration) -> Result<Option<Event>> {
        if let Some(e) = self.try_dequeue_event()? {
            return Ok(Some(e));
        }
        if !self.dev.wait_event(Some(timeout))? {
            return Ok(None);
        }
        self.try_dequeue_event()
    }

    /// `VIDIOC_STREAMON` of queue `q`. Both queues streaming is Encoding or
    /// Decoding; a decoder's OUTPUT streams alone first (Initialization)
    /// until `SOURCE_CHANGE`.
    ///
    /// # Errors
    /// `InvalidArgument` before buffers are requested; `InvalidState` for a
    /// decoder's CAPTURE queue before Capture Setup; the kernel's errors.
    #[doc(alias = "VIDIOC_STREAMON")]
    pub fn stream_on(&mut self, q: Queue) -> Result<()> {
        if self.side(q).memory.is_none() {
            return Err(Error::invalid(
                "VIDIOC_STREAMON",
                Some(self.dev.raw()),
                format!("the {} queue of the {} has no buffers: call request_buffers first", q.as_str(), self.what()),
            ));
        }
        if self.role == Role::Decoder && q == Queue::Capture {
            self.require(
                "VIDIOC_STREAMON",
                &[CodecState::CaptureSetup, CodecState::Stopped],
                "starting the decoder's CAPTURE queue",
                "queue OUTPUT buffers and wait for the SOURCE_CHANGE event",
            )?;
        }
        self.dev.stream_on(self.side(q).t)?;
        self.side_mut(q).streaming = true;
        self.state = self.state.after_stream_on(self.role, q, self.out.streaming, self.cap.streaming);
        Ok(())
    }

    /// `VIDIOC_STREAMOFF` of queue `q`: the driver gives back every buffer
    /// of it, and the dma-bufs a DMABUF queue held come back, by index.
    /// An encoder whose OUTPUT stops is Stopped and whose CAPTURE stops is
    /// Reset; a decoder whose OUTPUT stops is in Seek (Reset) and whose
    /// CAPTURE stops is Stopped (Capture Setup during a resolution change).
    ///
    /// # Errors
    /// The kernel's errors (the buffers stay held then).
    #[doc(alias = "VIDIOC_STREAMOFF")]
    pub fn stream_off(&mut self, q: Queue) -> Result<Vec<(u32, Vec<DmaBuf>)>> {
        let t = self.side(q).t;
        let back = if let Some(dq) = self.side_mut(q).dmabuf.as_mut() {
            dq.stream_off()?
        } else {
            self.dev.stream_off(t)?;
            Vec::new()
        };
        let side = self.side_mut(q);
        side.streaming = false;
        side.queued = 0;
        self.state = self.state.after_stream_off(self.role, q, self.out.streaming || self.cap.streaming);
        Ok(back)
    }

    /// The drain of the documents: `V4L2_ENC_CMD_STOP` or
    /// `V4L2_DEC_CMD_STOP`. The OUTPUT buffers queued so far are processed;
    /// the last CAPTURE buffer carries `V4L2_BUF_FLAG_LAST` (payload 0 when
    /// nothing was left) and a `V4L2_EVENT_EOS` follows.
    ///
    /// # Errors
    /// `InvalidState` outside Encoding/Decoding (before both queues stream,
    /// during a drain, after one); `InvalidArgument` (`ENOTTY`) for a
    /// converter, which has no commands; the kernel's errors.
    #[doc(alias = "VIDIOC_ENCODER_CMD")]
    #[doc(alias = "VIDIOC_DECODER_CMD")]
    pub fn drain(&mut self) -> Result<()> {
        let op = self.cmd_op()?;
        self.require(op, &[CodecState::Running], "draining", "a drain starts while both queues stream")?;
        self.command(sys::V4L2_ENC_CMD_STOP)?;
        self.state = CodecState::Drain;
        Ok(())
    }

    /// `V4L2_ENC_CMD_START` or `V4L2_DEC_CMD_START`: resumes after a drain
    /// (Stopped), the CAPTURE queue producing again.
    ///
    /// # Errors
    /// `InvalidState` outside Stopped; as [`M2mDevice::drain`].
    #[doc(alias = "VIDIOC_ENCODER_CMD")]
    #[doc(alias = "VIDIOC_DECODER_CMD")]
    pub fn start(&mut self) -> Result<()> {
        let op = self.cmd_op()?;
        self.require(op, &[CodecState::Stopped], "restarting", "a start command resumes after a drain")?;
        if !(self.out.streaming && self.cap.streaming) {
            return Err(Error::state(
                op,
                Some(self.dev.raw()),
                format!("restarting: the {} has a queue that does not stream; VIDIOC_STREAMON it instead", self.what()),
            ));
        }
        self.command(sys::V4L2_ENC_CMD_START)?;
        self.state = CodecState::Running;
        Ok(())
    }

    /// `VIDIOC_TRY_ENCODER_CMD` or `VIDIOC_TRY_DECODER_CMD` of `cmd`
    /// (0 start, 1 stop, ...): whether the driver takes the command, changing
    /// nothing.
    ///
    /// # Errors
    /// `EINVAL` for a command the driver lacks; as [`M2mDevice::drain`] for
    /// a converter.
    #[doc(alias = "VIDIOC_TRY_ENCODER_CMD")]
    #[doc(alias = "VIDIOC_TRY_DECODER_CMD")]
    pub fn try_command(&self, cmd: u32) -> Result<()> {
        self.cmd_op()?;
        if self.role == Role::Encoder {
            sys::encoder_cmd(self.dev.fd(), cmd, 0, true)
        } else {
            sys::decoder_cmd(self.dev.fd(), cmd, 0, true)
        }
    }

    /// The reset of the documents, done all at once: `VIDIOC_STREAMOFF` of
    /// both queues (every buffer and dma-buf comes back) to Initialization,
    /// the buffers staying allocated for the next `VIDIOC_STREAMON`.
    ///
    /// # Errors
    /// As [`M2mDevice::stream_off`].
    pub fn reset(&mut self) -> Result<Vec<(Queue, u32, Vec<DmaBuf>)>> {
        let mut out: Vec<(Queue, u32, Vec<DmaBuf>)> = Vec::new();
        for q in [Queue::Output, Queue::Capture] {
            if self.side(q).memory.is_some() {
                out.extend(self.stream_off(q)?.into_iter().map(|(i, b)| (q, i, b)));
            }
        }
        self.state = CodecState::Initialization;
        Ok(out)
    }

    fn cmd_op(&self) -> Result<&'static str> {
        match self.role {
            Role::Encoder => Ok("VIDIOC_ENCODER_CMD"),
            Role::Decoder => Ok("VIDIOC_DECODER_CMD"),
            Role::Converter => Err(Error::new(
                ErrorKind::InvalidArgument,
                Errno::ENOTTY,
                "VIDIOC_ENCODER_CMD",
                Some(self.dev.raw()),
                format!("the {} is a converter: it has no encoder or decoder commands", self.what()),
            )),
        }
    }

    /// The start (0) and stop (1) commands have the same numbers for both.
    fn command(&self, cmd: u32) -> Result<()> {
        const _: () = assert!(sys::V4L2_ENC_CMD_STOP == sys::V4L2_DEC_CMD_STOP);
        const _: () = assert!(sys::V4L2_ENC_CMD_START == sys::V4L2_DEC_CMD_START);
        if self.role == Role::Encoder {
            sys::encoder_cmd(self.dev.fd(), cmd, 0, false)
        } else {
            sys::decoder_cmd(self.dev.fd(), cmd, 0, false)
        }
    }
}

impl AsFd for M2mDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.fd()
    }
}

#[cfg(test)]
mod tests {
    use super::CodecState::{CaptureSetup, Drain, Initialization, Reset, ResolutionChange, Running, Stopped};
    use super::{CodecState, Queue, Role};

    /// The encoder document's diagram, edge by edge.
    #[test]
    fn encoder_transitions_follow_the_document() {
        let e = Role::Encoder;
        // Both queues streaming: Initialization -> Encoding.
        assert_eq!(Initialization.after_stream_on(e, Queue::Output, true, false), Initialization);
        assert_eq!(Initialization.after_stream_on(e, Queue::Capture, true, true), Running);
        // Encoding -> Drain is the STOP command; Drain -> Stopped on LAST.
        assert_eq!(Drain.after_last_buffer(), Stopped);
        // Encoding -> Reset and -> Stopped by STREAMOFF of CAPTURE and OUTPUT.
        assert_eq!(Running.after_stream_off(e, Queue::Capture, true), Reset);
        assert_eq!(Running.after_stream_off(e, Queue::Output, true), Stopped);
        assert_eq!(Drain.after_stream_off(e, Queue::Capture, true), Reset);
        assert_eq!(Stopped.after_stream_off(e, Queue::Capture, true), Reset);
        // Reset -> Encoding by STREAMON(CAPTURE); Stopped -> Encoding by STREAMON(OUTPUT).
        assert_eq!(Reset.after_stream_on(e, Queue::Capture, true, true), Running);
        assert_eq!(Stopped.after_stream_on(e, Queue::Output, true, true), Running);
        // Nothing streaming is Initialization again.
        assert_eq!(Reset.after_stream_off(e, Queue::Output, false), Initialization);
        assert_eq!(CodecState::name(Running, e), "Encoding");
    }

    /// The decoder document's diagram, edge by edge.
    #[test]
    fn decoder_transitions_follow_the_document() {
        let d = Role::Decoder;
        // OUTPUT streams alone until the stream's format is known.
        assert_eq!(Initialization.after_stream_on(d, Queue::Output, true, false), Initialization);
        assert_eq!(Initialization.after_source_change(), CaptureSetup);
        assert_eq!(CaptureSetup.after_stream_on(d, Queue::Capture, true, true), Running);
        // Decoding -> Dynamic Resolution Change -> Capture Setup, in either order
        // of the event and the LAST buffer.
        assert_eq!(Running.after_source_change(), ResolutionChange);
        assert_eq!(ResolutionChange.after_last_buffer(), CaptureSetup);
        assert_eq!(Running.after_last_buffer().after_source_change(), CaptureSetup);
        assert_eq!(ResolutionChange.after_stream_off(d, Queue::Capture, true), CaptureSetup);
        // Drain -> Stopped; Stopped -> Decoding by STREAMON(CAPTURE).
        assert_eq!(Drain.after_last_buffer(), Stopped);
        assert_eq!(Running.after_stream_off(d, Queue::Capture, true), Stopped);
        assert_eq!(Stopped.after_stream_on(d, Queue::Capture, true, true), Running);
        // Decoding -> Seek by STREAMOFF(OUTPUT); Seek -> Decoding by STREAMON(OUTPUT).
        assert_eq!(Running.after_stream_off(d, Queue::Output, true), Reset);
        assert_eq!(Reset.after_stream_on(d, Queue::Output, true, true), Running);
        assert_eq!(CodecState::name(Reset, d), "Seek");
    }

    #[test]
    fn a_converter_only_runs_or_not() {
        let c = Role::Converter;
        assert_eq!(Initialization.after_stream_on(c, Queue::Output, true, false), Initialization);
        assert_eq!(Initialization.after_stream_on(c, Queue::Capture, true, true), Running);
        assert_eq!(Running.after_stream_off(c, Queue::Capture, true), Initialization);
    }
}
