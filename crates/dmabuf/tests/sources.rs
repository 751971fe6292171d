//! Where dma-bufs come from: the system dma-heap, vgem's GEM objects through
//! PRIME (with counted handles), and what `capabilities()` finds. Needs the
//! devices: ignored on a bare host, run by the VM tier.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps and numeric casts are fine.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

mod common;

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use common::{assert_no_fd_leak, page, pattern, serial, system_heap, udmabuf, vgem};
use dmabuf::heap::Heap;
use dmabuf::{Access, DmaBuf, Errno, ErrorKind};
use nix::sys::mman::{mmap, MapFlags, ProtFlags};

// The system heap rounds sizes up to whole pages, names its buffers, and
// hands out zeroed memory that reads back what was written.
#[test]
#[ignore = "needs /dev/dma_heap/system (run in the VM tier: npm test)"]
fn system_heap_allocates_whole_pages() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let heap = system_heap();
        assert_eq!(heap.name(), "system");
        assert_eq!(heap.path(), std::path::Path::new("/dev/dma_heap/system"));
        let buf = heap.alloc(12345, Access::ReadWrite).unwrap();
        assert_eq!(buf.size(), 12345u64.div_ceil(page()) * page());
        if page() == 4096 {
            assert_eq!(buf.size(), 16384);
        }
        let info = buf.info().unwrap();
        assert_eq!(
            (info.exporter.as_str(), info.name.as_deref(), info.writable),
            ("system", Some("heap:system"), true)
        );

        let map = buf.map(Access::ReadWrite).unwrap();
        let data = pattern(7, buf.size() as usize);
        {
            let cpu = buf.begin_cpu_access(Access::ReadWrite).unwrap();
            let mut zeros = vec![1u8; buf.size() as usize];
            map.read(0, &mut zeros).unwrap();
            assert!(zeros.iter().all(|&b| b == 0), "fresh heap memory is zeroed");
            map.write(0, &data).unwrap();
            cpu.end().unwrap();
        }
        let again = buf.map(Access::Read).unwrap();
        let mut got = vec![0u8; data.len()];
        again.read(0, &mut got).unwrap();
        assert_eq!(got, data);
    });
}

// A heap buffer allocated for reading only has a read-only fd: mapping it
// writable is refused with PermissionDenied/EACCES (and the kernel itself
// refuses a writable shared mmap of it the same way), mapping it readable works.
#[test]
#[ignore = "needs /dev/dma_heap/system (run in the VM tier: npm test)"]
fn read_only_heap_buffer_maps_read_only() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = system_heap().alloc(page(), Access::Read).unwrap();
        assert!(!buf.is_writable().unwrap());
        assert!(!buf.info().unwrap().writable);
        for access in [Access::ReadWrite, Access::Write] {
            let e = buf.map(access).unwrap_err();
            assert_eq!((e.kind(), e.errno(), e.op()), (ErrorKind::PermissionDenied, Errno::EACCES, "mmap"), "{e}");
            assert!(e.to_string().contains("read-only"), "{e}");
        }
        // The kernel agrees with the check above.
        let len = std::num::NonZeroUsize::new(page() as usize).unwrap();
        // SAFETY: a fresh shared mapping at an address the kernel picks; expected to fail.
        let raw = unsafe {
            mmap(None, len, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED, buf.as_fd(), 0)
        };
        assert_eq!(raw.unwrap_err(), Errno::EACCES);

        let map = buf.map(Access::Read).unwrap();
        let mut first = [1u8; 8];
        let cpu = buf.begin_cpu_access(Access::Read).unwrap();
        map.read(0, &mut first).unwrap();
        cpu.end().unwrap();
        assert_eq!(first, [0u8; 8]);
    });
}

// Heap::alloc refuses zero bytes, and Heap::open of an unknown name is
// NotFound listing the heaps that exist.
#[test]
#[ignore = "needs /dev/dma_heap/system (run in the VM tier: npm test)"]
fn heap_errors() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let e = system_heap().alloc(0, Access::ReadWrite).unwrap_err();
        assert_eq!(
            (e.kind(), e.errno(), e.op()),
            (ErrorKind::InvalidArgument, Errno::EINVAL, "DMA_HEAP_IOCTL_ALLOC"),
            "{e}"
        );
        let e = Heap::open("nope").unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::NotFound, Errno::ENOENT), "{e}");
        assert!(e.to_string().contains("no dma-heap named \"nope\""), "{e}");
        assert!(e.to_string().contains("system"), "the message lists the system heap: {e}");
        assert!(dmabuf::heap::list().unwrap().contains(&"system".to_string()));
        // open_path reaches the same heap.
        let heap = Heap::open_path("/dev/dma_heap/system").unwrap();
        assert_eq!(heap.alloc(1, Access::ReadWrite).unwrap().size(), page());
    });
}

// Sizes this machine could never hold are refused with ENOMEM before the
// kernel sees them, for every source: Debian 6.12's system heap has no cap
// and would call the OOM killer (before this guard, this test took the VM
// down: the kernel killed the test process, exit 137).
#[test]
#[ignore = "needs /dev/dma_heap/system, /dev/udmabuf and vgem (run in the VM tier: npm test)"]
fn sizes_beyond_memory_are_refused_before_the_kernel() {
    let _g = serial();
    let ram = nix::sys::sysinfo::sysinfo().unwrap().ram_total();
    assert_no_fd_leak(|| {
        let too_big = ram + page();
        for e in [
            system_heap().alloc(too_big, Access::ReadWrite).unwrap_err(),
            system_heap().alloc(1 << 40, Access::ReadWrite).unwrap_err(),
            udmabuf().alloc(too_big).unwrap_err(),
            vgem().create_dumb(65535, 65535, 32).unwrap_err(),
        ] {
            assert_eq!(e.errno(), Errno::ENOMEM, "{e}");
            assert!(e.to_string().contains("more than this machine's memory"), "{e}");
        }
        // What fits in MemAvailable less the reserve still passes (crates/dmabuf/src/guard.rs).
        assert_eq!(system_heap().alloc(16 * page(), Access::ReadWrite).unwrap().size(), 16 * page());
    });
}

// A heap name is a name: `.`, `..`, a slash or a NUL never reach open(2)
// (before: Heap::open("..") opened /dev).
#[test]
fn heap_names_are_not_paths() {
    let _g = serial();
    for name in [".", "..", "../null", "a/b", "sys\0tem", ""] {
        let e = Heap::open(name).unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::InvalidArgument, Errno::EINVAL), "{name:?}: {e}");
    }
}

// Opening a node checks that it is the device the type expects, and says so
// at once (before: /dev/null opened fine and the first ioctl said "ENOTTY:
// Not a typewriter").
#[test]
#[ignore = "needs /dev/udmabuf and /dev/dma_heap/system (run in the VM tier: npm test)"]
fn opening_the_wrong_node_says_so() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let errors = [
            dmabuf::udmabuf::Udmabuf::open_path("/dev/null").unwrap_err(),
            dmabuf::udmabuf::Udmabuf::open_path("/dev/dma_heap/system").unwrap_err(),
            Heap::open_path("/dev/null").unwrap_err(),
            Heap::open_path("/dev/udmabuf").unwrap_err(),
            dmabuf::drm::DrmDevice::open("/dev/null").unwrap_err(),
        ];
        for e in errors {
            assert_eq!((e.kind(), e.errno()), (ErrorKind::InvalidArgument, Errno::ENOTTY), "{e}");
            assert!(e.to_string().contains("is not a"), "{e}");
        }
    });
}

// When code that broke fd ownership dup2()s another file over a DmaBuf's fd
// number, info(), map() and the sync_file ioctls say the fd is no longer a
// dma-buf, instead of an empty exporter (before) or "this kernel does not
// implement" (before).
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn a_replaced_fd_is_reported_as_not_a_dma_buf() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(page()).unwrap();
        // Empty: map() of it for the buffer's size would end in SIGBUS at the first access.
        let memfd = dmabuf::udmabuf::sealed_memfd("impostor", 0).unwrap();
        // SAFETY: both numbers are open; the DmaBuf's number now names the
        // memfd, which the DmaBuf will close (the test plays the hostile code).
        assert!(unsafe { libc::dup2(memfd.as_raw_fd(), buf.as_raw_fd()) } >= 0);
        for e in [
            buf.info().unwrap_err(),
            buf.export_sync_file(Access::Read).unwrap_err(),
            buf.set_name("x").unwrap_err(),
            buf.map(Access::ReadWrite).unwrap_err(),
        ] {
            assert_eq!((e.kind(), e.errno()), (ErrorKind::NotDmaBuf, Errno::ENOTTY), "{e}");
            assert!(e.to_string().contains("not a dma-buf (it is a memfd"), "{e}");
        }
        // Another, smaller dma-buf over the number: map() says so too.
        let big = udmabuf().alloc(4 * page()).unwrap();
        let small = udmabuf().alloc(page()).unwrap();
        // SAFETY: as above; each DmaBuf closes its own number.
        assert!(unsafe { libc::dup2(small.as_raw_fd(), big.as_raw_fd()) } >= 0);
        let e = big.map(Access::Read).unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::NotDmaBuf, Errno::EBADF), "{e}");
        assert!(e.to_string().contains("now names another dma-buf"), "{e}");
    });
}

#[repr(C)]
#[derive(Default)]
struct DrmPrimeHandle {
    handle: u32,
    flags: u32,
    fd: i32,
}
nix::ioctl_readwrite!(
    /// `DRM_IOCTL_PRIME_HANDLE_TO_FD`, declared apart from the crate's own.
    drm_prime_handle_to_fd,
    b'd', 0x2d, DrmPrimeHandle);

/// `DRM_IOCTL_PRIME_HANDLE_TO_FD` on a bare handle number, bypassing the
/// crate's counted handles: what the kernel says about that number now.
fn kernel_exports_handle(dev: &dmabuf::drm::DrmDevice, handle: u32) -> Result<OwnedFd, Errno> {
    let mut arg = DrmPrimeHandle { handle, flags: libc::O_CLOEXEC as u32, fd: -1 };
    // SAFETY: `arg` is a valid drm_prime_handle and the device fd is open.
    unsafe { drm_prime_handle_to_fd(dev.as_fd().as_raw_fd(), &raw mut arg) }?;
    // SAFETY: on success the kernel installed a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(arg.fd) })
}

// Importing one dma-buf twice gives the same GEM handle, counted twice; the
// handle survives the first drop (it still exports) and is closed in the
// kernel after the last (a bare PRIME export of the number then fails).
#[test]
#[ignore = "needs vgem (run in the VM tier: npm test)"]
fn gem_handles_are_counted_per_import() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = vgem();
        let dumb = dev.create_dumb(32, 32, 32).unwrap();
        assert_eq!(dumb.pitch, 32 * 4);
        assert!(dumb.size >= 32 * 32 * 4);
        let buf = dev.export(&dumb.handle, Access::ReadWrite).unwrap();
        assert_eq!(buf.size(), dumb.size);
        let created = dumb.handle.raw();
        assert_eq!(dev.handle_users(created), 1);
        drop(dumb); // the dma-buf keeps the GEM object; the handle goes
        assert_eq!(dev.handle_users(created), 0);
        assert!(kernel_exports_handle(&dev, created).is_err(), "the dumb buffer's own handle is closed");

        let first = dev.import(&buf).unwrap();
        let second = dev.import(&buf).unwrap();
        let raw = first.raw();
        assert_eq!(second.raw(), raw, "the kernel gives the same handle for the same buffer");
        assert_eq!(dev.handle_users(raw), 2);

        drop(first);
        assert_eq!(dev.handle_users(raw), 1);
        let again = dev.export(&second, Access::ReadWrite).expect("the other user's handle still works");
        assert_eq!(again.info().unwrap().inode, buf.info().unwrap().inode, "and names the same buffer");

        drop(second);
        assert_eq!(dev.handle_users(raw), 0);
        let e = kernel_exports_handle(&dev, raw).unwrap_err();
        assert!(matches!(e, Errno::ENOENT | Errno::EINVAL), "the kernel no longer knows handle {raw}: {e}");

        // A handle of one device file means nothing to another.
        let other = vgem();
        let h = dev.import(&buf).unwrap();
        let e = other.export(&h, Access::Read).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    });
}

// A buffer from another source (the system heap, udmabuf) imported into
// vgem and exported again is the same buffer: same inode, same bytes, same
// exporter.
#[test]
#[ignore = "needs vgem, /dev/dma_heap/system and /dev/udmabuf (run in the VM tier: npm test)"]
fn foreign_buffer_round_trips_through_vgem() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = vgem();
        let sources: [(DmaBuf, &str); 2] = [
            (system_heap().alloc(2 * page(), Access::ReadWrite).unwrap(), "system"),
            (udmabuf().alloc(2 * page()).unwrap(), "udmabuf"),
        ];
        for (buf, exporter) in sources {
            let data = pattern(0x5a, buf.size() as usize);
            {
                let map = buf.map(Access::ReadWrite).unwrap();
                let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
                map.write(0, &data).unwrap();
            }
            let handle = dev.import(&buf).unwrap();
            let back = dev.export(&handle, Access::ReadWrite).unwrap();
            drop(handle);
            let (a, b) = (buf.info().unwrap(), back.info().unwrap());
            assert_eq!(b.inode, a.inode, "{exporter}: the same buffer comes back");
            assert_eq!(b.exporter, exporter);
            assert_eq!(back.size(), buf.size());
            let map = back.map(Access::Read).unwrap();
            let mut got = vec![0u8; data.len()];
            let _cpu = back.begin_cpu_access(Access::Read).unwrap();
            map.read(0, &mut got).unwrap();
            assert_eq!(got, data, "{exporter}: same bytes");
        }
    });
}

// A vgem dumb buffer's dma-buf maps, and bytes written through one export
// are seen through a second export of the same handle.
#[test]
#[ignore = "needs vgem (run in the VM tier: npm test)"]
fn vgem_exports_share_the_object() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = vgem();
        let dumb = dev.create_dumb(64, 16, 32).unwrap();
        let a = dev.export(&dumb.handle, Access::ReadWrite).unwrap();
        let b = dev.export(&dumb.handle, Access::Read).unwrap();
        assert_eq!(a.info().unwrap().inode, b.info().unwrap().inode, "one GEM object has one dma-buf");
        assert!(a.is_writable().unwrap());
        let info = a.info().unwrap();
        assert_eq!(info.exporter, "drm", "vgem exports through DRM's generic PRIME helper");
        assert_eq!(info.name.as_deref(), Some("drm:vgem"), "export names the buffer after the driver");
        let data = pattern(3, 64);
        {
            let map = a.map(Access::ReadWrite).unwrap();
            let _cpu = a.begin_cpu_access(Access::Write).unwrap();
            map.write(100, &data).unwrap();
        }
        let map = b.map(Access::Read).unwrap();
        let mut got = vec![0u8; 64];
        map.read(100, &mut got).unwrap();
        assert_eq!(got, data);
        let e = dev.create_dumb(0, 16, 32).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    });
}

// The kernel keeps one dma-buf (one open file) per GEM object, so the
// access of the first export sticks: a later export asking for another mode
// gets the first one's, even after every fd of it was closed.
#[test]
#[ignore = "needs vgem (run in the VM tier: npm test)"]
fn first_export_fixes_the_access_mode() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = vgem();
        let rw_first = dev.create_dumb(16, 16, 32).unwrap();
        let a = dev.export(&rw_first.handle, Access::ReadWrite).unwrap();
        let b = dev.export(&rw_first.handle, Access::Read).unwrap();
        assert!(
            a.is_writable().unwrap() && b.is_writable().unwrap(),
            "a Read export of a read-write object is writable"
        );

        let read_first = dev.create_dumb(16, 16, 32).unwrap();
        let a = dev.export(&read_first.handle, Access::Read).unwrap();
        drop(a);
        let b = dev.export(&read_first.handle, Access::ReadWrite).unwrap();
        assert!(!b.is_writable().unwrap(), "a ReadWrite export of a read-only object is read-only");
        let e = b.map(Access::ReadWrite).unwrap_err();
        assert_eq!((e.kind(), e.errno()), (ErrorKind::PermissionDenied, Errno::EACCES), "{e}");
    });
}

// In the VM, capabilities() finds the system heap, udmabuf, a vgem node,
// and every dma-buf ioctl working.
#[test]
#[ignore = "needs the VM tier's devices: heaps, udmabuf, vgem (run in the VM tier: npm test)"]
fn capabilities_in_the_vm() {
    let _g = serial();
    let caps = assert_no_fd_leak(dmabuf::capabilities).unwrap();
    assert!(!caps.kernel.is_empty());
    assert!(caps.heaps.contains(&"system".to_string()), "{caps:?}");
    assert!(caps.udmabuf, "{caps:?}");
    assert!(caps.drm.iter().any(|n| n.driver.as_deref() == Some("vgem")), "{caps:?}");
    let i = caps.ioctls;
    assert_eq!(
        (i.sync, i.set_name, i.export_sync_file, i.import_sync_file),
        (Some(true), Some(true), Some(true), Some(true)),
        "{caps:?}"
    );
}

// KMS where there is none to use: vgem is no KMS driver, and Debian's kernel
// has no vkms. Both say what is missing (the Debian tier's word on KMS; the
// KMS tests themselves, tests/kms.rs, run on the custom kernel). Whether vkms
// is built in is read from /sys/module/vkms (its parameters), not from the
// code under test.
#[test]
#[ignore = "needs vgem (run in the VM tier: npm test)"]
fn kms_without_a_kms_driver_names_what_is_missing() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let vgem = vgem();
        let err = dmabuf::kms::Card::open(vgem.path()).unwrap_err();
        eprintln!("KMS on vgem: {err}");
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        assert_eq!(err.errno(), Errno::EOPNOTSUPP, "{err}");
        let msg = err.to_string();
        assert!(msg.contains("DRM_CLIENT_CAP_UNIVERSAL_PLANES") && msg.contains("vgem"), "{msg}");
        drop(vgem);

        let has_vkms = std::path::Path::new("/sys/module/vkms").exists();
        match dmabuf::kms::Card::open_driver("vkms") {
            Ok(card) => {
                assert!(has_vkms, "opened a vkms card on a kernel without /sys/module/vkms");
                assert_eq!(card.device().driver_name().unwrap(), "vkms");
            }
            Err(e) => {
                eprintln!("KMS tests need: {e}");
                assert!(!has_vkms, "vkms is built in but did not open: {e}");
                assert_eq!(e.errno(), Errno::ENODEV, "{e}");
                let msg = e.to_string();
                assert!(msg.contains("CONFIG_DRM_VKMS") && msg.contains("(vgem)"), "{msg}");
            }
        }
    });
}
