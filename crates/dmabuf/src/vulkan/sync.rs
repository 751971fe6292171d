//! Synchronisation: binary semaphores and fences exported to and imported from
//! `sync_file`s (`VK_KHR_external_semaphore_fd`, `VK_KHR_external_fence_fd`, `SYNC_FD`).

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use ash::vk;
use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::sync_file::SyncFile;

use super::conv::{name_of, unsupported, vk_error};
use super::device::{Vulkan, FENCE_FD, SEMAPHORE_FD};

impl Vulkan {
    /// `vkCreateSemaphore` with `VkExportSemaphoreCreateInfo(SYNC_FD)`: a
    /// binary semaphore whose payload can be exported as a [`SyncFile`].
    ///
    /// # Errors
    /// `Unsupported` naming `VK_KHR_external_semaphore_fd` when the device lacks it.
    #[doc(alias = "vkCreateSemaphore")]
    pub fn create_semaphore(&self) -> Result<Semaphore> {
        const OP: &str = "vkCreateSemaphore";
        self.require(SEMAPHORE_FD, OP)?;
        self.require_sync_fd(OP, "semaphores", self.semaphore_support())?;
        let mut export =
            vk::ExportSemaphoreCreateInfo::default().handle_types(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
        let info = vk::SemaphoreCreateInfo::default().push_next(&mut export);
        // SAFETY: valid device and create info.
        let semaphore = unsafe { self.inner.device.create_semaphore(&info, None) }.map_err(|r| vk_error(OP, r))?;
        Ok(Semaphore { vk: self.clone(), semaphore })
    }

    /// `vkCreateFence` with `VkExportFenceCreateInfo(SYNC_FD)`, unsignalled.
    ///
    /// # Errors
    /// `Unsupported` naming `VK_KHR_external_fence_fd` when the device lacks it.
    #[doc(alias = "vkCreateFence")]
    pub fn create_fence(&self) -> Result<Fence> {
        const OP: &str = "vkCreateFence";
        self.require(FENCE_FD, OP)?;
        self.require_sync_fd(OP, "fences", self.fence_support())?;
        let mut export = vk::ExportFenceCreateInfo::default().handle_types(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
        let info = vk::FenceCreateInfo::default().push_next(&mut export);
        // SAFETY: valid device and create info.
        let fence = unsafe { self.inner.device.create_fence(&info, None) }.map_err(|r| vk_error(OP, r))?;
        Ok(Fence { vk: self.clone(), fence })
    }

    /// `vkQueueSubmit` of an empty batch that waits on `wait` (each
    /// semaphore's payload is consumed) and then signals `signal` and
    /// `fence`: the way to make Vulkan wait on an imported [`SyncFile`], or to
    /// give a semaphore or fence a payload to export.
    ///
    /// # Errors
    /// Vulkan's errors.
    #[doc(alias = "vkQueueSubmit")]
    pub fn submit_sync(&self, wait: &[&Semaphore], signal: &[&Semaphore], fence: Option<&Fence>) -> Result<()> {
        const OP: &str = "vkQueueSubmit";
        for s in wait.iter().chain(signal) {
            self.same_device(OP, &s.vk)?;
        }
        if let Some(f) = fence {
            self.same_device(OP, &f.vk)?;
        }
        let wait: Vec<vk::Semaphore> = wait.iter().map(|s| s.semaphore).collect();
        let signal: Vec<vk::Semaphore> = signal.iter().map(|s| s.semaphore).collect();
        let stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; wait.len()];
        let submit =
            vk::SubmitInfo::default().wait_semaphores(&wait).wait_dst_stage_mask(&stages).signal_semaphores(&signal);
        let _pool = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let f = fence.map_or(vk::Fence::null(), |f| f.fence);
        // SAFETY: the queue is used under the pool's lock; the arrays outlive the call.
        unsafe { self.inner.device.queue_submit(self.inner.queue, &[submit], f) }.map_err(|r| vk_error(OP, r))
    }

    /// `vkQueueWaitIdle`.
    ///
    /// # Errors
    /// Vulkan's errors (`VK_ERROR_DEVICE_LOST`).
    pub fn wait_idle(&self) -> Result<()> {
        let _pool = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: the queue is used under the pool's lock.
        unsafe { self.inner.device.queue_wait_idle(self.inner.queue) }.map_err(|r| vk_error("vkQueueWaitIdle", r))
    }
}

/// A binary semaphore created exportable as `SYNC_FD`.
pub struct Semaphore {
    pub(super) vk: Vulkan,
    pub(super) semaphore: vk::Semaphore,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("semaphore", &self.semaphore).finish_non_exhaustive()
    }
}

/// `dup` of a `sync_file` for a Vulkan import that takes ownership.
pub(super) fn dup_for_import(sync_file: Option<&SyncFile>, op: &'static str) -> Result<Option<OwnedFd>> {
    sync_file
        .map(|s| {
            crate::fd::dup_cloexec(s.as_fd()).map_err(|e| {
                let d = format!("{op}: {}", e.description());
                e.with_detail(d)
            })
        })
        .transpose()
}

impl Semaphore {
    /// The raw handle, for the caller's own submissions.
    pub fn raw(&self) -> vk::Semaphore {
        self.semaphore
    }

    /// `vkGetSemaphoreFdKHR(SYNC_FD)`: the semaphore's pending signal as a
    /// new [`SyncFile`] the caller owns. Exporting a `SYNC_FD` consumes the
    /// payload (the semaphore is unsignalled afterwards). `None` when the
    /// driver answers -1: the payload had already signalled.
    ///
    /// # Errors
    /// Vulkan's errors (a semaphore with no signal operation submitted is
    /// invalid to export).
    #[doc(alias = "vkGetSemaphoreFdKHR")]
    pub fn export_sync_file(&self) -> Result<Option<SyncFile>> {
        const OP: &str = "vkGetSemaphoreFdKHR";
        let dev = self.vk.inner.semaphore_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(SEMAPHORE_FD).into()))?;
        let info = vk::SemaphoreGetFdInfoKHR::default()
            .semaphore(self.semaphore)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
        // SAFETY: a live semaphore created exportable as SYNC_FD.
        let raw = unsafe { dev.get_semaphore_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        sync_file_from_raw(raw, OP)
    }

    /// `vkImportSemaphoreFdKHR(SYNC_FD, TEMPORARY)`: the next wait on this
    /// semaphore waits for `sync_file` (`None`: already signalled, passed to
    /// Vulkan as fd -1). Vulkan takes a duplicate; the [`SyncFile`] stays
    /// the caller's.
    ///
    /// # Errors
    /// `EMFILE`; Vulkan's errors (`VK_ERROR_INVALID_EXTERNAL_HANDLE`).
    #[doc(alias = "vkImportSemaphoreFdKHR")]
    pub fn import_sync_file(&self, sync_file: Option<&SyncFile>) -> Result<()> {
        const OP: &str = "vkImportSemaphoreFdKHR";
        let dev = self.vk.inner.semaphore_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(SEMAPHORE_FD).into()))?;
        let dup = dup_for_import(sync_file, OP)?;
        let raw = dup.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        let info = vk::ImportSemaphoreFdInfoKHR::default()
            .semaphore(self.semaphore)
            .flags(vk::SemaphoreImportFlags::TEMPORARY)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)
            .fd(raw);
        // SAFETY: a live semaphore; `raw` is an fd we own (or -1).
        unsafe { dev.import_semaphore_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        // Vulkan owns the duplicate now.
        let _ = dup.map(IntoRawFd::into_raw_fd);
        Ok(())
    }
}

pub(super) fn sync_file_from_raw(raw: RawFd, op: &'static str) -> Result<Option<SyncFile>> {
    if raw == -1 {
        return Ok(None);
    }
    if raw < 0 {
        return Err(Error::new(ErrorKind::Os, Errno::EIO, op, None, format!("{op} returned fd {raw}")));
    }
    // SAFETY: vkGet*FdKHR returns a new fd that the caller owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
        .map_err(|e| Error::os("fcntl(F_SETFD)", Some(raw), e))?;
    SyncFile::from_owned(fd).map(Some).map_err(|e| e.error)
}

impl Drop for Semaphore {
    fn drop(&mut self) {
        // Pending waits and signals are not tracked: make the queue idle first.
        let _ = self.vk.wait_idle();
        // SAFETY: the queue is idle; the semaphore is ours.
        unsafe { self.vk.inner.device.destroy_semaphore(self.semaphore, None) };
    }
}

/// A fence created exportable as `SYNC_FD`.
pub struct Fence {
    pub(super) vk: Vulkan,
    pub(super) fence: vk::Fence,
}

impl fmt::Debug for Fence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fence").field("fence", &self.fence).finish_non_exhaustive()
    }
}

impl Fence {
    /// The raw handle.
    pub fn raw(&self) -> vk::Fence {
        self.fence
    }

    /// `vkGetFenceFdKHR(SYNC_FD)`: the fence's signal as a new [`SyncFile`]
    /// the caller owns (the fence is reset by the export). `None` when the
    /// driver answers -1 (already signalled).
    ///
    /// # Errors
    /// Vulkan's errors.
    #[doc(alias = "vkGetFenceFdKHR")]
    pub fn export_sync_file(&self) -> Result<Option<SyncFile>> {
        const OP: &str = "vkGetFenceFdKHR";
        let dev = self.vk.inner.fence_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(FENCE_FD).into()))?;
        let info =
            vk::FenceGetFdInfoKHR::default().fence(self.fence).handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
        // SAFETY: a live fence created exportable as SYNC_FD.
        let raw = unsafe { dev.get_fence_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        sync_file_from_raw(raw, OP)
    }

    /// `vkImportFenceFdKHR(SYNC_FD, TEMPORARY)`: the fence signals when
    /// `sync_file` does (`None`: at once). Vulkan takes a duplicate.
    ///
    /// # Errors
    /// `EMFILE`; Vulkan's errors.
    #[doc(alias = "vkImportFenceFdKHR")]
    pub fn import_sync_file(&self, sync_file: Option<&SyncFile>) -> Result<()> {
        const OP: &str = "vkImportFenceFdKHR";
        let dev = self.vk.inner.fence_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(FENCE_FD).into()))?;
        let dup = dup_for_import(sync_file, OP)?;
        let raw = dup.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        let info = vk::ImportFenceFdInfoKHR::default()
            .fence(self.fence)
            .flags(vk::FenceImportFlags::TEMPORARY)
            .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD)
            .fd(raw);
        // SAFETY: a live fence; `raw` is an fd we own (or -1).
        unsafe { dev.import_fence_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        let _ = dup.map(IntoRawFd::into_raw_fd);
        Ok(())
    }

    /// `vkWaitForFences`: `Ok(true)` once signalled, `Ok(false)` on timeout.
    ///
    /// # Errors
    /// Vulkan's errors.
    #[doc(alias = "vkWaitForFences")]
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        let ns = timeout.map_or(u64::MAX, |t| u64::try_from(t.as_nanos()).unwrap_or(u64::MAX));
        // SAFETY: a live fence of this device.
        match unsafe { self.vk.inner.device.wait_for_fences(&[self.fence], true, ns) } {
            Ok(()) => Ok(true),
            Err(vk::Result::TIMEOUT) => Ok(false),
            Err(r) => Err(vk_error("vkWaitForFences", r)),
        }
    }

    /// `vkResetFences`.
    ///
    /// # Errors
    /// Vulkan's errors.
    pub fn reset(&self) -> Result<()> {
        // SAFETY: a live fence with no pending submission (the caller's promise).
        unsafe { self.vk.inner.device.reset_fences(&[self.fence]) }.map_err(|r| vk_error("vkResetFences", r))
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        // Wait for the queue (under its lock) so that the fence is not in use.
        let _ = self.vk.wait_idle();
        // SAFETY: the queue is idle; the fence is ours.
        unsafe { self.vk.inner.device.destroy_fence(self.fence, None) };
    }
}
