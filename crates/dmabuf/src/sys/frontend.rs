//! `<linux/dvb/frontend.h>`: as much of the DVB frontend API as tuning
//! takes (`FE_GET_INFO`, `FE_READ_STATUS`, `FE_SET_PROPERTY`,
//! `FE_GET_PROPERTY`).

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::libc::c_char;

use super::ioctls;
use crate::error::{Error, Result};

/// `struct dvb_frontend_info` (the enums are C `int`s).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct DvbFrontendInfo {
    pub name: [c_char; 128],
    pub fe_type: u32,
    pub frequency_min: u32,
    pub frequency_max: u32,
    pub frequency_stepsize: u32,
    pub frequency_tolerance: u32,
    pub symbol_rate_min: u32,
    pub symbol_rate_max: u32,
    pub symbol_rate_tolerance: u32,
    pub notifier_delay: u32,
    pub caps: u32,
}

/// `struct dtv_property`: packed, and only its `u.data` member is used here
/// (the rest of the union is statistics and an unused buffer).
#[repr(C, packed)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct DtvProperty {
    pub cmd: u32,
    pub reserved: [u32; 3],
    pub data: u32,
    /// The rest of the union: its `buffer` member is the largest (32 + 4 +
    /// 12 bytes and a pointer).
    pub rest: [u8; 44 + size_of::<usize>()],
    pub result: i32,
}

impl DtvProperty {
    pub(crate) fn new(cmd: u32, data: u32) -> DtvProperty {
        DtvProperty { cmd, reserved: [0; 3], data, rest: [0; 44 + size_of::<usize>()], result: 0 }
    }
}

/// `struct dtv_properties`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct DtvProperties {
    pub num: u32,
    pub props: *mut DtvProperty,
}

/// `DTV_IOCTL_MAX_MSGS`: the most properties one call may carry.
pub(crate) const DTV_IOCTL_MAX_MSGS: usize = 64;

const _: () = assert!(size_of::<DvbFrontendInfo>() == 168);
// 76 bytes on 64-bit targets, 72 where pointers are 4 bytes (32-bit ARM).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<DtvProperty>() == 76 && size_of::<DtvProperties>() == 16);
#[cfg(target_pointer_width = "32")]
const _: () = assert!(size_of::<DtvProperty>() == 72 && size_of::<DtvProperties>() == 8);

const FE_MAGIC: u8 = b'o';

ioctls! {
    read FE_GET_INFO = raw_get_info(FE_MAGIC, 61, DvbFrontendInfo);
    read FE_READ_STATUS = raw_read_status(FE_MAGIC, 69, u32);
    write FE_SET_PROPERTY = raw_set_property(FE_MAGIC, 82, DtvProperties);
    read FE_GET_PROPERTY = raw_get_property(FE_MAGIC, 83, DtvProperties);
}

/// `FE_GET_INFO`.
pub(crate) fn get_info(fd: BorrowedFd<'_>) -> Result<DvbFrontendInfo> {
    let mut arg = DvbFrontendInfo {
        name: [0; 128],
        fe_type: 0,
        frequency_min: 0,
        frequency_max: 0,
        frequency_stepsize: 0,
        frequency_tolerance: 0,
        symbol_rate_min: 0,
        symbol_rate_max: 0,
        symbol_rate_tolerance: 0,
        notifier_delay: 0,
        caps: 0,
    };
    // SAFETY: `arg` is a valid, writable dvb_frontend_info.
    let r = unsafe { raw_get_info(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("FE_GET_INFO", Some(fd.as_raw_fd()), e))?;
    Ok(arg)
}

/// `FE_READ_STATUS`: the `FE_HAS_*` bits.
pub(crate) fn read_status(fd: BorrowedFd<'_>) -> Result<u32> {
    let mut status = 0u32;
    // SAFETY: `status` is a writable fe_status_t (a C enum, 4 bytes).
    let r = unsafe { raw_read_status(fd.as_raw_fd(), &raw mut status) };
    r.map_err(|e| Error::os("FE_READ_STATUS", Some(fd.as_raw_fd()), e))?;
    Ok(status)
}

fn properties(op: &'static str, fd: BorrowedFd<'_>, props: &mut [DtvProperty]) -> Result<DtvProperties> {
    if props.is_empty() || props.len() > DTV_IOCTL_MAX_MSGS {
        return Err(Error::invalid(
            op,
            Some(fd.as_raw_fd()),
            format!("between 1 and {DTV_IOCTL_MAX_MSGS} properties per call, not {}", props.len()),
        ));
    }
    // The length was just checked to fit.
    let num = u32::try_from(props.len()).unwrap_or(0);
    Ok(DtvProperties { num, props: props.as_mut_ptr() })
}

/// `FE_SET_PROPERTY`: the kernel applies `props` in order (`DTV_TUNE` last).
pub(crate) fn set_property(fd: BorrowedFd<'_>, props: &mut [DtvProperty]) -> Result<()> {
    let arg = properties("FE_SET_PROPERTY", fd, props)?;
    // SAFETY: `arg` points at `props.len()` valid dtv_property entries.
    let r = unsafe { raw_set_property(fd.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| Error::os("FE_SET_PROPERTY", Some(fd.as_raw_fd()), e))
}

/// `FE_GET_PROPERTY`: fills each entry's `data` for its `cmd`.
pub(crate) fn get_property(fd: BorrowedFd<'_>, props: &mut [DtvProperty]) -> Result<()> {
    let mut arg = properties("FE_GET_PROPERTY", fd, props)?;
    // SAFETY: `arg` points at `props.len()` valid, writable dtv_property entries.
    let r = unsafe { raw_get_property(fd.as_raw_fd(), &raw mut arg) };
    r.map(drop).map_err(|e| Error::os("FE_GET_PROPERTY", Some(fd.as_raw_fd()), e))
}
