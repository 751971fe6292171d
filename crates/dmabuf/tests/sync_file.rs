//! Fences, for real: vgem's test fences (`DRM_IOCTL_VGEM_FENCE_ATTACH` /
//! _SIGNAL) make a buffer busy; `sync_files` exported from it stay pending
//! until the fence signals, block waiters, and carry over to other buffers
//! through `IMPORT_SYNC_FILE`. Needs vgem and /dev/udmabuf: ignored on a bare
//! host, run by the VM tier.
//!
//! vgem signals a forgotten fence by itself after 10 s, so every test
//! signals its fences well before that.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps and numeric casts are fine.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

mod common;

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::{assert_no_fd_leak, open_fds, page, ready, serial, udmabuf, vgem};
use dmabuf::drm::{DrmDevice, DumbBuffer};
use dmabuf::{export_sync_files, import_sync_file_all, Access, DmaBuf, FenceStatus, SyncFile};
use nix::poll::PollFlags;

/// A vgem dumb buffer, its dma-buf, and an unsignalled fence on it.
struct Busy {
    dev: DrmDevice,
    dumb: DumbBuffer,
    buf: DmaBuf,
    fence: u32,
}

fn busy_vgem_buffer(fence: Access) -> Busy {
    let dev = vgem();
    let dumb = dev.create_dumb(64, 64, 32).unwrap();
    let buf = dev.export(&dumb.handle, Access::ReadWrite).unwrap();
    let fence = dev.vgem_fence_attach(&dumb.handle, fence).unwrap();
    Busy { dev, dumb, buf, fence }
}

impl Busy {
    fn signal(&self) {
        self.dev.vgem_fence_signal(self.fence).unwrap();
    }
}

// A pending vgem fence really blocks: the exported sync_file is not
// signalled, wait() times out after the full timeout, a udmabuf that
// imports it cannot be read (poll), a merge with a signalled sync_file is
// pending, and info() shows vgem's fence active; after the signal all of
// that turns over and the fence has a timestamp.
#[test]
#[ignore = "needs vgem and /dev/udmabuf (run in the VM tier: npm test)"]
fn pending_vgem_fence_blocks_until_signalled() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let busy = busy_vgem_buffer(Access::Write);
        let pending = busy.buf.export_sync_file(Access::Write).unwrap();
        assert!(!pending.is_signaled().unwrap());
        let start = Instant::now();
        assert!(!pending.wait(Some(Duration::from_millis(50))).unwrap(), "wait times out");
        assert!(start.elapsed() >= Duration::from_millis(50), "after the whole timeout, not {:?}", start.elapsed());
        assert!(!ready(&busy.buf, PollFlags::POLLIN), "the vgem buffer itself is busy");

        let target = udmabuf().alloc(page()).unwrap();
        assert!(ready(&target, PollFlags::POLLIN | PollFlags::POLLOUT), "an idle udmabuf is ready");
        target.import_sync_file(&pending, Access::Write).unwrap();
        assert!(!ready(&target, PollFlags::POLLIN), "readers of the udmabuf now wait for the vgem fence");
        assert!(!ready(&target, PollFlags::POLLOUT), "and so do writers");

        let idle = udmabuf().alloc(page()).unwrap().export_sync_file(Access::Read).unwrap();
        assert!(idle.is_signaled().unwrap());
        let merged = pending.merge(&idle, "pending+idle").unwrap();
        assert!(!merged.is_signaled().unwrap(), "a merge is pending while any part is");

        let info = pending.info().unwrap();
        assert_eq!(info.status, FenceStatus::Active);
        assert!(!info.fences.is_empty());
        assert!(info.fences.iter().any(|f| f.driver == "vgem" && f.status == FenceStatus::Active), "{info:?}");
        assert!(info.fences.iter().all(|f| f.status != FenceStatus::Active || f.timestamp_ns == 0), "{info:?}");
        let minfo = merged.info().unwrap();
        assert_eq!(minfo.name, "pending+idle");
        assert_eq!(minfo.status, FenceStatus::Active);
        assert!(minfo.fences.iter().any(|f| f.driver == "vgem"), "{minfo:?}");

        busy.signal();
        assert!(pending.wait(None).unwrap());
        assert!(pending.is_signaled().unwrap());
        assert!(merged.wait(Some(Duration::from_secs(5))).unwrap());
        assert!(ready(&target, PollFlags::POLLIN | PollFlags::POLLOUT), "the udmabuf is free again");
        assert!(ready(&busy.buf, PollFlags::POLLIN));
        let info = pending.info().unwrap();
        assert_eq!(info.status, FenceStatus::Signaled, "{info:?}");
        let vgem_fence = info.fences.iter().find(|f| f.driver == "vgem").expect("the vgem fence");
        assert_eq!(vgem_fence.status, FenceStatus::Signaled);
        assert!(vgem_fence.timestamp_ns > 0, "a signalled fence has a timestamp: {info:?}");
        assert_eq!(merged.info().unwrap().status, FenceStatus::Signaled);
        drop(busy.dumb);
    });
}

// A sync_file exported from an idle buffer is already signalled, for both
// accesses, and a zero-timeout wait says so at once.
#[test]
#[ignore = "needs vgem and /dev/udmabuf (run in the VM tier: npm test)"]
fn idle_buffer_exports_a_signalled_sync_file() {
    // Also: a timeout past what the monotonic clock can express waits for ever
    // (here: returns at once) instead of overflowing.
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = vgem();
        let dumb = dev.create_dumb(16, 16, 32).unwrap();
        let from_vgem = dev.export(&dumb.handle, Access::ReadWrite).unwrap();
        let from_udmabuf = udmabuf().alloc(page()).unwrap();
        for buf in [&from_vgem, &from_udmabuf] {
            for access in [Access::Read, Access::Write, Access::ReadWrite] {
                let sf = buf.export_sync_file(access).unwrap();
                assert!(sf.is_signaled().unwrap(), "{access}");
                assert!(sf.wait(Some(Duration::ZERO)).unwrap());
                assert!(sf.wait(Some(Duration::MAX)).unwrap());
                assert_eq!(sf.info().unwrap().status, FenceStatus::Signaled);
            }
        }
    });
}

// Read fences only hold back writers: with a vgem *read* fence attached,
// the Read export (what a reader waits for) is signalled but the Write
// export is pending, and poll says the same (POLLIN ready, POLLOUT not).
#[test]
#[ignore = "needs vgem and /dev/udmabuf (run in the VM tier: npm test)"]
fn read_fences_hold_back_writers_only() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let busy = busy_vgem_buffer(Access::Read);
        let for_readers = busy.buf.export_sync_file(Access::Read).unwrap();
        let for_writers = busy.buf.export_sync_file(Access::Write).unwrap();
        assert!(for_readers.is_signaled().unwrap(), "readers do not wait for readers");
        assert!(!for_writers.is_signaled().unwrap(), "writers wait for readers");
        assert!(ready(&busy.buf, PollFlags::POLLIN));
        assert!(!ready(&busy.buf, PollFlags::POLLOUT));

        // Imported as a read fence, it holds back the udmabuf's writers only.
        let target = udmabuf().alloc(page()).unwrap();
        target.import_sync_file(&for_writers, Access::Read).unwrap();
        assert!(ready(&target, PollFlags::POLLIN));
        assert!(!ready(&target, PollFlags::POLLOUT));
        assert!(!target.export_sync_file(Access::Write).unwrap().is_signaled().unwrap());
        assert!(target.export_sync_file(Access::Read).unwrap().is_signaled().unwrap());

        busy.signal();
        assert!(for_writers.wait(Some(Duration::from_secs(5))).unwrap());
        assert!(ready(&target, PollFlags::POLLOUT));
    });
}

// A sync_file holding two fences (two vgem read fences, exported for a
// writer) lists both and signals only when both have; vgem's own rules come
// back as errors: no write fence while a read fence is pending (EBUSY), and
// no second signal of one fence (ENOENT, NotFound).
#[test]
#[ignore = "needs vgem (run in the VM tier: npm test)"]
fn two_fences_signal_when_both_have() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = vgem();
        let dumb = dev.create_dumb(16, 16, 32).unwrap();
        let buf = dev.export(&dumb.handle, Access::ReadWrite).unwrap();
        let first = dev.vgem_fence_attach(&dumb.handle, Access::Read).unwrap();
        let second = dev.vgem_fence_attach(&dumb.handle, Access::Read).unwrap();
        let e = dev.vgem_fence_attach(&dumb.handle, Access::Write).unwrap_err();
        assert_eq!((e.errno(), e.op()), (nix::errno::Errno::EBUSY, "DRM_IOCTL_VGEM_FENCE_ATTACH"), "{e}");

        let both = buf.export_sync_file(Access::Write).unwrap();
        let info = both.info().unwrap();
        assert_eq!(info.fences.len(), 2, "{info:?}");
        assert!(info.fences.iter().all(|f| f.driver == "vgem" && f.status == FenceStatus::Active), "{info:?}");

        dev.vgem_fence_signal(first).unwrap();
        assert!(!both.wait(Some(Duration::from_millis(20))).unwrap(), "one of two is not enough");
        let info = both.info().unwrap();
        assert_eq!(info.status, FenceStatus::Active);
        assert_eq!(info.fences.iter().filter(|f| f.status == FenceStatus::Signaled).count(), 1, "{info:?}");

        let e = dev.vgem_fence_signal(first).unwrap_err();
        assert_eq!((e.kind(), e.errno()), (dmabuf::ErrorKind::NotFound, nix::errno::Errno::ENOENT), "{e}");

        dev.vgem_fence_signal(second).unwrap();
        assert!(both.wait(Some(Duration::from_secs(5))).unwrap());
        let info = both.info().unwrap();
        assert_eq!(info.status, FenceStatus::Signaled);
        assert!(info.fences.iter().all(|f| f.status == FenceStatus::Signaled && f.timestamp_ns > 0), "{info:?}");
    });
}

// A sync_file's fd can be cloned and re-wrapped: the copies are different
// fds for the same fence, and each sees it signal.
#[test]
#[ignore = "needs vgem and /dev/udmabuf (run in the VM tier: npm test)"]
fn sync_file_clones_share_the_fence() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let busy = busy_vgem_buffer(Access::Write);
        let sf = busy.buf.export_sync_file(Access::Write).unwrap();
        let clone = sf.try_clone().unwrap();
        let by_number = SyncFile::dup_from_raw(sf.as_raw_fd()).unwrap();
        let by_fd = SyncFile::dup_from(&sf).unwrap();
        let adopted = SyncFile::from_owned(std::os::fd::OwnedFd::from(sf.try_clone().unwrap())).unwrap();
        let all = [&sf, &clone, &by_number, &by_fd, &adopted];
        let mut fds: Vec<i32> = all.iter().map(|s| s.as_raw_fd()).collect();
        fds.sort_unstable();
        fds.dedup();
        assert_eq!(fds.len(), 5, "five different fds");
        assert!(all.iter().all(|s| !s.is_signaled().unwrap()));
        busy.signal();
        assert!(all.iter().all(|s| s.wait(Some(Duration::from_secs(5))).unwrap()));

        // A sync_file is not a dma-buf, and the other way round.
        assert_eq!(DmaBuf::dup_from(&sf).unwrap_err().kind(), dmabuf::ErrorKind::NotDmaBuf);
        assert_eq!(SyncFile::dup_from(&busy.buf).unwrap_err().kind(), dmabuf::ErrorKind::NotSyncFile);
    });
}

// export_sync_files gives one signalled sync_file per idle buffer, opening
// exactly one fd each and closing them on drop; import_sync_file_all puts
// one pending fence on every buffer (each blocks until the signal) and
// leaves the caller's sync_file open.
#[test]
#[ignore = "needs vgem and /dev/udmabuf (run in the VM tier: npm test)"]
fn batch_export_and_import() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = udmabuf();
        let bufs: Vec<DmaBuf> = (0..3).map(|_| dev.alloc(page()).unwrap()).collect();
        let refs: Vec<&DmaBuf> = bufs.iter().collect();

        let before = open_fds();
        let out = export_sync_files(&refs, Access::Write).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(open_fds(), before + 3, "exactly one new fd per buffer");
        assert!(out.iter().all(|s| s.is_signaled().unwrap()));
        drop(out);
        assert_eq!(open_fds(), before, "all closed on drop");

        let busy = busy_vgem_buffer(Access::Write);
        let pending = busy.buf.export_sync_file(Access::Write).unwrap();
        let before = open_fds();
        import_sync_file_all(&refs, &pending, Access::Write).unwrap();
        assert_eq!(open_fds(), before, "importing opens nothing and closes nothing");
        for (i, b) in bufs.iter().enumerate() {
            assert!(!ready(b, PollFlags::POLLIN), "buffer {i} waits for the fence");
        }
        let exported = export_sync_files(&refs, Access::Read).unwrap();
        assert!(exported.iter().all(|s| !s.is_signaled().unwrap()), "their exports are pending too");
        assert!(!pending.is_signaled().unwrap(), "the caller's sync_file is still open and usable");

        busy.signal();
        assert!(pending.wait(Some(Duration::from_secs(5))).unwrap());
        for (i, b) in bufs.iter().enumerate() {
            assert!(ready(b, PollFlags::POLLIN | PollFlags::POLLOUT), "buffer {i} is free after the signal");
        }
        assert!(exported.iter().all(|s| s.is_signaled().unwrap()));
    });
}
