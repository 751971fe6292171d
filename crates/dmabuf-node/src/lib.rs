//! Node.js binding of the `dmabuf` crate. Thin: argument checks, object
//! lifetimes and error shapes live here; every kernel call is in the core.
#![deny(clippy::unwrap_used)]
// napi-derive registers exports only in non-test builds.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi_derive::napi;

mod buf;
mod js;
mod sources;
mod sync;

use js::{Ctor, JsErr};

/// Turns a core error into a Node-style error: `code` is the errno name,
/// `errno` its negative number (as `fs` does), `syscall` the ioctl or system
/// call, `fd` the fd, and the message names the method.
pub(crate) fn os_err(env: &Env, method: &str, e: dmabuf::Error) -> Error {
    let mut message = format!("{}: {}, {}", e.code(), e.description(), method);
    if let Some(fd) = e.fd() {
        message.push_str(&format!(" (fd {fd})"));
    }
    js::to_napi(
        env,
        JsErr {
            ctor: Ctor::Error,
            code: e.code().to_string(),
            message,
            errno: Some(-(e.errno() as i32)),
            syscall: Some(e.op().to_string()),
            fd: e.fd(),
            name: None,
        },
    )
}

/// `ERR_DMABUF_CLOSED`: use of an object after `close()`.
pub(crate) fn closed_err(env: &Env, method: &str, what: &str) -> Error {
    js::to_napi(env, JsErr::new(Ctor::Error, "ERR_DMABUF_CLOSED", format!("{method}: the {what} is closed")))
}

/// `ERR_INVALID_ARG_VALUE` (TypeError), as Node's own argument checks throw.
pub(crate) fn arg_err(env: &Env, method: &str, message: String) -> Error {
    js::to_napi(env, JsErr::new(Ctor::TypeError, "ERR_INVALID_ARG_VALUE", format!("{method}: {message}")))
}

/// `ERR_OUT_OF_RANGE` (RangeError).
pub(crate) fn range_err(env: &Env, method: &str, message: String) -> Error {
    js::to_napi(env, JsErr::new(Ctor::RangeError, "ERR_OUT_OF_RANGE", format!("{method}: {message}")))
}

/// Parses an access string (`'r'`, `'w'`, `'rw'`).
pub(crate) fn access(env: &Env, method: &str, s: &str) -> Result<dmabuf::Access> {
    dmabuf::Access::parse(s).ok_or_else(|| arg_err(env, method, format!("access must be 'r', 'w' or 'rw', got {s:?}")))
}

/// Checks that a JS number is a non-negative safe integer.
pub(crate) fn uint(env: &Env, method: &str, name: &str, v: f64) -> Result<u64> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_991.0 {
        Ok(v as u64)
    } else {
        Err(range_err(env, method, format!("{name} must be a non-negative integer, got {v}")))
    }
}

/// Checks that a JS number is an fd number.
pub(crate) fn fd_arg(env: &Env, method: &str, v: f64) -> Result<i32> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= i32::MAX as f64 {
        Ok(v as i32)
    } else {
        Err(range_err(env, method, format!("fd must be a non-negative integer, got {v}")))
    }
}

/// How a buffer is accessed: 'r' (read), 'w' (write) or 'rw' (both).
#[napi(string_enum)]
#[allow(dead_code)]
pub enum Access {
    #[napi(value = "r")]
    Read,
    #[napi(value = "w")]
    Write,
    #[napi(value = "rw")]
    ReadWrite,
}

/// Gives each fd-owning class `[Symbol.dispose]`, aliasing its close method,
/// and installs `DmaBuf.prototype.beginCpuAccess` from cpu_access.js.
#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> Result<()> {
    js::run_installer(env.raw(), exports.raw(), include_str!("cpu_access.js"), "DmaBuf")?;
    js::install_dispose(
        env.raw(),
        exports.raw(),
        &[
            ("DmaBuf", "close"),
            ("Mapping", "unmap"),
            ("SyncFile", "close"),
            ("Heap", "close"),
            ("Udmabuf", "close"),
            ("DrmDevice", "close"),
            ("GemHandle", "close"),
        ],
    )
}
