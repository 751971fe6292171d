//! `<drm/vgem_drm.h>`: vgem's test fences.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::drm::{DRM_COMMAND_BASE, DRM_IOCTL_BASE};
use super::ioctls;
use crate::error::{Error, Result};

/// `VGEM_FENCE_WRITE`: an exclusive (write) fence.
pub(crate) const VGEM_FENCE_WRITE: u32 = 0x1;

/// `struct drm_vgem_fence_attach`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmVgemFenceAttach {
    pub handle: u32,
    pub flags: u32,
    pub out_fence: u32,
    pub pad: u32,
}

/// `struct drm_vgem_fence_signal`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmVgemFenceSignal {
    pub fence: u32,
    pub flags: u32,
}

const _: () = assert!(size_of::<DrmVgemFenceAttach>() == 16);
const _: () = assert!(size_of::<DrmVgemFenceSignal>() == 8);

ioctls! {
    readwrite DRM_IOCTL_VGEM_FENCE_ATTACH = raw_fence_attach(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x01, DrmVgemFenceAttach);
    write DRM_IOCTL_VGEM_FENCE_SIGNAL = raw_fence_signal(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x02, DrmVgemFenceSignal);
}

/// `DRM_IOCTL_VGEM_FENCE_ATTACH` with `flags` (0 or `VGEM_FENCE_WRITE`): the fence id.
pub(crate) fn fence_attach(dev: BorrowedFd<'_>, handle: u32, flags: u32) -> Result<u32> {
    let mut arg = DrmVgemFenceAttach { handle, flags, ..Default::default() };
    // SAFETY: `arg` is a valid, writable drm_vgem_fence_attach.
    let r = unsafe { raw_fence_attach(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_VGEM_FENCE_ATTACH", Some(dev.as_raw_fd()), e))?;
    Ok(arg.out_fence)
}

/// `DRM_IOCTL_VGEM_FENCE_SIGNAL`.
pub(crate) fn fence_signal(dev: BorrowedFd<'_>, fence: u32) -> Result<()> {
    let arg = DrmVgemFenceSignal { fence, flags: 0 };
    // SAFETY: `arg` is a valid drm_vgem_fence_signal.
    let r = unsafe { raw_fence_signal(dev.as_raw_fd(), &raw const arg) };
    r.map(drop).map_err(|e| Error::os("DRM_IOCTL_VGEM_FENCE_SIGNAL", Some(dev.as_raw_fd()), e))
}
