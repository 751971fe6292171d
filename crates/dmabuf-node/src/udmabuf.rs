//! udmabuf (`dmabuf::udmabuf`): dma-bufs over memfd pages, for the `Udmabuf`
//! class and `createUdmabuf`. Functions that make a `DmaBuf` return its
//! handle with its fd and size in output slots 0 and 1
//! (`dma_buf::out_buf`).

use std::os::fd::{AsFd, IntoRawFd};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::out_buf;
use crate::errors::{fd_arg, miss, os, store, uint};
use crate::fast::set_out;
use crate::table::{self, Obj};

/// Opens /dev/udmabuf and allocates from it: createUdmabuf.
#[napi(catch_unwind)]
pub fn create_udmabuf(env: &Env, size: f64) -> Result<f64> {
    const M: &str = "createUdmabuf";
    let size = uint(env, M, "size", size)?;
    let buf = dmabuf::udmabuf::Udmabuf::open().and_then(|u| u.alloc(size)).map_err(|e| os(env, M, &e))?;
    out_buf(env, M, buf)
}

/// `open("/dev/udmabuf")` (or `path`): Udmabuf.open.
#[napi(catch_unwind)]
pub fn udmabuf_open(env: &Env, path: Option<String>) -> Result<f64> {
    const M: &str = "Udmabuf.open";
    let d = match path {
        Some(p) => dmabuf::udmabuf::Udmabuf::open_path(p),
        None => dmabuf::udmabuf::Udmabuf::open(),
    }
    .map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Udmabuf(d))
}

fn on_udmabuf<T>(
    env: &Env,
    h: f64,
    m: &str,
    f: impl FnOnce(&dmabuf::udmabuf::Udmabuf) -> dmabuf::Result<T>,
) -> Result<T> {
    table::with_udmabuf(h, |u| f(u)).map_err(|x| miss(env, m, "Udmabuf", &x))?.map_err(|e| os(env, m, &e))
}

/// `UDMABUF_CREATE` over a new sealed memfd: Udmabuf.alloc.
#[napi(catch_unwind)]
pub fn udmabuf_alloc(env: &Env, h: f64, size: f64) -> Result<f64> {
    const M: &str = "Udmabuf.alloc";
    let size = uint(env, M, "size", size)?;
    let buf = on_udmabuf(env, h, M, |u| u.alloc(size))?;
    out_buf(env, M, buf)
}

/// Udmabuf.allocWithMemfd: output slot 2 holds the memfd, now the caller's.
#[napi(catch_unwind)]
pub fn udmabuf_alloc_with_memfd(env: &Env, h: f64, size: f64) -> Result<f64> {
    const M: &str = "Udmabuf.allocWithMemfd";
    let size = uint(env, M, "size", size)?;
    let (buf, memfd) = on_udmabuf(env, h, M, |u| u.alloc_with_memfd(size))?;
    let bh = out_buf(env, M, buf)?;
    set_out(2, f64::from(memfd.into_raw_fd()));
    Ok(bh)
}

/// `UDMABUF_CREATE` over a memfd the caller keeps: Udmabuf.create.
#[napi(catch_unwind)]
pub fn udmabuf_create(env: &Env, h: f64, memfd: f64, offset: f64, size: f64) -> Result<f64> {
    const M: &str = "Udmabuf.create";
    let (offset, size) = (uint(env, M, "offset", offset)?, uint(env, M, "size", size)?);
    // A duplicate stands in for the caller's fd: it cannot be closed under us.
    let fd = dmabuf::dup_raw_fd(fd_arg(env, M, memfd)?).map_err(|e| os(env, M, &e))?;
    let buf = on_udmabuf(env, h, M, |u| u.create(&fd, offset, size))?;
    out_buf(env, M, buf)
}

/// `UDMABUF_CREATE_LIST`: Udmabuf.createList, the ranges as three arrays.
#[napi(catch_unwind)]
pub fn udmabuf_create_list(
    env: &Env,
    h: f64,
    fds: Float64Array,
    offsets: Float64Array,
    sizes: Float64Array,
) -> Result<f64> {
    const M: &str = "Udmabuf.createList";
    let mut owned = Vec::with_capacity(fds.len());
    let mut spans = Vec::with_capacity(fds.len());
    for ((&fd, &offset), &size) in fds.iter().zip(offsets.iter()).zip(sizes.iter()) {
        owned.push(dmabuf::dup_raw_fd(fd_arg(env, M, fd)?).map_err(|e| os(env, M, &e))?);
        spans.push((uint(env, M, "offset", offset)?, uint(env, M, "size", size)?));
    }
    let ranges: Vec<dmabuf::udmabuf::Range<'_>> = owned
        .iter()
        .zip(&spans)
        .map(|(fd, &(offset, size))| dmabuf::udmabuf::Range { memfd: fd.as_fd(), offset, size })
        .collect();
    let buf = on_udmabuf(env, h, M, |u| u.create_list(&ranges))?;
    out_buf(env, M, buf)
}
