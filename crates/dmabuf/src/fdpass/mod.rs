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
//!
//! ## Files
//!
//! | file | what |
//! |---|---|
//! | `socket.rs` | [`SocketKind`], [`Address`], `socket(AF_UNIX)` |
//! | `message.rs` | [`Message`] and [`Passed`] (each fd sorted by kind) |
//! | `channel.rs` | [`Channel`]: `socketpair`, `connect`, adopting an fd, and sending (`sendmsg`) |
//! | `recv.rs` | [`Channel`]'s receives (`recvmsg`), a stream put back into whole messages |
//! | `listener.rs` | [`Listener`]: `bind`, `listen`, `accept` |
//! | `process.rs` | [`from_process`] (`pidfd_getfd`) |
//!
//! Their system calls are in `sys/socket.rs` and `sys/pidfd.rs`.
//!
//! [`DmaBuf`]: crate::DmaBuf
//! [`SyncFile`]: crate::SyncFile
//! [`OwnedFd`]: std::os::fd::OwnedFd

mod channel;
mod listener;
mod message;
mod process;
mod recv;
mod socket;

pub use channel::Channel;
pub use listener::Listener;
pub use message::{Message, Passed};
pub use process::from_process;
pub use socket::{Address, SocketKind};

use crate::sys;

/// Closes an fd that another process chose (one that arrived in a
/// message, or came from [`from_process`]) without waiting on anything that
/// process controls. `close` itself can wait: on a FUSE file the kernel
/// asks the daemon (`FUSE_FLUSH`) and waits for its answer, on NFS it
/// writes back, a device's release or a lingering TCP socket may take
/// their time. So dma-bufs, `sync_file`s and other anonymous inodes,
/// pipes, memfds and Unix sockets are closed at once, and any other file
/// on a helper thread (`dmabuf-close`, started on first use), which closes
/// them in order. A file whose server never answers holds that thread
/// (and what is queued behind it), never the caller. Receives use it for
/// every fd they drop (a message with too many fds, a malformed one, a
/// channel dropped in the middle of a message).
pub fn close_foreign(fd: std::os::fd::OwnedFd) {
    crate::fd::close_detached(fd);
}

/// The most fds one message may carry: the kernel's `SCM_MAX_FD`.
pub const MAX_FDS: usize = sys::socket::SCM_MAX_FD;

/// The largest header a message may have, in bytes.
pub const MAX_HEADER: usize = 64 * 1024;

/// The length prefix of every message.
const PREFIX: usize = 4;

/// How a stream channel cuts its bytes into messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// This module's own: a `u32` little-endian length, then the header.
    Length,
    /// GStreamer's `unixfd` protocol ([`crate::unixfd`]): `u32` type and
    /// `u32` payload length in the host's order, then the payload. A
    /// message is the whole command, the 8-byte header included, and is
    /// sent as given (already encoded).
    UnixFd,
}

/// A `unixfd` command's header: `u32` type, `u32` payload length (the
/// framing is this module's; what the bytes mean is `unixfd::wire`'s).
const UNIXFD_PREFIX: usize = 8;

/// The largest `unixfd` payload accepted (caps strings and metas are far
/// smaller; a peer announcing more has lost its framing).
pub(crate) const MAX_UNIXFD_PAYLOAD: usize = 1 << 20;

impl Framing {
    /// Bytes before the body.
    pub(crate) const fn prefix(self) -> usize {
        match self {
            Framing::Length => PREFIX,
            Framing::UnixFd => UNIXFD_PREFIX,
        }
    }

    /// The body's length that a whole prefix announces, and the most allowed.
    pub(crate) fn body(self, prefix: &[u8]) -> (usize, usize) {
        match self {
            Framing::Length => {
                let mut p = [0u8; PREFIX];
                p.copy_from_slice(&prefix[..PREFIX]);
                (u32::from_le_bytes(p) as usize, MAX_HEADER)
            }
            Framing::UnixFd => {
                let mut n = [0u8; 4];
                n.copy_from_slice(&prefix[4..UNIXFD_PREFIX]);
                (u32::from_ne_bytes(n) as usize, MAX_UNIXFD_PAYLOAD)
            }
        }
    }
}

// The header length prefix must fit the largest header.
const _: () = assert!(MAX_HEADER <= u32::MAX as usize);

#[cfg(test)]
mod tests {
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};

    use nix::errno::Errno;

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
    fn fds_are_sorted_and_closed_by_what_the_kernel_writes() {
        // A memfd whose name looks like a dma-buf's link is still a plain fd.
        let m = nix::sys::memfd::memfd_create(c"/dmabuf:fake", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).expect("memfd");
        assert!(crate::fd::link(m.as_fd()).contains("/dmabuf:fake"));
        assert_eq!(crate::fd::kind(m.as_fd()), crate::fd::Kind::Other);
        let (r, w) = nix::unistd::pipe().expect("pipe");
        let (a, _b) = Channel::pair(SocketKind::SeqPacket).expect("pair");
        for fd in [m.as_fd(), r.as_fd(), w.as_fd(), a.as_fd()] {
            assert!(crate::fd::closes_at_once(fd), "{}", crate::fd::describe(fd));
        }
        assert!(matches!(Passed::classify(m), Passed::Fd(_)));
        // A TCP socket may linger on close: closed on the helper thread.
        let tcp = nix::sys::socket::socket(
            nix::sys::socket::AddressFamily::Inet,
            nix::sys::socket::SockType::Stream,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
            None,
        )
        .expect("tcp socket");
        assert!(!crate::fd::closes_at_once(tcp.as_fd()));
        let raw = tcp.as_raw_fd();
        close_foreign(tcp);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // SAFETY: F_GETFD only asks whether the number is open; nothing is closed through it.
        while unsafe { libc::fcntl(raw, libc::F_GETFD) } >= 0 {
            assert!(std::time::Instant::now() < deadline, "the helper thread did not close fd {raw}");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn from_process_self() {
        let m = memfd();
        let got = from_process(std::process::id(), m.as_raw_fd()).expect("pidfd_getfd");
        assert!(matches!(got, Passed::Fd(_)));
        assert_eq!(from_process(std::process::id(), 99_999).expect_err("no fd").errno(), Errno::EBADF);
    }
}
