//! `pidfd_getfd`: an fd taken out of another process.

use std::os::fd::{AsFd, RawFd};

use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

use super::message::Passed;

/// `pidfd_open` + `pidfd_getfd`: a close-on-exec duplicate, in this
/// process, of fd `fd` of process `pid`, sorted as [`Passed`] (so
/// `DmaBuf::try_from(OwnedFd::from(passed))` or a match gives the dma-buf).
/// The target keeps its own fd.
///
/// The kernel allows it where `ptrace` would be allowed
/// (`PTRACE_MODE_ATTACH_REALCREDS`): the same user and a Yama
/// `ptrace_scope` of 0, a parent of the target under scope 1, or
/// `CAP_SYS_PTRACE`.
///
/// # Errors
/// `EPERM` (ptrace rules), `ESRCH` (no such process), `EBADF` (the process
/// has no such fd), `EINVAL` (pid 0, or a thread id that is not its
/// process's; `ENOENT` for the latter on Linux 6.9 and later), `ENOSYS` as [`ErrorKind::Unsupported`] (Linux before
/// 5.6).
#[doc(alias = "pidfd_getfd")]
#[doc(alias = "pidfd_open")]
pub fn from_process(pid: u32, fd: RawFd) -> Result<Passed> {
    let p = libc::pid_t::try_from(pid)
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| Error::invalid("pidfd_open", None, format!("no process can have pid {pid}")))?;
    if fd < 0 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            Errno::EBADF,
            "pidfd_getfd",
            Some(fd),
            "an fd must be non-negative",
        ));
    }
    let unsupported = |op: &'static str, since: &'static str| {
        move |e: Errno| {
            let err = Error::os(op, None, e);
            match e {
                Errno::ENOSYS => err
                    .with_kind(ErrorKind::Unsupported)
                    .with_detail(format!("this kernel does not implement {op} (it needs Linux {since} or later)")),
                Errno::ESRCH => err.with_detail(format!("no process {pid}")),
                // pidfd_open without PIDFD_THREAD takes only a thread-group leader.
                // (EINVAL; ENOENT where the kernel knows thread pidfds, 6.9+).
                Errno::EINVAL | Errno::ENOENT if op == "pidfd_open" => err.with_detail(format!(
                    "{pid} is a thread of another process, not a process (take the fd with the process's pid, its thread group id)"
                )),
                Errno::EPERM | Errno::EACCES => err.with_detail(format!(
                    "not allowed to take an fd out of process {pid}: pidfd_getfd needs ptrace rights over it (the same user and kernel.yama.ptrace_scope 0, its parent under scope 1, or CAP_SYS_PTRACE)"
                )),
                Errno::EBADF => err.with_fd(fd).with_detail(format!("process {pid} has no fd {fd}")),
                _ => err,
            }
        }
    };
    let pidfd = sys::pidfd::open(p).map_err(unsupported("pidfd_open", "5.3"))?;
    let got = sys::pidfd::getfd(pidfd.as_fd(), fd).map_err(unsupported("pidfd_getfd", "5.6"))?;
    Ok(Passed::classify(got))
}
