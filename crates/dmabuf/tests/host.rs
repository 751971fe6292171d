//! Device-free behaviour: what the crate refuses and how it says so. Runs on
//! any Linux host; the tests that look at device nodes assert the right
//! thing whether the node is there (VM tier) or not (bare host).

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps and numeric casts are fine.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

mod common;

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use common::{assert_no_fd_leak, in_vm, serial};
use dmabuf::drm::DrmDevice;
use dmabuf::heap::Heap;
use dmabuf::udmabuf::{self, Udmabuf};
use dmabuf::{Access, DmaBuf, Errno, ErrorKind, SyncFile};
use nix::fcntl::{fcntl, FcntlArg, SealFlag};

/// One fd of each kind that is neither a dma-buf nor a `sync_file`, with the
/// words the error message must use for it.
fn other_files() -> Vec<(OwnedFd, &'static str)> {
    let exe = File::open(std::env::current_exe().unwrap()).unwrap();
    let memfd = nix::sys::memfd::memfd_create(c"dmabuf-test", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).unwrap();
    let (pipe_r, _pipe_w) = nix::unistd::pipe().unwrap();
    let (sock, _peer) = UnixStream::pair().unwrap();
    vec![(exe.into(), "a regular file"), (memfd, "a memfd"), (pipe_r, "a pipe"), (sock.into(), "a socket")]
}

/// An fd number that is certainly closed (opened, then closed again).
fn closed_fd_number() -> RawFd {
    let n = File::open("/proc/self/exe").unwrap().as_raw_fd(); // closed at the end of the statement
    assert!(!is_open(n));
    n
}

/// Whether `n` is an open fd (`fcntl(F_GETFD)` on the bare number).
fn is_open(n: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the fd table; a closed number gives EBADF.
    unsafe { libc::fcntl(n, libc::F_GETFD) != -1 }
}

// DmaBuf::dup_from, dup_from_raw and from_owned refuse every other kind of file
// with NotDmaBuf/ENOTTY, say what the file is, and hand the fd back intact.
#[test]
fn dma_buf_refuses_other_kinds_of_file() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for (fd, what) in other_files() {
            let raw = fd.as_raw_fd();

            let e = DmaBuf::dup_from(&fd).unwrap_err();
            assert_eq!((e.kind(), e.errno(), e.code()), (ErrorKind::NotDmaBuf, Errno::ENOTTY, "ENOTTY"), "{what}: {e}");
            assert_eq!(e.fd(), Some(raw));
            assert!(e.to_string().contains(&format!("not a dma-buf (it is {what}")), "{e}");

            let e = DmaBuf::dup_from_raw(raw).unwrap_err();
            assert_eq!((e.kind(), e.errno()), (ErrorKind::NotDmaBuf, Errno::ENOTTY), "{what}: {e}");
            assert_eq!(e.fd(), Some(raw), "the error names the caller's fd, not a temporary dup");
            assert!(e.to_string().contains(what), "{e}");

            let back = DmaBuf::from_owned(fd).unwrap_err();
            assert_eq!(back.error.kind(), ErrorKind::NotDmaBuf);
            assert!(back.to_string().contains(what), "{back}");
            assert_eq!(back.fd.as_raw_fd(), raw, "the very same fd comes back");
            assert!(is_open(raw), "and it is still open");
            let via_try_from = DmaBuf::try_from(back.fd).unwrap_err();
            assert_eq!(via_try_from.fd.as_raw_fd(), raw);
        }
    });
}

// SyncFile::dup_from, dup_from_raw and from_owned refuse every other kind of
// file with NotSyncFile, say what it is, and hand the fd back intact.
#[test]
fn sync_file_refuses_other_kinds_of_file() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for (fd, what) in other_files() {
            let raw = fd.as_raw_fd();

            let e = SyncFile::dup_from(&fd).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotSyncFile, "{what}: {e}");
            assert_eq!(e.fd(), Some(raw));
            assert!(e.to_string().contains(&format!("not a sync_file (it is {what}")), "{e}");

            let e = SyncFile::dup_from_raw(raw).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotSyncFile, "{what}: {e}");
            assert_eq!(e.fd(), Some(raw), "the error names the caller's fd, not a temporary dup");

            let back = SyncFile::from_owned(fd).unwrap_err();
            assert_eq!(back.error.kind(), ErrorKind::NotSyncFile);
            assert_eq!(back.fd.as_raw_fd(), raw, "the very same fd comes back");
            assert!(is_open(raw), "and it is still open");
        }
    });
}

// A closed fd number is EBADF (not "not a dma-buf"), and a negative one is
// refused before any system call; nothing else is touched.
#[test]
fn closed_and_negative_fd_numbers_are_ebadf() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let n = closed_fd_number();
        for e in [
            DmaBuf::dup_from_raw(n).unwrap_err(),
            SyncFile::dup_from_raw(n).unwrap_err(),
            dmabuf::dup_raw_fd(n).unwrap_err(),
        ] {
            assert_eq!((e.kind(), e.errno(), e.fd()), (ErrorKind::Os, Errno::EBADF, Some(n)), "{e}");
            assert!(!is_open(n), "no fd appeared at the closed number");
        }
        let e = DmaBuf::dup_from_raw(-1).unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::InvalidArgument, Errno::EBADF), "{e}");
    });
}

// Access parses the spellings JavaScript accepts ('r', 'w', 'rw') and
// nothing else, and prints them.
#[test]
fn access_parse_and_display() {
    let _g = serial();
    for (s, a) in [("r", Access::Read), ("w", Access::Write), ("rw", Access::ReadWrite)] {
        assert_eq!(Access::parse(s), Some(a), "{s}");
    }
    for s in ["", "x", "RW", "Read", "read", "write", "readwrite", "read-write", "wr", " r", "rw "] {
        assert_eq!(Access::parse(s), None, "{s:?}");
    }
    for a in [Access::Read, Access::Write, Access::ReadWrite] {
        assert_eq!(Access::parse(a.as_str()), Some(a));
        assert_eq!(a.to_string(), a.as_str());
    }
    assert!(!Access::Read.writes() && Access::Write.writes() && Access::ReadWrite.writes());
}

// An error's Display names the operation, the fd and the errno's symbolic
// name, and its accessors agree with it.
#[test]
fn error_display_names_op_fd_and_errno() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let (r, _w) = nix::unistd::pipe().unwrap();
        let e = DmaBuf::dup_from(&r).unwrap_err();
        let shown = e.to_string();
        assert_eq!(e.op(), "fstatfs");
        assert!(shown.starts_with(&format!("fstatfs on fd {}: ", r.as_raw_fd())), "{shown}");
        assert!(shown.ends_with("(ENOTTY)"), "{shown}");
        assert!(shown.contains("pipe:["), "the message shows the fd's link: {shown}");

        let n = closed_fd_number();
        let e = DmaBuf::dup_from_raw(n).unwrap_err();
        assert_eq!(e.to_string(), format!("fcntl(F_DUPFD_CLOEXEC) on fd {n}: {} (EBADF)", Errno::EBADF.desc()));
        assert_eq!(e.description(), Errno::EBADF.desc(), "no detail: the errno's own text");

        // An error without an fd leaves the "on fd" part out.
        let e = Udmabuf::open_path("/nonexistent/udmabuf").unwrap_err();
        assert!(e.to_string().starts_with("open: /nonexistent/udmabuf does not exist"), "{e}");
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound, "converts to the matching io::ErrorKind");
    });
}

// Heap::open says why it cannot open a heap: no /dev/dma_heap at all (with
// the kernel option to enable), or no heap of that name (with those there
// are); a name with a slash is refused before any lookup.
#[test]
fn heap_open_missing_heap_is_not_found_with_a_hint() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let e = Heap::open("no-such-heap").unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::NotFound, Errno::ENOENT), "{e}");
        if Path::new(dmabuf::heap::HEAP_DIR).is_dir() {
            let listed = dmabuf::heap::list().unwrap();
            assert!(e.to_string().contains("no dma-heap named \"no-such-heap\" (available: "), "{e}");
            for name in &listed {
                assert!(e.to_string().contains(name.as_str()), "the message lists {name}: {e}");
            }
        } else {
            assert!(!in_vm(), "the VM tier must have /dev/dma_heap");
            assert!(e.to_string().contains("/dev/dma_heap does not exist"), "{e}");
            assert!(e.to_string().contains("CONFIG_DMABUF_HEAPS"), "{e}");
            assert!(dmabuf::heap::list().unwrap().is_empty());
        }
        for bad in ["", "a/b", "../udmabuf"] {
            assert_eq!(Heap::open(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad:?}");
        }
    });
}

// Udmabuf::open fails with NotFound naming CONFIG_UDMABUF exactly when the
// node is missing, and opens it when it is there (as it must be in the VM).
#[test]
fn udmabuf_open_matches_the_node() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let e = Udmabuf::open_path("/nonexistent/udmabuf").unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::NotFound, Errno::ENOENT), "{e}");
        assert!(e.to_string().contains("CONFIG_UDMABUF"), "{e}");

        if Path::new(udmabuf::DEFAULT_PATH).exists() {
            let dev = Udmabuf::open().expect("/dev/udmabuf exists, so it opens");
            let flags = fcntl(dev.as_fd(), FcntlArg::F_GETFD).unwrap();
            assert_ne!(flags & libc::FD_CLOEXEC, 0, "the device fd is close-on-exec");
        } else {
            assert!(!in_vm(), "the VM tier must have /dev/udmabuf");
            let e = Udmabuf::open().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
            assert!(e.to_string().contains("/dev/udmabuf does not exist"), "{e}");
            assert!(e.to_string().contains("CONFIG_UDMABUF"), "{e}");
        }
    });
}

// Opening a DRM driver that is not there is NotFound and lists what was found.
#[test]
fn drm_open_driver_missing_is_not_found() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let e = DrmDevice::open_driver("no-such-driver", dmabuf::drm::NodeKind::Render).unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::NotFound, Errno::ENODEV), "{e}");
        assert!(e.to_string().contains("no DRM device with driver no-such-driver in /dev/dri (found: "), "{e}");
        if in_vm() {
            assert!(e.to_string().contains("(vgem)"), "the VM's vgem nodes are listed: {e}");
        }
    });
}

// sealed_memfd gives a memfd of the asked size that udmabuf will accept:
// sealed against shrinking, not against writing, close-on-exec.
#[test]
fn sealed_memfd_is_ready_for_udmabuf() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let fd = udmabuf::sealed_memfd("test", 3 * common::page()).unwrap();
        let seals = SealFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GET_SEALS).unwrap());
        assert!(seals.contains(SealFlag::F_SEAL_SHRINK) && !seals.contains(SealFlag::F_SEAL_WRITE), "{seals:?}");
        assert_eq!(nix::sys::stat::fstat(&fd).unwrap().st_size as u64, 3 * common::page());
        assert_ne!(fcntl(&fd, FcntlArg::F_GETFD).unwrap() & libc::FD_CLOEXEC, 0);
        // Shrinking is refused by the kernel; growing is allowed.
        assert_eq!(nix::unistd::ftruncate(&fd, 1).unwrap_err(), Errno::EPERM);
        assert!(udmabuf::sealed_memfd("a\0b", 4096).unwrap_err().kind() == ErrorKind::InvalidArgument);
    });
}

// The batch forms accept an empty list and open nothing.
#[test]
fn batch_forms_accept_an_empty_list() {
    let _g = serial();
    assert_no_fd_leak(|| {
        assert!(dmabuf::export_sync_files(&[], Access::Read).unwrap().is_empty());
    });
}

// dup_raw_fd gives a new close-on-exec fd for the same open file and leaves
// the original alone.
#[test]
fn dup_raw_fd_duplicates_close_on_exec() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let (r, w) = nix::unistd::pipe().unwrap();
        let dup = dmabuf::dup_raw_fd(w.as_raw_fd()).unwrap();
        assert_ne!(dup.as_raw_fd(), w.as_raw_fd());
        assert_ne!(fcntl(&dup, FcntlArg::F_GETFD).unwrap() & libc::FD_CLOEXEC, 0);
        drop(w);
        nix::unistd::write(&dup, b"x").unwrap();
        let mut b = [0u8; 1];
        assert_eq!(nix::unistd::read(&r, &mut b).unwrap(), 1, "the dup writes into the same pipe");
        assert_eq!(&b, b"x");
    });
}
