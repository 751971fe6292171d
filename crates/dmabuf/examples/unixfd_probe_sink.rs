//! Plays `unixfdsink` for a GStreamer `unixfdsrc`: listens on a socket,
//! sends CAPS, N RGBA frames in memfds (frame k filled with byte k+1) and
//! EOS, then counts the releases until the source hangs up. A check of the sending direction of
//! the wire format against the real plugin (work in progress).
//!
//! ```text
//! cargo run -p dmabuf --example unixfd_probe_sink -- /tmp/src.sock 4 &
//! gst-launch-1.0 unixfdsrc socket-path=/tmp/src.sock ! filesink location=/tmp/out.raw
//! ```

use std::io::{IoSlice, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixListener;

use dmabuf::unixfd::wire::{header, Command, MemoryDesc, MemoryType, NewBuffer, HEADER_LEN};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

const W: usize = 64;
const H: usize = 48;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: unixfd_probe_sink SOCKET-PATH [FRAMES]")?;
    let frames: u64 = args.next().map_or(Ok(4), |s| s.parse())?;
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    let (sock, _) = listener.accept()?;
    let send = |cmd: &Command, fds: &[std::os::fd::RawFd]| -> Result<(), Box<dyn std::error::Error>> {
        let bytes = cmd.encode()?;
        let rights = [ControlMessage::ScmRights(fds)];
        let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &rights };
        sendmsg::<()>(sock.as_raw_fd(), &[IoSlice::new(&bytes)], cmsgs, MsgFlags::empty(), None)?;
        Ok(())
    };
    send(
        &Command::Caps(format!(
            "video/x-raw, format=(string)RGBA, width=(int){W}, height=(int){H}, framerate=(fraction)30/1"
        )),
        &[],
    )?;
    for k in 0..frames {
        let memfd = memfd_create("unixfd-probe", MFdFlags::MFD_CLOEXEC)?;
        let mut file = std::fs::File::from(memfd);
        file.write_all(&vec![u8::try_from(k + 1)?; W * H * 4])?;
        let b = NewBuffer {
            id: 1000 + k,
            pts: Some(k * 33_333_333),
            dts: None,
            duration: Some(33_333_333),
            offset: Some(k),
            offset_end: None,
            flags: 0,
            memory: MemoryType::Default,
            memories: vec![MemoryDesc { size: (W * H * 4) as u64, offset: 0 }],
            n_meta: 0,
            metas: Vec::new(),
        };
        send(&Command::NewBuffer(b), &[file.as_fd().as_raw_fd()])?;
    }
    // A sink does not wait for releases before the next buffer (filesink,
    // for one, holds buffers until it writes them out in a batch): they
    // come back whenever the source is done with each.
    send(&Command::Eos, &[])?;
    let mut released = 0;
    loop {
        let mut head = [0u8; HEADER_LEN];
        if std::io::Read::read_exact(&mut &sock, &mut head).is_err() {
            break;
        }
        let (kind, len) = header(&head);
        let mut payload = vec![0u8; len as usize];
        std::io::Read::read_exact(&mut &sock, &mut payload)?;
        let cmd = Command::decode(kind, &payload)?;
        println!("{cmd}");
        if matches!(cmd, Command::ReleaseBuffer { .. }) {
            released += 1;
        }
    }
    println!("{released} of {frames} buffers released; the source closed the connection");
    Ok(())
}
