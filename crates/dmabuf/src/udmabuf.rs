//! udmabuf: turns pages of a memfd into a dma-buf (`/dev/udmabuf`,
//! `UDMABUF_CREATE`, `UDMABUF_CREATE_LIST`; Linux 4.20, `CONFIG_UDMABUF`).
//!
//! The memfd must be sealed against shrinking (`F_SEAL_SHRINK`) and must not
//! be sealed against writing; offsets and sizes must be page-aligned. The
//! memfd stays usable: bytes written through it appear in the dma-buf and
//! the other way round, for as long as the memfd keeps those pages. The
//! dma-buf pins the pages it was made from: a hole punched in the memfd
//! afterwards (`fallocate(FALLOC_FL_PUNCH_HOLE)`, which `F_SEAL_SHRINK` does
//! not forbid and any process that reopens the memfd through `/proc` can
//! do) gives the memfd new zero pages there, and the dma-buf keeps the old
//! bytes. Where that matters, keep the memfd to yourself.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};

use crate::dma_buf::DmaBuf;
use crate::error::{Error, ErrorKind, Result};
use crate::fd::{check_device, describe, open_node, page_size_u64};
use crate::guard::check_alloc_size;
use crate::sys::udmabuf as sys;

/// The udmabuf device node.
pub const DEFAULT_PATH: &str = "/dev/udmabuf";

/// An open `/dev/udmabuf`.
#[derive(Debug)]
pub struct Udmabuf {
    dev: OwnedFd,
}

/// One range of a memfd, for [`Udmabuf::create_list`].
#[derive(Debug, Clone, Copy)]
pub struct Range<'a> {
    /// The memfd (borrowed; the caller keeps it).
    pub memfd: BorrowedFd<'a>,
    /// Byte offset in the memfd (page-aligned).
    pub offset: u64,
    /// Length in bytes (page-aligned, non-zero).
    pub size: u64,
}

/// Creates a memfd of `size` bytes sealed with `F_SEAL_SHRINK`, ready for udmabuf.
///
/// `memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING)`, `ftruncate`,
/// `fcntl(F_ADD_SEALS, F_SEAL_SHRINK)`.
///
/// # Errors
/// `InvalidArgument` for a name with a NUL byte; `EFBIG` for a size past
/// what a file can hold; `EMFILE`, `ENOMEM`.
pub fn sealed_memfd(name: &str, size: u64) -> Result<OwnedFd> {
    let cname =
        CString::new(name).map_err(|_| Error::invalid("memfd_create", None, "the name cannot contain a NUL byte"))?;
    let fd = memfd_create(cname.as_c_str(), MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING)
        .map_err(|e| Error::os("memfd_create", None, e))?;
    let raw = Some(fd.as_raw_fd());
    crate::fd::truncate(fd.as_fd(), size).map_err(|e| Error::os("ftruncate", raw, e))?;
    fcntl(&fd, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SHRINK)).map_err(|e| Error::os("fcntl(F_ADD_SEALS)", raw, e))?;
    Ok(fd)
}

fn round_up_page(size: u64) -> Option<u64> {
    let page = page_size_u64();
    size.checked_add(page - 1).map(|s| s / page * page)
}

/// Checks a memfd range before the kernel sees it, so that the error says
/// which rule was broken instead of a bare `EINVAL`.
fn check_range(op: &'static str, r: &Range<'_>) -> Result<()> {
    let raw = Some(r.memfd.as_raw_fd());
    let page = page_size_u64();
    let seals = fcntl(r.memfd, FcntlArg::F_GET_SEALS).map_err(|e| match e {
        Errno::EINVAL => Error::new(
            ErrorKind::InvalidArgument,
            Errno::EINVAL,
            op,
            raw,
            format!("not a memfd (it is {})", describe(r.memfd)),
        ),
        e => Error::os(op, raw, e),
    })?;
    let seals = SealFlag::from_bits_truncate(seals);
    if !seals.contains(SealFlag::F_SEAL_SHRINK) {
        return Err(Error::invalid(
            op,
            raw,
            "the memfd must be sealed with F_SEAL_SHRINK (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))",
        ));
    }
    if seals.contains(SealFlag::F_SEAL_WRITE) {
        return Err(Error::invalid(op, raw, "the memfd must not be sealed with F_SEAL_WRITE"));
    }
    if r.offset % page != 0 {
        return Err(Error::invalid(
            op,
            raw,
            format!("offset {} is not a multiple of the page size ({page})", r.offset),
        ));
    }
    if r.size == 0 || r.size % page != 0 {
        return Err(Error::invalid(
            op,
            raw,
            format!("size {} is not a non-zero multiple of the page size ({page})", r.size),
        ));
    }
    let st = crate::fd::stat(r.memfd).map_err(|e| Error::os(op, raw, e))?;
    let file_size = u64::try_from(st.st_size).unwrap_or(0);
    match r.offset.checked_add(r.size) {
        Some(end) if end <= file_size => Ok(()),
        _ => Err(Error::invalid(
            op,
            raw,
            format!("range {}+{} is past the end of the {}-byte memfd", r.offset, r.size, st.st_size),
        )),
    }
}

/// Where udmabuf's size limit lives (a module parameter, in MiB; root may
/// raise it).
const SIZE_LIMIT: &str = "/sys/module/udmabuf/parameters/size_limit_mb";

/// `EINVAL` from `UDMABUF_CREATE*` for a size past the module's
/// `size_limit_mb` says so, instead of a bare "Invalid argument".
fn size_limit_hint(e: Error, size: u64) -> Error {
    if e.errno() != Errno::EINVAL {
        return e;
    }
    let Some(limit_mb) = std::fs::read_to_string(SIZE_LIMIT).ok().and_then(|s| s.trim().parse::<u64>().ok()) else {
        return e;
    };
    if size > limit_mb.saturating_mul(1 << 20) {
        e.with_detail(format!(
            "{size} bytes is more than udmabuf's limit of {limit_mb} MiB ({SIZE_LIMIT}; root can raise it)"
        ))
    } else {
        e
    }
}

impl Udmabuf {
    /// `open("/dev/udmabuf", O_RDWR | O_CLOEXEC)`.
    ///
    /// # Errors
    /// `NotFound` with a hint about `CONFIG_UDMABUF`; `PermissionDenied`
    /// naming the node.
    pub fn open() -> Result<Udmabuf> {
        Self::open_path(DEFAULT_PATH)
    }

    /// `open(path, O_RDWR | O_CLOEXEC)`: a udmabuf device node elsewhere,
    /// checked (through sysfs) to be udmabuf's.
    ///
    /// # Errors
    /// As [`Udmabuf::open`]; `InvalidArgument` (`ENOTTY`) for any other file.
    pub fn open_path(path: impl AsRef<Path>) -> Result<Udmabuf> {
        let path = path.as_ref();
        let dev = open_node(path, OFlag::O_RDWR, "udmabuf device", "CONFIG_UDMABUF, Linux 4.20+")?;
        check_device(dev.as_fd(), path, "misc/udmabuf", "udmabuf device")?;
        Ok(Udmabuf { dev })
    }

    /// `UDMABUF_CREATE`: a dma-buf over `size` bytes at `offset` of `memfd`
    /// (borrowed: the caller keeps it and may go on using it).
    ///
    /// # Errors
    /// `InvalidArgument` for a memfd that is not sealed with `F_SEAL_SHRINK`
    /// or is sealed against writing, an unaligned or zero range, or one past
    /// the memfd's end; the kernel's errors (`ENOMEM`).
    #[doc(alias = "UDMABUF_CREATE")]
    pub fn create(&self, memfd: impl AsFd, offset: u64, size: u64) -> Result<DmaBuf> {
        let r = Range { memfd: memfd.as_fd(), offset, size };
        check_range("UDMABUF_CREATE", &r)?;
        let fd = sys::create(self.dev.as_fd(), r.memfd, offset, size).map_err(|e| size_limit_hint(e, size))?;
        DmaBuf::from_trusted(fd)
    }

    /// `UDMABUF_CREATE_LIST`: one dma-buf over several memfd ranges, in order.
    ///
    /// # Errors
    /// `InvalidArgument` for an empty list or any range that
    /// [`Udmabuf::create`] would refuse; the kernel's errors (`EINVAL` past
    /// its limit on ranges, `ENOMEM`).
    #[doc(alias = "UDMABUF_CREATE_LIST")]
    pub fn create_list(&self, ranges: &[Range<'_>]) -> Result<DmaBuf> {
        if ranges.is_empty() {
            return Err(Error::invalid("UDMABUF_CREATE_LIST", None, "at least one range is needed"));
        }
        for r in ranges {
            check_range("UDMABUF_CREATE_LIST", r)?;
        }
        let items: Vec<sys::UdmabufCreateItem> = ranges
            .iter()
            .map(|r| sys::UdmabufCreateItem { memfd: sys::fd_u32(r.memfd), pad: 0, offset: r.offset, size: r.size })
            .collect();
        let total = ranges.iter().fold(0u64, |t, r| t.saturating_add(r.size));
        DmaBuf::from_trusted(sys::create_list(self.dev.as_fd(), &items).map_err(|e| size_limit_hint(e, total))?)
    }

    /// A new sealed memfd of `size` bytes (rounded up to a page) and a
    /// dma-buf over all of it. The memfd is returned too, so its bytes can be
    /// reached through it (`pread`/`pwrite`, or a second mapping).
    ///
    /// # Errors
    /// `InvalidArgument` for zero bytes or a size that cannot be rounded up;
    /// `ENOMEM` for more than this machine's memory (refused before any
    /// memfd is made) or from the kernel; `EMFILE`.
    pub fn alloc_with_memfd(&self, size: u64) -> Result<(DmaBuf, OwnedFd)> {
        if size == 0 {
            return Err(Error::invalid("UDMABUF_CREATE", None, "cannot allocate zero bytes"));
        }
        let rounded = round_up_page(size)
            .ok_or_else(|| Error::invalid("UDMABUF_CREATE", None, format!("size {size} is too large")))?;
        check_alloc_size("UDMABUF_CREATE", rounded)?;
        // Errors name no fd: the memfd is ours and closed by the time the
        // caller sees them.
        let memfd = sealed_memfd("dmabuf-udmabuf", rounded).map_err(Error::without_fd)?;
        let buf = self.create(&memfd, 0, rounded).map_err(Error::without_fd)?;
        Ok((buf, memfd))
    }

    /// A dma-buf of `size` bytes (rounded up to a page) over a new sealed
    /// memfd, named `udmabuf` in fdinfo. The memfd is closed; the buffer keeps its pages.
    ///
    /// # Errors
    /// As [`Udmabuf::alloc_with_memfd`].
    pub fn alloc(&self, size: u64) -> Result<DmaBuf> {
        let (buf, _memfd) = self.alloc_with_memfd(size)?;
        buf.set_default_name("udmabuf");
        Ok(buf)
    }
}

impl AsFd for Udmabuf {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.as_fd()
    }
}
