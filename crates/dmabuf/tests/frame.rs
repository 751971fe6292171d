//! `Frame` over real dma-bufs (udmabuf and the system heap): what it
//! accepts, what it refuses with which message, and that no fd is lost or
//! closed twice on either path. Needs the devices: ignored on a bare host,
//! run by the VM tier.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps are fine (the cast is in the shared `common`).
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use std::os::fd::{AsFd, AsRawFd};

use common::{assert_no_fd_leak, open_fds, serial, system_heap, udmabuf};
use dmabuf::frame::FrameError;
use dmabuf::{Access, DmaBuf, ErrorKind, Fourcc, Frame, FramePlane, Modifier};

fn raw(b: &DmaBuf) -> i32 {
    b.as_fd().as_raw_fd()
}

/// The refusal of `Frame::new`, checked to hand back `n` open planes.
fn refused(r: Result<Frame, FrameError>, n: usize) -> (String, Vec<FramePlane>) {
    let e = r.expect_err("the frame should be refused");
    assert_eq!(e.error.kind(), ErrorKind::InvalidArgument);
    assert_eq!(e.error.code(), "EINVAL");
    assert_eq!(e.planes.len(), n);
    for p in &e.planes {
        // Still open: the kernel answers for it.
        p.buf.info().unwrap();
    }
    (e.error.to_string(), e.planes)
}

// NV12 640x480 in one udmabuf: luma at 0, chroma at 640*480 through a
// duplicate fd of the same buffer. The frame owns both fds and closes them.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn nv12_in_one_buffer_with_two_offsets() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(640 * 480 * 3 / 2).unwrap(); // rounded up to pages
        let before = open_fds();
        let chroma = buf.try_clone().unwrap();
        assert_eq!(buf.info().unwrap().inode, chroma.info().unwrap().inode);
        let planes = vec![FramePlane::new(buf, 0, 640), FramePlane::new(chroma, 640 * 480, 640)];
        let frame = Frame::new(640, 480, Fourcc::NV12, Modifier::LINEAR, planes).unwrap();
        assert_eq!(open_fds(), before + 1, "the frame holds the two fds, nothing more");
        assert_eq!(
            (frame.width(), frame.height(), frame.fourcc(), frame.modifier()),
            (640, 480, Fourcc::NV12, Modifier::LINEAR)
        );
        assert_eq!(frame.planes().iter().map(|p| (p.offset, p.pitch)).collect::<Vec<_>>(), [(0, 640), (307_200, 640)]);
        assert_eq!(frame.format_info().unwrap().planes, 2);
        assert_eq!(frame.drm_format().to_string(), "NV12");
        let copy = frame.try_clone().unwrap();
        assert_eq!(open_fds(), before + 3);
        assert_eq!(copy.planes()[1].buf.info().unwrap().inode, frame.planes()[0].buf.info().unwrap().inode);
        drop(copy);
        assert_eq!(open_fds(), before + 1);
        let planes = frame.into_planes();
        assert_eq!(planes.len(), 2);
        drop(planes);
        assert_eq!(open_fds(), before - 1);
    });
}

// The largest exact fit passes; one more row of chroma does not.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn exact_fit_passes_one_byte_over_fails() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(16384).unwrap();
        let size = buf.size();
        // XRGB8888 rows of 512 bytes (width 100 needs 400) filling the buffer exactly.
        let rows = u32::try_from(size / 512).unwrap();
        let frame =
            Frame::new(100, rows, Fourcc::XRGB8888, Modifier::LINEAR, vec![FramePlane::new(buf, 0, 512)]).unwrap();
        let mut planes = frame.into_planes();
        planes[0].offset = 1;
        let fd = raw(&planes[0].buf);
        let (msg, _) = refused(Frame::new(100, rows, Fourcc::XRGB8888, Modifier::LINEAR, planes), 1);
        assert_eq!(
            msg,
            format!(
                "Frame::new on fd {fd}: plane 0: offset 1 + pitch 512 x {rows} rows = {} is past the end of its \
                 {size}-byte dma-buf (EINVAL)",
                size + 1
            )
        );
    });
}

// Luma in a udmabuf, chroma in a system-heap buffer: two different buffers.
#[test]
#[ignore = "needs /dev/udmabuf and /dev/dma_heap/system (run in the VM tier: npm test)"]
fn nv12_in_two_buffers() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let luma = udmabuf().alloc(320 * 240).unwrap();
        let chroma = system_heap().alloc(320 * 120, Access::ReadWrite).unwrap();
        assert_ne!(luma.info().unwrap().inode, chroma.info().unwrap().inode);
        let planes = vec![FramePlane::new(luma, 0, 320), FramePlane::new(chroma, 0, 320)];
        let frame = Frame::new(320, 240, Fourcc::NV12, Modifier::LINEAR, planes).unwrap();
        assert_eq!(frame.planes()[1].buf.info().unwrap().exporter, "system");
    });
}

// Each refusal names the plane, the fd and the numbers, and hands the
// planes back open; dropping them then closes every fd.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn refusals_name_the_plane_and_the_numbers() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let buf = udmabuf().alloc(8192).unwrap();
        let size = buf.size();
        let size32 = u32::try_from(size).unwrap();
        let two = |buf: DmaBuf, offset: u32, pitch: u32| {
            let c = buf.try_clone().unwrap();
            vec![FramePlane::new(buf, 0, 64), FramePlane::new(c, offset, pitch)]
        };

        // Pitch too small: NV12 64 wide needs 64 bytes of CbCr a row.
        let planes = two(buf, 4096, 32);
        let fd1 = raw(&planes[1].buf);
        let (msg, planes) = refused(Frame::new(64, 48, Fourcc::NV12, Modifier::LINEAR, planes), 2);
        assert_eq!(
            msg,
            format!(
                "Frame::new on fd {fd1}: plane 1: pitch 32 is less than a row of NV12 at width 64 (64 bytes) (EINVAL)"
            )
        );

        // Offset past the end: the chroma plane 1000 bytes before the end needs 64 x 24.
        let mut planes = planes;
        planes[1].offset = size32 - 1000;
        planes[1].pitch = 64;
        let (msg, planes) = refused(Frame::new(64, 48, Fourcc::NV12, Modifier::LINEAR, planes), 2);
        assert_eq!(
            msg,
            format!(
                "Frame::new on fd {fd1}: plane 1: offset {} + pitch 64 x 24 rows = {} is past the end of its \
                 {size}-byte dma-buf (EINVAL)",
                size - 1000,
                size + 536
            )
        );

        // The largest numbers: u64 arithmetic, an error and no overflow.
        let mut planes = planes;
        planes[1].offset = u32::MAX;
        planes[1].pitch = u32::MAX;
        let (msg, planes) = refused(Frame::new(u32::MAX, u32::MAX, Fourcc::NV12, Modifier::LINEAR, planes), 2);
        let fd0 = raw(&planes[0].buf);
        assert_eq!(msg, format!("Frame::new on fd {fd0}: plane 0: pitch 64 is less than a row of NV12 at width 4294967295 (4294967295 bytes) (EINVAL)"));
        let mut planes = planes;
        planes[0].pitch = u32::MAX;
        let (msg, mut planes) = refused(Frame::new(u32::MAX, u32::MAX, Fourcc::NV12, Modifier::LINEAR, planes), 2);
        let end = u64::from(u32::MAX) * u64::from(u32::MAX);
        assert_eq!(msg, format!("Frame::new on fd {fd0}: plane 0: offset 0 + pitch 4294967295 x 4294967295 rows = {end} is past the end of its {size}-byte dma-buf (EINVAL)"));

        // Plane count: NV12 with one plane, XRGB8888 linear with two.
        let second = planes.pop().unwrap();
        let (msg, mut planes) = refused(Frame::new(64, 48, Fourcc::NV12, Modifier::LINEAR, planes), 1);
        assert_eq!(msg, format!("Frame::new on fd {fd0}: 1 planes given; NV12 with modifier LINEAR has 2 (EINVAL)"));
        planes.push(second);
        for p in &mut planes {
            (p.offset, p.pitch) = (0, 64);
        }
        let (msg, planes) = refused(Frame::new(16, 16, Fourcc::XRGB8888, Modifier::LINEAR, planes), 2);
        assert_eq!(
            msg,
            format!(
                "Frame::new on fd {fd0}: 2 planes given; XRGB8888 with modifier LINEAR has 1 (only a non-linear \
                 modifier may add auxiliary planes) (EINVAL)"
            )
        );
        // A non-linear modifier may carry an auxiliary plane, which must
        // still start inside its buffer.
        let ccs = Modifier(0x0100_0000_0000_0004); // I915_FORMAT_MOD_Y_TILED_CCS
        let frame = Frame::new(16, 16, Fourcc::XRGB8888, ccs, planes).unwrap();
        let mut planes = frame.into_planes();
        planes[1].offset = size32;
        let (msg, planes) = refused(Frame::new(16, 16, Fourcc::XRGB8888, ccs, planes), 2);
        assert_eq!(
            msg,
            format!(
                "Frame::new on fd {fd1}: plane 1: offset {size} is past the end of its {size}-byte dma-buf (EINVAL)"
            )
        );

        // No pixels; no planes; five planes.
        let (msg, mut planes) = refused(Frame::new(0, 16, Fourcc::XRGB8888, ccs, planes), 2);
        assert_eq!(msg, format!("Frame::new on fd {fd0}: a 0x16 frame has no pixels (EINVAL)"));
        let e = Frame::new(16, 16, Fourcc::XRGB8888, Modifier::LINEAR, Vec::new()).unwrap_err();
        assert_eq!(e.error.to_string(), "Frame::new: 0 planes given; a frame has 1 to 4 (EINVAL)");
        for _ in 0..3 {
            let c = planes[0].buf.try_clone().unwrap();
            planes.push(FramePlane::new(c, 0, 64));
        }
        let (msg, planes) = refused(Frame::new(16, 16, Fourcc::XRGB8888, ccs, planes), 5);
        assert_eq!(msg, format!("Frame::new on fd {fd0}: 5 planes given; a frame has 1 to 4 (EINVAL)"));

        // A fourcc outside the table: only the starts are checked.
        let mut planes = planes;
        planes.truncate(1);
        let q = Fourcc::from_name("Q123").unwrap();
        let frame = Frame::new(16, 16, q, Modifier::LINEAR, planes).unwrap();
        assert_eq!(frame.fourcc().name(), "Q123");
    });
}
