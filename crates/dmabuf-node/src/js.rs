//! Small raw N-API helpers for what napi-rs does not express: error objects
//! shaped like Node's own, external `ArrayBuffers` that must not silently
//! become copies, detaching, and references.

use std::ffi::CString;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

/// Which JavaScript error constructor to use.
#[derive(Debug, Clone, Copy)]
pub enum Ctor {
    Error,
    TypeError,
    RangeError,
}

/// Properties of a Node-style error.
#[derive(Debug)]
pub struct JsErr {
    pub ctor: Ctor,
    pub code: String,
    pub message: String,
    pub errno: Option<i32>,
    pub syscall: Option<String>,
    pub fd: Option<i32>,
    pub name: Option<&'static str>,
}

impl JsErr {
    /// An error with a code and a message and nothing else.
    pub fn new(ctor: Ctor, code: &str, message: String) -> JsErr {
        JsErr { ctor, code: code.to_string(), message, errno: None, syscall: None, fd: None, name: None }
    }
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), format!("N-API call failed: {what}")))
    }
}

fn string(env: sys::napi_env, s: &str) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    let len = isize::try_from(s.len()).map_err(|_| Error::from_reason("string too long"))?;
    // SAFETY: `s` is valid UTF-8 of the given length; `v` is a valid out pointer.
    check(unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), len, &raw mut v) }, "create string")?;
    Ok(v)
}

fn int(env: sys::napi_env, n: i32) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    // SAFETY: plain value creation with a valid out pointer.
    check(unsafe { sys::napi_create_int32(env, n, &raw mut v) }, "create int32")?;
    Ok(v)
}

fn set(env: sys::napi_env, obj: sys::napi_value, key: &str, value: sys::napi_value) -> Result<()> {
    let key = CString::new(key).map_err(|_| Error::from_reason("bad property name"))?;
    // SAFETY: `obj` and `value` are live handles of this scope; `key` is NUL-terminated.
    check(unsafe { sys::napi_set_named_property(env, obj, key.as_ptr(), value) }, "set property")
}

/// Builds the JS error object and wraps it as a `napi::Error`, which napi-rs
/// throws (or rejects with) unchanged.
pub fn to_napi(env: &Env, e: JsErr) -> Error {
    match build(env.raw(), e) {
        // SAFETY: `obj` is the error object just created in this callback's scope.
        Ok(obj) => Error::from(unsafe { Unknown::from_raw_unchecked(env.raw(), obj) }),
        Err(err) => err,
    }
}

/// Like [`to_napi`] but returns the raw error value (for promise rejections).
pub fn build(env: sys::napi_env, e: JsErr) -> Result<sys::napi_value> {
    let code = string(env, &e.code)?;
    let msg = string(env, &e.message)?;
    let mut obj = ptr::null_mut();
    let create = match e.ctor {
        Ctor::Error => sys::napi_create_error,
        Ctor::TypeError => sys::napi_create_type_error,
        Ctor::RangeError => sys::napi_create_range_error,
    };
    // SAFETY: `code` and `msg` are string handles of this scope; `obj` is a valid out pointer.
    let status = unsafe { create(env, code, msg, &raw mut obj) };
    check(status, "create error")?;
    if let Some(errno) = e.errno {
        set(env, obj, "errno", int(env, errno)?)?;
    }
    if let Some(syscall) = &e.syscall {
        set(env, obj, "syscall", string(env, syscall)?)?;
    }
    if let Some(fd) = e.fd {
        set(env, obj, "fd", int(env, fd)?)?;
    }
    if let Some(name) = e.name {
        set(env, obj, "name", string(env, name)?)?;
    }
    Ok(obj)
}

/// Why an external `ArrayBuffer` could not be made.
#[derive(Debug)]
pub enum ExternalError {
    /// The runtime forbids external buffers (Electron's V8 memory cage).
    Disallowed,
    /// Any other failure.
    Other(Error),
}

/// `napi_create_external_arraybuffer` over `len` bytes at `data`, with no
/// finalizer: the caller keeps the memory alive (with `napi_add_finalizer`
/// on the returned object). On failure nothing is copied: a copy would
/// break the promise that the `ArrayBuffer` *is* the buffer.
pub fn external_arraybuffer(
    env: sys::napi_env,
    data: *mut u8,
    len: usize,
) -> std::result::Result<sys::napi_value, ExternalError> {
    let mut out = ptr::null_mut();
    // SAFETY: `data..data+len` stays valid while the returned object lives
    // (the caller's finalizer owns it); `out` is a valid out pointer.
    let status =
        unsafe { sys::napi_create_external_arraybuffer(env, data.cast(), len, None, ptr::null_mut(), &raw mut out) };
    if status == sys::Status::napi_ok {
        Ok(out)
    } else if status == sys::Status::napi_no_external_buffers_allowed {
        Err(ExternalError::Disallowed)
    } else {
        Err(ExternalError::Other(Error::new(Status::from(status), "napi_create_external_arraybuffer failed")))
    }
}

/// `napi_detach_arraybuffer`: every view of it reads as length 0 from now on.
pub fn detach(env: sys::napi_env, ab: sys::napi_value) -> Result<()> {
    // SAFETY: `ab` is a live ArrayBuffer handle (from a reference of ours).
    check(unsafe { sys::napi_detach_arraybuffer(env, ab) }, "detach ArrayBuffer")
}

/// A strong N-API reference, released with [`unref`].
pub fn reference(env: sys::napi_env, v: sys::napi_value) -> Result<sys::napi_ref> {
    let mut r = ptr::null_mut();
    // SAFETY: `v` is a live handle of this scope; `r` is a valid out pointer.
    check(unsafe { sys::napi_create_reference(env, v, 1, &raw mut r) }, "create reference")?;
    Ok(r)
}
