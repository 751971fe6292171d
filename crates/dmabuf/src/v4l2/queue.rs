//! The DMABUF queue: dma-bufs from any source imported into a V4L2 queue
//! (`V4L2_MEMORY_DMABUF`), held by value while the driver owns them.

use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use nix::errno::Errno;

use crate::dma_buf::DmaBuf;
use crate::error::{Error, ErrorKind, Result};
use crate::sys::videodev2 as sys;

use super::buffer::BufferInfo;
use super::device::V4l2Device;
use super::format::{BufType, Format, Memory};

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
pub(super) struct Slot {
    /// (`st_dev`, `st_ino`) of each plane's dma-buf last queued here.
    pub(super) key: Vec<(u64, u64)>,
    /// The dma-bufs while the driver holds them.
    pub(super) held: Option<Vec<DmaBuf>>,
    /// When the slot was last queued (for reuse of the oldest).
    pub(super) used: u64,
}

/// A `V4L2_MEMORY_DMABUF` queue: dma-bufs from any source go in and come
/// back out. The queue owns each [`DmaBuf`] while the driver holds it.
///
/// Index reuse: a set of dma-bufs (compared by inode) that was queued
/// before goes to the same V4L2 index, so the driver keeps its import;
/// new sets take a never-used index, else the least recently used free one.
#[derive(Debug)]
pub struct DmaBufQueue {
    pub(super) dev: V4l2Device,
    pub(super) t: BufType,
    pub(super) format: Format,
    pub(super) slots: Vec<Slot>,
    pub(super) clock: u64,
}

pub(super) fn inode(buf: &DmaBuf) -> Result<(u64, u64)> {
    let st = crate::fd::stat(buf.as_fd()).map_err(|e| Error::os("fstat", Some(buf.as_raw_fd()), e))?;
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
    /// `data_offset`), a read-only dma-buf on a capture queue (`EACCES`:
    /// the device would write into it), or no free slot (`EBUSY`); the
    /// kernel's errors.
    #[doc(alias = "VIDIOC_QBUF")]
    pub fn queue(&mut self, bufs: Vec<DmaBuf>, planes: &[PlaneData]) -> std::result::Result<u32, QueueError> {
        self.queue_at(bufs, planes, None)
    }

    /// [`DmaBufQueue::queue`] with the buffer's `timestamp` set (what an
    /// M2M device copies from an OUTPUT buffer to the CAPTURE buffer made
    /// from it, so that results can be matched with their sources).
    ///
    /// # Errors
    /// As [`DmaBufQueue::queue`].
    #[doc(alias = "VIDIOC_QBUF")]
    pub fn queue_at(
        &mut self,
        bufs: Vec<DmaBuf>,
        planes: &[PlaneData],
        timestamp: Option<Duration>,
    ) -> std::result::Result<u32, QueueError> {
        match self.try_queue(&bufs, planes, timestamp) {
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

    fn try_queue(&mut self, bufs: &[DmaBuf], planes: &[PlaneData], timestamp: Option<Duration>) -> Result<usize> {
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
        if !self.t.is_output() {
            // The kernel does not check: a capture device writes into whatever it is given.
            for (i, buf) in bufs.iter().enumerate() {
                if !buf.is_writable()? {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        Errno::EACCES,
                        "VIDIOC_QBUF",
                        raw,
                        format!("plane {i}: the dma-buf is read-only (its fd is O_RDONLY) and a capture queue writes into it: give it one exported read-write"),
                    ));
                }
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
        if let Some(ts) = timestamp {
            arg.timestamp = sys::Timeval::from_duration(ts);
        }
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
        self.dev.buffer_ioctl(sys::qbuf, &mut arg, &mut pl)?;
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
