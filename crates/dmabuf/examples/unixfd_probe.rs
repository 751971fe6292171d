//! Connects to a GStreamer `unixfdsink` and prints each command it sends,
//! decoded with `dmabuf::unixfd::wire`, releasing every buffer: a check of
//! the wire format against the real plugin (work in progress; the client
//! proper will replace it).
//!
//! ```text
//! gst-launch-1.0 videotestsrc num-buffers=5 ! video/x-raw,format=RGBA,width=64,height=48 \
//!     ! unixfdsink socket-path=/tmp/probe.sock &
//! cargo run -p dmabuf --example unixfd_probe -- /tmp/probe.sock
//! ```

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use dmabuf::unixfd::wire::{header, kind, Command, HEADER_LEN};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessageOwned, MsgFlags};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: unixfd_probe SOCKET-PATH")?;
    let sock = UnixStream::connect(&path)?;
    loop {
        // The header, with the fds that ride on its sendmsg.
        let mut head = [0u8; HEADER_LEN];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 16]);
        let mut fds: Vec<OwnedFd> = Vec::new();
        let n = {
            let mut iov = [IoSliceMut::new(&mut head)];
            let msg = recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)?;
            for c in msg.cmsgs()? {
                if let ControlMessageOwned::ScmRights(raw) = c {
                    // SAFETY: fds the kernel just installed for us, owned from here.
                    fds.extend(raw.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
                }
            }
            msg.bytes
        };
        if n == 0 {
            println!("the sink closed the connection");
            return Ok(());
        }
        if n < HEADER_LEN {
            return Err(format!("a short header ({n} bytes)").into());
        }
        let (k, len) = header(&head);
        let mut payload = vec![0u8; len as usize];
        std::io::Read::read_exact(&mut &sock, &mut payload)?;
        let cmd = Command::decode(k, &payload)?;
        println!("{cmd} with {} fds", fds.len());
        match cmd {
            Command::NewBuffer(b) => {
                println!(
                    "  pts {:?} dts {:?} duration {:?} offset {:?} flags {:#x} memory {:?} {:?} metas {}",
                    b.pts, b.dts, b.duration, b.offset, b.flags, b.memory, b.memories, b.n_meta
                );
                for fd in &fds {
                    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
                    println!("  fd -> {}", target.display());
                }
                drop(fds);
                let release = Command::ReleaseBuffer { id: b.id }.encode()?;
                sendmsg::<()>(sock.as_raw_fd(), &[std::io::IoSlice::new(&release)], &[], MsgFlags::empty(), None)?;
            }
            Command::Eos => {
                println!("end of stream");
                return Ok(());
            }
            _ if k == kind::RELEASE_BUFFER => return Err("a sink does not send RELEASE_BUFFER".into()),
            _ => {}
        }
    }
}
