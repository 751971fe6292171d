//! The device: opening a video node (`VIDIOC_QUERYCAP`), its queues, frame
//! interval (`VIDIOC_G_PARM` / `VIDIOC_S_PARM`), input and output routing,
//! and finding the nodes of the system.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::error::{Error, ErrorKind, Result};
use crate::fd::open_node;
use crate::sys::videodev2 as sys;

use super::format::{BufType, Memory};
use super::SYSFS_DIR;

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

#[derive(Debug, Clone, Copy)]
pub(super) struct QueueState {
    pub(super) memory: Memory,
    pub(super) count: u32,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) fd: OwnedFd,
    pub(super) path: Option<PathBuf>,
    pub(super) caps: DeviceCaps,
    /// What this handle last requested per buffer type.
    pub(super) queues: Mutex<HashMap<BufType, QueueState>>,
}

/// An open V4L2 video node. Cheap to clone: clones share the open file.
///
/// The node is opened non-blocking: [`V4l2Device::dequeue`] answers `None`
/// when no buffer is ready, and [`V4l2Device::wait`] waits with `poll`.
#[derive(Debug, Clone)]
pub struct V4l2Device {
    pub(super) inner: Arc<Inner>,
}

pub(super) fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
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

    pub(super) fn adopt(fd: OwnedFd, path: Option<&Path>) -> Result<V4l2Device> {
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

    pub(super) fn raw(&self) -> RawFd {
        self.inner.fd.as_raw_fd()
    }

    pub(super) fn fd(&self) -> BorrowedFd<'_> {
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

    pub(super) fn name(&self) -> String {
        self.inner.path.as_ref().map_or_else(|| format!("fd {}", self.raw()), |p| p.display().to_string())
    }

    pub(super) fn state(&self, t: BufType) -> Option<QueueState> {
        self.inner.queues.lock().unwrap_or_else(PoisonError::into_inner).get(&t).copied()
    }

    pub(super) fn set_state(&self, t: BufType, s: QueueState) {
        self.inner.queues.lock().unwrap_or_else(PoisonError::into_inner).insert(t, s);
    }

    pub(super) fn check_type(&self, op: &'static str, t: BufType) -> Result<()> {
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
        sys::s_parm(self.fd(), &mut arg)?;
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
        sys::g_parm(self.fd(), &mut arg)?;
        Ok((arg.numerator, arg.denominator, arg.capability & sys::V4L2_CAP_TIMEPERFRAME != 0))
    }

    /// `VIDIOC_G_INPUT` (`output` false) or `VIDIOC_G_OUTPUT`.
    ///
    /// # Errors
    /// `ENOTTY` on nodes without inputs (or outputs).
    #[doc(alias = "VIDIOC_G_INPUT")]
    #[doc(alias = "VIDIOC_G_OUTPUT")]
    pub fn route(&self, output: bool) -> Result<u32> {
        if output {
            sys::g_output(self.fd())
        } else {
            sys::g_input(self.fd())
        }
    }

    /// `VIDIOC_S_INPUT` (`output` false) or `VIDIOC_S_OUTPUT`: selects the
    /// node's input or output by index.
    ///
    /// # Errors
    /// `EINVAL` for an index past the last; `EBUSY` while buffers exist.
    #[doc(alias = "VIDIOC_S_INPUT")]
    #[doc(alias = "VIDIOC_S_OUTPUT")]
    pub fn set_route(&self, output: bool, index: u32) -> Result<()> {
        if output {
            sys::s_output(self.fd(), index)
        } else {
            sys::s_input(self.fd(), index)
        }
    }
}

impl AsFd for V4l2Device {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
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
