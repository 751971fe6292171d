//! Events: `VIDIOC_SUBSCRIBE_EVENT`, `VIDIOC_UNSUBSCRIBE_EVENT` and
//! `VIDIOC_DQEVENT`. A pending event makes the node poll with `POLLPRI`, so
//! an event loop can watch the fd and call [`V4l2Device::dequeue_event`],
//! which never blocks.
//!
//! Kernel documentation: <https://docs.kernel.org/userspace-api/media/v4l/vidioc-dqevent.html>

use std::time::Duration;

use nix::errno::Errno;
use nix::poll::PollFlags;

use crate::error::Result;
use crate::fd::poll_ready;
use crate::sys::videodev2 as sys;

use super::device::V4l2Device;

/// `V4L2_EVENT_EOS`: the last buffer of a drained stream was produced.
pub const EVENT_EOS: u32 = 2;
/// `V4L2_EVENT_SOURCE_CHANGE`: the source's format changed (a decoder
/// parsed a new resolution from the stream).
pub const EVENT_SOURCE_CHANGE: u32 = 5;
/// `V4L2_EVENT_SRC_CH_RESOLUTION`: in a source change's `changes`, the
/// resolution (or another property of the CAPTURE format) changed.
pub const SRC_CH_RESOLUTION: u32 = 1;

/// An event as `VIDIOC_DQEVENT` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `V4L2_EVENT_*` ([`EVENT_EOS`], [`EVENT_SOURCE_CHANGE`], ...).
    pub kind: u32,
    /// For a source change: `V4L2_EVENT_SRC_CH_*` ([`SRC_CH_RESOLUTION`]);
    /// 0 for other events.
    pub changes: u32,
    /// How many more events are pending.
    pub pending: u32,
    /// The event's number among this file's events.
    pub sequence: u32,
    /// When it was queued (`CLOCK_MONOTONIC`).
    pub timestamp: Duration,
    /// The id it was subscribed with (a control id, a pad); 0 for codec events.
    pub id: u32,
}

impl Event {
    /// Whether it is `V4L2_EVENT_EOS`.
    #[must_use]
    pub fn is_eos(&self) -> bool {
        self.kind == EVENT_EOS
    }

    /// Whether it is `V4L2_EVENT_SOURCE_CHANGE` with the resolution flag.
    #[must_use]
    pub fn is_resolution_change(&self) -> bool {
        self.kind == EVENT_SOURCE_CHANGE && self.changes & SRC_CH_RESOLUTION != 0
    }
}

impl V4l2Device {
    /// `VIDIOC_SUBSCRIBE_EVENT` of events of type `kind` (and `id`, 0 for
    /// codec events): from now on they queue up on this file.
    ///
    /// # Errors
    /// `EINVAL` when the driver does not send that event (an encoder has no
    /// `SOURCE_CHANGE`); `ENOTTY` when the node has no events at all.
    #[doc(alias = "VIDIOC_SUBSCRIBE_EVENT")]
    pub fn subscribe_event(&self, kind: u32, id: u32) -> Result<()> {
        sys::subscribe_event(self.fd(), kind, id, 0)
    }

    /// `VIDIOC_UNSUBSCRIBE_EVENT`: the events of type `kind` (and `id`)
    /// stop, and those pending are dropped.
    ///
    /// # Errors
    /// The kernel's errors.
    #[doc(alias = "VIDIOC_UNSUBSCRIBE_EVENT")]
    pub fn unsubscribe_event(&self, kind: u32, id: u32) -> Result<()> {
        sys::unsubscribe_event(self.fd(), kind, id)
    }

    /// `VIDIOC_DQEVENT` without waiting: the oldest pending event, `None`
    /// when there is none.
    ///
    /// # Errors
    /// The kernel's errors other than the `ENOENT` of an empty queue.
    #[doc(alias = "VIDIOC_DQEVENT")]
    pub fn dequeue_event(&self) -> Result<Option<Event>> {
        match sys::dqevent(self.fd()) {
            Ok(ev) => {
                let d = ev.data();
                let changes =
                    if ev.type_ == EVENT_SOURCE_CHANGE { u32::from_ne_bytes([d[0], d[1], d[2], d[3]]) } else { 0 };
                let secs = u64::try_from(ev.timestamp.tv_sec).unwrap_or(0);
                let nanos = u32::try_from(ev.timestamp.tv_nsec & 0xffff_ffff).unwrap_or(0).min(999_999_999);
                Ok(Some(Event {
                    kind: ev.type_,
                    changes,
                    pending: ev.pending,
                    sequence: ev.sequence,
                    timestamp: Duration::new(secs, nanos),
                    id: ev.id,
                }))
            }
            Err(e) if e.errno() == Errno::ENOENT => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `poll` for `POLLPRI` (an event is pending) up to `timeout` (`None`:
    /// no limit). Returns whether one is.
    ///
    /// # Errors
    /// The errors of `poll`.
    pub fn wait_event(&self, timeout: Option<Duration>) -> Result<bool> {
        Ok(poll_ready(self.fd(), PollFlags::POLLPRI, timeout)?.is_some())
    }

    /// [`V4l2Device::wait_event`] then [`V4l2Device::dequeue_event`]:
    /// `None` when no event came within `timeout`.
    ///
    /// # Errors
    /// As both.
    pub fn dequeue_event_timeout(&self, timeout: Option<Duration>) -> Result<Option<Event>> {
        if let Some(e) = self.dequeue_event()? {
            return Ok(Some(e));
        }
        if !self.wait_event(timeout)? {
            return Ok(None);
        }
        self.dequeue_event()
    }
}
