//! The calls on hot paths, as raw `napi_callback`s that take no JavaScript
//! arguments: they read them from `args`, a per-thread `Float64Array` of
//! [`slot::SLOTS`] numbers that the TypeScript layer fills just before the
//! call (slots `0..OUT` in, `OUT..SLOTS` out; the layout is [`slot`]). Skipping `napi_get_cb_info` and napi-rs's
//! argument conversion is what brings a call near the cost of the ioctl
//! itself (see the crate doc).
//!
//! | function | in | out | does |
//! |---|---|---|---|
//! | `syncStart()` | handle, access bits | | `DMA_BUF_IOCTL_SYNC` start |
//! | `syncEnd()` | handle, access bits | | `DMA_BUF_IOCTL_SYNC` end, if still open |
//! | `exportSyncFile()` | handle, access bits | returns the SyncFile's handle; `out::FD`: its fd | `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` |
//! | `close()` | handle | | closes any object (a DmaBuf ends its CPU accesses first) |
//! | `unmap(arrayBuffer)` | handle | | detaches the ArrayBuffer, swaps the mapping for a placeholder |

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::errors::{access_bits, miss_value, os_err_value, throw};
use crate::js::{self, Ctor, JsErr};
use crate::table::{self, MapMemory, Miss, Obj, Thread};

/// The argument array's layout, the one definition both sides use:
/// `scripts/gen-slots.mjs` turns this module into
/// `lib/internal/generated/slots.ts` (run by `npm run build`), and
/// `__test__/dts.spec.ts` fails when that file is stale. Keep it to
/// `const NAME: usize = N;` items with `///` docs: the generator reads that.
pub(crate) mod slot {
    /// Numbers in the shared argument array.
    pub(crate) const SLOTS: usize = 16;
    /// First output slot: slots `0..OUT` are a call's inputs, `OUT..SLOTS` its results.
    pub(crate) const OUT: usize = 8;

    /// Input slots: what JavaScript writes before a fast call.
    pub(crate) mod arg {
        /// The handle of the object the call works on.
        pub(crate) const HANDLE: usize = 0;
        /// `DMA_BUF_SYNC_*` access bits: 1 read, 2 write, 3 both.
        pub(crate) const ACCESS: usize = 1;
    }

    /// Output slots, as `set_out(i, …)` numbers them (slot `OUT + i`): the
    /// results a call returns beside the handle. One layout per call.
    #[allow(dead_code, reason = "the modules write them as literal set_out indices; TypeScript reads all")]
    pub(crate) mod out {
        /// A new object's fd: `DmaBuf`, `SyncFile`, `PassedFd`, `Channel`, `Listener`, `DvbDemux`.
        pub(crate) const FD: usize = 0;
        /// A new `DmaBuf`'s size in bytes (after its fd).
        pub(crate) const BUF_SIZE: usize = 1;
        /// `udmabufAllocWithMemfd`: the memfd (after the `DmaBuf`'s fd and size).
        pub(crate) const MEMFD: usize = 2;
        /// `bufMap`: the mapping's offset.
        pub(crate) const MAP_OFFSET: usize = 0;
        /// `bufMap`: the mapping's length.
        pub(crate) const MAP_LENGTH: usize = 1;
        /// `bufMap`: the mapping's access bits.
        pub(crate) const MAP_ACCESS: usize = 2;
        /// A new `GemHandle`'s kernel number (`drmCreateDumb`, `drmImport`).
        pub(crate) const GEM_HANDLE: usize = 0;
        /// `drmCreateDumb`: the pitch.
        pub(crate) const GEM_PITCH: usize = 1;
        /// `drmCreateDumb`: the size.
        pub(crate) const GEM_SIZE: usize = 2;
        /// A passed fd's kind (after its fd): 0 `DmaBuf`, 1 `SyncFile`, 2 `PassedFd`.
        pub(crate) const PASSED_KIND: usize = 1;
        /// A passed dma-buf's size.
        pub(crate) const PASSED_SIZE: usize = 2;
        /// `chanPair`: the second channel's fd (the first's is in `FD`).
        pub(crate) const PAIR_FD: usize = 1;
        /// `chanFromFd`: 1 for a seqpacket socket, 0 for a stream.
        pub(crate) const SEQPACKET: usize = 1;
        /// A new `VulkanBuffer`'s memory size.
        pub(crate) const VK_SIZE: usize = 0;
        /// A new `VulkanBuffer`: 1 when its memory is host-visible.
        pub(crate) const VK_HOST_VISIBLE: usize = 1;
    }
}
use slot::{arg, out, OUT, SLOTS};

/// Argument `i` of this thread's array.
fn arg_of(t: &Thread, i: usize) -> f64 {
    let p = t.args.get();
    if p.is_null() || i >= SLOTS {
        return f64::NAN;
    }
    // SAFETY: `p` points at SLOTS f64s owned by this thread's ArrayBuffer; i < SLOTS.
    let slot = unsafe { p.add(i) };
    // SAFETY: `slot` is inside the array, which nothing else writes during the call.
    unsafe { slot.read_unaligned() }
}

/// Writes output slot `i` (slot `8 + i` of `args`).
pub(crate) fn set_out(i: usize, v: f64) {
    table::thread(|t| set_out_of(t, i, v));
}

/// Writes output slot `i` of this thread's array.
fn set_out_of(t: &Thread, i: usize, v: f64) {
    let p = t.args.get();
    if !p.is_null() && OUT + i < SLOTS {
        // SAFETY: as in `arg_of`; the slot is inside the array.
        let slot = unsafe { p.add(OUT + i) };
        // SAFETY: `slot` is inside the array, which nothing else reads during the call.
        unsafe { slot.write_unaligned(v) };
    }
}

/// A fast call's error, boxed so that the success path moves one pointer,
/// not the whole error, through each layer (the functions that make one
/// return the box on purpose: `clippy::unnecessary_box_returns` is allowed
/// on them for that reason).
type FastErr = Box<JsErr>;

/// Runs a callback body, turning an error into a thrown exception and a
/// panic into an `ERR_DMABUF_INTERNAL` error instead of an abort.
fn guard(
    env: sys::napi_env,
    method: &str,
    body: impl FnOnce() -> std::result::Result<sys::napi_value, FastErr>,
) -> sys::napi_value {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            throw(env, *e);
            ptr::null_mut()
        }
        Err(_) => {
            throw(
                env,
                JsErr::new(Ctor::Error, "ERR_DMABUF_INTERNAL", format!("{method}: internal error (a bug in dmabuf)")),
            );
            ptr::null_mut()
        }
    }
}

fn number(env: sys::napi_env, v: f64) -> std::result::Result<sys::napi_value, FastErr> {
    let mut out = ptr::null_mut();
    // SAFETY: plain value creation with a valid out pointer.
    let status = unsafe { sys::napi_create_double(env, v, &raw mut out) };
    if status == sys::Status::napi_ok {
        Ok(out)
    } else {
        Err(Box::new(JsErr::new(Ctor::Error, "ERR_DMABUF_INTERNAL", "napi_create_double failed".into())))
    }
}

#[allow(clippy::unnecessary_box_returns)]
fn bad_access(method: &str) -> FastErr {
    Box::new(JsErr::new(Ctor::TypeError, "ERR_INVALID_ARG_VALUE", format!("{method}: access must be 'r', 'w' or 'rw'")))
}

#[allow(clippy::unnecessary_box_returns)]
fn missed(m: &Miss, method: &str, class: &str) -> FastErr {
    Box::new(miss_value(m, method, class))
}

#[allow(clippy::unnecessary_box_returns)]
fn failed(e: &dmabuf::Error, method: &str) -> FastErr {
    Box::new(os_err_value(e, method))
}

unsafe extern "C" fn sync_start(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    const M: &str = "DmaBuf.beginCpuAccess";
    guard(env, M, || {
        table::thread(|t| {
            let acc = access_bits(arg_of(t, arg::ACCESS)).ok_or_else(|| bad_access(M))?;
            t.with_buf(arg_of(t, arg::HANDLE), |b| {
                b.buf.sync_start(acc)?;
                *b.open_count(acc) += 1;
                Ok(())
            })
            .map_err(|m| missed(&m, M, "DmaBuf"))?
            .map_err(|e: dmabuf::Error| failed(&e, M))
        })?;
        Ok(ptr::null_mut())
    })
}

unsafe extern "C" fn sync_end(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    const M: &str = "CpuAccess.end";
    guard(env, M, || {
        table::thread(|t| {
            let acc = access_bits(arg_of(t, arg::ACCESS)).ok_or_else(|| bad_access(M))?;
            let r = t.with_buf(arg_of(t, arg::HANDLE), |b| {
                // close() ended every access and cleared the counts: then nothing to do.
                let open = b.open_count(acc);
                if *open == 0 {
                    return Ok(());
                }
                *open -= 1;
                b.buf.sync_end(acc)
            });
            match r {
                Ok(Ok(())) | Err(Miss::Closed) => Ok(ptr::null_mut()),
                Ok(Err(e)) => Err(failed(&e, M)),
                Err(m) => Err(missed(&m, M, "DmaBuf")),
            }
        })
    })
}

unsafe extern "C" fn export_sync_file(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    const M: &str = "DmaBuf.exportSyncFile";
    guard(env, M, || {
        // One thread-local lookup for the arguments, the table and the output.
        let h = table::thread(|t| {
            let acc = access_bits(arg_of(t, arg::ACCESS)).ok_or_else(|| bad_access(M))?;
            let sf = t
                .with_buf(arg_of(t, arg::HANDLE), |b| b.buf.export_sync_file(acc))
                .map_err(|m| missed(&m, M, "DmaBuf"))?
                .map_err(|e| failed(&e, M))?;
            let fd = sf.as_raw_fd();
            let h = t.insert(Obj::Sync(sf)).map_err(|m| missed(&m, M, "SyncFile"))?;
            set_out_of(t, out::FD, f64::from(fd));
            Ok::<f64, FastErr>(h)
        })?;
        number(env, h)
    })
}

unsafe extern "C" fn close(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    guard(env, "close", || {
        if let Some(Obj::Buf(mut b)) = table::thread(|t| t.remove(arg_of(t, arg::HANDLE))) {
            b.end_all();
        }
        // Everything else closes by dropping: fds, GEM handles (counted),
        // and mappings (their memory goes with the ArrayBuffer).
        Ok(ptr::null_mut())
    })
}

unsafe extern "C" fn unmap(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    const M: &str = "Mapping.unmap";
    guard(env, M, || {
        let mut argc = 1usize;
        let mut ab = ptr::null_mut();
        // SAFETY: room for one argument; the other out pointers may be null.
        let status =
            unsafe { sys::napi_get_cb_info(env, info, &raw mut argc, &raw mut ab, ptr::null_mut(), ptr::null_mut()) };
        if status != sys::Status::napi_ok || argc < 1 {
            return Err(Box::new(JsErr::new(
                Ctor::TypeError,
                "ERR_INVALID_ARG_TYPE",
                format!("{M}: expected the ArrayBuffer"),
            )));
        }
        // JavaScript views read length 0 from now on, and never fault.
        js::detach(env, ab).map_err(|_| {
            Box::new(JsErr::new(
                Ctor::TypeError,
                "ERR_INVALID_ARG_TYPE",
                format!("{M}: expected the mapping's ArrayBuffer"),
            ))
        })?;
        let Some(Obj::Map(memory)) = table::thread(|t| t.remove(arg_of(t, arg::HANDLE))) else {
            return Ok(ptr::null_mut());
        };
        if std::sync::Arc::strong_count(&memory) == 1 {
            // No ArrayBuffer was ever made: nobody else has the address.
            return Ok(ptr::null_mut());
        }
        let mut slot = memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Native code (Node's thread pool: zlib, fs, crypto) may still hold
        // the address: release the dma-buf now but keep the range reserved
        // until the ArrayBuffer itself is collected (its finalizer drops it).
        if let MapMemory::Mapped(m) = std::mem::replace(&mut *slot, MapMemory::Gone) {
            *slot = match m.into_placeholder() {
                Ok(p) => MapMemory::Reserved(p),
                // No memory for the placeholder: keep the dma-buf mapped
                // until the finalizer rather than unmap under a reader.
                Err((_, m)) => MapMemory::Mapped(m),
            };
        }
        Ok(ptr::null_mut())
    })
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

fn define(env: sys::napi_env, exports: sys::napi_value, name: &str, cb: Callback) -> Result<()> {
    let cname = CString::new(name).map_err(|_| Error::from_reason("bad name"))?;
    let len = isize::try_from(name.len()).map_err(|_| Error::from_reason("bad name"))?;
    let mut f = ptr::null_mut();
    // SAFETY: `cname` is NUL-terminated and `cb` has the napi_callback signature.
    let status = unsafe { sys::napi_create_function(env, cname.as_ptr(), len, Some(cb), ptr::null_mut(), &raw mut f) };
    check(status, name)?;
    // SAFETY: `exports` and `f` are live handles of this scope.
    check(unsafe { sys::napi_set_named_property(env, exports, cname.as_ptr(), f) }, name)
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::from_reason(format!("dmabuf: cannot set up the binding ({what})")))
    }
}

/// Creates this environment's argument array (exported as `args`) and the
/// fast functions.
pub(crate) fn install(env: sys::napi_env, exports: sys::napi_value) -> Result<()> {
    let mut data = ptr::null_mut();
    let mut ab = ptr::null_mut();
    // SAFETY: valid out pointers; V8 allocates the (zeroed, never moving) backing store.
    check(unsafe { sys::napi_create_arraybuffer(env, SLOTS * 8, &raw mut data, &raw mut ab) }, "args")?;
    // The environment keeps it alive for as long as calls can come.
    let _keep = js::reference(env, ab)?;
    table::thread(|t| t.args.set(data.cast()));
    let name = CString::new("args").map_err(|_| Error::from_reason("bad name"))?;
    // SAFETY: live handles of this scope.
    check(unsafe { sys::napi_set_named_property(env, exports, name.as_ptr(), ab) }, "args")?;
    define(env, exports, "syncStart", sync_start)?;
    define(env, exports, "syncEnd", sync_end)?;
    define(env, exports, "exportSyncFile", export_sync_file)?;
    define(env, exports, "close", close)?;
    define(env, exports, "unmap", unmap)?;
    Ok(())
}
