//! `peek <fd> [len]`: shows what is in a dma-buf this process inherited.
//!
//! Maps the buffer read-only, brackets the read with CPU access
//! (`DMA_BUF_IOCTL_SYNC`), and prints the exporter, the name and the first
//! `len` bytes (default 64) as hex. The fd stays the caller's: peek works on
//! a duplicate.
//!
//! ```sh
//! # from a shell that holds a dma-buf as fd 5
//! cargo run -p dmabuf --example peek -- 5 16
//! ```

use std::process::ExitCode;

use dmabuf::{Access, DmaBuf};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (fd, len) = match args.as_slice() {
        [fd] => (fd.parse::<i32>().ok(), Some(64)),
        [fd, len] => (fd.parse::<i32>().ok(), len.parse::<usize>().ok()),
        _ => (None, None),
    };
    let (Some(fd), Some(len)) = (fd, len) else {
        eprintln!("usage: peek <fd> [len]   (shows the first len bytes, default 64, of an inherited dma-buf fd)");
        return ExitCode::from(2);
    };
    match peek(fd, len) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peek: {e}");
            ExitCode::FAILURE
        }
    }
}

fn peek(fd: i32, len: usize) -> dmabuf::Result<()> {
    let buf = DmaBuf::dup_from_raw(fd)?;
    let info = buf.info()?;
    println!(
        "fd {fd}: {} bytes, exporter {}, name {}",
        info.size,
        info.exporter,
        info.name.as_deref().unwrap_or("(none)")
    );
    let len = len.min(usize::try_from(buf.size()).unwrap_or(usize::MAX));
    if len == 0 {
        return Ok(());
    }
    let map = buf.map(Access::Read)?;
    let mut bytes = vec![0u8; len];
    {
        let _cpu = buf.begin_cpu_access(Access::Read)?;
        map.read(0, &mut bytes)?;
    }
    for row in bytes.chunks(16) {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        println!("{}", hex.join(" "));
    }
    Ok(())
}
