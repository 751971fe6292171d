//! The Rust peer of `npm run bench`: the `dma-buf` crate (0.5: mapping and
//! CPU access through closures) and the `dma-heap` crate (0.4: allocation),
//! used as their documentation shows. Where they have no API for a case
//! (`sync_file` export, udmabuf), the case reports itself unavailable.
//!
//! `dma_buf::DmaBuf::memory_map` consumes the `DmaBuf`, so mapping a buffer
//! again takes a new fd: the map and rw cases duplicate the fd each time
//! (one `fcntl` and one `close` more than the core, which maps by reference).

// Sizes and fds from the harness are small; each case is one function, as in bench/c/bench.c.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::too_many_lines)]

use std::cell::Cell;
use std::error::Error;
use std::hint::black_box;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

use dma_buf::{DmaBuf, MappedDmaBuf};
use dma_heap::{Heap, HeapKind};
use dmabuf_bench::{bench_fd, expect_sum, fill, fill_pattern, measure, pattern_sum, report, sum_bytes, Args};

const NAME: &str = "Rust peer (dma-buf crate)";

/// A new fd for the buffer (the crate takes ownership of the fd it maps).
fn dup(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: `fd` stays open for the whole run (DMABUF_BENCH_FD, or the
    // OwnedFd kept in `main`); it is only borrowed for the duplication.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    b.try_clone_to_owned()
}

fn fd_size(fd: RawFd) -> u64 {
    // SAFETY: lseek on an open fd; the offset is not used elsewhere.
    let end = unsafe { libc::lseek(fd, 0, libc::SEEK_END) };
    end.max(0) as u64
}

fn main() {
    let args = Args::parse(NAME);
    let sink = Cell::new(0u64);
    let add = |v: u64| sink.set(sink.get().wrapping_add(black_box(v)));

    if args.case == "alloc" {
        if args.source != "heap" {
            args.unavailable("neither dma-buf 0.5 nor dma-heap 0.4 creates udmabufs");
        }
        let size = args.size;
        let heap = args.ok("Heap::new(System)", Heap::new(HeapKind::System));
        let first = args.ok("Heap::allocate", heap.allocate(size as usize));
        let got = fd_size(std::os::fd::AsRawFd::as_raw_fd(&first));
        if got != size {
            args.die(&format!("allocated {got} bytes, asked for {size}"));
        }
        drop(first);
        let st = measure(&args, None, |_| {
            let fd = heap.allocate(size as usize)?;
            add(std::os::fd::AsRawFd::as_raw_fd(&fd) as u64);
            Ok(())
        });
        report(&args, size, &st, &format!("a heap buffer reports {size} bytes"), sink.get());
        return;
    }
    if args.case == "export" {
        args.unavailable("dma-buf 0.5 has no DMA_BUF_IOCTL_EXPORT_SYNC_FILE");
    }

    // The buffer: borrowed from DMABUF_BENCH_FD, or allocated from the system heap.
    let owned_here: Option<OwnedFd>;
    let raw = if let Some(fd) = bench_fd() {
        owned_here = None;
        fd
    } else {
        let heap = args.ok("Heap::new(System)", Heap::new(HeapKind::System));
        let fd = args.ok("Heap::allocate", heap.allocate(args.size as usize));
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        owned_here = Some(fd);
        raw
    };
    let size = fd_size(raw);
    let map = || -> Result<MappedDmaBuf, Box<dyn Error>> { Ok(DmaBuf::from(dup(raw)?).memory_map()?) };
    let mut mapped = map().unwrap_or_else(|e| {
        args.unavailable(&format!(
            "dma-buf 0.5 reaches a buffer only through a mapping, and this one cannot be mapped ({e})"
        ))
    });

    let (st, check) = match args.case.as_str() {
        "sync" => {
            let st = measure(&args, None, |_| {
                mapped.readwrite(|_, _: Option<()>| Ok(()), None)?;
                Ok(())
            });
            (st, "every DMA_BUF_IOCTL_SYNC returned 0 (readwrite with an empty closure)".to_string())
        }
        "map" => {
            args.ok(
                "MappedDmaBuf::write",
                mapped.write(
                    |s, _: Option<()>| {
                        let n = s.len();
                        s[0] = 0x5a;
                        s[n - 1] = 0xa5;
                        Ok(())
                    },
                    None,
                ),
            );
            drop(mapped);
            let second = args.ok("memory_map", map());
            let ends = args.ok("MappedDmaBuf::read", second.read(|s, _: Option<()>| Ok((s[0], s[s.len() - 1])), None));
            if ends != (0x5a, 0xa5) {
                args.die("bytes written through one mapping were not read back through another");
            }
            drop(second);
            let st = measure(&args, None, |_| {
                let m = map()?;
                add(std::os::fd::AsRawFd::as_raw_fd(&m) as u64);
                Ok(())
            });
            (st, "bytes written through one mapping read back through the next".to_string())
        }
        "read" => {
            args.ok(
                "MappedDmaBuf::write",
                mapped.write(
                    |s, _: Option<()>| {
                        fill_pattern(s);
                        Ok(())
                    },
                    None,
                ),
            );
            let expect = pattern_sum(size);
            let st = measure(&args, Some(size), |_| {
                let s = mapped.read(|s, _: Option<()>| Ok(sum_bytes(s)), None)?;
                expect_sum(s, expect)?;
                add(s);
                Ok(())
            });
            (st, format!("every pass summed to {expect}"))
        }
        "rw" => {
            drop(mapped);
            let st = measure(&args, None, |i| {
                let v = (i * 7 + 1) as u8;
                let mut m = map()?;
                m.write(
                    |s, v| {
                        fill(s, v.unwrap_or(0));
                        Ok(())
                    },
                    Some(v),
                )?;
                let s = m.read(|s, _: Option<()>| Ok(sum_bytes(s)), None)?;
                drop(m);
                expect_sum(s, u64::from(v) * size)?;
                add(s);
                Ok(())
            });
            (st, "every pass read back the bytes it wrote".to_string())
        }
        other => args.die(&format!("unknown case {other}")),
    };
    drop(owned_here);
    report(&args, size, &st, &check, sink.get());
}
