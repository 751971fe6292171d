//! `<linux/pidfd.h>` (system calls, not ioctls): `pidfd_open` (Linux 5.3)
//! and `pidfd_getfd` (Linux 5.6). libc has no wrappers on every target, so
//! they go through `syscall(2)`.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::adopt;

/// `pidfd_open(pid, 0)`: an fd that refers to the process (close-on-exec
/// always, as the kernel makes it).
pub(crate) fn open(pid: libc::pid_t) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags by value.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = RawFd::try_from(Errno::result(r)?).map_err(|_| Errno::EOVERFLOW)?;
    // SAFETY: pidfd_open just returned this new fd; we are its only owner.
    Ok(unsafe { adopt(fd) })
}

/// `pidfd_getfd(pidfd, targetfd, 0)`: a close-on-exec duplicate, in this
/// process, of the target process's fd `target`.
pub(crate) fn getfd(pidfd: BorrowedFd<'_>, target: RawFd) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_getfd takes two fds and flags by value.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
    let fd = RawFd::try_from(Errno::result(r)?).map_err(|_| Errno::EOVERFLOW)?;
    // SAFETY: pidfd_getfd just returned this new fd; we are its only owner.
    Ok(unsafe { adopt(fd) })
}
