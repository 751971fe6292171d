//! Channels that pass fds between processes (`dmabuf::fdpass`), and taking
//! an fd out of another process (`pidfd_getfd`).
//!
//! Sends, receives and accepts are Promises on Node's event loop the way
//! `sync_file.rs` waits on a `sync_file` (`wait.rs`): the operation is tried at
//! once (the fast path, while the loop turned recently); on `EAGAIN` a
//! duplicate of the socket is watched by the loop and the operation is
//! tried again each time it polls ready. No thread waits per operation. Each pending operation has an id that
//! `chanCancel` ends (an `AbortSignal`, or `close()`), resolving `null`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;

use dmabuf::fdpass::{Address, Channel, Listener, Message, Passed, SocketKind};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::{num, out_buf};
use crate::errors::{fd_arg, miss, os, store, uint};
use crate::fast::set_out;
use crate::frame::StoredFrame;
use crate::sync_file::out_sync;
use crate::table::{self, Buf, Foreign, Obj};
use crate::wait::{self, Fail, Ids, Interest, Outcome};

fn kind_of(seqpacket: bool) -> SocketKind {
    if seqpacket {
        SocketKind::SeqPacket
    } else {
        SocketKind::Stream
    }
}

pub(crate) fn store_chan(env: &Env, method: &str, c: Channel) -> Result<f64> {
    let fd = c.as_raw_fd();
    let h = store(env, method, Obj::Chan(Arc::new(c)))?;
    set_out(0, f64::from(fd));
    Ok(h)
}

pub(crate) fn chan(env: &Env, h: f64, method: &str) -> Result<Arc<Channel>> {
    table::with(h, |o| match o {
        Obj::Chan(c) => Ok(Arc::clone(c)),
        other => Err(table::Miss::WrongClass(other.class())),
    })
    .and_then(|r| r)
    .map_err(|m| miss(env, method, "Channel", &m))
}

/// `socketpair(AF_UNIX)`: Channel.pair. Returns both handles; their fds are
/// in output slots 0 and 1.
#[napi(catch_unwind)]
pub fn chan_pair(env: &Env, seqpacket: bool) -> Result<Vec<f64>> {
    const M: &str = "Channel.pair";
    let (a, b) = Channel::pair(kind_of(seqpacket)).map_err(|e| os(env, M, &e))?;
    let (fa, fb) = (a.as_raw_fd(), b.as_raw_fd());
    let ha = store(env, M, Obj::Chan(Arc::new(a)))?;
    let hb = match store(env, M, Obj::Chan(Arc::new(b))) {
        Ok(h) => h,
        Err(e) => {
            drop(table::remove(ha));
            return Err(e);
        }
    };
    set_out(0, f64::from(fa));
    set_out(1, f64::from(fb));
    Ok(vec![ha, hb])
}

/// `socket` + `connect`: Channel.connect.
#[napi(catch_unwind)]
pub fn chan_connect(env: &Env, address: String, seqpacket: bool) -> Result<f64> {
    const M: &str = "Channel.connect";
    let c = Channel::connect(&Address::parse(&address), kind_of(seqpacket)).map_err(|e| os(env, M, &e))?;
    store_chan(env, M, c)
}

/// Duplicates an inherited socket fd: Channel.fromFd. Output slot 1 is 1
/// for a seqpacket socket.
#[napi(catch_unwind)]
pub fn chan_from_fd(env: &Env, fd: f64) -> Result<f64> {
    const M: &str = "Channel.fromFd";
    let c = Channel::dup_from_raw(fd_arg(env, M, fd)?).map_err(|e| os(env, M, &e))?;
    let seq = c.kind() == SocketKind::SeqPacket;
    let h = store_chan(env, M, c)?;
    set_out(1, if seq { 1.0 } else { 0.0 });
    Ok(h)
}

/// `socket` + `bind` + `listen`: Channel.listen.
#[napi(catch_unwind)]
pub fn listener_bind(env: &Env, address: String, seqpacket: bool) -> Result<f64> {
    const M: &str = "Channel.listen";
    let l = Listener::bind(&Address::parse(&address), kind_of(seqpacket)).map_err(|e| os(env, M, &e))?;
    let fd = l.as_fd().as_raw_fd();
    let h = store(env, M, Obj::Listener(Arc::new(l)))?;
    set_out(0, f64::from(fd));
    Ok(h)
}

/// An attempt for [`wait::spawn`]: `None` while the socket answers `EAGAIN`.
pub(crate) fn again<T>(r: dmabuf::Result<T>) -> std::result::Result<Option<T>, Fail> {
    match r {
        Err(e) if e.errno() == nix::errno::Errno::EAGAIN => Ok(None),
        r => r.map(Some).map_err(Fail::Core),
    }
}

/// What a send or flush resolves with: `true`, or `null` once cancelled.
fn sent(outcome: Outcome<()>) -> Option<bool> {
    match outcome {
        Outcome::Done(()) => Some(true),
        Outcome::TimedOut | Outcome::Cancelled => None,
    }
}

fn dup(env: &Env, method: &str, fd: BorrowedFd<'_>) -> Result<OwnedFd> {
    dmabuf::dup_raw_fd(fd.as_raw_fd()).map_err(|e| os(env, method, &e))
}

/// `accept4`, as a Promise: Listener.accept. Resolves `[handle, fd]`, or
/// `null` once cancelled.
#[napi(catch_unwind, ts_return_type = "Promise<number[] | null>")]
pub fn listener_accept(env: &Env, h: f64, op_id: u32) -> Result<PromiseRaw<'_, Option<Vec<f64>>>> {
    accept_as(env, h, op_id, "Listener.accept", Ok)
}

/// `accept4` on the Listener `h` for `method`, as a Promise: each accepted
/// connection goes through `framed` (`unixfdAccept`: GStreamer's commands)
/// and is stored as a Channel. Resolves `[handle, fd]`, or `null` once
/// cancelled.
pub(crate) fn accept_as<'e>(
    env: &'e Env,
    h: f64,
    op_id: u32,
    method: &'static str,
    framed: fn(Channel) -> dmabuf::Result<Channel>,
) -> Result<PromiseRaw<'e, Option<Vec<f64>>>> {
    let l = table::with(h, |o| match o {
        Obj::Listener(l) => Ok(Arc::clone(l)),
        other => Err(table::Miss::WrongClass(other.class())),
    })
    .and_then(|r| r)
    .map_err(|m| miss(env, method, "Listener", &m))?;
    let fd = dup(env, method, l.as_fd())?;
    let attempt = move |_: &OwnedFd| again(l.try_accept().and_then(framed));
    wait::spawn(env, method, (Ids::Chan, op_id), None, fd, Interest::READABLE, true, attempt, move |env, outcome| {
        match outcome {
            Outcome::Done(c) => {
                let fd = c.as_raw_fd();
                let h = store(env, method, Obj::Chan(Arc::new(c)))?;
                Ok(Some(vec![h, f64::from(fd)]))
            }
            Outcome::TimedOut | Outcome::Cancelled => Ok(None),
        }
    })
}

/// `sendmsg` with `SCM_RIGHTS`, as a Promise: Channel.send. `fds` holds
/// handles of `DmaBuf`s, `SyncFile`s and `PassedFd`s; each is duplicated
/// now, so closing them meanwhile is safe. Resolves `true`, or `null` once
/// cancelled (nothing sent, or on a stream the fds and part of the header
/// sent with the rest following the next send).
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>")]
pub fn chan_send(
    env: &Env,
    h: f64,
    header: String,
    fds: Float64Array,
    op_id: u32,
) -> Result<PromiseRaw<'_, Option<bool>>> {
    send_bytes(env, "Channel.send", h, header.into_bytes(), &fds, op_id)
}

/// Channel.sendFrame's waiting send: as `chanSend`, with the binary frame
/// header from `frameHeader` (`Frame::header_of`) instead of JSON text.
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>")]
pub fn chan_send_frame(
    env: &Env,
    h: f64,
    header: Uint8Array,
    fds: Float64Array,
    op_id: u32,
) -> Result<PromiseRaw<'_, Option<bool>>> {
    send_bytes(env, "Channel.sendFrame", h, header.to_vec(), &fds, op_id)
}

/// The promise of `chanSend` and `chanSendFrame`.
pub(crate) fn send_bytes<'e>(
    env: &'e Env,
    method: &'static str,
    h: f64,
    bytes: Vec<u8>,
    fds: &[f64],
    op_id: u32,
) -> Result<PromiseRaw<'e, Option<bool>>> {
    let c = chan(env, h, method)?;
    let owned = fds_of(env, method, fds)?;
    // The message, then (on a stream) the tail it left; `chanTrySend` found
    // the socket full just before, so nothing is tried before it polls ready.
    let mut went = false;
    let attempt = move |c: &Arc<Channel>| {
        if !went {
            let borrowed: Vec<BorrowedFd<'_>> = owned.iter().map(AsFd::as_fd).collect();
            if again(c.try_send(&bytes, &borrowed))?.is_none() {
                return Ok(None);
            }
            went = true;
        }
        again(c.try_flush())
    };
    wait::spawn(env, method, (Ids::Chan, op_id), None, c, Interest::WRITABLE, false, attempt, |_, o| Ok(sent(o)))
}

/// What `chanRecv` resolves with.
#[napi(object)]
pub struct Received {
    /// The header, as text (JSON from the TypeScript layer).
    pub header: String,
    /// Per fd: 0 a `DmaBuf`, 1 a `SyncFile`, 2 another fd.
    pub kinds: Vec<u32>,
    /// Per fd: its handle.
    pub handles: Vec<f64>,
    /// Per fd: its number.
    pub fds: Vec<i32>,
    /// Per fd: the dma-buf's size (0 for the others).
    pub sizes: Vec<f64>,
}

/// Stores every received fd; on failure the ones stored are closed again.
pub(crate) fn store_message(env: &Env, method: &str, msg: Message) -> Result<Received> {
    let mut r = Received {
        header: String::from_utf8_lossy(&msg.header).into_owned(),
        kinds: Vec::new(),
        handles: Vec::new(),
        fds: Vec::new(),
        sizes: Vec::new(),
    };
    for p in msg.fds {
        let fd = p.as_fd().as_raw_fd();
        let (kind, size, obj) = match p {
            Passed::DmaBuf(b) => (0, b.size(), Obj::Buf(Buf::new(b))),
            Passed::SyncFile(s) => (1, 0, Obj::Sync(s)),
            Passed::Fd(f) => (2, 0, Obj::Fd(Foreign::new(f))),
        };
        match store(env, method, obj) {
            Ok(h) => {
                r.kinds.push(kind);
                r.handles.push(h);
                r.fds.push(fd);
                #[allow(clippy::cast_precision_loss)] // Reason: sizes below 2^53 are exact.
                r.sizes.push(size as f64);
            }
            Err(e) => {
                for &h in &r.handles {
                    drop(table::remove(h));
                }
                return Err(e);
            }
        }
    }
    Ok(r)
}

/// `recvmsg` with `MSG_CMSG_CLOEXEC`, as a Promise: Channel.receive.
/// Resolves the message, or `null` once cancelled (a part of a stream
/// message that came is kept for the next receive).
#[napi(catch_unwind, ts_return_type = "Promise<Received | null>")]
pub fn chan_recv(env: &Env, h: f64, max_fds: f64, op_id: u32) -> Result<PromiseRaw<'_, Option<Received>>> {
    const M: &str = "Channel.receive";
    let c = chan(env, h, M)?;
    let max = usize::try_from(uint(env, M, "maxFds", max_fds)?).unwrap_or(usize::MAX);
    // `chanTryRecv` tried just before: wait for readiness first. The wait
    // watches the socket itself, which the `Arc` keeps open.
    let attempt = move |c: &Arc<Channel>| again(c.try_recv(max));
    wait::spawn(env, M, (Ids::Chan, op_id), None, c, Interest::READABLE, false, attempt, move |env, outcome| {
        match outcome {
            Outcome::Done(msg) => store_message(env, M, msg).map(Some),
            Outcome::TimedOut | Outcome::Cancelled => Ok(None),
        }
    })
}

/// Ends a pending send, receive or accept (its promise resolves `null`);
/// unknown ids are ignored.
#[napi(catch_unwind)]
pub fn chan_cancel(env: &Env, op_id: u32) {
    wait::cancel(env, Ids::Chan, op_id);
}

/// Lets go of the socket's idle poll handle, if a wait left one in this
/// loop turn (`wait::Io::linger`): `Channel.close()` calls it first so that
/// the socket closes at once. Unknown handles are ignored.
#[napi(catch_unwind)]
pub fn chan_unlinger(h: f64) {
    if let Ok(c) = table::with(h, |o| match o {
        Obj::Chan(c) => Some(Arc::as_ptr(c) as usize),
        _ => None,
    }) {
        c.into_iter().for_each(wait::unlinger);
    }
}

/// `pidfd_open` + `pidfd_getfd`: fdFromProcess, and DmaBuf.fromProcess
/// (`as_dma_buf`, which only changes the name errors give). Returns the
/// handle; output slot 0 the fd, 1 the kind (0 dma-buf, 1 `sync_file`, 2
/// other), 2 the dma-buf's size.
#[napi(catch_unwind)]
pub fn fd_from_process(env: &Env, pid: f64, fd: f64, as_dma_buf: bool) -> Result<f64> {
    let m: &str = if as_dma_buf { "DmaBuf.fromProcess" } else { "fdFromProcess" };
    let pid = u32::try_from(uint(env, m, "pid", pid)?)
        .map_err(|_| crate::errors::range(env, m, "pid must be at most 4294967295"))?;
    let fd = fd_arg(env, m, fd)?;
    match dmabuf::fdpass::from_process(pid, fd).map_err(|e| os(env, m, &e))? {
        Passed::DmaBuf(b) => {
            let size = num(b.size());
            let h = out_buf(env, m, b)?;
            set_out(1, 0.0);
            set_out(2, size);
            Ok(h)
        }
        Passed::SyncFile(s) => {
            let h = out_sync(env, m, s)?;
            set_out(1, 1.0);
            Ok(h)
        }
        Passed::Fd(f) => {
            let raw = f.as_raw_fd();
            let h = store(env, m, Obj::Fd(Foreign::new(f)))?;
            set_out(0, f64::from(raw));
            set_out(1, 2.0);
            Ok(h)
        }
    }
}

/// `fcntl(F_DUPFD_CLOEXEC)`: PassedFd.dup. Output slot 0 holds the new fd.
#[napi(catch_unwind)]
pub fn passed_fd_dup(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "PassedFd.dup";
    let copy = table::with(h, |o| match o {
        Obj::Fd(f) => Ok(dmabuf::dup_raw_fd(f.as_raw_fd())),
        other => Err(table::Miss::WrongClass(other.class())),
    })
    .and_then(|r| r)
    .map_err(|m| miss(env, M, "PassedFd", &m))?
    .map_err(|e| os(env, M, &e))?;
    let raw = copy.as_raw_fd();
    let h = store(env, M, Obj::Fd(Foreign::new(copy)))?;
    set_out(0, f64::from(raw));
    Ok(h)
}

/// The fd numbers behind `fds` (handles of `DmaBuf`s, `SyncFile`s and
/// `PassedFd`s). The table is this thread's, so they stay open until the JS
/// code of this thread runs again: enough for a `sendmsg` made before
/// returning, which is why the fast path sends them without duplicates.
fn raw_fds_of(env: &Env, method: &str, fds: &[f64]) -> Result<Vec<RawFd>> {
    let mut raw: Vec<RawFd> = Vec::with_capacity(fds.len());
    for &fh in fds {
        let fd = table::with(fh, |o| {
            let raw = match &*o {
                Obj::Buf(b) => b.buf.as_raw_fd(),
                Obj::Sync(s) => s.as_raw_fd(),
                Obj::Fd(f) => f.as_raw_fd(),
                other => return Err(table::Miss::WrongClass(other.class())),
            };
            Ok(raw)
        })
        .and_then(|r| r)
        .map_err(|m| miss(env, method, "DmaBuf, SyncFile or PassedFd", &m))?;
        raw.push(fd);
    }
    Ok(raw)
}

/// Duplicates of the fds behind `fds`, for a send that waits (the caller
/// may close its objects meanwhile).
fn fds_of(env: &Env, method: &str, fds: &[f64]) -> Result<Vec<OwnedFd>> {
    raw_fds_of(env, method, fds)?
        .into_iter()
        .map(|fd| dmabuf::dup_raw_fd(fd).map_err(|e| os(env, method, &e)))
        .collect()
}

/// One `sendmsg` without waiting: Channel.send's fast path. Returns 1 when
/// the message went, 2 when it went but a stream kept a tail for
/// `chanFlush`, 0 when the socket was full or the fast path is closed (the
/// loop has not turned for a while: `wait::fresh`): nothing sent, use
/// `chanSend`.
#[napi(catch_unwind)]
pub fn chan_try_send(env: &Env, h: f64, header: String, fds: Float64Array) -> Result<u32> {
    try_send_bytes(env, "Channel.send", h, header.as_bytes(), &fds)
}

/// Channel.sendFrame's fast path: as `chanTrySend`, with the binary frame
/// header from `frameHeader`.
#[napi(catch_unwind)]
pub fn chan_try_send_frame(env: &Env, h: f64, header: Uint8Array, fds: Float64Array) -> Result<u32> {
    try_send_bytes(env, "Channel.sendFrame", h, &header, &fds)
}

/// The one `sendmsg` of `chanTrySend` and `chanTrySendFrame`.
pub(crate) fn try_send_bytes(env: &Env, method: &str, h: f64, header: &[u8], fds: &[f64]) -> Result<u32> {
    let c = chan(env, h, method)?;
    if !wait::fresh(env) {
        return Ok(0);
    }
    let raw = raw_fds_of(env, method, fds)?;
    // SAFETY: each fd is owned by an object of this thread's table, and
    // nothing on this thread closes it before `try_send` returns.
    let borrowed: Vec<BorrowedFd<'_>> = raw.iter().map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) }).collect();
    match c.try_send(header, &borrowed) {
        Ok(()) => match c.try_flush() {
            Ok(()) => Ok(1),
            Err(e) if e.errno() == nix::errno::Errno::EAGAIN => Ok(2),
            Err(e) => Err(os(env, method, &e)),
        },
        Err(e) if e.errno() == nix::errno::Errno::EAGAIN => Ok(0),
        Err(e) => Err(os(env, method, &e)),
    }
}

/// Waits until a stream's queued tail is sent: Channel.send after
/// `chanTrySend` answered 2. Resolves `true`, or `null` once cancelled.
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>")]
pub fn chan_flush(env: &Env, h: f64, op_id: u32) -> Result<PromiseRaw<'_, Option<bool>>> {
    const M: &str = "Channel.send";
    let c = chan(env, h, M)?;
    let attempt = move |c: &Arc<Channel>| again(c.try_flush());
    wait::spawn(env, M, (Ids::Chan, op_id), None, c, Interest::WRITABLE, false, attempt, |_, o| Ok(sent(o)))
}

/// One receive without waiting: Channel.receive's fast path. `null` when no
/// whole message is there yet or the fast path is closed (`wait::fresh`):
/// use `chanRecv`.
#[napi(catch_unwind)]
pub fn chan_try_recv(env: &Env, h: f64, max_fds: f64) -> Result<Option<Received>> {
    const M: &str = "Channel.receive";
    let c = chan(env, h, M)?;
    let max = usize::try_from(uint(env, M, "maxFds", max_fds)?).unwrap_or(usize::MAX);
    if !wait::fresh(env) {
        return Ok(None);
    }
    match c.try_recv(max) {
        Ok(msg) => store_message(env, M, msg).map(Some),
        Err(e) if e.errno() == nix::errno::Errno::EAGAIN => Ok(None),
        Err(e) => Err(os(env, M, &e)),
    }
}

/// What `chanRecvFrame` resolves with: a frame checked by
/// `Frame::from_message`, its planes' dma-bufs stored as handles.
/// `Frame::from_message` (every fd closed when it refuses the message),
/// then each plane's dma-buf stored (`frame::store_frame`).
fn store_frame(env: &Env, method: &str, msg: Message) -> Result<StoredFrame> {
    let frame = dmabuf::Frame::from_message(msg).map_err(|e| os(env, method, &e))?;
    crate::frame::store_frame(env, method, frame)
}

/// One receive without waiting: Channel.receiveFrame's fast path, as
/// `chanTryRecv`. Up to `MAX_FDS` fds are taken, so that any message that
/// is no frame is refused by `Frame::from_message` (`EPROTO`, its fds
/// closed) rather than by the fd limit.
#[napi(catch_unwind)]
pub fn chan_try_recv_frame(env: &Env, h: f64) -> Result<Option<StoredFrame>> {
    const M: &str = "Channel.receiveFrame";
    let c = chan(env, h, M)?;
    if !wait::fresh(env) {
        return Ok(None);
    }
    match c.try_recv(dmabuf::fdpass::MAX_FDS) {
        Ok(msg) => store_frame(env, M, msg).map(Some),
        Err(e) if e.errno() == nix::errno::Errno::EAGAIN => Ok(None),
        Err(e) => Err(os(env, M, &e)),
    }
}

/// `recvmsg` as a Promise, then `Frame::from_message`: Channel.receiveFrame.
/// Resolves the frame, or `null` once cancelled.
#[napi(catch_unwind, ts_return_type = "Promise<StoredFrame | null>")]
pub fn chan_recv_frame(env: &Env, h: f64, op_id: u32) -> Result<PromiseRaw<'_, Option<StoredFrame>>> {
    const M: &str = "Channel.receiveFrame";
    let c = chan(env, h, M)?;
    let attempt = move |c: &Arc<Channel>| again(c.try_recv(dmabuf::fdpass::MAX_FDS));
    wait::spawn(env, M, (Ids::Chan, op_id), None, c, Interest::READABLE, false, attempt, move |env, outcome| {
        match outcome {
            Outcome::Done(msg) => store_frame(env, M, msg).map(Some),
            Outcome::TimedOut | Outcome::Cancelled => Ok(None),
        }
    })
}
