//! Unix sockets: the kinds a channel uses, the addresses it binds and connects
//! to (a path or an abstract name), and `socket(AF_UNIX)` itself.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::socket::{self as sock, AddressFamily, SockFlag, SockType, UnixAddr};

use crate::error::{Error, Result};

/// Which kind of Unix socket a channel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `SOCK_STREAM`: a byte stream; messages are framed by the channel.
    Stream,
    /// `SOCK_SEQPACKET`: one message per packet, boundaries kept by the kernel.
    SeqPacket,
}

impl SocketKind {
    pub(super) fn sock_type(self) -> SockType {
        match self {
            SocketKind::Stream => SockType::Stream,
            SocketKind::SeqPacket => SockType::SeqPacket,
        }
    }
}

/// Where a listener listens: a path in the file system, or a name in the
/// abstract namespace (no file; gone when the last socket closes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A socket file at this path.
    Path(PathBuf),
    /// An abstract name (without the leading NUL byte).
    Abstract(Vec<u8>),
}

impl Address {
    /// `@name` is an abstract name (as `ss` prints them), anything else a path.
    pub fn parse(s: &str) -> Address {
        match s.strip_prefix('@') {
            Some(name) => Address::Abstract(name.as_bytes().to_vec()),
            None => Address::Path(PathBuf::from(s)),
        }
    }

    pub(super) fn unix_addr(&self, op: &'static str) -> Result<UnixAddr> {
        if matches!(self, Address::Abstract(n) if n.is_empty()) {
            // The kernel takes a 0-byte abstract name, a name nobody can tell from an unnamed socket's.
            return Err(Error::new(
                crate::error::ErrorKind::InvalidArgument,
                nix::errno::Errno::EINVAL,
                op,
                None,
                "'@' alone names nothing: an abstract name needs at least one byte after the '@'",
            ));
        }
        match self {
            Address::Path(p) => UnixAddr::new(p.as_path()),
            Address::Abstract(name) => UnixAddr::new_abstract(name),
        }
        .map_err(|e| {
            Error::os(op, None, e)
                .with_detail(format!("{self} is not a usable Unix socket address (at most 107 bytes)"))
        })
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Path(p) => write!(f, "{}", p.display()),
            Address::Abstract(n) => write!(f, "@{}", String::from_utf8_lossy(n)),
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) fn socket(kind: SocketKind, op: &'static str) -> Result<OwnedFd> {
    sock::socket(AddressFamily::Unix, kind.sock_type(), SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK, None)
        .map_err(|e| Error::os(op, None, e))
}

/// Waits (`poll`) until `fd` is ready for `events`, or `timeout` passes.
pub(super) fn wait_ready(fd: BorrowedFd<'_>, events: nix::poll::PollFlags, timeout: Option<Duration>) -> Result<bool> {
    Ok(crate::fd::poll_ready(fd, events, timeout)?.is_some())
}
