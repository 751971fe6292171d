//! The sink side of `unixfd`: what `unixfdsink` does, for one client at a
//! time. A `unixfdsrc` connects; it gets the caps first, then buffers
//! (their fds sent along, never copied) and at the end `EOS`, and sends
//! `RELEASE_BUFFER` for each buffer it is done with. The sink never waits
//! for a release before sending the next buffer (GStreamer elements such as
//! `filesink` hold several before letting any go); it bounds how many are
//! in flight instead.

use std::collections::HashSet;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use crate::error::{Errno, Error, ErrorKind, Result};
use crate::fdpass::{Address, Channel, Framing, Listener, SocketKind, MAX_FDS};

use super::wire::{header, Command, NewBuffer, HEADER_LEN};

/// A connected `unixfdsrc` and the buffers it has not released yet.
#[derive(Debug)]
pub struct SinkConnection {
    ch: Channel,
    in_flight: HashSet<u64>,
}

/// Listens where `unixfdsrc` connects (its `socket-path`).
#[derive(Debug)]
pub struct Sink {
    listener: Listener,
}

impl Sink {
    /// `socket` + `bind` + `listen` at `addr` (a path, or `@name`).
    ///
    /// # Errors
    /// As [`Listener::bind`]: `EADDRINUSE`, `EACCES`.
    pub fn bind(addr: &Address) -> Result<Sink> {
        Ok(Sink { listener: Listener::bind(addr, SocketKind::Stream)? })
    }

    /// Waits for a source to connect and sends it `caps` first.
    ///
    /// # Errors
    /// As [`Listener::accept`], and `EPIPE` if it hangs up at once.
    pub fn accept(&self, caps: &str) -> Result<SinkConnection> {
        let c = SinkConnection { ch: self.listener.accept()?.with_framing(Framing::UnixFd), in_flight: HashSet::new() };
        c.send_caps(caps)?;
        Ok(c)
    }
}

impl SinkConnection {
    /// Sends new caps (before the buffers they describe).
    ///
    /// # Errors
    /// `EINVAL` for caps with a NUL inside, `EPIPE` when the source has gone.
    pub fn send_caps(&self, caps: &str) -> Result<()> {
        self.ch.send(&Command::Caps(caps.to_owned()).encode()?, &[])
    }

    /// Sends a buffer with one fd per memory, in order. The fds are only
    /// borrowed: the source gets its own copies, and the caller may reuse
    /// the memory once [`SinkConnection::releases`] gives back `buffer.id`.
    ///
    /// # Errors
    /// `EINVAL` when the fds do not match the memories or `buffer.id` is
    /// still in flight, `EPIPE` when the source has gone.
    pub fn send_buffer(&mut self, buffer: NewBuffer, fds: &[BorrowedFd<'_>]) -> Result<()> {
        if fds.len() != buffer.memories.len() {
            return Err(Error::invalid(
                "unixfd",
                None,
                format!("{} fds for {} memories (one fd per memory)", fds.len(), buffer.memories.len()),
            ));
        }
        if self.in_flight.contains(&buffer.id) {
            return Err(Error::invalid(
                "unixfd",
                None,
                format!("buffer {} is still in flight (not released)", buffer.id),
            ));
        }
        let id = buffer.id;
        self.ch.send(&Command::NewBuffer(buffer).encode()?, fds)?;
        self.in_flight.insert(id);
        Ok(())
    }

    /// Sends `EOS`.
    ///
    /// # Errors
    /// `EPIPE` when the source has gone.
    pub fn send_eos(&self) -> Result<()> {
        self.ch.send(&Command::Eos.encode()?, &[])
    }

    /// How many buffers the source holds.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The ids the source has released since the last call, waiting up to
    /// `timeout` for the first one (`Some(ZERO)`: not at all; `None`: for
    /// ever). Unknown commands are skipped, as `unixfdsink` does.
    ///
    /// # Errors
    /// `EPIPE` when the source has gone (the buffers it held are released
    /// with it), `EPROTO` for a command a source may not send or an id this
    /// sink never sent.
    pub fn releases(&mut self, timeout: Option<Duration>) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        let mut wait = timeout;
        while let Some(m) = self.ch.recv_timeout(MAX_FDS, wait)? {
            wait = Some(Duration::ZERO);
            let mut h = [0u8; HEADER_LEN];
            h.copy_from_slice(&m.header[..HEADER_LEN]);
            let (kind, _) = header(&h);
            m.fds.into_iter().for_each(crate::fdpass::Passed::close);
            match Command::decode(kind, &m.header[HEADER_LEN..])? {
                Command::ReleaseBuffer { id } => {
                    if !self.in_flight.remove(&id) {
                        return Err(self.bad(format!("the source released buffer {id}, which is not in flight")));
                    }
                    out.push(id);
                }
                Command::Unknown { .. } => {}
                c => return Err(self.bad(format!("a source sent {c}"))),
            }
        }
        Ok(out)
    }

    fn bad(&self, detail: String) -> Error {
        Error::new(ErrorKind::Os, Errno::EPROTO, "recvmsg", Some(self.ch.as_fd().as_raw_fd()), detail)
    }
}

impl AsFd for SinkConnection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ch.as_fd()
    }
}
