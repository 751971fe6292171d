//! V4L2: device buffers exported as dma-bufs (`VIDIOC_EXPBUF`, Linux 3.8),
//! dma-bufs from any source imported into a queue (`V4L2_MEMORY_DMABUF`),
//! and the small amount of streaming a dma-buf pipeline needs.
//!
//! This is a helper for dma-buf work, not a V4L2 library: it opens a video
//! node, reads and sets its format, requests buffers, exports them, queues,
//! dequeues, streams, and gets or sets a control. Memory-to-memory codecs
//! (encoders, decoders) and converters are driven through [`M2mDevice`]. Single- and multi-planar
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
//!
//! ## Files, by role (as v4l2r)
//!
//! | file | what |
//! |---|---|
//! | `device.rs` | [`V4l2Device`]: opening a node, its capabilities, frame interval, input and output routing; [`list`] |
//! | `format.rs` | [`BufType`], [`Memory`], [`Format`], fourcc codes; `VIDIOC_ENUM_FMT`, `VIDIOC_G_FMT`/`S_FMT`/`TRY_FMT`, `VIDIOC_G_SELECTION`/`S_SELECTION` |
//! | `buffer.rs` | requesting, creating, querying, exporting (`VIDIOC_EXPBUF`), queueing and dequeueing MMAP buffers; streaming |
//! | `queue.rs` | [`DmaBufQueue`]: dma-bufs imported into a queue (`V4L2_MEMORY_DMABUF`) |
//! | `controls.rs` | controls: [`V4l2Device::control`], [`V4l2Device::controls`]; extended controls ([`V4l2Device::ext_controls`], [`V4l2Device::set_ext_controls`], [`V4l2Device::try_ext_controls`]) and menus ([`V4l2Device::menu_items`]) |
//! | `events.rs` | events: `VIDIOC_SUBSCRIBE_EVENT`, `VIDIOC_DQEVENT` ([`V4l2Device::dequeue_event`], `POLLPRI`) |
//! | `m2m.rs` | [`M2mDevice`]: memory-to-memory codecs and converters, both queues on one fd, the stateful encoder and decoder flows ([`CodecState`]), drain and start commands; [`list_m2m`] |
//!
//! The `repr(C)` structs, their unions and one function per ioctl are in
//! `sys/videodev2.rs`.
//!
//! [`DmaBuf`]: crate::DmaBuf

mod buffer;
mod controls;
mod device;
mod events;
mod format;
mod m2m;
mod queue;

pub use buffer::{BufferInfo, PlaneInfo, BUF_FLAG_ERROR, BUF_FLAG_LAST};
pub use controls::{ControlInfo, ControlValue, MenuItem};
pub use device::{list, DeviceCaps, V4l2Device, VideoNode};
pub use events::{Event, EVENT_EOS, EVENT_SOURCE_CHANGE, SRC_CH_RESOLUTION};
pub use format::{
    fourcc, fourcc_name, BufType, Format, FormatDesc, Memory, PlaneFormat, Rect, SEL_TGT_COMPOSE, SEL_TGT_CROP,
};
pub use m2m::{list_m2m, CodecState, M2mBuffer, M2mDevice, M2mNode, Queue, Role};
pub use queue::{Dequeued, DmaBufQueue, PlaneData, QueueError};

/// Where V4L2 nodes are described (`/sys/class/video4linux/videoN/name`).
pub const SYSFS_DIR: &str = "/sys/class/video4linux";

#[cfg(test)]
mod tests {
    use nix::errno::Errno;

    use super::buffer::expbuf_error;
    use super::*;
    use crate::error::{Error, ErrorKind};

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
