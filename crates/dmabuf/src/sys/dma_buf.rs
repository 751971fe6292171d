//! `<linux/dma-buf.h>`: CPU access bracketing, naming, and implicit fences
//! in and out of a dma-buf.

use std::ffi::CStr;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::libc::c_char;

use super::{adopt, ioctls};
use crate::error::{Error, Result};

pub(crate) const DMA_BUF_SYNC_READ: u64 = 1 << 0;
pub(crate) const DMA_BUF_SYNC_WRITE: u64 = 1 << 1;
pub(crate) const DMA_BUF_SYNC_START: u64 = 0;
pub(crate) const DMA_BUF_SYNC_END: u64 = 1 << 2;
/// `DMA_BUF_NAME_LEN`: the name buffer, including its terminating NUL.
pub(crate) const DMA_BUF_NAME_LEN: usize = 32;
/// statfs magic of the dma-buf pseudo file system (`DMA_BUF_MAGIC`, "DMAB",
/// from `<linux/magic.h>`).
pub(crate) const DMA_BUF_MAGIC: u32 = 0x444d_4142;

/// `struct dma_buf_sync`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaBufSync {
    pub flags: u64,
}

/// `struct dma_buf_export_sync_file`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaBufExportSyncFile {
    pub flags: u32,
    pub fd: i32,
}

/// `struct dma_buf_import_sync_file`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaBufImportSyncFile {
    pub flags: u32,
    pub fd: i32,
}

const _: () = assert!(size_of::<DmaBufSync>() == 8);
const _: () = assert!(size_of::<DmaBufExportSyncFile>() == 8);
const _: () = assert!(size_of::<DmaBufImportSyncFile>() == 8);

const DMA_BUF_BASE: u8 = b'b';

ioctls! {
    write DMA_BUF_IOCTL_SYNC = raw_sync(DMA_BUF_BASE, 0, DmaBufSync);
    // Declared `_IOW('b', 1, __u64)`, but the argument is the user pointer to
    // the name itself.
    write_bad DMA_BUF_SET_NAME_B = raw_set_name(DMA_BUF_BASE, 1, u64) -> c_char;
    readwrite DMA_BUF_IOCTL_EXPORT_SYNC_FILE = raw_export_sync_file(DMA_BUF_BASE, 2, DmaBufExportSyncFile);
    // The kernel declares IMPORT_SYNC_FILE as _IOW, not _IOWR.
    write DMA_BUF_IOCTL_IMPORT_SYNC_FILE = raw_import_sync_file(DMA_BUF_BASE, 3, DmaBufImportSyncFile);
}

/// `DMA_BUF_IOCTL_SYNC` with `flags` (`DMA_BUF_SYNC_*`).
pub(crate) fn sync(fd: BorrowedFd<'_>, flags: u64) -> Result<()> {
    let arg = DmaBufSync { flags };
    // SAFETY: `fd` is open for the borrow and `arg` is a valid dma_buf_sync.
    let r = unsafe { raw_sync(fd.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| Error::os("DMA_BUF_IOCTL_SYNC", Some(fd.as_raw_fd()), e))
}

/// `DMA_BUF_SET_NAME_B`: the kernel copies at most `DMA_BUF_NAME_LEN` bytes.
pub(crate) fn set_name(fd: BorrowedFd<'_>, name: &CStr) -> Result<()> {
    // SAFETY: `name` is NUL-terminated; the kernel only reads it during the call.
    let r = unsafe { raw_set_name(fd.as_raw_fd(), name.as_ptr()) };
    r.map(drop).map_err(|e| Error::os("DMA_BUF_SET_NAME", Some(fd.as_raw_fd()), e))
}

/// `DMA_BUF_IOCTL_EXPORT_SYNC_FILE`: a new close-on-exec `sync_file` fd.
pub(crate) fn export_sync_file(fd: BorrowedFd<'_>, flags: u32) -> Result<OwnedFd> {
    let mut arg = DmaBufExportSyncFile { flags, fd: -1 };
    // SAFETY: `arg` is a valid, writable dma_buf_export_sync_file.
    let r = unsafe { raw_export_sync_file(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", Some(fd.as_raw_fd()), e))?;
    // SAFETY: on success the kernel installed a new close-on-exec fd for us.
    Ok(unsafe { adopt(arg.fd) })
}

/// `DMA_BUF_IOCTL_IMPORT_SYNC_FILE`: the kernel only borrows `sync_file`.
pub(crate) fn import_sync_file(fd: BorrowedFd<'_>, flags: u32, sync_file: BorrowedFd<'_>) -> Result<()> {
    let arg = DmaBufImportSyncFile { flags, fd: sync_file.as_raw_fd() };
    // SAFETY: `arg` is a valid dma_buf_import_sync_file naming an open fd.
    let r = unsafe { raw_import_sync_file(fd.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| Error::os("DMA_BUF_IOCTL_IMPORT_SYNC_FILE", Some(fd.as_raw_fd()), e))
}
