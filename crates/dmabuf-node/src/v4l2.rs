//! V4L2 functions under `V4l2Device` and `V4l2DmaBufQueue`: formats,
//! buffers exported as dma-bufs, a DMABUF import queue, streaming, and a
//! dequeue wait that occupies no thread (the node's fd, duplicated, watched
//! by Node's event loop as `SyncFile.wait`'s is: `wait.rs`).
//!
//! The import queue holds a duplicate of each queued `DmaBuf` while the
//! driver holds the buffer, so `close()` of the JavaScript object meanwhile
//! only closes the caller's fd: the memory is released when the buffer is
//! dequeued or the queue stops (the deferred close documented in
//! `lib/index.ts`).

use std::os::fd::{AsFd, AsRawFd};

use dmabuf::v4l2::{BufType, DmaBufQueue, Format, Memory, PlaneData, PlaneFormat, V4l2Device};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::out_buf;
use crate::errors::{access, miss, os, value};
use crate::table::{self, Obj};
use crate::wait::{self, Ids, Interest};

/// `VIDIOC_QUERYCAP`'s answer.
#[napi(object, js_name = "V4l2Caps")]
pub struct V4l2Caps {
    /// The driver (`vivid`, `uvcvideo`).
    pub driver: String,
    /// The device's name.
    pub card: String,
    /// Where it sits (`platform:vivid-000`).
    pub bus_info: String,
    /// `V4L2_CAP_*` of the whole device.
    pub capabilities: u32,
    /// `V4L2_CAP_*` of this node.
    pub device_caps: u32,
    /// The node's video queue ('capture', 'output', 'capture-mplane',
    /// 'output-mplane'), or null when it has none.
    #[napi(ts_type = "'capture' | 'output' | 'capture-mplane' | 'output-mplane' | null")]
    pub buf_type: Option<String>,
}

/// One plane of a format.
#[napi(object, js_name = "V4l2PlaneFormat")]
pub struct V4l2PlaneFormat {
    /// Bytes per line.
    pub bytesperline: u32,
    /// Bytes of the whole plane.
    pub sizeimage: u32,
}

/// A video format.
#[napi(object, js_name = "V4l2Format")]
pub struct V4l2Format {
    /// Pixels per line.
    pub width: u32,
    /// Lines.
    pub height: u32,
    /// The fourcc as four characters (`'YUYV'`, `'NM12'`).
    pub pixelformat: String,
    /// `enum v4l2_field` (1: progressive).
    pub field: u32,
    /// `enum v4l2_colorspace`.
    pub colorspace: u32,
    /// One entry per memory plane.
    pub planes: Vec<V4l2PlaneFormat>,
}

/// One plane of a queried or dequeued buffer.
#[napi(object, js_name = "V4l2PlaneInfo")]
pub struct V4l2PlaneInfo {
    /// Size of the plane's memory.
    pub length: u32,
    /// Bytes holding data, `dataOffset` included.
    pub bytesused: u32,
    /// Where the payload starts in the plane.
    pub data_offset: u32,
}

/// A queried or dequeued buffer.
#[napi(object, js_name = "V4l2BufferInfo")]
pub struct V4l2BufferInfo {
    /// Its index in the queue.
    pub index: u32,
    /// `V4L2_BUF_FLAG_*` (0x40: error).
    pub flags: u32,
    /// `enum v4l2_field`.
    pub field: u32,
    /// The driver's frame counter.
    pub sequence: u32,
    /// The timestamp in microseconds (`CLOCK_MONOTONIC` for most drivers).
    pub timestamp_us: f64,
    /// One entry per plane.
    pub planes: Vec<V4l2PlaneInfo>,
}

/// A control.
#[napi(object, js_name = "V4l2ControlInfo")]
pub struct V4l2ControlInfo {
    /// Its id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// `enum v4l2_ctrl_type` (1 integer, 2 boolean, 3 menu...).
    pub kind: u32,
    /// Smallest value.
    pub minimum: f64,
    /// Largest value.
    pub maximum: f64,
    /// Default value.
    pub default_value: f64,
}

fn buf_type(env: &Env, method: &str, t: &str) -> Result<BufType> {
    BufType::parse(t).ok_or_else(|| {
        value(
            env,
            method,
            &format!("type must be 'capture', 'output', 'capture-mplane' or 'output-mplane'. Received {t:?}"),
        )
    })
}

fn on_dev<T>(env: &Env, h: f64, m: &str, f: impl FnOnce(&V4l2Device) -> dmabuf::Result<T>) -> Result<T> {
    table::with_v4l2(h, |d| f(d)).map_err(|x| miss(env, m, "V4l2Device", &x))?.map_err(|e| os(env, m, &e))
}

fn on_queue<T>(env: &Env, h: f64, m: &str, f: impl FnOnce(&mut DmaBufQueue) -> dmabuf::Result<T>) -> Result<T> {
    table::with_v4l2_queue(h, f).map_err(|x| miss(env, m, "V4l2DmaBufQueue", &x))?.map_err(|e| os(env, m, &e))
}

pub(crate) fn format_out(f: &Format) -> V4l2Format {
    V4l2Format {
        width: f.width,
        height: f.height,
        pixelformat: dmabuf::v4l2::fourcc_name(f.pixelformat),
        field: f.field,
        colorspace: f.colorspace,
        planes: f
            .planes
            .iter()
            .map(|p| V4l2PlaneFormat { bytesperline: p.bytesperline, sizeimage: p.sizeimage })
            .collect(),
    }
}

/// The core's `Format` of a JavaScript one (the fourcc from its four characters).
pub(crate) fn format_in(env: &Env, method: &str, f: &V4l2Format) -> Result<Format> {
    let pixelformat = dmabuf::v4l2::fourcc(&f.pixelformat).map_err(|e| os(env, method, &e))?;
    Ok(Format {
        width: f.width,
        height: f.height,
        pixelformat,
        field: f.field,
        colorspace: f.colorspace,
        planes: f.planes.iter().map(|p| PlaneFormat { bytesperline: p.bytesperline, sizeimage: p.sizeimage }).collect(),
    })
}

#[allow(clippy::cast_precision_loss)] // Reason: microseconds since boot fit in 2^53.
pub(crate) fn info_out(b: &dmabuf::v4l2::BufferInfo) -> V4l2BufferInfo {
    V4l2BufferInfo {
        index: b.index,
        flags: b.flags,
        field: b.field,
        sequence: b.sequence,
        timestamp_us: b.timestamp.as_micros() as f64,
        planes: b
            .planes
            .iter()
            .map(|p| V4l2PlaneInfo { length: p.length, bytesused: p.bytesused, data_offset: p.data_offset })
            .collect(),
    }
}

/// A V4L2 video node with a streaming queue.
#[napi(object, js_name = "V4l2Node")]
pub struct V4l2Node {
    /// `/dev/videoN`.
    pub path: String,
    /// Its name in sysfs (`vivid-000-vid-cap`).
    pub name: String,
    /// The driver.
    pub driver: String,
    /// Its video queue.
    #[napi(ts_type = "'capture' | 'output' | 'capture-mplane' | 'output-mplane'")]
    pub buf_type: String,
    /// Whether its buffers can be exported (MMAP).
    pub can_export: bool,
    /// Whether it imports dma-bufs (DMABUF).
    pub can_import: bool,
}

/// The V4L2 video nodes that stream: V4l2Device.list.
#[napi(catch_unwind, js_name = "v4l2List")]
pub fn v4l2_list(env: &Env) -> Result<Vec<V4l2Node>> {
    let nodes = dmabuf::v4l2::list().map_err(|e| os(env, "V4l2Device.list", &e))?;
    Ok(nodes.into_iter().map(V4l2Node::from).collect())
}

impl From<dmabuf::v4l2::VideoNode> for V4l2Node {
    fn from(n: dmabuf::v4l2::VideoNode) -> V4l2Node {
        V4l2Node {
            path: n.path.to_string_lossy().into_owned(),
            name: n.name,
            driver: n.driver,
            buf_type: n.buf_type.as_str().to_string(),
            can_export: n.can_export,
            can_import: n.can_import,
        }
    }
}

/// `open` + `VIDIOC_QUERYCAP`: V4l2Device.open.
#[napi(catch_unwind, js_name = "v4l2Open")]
pub fn v4l2_open(env: &Env, path: String) -> Result<f64> {
    const M: &str = "V4l2Device.open";
    let d = V4l2Device::open(&path).map_err(|e| os(env, M, &e))?;
    table::insert(Obj::V4l2(d)).map_err(|m| miss(env, M, "V4l2Device", &m))
}

/// V4l2Device.capabilities.
#[napi(catch_unwind, js_name = "v4l2Caps")]
pub fn v4l2_caps(env: &Env, h: f64) -> Result<V4l2Caps> {
    on_dev(env, h, "V4l2Device.capabilities", |d| Ok(caps_out(d)))
}

/// `VIDIOC_QUERYCAP`'s answer as the node kept it when opened.
pub(crate) fn caps_out(d: &V4l2Device) -> V4l2Caps {
    let c = d.caps();
    V4l2Caps {
        driver: c.driver.clone(),
        card: c.card.clone(),
        bus_info: c.bus_info.clone(),
        capabilities: c.capabilities,
        device_caps: c.device_caps,
        buf_type: c.video_buf_type().map(|t| t.as_str().to_string()),
    }
}

/// `VIDIOC_G_FMT`: V4l2Device.format.
#[napi(catch_unwind, js_name = "v4l2Format")]
pub fn v4l2_format(env: &Env, h: f64, t: String) -> Result<V4l2Format> {
    const M: &str = "V4l2Device.format";
    let t = buf_type(env, M, &t)?;
    on_dev(env, h, M, |d| d.format(t)).map(|f| format_out(&f))
}

/// `VIDIOC_S_FMT` (`mode` 'set' or 'exact') or `VIDIOC_TRY_FMT` ('try'):
/// V4l2Device.setFormat / tryFormat.
#[napi(catch_unwind, js_name = "v4l2SetFormat")]
pub fn v4l2_set_format(env: &Env, h: f64, t: String, f: V4l2Format, mode: String) -> Result<V4l2Format> {
    let m = if mode == "try" { "V4l2Device.tryFormat" } else { "V4l2Device.setFormat" };
    let t = buf_type(env, m, &t)?;
    let want = format_in(env, m, &f)?;
    let got = on_dev(env, h, m, |d| match mode.as_str() {
        "try" => d.try_format(t, &want),
        "exact" => d.set_format_exact(t, &want),
        _ => d.set_format(t, &want),
    })?;
    Ok(format_out(&got))
}

/// `VIDIOC_S_PARM`: V4l2Device.setFrameInterval; returns [numerator, denominator].
#[napi(catch_unwind, js_name = "v4l2SetFrameInterval")]
pub fn v4l2_set_frame_interval(env: &Env, h: f64, t: String, numerator: u32, denominator: u32) -> Result<Vec<u32>> {
    const M: &str = "V4l2Device.setFrameInterval";
    let t = buf_type(env, M, &t)?;
    on_dev(env, h, M, |d| d.set_frame_interval(t, numerator, denominator)).map(|(n, d)| vec![n, d])
}

/// `VIDIOC_REQBUFS` with MMAP: V4l2Device.requestBuffers.
#[napi(catch_unwind, js_name = "v4l2RequestBuffers")]
pub fn v4l2_request_buffers(env: &Env, h: f64, t: String, count: u32) -> Result<u32> {
    const M: &str = "V4l2Device.requestBuffers";
    let t = buf_type(env, M, &t)?;
    on_dev(env, h, M, |d| d.request_buffers(t, Memory::Mmap, count))
}

/// `VIDIOC_QUERYBUF`: V4l2Device.queryBuffer.
#[napi(catch_unwind, js_name = "v4l2QueryBuffer")]
pub fn v4l2_query_buffer(env: &Env, h: f64, t: String, index: u32) -> Result<V4l2BufferInfo> {
    const M: &str = "V4l2Device.queryBuffer";
    let t = buf_type(env, M, &t)?;
    on_dev(env, h, M, |d| d.query_buffer(t, index)).map(|b| info_out(&b))
}

/// `VIDIOC_EXPBUF`: V4l2Device.exportBuffer; a new `DmaBuf` handle.
#[napi(catch_unwind, js_name = "v4l2Export")]
pub fn v4l2_export(env: &Env, h: f64, t: String, index: u32, plane: u32, access_bits: f64) -> Result<f64> {
    const M: &str = "V4l2Device.exportBuffer";
    let t = buf_type(env, M, &t)?;
    let a = access(env, M, access_bits)?;
    let buf = on_dev(env, h, M, |d| d.export(t, index, plane, a))?;
    out_buf(env, M, buf)
}

/// `VIDIOC_QBUF` of an MMAP buffer: V4l2Device.queue.
#[napi(catch_unwind, js_name = "v4l2Queue")]
pub fn v4l2_queue(env: &Env, h: f64, t: String, index: u32, bytesused: Vec<u32>) -> Result<()> {
    const M: &str = "V4l2Device.queue";
    let t = buf_type(env, M, &t)?;
    on_dev(env, h, M, |d| d.queue(t, index, &bytesused))
}

/// `VIDIOC_DQBUF` without waiting: V4l2Device.tryDequeue (null when none is ready).
#[napi(catch_unwind, js_name = "v4l2TryDequeue")]
pub fn v4l2_try_dequeue(env: &Env, h: f64, t: String) -> Result<Option<V4l2BufferInfo>> {
    const M: &str = "V4l2Device.dequeue";
    let t = buf_type(env, M, &t)?;
    on_dev(env, h, M, |d| d.dequeue(t)).map(|b| b.as_ref().map(info_out))
}

/// `VIDIOC_STREAMON` / `VIDIOC_STREAMOFF`: V4l2Device.streamOn / streamOff.
#[napi(catch_unwind, js_name = "v4l2Stream")]
pub fn v4l2_stream(env: &Env, h: f64, t: String, on: bool) -> Result<()> {
    let m = if on { "V4l2Device.streamOn" } else { "V4l2Device.streamOff" };
    let t = buf_type(env, m, &t)?;
    on_dev(env, h, m, |d| if on { d.stream_on(t) } else { d.stream_off(t) })
}

/// `VIDIOC_G_CTRL`: V4l2Device.getControl.
#[napi(catch_unwind, js_name = "v4l2GetControl")]
pub fn v4l2_get_control(env: &Env, h: f64, id: u32) -> Result<i32> {
    on_dev(env, h, "V4l2Device.getControl", |d| d.control(id))
}

/// `VIDIOC_S_CTRL`: V4l2Device.setControl; the value the driver kept.
#[napi(catch_unwind, js_name = "v4l2SetControl")]
pub fn v4l2_set_control(env: &Env, h: f64, id: u32, value: i32) -> Result<i32> {
    on_dev(env, h, "V4l2Device.setControl", |d| d.set_control(id, value))
}

#[allow(clippy::cast_precision_loss)] // Reason: control ranges are shown as numbers; beyond 2^53 they round.
pub(crate) fn control_out(c: dmabuf::v4l2::ControlInfo) -> V4l2ControlInfo {
    V4l2ControlInfo {
        id: c.id,
        name: c.name,
        kind: c.kind,
        minimum: c.minimum as f64,
        maximum: c.maximum as f64,
        default_value: c.default_value as f64,
    }
}

/// `VIDIOC_QUERY_EXT_CTRL` by name: V4l2Device.findControl.
#[napi(catch_unwind, js_name = "v4l2FindControl")]
pub fn v4l2_find_control(env: &Env, h: f64, name: String) -> Result<V4l2ControlInfo> {
    on_dev(env, h, "V4l2Device.findControl", |d| d.find_control(&name)).map(control_out)
}

/// `VIDIOC_S_INPUT` / `VIDIOC_S_OUTPUT`: V4l2Device.setInput / setOutput.
#[napi(catch_unwind, js_name = "v4l2SetRoute")]
pub fn v4l2_set_route(env: &Env, h: f64, output: bool, index: u32) -> Result<()> {
    let m = if output { "V4l2Device.setOutput" } else { "V4l2Device.setInput" };
    on_dev(env, h, m, |d| d.set_route(output, index))
}

/// `VIDIOC_REQBUFS` with DMABUF: V4l2Device.dmabufQueue.
#[napi(catch_unwind, js_name = "v4l2QueueNew")]
pub fn v4l2_queue_new(env: &Env, h: f64, t: String, count: u32) -> Result<f64> {
    const M: &str = "V4l2Device.dmabufQueue";
    let t = buf_type(env, M, &t)?;
    let q = on_dev(env, h, M, |d| DmaBufQueue::new(d, t, count))?;
    table::insert(Obj::V4l2Queue(q)).map_err(|m| miss(env, M, "V4l2DmaBufQueue", &m))
}

/// `VIDIOC_QBUF` of duplicates of the given `DmaBuf`s: V4l2DmaBufQueue.queue.
#[napi(catch_unwind, js_name = "v4l2QueueQueue")]
pub fn v4l2_queue_queue(env: &Env, h: f64, bufs: Vec<f64>, bytesused: Vec<u32>, data_offset: Vec<u32>) -> Result<u32> {
    const M: &str = "V4l2DmaBufQueue.queue";
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
    on_queue(env, h, M, |q| q.queue(dups, &planes).map_err(|e| e.error))
}

/// `VIDIOC_DQBUF` without waiting: V4l2DmaBufQueue.tryDequeue. The queue's
/// duplicates of the buffer's dma-bufs are closed here.
#[napi(catch_unwind, js_name = "v4l2QueueTryDequeue")]
pub fn v4l2_queue_try_dequeue(env: &Env, h: f64) -> Result<Option<V4l2BufferInfo>> {
    let d = on_queue(env, h, "V4l2DmaBufQueue.dequeue", DmaBufQueue::try_dequeue)?;
    Ok(d.map(|d| info_out(&d.info)))
}

/// `VIDIOC_STREAMON`: V4l2DmaBufQueue.streamOn.
#[napi(catch_unwind, js_name = "v4l2QueueStreamOn")]
pub fn v4l2_queue_stream_on(env: &Env, h: f64) -> Result<()> {
    on_queue(env, h, "V4l2DmaBufQueue.streamOn", |q| q.stream_on())
}

/// `VIDIOC_STREAMOFF`: V4l2DmaBufQueue.streamOff; the indexes it gave back.
#[napi(catch_unwind, js_name = "v4l2QueueStreamOff")]
pub fn v4l2_queue_stream_off(env: &Env, h: f64) -> Result<Vec<u32>> {
    let back = on_queue(env, h, "V4l2DmaBufQueue.streamOff", DmaBufQueue::stream_off)?;
    Ok(back.into_iter().map(|(i, _)| i).collect())
}

/// How many buffers the driver holds: V4l2DmaBufQueue.queued.
#[napi(catch_unwind, js_name = "v4l2QueueQueued")]
pub fn v4l2_queue_queued(env: &Env, h: f64) -> Result<u32> {
    on_queue(env, h, "V4l2DmaBufQueue.queued", |q| Ok(u32::try_from(q.queued()).unwrap_or(u32::MAX)))
}

/// Resolves true once a buffer of the queue `t` can be dequeued (or the
/// queue reports an error, which the next dequeue names), false when
/// `timeoutMs` (negative: none) passes, null when `v4l2CancelWait(waitId)`
/// ran. `h` is a `V4l2Device` or a `V4l2DmaBufQueue`.
#[napi(catch_unwind, ts_return_type = "Promise<boolean | null>", js_name = "v4l2Wait")]
pub fn v4l2_wait(env: &Env, h: f64, t: String, timeout_ms: f64, wait_id: u32) -> Result<PromiseRaw<'_, Option<bool>>> {
    const M: &str = "V4l2Device.dequeue";
    let t = buf_type(env, M, &t)?;
    let dup = |d: &V4l2Device| dmabuf::dup_raw_fd(d.as_fd().as_raw_fd());
    let fd = table::with(h, |o| match o {
        Obj::V4l2(d) => Some(dup(d)),
        Obj::V4l2Queue(q) => Some(dup(q.device())),
        _ => None,
    })
    .map_err(|x| miss(env, M, "V4l2Device", &x))?
    .ok_or_else(|| miss(env, M, "V4l2Device", &table::Miss::WrongClass("object")))?
    .map_err(|e| os(env, M, &e))?;
    let interest = if t.is_output() { Interest::WRITABLE } else { Interest::READABLE };
    // The TypeScript layer tried DQBUF just before (or the fast path is closed).
    wait::ready(env, M, (Ids::V4l2, wait_id), wait::timeout(timeout_ms), fd, interest, false)
}

/// Ends a pending `v4l2Wait` (it resolves null); unknown ids are ignored.
#[napi(catch_unwind, js_name = "v4l2CancelWait")]
pub fn v4l2_cancel_wait(env: &Env, wait_id: u32) {
    wait::cancel(env, Ids::V4l2, wait_id);
}
