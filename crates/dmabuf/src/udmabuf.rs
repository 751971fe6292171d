//! udmabuf: turns pages of a memfd into a dma-buf (`/dev/udmabuf`,
//! `UDMABUF_CREATE`, `UDMABUF_CREATE_LIST`; Linux 4.20, `CONFIG_UDMABUF`).
//!
//! The memfd must be sealed against shrinking (`F_SEAL_SHRINK`) and must not
//! be sealed against writing; offsets and sizes must be page-aligned. The
//! memfd stays usable: bytes written through it appear in the dma-buf and
//! the other way round.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag, SealFlag};
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::sys::stat::Mode;

use crate::dma_buf::DmaBuf;
use crate::error::{Error, ErrorKind, Result};
use crate::fd::page_size;
use crate::sys;

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

/// Opens a device node read-write and close-on-exec, with errors that say
/// what is missing or not permitted.
pub(crate) fn open_node(path: &Path, what: &str, config: &str) -> Result<OwnedFd> {
    nix::fcntl::open(path, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty()).map_err(|e| {
        let shown = path.display();
        let detail = match e {
            Errno::ENOENT => format!("{shown} does not exist: this kernel has no {what} (it needs {config}) or the module is not loaded"),
            Errno::EACCES | Errno::EPERM => {
                format!("permission denied opening {shown}: the device node's permissions do not let this user open it read-write")
            }
            _ => format!("cannot open {shown}: {}", e.desc()),
        };
        Error::os("open", None, e).with_detail(detail)
    })
}

/// Creates a memfd of `size` bytes sealed with `F_SEAL_SHRINK`, ready for udmabuf.
///
/// `memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING)`, `ftruncate`,
/// `fcntl(F_ADD_SEALS, F_SEAL_SHRINK)`.
pub fn sealed_memfd(name: &str, size: u64) -> Result<OwnedFd> {
    let cname = CString::new(name).map_err(|_| Error::invalid("memfd_create", None, "the name cannot contain a NUL byte"))?;
    let fd = memfd_create(cname.as_c_str(), MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING).map_err(|e| Error::os("memfd_create", None, e))?;
    let raw = Some(fd.as_raw_fd());
    nix::unistd::ftruncate(&fd, size as i64).map_err(|e| Error::os("ftruncate", raw, e))?;
    fcntl(&fd, FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SHRINK)).map_err(|e| Error::os("fcntl(F_ADD_SEALS)", raw, e))?;
    Ok(fd)
}

fn round_up_page(size: u64) -> Option<u64> {
    let page = page_size() as u64;
    size.checked_add(page - 1).map(|s| s / page * page)
}

/// Checks a memfd range before the kernel sees it, so that the error says
/// which rule was broken instead of a bare `EINVAL`.
fn check_range(op: &'static str, r: &Range<'_>) -> Result<()> {
    let raw = Some(r.memfd.as_raw_fd());
    let page = page_size() as u64;
    let seals = fcntl(r.memfd, FcntlArg::F_GET_SEALS).map_err(|e| match e {
        Errno::EINVAL => Error::new(ErrorKind::InvalidArgument, Errno::EINVAL, op, raw, format!("not a memfd (it is {})", crate::fd::describe(r.memfd))),
        e => Error::os(op, raw, e),
    })?;
    let seals = SealFlag::from_bits_truncate(seals);
    if !seals.contains(SealFlag::F_SEAL_SHRINK) {
        return Err(Error::invalid(op, raw, "the memfd must be sealed with F_SEAL_SHRINK (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))"));
    }
    if seals.contains(SealFlag::F_SEAL_WRITE) {
        return Err(Error::invalid(op, raw, "the memfd must not be sealed with F_SEAL_WRITE"));
    }
    if r.offset % page != 0 {
        return Err(Error::invalid(op, raw, format!("offset {} is not a multiple of the page size ({page})", r.offset)));
    }
    if r.size == 0 || r.size % page != 0 {
        return Err(Error::invalid(op, raw, format!("size {} is not a non-zero multiple of the page size ({page})", r.size)));
    }
    let st = nix::sys::stat::fstat(r.memfd).map_err(|e| Error::os(op, raw, e))?;
    match r.offset.checked_add(r.size) {
        Some(end) if end <= st.st_size as u64 => Ok(()),
        _ => Err(Error::invalid(op, raw, format!("range {}+{} is past the end of the {}-byte memfd", r.offset, r.size, st.st_size))),
    }
}

impl Udmabuf {
    /// Opens `/dev/udmabuf`.
    ///
    /// # Errors
    /// `NotFound` with a hint about `CONFIG_UDMABUF`; `PermissionDenied`.
    pub fn open() -> Result<Udmabuf> {
        Self::open_path(DEFAULT_PATH)
    }

    /// Opens a udmabuf device node at `path`.
    pub fn open_path(path: impl AsRef<Path>) -> Result<Udmabuf> {
        Ok(Udmabuf { dev: open_node(path.as_ref(), "udmabuf device", "CONFIG_UDMABUF, Linux 4.20+")? })
    }

    /// The device node's path, for messages.
    pub fn default_path() -> PathBuf {
        PathBuf::from(DEFAULT_PATH)
    }

    /// `UDMABUF_CREATE`: a dma-buf over `size` bytes at `offset` of `memfd`
    /// (borrowed: the caller keeps it and may go on using it).
    #[doc(alias = "UDMABUF_CREATE")]
    pub fn create(&self, memfd: impl AsFd, offset: u64, size: u64) -> Result<DmaBuf> {
        let r = Range { memfd: memfd.as_fd(), offset, size };
        check_range("UDMABUF_CREATE", &r)?;
        DmaBuf::from_trusted(sys::udmabuf_create(self.dev.as_fd(), r.memfd, offset, size)?)
    }

    /// `UDMABUF_CREATE_LIST`: one dma-buf over several memfd ranges, in order.
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
            .map(|r| sys::UdmabufCreateItem { memfd: r.memfd.as_raw_fd() as u32, pad: 0, offset: r.offset, size: r.size })
            .collect();
        DmaBuf::from_trusted(sys::udmabuf_create_list(self.dev.as_fd(), &items)?)
    }

    /// A new sealed memfd of `size` bytes (rounded up to a page) and a
    /// dma-buf over all of it. The memfd is returned too, so its bytes can be
    /// reached through it (`pread`/`pwrite`, or a second mapping).
    pub fn alloc_with_memfd(&self, size: u64) -> Result<(DmaBuf, OwnedFd)> {
        if size == 0 {
            return Err(Error::invalid("UDMABUF_CREATE", None, "cannot allocate zero bytes"));
        }
        let rounded = round_up_page(size).ok_or_else(|| Error::invalid("UDMABUF_CREATE", None, format!("size {size} is too large")))?;
        let memfd = sealed_memfd("dmabuf-udmabuf", rounded)?;
        let buf = self.create(&memfd, 0, rounded)?;
        Ok((buf, memfd))
    }

    /// A dma-buf of `size` bytes (rounded up to a page) over a new sealed
    /// memfd, named `udmabuf` in fdinfo. The memfd is closed; the buffer keeps its pages.
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
