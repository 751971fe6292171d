//! `DmaBuf` on real udmabuf buffers: mapping, CPU access, naming, info, the
//! memfd behind them, and handing a buffer to a child process.
//! Needs /dev/udmabuf: ignored on a bare host, run by the VM tier.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps and numeric casts are fine.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

mod common;

use std::os::fd::{AsFd, AsRawFd};
use std::process::Command;

use common::{assert_no_fd_leak, page, pattern, serial, udmabuf};
use dmabuf::udmabuf::{sealed_memfd, Range};
use dmabuf::{Access, DmaBuf, Errno, ErrorKind};
use nix::fcntl::{fcntl, FcntlArg, FdFlag, SealFlag};
use nix::sys::uio::{pread, pwrite};

/// Reads the whole buffer through a fresh read-only mapping, under CPU read access.
fn read_all(buf: &DmaBuf) -> Vec<u8> {
    let map = buf.map(Access::Read).unwrap();
    let mut out = vec![0u8; map.len()];
    let cpu = buf.begin_cpu_access(Access::Read).unwrap();
    map.read(0, &mut out).unwrap();
    cpu.end().unwrap();
    out
}

// Bytes written through one mapping are read back through a separate
// mapping of a second fd (try_clone) of the same buffer.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn bytes_written_through_one_fd_are_read_through_a_clone() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(3 * page()).unwrap();
        assert_eq!(buf.size(), 3 * page());
        let clone = buf.try_clone().unwrap();
        assert_ne!(clone.as_raw_fd(), buf.as_raw_fd(), "a different fd");
        assert_eq!(clone.info().unwrap().inode, buf.info().unwrap().inode, "for the same buffer");

        let data = pattern(1, 3 * page() as usize);
        let map = buf.map(Access::ReadWrite).unwrap();
        {
            let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
            map.write(0, &data).unwrap();
        }
        drop(map);
        drop(buf); // the clone alone keeps the buffer
        assert_eq!(read_all(&clone), data);
    });
}

// The memfd behind a udmabuf and the dma-buf are the same pages: pwrite on
// the memfd shows in the mapping, and writes to the mapping show in pread.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn memfd_and_mapping_are_the_same_pages() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let (buf, memfd) = udmabuf().alloc_with_memfd(2 * page() + 1).unwrap();
        assert_eq!(buf.size(), 3 * page(), "rounded up to whole pages");
        let map = buf.map(Access::ReadWrite).unwrap();

        let off = page() as usize + 10;
        assert_eq!(pwrite(&memfd, b"from the memfd", libc::off_t::try_from(off).unwrap()).unwrap(), 14);
        let mut seen = [0u8; 14];
        {
            let _cpu = buf.begin_cpu_access(Access::Read).unwrap();
            map.read(off, &mut seen).unwrap();
        }
        assert_eq!(&seen, b"from the memfd");

        {
            let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
            map.write(2 * page() as usize + 100, b"from the map").unwrap();
        }
        let mut back = [0u8; 12];
        assert_eq!(pread(&memfd, &mut back, libc::off_t::try_from(2 * page() + 100).unwrap()).unwrap(), 12);
        assert_eq!(&back, b"from the map");
    });
}

// The documented limit of that coherence: the dma-buf pins the pages it was
// made from. Punching a hole in the memfd (fallocate PUNCH_HOLE, which
// F_SEAL_SHRINK does not forbid, and which any process that reopens the
// memfd through /proc can do) gives the memfd fresh zero pages while the
// dma-buf keeps the old bytes; from then on the two no longer alias there.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn a_hole_punched_in_the_memfd_is_not_seen_by_the_dma_buf() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let (buf, memfd) = udmabuf().alloc_with_memfd(page()).unwrap();
        assert_eq!(pwrite(&memfd, b"pinned", 0).unwrap(), 6);
        let len = libc::off_t::try_from(page()).unwrap();
        let mode = nix::fcntl::FallocateFlags::FALLOC_FL_PUNCH_HOLE | nix::fcntl::FallocateFlags::FALLOC_FL_KEEP_SIZE;
        nix::fcntl::fallocate(&memfd, mode, 0, len).unwrap();
        let mut through_memfd = [0xffu8; 6];
        assert_eq!(pread(&memfd, &mut through_memfd, 0).unwrap(), 6);
        assert_eq!(through_memfd, [0u8; 6], "the memfd has new, zero pages");
        let map = buf.map(Access::Read).unwrap();
        let mut through_buf = [0u8; 6];
        map.read(0, &mut through_buf).unwrap();
        assert_eq!(&through_buf, b"pinned", "the dma-buf kept the pages it pinned");
    });
}

// info() reports the exporter, the inode shared by clones, the name set by
// set_name (also in the fd's link), the fd's open mode and the file count.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn info_reports_exporter_inode_and_name() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(page()).unwrap();
        let info = buf.info().unwrap();
        assert_eq!(info.exporter, "udmabuf");
        assert_eq!(info.name.as_deref(), Some("udmabuf"), "alloc names the buffer after its source");
        assert_eq!(info.size, page());
        assert!(info.writable && buf.is_writable().unwrap());

        buf.set_name("frame-42").unwrap();
        let clone = buf.try_clone().unwrap();
        let (a, b) = (buf.info().unwrap(), clone.info().unwrap());
        assert_eq!(a.name.as_deref(), Some("frame-42"));
        assert_eq!(b.name.as_deref(), Some("frame-42"), "the name belongs to the buffer, not the fd");
        assert_eq!(a.inode, b.inode);
        let link = std::fs::read_link(format!("/proc/self/fd/{}", buf.as_raw_fd())).unwrap();
        assert_eq!(link.to_str(), Some("/dmabuf:frame-42"));

        // A dup shares the open file: its count goes up by one, and down again.
        let with_clone = a.file_count.expect("fdinfo has count");
        drop(clone);
        assert_eq!(buf.info().unwrap().file_count, Some(with_clone - 1));
    });
}

// set_name refuses a name of 32 bytes or more and one with a NUL byte,
// before the kernel sees it, and the old name stays; 31 bytes fit.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn set_name_refuses_long_names_and_nul() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(page()).unwrap();
        buf.set_name("kept").unwrap();
        for bad in ["x".repeat(32), "y".repeat(100), "a\0b".to_string()] {
            let e = buf.set_name(&bad).unwrap_err();
            assert_eq!(
                (e.kind(), e.errno(), e.op()),
                (ErrorKind::InvalidArgument, Errno::EINVAL, "DMA_BUF_SET_NAME"),
                "{e}"
            );
            assert_eq!(e.fd(), Some(buf.as_raw_fd()));
        }
        assert!(buf.set_name(&"x".repeat(32)).unwrap_err().to_string().contains("at most 31 bytes, got 32"));
        assert!(buf.set_name("a\0b").unwrap_err().to_string().contains("NUL"));
        assert_eq!(buf.info().unwrap().name.as_deref(), Some("kept"));
        let longest = "z".repeat(31);
        buf.set_name(&longest).unwrap();
        assert_eq!(buf.info().unwrap().name, Some(longest));
    });
}

// map_range refuses an unaligned offset, a zero length and a range past the
// end with InvalidArgument/EINVAL; a valid sub-range maps the right bytes.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn map_range_checks_its_range() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let p = page();
        let (buf, memfd) = udmabuf().alloc_with_memfd(3 * p).unwrap();
        for (offset, len, says) in [
            (1, p, "not a multiple of the page size"),
            (p / 2, p, "not a multiple of the page size"),
            (0, 0, "cannot map zero bytes"),
            (p, 3 * p, "past the end"),
            (3 * p, p, "past the end"),
            (0, 3 * p + 1, "past the end"),
            (p, u64::MAX - 1, "past the end"),
        ] {
            let e = buf.map_range(Access::Read, offset, len).unwrap_err();
            assert_eq!(
                (e.kind(), e.errno(), e.op()),
                (ErrorKind::InvalidArgument, Errno::EINVAL, "mmap"),
                "{offset}+{len}: {e}"
            );
            assert!(e.to_string().contains(says), "{offset}+{len}: {e}");
        }

        pwrite(&memfd, b"second page", libc::off_t::try_from(p).unwrap()).unwrap();
        let map = buf.map_range(Access::Read, p, p).unwrap();
        assert_eq!((map.offset(), map.len(), map.access()), (p, p as usize, Access::Read));
        let mut got = [0u8; 11];
        map.read(0, &mut got).unwrap();
        assert_eq!(&got, b"second page", "offset p of the buffer is at 0 of the mapping");
        // The mapping's own bounds and access are checked too.
        assert_eq!(map.read(p as usize - 1, &mut [0u8; 2]).unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(map.write(0, b"x").unwrap_err().errno(), Errno::EACCES, "a read-only mapping");
    });
}

// A mapping stays valid after every fd of the buffer is closed: it holds
// its own reference to the buffer.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn mapping_outlives_the_fd() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(page()).unwrap();
        let map = buf.map(Access::ReadWrite).unwrap();
        drop(buf);
        map.write(0, b"still here").unwrap();
        let mut got = [0u8; 10];
        map.read(0, &mut got).unwrap();
        assert_eq!(&got, b"still here");
    });
}

// A mapping turned into a placeholder no longer reaches the dma-buf: reads
// through the old address see zeros, writes there do not reach the buffer,
// and a new mapping made while the placeholder lives gets another address.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn placeholder_keeps_the_range_but_not_the_buffer() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(2 * page()).unwrap();
        let map = buf.map(Access::ReadWrite).unwrap();
        map.write(0, b"dma-buf bytes").unwrap();
        let old = map.as_ptr();
        let placeholder = map.into_placeholder().unwrap();
        assert_eq!(placeholder.as_ptr(), old.cast_const());
        assert_eq!(placeholder.len(), 2 * page() as usize);
        // SAFETY: the placeholder owns 2 pages of readable, writable private memory at `old`.
        let seen = unsafe { std::slice::from_raw_parts_mut(old, 13) };
        assert_eq!(seen, &[0u8; 13], "the old address reads zeros, not the buffer");
        seen.copy_from_slice(b"written later");
        let again = buf.map(Access::Read).unwrap();
        assert_ne!(again.as_ptr(), old, "the reserved range is not handed out again");
        let mut got = [0u8; 13];
        again.read(0, &mut got).unwrap();
        assert_eq!(&got, b"dma-buf bytes", "writes to the placeholder do not reach the buffer");
        drop(placeholder);
    });
}

// The CpuAccess guard ends access on drop and while unwinding from a panic;
// afterwards access begins and ends again and the bytes written before the
// panic are in the buffer.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn cpu_access_guard_ends_on_drop_and_unwind() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(page()).unwrap();
        let map = buf.map(Access::ReadWrite).unwrap();
        {
            let cpu = buf.begin_cpu_access(Access::ReadWrite).unwrap();
            assert_eq!(cpu.access(), Access::ReadWrite);
        } // dropped: DMA_BUF_SYNC_END

        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
            map.write(0, b"before the panic").unwrap();
            panic!("while holding CPU access");
        }));
        let payload = unwound.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"while holding CPU access"));

        let cpu = buf.begin_cpu_access(Access::Read).expect("access begins again after the unwind");
        let mut got = [0u8; 16];
        map.read(0, &mut got).unwrap();
        cpu.end().expect("and ends, reporting the kernel's answer");
        assert_eq!(&got, b"before the panic");
        // The raw forms pair up the same way.
        buf.sync_start(Access::Write).unwrap();
        buf.sync_end(Access::Write).unwrap();
    });
}

// CpuAccess::end and sync_end report the exporter's answer with the op and
// the fd: udmabuf refuses SYNC_END before the buffer's first SYNC_START
// (EINVAL, seen on 6.12), and accepts it once access has begun.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn cpu_access_end_reports_the_kernels_answer() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(page()).unwrap();
        let e = buf.sync_end(Access::Read).unwrap_err();
        assert_eq!(
            (e.kind(), e.errno(), e.op(), e.fd()),
            (ErrorKind::Os, Errno::EINVAL, "DMA_BUF_IOCTL_SYNC", Some(buf.as_raw_fd())),
            "{e}"
        );
        assert!(e.to_string().ends_with("(EINVAL)"), "{e}");
        buf.begin_cpu_access(Access::Read).unwrap().end().unwrap();
    });
}

// Udmabuf::create refuses, with a message naming the rule, a memfd that is
// not sealed against shrinking, one sealed against writing, a file that is
// not a memfd, unaligned or empty ranges, and a range past the memfd's end.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn create_checks_the_memfd_and_range() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let p = page();
        let dev = udmabuf();
        let check = |r: dmabuf::Result<DmaBuf>, says: &str| {
            let e = r.unwrap_err();
            assert_eq!(
                (e.kind(), e.errno(), e.op()),
                (ErrorKind::InvalidArgument, Errno::EINVAL, "UDMABUF_CREATE"),
                "{e}"
            );
            assert!(e.to_string().contains(says), "expected {says:?} in: {e}");
        };

        let unsealed = nix::sys::memfd::memfd_create(c"unsealed", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).unwrap();
        nix::unistd::ftruncate(&unsealed, libc::off_t::try_from(2 * p).unwrap()).unwrap();
        check(dev.create(&unsealed, 0, p), "F_SEAL_SHRINK");

        let write_sealed = sealed_memfd("write-sealed", 2 * p).unwrap();
        fcntl(&write_sealed, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_WRITE)).unwrap();
        check(dev.create(&write_sealed, 0, p), "must not be sealed with F_SEAL_WRITE");

        let (pipe_r, _pipe_w) = nix::unistd::pipe().unwrap();
        check(dev.create(&pipe_r, 0, p), "not a memfd (it is a pipe");

        let memfd = sealed_memfd("ok", 2 * p).unwrap();
        check(dev.create(&memfd, 100, p), "offset 100 is not a multiple of the page size");
        check(dev.create(&memfd, 0, 100), "size 100 is not a non-zero multiple of the page size");
        check(dev.create(&memfd, 0, 0), "size 0 is not a non-zero multiple");
        check(
            dev.create(&memfd, p, 2 * p),
            &format!("range {p}+{} is past the end of the {}-byte memfd", 2 * p, 2 * p),
        );

        let e = dev.alloc(0).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

        // The checked memfd works, and stays usable by the caller.
        let buf = dev.create(&memfd, p, p).unwrap();
        assert_eq!(buf.size(), p);
        pwrite(&memfd, b"tail", libc::off_t::try_from(p).unwrap()).unwrap();
        assert_eq!(&read_all(&buf)[..4], b"tail");
    });
}

// create_list joins ranges of two memfds into one buffer, in order: each
// memfd's bytes appear at the offset of its range.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn create_list_joins_ranges_in_order() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let p = page();
        let dev = udmabuf();
        let a = sealed_memfd("a", 2 * p).unwrap();
        let b = sealed_memfd("b", 3 * p).unwrap();
        let a_bytes = pattern(0xa0, 2 * p as usize);
        let b_bytes = pattern(0x0b, 3 * p as usize);
        pwrite(&a, &a_bytes, 0).unwrap();
        pwrite(&b, &b_bytes, 0).unwrap();

        // a's second page, then b's first two pages.
        let buf = dev
            .create_list(&[
                Range { memfd: a.as_fd(), offset: p, size: p },
                Range { memfd: b.as_fd(), offset: 0, size: 2 * p },
            ])
            .unwrap();
        assert_eq!(buf.size(), 3 * p);
        let all = read_all(&buf);
        let p = p as usize;
        assert_eq!(&all[..p], &a_bytes[p..2 * p], "page 0 is a's page 1");
        assert_eq!(&all[p..], &b_bytes[..2 * p], "pages 1-2 are b's pages 0-1");

        let e = dev.create_list(&[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        let e = dev
            .create_list(&[
                Range { memfd: a.as_fd(), offset: 0, size: p as u64 },
                Range { memfd: b.as_fd(), offset: 1, size: p as u64 },
            ])
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.op(), e.fd()),
            (ErrorKind::InvalidArgument, "UDMABUF_CREATE_LIST", Some(b.as_raw_fd())),
            "the bad range's memfd is named: {e}"
        );
    });
}

/// `target/<profile>/examples/peek`, next to the `deps` dir holding this test.
fn peek_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples/peek");
    assert!(path.is_file(), "{} is missing: `cargo test -p dmabuf` builds the examples", path.display());
    path
}

// Bytes written through a mapping are read by a child process that
// inherited a dup of the fd (examples/peek), and the child sees the exporter.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn child_process_reads_bytes_through_an_inherited_fd() {
    let _g = serial();
    let peek = peek_binary();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(page()).unwrap();
        let map = buf.map(Access::ReadWrite).unwrap();
        {
            let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
            map.write(0, b"hello, child!\x00\xff\x10").unwrap();
        }
        // Our fds are close-on-exec; clear it on a dup for the child to inherit.
        let inherit = buf.try_clone().unwrap();
        fcntl(&inherit, FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
        let out = Command::new(&peek).arg(inherit.as_raw_fd().to_string()).arg("16").output().unwrap();
        assert!(out.status.success(), "peek failed: {}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let mut lines = stdout.lines();
        assert_eq!(
            lines.next(),
            Some(format!("fd {}: {} bytes, exporter udmabuf, name udmabuf", inherit.as_raw_fd(), page()).as_str())
        );
        assert_eq!(lines.next(), Some("68 65 6c 6c 6f 2c 20 63 68 69 6c 64 21 00 ff 10"), "{stdout}");
        assert_eq!(lines.next(), None);

        // Without the inherited fd the child sees nothing there.
        let closed = buf.try_clone().unwrap(); // close-on-exec
        let out = Command::new(&peek).arg(closed.as_raw_fd().to_string()).output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("EBADF"), "{}", String::from_utf8_lossy(&out.stderr));
    });
}
