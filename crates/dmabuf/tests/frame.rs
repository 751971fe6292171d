//! `Frame` over real dma-bufs (udmabuf and the system heap): what it
//! accepts, what it refuses with which message, and that no fd is lost or
//! closed twice on either path; frames of dequeued vivid buffers
//! (`Frame::from_v4l2`). Needs the devices: ignored on a bare host,
//! run by the VM tier.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps are fine (the cast is in the shared `common`);
// short names for queue type, format, buffer and size read best here.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::many_single_char_names)]

mod common;

use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use common::{assert_no_fd_leak, open_fds, serial, system_heap, udmabuf};
use dmabuf::fdpass::{Channel, SocketKind};
use dmabuf::frame::{v4l2_to_drm, FrameError};
use dmabuf::v4l2::{self, fourcc, BufType, BufferInfo, Format, Memory, V4l2Device};
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

/// The vivid node whose sysfs name is `name`, opened.
fn node(name: &str) -> V4l2Device {
    let nodes = v4l2::list().expect("list V4L2 nodes");
    let n = nodes.iter().find(|n| n.name == name).unwrap_or_else(|| {
        panic!("this test needs the vivid node {name} (run it in the VM tier: npm test); found {nodes:?}")
    });
    V4l2Device::open(&n.path).unwrap()
}

/// One frame of `fcc` at `w`x`h` captured on `name`: the format the driver
/// chose, the dequeued buffer, and its planes exported as dma-bufs (which
/// outlive the queue, freed before returning).
fn capture(name: &str, t: BufType, fcc: &str, w: u32, h: u32) -> (Format, BufferInfo, Vec<DmaBuf>) {
    let dev = node(name);
    dev.set_route(false, 0).unwrap();
    let want =
        Format { width: w, height: h, pixelformat: fourcc(fcc).unwrap(), field: 1, colorspace: 0, planes: vec![] };
    let f = dev.set_format_exact(t, &want).unwrap();
    let n = dev.request_buffers(t, Memory::Mmap, 2).unwrap();
    let mut bufs: Vec<Vec<DmaBuf>> = (0..n).map(|i| dev.export_buffer(t, i, Access::Read).unwrap()).collect();
    for i in 0..n {
        dev.queue(t, i, &[]).unwrap();
    }
    dev.stream_on(t).unwrap();
    let b = dev.dequeue_timeout(t, Some(Duration::from_secs(20))).unwrap().expect("a frame within 20 s");
    dev.stream_off(t).unwrap();
    let mine = bufs.swap_remove(b.index as usize);
    drop(bufs);
    dev.request_buffers(t, Memory::Mmap, 0).unwrap();
    (f, b, mine)
}

fn layout(frame: &Frame) -> Vec<(u32, u32)> {
    frame.planes().iter().map(|p| (p.offset, p.pitch)).collect()
}

fn inode(b: &DmaBuf) -> u64 {
    b.info().unwrap().inode
}

// Single-planar NV12 and YUV420 on vivid-000: every plane in the one
// buffer, chroma after luma, NV12's CbCr rows as wide as its luma rows and
// YUV420's half; the last plane ends exactly at the format's sizeimage.
#[test]
#[ignore = "needs vivid (VM tier)"]
fn vivid_single_planar_yuv_frames() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for (fcc, drm, want) in [
            ("NV12", Fourcc::NV12, vec![(0, 640), (640 * 360, 640)]),
            ("YU12", Fourcc::YUV420, vec![(0, 640), (640 * 360, 320), (640 * 360 + 320 * 180, 320)]),
            ("NV16", Fourcc::NV16, vec![(0, 640), (640 * 360, 640)]),
        ] {
            let (f, b, bufs) = capture("vivid-000-vid-cap", BufType::VideoCapture, fcc, 640, 360);
            assert_eq!((f.width, f.height, f.planes.len(), bufs.len()), (640, 360, 1, 1), "{fcc}");
            assert_eq!(f.planes[0].bytesperline, 640, "{fcc}");
            let before = open_fds();
            let frame = Frame::from_v4l2(&f, &b, &bufs).unwrap();
            assert_eq!(open_fds(), before + want.len(), "{fcc}: one duplicate per plane");
            assert_eq!(
                (frame.width(), frame.height(), frame.fourcc(), frame.modifier()),
                (640, 360, drm, Modifier::LINEAR)
            );
            assert_eq!(layout(&frame), want, "{fcc}");
            let info = frame.format_info().unwrap();
            let last = frame.planes().len() - 1;
            let end = u64::from(want[last].0) + u64::from(want[last].1) * u64::from(info.plane_height(last, 360));
            assert_eq!(end, u64::from(f.planes[0].sizeimage), "{fcc}: the planes fill sizeimage");
            for p in frame.planes() {
                assert_eq!(inode(&p.buf), inode(&bufs[0]), "{fcc}: the exported buffer");
            }
            // The derived chroma offset lands on chroma: vivid's first bar
            // is 75% white, luma well above mid-grey and Cb, Cr neutral (128).
            let map = bufs[0].map(Access::Read).unwrap();
            let cpu = bufs[0].begin_cpu_access(Access::Read).unwrap();
            let (mut y, mut c) = ([0u8; 4], [0u8; 2]);
            map.read(10 * 640, &mut y).unwrap();
            map.read(frame.planes()[1].offset as usize + 10 * frame.planes()[1].pitch as usize, &mut c).unwrap();
            assert!(y.iter().all(|&v| v > 150), "{fcc}: luma of the white bar: {y:?}");
            assert!(c.iter().all(|&v| v.abs_diff(128) <= 2), "{fcc}: chroma of the white bar: {c:?}");
            drop(cpu);
            drop(map);
            drop(frame);
            assert_eq!(open_fds(), before, "{fcc}: the caller's dma-bufs stay open, the duplicates are closed");
        }
    });
}

// Multi-planar NV16M and NV61M on vivid-001: one dma-buf per plane, each
// plane at its own data_offset (vivid puts 128 on NV16M's plane 0 and
// NV61M's plane 1) with its own bytesperline.
#[test]
#[ignore = "needs vivid (VM tier)"]
fn vivid_multi_planar_frames_use_data_offset() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for (fcc, drm, offsets) in [("NM16", Fourcc::NV16, [128, 0]), ("NM61", Fourcc::NV61, [0, 128])] {
            let (f, b, bufs) = capture("vivid-001-vid-cap", BufType::VideoCaptureMplane, fcc, 640, 360);
            assert_eq!((f.planes.len(), b.planes.len(), bufs.len()), (2, 2, 2), "{fcc}");
            assert_eq!(v4l2_to_drm(f.pixelformat), Some((drm, true)));
            let frame = Frame::from_v4l2(&f, &b, &bufs).unwrap();
            assert_eq!(frame.fourcc(), drm);
            let want: Vec<(u32, u32)> = (0..2).map(|i| (b.planes[i].data_offset, f.planes[i].bytesperline)).collect();
            assert_eq!(layout(&frame), want, "{fcc}");
            assert_eq!(want.iter().map(|w| w.0).collect::<Vec<_>>(), offsets, "{fcc}: vivid's data_offset");
            assert_eq!((want[0].1, want[1].1), (640, 640), "{fcc}");
            for (i, (p, buf)) in frame.planes().iter().zip(&bufs).enumerate() {
                assert_eq!(inode(&p.buf), inode(buf), "{fcc} plane {i}");
            }
            assert_ne!(inode(&bufs[0]), inode(&bufs[1]));
        }
    });
}

// Packed RGB on vivid-000: V4L2 RGB24 (R, G, B bytes) is DRM BGR888 and
// XBGR32 (B, G, R, X) is DRM XRGB8888, one plane with bytesperline as pitch.
// The colour bars start white at 75%: equal R, G and B in the first pixel.
#[test]
#[ignore = "needs vivid (VM tier)"]
fn vivid_packed_rgb_frames() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for (fcc, drm, cpp) in [("RGB3", Fourcc::BGR888, 3), ("XR24", Fourcc::XRGB8888, 4), ("YUYV", Fourcc::YUYV, 2)] {
            let (f, b, bufs) = capture("vivid-000-vid-cap", BufType::VideoCapture, fcc, 320, 180);
            let frame = Frame::from_v4l2(&f, &b, &bufs).unwrap();
            assert_eq!(frame.fourcc(), drm, "{fcc}");
            assert_eq!(layout(&frame), [(0, 320 * cpp)], "{fcc}");
            assert_eq!(f.planes[0].bytesperline, 320 * cpp, "{fcc}");
            assert_eq!(frame.drm_format().to_string(), drm.to_string());
        }
    });
}

// What from_v4l2 refuses: a format outside the mapping, and planes that
// disagree between the format, the buffer and the dma-bufs given.
#[test]
#[ignore = "needs vivid (VM tier)"]
fn from_v4l2_refuses_what_does_not_match() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let (mut f, b, bufs) = capture("vivid-000-vid-cap", BufType::VideoCapture, "NV12", 320, 180);
        let e = Frame::from_v4l2(&f, &b, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Frame::from_v4l2: the format has 1 memory planes, the buffer 1, and 0 dma-bufs were given (EINVAL)"
        );
        // A bytesperline that the buffer cannot hold: Frame::new's check.
        f.planes[0].bytesperline = 640;
        let e = Frame::from_v4l2(&f, &b, &bufs).unwrap_err();
        let fd = bufs[0].as_fd().as_raw_fd();
        let size = bufs[0].size();
        assert_eq!(
            e.to_string(),
            format!(
                "Frame::new on fd {fd}: plane 0: offset 0 + pitch 640 x 180 rows = 115200 is past the end of its \
                 {size}-byte dma-buf (EINVAL)"
            ),
            "the error names the caller's fd, not the closed duplicate"
        );
        f.pixelformat = fourcc("MJPG").unwrap();
        let e = Frame::from_v4l2(&f, &b, &bufs).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("V4L2 format MJPG has no DRM fourcc in the mapping"), "{e}");
    });
}

// A frame over a Channel is one message: it arrives as a frame with the
// same description, its planes the same buffers (bytes written by the
// sender read back by the receiver), on both socket kinds.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn a_frame_crosses_a_channel_as_one_message() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for kind in [SocketKind::SeqPacket, SocketKind::Stream] {
            let (a, b) = Channel::pair(kind).unwrap();
            let buf = udmabuf().alloc(64 * 48 * 3 / 2).unwrap();
            let chroma = buf.try_clone().unwrap();
            let planes = vec![FramePlane::new(buf, 0, 64), FramePlane::new(chroma, 64 * 48, 64)];
            let modifier = Modifier(0x0100_0000_0000_0002);
            let sent = Frame::new(64, 48, Fourcc::NV12, modifier, planes).unwrap();
            assert_eq!(sent.header().len(), 32 + 2 * 8);
            sent.send(&a).unwrap();
            let before = open_fds();
            let got = Frame::recv(&b).unwrap();
            assert_eq!(open_fds(), before + 2, "{kind:?}: one fd per plane arrived");
            assert_eq!((got.width(), got.height(), got.fourcc(), got.modifier()), (64, 48, Fourcc::NV12, modifier));
            assert_eq!(layout(&got), [(0, 64), (3072, 64)]);
            for (s, r) in sent.planes().iter().zip(got.planes()) {
                assert_eq!(inode(&s.buf), inode(&r.buf), "{kind:?}: the same buffer");
            }
            let w = sent.planes()[1].buf.map(Access::ReadWrite).unwrap();
            w.write(3072, b"chroma").unwrap();
            let r = got.planes()[1].buf.map(Access::Read).unwrap();
            let mut back = [0u8; 6];
            r.read(3072, &mut back).unwrap();
            assert_eq!(&back, b"chroma");
        }
    });
}

// A peer's message is checked like any description: a bad header, a count
// that differs from the fds, an fd that is no dma-buf, a layout Frame::new
// refuses. Each is an error, and every fd that came is closed.
#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn a_hostile_frame_message_is_refused_and_its_fds_closed() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let (a, b) = Channel::pair(SocketKind::SeqPacket).unwrap();
        let buf = udmabuf().alloc(4096).unwrap();
        let good = Frame::new(16, 16, Fourcc::XRGB8888, Modifier::LINEAR, vec![FramePlane::new(buf, 0, 64)]).unwrap();
        let header = good.header();
        let fd = good.planes()[0].buf.as_fd();
        let memfd = nix::sys::memfd::memfd_create("not-a-dma-buf", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).unwrap();
        let mut pitch_small = header.clone();
        pitch_small[36..40].copy_from_slice(&32u32.to_le_bytes());
        let mut bad_magic = header.clone();
        bad_magic[0] = b'X';
        let cases: Vec<(Vec<u8>, Vec<std::os::fd::BorrowedFd<'_>>, &str, &str)> = vec![
            (bad_magic, vec![fd], "EPROTO", "a 40-byte header that is no version-1 frame header"),
            (
                header[..36].to_vec(),
                vec![fd],
                "EPROTO",
                "the header says 1 planes in 36 bytes (40 expected) and 1 fds came with it",
            ),
            (
                header.clone(),
                vec![fd, fd],
                "EPROTO",
                "the header says 1 planes in 40 bytes (40 expected) and 2 fds came with it",
            ),
            (header.clone(), vec![memfd.as_fd()], "EPROTO", "fd 0 of the message is not a dma-buf"),
            (
                pitch_small,
                vec![fd],
                "EINVAL",
                "plane 0: pitch 32 is less than a row of XRGB8888 at width 16 (64 bytes)",
            ),
        ];
        for (h, fds, code, says) in cases {
            a.send(&h, &fds).unwrap();
            let before = open_fds();
            let e = Frame::recv(&b).unwrap_err();
            assert_eq!(open_fds(), before, "{says}: every fd that came is closed");
            assert_eq!(e.code(), code, "{e}");
            assert_eq!(
                e.to_string(),
                format!("Frame::{}: {says} ({code})", if code == "EINVAL" { "new" } else { "from_message" })
            );
        }
        // The good one still arrives.
        a.send(&header, &[fd]).unwrap();
        let got = Frame::recv(&b).unwrap();
        assert_eq!(inode(&got.planes()[0].buf), inode(&good.planes()[0].buf));
    });
}

// The header of a frame known by its numbers alone (what the Node binding
// sends) is the module table's layout byte for byte, and a plane count
// outside 1..=4 is refused rather than written.
#[test]
fn header_of_writes_the_table_layout() {
    let h = Frame::header_of(64, 48, Fourcc::NV12, Modifier(0x0100_0000_0000_0002), &[(0, 64), (3072, 64)]).unwrap();
    let mut want = b"DMFR\x01\x02\0\0".to_vec();
    for w in [64u32, 48, u32::from_le_bytes(*b"NV12"), 0, 2, 0x0100_0000, 0, 64, 3072, 64] {
        want.extend_from_slice(&w.to_le_bytes());
    }
    assert_eq!(h, want);
    for n in [0, 5] {
        let e = Frame::header_of(1, 1, Fourcc::XRGB8888, Modifier::LINEAR, &vec![(0, 4); n]).unwrap_err();
        assert_eq!(e.code(), "EINVAL");
        assert_eq!(e.to_string(), format!("Frame::header_of: a frame has 1 to 4 planes, not {n} (EINVAL)"));
    }
}
