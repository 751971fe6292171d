//! The few libuv functions the waits use, declared here: Node exports
//! libuv's symbols to addons, so these resolve when the addon loads. Only
//! what libuv 1.x keeps ABI-stable is relied on: the handle type numbers,
//! `uv_handle_size` for the memory, and the data pointer through
//! `uv_handle_set_data`/`uv_handle_get_data` (never a struct layout).

use std::ffi::c_void;

/// `uv_loop_t`, opaque.
#[repr(C)]
pub(crate) struct Loop {
    _private: [u8; 0],
}

/// Any `uv_handle_t`, opaque (its memory is `uv_handle_size(kind)` bytes).
#[repr(C)]
pub(crate) struct Handle {
    _private: [u8; 0],
}

/// `uv_handle_type` values (libuv 1.x, ABI-stable).
pub(crate) const UV_CHECK: i32 = 2;
pub(crate) const UV_POLL: i32 = 8;
pub(crate) const UV_TIMER: i32 = 13;

/// `uv_poll_event` bits.
pub(crate) const UV_READABLE: i32 = 1;
pub(crate) const UV_WRITABLE: i32 = 2;
pub(crate) const UV_PRIORITIZED: i32 = 4;

pub(crate) type PollCb = unsafe extern "C" fn(*mut Handle, i32, i32);
pub(crate) type TimerCb = unsafe extern "C" fn(*mut Handle);
pub(crate) type CheckCb = unsafe extern "C" fn(*mut Handle);
pub(crate) type CloseCb = unsafe extern "C" fn(*mut Handle);

unsafe extern "C" {
    pub(crate) fn uv_handle_size(kind: i32) -> usize;
    pub(crate) fn uv_handle_set_data(h: *mut Handle, data: *mut c_void);
    pub(crate) fn uv_handle_get_data(h: *const Handle) -> *mut c_void;
    pub(crate) fn uv_close(h: *mut Handle, cb: Option<CloseCb>);
    pub(crate) fn uv_unref(h: *mut Handle);
    pub(crate) fn uv_ref(h: *mut Handle);
    pub(crate) fn uv_poll_init(l: *mut Loop, h: *mut Handle, fd: i32) -> i32;
    pub(crate) fn uv_poll_start(h: *mut Handle, events: i32, cb: PollCb) -> i32;
    pub(crate) fn uv_timer_init(l: *mut Loop, h: *mut Handle) -> i32;
    pub(crate) fn uv_timer_start(h: *mut Handle, cb: TimerCb, timeout: u64, repeat: u64) -> i32;
    pub(crate) fn uv_check_init(l: *mut Loop, h: *mut Handle) -> i32;
    pub(crate) fn uv_check_start(h: *mut Handle, cb: CheckCb) -> i32;
}

/// Memory for a handle of `kind`, zeroed, with `data` set; `None` when out
/// of memory. Free it with [`free_on_close`] only (in `uv_close`'s callback).
pub(crate) fn alloc(kind: i32, data: usize) -> Option<*mut Handle> {
    // SAFETY: a pure lookup in libuv's table of handle sizes.
    let size = unsafe { uv_handle_size(kind) };
    // SAFETY: `calloc` returns memory aligned for any type, or null.
    let h = unsafe { nix::libc::calloc(1, size) }.cast::<Handle>();
    if h.is_null() {
        return None;
    }
    // SAFETY: `h` is a live allocation of the handle's size; setting the data
    // pointer before init is allowed (init keeps it).
    unsafe { uv_handle_set_data(h, data as *mut c_void) };
    Some(h)
}

/// The word stored with [`alloc`].
pub(crate) fn data(h: *const Handle) -> usize {
    // SAFETY: `h` is a handle libuv passed to a callback, so it is live.
    unsafe { uv_handle_get_data(h) as usize }
}

/// `uv_close`'s callback for handles from [`alloc`]: frees the memory.
pub(crate) unsafe extern "C" fn free_on_close(h: *mut Handle) {
    // SAFETY: libuv is done with the handle once this runs; it came from
    // `calloc` in `alloc`.
    unsafe { nix::libc::free(h.cast()) };
}
