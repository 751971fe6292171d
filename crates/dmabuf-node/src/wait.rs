//! The one way this binding waits on an fd: a duplicate of it registered
//! with the tokio reactor's epoll, an operation tried before the wait and
//! after each wake-up, an optional timeout, and a cancel id that
//! JavaScript's `AbortSignal` (or `close()`) ends the wait with. No thread
//! waits per pending operation. `SyncFile.wait`, `V4l2Device.dequeue`,
//! `DvbDemux.dequeue` and the `Channel` operations all go through here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use napi::bindgen_prelude::*;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;

use crate::errors::os;
use crate::js::{self, Ctor, JsErr};

/// Whose cancel function an id belongs to: each JavaScript function that
/// cancels (`syncCancelWait`, `v4l2CancelWait`, `dvbCancelDequeue`,
/// `chanCancel`) ends only the waits started by its own family.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ids {
    Sync,
    V4l2,
    Dvb,
    Chan,
}

thread_local! {
    /// Pending waits that JavaScript may cancel, by family and id.
    static CANCEL: RefCell<HashMap<(Ids, u32), oneshot::Sender<()>>> = RefCell::new(HashMap::new());
}

/// Ends the pending wait `id` of `ids` (it settles as cancelled); unknown
/// ids are ignored.
pub(crate) fn cancel(ids: Ids, id: u32) {
    if let Some(tx) = CANCEL.with(|c| c.borrow_mut().remove(&(ids, id))) {
        let _ = tx.send(());
    }
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

/// Why a wait failed.
pub(crate) enum Fail {
    /// The operation failed (the core's error).
    Core(dmabuf::Error),
    /// A system call of the wait itself failed: (call, errno).
    Sys(&'static str, i32),
}

fn sys(op: &'static str) -> impl Fn(std::io::Error) -> Fail {
    move |e| Fail::Sys(op, e.raw_os_error().unwrap_or(nix::libc::EIO))
}

/// Runs `attempt` until it answers something, waiting on the reactor for
/// `interest` on `io` (which owns a duplicate fd) in between. `attempt`
/// runs once before the fd is registered and again after every wake-up:
/// readiness is edge-triggered and may be stale, so `attempt` is the truth.
pub(crate) async fn drive<F: AsRawFd, T>(
    io: F,
    interest: Interest,
    mut attempt: impl FnMut(&F) -> std::result::Result<Option<T>, Fail>,
) -> std::result::Result<T, Fail> {
    if let Some(v) = attempt(&io)? {
        return Ok(v);
    }
    // SAFETY: `io` owns its fd and moves into the AsyncFd, so the fd stays
    // open and the same for the AsyncFd's whole life.
    let afd = unsafe { AsyncFd::register_with_interest(io, interest) }
        .map_err(|e| Fail::Sys("epoll_ctl", e.into_parts().1.raw_os_error().unwrap_or(nix::libc::EIO)))?;
    loop {
        let mut guard = afd.ready(interest).await.map_err(sys("epoll_wait"))?;
        if let Some(v) = attempt(afd.get_ref())? {
            return Ok(v);
        }
        guard.clear_ready();
    }
}

/// `poll` with a zero timeout: `Some(())` once `fd` is ready for `interest`
/// (readable: `POLLIN`, else `POLLOUT`). An `attempt` for [`drive`].
pub(crate) fn polled(fd: BorrowedFd<'_>, interest: Interest) -> std::result::Result<Option<()>, Fail> {
    let events = if interest.is_readable() { nix::poll::PollFlags::POLLIN } else { nix::poll::PollFlags::POLLOUT };
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

/// Spawns `op` on the reactor as a Promise of `method`, racing it against
/// `limit` (none: no timeout) and a cancel of `(ids, id)`; in that order, so
/// that an operation done wins over a timeout also due (`wait(0)`) and over
/// a cancel in the same tick. `settle` turns the outcome into the value the
/// Promise resolves with; a [`Fail`] rejects it with a Node-style error.
pub(crate) fn spawn<'e, T, V>(
    env: &'e Env,
    method: &'static str,
    (ids, id): (Ids, u32),
    limit: Option<Duration>,
    op: impl Future<Output = std::result::Result<T, Fail>> + Send + 'static,
    settle: impl FnOnce(&'e Env, Outcome<T>) -> Result<V> + 'static,
) -> Result<PromiseRaw<'e, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
{
    let (tx, rx) = oneshot::channel::<()>();
    CANCEL.with(|c| c.borrow_mut().insert((ids, id), tx));
    let fut = async move {
        let timer = async {
            match limit.and_then(|l| tokio::time::Instant::now().checked_add(l)) {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending::<()>().await,
            }
        };
        let cancelled = async {
            // A dropped sender (the wait settled) must not count as a cancel.
            if rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        Ok(tokio::select! {
            biased;
            r = op => r.map(Outcome::Done),
            () = timer => Ok(Outcome::TimedOut),
            () = cancelled => Ok(Outcome::Cancelled),
        })
    };
    env.spawn_future_with_callback(fut, move |env, r| {
        CANCEL.with(|c| c.borrow_mut().remove(&(ids, id)));
        match r {
            Ok(outcome) => settle(env, outcome),
            Err(f) => Err(fail(env, method, f)),
        }
    })
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
) -> Result<PromiseRaw<'e, Option<bool>>> {
    let op = drive(fd, interest, move |fd| polled(fd.as_fd(), interest));
    spawn(env, method, id, limit, op, |_, outcome| {
        Ok(match outcome {
            Outcome::Done(()) => Some(true),
            Outcome::TimedOut => Some(false),
            Outcome::Cancelled => None,
        })
    })
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
