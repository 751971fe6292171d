//! Memory another process shares as a memfd (GStreamer's `GstShmAllocator`,
//! Wayland's `wl_shm` pools, a `PassedFd` from [`crate::fdpass`]), mapped
//! so that its sender cannot take it away under the mapping.
//!
//! A file mapping past the file's end raises `SIGBUS` at the first access,
//! so a sender that truncates its memfd could kill the receiver. A memfd
//! sealed with `F_SEAL_SHRINK` can never shrink: that seal is what makes a
//! foreign memfd safe to map, and [`map_sealed`] maps nothing else.

use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

use crate::dma_buf::{mmap_too_big, Access, Mapping};
use crate::error::{Error, Result};
use crate::fd::{mmap_file, page_size_u64, stat};

/// Maps `len` bytes at `offset` (any byte offset) of a memfd sealed against
/// shrinking, copy-on-write: `fcntl(F_GET_SEALS)`, `fstat`, then
/// `mmap(PROT_READ | PROT_WRITE, MAP_PRIVATE)` from the page that holds
/// `offset`.
///
/// The mapping shows the memfd's bytes as its sender writes them; a page
/// the receiver writes becomes its own private copy, so writes never reach
/// the sender and a read-only fd is enough. The returned [`Mapping`] starts
/// at the page boundary at or below `offset` ([`Mapping::offset`]), so the
/// memory asked for begins `offset - mapping.offset()` bytes into it; its
/// access is [`Access::Read`] (its `write` refuses).
///
/// # Errors
/// `InvalidArgument` (`EINVAL`) for a zero length, a range past the file's
/// end, or an fd that is not a memfd sealed with `F_SEAL_SHRINK` (any other
/// file, or a memfd without the seal, could shrink under the mapping);
/// `EOVERFLOW` for a range this address space cannot hold; `mmap`'s errno
/// otherwise (`ENOMEM`, `ENODEV`).
#[doc(alias = "mmap")]
#[doc(alias = "F_GET_SEALS")]
pub fn map_sealed(fd: BorrowedFd<'_>, offset: u64, len: u64) -> Result<Mapping> {
    let raw = Some(fd.as_raw_fd());
    // SAFETY: F_GET_SEALS only reads the fd's file; files other than shmem
    // and hugetlbfs ones answer EINVAL.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals < 0 {
        let e = Errno::last();
        return Err(if e == Errno::EINVAL {
            Error::invalid(
                "fcntl(F_GET_SEALS)",
                raw,
                "the fd is not a memfd: only a memfd sealed with F_SEAL_SHRINK is safe to map (another file could shrink under the mapping and raise SIGBUS); copy its bytes instead",
            )
        } else {
            Error::os("fcntl(F_GET_SEALS)", raw, e)
        });
    }
    if seals & libc::F_SEAL_SHRINK == 0 {
        return Err(Error::invalid(
            "fcntl(F_GET_SEALS)",
            raw,
            "the memfd is not sealed with F_SEAL_SHRINK: its owner could truncate it under the mapping and raise SIGBUS; copy its bytes instead",
        ));
    }
    let size = stat(fd).map_err(|e| Error::os("fstat", raw, e))?.st_size;
    let size = u64::try_from(size).unwrap_or(0);
    if len == 0 {
        return Err(Error::invalid("mmap", raw, "cannot map zero bytes"));
    }
    match offset.checked_add(len) {
        Some(end) if end <= size => {}
        _ => {
            return Err(Error::invalid(
                "mmap",
                raw,
                format!("range {offset}+{len} is past the end of the {size}-byte memfd"),
            ))
        }
    }
    let start = offset - offset % page_size_u64();
    let too_big = || mmap_too_big(raw);
    let total = usize::try_from(len + (offset - start)).map_err(|_| too_big())?;
    let nz = NonZeroUsize::new(total).ok_or_else(|| Error::invalid("mmap", raw, "cannot map zero bytes"))?;
    // SAFETY: a fresh private mapping at an address the kernel picks; it
    // aliases no Rust object, and the Mapping made below owns it.
    let ptr = unsafe { mmap_file(fd, nz, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE, start) }.map_err(
        |e| match e {
            Errno::EOVERFLOW => too_big(),
            e => Error::os("mmap", raw, e),
        },
    )?;
    // SAFETY: made just above, of `total` bytes, and unmapped only by the Mapping.
    Ok(unsafe { Mapping::from_raw_parts(ptr.cast(), total, start, Access::Read) })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsFd;

    use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    use nix::sys::memfd::{memfd_create, MFdFlags};

    use super::*;

    fn memfd(bytes: &[u8], seal: bool) -> std::fs::File {
        let mut f = std::fs::File::from(
            memfd_create(c"map-sealed", MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING).unwrap(),
        );
        f.write_all(bytes).unwrap();
        if seal {
            fcntl(f.as_fd(), FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SHRINK)).unwrap();
        }
        f
    }

    #[test]
    fn maps_a_sealed_memfd_at_any_offset_and_keeps_writes_private() {
        let page = usize::try_from(page_size_u64()).unwrap();
        let data: Vec<u8> = (0..2 * page + 100).map(|i| u8::try_from(i % 251).unwrap()).collect();
        let f = memfd(&data, true);
        let off = page + 7;
        let m = map_sealed(f.as_fd(), off as u64, 500).unwrap();
        assert_eq!(m.offset(), page as u64);
        assert_eq!(m.len(), 507);
        let mut got = vec![0u8; 500];
        m.read(7, &mut got).unwrap();
        assert_eq!(got, &data[off..off + 500]);
        assert!(m.write(0, &[1]).is_err(), "a copy-on-write mapping reports read access");
        // SAFETY: the mapping is ours and nothing else reads it now.
        unsafe { m.as_mut_slice()[7] = 0xee };
        let mut file_byte = [0u8; 1];
        std::os::unix::fs::FileExt::read_at(&f, &mut file_byte, off as u64).unwrap();
        assert_eq!(file_byte[0], data[off], "a write to the mapping never reaches the memfd");
    }

    #[test]
    fn refuses_what_could_shrink_and_ranges_past_the_end() {
        let unsealed = memfd(&[7; 4096], false);
        let e = map_sealed(unsealed.as_fd(), 0, 4096).unwrap_err();
        assert_eq!(e.errno(), Errno::EINVAL);
        assert!(e.to_string().contains("F_SEAL_SHRINK"), "{e}");
        let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
        let e = map_sealed(dir.as_fd(), 0, 1).unwrap_err();
        assert!(e.to_string().contains("not a memfd"), "{e}");
        let sealed = memfd(&[7; 4096], true);
        assert!(map_sealed(sealed.as_fd(), 4000, 97).unwrap_err().to_string().contains("past the end"));
        assert!(map_sealed(sealed.as_fd(), u64::MAX, 2).is_err());
        assert!(map_sealed(sealed.as_fd(), 0, 0).is_err());
    }
}
