//! V4L2 export, import and the capture-to-output loop on vivid (VM tier:
//! `scripts/vm/run.sh` loads two instances, vivid-000 single-planar and
//! vivid-001 multi-planar). Every test is ignored on the host.

// Test code: short names for queue, type, format and size read best here.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)]

mod common;

use std::collections::HashSet;
use std::hash::Hasher;
use std::time::{Duration, Instant};

use common::{assert_no_fd_leak, open_fds, serial};
use dmabuf::v4l2::{self, fourcc, BufType, DmaBufQueue, Format, Memory, PlaneData, V4l2Device};
use dmabuf::{Access, DmaBuf, Errno, ErrorKind, Mapping};

/// The node whose sysfs name is `name` (`vivid-000-vid-cap`), opened.
fn node(name: &str) -> V4l2Device {
    let nodes = v4l2::list().expect("list V4L2 nodes");
    let n = nodes.iter().find(|n| n.name == name).unwrap_or_else(|| {
        panic!("this test needs the vivid node {name} (run it in the VM tier: npm test); found {nodes:?}")
    });
    V4l2Device::open(&n.path).unwrap()
}

fn fmt(w: u32, h: u32, fcc: &str) -> Format {
    Format { width: w, height: h, pixelformat: fourcc(fcc).unwrap(), field: 1, colorspace: 0, planes: vec![] }
}

fn sum(map: &Mapping, off: usize, len: usize) -> u64 {
    let mut buf = vec![0u8; len];
    map.read(off, &mut buf).unwrap();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(&buf);
    h.finish()
}

fn bytes(map: &Mapping, off: usize, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    map.read(off, &mut buf).unwrap();
    buf
}

fn distinct(b: &[u8]) -> usize {
    b.iter().copied().collect::<HashSet<u8>>().len()
}

#[test]
fn list_names_the_vivid_nodes() {
    let _g = serial();
    let nodes = v4l2::list().unwrap();
    if !common::in_vm() && nodes.is_empty() {
        return; // a host without V4L2 devices: nothing to list
    }
    let cap = nodes.iter().find(|n| n.name == "vivid-000-vid-cap").expect("vivid-000-vid-cap");
    assert_eq!(cap.buf_type, BufType::VideoCapture);
    assert!(cap.can_export && cap.can_import, "{cap:?}");
    let mp = nodes.iter().find(|n| n.name == "vivid-001-vid-cap").expect("vivid-001-vid-cap");
    assert_eq!(mp.buf_type, BufType::VideoCaptureMplane);
    let out = nodes.iter().find(|n| n.name == "vivid-000-vid-out").expect("vivid-000-vid-out");
    assert_eq!(out.buf_type, BufType::VideoOutput);
}

#[test]
#[ignore = "needs vivid (VM tier)"]
fn exports_every_buffer_and_every_plane() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for (name, fcc, planes) in [("vivid-000-vid-cap", "YUYV", 1), ("vivid-001-vid-cap", "NM16", 2)] {
            let dev = node(name);
            let t = dev.buf_type().unwrap();
            dev.set_route(false, 0).unwrap();
            let f = dev.set_format_exact(t, &fmt(640, 360, fcc)).unwrap();
            assert_eq!(f.planes.len(), planes, "{name} {fcc}");
            let n = dev.request_buffers(t, Memory::Mmap, 4).unwrap();
            assert!(n >= 4);
            let mut inodes = HashSet::new();
            for i in 0..n {
                let bufs = dev.export_buffer(t, i, Access::ReadWrite).unwrap();
                assert_eq!(bufs.len(), planes);
                let q = dev.query_buffer(t, i).unwrap();
                for (p, b) in bufs.iter().enumerate() {
                    let info = b.info().unwrap();
                    assert_eq!(info.exporter, "videobuf2_vmalloc");
                    assert!(b.size() >= u64::from(q.planes[p].length));
                    assert!(b.size() >= u64::from(f.planes[p].sizeimage));
                    assert!(info.writable);
                    assert!(inodes.insert(info.inode), "each plane is its own dma-buf");
                }
            }
            assert_eq!(inodes.len(), n as usize * planes);
            // Each VIDIOC_EXPBUF makes a new dma-buf over the same memory.
            let again = dev.export(t, 0, 0, Access::Read).unwrap();
            assert!(inodes.insert(again.info().unwrap().inode), "a second export is a new dma-buf");
            dev.request_buffers(t, Memory::Mmap, 0).unwrap();
        }
    });
}

#[test]
#[ignore = "needs vivid (VM tier)"]
fn captured_frame_has_the_test_pattern_and_the_format_size() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = node("vivid-000-vid-cap");
        let t = BufType::VideoCapture;
        dev.set_route(false, 0).unwrap();
        let f = dev.set_format_exact(t, &fmt(640, 360, "YUYV")).unwrap();
        assert_eq!(f.planes[0].bytesperline, 1280);
        assert_eq!(f.planes[0].sizeimage, 640 * 360 * 2);
        let n = dev.request_buffers(t, Memory::Mmap, 3).unwrap();
        let bufs: Vec<DmaBuf> = (0..n).map(|i| dev.export(t, i, 0, Access::Read).unwrap()).collect();
        for i in 0..n {
            dev.queue(t, i, &[]).unwrap();
        }
        dev.stream_on(t).unwrap();
        let b = dev.dequeue_timeout(t, Some(Duration::from_secs(20))).unwrap().expect("a frame within 20 s");
        assert_eq!(b.planes[0].bytesused, f.planes[0].sizeimage, "bytesused is the format's sizeimage");
        assert_eq!(b.flags & v4l2::BUF_FLAG_ERROR, 0);
        let buf = &bufs[b.index as usize];
        let map = buf.map(Access::Read).unwrap();
        let frame = {
            let _cpu = buf.begin_cpu_access(Access::Read).unwrap();
            bytes(&map, 0, b.planes[0].bytesused as usize)
        };
        // vivid's default pattern is 75% colour bars: one line crosses 8 bars
        // of different colours, so it holds many distinct byte values, and
        // the left (white) and right (black... blue) ends differ.
        let line = &frame[1280 * 10..1280 * 11];
        assert!(frame.iter().any(|&x| x != 0), "the frame is not all zeros");
        assert!(distinct(line) >= 8, "colour bars: {} distinct values in a line", distinct(line));
        assert_ne!(line[..8], line[1280 - 8..], "left and right bars differ");
        dev.stream_off(t).unwrap();
        assert!(dev.dequeue(t).is_err() || dev.dequeue(t).unwrap().is_none(), "STREAMOFF took back every buffer");
        drop(map);
        drop(bufs);
        dev.request_buffers(t, Memory::Mmap, 0).unwrap();
    });
}

#[test]
#[ignore = "needs vivid (VM tier)"]
fn multiplanar_data_offset_is_reported_and_honoured() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = node("vivid-001-vid-cap");
        let t = BufType::VideoCaptureMplane;
        dev.set_route(false, 0).unwrap();
        // Which plane carries vivid's data_offset of 128 in each format
        // (NM16 is NV16M, NM61 is NV61M). On 6.12, YUYV has none.
        for (fcc, offsets) in [("YUYV", vec![0]), ("NM16", vec![128, 0]), ("NM61", vec![0, 128])] {
            let f = dev.set_format_exact(t, &fmt(640, 360, fcc)).unwrap();
            assert_eq!(f.planes.len(), offsets.len(), "{fcc}");
            let n = dev.request_buffers(t, Memory::Mmap, 2).unwrap();
            let bufs: Vec<Vec<DmaBuf>> = (0..n).map(|i| dev.export_buffer(t, i, Access::Read).unwrap()).collect();
            for i in 0..n {
                dev.queue(t, i, &[]).unwrap();
            }
            dev.stream_on(t).unwrap();
            let b = dev.dequeue_timeout(t, Some(Duration::from_secs(20))).unwrap().expect("a frame");
            assert_eq!(b.planes.len(), offsets.len());
            eprintln!("{fcc}: data_offset {:?}", b.planes.iter().map(|p| p.data_offset).collect::<Vec<_>>());
            for (p, plane) in b.planes.iter().enumerate() {
                assert_eq!(plane.data_offset, offsets[p], "{fcc} plane {p} data_offset");
                assert_eq!(plane.bytesused, f.planes[p].sizeimage, "{fcc} plane {p}: bytesused is sizeimage");
                let buf = &bufs[b.index as usize][p];
                let map = buf.map(Access::Read).unwrap();
                let _cpu = buf.begin_cpu_access(Access::Read).unwrap();
                let off = plane.data_offset as usize;
                let bpl = f.planes[p].bytesperline as usize;
                // Honoured: vivid fills the bytes before data_offset with
                // its low byte (0x80) and draws the picture after them.
                if off > 0 {
                    assert!(
                        bytes(&map, 0, off).iter().all(|&x| x == 0x80),
                        "{fcc} plane {p}: bytes before data_offset"
                    );
                }
                let line = bytes(&map, off + bpl * 10, bpl);
                assert!(distinct(&line) >= 4, "{fcc} plane {p}: the pattern starts at data_offset");
            }
            dev.stream_off(t).unwrap();
            drop(bufs);
            dev.request_buffers(t, Memory::Mmap, 0).unwrap();
        }
    });
}

#[test]
#[ignore = "needs vivid (VM tier)"]
fn read_only_export_refuses_a_writable_map_and_bad_arguments_are_named() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let dev = node("vivid-001-vid-cap");
        let t = BufType::VideoCaptureMplane;
        dev.set_route(false, 0).unwrap();
        dev.set_format_exact(t, &fmt(640, 360, "NM16")).unwrap();
        let n = dev.request_buffers(t, Memory::Mmap, 2).unwrap();

        let ro = dev.export(t, 0, 1, Access::Read).unwrap();
        assert!(!ro.is_writable().unwrap());
        let e = ro.map(Access::ReadWrite).unwrap_err();
        assert_eq!(e.errno(), Errno::EACCES, "{e}");
        assert!(ro.map(Access::Read).is_ok());
        drop(ro);

        let e = dev.export(t, n, 0, Access::Read).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains(&format!("buffer index {n} is out of range")), "{e}");
        let e = dev.export(t, 0, 2, Access::Read).unwrap_err();
        assert!(e.to_string().contains("plane 2 is out of range: buffer 0 has 2 plane(s)"), "{e}");
        let e = dev.export(BufType::VideoCapture, 0, 0, Access::Read).unwrap_err();
        assert!(e.to_string().contains("has no capture queue"), "{e}");

        // A DMABUF queue has nothing to export.
        let q = DmaBufQueue::new(&dev, t, 2).unwrap();
        let e = dev.export(t, 0, 0, Access::Read).unwrap_err();
        assert!(e.to_string().contains("only MMAP buffers can be exported"), "{e}");
        drop(q);
        dev.request_buffers(t, Memory::DmaBuf, 0).unwrap();
        let e = V4l2Device::open("/dev/dma_heap/system").unwrap_err();
        assert!(e.to_string().contains("is not a V4L2 device"), "{e}");
    });
}

/// Lowers `RLIMIT_NOFILE` so that exactly one more fd can be opened, runs
/// `f`, and puts everything back.
fn with_one_free_fd<T>(f: impl FnOnce() -> T) -> T {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let highest = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::rlim_t>().ok())
        .max()
        .unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, highest + 2, hard).unwrap();
    // Fill every hole below the limit but one.
    let mut fillers = Vec::new();
    while let Ok(fd) = nix::fcntl::open("/dev/null", nix::fcntl::OFlag::O_RDONLY, nix::sys::stat::Mode::empty()) {
        fillers.push(fd);
    }
    fillers.pop();
    let out = f();
    drop(fillers);
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();
    out
}

#[test]
#[ignore = "needs vivid (VM tier)"]
fn a_failure_on_the_second_plane_closes_the_first() {
    let _g = serial();
    let dev = node("vivid-001-vid-cap");
    let t = BufType::VideoCaptureMplane;
    dev.set_route(false, 0).unwrap();
    dev.set_format_exact(t, &fmt(640, 360, "NM16")).unwrap();
    dev.request_buffers(t, Memory::Mmap, 2).unwrap();
    let before = open_fds();
    let r = with_one_free_fd(|| dev.export_buffer(t, 0, Access::ReadWrite));
    let e = r.expect_err("the second plane has no fd left");
    assert_eq!(e.errno(), Errno::EMFILE, "{e}");
    assert_eq!(e.op(), "VIDIOC_EXPBUF");
    assert_eq!(open_fds(), before, "the first plane's dma-buf was closed");
    // Both planes export once fds are back.
    assert_eq!(dev.export_buffer(t, 0, Access::ReadWrite).unwrap().len(), 2);
    dev.request_buffers(t, Memory::Mmap, 0).unwrap();
}

#[test]
#[ignore = "needs vivid (VM tier)"]
fn create_buffers_adds_exportable_buffers_after_the_requested_ones() {
    let _g = serial();
    assert_no_fd_leak(|| {
        for (name, fcc, planes) in [("vivid-000-vid-cap", "YUYV", 1), ("vivid-001-vid-cap", "NM16", 2)] {
            let dev = node(name);
            let t = dev.buf_type().unwrap();
            dev.set_route(false, 0).unwrap();
            let f = dev.set_format_exact(t, &fmt(640, 360, fcc)).unwrap();
            let n = dev.request_buffers(t, Memory::Mmap, 2).unwrap();
            // The queue's own format (None), then one with planes 4 times larger.
            assert_eq!(dev.create_buffers(t, Memory::Mmap, 2, None).unwrap(), (n, 2), "{name}");
            let mut big = f.clone();
            for p in &mut big.planes {
                p.sizeimage *= 4;
            }
            assert_eq!(dev.create_buffers(t, Memory::Mmap, 1, Some(&big)).unwrap(), (n + 2, 1), "{name}");
            let q = dev.query_buffer(t, n + 2).unwrap();
            assert_eq!(q.planes.len(), planes, "{name}");
            for (p, want) in q.planes.iter().zip(&big.planes) {
                assert!(p.length >= want.sizeimage, "{name}: {} < {}", p.length, want.sizeimage);
            }
            // The created buffers are counted: they export, the next index does not.
            let bufs = dev.export_buffer(t, n + 2, Access::Read).unwrap();
            assert_eq!(bufs.len(), planes);
            assert!(bufs[0].size() >= u64::from(big.planes[0].sizeimage));
            assert_eq!(dev.export_buffer(t, n + 1, Access::Read).unwrap().len(), planes);
            let e = dev.query_buffer(t, n + 3).unwrap_err();
            assert!(e.to_string().contains(&format!("buffer index {} is out of range", n + 3)), "{e}");
            drop(bufs);
            dev.request_buffers(t, Memory::Mmap, 0).unwrap();
        }
    });
}

#[test]
#[ignore = "needs vivid (VM tier)"]
fn frame_interval_and_routing_read_back_what_was_set() {
    let _g = serial();
    let dev = node("vivid-000-vid-cap");
    let t = BufType::VideoCapture;
    dev.set_route(false, 0).unwrap(); // the webcam input, whose rate can be set
    assert_eq!(dev.route(false).unwrap(), 0);
    dev.set_format_exact(t, &fmt(320, 180, "YUYV")).unwrap();
    assert_eq!(dev.set_frame_interval(t, 1, 30).unwrap(), (1, 30));
    assert_eq!(dev.frame_interval(t).unwrap(), (1, 30, true), "VIDIOC_G_PARM");
    assert_eq!(dev.set_frame_interval(t, 1, 60).unwrap(), (1, 60));
    assert_eq!(dev.frame_interval(t).unwrap(), (1, 60, true));

    dev.set_route(false, 2).unwrap(); // S-Video
    assert_eq!(dev.route(false).unwrap(), 2, "VIDIOC_G_INPUT");
    let e = dev.set_route(false, 99).unwrap_err();
    assert_eq!(e.errno(), Errno::EINVAL, "{e}");
    assert_eq!(dev.route(false).unwrap(), 2, "a refused VIDIOC_S_INPUT changes nothing");
    dev.set_route(false, 0).unwrap();
    assert_eq!(dev.route(false).unwrap(), 0);
    // A capture node has no outputs.
    assert_eq!(dev.route(true).unwrap_err().errno(), Errno::ENOTTY);

    let out = node("vivid-000-vid-out");
    out.set_route(true, 1).unwrap();
    assert_eq!(out.route(true).unwrap(), 1, "VIDIOC_G_OUTPUT");
    out.set_route(true, 0).unwrap();
    assert_eq!(out.route(true).unwrap(), 0);
}

fn import_into_capture(make: &dyn Fn(u64) -> DmaBuf, exporter: &str) {
    let dev = node("vivid-000-vid-cap");
    let t = BufType::VideoCapture;
    dev.set_route(false, 0).unwrap();
    let f = dev.set_format_exact(t, &fmt(320, 180, "YUYV")).unwrap();
    let size = u64::from(f.planes[0].sizeimage).next_multiple_of(common::page());
    let mut q = DmaBufQueue::new(&dev, t, 2).unwrap();
    let ours: Vec<DmaBuf> = (0..2).map(|_| make(size)).collect();
    let maps: Vec<Mapping> = ours.iter().map(|b| b.map(Access::Read).unwrap()).collect();
    let inodes: Vec<u64> = ours.iter().map(|b| b.info().unwrap().inode).collect();
    assert_eq!(ours[0].info().unwrap().exporter, exporter);
    // A buffer smaller than the format is refused before the kernel sees it, and handed back.
    let small = make(common::page());
    let e = q.queue(vec![small], &[]).unwrap_err();
    assert!(e.error.to_string().contains("the format needs"), "{}", e.error);
    assert_eq!(e.bufs.len(), 1);
    for b in ours {
        q.queue(vec![b], &[]).unwrap();
    }
    assert_eq!(q.queued(), 2);
    q.stream_on().unwrap();
    let d = q.dequeue(Some(Duration::from_secs(20))).unwrap().expect("a frame into our buffer");
    assert_eq!(d.info.planes[0].bytesused, f.planes[0].sizeimage);
    let i = inodes.iter().position(|&n| n == d.bufs[0].info().unwrap().inode).expect("one of ours came back");
    let frame = {
        let _cpu = d.bufs[0].begin_cpu_access(Access::Read).unwrap();
        bytes(&maps[i], 0, f.planes[0].sizeimage as usize)
    };
    assert!(distinct(&frame[640 * 10..640 * 11]) >= 8, "vivid wrote its colour bars into our {exporter} buffer");
    // Re-queueing the same dma-buf reuses its index.
    let index = d.info.index;
    let again = q.queue(d.bufs, &[]).unwrap();
    assert_eq!(again, index);
    let back = q.stream_off().unwrap();
    assert_eq!(back.iter().map(|(_, b)| b.len()).sum::<usize>(), 2, "STREAMOFF returns every buffer");
    assert_eq!(q.queued(), 0);
    drop(back);
    drop(q);
    dev.request_buffers(t, Memory::DmaBuf, 0).unwrap();
}

#[test]
#[ignore = "needs vivid, /dev/udmabuf (VM tier)"]
fn vivid_captures_into_a_udmabuf() {
    let _g = serial();
    let u = common::udmabuf();
    assert_no_fd_leak(|| import_into_capture(&|size| u.alloc(size).unwrap(), "udmabuf"));
}

#[test]
#[ignore = "needs vivid, /dev/dma_heap/system (VM tier)"]
fn vivid_captures_into_a_system_heap_buffer() {
    let _g = serial();
    let h = common::system_heap();
    assert_no_fd_leak(|| import_into_capture(&|size| h.alloc(size, Access::ReadWrite).unwrap(), "system"));
}

#[test]
#[ignore = "needs vivid, /dev/udmabuf (VM tier)"]
fn a_thousand_queue_dequeue_cycles_leak_nothing() {
    let _g = serial();
    let u = common::udmabuf();
    let dev = node("vivid-000-vid-cap");
    let t = BufType::VideoCapture;
    dev.set_route(false, 0).unwrap();
    let f = dev.set_format_exact(t, &fmt(320, 180, "YUYV")).unwrap();
    assert_eq!(dev.set_frame_interval(t, 1, 60).unwrap(), (1, 60));
    let size = u64::from(f.planes[0].sizeimage).next_multiple_of(common::page());
    let mut q = DmaBufQueue::new(&dev, t, 4).unwrap();
    for _ in 0..4 {
        q.queue(vec![u.alloc(size).unwrap()], &[]).unwrap();
    }
    q.stream_on().unwrap();
    let cycles = std::env::var("DMABUF_V4L2_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let before = open_fds();
    let start = Instant::now();
    for _ in 0..cycles {
        let d = q.dequeue(Some(Duration::from_secs(20))).unwrap().expect("a frame");
        let i = q.queue(d.bufs, &[]).unwrap();
        assert_eq!(i, d.info.index, "the same dma-buf goes back to its index");
    }
    assert_eq!(open_fds(), before, "fds after {cycles} cycles");
    eprintln!("{cycles} DMABUF queue/dequeue cycles in {:.1} s", start.elapsed().as_secs_f64());
    assert_eq!(q.stream_off().unwrap().len(), 4);
    drop(q);
    dev.request_buffers(t, Memory::DmaBuf, 0).unwrap();
}

/// The zero-copy loop: vivid-000's capture buffers are exported and queued,
/// as DMABUF, to vivid-000's HDMI output; vivid-001's HDMI input is
/// connected to that output, and the frames it captures are compared with
/// the frames sent.
#[test]
#[ignore = "needs vivid (VM tier)"]
#[allow(clippy::too_many_lines)] // Reason: one pipeline, set up, run and torn down in order.
fn zero_copy_capture_to_output_loop() {
    let _g = serial();
    let src = node("vivid-000-vid-cap");
    let out = node("vivid-000-vid-out");
    let sink = node("vivid-001-vid-cap");
    let (ts, to, tk) = (BufType::VideoCapture, BufType::VideoOutput, BufType::VideoCaptureMplane);
    src.set_route(false, 0).unwrap(); // webcam: vivid's test pattern generator
    out.set_route(true, 1).unwrap(); // HDMI 000-0
    sink.set_route(false, 3).unwrap(); // HDMI 001-0
    let connect = sink.find_control("HDMI 001-0 Is Connected To").unwrap();
    // Menu: 0 test pattern, 1 none, 2 "Output HDMI 000-0", 3 "Output HDMI 001-0".
    sink.set_control(connect.id, 2).unwrap();
    let osd = sink.find_control("OSD Text Mode").unwrap();
    sink.set_control(osd.id, 2).unwrap(); // no text over looped video

    // The HDMI output decides the size; everyone else follows it.
    let size = out.format(to).unwrap();
    let (w, h) = (size.width, size.height);
    let sf = src.set_format_exact(ts, &fmt(w, h, "RGB3")).unwrap();
    let (num, den) = src.set_frame_interval(ts, 1, 60).unwrap();
    eprintln!("source: {w}x{h} RGB3 at {num}/{den} s per frame");
    let of = out.set_format_exact(to, &Format { field: sf.field, ..fmt(w, h, "RGB3") }).unwrap();
    let kf = sink.set_format_exact(tk, &Format { field: sf.field, ..fmt(w, h, "RGB3") }).unwrap();
    assert_eq!((of.field, kf.field), (sf.field, sf.field));
    let frame = sf.planes[0].sizeimage as usize;
    assert_eq!(kf.planes[0].sizeimage as usize, frame);

    let before = open_fds();
    let n = src.request_buffers(ts, Memory::Mmap, 4).unwrap();
    let mut exported: Vec<Option<DmaBuf>> =
        (0..n).map(|i| Some(src.export(ts, i, 0, Access::ReadWrite).unwrap())).collect();
    let src_maps: Vec<Mapping> = exported.iter().map(|b| b.as_ref().unwrap().map(Access::Read).unwrap()).collect();
    let src_inodes: Vec<u64> = exported.iter().map(|b| b.as_ref().unwrap().info().unwrap().inode).collect();
    let mut oq = DmaBufQueue::new(&out, to, n).unwrap();
    let k = sink.request_buffers(tk, Memory::Mmap, 4).unwrap();
    let sink_bufs: Vec<DmaBuf> = (0..k).map(|i| sink.export(tk, i, 0, Access::Read).unwrap()).collect();
    let sink_maps: Vec<Mapping> = sink_bufs.iter().map(|b| b.map(Access::Read).unwrap()).collect();
    for i in 0..n {
        src.queue(ts, i, &[]).unwrap();
    }
    for i in 0..k {
        sink.queue(tk, i, &[]).unwrap();
    }
    src.stream_on(ts).unwrap();
    oq.stream_on().unwrap();
    sink.stream_on(tk).unwrap();

    let mut sent = HashSet::new();
    let (mut looped, mut other, mut forwarded) = (0usize, 0usize, 0usize);
    let start = Instant::now();
    let mut first_loop: Option<Instant> = None;
    while looped < 60 && start.elapsed() < Duration::from_secs(120) {
        // 1. a captured frame goes to the output, as the same dma-buf.
        if let Some(b) = src.dequeue_timeout(ts, Some(Duration::from_millis(2))).unwrap() {
            let i = b.index as usize;
            assert_eq!(b.planes[0].bytesused as usize, frame);
            let buf = exported[i].take().unwrap();
            {
                let _cpu = buf.begin_cpu_access(Access::Read).unwrap();
                sent.insert(sum(&src_maps[i], 0, frame));
            }
            let at = oq.queue(vec![buf], &[PlaneData { bytesused: b.planes[0].bytesused, data_offset: 0 }]).unwrap();
            let (_, ino) = oq.inodes(at).unwrap()[0];
            assert_eq!(ino, src_inodes[i], "the output holds the capture's own dma-buf");
            forwarded += 1;
        }
        // 2. the output is done with it: back to the capture queue.
        while let Some(d) = oq.try_dequeue().unwrap() {
            let i = src_inodes.iter().position(|&x| x == d.bufs[0].info().unwrap().inode).unwrap();
            exported[i] = d.bufs.into_iter().next();
            src.queue(ts, i as u32, &[]).unwrap();
        }
        // 3. what came back through the loop.
        if let Some(b) = sink.dequeue_timeout(tk, Some(Duration::from_millis(2))).unwrap() {
            let i = b.index as usize;
            let p = b.planes[0];
            assert_eq!((p.bytesused - p.data_offset) as usize, frame);
            let s = {
                let _cpu = sink_bufs[i].begin_cpu_access(Access::Read).unwrap();
                sum(&sink_maps[i], p.data_offset as usize, frame)
            };
            if sent.contains(&s) {
                looped += 1;
                first_loop.get_or_insert_with(Instant::now);
            } else {
                other += 1;
            }
            sink.queue(tk, b.index, &[]).unwrap();
        }
    }
    let secs = first_loop.map_or(0.0, |t| t.elapsed().as_secs_f64());
    eprintln!(
        "loop: {looped} frames back byte for byte ({other} others, {forwarded} forwarded) in {secs:.2} s: {:.1} fps at {w}x{h} RGB24",
        looped as f64 / secs.max(1e-9)
    );
    sink.stream_off(tk).unwrap();
    let returned = oq.stream_off().unwrap();
    for (_, bufs) in returned {
        let i = src_inodes.iter().position(|&x| x == bufs[0].info().unwrap().inode).unwrap();
        exported[i] = bufs.into_iter().next();
    }
    src.stream_off(ts).unwrap();
    assert!(exported.iter().all(Option::is_some), "every dma-buf came back");
    assert!(looped >= 60, "{looped} frames looped back equal to a frame sent ({other} did not)");
    assert!(sent.len() > 1, "the source frames differ (moving pattern)");
    drop((src_maps, sink_maps, exported, sink_bufs, oq));
    sink.request_buffers(tk, Memory::Mmap, 0).unwrap();
    out.request_buffers(to, Memory::DmaBuf, 0).unwrap();
    src.request_buffers(ts, Memory::Mmap, 0).unwrap();
    sink.set_control(connect.id, 0).unwrap();
    sink.set_control(osd.id, 0).unwrap();
    sink.set_route(false, 0).unwrap();
    assert_eq!(open_fds(), before);
}

#[test]
#[ignore = "needs vivid, /dev/udmabuf (VM tier)"]
fn multiplanar_import_takes_one_dma_buf_per_plane() {
    let _g = serial();
    let u = common::udmabuf();
    assert_no_fd_leak(|| {
        let dev = node("vivid-001-vid-cap");
        let t = BufType::VideoCaptureMplane;
        dev.set_route(false, 0).unwrap();
        let f = dev.set_format_exact(t, &fmt(320, 180, "NM16")).unwrap();
        let sizes: Vec<u64> =
            f.planes.iter().map(|p| u64::from(p.sizeimage).next_multiple_of(common::page())).collect();
        let mut q = DmaBufQueue::new(&dev, t, 2).unwrap();
        // One dma-buf for a two-plane format is refused, and handed back.
        let e = q.queue(vec![u.alloc(sizes[0]).unwrap()], &[]).unwrap_err();
        assert!(e.error.to_string().contains("the format has 2 plane(s)"), "{}", e.error);
        let planes: Vec<DmaBuf> = sizes.iter().map(|&s| u.alloc(s).unwrap()).collect();
        let maps: Vec<Mapping> = planes.iter().map(|b| b.map(Access::Read).unwrap()).collect();
        let index = q.queue(planes, &[]).unwrap();
        q.stream_on().unwrap();
        let d = q.dequeue(Some(Duration::from_secs(20))).unwrap().expect("a frame into our two buffers");
        assert_eq!(d.info.index, index);
        assert_eq!(d.bufs.len(), 2);
        assert_eq!(d.info.planes.iter().map(|p| p.data_offset).collect::<Vec<_>>(), [128, 0]);
        let cpu = d.bufs[0].begin_cpu_access(Access::Read).unwrap();
        assert!(bytes(&maps[0], 0, 128).iter().all(|&x| x == 0x80), "vivid's fill before data_offset, in our udmabuf");
        let bpl = f.planes[0].bytesperline as usize;
        assert!(distinct(&bytes(&maps[0], 128 + bpl * 10, bpl)) >= 4, "luma after data_offset");
        assert!(distinct(&bytes(&maps[1], f.planes[1].bytesperline as usize * 10, 320)) >= 2, "chroma plane");
        cpu.end().unwrap();
        assert!(q.stream_off().unwrap().is_empty(), "the one buffer was dequeued already");
        drop((d, maps, q));
        dev.request_buffers(t, Memory::DmaBuf, 0).unwrap();
    });
}
