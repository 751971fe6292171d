//! Small fd helpers shared by every kernel interface module.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::stat::{fstat, SFlag};

use crate::error::{Error, ErrorKind, Result};

/// `fcntl(F_DUPFD_CLOEXEC)`: a new close-on-exec fd for the same open file.
pub(crate) fn dup_cloexec(fd: BorrowedFd<'_>, op: &'static str) -> Result<OwnedFd> {
    let raw = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(3)).map_err(|e| Error::os(op, Some(fd.as_raw_fd()), e))?;
    // SAFETY: F_DUPFD_CLOEXEC just returned this new fd; we are its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Duplicates a raw fd number that the caller keeps owning.
///
/// A closed or invalid number gives `EBADF` without touching any other fd.
pub(crate) fn dup_raw(fd: RawFd, op: &'static str) -> Result<OwnedFd> {
    if fd < 0 {
        return Err(Error::new(ErrorKind::InvalidArgument, Errno::EBADF, op, Some(fd), "a file descriptor must be a non-negative integer"));
    }
    let raw = fcntl_raw_dupfd(fd).map_err(|e| Error::os(op, Some(fd), e))?;
    // SAFETY: F_DUPFD_CLOEXEC just returned this new fd; we are its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn fcntl_raw_dupfd(fd: RawFd) -> nix::Result<RawFd> {
    // SAFETY: F_DUPFD_CLOEXEC only reads `fd`; an invalid number yields EBADF.
    let r = unsafe { nix::libc::fcntl(fd, nix::libc::F_DUPFD_CLOEXEC, 3) };
    Errno::result(r)
}

/// The access mode the fd was opened with.
pub(crate) fn access_mode(fd: BorrowedFd<'_>, op: &'static str) -> Result<OFlag> {
    let fl = fcntl(fd, FcntlArg::F_GETFL).map_err(|e| Error::os(op, Some(fd.as_raw_fd()), e))?;
    Ok(OFlag::from_bits_truncate(fl) & OFlag::O_ACCMODE)
}

/// A short description of what an fd is, for "not a dma-buf" messages.
pub(crate) fn describe(fd: impl AsFd) -> String {
    let fd = fd.as_fd();
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kind = match fstat(fd) {
        Ok(st) => match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG if link.starts_with("/memfd:") => "a memfd",
            SFlag::S_IFREG => "a regular file",
            SFlag::S_IFDIR => "a directory",
            SFlag::S_IFIFO => "a pipe",
            SFlag::S_IFSOCK => "a socket",
            SFlag::S_IFCHR => "a character device",
            SFlag::S_IFBLK => "a block device",
            _ => "another kind of file",
        },
        Err(_) => "unknown",
    };
    if link.is_empty() { kind.to_string() } else { format!("{kind}: {link}") }
}

/// Reads `/proc/self/fdinfo/<fd>` into (key, value) pairs.
pub(crate) fn fdinfo(fd: BorrowedFd<'_>) -> Result<Vec<(String, String)>> {
    let path = format!("/proc/self/fdinfo/{}", fd.as_raw_fd());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::os("read /proc/self/fdinfo", Some(fd.as_raw_fd()), Errno::from_raw(e.raw_os_error().unwrap_or(0)))
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// The page size of this system.
pub(crate) fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().map(|v| v as usize).unwrap_or(4096)
    })
}
