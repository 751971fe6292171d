//! The `unixfd` message format: the command header, `NEW_BUFFER`,
//! `RELEASE_BUFFER`, `CAPS` and `EOS`, encoded and decoded with every
//! length checked. No I/O here: the fds of a `NEW_BUFFER` travel beside the
//! bytes, and the caller pairs them with [`NewBuffer::memories`] in order.
//!
//! Layouts (from the plugin's `gstunixfd.h`; all integers in the host's
//! byte order, as the plugin writes its C structs as they are in memory):
//!
//! | part | bytes |
//! |---|---|
//! | header | `u32` type, `u32` payload length |
//! | `NEW_BUFFER` | `u64` id, pts, dts, duration, offset, offset_end; `u32` flags; `u8` memory type; `u8` memory count; `u16` meta count (padding before GStreamer 1.26); then per memory `u64` size, `u64` offset; then the serialised metas |
//! | `RELEASE_BUFFER` | `u64` id |
//! | `CAPS` | the caps string, NUL-terminated |
//! | `EOS` | nothing |

use std::fmt;

use crate::error::{Errno, Error, ErrorKind, Result};

/// Bytes of the command header.
pub const HEADER_LEN: usize = 8;
/// Bytes of a `NEW_BUFFER` payload before its memories.
pub const NEW_BUFFER_LEN: usize = 56;
/// Bytes of one memory's description in a `NEW_BUFFER`.
pub const MEMORY_LEN: usize = 16;
/// GStreamer's "no value" for times and offsets (`GST_CLOCK_TIME_NONE`,
/// `GST_BUFFER_OFFSET_NONE`).
const NONE: u64 = u64::MAX;

/// The command types.
pub mod kind {
    /// A buffer, its fds attached (sink → client).
    pub const NEW_BUFFER: u32 = 0;
    /// A buffer the client is done with (client → sink).
    pub const RELEASE_BUFFER: u32 = 1;
    /// The stream's caps, a string (sink → client).
    pub const CAPS: u32 = 2;
    /// The end of the stream (sink → client).
    pub const EOS: u32 = 3;
}

/// What a buffer's memories are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryType {
    /// fd memory that is not a dma-buf: a memfd (GStreamer's shm allocator).
    Default,
    /// dma-bufs.
    DmaBuf,
}

/// One memory of a buffer: `size` bytes at `offset` in its fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryDesc {
    /// Bytes of the memory.
    pub size: u64,
    /// Where the memory starts in its fd.
    pub offset: u64,
}

/// A `NEW_BUFFER` payload. Times are nanoseconds; the sink gives pts and
/// dts on `CLOCK_MONOTONIC`, so a receiver can measure latency against its
/// own clock. `None` is GStreamer's "none" (all bits set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBuffer {
    /// The sink's name for the buffer, sent back in `RELEASE_BUFFER`.
    pub id: u64,
    /// Presentation time.
    pub pts: Option<u64>,
    /// Decoding time.
    pub dts: Option<u64>,
    /// Duration.
    pub duration: Option<u64>,
    /// Media-specific offset (a frame number for video).
    pub offset: Option<u64>,
    /// Media-specific end offset.
    pub offset_end: Option<u64>,
    /// `GstBufferFlags`.
    pub flags: u32,
    /// What the memories are.
    pub memory: MemoryType,
    /// The memories, in the order of the fds that came with the command.
    pub memories: Vec<MemoryDesc>,
    /// How many metas `metas` holds.
    pub n_meta: u16,
    /// The serialised metas (GStreamer 1.26+), kept as bytes.
    pub metas: Vec<u8>,
}

/// One decoded command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A buffer.
    NewBuffer(NewBuffer),
    /// A buffer released by the client.
    ReleaseBuffer {
        /// The id from its `NEW_BUFFER`.
        id: u64,
    },
    /// New caps.
    Caps(String),
    /// End of stream.
    Eos,
    /// A type this version does not know (the plugin skips those too).
    Unknown {
        /// The type.
        kind: u32,
        /// Its payload.
        payload: Vec<u8>,
    },
}

/// Why bytes are not a `unixfd` message: `EPROTO`, with what was wrong.
fn bad(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::Os, Errno::EPROTO, "unixfd", None, format!("not a unixfd message: {}", detail.into()))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(a)
}

const fn opt(v: u64) -> Option<u64> {
    if v == NONE {
        None
    } else {
        Some(v)
    }
}

/// The header: the command type and its payload's length (the type is
/// checked by [`Command::decode`]).
#[must_use]
pub fn header(bytes: &[u8; HEADER_LEN]) -> (u32, u32) {
    (u32_at(bytes, 0), u32_at(bytes, 4))
}

impl Command {
    /// Decodes a command of type `kind` from its whole payload.
    ///
    /// # Errors
    /// `EPROTO` naming what is wrong: a payload shorter than its type
    /// needs, more memories than bytes, an unknown memory type, a `CAPS`
    /// string that is not NUL-terminated UTF-8, a payload on `EOS`.
    pub fn decode(kind: u32, payload: &[u8]) -> Result<Command> {
        match kind {
            kind::NEW_BUFFER => NewBuffer::decode(payload).map(Command::NewBuffer),
            kind::RELEASE_BUFFER => {
                if payload.len() < 8 {
                    return Err(bad(format!("RELEASE_BUFFER of {} bytes (it needs 8)", payload.len())));
                }
                Ok(Command::ReleaseBuffer { id: u64_at(payload, 0) })
            }
            kind::CAPS => {
                let Some((&0, text)) = payload.split_last() else {
                    return Err(bad("CAPS that does not end with a NUL"));
                };
                if text.contains(&0) {
                    return Err(bad("CAPS with a NUL inside the string"));
                }
                let s = std::str::from_utf8(text).map_err(|_| bad("CAPS that is not UTF-8"))?;
                Ok(Command::Caps(s.to_owned()))
            }
            kind::EOS => Ok(Command::Eos),
            _ => Ok(Command::Unknown { kind, payload: payload.to_vec() }),
        }
    }

    /// The command type.
    #[must_use]
    pub fn kind(&self) -> u32 {
        match self {
            Command::NewBuffer(_) => kind::NEW_BUFFER,
            Command::ReleaseBuffer { .. } => kind::RELEASE_BUFFER,
            Command::Caps(_) => kind::CAPS,
            Command::Eos => kind::EOS,
            Command::Unknown { kind, .. } => *kind,
        }
    }

    /// The header and payload, ready for one `sendmsg`.
    ///
    /// # Errors
    /// `EINVAL` for what the format cannot carry: more than 255 memories,
    /// a payload over 4 GiB, caps with a NUL inside.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let payload = match self {
            Command::NewBuffer(b) => b.encode()?,
            Command::ReleaseBuffer { id } => id.to_ne_bytes().to_vec(),
            Command::Caps(s) => {
                if s.contains('\0') {
                    return Err(Error::invalid("unixfd", None, "caps with a NUL inside cannot be sent"));
                }
                let mut v = s.as_bytes().to_vec();
                v.push(0);
                v
            }
            Command::Eos => Vec::new(),
            Command::Unknown { payload, .. } => payload.clone(),
        };
        let len = u32::try_from(payload.len()).map_err(|_| {
            Error::invalid("unixfd", None, format!("a payload of {} bytes (over 4 GiB)", payload.len()))
        })?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&self.kind().to_ne_bytes());
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }
}

impl NewBuffer {
    fn decode(p: &[u8]) -> Result<NewBuffer> {
        if p.len() < NEW_BUFFER_LEN {
            return Err(bad(format!("NEW_BUFFER of {} bytes (it needs at least {NEW_BUFFER_LEN})", p.len())));
        }
        let memory = match p[52] {
            0 => MemoryType::Default,
            1 => MemoryType::DmaBuf,
            t => return Err(bad(format!("NEW_BUFFER with memory type {t} (0 and 1 are known)"))),
        };
        let n = usize::from(p[53]);
        let end = NEW_BUFFER_LEN + n * MEMORY_LEN;
        if p.len() < end {
            return Err(bad(format!("NEW_BUFFER of {} bytes for {n} memories (it needs {end})", p.len())));
        }
        let memories = (0..n)
            .map(|i| {
                let at = NEW_BUFFER_LEN + i * MEMORY_LEN;
                MemoryDesc { size: u64_at(p, at), offset: u64_at(p, at + 8) }
            })
            .collect();
        Ok(NewBuffer {
            id: u64_at(p, 0),
            pts: opt(u64_at(p, 8)),
            dts: opt(u64_at(p, 16)),
            duration: opt(u64_at(p, 24)),
            offset: opt(u64_at(p, 32)),
            offset_end: opt(u64_at(p, 40)),
            flags: u32_at(p, 48),
            memory,
            memories,
            n_meta: u16::from_ne_bytes([p[54], p[55]]),
            metas: p[end..].to_vec(),
        })
    }

    fn encode(&self) -> Result<Vec<u8>> {
        let n = u8::try_from(self.memories.len()).map_err(|_| {
            Error::invalid(
                "unixfd",
                None,
                format!("{} memories in one buffer (the format carries 255)", self.memories.len()),
            )
        })?;
        let mut v = Vec::with_capacity(NEW_BUFFER_LEN + self.memories.len() * MEMORY_LEN + self.metas.len());
        for x in [
            self.id,
            or_none(self.pts),
            or_none(self.dts),
            or_none(self.duration),
            or_none(self.offset),
            or_none(self.offset_end),
        ] {
            v.extend_from_slice(&x.to_ne_bytes());
        }
        v.extend_from_slice(&self.flags.to_ne_bytes());
        v.push(match self.memory {
            MemoryType::Default => 0,
            MemoryType::DmaBuf => 1,
        });
        v.push(n);
        v.extend_from_slice(&self.n_meta.to_ne_bytes());
        for m in &self.memories {
            v.extend_from_slice(&m.size.to_ne_bytes());
            v.extend_from_slice(&m.offset.to_ne_bytes());
        }
        v.extend_from_slice(&self.metas);
        Ok(v)
    }
}

fn or_none(v: Option<u64>) -> u64 {
    v.unwrap_or(NONE)
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::NewBuffer(b) => write!(f, "NEW_BUFFER {} ({} memories)", b.id, b.memories.len()),
            Command::ReleaseBuffer { id } => write!(f, "RELEASE_BUFFER {id}"),
            Command::Caps(s) => write!(f, "CAPS {s}"),
            Command::Eos => f.write_str("EOS"),
            Command::Unknown { kind, payload } => write!(f, "command {kind} ({} bytes)", payload.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer() -> NewBuffer {
        NewBuffer {
            id: 0x5555_0000_1234,
            pts: Some(1_000_000),
            dts: None,
            duration: Some(33_333_333),
            offset: Some(7),
            offset_end: None,
            flags: 0x40,
            memory: MemoryType::DmaBuf,
            memories: vec![MemoryDesc { size: 614_400, offset: 0 }, MemoryDesc { size: 307_200, offset: 4096 }],
            n_meta: 0,
            metas: Vec::new(),
        }
    }

    #[test]
    fn a_new_buffer_is_56_bytes_plus_16_per_memory_and_round_trips() {
        let c = Command::NewBuffer(buffer());
        let bytes = c.encode().unwrap();
        let (kind, len) = header(bytes[..HEADER_LEN].try_into().unwrap());
        assert_eq!(kind, kind::NEW_BUFFER);
        assert_eq!(len as usize, NEW_BUFFER_LEN + 2 * MEMORY_LEN);
        assert_eq!(bytes.len(), HEADER_LEN + len as usize);
        // "none" is all bits set, where the plugin's C structs put it.
        assert_eq!(u64_at(&bytes[HEADER_LEN..], 16), u64::MAX);
        assert_eq!(bytes[HEADER_LEN + 52], 1, "memory type at byte 52");
        assert_eq!(bytes[HEADER_LEN + 53], 2, "memory count at byte 53");
        assert_eq!(Command::decode(kind, &bytes[HEADER_LEN..]).unwrap(), c);
    }

    #[test]
    fn short_or_inconsistent_payloads_are_eproto_saying_what() {
        let mut p = Command::NewBuffer(buffer()).encode().unwrap().split_off(HEADER_LEN);
        let e = Command::decode(kind::NEW_BUFFER, &p[..40]).unwrap_err();
        assert_eq!(e.errno(), Errno::EPROTO);
        assert!(e.to_string().contains("NEW_BUFFER of 40 bytes"), "{e}");
        // A count of 3 memories with bytes for 2.
        p[53] = 3;
        let e = Command::decode(kind::NEW_BUFFER, &p).unwrap_err();
        assert!(e.to_string().contains("for 3 memories"), "{e}");
        p[53] = 2;
        p[52] = 9;
        let e = Command::decode(kind::NEW_BUFFER, &p).unwrap_err();
        assert!(e.to_string().contains("memory type 9"), "{e}");
        assert_eq!(Command::decode(kind::RELEASE_BUFFER, &[0; 4]).unwrap_err().errno(), Errno::EPROTO);
        assert_eq!(Command::decode(kind::CAPS, b"video/x-raw").unwrap_err().errno(), Errno::EPROTO);
        assert_eq!(Command::decode(kind::CAPS, b"video/\0x-raw\0").unwrap_err().errno(), Errno::EPROTO);
        assert_eq!(Command::decode(kind::CAPS, b"").unwrap_err().errno(), Errno::EPROTO);
    }

    #[test]
    fn caps_release_eos_and_unknown_types_round_trip() {
        for c in [
            Command::Caps("video/x-raw, format=(string)RGBA, width=(int)320, height=(int)240".into()),
            Command::ReleaseBuffer { id: 42 },
            Command::Eos,
            Command::Unknown { kind: 9, payload: vec![1, 2, 3] },
        ] {
            let bytes = c.encode().unwrap();
            let (kind, len) = header(bytes[..HEADER_LEN].try_into().unwrap());
            assert_eq!(len as usize, bytes.len() - HEADER_LEN);
            assert_eq!(Command::decode(kind, &bytes[HEADER_LEN..]).unwrap(), c);
        }
        assert_eq!(Command::Caps("a".into()).encode().unwrap()[HEADER_LEN..], *b"a\0");
    }

    #[test]
    fn what_the_format_cannot_carry_is_einval_before_anything_is_sent() {
        let mut b = buffer();
        b.memories = vec![MemoryDesc { size: 1, offset: 0 }; 256];
        assert_eq!(Command::NewBuffer(b).encode().unwrap_err().errno(), Errno::EINVAL);
        assert_eq!(Command::Caps("a\0b".into()).encode().unwrap_err().errno(), Errno::EINVAL);
    }

    #[test]
    fn metas_after_the_memories_are_kept_as_bytes() {
        let mut b = buffer();
        b.n_meta = 1;
        b.metas = vec![0xab; 24];
        let c = Command::NewBuffer(b);
        let bytes = c.encode().unwrap();
        assert_eq!(Command::decode(kind::NEW_BUFFER, &bytes[HEADER_LEN..]).unwrap(), c);
    }
}
