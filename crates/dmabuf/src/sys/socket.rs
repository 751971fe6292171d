//! `<sys/socket.h>`: `sendmsg` and `recvmsg` with `SCM_RIGHTS`, written
//! against libc because the received control message must be read even when
//! the kernel truncated it (`MSG_CTRUNC`): the fds that did arrive are
//! installed in this process and must be closed, and `nix`'s iterator refuses
//! to walk a truncated buffer.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::adopt;

/// `SCM_MAX_FD` in `include/net/scm.h`: the most fds one message may carry.
pub(crate) const SCM_MAX_FD: usize = 253;

/// Bytes of control buffer for `n` fds (`CMSG_SPACE`).
fn cmsg_space(n: usize) -> usize {
    let bytes = u32::try_from(n * size_of::<RawFd>()).unwrap_or(u32::MAX);
    // SAFETY: CMSG_SPACE is arithmetic on its argument.
    let space = unsafe { libc::CMSG_SPACE(bytes) };
    space as usize
}

/// `sendmsg(MSG_NOSIGNAL | MSG_DONTWAIT)` of `data` with `fds` attached as
/// one `SCM_RIGHTS` control message (none when `fds` is empty). Returns the
/// number of bytes the kernel took (a stream socket may take fewer).
pub(crate) fn send(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> Result<usize, Errno> {
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let mut control = vec![0u8; if raw.is_empty() { 0 } else { cmsg_space(raw.len()) }];
    let iov = [IoSlice::new(data)];
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_ptr().cast_mut().cast();
    msg.msg_iovlen = 1;
    if !raw.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
        // SAFETY: the control buffer holds CMSG_SPACE(fds) bytes, so the first header fits.
        let cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
        if cmsg.is_null() {
            return Err(Errno::EINVAL);
        }
        let len = u32::try_from(raw.len() * size_of::<RawFd>()).map_err(|_| Errno::EINVAL)?;
        // SAFETY: CMSG_LEN is arithmetic on its argument.
        let cmsg_len = unsafe { libc::CMSG_LEN(len) };
        // SAFETY: `cmsg` points into `control`, sized for this header and its data.
        let header = unsafe { &mut *cmsg };
        header.cmsg_level = libc::SOL_SOCKET;
        header.cmsg_type = libc::SCM_RIGHTS;
        header.cmsg_len = cmsg_len as _;
        // SAFETY: the data part of this header is inside `control` and has room for `raw`.
        let dst = unsafe { libc::CMSG_DATA(cmsg) };
        // SAFETY: `dst` has room for `raw.len()` fds (CMSG_SPACE above); the regions do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(raw.as_ptr().cast::<u8>(), dst, raw.len() * size_of::<RawFd>()) };
    }
    loop {
        // SAFETY: `msg` points at `iov` and `control`, both alive for the call.
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &raw const msg, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT) };
        match Errno::result(n) {
            Ok(n) => return Ok(n.unsigned_abs()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// What one `recvmsg` brought.
pub(crate) struct Received {
    /// Bytes read into the buffer; 0 at end of stream.
    pub bytes: usize,
    /// The fds that arrived, owned (close-on-exec: `MSG_CMSG_CLOEXEC`).
    pub fds: Vec<OwnedFd>,
    /// `MSG_CTRUNC`: more fds were sent than the buffer allowed; the kernel
    /// closed the rest.
    pub fds_truncated: bool,
    /// `MSG_TRUNC`: a datagram was longer than the buffer (the rest is lost).
    pub data_truncated: bool,
}

/// `recvmsg(MSG_CMSG_CLOEXEC | MSG_DONTWAIT)` into `buf`, with room for
/// `max_fds` fds. Every fd that arrives is owned on return, including those
/// of a truncated control message.
pub(crate) fn recv(sock: BorrowedFd<'_>, buf: &mut [u8], max_fds: usize) -> Result<Received, Errno> {
    // Room for at least one fd, so that a message with fds where none are
    // allowed still reports MSG_CTRUNC instead of dropping them silently.
    let mut control = vec![0u8; cmsg_space(max_fds.max(1))];
    let mut iov = [IoSliceMut::new(buf)];
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr().cast();
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len() as _;
    let n = loop {
        // SAFETY: `msg` points at `iov` and `control`, both alive for the call.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &raw mut msg, libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) };
        match Errno::result(n) {
            Ok(n) => break n.unsigned_abs(),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    };
    let mut fds = Vec::new();
    // SAFETY: `msg` was filled by the kernel; msg_controllen covers what it wrote.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
    while !cmsg.is_null() {
        // SAFETY: a non-null header from CMSG_FIRSTHDR/NXTHDR lies inside `control`.
        let header = unsafe { &*cmsg };
        if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_RIGHTS {
            // SAFETY: CMSG_LEN(0) is arithmetic.
            let head = unsafe { libc::CMSG_LEN(0) } as usize;
            let count = (header.cmsg_len as usize).saturating_sub(head) / size_of::<RawFd>();
            // SAFETY: the data of this header lies inside `control`.
            let data = unsafe { libc::CMSG_DATA(cmsg) };
            for i in 0..count {
                // SAFETY: `i < count`, so this offset lies in this header's data.
                let at = unsafe { data.add(i * size_of::<RawFd>()) };
                let mut bytes = [0u8; size_of::<RawFd>()];
                // SAFETY: `at` has `size_of::<RawFd>()` readable bytes (unaligned: copied bytewise).
                unsafe { std::ptr::copy_nonoverlapping(at, bytes.as_mut_ptr(), bytes.len()) };
                let fd = RawFd::from_ne_bytes(bytes);
                // SAFETY: SCM_RIGHTS just installed this fd in our table; nobody else owns it.
                fds.push(unsafe { adopt(fd) });
            }
        }
        // SAFETY: `cmsg` is a header of `msg`'s control buffer.
        cmsg = unsafe { libc::CMSG_NXTHDR(&raw const msg, cmsg) };
    }
    Ok(Received {
        bytes: n,
        fds,
        fds_truncated: msg.msg_flags & libc::MSG_CTRUNC != 0,
        data_truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
    })
}
