//! Every dma-buf on the system, who holds it and who maps it
//! (`dmabuf::inspect`): `inspect()`, one pass over `/proc`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::os;

/// One buffer of `inspect()`.
#[napi(object)]
pub struct InspectBuffer {
    pub inode: f64,
    pub size: f64,
    pub exporter: String,
    pub name: String,
    pub file_count: f64,
    pub holders: Vec<InspectHolder>,
}

/// One holder of a buffer.
#[napi(object)]
pub struct InspectHolder {
    pub pid: u32,
    pub fds: Vec<i32>,
    pub mapped: f64,
}

/// One process's totals.
#[napi(object)]
pub struct InspectProcess {
    pub pid: u32,
    /// `/proc/<pid>/comm` (15 bytes at most).
    pub comm: String,
    /// `/proc/<pid>/cmdline`, the arguments joined by spaces; empty for a
    /// kernel thread or where it could not be read. Written by the process.
    pub cmdline: String,
    pub buffers: f64,
    pub fds: f64,
    pub fd_bytes: f64,
    pub mapped_bytes: f64,
    pub mapped_only: f64,
    pub pss: f64,
    pub maps_read: bool,
}

/// One exporter's totals.
#[napi(object)]
pub struct InspectExporter {
    pub name: String,
    pub buffers: f64,
    pub bytes: f64,
    pub processes: f64,
}

/// A process that could not be read.
#[napi(object)]
pub struct InspectUnreadable {
    pub pid: u32,
    pub code: String,
}

/// What `inspect()` returns.
#[napi(object)]
pub struct Inspection {
    pub buffers: Vec<InspectBuffer>,
    pub processes: Vec<InspectProcess>,
    pub exporters: Vec<InspectExporter>,
    pub unreadable: Vec<InspectUnreadable>,
    pub scanned: f64,
    /// Maps lines named like a dma-buf that the kernel does not show to be
    /// one (a file of another filesystem named `/dmabuf:...`): left out.
    pub unconfirmed: f64,
}

/// The largest integer a JavaScript number holds exactly, 2^53 - 1.
const MAX_SAFE: u64 = (1 << 53) - 1;

/// A count or byte total as a JavaScript number: exact up to 2^53 - 1, and
/// that value (`Number.MAX_SAFE_INTEGER`) for anything larger, so that no
/// total is ever shown smaller than it is or rounded to a wrong value.
#[allow(clippy::cast_precision_loss)] // Reason: clamped below 2^53, where every integer is exact.
fn num(v: u64) -> f64 {
    v.min(MAX_SAFE) as f64
}

/// One pass over /proc: inspect (optionally only the given pids).
#[napi(catch_unwind)]
pub fn inspect(env: &Env, pids: Option<Vec<u32>>) -> Result<Inspection> {
    let s = dmabuf::inspect::scan_pids(pids.as_deref()).map_err(|e| os(env, "inspect", &e))?;
    Ok(Inspection {
        buffers: s
            .buffers
            .into_iter()
            .map(|b| InspectBuffer {
                inode: num(b.inode),
                size: num(b.size),
                exporter: b.exporter,
                name: b.name,
                file_count: num(b.file_count),
                holders: b
                    .holders
                    .into_iter()
                    .map(|h| InspectHolder { pid: h.pid, fds: h.fds, mapped: num(h.mapped) })
                    .collect(),
            })
            .collect(),
        processes: s
            .processes
            .into_iter()
            .map(|p| InspectProcess {
                pid: p.pid,
                comm: p.comm,
                cmdline: p.cmdline,
                buffers: num(p.buffers),
                fds: num(p.fds),
                fd_bytes: num(p.fd_bytes),
                mapped_bytes: num(p.mapped_bytes),
                mapped_only: num(p.mapped_only),
                pss: num(p.pss),
                maps_read: p.maps_read,
            })
            .collect(),
        exporters: s
            .exporters
            .into_iter()
            .map(|e| InspectExporter {
                name: e.name,
                buffers: num(e.buffers),
                bytes: num(e.bytes),
                processes: num(e.processes),
            })
            .collect(),
        unreadable: s
            .unreadable
            .into_iter()
            .map(|u| InspectUnreadable { pid: u.pid, code: dmabuf::error::errno_name(u.errno).into() })
            .collect(),
        scanned: num(s.scanned),
        unconfirmed: num(s.unconfirmed),
    })
}
