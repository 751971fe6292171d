//! Receiving: `recvmsg` with `MSG_CMSG_CLOEXEC`, a stream put back into whole
//! messages, and every fd owned (or closed) the moment it arrives.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

use super::channel::Channel;
use super::message::{Message, Passed};
use super::socket::{lock, wait_ready, SocketKind};
use super::{Framing, MAX_FDS, MAX_HEADER, PREFIX};

thread_local! {
    /// `recv_packet`'s receive buffer, kept between calls on each thread.
    static LANDING: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A message being received (a stream may deliver it in parts).
#[derive(Default)]
pub(super) struct Rx {
    pub(super) buf: Vec<u8>,
    pub(super) fds: Vec<OwnedFd>,
    pub(super) too_many_fds: bool,
    /// The stream lost its framing (a foreign peer): every receive fails.
    pub(super) broken: bool,
}

impl Drop for Rx {
    fn drop(&mut self) {
        close_all(std::mem::take(&mut self.fds));
    }
}

/// Closes fds a peer sent that nobody will get, without waiting on it
/// ([`close_foreign`](super::close_foreign)).
fn close_all(fds: Vec<OwnedFd>) {
    fds.into_iter().for_each(crate::fd::close_detached);
}

pub(super) struct RxBox(pub(super) Rx);

impl std::fmt::Debug for RxBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rx").field("pending_bytes", &self.0.buf.len()).field("pending_fds", &self.0.fds.len()).finish()
    }
}

impl Channel {
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

    pub(super) fn proto(&self, detail: &'static str) -> Error {
        Error::new(ErrorKind::Os, Errno::EPROTO, "recvmsg", Some(self.fd.as_raw_fd()), detail)
    }

    pub(super) fn recv_error(&self, e: Errno) -> Error {
        let err = Error::os("recvmsg", Some(self.fd.as_raw_fd()), e);
        if e == Errno::ECONNRESET {
            err.with_detail("the peer closed the channel with a message unread")
        } else {
            err
        }
    }

    /// Whether another packet is queued (`recv(MSG_PEEK | MSG_DONTWAIT)`
    /// of one byte gives more than 0): after a 0-byte read from a peer that
    /// has hung up, that read was a packet, not the end.
    fn more_queued(&self) -> bool {
        let mut b = [0u8; 1];
        // SAFETY: a one-byte buffer we own; the call only peeks.
        let n =
            unsafe { libc::recv(self.fd.as_raw_fd(), b.as_mut_ptr().cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
        n > 0
    }

    /// Whether the peer is gone: `poll` with no wait reports `POLLHUP` or
    /// `POLLRDHUP` (a 0-byte read alone does not tell).
    fn hung_up(&self) -> bool {
        // libc's poll: nix knows no POLLRDHUP (a shutdown(SHUT_WR) by the
        // peer), and drops revents it cannot name.
        let mut p = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLRDHUP, revents: 0 };
        // SAFETY: one valid pollfd, no wait.
        match unsafe { libc::poll(&raw mut p, 1, 0) } {
            n if n >= 0 => p.revents & (libc::POLLHUP | libc::POLLRDHUP) != 0,
            // Cannot tell: keep the old reading (the end).
            _ => true,
        }
    }

    pub(super) fn closed(&self) -> Error {
        Error::new(ErrorKind::Os, Errno::EPIPE, "recvmsg", Some(self.fd.as_raw_fd()), "the peer closed the channel")
    }

    pub(super) fn finish(&self, header: Vec<u8>, fds: Vec<OwnedFd>, too_many: bool, max_fds: usize) -> Result<Message> {
        if too_many || fds.len() > max_fds {
            let n = fds.len();
            close_all(fds);
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

    pub(super) fn recv_packet(&self, max_fds: usize) -> Result<Message> {
        // One landing area per thread, zeroed once: a fresh 64 KiB buffer
        // per attempt cost a memset of 64 KiB per message (and per EAGAIN).
        let mut buf = LANDING.with(std::cell::Cell::take);
        buf.resize(PREFIX + MAX_HEADER + 1, 0);
        let r = self.recv_packet_into(&mut buf, max_fds);
        LANDING.with(|c| c.set(buf));
        r
    }

    fn recv_packet_into(&self, buf: &mut [u8], max_fds: usize) -> Result<Message> {
        let r = sys::socket::recv(self.fd.as_fd(), buf, max_fds).map_err(|e| self.recv_error(e))?;
        if r.bytes == 0 && r.fds.is_empty() {
            // recvmsg says 0 both at the end and for a 0-byte packet, which
            // a peer can send: only a hang-up with nothing left queued is the end.
            if self.hung_up() && !self.more_queued() {
                return Err(self.closed());
            }
            return Err(self.proto("a 0-byte packet (not a message of this channel's format); the channel goes on"));
        }
        if r.data_truncated || r.bytes > PREFIX + MAX_HEADER {
            close_all(r.fds);
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
            close_all(r.fds);
            return Err(self.proto("a packet that is not a message of this channel's format"));
        }
        let header = buf[PREFIX..r.bytes].to_vec();
        self.finish(header, r.fds, r.fds_truncated, max_fds)
    }

    pub(super) fn recv_stream(&self, rx: &mut Rx, max_fds: usize) -> Result<Message> {
        let prefix = self.framing.prefix();
        loop {
            let want = if rx.buf.len() < prefix {
                prefix - rx.buf.len()
            } else {
                let (len, max) = self.framing.body(&rx.buf);
                if len > max {
                    rx.broken = true;
                    rx.buf.clear();
                    close_all(std::mem::take(&mut rx.fds));
                    return Err(Error::new(
                        ErrorKind::Os,
                        Errno::EMSGSIZE,
                        "recvmsg",
                        Some(self.fd.as_raw_fd()),
                        format!(
                            "the peer announced a {len}-byte header (at most {max}); the channel is unusable from here"
                        ),
                    ));
                }
                prefix + len - rx.buf.len()
            };
            if want == 0 {
                let mut header = std::mem::take(&mut rx.buf);
                // A unixfd command keeps its header: it holds the type.
                let header = if self.framing == Framing::Length { header.split_off(PREFIX) } else { header };
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

    pub(super) fn mid_message(&self, fds: usize) -> Error {
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
