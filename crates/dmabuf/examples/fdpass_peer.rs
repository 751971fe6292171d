//! The Rust side of the Node <-> Rust fd-passing tests (`__test__/fdpass.spec.ts`):
//! a peer that serves requests on the channel it inherits as fd 3.
//!
//! Each request is a JSON header with an `op`:
//! - `read` + a dma-buf: replies `{"op":"read","bytes":[...]}` with its first `len` bytes;
//! - `write` + a dma-buf: fills its first `len` bytes with `byte`, replies `{"op":"written"}`;
//! - `alloc`: replies `{"op":"alloc"}` with a new udmabuf whose first `len` bytes are `byte`;
//! - `echo`: sends the header and the fds straight back;
//! - `fds`: replies `{"fds":N}`, its number of open fds;
//! - `badframe`: sends the header of a 16x16 NV12 frame in one udmabuf with
//!   its plane count byte set to `planes`, and `nfds` copies of the buffer.
//!
//! A frame message (a `DMFR` header: `Channel.sendFrame`) is made a `Frame`
//! by `Frame::from_message` and sent back with `Frame::send`, so a frame
//! crosses from Node to Rust and from Rust to Node; one it refuses is
//! answered `{"op":"refused","error":"..."}`.
//!
//! It exits 0 when the other side closes the channel.

use std::os::fd::AsFd;

use dmabuf::fdpass::{Channel, Passed};
use dmabuf::{Access, DmaBuf, Frame};

/// The number after `"key":` in a flat JSON object (enough for these requests).
fn num(header: &str, key: &str) -> usize {
    let pat = format!("\"{key}\":");
    header
        .find(&pat)
        .map(|i| header[i + pat.len()..].chars().take_while(char::is_ascii_digit).collect::<String>())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn first_buf(fds: &[Passed]) -> Result<&DmaBuf, String> {
    match fds.first() {
        Some(Passed::DmaBuf(b)) => Ok(b),
        _ => Err("expected a dma-buf".into()),
    }
}

fn serve(ch: &Channel) -> Result<(), Box<dyn std::error::Error>> {
    loop {
        let msg = match ch.recv(16) {
            Ok(m) => m,
            Err(e) if e.errno() == dmabuf::Errno::EPIPE => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if msg.header.starts_with(b"DMFR") {
            match Frame::from_message(msg) {
                Ok(frame) => frame.send(ch)?,
                Err(e) => {
                    let text = e.to_string().replace('\\', "\\\\").replace('"', "\\\"");
                    ch.send(format!("{{\"op\":\"refused\",\"error\":\"{text}\"}}").as_bytes(), &[])?;
                }
            }
            continue;
        }
        let header = String::from_utf8_lossy(&msg.header).into_owned();
        let op = header.split("\"op\":\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        let len = num(&header, "len");
        let byte = u8::try_from(num(&header, "byte")).unwrap_or(0);
        match op {
            "read" => {
                let buf = first_buf(&msg.fds)?;
                let map = buf.map(Access::Read)?;
                let mut bytes = vec![0u8; len];
                {
                    let _cpu = buf.begin_cpu_access(Access::Read)?;
                    map.read(0, &mut bytes)?;
                }
                let list: Vec<String> = bytes.iter().map(u8::to_string).collect();
                ch.send(format!("{{\"op\":\"read\",\"bytes\":[{}]}}", list.join(",")).as_bytes(), &[])?;
            }
            "write" => {
                let buf = first_buf(&msg.fds)?;
                let map = buf.map(Access::ReadWrite)?;
                {
                    let _cpu = buf.begin_cpu_access(Access::Write)?;
                    map.write(0, &vec![byte; len])?;
                }
                ch.send(br#"{"op":"written"}"#, &[])?;
            }
            "alloc" => {
                let buf = dmabuf::udmabuf::Udmabuf::open()?.alloc(dmabuf::page_size() as u64)?;
                let map = buf.map(Access::ReadWrite)?;
                {
                    let _cpu = buf.begin_cpu_access(Access::Write)?;
                    map.write(0, &vec![byte; len])?;
                }
                ch.send(br#"{"op":"alloc"}"#, &[buf.as_fd()])?;
            }
            "echo" => {
                let fds: Vec<_> = msg.fds.iter().map(AsFd::as_fd).collect();
                ch.send(&msg.header, &fds)?;
            }
            "badframe" => {
                let buf = dmabuf::udmabuf::Udmabuf::open()?.alloc(dmabuf::page_size() as u64)?;
                let chroma = buf.try_clone()?;
                let planes = vec![dmabuf::FramePlane::new(buf, 0, 16), dmabuf::FramePlane::new(chroma, 256, 16)];
                let frame = Frame::new(16, 16, dmabuf::Fourcc::NV12, dmabuf::Modifier::LINEAR, planes)?;
                let mut bytes = frame.header();
                bytes[5] = u8::try_from(num(&header, "planes")).unwrap_or(u8::MAX);
                let fds = vec![frame.planes()[0].buf.as_fd(); num(&header, "nfds")];
                ch.send(&bytes, &fds)?;
            }
            "fds" => {
                let n = std::fs::read_dir("/proc/self/fd")?.count();
                ch.send(format!("{{\"fds\":{n}}}").as_bytes(), &[])?;
            }
            other => return Err(format!("unknown op {other:?}").into()),
        }
    }
}

fn main() {
    let ch = match Channel::dup_from_raw(3) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fdpass_peer: fd 3: {e}");
            std::process::exit(2);
        }
    };
    // The inherited number is ours to close now that the channel has its own.
    let _ = nix::unistd::close(3);
    if let Err(e) = serve(&ch) {
        eprintln!("fdpass_peer: {e}");
        std::process::exit(1);
    }
}
