//! The Rust contender of `npm run bench`: the dmabuf core crate, used as its
//! documentation shows. Same cases, arguments and output as bench/c/bench.c.

// Sizes and fds from the harness are small; each case is one function, as in bench/c/bench.c.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::too_many_lines)]

use std::cell::Cell;
use std::hint::black_box;

use dmabuf::heap::Heap;
use dmabuf::udmabuf::Udmabuf;
use dmabuf::{Access, DmaBuf};
use dmabuf_bench::{bench_fd, expect_sum, fill, fill_pattern, measure, pattern_sum, report, sum_bytes, Args};

fn buffer(args: &Args) -> DmaBuf {
    match bench_fd() {
        Some(fd) => args.ok("DmaBuf::dup_from_raw(DMABUF_BENCH_FD)", DmaBuf::dup_from_raw(fd)),
        None if args.source == "heap" => {
            let heap = args.ok("Heap::open(system)", Heap::open("system"));
            args.ok("Heap::alloc", heap.alloc(args.size, Access::ReadWrite))
        }
        None => args.ok("Udmabuf::alloc", args.ok("Udmabuf::open", Udmabuf::open()).alloc(args.size)),
    }
}

fn main() {
    let args = Args::parse("Rust");
    let sink = Cell::new(0u64);
    let add = |v: u64| sink.set(sink.get().wrapping_add(black_box(v)));

    if args.case == "alloc" {
        let size = args.size;
        let (st, check) = if args.source == "heap" {
            let heap = args.ok("Heap::open(system)", Heap::open("system"));
            let first = args.ok("Heap::alloc", heap.alloc(size, Access::ReadWrite));
            if first.size() != size {
                args.die(&format!("allocated {} bytes, asked for {size}", first.size()));
            }
            drop(first);
            let st = measure(&args, None, |_| {
                let b = heap.alloc(size, Access::ReadWrite)?;
                add(b.size());
                Ok(())
            });
            (st, format!("a heap buffer reports {size} bytes"))
        } else {
            let dev = args.ok("Udmabuf::open", Udmabuf::open());
            let first = args.ok("Udmabuf::alloc", dev.alloc(size));
            if first.size() != size {
                args.die(&format!("allocated {} bytes, asked for {size}", first.size()));
            }
            drop(first);
            let st = measure(&args, None, |_| {
                let b = dev.alloc(size)?;
                add(b.size());
                Ok(())
            });
            (st, format!("a udmabuf buffer reports {size} bytes"))
        };
        report(&args, size, &st, &check, sink.get());
        return;
    }

    let buf = buffer(&args);
    let size = buf.size();
    let unmappable = |e: dmabuf::Error| -> ! { args.unavailable(&format!("this buffer cannot be mapped ({e})")) };

    let (st, check) = match args.case.as_str() {
        "sync" => {
            let st = measure(&args, None, |_| {
                let cpu = buf.begin_cpu_access(Access::ReadWrite)?;
                cpu.end()?;
                Ok(())
            });
            (st, "every DMA_BUF_IOCTL_SYNC returned 0".to_string())
        }
        "export" => {
            let first = args.ok("export_sync_file", buf.export_sync_file(Access::ReadWrite));
            if !args.ok("is_signaled", first.is_signaled()) {
                args.die("the sync_file of an idle buffer is not signalled");
            }
            drop(first);
            let st = measure(&args, None, |_| {
                let f = buf.export_sync_file(Access::ReadWrite)?;
                add(std::os::fd::AsRawFd::as_raw_fd(&f) as u64);
                Ok(())
            });
            (st, "exported sync_files are signalled (idle buffer)".to_string())
        }
        "map" => {
            {
                let m = buf.map(Access::ReadWrite).unwrap_or_else(|e| unmappable(e));
                let cpu = args.ok("begin_cpu_access", buf.begin_cpu_access(Access::Write));
                args.ok("Mapping::write", m.write(0, &[0x5a]));
                args.ok("Mapping::write", m.write(size as usize - 1, &[0xa5]));
                args.ok("CpuAccess::end", cpu.end());
            }
            let m = args.ok("map", buf.map(Access::Read));
            let (mut a, mut b) = ([0u8], [0u8]);
            args.ok("Mapping::read", m.read(0, &mut a));
            args.ok("Mapping::read", m.read(size as usize - 1, &mut b));
            if (a[0], b[0]) != (0x5a, 0xa5) {
                args.die("bytes written through one mapping were not read back through another");
            }
            drop(m);
            let st = measure(&args, None, |_| {
                let m = buf.map(Access::ReadWrite)?;
                add(m.as_ptr() as u64 & 0xfff);
                Ok(())
            });
            (st, "bytes written through one mapping read back through the next".to_string())
        }
        "read" => {
            let m = buf.map(Access::ReadWrite).unwrap_or_else(|e| unmappable(e));
            {
                let cpu = args.ok("begin_cpu_access", buf.begin_cpu_access(Access::Write));
                // SAFETY: nothing else uses the buffer while the pattern is written.
                fill_pattern(unsafe { m.as_mut_slice() });
                args.ok("CpuAccess::end", cpu.end());
            }
            let expect = pattern_sum(size);
            let st = measure(&args, Some(size), |_| {
                let cpu = buf.begin_cpu_access(Access::Read)?;
                // SAFETY: nothing writes the buffer while it is read.
                let s = sum_bytes(unsafe { m.as_slice() });
                cpu.end()?;
                expect_sum(s, expect)?;
                add(s);
                Ok(())
            });
            (st, format!("every pass summed to {expect}"))
        }
        "rw" => {
            drop(buf.map(Access::ReadWrite).unwrap_or_else(|e| unmappable(e)));
            let st = measure(&args, None, |i| {
                let v = (i * 7 + 1) as u8;
                let m = buf.map(Access::ReadWrite)?;
                let cpu = buf.begin_cpu_access(Access::Write)?;
                // SAFETY: this process is the buffer's only user; no other view is alive.
                fill(unsafe { m.as_mut_slice() }, v);
                cpu.end()?;
                let cpu = buf.begin_cpu_access(Access::Read)?;
                // SAFETY: as above; nothing writes while it is read.
                let s = sum_bytes(unsafe { m.as_slice() });
                cpu.end()?;
                drop(m);
                expect_sum(s, u64::from(v) * size)?;
                add(s);
                Ok(())
            });
            (st, "every pass read back the bytes it wrote".to_string())
        }
        other => args.die(&format!("unknown case {other}")),
    };
    report(&args, size, &st, &check, sink.get());
}
