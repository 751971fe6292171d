//! Connects to a GStreamer `unixfdsink` with `dmabuf::unixfd::Client` and
//! prints each command it sends, releasing every buffer: a check of the
//! client against the real plugin (work in progress).
//!
//! ```text
//! gst-launch-1.0 videotestsrc num-buffers=5 ! video/x-raw,format=RGBA,width=64,height=48 \
//!     ! unixfdsink socket-path=/tmp/probe.sock wait-for-connection=true &
//! cargo run -p dmabuf --example unixfd_probe -- /tmp/probe.sock
//! ```

use std::os::fd::{AsFd, AsRawFd};

use dmabuf::fdpass::{Address, Passed};
use dmabuf::unixfd::{wire::Command, Client};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: unixfd_probe SOCKET-PATH")?;
    let client = Client::connect(&Address::parse(&path))?;
    loop {
        let r = match client.recv_timeout(None) {
            Ok(r) => r.ok_or("no command")?,
            Err(e) if e.errno() == dmabuf::Errno::EPIPE => {
                println!("the sink closed the connection");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        println!("{} with {} fds", r.command, r.fds.len());
        match r.command {
            Command::NewBuffer(b) => {
                println!(
                    "  pts {:?} duration {:?} offset {:?} flags {:#x} memory {:?} {:?}",
                    b.pts, b.duration, b.offset, b.flags, b.memory, b.memories
                );
                for p in &r.fds {
                    let fd = match p {
                        Passed::DmaBuf(d) => d.as_fd().as_raw_fd(),
                        Passed::SyncFile(s) => s.as_fd().as_raw_fd(),
                        Passed::Fd(f) => f.as_raw_fd(),
                    };
                    println!("  fd -> {}", std::fs::read_link(format!("/proc/self/fd/{fd}"))?.display());
                }
                drop(r.fds);
                client.release(b.id)?;
            }
            Command::Eos => {
                println!("end of stream");
                return Ok(());
            }
            _ => {}
        }
    }
}
