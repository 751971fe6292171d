//! Plays `unixfdsink` for a GStreamer `unixfdsrc` with
//! `dmabuf::unixfd::Sink`: sends the caps, N RGBA frames in memfds (frame k
//! filled with byte k+1) with at most 2 in flight, and EOS, then counts the
//! releases until the source hangs up (work in progress).
//!
//! ```text
//! cargo run -p dmabuf --example unixfd_probe_sink -- /tmp/src.sock 4 &
//! gst-launch-1.0 unixfdsrc socket-path=/tmp/src.sock ! filesink location=/tmp/out.raw
//! ```

use std::io::Write;
use std::os::fd::AsFd;
use std::time::Duration;

use dmabuf::fdpass::Address;
use dmabuf::unixfd::wire::{MemoryDesc, MemoryType, NewBuffer};
use dmabuf::unixfd::Sink;
use nix::sys::memfd::{memfd_create, MFdFlags};

const W: usize = 64;
const H: usize = 48;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: unixfd_probe_sink SOCKET-PATH [FRAMES]")?;
    let frames: u64 = args.next().map_or(Ok(4), |s| s.parse())?;
    let _ = std::fs::remove_file(&path);
    let sink = Sink::bind(&Address::parse(&path))?;
    let mut conn = sink.accept(&format!(
        "video/x-raw, format=(string)RGBA, width=(int){W}, height=(int){H}, framerate=(fraction)30/1"
    ))?;
    let mut released = 0;
    for k in 0..frames {
        // At most 2 in flight: wait for a release, but only while 2 are out.
        while conn.in_flight() >= 2 {
            let got = conn.releases(Some(Duration::from_secs(5)))?;
            if got.is_empty() {
                println!("no release in 5 s with {} in flight: the source holds them", conn.in_flight());
                break;
            }
            released += got.len();
        }
        let mut file = std::fs::File::from(memfd_create("unixfd-probe", MFdFlags::MFD_CLOEXEC)?);
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
        conn.send_buffer(b, &[file.as_fd()])?;
    }
    conn.send_eos()?;
    loop {
        match conn.releases(None) {
            Ok(got) => released += got.len(),
            Err(e) if e.errno() == dmabuf::Errno::EPIPE => break,
            Err(e) => return Err(e.into()),
        }
    }
    println!("{released} of {frames} buffers released; the source closed the connection");
    Ok(())
}
