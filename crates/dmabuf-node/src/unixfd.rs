//! GStreamer's `unixfd` protocol (`dmabuf::unixfd`) over the Channel
//! machinery of [`crate::fdpass`]: a connection is a `Channel` handle in
//! `unixfd` framing, so sends, receives, waits and cancels are the
//! Channel's (`chanCancel`, `chanFlush`, `chanUnlinger`, `close`). What this
//! file adds is the command format: receives decode a command
//! (`unixfd::decode`, fds checked against it), and sends take bytes that
//! `unixfdCaps` / `unixfdBuffer` / `unixfdRelease` / `unixfdEos` encode
//! (`unixfd::wire::Command::encode`). `UnixFdSrc`, `UnixFdSink` and their
//! buffers are TypeScript (`lib/api/unixfd.ts`).

use std::os::fd::AsFd;
use std::sync::Arc;

use dmabuf::fdpass::{Address, Channel, Message, MAX_FDS};
use dmabuf::unixfd::wire::{Command, MemoryDesc, MemoryType, NewBuffer};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::{num, store_mapping};
use crate::errors::{miss, os, range, uint};
use crate::fdpass::{accept_as, again, chan, send_bytes, store_chan, store_message, try_send_bytes};
use crate::table::{self, Obj};
use crate::wait::{self, Ids, Interest, Outcome};

const RECV: &str = "UnixFdSrc.read";

/// `socket` + `connect` to a `unixfdsink` (a path, or `@name`): a Channel
/// handle in `unixfd` framing; its fd in output slot 0.
#[napi(catch_unwind)]
pub fn unixfd_connect(env: &Env, address: String) -> Result<f64> {
    const M: &str = "UnixFdSrc.connect";
    let c = Channel::connect(&Address::parse(&address), dmabuf::fdpass::SocketKind::Stream)
        .and_then(dmabuf::unixfd::channel)
        .map_err(|e| os(env, M, &e))?;
    store_chan(env, M, c)
}

/// `accept4` on a stream Listener (from `listenerBind`), as a Promise: the
/// connection as a Channel handle in `unixfd` framing. Resolves `[handle,
/// fd]`, or `null` once cancelled (`chanCancel`).
#[napi(catch_unwind, ts_return_type = "Promise<number[] | null>")]
pub fn unixfd_accept(env: &Env, h: f64, op_id: u32) -> Result<PromiseRaw<'_, Option<Vec<f64>>>> {
    accept_as(env, h, op_id, "UnixFdSink.accept", dmabuf::unixfd::channel)
}

/// A received command, as `unixfdTryRecv` and `unixfdRecv` give it.
#[napi(object)]
pub struct UnixFdCommand {
    /// 'caps', 'buffer', 'release', 'eos' or 'unknown'.
    pub kind: String,
    /// The command type on the wire.
    pub type_code: u32,
    /// `CAPS`: the caps string.
    pub caps: Option<String>,
    /// `NEW_BUFFER` and `RELEASE_BUFFER`: the buffer's id.
    pub id: Option<BigInt>,
    /// `NEW_BUFFER`: times and offsets, absent for GStreamer's "none".
    pub pts: Option<BigInt>,
    pub dts: Option<BigInt>,
    pub duration: Option<BigInt>,
    pub offset: Option<BigInt>,
    pub offset_end: Option<BigInt>,
    /// `NEW_BUFFER`: `GstBufferFlags`.
    pub flags: u32,
    /// `NEW_BUFFER`: 0 fd memory (memfd), 1 dma-buf.
    pub memory_type: u32,
    /// `NEW_BUFFER`: per memory, its size and offset in its fd.
    pub sizes: Vec<f64>,
    pub offsets: Vec<f64>,
    /// `NEW_BUFFER`: per memory, its fd as `chanRecv` stores it (kind 0 a
    /// `DmaBuf`, 2 another fd), its handle, number and dma-buf size.
    pub kinds: Vec<u32>,
    pub handles: Vec<f64>,
    pub fds: Vec<i32>,
    pub buf_sizes: Vec<f64>,
}

/// `unixfd::decode`, then the fds stored (closed again if storing fails).
fn command(env: &Env, c: &Channel, msg: Message) -> Result<UnixFdCommand> {
    let r = dmabuf::unixfd::decode(c.as_fd(), msg).map_err(|e| os(env, RECV, &e))?;
    let mut out = UnixFdCommand {
        kind: String::new(),
        type_code: r.command.kind(),
        caps: None,
        id: None,
        pts: None,
        dts: None,
        duration: None,
        offset: None,
        offset_end: None,
        flags: 0,
        memory_type: 0,
        sizes: Vec::new(),
        offsets: Vec::new(),
        kinds: Vec::new(),
        handles: Vec::new(),
        fds: Vec::new(),
        buf_sizes: Vec::new(),
    };
    let big = |v: Option<u64>| v.map(BigInt::from);
    out.kind.push_str(match r.command {
        Command::Caps(s) => {
            out.caps = Some(s);
            "caps"
        }
        Command::ReleaseBuffer { id } => {
            out.id = Some(BigInt::from(id));
            "release"
        }
        Command::Eos => "eos",
        Command::Unknown { .. } => "unknown",
        Command::NewBuffer(b) => {
            out.id = Some(BigInt::from(b.id));
            out.pts = big(b.pts);
            out.dts = big(b.dts);
            out.duration = big(b.duration);
            out.offset = big(b.offset);
            out.offset_end = big(b.offset_end);
            out.flags = b.flags;
            out.memory_type = u32::from(b.memory == MemoryType::DmaBuf);
            out.sizes = b.memories.iter().map(|m| num(m.size)).collect();
            out.offsets = b.memories.iter().map(|m| num(m.offset)).collect();
            "buffer"
        }
    });
    let stored = store_message(env, RECV, Message { header: Vec::new(), fds: r.fds })?;
    out.kinds = stored.kinds;
    out.handles = stored.handles;
    out.fds = stored.fds;
    out.buf_sizes = stored.sizes;
    Ok(out)
}

/// One receive without waiting: `null` when no whole command is there yet
/// or the fast path is closed (`wait::fresh`): use `unixfdRecv`.
#[napi(catch_unwind)]
pub fn unixfd_try_recv(env: &Env, h: f64) -> Result<Option<UnixFdCommand>> {
    let c = chan(env, h, RECV)?;
    if !wait::fresh(env) {
        return Ok(None);
    }
    match c.try_recv(MAX_FDS) {
        Ok(msg) => command(env, &c, msg).map(Some),
        Err(e) if e.errno() == nix::errno::Errno::EAGAIN => Ok(None),
        Err(e) => Err(os(env, RECV, &e)),
    }
}

/// `recvmsg` as a Promise, then the command decoded. Resolves it, or
/// `null` once cancelled (`chanCancel`).
#[napi(catch_unwind, ts_return_type = "Promise<UnixFdCommand | null>")]
pub fn unixfd_recv(env: &Env, h: f64, op_id: u32) -> Result<PromiseRaw<'_, Option<UnixFdCommand>>> {
    let c = chan(env, h, RECV)?;
    let keep = Arc::clone(&c);
    let attempt = move |c: &Arc<Channel>| again(c.try_recv(MAX_FDS));
    wait::spawn(env, RECV, (Ids::Chan, op_id), None, c, Interest::READABLE, false, attempt, move |env, outcome| {
        match outcome {
            Outcome::Done(msg) => command(env, &keep, msg).map(Some),
            Outcome::TimedOut | Outcome::Cancelled => Ok(None),
        }
    })
}

/// One `sendmsg` of an encoded command with `fds` (handles of `DmaBufs` and
/// `PassedFds`) without waiting: 1 sent, 2 sent with a tail for `chanFlush`,
/// 0 nothing sent (use `unixfdSend`). `method` names the caller in errors.
#[napi(catch_unwind)]
pub fn unixfd_try_send(env: &Env, h: f64, bytes: Uint8Array, fds: Float64Array, release: bool) -> Result<u32> {
    try_send_bytes(env, method(release), h, &bytes, &fds)
}

/// The send that waits on the event loop (fds duplicated now). Resolves
/// `true`, or `null` once cancelled.
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>")]
pub fn unixfd_send(
    env: &Env,
    h: f64,
    bytes: Uint8Array,
    fds: Float64Array,
    release: bool,
    op_id: u32,
) -> Result<PromiseRaw<'_, Option<bool>>> {
    send_bytes(env, method(release), h, bytes.to_vec(), &fds, op_id)
}

const fn method(release: bool) -> &'static str {
    if release {
        "UnixFdBuffer.release"
    } else {
        "UnixFdSinkConnection.send"
    }
}

fn encoded(env: &Env, method: &str, c: &Command) -> Result<Buffer> {
    c.encode().map(Buffer::from).map_err(|e| os(env, method, &e))
}

/// `CAPS`, encoded.
#[napi(catch_unwind)]
pub fn unixfd_caps(env: &Env, caps: String) -> Result<Buffer> {
    encoded(env, "UnixFdSinkConnection.setCaps", &Command::Caps(caps))
}

/// `EOS`, encoded.
#[napi(catch_unwind)]
pub fn unixfd_eos(env: &Env) -> Result<Buffer> {
    encoded(env, "UnixFdSinkConnection.end", &Command::Eos)
}

fn u64_of(env: &Env, method: &str, name: &str, v: &BigInt) -> Result<u64> {
    let (signed, x, lossless) = v.get_u64();
    if signed || !lossless {
        return Err(range(env, method, &format!("{name} must be a bigint from 0n to 2n ** 64n - 1n")));
    }
    Ok(x)
}

/// `RELEASE_BUFFER {id}`, encoded.
#[napi(catch_unwind)]
pub fn unixfd_release(env: &Env, id: BigInt) -> Result<Buffer> {
    const M: &str = "UnixFdBuffer.release";
    encoded(env, M, &Command::ReleaseBuffer { id: u64_of(env, M, "id", &id)? })
}

/// What `unixfdBuffer` encodes.
#[napi(object)]
pub struct UnixFdBufferOut {
    pub id: BigInt,
    pub pts: Option<BigInt>,
    pub dts: Option<BigInt>,
    pub duration: Option<BigInt>,
    pub offset: Option<BigInt>,
    pub offset_end: Option<BigInt>,
    pub flags: u32,
    /// 0 fd memory (memfd), 1 dma-buf.
    pub memory_type: u32,
    pub sizes: Vec<f64>,
    pub offsets: Vec<f64>,
}

/// `NEW_BUFFER`, encoded (its fds go beside it, one per memory).
#[napi(catch_unwind)]
pub fn unixfd_buffer(env: &Env, b: UnixFdBufferOut) -> Result<Buffer> {
    const M: &str = "UnixFdSinkConnection.send";
    let opt = |name: &str, v: &Option<BigInt>| v.as_ref().map(|v| u64_of(env, M, name, v)).transpose();
    if b.sizes.len() != b.offsets.len() {
        return Err(range(env, M, "as many offsets as sizes"));
    }
    let memories = b
        .sizes
        .iter()
        .zip(&b.offsets)
        .map(|(&s, &o)| {
            Ok(MemoryDesc { size: uint(env, M, "memory size", s)?, offset: uint(env, M, "memory offset", o)? })
        })
        .collect::<Result<Vec<_>>>()?;
    let c = Command::NewBuffer(NewBuffer {
        id: u64_of(env, M, "id", &b.id)?,
        pts: opt("pts", &b.pts)?,
        dts: opt("dts", &b.dts)?,
        duration: opt("duration", &b.duration)?,
        offset: opt("offset", &b.offset)?,
        offset_end: opt("offsetEnd", &b.offset_end)?,
        flags: b.flags,
        memory: if b.memory_type == 1 { MemoryType::DmaBuf } else { MemoryType::Default },
        memories,
        n_meta: 0,
        metas: Vec::new(),
    });
    encoded(env, M, &c)
}

/// `fcntl(F_GET_SEALS)`, `fstat`, `mmap(MAP_PRIVATE)` of `length` bytes at
/// `offset` of a received memfd (a `PassedFd`): UnixFdBuffer.map
/// (`dmabuf::memfd::map_sealed`, which maps only a memfd sealed with
/// `F_SEAL_SHRINK`, copy-on-write). Returns the Mapping's handle; output
/// slots as `bufMap`.
#[napi(catch_unwind)]
pub fn unixfd_map_memory(env: &Env, h: f64, offset: f64, length: f64) -> Result<f64> {
    const M: &str = "UnixFdBuffer.map";
    let offset = uint(env, M, "offset", offset)?;
    let length = uint(env, M, "length", length)?;
    let map = table::with(h, |o| match o {
        Obj::Fd(f) => Ok(f.fd().map(|fd| dmabuf::memfd::map_sealed(fd, offset, length))),
        other => Err(table::Miss::WrongClass(other.class())),
    })
    .and_then(|r| r)
    .map_err(|m| miss(env, M, "PassedFd", &m))?
    .ok_or_else(|| miss(env, M, "PassedFd", &table::Miss::Closed))?
    .map_err(|e| os(env, M, &e))?;
    store_mapping(env, M, map)
}
