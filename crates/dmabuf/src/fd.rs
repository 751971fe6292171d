//! Fd helpers shared by every kernel interface module: duplication, access
//! modes, descriptions for error messages, `/proc/self/fdinfo`, the size
//! probe, opening device nodes with errors that say what is missing, waiting
//! for an fd with `poll`, and the page size. Bottom layer: it depends on [`crate::error`] only.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::stat::{Mode, SFlag};

use crate::error::{Error, ErrorKind, Result};

/// The operation name used for every duplication.
pub(crate) const DUP_OP: &str = "fcntl(F_DUPFD_CLOEXEC)";

/// `fcntl(F_DUPFD_CLOEXEC)`: a new close-on-exec fd for the same open file.
pub(crate) fn dup_cloexec(fd: BorrowedFd<'_>) -> Result<OwnedFd> {
    let raw = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(3)).map_err(|e| Error::os(DUP_OP, Some(fd.as_raw_fd()), e))?;
    // SAFETY: F_DUPFD_CLOEXEC just returned this new fd; we are its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Duplicates a raw fd number that the caller keeps owning.
///
/// A closed or invalid number gives `EBADF` without touching any other fd.
pub(crate) fn dup_raw(fd: RawFd) -> Result<OwnedFd> {
    if fd < 0 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            Errno::EBADF,
            DUP_OP,
            Some(fd),
            "a file descriptor must be a non-negative integer",
        ));
    }
    // SAFETY: F_DUPFD_CLOEXEC only reads `fd`; an invalid number yields EBADF.
    let r = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    let raw = Errno::result(r).map_err(|e| Error::os(DUP_OP, Some(fd), e))?;
    // SAFETY: F_DUPFD_CLOEXEC just returned this new fd; we are its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// The access mode the fd was opened with.
pub(crate) fn access_mode(fd: BorrowedFd<'_>) -> Result<OFlag> {
    let fl = fcntl(fd, FcntlArg::F_GETFL).map_err(|e| Error::os("fcntl(F_GETFL)", Some(fd.as_raw_fd()), e))?;
    Ok(OFlag::from_bits_truncate(fl) & OFlag::O_ACCMODE)
}

/// What `/proc/self/fd/<fd>` links to (empty when unreadable).
pub(crate) fn link(fd: BorrowedFd<'_>) -> String {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A short description of what an fd is, for "not a dma-buf" messages.
pub(crate) fn describe(fd: impl AsFd) -> String {
    let fd = fd.as_fd();
    let link = link(fd);
    let kind = match stat(fd) {
        Ok(st) => match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG if link.starts_with("/memfd:") => "a memfd",
            SFlag::S_IFREG => "a regular file",
            SFlag::S_IFDIR => "a directory",
            SFlag::S_IFIFO => "a pipe",
            SFlag::S_IFSOCK => "a socket",
            SFlag::S_IFCHR => "a character device",
            SFlag::S_IFBLK => "a block device",
            _ => "another kind of file",
        },
        Err(_) => "unknown",
    };
    if link.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {link}")
    }
}

/// Reads `/proc/self/fdinfo/<fd>` into (key, value) pairs.
pub(crate) fn fdinfo(fd: BorrowedFd<'_>) -> Result<Vec<(String, String)>> {
    let path = format!("/proc/self/fdinfo/{}", fd.as_raw_fd());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::os("read /proc/self/fdinfo", Some(fd.as_raw_fd()), Errno::from_raw(e.raw_os_error().unwrap_or(0)))
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// What an fd is, as the kernel itself writes it down: its `/proc/self/fd`
/// link names an anonymous inode (`anon_inode:sync_file`) or the dma-buf
/// filesystem's (`/dmabuf:NAME`). An anonymous inode's name cannot be
/// faked (a path always starts with `/`), but a file in a mount of another
/// namespace can be named `/dmabuf:x`, so a dma-buf is confirmed by the
/// `exp_name:` line that only the dma-buf core writes into its
/// `/proc/self/fdinfo` entry, which also gives its size.
///
/// Neither read reaches the file's own filesystem: the link's name and the
/// fdinfo header (`pos`, `flags`, `mnt_id`, `ino`) come from the kernel's
/// own records, and a file's `show_fdinfo` hook exists only where its
/// driver writes one (FUSE, NFS and other network filesystems have none).
/// `fstat`, `fstatfs` and `lseek(SEEK_END)` would: on a FUSE file each asks
/// its daemon, which may never answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A dma-buf of this size.
    DmaBuf(u64),
    SyncFile,
    Other,
}

/// [`Kind`] of `fd`: one `readlink`, and for a dma-buf one fdinfo read.
/// Where `/proc` cannot be read, every fd is `Other`.
pub(crate) fn kind(fd: BorrowedFd<'_>) -> Kind {
    let link = link(fd);
    if link == "anon_inode:sync_file" {
        return Kind::SyncFile;
    }
    if link.starts_with("/dmabuf:") {
        if let Ok(info) = fdinfo(fd) {
            let size = info.iter().find(|(k, _)| k == "size").and_then(|(_, v)| v.parse().ok());
            if let (true, Some(size)) = (info.iter().any(|(k, _)| k == "exp_name"), size) {
                return Kind::DmaBuf(size);
            }
        }
    }
    Kind::Other
}

/// Whether `close(fd)` returns at once whatever the file is: a dma-buf, an
/// anonymous inode (`sync_file`, eventfd, ...), a pipe, a memfd
/// (`F_GET_SEALS` answers only for shmem and hugetlbfs files), a Unix
/// socket, or a file or directory on a local filesystem of this mount
/// namespace (its mount, from fdinfo's `mnt_id`, in `/proc/self/mountinfo`
/// with a type in [`LOCAL_FS`]), or one of the memory devices (`/dev/null`,
/// `/dev/zero`, ...). Any other file may have a `flush` that asks a server
/// on each `close` (FUSE sends `FUSE_FLUSH` and waits for the daemon's
/// answer, NFS writes back), a device's release may wait, and a TCP socket
/// may linger.
pub(crate) fn closes_at_once(fd: BorrowedFd<'_>) -> bool {
    let link = link(fd);
    if link.starts_with("anon_inode:") || link.starts_with("pipe:[") {
        return true;
    }
    if link.starts_with("socket:[") {
        return domain_is_unix(fd);
    }
    // SAFETY: F_GET_SEALS only reads the fd's file; other files answer EINVAL.
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if seals >= 0 {
        return true;
    }
    if matches!(kind(fd), Kind::DmaBuf(_)) {
        return true;
    }
    let Ok(info) = fdinfo(fd) else { return false };
    let Some(mnt) = info.iter().find(|(k, _)| k == "mnt_id").map(|(_, v)| v.as_str()) else { return false };
    if !mount_type(mnt).is_some_and(|t| LOCAL_FS.contains(&t.as_str())) {
        return false;
    }
    // A local filesystem answers fstat itself; a device node's release is its driver's.
    match stat(fd) {
        Ok(st) => match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG | SFlag::S_IFDIR | SFlag::S_IFLNK => true,
            // The memory devices (major 1: null, zero, full, random, ...).
            SFlag::S_IFCHR => nix::sys::stat::major(st.st_rdev) == 1,
            _ => false,
        },
        Err(_) => false,
    }
}

/// Filesystem types whose files close without asking anyone: kept in
/// memory or on a local block device.
const LOCAL_FS: &[&str] =
    &["tmpfs", "devtmpfs", "ramfs", "proc", "sysfs", "devpts", "ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "f2fs"];

/// The type of mount `id` of this mount namespace (`/proc/self/mountinfo`:
/// `ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE SOURCE ...`).
fn mount_type(id: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let line = text.lines().find(|l| l.split(' ').next() == Some(id))?;
    let (_, after) = line.split_once(" - ")?;
    after.split(' ').next().map(str::to_string)
}

fn domain_is_unix(fd: BorrowedFd<'_>) -> bool {
    let mut domain: libc::c_int = 0;
    let mut len = libc::socklen_t::try_from(size_of::<libc::c_int>()).unwrap_or(4);
    // SAFETY: SO_DOMAIN writes one c_int into `domain`, whose size `len` gives.
    let r = unsafe {
        libc::getsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_DOMAIN, (&raw mut domain).cast(), &raw mut len)
    };
    r == 0 && domain == libc::AF_UNIX
}

/// Closes an fd that another process chose (a received one, one taken with
/// `pidfd_getfd`) without waiting on what that process controls: one that
/// [`closes_at_once`] is closed here, any other on a helper thread started
/// on first use (`dmabuf-close`), which closes them one after another. A
/// file whose server never answers then holds that thread (and the fds
/// queued behind it) instead of the caller.
pub(crate) fn close_detached(fd: OwnedFd) {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::{Mutex, OnceLock};
    static CLOSER: OnceLock<Option<Mutex<Sender<OwnedFd>>>> = OnceLock::new();
    if closes_at_once(fd.as_fd()) {
        return drop(fd);
    }
    let closer = CLOSER.get_or_init(|| {
        let (tx, rx) = channel::<OwnedFd>();
        std::thread::Builder::new()
            .name("dmabuf-close".into())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok()
            .map(|_| Mutex::new(tx))
    });
    match closer {
        // A send fails only when the thread is gone: the fd comes back, closed here.
        Some(tx) => {
            if let Err(back) = tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(fd) {
                drop(back.0);
            }
        }
        None => drop(fd),
    }
}

/// `poll` on one fd until it is ready for `events` (its `revents`) or
/// `timeout` passes (`None`). A `None` timeout, and one too long for the
/// monotonic clock to express, wait for ever. `EINTR` and early wake-ups
/// poll again for the time that is left, rounded up to whole milliseconds so
/// that a sub-millisecond rest still waits rather than spins.
pub(crate) fn poll_ready(
    fd: BorrowedFd<'_>,
    events: PollFlags,
    timeout: Option<Duration>,
) -> Result<Option<PollFlags>> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let wait = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let ms = i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX);
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(fd, events)];
        match poll(&mut fds, wait) {
            Ok(0) if deadline.is_some_and(|d| Instant::now() < d) => {}
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(fds[0].revents().unwrap_or(PollFlags::empty()))),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::os("poll", Some(fd.as_raw_fd()), e)),
        }
    }
}

/// The size of a file whose `llseek` answers `SEEK_END` with it (a dma-buf:
/// `dma_buf_llseek`), leaving the offset at 0.
pub(crate) fn seek_size(fd: BorrowedFd<'_>) -> Result<u64> {
    let raw = Some(fd.as_raw_fd());
    let end = seek(fd, libc::SEEK_END).map_err(|e| Error::os("lseek", raw, e))?;
    seek(fd, libc::SEEK_SET).map_err(|e| Error::os("lseek", raw, e))?;
    Ok(end)
}

/// Opens a device node close-on-exec, with errors that say what is missing
/// (`what` needs `config`) or not permitted.
pub(crate) fn open_node(path: &Path, access: OFlag, what: &str, config: &str) -> Result<OwnedFd> {
    nix::fcntl::open(path, access | OFlag::O_CLOEXEC, Mode::empty()).map_err(|e| {
        let shown = path.display();
        let detail = match e {
            Errno::ENOENT => {
                format!("{shown} does not exist: this kernel has no {what} (it needs {config}) or the module is not loaded")
            }
            Errno::EACCES | Errno::EPERM => {
                let mode = if access == OFlag::O_RDONLY { "" } else { " read-write" };
                format!("permission denied opening {shown}: the device node's permissions do not let this user open it{mode}")
            }
            _ => format!("cannot open {shown}: {}", e.desc()),
        };
        Error::os("open", None, e).with_detail(detail)
    })
}

/// Checks, through sysfs, that an opened character device is the `driver`'s
/// (`/sys/dev/char/MAJOR:MINOR` links to a path that ends in `/<name>` under
/// `class_dir`, e.g. `misc/udmabuf` or `dma_heap/system`), so that a wrong
/// path fails at once and says so instead of with `ENOTTY` at the first
/// ioctl. Where sysfs cannot be read, the device is taken as it is.
pub(crate) fn check_device(fd: BorrowedFd<'_>, path: &Path, class_dir: &str, what: &str) -> Result<()> {
    let not_it = |is: String| {
        Error::new(
            ErrorKind::InvalidArgument,
            Errno::ENOTTY,
            "open",
            None,
            format!("{} is not a {what} (it is {is})", path.display()),
        )
    };
    let st = stat(fd).map_err(|e| Error::os("fstat", Some(fd.as_raw_fd()), e))?;
    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFCHR {
        return Err(not_it(describe(fd)));
    }
    let (major, minor) = (nix::sys::stat::major(st.st_rdev), nix::sys::stat::minor(st.st_rdev));
    let Ok(target) = std::fs::read_link(format!("/sys/dev/char/{major}:{minor}")) else { return Ok(()) };
    let target = target.to_string_lossy().into_owned();
    if target.contains(&format!("/{class_dir}/")) || target.ends_with(&format!("/{class_dir}")) {
        Ok(())
    } else {
        let device = target.rsplit('/').next().unwrap_or_default();
        Err(not_it(format!("the character device {major}:{minor}, {device}")))
    }
}

/// The names of the entries of `dir`, sorted: empty when `dir` does not
/// exist (no such devices), an error for anything else (`EMFILE`,
/// `EACCES`): a listing must not claim "none" when it could not look.
pub(crate) fn list_dir(dir: &Path, op: &'static str) -> Result<Vec<String>> {
    let io = |e: std::io::Error| {
        Error::os(op, None, Errno::from_raw(e.raw_os_error().unwrap_or(0)))
            .with_detail(format!("cannot list {}: {e}", dir.display()))
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        if let Ok(name) = entry.map_err(io)?.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// The page size of this system.
pub(crate) fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(4096)
    })
}

/// [`page_size`] as a `u64`, for offsets.
pub(crate) fn page_size_u64() -> u64 {
    page_size() as u64
}

// The large-file interfaces. A 32-bit glibc target (armv7) has a 32-bit
// `off_t` and `ino_t` in its plain calls: `fstat` fails with EOVERFLOW on a
// large inode number or size, and `mmap`/`ftruncate`/`lseek` cannot reach
// past 2 GiB. Its `*64` calls take and give 64-bit values; elsewhere (64-bit
// targets, musl) the plain calls already do.
#[cfg(all(target_env = "gnu", target_pointer_width = "32"))]
mod lfs {
    pub(super) use libc::{fstat64 as fstat, fstatat64 as fstatat, ftruncate64 as ftruncate, lseek64 as lseek};
    pub(super) use libc::{mmap64 as mmap, off64_t as Off, stat64 as Stat};
}
#[cfg(not(all(target_env = "gnu", target_pointer_width = "32")))]
mod lfs {
    pub(super) use libc::{fstat, fstatat, ftruncate, lseek, mmap, off_t as Off, stat as Stat};
}

/// `struct stat` with 64-bit inode numbers and sizes on every target.
pub(crate) type Stat = lfs::Stat;

/// A file offset or length as the large-file calls take it (`EFBIG` past `i64::MAX`).
fn off(value: u64) -> nix::Result<lfs::Off> {
    lfs::Off::try_from(value).map_err(|_| Errno::EFBIG)
}

/// `fstat` (`fstat64` on 32-bit glibc).
pub(crate) fn stat(fd: BorrowedFd<'_>) -> nix::Result<Stat> {
    let mut st = std::mem::MaybeUninit::<Stat>::uninit();
    // SAFETY: a live fd and a buffer of the type the call fills.
    Errno::result(unsafe { lfs::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: the call succeeded, so it filled the buffer.
    Ok(unsafe { st.assume_init() })
}

/// `fstatat(dir, name, 0)` (`fstatat64` on 32-bit glibc), following links.
pub(crate) fn stat_at(dir: BorrowedFd<'_>, name: &str) -> nix::Result<Stat> {
    let name = std::ffi::CString::new(name).map_err(|_| Errno::EINVAL)?;
    let mut st = std::mem::MaybeUninit::<Stat>::uninit();
    // SAFETY: a live directory fd, a NUL-terminated name and a buffer of the type the call fills.
    Errno::result(unsafe { lfs::fstatat(dir.as_raw_fd(), name.as_ptr(), st.as_mut_ptr(), 0) })?;
    // SAFETY: the call succeeded, so it filled the buffer.
    Ok(unsafe { st.assume_init() })
}

/// `ftruncate` (`ftruncate64` on 32-bit glibc) to `len` bytes.
pub(crate) fn truncate(fd: BorrowedFd<'_>, len: u64) -> nix::Result<()> {
    let len = off(len)?;
    // SAFETY: a live fd.
    Errno::result(unsafe { lfs::ftruncate(fd.as_raw_fd(), len) }).map(drop)
}

/// `lseek` (`lseek64` on 32-bit glibc): the new offset.
fn seek(fd: BorrowedFd<'_>, whence: libc::c_int) -> nix::Result<u64> {
    // SAFETY: a live fd.
    let at = Errno::result(unsafe { lfs::lseek(fd.as_raw_fd(), 0, whence) })?;
    u64::try_from(at).map_err(|_| Errno::EOVERFLOW)
}

/// `mmap(NULL, len, prot, MAP_SHARED, fd, offset)` (`mmap64` on 32-bit glibc).
///
/// # Safety
/// As for `mmap`: the new mapping aliases no Rust object only because the
/// kernel picks its address; the caller owns it and must `munmap` it once.
pub(crate) unsafe fn mmap_shared(
    fd: BorrowedFd<'_>,
    len: std::num::NonZeroUsize,
    prot: libc::c_int,
    offset: u64,
) -> nix::Result<std::ptr::NonNull<libc::c_void>> {
    // SAFETY: the caller's contract.
    unsafe { mmap_file(fd, len, prot, libc::MAP_SHARED, offset) }
}

/// `mmap(NULL, len, prot, flags, fd, offset)` (`mmap64` on 32-bit glibc):
/// [`mmap_shared`] with the flags given, e.g. `MAP_PRIVATE`.
///
/// # Safety
/// As [`mmap_shared`].
pub(crate) unsafe fn mmap_file(
    fd: BorrowedFd<'_>,
    len: std::num::NonZeroUsize,
    prot: libc::c_int,
    flags: libc::c_int,
    offset: u64,
) -> nix::Result<std::ptr::NonNull<libc::c_void>> {
    let offset = off(offset).map_err(|_| Errno::EOVERFLOW)?;
    // SAFETY: the caller's contract; a live fd.
    let p = unsafe { lfs::mmap(std::ptr::null_mut(), len.get(), prot, flags, fd.as_raw_fd(), offset) };
    if p == libc::MAP_FAILED {
        return Err(Errno::last());
    }
    std::ptr::NonNull::new(p).ok_or(Errno::EINVAL)
}
