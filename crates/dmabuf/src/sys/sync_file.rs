//! `<linux/sync_file.h>`: merging `sync_files` and reading their fences.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::libc::c_char;

use super::{adopt, ioctls};
use crate::error::{Error, Result};

/// `struct sync_merge_data`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncMergeData {
    pub name: [c_char; 32],
    pub fd2: i32,
    pub fence: i32,
    pub flags: u32,
    pub pad: u32,
}

/// `struct sync_fence_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncFenceInfo {
    pub obj_name: [c_char; 32],
    pub driver_name: [c_char; 32],
    pub status: i32,
    pub flags: u32,
    pub timestamp_ns: u64,
}

impl SyncFenceInfo {
    pub(crate) const EMPTY: SyncFenceInfo =
        SyncFenceInfo { obj_name: [0; 32], driver_name: [0; 32], status: 0, flags: 0, timestamp_ns: 0 };
}

/// `struct sync_file_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncFileInfo {
    pub name: [c_char; 32],
    pub status: i32,
    pub flags: u32,
    pub num_fences: u32,
    pub pad: u32,
    pub sync_fence_info: u64,
}

const _: () = assert!(size_of::<SyncMergeData>() == 48);
const _: () = assert!(size_of::<SyncFenceInfo>() == 80);
const _: () = assert!(size_of::<SyncFileInfo>() == 56);

const SYNC_IOC_MAGIC: u8 = b'>';

ioctls! {
    readwrite SYNC_IOC_MERGE = raw_merge(SYNC_IOC_MAGIC, 3, SyncMergeData);
    readwrite SYNC_IOC_FILE_INFO = raw_file_info(SYNC_IOC_MAGIC, 4, SyncFileInfo);
}

/// `SYNC_IOC_MERGE`: a new close-on-exec `sync_file` of both inputs' fences.
pub(crate) fn merge(fd: BorrowedFd<'_>, other: BorrowedFd<'_>, name: &[c_char; 32]) -> Result<OwnedFd> {
    let mut arg = SyncMergeData { name: *name, fd2: other.as_raw_fd(), fence: -1, flags: 0, pad: 0 };
    // SAFETY: `arg` is a valid, writable sync_merge_data naming an open fd.
    let r = unsafe { raw_merge(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("SYNC_IOC_MERGE", Some(fd.as_raw_fd()), e))?;
    // SAFETY: on success the kernel installed a new close-on-exec fd for us.
    Ok(unsafe { adopt(arg.fence) })
}

/// `SYNC_IOC_FILE_INFO`. With an empty `fences`, only the header is filled
/// (including `num_fences`); otherwise up to `fences.len()` entries.
pub(crate) fn file_info(fd: BorrowedFd<'_>, fences: &mut [SyncFenceInfo]) -> Result<SyncFileInfo> {
    let num_fences = u32::try_from(fences.len())
        .map_err(|_| Error::invalid("SYNC_IOC_FILE_INFO", Some(fd.as_raw_fd()), "too many fences"))?;
    let mut arg = SyncFileInfo {
        name: [0; 32],
        status: 0,
        flags: 0,
        num_fences,
        pad: 0,
        sync_fence_info: if fences.is_empty() { 0 } else { fences.as_mut_ptr() as u64 },
    };
    // SAFETY: `arg` points at `fences`, which has room for `num_fences` entries.
    let r = unsafe { raw_file_info(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("SYNC_IOC_FILE_INFO", Some(fd.as_raw_fd()), e))?;
    Ok(arg)
}
