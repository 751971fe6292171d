//! Helpers shared by the integration tests.
//!
//! Every test takes [`serial`] first: fd counting (`/proc/self/fd`) is
//! process-wide, so tests of one binary must not overlap. Device tests open
//! their device through the helpers below, which panic with the reason when
//! the device is missing: in the VM tier (`--include-ignored`) a missing
//! device is a failure, never a skip.
#![allow(dead_code)] // each test binary uses a different subset

use std::os::fd::AsFd;
use std::sync::{Mutex, MutexGuard};

use dmabuf::drm::DrmDevice;
use dmabuf::heap::Heap;
use dmabuf::udmabuf::Udmabuf;
use nix::poll::{PollFd, PollFlags, PollTimeout};

/// Serializes the tests of one binary. A test that panicked poisons the
/// lock; the next one takes it anyway.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Number of open fds of this process (entries of `/proc/self/fd`; the
/// directory's own fd is counted every time, so differences are exact).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("read /proc/self/fd").count()
}

/// Runs `f` and asserts that it left exactly as many fds open as it found.
pub fn assert_no_fd_leak<T>(f: impl FnOnce() -> T) -> T {
    let before = open_fds();
    let out = f();
    let after = open_fds();
    assert_eq!(after, before, "fd leak: {before} fds open before, {after} after");
    out
}

/// Whether this process runs inside the VM tier (`scripts/vm/run.sh` sets it).
pub fn in_vm() -> bool {
    std::env::var_os("DMABUF_VM").is_some_and(|v| v == "1")
}

pub fn page() -> u64 {
    dmabuf::page_size() as u64
}

/// `/dev/udmabuf`, or a panic saying it is missing.
pub fn udmabuf() -> Udmabuf {
    Udmabuf::open().unwrap_or_else(|e| panic!("this test needs /dev/udmabuf (run it in the VM tier: npm test): {e}"))
}

/// The `system` dma-heap, or a panic saying it is missing.
pub fn system_heap() -> Heap {
    Heap::open("system")
        .unwrap_or_else(|e| panic!("this test needs /dev/dma_heap/system (run it in the VM tier: npm test): {e}"))
}

/// vgem's primary node (dumb buffers need one), or a panic saying it is missing.
pub fn vgem() -> DrmDevice {
    DrmDevice::open_driver("vgem", dmabuf::drm::NodeKind::Primary).unwrap_or_else(|e| {
        panic!("this test needs vgem in /dev/dri (modprobe vgem; run it in the VM tier: npm test): {e}")
    })
}

/// `poll()` with a zero timeout: whether `events` are ready on `fd` now.
/// On a dma-buf, `POLLIN` is ready when no write fence is pending (readers
/// may go), `POLLOUT` when no fence at all is pending (writers may go).
pub fn ready(fd: impl AsFd, events: PollFlags) -> bool {
    let mut fds = [PollFd::new(fd.as_fd(), events)];
    let n = nix::poll::poll(&mut fds, PollTimeout::ZERO).expect("poll");
    n == 1 && fds[0].revents().is_some_and(|r| r.intersects(events))
}

/// A recognisable byte pattern: `len` bytes starting from `seed`.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add((i * 7 % 251) as u8)).collect()
}
