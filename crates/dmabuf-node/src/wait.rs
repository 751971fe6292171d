//! The one way this binding waits on an fd: on the event loop Node already
//! runs (libuv, `uv.rs`), in the JavaScript thread, with no thread and no
//! fd of its own. `SyncFile.wait`, `V4l2Device.dequeue`, `DvbDemux.dequeue`,
//! `Card.nextEvents` and the `Channel` operations all go through [`spawn`].
//!
//! A pending wait is a duplicate of the object's fd (libuv allows one poll
//! handle per fd, and the user may close theirs meanwhile) watched by a
//! `uv_poll_t`, plus a `uv_timer_t` when it has a timeout. Both are ref'd,
//! so a pending wait keeps the process alive as a pending socket read does;
//! they are closed as soon as it settles, so an idle library holds nothing
//! that keeps the loop alive. Readiness runs the operation (`DQBUF`,
//! `recvmsg`, `poll(0)` of a `sync_file`) in the poll phase, and the
//! Promise settles inside a callback scope, so closing that scope runs
//! microtasks and `nextTick`s as any Node I/O callback does.
//!
//! **Fairness.** Trying the operation before waiting (the fast path) hands
//! back an already-settled Promise, and a `for (;;) await op()` loop over
//! work that is always ready would then run on microtasks alone and starve
//! timers. So the fast path is taken only within [`BUDGET`] of the loop's
//! last turn (stamped by our own callbacks and by an unref'd `uv_check_t`
//! that runs once per loop iteration); past it, the wait goes through the
//! poll phase (it fires in the next one, after timers had their turn).
//!
//! **Worker threads** each have their own loop and their own state here
//! (thread-locals); an async cleanup hook closes a worker's handles and
//! drops its pending operations (their sockets, fds and addresses) when
//! it ends, without running them: nothing of a dead worker touches a live
//! one.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::panic::catch_unwind;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::sys;

use crate::errors::os;
use crate::js::{self, Ctor, JsErr};
use crate::uv::{self, Handle, Loop};

/// How long after the loop's last turn the fast path may still be taken.
const BUDGET: Duration = Duration::from_millis(1);

/// Whose cancel function an id belongs to: each JavaScript function that
/// cancels (`syncCancelWait`, `v4l2CancelWait`, `dvbCancelDequeue`,
/// `chanCancel`, `kmsCancelEvents`) ends only the waits started by its own family.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ids {
    Sync,
    V4l2,
    Dvb,
    Chan,
    Kms,
}

/// What a wait waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interest(i32);

impl Interest {
    pub(crate) const READABLE: Interest = Interest(uv::UV_READABLE);
    pub(crate) const WRITABLE: Interest = Interest(uv::UV_WRITABLE);
    /// `POLLPRI`: a V4L2 event is pending.
    pub(crate) const PRIORITIZED: Interest = Interest(uv::UV_PRIORITIZED);

    pub(crate) fn is_readable(self) -> bool {
        self.0 & uv::UV_READABLE != 0
    }
}

/// What wakes a pending wait.
#[derive(Clone, Copy)]
enum Event {
    /// The poll handle's callback, with libuv's status (negative: an error
    /// such as `UV_EBADF` for `POLLERR`).
    Ready(i32),
    TimedOut,
    Cancelled,
}

/// What a pending wait's job answers to an event.
enum Step {
    /// Not done: keep waiting.
    Wait,
    Resolve(sys::napi_value),
    Reject(sys::napi_value),
}

type Job = Box<dyn FnMut(&Env, Event) -> Step>;

struct Wait {
    key: (Ids, u32),
    poll: *mut Handle,
    interest: Interest,
    /// Null when the wait has no timeout.
    timer: *mut Handle,
    deadline: Option<Instant>,
    deferred: sys::napi_deferred,
    job: Job,
    /// A duplicate of the job's fd, made when another poll handle of this
    /// loop watches that fd already (libuv allows one per fd).
    dup: Option<OwnedFd>,
    /// For an fd that may linger ([`Io::linger`]): its key, and what keeps
    /// the fd open.
    linger: Option<(usize, Rc<dyn Any>)>,
}

/// A poll handle kept started after its wait settled from the poll phase,
/// for the next wait on the same socket to take over (no epoll change, no
/// `uv_poll_init`): a ping-pong's next receive starts in the microtasks of
/// the last one's callback. Unref'd; closed in the same loop turn's check
/// phase when nothing took it.
struct Idle {
    poll: *mut Handle,
    /// What it watches for (`uv_poll_start` again, even with the same
    /// events, would take the fd out of epoll and put it back).
    interest: Interest,
    _keep: Rc<dyn Any>,
}

/// What a wait watches: an fd it owns or keeps open.
pub(crate) trait Io: AsRawFd + 'static {
    /// A key for fds whose poll handle may outlive a wait until the loop's
    /// check phase ([`Idle`]): the same key means the same open file, kept
    /// open by `self`. None: the handle closes when the wait ends.
    fn linger(&self) -> Option<usize> {
        None
    }
}

impl Io for OwnedFd {}

impl Io for dmabuf::dvb::Demux {}

impl Io for Arc<dmabuf::fdpass::Channel> {
    fn linger(&self) -> Option<usize> {
        Some(Arc::as_ptr(self) as usize)
    }
}

/// One environment's (one thread's) waits.
struct State {
    env: sys::napi_env,
    lp: *mut Loop,
    /// The async context and resource that callback scopes run under.
    ctx: sys::napi_async_context,
    resource: sys::napi_ref,
    cleanup: sys::napi_async_cleanup_hook_handle,
    check: *mut Handle,
    /// Handles ours that are not closed yet.
    open: usize,
    /// The environment is ending: nothing new starts, nothing runs.
    ending: bool,
    last_turn: Instant,
    next: usize,
    waits: HashMap<usize, Wait>,
    by_id: HashMap<(Ids, u32), usize>,
    idle: HashMap<usize, Idle>,
}

thread_local! {
    static ST: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    ST.try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.as_mut().map(f))).ok().flatten()
}

fn check(status: sys::napi_status, what: &'static str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), format!("N-API call failed: {what}")))
    }
}

/// This thread's state, made on first use: the loop, an async context for
/// callback scopes, the cleanup hook and the unref'd check handle. Nothing
/// of it exists before the first wait (or fast-path check).
fn init(env: &Env) -> Result<()> {
    if with(|_| ()).is_some() {
        return Ok(());
    }
    let raw = env.raw();
    let lp = env.get_uv_event_loop()?.cast::<Loop>();
    let mut obj = ptr::null_mut();
    let mut name = ptr::null_mut();
    let mut resource = ptr::null_mut();
    let mut ctx = ptr::null_mut();
    // The four calls below: plain Node-API calls on this thread's env, with
    // valid out pointers and values of the current scope.
    // SAFETY: see the comment above these calls.
    check(unsafe { sys::napi_create_object(raw, &raw mut obj) }, "create object")?;
    // SAFETY: see the comment above these calls.
    check(unsafe { sys::napi_create_string_utf8(raw, c"dmabuf.wait".as_ptr(), 11, &raw mut name) }, "create string")?;
    // SAFETY: see the comment above these calls.
    check(unsafe { sys::napi_create_reference(raw, obj, 1, &raw mut resource) }, "create reference")?;
    // SAFETY: see the comment above these calls.
    check(unsafe { sys::napi_async_init(raw, obj, name, &raw mut ctx) }, "async init")?;
    let check_h = uv::alloc(uv::UV_CHECK, 0).ok_or_else(|| Error::from_reason("out of memory"))?;
    // The three calls below: `check_h` is fresh memory of a check handle's
    // size, on this thread's loop; init cannot fail for a check handle.
    // SAFETY: see the comment above these calls.
    unsafe { uv::uv_check_init(lp, check_h) };
    // SAFETY: see the comment above these calls.
    unsafe { uv::uv_check_start(check_h, on_check) };
    // SAFETY: see the comment above these calls.
    unsafe { uv::uv_unref(check_h) };
    let mut cleanup = ptr::null_mut();
    // SAFETY: `on_cleanup` matches `napi_async_cleanup_hook`; it reads only thread-locals.
    let added = unsafe { sys::napi_add_async_cleanup_hook(raw, Some(on_cleanup), ptr::null_mut(), &raw mut cleanup) };
    ST.with(|s| {
        *s.borrow_mut() = Some(State {
            env: raw,
            lp,
            ctx,
            resource,
            cleanup: if added == sys::Status::napi_ok { cleanup } else { ptr::null_mut() },
            check: check_h,
            open: 1,
            ending: false,
            last_turn: Instant::now(),
            next: 1,
            waits: HashMap::new(),
            by_id: HashMap::new(),
            idle: HashMap::new(),
        });
    });
    Ok(())
}

/// Whether the fast path may be taken now: the loop turned less than
/// [`BUDGET`] ago. Starts this thread's state when it is the first use.
pub(crate) fn fresh(env: &Env) -> bool {
    if init(env).is_err() {
        return true;
    }
    with(|s| s.last_turn.elapsed() < BUDGET).unwrap_or(true)
}

/// Whether a fast path (an operation tried before waiting) may be taken
/// now: false once the event loop has not turned for a while, and the
/// caller should then wait through the loop, so that timers get their turn.
#[napi_derive::napi(catch_unwind)]
pub fn wait_fresh(env: &Env) -> bool {
    fresh(env)
}

fn stamp() {
    with(|s| s.last_turn = Instant::now());
}

unsafe extern "C" fn on_check(_: *mut Handle) {
    let _ = catch_unwind(|| {
        stamp();
        close_idle();
    });
}

/// Closes the idle poll handle of `key` ([`Io::linger`]) now, and lets go
/// of the fd it kept open: `Channel.close()` closes its socket at once.
pub(crate) fn unlinger(key: usize) {
    if let Some(i) = with(|s| s.idle.remove(&key)).flatten() {
        close(i.poll);
    }
}

/// Closes the poll handles no wait took over in this loop turn.
fn close_idle() {
    let idle = with(|s| if s.idle.is_empty() { None } else { Some(std::mem::take(&mut s.idle)) }).flatten();
    for (_, i) in idle.into_iter().flatten() {
        close(i.poll);
    }
}

/// A handle of ours closed: frees it; once the environment is ending and
/// the last one is closed, tells Node the cleanup is done.
unsafe extern "C" fn on_close(h: *mut Handle) {
    // SAFETY: libuv is done with `h`; it came from `uv::alloc`.
    unsafe { uv::free_on_close(h) };
    let _ = catch_unwind(|| {
        let done = with(|s| {
            s.open = s.open.saturating_sub(1);
            if s.ending && s.open == 0 {
                std::mem::replace(&mut s.cleanup, ptr::null_mut())
            } else {
                ptr::null_mut()
            }
        });
        if let Some(hook) = done.filter(|h| !h.is_null()) {
            // SAFETY: the handle napi_add_async_cleanup_hook gave, removed once.
            unsafe { sys::napi_remove_async_cleanup_hook(hook) };
        }
    });
}

fn close(h: *mut Handle) {
    if !h.is_null() {
        // SAFETY: `h` is an initialized handle of ours not closed yet; its
        // memory is freed in `on_close` only.
        unsafe { uv::uv_close(h, Some(on_close)) };
    }
}

/// The environment ends (a worker's end, or the process's): closes every
/// handle and drops every pending operation without running it (no
/// JavaScript can run now; their Promises never settle).
unsafe extern "C" fn on_cleanup(hook: sys::napi_async_cleanup_hook_handle, _: *mut std::ffi::c_void) {
    let _ = catch_unwind(|| {
        let waits = with(|s| {
            s.ending = true;
            s.by_id.clear();
            close(std::mem::replace(&mut s.check, ptr::null_mut()));
            std::mem::take(&mut s.waits)
        });
        close_idle();
        for (_, w) in waits.into_iter().flatten() {
            close(w.poll);
            close(w.timer);
            drop(w.job);
        }
        if with(|s| s.open).unwrap_or(0) == 0 {
            with(|s| s.cleanup = ptr::null_mut());
            // SAFETY: the hook's own handle, removed once.
            unsafe { sys::napi_remove_async_cleanup_hook(hook) };
        }
    });
}

unsafe extern "C" fn on_poll(h: *mut Handle, status: i32, _events: i32) {
    let token = uv::data(h);
    let _ = catch_unwind(|| fire(token, Event::Ready(status)));
}

unsafe extern "C" fn on_timer(h: *mut Handle) {
    let token = uv::data(h);
    let _ = catch_unwind(|| fire(token, Event::TimedOut));
}

/// Ends the wait: its handles close (the poll handle stops watching its fd
/// at once, so the job's fd may close now) and it leaves the id table.
fn end(w: Wait) {
    with(|s| {
        if s.by_id.get(&w.key).is_some_and(|t| !s.waits.contains_key(t)) {
            s.by_id.remove(&w.key);
        }
    });
    // Closing a poll handle stops it at once (libuv takes the fd out of its
    // epoll there), so the fds may close right after.
    close(w.poll);
    close(w.timer);
    drop(w.job);
    drop(w.dup);
}

/// Ends a wait that settled from its poll callback, keeping the poll
/// handle started for the next wait on the same fd when it may linger.
fn end_polled(mut w: Wait) {
    let Some((key, keep)) = w.linger.take().filter(|_| w.dup.is_none()) else {
        return end(w);
    };
    // SAFETY: the poll handle is initialized and not closed; unref'd, it
    // keeps no process alive while idle.
    unsafe { uv::uv_unref(w.poll) };
    let poll = std::mem::replace(&mut w.poll, ptr::null_mut());
    let old = with(|s| s.idle.insert(key, Idle { poll, interest: w.interest, _keep: keep })).flatten();
    if let Some(old) = old {
        close(old.poll);
    }
    end(w);
}

fn resolve(env: sys::napi_env, deferred: sys::napi_deferred, step: &Step) {
    // Both calls below: `deferred` is this wait's, settled once; the value
    // belongs to the current handle scope.
    match *step {
        // SAFETY: see the comment above these calls.
        Step::Resolve(v) => unsafe { sys::napi_resolve_deferred(env, deferred, v) },
        // SAFETY: see the comment above these calls.
        Step::Reject(v) => unsafe { sys::napi_reject_deferred(env, deferred, v) },
        Step::Wait => sys::Status::napi_ok,
    };
}

/// A uv callback for the wait `token`: runs its job inside a handle scope
/// and a callback scope, settles it when the job is done, and closing the
/// callback scope runs microtasks and `nextTick`s.
fn fire(token: usize, ev: Event) {
    stamp();
    let Some((env, ctx, resource, mut w)) =
        with(|s| s.waits.remove(&token).map(|w| (s.env, s.ctx, s.resource, w))).flatten()
    else {
        return;
    };
    if let (Event::TimedOut, Some(deadline)) = (ev, w.deadline) {
        // libuv's timers count from the loop's cached time, which may be
        // older than when the wait started: never time out early.
        let now = Instant::now();
        if now < deadline {
            // SAFETY: the timer handle is initialized and not closed.
            unsafe { uv::uv_timer_start(w.timer, on_timer, ms_ceil(deadline - now).max(1), 0) };
            with(|s| s.waits.insert(token, w));
            return;
        }
    }
    let mut hs = ptr::null_mut();
    let mut cs = ptr::null_mut();
    let mut obj = ptr::null_mut();
    // The three calls below: we are on the env's thread in a uv callback,
    // outside any JavaScript; the scopes are closed below in reverse order.
    // SAFETY: see the comment above these calls.
    unsafe { sys::napi_open_handle_scope(env, &raw mut hs) };
    // SAFETY: see the comment above these calls.
    unsafe { sys::napi_get_reference_value(env, resource, &raw mut obj) };
    // SAFETY: see the comment above these calls.
    unsafe { sys::napi_open_callback_scope(env, obj, ctx, &raw mut cs) };
    let e = Env::from_raw(env);
    let step = (w.job)(&e, ev);
    let deferred = w.deferred;
    if let Step::Wait = step {
        with(|s| s.waits.insert(token, w));
    } else {
        match ev {
            Event::Ready(status) if status >= 0 => end_polled(w),
            _ => end(w),
        }
        resolve(env, deferred, &step);
    }
    // The calls below: the scopes opened above, closed in reverse
    // order; an exception the microtasks left is reported as Node reports
    // one thrown from an I/O callback ('uncaughtException').
    // SAFETY: see the comment above these calls.
    unsafe { sys::napi_close_callback_scope(env, cs) };
    let mut pending = false;
    // SAFETY: see the comment above these calls.
    unsafe { sys::napi_is_exception_pending(env, &raw mut pending) };
    if pending {
        let mut err = ptr::null_mut();
        // SAFETY: see the comment above these calls.
        unsafe { sys::napi_get_and_clear_last_exception(env, &raw mut err) };
        // SAFETY: see the comment above these calls.
        unsafe { sys::napi_fatal_exception(env, err) };
    }
    // SAFETY: see the comment above these calls.
    unsafe { sys::napi_close_handle_scope(env, hs) };
}

/// Ends the pending wait `id` of `ids` (it settles as cancelled); unknown
/// ids are ignored. Runs inside a JavaScript call: no scope of its own.
pub(crate) fn cancel(env: &Env, ids: Ids, id: u32) {
    let Some(w) = with(|s| s.by_id.remove(&(ids, id)).and_then(|t| s.waits.remove(&t))).flatten() else {
        return;
    };
    let mut w = w;
    let step = (w.job)(env, Event::Cancelled);
    let deferred = w.deferred;
    end(w);
    resolve(env.raw(), deferred, &step);
}

/// A timeout in milliseconds from JavaScript (negative: none). One too long
/// for a `Duration` waits for ever too.
pub(crate) fn timeout(ms: f64) -> Option<Duration> {
    if ms < 0.0 {
        None
    } else {
        Duration::try_from_secs_f64(ms / 1000.0).ok()
    }
}

fn ms_ceil(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// Why a wait failed.
pub(crate) enum Fail {
    /// The operation failed (the core's error).
    Core(dmabuf::Error),
    /// A system call of the wait itself failed: (call, errno).
    Sys(&'static str, i32),
}

/// `poll` with a zero timeout: `Some(())` once `fd` is ready for `interest`
/// (readable: `POLLIN`, prioritized: `POLLPRI`, else `POLLOUT`), or reports
/// an error or hang-up.
/// An attempt for [`spawn`].
pub(crate) fn polled(fd: BorrowedFd<'_>, interest: Interest) -> std::result::Result<Option<()>, Fail> {
    let events = if interest.is_readable() {
        nix::poll::PollFlags::POLLIN
    } else if interest == Interest::PRIORITIZED {
        nix::poll::PollFlags::POLLPRI
    } else {
        nix::poll::PollFlags::POLLOUT
    };
    let mut fds = [nix::poll::PollFd::new(fd.as_fd(), events)];
    loop {
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) {
            Ok(n) => return Ok((n > 0).then_some(())),
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Fail::Sys("poll", e as i32)),
        }
    }
}

/// How a wait ended, short of failing.
pub(crate) enum Outcome<T> {
    Done(T),
    TimedOut,
    Cancelled,
}

/// A Promise of `method` that runs `attempt` on `io` (which owns a
/// duplicate fd) until it answers something: once now when `first` (and
/// the fast path is open: [`fresh`]), then each time `io` polls ready for
/// `interest`, and once more when `limit` passes (so an operation done wins
/// over a timeout also due, as with `wait(0)`), racing a cancel of
/// `(ids, id)`. Readiness is only a hint; `attempt` is the truth (`None`:
/// not yet). `settle` turns the outcome into the value the Promise resolves
/// with; a [`Fail`] rejects it with a Node-style error. Never throws: every
/// failure, the wait's own included, is a rejection.
#[allow(clippy::too_many_arguments)] // Reason: one call shape for every wait family.
pub(crate) fn spawn<'e, F, T, V>(
    env: &'e Env,
    method: &'static str,
    (ids, id): (Ids, u32),
    limit: Option<Duration>,
    io: F,
    interest: Interest,
    first: bool,
    mut attempt: impl FnMut(&F) -> std::result::Result<Option<T>, Fail> + 'static,
    settle: impl FnOnce(&Env, Outcome<T>) -> Result<V> + 'static,
) -> Result<PromiseRaw<'e, V>>
where
    F: Io,
    T: 'static,
    V: ToNapiValue + 'static,
{
    let raw = env.raw();
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: valid out pointers on this thread's env.
    check(unsafe { sys::napi_create_promise(raw, &raw mut deferred, &raw mut promise) }, "create promise")?;
    let out = PromiseRaw::new(raw, promise);
    let mut settle = Some(settle);
    let mut finish = move |env: &Env, o: std::result::Result<Outcome<T>, Fail>| -> Step {
        let r = match o {
            Ok(o) => match settle.take() {
                Some(f) => f(env, o).and_then(|v| {
                    // SAFETY: a value made in the current scope of this env.
                    unsafe { V::to_napi_value(env.raw(), v) }
                }),
                None => return Step::Wait,
            },
            Err(f) => Err(fail(env, method, f)),
        };
        match r {
            Ok(v) => Step::Resolve(v),
            // SAFETY: this env's thread; reuses the JS error object when it is one.
            Err(e) => Step::Reject(unsafe { JsError::from(e).into_value(env.raw()) }),
        }
    };
    if let Err(e) = init(env) {
        // SAFETY: this env's thread.
        resolve(raw, deferred, &Step::Reject(unsafe { JsError::from(e).into_value(raw) }));
        return Ok(out);
    }
    if first && fresh(env) {
        let step = match attempt(&io) {
            Ok(None) => Step::Wait,
            Ok(Some(v)) => finish(env, Ok(Outcome::Done(v))),
            Err(f) => finish(env, Err(f)),
        };
        if !matches!(step, Step::Wait) {
            resolve(raw, deferred, &step);
            return Ok(out);
        }
    }
    let fd = io.as_raw_fd();
    let io = Rc::new(io);
    let linger = io.linger().map(|k| (k, Rc::clone(&io) as Rc<dyn Any>));
    let job: Job = Box::new(move |env, ev| match ev {
        Event::Ready(status) => match attempt(&*io) {
            Ok(Some(v)) => finish(env, Ok(Outcome::Done(v))),
            // libuv stopped the handle on an error it reported: end the wait.
            Ok(None) if status < 0 => finish(env, Err(Fail::Sys("poll", -status))),
            Ok(None) => Step::Wait,
            Err(f) => finish(env, Err(f)),
        },
        Event::TimedOut => match attempt(&*io) {
            Ok(Some(v)) => finish(env, Ok(Outcome::Done(v))),
            Ok(None) => finish(env, Ok(Outcome::TimedOut)),
            Err(f) => finish(env, Err(f)),
        },
        Event::Cancelled => finish(env, Ok(Outcome::Cancelled)),
    });
    if let Err((op, errno)) = register((ids, id), limit, fd, interest, deferred, job, linger) {
        let e = fail(env, method, Fail::Sys(op, errno));
        // SAFETY: this env's thread; the error object made just now.
        resolve(raw, deferred, &Step::Reject(unsafe { JsError::from(e).into_value(raw) }));
    }
    Ok(out)
}

/// Starts watching `fd` (and the timer) for a wait; on failure, the call
/// and errno that refused.
fn register(
    key: (Ids, u32),
    limit: Option<Duration>,
    fd: i32,
    interest: Interest,
    deferred: sys::napi_deferred,
    job: Job,
    linger: Option<(usize, Rc<dyn Any>)>,
) -> std::result::Result<(), (&'static str, i32)> {
    let Some((lp, token)) = with(|s| {
        s.next = s.next.wrapping_add(1);
        (!s.ending).then_some((s.lp, s.next))
    })
    .flatten() else {
        return Err(("uv_poll_init", nix::libc::ECANCELED));
    };
    let idle = linger.as_ref().and_then(|(k, _)| with(|s| s.idle.remove(k)).flatten());
    let same = idle.as_ref().is_some_and(|i| i.interest == interest);
    let (poll, dup) = match idle {
        Some(i) => {
            // The handle a wait on this socket left in this loop turn: take
            // it over (i.poll is an initialized, started poll handle of ours).
            // SAFETY: see the comment above.
            unsafe { uv::uv_handle_set_data(i.poll, token as *mut std::ffi::c_void) };
            // SAFETY: see the comment above.
            unsafe { uv::uv_ref(i.poll) };
            (i.poll, None)
        }
        None => new_poll(lp, fd, token)?,
    };
    // SAFETY: initialized above.
    let r = if same { 0 } else { unsafe { uv::uv_poll_start(poll, interest.0, on_poll) } };
    if r < 0 {
        close(poll);
        return Err(("uv_poll_start", -r));
    }
    let deadline = limit.and_then(|l| Instant::now().checked_add(l));
    let timer = match (deadline, limit) {
        (Some(_), Some(l)) => {
            let Some(t) = uv::alloc(uv::UV_TIMER, token) else {
                close(poll);
                return Err(("uv_timer_init", nix::libc::ENOMEM));
            };
            // Both calls below: fresh memory of a timer's size on this loop;
            // timer init cannot fail.
            // SAFETY: see the comment above these calls.
            unsafe { uv::uv_timer_init(lp, t) };
            // SAFETY: see the comment above these calls.
            unsafe { uv::uv_timer_start(t, on_timer, ms_ceil(l), 0) };
            with(|s| s.open += 1);
            t
        }
        _ => ptr::null_mut(),
    };
    with(|s| {
        // An id still pending when reused (after 2^32 waits) keeps waiting
        // but can no longer be cancelled.
        s.by_id.insert(key, token);
        s.waits.insert(token, Wait { key, poll, interest, timer, deadline, deferred, job, dup, linger });
    });
    Ok(())
}

/// A new poll handle on `fd` (or on a duplicate of it, returned too, when
/// another handle of this loop watches `fd`).
fn new_poll(
    lp: *mut Loop,
    fd: i32,
    token: usize,
) -> std::result::Result<(*mut Handle, Option<OwnedFd>), (&'static str, i32)> {
    let poll = uv::alloc(uv::UV_POLL, token).ok_or(("uv_poll_init", nix::libc::ENOMEM))?;
    // SAFETY: `poll` is fresh memory of a poll handle's size; `fd` is the
    // job's (its own duplicate, or a socket its `Arc` keeps open), open until
    // the job is dropped after the handle is closed.
    let mut r = unsafe { uv::uv_poll_init(lp, poll, fd) };
    let mut dup = None;
    if r == -nix::libc::EEXIST {
        // Another wait watches this fd (a send and a receive on one socket).
        match dmabuf::dup_raw_fd(fd) {
            Ok(d) => {
                // SAFETY: as above, on the duplicate, which the wait keeps.
                r = unsafe { uv::uv_poll_init(lp, poll, d.as_raw_fd()) };
                dup = Some(d);
            }
            Err(e) => r = -(e.errno() as i32),
        }
    }
    if r < 0 {
        // SAFETY: init failed before the handle joined the loop.
        unsafe { uv::free_on_close(poll) };
        return Err(("uv_poll_init", -r));
    }
    with(|s| s.open += 1);
    Ok((poll, dup))
}

/// [`spawn`] of a wait until `fd` polls ready for `interest`: resolves true
/// once ready, false on the timeout, null once cancelled.
pub(crate) fn ready<'e>(
    env: &'e Env,
    method: &'static str,
    id: (Ids, u32),
    limit: Option<Duration>,
    fd: OwnedFd,
    interest: Interest,
    first: bool,
) -> Result<PromiseRaw<'e, Option<bool>>> {
    spawn(
        env,
        method,
        id,
        limit,
        fd,
        interest,
        first,
        move |fd| polled(fd.as_fd(), interest),
        |_, outcome| {
            Ok(match outcome {
                Outcome::Done(()) => Some(true),
                Outcome::TimedOut => Some(false),
                Outcome::Cancelled => None,
            })
        },
    )
}

/// The Node-style error for a failed wait of `method`.
fn fail(env: &Env, method: &str, f: Fail) -> Error {
    match f {
        Fail::Core(e) => os(env, method, &e),
        Fail::Sys(op, errno) => {
            let errno = nix::errno::Errno::from_raw(errno);
            let name = dmabuf::error::errno_name(errno);
            let mut e = JsErr::new(Ctor::Error, name, format!("{name}: {}, {method}", errno.desc()));
            e.errno = Some(-(errno as i32));
            e.syscall = Some(op.into());
            js::to_napi(env, e)
        }
    }
}
