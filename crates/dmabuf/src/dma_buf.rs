//! The dma-buf itself: an fd exported by some driver, with CPU access
//! bracketing (`DMA_BUF_IOCTL_SYNC`), mapping (`mmap`), naming
//! (`DMA_BUF_SET_NAME`), introspection (`/proc/self/fdinfo`) and implicit
//! fences in and out (`DMA_BUF_IOCTL_EXPORT_SYNC_FILE` / `IMPORT_SYNC_FILE`).
//!
//! Kernel documentation: <https://docs.kernel.org/driver-api/dma-buf.html>

use std::ffi::CString;
use std::fmt;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::ptr::NonNull;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{munmap, MapFlags, ProtFlags};

use crate::error::{Error, ErrorKind, FromFdError, Result};
use crate::fd::{access_mode, describe, dup_cloexec, dup_raw, fdinfo, page_size_u64, seek_size};
use crate::sync_file::SyncFile;
use crate::sys::dma_buf as sys;

/// Which direction of access: CPU reads, CPU writes, or both. For fences,
/// `Read` means "the fences a reader must wait for" (writers), `Write` means
/// "the fences a writer must wait for" (readers and writers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Read only.
    Read,
    /// Write only.
    Write,
    /// Read and write.
    ReadWrite,
}

impl Access {
    /// Parses `"r"`, `"w"` or `"rw"`, the spellings JavaScript uses too.
    #[must_use]
    pub fn parse(s: &str) -> Option<Access> {
        match s {
            "r" => Some(Access::Read),
            "w" => Some(Access::Write),
            "rw" => Some(Access::ReadWrite),
            _ => None,
        }
    }

    /// The short form, `"r"`, `"w"` or `"rw"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "r",
            Access::Write => "w",
            Access::ReadWrite => "rw",
        }
    }

    /// `DMA_BUF_SYNC_READ` / `_WRITE` / `_RW` bits.
    pub(crate) fn sync_bits(self) -> u64 {
        match self {
            Access::Read => sys::DMA_BUF_SYNC_READ,
            Access::Write => sys::DMA_BUF_SYNC_WRITE,
            Access::ReadWrite => sys::DMA_BUF_SYNC_READ | sys::DMA_BUF_SYNC_WRITE,
        }
    }

    /// The same bits as the `u32` that the `sync_file` ioctls take.
    pub(crate) fn sync_file_flags(self) -> u32 {
        match self {
            Access::Read => 1,
            Access::Write => 2,
            Access::ReadWrite => 3,
        }
    }

    /// Whether this access includes writing.
    #[must_use]
    pub fn writes(self) -> bool {
        self != Access::Read
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the kernel says about a dma-buf (`fstat`, the fd's link and
/// `/proc/self/fdinfo/<fd>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmaBufInfo {
    /// Size in bytes.
    pub size: u64,
    /// The exporter's name (`exp_name`): `udmabuf`, `system`, `drm` (PRIME
    /// exports through DRM's generic helper, vgem's among them), `videobuf2_vmalloc`, ...
    pub exporter: String,
    /// The name set with `DMA_BUF_SET_NAME`, if any.
    pub name: Option<String>,
    /// Inode number: two fds with the same inode are the same buffer.
    pub inode: u64,
    /// How many open files refer to the buffer (`count` in fdinfo).
    pub file_count: Option<u64>,
    /// Whether this fd may be mapped for writing (opened `O_RDWR`).
    pub writable: bool,
}

/// An owned dma-buf file descriptor.
///
/// Every source (heaps, udmabuf, DRM PRIME, V4L2, DVB, Vulkan, CUDA, an fd
/// from another process) yields this same type. Dropping it closes the fd;
/// the buffer lives on while other fds or mappings refer to it.
#[derive(Debug)]
pub struct DmaBuf {
    fd: OwnedFd,
    size: u64,
}

/// Checks (`fstatfs`) that `fd` is a dma-buf and returns its size.
fn probe(fd: BorrowedFd<'_>, op: &'static str) -> Result<u64> {
    let raw = fd.as_raw_fd();
    let st = nix::sys::statfs::fstatfs(fd).map_err(|e| Error::os(op, Some(raw), e))?;
    // The type of f_type differs between C libraries and architectures;
    // the magic fits in 32 bits on all of them.
    #[allow(clippy::unnecessary_cast, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let magic = st.filesystem_type().0 as u32;
    if magic != sys::DMA_BUF_MAGIC {
        return Err(Error::new(
            ErrorKind::NotDmaBuf,
            Errno::ENOTTY,
            op,
            Some(raw),
            format!("not a dma-buf (it is {})", describe(fd)),
        ));
    }
    // dma_buf_llseek answers SEEK_END with the size; the buffer cannot change size.
    seek_size(fd)
}

impl DmaBuf {
    /// Adopts `fd` after checking (`fstatfs`) that it is a dma-buf: the
    /// `DmaBuf` owns it from now on and closes it on drop. The same as
    /// `DmaBuf::try_from(fd)`. To wrap an fd that stays yours, see
    /// [`DmaBuf::dup_from`] and [`DmaBuf::dup_from_raw`] (which is what
    /// JavaScript's `DmaBuf.fromFd` does).
    ///
    /// # Errors
    /// `NotDmaBuf` (`ENOTTY`) for any other kind of file, with the fd handed
    /// back in the [`FromFdError`].
    pub fn from_owned(fd: OwnedFd) -> std::result::Result<DmaBuf, FromFdError> {
        match probe(fd.as_fd(), "fstatfs") {
            Ok(size) => Ok(DmaBuf { fd, size }),
            Err(error) => Err(FromFdError { error, fd }),
        }
    }

    /// Duplicates a borrowed fd (`F_DUPFD_CLOEXEC`) and wraps the copy; the
    /// caller keeps `fd`. See [`DmaBuf::from_owned`] to adopt instead.
    ///
    /// # Errors
    /// `EBADF` for a closed fd, `NotDmaBuf` for any other kind of file,
    /// `EMFILE` when the process is out of fds.
    pub fn dup_from(fd: impl AsFd) -> Result<DmaBuf> {
        let fd = fd.as_fd();
        let size = probe(fd, "fstatfs")?;
        Ok(DmaBuf { fd: dup_cloexec(fd)?, size })
    }

    /// Duplicates an fd *number* that the caller owns and keeps (one that
    /// came from C, JavaScript or a parent process), and wraps the copy.
    /// JavaScript's `DmaBuf.fromFd` is this. See [`DmaBuf::from_owned`] to
    /// adopt instead.
    ///
    /// # Errors
    /// `EBADF` when the number is not an open fd, `NotDmaBuf` for any other
    /// kind of file; the error names the caller's number.
    pub fn dup_from_raw(fd: RawFd) -> Result<DmaBuf> {
        let owned = dup_raw(fd)?;
        DmaBuf::from_owned(owned).map_err(|e| e.error.with_fd(fd))
    }

    /// Wraps an fd the kernel just returned as a dma-buf, without the
    /// `fstatfs` check.
    pub(crate) fn from_trusted(fd: OwnedFd) -> Result<DmaBuf> {
        let size = seek_size(fd.as_fd())?;
        Ok(DmaBuf { fd, size })
    }

    /// Wraps an fd that the kernel's own records (its link name and
    /// fdinfo, `fd::kind`) show to be a dma-buf of `size` bytes.
    pub(crate) fn from_kernel(fd: OwnedFd, size: u64) -> DmaBuf {
        DmaBuf { fd, size }
    }

    /// The ENOTTY policy: blame the kernel (too old for the ioctl) only when
    /// the fd really is a dma-buf; otherwise say what it is.
    fn enotty(&self, e: Error, since: &'static str) -> Error {
        if e.errno() != Errno::ENOTTY {
            return e;
        }
        match probe(self.fd.as_fd(), e.op()) {
            Ok(_) => e.unsupported_if_enotty(since),
            Err(not_dma_buf) => not_dma_buf,
        }
    }

    /// Size of the buffer in bytes (fixed for its lifetime).
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// `fcntl(F_DUPFD_CLOEXEC)`: a second fd for the same buffer.
    ///
    /// # Errors
    /// `EMFILE` when the process is out of fds.
    pub fn try_clone(&self) -> Result<DmaBuf> {
        Ok(DmaBuf { fd: dup_cloexec(self.fd.as_fd())?, size: self.size })
    }

    /// `fcntl(F_GETFL)`: whether this fd was opened read-write (and so may
    /// be mapped writable).
    ///
    /// # Errors
    /// Errors of `fcntl`, which an open fd does not give in practice.
    pub fn is_writable(&self) -> Result<bool> {
        Ok(access_mode(self.fd.as_fd())? == OFlag::O_RDWR)
    }

    /// Reads `fstat` and `/proc/self/fdinfo/<fd>`.
    ///
    /// # Errors
    /// `NotDmaBuf` when the fd is no longer a dma-buf; errors of `fstat`,
    /// `fcntl` or reading `/proc/self/fdinfo` (`ENOENT` where `/proc` is not
    /// mounted).
    pub fn info(&self) -> Result<DmaBufInfo> {
        // The fd number may have been replaced under us (`dup2` by code that
        // broke fd ownership): say so rather than describe another file.
        probe(self.fd.as_fd(), "fstatfs")?;
        let raw = self.fd.as_raw_fd();
        let st = crate::fd::stat(self.fd.as_fd()).map_err(|e| Error::os("fstat", Some(raw), e))?;
        let mut info = DmaBufInfo {
            size: self.size,
            exporter: String::new(),
            name: None,
            inode: st.st_ino,
            file_count: None,
            writable: self.is_writable()?,
        };
        for (k, v) in fdinfo(self.fd.as_fd())? {
            match k.as_str() {
                "exp_name" => info.exporter = v,
                "name" if !v.is_empty() => info.name = Some(v),
                "count" => info.file_count = v.parse().ok(),
                _ => {}
            }
        }
        Ok(info)
    }

    /// `DMA_BUF_SET_NAME`: names the buffer (shown in fdinfo, debugfs and
    /// the fd's link `/dmabuf:<name>`). At most 31 bytes, no NUL.
    ///
    /// # Errors
    /// `InvalidArgument` for a longer name or one with a NUL; `Unsupported`
    /// before Linux 5.7; `EBUSY` on kernels before 6.5 while the buffer is
    /// attached to a device.
    #[doc(alias = "DMA_BUF_SET_NAME")]
    pub fn set_name(&self, name: &str) -> Result<()> {
        let raw = Some(self.fd.as_raw_fd());
        if name.len() >= sys::DMA_BUF_NAME_LEN {
            return Err(Error::invalid(
                "DMA_BUF_SET_NAME",
                raw,
                format!("a dma-buf name is at most {} bytes, got {}", sys::DMA_BUF_NAME_LEN - 1, name.len()),
            ));
        }
        let c = CString::new(name)
            .map_err(|_| Error::invalid("DMA_BUF_SET_NAME", raw, "a dma-buf name cannot contain a NUL byte"))?;
        sys::set_name(self.fd.as_fd(), &c).map_err(|e| self.enotty(e, "5.7"))
    }

    /// Names a fresh buffer after its source, truncated to fit; failures
    /// (a kernel before 5.7) are ignored because the name is only a label.
    pub(crate) fn set_default_name(&self, name: &str) {
        let mut end = name.len().min(sys::DMA_BUF_NAME_LEN - 1);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let _ = self.set_name(&name[..end]);
    }

    /// `DMA_BUF_IOCTL_SYNC` with `DMA_BUF_SYNC_START`: begins CPU access.
    ///
    /// Prefer [`DmaBuf::begin_cpu_access`], whose guard cannot forget the end.
    ///
    /// # Errors
    /// The exporter's errors (waiting for fences can give `EINTR`, `ETIME`).
    #[doc(alias = "DMA_BUF_IOCTL_SYNC")]
    pub fn sync_start(&self, access: Access) -> Result<()> {
        sys::sync(self.fd.as_fd(), sys::DMA_BUF_SYNC_START | access.sync_bits())
    }

    /// `DMA_BUF_IOCTL_SYNC` with `DMA_BUF_SYNC_END`: ends CPU access begun
    /// with the same `access` (on any fd of the same buffer).
    ///
    /// # Errors
    /// The exporter's errors; udmabuf answers an end without a start with
    /// `EINVAL`.
    #[doc(alias = "DMA_BUF_IOCTL_SYNC")]
    pub fn sync_end(&self, access: Access) -> Result<()> {
        sys::sync(self.fd.as_fd(), sys::DMA_BUF_SYNC_END | access.sync_bits())
    }

    /// `DMA_BUF_IOCTL_SYNC`: brackets CPU access to mapped memory. The
    /// returned guard ends the access when dropped (also while unwinding),
    /// or explicitly with [`CpuAccess::end`], which reports errors.
    ///
    /// The kernel waits for the relevant fences and makes caches coherent.
    ///
    /// # Errors
    /// `EINVAL` for flags the kernel does not accept; errors of the exporter.
    #[doc(alias = "DMA_BUF_IOCTL_SYNC")]
    pub fn begin_cpu_access(&self, access: Access) -> Result<CpuAccess<'_>> {
        self.sync_start(access)?;
        Ok(CpuAccess { buf: self, access, ended: false })
    }

    /// `mmap`s the whole buffer. See [`DmaBuf::map_range`].
    ///
    /// # Errors
    /// As [`DmaBuf::map_range`].
    pub fn map(&self, access: Access) -> Result<Mapping> {
        self.map_range(access, 0, self.size)
    }

    /// `mmap(MAP_SHARED)` of `len` bytes at `offset` (a multiple of the page
    /// size). The mapping is the buffer itself, not a copy, and stays valid
    /// after this fd is closed (the mapping holds its own reference).
    ///
    /// `Access::Read` maps `PROT_READ`; any writing access maps
    /// `PROT_READ | PROT_WRITE`, which needs an fd opened read-write.
    /// Bracket CPU reads and writes with [`DmaBuf::begin_cpu_access`].
    ///
    /// # Errors
    /// `InvalidArgument` for an unaligned offset, a zero length or a range
    /// past the end; `PermissionDenied` (`EACCES`) for write access through a
    /// read-only fd; the exporter's errno (e.g. `ENOTSUPP` for CUDA memory).
    #[doc(alias = "mmap")]
    pub fn map_range(&self, access: Access, offset: u64, len: u64) -> Result<Mapping> {
        let raw = Some(self.fd.as_raw_fd());
        let page = page_size_u64();
        if offset % page != 0 {
            return Err(Error::invalid(
                "mmap",
                raw,
                format!("offset {offset} is not a multiple of the page size ({page})"),
            ));
        }
        if offset >= self.size {
            return Err(Error::invalid(
                "mmap",
                raw,
                format!("offset {offset} is at or past the end of the {}-byte buffer", self.size),
            ));
        }
        match offset.checked_add(len) {
            Some(end) if end <= self.size => {}
            _ => {
                return Err(Error::invalid(
                    "mmap",
                    raw,
                    format!("range {offset}+{len} is past the end of the {}-byte buffer", self.size),
                ))
            }
        }
        if len == 0 {
            return Err(Error::invalid("mmap", raw, "cannot map zero bytes"));
        }
        let too_big = || mmap_too_big(raw);
        let size = usize::try_from(len).map_err(|_| too_big())?;
        // Code that broke fd ownership may have dup2()ed another file over
        // this fd number: mapping a smaller file for `len` bytes would end
        // in SIGBUS at the first access past its end, so check it first.
        let now = probe(self.fd.as_fd(), "mmap")?;
        if now != self.size {
            return Err(Error::new(
                ErrorKind::NotDmaBuf,
                Errno::EBADF,
                "mmap",
                raw,
                format!("the fd now names another dma-buf ({now} bytes, not {}): its number was reused", self.size),
            ));
        }
        if access.writes() && !self.is_writable()? {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                Errno::EACCES,
                "mmap",
                raw,
                "the fd is open read-only, so the buffer can only be mapped for reading",
            ));
        }
        let prot = if access.writes() { libc::PROT_READ | libc::PROT_WRITE } else { libc::PROT_READ };
        let nz = NonZeroUsize::new(size).ok_or_else(|| Error::invalid("mmap", raw, "cannot map zero bytes"))?;
        // SAFETY: a fresh shared mapping at an address the kernel picks; it
        // aliases no Rust object. Its lifetime is managed by `Mapping`.
        let ptr = unsafe { crate::fd::mmap_shared(self.fd.as_fd(), nz, prot, offset) }.map_err(|e| match e {
            Errno::EOVERFLOW => too_big(),
            e => Error::os("mmap", raw, e),
        })?;
        Ok(Mapping { ptr: ptr.cast(), len: size, offset, access })
    }

    /// `DMA_BUF_IOCTL_EXPORT_SYNC_FILE`: a `sync_file` holding the buffer's
    /// current fences. `Access::Read` gives the fences a reader must wait for
    /// (pending writes); a writing access gives all of them. An idle buffer
    /// yields an already signalled `sync_file`. The new fd is close-on-exec and
    /// owned by the returned [`SyncFile`].
    ///
    /// # Errors
    /// `Unsupported` before Linux 6.0.
    #[doc(alias = "DMA_BUF_IOCTL_EXPORT_SYNC_FILE")]
    pub fn export_sync_file(&self, access: Access) -> Result<SyncFile> {
        let fd = sys::export_sync_file(self.fd.as_fd(), access.sync_file_flags()).map_err(|e| self.enotty(e, "6.0"))?;
        Ok(SyncFile::from_trusted(fd))
    }

    /// `DMA_BUF_IOCTL_IMPORT_SYNC_FILE`: adds the `sync_file`'s fence to the
    /// buffer, as a write fence (`Access::Write`/`ReadWrite`: later readers
    /// and writers wait for it) or a read fence (`Access::Read`: later
    /// writers wait for it). The kernel only borrows the `sync_file`: it stays
    /// owned by the caller and may be closed afterwards.
    ///
    /// # Errors
    /// `Unsupported` before Linux 6.0; `EINVAL` for a fd that is not a `sync_file`.
    #[doc(alias = "DMA_BUF_IOCTL_IMPORT_SYNC_FILE")]
    pub fn import_sync_file(&self, sync_file: &SyncFile, access: Access) -> Result<()> {
        sys::import_sync_file(self.fd.as_fd(), access.sync_file_flags(), sync_file.as_fd())
            .map_err(|e| self.enotty(e, "6.0"))
    }
}

/// `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` over several buffers: one `sync_file` per
/// buffer, in order (the wlroots/kmsroots "export" step before handing
/// buffers to another API).
///
/// All or nothing: if any export fails, the `sync_files` made so far are
/// closed and the error names the buffer's index. No other fd is touched.
///
/// # Errors
/// The first failing export's error, with the buffer's index in its text.
pub fn export_sync_files(bufs: &[&DmaBuf], access: Access) -> Result<Vec<SyncFile>> {
    let mut out = Vec::with_capacity(bufs.len());
    for (i, b) in bufs.iter().enumerate() {
        match b.export_sync_file(access) {
            Ok(s) => out.push(s),
            Err(e) => {
                let detail = format!("buffer {i} of {}: {}", bufs.len(), e.description());
                return Err(e.with_detail(detail)); // `out` drops here, closing what was made
            }
        }
    }
    Ok(out)
}

/// `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` of one `sync_file` into every buffer (the
/// wlroots/kmsroots "import" step: make implicit-sync users of all the
/// buffers wait for one fence).
///
/// The `sync_file` is borrowed, never closed. Every buffer is checked before
/// the first import, so a bad buffer fails the call with nothing attached;
/// a kernel failure part way leaves the fence on the earlier buffers (an
/// extra fence only makes their users wait for it; the kernel offers no way
/// to remove one). The error names the failing buffer's index.
///
/// # Errors
/// `NotDmaBuf` for a buffer whose fd is no longer a dma-buf, or the first
/// failing import's error, with the buffer's index in its text.
pub fn import_sync_file_all(bufs: &[&DmaBuf], sync_file: &SyncFile, access: Access) -> Result<()> {
    for (i, b) in bufs.iter().enumerate() {
        probe(b.as_fd(), "DMA_BUF_IOCTL_IMPORT_SYNC_FILE").map_err(|e| {
            let detail = format!("buffer {i} of {}: {}", bufs.len(), e.description());
            e.with_detail(detail)
        })?;
    }
    for (i, b) in bufs.iter().enumerate() {
        b.import_sync_file(sync_file, access).map_err(|e| {
            let detail = format!("buffer {i} of {}: {}", bufs.len(), e.description());
            e.with_detail(detail)
        })?;
    }
    Ok(())
}

impl AsFd for DmaBuf {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for DmaBuf {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<DmaBuf> for OwnedFd {
    fn from(b: DmaBuf) -> OwnedFd {
        b.fd
    }
}

impl TryFrom<OwnedFd> for DmaBuf {
    type Error = FromFdError;
    /// [`DmaBuf::from_owned`].
    fn try_from(fd: OwnedFd) -> std::result::Result<Self, FromFdError> {
        DmaBuf::from_owned(fd)
    }
}

/// CPU access in progress, begun by [`DmaBuf::begin_cpu_access`]. Ends on
/// drop (errors are then ignored) or by [`CpuAccess::end`].
#[must_use = "CPU access ends when the guard is dropped"]
#[derive(Debug)]
pub struct CpuAccess<'a> {
    buf: &'a DmaBuf,
    access: Access,
    ended: bool,
}

impl CpuAccess<'_> {
    /// The access this guard holds.
    #[must_use]
    pub fn access(&self) -> Access {
        self.access
    }

    /// `DMA_BUF_IOCTL_SYNC` with `DMA_BUF_SYNC_END`, reporting errors.
    ///
    /// # Errors
    /// As [`DmaBuf::sync_end`].
    pub fn end(mut self) -> Result<()> {
        self.ended = true;
        self.buf.sync_end(self.access)
    }
}

impl Drop for CpuAccess<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.buf.sync_end(self.access);
        }
    }
}

/// `EOVERFLOW`: a range to map that this address space cannot hold.
pub(crate) fn mmap_too_big(raw: Option<RawFd>) -> Error {
    Error::new(ErrorKind::InvalidArgument, Errno::EOVERFLOW, "mmap", raw, "the range does not fit this address space")
}

/// A shared memory mapping of (part of) a dma-buf. `munmap`s on drop.
///
/// The memory is shared with devices and other processes, so it can change
/// at any time: the safe accessors copy ([`Mapping::read`],
/// [`Mapping::write`]); slices are available through `unsafe` methods whose
/// callers promise that nothing else writes meanwhile.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    offset: u64,
    access: Access,
}

// SAFETY: a Mapping is plain memory owned by the process; nothing in it is
// tied to the creating thread, and shared access only copies bytes.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` methods only copy bytes in or out.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Adopts a mapping made elsewhere in the crate (a sealed memfd's, in
    /// [`crate::memfd`]): `munmap`ped once, when the `Mapping` goes.
    ///
    /// # Safety
    /// `ptr..ptr+len` is a mapping of its own, made by `mmap` at an address
    /// the kernel picked, that nothing else unmaps.
    pub(crate) unsafe fn from_raw_parts(ptr: NonNull<u8>, len: usize, offset: u64, access: Access) -> Mapping {
        Mapping { ptr, len, offset, access }
    }

    /// Start address of the mapping.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a mapping is never empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Offset of the mapping in the buffer.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The access the mapping was made with.
    pub fn access(&self) -> Access {
        self.access
    }

    fn check(&self, op: &'static str, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::invalid(
                op,
                None,
                format!("range {offset}+{len} is past the end of the {}-byte mapping", self.len),
            )),
        }
    }

    /// Copies `out.len()` bytes from `offset` of the mapping into `out`.
    ///
    /// # Errors
    /// `EINVAL` for a range past the end.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check("Mapping::read", offset, out.len())?;
        // SAFETY: `offset` is inside the mapping (checked above).
        let src = unsafe { self.ptr.as_ptr().add(offset) };
        // SAFETY: `src..src+len` is inside the mapping and `out` is a distinct
        // Rust buffer; shared memory is only read by a plain copy.
        unsafe { std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// Copies `data` into the mapping at `offset`.
    ///
    /// # Errors
    /// `EACCES` for a read-only mapping; `EINVAL` for a range past the end.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        if !self.access.writes() {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                Errno::EACCES,
                "Mapping::write",
                None,
                "the mapping is read-only",
            ));
        }
        self.check("Mapping::write", offset, data.len())?;
        // SAFETY: `offset` is inside the mapping (checked above).
        let dst = unsafe { self.ptr.as_ptr().add(offset) };
        // SAFETY: the range is inside a writable mapping (checked) and does
        // not overlap `data`, which is ordinary Rust memory.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        Ok(())
    }

    /// The mapping as a byte slice.
    ///
    /// # Safety
    /// While the slice lives, nothing may write to the buffer: not this
    /// process through another mapping, not another process, not a device.
    pub unsafe fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes; the caller rules out writers.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The mapping as a mutable byte slice.
    ///
    /// # Safety
    /// The mapping must be writable, and while the slice lives nothing else
    /// may read or write the buffer.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice(&self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes; the caller guarantees exclusivity and write access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Mapping {
    /// `mmap(MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS)` over the mapping:
    /// releases the dma-buf's pages at once but keeps the address range
    /// reserved, filled with private zero pages, until the returned
    /// [`Placeholder`] is dropped.
    ///
    /// For code that handed the mapping's address to someone it cannot stop
    /// (a thread pool, a garbage-collected runtime): whoever still holds the
    /// pointer reads zeros and writes into memory nobody else sees, instead
    /// of faulting on an unmapped range or, worse, reaching a dma-buf mapped
    /// later at the same address. Drop the placeholder only once nothing can
    /// hold the pointer any more.
    ///
    /// # Errors
    /// `ENOMEM` when the kernel cannot make the anonymous mapping; the
    /// mapping is then handed back, untouched, beside the error.
    #[doc(alias = "mmap")]
    pub fn into_placeholder(self) -> std::result::Result<Placeholder, (Error, Mapping)> {
        let Some(len) = NonZeroUsize::new(self.len) else {
            return Err((Error::invalid("mmap", None, "cannot replace an empty mapping"), self));
        };
        let flags = MapFlags::MAP_FIXED | MapFlags::MAP_PRIVATE | MapFlags::MAP_ANONYMOUS;
        let addr = NonZeroUsize::new(self.ptr.as_ptr() as usize);
        let prot = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
        // SAFETY: MAP_FIXED replaces exactly the range this Mapping owns (no
        // other Rust object lives there); its shared pages go away atomically,
        // so at no moment is the range unmapped for another mmap to take.
        match unsafe { nix::sys::mman::mmap_anonymous(addr, len, prot, flags) } {
            Ok(ptr) => {
                let placeholder = Placeholder { ptr: ptr.cast(), len: self.len };
                // The range now belongs to the placeholder: the Mapping must
                // not munmap it.
                std::mem::forget(self);
                Ok(placeholder)
            }
            Err(e) => Err((Error::os("mmap", None, e), self)),
        }
    }
}

/// An address range that used to hold a [`Mapping`], now private anonymous
/// memory (see [`Mapping::into_placeholder`]). `munmap`s on drop.
#[derive(Debug)]
pub struct Placeholder {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: plain private memory of the process, tied to no thread.
unsafe impl Send for Placeholder {}
// SAFETY: no method reads or writes through the pointer.
unsafe impl Sync for Placeholder {}

impl Placeholder {
    /// Start address of the range.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a placeholder is never empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Placeholder {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` is the anonymous mapping this placeholder owns;
        // its owner promised nothing holds a pointer into it any more.
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe a mapping made by `mmap` and not yet unmapped;
        // no reference into it outlives `self` (the unsafe slice methods borrow `self`).
        let _ = unsafe { munmap(self.ptr.cast(), self.len) };
    }
}
