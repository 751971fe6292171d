//! Small raw N-API helpers for what napi-rs does not express: errors shaped
//! like Node's own, external ArrayBuffers that must not silently become
//! copies, detaching, references, and `Symbol.dispose` on class prototypes.

use std::ffi::CString;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

/// Which JavaScript error constructor to use.
#[derive(Clone, Copy)]
pub enum Ctor {
    Error,
    TypeError,
    RangeError,
}

/// Properties of a Node-style error.
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
    // SAFETY: `s` is valid UTF-8 of the given length; `v` is a valid out pointer.
    check(unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut v) }, "create string")?;
    Ok(v)
}

fn int(env: sys::napi_env, n: i32) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    // SAFETY: plain value creation with a valid out pointer.
    check(unsafe { sys::napi_create_int32(env, n, &mut v) }, "create int32")?;
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
    let status = unsafe { create(env, code, msg, &mut obj) };
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

/// Why an external ArrayBuffer could not be made.
pub enum ExternalError {
    /// The runtime forbids external buffers (Electron's V8 memory cage).
    Disallowed,
    Other(Error),
}

/// `napi_create_external_arraybuffer` over `len` bytes at `data`. `hint` is
/// boxed and dropped by `finalize` when the ArrayBuffer's memory is released
/// (after garbage collection, or once detached). On failure the hint is
/// dropped here and nothing is copied: a copy would break the promise that
/// the ArrayBuffer *is* the buffer.
pub fn external_arraybuffer<T: Send + 'static>(
    env: sys::napi_env,
    data: *mut u8,
    len: usize,
    hint: T,
) -> std::result::Result<sys::napi_value, ExternalError> {
    unsafe extern "C" fn finalize<T>(_env: sys::napi_env, _data: *mut std::ffi::c_void, hint: *mut std::ffi::c_void) {
        // SAFETY: `hint` is the Box<T> leaked below; N-API calls this once.
        drop(unsafe { Box::from_raw(hint.cast::<T>()) });
    }
    let hint = Box::into_raw(Box::new(hint));
    let mut out = ptr::null_mut();
    // SAFETY: `data..data+len` stays mapped until `finalize` drops the hint,
    // which owns the mapping; `out` is a valid out pointer.
    let status = unsafe {
        sys::napi_create_external_arraybuffer(env, data.cast(), len, Some(finalize::<T>), hint.cast(), &mut out)
    };
    if status == sys::Status::napi_ok {
        return Ok(out);
    }
    // SAFETY: creation failed, so N-API did not take the hint; reclaim it.
    drop(unsafe { Box::from_raw(hint) });
    if status == sys::Status::napi_no_external_buffers_allowed {
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
    check(unsafe { sys::napi_create_reference(env, v, 1, &mut r) }, "create reference")?;
    Ok(r)
}

/// The value behind a reference (null once collected, never for strong ones).
pub fn deref(env: sys::napi_env, r: sys::napi_ref) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    // SAFETY: `r` is a live reference made by `reference`.
    check(unsafe { sys::napi_get_reference_value(env, r, &mut v) }, "get reference")?;
    Ok(v)
}

/// Deletes a reference made by [`reference`].
pub fn unref(env: sys::napi_env, r: sys::napi_ref) {
    // SAFETY: `r` is a live reference made by `reference`, deleted once.
    unsafe { sys::napi_delete_reference(env, r) };
}

/// `Class.prototype[Symbol.dispose] = Class.prototype[method]` for each
/// class, so that `using x = ...` works (napi-rs cannot name a method by a
/// symbol). Runs once at module load.
pub fn install_dispose(env: sys::napi_env, exports: sys::napi_value, classes: &[(&str, &str)]) -> Result<()> {
    let mut global = ptr::null_mut();
    // SAFETY: valid out pointer.
    check(unsafe { sys::napi_get_global(env, &mut global) }, "get global")?;
    let symbol_ctor = get(env, global, "Symbol")?;
    let dispose = get(env, symbol_ctor, "dispose")?;
    let mut ty = 0;
    // SAFETY: `dispose` is a live handle.
    check(unsafe { sys::napi_typeof(env, dispose, &mut ty) }, "typeof")?;
    if ty != sys::ValueType::napi_symbol {
        // Runtimes without explicit resource management: close() still works.
        return Ok(());
    }
    for (class, method) in classes {
        let ctor = get(env, exports, class)?;
        let proto = get(env, ctor, "prototype")?;
        let f = get(env, proto, method)?;
        // SAFETY: all handles are live in this scope.
        check(unsafe { sys::napi_set_property(env, proto, dispose, f) }, "set Symbol.dispose")?;
    }
    Ok(())
}

/// Reads a named property.
pub fn get(env: sys::napi_env, obj: sys::napi_value, key: &str) -> Result<sys::napi_value> {
    let key = CString::new(key).map_err(|_| Error::from_reason("bad property name"))?;
    let mut v = ptr::null_mut();
    // SAFETY: `obj` is a live handle; `key` is NUL-terminated.
    check(unsafe { sys::napi_get_named_property(env, obj, key.as_ptr(), &mut v) }, "get property")?;
    Ok(v)
}

/// Calls `obj[method](...args)`.
pub fn call_method(
    env: sys::napi_env,
    obj: sys::napi_value,
    method: &str,
    args: &[sys::napi_value],
) -> Result<sys::napi_value> {
    let f = get(env, obj, method)?;
    let mut out = ptr::null_mut();
    // SAFETY: handles are live; `args` has `args.len()` elements.
    check(unsafe { sys::napi_call_function(env, obj, f, args.len(), args.as_ptr(), &mut out) }, method)?;
    Ok(out)
}

/// Whether a JS value is truthy `true`.
pub fn is_true(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut b = false;
    // SAFETY: `v` is a live handle; non-booleans leave `b` false.
    unsafe { sys::napi_get_value_bool(env, v, &mut b) };
    b
}

/// Evaluates `source`, a script whose value is a function, and calls that
/// function with `exports[arg]`: how the JavaScript half of the binding
/// (cpu_access.js) attaches itself to a class at load time.
pub fn run_installer(env: sys::napi_env, exports: sys::napi_value, source: &str, arg: &str) -> Result<sys::napi_value> {
    let script = string(env, source)?;
    let mut installer = ptr::null_mut();
    // SAFETY: `script` is a live string handle; valid out pointer.
    check(unsafe { sys::napi_run_script(env, script, &mut installer) }, "run installer script")?;
    let class = get(env, exports, arg)?;
    let mut undefined = ptr::null_mut();
    // SAFETY: valid out pointer.
    check(unsafe { sys::napi_get_undefined(env, &mut undefined) }, "get undefined")?;
    let mut out = ptr::null_mut();
    // SAFETY: handles are live; one argument.
    check(unsafe { sys::napi_call_function(env, undefined, installer, 1, &class, &mut out) }, "call installer")?;
    Ok(out)
}
