//! Buffers: requesting and creating them, querying, exporting MMAP buffers as
//! dma-bufs (`VIDIOC_EXPBUF`), queueing and dequeueing, streaming.

use std::os::fd::BorrowedFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::PollFlags;

use crate::dma_buf::{Access, DmaBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::fd::poll_ready;
use crate::sys::videodev2 as sys;

use super::device::{QueueState, V4l2Device};
use super::format::{write_format, BufType, Format, Memory};

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
/// `V4L2_BUF_FLAG_LAST`: the last buffer a drain (or a decoder's
/// resolution change) produces; `VIDIOC_DQBUF` of the queue answers
/// `EPIPE` after it until the stream is restarted.
pub const BUF_FLAG_LAST: u32 = 0x0010_0000;

impl V4l2Device {
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

    pub(super) fn memory_error(&self, e: Error, t: BufType, memory: Memory, caps: u32) -> Error {
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
        let mut arg = sys::V4l2CreateBuffers::new(count, memory.raw(), f);
        sys::create_bufs(self.fd(), &mut arg)?;
        let total = arg.index + arg.count;
        let prev = self.state(t).map_or(0, |s| s.count);
        self.set_state(t, QueueState { memory, count: total.max(prev) });
        Ok((arg.index, arg.count))
    }

    pub(super) fn bad_index(&self, op: &'static str, t: BufType, index: u32) -> Result<QueueState> {
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

    /// `VIDIOC_QUERYBUF`, `VIDIOC_QBUF` or `VIDIOC_DQBUF` (`ioctl`) of `arg`,
    /// a multi-planar one first pointed at `planes`.
    pub(super) fn buffer_ioctl(
        &self,
        ioctl: unsafe fn(BorrowedFd<'_>, &mut sys::V4l2Buffer) -> Result<()>,
        arg: &mut sys::V4l2Buffer,
        planes: &mut [sys::V4l2Plane; sys::VIDEO_MAX_PLANES],
    ) -> Result<()> {
        let mp = BufType::from_raw(arg.type_).is_some_and(BufType::is_multiplanar);
        if mp {
            arg.point_at(planes);
        }
        // SAFETY: a multi-planar `arg` was just pointed at `planes`, which
        // outlive the call, with `length` at most their number; a
        // single-planar one holds no pointer.
        unsafe { ioctl(self.fd(), arg) }
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
        self.buffer_ioctl(sys::querybuf, &mut arg, &mut planes)?;
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
        self.queue_at(t, index, bytesused, None)
    }

    /// [`V4l2Device::queue`] with the buffer's `timestamp` set (M2M devices
    /// copy it from an OUTPUT buffer to the CAPTURE buffer made from it).
    ///
    /// # Errors
    /// As [`V4l2Device::queue`].
    #[doc(alias = "VIDIOC_QBUF")]
    pub fn queue_at(&self, t: BufType, index: u32, bytesused: &[u32], timestamp: Option<Duration>) -> Result<()> {
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
        if let Some(ts) = timestamp {
            arg.timestamp = sys::Timeval::from_duration(ts);
        }
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
        self.buffer_ioctl(sys::qbuf, &mut arg, &mut planes)
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
        match self.buffer_ioctl(sys::dqbuf, &mut arg, &mut planes) {
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
        sys::streamon(self.fd(), t.raw())
    }

    /// `VIDIOC_STREAMOFF`: stops and returns every queued buffer to the
    /// application (their dma-bufs are the application's again).
    ///
    /// # Errors
    /// The kernel's errors.
    #[doc(alias = "VIDIOC_STREAMOFF")]
    pub fn stream_off(&self, t: BufType) -> Result<()> {
        self.check_type("VIDIOC_STREAMOFF", t)?;
        sys::streamoff(self.fd(), t.raw())
    }
}

/// `VIDIOC_EXPBUF`'s `ENOTTY` on a node known to be V4L2: the kernel (before
/// 3.8) or the driver (not videobuf2) lacks the ioctl.
pub(super) fn expbuf_error(e: Error, name: &str) -> Error {
    if e.errno() == Errno::ENOTTY {
        e.with_kind(ErrorKind::Unsupported).with_detail(format!(
            "{name} does not implement VIDIOC_EXPBUF (it needs Linux 3.8 or later and a videobuf2 driver)"
        ))
    } else {
        e
    }
}

pub(super) fn read_buffer(t: BufType, arg: &sys::V4l2Buffer, planes: &[sys::V4l2Plane; 8]) -> BufferInfo {
    let list = if t.is_multiplanar() {
        let n = usize::try_from(arg.length).unwrap_or(0).min(sys::VIDEO_MAX_PLANES);
        planes[..n]
            .iter()
            .map(|p| PlaneInfo {
                length: p.length,
                bytesused: p.bytesused,
                data_offset: p.data_offset,
                mem_offset: p.mem_offset(),
            })
            .collect()
    } else {
        vec![PlaneInfo { length: arg.length, bytesused: arg.bytesused, data_offset: 0, mem_offset: arg.offset() }]
    };
    BufferInfo {
        index: arg.index,
        buf_type: t,
        memory: Memory::from_raw(arg.memory),
        flags: arg.flags,
        field: arg.field,
        sequence: arg.sequence,
        timestamp: arg.timestamp.to_duration(),
        planes: list,
    }
}
