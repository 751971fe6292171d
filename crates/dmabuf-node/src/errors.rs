//! Errors shaped like Node's own: `code` is the errno name (`ENOTTY`) or an
//! `ERR_*` code, `errno` the negative errno and `syscall` the ioctl or
//! system call (as `fs` sets them), `fd` the fd, and the message names the
//! method. No napi-rs status code or Rust type name reaches JavaScript.

use std::fmt::Write as _;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::js::{self, Ctor, JsErr};
use crate::table::{self, Miss, Obj};

/// The Node-style error for a core error, raised by `method`.
pub(crate) fn os_err_value(e: &dmabuf::Error, method: &str) -> JsErr {
    let mut message = format!("{}: {}, {}", e.code(), e.description(), method);
    if let Some(fd) = e.fd() {
        let _ = write!(message, " (fd {fd})");
    }
    JsErr {
        ctor: Ctor::Error,
        code: e.code().to_string(),
        message,
        errno: Some(-(e.errno() as i32)),
        syscall: Some(e.op().to_string()),
        fd: e.fd(),
        name: None,
    }
}

/// The error for a handle that names nothing usable.
pub(crate) fn miss_value(miss: &Miss, method: &str, class: &str) -> JsErr {
    match miss {
        Miss::Closed => JsErr::new(Ctor::Error, "ERR_DMABUF_CLOSED", format!("{method}: the {class} is closed")),
        Miss::WrongClass(found) => {
            JsErr::new(Ctor::TypeError, "ERR_INVALID_ARG_TYPE", format!("{method}: expected a {class}, got a {found}"))
        }
        Miss::Full => JsErr::new(
            Ctor::RangeError,
            "ERR_DMABUF_TOO_MANY_OBJECTS",
            format!("{method}: too many open objects on this thread (4,194,304); close some"),
        ),
    }
}

/// Wraps a built error for napi-rs to throw or reject with.
pub(crate) fn raise(env: &Env, e: JsErr) -> Error {
    js::to_napi(env, e)
}

/// A core error from `method`.
pub(crate) fn os(env: &Env, method: &str, e: &dmabuf::Error) -> Error {
    raise(env, os_err_value(e, method))
}

/// A handle that names nothing usable.
pub(crate) fn miss(env: &Env, method: &str, class: &str, m: &Miss) -> Error {
    raise(env, miss_value(m, method, class))
}

/// Stores `obj` in this thread's table and returns its handle, or the error
/// for a full table (`ERR_DMABUF_TOO_MANY_OBJECTS`).
pub(crate) fn store(env: &Env, method: &str, obj: Obj) -> Result<f64> {
    let class = obj.class();
    table::insert(obj).map_err(|m| miss(env, method, class, &m))
}

/// `ERR_OUT_OF_RANGE` (`RangeError`).
pub(crate) fn range(env: &Env, method: &str, message: &str) -> Error {
    raise(env, JsErr::new(Ctor::RangeError, "ERR_OUT_OF_RANGE", format!("{method}: {message}")))
}

/// `ERR_INVALID_ARG_VALUE` (`TypeError`).
pub(crate) fn value(env: &Env, method: &str, message: &str) -> Error {
    raise(env, JsErr::new(Ctor::TypeError, "ERR_INVALID_ARG_VALUE", format!("{method}: {message}")))
}

/// Throws `e` from a raw callback (no napi-rs in between).
pub(crate) fn throw(env: sys::napi_env, e: JsErr) {
    if let Ok(v) = js::build(env, e) {
        // SAFETY: `v` is an error object created in this callback's scope.
        unsafe { sys::napi_throw(env, v) };
    }
}

/// The access for `DMA_BUF_SYNC_READ` (1), `_WRITE` (2) or both (3).
pub(crate) fn access_bits(bits: f64) -> Option<dmabuf::Access> {
    // Exact comparisons on purpose: 1, 2 and 3 are exact in f64, and nothing
    // else (1.5, NaN) is an access.
    #[allow(clippy::float_cmp)]
    match () {
        () if bits == 1.0 => Some(dmabuf::Access::Read),
        () if bits == 2.0 => Some(dmabuf::Access::Write),
        () if bits == 3.0 => Some(dmabuf::Access::ReadWrite),
        () => None,
    }
}

/// [`access_bits`], or `ERR_INVALID_ARG_VALUE`.
pub(crate) fn access(env: &Env, method: &str, bits: f64) -> Result<dmabuf::Access> {
    access_bits(bits).ok_or_else(|| value(env, method, "access must be 'r', 'w' or 'rw'"))
}

/// A non-negative safe integer from JavaScript, or `ERR_OUT_OF_RANGE`.
pub(crate) fn uint(env: &Env, method: &str, name: &str, v: f64) -> Result<u64> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_991.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        // Reason: checked above to be a non-negative integer below 2^53.
        Ok(v as u64)
    } else {
        Err(range(env, method, &format!("{name} must be a non-negative integer, got {}", shown(v))))
    }
}

/// A u32 from JavaScript, or `ERR_OUT_OF_RANGE`.
pub(crate) fn u32_arg(env: &Env, method: &str, name: &str, v: f64) -> Result<u32> {
    let n = uint(env, method, name, v)?;
    u32::try_from(n).map_err(|_| range(env, method, &format!("{name} must be at most 4294967295, got {n}")))
}

/// An fd number from JavaScript, or `ERR_OUT_OF_RANGE`.
pub(crate) fn fd_arg(env: &Env, method: &str, v: f64) -> Result<i32> {
    let n = uint(env, method, "fd", v)?;
    i32::try_from(n).map_err(|_| range(env, method, &format!("fd must be at most 2147483647, got {n}")))
}

/// A number as JavaScript prints it (`Infinity`, not `inf`).
pub(crate) fn shown(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{v}")
    }
}
