//! Commands: one-time command buffers on the transfer queue (fill, copy,
//! buffer to image) and their submission with semaphores and a fence.

use std::time::Duration;

use ash::vk;
use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};

use super::conv::{bytes_per_pixel, check_range, vk_error};
use super::device::{QueueState, Vulkan};
use super::image::Image;
use super::memory::Buffer;
use super::sync::Retired;

/// How long `fill`/`copy` give a batch that waited on a semaphore to run
/// before refusing with `EBUSY`: a batch whose semaphores have signalled
/// runs within it even on a loaded machine; one that waits on a peer's
/// `sync_file` costs the caller's thread no more.
const QUEUE_WAIT: Duration = Duration::from_millis(200);

impl Vulkan {
    /// Makes sure work submitted now will not queue behind a
    /// [`Vulkan::submit_sync`] batch that waits on a semaphore not yet
    /// signalled: lavapipe runs a queue's batches in order, so a command
    /// waited for there would wait on whoever signals it (the peer that sent
    /// the `sync_file`, say), possibly for ever. When such a batch went in,
    /// an empty submission's fence (the probe) is given [`QUEUE_WAIT`] to
    /// signal; until it has, `EBUSY` (`why` says what would have waited).
    pub(super) fn queue_clear(&self, queue: &mut QueueState, op: &'static str, why: &str) -> Result<()> {
        let d = &self.inner.device;
        if queue.waits {
            // A batch with waits went in after the current probe: it needs a new one.
            if let Some(old) = queue.probe.take() {
                let mut retired = self.inner.retired.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                retired.push(Retired::probe_only(old));
                super::sync::reap(d, &mut retired);
            }
            // SAFETY: valid device and create info.
            let probe = unsafe { d.create_fence(&vk::FenceCreateInfo::default(), None) }
                .map_err(|r| vk_error("vkCreateFence", r))?;
            // SAFETY: the queue is used under its lock; an empty submission with a fence.
            if let Err(r) = unsafe { d.queue_submit(self.inner.queue, &[], probe) } {
                // SAFETY: never submitted; ours.
                unsafe { d.destroy_fence(probe, None) };
                return Err(vk_error(op, r));
            }
            queue.probe = Some(probe);
            queue.waits = false;
        }
        let Some(probe) = queue.probe else { return Ok(()) };
        let ns = u64::try_from(QUEUE_WAIT.as_nanos()).unwrap_or(u64::MAX);
        // SAFETY: a submitted probe fence of this device.
        match unsafe { d.wait_for_fences(&[probe], true, ns) } {
            Err(vk::Result::TIMEOUT) => Err(Error::new(
                ErrorKind::Os,
                Errno::EBUSY,
                op,
                None,
                format!(
                    "the queue still holds a submit() that waits on a semaphore not signalled after {} ms (an imported sync_file, say); {why}, so wait for that submission's fence first",
                    QUEUE_WAIT.as_millis()
                ),
            )),
            r => {
                queue.probe = None;
                // SAFETY: signalled, or the device is lost (nothing runs any more); ours.
                unsafe { d.destroy_fence(probe, None) };
                r.map_err(|r| vk_error("vkWaitForFences", r))
            }
        }
    }

    /// Records commands into a one-time command buffer, submits them with
    /// `wait` semaphores and `signal` semaphores and fence, and (when
    /// `block`) waits for them.
    pub(super) fn submit(
        &self,
        op: &'static str,
        record: impl FnOnce(&ash::Device, vk::CommandBuffer),
        wait: &[vk::Semaphore],
        signal: &[vk::Semaphore],
        fence: Option<vk::Fence>,
    ) -> Result<()> {
        let d = &self.inner.device;
        let mut queue = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.queue_clear(&mut queue, op, "this command would run after it")?;
        let pool = queue.pool;
        let info = vk::CommandBufferAllocateInfo::default()
            .command_pool(pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(1);
        // SAFETY: the pool is this device's and locked.
        let cbs = unsafe { d.allocate_command_buffers(&info) }.map_err(|r| vk_error("vkAllocateCommandBuffers", r))?;
        let cb = cbs[0];
        let result = (|| {
            let begin = vk::CommandBufferBeginInfo::default().flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
            // SAFETY: a new command buffer of a locked pool.
            unsafe { d.begin_command_buffer(cb, &begin) }.map_err(|r| vk_error("vkBeginCommandBuffer", r))?;
            record(d, cb);
            // SAFETY: the command buffer is recording.
            unsafe { d.end_command_buffer(cb) }.map_err(|r| vk_error("vkEndCommandBuffer", r))?;
            // SAFETY: valid device and create info.
            let own_fence = unsafe { d.create_fence(&vk::FenceCreateInfo::default(), None) }
                .map_err(|r| vk_error("vkCreateFence", r))?;
            let stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; wait.len()];
            let cbs = [cb];
            let submit = vk::SubmitInfo::default()
                .command_buffers(&cbs)
                .wait_semaphores(wait)
                .wait_dst_stage_mask(&stages)
                .signal_semaphores(signal);
            // SAFETY: the queue is used only under the pool's lock by this
            // module; the arrays outlive the call.
            let r = unsafe { d.queue_submit(self.inner.queue, &[submit], own_fence) }.map_err(|r| vk_error(op, r));
            let r = r.and_then(|()| {
                // SAFETY: the fence was just submitted.
                unsafe { d.wait_for_fences(&[own_fence], true, u64::MAX) }.map_err(|r| vk_error("vkWaitForFences", r))
            });
            // An extra empty submission signals the caller's fence once ours has.
            let r = r.and_then(|()| match fence {
                // SAFETY: as above; an empty submission with a fence.
                Some(f) => unsafe { d.queue_submit(self.inner.queue, &[], f) }.map_err(|r| vk_error(op, r)),
                None => Ok(()),
            });
            // SAFETY: the fence has signalled (or was never submitted).
            unsafe { d.destroy_fence(own_fence, None) };
            r
        })();
        // SAFETY: the command buffer has completed (we waited) or never ran.
        unsafe { d.free_command_buffers(pool, &cbs) };
        result
    }

    /// `vkCmdFillBuffer`: writes `value` (little-endian) into every 4-byte
    /// word of `[offset, offset + size)` of `buffer` on the device and waits
    /// for it.
    ///
    /// # Errors
    /// `InvalidArgument` for an offset or size that is not a multiple of 4 or
    /// a range past the buffer's end; `EBUSY` behind a batch that still waits
    /// (see [`Vulkan::submit_sync`]); Vulkan's errors.
    #[doc(alias = "vkCmdFillBuffer")]
    pub fn fill(&self, buffer: &Buffer, offset: u64, size: u64, value: u32) -> Result<()> {
        const OP: &str = "vkCmdFillBuffer";
        self.same_device(OP, &buffer.vk)?;
        check_range(OP, buffer.size, offset, size)?;
        if offset % 4 != 0 || size % 4 != 0 {
            return Err(Error::invalid(OP, None, "offset and size must be multiples of 4"));
        }
        let b = buffer.buffer;
        // SAFETY (inside the closure): `b` is a live buffer of this device.
        self.submit(
            OP,
            |d, cb| {
                // SAFETY: `b` is a live buffer of this device; the range is inside it.
                unsafe { d.cmd_fill_buffer(cb, b, offset, size, value) };
            },
            &[],
            &[],
            None,
        )
    }

    /// `vkCmdCopyBuffer`: copies `size` bytes from `src` at `src_offset` to
    /// `dst` at `dst_offset` on the device and waits for it.
    ///
    /// # Errors
    /// `InvalidArgument` for a range past either buffer's end or overlapping
    /// ranges of one buffer; `EBUSY` behind a batch that still waits (see
    /// [`Vulkan::submit_sync`]); Vulkan's errors.
    #[doc(alias = "vkCmdCopyBuffer")]
    pub fn copy(&self, src: &Buffer, src_offset: u64, dst: &Buffer, dst_offset: u64, size: u64) -> Result<()> {
        const OP: &str = "vkCmdCopyBuffer";
        self.same_device(OP, &src.vk)?;
        self.same_device(OP, &dst.vk)?;
        check_range(OP, src.size, src_offset, size)?;
        check_range(OP, dst.size, dst_offset, size)?;
        // Vulkan forbids overlapping source and destination regions.
        if src.buffer == dst.buffer && src_offset < dst_offset + size && dst_offset < src_offset + size {
            return Err(Error::invalid(OP, None, "the source and destination ranges overlap in the same buffer"));
        }
        let region = [vk::BufferCopy { src_offset, dst_offset, size }];
        let (s, t) = (src.buffer, dst.buffer);
        // SAFETY (inside the closure): both buffers are live buffers of this device.
        self.submit(
            OP,
            |d, cb| {
                // SAFETY: both buffers are live buffers of this device; the ranges are inside them.
                unsafe { d.cmd_copy_buffer(cb, s, t, &region) };
            },
            &[],
            &[],
            None,
        )
    }

    /// `vkCmdCopyBufferToImage`: copies tightly packed rows from `src` into
    /// the whole of a single-plane `dst` (transitioned to `GENERAL`) and waits.
    ///
    /// # Errors
    /// `InvalidArgument` when `src` is smaller than the packed image or the
    /// image has several planes; `EBUSY` behind a batch that still waits (see
    /// [`Vulkan::submit_sync`]); Vulkan's errors.
    #[doc(alias = "vkCmdCopyBufferToImage")]
    pub fn copy_buffer_to_image(&self, src: &Buffer, dst: &Image) -> Result<()> {
        const OP: &str = "vkCmdCopyBufferToImage";
        self.same_device(OP, &src.vk)?;
        self.same_device(OP, &dst.vk)?;
        let bpp = bytes_per_pixel(dst.desc.format, 0)
            .filter(|_| dst.planes.len() <= 1)
            .ok_or_else(|| Error::invalid(OP, None, "only single-plane images of a known format can be copied to"))?;
        let need = u64::from(dst.desc.width) * u64::from(dst.desc.height) * u64::from(bpp);
        check_range(OP, src.size, 0, need)?;
        let (s, img) = (src.buffer, dst.image);
        let extent = vk::Extent3D { width: dst.desc.width, height: dst.desc.height, depth: 1 };
        let range =
            vk::ImageSubresourceRange::default().aspect_mask(vk::ImageAspectFlags::COLOR).level_count(1).layer_count(1);
        let barrier = [vk::ImageMemoryBarrier::default()
            .old_layout(vk::ImageLayout::UNDEFINED)
            .new_layout(vk::ImageLayout::GENERAL)
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(img)
            .subresource_range(range)];
        let region = [vk::BufferImageCopy::default()
            .image_subresource(
                vk::ImageSubresourceLayers::default().aspect_mask(vk::ImageAspectFlags::COLOR).layer_count(1),
            )
            .image_extent(extent)];
        self.submit(
            OP,
            |d, cb| {
                // SAFETY: `img` is a live image of this device.
                unsafe {
                    d.cmd_pipeline_barrier(
                        cb,
                        vk::PipelineStageFlags::TOP_OF_PIPE,
                        vk::PipelineStageFlags::TRANSFER,
                        vk::DependencyFlags::empty(),
                        &[],
                        &[],
                        &barrier,
                    );
                };
                // SAFETY: `s` and `img` are live; the region is inside both.
                unsafe { d.cmd_copy_buffer_to_image(cb, s, img, vk::ImageLayout::GENERAL, &region) };
            },
            &[],
            &[],
            None,
        )
    }
}
