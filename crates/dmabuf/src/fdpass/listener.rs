//! A listening socket: `bind`, `listen` and `accept`; the socket file is
//! removed on drop.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{self as sock, SockFlag};

use crate::error::{Error, Result};
use crate::sys;

use super::channel::Channel;
use super::socket::{socket, wait_ready, Address, SocketKind};

/// A listening Unix socket. A path it created is removed when it is dropped.
#[derive(Debug)]
pub struct Listener {
    pub(super) fd: OwnedFd,
    pub(super) kind: SocketKind,
    pub(super) path: Option<PathBuf>,
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
        let listener = Listener { fd, kind, path };
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

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            // Only a socket file: never remove something else put there since.
            if std::fs::symlink_metadata(p).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) {
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
