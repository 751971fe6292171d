//! DMA heaps (`dmabuf::heap`), for the `Heap` class and `listHeaps`. An
//! allocation returns the new `DmaBuf`'s handle with its fd and size in
//! output slots 0 and 1 (`dma_buf::out_buf`).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::out_buf;
use crate::errors::{access, miss, os, store, uint};
use crate::table::{self, Obj};

/// The dma-heaps in `/dev/dma_heap`: listHeaps.
#[napi(catch_unwind)]
pub fn list_heaps(env: &Env) -> Result<Vec<String>> {
    dmabuf::heap::list().map_err(|e| os(env, "listHeaps", &e))
}

/// `open("/dev/dma_heap/<name>")`: Heap.open.
#[napi(catch_unwind)]
pub fn heap_open(env: &Env, name: String) -> Result<f64> {
    const M: &str = "Heap.open";
    let h = dmabuf::heap::Heap::open(&name).map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Heap(h))
}

/// `DMA_HEAP_IOCTL_ALLOC`: Heap.alloc.
#[napi(catch_unwind)]
pub fn heap_alloc(env: &Env, h: f64, size: f64, bits: f64) -> Result<f64> {
    const M: &str = "Heap.alloc";
    let size = uint(env, M, "size", size)?;
    let acc = access(env, M, bits)?;
    let buf = table::with_heap(h, |heap| heap.alloc(size, acc))
        .map_err(|m| miss(env, M, "Heap", &m))?
        .map_err(|e| os(env, M, &e))?;
    out_buf(env, M, buf)
}
