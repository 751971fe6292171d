//! Raw kernel interface: `#[repr(C)]` copies of the uapi structs and the nix
//! ioctl declarations. Nothing outside this module calls an ioctl directly:
//! the `pub(crate)` wrappers below take `BorrowedFd` and return owned fds.
//!
//! Opcodes are computed by nix's macros (never hard-coded), so they follow
//! each architecture's `_IOC` encoding.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::libc::c_char;

use crate::error::{Error, Result};

// ---------------------------------------------------------------------------
// <linux/dma-buf.h>

pub(crate) const DMA_BUF_SYNC_READ: u64 = 1 << 0;
pub(crate) const DMA_BUF_SYNC_WRITE: u64 = 1 << 1;
pub(crate) const DMA_BUF_SYNC_START: u64 = 0;
pub(crate) const DMA_BUF_SYNC_END: u64 = 1 << 2;
/// `DMA_BUF_NAME_LEN`: the name buffer, including its terminating NUL.
pub(crate) const DMA_BUF_NAME_LEN: usize = 32;
/// statfs magic of the dma-buf pseudo file system (`DMA_BUF_MAGIC`, "DMAB").
pub(crate) const DMA_BUF_MAGIC: i64 = 0x444d_4142;

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaBufSync {
    pub flags: u64,
}

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaBufExportSyncFile {
    pub flags: u32,
    pub fd: i32,
}

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaBufImportSyncFile {
    pub flags: u32,
    pub fd: i32,
}

const DMA_BUF_BASE: u8 = b'b';
nix::ioctl_write_ptr!(raw_dma_buf_sync, DMA_BUF_BASE, 0, DmaBufSync);
// DMA_BUF_SET_NAME_B is declared `_IOW('b', 1, __u64)` but the argument is the
// user pointer to the name itself, hence the "bad" form with an explicit code.
nix::ioctl_write_ptr_bad!(
    raw_dma_buf_set_name,
    nix::request_code_write!(DMA_BUF_BASE, 1, size_of::<u64>()),
    c_char
);
nix::ioctl_readwrite!(raw_dma_buf_export_sync_file, DMA_BUF_BASE, 2, DmaBufExportSyncFile);
// Note: the kernel declares IMPORT_SYNC_FILE as _IOW, not _IOWR.
nix::ioctl_write_ptr!(raw_dma_buf_import_sync_file, DMA_BUF_BASE, 3, DmaBufImportSyncFile);

// ---------------------------------------------------------------------------
// <linux/sync_file.h>

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncMergeData {
    pub name: [c_char; 32],
    pub fd2: i32,
    pub fence: i32,
    pub flags: u32,
    pub pad: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SyncFenceInfo {
    pub obj_name: [c_char; 32],
    pub driver_name: [c_char; 32],
    pub status: i32,
    pub flags: u32,
    pub timestamp_ns: u64,
}

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

const SYNC_IOC_MAGIC: u8 = b'>';
nix::ioctl_readwrite!(raw_sync_merge, SYNC_IOC_MAGIC, 3, SyncMergeData);
nix::ioctl_readwrite!(raw_sync_file_info, SYNC_IOC_MAGIC, 4, SyncFileInfo);

// ---------------------------------------------------------------------------
// <linux/udmabuf.h>

pub(crate) const UDMABUF_FLAGS_CLOEXEC: u32 = 0x01;

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct UdmabufCreate {
    pub memfd: u32,
    pub flags: u32,
    pub offset: u64,
    pub size: u64,
}

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

const UDMABUF_MAGIC: u8 = b'u';
nix::ioctl_write_ptr!(raw_udmabuf_create, UDMABUF_MAGIC, 0x42, UdmabufCreate);
nix::ioctl_write_ptr!(raw_udmabuf_create_list, UDMABUF_MAGIC, 0x43, UdmabufCreateList);

// ---------------------------------------------------------------------------
// <linux/dma-heap.h>

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmaHeapAllocationData {
    pub len: u64,
    pub fd: u32,
    pub fd_flags: u32,
    pub heap_flags: u64,
}

nix::ioctl_readwrite!(raw_dma_heap_alloc, b'H', 0, DmaHeapAllocationData);

// ---------------------------------------------------------------------------
// <drm/drm.h>, <drm/drm_mode.h>, <drm/vgem_drm.h>

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmPrimeHandle {
    pub handle: u32,
    pub flags: u32,
    pub fd: i32,
}

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmGemClose {
    pub handle: u32,
    pub pad: u32,
}

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

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmVersion {
    pub version_major: i32,
    pub version_minor: i32,
    pub version_patchlevel: i32,
    pub name_len: usize,
    pub name: u64,
    pub date_len: usize,
    pub date: u64,
    pub desc_len: usize,
    pub desc: u64,
}

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmVgemFenceAttach {
    pub handle: u32,
    pub flags: u32,
    pub out_fence: u32,
    pub pad: u32,
}

#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmVgemFenceSignal {
    pub fence: u32,
    pub flags: u32,
}

pub(crate) const VGEM_FENCE_WRITE: u32 = 0x1;
pub(crate) const DRM_CLOEXEC: u32 = nix::libc::O_CLOEXEC as u32;
pub(crate) const DRM_RDWR: u32 = nix::libc::O_RDWR as u32;

const DRM_IOCTL_BASE: u8 = b'd';
const DRM_COMMAND_BASE: u8 = 0x40;
nix::ioctl_readwrite!(raw_drm_version, DRM_IOCTL_BASE, 0x00, DrmVersion);
nix::ioctl_write_ptr!(raw_drm_gem_close, DRM_IOCTL_BASE, 0x09, DrmGemClose);
nix::ioctl_readwrite!(raw_drm_prime_handle_to_fd, DRM_IOCTL_BASE, 0x2d, DrmPrimeHandle);
nix::ioctl_readwrite!(raw_drm_prime_fd_to_handle, DRM_IOCTL_BASE, 0x2e, DrmPrimeHandle);
nix::ioctl_readwrite!(raw_drm_mode_create_dumb, DRM_IOCTL_BASE, 0xb2, DrmModeCreateDumb);
nix::ioctl_readwrite!(raw_vgem_fence_attach, DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x01, DrmVgemFenceAttach);
nix::ioctl_write_ptr!(raw_vgem_fence_signal, DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x02, DrmVgemFenceSignal);

// ---------------------------------------------------------------------------
// Layouts, checked at compile time against the sizes in the uapi headers.

const _: () = assert!(size_of::<DmaBufSync>() == 8);
const _: () = assert!(size_of::<DmaBufExportSyncFile>() == 8);
const _: () = assert!(size_of::<DmaBufImportSyncFile>() == 8);
const _: () = assert!(size_of::<SyncMergeData>() == 48);
const _: () = assert!(size_of::<SyncFenceInfo>() == 80);
const _: () = assert!(size_of::<SyncFileInfo>() == 56);
const _: () = assert!(size_of::<UdmabufCreate>() == 24);
const _: () = assert!(size_of::<UdmabufCreateItem>() == 24);
const _: () = assert!(size_of::<UdmabufCreateList>() == 8);
const _: () = assert!(size_of::<DmaHeapAllocationData>() == 24);
const _: () = assert!(size_of::<DrmPrimeHandle>() == 12);
const _: () = assert!(size_of::<DrmGemClose>() == 8);
const _: () = assert!(size_of::<DrmModeCreateDumb>() == 32);
const _: () = assert!(size_of::<DrmVgemFenceAttach>() == 16);
const _: () = assert!(size_of::<DrmVgemFenceSignal>() == 8);

// ---------------------------------------------------------------------------
// Safe wrappers. Each one: borrow the fd, call the ioctl once, turn an errno
// into an `Error` naming the ioctl and the fd, and adopt any fd the kernel
// returned as an `OwnedFd` on the spot.

/// Adopts an fd the kernel just returned.
///
/// # Safety
/// `fd` must be a freshly created, open fd that nothing else owns.
unsafe fn adopt(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller guarantees `fd` is open and unowned.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

pub(crate) fn dma_buf_sync(fd: BorrowedFd<'_>, flags: u64) -> Result<()> {
    let arg = DmaBufSync { flags };
    // SAFETY: `fd` is open for the borrow and `arg` is a valid dma_buf_sync.
    unsafe { raw_dma_buf_sync(fd.as_raw_fd(), &arg) }
        .map(drop)
        .map_err(|e| Error::os("DMA_BUF_IOCTL_SYNC", Some(fd.as_raw_fd()), e))
}

pub(crate) fn dma_buf_set_name(fd: BorrowedFd<'_>, name: &std::ffi::CStr) -> Result<()> {
    // SAFETY: the kernel copies at most DMA_BUF_NAME_LEN bytes from a NUL-terminated string.
    unsafe { raw_dma_buf_set_name(fd.as_raw_fd(), name.as_ptr()) }
        .map(drop)
        .map_err(|e| Error::os("DMA_BUF_SET_NAME", Some(fd.as_raw_fd()), e))
}

pub(crate) fn dma_buf_export_sync_file(fd: BorrowedFd<'_>, flags: u32) -> Result<OwnedFd> {
    let mut arg = DmaBufExportSyncFile { flags, fd: -1 };
    // SAFETY: `arg` is a valid, writable dma_buf_export_sync_file.
    unsafe { raw_dma_buf_export_sync_file(fd.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", Some(fd.as_raw_fd()), e))?;
    // SAFETY: on success the kernel installed a new close-on-exec fd for us.
    Ok(unsafe { adopt(arg.fd) })
}

pub(crate) fn dma_buf_import_sync_file(fd: BorrowedFd<'_>, flags: u32, sync_file: BorrowedFd<'_>) -> Result<()> {
    let arg = DmaBufImportSyncFile { flags, fd: sync_file.as_raw_fd() };
    // SAFETY: `arg` is valid; the kernel only borrows `sync_file` for the call.
    unsafe { raw_dma_buf_import_sync_file(fd.as_raw_fd(), &arg) }
        .map(drop)
        .map_err(|e| Error::os("DMA_BUF_IOCTL_IMPORT_SYNC_FILE", Some(fd.as_raw_fd()), e))
}

pub(crate) fn sync_merge(fd: BorrowedFd<'_>, other: BorrowedFd<'_>, name: &[c_char; 32]) -> Result<OwnedFd> {
    let mut arg = SyncMergeData { name: *name, fd2: other.as_raw_fd(), fence: -1, flags: 0, pad: 0 };
    // SAFETY: `arg` is a valid, writable sync_merge_data.
    unsafe { raw_sync_merge(fd.as_raw_fd(), &mut arg) }.map_err(|e| Error::os("SYNC_IOC_MERGE", Some(fd.as_raw_fd()), e))?;
    // SAFETY: on success the kernel installed a new close-on-exec fd for us.
    Ok(unsafe { adopt(arg.fence) })
}

/// SYNC_IOC_FILE_INFO. With an empty `fences`, only the header is filled
/// (including `num_fences`); otherwise up to `fences.len()` entries.
pub(crate) fn sync_file_info(fd: BorrowedFd<'_>, fences: &mut [SyncFenceInfo]) -> Result<SyncFileInfo> {
    let mut arg = SyncFileInfo {
        name: [0; 32],
        status: 0,
        flags: 0,
        num_fences: fences.len() as u32,
        pad: 0,
        sync_fence_info: if fences.is_empty() { 0 } else { fences.as_mut_ptr() as u64 },
    };
    // SAFETY: `arg` points at `fences`, which has room for `num_fences` entries.
    unsafe { raw_sync_file_info(fd.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("SYNC_IOC_FILE_INFO", Some(fd.as_raw_fd()), e))?;
    Ok(arg)
}

pub(crate) fn udmabuf_create(dev: BorrowedFd<'_>, memfd: BorrowedFd<'_>, offset: u64, size: u64) -> Result<OwnedFd> {
    let arg = UdmabufCreate { memfd: memfd.as_raw_fd() as u32, flags: UDMABUF_FLAGS_CLOEXEC, offset, size };
    // SAFETY: `arg` is a valid udmabuf_create; the memfd is only borrowed.
    let fd = unsafe { raw_udmabuf_create(dev.as_raw_fd(), &arg) }
        .map_err(|e| Error::os("UDMABUF_CREATE", Some(memfd.as_raw_fd()), e))?;
    // SAFETY: UDMABUF_CREATE returns a new close-on-exec dma-buf fd.
    Ok(unsafe { adopt(fd) })
}

pub(crate) fn udmabuf_create_list(dev: BorrowedFd<'_>, items: &[UdmabufCreateItem]) -> Result<OwnedFd> {
    // The kernel reads a header followed by `count` items: lay them out in one
    // u64-aligned buffer.
    let words = (size_of::<UdmabufCreateList>() + std::mem::size_of_val(items)).div_ceil(8);
    let mut buf = vec![0u64; words];
    let header = UdmabufCreateList { flags: UDMABUF_FLAGS_CLOEXEC, count: items.len() as u32 };
    let base = buf.as_mut_ptr().cast::<u8>();
    // SAFETY: `buf` has room for the header; u64 alignment satisfies it.
    unsafe { base.cast::<UdmabufCreateList>().write(header) };
    // SAFETY: the items fit after the 8-byte header, which keeps them 8-aligned.
    let list = unsafe { base.add(size_of::<UdmabufCreateList>()) };
    // SAFETY: `list` has room for `items.len()` entries and does not overlap `items`.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), list.cast::<UdmabufCreateItem>(), items.len()) };
    // SAFETY: `buf` holds a complete udmabuf_create_list.
    let fd = unsafe { raw_udmabuf_create_list(dev.as_raw_fd(), base.cast::<UdmabufCreateList>()) }
        .map_err(|e| Error::os("UDMABUF_CREATE_LIST", None, e))?;
    // SAFETY: UDMABUF_CREATE_LIST returns a new close-on-exec dma-buf fd.
    Ok(unsafe { adopt(fd) })
}

pub(crate) fn dma_heap_alloc(heap: BorrowedFd<'_>, len: u64, fd_flags: u32) -> Result<OwnedFd> {
    let mut arg = DmaHeapAllocationData { len, fd: 0, fd_flags, heap_flags: 0 };
    // SAFETY: `arg` is a valid, writable dma_heap_allocation_data.
    unsafe { raw_dma_heap_alloc(heap.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("DMA_HEAP_IOCTL_ALLOC", Some(heap.as_raw_fd()), e))?;
    // SAFETY: on success the kernel installed a new fd with `fd_flags` (O_CLOEXEC included).
    Ok(unsafe { adopt(arg.fd as RawFd) })
}

pub(crate) fn drm_driver_name(dev: BorrowedFd<'_>) -> Result<String> {
    let mut name = [0u8; 64];
    let mut arg = DrmVersion { name_len: name.len(), name: name.as_mut_ptr() as u64, ..Default::default() };
    // SAFETY: `arg.name` points at a writable buffer of `name_len` bytes; date and desc are empty.
    unsafe { raw_drm_version(dev.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("DRM_IOCTL_VERSION", Some(dev.as_raw_fd()), e))?;
    let len = arg.name_len.min(name.len());
    Ok(String::from_utf8_lossy(&name[..len]).into_owned())
}

pub(crate) fn drm_gem_close(dev: BorrowedFd<'_>, handle: u32) -> Result<()> {
    let arg = DrmGemClose { handle, pad: 0 };
    // SAFETY: `arg` is a valid drm_gem_close.
    unsafe { raw_drm_gem_close(dev.as_raw_fd(), &arg) }
        .map(drop)
        .map_err(|e| Error::os("DRM_IOCTL_GEM_CLOSE", Some(dev.as_raw_fd()), e))
}

pub(crate) fn drm_prime_handle_to_fd(dev: BorrowedFd<'_>, handle: u32, flags: u32) -> Result<OwnedFd> {
    let mut arg = DrmPrimeHandle { handle, flags, fd: -1 };
    // SAFETY: `arg` is a valid, writable drm_prime_handle.
    unsafe { raw_drm_prime_handle_to_fd(dev.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("DRM_IOCTL_PRIME_HANDLE_TO_FD", Some(dev.as_raw_fd()), e))?;
    // SAFETY: on success the kernel installed a new fd (DRM_CLOEXEC is always passed).
    Ok(unsafe { adopt(arg.fd) })
}

pub(crate) fn drm_prime_fd_to_handle(dev: BorrowedFd<'_>, buf: BorrowedFd<'_>) -> Result<u32> {
    let mut arg = DrmPrimeHandle { handle: 0, flags: 0, fd: buf.as_raw_fd() };
    // SAFETY: `arg` is a valid, writable drm_prime_handle; the dma-buf fd is only borrowed.
    unsafe { raw_drm_prime_fd_to_handle(dev.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("DRM_IOCTL_PRIME_FD_TO_HANDLE", Some(buf.as_raw_fd()), e))?;
    Ok(arg.handle)
}

pub(crate) fn drm_mode_create_dumb(dev: BorrowedFd<'_>, width: u32, height: u32, bpp: u32) -> Result<DrmModeCreateDumb> {
    let mut arg = DrmModeCreateDumb { width, height, bpp, ..Default::default() };
    // SAFETY: `arg` is a valid, writable drm_mode_create_dumb.
    unsafe { raw_drm_mode_create_dumb(dev.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("DRM_IOCTL_MODE_CREATE_DUMB", Some(dev.as_raw_fd()), e))?;
    Ok(arg)
}

pub(crate) fn vgem_fence_attach(dev: BorrowedFd<'_>, handle: u32, write: bool) -> Result<u32> {
    let mut arg = DrmVgemFenceAttach { handle, flags: if write { VGEM_FENCE_WRITE } else { 0 }, ..Default::default() };
    // SAFETY: `arg` is a valid, writable drm_vgem_fence_attach.
    unsafe { raw_vgem_fence_attach(dev.as_raw_fd(), &mut arg) }
        .map_err(|e| Error::os("DRM_IOCTL_VGEM_FENCE_ATTACH", Some(dev.as_raw_fd()), e))?;
    Ok(arg.out_fence)
}

pub(crate) fn vgem_fence_signal(dev: BorrowedFd<'_>, fence: u32) -> Result<()> {
    let arg = DrmVgemFenceSignal { fence, flags: 0 };
    // SAFETY: `arg` is a valid drm_vgem_fence_signal.
    unsafe { raw_vgem_fence_signal(dev.as_raw_fd(), &arg) }
        .map(drop)
        .map_err(|e| Error::os("DRM_IOCTL_VGEM_FENCE_SIGNAL", Some(dev.as_raw_fd()), e))
}

/// Every ioctl request code this crate uses, by its uapi name: the
/// header-check test compares them with the C headers' macros.
#[doc(hidden)]
pub fn request_codes() -> Vec<(&'static str, u64)> {
    use nix::{request_code_readwrite as rw, request_code_write as w};
    vec![
        ("DMA_BUF_IOCTL_SYNC", w!(DMA_BUF_BASE, 0, size_of::<DmaBufSync>()) as u64),
        ("DMA_BUF_SET_NAME_B", w!(DMA_BUF_BASE, 1, size_of::<u64>()) as u64),
        ("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", rw!(DMA_BUF_BASE, 2, size_of::<DmaBufExportSyncFile>()) as u64),
        ("DMA_BUF_IOCTL_IMPORT_SYNC_FILE", w!(DMA_BUF_BASE, 3, size_of::<DmaBufImportSyncFile>()) as u64),
        ("SYNC_IOC_MERGE", rw!(SYNC_IOC_MAGIC, 3, size_of::<SyncMergeData>()) as u64),
        ("SYNC_IOC_FILE_INFO", rw!(SYNC_IOC_MAGIC, 4, size_of::<SyncFileInfo>()) as u64),
        ("UDMABUF_CREATE", w!(UDMABUF_MAGIC, 0x42, size_of::<UdmabufCreate>()) as u64),
        ("UDMABUF_CREATE_LIST", w!(UDMABUF_MAGIC, 0x43, size_of::<UdmabufCreateList>()) as u64),
        ("DMA_HEAP_IOCTL_ALLOC", rw!(b'H', 0, size_of::<DmaHeapAllocationData>()) as u64),
        ("DRM_IOCTL_VERSION", rw!(DRM_IOCTL_BASE, 0x00, size_of::<DrmVersion>()) as u64),
        ("DRM_IOCTL_GEM_CLOSE", w!(DRM_IOCTL_BASE, 0x09, size_of::<DrmGemClose>()) as u64),
        ("DRM_IOCTL_PRIME_HANDLE_TO_FD", rw!(DRM_IOCTL_BASE, 0x2d, size_of::<DrmPrimeHandle>()) as u64),
        ("DRM_IOCTL_PRIME_FD_TO_HANDLE", rw!(DRM_IOCTL_BASE, 0x2e, size_of::<DrmPrimeHandle>()) as u64),
        ("DRM_IOCTL_MODE_CREATE_DUMB", rw!(DRM_IOCTL_BASE, 0xb2, size_of::<DrmModeCreateDumb>()) as u64),
        ("DRM_IOCTL_VGEM_FENCE_ATTACH", rw!(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x01, size_of::<DrmVgemFenceAttach>()) as u64),
        ("DRM_IOCTL_VGEM_FENCE_SIGNAL", w!(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x02, size_of::<DrmVgemFenceSignal>()) as u64),
    ]
}

/// Maps ENOTTY on a file known to be of the right kind to "kernel too old".
pub(crate) fn unsupported_if_enotty(e: Error, since: &'static str) -> Error {
    if e.errno() == Errno::ENOTTY {
        let op = e.op();
        e.with_kind(crate::error::ErrorKind::Unsupported)
            .with_detail(format!("this kernel does not implement {op} (it needs Linux {since} or later)"))
    } else {
        e
    }
}
