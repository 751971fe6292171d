//! What a message carries: the header bytes and the fds, each sorted by kind
//! (dma-buf, `sync_file`, plain fd) the moment it arrives.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::dma_buf::DmaBuf;
use crate::error::FromFdError;
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
    pub fn classify(fd: OwnedFd) -> Passed {
        match DmaBuf::from_owned(fd) {
            Ok(b) => Passed::DmaBuf(b),
            Err(FromFdError { fd, .. }) => match SyncFile::from_owned(fd) {
                Ok(s) => Passed::SyncFile(s),
                Err(FromFdError { fd, .. }) => Passed::Fd(fd),
            },
        }
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
