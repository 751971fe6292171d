//! Node.js binding of the `dmabuf` crate: a thin layer of functions under
//! the TypeScript classes in `lib/` (compiled to `index.js`), loaded through
//! the napi-generated `native.js`.
//!
//! # Files
//!
//! One file per core module, named as the module it wraps
//! (`crates/dmabuf/src/<name>.rs`), each the functions of that subsystem's
//! TypeScript classes:
//!
//! | file | core module | JavaScript |
//! |---|---|---|
//! | [`dma_buf`] | `dma_buf` | `DmaBuf`, `Mapping` (`CpuAccess`: [`fast`]) |
//! | [`sync_file`] | `sync_file` | `SyncFile` |
//! | [`heap`] | `heap` | `Heap`, `listHeaps` |
//! | [`udmabuf`] | `udmabuf` | `Udmabuf`, `createUdmabuf` |
//! | [`drm`] | `drm` | `DrmDevice`, `GemHandle` |
//! | [`caps`] | `caps` | `capabilities` |
//! | [`v4l2`] | `v4l2` | `V4l2Device`, `V4l2DmaBufQueue` |
//! | [`dvb`] | `dvb` | `DvbDemux`, `DvbFrontend` |
//! | [`vulkan`] | `vulkan` | `Vulkan`, `VulkanBuffer`, `VulkanImage`, `VulkanSemaphore`, `VulkanFence` |
//! | [`fdpass`] | `fdpass` | `Channel`, `Listener`, `PassedFd`, `fdFromProcess` |
//! | [`unixfd`] | `unixfd` | `UnixFdSrc`, `UnixFdSink`, `UnixFdSinkConnection`, `UnixFdBuffer` |
//! | [`inspect`] | `inspect` | `inspect` |
//! | [`kms`] | `kms` | `Card`, `Framebuffer`, `KmsPropertyBlob`, `KmsAtomic` |
//!
//! Under them, the binding's own machinery (no core counterpart):
//! [`fast`] (the raw callbacks on hot paths and the shared argument array),
//! [`table`] (the per-thread handle table), [`errors`] (Node-style errors,
//! argument checks, storing a new object), [`wait`] (every wait on an fd,
//! on Node's own libuv loop), [`uv`] (the libuv declarations it uses) and
//! [`js`] (raw Node-API helpers napi-rs does not offer).
//!
//! # Design
//!
//! - **Functions, not classes.** A napi-rs `&self` method costs ~450 ns a
//!   call (receiver unwrap, type tag, class identity, borrow registration);
//!   a plain function ~160 ns; a raw zero-argument callback ~35 ns (measured
//!   on an H200 machine; `bench/PROFILE.md` counts the instructions, about
//!   4,000 per napi-rs method call before any work). So the classes users see
//!   are TypeScript, and this module exports functions. The calls on hot
//!   paths (CPU access begin/end, `sync_file` export, close, unmap) are raw
//!   `napi_callback`s registered in [`init`] that take no JavaScript
//!   arguments: they read them from a per-thread `Float64Array` (`args`,
//!   see [`fast`]) that the TypeScript layer fills, and they never touch
//!   `CallbackInfo`. Everything else is an ordinary `#[napi]` function.
//! - **Ownership stays in Rust.** Every kernel object (a `DmaBuf`, a
//!   `SyncFile`, a mapping, a heap, a DRM device, a GEM handle) lives in a
//!   per-thread [`table`]; JavaScript holds a *handle*, a number made of a
//!   slot index and a generation. A closed, stale or forged handle finds an
//!   empty slot or a different generation and is answered with
//!   `ERR_DMABUF_CLOSED`, never with another object; an fd number from
//!   JavaScript is never trusted as such (`fromFd` duplicates it). Why not
//!   let JavaScript hold the fd number: the table also holds what is not an
//!   fd (GEM handles, mappings, open CPU accesses) under the same rules, and
//!   a number JavaScript can forge must never reach a syscall unchecked.
//! - **Worker threads** each load the addon into their own environment on
//!   their own thread, so the table and the argument array are
//!   thread-locals: an object never crosses threads.
//! - **Errors** are built here with Node's shape (`code`, `errno`,
//!   `syscall`, `fd`, a message naming the method); argument *types* are
//!   checked in TypeScript before any call, so napi-rs's own conversion
//!   errors cannot reach users.
//! - **No panic reaches Node**: nothing here unwraps, every raw callback runs
//!   under `catch_unwind`, and the `#[napi]` functions are `catch_unwind`.

// napi-derive registers exports only in non-test builds.
#![cfg_attr(test, allow(dead_code))]
// Reason: the signatures of `#[napi]` functions are napi-rs's to choose: it
// hands them `&Env` and owned arguments (`String`, typed arrays), whether or
// not the body consumes them.
#![allow(clippy::trivially_copy_pass_by_ref, clippy::needless_pass_by_value)]

use napi::bindgen_prelude::*;
use napi_derive::napi;

mod caps;
mod dma_buf;
mod drm;
mod dvb;
mod errors;
mod fast;
mod fdpass;
mod frame;
mod heap;
mod inspect;
mod js;
mod kms;
mod m2m;
mod sync_file;
mod table;
mod udmabuf;
mod unixfd;
mod uv;
mod v4l2;
mod vulkan;
mod wait;

/// Installs the raw fast functions and the shared argument array on
/// `exports`, once per environment (the main thread and each worker).
///
/// # Errors
/// When Node-API refuses to create a function or the array (out of memory).
#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> Result<()> {
    fast::install(env.raw(), exports.raw())
}
