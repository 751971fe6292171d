//! A [`Frame`] over a [`Channel`]: one message, the descriptor in the
//! header and one dma-buf fd per plane, checked again on arrival.
//!
//! The header (little-endian, `32 + 8 * planes` bytes):
//!
//! | bytes | what |
//! |---|---|
//! | 0..4 | `DMFR` |
//! | 4 | version, 1 |
//! | 5 | plane count, 1 to 4 |
//! | 6..8 | 0 |
//! | 8..12, 12..16 | width, height |
//! | 16..20 | fourcc |
//! | 20..24 | 0 |
//! | 24..32 | modifier |
//! | 32 + 8i .. | plane i: offset, pitch (`u32` each) |

use std::os::fd::{AsFd, BorrowedFd};

use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::fdpass::{Channel, Message, Passed};

use super::{Fourcc, Frame, FramePlane, Modifier, MAX_PLANES};

const MAGIC: &[u8; 4] = b"DMFR";
const VERSION: u8 = 1;
const FIXED: usize = 32;
const OP: &str = "Frame::from_message";

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// The header bytes (see the module table) of 1 to [`MAX_PLANES`] planes.
fn encode(width: u32, height: u32, fourcc: Fourcc, modifier: Modifier, planes: &[(u32, u32)]) -> Vec<u8> {
    let n = planes.len();
    let mut h = Vec::with_capacity(FIXED + 8 * n);
    h.extend_from_slice(MAGIC);
    h.push(VERSION);
    h.push(u8::try_from(n).unwrap_or(u8::MAX));
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&width.to_le_bytes());
    h.extend_from_slice(&height.to_le_bytes());
    h.extend_from_slice(&fourcc.raw().to_le_bytes());
    h.extend_from_slice(&[0; 4]);
    h.extend_from_slice(&modifier.raw().to_le_bytes());
    for &(offset, pitch) in planes {
        h.extend_from_slice(&offset.to_le_bytes());
        h.extend_from_slice(&pitch.to_le_bytes());
    }
    h
}

/// A message that is no frame (`EPROTO`): the peer broke the format.
fn malformed(detail: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, Errno::EPROTO, OP, None, detail)
}

impl Frame {
    /// The message header that describes this frame (see the module
    /// table); the fds go beside it, one per plane, in plane order.
    #[must_use]
    pub fn header(&self) -> Vec<u8> {
        let planes: Vec<(u32, u32)> = self.planes.iter().map(|p| (p.offset, p.pitch)).collect();
        encode(self.width, self.height, self.fourcc, self.modifier, &planes)
    }

    /// The message header of a frame described by its numbers alone, for a
    /// sender that holds the planes' dma-bufs itself (the Node binding's
    /// `Frame`, already checked by [`check_layout`](super::check_layout)):
    /// the same bytes as [`Frame::header`], `planes` giving each plane's
    /// (offset, pitch).
    ///
    /// # Errors
    /// `EINVAL` (kind `InvalidArgument`) for 0 or more than
    /// [`MAX_PLANES`] planes.
    pub fn header_of(
        width: u32,
        height: u32,
        fourcc: Fourcc,
        modifier: Modifier,
        planes: &[(u32, u32)],
    ) -> Result<Vec<u8>> {
        if planes.is_empty() || planes.len() > MAX_PLANES {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                Errno::EINVAL,
                "Frame::header_of",
                None,
                format!("a frame has 1 to {MAX_PLANES} planes, not {}", planes.len()),
            ));
        }
        Ok(encode(width, height, fourcc, modifier, planes))
    }

    /// `sendmsg`: sends the frame as one message over `channel`, the
    /// [`Frame::header`] with each plane's fd attached (`SCM_RIGHTS`). The
    /// frame stays the caller's.
    ///
    /// # Errors
    /// As [`Channel::send`].
    pub fn send(&self, channel: &Channel) -> Result<()> {
        let fds: Vec<BorrowedFd<'_>> = self.planes.iter().map(|p| p.buf.as_fd()).collect();
        channel.send(&self.header(), &fds)
    }

    /// `recvmsg`: waits for one message on `channel` and makes a frame of
    /// it ([`Frame::from_message`]).
    ///
    /// # Errors
    /// As [`Channel::recv`] and [`Frame::from_message`].
    pub fn recv(channel: &Channel) -> Result<Frame> {
        Frame::from_message(channel.recv(MAX_PLANES)?)
    }

    /// The frame a received message carries, checked as [`Frame::new`]
    /// checks: a peer's description is not trusted. The message's fds
    /// become the planes' dma-bufs; on any error every one of them is
    /// closed.
    ///
    /// # Errors
    /// `EPROTO` (kind `InvalidArgument`) for a header that is not a frame's
    /// (wrong magic, version or length), a plane count that differs from
    /// the fds attached, or an fd that is not a dma-buf; `EINVAL` when
    /// [`Frame::new`] refuses the description.
    pub fn from_message(msg: Message) -> Result<Frame> {
        let Message { header: h, fds } = msg;
        let close_all = |fds: Vec<Passed>| fds.into_iter().for_each(Passed::close);
        if h.len() < FIXED || &h[..4] != MAGIC || h[4] != VERSION {
            close_all(fds);
            return Err(malformed(format!("a {}-byte header that is no version-1 frame header", h.len())));
        }
        let n = usize::from(h[5]);
        if n == 0 || n > MAX_PLANES || h.len() != FIXED + 8 * n || n != fds.len() {
            let (len, got) = (h.len(), fds.len());
            close_all(fds);
            return Err(malformed(format!(
                "the header says {n} planes in {len} bytes ({} expected) and {got} fds came with it",
                FIXED + 8 * n
            )));
        }
        if let Some(i) = fds.iter().position(|f| !matches!(f, Passed::DmaBuf(_))) {
            close_all(fds);
            return Err(malformed(format!("fd {i} of the message is not a dma-buf")));
        }
        let width = u32_at(&h, 8);
        let height = u32_at(&h, 12);
        let fourcc = Fourcc(u32_at(&h, 16));
        let modifier = Modifier(u64::from(u32_at(&h, 24)) | (u64::from(u32_at(&h, 28)) << 32));
        let planes = fds
            .into_iter()
            .enumerate()
            .filter_map(|(i, f)| match f {
                Passed::DmaBuf(buf) => {
                    Some(FramePlane { buf, offset: u32_at(&h, FIXED + 8 * i), pitch: u32_at(&h, FIXED + 8 * i + 4) })
                }
                other => {
                    other.close();
                    None
                }
            })
            .collect();
        // The fds are this process's own now: the error names none of them,
        // as they are closed when it returns.
        Frame::new(width, height, fourcc, modifier, planes).map_err(|e| e.error.without_fd())
    }
}
