//! `<linux/dma-heap.h>`: allocating dma-bufs from a heap.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use super::{adopt, ioctls};
use crate::error::{Error, Result};

/// `struct dma_heap_allocation_data`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaHeapAllocationData {
    pub len: u64,
    pub fd: u32,
    pub fd_flags: u32,
    pub heap_flags: u64,
}

const _: () = assert!(size_of::<DmaHeapAllocationData>() == 24);

const DMA_HEAP_IOC_MAGIC: u8 = b'H';

ioctls! {
    readwrite DMA_HEAP_IOCTL_ALLOC = raw_alloc(DMA_HEAP_IOC_MAGIC, 0, DmaHeapAllocationData);
}

/// `DMA_HEAP_IOCTL_ALLOC`: a new dma-buf fd opened with `fd_flags`.
pub(crate) fn alloc(heap: BorrowedFd<'_>, len: u64, fd_flags: u32) -> Result<OwnedFd> {
    let mut arg = DmaHeapAllocationData { len, fd: 0, fd_flags, heap_flags: 0 };
    // SAFETY: `arg` is a valid, writable dma_heap_allocation_data.
    let r = unsafe { raw_alloc(heap.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DMA_HEAP_IOCTL_ALLOC", Some(heap.as_raw_fd()), e))?;
    let fd = RawFd::try_from(arg.fd).map_err(|_| {
        Error::invalid("DMA_HEAP_IOCTL_ALLOC", Some(heap.as_raw_fd()), "the kernel returned an fd out of range")
    })?;
    // SAFETY: on success the kernel installed a new fd with `fd_flags` (O_CLOEXEC included).
    Ok(unsafe { adopt(fd) })
}
