//! `<drm/drm.h>` and the dumb-buffer part of `<drm/drm_mode.h>`: driver
//! identification, client capabilities, DRM master, GEM handles, PRIME
//! import and export, dumb buffers. Mode setting is in `drm_mode.rs`.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::libc::c_char;

use super::{adopt, ioctls};
use crate::error::{Error, Result};

// The kernel defines these as the open(2) flags of the architecture.
#[allow(clippy::cast_sign_loss)] // Reason: both flags are small positive numbers.
/// `DRM_CLOEXEC` (= `O_CLOEXEC`), for PRIME exports.
pub(crate) const DRM_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
#[allow(clippy::cast_sign_loss)] // Reason: as above.
/// `DRM_RDWR` (= `O_RDWR`), for PRIME exports.
pub(crate) const DRM_RDWR: u32 = libc::O_RDWR as u32;

/// `struct drm_prime_handle`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmPrimeHandle {
    pub handle: u32,
    pub flags: u32,
    pub fd: i32,
}

/// `struct drm_gem_close`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmGemClose {
    pub handle: u32,
    pub pad: u32,
}

/// `struct drm_mode_create_dumb`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeCreateDumb {
    pub height: u32,
    pub width: u32,
    pub bpp: u32,
    pub flags: u32,
    pub handle: u32,
    pub pitch: u32,
    pub size: u64,
}

/// `struct drm_version`: lengths are `__kernel_size_t` and the strings are
/// user pointers, so both change size with the architecture.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct DrmVersion {
    pub version_major: i32,
    pub version_minor: i32,
    pub version_patchlevel: i32,
    pub name_len: usize,
    pub name: *mut c_char,
    pub date_len: usize,
    pub date: *mut c_char,
    pub desc_len: usize,
    pub desc: *mut c_char,
}

/// `struct drm_set_client_cap`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmSetClientCap {
    pub capability: u64,
    pub value: u64,
}

/// `DRM_CLIENT_CAP_UNIVERSAL_PLANES`: list primary and cursor planes too.
pub(crate) const DRM_CLIENT_CAP_UNIVERSAL_PLANES: u64 = 2;
/// `DRM_CLIENT_CAP_ATOMIC`: atomic mode setting.
pub(crate) const DRM_CLIENT_CAP_ATOMIC: u64 = 3;
/// `DRM_CLIENT_CAP_WRITEBACK_CONNECTORS`: list writeback connectors.
pub(crate) const DRM_CLIENT_CAP_WRITEBACK_CONNECTORS: u64 = 5;

const _: () = assert!(size_of::<DrmSetClientCap>() == 16);
const _: () = assert!(size_of::<DrmPrimeHandle>() == 12);
const _: () = assert!(size_of::<DrmGemClose>() == 8);
const _: () = assert!(size_of::<DrmModeCreateDumb>() == 32);
const _: () = assert!(size_of::<DrmVersion>() == if size_of::<usize>() == 8 { 64 } else { 36 });

/// `DRM_IOCTL_BASE`.
pub(crate) const DRM_IOCTL_BASE: u8 = b'd';
/// `DRM_COMMAND_BASE`: where driver-specific ioctls start.
pub(crate) const DRM_COMMAND_BASE: u8 = 0x40;

ioctls! {
    readwrite DRM_IOCTL_VERSION = raw_version(DRM_IOCTL_BASE, 0x00, DrmVersion);
    write DRM_IOCTL_GEM_CLOSE = raw_gem_close(DRM_IOCTL_BASE, 0x09, DrmGemClose);
    write DRM_IOCTL_SET_CLIENT_CAP = raw_set_client_cap(DRM_IOCTL_BASE, 0x0d, DrmSetClientCap);
    none DRM_IOCTL_SET_MASTER = raw_set_master(DRM_IOCTL_BASE, 0x1e, ());
    none DRM_IOCTL_DROP_MASTER = raw_drop_master(DRM_IOCTL_BASE, 0x1f, ());
    readwrite DRM_IOCTL_PRIME_HANDLE_TO_FD = raw_prime_handle_to_fd(DRM_IOCTL_BASE, 0x2d, DrmPrimeHandle);
    readwrite DRM_IOCTL_PRIME_FD_TO_HANDLE = raw_prime_fd_to_handle(DRM_IOCTL_BASE, 0x2e, DrmPrimeHandle);
    readwrite DRM_IOCTL_MODE_CREATE_DUMB = raw_mode_create_dumb(DRM_IOCTL_BASE, 0xb2, DrmModeCreateDumb);
}

/// `DRM_IOCTL_VERSION`: the driver's name only.
pub(crate) fn driver_name(dev: BorrowedFd<'_>) -> Result<String> {
    let mut name = [0 as c_char; 64];
    let mut arg = DrmVersion {
        version_major: 0,
        version_minor: 0,
        version_patchlevel: 0,
        name_len: name.len(),
        name: name.as_mut_ptr(),
        date_len: 0,
        date: std::ptr::null_mut(),
        desc_len: 0,
        desc: std::ptr::null_mut(),
    };
    // SAFETY: `arg.name` points at a writable buffer of `name_len` bytes; date and desc are empty.
    let r = unsafe { raw_version(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_VERSION", Some(dev.as_raw_fd()), e))?;
    let len = arg.name_len.min(name.len());
    let bytes: Vec<u8> = name[..len].iter().map(|&c| c.to_ne_bytes()[0]).collect();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `DRM_IOCTL_GEM_CLOSE`.
pub(crate) fn gem_close(dev: BorrowedFd<'_>, handle: u32) -> Result<()> {
    let arg = DrmGemClose { handle, pad: 0 };
    // SAFETY: `arg` is a valid drm_gem_close.
    let r = unsafe { raw_gem_close(dev.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| Error::os("DRM_IOCTL_GEM_CLOSE", Some(dev.as_raw_fd()), e))
}

/// `DRM_IOCTL_PRIME_HANDLE_TO_FD`: a new dma-buf fd opened with `flags`.
pub(crate) fn prime_handle_to_fd(dev: BorrowedFd<'_>, handle: u32, flags: u32) -> Result<OwnedFd> {
    let mut arg = DrmPrimeHandle { handle, flags, fd: -1 };
    // SAFETY: `arg` is a valid, writable drm_prime_handle.
    let r = unsafe { raw_prime_handle_to_fd(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_PRIME_HANDLE_TO_FD", Some(dev.as_raw_fd()), e))?;
    // SAFETY: on success the kernel installed a new fd (DRM_CLOEXEC is always passed).
    Ok(unsafe { adopt(arg.fd) })
}

/// `DRM_IOCTL_PRIME_FD_TO_HANDLE`: the dma-buf fd is only borrowed.
pub(crate) fn prime_fd_to_handle(dev: BorrowedFd<'_>, buf: BorrowedFd<'_>) -> Result<u32> {
    let mut arg = DrmPrimeHandle { handle: 0, flags: 0, fd: buf.as_raw_fd() };
    // SAFETY: `arg` is a valid, writable drm_prime_handle naming an open fd.
    let r = unsafe { raw_prime_fd_to_handle(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_PRIME_FD_TO_HANDLE", Some(buf.as_raw_fd()), e))?;
    Ok(arg.handle)
}

/// `DRM_IOCTL_MODE_CREATE_DUMB`.
pub(crate) fn mode_create_dumb(dev: BorrowedFd<'_>, width: u32, height: u32, bpp: u32) -> Result<DrmModeCreateDumb> {
    let mut arg = DrmModeCreateDumb { height, width, bpp, ..Default::default() };
    // SAFETY: `arg` is a valid, writable drm_mode_create_dumb.
    let r = unsafe { raw_mode_create_dumb(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_MODE_CREATE_DUMB", Some(dev.as_raw_fd()), e))?;
    Ok(arg)
}

/// `DRM_IOCTL_SET_CLIENT_CAP`.
pub(crate) fn set_client_cap(dev: BorrowedFd<'_>, capability: u64, value: u64) -> Result<()> {
    let arg = DrmSetClientCap { capability, value };
    // SAFETY: `arg` is a valid drm_set_client_cap.
    let r = unsafe { raw_set_client_cap(dev.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| Error::os("DRM_IOCTL_SET_CLIENT_CAP", Some(dev.as_raw_fd()), e))
}

/// `DRM_IOCTL_SET_MASTER`.
pub(crate) fn set_master(dev: BorrowedFd<'_>) -> Result<()> {
    // SAFETY: the ioctl takes no argument.
    let r = unsafe { raw_set_master(dev.as_raw_fd()) };
    r.map(drop).map_err(|e| Error::os("DRM_IOCTL_SET_MASTER", Some(dev.as_raw_fd()), e))
}

/// `DRM_IOCTL_DROP_MASTER`.
pub(crate) fn drop_master(dev: BorrowedFd<'_>) -> Result<()> {
    // SAFETY: the ioctl takes no argument.
    let r = unsafe { raw_drop_master(dev.as_raw_fd()) };
    r.map(drop).map_err(|e| Error::os("DRM_IOCTL_DROP_MASTER", Some(dev.as_raw_fd()), e))
}
