//! What a message carries: the header bytes and the fds, each sorted by kind
//! (dma-buf, `sync_file`, plain fd) the moment it arrives.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::dma_buf::DmaBuf;
use crate::fd::Kind;
use crate::sync_file::SyncFile;

/// An fd that arrived in a message, already owned and sorted by kind.
#[derive(Debug)]
pub enum Passed {
    /// A dma-buf.
    DmaBuf(DmaBuf),
    /// A `sync_file`.
    SyncFile(SyncFile),
    /// Any other fd (a memfd, a socket, a pipe...).
    Fd(OwnedFd),
}

impl Passed {
    /// Sorts an owned fd: a dma-buf, a `sync_file`, or neither.
    ///
    /// Only what the kernel writes about the fd decides
    /// (`/proc/self/fdinfo` and the fd's link name), never a call that
    /// reaches the file's filesystem: a file on a FUSE mount whose daemon
    /// does not answer is sorted as [`Passed::Fd`] at once, where `fstat`
    /// or `fstatfs` would wait for the daemon. Where `/proc` is not
    /// mounted, every fd is a [`Passed::Fd`] (`DmaBuf::try_from` adopts one
    /// that the application knows to be a dma-buf).
    pub fn classify(fd: OwnedFd) -> Passed {
        match crate::fd::kind(fd.as_fd()) {
            Kind::DmaBuf(size) => Passed::DmaBuf(DmaBuf::from_kernel(fd, size)),
            Kind::SyncFile => Passed::SyncFile(SyncFile::from_trusted(fd)),
            Kind::Other => Passed::Fd(fd),
        }
    }

    /// Closes the fd without waiting on anything its sender controls:
    /// see [`close_foreign`](super::close_foreign).
    pub fn close(self) {
        super::close_foreign(self.into());
    }
}

impl AsFd for Passed {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Passed::DmaBuf(b) => b.as_fd(),
            Passed::SyncFile(s) => s.as_fd(),
            Passed::Fd(f) => f.as_fd(),
        }
    }
}

impl From<Passed> for OwnedFd {
    fn from(p: Passed) -> OwnedFd {
        match p {
            Passed::DmaBuf(b) => b.into(),
            Passed::SyncFile(s) => s.into(),
            Passed::Fd(f) => f,
        }
    }
}

/// A received message.
#[derive(Debug)]
pub struct Message {
    /// The header's bytes.
    pub header: Vec<u8>,
    /// The fds, in the order they were sent.
    pub fds: Vec<Passed>,
}
