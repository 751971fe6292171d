//! DVB: a demux's filter buffers exported as dma-bufs (`/dev/dvb/adapterN/demuxM`,
//! `DMX_REQBUFS`, `DMX_QUERYBUF`, `DMX_EXPBUF`, `DMX_QBUF`, `DMX_DQBUF`),
//! the filter set-up that fills them (`DMX_SET_PES_FILTER`,
//! `DMX_SET_FILTER`, `DMX_START`, `DMX_STOP`), and enough of the frontend
//! to tune (`FE_SET_PROPERTY`, `FE_GET_PROPERTY`, `FE_READ_STATUS`).
//!
//! The demux's buffer API exists only in kernels built with
//! `CONFIG_DVB_MMAP` (Linux 4.16, still marked experimental; Debian's and
//! most distributions' kernels leave it off): elsewhere its ioctls answer
//! `ENOTTY`, which this module reports as [`ErrorKind::Unsupported`]
//! naming the option.
//!
//! How the kernel fills the buffers (`drivers/media/dvb-core/dvb_vb2.c`):
//! the first `DMX_QBUF` starts streaming, which lasts until the demux is
//! closed; a buffer is handed back once it is full (section filters: once
//! a section ends), so give TS filters a size that is a multiple of 188
//! bytes (see [`TS_PACKET_SIZE`]) to keep packets from straddling two
//! buffers. Each open demux fd is one filter with its own buffers. An
//! exported buffer stays valid after the demux is closed.
//!
//! Kernel documentation: <https://docs.kernel.org/userspace-api/media/dvb/dmx_fcalls.html>

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::PollFlags;

use crate::dma_buf::{Access, DmaBuf};
use crate::error::{Error, ErrorKind, Result};
use crate::fd::{check_device, dup_cloexec, link, list_dir, open_node, poll_ready};
use crate::sys::dmx as sys;
use crate::sys::frontend as fe;

/// Where DVB adapters live.
pub const DVB_DIR: &str = "/dev/dvb";

/// Bytes in an MPEG transport stream packet.
pub const TS_PACKET_SIZE: u32 = 188;

/// The first byte of every MPEG-TS packet.
pub const TS_SYNC_BYTE: u8 = 0x47;

/// The PID that a PES filter uses for the whole transport stream.
pub const PID_ALL: u16 = 0x2000;

/// The kernel's limit on one demux buffer (`DVB_V2_MAX_SIZE`, 4096 TS
/// packets): larger requests are cut down to it.
pub const MAX_BUFFER_SIZE: u32 = 4096 * TS_PACKET_SIZE;

/// The demux and frontend nodes of every adapter under `/dev/dvb`, sorted
/// (`/dev/dvb/adapter0/demux0`, ...). Empty when there are none.
///
/// # Errors
/// When `/dev/dvb` or an adapter exists but cannot be listed.
pub fn list_demuxes() -> Result<Vec<PathBuf>> {
    list_nodes("demux")
}

/// The frontend nodes of every adapter (`/dev/dvb/adapter0/frontend0`, ...).
///
/// # Errors
/// As [`list_demuxes`].
pub fn list_frontends() -> Result<Vec<PathBuf>> {
    list_nodes("frontend")
}

fn list_nodes(kind: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for adapter in list_dir(Path::new(DVB_DIR), "readdir")? {
        if !adapter.starts_with("adapter") {
            continue;
        }
        let dir = Path::new(DVB_DIR).join(&adapter);
        for node in list_dir(&dir, "readdir")? {
            if node.strip_prefix(kind).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
                out.push(dir.join(node));
            }
        }
    }
    Ok(out)
}

/// The error for a DVB node of the wrong kind (or no DVB node at all).
fn check_dvb(fd: BorrowedFd<'_>, path: &Path, kind: &str, what: &str) -> Result<()> {
    check_device(fd, path, "dvb", what)?;
    // The device's sysfs name is dvbA.demuxN / dvbA.frontendN.
    let st = crate::fd::stat(fd).map_err(|e| Error::os("fstat", Some(fd.as_raw_fd()), e))?;
    let (major, minor) = (nix::sys::stat::major(st.st_rdev), nix::sys::stat::minor(st.st_rdev));
    let Ok(target) = std::fs::read_link(format!("/sys/dev/char/{major}:{minor}")) else { return Ok(()) };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.contains(&format!(".{kind}")) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            Errno::ENOTTY,
            "open",
            None,
            format!("{} is not a {what} (it is the DVB device {name})", path.display()),
        ))
    }
}

/// `ENOTTY` from a demux buffer ioctl: this kernel's DVB core has no
/// memory-mapped buffer API. Other errors pass through.
pub(crate) fn no_dvb_mmap(e: Error) -> Error {
    if e.errno() != Errno::ENOTTY {
        return e;
    }
    let op = e.op();
    e.with_kind(ErrorKind::Unsupported).with_detail(format!(
        "the demux answered {op} with ENOTTY: this kernel is built without CONFIG_DVB_MMAP \
         (the DVB demux's buffer API, Linux 4.16+, off in most distributions' kernels), so DVB \
         buffers cannot be exported; build the kernel with CONFIG_DVB_MMAP=y"
    ))
}

/// Where a PES filter sends what it passes (`enum dmx_output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PesOutput {
    /// `DMX_OUT_DECODER`: to a hardware decoder (nothing reaches the buffers).
    Decoder,
    /// `DMX_OUT_TAP`: the PES payload, to this demux's buffers.
    Tap,
    /// `DMX_OUT_TS_TAP`: whole TS packets, to the adapter's `dvr` node.
    TsTap,
    /// `DMX_OUT_TSDEMUX_TAP`: whole TS packets, to this demux's buffers.
    TsDemuxTap,
}

impl PesOutput {
    fn raw(self) -> u32 {
        match self {
            PesOutput::Decoder => 0,
            PesOutput::Tap => 1,
            PesOutput::TsTap => 2,
            PesOutput::TsDemuxTap => 3,
        }
    }

    /// The output whose `enum dmx_output` value is `raw` (0 to 3), as the
    /// bindings take it; `None` for any other number.
    #[must_use]
    pub fn from_raw(raw: u32) -> Option<PesOutput> {
        [PesOutput::Decoder, PesOutput::Tap, PesOutput::TsTap, PesOutput::TsDemuxTap]
            .into_iter()
            .find(|o| o.raw() == raw)
    }
}

/// `DMX_PES_OTHER`: a PES filter not tied to a decoder.
pub const PES_OTHER: u32 = 20;

/// `DMX_CHECK_CRC`: drop sections whose CRC does not match.
pub const SECTION_CHECK_CRC: u32 = 1;
/// `DMX_ONESHOT`: stop after one section.
pub const SECTION_ONESHOT: u32 = 2;

/// A section filter (`struct dmx_sct_filter_params`): a section of `pid`
/// passes when its first bytes (without the two length bytes) match
/// `filter` where `mask` has bits set (and `mode` says equal or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionFilter {
    /// Packet id.
    pub pid: u16,
    /// Bytes to match.
    pub filter: [u8; 16],
    /// Which bits of `filter` count.
    pub mask: [u8; 16],
    /// Bits set: match on "not equal" for those bits.
    pub mode: [u8; 16],
    /// Milliseconds before the kernel gives up waiting (0: never).
    pub timeout_ms: u32,
    /// [`SECTION_CHECK_CRC`], [`SECTION_ONESHOT`].
    pub flags: u32,
}

impl SectionFilter {
    /// Every section of `pid`, CRC checked.
    #[must_use]
    pub fn pid(pid: u16) -> SectionFilter {
        SectionFilter { pid, filter: [0; 16], mask: [0; 16], mode: [0; 16], timeout_ms: 0, flags: SECTION_CHECK_CRC }
    }
}

/// What `DMX_QUERYBUF` and `DMX_DQBUF` say about a buffer (`struct dmx_buffer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DvbBuffer {
    /// Its index, `0..count`.
    pub index: u32,
    /// Bytes of data in it (after `DMX_DQBUF`).
    pub bytesused: u32,
    /// Its offset for `mmap` on the demux fd.
    pub offset: u32,
    /// Its size in bytes.
    pub length: u32,
    /// `DMX_BUFFER_FLAG_*`: CRC discards, transport errors, discontinuities
    /// seen while it filled.
    pub flags: u32,
    /// A counter of dequeued buffers (0, 1, 2, ...), to notice lost ones.
    pub count: u32,
}

impl From<sys::DmxBuffer> for DvbBuffer {
    fn from(b: sys::DmxBuffer) -> DvbBuffer {
        DvbBuffer {
            index: b.index,
            bytesused: b.bytesused,
            offset: b.offset,
            length: b.length,
            flags: b.flags,
            count: b.count,
        }
    }
}

/// `EINVAL` from an ioctl that takes a buffer index says which.
fn bad_index(e: Error, index: u32) -> Error {
    if e.errno() == Errno::EINVAL {
        e.with_detail(format!("no buffer {index} on this demux (request_buffers sets how many there are)"))
    } else {
        e
    }
}

/// An open DVB demux: one filter, and the buffers its data goes to.
#[derive(Debug)]
pub struct Demux {
    fd: OwnedFd,
}

impl Demux {
    /// `open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)` of a demux node, such as
    /// `/dev/dvb/adapter0/demux0`, checked (through sysfs) to be a demux.
    /// Non-blocking: [`Demux::dequeue`] waits with `poll`, not in the ioctl.
    ///
    /// # Errors
    /// `NotFound` for a missing node (with a hint about `CONFIG_DVB_CORE`),
    /// `PermissionDenied`, `InvalidArgument` (`ENOTTY`) for anything that
    /// is not a DVB demux.
    pub fn open(path: impl AsRef<Path>) -> Result<Demux> {
        let path = path.as_ref();
        let fd = open_node(path, OFlag::O_RDWR | OFlag::O_NONBLOCK, "DVB demux", "CONFIG_DVB_CORE and a DVB driver")?;
        check_dvb(fd.as_fd(), path, "demux", "DVB demux")?;
        Ok(Demux { fd })
    }

    /// Duplicates (`F_DUPFD_CLOEXEC`) an open demux fd that the caller keeps:
    /// both name the same filter and buffers.
    ///
    /// # Errors
    /// `EBADF`, `EMFILE`; `InvalidArgument` (`ENOTTY`) for anything that is
    /// not a DVB demux.
    pub fn dup_from(fd: impl AsFd) -> Result<Demux> {
        let fd = fd.as_fd();
        let path = PathBuf::from(link(fd));
        check_dvb(fd, &path, "demux", "DVB demux").map_err(|e| e.with_fd(fd.as_raw_fd()))?;
        Ok(Demux { fd: dup_cloexec(fd)? })
    }

    /// Another handle to the same filter (`F_DUPFD_CLOEXEC`).
    ///
    /// # Errors
    /// `EMFILE`.
    pub fn try_clone(&self) -> Result<Demux> {
        Ok(Demux { fd: dup_cloexec(self.fd.as_fd())? })
    }

    /// `DMX_SET_PES_FILTER`: pass the TS packets (or PES payload) of `pid`
    /// ([`PID_ALL`]: the whole stream) to `output`; starts it at once when
    /// `start` is true (`DMX_IMMEDIATE_START`), else at [`Demux::start`].
    ///
    /// # Errors
    /// `EINVAL` for a PID past 0x2000 or a filter the demux cannot set up;
    /// `EBUSY` when another filter of the adapter feeds the decoder.
    #[doc(alias = "DMX_SET_PES_FILTER")]
    pub fn set_pes_filter(&self, pid: u16, output: PesOutput, start: bool) -> Result<()> {
        if pid > PID_ALL {
            return Err(Error::invalid(
                "DMX_SET_PES_FILTER",
                Some(self.fd.as_raw_fd()),
                format!("PID {pid:#x} is past 0x2000 (0x2000 means every PID)"),
            ));
        }
        let params = sys::DmxPesFilterParams {
            pid,
            input: 0, // DMX_IN_FRONTEND
            output: output.raw(),
            pes_type: PES_OTHER,
            flags: if start { 4 } else { 0 },
        };
        sys::set_pes_filter(self.fd.as_fd(), &params)
    }

    /// `DMX_SET_FILTER`: pass the sections that `filter` matches; starts it
    /// at once when `start` is true.
    ///
    /// # Errors
    /// `EINVAL` for a PID past 0x1fff or unknown flags.
    #[doc(alias = "DMX_SET_FILTER")]
    pub fn set_section_filter(&self, filter: &SectionFilter, start: bool) -> Result<()> {
        let params = sys::DmxSctFilterParams {
            pid: filter.pid,
            filter: sys::DmxFilter { filter: filter.filter, mask: filter.mask, mode: filter.mode },
            timeout: filter.timeout_ms,
            flags: filter.flags | if start { 4 } else { 0 },
        };
        sys::set_filter(self.fd.as_fd(), &params)
    }

    /// `DMX_START`: starts the filter set up last.
    ///
    /// # Errors
    /// `EINVAL` when no filter is set.
    #[doc(alias = "DMX_START")]
    pub fn start(&self) -> Result<()> {
        sys::start(self.fd.as_fd())
    }

    /// `DMX_STOP`: stops the filter (buffers stay queued; streaming goes on
    /// until the demux is closed).
    ///
    /// # Errors
    /// Hardly any: stopping a stopped filter succeeds.
    #[doc(alias = "DMX_STOP")]
    pub fn stop(&self) -> Result<()> {
        sys::stop(self.fd.as_fd())
    }

    /// `DMX_SET_BUFFER_SIZE`: the size of the filter's ring buffer, the one
    /// `read()` drains before [`Demux::request_buffers`] switches to
    /// buffers (default 8 KiB).
    ///
    /// # Errors
    /// `EBUSY` while the filter runs; `ENOMEM`.
    #[doc(alias = "DMX_SET_BUFFER_SIZE")]
    pub fn set_buffer_size(&self, size: u32) -> Result<()> {
        let size = i32::try_from(size).map_err(|_| {
            Error::invalid("DMX_SET_BUFFER_SIZE", Some(self.fd.as_raw_fd()), format!("{size} bytes is too large"))
        })?;
        sys::set_buffer_size(self.fd.as_fd(), size)
    }

    /// `DMX_REQBUFS`: allocates `count` buffers of `size` bytes each (the
    /// kernel caps `size` at [`MAX_BUFFER_SIZE`] and may grant fewer
    /// buffers); returns `(count, size)` as granted. `count == 0` frees them
    /// (not while streaming).
    ///
    /// # Errors
    /// `Unsupported` naming `CONFIG_DVB_MMAP` on a kernel without the
    /// buffer API; `EBUSY` once streaming (the first [`Demux::queue`]);
    /// `InvalidArgument` for a zero size.
    #[doc(alias = "DMX_REQBUFS")]
    pub fn request_buffers(&self, count: u32, size: u32) -> Result<(u32, u32)> {
        if size == 0 && count != 0 {
            return Err(Error::invalid("DMX_REQBUFS", Some(self.fd.as_raw_fd()), "the buffer size must not be 0"));
        }
        let r = sys::reqbufs(self.fd.as_fd(), count, size).map_err(no_dvb_mmap)?;
        Ok((r.count, r.size))
    }

    /// `DMX_QUERYBUF`: buffer `index`'s size and mmap offset.
    ///
    /// # Errors
    /// `EINVAL` for an index past the buffers requested; `Unsupported`
    /// without `CONFIG_DVB_MMAP`.
    #[doc(alias = "DMX_QUERYBUF")]
    pub fn query_buffer(&self, index: u32) -> Result<DvbBuffer> {
        sys::querybuf(self.fd.as_fd(), index).map(DvbBuffer::from).map_err(|e| bad_index(no_dvb_mmap(e), index))
    }

    /// `DMX_EXPBUF`: buffer `index` as a close-on-exec [`DmaBuf`], opened
    /// read-only for [`Access::Read`] and read-write otherwise. It stays
    /// valid after the demux is closed. The demux writes into it whenever
    /// it is queued: read it between [`Demux::dequeue`] and the next
    /// [`Demux::queue`].
    ///
    /// # Errors
    /// `EINVAL` for a bad index (or no buffers requested); `Unsupported`
    /// without `CONFIG_DVB_MMAP`.
    #[doc(alias = "DMX_EXPBUF")]
    pub fn export_buffer(&self, index: u32, access: Access) -> Result<DmaBuf> {
        let mode = if access == Access::Read { OFlag::O_RDONLY } else { OFlag::O_RDWR };
        let flags = (OFlag::O_CLOEXEC | mode).bits();
        #[allow(clippy::cast_sign_loss)] // Reason: open flags are non-negative bit sets.
        let fd = sys::expbuf(self.fd.as_fd(), index, flags as u32).map_err(|e| bad_index(no_dvb_mmap(e), index))?;
        DmaBuf::from_trusted(fd)
    }

    /// `DMX_QBUF`: hands buffer `index` to the demux to fill. The first
    /// one starts streaming.
    ///
    /// # Errors
    /// `EINVAL` for a bad index or a buffer already queued; `Unsupported`
    /// without `CONFIG_DVB_MMAP`.
    #[doc(alias = "DMX_QBUF")]
    pub fn queue(&self, index: u32) -> Result<()> {
        sys::qbuf(self.fd.as_fd(), index).map_err(|e| {
            let e = no_dvb_mmap(e);
            if e.errno() == Errno::EINVAL {
                e.with_detail(format!(
                    "buffer {index} cannot be queued: no such buffer (see request_buffers), or it is queued already"
                ))
            } else {
                e
            }
        })
    }

    /// `DMX_DQBUF` without waiting: the next filled buffer, or `None` when
    /// none is ready yet.
    ///
    /// # Errors
    /// `EINVAL` before the first [`Demux::queue`] (not streaming);
    /// `Unsupported` without `CONFIG_DVB_MMAP`.
    #[doc(alias = "DMX_DQBUF")]
    pub fn try_dequeue(&self) -> Result<Option<DvbBuffer>> {
        match sys::dqbuf(self.fd.as_fd()) {
            Ok(b) => Ok(Some(b.into())),
            Err(e) if e.errno() == Errno::EAGAIN => Ok(None),
            Err(e) if e.errno() == Errno::EINVAL => Err(e.with_detail(
                "nothing to dequeue: no buffer has been queued on this demux yet (the first DMX_QBUF starts streaming)",
            )),
            Err(e) => Err(no_dvb_mmap(e)),
        }
    }

    /// `poll` then `DMX_DQBUF`: waits up to `timeout` (`None`: for ever) for
    /// a filled buffer; `None` when the time ran out. A buffer is handed
    /// back when full, so a slow stream and large buffers mean long waits.
    ///
    /// # Errors
    /// As [`Demux::try_dequeue`]; `poll`'s errors.
    #[doc(alias = "DMX_DQBUF")]
    pub fn dequeue(&self, timeout: Option<Duration>) -> Result<Option<DvbBuffer>> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if let Some(b) = self.try_dequeue()? {
                return Ok(Some(b));
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.saturating_duration_since(Instant::now()) {
                    left if left.is_zero() => return Ok(None),
                    left => Some(left),
                },
            };
            poll_ready(self.fd.as_fd(), PollFlags::POLLIN, left)?;
        }
    }
}

impl AsFd for Demux {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Demux {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<Demux> for OwnedFd {
    fn from(d: Demux) -> OwnedFd {
        d.fd
    }
}

/// Frontend property commands (`DTV_*` of `<linux/dvb/frontend.h>`) for
/// [`Frontend::set_properties`] and [`Frontend::get_properties`].
pub mod prop {
    /// `DTV_TUNE`: tune with the properties set so far.
    pub const TUNE: u32 = 1;
    /// `DTV_CLEAR`: forget the properties set so far.
    pub const CLEAR: u32 = 2;
    /// `DTV_FREQUENCY`: Hz for terrestrial and cable, kHz for satellite.
    pub const FREQUENCY: u32 = 3;
    /// `DTV_MODULATION`.
    pub const MODULATION: u32 = 4;
    /// `DTV_BANDWIDTH_HZ`.
    pub const BANDWIDTH_HZ: u32 = 5;
    /// `DTV_INVERSION`.
    pub const INVERSION: u32 = 6;
    /// `DTV_SYMBOL_RATE`.
    pub const SYMBOL_RATE: u32 = 8;
    /// `DTV_INNER_FEC`.
    pub const INNER_FEC: u32 = 9;
    /// `DTV_DELIVERY_SYSTEM`: one of the `SYS_*` constants.
    pub const DELIVERY_SYSTEM: u32 = 17;
    /// `DTV_API_VERSION`: the DVB API version, major << 8 | minor.
    pub const API_VERSION: u32 = 35;
    /// `DTV_CODE_RATE_HP`.
    pub const CODE_RATE_HP: u32 = 36;
    /// `DTV_CODE_RATE_LP`.
    pub const CODE_RATE_LP: u32 = 37;
    /// `DTV_GUARD_INTERVAL`.
    pub const GUARD_INTERVAL: u32 = 38;
    /// `DTV_TRANSMISSION_MODE`.
    pub const TRANSMISSION_MODE: u32 = 39;
    /// `DTV_HIERARCHY`.
    pub const HIERARCHY: u32 = 40;
    /// `SYS_DVBC_ANNEX_A`, a value of [`DELIVERY_SYSTEM`].
    pub const SYS_DVBC_ANNEX_A: u32 = 1;
    /// `SYS_DVBT`.
    pub const SYS_DVBT: u32 = 3;
    /// `SYS_DVBS`.
    pub const SYS_DVBS: u32 = 5;
    /// `SYS_DVBS2`.
    pub const SYS_DVBS2: u32 = 6;
    /// `SYS_ISDBT`.
    pub const SYS_ISDBT: u32 = 8;
    /// `SYS_DVBT2`.
    pub const SYS_DVBT2: u32 = 16;
}

/// `FE_HAS_*` bits of [`Frontend::status`].
pub mod status {
    /// `FE_HAS_SIGNAL`: something above the noise.
    pub const HAS_SIGNAL: u32 = 0x01;
    /// `FE_HAS_CARRIER`.
    pub const HAS_CARRIER: u32 = 0x02;
    /// `FE_HAS_VITERBI`: inner coding stable.
    pub const HAS_VITERBI: u32 = 0x04;
    /// `FE_HAS_SYNC`: sync bytes found.
    pub const HAS_SYNC: u32 = 0x08;
    /// `FE_HAS_LOCK`: locked; data flows.
    pub const HAS_LOCK: u32 = 0x10;
    /// `FE_TIMEDOUT`: no lock within the driver's time.
    pub const TIMEDOUT: u32 = 0x20;
}

/// What `FE_GET_INFO` says about a frontend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendInfo {
    /// The driver's name for it (vidtv: "Dummy demod for DVB-T/T2/C/S/S2").
    pub name: String,
    /// Lowest frequency (Hz; kHz for satellite).
    pub frequency_min: u32,
    /// Highest frequency.
    pub frequency_max: u32,
    /// Tuning step.
    pub frequency_stepsize: u32,
    /// `FE_CAN_*` bits.
    pub caps: u32,
}

/// An open DVB frontend (`/dev/dvb/adapterN/frontendM`), for tuning.
#[derive(Debug)]
pub struct Frontend {
    fd: OwnedFd,
}

impl Frontend {
    /// `open(path, O_RDWR | O_CLOEXEC)`: read-write, as tuning needs (only
    /// one process may hold a frontend read-write).
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied`, `EBUSY` when another process has it
    /// open read-write; `InvalidArgument` (`ENOTTY`) for anything that is
    /// not a DVB frontend.
    pub fn open(path: impl AsRef<Path>) -> Result<Frontend> {
        let path = path.as_ref();
        let fd = open_node(path, OFlag::O_RDWR, "DVB frontend", "CONFIG_DVB_CORE and a DVB driver")?;
        check_dvb(fd.as_fd(), path, "frontend", "DVB frontend")?;
        Ok(Frontend { fd })
    }

    /// `FE_GET_INFO`.
    ///
    /// # Errors
    /// The kernel's (hardly any on a frontend).
    #[doc(alias = "FE_GET_INFO")]
    pub fn info(&self) -> Result<FrontendInfo> {
        let i = fe::get_info(self.fd.as_fd())?;
        Ok(FrontendInfo {
            name: crate::sys::c_chars(&i.name),
            frequency_min: i.frequency_min,
            frequency_max: i.frequency_max,
            frequency_stepsize: i.frequency_stepsize,
            caps: i.caps,
        })
    }

    /// `FE_READ_STATUS`: the [`status`] bits.
    ///
    /// # Errors
    /// The kernel's.
    #[doc(alias = "FE_READ_STATUS")]
    pub fn status(&self) -> Result<u32> {
        fe::read_status(self.fd.as_fd())
    }

    /// `FE_SET_PROPERTY`: sets `(command, value)` pairs in order, such as
    /// `[(prop::CLEAR, 0), (prop::DELIVERY_SYSTEM, prop::SYS_DVBT),
    /// (prop::FREQUENCY, 474_000_000), (prop::TUNE, 0)]`; at most 64.
    ///
    /// # Errors
    /// `InvalidArgument` for none or more than 64; the kernel's `EINVAL`
    /// for a command or value the frontend refuses.
    #[doc(alias = "FE_SET_PROPERTY")]
    pub fn set_properties(&self, props: &[(u32, u32)]) -> Result<()> {
        let mut raw: Vec<fe::DtvProperty> = props.iter().map(|&(c, v)| fe::DtvProperty::new(c, v)).collect();
        fe::set_property(self.fd.as_fd(), &mut raw)
    }

    /// `FE_GET_PROPERTY`: the value of each command, in order.
    ///
    /// # Errors
    /// As [`Frontend::set_properties`].
    #[doc(alias = "FE_GET_PROPERTY")]
    pub fn get_properties(&self, cmds: &[u32]) -> Result<Vec<u32>> {
        let mut raw: Vec<fe::DtvProperty> = cmds.iter().map(|&c| fe::DtvProperty::new(c, 0)).collect();
        fe::get_property(self.fd.as_fd(), &mut raw)?;
        Ok(raw.iter().map(|p| p.data).collect())
    }

    /// Tunes: `DTV_CLEAR`, the delivery system, the frequency, `extra`
    /// properties, then `DTV_TUNE`, in one `FE_SET_PROPERTY`. Returns at
    /// once: see [`Frontend::wait_for_lock`].
    ///
    /// # Errors
    /// As [`Frontend::set_properties`].
    pub fn tune(&self, delivery_system: u32, frequency: u32, extra: &[(u32, u32)]) -> Result<()> {
        let mut props = vec![(prop::CLEAR, 0), (prop::DELIVERY_SYSTEM, delivery_system), (prop::FREQUENCY, frequency)];
        props.extend_from_slice(extra);
        props.push((prop::TUNE, 0));
        self.set_properties(&props)
    }

    /// Reads the status every 10 ms until it has `FE_HAS_LOCK` (true) or
    /// `timeout` passes (false).
    ///
    /// # Errors
    /// As [`Frontend::status`].
    pub fn wait_for_lock(&self, timeout: Duration) -> Result<bool> {
        let start = Instant::now();
        loop {
            if self.status()? & status::HAS_LOCK != 0 {
                return Ok(true);
            }
            if start.elapsed() >= timeout {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl AsFd for Frontend {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Whether DVB buffer export works on `path`'s demux: `DMX_QUERYBUF` of
/// buffer 0 on a fresh filter answers `EINVAL` (no buffers yet) where the
/// buffer API exists and `ENOTTY` where it does not. Nothing is allocated
/// and the filter is closed again. `None` when the demux cannot be opened.
pub(crate) fn probe_export(path: &Path) -> Result<Option<bool>> {
    let demux = match Demux::open(path) {
        Ok(d) => d,
        Err(e) if matches!(e.errno(), Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM) => return Err(e),
        Err(_) => return Ok(None),
    };
    Ok(Some(match sys::querybuf(demux.fd.as_fd(), 0) {
        Err(e) => e.errno() != Errno::ENOTTY,
        Ok(_) => true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real `ENOTTY`: `DMX_REQBUFS` on a file that is no demux (here
    /// `/dev/null`, as a kernel without `CONFIG_DVB_MMAP` answers on a
    /// demux), through the mapping the demux methods apply.
    #[test]
    fn enotty_from_the_buffer_ioctls_names_config_dvb_mmap() {
        let null = std::fs::File::open("/dev/null").expect("open /dev/null");
        let e = sys::reqbufs(null.as_fd(), 4, 188 * 16).expect_err("/dev/null has no DMX_REQBUFS");
        assert_eq!(e.errno(), Errno::ENOTTY);
        let e = no_dvb_mmap(e);
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(e.op(), "DMX_REQBUFS");
        let text = e.to_string();
        assert!(text.contains("CONFIG_DVB_MMAP"), "{text}");
        assert!(text.contains("ENOTTY"), "{text}");
        // Other errors pass through unchanged.
        let other = no_dvb_mmap(Error::os("DMX_QBUF", None, Errno::EINVAL));
        assert_eq!((other.kind(), other.errno()), (ErrorKind::Os, Errno::EINVAL));
    }

    #[test]
    fn pes_outputs_round_trip_through_their_uapi_numbers() {
        for raw in 0..4 {
            let o = PesOutput::from_raw(raw).expect("0 to 3 are outputs");
            assert_eq!(o.raw(), raw);
        }
        assert_eq!(PesOutput::from_raw(3), Some(PesOutput::TsDemuxTap));
        assert_eq!(PesOutput::from_raw(4), None);
        assert_eq!(PesOutput::from_raw(u32::MAX), None);
    }

    #[test]
    fn a_file_that_is_no_demux_is_refused_by_name() {
        let e = Demux::open("/dev/null").expect_err("/dev/null is no demux");
        assert_eq!((e.kind(), e.errno()), (ErrorKind::InvalidArgument, Errno::ENOTTY));
        assert!(e.to_string().contains("is not a DVB demux"), "{e}");
        let null = std::fs::File::open("/dev/null").expect("open /dev/null");
        let e = Demux::dup_from(&null).expect_err("/dev/null is no demux");
        assert!(e.to_string().contains("is not a DVB demux"), "{e}");
        let e = Frontend::open("/dev/null").expect_err("/dev/null is no frontend");
        assert!(e.to_string().contains("is not a DVB frontend"), "{e}");
        let e = Demux::open("/dev/dvb/adapter99/demux0").expect_err("no such adapter");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("CONFIG_DVB_CORE"), "{e}");
    }
}
