//! Memory-to-memory (codec and converter) functions under `M2mDevice` and
//! its two `M2mQueue`s: the core's `v4l2::M2mDevice` one call per ioctl,
//! with its state machine and its named errors. Waits (a buffer of either
//! queue, an event) occupy no thread: a duplicate of the node's fd is
//! watched by Node's event loop for `POLLOUT`, `POLLIN` or `POLLPRI`
//! (`wait.rs`), and the TypeScript layer then dequeues without blocking.
//!
//! DMABUF slots hold duplicates of the queued `DmaBuf`s (taken by value by
//! the core) until the buffer is dequeued or the queue stops; the
//! TypeScript layer keeps the JavaScript objects by index.

use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use dmabuf::v4l2::{ControlValue, Format, M2mDevice, Memory, PlaneData, Queue};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::out_buf;
use crate::errors::{miss, os, value};
use crate::table::{self, Obj};
use crate::v4l2::{control_out, format_in, format_out, info_out, V4l2BufferInfo, V4l2ControlInfo, V4l2Format};
use crate::wait::{self, Ids, Interest};

/// A format a queue lists (`VIDIOC_ENUM_FMT`).
#[napi(object, js_name = "V4l2FormatDesc")]
pub struct V4l2FormatDesc {
    /// The fourcc as four characters (`'FWHT'`, `'YUYV'`).
    pub pixelformat: String,
    /// The driver's description.
    pub description: String,
    /// `V4L2_FMT_FLAG_*`.
    pub flags: u32,
    /// Whether it is a coded format (`V4L2_FMT_FLAG_COMPRESSED`).
    pub compressed: bool,
}

/// A memory-to-memory device as `M2mDevice.list` finds it.
#[napi(object, js_name = "M2mNode")]
pub struct M2mNode {
    /// `/dev/videoN`.
    pub path: String,
    /// Its name in sysfs (`stateful-encoder`, `vim2m`).
    pub name: String,
    /// The driver (`vicodec`, `vim2m`, `bcm2835-codec`).
    pub driver: String,
    /// What it does.
    #[napi(ts_type = "'encoder' | 'decoder' | 'converter'")]
    pub role: String,
    /// The formats its OUTPUT queue takes (coded ones for a decoder).
    pub output_formats: Vec<V4l2FormatDesc>,
    /// The formats its CAPTURE queue gives (coded ones for an encoder).
    pub capture_formats: Vec<V4l2FormatDesc>,
}

/// A device's role, state and queues, read in one call.
#[napi(object, js_name = "M2mStatus")]
pub struct M2mStatus {
    /// `'encoder'`, `'decoder'` or `'converter'`.
    pub role: String,
    /// The state's name in the kernel's documents (`'Encoding'`, `'Capture Setup'`, `'Drain'`...).
    pub state: String,
    /// The OUTPUT queue's V4L2 buffer type.
    pub output_type: String,
    /// The CAPTURE queue's.
    pub capture_type: String,
    /// Whether OUTPUT streams.
    pub output_streaming: bool,
    /// Whether CAPTURE streams.
    pub capture_streaming: bool,
    /// OUTPUT buffers the driver holds.
    pub output_queued: u32,
    /// CAPTURE buffers the driver holds.
    pub capture_queued: u32,
}

/// A dequeued buffer with whether it is the last of a drain or of a resolution change.
#[napi(object, js_name = "M2mBufferInfo")]
pub struct M2mBufferInfo {
    /// The buffer.
    pub info: V4l2BufferInfo,
    /// `V4L2_BUF_FLAG_LAST`.
    pub last: bool,
}

/// An event (`VIDIOC_DQEVENT`).
#[napi(object, js_name = "V4l2Event")]
pub struct V4l2Event {
    /// `'eos'`, `'source-change'`, or `'other'`.
    #[napi(ts_type = "'eos' | 'source-change' | 'other'")]
    pub kind: String,
    /// `V4L2_EVENT_*`.
    pub kind_code: u32,
    /// `V4L2_EVENT_SRC_CH_*` of a source change (1: resolution).
    pub changes: u32,
    /// Events still pending.
    pub pending: u32,
    /// Its number among the file's events.
    pub sequence: u32,
    /// When it was queued, microseconds of `CLOCK_MONOTONIC`.
    pub timestamp_us: f64,
}

/// A rectangle (`VIDIOC_G_SELECTION`).
#[napi(object, js_name = "V4l2Rect")]
pub struct V4l2Rect {
    /// Left edge.
    pub left: i32,
    /// Top edge.
    pub top: i32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// An item of a menu control (`VIDIOC_QUERYMENU`).
#[napi(object, js_name = "V4l2MenuItem")]
pub struct V4l2MenuItem {
    /// The value that selects it.
    pub index: u32,
    /// Its name (menus).
    pub name: String,
    /// Its value (integer menus).
    pub value: f64,
}

fn queue(env: &Env, method: &str, q: &str) -> Result<Queue> {
    match q {
        "output" => Ok(Queue::Output),
        "capture" => Ok(Queue::Capture),
        _ => Err(value(env, method, &format!("queue must be 'output' or 'capture'. Received {q:?}"))),
    }
}

fn on_m2m<T>(env: &Env, h: f64, m: &str, f: impl FnOnce(&mut M2mDevice) -> dmabuf::Result<T>) -> Result<T> {
    table::with_m2m(h, f).map_err(|x| miss(env, m, "M2mDevice", &x))?.map_err(|e| os(env, m, &e))
}

fn desc_out(d: dmabuf::v4l2::FormatDesc) -> V4l2FormatDesc {
    V4l2FormatDesc {
        pixelformat: dmabuf::v4l2::fourcc_name(d.pixelformat),
        compressed: d.is_compressed(),
        description: d.description,
        flags: d.flags,
    }
}

#[allow(clippy::cast_precision_loss)] // Reason: microseconds since boot fit in 2^53.
fn micros(d: Duration) -> f64 {
    d.as_micros() as f64
}

/// A timestamp in microseconds as the `Duration` V4L2 carries; negative
/// or non-finite values are refused by the TypeScript layer.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // Reason: checked >= 0 and < 2^53 in TypeScript.
fn stamp(us: f64) -> Duration {
    Duration::from_micros(us as u64)
}

/// The M2M devices: M2mDevice.list.
#[napi(catch_unwind, js_name = "m2mList")]
pub fn m2m_list(env: &Env) -> Result<Vec<M2mNode>> {
    let nodes = dmabuf::v4l2::list_m2m().map_err(|e| os(env, "M2mDevice.list", &e))?;
    Ok(nodes
        .into_iter()
        .map(|n| M2mNode {
            path: n.path.to_string_lossy().into_owned(),
            name: n.name,
            driver: n.driver,
            role: n.role.as_str().to_string(),
            output_formats: n.output_formats.into_iter().map(desc_out).collect(),
            capture_formats: n.capture_formats.into_iter().map(desc_out).collect(),
        })
        .collect())
}

/// `open`, `VIDIOC_QUERYCAP`, `VIDIOC_ENUM_FMT` and the event subscriptions: M2mDevice.open.
#[napi(catch_unwind, js_name = "m2mOpen")]
pub fn m2m_open(env: &Env, path: String) -> Result<f64> {
    const M: &str = "M2mDevice.open";
    let d = M2mDevice::open(&path).map_err(|e| os(env, M, &e))?;
    table::insert(Obj::M2m(d)).map_err(|m| miss(env, M, "M2mDevice", &m))
}

/// The role, the state and both queues' status.
#[napi(catch_unwind, js_name = "m2mStatus")]
pub fn m2m_status(env: &Env, h: f64) -> Result<M2mStatus> {
    on_m2m(env, h, "M2mDevice.state", |d| {
        let n = |q| u32::try_from(d.queued(q)).unwrap_or(u32::MAX);
        Ok(M2mStatus {
            role: d.role().as_str().to_string(),
            state: d.state().name(d.role()).to_string(),
            output_type: d.buf_type(Queue::Output).as_str().to_string(),
            capture_type: d.buf_type(Queue::Capture).as_str().to_string(),
            output_streaming: d.is_streaming(Queue::Output),
            capture_streaming: d.is_streaming(Queue::Capture),
            output_queued: n(Queue::Output),
            capture_queued: n(Queue::Capture),
        })
    })
}

/// `VIDIOC_QUERYCAP`'s answer: M2mDevice.capabilities.
#[napi(catch_unwind, js_name = "m2mCaps")]
pub fn m2m_caps(env: &Env, h: f64) -> Result<crate::v4l2::V4l2Caps> {
    on_m2m(env, h, "M2mDevice.capabilities", |d| Ok(crate::v4l2::caps_out(d.device())))
}

/// `VIDIOC_ENUM_FMT`: M2mQueue.formats.
#[napi(catch_unwind, js_name = "m2mFormats")]
pub fn m2m_formats(env: &Env, h: f64, q: String) -> Result<Vec<V4l2FormatDesc>> {
    const M: &str = "M2mQueue.formats";
    let q = queue(env, M, &q)?;
    on_m2m(env, h, M, |d| d.formats(q)).map(|v| v.into_iter().map(desc_out).collect())
}

/// `VIDIOC_G_FMT`: M2mQueue.format.
#[napi(catch_unwind, js_name = "m2mFormat")]
pub fn m2m_format(env: &Env, h: f64, q: String) -> Result<V4l2Format> {
    const M: &str = "M2mQueue.format";
    let q = queue(env, M, &q)?;
    on_m2m(env, h, M, |d| d.format(q)).map(|f| format_out(&f))
}

/// `VIDIOC_S_FMT` (`mode` 'set' or 'exact') or `VIDIOC_TRY_FMT` ('try'):
/// M2mQueue.setFormat / tryFormat.
#[napi(catch_unwind, js_name = "m2mSetFormat")]
pub fn m2m_set_format(env: &Env, h: f64, q: String, f: V4l2Format, mode: String) -> Result<V4l2Format> {
    let m = if mode == "try" { "M2mQueue.tryFormat" } else { "M2mQueue.setFormat" };
    let q = queue(env, m, &q)?;
    let want: Format = format_in(env, m, &f)?;
    let got = on_m2m(env, h, m, |d| match mode.as_str() {
        "try" => d.try_format(q, &want),
        "exact" => d.set_format_exact(q, &want),
        _ => d.set_format(q, &want),
    })?;
    Ok(format_out(&got))
}

/// `VIDIOC_G_SELECTION`: M2mDevice.visibleRect.
#[napi(catch_unwind, js_name = "m2mVisibleRect")]
pub fn m2m_visible_rect(env: &Env, h: f64) -> Result<V4l2Rect> {
    let r = on_m2m(env, h, "M2mDevice.visibleRect", |d| d.visible_rect())?;
    Ok(V4l2Rect { left: r.left, top: r.top, width: r.width, height: r.height })
}

/// `VIDIOC_REQBUFS` of `memory` ('mmap' or 'dmabuf'): M2mQueue.requestBuffers.
#[napi(catch_unwind, js_name = "m2mRequestBuffers")]
pub fn m2m_request_buffers(env: &Env, h: f64, q: String, memory: String, count: u32) -> Result<u32> {
    const M: &str = "M2mQueue.requestBuffers";
    let q = queue(env, M, &q)?;
    let memory = match memory.as_str() {
        "mmap" => Memory::Mmap,
        "dmabuf" => Memory::DmaBuf,
        _ => return Err(value(env, M, &format!("memory must be 'mmap' or 'dmabuf'. Received {memory:?}"))),
    };
    on_m2m(env, h, M, |d| d.request_buffers(q, memory, count))
}

/// `VIDIOC_EXPBUF` of plane `plane` of MMAP buffer `index`: M2mQueue.exportBuffer; a new `DmaBuf` handle.
#[napi(catch_unwind, js_name = "m2mExport")]
pub fn m2m_export(env: &Env, h: f64, q: String, index: u32, plane: u32) -> Result<f64> {
    const M: &str = "M2mQueue.exportBuffer";
    let q = queue(env, M, &q)?;
    let buf = on_m2m(env, h, M, |d| d.export_plane(q, index, plane))?;
    out_buf(env, M, buf)
}

/// `VIDIOC_QBUF` of MMAP buffer `index`: M2mQueue.queue.
#[napi(catch_unwind, js_name = "m2mQueue")]
pub fn m2m_queue(env: &Env, h: f64, q: String, index: u32, bytesused: Vec<u32>, timestamp_us: f64) -> Result<()> {
    const M: &str = "M2mQueue.queue";
    let q = queue(env, M, &q)?;
    on_m2m(env, h, M, |d| d.queue_buffer(q, index, &bytesused, stamp(timestamp_us)))
}

/// `VIDIOC_QBUF` of duplicates of the given `DmaBuf`s into a DMABUF slot:
/// M2mQueue.queueDmaBuf; the V4L2 index.
#[napi(catch_unwind, js_name = "m2mQueueDmaBuf")]
pub fn m2m_queue_dmabuf(
    env: &Env,
    h: f64,
    q: String,
    bufs: Vec<f64>,
    bytesused: Vec<u32>,
    data_offset: Vec<u32>,
    timestamp_us: f64,
) -> Result<u32> {
    const M: &str = "M2mQueue.queueDmaBuf";
    let q = queue(env, M, &q)?;
    let mut dups = Vec::with_capacity(bufs.len());
    for &b in &bufs {
        dups.push(crate::dma_buf::on_buf(env, b, M, |x| x.buf.try_clone())?);
    }
    let planes: Vec<PlaneData> = (0..dups.len())
        .map(|i| PlaneData {
            bytesused: bytesused.get(i).copied().unwrap_or(0),
            data_offset: data_offset.get(i).copied().unwrap_or(0),
        })
        .collect();
    // A failed queue hands the duplicates back; dropping them closes them.
    on_m2m(env, h, M, |d| d.queue_dmabuf(q, dups, &planes, stamp(timestamp_us)).map_err(|e| e.error))
}

/// `VIDIOC_DQBUF` without waiting: M2mQueue.tryDequeue (null when none is
/// done). The duplicates a DMABUF slot held are closed here.
#[napi(catch_unwind, js_name = "m2mTryDequeue")]
pub fn m2m_try_dequeue(env: &Env, h: f64, q: String) -> Result<Option<M2mBufferInfo>> {
    const M: &str = "M2mQueue.dequeue";
    let q = queue(env, M, &q)?;
    let got = on_m2m(env, h, M, |d| d.try_dequeue(q))?;
    Ok(got.map(|b| M2mBufferInfo { last: b.is_last(), info: info_out(&b.info) }))
}

/// `VIDIOC_STREAMON`: M2mQueue.streamOn.
#[napi(catch_unwind, js_name = "m2mStreamOn")]
pub fn m2m_stream_on(env: &Env, h: f64, q: String) -> Result<()> {
    const M: &str = "M2mQueue.streamOn";
    let q = queue(env, M, &q)?;
    on_m2m(env, h, M, |d| d.stream_on(q))
}

/// `VIDIOC_STREAMOFF`: M2mQueue.streamOff; the DMABUF slots it gave back.
#[napi(catch_unwind, js_name = "m2mStreamOff")]
pub fn m2m_stream_off(env: &Env, h: f64, q: String) -> Result<Vec<u32>> {
    const M: &str = "M2mQueue.streamOff";
    let q = queue(env, M, &q)?;
    let back = on_m2m(env, h, M, |d| d.stream_off(q))?;
    Ok(back.into_iter().map(|(i, _)| i).collect())
}

/// The reset: both queues stopped. Returns the DMABUF slots given back, as
/// `[queue (0 output, 1 capture), index]` pairs flattened.
#[napi(catch_unwind, js_name = "m2mReset")]
pub fn m2m_reset(env: &Env, h: f64) -> Result<Vec<u32>> {
    let back = on_m2m(env, h, "M2mDevice.reset", M2mDevice::reset)?;
    Ok(back.into_iter().flat_map(|(q, i, _)| [u32::from(q == Queue::Capture), i]).collect())
}

/// `V4L2_ENC_CMD_STOP`/`V4L2_DEC_CMD_STOP` ('drain') or `..._START` ('start'):
/// M2mDevice.drain / start.
#[napi(catch_unwind, js_name = "m2mCommand")]
pub fn m2m_command(env: &Env, h: f64, cmd: String) -> Result<()> {
    match cmd.as_str() {
        "drain" => on_m2m(env, h, "M2mDevice.drain", M2mDevice::drain),
        "start" => on_m2m(env, h, "M2mDevice.start", M2mDevice::start),
        _ => Err(value(env, "M2mDevice.command", &format!("command must be 'drain' or 'start'. Received {cmd:?}"))),
    }
}

/// `VIDIOC_DQEVENT` without waiting: M2mDevice.nextEvent's attempt.
#[napi(catch_unwind, js_name = "m2mTryDequeueEvent")]
pub fn m2m_try_dequeue_event(env: &Env, h: f64) -> Result<Option<V4l2Event>> {
    let ev = on_m2m(env, h, "M2mDevice.nextEvent", M2mDevice::try_dequeue_event)?;
    Ok(ev.map(|e| V4l2Event {
        kind: if e.is_eos() {
            "eos"
        } else if e.kind == dmabuf::v4l2::EVENT_SOURCE_CHANGE {
            "source-change"
        } else {
            "other"
        }
        .to_string(),
        kind_code: e.kind,
        changes: e.changes,
        pending: e.pending,
        sequence: e.sequence,
        timestamp_us: micros(e.timestamp),
    }))
}

/// `VIDIOC_QUERY_EXT_CTRL` of every control: M2mDevice.controls.
#[napi(catch_unwind, js_name = "m2mControls")]
pub fn m2m_controls(env: &Env, h: f64) -> Result<Vec<V4l2ControlInfo>> {
    on_m2m(env, h, "M2mDevice.controls", |d| d.device().controls()).map(|v| v.into_iter().map(control_out).collect())
}

/// `VIDIOC_QUERYMENU` of every item: M2mDevice.menu.
#[napi(catch_unwind, js_name = "m2mMenu")]
pub fn m2m_menu(env: &Env, h: f64, id: u32) -> Result<Vec<V4l2MenuItem>> {
    #[allow(clippy::cast_precision_loss)] // Reason: integer-menu values beyond 2^53 round.
    let item = |m: dmabuf::v4l2::MenuItem| V4l2MenuItem { index: m.index, name: m.name, value: m.value as f64 };
    on_m2m(env, h, "M2mDevice.menu", |d| d.device().menu_items(id)).map(|v| v.into_iter().map(item).collect())
}

/// `n` as an `i32` when it is an integer in its range.
fn int32(n: f64) -> Option<i32> {
    if n.is_finite() && n.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n) {
        #[allow(clippy::cast_possible_truncation)] // Reason: checked above to be an integer in i32's range.
        Some(n as i32)
    } else {
        None
    }
}

fn control_js(v: ControlValue) -> Either3<i32, BigInt, String> {
    match v {
        ControlValue::Integer(i) => Either3::A(i),
        ControlValue::Integer64(i) => Either3::B(BigInt::from(i)),
        ControlValue::String(s) => Either3::C(s),
    }
}

/// `VIDIOC_G_EXT_CTRLS`: M2mDevice.getControls.
#[napi(catch_unwind, js_name = "m2mGetControls")]
pub fn m2m_get_controls(env: &Env, h: f64, ids: Vec<u32>) -> Result<Vec<Either3<i32, BigInt, String>>> {
    let got = on_m2m(env, h, "M2mDevice.getControls", |d| d.device().ext_controls(&ids))?;
    Ok(got.into_iter().map(control_js).collect())
}

/// `VIDIOC_S_EXT_CTRLS` (or `VIDIOC_TRY_EXT_CTRLS` when `try_only`):
/// M2mDevice.setControls / tryControls. `values` are numbers (32-bit
/// controls; the TypeScript layer checked them to be integers), bigints
/// (64-bit) or strings; returns what the driver kept.
#[napi(catch_unwind, js_name = "m2mSetControls")]
pub fn m2m_set_controls(
    env: &Env,
    h: f64,
    ids: Vec<u32>,
    values: Vec<Either3<f64, BigInt, String>>,
    try_only: bool,
) -> Result<Vec<Either3<i32, BigInt, String>>> {
    let m = if try_only { "M2mDevice.tryControls" } else { "M2mDevice.setControls" };
    let mut pairs = Vec::with_capacity(ids.len());
    for (i, (&id, v)) in ids.iter().zip(values).enumerate() {
        let cv = match v {
            Either3::A(n) => match int32(n) {
                Some(x) => ControlValue::Integer(x),
                None => {
                    return Err(crate::errors::range(
                        env,
                        m,
                        &format!("values[{i}] must be an integer >= -2147483648 and <= 2147483647 (a 64-bit control takes a bigint). Received {n}"),
                    ))
                }
            },
            Either3::B(b) => {
                let (x, lossless) = b.get_i64();
                if !lossless {
                    return Err(crate::errors::range(env, m, &format!("values[{i}] must fit in 64 bits (a signed 64-bit control)")));
                }
                ControlValue::Integer64(x)
            }
            Either3::C(s) => ControlValue::String(s),
        };
        pairs.push((id, cv));
    }
    let kept = on_m2m(env, h, m, |d| {
        if try_only {
            d.device().try_ext_controls(&pairs)
        } else {
            d.device().set_ext_controls(&pairs)
        }
    })?;
    Ok(kept.into_iter().map(control_js).collect())
}

/// Resolves true once the device polls ready for `what` ('output': an
/// OUTPUT buffer is done, `POLLOUT`; 'capture': `POLLIN`; 'event':
/// `POLLPRI`) or reports an error, false when `timeoutMs` (negative: none)
/// passes, null when `v4l2CancelWait(waitId)` ran.
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>", js_name = "m2mWait")]
pub fn m2m_wait(
    env: &Env,
    h: f64,
    what: String,
    timeout_ms: f64,
    wait_id: u32,
) -> Result<PromiseRaw<'_, Option<bool>>> {
    let (m, interest) = match what.as_str() {
        "output" => ("M2mQueue.dequeue", Interest::WRITABLE),
        "capture" => ("M2mQueue.dequeue", Interest::READABLE),
        "event" => ("M2mDevice.nextEvent", Interest::PRIORITIZED),
        _ => {
            return Err(value(
                env,
                "M2mDevice.wait",
                &format!("what must be 'output', 'capture' or 'event'. Received {what:?}"),
            ))
        }
    };
    let fd = on_m2m(env, h, m, |d| dmabuf::dup_raw_fd(d.as_fd().as_raw_fd()))?;
    // The TypeScript layer tried to dequeue just before (or the fast path is closed).
    wait::ready(env, m, (Ids::V4l2, wait_id), wait::timeout(timeout_ms), fd, interest, false)
}
