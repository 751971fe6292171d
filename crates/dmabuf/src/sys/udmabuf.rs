//! `<linux/udmabuf.h>`: dma-bufs over memfd pages.

use std::mem::{size_of, size_of_val};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::{adopt, ioctls};
use crate::error::{Error, Result};

pub(crate) const UDMABUF_FLAGS_CLOEXEC: u32 = 0x01;

/// `struct udmabuf_create`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct UdmabufCreate {
    pub memfd: u32,
    pub flags: u32,
    pub offset: u64,
    pub size: u64,
}

/// `struct udmabuf_create_item`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct UdmabufCreateItem {
    pub memfd: u32,
    pub pad: u32,
    pub offset: u64,
    pub size: u64,
}

/// Header of `struct udmabuf_create_list`; the items follow it in memory.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct UdmabufCreateList {
    pub flags: u32,
    pub count: u32,
}

const _: () = assert!(size_of::<UdmabufCreate>() == 24);
const _: () = assert!(size_of::<UdmabufCreateItem>() == 24);
// The header is exactly one u64 word: `create_list` relies on it.
const _: () = assert!(size_of::<UdmabufCreateList>() == size_of::<u64>());

const UDMABUF_MAGIC: u8 = b'u';

ioctls! {
    write UDMABUF_CREATE = raw_create(UDMABUF_MAGIC, 0x42, UdmabufCreate);
    write UDMABUF_CREATE_LIST = raw_create_list(UDMABUF_MAGIC, 0x43, UdmabufCreateList);
}

/// The kernel's `u32` for an fd number (never negative for an open fd).
pub(crate) fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX)
}

/// `UDMABUF_CREATE`: a close-on-exec dma-buf over `size` bytes at `offset`.
pub(crate) fn create(dev: BorrowedFd<'_>, memfd: BorrowedFd<'_>, offset: u64, size: u64) -> Result<OwnedFd> {
    let arg = UdmabufCreate { memfd: fd_u32(memfd), flags: UDMABUF_FLAGS_CLOEXEC, offset, size };
    // SAFETY: `arg` is a valid udmabuf_create; the memfd is only borrowed.
    let r = unsafe { raw_create(dev.as_raw_fd(), &raw const arg) };
    let fd = r.map_err(|e| Error::os("UDMABUF_CREATE", Some(memfd.as_raw_fd()), e))?;
    // SAFETY: UDMABUF_CREATE returns a new close-on-exec dma-buf fd.
    Ok(unsafe { adopt(fd) })
}

/// `UDMABUF_CREATE_LIST`: one close-on-exec dma-buf over several ranges.
pub(crate) fn create_list(dev: BorrowedFd<'_>, items: &[UdmabufCreateItem]) -> Result<OwnedFd> {
    let count =
        u32::try_from(items.len()).map_err(|_| Error::invalid("UDMABUF_CREATE_LIST", None, "too many ranges"))?;
    // The kernel reads an 8-byte header followed by `count` items: lay them
    // out in one buffer of u64 words, which every part's alignment divides.
    let words = 1 + size_of_val(items).div_ceil(size_of::<u64>());
    let mut buf = vec![0u64; words];
    let header = UdmabufCreateList { flags: UDMABUF_FLAGS_CLOEXEC, count };
    let base = buf.as_mut_ptr();
    // SAFETY: `buf` has room for the header at its start, 8-aligned.
    unsafe { base.cast::<UdmabufCreateList>().write(header) };
    // SAFETY: word 1 is inside `buf` (it has at least one word per 8 bytes of items).
    let list = unsafe { base.add(1) };
    // SAFETY: `list` has room for `items.len()` 8-aligned entries and does not overlap `items`.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), list.cast::<UdmabufCreateItem>(), items.len()) };
    // SAFETY: `buf` holds a complete udmabuf_create_list.
    let r = unsafe { raw_create_list(dev.as_raw_fd(), base.cast::<UdmabufCreateList>()) };
    let fd = r.map_err(|e| Error::os("UDMABUF_CREATE_LIST", None, e))?;
    // SAFETY: UDMABUF_CREATE_LIST returns a new close-on-exec dma-buf fd.
    Ok(unsafe { adopt(fd) })
}
