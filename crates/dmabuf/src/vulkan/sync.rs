//! Synchronisation: binary semaphores and fences exported to and imported from
//! `sync_file`s (`VK_KHR_external_semaphore_fd`, `VK_KHR_external_fence_fd`, `SYNC_FD`).

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ash::vk;
use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::sync_file::SyncFile;

use super::conv::{fd_error_or, name_of, unsupported, vk_error};
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
        Ok(Semaphore { vk: self.clone(), handle: semaphore, pending: AtomicBool::new(false) })
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
        Ok(Fence { vk: self.clone(), handle: fence, pending: AtomicBool::new(false) })
    }

    /// `vkQueueSubmit` of an empty batch that waits on `wait` (each
    /// semaphore's payload is consumed) and then signals `signal` and
    /// `fence`: the way to make Vulkan wait on an imported [`SyncFile`], or to
    /// give a semaphore or fence a payload to export.
    ///
    /// What would never complete, or is invalid in Vulkan, is refused
    /// (`EINVAL`) before the submission, from what this library's own calls
    /// did to each object (see [`Semaphore::assume_pending`] for
    /// submissions made with the raw handles): waiting on a semaphore that
    /// nothing will signal (never signalled, or its payload already waited
    /// on or exported), signalling one whose signal is still pending, and a
    /// fence still holding an earlier submission's signal (reset it first).
    ///
    /// A batch with `wait`s may stay queued until others signal. Meanwhile
    /// [`Vulkan::fill`], [`Vulkan::copy`] and [`Vulkan::copy_buffer_to_image`],
    /// which wait for their own work and would run after it, give the queue
    /// 200 ms and then fail with `EBUSY` instead of blocking: wait for the
    /// batch's fence (or the `sync_file`s it waits on) first. On lavapipe
    /// the `SYNC_FD` exports of semaphores and fences do the same (they
    /// flush the queue).
    ///
    /// # Errors
    /// `EINVAL` as above; Vulkan's errors.
    #[doc(alias = "vkQueueSubmit")]
    pub fn submit_sync(&self, wait: &[&Semaphore], signal: &[&Semaphore], fence: Option<&Fence>) -> Result<()> {
        const OP: &str = "vkQueueSubmit";
        for s in wait.iter().chain(signal) {
            self.same_device(OP, &s.vk)?;
        }
        if let Some(f) = fence {
            self.same_device(OP, &f.vk)?;
        }
        let refuse = |detail: String| Err(Error::new(ErrorKind::InvalidArgument, Errno::EINVAL, OP, None, detail));
        // What each semaphore holds after the batch's waits and then its signals, in order.
        let mut after: Vec<(vk::Semaphore, bool)> = Vec::new();
        let holds = |after: &[(vk::Semaphore, bool)], s: &Semaphore| {
            after.iter().rev().find(|(h, _)| *h == s.handle).map_or_else(|| s.pending.load(Ordering::Acquire), |x| x.1)
        };
        for (i, s) in wait.iter().enumerate() {
            if !holds(&after, s) {
                return refuse(format!(
                    "wait[{i}]: nothing will signal this semaphore (no signal submitted or sync_file imported since it was created, waited on or exported), so the batch would never run"
                ));
            }
            after.push((s.handle, false));
        }
        for (i, s) in signal.iter().enumerate() {
            if holds(&after, s) {
                return refuse(format!(
                    "signal[{i}]: this semaphore already has a signal pending; wait on it or export it before signalling it again"
                ));
            }
            after.push((s.handle, true));
        }
        if let Some(f) = fence {
            if f.pending.load(Ordering::Acquire) {
                return refuse(
                    "the fence still holds an earlier submission's signal: reset() it (or export it) before submitting it again".into(),
                );
            }
        }
        let wait_raw: Vec<vk::Semaphore> = wait.iter().map(|s| s.handle).collect();
        let signal_raw: Vec<vk::Semaphore> = signal.iter().map(|s| s.handle).collect();
        let stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; wait_raw.len()];
        let submit = vk::SubmitInfo::default()
            .wait_semaphores(&wait_raw)
            .wait_dst_stage_mask(&stages)
            .signal_semaphores(&signal_raw);
        let mut queue = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let f = fence.map_or(vk::Fence::null(), |f| f.handle);
        // SAFETY: the queue is used under the pool's lock; the arrays outlive the call.
        unsafe { self.inner.device.queue_submit(self.inner.queue, &[submit], f) }.map_err(|r| vk_error(OP, r))?;
        queue.waits |= !wait.is_empty();
        for s in wait.iter().chain(signal) {
            s.pending.store(holds(&after, s), Ordering::Release);
        }
        if let Some(f) = fence {
            f.pending.store(true, Ordering::Release);
        }
        Ok(())
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
    pub(super) handle: vk::Semaphore,
    /// Whether it holds a payload something can wait on: a signal submitted
    /// through [`Vulkan::submit_sync`] or a `sync_file` imported, not yet
    /// waited on or exported.
    pub(super) pending: AtomicBool,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("handle", &self.handle).finish_non_exhaustive()
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
    /// The raw handle, for the caller's own submissions. This library does
    /// not see those: after submitting a signal of it, call
    /// [`assume_pending`](Self::assume_pending), or its checks will refuse
    /// to wait on it or export it.
    pub fn raw(&self) -> vk::Semaphore {
        self.handle
    }

    /// Records that a signal of this semaphore was submitted outside this
    /// library (with [`raw`](Self::raw)), so that waiting on it and
    /// exporting it are allowed.
    pub fn assume_pending(&self) {
        self.pending.store(true, Ordering::Release);
    }

    /// `vkGetSemaphoreFdKHR(SYNC_FD)`: the semaphore's pending signal as a
    /// new [`SyncFile`] the caller owns. Exporting a `SYNC_FD` consumes the
    /// payload (the semaphore is unsignalled afterwards). `None` when the
    /// driver answers -1: the payload had already signalled.
    ///
    /// # Errors
    /// `EINVAL` when it holds no payload (no signal submitted or
    /// `sync_file` imported since it was created, waited on or exported:
    /// invalid in Vulkan, and drivers block for ever); on lavapipe, `EBUSY`
    /// after 200 ms while the queue holds a batch that still waits (its
    /// exports flush the queue first, so they would wait for that batch);
    /// `EMFILE` when this process has no fd left; Vulkan's errors.
    #[doc(alias = "vkGetSemaphoreFdKHR")]
    pub fn export_sync_file(&self) -> Result<Option<SyncFile>> {
        const OP: &str = "vkGetSemaphoreFdKHR";
        let dev = self.vk.inner.semaphore_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(SEMAPHORE_FD).into()))?;
        let nothing = || {
            Error::new(
                ErrorKind::InvalidArgument,
                Errno::EINVAL,
                OP,
                None,
                "the semaphore holds no payload to export: submit a signal of it (Vulkan.submit) or import a sync_file first",
            )
        };
        if !self.pending.load(Ordering::Acquire) {
            return Err(nothing());
        }
        self.vk.before_export(OP)?;
        if self.pending.compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return Err(nothing());
        }
        let info = vk::SemaphoreGetFdInfoKHR::default()
            .semaphore(self.handle)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
        // SAFETY: a live semaphore created exportable as SYNC_FD, with a payload.
        let raw = unsafe { dev.get_semaphore_fd(&info) }.map_err(|r| {
            // Not exported: the payload is still there.
            self.pending.store(true, Ordering::Release);
            fd_error_or(vk_error(OP, r))
        })?;
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
            .semaphore(self.handle)
            .flags(vk::SemaphoreImportFlags::TEMPORARY)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)
            .fd(raw);
        // SAFETY: a live semaphore; `raw` is an fd we own (or -1).
        unsafe { dev.import_semaphore_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        // Vulkan owns the duplicate now.
        let _ = dup.map(IntoRawFd::into_raw_fd);
        self.pending.store(true, Ordering::Release);
        Ok(())
    }
}

pub(super) fn sync_file_from_raw(raw: RawFd, op: &'static str) -> Result<Option<SyncFile>> {
    if raw == -1 {
        return Ok(None);
    }
    if raw < 0 {
        return Err(fd_error_or(Error::new(ErrorKind::Os, Errno::EIO, op, None, format!("{op} returned fd {raw}"))));
    }
    // SAFETY: vkGet*FdKHR returns a new fd that the caller owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
        .map_err(|e| Error::os("fcntl(F_SETFD)", Some(raw), e))?;
    SyncFile::from_owned(fd).map(Some).map_err(|e| e.error)
}

impl Drop for Semaphore {
    fn drop(&mut self) {
        self.vk.retire(Object::Semaphore(self.handle));
    }
}

/// A semaphore or fence to destroy once the queue is done with it.
#[derive(Clone, Copy)]
pub(super) enum Object {
    Semaphore(vk::Semaphore),
    Fence(vk::Fence),
}

/// An [`Object`] closed while the queue was busy, and the probe fence of an
/// empty submission made at that moment: once the probe has signalled,
/// everything submitted before it (whatever used the object) is done.
pub(super) struct Retired {
    /// None for a probe kept for itself (one `fill`/`copy` made).
    object: Option<Object>,
    probe: vk::Fence,
}

impl Retired {
    /// A probe fence to destroy once it has signalled.
    pub(super) fn probe_only(probe: vk::Fence) -> Retired {
        Retired { object: None, probe }
    }
}

/// How long closing a semaphore or fence waits for the queue before
/// leaving the object for later: long enough for work that is merely
/// running to finish, short enough not to stall the caller's thread.
const RETIRE_WAIT: Duration = Duration::from_millis(50);

fn destroy(device: &ash::Device, object: Object) {
    match object {
        // SAFETY: the queue is done with it (idle or past its probe); it is ours.
        Object::Semaphore(h) => unsafe { device.destroy_semaphore(h, None) },
        // SAFETY: as above.
        Object::Fence(h) => unsafe { device.destroy_fence(h, None) },
    }
}

/// Destroys each retired object whose probe has signalled (or whose device
/// is lost: nothing will run any more), with its probe; keeps the others in
/// `list`. Needs the queue's lock or exclusive access to the device.
pub(super) fn reap(device: &ash::Device, list: &mut Vec<Retired>) {
    list.retain(|r| {
        // SAFETY: a live probe fence of this device.
        if let Ok(false) = unsafe { device.get_fence_status(r.probe) } {
            return true;
        }
        if let Some(object) = r.object {
            destroy(device, object);
        }
        // SAFETY: signalled (or the device is lost); ours.
        unsafe { device.destroy_fence(r.probe, None) };
        false
    });
}

/// At the device's end: destroys every retired object whose work is done;
/// false (and nothing destroyed) when some submission still waits.
pub(super) fn destroy_retired(device: &ash::Device, mut list: Vec<Retired>) -> bool {
    reap(device, &mut list);
    list.is_empty()
}

impl Vulkan {
    /// On a driver whose `SYNC_FD` exports wait for the queue
    /// ([`Inner::exports_wait_for_queue`](super::device::Inner)), makes
    /// sure the queue holds no batch still waiting on a semaphore (see
    /// [`Vulkan::queue_clear`]): `EBUSY` rather than a blocked thread.
    fn before_export(&self, op: &'static str) -> Result<()> {
        if !self.inner.exports_wait_for_queue() {
            return Ok(());
        }
        let mut queue = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.queue_clear(&mut queue, op, "on lavapipe the export waits for it")
    }

    /// Destroys a closed semaphore or fence, at once when the queue is done
    /// with everything submitted so far (an empty submission's fence says
    /// so within [`RETIRE_WAIT`]), and otherwise later: a submission that
    /// waits on an imported `sync_file` which never signals (a hostile
    /// peer's) must not hold the closing thread for ever. Later is the next
    /// close on this device, or its end (see `Inner`'s `Drop`).
    pub(super) fn retire(&self, object: Object) {
        let d = &self.inner.device;
        let _queue = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut retired = self.inner.retired.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        reap(d, &mut retired);
        // SAFETY: valid device and create info.
        let Ok(probe) = (unsafe { d.create_fence(&vk::FenceCreateInfo::default(), None) }) else {
            // Out of memory for a fence: the old way, blocking.
            // SAFETY: the queue is used under the pool's lock.
            let _ = unsafe { d.queue_wait_idle(self.inner.queue) };
            return destroy(d, object);
        };
        let ns = u64::try_from(RETIRE_WAIT.as_nanos()).unwrap_or(u64::MAX);
        // SAFETY: the queue is used under the pool's lock; an empty submission with a fence.
        let done = unsafe { d.queue_submit(self.inner.queue, &[], probe) }
            // SAFETY: the probe was just submitted.
            .and_then(|()| unsafe { d.wait_for_fences(&[probe], true, ns) });
        if done == Err(vk::Result::TIMEOUT) {
            retired.push(Retired { object: Some(object), probe });
        } else {
            // Done, or the device is lost (nothing will run any more).
            destroy(d, object);
            // SAFETY: signalled, never submitted, or the device is lost; ours.
            unsafe { d.destroy_fence(probe, None) };
        }
    }
}

/// A fence created exportable as `SYNC_FD`.
pub struct Fence {
    pub(super) vk: Vulkan,
    pub(super) handle: vk::Fence,
    /// Whether a signal will come or has come: submitted through
    /// [`Vulkan::submit_sync`] or a `sync_file` imported, and not reset or
    /// exported since.
    pub(super) pending: AtomicBool,
}

impl fmt::Debug for Fence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fence").field("handle", &self.handle).finish_non_exhaustive()
    }
}

impl Fence {
    /// The raw handle.
    pub fn raw(&self) -> vk::Fence {
        self.handle
    }

    /// `vkGetFenceFdKHR(SYNC_FD)`: the fence's signal as a new [`SyncFile`]
    /// the caller owns (the fence is reset by the export). `None` when the
    /// driver answers -1 (already signalled).
    ///
    /// # Errors
    /// `EINVAL` for a fence nothing will signal (never submitted, or reset
    /// or exported since: drivers block for ever); on lavapipe, `EBUSY` as
    /// for [`Semaphore::export_sync_file`]; `EMFILE` when this process has
    /// no fd left; Vulkan's errors.
    #[doc(alias = "vkGetFenceFdKHR")]
    pub fn export_sync_file(&self) -> Result<Option<SyncFile>> {
        const OP: &str = "vkGetFenceFdKHR";
        let dev = self.vk.inner.fence_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(FENCE_FD).into()))?;
        if !self.pending.load(Ordering::Acquire) {
            return Err(Self::nothing_pending(OP));
        }
        self.vk.before_export(OP)?;
        if self.pending.compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return Err(Self::nothing_pending(OP));
        }
        let info =
            vk::FenceGetFdInfoKHR::default().fence(self.handle).handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
        // SAFETY: a live fence created exportable as SYNC_FD, with a signal pending.
        let raw = unsafe { dev.get_fence_fd(&info) }.map_err(|r| {
            self.pending.store(true, Ordering::Release);
            fd_error_or(vk_error(OP, r))
        })?;
        sync_file_from_raw(raw, OP)
    }

    fn nothing_pending(op: &'static str) -> Error {
        Error::new(
            ErrorKind::InvalidArgument,
            Errno::EINVAL,
            op,
            None,
            "nothing will signal this fence: it was never submitted (Vulkan.submit with it), or was reset or exported since",
        )
    }

    /// Records that this fence was submitted outside this library (with
    /// [`raw`](Self::raw)), so that waiting on it and exporting it are
    /// allowed.
    pub fn assume_pending(&self) {
        self.pending.store(true, Ordering::Release);
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
            .fence(self.handle)
            .flags(vk::FenceImportFlags::TEMPORARY)
            .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD)
            .fd(raw);
        // SAFETY: a live fence; `raw` is an fd we own (or -1).
        unsafe { dev.import_fence_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        let _ = dup.map(IntoRawFd::into_raw_fd);
        self.pending.store(true, Ordering::Release);
        Ok(())
    }

    /// `vkWaitForFences`: `Ok(true)` once signalled, `Ok(false)` on timeout.
    ///
    /// # Errors
    /// `EINVAL` for a fence nothing will signal (never submitted, or reset
    /// or exported since), which would wait for ever; Vulkan's errors.
    #[doc(alias = "vkWaitForFences")]
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        if !self.pending.load(Ordering::Acquire) {
            return Err(Self::nothing_pending("vkWaitForFences"));
        }
        let ns = timeout.map_or(u64::MAX, |t| u64::try_from(t.as_nanos()).unwrap_or(u64::MAX));
        // SAFETY: a live fence of this device.
        match unsafe { self.vk.inner.device.wait_for_fences(&[self.handle], true, ns) } {
            Ok(()) => Ok(true),
            Err(vk::Result::TIMEOUT) => Ok(false),
            Err(r) => Err(vk_error("vkWaitForFences", r)),
        }
    }

    /// `vkResetFences`.
    ///
    /// # Errors
    /// `EBUSY` while the submission it belongs to has not completed
    /// (`vkGetFenceStatus`: resetting it then is invalid in Vulkan); Vulkan's
    /// errors.
    pub fn reset(&self) -> Result<()> {
        // SAFETY: a live fence of this device.
        if let Ok(false) = unsafe { self.vk.inner.device.get_fence_status(self.handle) } {
            if self.pending.load(Ordering::Acquire) {
                return Err(Error::new(
                    ErrorKind::Os,
                    Errno::EBUSY,
                    "vkResetFences",
                    None,
                    "its submission has not completed: wait() for it first",
                ));
            }
        }
        // SAFETY: a live fence with no pending submission (checked above).
        unsafe { self.vk.inner.device.reset_fences(&[self.handle]) }.map_err(|r| vk_error("vkResetFences", r))?;
        self.pending.store(false, Ordering::Release);
        Ok(())
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        self.vk.retire(Object::Fence(self.handle));
    }
}
