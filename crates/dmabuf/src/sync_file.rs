//! `sync_file`: a fence (or several) as an fd. Polling it for `POLLIN`
//! reports whether all its fences have signalled.
//!
//! Kernel documentation: <https://docs.kernel.org/driver-api/sync_file.html>

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::libc::c_char;
use nix::poll::PollFlags;

use crate::error::{Error, ErrorKind, FromFdError, Result};
use crate::fd::{describe, dup_cloexec, dup_raw, link, poll_ready};
use crate::sys::sync_file as sys;

/// State of a fence or of a whole `sync_file`.
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

/// One fence of a `sync_file` (`struct sync_fence_info`).
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

/// A `sync_file`'s state (`SYNC_IOC_FILE_INFO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncFileInfo {
    /// Its name (given at merge time, or the driver's).
    pub name: String,
    /// Active until every fence has signalled.
    pub status: FenceStatus,
    /// Each fence.
    pub fences: Vec<FenceInfo>,
}

/// An owned `sync_file` fd.
pub struct SyncFile {
    fd: OwnedFd,
}

impl fmt::Debug for SyncFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncFile").field("fd", &self.fd.as_raw_fd()).finish()
    }
}

/// Checks that `fd` is a `sync_file` (its link is `anon_inode:sync_file`).
fn probe(fd: BorrowedFd<'_>, op: &'static str) -> Result<()> {
    let raw = fd.as_raw_fd();
    // fstat first so that a closed fd reports EBADF, not "not a sync_file".
    crate::fd::stat(fd).map_err(|e| Error::os(op, Some(raw), e))?;
    if link(fd) == "anon_inode:sync_file" {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::NotSyncFile,
            Errno::EINVAL,
            op,
            Some(raw),
            format!("not a sync_file (it is {})", describe(fd)),
        ))
    }
}

impl SyncFile {
    /// Wraps an fd the kernel just returned as a `sync_file`.
    pub(crate) fn from_trusted(fd: OwnedFd) -> SyncFile {
        SyncFile { fd }
    }

    /// Adopts `fd` after checking that it is a `sync_file`: the `SyncFile`
    /// owns it from now on and closes it on drop. The same as
    /// `SyncFile::try_from(fd)`. To wrap an fd that stays yours, see
    /// [`SyncFile::dup_from`] and [`SyncFile::dup_from_raw`] (which is what
    /// JavaScript's `SyncFile.fromFd` does).
    ///
    /// # Errors
    /// `NotSyncFile` (`EINVAL`) for any other kind of file, with the fd
    /// handed back in the [`FromFdError`].
    pub fn from_owned(fd: OwnedFd) -> std::result::Result<SyncFile, FromFdError> {
        match probe(fd.as_fd(), "fstat") {
            Ok(()) => Ok(SyncFile { fd }),
            Err(error) => Err(FromFdError { error, fd }),
        }
    }

    /// Duplicates a borrowed fd (`F_DUPFD_CLOEXEC`) and wraps the copy; the
    /// caller keeps `fd`. See [`SyncFile::from_owned`] to adopt instead.
    ///
    /// # Errors
    /// `EBADF` for a closed fd, `NotSyncFile` for any other kind of file,
    /// `EMFILE` when the process is out of fds.
    pub fn dup_from(fd: impl AsFd) -> Result<SyncFile> {
        let fd = fd.as_fd();
        probe(fd, "fstat")?;
        Ok(SyncFile { fd: dup_cloexec(fd)? })
    }

    /// Duplicates an fd *number* that the caller owns and keeps (one that
    /// came from C, JavaScript or a parent process), and wraps the copy.
    /// JavaScript's `SyncFile.fromFd` is this. See [`SyncFile::from_owned`]
    /// to adopt instead.
    ///
    /// # Errors
    /// `EBADF` when the number is not an open fd, `NotSyncFile` for any
    /// other kind of file; the error names the caller's number.
    pub fn dup_from_raw(fd: RawFd) -> Result<SyncFile> {
        let owned = dup_raw(fd)?;
        probe(owned.as_fd(), "fstat").map_err(|e| e.with_fd(fd))?;
        Ok(SyncFile { fd: owned })
    }

    /// `fcntl(F_DUPFD_CLOEXEC)`: a second fd for the same fences.
    ///
    /// # Errors
    /// `EMFILE` when the process is out of fds.
    pub fn try_clone(&self) -> Result<SyncFile> {
        Ok(SyncFile { fd: dup_cloexec(self.fd.as_fd())? })
    }

    /// `SYNC_IOC_FILE_INFO`: the `sync_file`'s name, status and fences.
    ///
    /// # Errors
    /// Errors of the ioctl (`EFAULT`, `ENOMEM`), which a valid `sync_file` does
    /// not give in practice.
    #[doc(alias = "SYNC_IOC_FILE_INFO")]
    pub fn info(&self) -> Result<SyncFileInfo> {
        let head = sys::file_info(self.fd.as_fd(), &mut [])?;
        let count = usize::try_from(head.num_fences).unwrap_or(usize::MAX);
        let mut fences = Vec::new();
        fences
            .try_reserve_exact(count)
            .map_err(|_| Error::os("SYNC_IOC_FILE_INFO", Some(self.as_raw_fd()), Errno::ENOMEM))?;
        fences.resize(count, sys::SyncFenceInfo::EMPTY);
        let full = if fences.is_empty() { head } else { sys::file_info(self.fd.as_fd(), &mut fences)? };
        // A fence cannot be added to an existing sync_file, so the count is stable.
        fences.truncate(usize::try_from(full.num_fences).unwrap_or(usize::MAX));
        Ok(SyncFileInfo {
            name: crate::sys::c_chars(&full.name),
            status: FenceStatus::from_raw(full.status),
            fences: fences
                .iter()
                .map(|f| FenceInfo {
                    driver: crate::sys::c_chars(&f.driver_name),
                    timeline: crate::sys::c_chars(&f.obj_name),
                    status: FenceStatus::from_raw(f.status),
                    timestamp_ns: f.timestamp_ns,
                })
                .collect(),
        })
    }

    /// `SYNC_IOC_MERGE`: a new `sync_file` that signals when both this one and
    /// `other` have. Neither input is consumed. `name` is truncated to 31 bytes.
    ///
    /// # Errors
    /// `EMFILE` when the process is out of fds; `ENOMEM`.
    #[doc(alias = "SYNC_IOC_MERGE")]
    pub fn merge(&self, other: &SyncFile, name: &str) -> Result<SyncFile> {
        let mut cname = [0 as c_char; 32];
        for (d, s) in cname.iter_mut().zip(name.bytes().take(31)) {
            *d = c_char::from_ne_bytes([s]);
        }
        Ok(SyncFile { fd: sys::merge(self.fd.as_fd(), other.fd.as_fd(), &cname)? })
    }

    /// `poll(POLLIN)` with a zero timeout: whether every fence has signalled.
    ///
    /// # Errors
    /// Errors of `poll` (`ENOMEM`).
    pub fn is_signaled(&self) -> Result<bool> {
        self.wait(Some(Duration::ZERO))
    }

    /// Blocks in `poll(POLLIN)` until every fence has signalled (`true`) or
    /// `timeout` has passed (`false`). `None`, and a timeout too long for the
    /// monotonic clock to express (centuries), wait for ever. Retries on
    /// `EINTR`.
    ///
    /// # Errors
    /// Errors of `poll` (`ENOMEM`).
    #[doc(alias = "poll")]
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        let revents = poll_ready(self.fd.as_fd(), PollFlags::POLLIN, timeout)?;
        Ok(revents.is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLERR)))
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
    /// [`SyncFile::from_owned`].
    fn try_from(fd: OwnedFd) -> std::result::Result<Self, FromFdError> {
        SyncFile::from_owned(fd)
    }
}
