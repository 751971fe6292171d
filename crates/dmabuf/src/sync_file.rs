//! sync_file: a fence (or several) as an fd. Polling it for `POLLIN`
//! reports whether all its fences have signalled.
//!
//! Kernel documentation: <https://docs.kernel.org/driver-api/sync_file.html>

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc::c_char;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::dma_buf::FromFdError;
use crate::error::{Error, ErrorKind, Result};
use crate::fd::{describe, dup_cloexec, dup_raw};
use crate::sys;

/// State of a fence or of a whole sync_file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceStatus {
    /// Not yet signalled.
    Active,
    /// Signalled successfully.
    Signaled,
    /// Signalled with an error (a negative errno from the driver).
    Error(i32),
}

impl FenceStatus {
    fn from_raw(s: i32) -> FenceStatus {
        match s {
            0 => FenceStatus::Active,
            1 => FenceStatus::Signaled,
            e => FenceStatus::Error(e),
        }
    }

    /// `"active"`, `"signaled"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FenceStatus::Active => "active",
            FenceStatus::Signaled => "signaled",
            FenceStatus::Error(_) => "error",
        }
    }
}

/// One fence of a sync_file (`struct sync_fence_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FenceInfo {
    /// The driver that made the fence (`driver_name`), e.g. `vgem`, `dma_fence_array`.
    pub driver: String,
    /// Its timeline (`obj_name`).
    pub timeline: String,
    /// Its state.
    pub status: FenceStatus,
    /// When it signalled, in `CLOCK_MONOTONIC` nanoseconds; 0 while active.
    pub timestamp_ns: u64,
}

/// A sync_file's state (`SYNC_IOC_FILE_INFO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncFileInfo {
    /// Its name (given at merge time, or the driver's).
    pub name: String,
    /// Active until every fence has signalled.
    pub status: FenceStatus,
    /// Each fence.
    pub fences: Vec<FenceInfo>,
}

/// An owned sync_file fd.
pub struct SyncFile {
    fd: OwnedFd,
}

impl fmt::Debug for SyncFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncFile").field("fd", &self.fd.as_raw_fd()).finish()
    }
}

fn probe(fd: BorrowedFd<'_>, op: &'static str) -> Result<()> {
    let raw = fd.as_raw_fd();
    // fstat first so that a closed fd reports EBADF, not "not a sync_file".
    nix::sys::stat::fstat(fd).map_err(|e| Error::os(op, Some(raw), e))?;
    let link = std::fs::read_link(format!("/proc/self/fd/{raw}")).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    if link == "anon_inode:sync_file" {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::NotSyncFile, Errno::EINVAL, op, Some(raw), format!("not a sync_file (it is {})", describe(fd))))
    }
}

fn c_name(name: &[c_char]) -> String {
    let bytes: Vec<u8> = name.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl SyncFile {
    pub(crate) fn from_trusted(fd: OwnedFd) -> SyncFile {
        SyncFile { fd }
    }

    /// Takes ownership of `fd` after checking that it is a sync_file; on
    /// failure the fd is handed back in the error.
    pub fn from_fd(fd: OwnedFd) -> std::result::Result<SyncFile, FromFdError> {
        match probe(fd.as_fd(), "fstat") {
            Ok(()) => Ok(SyncFile { fd }),
            Err(error) => Err(FromFdError { error, fd }),
        }
    }

    /// Duplicates `fd` (close-on-exec) and wraps the copy; the caller keeps `fd`.
    pub fn dup_from(fd: impl AsFd) -> Result<SyncFile> {
        let fd = fd.as_fd();
        probe(fd, "fstat")?;
        Ok(SyncFile { fd: dup_cloexec(fd, "fcntl(F_DUPFD_CLOEXEC)")? })
    }

    /// Duplicates a bare fd number the caller owns and wraps the copy.
    pub fn dup_from_raw(fd: RawFd) -> Result<SyncFile> {
        let owned = dup_raw(fd, "fcntl(F_DUPFD_CLOEXEC)")?;
        probe(owned.as_fd(), "fstat").map_err(|e| Error::new(e.kind(), e.errno(), e.op(), Some(fd), e.description().into_owned()))?;
        Ok(SyncFile { fd: owned })
    }

    /// A second fd for the same fences.
    pub fn try_clone(&self) -> Result<SyncFile> {
        Ok(SyncFile { fd: dup_cloexec(self.fd.as_fd(), "fcntl(F_DUPFD_CLOEXEC)")? })
    }

    /// `SYNC_IOC_FILE_INFO`: the sync_file's name, status and fences.
    #[doc(alias = "SYNC_IOC_FILE_INFO")]
    pub fn info(&self) -> Result<SyncFileInfo> {
        let head = sys::sync_file_info(self.fd.as_fd(), &mut [])?;
        let mut fences = vec![
            sys::SyncFenceInfo { obj_name: [0; 32], driver_name: [0; 32], status: 0, flags: 0, timestamp_ns: 0 };
            head.num_fences as usize
        ];
        let full = if fences.is_empty() { head } else { sys::sync_file_info(self.fd.as_fd(), &mut fences)? };
        // A fence cannot be added to an existing sync_file, so the count is stable.
        fences.truncate(full.num_fences as usize);
        Ok(SyncFileInfo {
            name: c_name(&full.name),
            status: FenceStatus::from_raw(full.status),
            fences: fences
                .iter()
                .map(|f| FenceInfo {
                    driver: c_name(&f.driver_name),
                    timeline: c_name(&f.obj_name),
                    status: FenceStatus::from_raw(f.status),
                    timestamp_ns: f.timestamp_ns,
                })
                .collect(),
        })
    }

    /// `SYNC_IOC_MERGE`: a new sync_file that signals when both this one and
    /// `other` have. Neither input is consumed. `name` is truncated to 31 bytes.
    #[doc(alias = "SYNC_IOC_MERGE")]
    pub fn merge(&self, other: &SyncFile, name: &str) -> Result<SyncFile> {
        let mut cname = [0 as c_char; 32];
        for (d, s) in cname.iter_mut().zip(name.bytes().take(31)) {
            *d = s as c_char;
        }
        Ok(SyncFile { fd: sys::sync_merge(self.fd.as_fd(), other.fd.as_fd(), &cname)? })
    }

    /// `poll(POLLIN)` with a zero timeout: whether every fence has signalled.
    pub fn is_signaled(&self) -> Result<bool> {
        self.poll_once(PollTimeout::ZERO)
    }

    fn poll_once(&self, timeout: PollTimeout) -> Result<bool> {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => Ok(false),
            Ok(_) => Ok(fds[0].revents().is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLERR))),
            Err(e) => Err(Error::os("poll", Some(self.fd.as_raw_fd()), e)),
        }
    }

    /// Blocks in `poll(POLLIN)` until every fence has signalled (`true`) or
    /// `timeout` has passed (`false`). `None` waits for ever. Retries on `EINTR`.
    #[doc(alias = "poll")]
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let remaining = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    // Round up so that a 0.5 ms wait does not become a busy poll.
                    let ms = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
                    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
                }
            };
            match self.poll_once(remaining) {
                Err(e) if e.errno() == Errno::EINTR => continue,
                Ok(false) if deadline.is_some_and(|d| Instant::now() < d) => continue,
                other => return other,
            }
        }
    }
}

impl AsFd for SyncFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for SyncFile {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<SyncFile> for OwnedFd {
    fn from(s: SyncFile) -> OwnedFd {
        s.fd
    }
}

impl TryFrom<OwnedFd> for SyncFile {
    type Error = FromFdError;
    fn try_from(fd: OwnedFd) -> std::result::Result<Self, FromFdError> {
        SyncFile::from_fd(fd)
    }
}
