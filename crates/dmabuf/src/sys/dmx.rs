//! `<linux/dvb/dmx.h>`: the DVB demux's filters and its memory-mapped
//! buffer API (`DMX_REQBUFS` ... `DMX_DQBUF`, Linux 4.16, only in kernels
//! built with `CONFIG_DVB_MMAP`).

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::{adopt, ioctls};
use crate::error::{Error, Result};

/// `DMX_FILTER_SIZE`: bytes of a section filter.
pub(crate) const DMX_FILTER_SIZE: usize = 16;

/// `struct dmx_filter`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmxFilter {
    pub filter: [u8; DMX_FILTER_SIZE],
    pub mask: [u8; DMX_FILTER_SIZE],
    pub mode: [u8; DMX_FILTER_SIZE],
}

/// `struct dmx_sct_filter_params`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmxSctFilterParams {
    pub pid: u16,
    pub filter: DmxFilter,
    pub timeout: u32,
    pub flags: u32,
}

/// `struct dmx_pes_filter_params` (the three enums are C `int`s).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmxPesFilterParams {
    pub pid: u16,
    pub input: u32,
    pub output: u32,
    pub pes_type: u32,
    pub flags: u32,
}

/// `struct dmx_buffer`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DmxBuffer {
    pub index: u32,
    pub bytesused: u32,
    pub offset: u32,
    pub length: u32,
    pub flags: u32,
    pub count: u32,
}

/// `struct dmx_requestbuffers`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmxRequestBuffers {
    pub count: u32,
    pub size: u32,
}

/// `struct dmx_exportbuffer`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DmxExportBuffer {
    pub index: u32,
    pub flags: u32,
    pub fd: i32,
}

// The sizes the header gives on every architecture (no pointers, no longs).
const _: () = assert!(size_of::<DmxFilter>() == 48);
const _: () = assert!(size_of::<DmxSctFilterParams>() == 60);
const _: () = assert!(size_of::<DmxPesFilterParams>() == 20);
const _: () = assert!(size_of::<DmxBuffer>() == 24);
const _: () = assert!(size_of::<DmxRequestBuffers>() == 8);
const _: () = assert!(size_of::<DmxExportBuffer>() == 12);

const DMX_MAGIC: u8 = b'o';

ioctls! {
    none DMX_START = raw_start(DMX_MAGIC, 41, ());
    none DMX_STOP = raw_stop(DMX_MAGIC, 42, ());
    write DMX_SET_FILTER = raw_set_filter(DMX_MAGIC, 43, DmxSctFilterParams);
    write DMX_SET_PES_FILTER = raw_set_pes_filter(DMX_MAGIC, 44, DmxPesFilterParams);
    write_int DMX_SET_BUFFER_SIZE = raw_set_buffer_size(DMX_MAGIC, 45, ());
    readwrite DMX_REQBUFS = raw_reqbufs(DMX_MAGIC, 60, DmxRequestBuffers);
    readwrite DMX_QUERYBUF = raw_querybuf(DMX_MAGIC, 61, DmxBuffer);
    readwrite DMX_EXPBUF = raw_expbuf(DMX_MAGIC, 62, DmxExportBuffer);
    readwrite DMX_QBUF = raw_qbuf(DMX_MAGIC, 63, DmxBuffer);
    readwrite DMX_DQBUF = raw_dqbuf(DMX_MAGIC, 64, DmxBuffer);
}

fn fail(op: &'static str, fd: BorrowedFd<'_>) -> impl FnOnce(nix::errno::Errno) -> Error {
    let raw = fd.as_raw_fd();
    move |e| Error::os(op, Some(raw), e)
}

/// `DMX_START`.
pub(crate) fn start(fd: BorrowedFd<'_>) -> Result<()> {
    // SAFETY: DMX_START takes no argument.
    let r = unsafe { raw_start(fd.as_raw_fd()) };
    r.map(drop).map_err(fail("DMX_START", fd))
}

/// `DMX_STOP`.
pub(crate) fn stop(fd: BorrowedFd<'_>) -> Result<()> {
    // SAFETY: DMX_STOP takes no argument.
    let r = unsafe { raw_stop(fd.as_raw_fd()) };
    r.map(drop).map_err(fail("DMX_STOP", fd))
}

/// `DMX_SET_FILTER`.
pub(crate) fn set_filter(fd: BorrowedFd<'_>, params: &DmxSctFilterParams) -> Result<()> {
    // SAFETY: `params` is a valid dmx_sct_filter_params the kernel only reads.
    let r = unsafe { raw_set_filter(fd.as_raw_fd(), params) };
    r.map(drop).map_err(fail("DMX_SET_FILTER", fd))
}

/// `DMX_SET_PES_FILTER`.
pub(crate) fn set_pes_filter(fd: BorrowedFd<'_>, params: &DmxPesFilterParams) -> Result<()> {
    // SAFETY: `params` is a valid dmx_pes_filter_params the kernel only reads.
    let r = unsafe { raw_set_pes_filter(fd.as_raw_fd(), params) };
    r.map(drop).map_err(fail("DMX_SET_PES_FILTER", fd))
}

/// `DMX_SET_BUFFER_SIZE`: the size of the filter's ring buffer (the
/// `read()` path), passed by value.
pub(crate) fn set_buffer_size(fd: BorrowedFd<'_>, size: i32) -> Result<()> {
    // SAFETY: the argument is a plain integer, not a pointer.
    let r = unsafe { raw_set_buffer_size(fd.as_raw_fd(), size) };
    r.map(drop).map_err(fail("DMX_SET_BUFFER_SIZE", fd))
}

/// `DMX_REQBUFS`: the count and size the kernel granted.
pub(crate) fn reqbufs(fd: BorrowedFd<'_>, count: u32, size: u32) -> Result<DmxRequestBuffers> {
    let mut arg = DmxRequestBuffers { count, size };
    // SAFETY: `arg` is a valid, writable dmx_requestbuffers.
    let r = unsafe { raw_reqbufs(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(fail("DMX_REQBUFS", fd))?;
    Ok(arg)
}

/// `DMX_QUERYBUF`.
pub(crate) fn querybuf(fd: BorrowedFd<'_>, index: u32) -> Result<DmxBuffer> {
    let mut arg = DmxBuffer { index, ..DmxBuffer::default() };
    // SAFETY: `arg` is a valid, writable dmx_buffer.
    let r = unsafe { raw_querybuf(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(fail("DMX_QUERYBUF", fd))?;
    Ok(arg)
}

/// `DMX_EXPBUF`: buffer `index` as a new dma-buf fd, opened with `flags`
/// (`O_CLOEXEC` and an access mode).
pub(crate) fn expbuf(fd: BorrowedFd<'_>, index: u32, flags: u32) -> Result<OwnedFd> {
    let mut arg = DmxExportBuffer { index, flags, fd: -1 };
    // SAFETY: `arg` is a valid, writable dmx_exportbuffer.
    let r = unsafe { raw_expbuf(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(fail("DMX_EXPBUF", fd))?;
    // SAFETY: on success the kernel installed a new fd (close-on-exec: the
    // caller's flags say so) that nothing else owns.
    Ok(unsafe { adopt(arg.fd) })
}

/// `DMX_QBUF`.
pub(crate) fn qbuf(fd: BorrowedFd<'_>, index: u32) -> Result<()> {
    let mut arg = DmxBuffer { index, ..DmxBuffer::default() };
    // SAFETY: `arg` is a valid, writable dmx_buffer.
    let r = unsafe { raw_qbuf(fd.as_raw_fd(), &raw mut arg) };
    r.map(drop).map_err(fail("DMX_QBUF", fd))
}

/// `DMX_DQBUF`: the filled buffer (`EAGAIN` on a non-blocking fd when
/// none is ready).
pub(crate) fn dqbuf(fd: BorrowedFd<'_>) -> Result<DmxBuffer> {
    let mut arg = DmxBuffer::default();
    // SAFETY: `arg` is a valid, writable dmx_buffer.
    let r = unsafe { raw_dqbuf(fd.as_raw_fd(), &raw mut arg) };
    r.map_err(fail("DMX_DQBUF", fd))?;
    Ok(arg)
}
