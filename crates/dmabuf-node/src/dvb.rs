//! DVB functions: a demux's buffers exported as `DmaBuf`s, its filters, and
//! the frontend properties that tune. `dvbDemuxDequeue` waits on Node's
//! event loop (a duplicate of the demux fd watched by a libuv poll handle),
//! as `SyncFile.wait` does (`wait.rs`): no thread per pending dequeue.

use std::os::fd::AsRawFd;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::out_buf;
use crate::errors::{access, miss, os, range, u32_arg};
use crate::fast::set_out;
use crate::table::{self, Obj};
use crate::wait::{self, Fail, Ids, Interest, Outcome};

/// What `DvbDemux.queryBuffer()` and `dequeue()` return (`struct dmx_buffer`).
#[napi(object)]
pub struct DvbBufferInfo {
    /// The buffer's index.
    pub index: u32,
    /// Bytes of data in it (after a dequeue).
    pub bytesused: u32,
    /// Its offset for mmap on the demux fd.
    pub offset: u32,
    /// Its size.
    pub length: u32,
    /// `DMX_BUFFER_FLAG_*` bits seen while it filled.
    pub flags: u32,
    /// The dequeue counter (0, 1, 2, ...).
    pub count: u32,
}

impl From<dmabuf::dvb::DvbBuffer> for DvbBufferInfo {
    fn from(b: dmabuf::dvb::DvbBuffer) -> Self {
        DvbBufferInfo {
            index: b.index,
            bytesused: b.bytesused,
            offset: b.offset,
            length: b.length,
            flags: b.flags,
            count: b.count,
        }
    }
}

/// What `DvbFrontend.info()` returns (`FE_GET_INFO`).
#[napi(object)]
pub struct DvbFrontendInfo {
    /// The driver's name for the frontend.
    pub name: String,
    /// Lowest frequency (Hz; kHz for satellite).
    pub frequency_min: u32,
    /// Highest frequency.
    pub frequency_max: u32,
    /// Tuning step.
    pub frequency_stepsize: u32,
    /// `FE_CAN_*` bits.
    pub caps: u32,
}

fn paths(v: Vec<std::path::PathBuf>) -> Vec<String> {
    v.into_iter().map(|p| p.to_string_lossy().into_owned()).collect()
}

/// The demux nodes under /dev/dvb: DvbDemux.list.
#[napi(catch_unwind)]
pub fn dvb_list_demuxes(env: &Env) -> Result<Vec<String>> {
    dmabuf::dvb::list_demuxes().map(paths).map_err(|e| os(env, "DvbDemux.list", &e))
}

/// The frontend nodes under /dev/dvb: DvbFrontend.list.
#[napi(catch_unwind)]
pub fn dvb_list_frontends(env: &Env) -> Result<Vec<String>> {
    dmabuf::dvb::list_frontends().map(paths).map_err(|e| os(env, "DvbFrontend.list", &e))
}

/// `open(path, O_RDWR | O_NONBLOCK)`: DvbDemux.open; output slot 0 is the fd.
#[napi(catch_unwind)]
pub fn dvb_demux_open(env: &Env, path: String) -> Result<f64> {
    const M: &str = "DvbDemux.open";
    let d = dmabuf::dvb::Demux::open(path).map_err(|e| os(env, M, &e))?;
    let fd = d.as_raw_fd();
    let h = table::insert(Obj::DvbDemux(d)).map_err(|m| miss(env, M, "DvbDemux", &m))?;
    set_out(0, f64::from(fd));
    Ok(h)
}

fn on_demux<T>(env: &Env, h: f64, m: &str, f: impl FnOnce(&dmabuf::dvb::Demux) -> dmabuf::Result<T>) -> Result<T> {
    table::with_dvb_demux(h, |d| f(d)).map_err(|x| miss(env, m, "DvbDemux", &x))?.map_err(|e| os(env, m, &e))
}

fn pid_arg(env: &Env, m: &str, pid: f64) -> Result<u16> {
    let p = u32_arg(env, m, "pid", pid)?;
    u16::try_from(p)
        .ok()
        .filter(|&p| p <= dmabuf::dvb::PID_ALL)
        .ok_or_else(|| range(env, m, &format!("pid must be at most 8192 (0x2000: every PID), got {p}")))
}

/// `DMX_SET_PES_FILTER`: DvbDemux.setPesFilter. `output`: 0 decoder, 1
/// tap, 2 ts-tap, 3 ts-demux-tap.
#[napi(catch_unwind)]
pub fn dvb_demux_set_pes_filter(env: &Env, h: f64, pid: f64, output: u32, start: bool) -> Result<()> {
    const M: &str = "DvbDemux.setPesFilter";
    let pid = pid_arg(env, M, pid)?;
    let output = dmabuf::dvb::PesOutput::from_raw(output).ok_or_else(|| range(env, M, "output must be 0..3"))?;
    on_demux(env, h, M, |d| d.set_pes_filter(pid, output, start))
}

/// `DMX_SET_FILTER`: DvbDemux.setSectionFilter. `bytes` holds filter,
/// mask and mode, 16 bytes each.
#[napi(catch_unwind)]
pub fn dvb_demux_set_section_filter(
    env: &Env,
    h: f64,
    pid: f64,
    bytes: Uint8Array,
    timeout_ms: f64,
    flags: u32,
    start: bool,
) -> Result<()> {
    const M: &str = "DvbDemux.setSectionFilter";
    let pid = pid_arg(env, M, pid)?;
    if pid >= dmabuf::dvb::PID_ALL {
        return Err(range(env, M, &format!("pid must be at most 8191 for a section filter, got {pid}")));
    }
    let timeout_ms = u32_arg(env, M, "timeoutMs", timeout_ms)?;
    if bytes.len() != 48 {
        return Err(range(env, M, "filter, mask and mode must be 16 bytes each"));
    }
    let mut f = dmabuf::dvb::SectionFilter::pid(pid);
    f.filter.copy_from_slice(&bytes[..16]);
    f.mask.copy_from_slice(&bytes[16..32]);
    f.mode.copy_from_slice(&bytes[32..]);
    f.timeout_ms = timeout_ms;
    f.flags = flags & (dmabuf::dvb::SECTION_CHECK_CRC | dmabuf::dvb::SECTION_ONESHOT);
    on_demux(env, h, M, |d| d.set_section_filter(&f, start))
}

/// `DMX_START`: DvbDemux.start.
#[napi(catch_unwind)]
pub fn dvb_demux_start(env: &Env, h: f64) -> Result<()> {
    on_demux(env, h, "DvbDemux.start", dmabuf::dvb::Demux::start)
}

/// `DMX_STOP`: DvbDemux.stop.
#[napi(catch_unwind)]
pub fn dvb_demux_stop(env: &Env, h: f64) -> Result<()> {
    on_demux(env, h, "DvbDemux.stop", dmabuf::dvb::Demux::stop)
}

/// `DMX_SET_BUFFER_SIZE`: DvbDemux.setBufferSize.
#[napi(catch_unwind)]
pub fn dvb_demux_set_buffer_size(env: &Env, h: f64, size: f64) -> Result<()> {
    const M: &str = "DvbDemux.setBufferSize";
    let size = u32_arg(env, M, "size", size)?;
    on_demux(env, h, M, |d| d.set_buffer_size(size))
}

/// `DMX_REQBUFS`: DvbDemux.requestBuffers; `[count, size]` as granted.
#[napi(catch_unwind)]
pub fn dvb_demux_request_buffers(env: &Env, h: f64, count: f64, size: f64) -> Result<Vec<u32>> {
    const M: &str = "DvbDemux.requestBuffers";
    let (count, size) = (u32_arg(env, M, "count", count)?, u32_arg(env, M, "size", size)?);
    let (c, s) = on_demux(env, h, M, |d| d.request_buffers(count, size))?;
    Ok(vec![c, s])
}

/// `DMX_QUERYBUF`: DvbDemux.queryBuffer.
#[napi(catch_unwind)]
pub fn dvb_demux_query_buffer(env: &Env, h: f64, index: f64) -> Result<DvbBufferInfo> {
    const M: &str = "DvbDemux.queryBuffer";
    let index = u32_arg(env, M, "index", index)?;
    on_demux(env, h, M, |d| d.query_buffer(index)).map(DvbBufferInfo::from)
}

/// `DMX_EXPBUF`: DvbDemux.exportBuffer; a `DmaBuf` (fd and size in output slots 0 and 1).
#[napi(catch_unwind)]
pub fn dvb_demux_export_buffer(env: &Env, h: f64, index: f64, access_bits: f64) -> Result<f64> {
    const M: &str = "DvbDemux.exportBuffer";
    let index = u32_arg(env, M, "index", index)?;
    let a = access(env, M, access_bits)?;
    let buf = on_demux(env, h, M, |d| d.export_buffer(index, a))?;
    out_buf(env, M, buf)
}

/// `DMX_QBUF`: DvbDemux.queue.
#[napi(catch_unwind)]
pub fn dvb_demux_queue(env: &Env, h: f64, index: f64) -> Result<()> {
    const M: &str = "DvbDemux.queue";
    let index = u32_arg(env, M, "index", index)?;
    on_demux(env, h, M, |d| d.queue(index))
}

/// `DMX_DQBUF` without waiting: DvbDemux.tryDequeue (null: none ready).
#[napi(catch_unwind)]
pub fn dvb_demux_try_dequeue(env: &Env, h: f64) -> Result<Option<DvbBufferInfo>> {
    on_demux(env, h, "DvbDemux.tryDequeue", dmabuf::dvb::Demux::try_dequeue).map(|b| b.map(DvbBufferInfo::from))
}

/// `poll` on the event loop then `DMX_DQBUF`: DvbDemux.dequeue. Resolves the
/// buffer, or null when `timeoutMs` (negative: none) passes first or
/// `dvbCancelDequeue(waitId)` is called. The demux fd is duplicated for the
/// wait, so `close()` meanwhile is safe.
#[napi(catch_unwind, ts_return_type = "Promise<DvbBufferInfo | null>")]
pub fn dvb_demux_dequeue(
    env: &Env,
    h: f64,
    timeout_ms: f64,
    wait_id: u32,
) -> Result<PromiseRaw<'_, Option<DvbBufferInfo>>> {
    const M: &str = "DvbDemux.dequeue";
    let demux = on_demux(env, h, M, dmabuf::dvb::Demux::try_clone)?;
    // The ioctl, not the readiness, says whether a buffer is there.
    let limit = wait::timeout(timeout_ms);
    let attempt = |d: &dmabuf::dvb::Demux| d.try_dequeue().map_err(Fail::Core);
    wait::spawn(env, M, (Ids::Dvb, wait_id), limit, demux, Interest::READABLE, true, attempt, |_, outcome| {
        Ok(match outcome {
            Outcome::Done(b) => Some(DvbBufferInfo::from(b)),
            Outcome::TimedOut | Outcome::Cancelled => None,
        })
    })
}

/// Ends a pending `dvbDemuxDequeue` (its promise resolves null); unknown ids are ignored.
#[napi(catch_unwind)]
pub fn dvb_cancel_dequeue(env: &Env, wait_id: u32) {
    wait::cancel(env, Ids::Dvb, wait_id);
}

/// `open(path, O_RDWR)`: DvbFrontend.open.
#[napi(catch_unwind)]
pub fn dvb_frontend_open(env: &Env, path: String) -> Result<f64> {
    const M: &str = "DvbFrontend.open";
    let f = dmabuf::dvb::Frontend::open(path).map_err(|e| os(env, M, &e))?;
    table::insert(Obj::DvbFrontend(f)).map_err(|m| miss(env, M, "DvbFrontend", &m))
}

fn on_frontend<T>(
    env: &Env,
    h: f64,
    m: &str,
    f: impl FnOnce(&dmabuf::dvb::Frontend) -> dmabuf::Result<T>,
) -> Result<T> {
    table::with_dvb_frontend(h, |d| f(d)).map_err(|x| miss(env, m, "DvbFrontend", &x))?.map_err(|e| os(env, m, &e))
}

/// `FE_GET_INFO`: DvbFrontend.info.
#[napi(catch_unwind)]
pub fn dvb_frontend_info(env: &Env, h: f64) -> Result<DvbFrontendInfo> {
    let i = on_frontend(env, h, "DvbFrontend.info", dmabuf::dvb::Frontend::info)?;
    Ok(DvbFrontendInfo {
        name: i.name,
        frequency_min: i.frequency_min,
        frequency_max: i.frequency_max,
        frequency_stepsize: i.frequency_stepsize,
        caps: i.caps,
    })
}

/// `FE_READ_STATUS`: DvbFrontend.status.
#[napi(catch_unwind)]
pub fn dvb_frontend_status(env: &Env, h: f64) -> Result<u32> {
    on_frontend(env, h, "DvbFrontend.status", dmabuf::dvb::Frontend::status)
}

fn u32s(env: &Env, m: &str, name: &str, v: &[f64]) -> Result<Vec<u32>> {
    v.iter().map(|&x| u32_arg(env, m, name, x)).collect()
}

/// `FE_SET_PROPERTY`: DvbFrontend.setProperties, commands and values as two arrays.
#[napi(catch_unwind)]
pub fn dvb_frontend_set_properties(env: &Env, h: f64, cmds: Float64Array, values: Float64Array) -> Result<()> {
    const M: &str = "DvbFrontend.setProperties";
    let cmds = u32s(env, M, "command", &cmds)?;
    let values = u32s(env, M, "value", &values)?;
    let props: Vec<(u32, u32)> = cmds.into_iter().zip(values).collect();
    on_frontend(env, h, M, |f| f.set_properties(&props))
}

/// `FE_GET_PROPERTY`: DvbFrontend.getProperties.
#[napi(catch_unwind)]
pub fn dvb_frontend_get_properties(env: &Env, h: f64, cmds: Float64Array) -> Result<Vec<u32>> {
    const M: &str = "DvbFrontend.getProperties";
    let cmds = u32s(env, M, "command", &cmds)?;
    on_frontend(env, h, M, |f| f.get_properties(&cmds))
}
