//! A connected channel: opening it (`socketpair`, `connect`, adopting an fd)
//! and sending (`sendmsg` with `SCM_RIGHTS`).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Mutex;

use nix::errno::Errno;
use nix::sys::socket::{self as sock, AddressFamily, SockFlag, SockType, UnixAddr};

use crate::error::{Error, ErrorKind, FromFdError, Result};
use crate::sys;

use super::recv::{Rx, RxBox};
use super::socket::{lock, socket, wait_ready, Address, SocketKind};
use super::{Framing, MAX_FDS, MAX_HEADER, PREFIX};

/// A connected Unix socket that carries messages with fds. `Send + Sync`:
/// one thread may send while another receives.
#[derive(Debug)]
pub struct Channel {
    pub(super) fd: OwnedFd,
    pub(super) kind: SocketKind,
    pub(super) framing: Framing,
    pub(super) rx: Mutex<RxBox>,
    /// The unsent tail of a stream message the kernel took only part of.
    pub(super) tx: Mutex<Vec<u8>>,
}

impl Channel {
    pub(super) fn new(fd: OwnedFd, kind: SocketKind) -> Channel {
        Channel { fd, kind, framing: Framing::Length, rx: Mutex::new(RxBox(Rx::default())), tx: Mutex::new(Vec::new()) }
    }

    /// A stream channel that cuts messages as `framing` says.
    pub(crate) fn with_framing(mut self, framing: Framing) -> Channel {
        debug_assert!(self.kind == SocketKind::Stream || framing == Framing::Length);
        self.framing = framing;
        self
    }

    /// `socketpair(AF_UNIX)`: two connected channels. Give one to a child
    /// process (its fd, through `spawn`'s stdio) and keep the other.
    ///
    /// The sockets are left blocking (no `O_NONBLOCK`, a flag of the open
    /// file that a child inherits with the fd): a child that reads and writes
    /// its end with blocking calls gets what it expects, not `EAGAIN`. This
    /// library's own calls never wait inside the kernel either way:
    /// `sendmsg` and `recvmsg` pass `MSG_DONTWAIT`.
    ///
    /// # Errors
    /// `EMFILE`, `ENFILE`.
    #[doc(alias = "socketpair")]
    pub fn pair(kind: SocketKind) -> Result<(Channel, Channel)> {
        let (a, b) = sock::socketpair(AddressFamily::Unix, kind.sock_type(), None, SockFlag::SOCK_CLOEXEC)
            .map_err(|e| Error::os("socketpair", None, e))?;
        Ok((Channel::new(a, kind), Channel::new(b, kind)))
    }

    /// `socket` + `connect`: a channel to a [`Listener`](super::Listener) at `addr`.
    ///
    /// # Errors
    /// `ENOENT` / `ECONNREFUSED` when nothing listens there, `EACCES`,
    /// `EPROTOTYPE` when the listener's socket is of the other kind.
    pub fn connect(addr: &Address, kind: SocketKind) -> Result<Channel> {
        let fd = socket(kind, "socket")?;
        let ua = addr.unix_addr("connect")?;
        match sock::connect(fd.as_raw_fd(), &ua) {
            Ok(()) => {}
            // A full backlog on a non-blocking socket: wait for the accept.
            Err(Errno::EAGAIN | Errno::EINPROGRESS) => {
                wait_ready(fd.as_fd(), nix::poll::PollFlags::POLLOUT, None)?;
            }
            Err(e) => {
                return Err(Error::os("connect", None, e).with_detail(format!("cannot connect to {addr}: {}", e.desc())))
            }
        }
        Ok(Channel::new(fd, kind))
    }

    /// Adopts a connected Unix socket (one inherited from a parent process,
    /// for example), after checking with `getsockopt` that it is one. Its
    /// flags are left alone (this library's calls pass `MSG_DONTWAIT`), so a
    /// process sharing the open file sees no change.
    ///
    /// # Errors
    /// `ENOTSOCK` when the fd is not a socket, `EPROTOTYPE` when it is not
    /// a Unix stream or seqpacket socket, `EINVAL` for a listening socket,
    /// `ENOTCONN` for one not connected; the fd is handed back.
    pub fn from_owned(fd: OwnedFd) -> std::result::Result<Channel, FromFdError> {
        let raw = fd.as_raw_fd();
        let kind = match sock::getsockopt(&fd, sock::sockopt::SockType) {
            Ok(SockType::Stream) => SocketKind::Stream,
            Ok(SockType::SeqPacket) => SocketKind::SeqPacket,
            Ok(_) => {
                let error = Error::new(
                    ErrorKind::InvalidArgument,
                    Errno::EPROTOTYPE,
                    "getsockopt(SO_TYPE)",
                    Some(raw),
                    "not a stream or seqpacket socket",
                );
                return Err(FromFdError { error, fd });
            }
            Err(e) => {
                let error = Error::new(
                    ErrorKind::InvalidArgument,
                    e,
                    "getsockopt(SO_TYPE)",
                    Some(raw),
                    format!("not a socket (it is {})", crate::fd::describe(&fd)),
                );
                return Err(FromFdError { error, fd });
            }
        };
        let family = sock::getsockname::<UnixAddr>(raw);
        if family.is_err() {
            let error = Error::new(
                ErrorKind::InvalidArgument,
                Errno::EPROTOTYPE,
                "getsockname",
                Some(raw),
                "not a Unix socket (fds pass only over AF_UNIX)",
            );
            return Err(FromFdError { error, fd });
        }
        if sock::getsockopt(&fd, sock::sockopt::AcceptConn).unwrap_or(false) {
            let error = Error::new(
                ErrorKind::InvalidArgument,
                Errno::EINVAL,
                "getsockopt(SO_ACCEPTCONN)",
                Some(raw),
                "a listening socket: connections are accepted on it, messages go over a connected one",
            );
            return Err(FromFdError { error, fd });
        }
        if let Err(e) = sock::getpeername::<UnixAddr>(raw) {
            let error =
                Error::new(ErrorKind::InvalidArgument, e, "getpeername", Some(raw), "the socket is not connected");
            return Err(FromFdError { error, fd });
        }
        // The open file's flags stay as they are (O_NONBLOCK would reach every
        // process sharing it): every call here passes MSG_DONTWAIT instead.
        Ok(Channel::new(fd, kind))
    }

    /// Duplicates (`F_DUPFD_CLOEXEC`) a socket fd number that stays the
    /// caller's, then [`Channel::from_owned`].
    ///
    /// # Errors
    /// `EBADF`, and those of [`Channel::from_owned`].
    pub fn dup_from_raw(fd: RawFd) -> Result<Channel> {
        Channel::from_owned(crate::fd::dup_raw(fd)?).map_err(|e| e.error.with_fd(fd))
    }

    /// The socket's kind.
    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// Sends a message, waiting (`poll`) while the socket is full.
    ///
    /// # Errors
    /// `EMSGSIZE` (header over [`MAX_HEADER`]), `EINVAL` (more than
    /// [`MAX_FDS`] fds), `EPIPE` (the peer has gone), `ETOOMANYREFS` (the
    /// kernel's limit of fds in flight).
    #[doc(alias = "sendmsg")]
    #[doc(alias = "SCM_RIGHTS")]
    pub fn send(&self, header: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
        loop {
            match self.try_send(header, fds) {
                Err(e) if e.errno() == Errno::EAGAIN => {
                    wait_ready(self.fd.as_fd(), nix::poll::PollFlags::POLLOUT, None)?;
                }
                r => break r?,
            }
        }
        while !self.flush()? {
            wait_ready(self.fd.as_fd(), nix::poll::PollFlags::POLLOUT, None)?;
        }
        Ok(())
    }

    /// Sends a message without waiting. `EAGAIN` means nothing was sent
    /// (the socket is full, or an earlier message's tail is still queued):
    /// try again once the socket is writable. `Ok` means the message is
    /// sent, or (on a stream) that its fds are sent and a tail waits for
    /// [`Channel::flush`].
    ///
    /// # Errors
    /// As [`Channel::send`], and `EAGAIN`.
    pub fn try_send(&self, header: &[u8], fds: &[BorrowedFd<'_>]) -> Result<()> {
        const OP: &str = "sendmsg";
        if header.len() > MAX_HEADER {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                Errno::EMSGSIZE,
                OP,
                None,
                format!("the header is {} bytes; a message's header may have at most {MAX_HEADER}", header.len()),
            ));
        }
        if fds.len() > MAX_FDS {
            return Err(Error::invalid(
                OP,
                None,
                format!("{} fds in one message; the kernel allows at most {MAX_FDS}", fds.len()),
            ));
        }
        if !self.flush()? {
            return Err(Error::os(OP, Some(self.fd.as_raw_fd()), Errno::EAGAIN));
        }
        let mut frame = match self.framing {
            Framing::Length => {
                let mut f = Vec::with_capacity(PREFIX + header.len());
                f.extend_from_slice(&u32::try_from(header.len()).unwrap_or(u32::MAX).to_le_bytes());
                f.extend_from_slice(header);
                f
            }
            // Already a whole command (unixfd::wire::Command::encode).
            Framing::UnixFd => header.to_vec(),
        };
        let sent = sys::socket::send(self.fd.as_fd(), &frame, fds).map_err(|e| self.send_error(e))?;
        if sent < frame.len() {
            // Only a stream takes part of a message; the fds went with the first byte.
            *lock(&self.tx) = frame.split_off(sent);
        }
        Ok(())
    }

    pub(super) fn send_error(&self, e: Errno) -> Error {
        let err = Error::os("sendmsg", Some(self.fd.as_raw_fd()), e);
        match e {
            Errno::EPIPE | Errno::ECONNRESET => err.with_detail("the peer closed the channel"),
            Errno::ETOOMANYREFS => err.with_detail(
                "too many fds in flight (RLIMIT_NOFILE of the sender, counted by the kernel until received)",
            ),
            _ => err,
        }
    }

    /// Sends what is left of a stream message the kernel took only part
    /// of. `Ok(true)` when nothing is left.
    ///
    /// # Errors
    /// `EPIPE` when the peer has gone.
    pub fn flush(&self) -> Result<bool> {
        let mut tx = lock(&self.tx);
        while !tx.is_empty() {
            match sys::socket::send(self.fd.as_fd(), &tx, &[]) {
                Ok(n) => {
                    tx.drain(..n);
                }
                Err(Errno::EAGAIN) => return Ok(false),
                Err(e) => {
                    tx.clear();
                    return Err(self.send_error(e));
                }
            }
        }
        Ok(true)
    }

    /// [`Channel::flush`] for event loops: `Ok` when nothing is left to
    /// send, `EAGAIN` while a tail waits for the socket to become writable.
    ///
    /// # Errors
    /// `EAGAIN`, `EPIPE`.
    pub fn try_flush(&self) -> Result<()> {
        if self.flush()? {
            Ok(())
        } else {
            Err(Error::os("sendmsg", Some(self.fd.as_raw_fd()), Errno::EAGAIN))
        }
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Channel {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<Channel> for OwnedFd {
    fn from(c: Channel) -> OwnedFd {
        c.fd
    }
}
