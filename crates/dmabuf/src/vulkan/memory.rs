//! Device memory exported and imported: buffers allocated for export as a dma-buf
//! or an opaque fd, and dma-bufs imported into buffers (`vkGetMemoryFdKHR`,
//! `VkImportMemoryFdInfoKHR`).

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

use ash::vk;
use nix::errno::Errno;

use crate::dma_buf::DmaBuf;
use crate::error::{Error, ErrorKind, Result};

use super::conv::{check_range, fd_error_or, transfer_usage, unsupported, vk_error, HandleType, ImportError};
use super::device::Vulkan;

/// An `OPAQUE_FD` memory handle: only a Vulkan device of the same driver
/// can import it, and nothing else may read it. A distinct type so that it
/// cannot be passed where a [`DmaBuf`] is expected.
#[derive(Debug)]
pub struct OpaqueFd {
    pub(super) fd: OwnedFd,
    pub(super) size: u64,
}

impl OpaqueFd {
    /// Adopts an fd the caller owns as an opaque memory handle of `size`
    /// bytes (the allocation size the exporter used).
    pub fn from_owned(fd: OwnedFd, size: u64) -> OpaqueFd {
        OpaqueFd { fd, size }
    }

    /// The exporter's allocation size, which an import must repeat.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl AsFd for OpaqueFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for OpaqueFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<OpaqueFd> for OwnedFd {
    fn from(o: OpaqueFd) -> OwnedFd {
        o.fd
    }
}
impl Vulkan {
    pub(super) fn memory_type_names(&self, bits: u32) -> String {
        let m = &self.inner.memory;
        let n = usize::try_from(m.memory_type_count).unwrap_or(0).min(m.memory_types.len());
        let list: Vec<String> = m.memory_types[..n]
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(i, t)| format!("{i}: {:?}", t.property_flags))
            .collect();
        if list.is_empty() {
            "none".into()
        } else {
            list.join("; ")
        }
    }

    /// The first memory type in `bits` with the wanted host visibility.
    pub(super) fn pick_memory_type(&self, op: &'static str, bits: u32, host_visible: Option<bool>) -> Result<u32> {
        let m = &self.inner.memory;
        let n = m.memory_type_count.min(32);
        (0..n)
            .find(|&i| {
                let flags = m.memory_types[i as usize].property_flags;
                let hv = flags.contains(vk::MemoryPropertyFlags::HOST_VISIBLE);
                bits & (1 << i) != 0 && host_visible.is_none_or(|want| want == hv)
            })
            .ok_or_else(|| {
                let wish = match host_visible {
                    Some(true) => "host-visible ",
                    Some(false) => "non-host-visible ",
                    None => "",
                };
                Error::new(
                    ErrorKind::Unsupported,
                    Errno::EOPNOTSUPP,
                    op,
                    None,
                    format!(
                        "no {wish}memory type fits (allowed: {}; all: {})",
                        self.memory_type_names(bits),
                        self.memory_type_names(u32::MAX)
                    ),
                )
            })
    }

    pub(super) fn check_handle(&self, op: &'static str, handle: HandleType, image: bool, import: bool) -> Result<()> {
        self.require(handle.extension(), op)?;
        let (e, i) = if image { self.image_support(handle) } else { self.buffer_support(handle) };
        let ok = if import { i } else { e };
        if ok {
            Ok(())
        } else {
            let what = if image { "images" } else { "buffers" };
            let dir = if import { "import" } else { "export" };
            // lavapipe exports dma-bufs through udmabuf: say so where it is missing.
            let hint = if self.inner.name.contains("llvmpipe")
                && handle == HandleType::DmaBuf
                && !std::path::Path::new("/dev/udmabuf").exists()
            {
                " (lavapipe exports dma-bufs through /dev/udmabuf, which this system lacks)"
            } else {
                ""
            };
            Err(unsupported(op, format!("{} cannot {dir} {what} as handle type {handle}{hint}", self.inner.name)))
        }
    }

    pub(super) fn dedicated(req2: &vk::MemoryDedicatedRequirements<'_>) -> bool {
        req2.requires_dedicated_allocation == vk::TRUE || req2.prefers_dedicated_allocation == vk::TRUE
    }

    pub(super) fn new_buffer(&self, size: u64, handle: HandleType, usage: vk::BufferUsageFlags) -> Result<vk::Buffer> {
        let mut ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(handle.flag());
        let info = vk::BufferCreateInfo::default()
            .size(size)
            .usage(usage)
            .sharing_mode(vk::SharingMode::EXCLUSIVE)
            .push_next(&mut ext);
        // SAFETY: valid device and create info.
        unsafe { self.inner.device.create_buffer(&info, None) }.map_err(|r| vk_error("vkCreateBuffer", r))
    }

    pub(super) fn buffer_requirements(&self, buffer: vk::Buffer) -> (vk::MemoryRequirements, bool) {
        let mut ded = vk::MemoryDedicatedRequirements::default();
        let info = vk::BufferMemoryRequirementsInfo2::default().buffer(buffer);
        let mut req = vk::MemoryRequirements2::default().push_next(&mut ded);
        // SAFETY: `buffer` is this device's.
        unsafe { self.inner.device.get_buffer_memory_requirements2(&info, &mut req) };
        let r = req.memory_requirements;
        (r, Self::dedicated(&ded))
    }

    /// `vkCreateBuffer`, `vkAllocateMemory` (with `VkExportMemoryAllocateInfo`)
    /// and `vkBindBufferMemory`: a buffer of `size` bytes whose memory can be
    /// exported as `handle` ([`Buffer::export_dma_buf`],
    /// [`Buffer::export_opaque_fd`]). Usable as a transfer source and
    /// destination.
    ///
    /// # Errors
    /// `InvalidArgument` for zero bytes; `Unsupported` naming the missing
    /// extension, the handle type the device cannot export buffers as, or
    /// the memory type that does not exist; Vulkan's errors (`ENOMEM`).
    #[doc(alias = "vkAllocateMemory")]
    pub fn create_buffer(&self, size: u64, handle: HandleType, host_visible: Option<bool>) -> Result<Buffer> {
        const OP: &str = "vkAllocateMemory";
        if size == 0 {
            return Err(Error::invalid(OP, None, "cannot allocate zero bytes"));
        }
        // Like the other sources: a size past this machine's memory is
        // ENOMEM before the driver sees it (lavapipe backs memory with a memfd).
        crate::guard::check_alloc_size(OP, size)?;
        self.check_handle(OP, handle, false, false)?;
        let buffer = self.new_buffer(size, handle, transfer_usage())?;
        let guard = BufferGuard { vk: self, buffer };
        let (req, dedicated) = self.buffer_requirements(buffer);
        let type_index = self.pick_memory_type(OP, req.memory_type_bits, host_visible)?;
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(handle.flag());
        let mut ded = vk::MemoryDedicatedAllocateInfo::default().buffer(buffer);
        let mut info = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(type_index)
            .push_next(&mut export);
        if dedicated {
            info = info.push_next(&mut ded);
        }
        // SAFETY: valid device and allocate info.
        let memory = unsafe { self.inner.device.allocate_memory(&info, None) }.map_err(|r| vk_error(OP, r))?;
        let buffer = guard.bind(memory)?;
        Ok(self.wrap_buffer(buffer, memory, size, req.size, type_index, Some(handle)))
    }

    pub(super) fn wrap_buffer(
        &self,
        buffer: vk::Buffer,
        memory: vk::DeviceMemory,
        size: u64,
        allocation: u64,
        type_index: u32,
        exportable: Option<HandleType>,
    ) -> Buffer {
        let flags = self.inner.memory.memory_types[type_index as usize].property_flags;
        Buffer {
            vk: self.clone(),
            buffer,
            memory,
            size,
            allocation,
            host_visible: flags.contains(vk::MemoryPropertyFlags::HOST_VISIBLE),
            exportable,
        }
    }

    /// `vkGetMemoryFdPropertiesKHR` of a dma-buf: the memory types it can be
    /// imported as (a bit mask).
    pub(super) fn fd_memory_bits(&self, op: &'static str, fd: BorrowedFd<'_>) -> Result<u32> {
        let mut props = vk::MemoryFdPropertiesKHR::default();
        // SAFETY: the fd is open for the duration of the call; Vulkan does not keep it.
        unsafe {
            self.inner.memory_fd.get_memory_fd_properties(
                vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
                fd.as_raw_fd(),
                &mut props,
            )
        }
        .map_err(|r| vk_error("vkGetMemoryFdPropertiesKHR", r).with_fd(fd.as_raw_fd()))
        .map_err(|e| {
            let d = format!("{op}: {}", e.description());
            e.with_detail(d)
        })?;
        Ok(props.memory_type_bits)
    }

    /// `vkAllocateMemory` with `VkImportMemoryFdInfoKHR` of a duplicate of
    /// `fd`: on success Vulkan owns the duplicate; on failure it is closed
    /// here. The caller's fd is untouched either way, so that a failure at
    /// any later step can still hand it back.
    pub(super) fn import_memory(
        &self,
        fd: BorrowedFd<'_>,
        handle: HandleType,
        size: u64,
        type_index: u32,
        dedicated: Option<(vk::Buffer, vk::Image)>,
    ) -> Result<vk::DeviceMemory> {
        let dup = crate::fd::dup_cloexec(fd)?;
        let mut import = vk::ImportMemoryFdInfoKHR::default().handle_type(handle.flag()).fd(dup.as_raw_fd());
        let mut ded = vk::MemoryDedicatedAllocateInfo::default();
        let mut info = vk::MemoryAllocateInfo::default()
            .allocation_size(size)
            .memory_type_index(type_index)
            .push_next(&mut import);
        if let Some((b, i)) = dedicated {
            ded = ded.buffer(b).image(i);
            info = info.push_next(&mut ded);
        }
        // SAFETY: valid device and allocate info; the duplicate is open; on
        // success Vulkan owns it, which the next lines account for.
        let memory = unsafe { self.inner.device.allocate_memory(&info, None) }
            .map_err(|r| vk_error("vkAllocateMemory", r).with_fd(fd.as_raw_fd()))?;
        // Ownership of the duplicate moved to Vulkan on the line above.
        let _ = dup.into_raw_fd();
        Ok(memory)
    }

    /// Imports a dma-buf as the memory of a new buffer of `size` bytes (the
    /// dma-buf's size when `None`), usable as a transfer source and
    /// destination. The memory type is the first in
    /// `vkGetMemoryFdPropertiesKHR` ∩ the buffer's requirements ∩ the
    /// caller's wish (`host_visible`: `Some(true)` host-visible only,
    /// `Some(false)` device-only, `None` either); a dedicated allocation is
    /// used where the driver requires or prefers one.
    ///
    /// Ownership: on success the fd is Vulkan's (the [`DmaBuf`] is consumed);
    /// on failure it comes back, still open, inside [`ImportError`].
    ///
    /// # Errors
    /// `InvalidArgument` for a size of zero or past the dma-buf's end;
    /// `Unsupported` naming the missing extension, the handle type the device
    /// does not import, or the memory types that do not fit.
    #[doc(alias = "vkGetMemoryFdPropertiesKHR")]
    #[doc(alias = "VkImportMemoryFdInfoKHR")]
    pub fn import_buffer(
        &self,
        dmabuf: DmaBuf,
        size: Option<u64>,
        host_visible: Option<bool>,
    ) -> std::result::Result<Buffer, ImportError<DmaBuf>> {
        let fd_size = dmabuf.size();
        match self.import_buffer_checked(&dmabuf, size.unwrap_or(fd_size), fd_size, host_visible) {
            Err(error) => Err(ImportError { error, handle: dmabuf }),
            Ok((buffer, req, type_index, dedicated)) => {
                let guard = BufferGuard { vk: self, buffer };
                let alloc = req.size.max(fd_size);
                let ded = dedicated.then_some((buffer, vk::Image::null()));
                let bound = self
                    .import_memory(dmabuf.as_fd(), HandleType::DmaBuf, alloc, type_index, ded)
                    .and_then(|memory| Ok((guard.bind(memory)?, memory)));
                match bound {
                    // Vulkan holds its own reference now: the caller's fd is closed.
                    Ok((buffer, memory)) => {
                        drop(dmabuf);
                        Ok(self.wrap_buffer(buffer, memory, size.unwrap_or(fd_size), alloc, type_index, None))
                    }
                    Err(error) => Err(ImportError { error, handle: dmabuf }),
                }
            }
        }
    }

    pub(super) fn import_buffer_checked(
        &self,
        dmabuf: &DmaBuf,
        size: u64,
        fd_size: u64,
        host_visible: Option<bool>,
    ) -> Result<(vk::Buffer, vk::MemoryRequirements, u32, bool)> {
        const OP: &str = "vkAllocateMemory";
        let raw = Some(dmabuf.as_raw_fd());
        if size == 0 {
            return Err(Error::invalid(OP, raw, "cannot import a buffer of zero bytes"));
        }
        if size > fd_size {
            return Err(Error::invalid(
                OP,
                raw,
                format!("a buffer of {size} bytes does not fit in this {fd_size}-byte dma-buf"),
            ));
        }
        self.check_handle(OP, HandleType::DmaBuf, false, true)?;
        let fd_bits = self.fd_memory_bits(OP, dmabuf.as_fd())?;
        let buffer = self.new_buffer(size, HandleType::DmaBuf, transfer_usage())?;
        let guard = BufferGuard { vk: self, buffer };
        let (req, dedicated) = self.buffer_requirements(buffer);
        if req.size > fd_size {
            return Err(Error::invalid(
                OP,
                raw,
                format!("the buffer needs {} bytes of memory; the dma-buf has {fd_size}", req.size),
            ));
        }
        let type_index = self
            .pick_memory_type(OP, fd_bits & req.memory_type_bits, host_visible)
            .map_err(|e| e.with_fd(dmabuf.as_raw_fd()))?;
        Ok((guard.release(), req, type_index, dedicated))
    }

    /// Imports an [`OpaqueFd`] exported by the same driver as the memory of
    /// a new buffer of `size` bytes. Ownership as [`Vulkan::import_buffer`].
    ///
    /// # Errors
    /// As [`Vulkan::import_buffer`].
    pub fn import_opaque_buffer(
        &self,
        handle: OpaqueFd,
        size: u64,
    ) -> std::result::Result<Buffer, ImportError<OpaqueFd>> {
        const OP: &str = "vkAllocateMemory";
        let checked = (|| {
            if size == 0 || size > handle.size {
                return Err(Error::invalid(
                    OP,
                    Some(handle.as_raw_fd()),
                    format!("size {size} does not fit in the {}-byte allocation", handle.size),
                ));
            }
            self.check_handle(OP, HandleType::OpaqueFd, false, true)?;
            let buffer = self.new_buffer(size, HandleType::OpaqueFd, transfer_usage())?;
            let guard = BufferGuard { vk: self, buffer };
            let (req, dedicated) = self.buffer_requirements(buffer);
            let type_index = self.pick_memory_type(OP, req.memory_type_bits, None)?;
            Ok((guard.release(), req, type_index, dedicated))
        })();
        let (buffer, req, type_index, dedicated) = match checked {
            Ok(v) => v,
            Err(error) => return Err(ImportError { error, handle }),
        };
        let guard = BufferGuard { vk: self, buffer };
        let alloc = handle.size;
        let ded = dedicated.then_some((buffer, vk::Image::null()));
        let _ = req;
        let bound = self
            .import_memory(handle.as_fd(), HandleType::OpaqueFd, alloc, type_index, ded)
            .and_then(|memory| Ok((guard.bind(memory)?, memory)));
        match bound {
            Ok((buffer, memory)) => {
                drop(handle);
                Ok(self.wrap_buffer(buffer, memory, size, alloc, type_index, None))
            }
            Err(error) => Err(ImportError { error, handle }),
        }
    }
}

/// A buffer whose memory is not bound yet: destroyed on early return.
pub(super) struct BufferGuard<'a> {
    pub(super) vk: &'a Vulkan,
    pub(super) buffer: vk::Buffer,
}

impl BufferGuard<'_> {
    fn release(self) -> vk::Buffer {
        let b = self.buffer;
        std::mem::forget(self);
        b
    }

    /// `vkBindBufferMemory`; on failure both are freed.
    fn bind(self, memory: vk::DeviceMemory) -> Result<vk::Buffer> {
        let d = &self.vk.inner.device;
        // SAFETY: both are this device's; the memory fits the requirements.
        match unsafe { d.bind_buffer_memory(self.buffer, memory, 0) } {
            Ok(()) => Ok(self.release()),
            Err(r) => {
                // SAFETY: the memory is ours and bound to nothing.
                unsafe { d.free_memory(memory, None) };
                Err(vk_error("vkBindBufferMemory", r))
            }
        }
    }
}

impl Drop for BufferGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the buffer is ours and unused.
        unsafe { self.vk.inner.device.destroy_buffer(self.buffer, None) };
    }
}

/// A Vulkan buffer and the memory bound to it (allocated for export, or
/// imported). Freed (`vkDestroyBuffer`, `vkFreeMemory`) on drop; dma-bufs
/// exported from it stay valid after that (the kernel keeps the pages).
#[allow(clippy::struct_field_names)] // Reason: `buffer` is the VkBuffer of a `Buffer`.
pub struct Buffer {
    pub(super) vk: Vulkan,
    pub(super) buffer: vk::Buffer,
    pub(super) memory: vk::DeviceMemory,
    pub(super) size: u64,
    pub(super) allocation: u64,
    pub(super) host_visible: bool,
    pub(super) exportable: Option<HandleType>,
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("size", &self.size)
            .field("host_visible", &self.host_visible)
            .field("exportable", &self.exportable)
            .finish_non_exhaustive()
    }
}

impl Buffer {
    /// The buffer's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether its memory is host-visible.
    pub fn host_visible(&self) -> bool {
        self.host_visible
    }

    /// The raw handles, for the caller's own Vulkan commands. They stay
    /// valid while this value lives.
    pub fn raw(&self) -> (vk::Buffer, vk::DeviceMemory) {
        (self.buffer, self.memory)
    }

    fn get_fd(&self, handle: HandleType) -> Result<OwnedFd> {
        get_memory_fd(&self.vk, self.memory, handle, self.exportable, "buffer")
    }

    /// `vkGetMemoryFdKHR(DMA_BUF)`: a new dma-buf fd for this buffer's
    /// memory, owned by the caller.
    ///
    /// # Errors
    /// `Unsupported` when the buffer was not created exportable as a dma-buf;
    /// Vulkan's errors.
    #[doc(alias = "vkGetMemoryFdKHR")]
    pub fn export_dma_buf(&self) -> Result<DmaBuf> {
        let fd = self.get_fd(HandleType::DmaBuf)?;
        DmaBuf::from_owned(fd).map_err(|e| e.error)
    }

    /// `vkMapMemory` + copy + `vkUnmapMemory`: reads `out.len()` bytes at
    /// `offset` of host-visible memory (the way to check an opaque-fd
    /// buffer, which has no dma-buf to map). Call it when the device is done
    /// writing (the transfer functions of [`Vulkan`] wait).
    ///
    /// # Errors
    /// `InvalidArgument` for memory that is not host-visible or a range past
    /// the end; Vulkan's errors.
    #[doc(alias = "vkMapMemory")]
    pub fn read_host(&self, offset: u64, out: &mut [u8]) -> Result<()> {
        const OP: &str = "vkMapMemory";
        if !self.host_visible {
            return Err(Error::invalid(OP, None, "the buffer's memory is not host-visible"));
        }
        let len = out.len() as u64;
        check_range(OP, self.size, offset, len)?;
        let d = &self.vk.inner.device;
        // SAFETY: host-visible memory of this device, not mapped elsewhere by this module.
        let ptr = unsafe { d.map_memory(self.memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty()) }
            .map_err(|r| vk_error(OP, r))?;
        let range = [vk::MappedMemoryRange::default().memory(self.memory).offset(0).size(vk::WHOLE_SIZE)];
        // SAFETY: the memory is mapped; the range is the whole allocation.
        let inv = unsafe { d.invalidate_mapped_memory_ranges(&range) };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        // SAFETY: the mapping covers the whole allocation, which holds
        // `[offset, offset + len)` (checked above).
        let src = unsafe { ptr.cast::<u8>().add(start) };
        // SAFETY: `src` has `out.len()` readable bytes; `out` does not overlap them.
        unsafe { std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len()) };
        // SAFETY: mapped above.
        unsafe { d.unmap_memory(self.memory) };
        inv.map_err(|r| vk_error("vkInvalidateMappedMemoryRanges", r))
    }

    /// `vkGetMemoryFdKHR(OPAQUE_FD)`: a new opaque fd, owned by the caller.
    ///
    /// # Errors
    /// As [`Buffer::export_dma_buf`].
    pub fn export_opaque_fd(&self) -> Result<OpaqueFd> {
        Ok(OpaqueFd { fd: self.get_fd(HandleType::OpaqueFd)?, size: self.allocation })
    }
}

pub(super) fn get_memory_fd(
    vk: &Vulkan,
    memory: vk::DeviceMemory,
    handle: HandleType,
    exportable: Option<HandleType>,
    what: &str,
) -> Result<OwnedFd> {
    const OP: &str = "vkGetMemoryFdKHR";
    if exportable != Some(handle) {
        let was = exportable.map_or_else(|| "imported".to_string(), |h| format!("created exportable as {h}"));
        return Err(unsupported(OP, format!("this {what} cannot be exported as {handle}: it was {was}")));
    }
    let info = vk::MemoryGetFdInfoKHR::default().memory(memory).handle_type(handle.flag());
    // SAFETY: the memory is live and was allocated exportable as `handle`.
    let raw = unsafe { vk.inner.memory_fd.get_memory_fd(&info) }.map_err(|r| fd_error_or(vk_error(OP, r)))?;
    if raw < 0 {
        // Mesa answers fd -1 with VK_SUCCESS when the process has no fd left.
        return Err(fd_error_or(Error::new(ErrorKind::Os, Errno::EIO, OP, None, format!("{OP} returned fd {raw}"))));
    }
    // SAFETY: vkGetMemoryFdKHR returns a new fd that the caller owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // Vulkan makes no promise about O_CLOEXEC: set it.
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
        .map_err(|e| Error::os("fcntl(F_SETFD)", Some(raw), e))?;
    Ok(fd)
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let d = &self.vk.inner.device;
        // SAFETY: every command this module submits is waited for; the buffer is ours.
        unsafe { d.destroy_buffer(self.buffer, None) };
        // SAFETY: the memory is ours and no longer bound to a live buffer.
        unsafe { d.free_memory(self.memory, None) };
    }
}
