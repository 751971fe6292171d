//! A listening socket: `bind`, `listen` and `accept`; the socket file it
//! made is removed on drop, and only that file.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{self as sock, SockFlag};

use crate::error::{Error, Result};
use crate::sys;

use super::channel::Channel;
use super::socket::{socket, wait_ready, Address, SocketKind};

/// A listening Unix socket. The socket file it created is removed when it
/// is dropped, unless something else has taken its path since (see
/// [`Drop`](#impl-Drop-for-Listener)).
#[derive(Debug)]
pub struct Listener {
    pub(super) fd: OwnedFd,
    pub(super) kind: SocketKind,
    pub(super) path: Option<PathBuf>,
    /// The socket file's device and inode, as `lstat` saw them right after
    /// `bind` (None for an abstract name, or a path that could not be
    /// stat'ed: then nothing is removed).
    pub(super) file: Option<(u64, u64)>,
}

impl Listener {
    /// `socket` + `bind` + `listen`.
    ///
    /// # Errors
    /// `EADDRINUSE` when the path exists or the name is taken, `EACCES`,
    /// `ENAMETOOLONG`.
    #[doc(alias = "listen")]
    pub fn bind(addr: &Address, kind: SocketKind) -> Result<Listener> {
        let fd = socket(kind, "socket")?;
        let ua = addr.unix_addr("bind")?;
        sock::bind(fd.as_raw_fd(), &ua)
            .map_err(|e| Error::os("bind", None, e).with_detail(format!("cannot listen on {addr}: {}", e.desc())))?;
        let path = match addr {
            Address::Path(p) => Some(p.clone()),
            Address::Abstract(_) => None,
        };
        let file = path.as_deref().and_then(socket_file);
        let listener = Listener { fd, kind, path, file };
        sock::listen(&listener.fd, sock::Backlog::new(64).unwrap_or(sock::Backlog::MAXCONN))
            .map_err(|e| Error::os("listen", Some(listener.fd.as_raw_fd()), e))?;
        Ok(listener)
    }

    /// `accept4(SOCK_CLOEXEC | SOCK_NONBLOCK)` without waiting: `EAGAIN`
    /// when nobody is connecting.
    ///
    /// # Errors
    /// `EAGAIN`, `EMFILE`.
    #[doc(alias = "accept4")]
    pub fn try_accept(&self) -> Result<Channel> {
        let raw = sock::accept4(self.fd.as_raw_fd(), SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK)
            .map_err(|e| Error::os("accept4", Some(self.fd.as_raw_fd()), e))?;
        // SAFETY: accept4 just returned this new fd; we are its only owner.
        Ok(Channel::new(unsafe { sys::adopt(raw) }, self.kind))
    }

    /// Waits (`poll`) for a connection and accepts it.
    ///
    /// # Errors
    /// `EMFILE`.
    pub fn accept(&self) -> Result<Channel> {
        loop {
            match self.try_accept() {
                Err(e) if e.errno() == Errno::EAGAIN => {
                    wait_ready(self.fd.as_fd(), nix::poll::PollFlags::POLLIN, None)?;
                }
                r => return r,
            }
        }
    }

    /// The socket's kind.
    pub fn kind(&self) -> SocketKind {
        self.kind
    }

    /// The path it listens on, for a path address.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The device and inode of the socket file at `p` (`lstat`), or None when
/// it is not a socket file.
fn socket_file(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let m = std::fs::symlink_metadata(p).ok()?;
    m.file_type().is_socket().then(|| (m.dev(), m.ino()))
}

/// Removes the socket file `bind` made, and only that one: the path is
/// `lstat`'ed first and unlinked only when it is still the same socket
/// file (device and inode). Another server that has bound the path since
/// (after this one's file was removed by hand, say) keeps its file, and its
/// clients keep connecting. A replacement made between the `lstat` and the
/// `unlink` (microseconds) cannot be told apart: removing by path has no
/// atomic form.
impl Drop for Listener {
    fn drop(&mut self) {
        if let (Some(p), Some(mine)) = (&self.path, self.file) {
            if socket_file(p) == Some(mine) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// The raw fd of the socket (for readiness polling by an event loop).
impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
