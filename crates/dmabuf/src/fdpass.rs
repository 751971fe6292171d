//! Passing dma-bufs, `sync_file`s and other fds between processes over a
//! Unix socket (`SCM_RIGHTS`), and taking an fd out of another process
//! (`pidfd_getfd`).
//!
//! A [`Channel`] is a connected Unix stream or seqpacket socket. Each
//! message is a small header of bytes (JSON in the JavaScript binding, any
//! bytes in Rust) with up to [`MAX_FDS`] fds attached. On the wire a
//! message is the header's length (`u32`, little-endian) followed by the
//! header; the fds travel with its first byte. A stream socket may split a
//! message; the channel puts it back together, and a seqpacket socket
//! keeps it whole.
//!
//! Received fds are close-on-exec (`MSG_CMSG_CLOEXEC`) and owned from the
//! moment they arrive: each becomes a [`DmaBuf`], a [`SyncFile`] or a plain
//! [`OwnedFd`] ([`Passed`]). Nothing that arrives is ever left open when a
//! receive fails.
//!
//! # Errors a receiver sees
//!
//! | errno | when |
//! |---|---|
//! | `EPIPE` | the peer closed the channel between messages (a clean end) |
//! | `ECONNRESET` | the peer closed or died in the middle of a message; the fds that came with the partial message were closed |
//! | `ETOOMANYREFS` | the message carried more fds than the receiver allowed (`MSG_CTRUNC`); the fds that did arrive were closed, the header was consumed, and the channel stays usable |
//! | `EMSGSIZE` | the header is longer than [`MAX_HEADER`] (the sender refuses this before sending; a receiver reports a peer that did not) |
//! | `EPROTO` | bytes that are not a message of this format |
//! | `EAGAIN` | only from the `try_` forms: nothing (or not all of a message) has arrived yet |
//!
//! A sender sees `EMSGSIZE` for a header over [`MAX_HEADER`], `EINVAL` for
//! more than [`MAX_FDS`] fds, and `EPIPE` when the peer has gone.
//!
//! ```no_run
//! use dmabuf::fdpass::{Channel, Passed, SocketKind};
//! use dmabuf::udmabuf::Udmabuf;
//! use std::os::fd::AsFd;
//!
//! # fn main() -> Result<(), dmabuf::Error> {
//! let (a, b) = Channel::pair(SocketKind::SeqPacket)?;
//! let buf = Udmabuf::open()?.alloc(4096)?;
//! a.send(br#"{"frame":1}"#, &[buf.as_fd()])?;
//! let msg = b.recv(4)?;
//! assert_eq!(msg.header, br#"{"frame":1}"#);
//! assert!(matches!(msg.fds[0], Passed::DmaBuf(_)));
//! # Ok(()) }
//! ```

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{self as sock, AddressFamily, SockFlag, SockType, UnixAddr};

use crate::dma_buf::DmaBuf;
use crate::error::{Error, ErrorKind, FromFdError, Result};
use crate::sync_file::SyncFile;
use crate::sys;

/// The most fds one message may carry: the kernel's `SCM_MAX_FD`.
pub const MAX_FDS: usize = sys::socket::SCM_MAX_FD;

/// The largest header a message may have, in bytes.
pub const MAX_HEADER: usize = 64 * 1024;

/// The length prefix of every message.
const PREFIX: usize = 4;

/// Which kind of Unix socket a channel uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketKind {
    /// `SOCK_STREAM`: a byte stream; messages are framed by the channel.
    Stream,
    /// `SOCK_SEQPACKET`: one message per packet, boundaries kept by the kernel.
    SeqPacket,
}

impl SocketKind {
    fn sock_type(self) -> SockType {
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

    fn unix_addr(&self, op: &'static str) -> Result<UnixAddr> {
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

/// An fd that arrived in a message, already owned and sorted by kind.
#[derive(Debug)]
pub enum Passed {
    /// A dma-buf.
    DmaBuf(DmaBuf),
    /// A `sync_file`.
    SyncFile(SyncFile),
    /// Any other fd (a memfd, a socket, a pipe...).
    Fd(OwnedFd),
}

impl Passed {
    /// Sorts an owned fd: a dma-buf, a `sync_file`, or neither.
    pub fn classify(fd: OwnedFd) -> Passed {
        match DmaBuf::from_owned(fd) {
            Ok(b) => Passed::DmaBuf(b),
            Err(FromFdError { fd, .. }) => match SyncFile::from_owned(fd) {
                Ok(s) => Passed::SyncFile(s),
                Err(FromFdError { fd, .. }) => Passed::Fd(fd),
            },
        }
    }
}

impl AsFd for Passed {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Passed::DmaBuf(b) => b.as_fd(),
            Passed::SyncFile(s) => s.as_fd(),
            Passed::Fd(f) => f.as_fd(),
        }
    }
}

impl From<Passed> for OwnedFd {
    fn from(p: Passed) -> OwnedFd {
        match p {
            Passed::DmaBuf(b) => b.into(),
            Passed::SyncFile(s) => s.into(),
            Passed::Fd(f) => f,
        }
    }
}

/// A received message.
#[derive(Debug)]
pub struct Message {
    /// The header's bytes.
    pub header: Vec<u8>,
    /// The fds, in the order they were sent.
    pub fds: Vec<Passed>,
}

/// A message being received (a stream may deliver it in parts).
#[derive(Default)]
struct Rx {
    buf: Vec<u8>,
    fds: Vec<OwnedFd>,
    too_many_fds: bool,
    /// The stream lost its framing (a foreign peer): every receive fails.
    broken: bool,
}

/// A connected Unix socket that carries messages with fds. `Send + Sync`:
/// one thread may send while another receives.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
    kind: SocketKind,
    rx: Mutex<RxBox>,
    /// The unsent tail of a stream message the kernel took only part of.
    tx: Mutex<Vec<u8>>,
}

struct RxBox(Rx);

impl std::fmt::Debug for RxBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rx").field("pending_bytes", &self.0.buf.len()).field("pending_fds", &self.0.fds.len()).finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn socket(kind: SocketKind, op: &'static str) -> Result<OwnedFd> {
    sock::socket(AddressFamily::Unix, kind.sock_type(), SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK, None)
        .map_err(|e| Error::os(op, None, e))
}

/// Waits (`poll`) until `fd` is ready for `events`, or `timeout` passes.
fn wait_ready(fd: BorrowedFd<'_>, events: nix::poll::PollFlags, timeout: Option<Duration>) -> Result<bool> {
    Ok(crate::fd::poll_ready(fd, events, timeout)?.is_some())
}

impl Channel {
    fn new(fd: OwnedFd, kind: SocketKind) -> Channel {
        Channel { fd, kind, rx: Mutex::new(RxBox(Rx::default())), tx: Mutex::new(Vec::new()) }
    }

    /// `socketpair(AF_UNIX)`: two connected channels. Give one to a child
    /// process (its fd, through `spawn`'s stdio) and keep the other.
    ///
    /// # Errors
    /// `EMFILE`, `ENFILE`.
    #[doc(alias = "socketpair")]
    pub fn pair(kind: SocketKind) -> Result<(Channel, Channel)> {
        let (a, b) = sock::socketpair(
            AddressFamily::Unix,
            kind.sock_type(),
            None,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        )
        .map_err(|e| Error::os("socketpair", None, e))?;
        Ok((Channel::new(a, kind), Channel::new(b, kind)))
    }

    /// `socket` + `connect`: a channel to a [`Listener`] at `addr`.
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
    /// for example), after checking with `getsockopt` that it is one. It is
    /// made non-blocking.
    ///
    /// # Errors
    /// `ENOTSOCK` when the fd is not a socket, `EPROTOTYPE` when it is not
    /// a Unix stream or seqpacket socket; the fd is handed back.
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
        let fl = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_GETFL).unwrap_or(0);
        let fl = nix::fcntl::OFlag::from_bits_truncate(fl) | nix::fcntl::OFlag::O_NONBLOCK;
        let _ = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFL(fl));
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
        let mut frame = Vec::with_capacity(PREFIX + header.len());
        frame.extend_from_slice(&u32::try_from(header.len()).unwrap_or(u32::MAX).to_le_bytes());
        frame.extend_from_slice(header);
        let sent = sys::socket::send(self.fd.as_fd(), &frame, fds).map_err(|e| self.send_error(e))?;
        if sent < frame.len() {
            // Only a stream takes part of a message; the fds went with the first byte.
            *lock(&self.tx) = frame.split_off(sent);
        }
        Ok(())
    }

    fn send_error(&self, e: Errno) -> Error {
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

    /// Receives one message, waiting (`poll`) for it. At most `max_fds`
    /// fds are accepted (up to [`MAX_FDS`]).
    ///
    /// # Errors
    /// See the module's table.
    #[doc(alias = "recvmsg")]
    #[doc(alias = "MSG_CMSG_CLOEXEC")]
    pub fn recv(&self, max_fds: usize) -> Result<Message> {
        self.recv_timeout(max_fds, None)?
            .ok_or_else(|| Error::os("recvmsg", Some(self.fd.as_raw_fd()), Errno::ETIMEDOUT))
    }

    /// [`Channel::recv`] that gives up after `timeout` with `Ok(None)`.
    ///
    /// # Errors
    /// See the module's table.
    pub fn recv_timeout(&self, max_fds: usize, timeout: Option<Duration>) -> Result<Option<Message>> {
        let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
        loop {
            match self.try_recv(max_fds) {
                Err(e) if e.errno() == Errno::EAGAIN => {
                    let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
                    if !wait_ready(self.fd.as_fd(), nix::poll::PollFlags::POLLIN, left)? {
                        return Ok(None);
                    }
                }
                r => return r.map(Some),
            }
        }
    }

    /// Receives without waiting: `EAGAIN` when no whole message is there
    /// yet (the part that came is kept for the next call).
    ///
    /// # Errors
    /// See the module's table.
    pub fn try_recv(&self, max_fds: usize) -> Result<Message> {
        let max_fds = max_fds.min(MAX_FDS);
        let mut guard = lock(&self.rx);
        let rx = &mut guard.0;
        if rx.broken {
            return Err(self.proto("the stream lost its framing after a malformed message"));
        }
        match self.kind {
            SocketKind::SeqPacket => self.recv_packet(max_fds),
            SocketKind::Stream => self.recv_stream(rx, max_fds),
        }
    }

    fn proto(&self, detail: &'static str) -> Error {
        Error::new(ErrorKind::Os, Errno::EPROTO, "recvmsg", Some(self.fd.as_raw_fd()), detail)
    }

    fn recv_error(&self, e: Errno) -> Error {
        let err = Error::os("recvmsg", Some(self.fd.as_raw_fd()), e);
        if e == Errno::ECONNRESET {
            err.with_detail("the peer closed the channel with a message unread")
        } else {
            err
        }
    }

    fn closed(&self) -> Error {
        Error::new(ErrorKind::Os, Errno::EPIPE, "recvmsg", Some(self.fd.as_raw_fd()), "the peer closed the channel")
    }

    fn finish(&self, header: Vec<u8>, fds: Vec<OwnedFd>, too_many: bool, max_fds: usize) -> Result<Message> {
        if too_many || fds.len() > max_fds {
            let n = fds.len();
            drop(fds);
            return Err(Error::new(
                ErrorKind::Os,
                Errno::ETOOMANYREFS,
                "recvmsg",
                Some(self.fd.as_raw_fd()),
                format!(
                    "the message carried more fds than this receiver allows ({max_fds}, MSG_CTRUNC); the {n} that arrived were closed and the message dropped"
                ),
            ));
        }
        Ok(Message { header, fds: fds.into_iter().map(Passed::classify).collect() })
    }

    fn recv_packet(&self, max_fds: usize) -> Result<Message> {
        let mut buf = vec![0u8; PREFIX + MAX_HEADER + 1];
        let r = sys::socket::recv(self.fd.as_fd(), &mut buf, max_fds).map_err(|e| self.recv_error(e))?;
        if r.bytes == 0 && r.fds.is_empty() {
            return Err(self.closed());
        }
        if r.data_truncated || r.bytes > PREFIX + MAX_HEADER {
            drop(r.fds);
            return Err(Error::new(
                ErrorKind::Os,
                Errno::EMSGSIZE,
                "recvmsg",
                Some(self.fd.as_raw_fd()),
                format!("a message over {MAX_HEADER} bytes of header arrived; it and its fds were dropped"),
            ));
        }
        let len = buf.get(..PREFIX).and_then(|p| <[u8; 4]>::try_from(p).ok()).map(u32::from_le_bytes);
        if len.and_then(|l| usize::try_from(l).ok()) != Some(r.bytes.saturating_sub(PREFIX)) || r.bytes < PREFIX {
            drop(r.fds);
            return Err(self.proto("a packet that is not a message of this channel's format"));
        }
        buf.truncate(r.bytes);
        let header = buf.split_off(PREFIX);
        self.finish(header, r.fds, r.fds_truncated, max_fds)
    }

    fn recv_stream(&self, rx: &mut Rx, max_fds: usize) -> Result<Message> {
        loop {
            let want = if rx.buf.len() < PREFIX {
                PREFIX - rx.buf.len()
            } else {
                let mut p = [0u8; PREFIX];
                p.copy_from_slice(&rx.buf[..PREFIX]);
                let len = u32::from_le_bytes(p) as usize;
                if len > MAX_HEADER {
                    rx.broken = true;
                    rx.buf.clear();
                    rx.fds.clear();
                    return Err(Error::new(
                        ErrorKind::Os,
                        Errno::EMSGSIZE,
                        "recvmsg",
                        Some(self.fd.as_raw_fd()),
                        format!("the peer announced a {len}-byte header (at most {MAX_HEADER}); the channel is unusable from here"),
                    ));
                }
                PREFIX + len - rx.buf.len()
            };
            if want == 0 {
                let mut header = std::mem::take(&mut rx.buf);
                let header = header.split_off(PREFIX);
                let fds = std::mem::take(&mut rx.fds);
                let too_many = std::mem::take(&mut rx.too_many_fds);
                return self.finish(header, fds, too_many, max_fds);
            }
            let mut chunk = vec![0u8; want];
            let room = max_fds.saturating_sub(rx.fds.len());
            let r = match sys::socket::recv(self.fd.as_fd(), &mut chunk, room) {
                Ok(r) => r,
                Err(Errno::EAGAIN) => return Err(Error::os("recvmsg", Some(self.fd.as_raw_fd()), Errno::EAGAIN)),
                Err(e) => {
                    let partial = !rx.buf.is_empty();
                    *rx = Rx::default();
                    if partial && e == Errno::ECONNRESET {
                        return Err(self.mid_message(0));
                    }
                    return Err(self.recv_error(e));
                }
            };
            rx.too_many_fds |= r.fds_truncated;
            rx.fds.extend(r.fds);
            if r.bytes == 0 {
                let partial = !rx.buf.is_empty() || !rx.fds.is_empty();
                let n = rx.fds.len();
                *rx = Rx::default();
                return Err(if partial { self.mid_message(n) } else { self.closed() });
            }
            rx.buf.extend_from_slice(&chunk[..r.bytes]);
        }
    }

    fn mid_message(&self, fds: usize) -> Error {
        Error::new(
            ErrorKind::Os,
            Errno::ECONNRESET,
            "recvmsg",
            Some(self.fd.as_raw_fd()),
            format!(
                "the peer closed the channel in the middle of a message; the {fds} fds that came with it were closed"
            ),
        )
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

/// A listening Unix socket. A path it created is removed when it is dropped.
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
    kind: SocketKind,
    path: Option<PathBuf>,
}

impl Listener {
    /// `socket` + `bind` + `listen`.
    ///
    /// # Errors
    /// `EADDRINUSE` when the path exists or the name is taken, `EACCES`,
    /// `ENAMETOOLONG`.
    #[doc(alias = "listen")]
    pub fn bind(addr: &Address, kind: SocketKind) -> Result<Listener> {
        let fd = socket(kind, "socket")?;
        let ua = addr.unix_addr("bind")?;
        sock::bind(fd.as_raw_fd(), &ua)
            .map_err(|e| Error::os("bind", None, e).with_detail(format!("cannot listen on {addr}: {}", e.desc())))?;
        let path = match addr {
            Address::Path(p) => Some(p.clone()),
            Address::Abstract(_) => None,
        };
        let listener = Listener { fd, kind, path };
        sock::listen(&listener.fd, sock::Backlog::new(64).unwrap_or(sock::Backlog::MAXCONN))
            .map_err(|e| Error::os("listen", Some(listener.fd.as_raw_fd()), e))?;
        Ok(listener)
    }

    /// `accept4(SOCK_CLOEXEC | SOCK_NONBLOCK)` without waiting: `EAGAIN`
    /// when nobody is connecting.
    ///
    /// # Errors
    /// `EAGAIN`, `EMFILE`.
    #[doc(alias = "accept4")]
    pub fn try_accept(&self) -> Result<Channel> {
        let raw = sock::accept4(self.fd.as_raw_fd(), SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK)
            .map_err(|e| Error::os("accept4", Some(self.fd.as_raw_fd()), e))?;
        // SAFETY: accept4 just returned this new fd; we are its only owner.
        Ok(Channel::new(unsafe { sys::adopt(raw) }, self.kind))
    }

    /// Waits (`poll`) for a connection and accepts it.
    ///
    /// # Errors
    /// `EMFILE`.
    pub fn accept(&self) -> Result<Channel> {
        loop {
            match self.try_accept() {
                Err(e) if e.errno() == Errno::EAGAIN => {
                    wait_ready(self.fd.as_fd(), nix::poll::PollFlags::POLLIN, None)?;
                }
                r => return r,
            }
        }
    }

    /// The socket's kind.
    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// The path it listens on, for a path address.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            // Only a socket file: never remove something else put there since.
            if std::fs::symlink_metadata(p).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

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
/// has no such fd), `ENOSYS` as [`ErrorKind::Unsupported`] (Linux before
/// 5.6).
#[doc(alias = "pidfd_getfd")]
#[doc(alias = "pidfd_open")]
pub fn from_process(pid: u32, fd: RawFd) -> Result<Passed> {
    let p = libc::pid_t::try_from(pid)
        .map_err(|_| Error::invalid("pidfd_open", None, format!("no process can have pid {pid}")))?;
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

/// The raw fd of the socket (for readiness polling by an event loop).
impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<Channel> for OwnedFd {
    fn from(c: Channel) -> OwnedFd {
        c.fd
    }
}

// The header length prefix must fit the largest header.
const _: () = assert!(MAX_HEADER <= u32::MAX as usize);

#[cfg(test)]
mod tests {
    use super::*;

    fn memfd() -> OwnedFd {
        nix::sys::memfd::memfd_create(c"fdpass-test", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).expect("memfd")
    }

    #[test]
    fn messages_and_fds_cross_both_kinds() {
        for kind in [SocketKind::Stream, SocketKind::SeqPacket] {
            let (a, b) = Channel::pair(kind).expect("pair");
            let m = memfd();
            a.send(b"hello", &[m.as_fd(), m.as_fd()]).expect("send");
            a.send(b"", &[]).expect("send empty");
            let got = b.recv(4).expect("recv");
            assert_eq!(got.header, b"hello");
            assert_eq!(got.fds.len(), 2);
            assert!(matches!(got.fds[0], Passed::Fd(_)));
            let got = b.recv(4).expect("recv empty");
            assert!(got.header.is_empty() && got.fds.is_empty());
            assert_eq!(b.try_recv(4).expect_err("nothing").errno(), Errno::EAGAIN);
        }
    }

    #[test]
    fn too_many_fds_are_closed_and_the_channel_goes_on() {
        for kind in [SocketKind::Stream, SocketKind::SeqPacket] {
            let (a, b) = Channel::pair(kind).expect("pair");
            let m = memfd();
            a.send(b"three", &[m.as_fd(), m.as_fd(), m.as_fd()]).expect("send");
            a.send(b"next", &[]).expect("send");
            let e = b.recv(1).expect_err("ctrunc");
            assert_eq!(e.errno(), Errno::ETOOMANYREFS, "{e}");
            assert_eq!(b.recv(1).expect("next").header, b"next");
        }
    }

    #[test]
    fn closed_peer_and_limits() {
        for kind in [SocketKind::Stream, SocketKind::SeqPacket] {
            let (a, b) = Channel::pair(kind).expect("pair");
            let big = vec![0u8; MAX_HEADER + 1];
            assert_eq!(a.send(&big, &[]).expect_err("big").errno(), Errno::EMSGSIZE);
            drop(a);
            assert_eq!(b.recv(1).expect_err("closed").errno(), Errno::EPIPE);
            assert_eq!(b.send(b"x", &[]).expect_err("closed").errno(), Errno::EPIPE);
        }
    }

    #[test]
    fn a_stream_cut_mid_message_is_econnreset() {
        let (a, b) = Channel::pair(SocketKind::Stream).expect("pair");
        let m = memfd();
        // A frame announcing 100 bytes, of which 3 come, with an fd.
        sys::socket::send(a.as_fd(), &[100, 0, 0, 0, 1, 2, 3], &[m.as_fd()]).expect("raw send");
        drop(a);
        let e = b.recv(4).expect_err("cut");
        assert_eq!(e.errno(), Errno::ECONNRESET, "{e}");
    }

    #[test]
    fn a_stream_keeps_messages_whole_when_the_kernel_takes_them_in_parts() {
        let (a, b) = Channel::pair(SocketKind::Stream).expect("pair");
        let sender = std::thread::spawn(move || {
            let m = memfd();
            for i in 0..40u8 {
                // Near MAX_HEADER each: the socket buffer fills, and sends go in parts.
                a.send(&vec![i; MAX_HEADER - 7], &[m.as_fd()]).expect("send");
            }
        });
        for i in 0..40u8 {
            let msg = b.recv(1).expect("recv");
            assert_eq!(msg.header.len(), MAX_HEADER - 7);
            assert!(msg.header.iter().all(|&x| x == i), "message {i} mixed with another");
            assert_eq!(msg.fds.len(), 1);
        }
        sender.join().expect("sender");
    }

    #[test]
    fn listen_connect_accept() {
        let name = format!("dmabuf-test-{}", std::process::id());
        let addr = Address::parse(&format!("@{name}"));
        let l = Listener::bind(&addr, SocketKind::SeqPacket).expect("bind");
        let c = Channel::connect(&addr, SocketKind::SeqPacket).expect("connect");
        let s = l.accept().expect("accept");
        c.send(b"hi", &[]).expect("send");
        assert_eq!(s.recv(0).expect("recv").header, b"hi");
    }

    #[test]
    fn from_process_self() {
        let m = memfd();
        let got = from_process(std::process::id(), m.as_raw_fd()).expect("pidfd_getfd");
        assert!(matches!(got, Passed::Fd(_)));
        assert_eq!(from_process(std::process::id(), 99_999).expect_err("no fd").errno(), Errno::EBADF);
    }
}
