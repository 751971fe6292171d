//! The client side of `unixfd`: what `unixfdsrc` does, from Rust. It
//! connects to a `unixfdsink`'s socket, receives its commands with their
//! fds (owned from `recvmsg` on, through [`Channel`]'s stream reassembly)
//! and sends `RELEASE_BUFFER` for each buffer it is done with.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use crate::error::{Errno, Error, ErrorKind, Result};
use crate::fdpass::{Address, Channel, Framing, Passed, SocketKind, MAX_FDS};

use super::wire::{header, Command, HEADER_LEN};

/// A command from the sink and the fds that came with it: for a
/// `NEW_BUFFER`, one per memory, in order ([`Passed::DmaBuf`] for
/// dma-bufs, [`Passed::Fd`] for memfds).
#[derive(Debug)]
pub struct Received {
    /// The command.
    pub command: Command,
    /// Its fds.
    pub fds: Vec<Passed>,
}

/// A connection to a `unixfdsink`.
#[derive(Debug)]
pub struct Client {
    ch: Channel,
}

impl Client {
    /// `socket` + `connect` to the sink at `addr` (a path, or `@name` for
    /// an abstract socket).
    ///
    /// # Errors
    /// As [`Channel::connect`]: `ENOENT` / `ECONNREFUSED` when no sink
    /// listens there, `EACCES`.
    pub fn connect(addr: &Address) -> Result<Client> {
        Ok(Client { ch: Channel::connect(addr, SocketKind::Stream)?.with_framing(Framing::UnixFd) })
    }

    /// Receives the next command without waiting: `EAGAIN` when none (or
    /// only part of one) has arrived.
    ///
    /// # Errors
    /// `EPIPE` when the sink has gone, `ECONNRESET` in the middle of a
    /// command, `EPROTO` for bytes that are not a command or a
    /// `NEW_BUFFER` whose fds do not match its memories (its fds closed).
    pub fn try_recv(&self) -> Result<Received> {
        self.decode(self.ch.try_recv(MAX_FDS)?)
    }

    /// Receives the next command, waiting up to `timeout` (`None`: for
    /// ever); `Ok(None)` when the time ran out.
    ///
    /// # Errors
    /// As [`Client::try_recv`], but never `EAGAIN`.
    pub fn recv_timeout(&self, timeout: Option<Duration>) -> Result<Option<Received>> {
        self.ch.recv_timeout(MAX_FDS, timeout)?.map(|m| self.decode(m)).transpose()
    }

    /// Tells the sink that buffer `id` is done with (`RELEASE_BUFFER`).
    ///
    /// # Errors
    /// `EPIPE` when the sink has gone.
    pub fn release(&self, id: u64) -> Result<()> {
        self.ch.send(&Command::ReleaseBuffer { id }.encode()?, &[])
    }

    fn decode(&self, m: crate::fdpass::Message) -> Result<Received> {
        decode(self.ch.as_fd(), m)
    }
}

/// Decodes a message that a [`Channel`] in `unixfd` framing ([`channel`])
/// received on `fd` (named in errors): the command, and its fds checked
/// against it. What [`Client::try_recv`] does after the `recvmsg`, for
/// callers that receive on their own (an event loop).
///
/// # Errors
/// `EPROTO` for bytes that are not a command, or fds that do not match it
/// (one per memory of a `NEW_BUFFER`, none otherwise); every fd that came
/// is closed then.
pub fn decode(fd: BorrowedFd<'_>, m: crate::fdpass::Message) -> Result<Received> {
    let bad = |detail: String| Error::new(ErrorKind::Os, Errno::EPROTO, "recvmsg", Some(fd.as_raw_fd()), detail);
    let bytes = &m.header;
    if bytes.len() < HEADER_LEN {
        m.fds.into_iter().for_each(Passed::close);
        return Err(bad(format!("a message of {} bytes (a command has at least {HEADER_LEN})", bytes.len())));
    }
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&bytes[..HEADER_LEN]);
    let (kind, _) = header(&h);
    let command = match Command::decode(kind, &bytes[HEADER_LEN..]) {
        Ok(c) => c,
        Err(e) => {
            m.fds.into_iter().for_each(Passed::close);
            return Err(e.with_fd(fd.as_raw_fd()));
        }
    };
    let want = match &command {
        Command::NewBuffer(b) => b.memories.len(),
        _ => 0,
    };
    if m.fds.len() != want {
        let n = m.fds.len();
        m.fds.into_iter().for_each(Passed::close);
        return Err(bad(format!("{command} came with {n} fds (it needs {want}); they were closed")));
    }
    Ok(Received { command, fds: m.fds })
}

/// A connected stream [`Channel`] (one from [`Listener::accept`], or
/// [`Channel::connect`]) made to cut its bytes as `unixfd` commands: each
/// message it receives is a whole command, header included (see
/// [`decode`]), and each it sends must be one ([`Command::encode`]).
///
/// # Errors
/// `EPROTOTYPE` for a seqpacket channel (the protocol runs on a stream).
///
/// [`Listener::accept`]: crate::fdpass::Listener::accept
pub fn channel(ch: Channel) -> Result<Channel> {
    if ch.kind() != SocketKind::Stream {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            Errno::EPROTOTYPE,
            "unixfd",
            Some(ch.as_raw_fd()),
            "a seqpacket channel: the unixfd protocol runs on a stream socket",
        ));
    }
    Ok(ch.with_framing(Framing::UnixFd))
}

impl AsFd for Client {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ch.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsFd;

    use nix::sys::memfd::{memfd_create, MFdFlags};

    use super::*;
    use crate::fdpass::Listener;
    use crate::unixfd::wire::{MemoryDesc, MemoryType, NewBuffer};

    /// A sink end made of this crate's own pieces, and a client connected to it.
    fn pair(name: &str) -> (Channel, Client) {
        let addr = Address::parse(&format!("@dmabuf-unixfd-test-{name}-{}", std::process::id()));
        let l = Listener::bind(&addr, SocketKind::Stream).unwrap();
        let c = Client::connect(&addr).unwrap();
        (l.accept().unwrap().with_framing(Framing::UnixFd), c)
    }

    fn new_buffer(id: u64, n: usize) -> Command {
        Command::NewBuffer(NewBuffer {
            id,
            pts: Some(5),
            dts: None,
            duration: None,
            offset: None,
            offset_end: None,
            flags: 0,
            memory: MemoryType::Default,
            memories: vec![MemoryDesc { size: 4096, offset: 0 }; n],
            n_meta: 0,
            metas: Vec::new(),
        })
    }

    #[test]
    fn caps_a_buffer_with_its_memfd_and_eos_arrive_in_order_and_the_release_goes_back() {
        let (sink, client) = pair("order");
        let mut f = std::fs::File::from(memfd_create("t", MFdFlags::MFD_CLOEXEC).unwrap());
        f.write_all(&[7u8; 4096]).unwrap();
        sink.send(&Command::Caps("video/x-raw".into()).encode().unwrap(), &[]).unwrap();
        sink.send(&new_buffer(77, 1).encode().unwrap(), &[f.as_fd()]).unwrap();
        sink.send(&Command::Eos.encode().unwrap(), &[]).unwrap();
        let t = Some(Duration::from_secs(5));
        assert_eq!(client.recv_timeout(t).unwrap().unwrap().command, Command::Caps("video/x-raw".into()));
        let r = client.recv_timeout(t).unwrap().unwrap();
        assert_eq!(r.command, new_buffer(77, 1));
        assert_eq!(r.fds.len(), 1);
        assert_eq!(client.recv_timeout(t).unwrap().unwrap().command, Command::Eos);
        client.release(77).unwrap();
        let m = sink.recv_timeout(MAX_FDS, t).unwrap().unwrap();
        assert_eq!(m.header, Command::ReleaseBuffer { id: 77 }.encode().unwrap());
        assert_eq!(client.try_recv().unwrap_err().errno(), Errno::EAGAIN);
    }

    #[test]
    fn a_buffer_whose_fds_do_not_match_its_memories_is_eproto_and_the_next_command_still_arrives() {
        let (sink, client) = pair("mismatch");
        let f = std::fs::File::from(memfd_create("t", MFdFlags::MFD_CLOEXEC).unwrap());
        sink.send(&new_buffer(1, 2).encode().unwrap(), &[f.as_fd()]).unwrap();
        sink.send(&Command::Eos.encode().unwrap(), &[]).unwrap();
        let t = Some(Duration::from_secs(5));
        let e = client.recv_timeout(t).unwrap_err();
        assert_eq!(e.errno(), Errno::EPROTO);
        assert!(e.to_string().contains("came with 1 fds (it needs 2)"), "{e}");
        assert_eq!(client.recv_timeout(t).unwrap().unwrap().command, Command::Eos);
    }

    #[test]
    fn only_a_stream_takes_unixfd_framing_and_short_messages_are_eproto() {
        let (a, _b) = Channel::pair(SocketKind::SeqPacket).unwrap();
        assert_eq!(channel(a).unwrap_err().errno(), Errno::EPROTOTYPE);
        let (a, _b) = Channel::pair(SocketKind::Stream).unwrap();
        let f = std::fs::File::from(memfd_create("t", MFdFlags::MFD_CLOEXEC).unwrap());
        let m = crate::fdpass::Message { header: vec![0; 4], fds: vec![Passed::Fd(f.into())] };
        let e = decode(a.as_fd(), m).unwrap_err();
        assert_eq!(e.errno(), Errno::EPROTO);
        assert!(e.to_string().contains("a message of 4 bytes"), "{e}");
    }

    #[test]
    fn a_sink_that_hangs_up_is_epipe() {
        let (sink, client) = pair("hangup");
        drop(sink);
        assert_eq!(client.recv_timeout(Some(Duration::from_secs(5))).unwrap_err().errno(), Errno::EPIPE);
    }
}
