//! GStreamer's `unixfd` protocol (`unixfdsink` / `unixfdsrc`, GStreamer
//! 1.24 and later): buffers whose memories are fds (memfd or dma-buf)
//! passed between processes over a Unix stream socket with `SCM_RIGHTS`.
//!
//! [`wire`] is the message format alone (encoding and checked decoding, no
//! I/O); [`Client`] and [`Sink`] are the two roles with blocking calls; and
//! [`channel`] and [`decode`] are the pieces for callers that wait on their
//! own event loop (the Node binding): a [`Channel`](crate::fdpass::Channel)
//! in `unixfd` framing, and a received message checked into a command.
//!
//! On the wire each command is one `sendmsg`: an 8-byte header, the command
//! type and the payload's length (two `u32` in the host's byte order; the
//! plugin fixes the header's size on 32- and 64-bit hosts alike), then the
//! payload. The fds of a `NEW_BUFFER`, one per memory, travel with that
//! `sendmsg`. A sink sends `CAPS` first to each client that connects, then
//! `NEW_BUFFER`s and, at the end, `EOS`; a client answers each buffer with
//! `RELEASE_BUFFER` once it is done with it, and the sink keeps the buffer
//! (for that client) until then.

pub mod client;
pub mod sink;
pub mod wire;

pub use client::{channel, decode, Client, Received};
pub use sink::{Sink, SinkConnection};
