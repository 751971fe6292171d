//! The one error type of the crate: an errno, the system call or ioctl that
//! produced it, the fd it was called on, and a sentence for humans. Also
//! [`FromFdError`], which hands a refused fd back to its owner, and the
//! policy that turns `ENOTTY` into "this kernel lacks the ioctl".

use std::borrow::Cow;
use std::fmt;
use std::os::fd::{OwnedFd, RawFd};

pub use nix::errno::Errno;

/// What went wrong, coarsely, so callers can branch without matching errnos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The kernel refused the call; see [`Error::errno`].
    Os,
    /// The fd is open but is not a dma-buf.
    NotDmaBuf,
    /// The fd is open but is not a `sync_file`.
    NotSyncFile,
    /// An argument was rejected before the kernel saw it (bad range, size, name).
    InvalidArgument,
    /// The running kernel does not implement this ioctl (ENOTTY on a file
    /// that is known to be of the right kind).
    Unsupported,
    /// A device node or file is missing.
    NotFound,
    /// The fd or device node does not allow the requested access.
    PermissionDenied,
    /// The call is not allowed in the object's current state (an M2M
    /// codec asked to drain before it streams, a decoder's CAPTURE queue
    /// started before the stream's format is known); the message names the
    /// state and what leads out of it. Its errno is `EBUSY`.
    InvalidState,
}

/// Error returned by every fallible operation of this crate.
///
/// It always carries an [`Errno`] (for checks done in user space, the errno
/// the kernel would have given, such as `EINVAL` or `EACCES`), the name of
/// the operation (a system call such as `mmap` or an ioctl such as
/// `DMA_BUF_IOCTL_SYNC`), and the fd it was applied to where there was one.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    errno: Errno,
    op: &'static str,
    fd: Option<RawFd>,
    detail: Option<Cow<'static, str>>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error reported by the kernel for `op` on `fd`.
    pub(crate) fn os(op: &'static str, fd: Option<RawFd>, errno: Errno) -> Self {
        let kind = match errno {
            Errno::ENOENT | Errno::ENODEV | Errno::ENXIO => ErrorKind::NotFound,
            Errno::EACCES | Errno::EPERM => ErrorKind::PermissionDenied,
            _ => ErrorKind::Os,
        };
        Error { kind, errno, op, fd, detail: None }
    }

    /// An error of a given kind with a human-readable explanation.
    pub(crate) fn new(
        kind: ErrorKind,
        errno: Errno,
        op: &'static str,
        fd: Option<RawFd>,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error { kind, errno, op, fd, detail: Some(detail.into()) }
    }

    /// An argument rejected before any system call (`EINVAL`).
    pub(crate) fn invalid(op: &'static str, fd: Option<RawFd>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidArgument, Errno::EINVAL, op, fd, detail)
    }

    /// A call refused in the current state (`EBUSY`, [`ErrorKind::InvalidState`]).
    pub(crate) fn state(op: &'static str, fd: Option<RawFd>, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidState, Errno::EBUSY, op, fd, detail)
    }

    /// Adds or replaces the explanation, keeping errno, op and fd.
    pub(crate) fn with_detail(mut self, detail: impl Into<Cow<'static, str>>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Replaces the kind, keeping everything else.
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Replaces the fd the error names (a temporary duplicate's number by
    /// the caller's own).
    pub(crate) fn with_fd(mut self, fd: RawFd) -> Self {
        self.fd = Some(fd);
        self
    }

    /// Drops the fd the error names (one that is closed by the time the
    /// caller sees the error, such as an internal temporary).
    pub(crate) fn without_fd(mut self) -> Self {
        self.fd = None;
        self
    }

    /// The ENOTTY policy for an fd already known to be of the right kind
    /// (a dma-buf, a `sync_file)`: the kernel is too old for the ioctl, so the
    /// error becomes [`ErrorKind::Unsupported`] naming the Linux version
    /// that added it. Other errors pass through.
    pub(crate) fn unsupported_if_enotty(self, since: &'static str) -> Self {
        if self.errno == Errno::ENOTTY {
            let op = self.op;
            self.with_kind(ErrorKind::Unsupported)
                .with_detail(format!("this kernel does not implement {op} (it needs Linux {since} or later)"))
        } else {
            self
        }
    }

    /// Coarse category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The errno (kernel-reported, or the equivalent for user-space checks).
    #[must_use]
    pub fn errno(&self) -> Errno {
        self.errno
    }

    /// The errno's symbolic name, such as `"ENOTTY"`.
    pub fn code(&self) -> &'static str {
        errno_name(self.errno)
    }

    /// The system call or ioctl this error came from, such as `"DMA_BUF_IOCTL_SYNC"`.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// The fd the operation was applied to, if any.
    pub fn fd(&self) -> Option<RawFd> {
        self.fd
    }

    /// The explanation, or the errno's standard description.
    pub fn description(&self) -> Cow<'_, str> {
        match &self.detail {
            Some(d) => Cow::Borrowed(d),
            None => Cow::Borrowed(self.errno.desc()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.op)?;
        if let Some(fd) = self.fd {
            write!(f, " on fd {fd}")?;
        }
        write!(f, ": {} ({})", self.description(), self.code())
    }
}

impl std::error::Error for Error {}

/// An fd that was refused (not a dma-buf, not a `sync_file`), handed back to
/// its owner together with the reason, so that nothing the caller gave is
/// lost. Returned by the adopting constructors (`TryFrom<OwnedFd>`,
/// `from_owned`).
#[derive(Debug)]
pub struct FromFdError {
    /// Why the fd was refused.
    pub error: Error,
    /// The fd, still open and owned by the caller again.
    pub fd: OwnedFd,
}

impl From<FromFdError> for Error {
    fn from(e: FromFdError) -> Error {
        e.error
    }
}

impl fmt::Display for FromFdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for FromFdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        std::io::Error::new(std::io::Error::from_raw_os_error(e.errno as i32).kind(), e)
    }
}

/// The symbolic name of an errno (`"EINVAL"`), as Node's `err.code` uses it.
pub fn errno_name(errno: Errno) -> &'static str {
    // nix's Debug output is exactly the symbolic name; cache it as 'static by
    // matching the errnos this crate can meet and falling back to a generic name.
    macro_rules! names {
        ($($e:ident),*) => { match errno { $(Errno::$e => stringify!($e),)* _ => "EUNKNOWN" } };
    }
    names!(
        EPERM,
        ENOENT,
        ESRCH,
        EINTR,
        EIO,
        ENXIO,
        E2BIG,
        ENOEXEC,
        EBADF,
        ECHILD,
        EAGAIN,
        ENOMEM,
        EACCES,
        EFAULT,
        EBUSY,
        EEXIST,
        EXDEV,
        ENODEV,
        ENOTDIR,
        EISDIR,
        EINVAL,
        ENFILE,
        EMFILE,
        ENOTTY,
        ETXTBSY,
        EFBIG,
        ENOSPC,
        ESPIPE,
        EROFS,
        EMLINK,
        EPIPE,
        EDOM,
        ERANGE,
        EDEADLK,
        ENAMETOOLONG,
        ENOLCK,
        ENOSYS,
        ENOTEMPTY,
        ELOOP,
        ENODATA,
        ETIME,
        EOVERFLOW,
        EOPNOTSUPP,
        ETIMEDOUT,
        ECANCELED,
        ENOTSOCK,
        EPROTO,
        EMSGSIZE,
        ENOTCONN,
        ECONNRESET,
        ETOOMANYREFS,
        EPROTOTYPE,
        ECONNREFUSED,
        EADDRINUSE
    )
}
