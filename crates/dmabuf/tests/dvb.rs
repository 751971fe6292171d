//! DVB demux buffers as dma-bufs, on vidtv (the kernel's virtual DVB
//! driver). Needs a kernel with `CONFIG_DVB_MMAP` and `CONFIG_DVB_VIDTV`,
//! which Debian's lacks: these run only in the custom-kernel VM tier
//! (`DMABUF_VM_KERNEL=custom`, `scripts/vm-tier.sh custom`), and the
//! Debian tier leaves this file out.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps and numeric casts are fine.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

mod common;

use std::time::Duration;

use common::{assert_no_fd_leak, serial};
use dmabuf::dvb::{
    self, prop, status, Demux, Frontend, PesOutput, SectionFilter, PID_ALL, TS_PACKET_SIZE, TS_SYNC_BYTE,
};
use dmabuf::{Access, Errno, ErrorKind};

const DEMUX: &str = "/dev/dvb/adapter0/demux0";
const FRONTEND: &str = "/dev/dvb/adapter0/frontend0";
/// vidtv's one valid DVB-T frequency (its `vidtv_valid_dvb_t_freqs` default).
const VIDTV_DVBT_HZ: u32 = 474_000_000;
/// Buffers of whole TS packets, so that every buffer starts on a packet.
const BUF_SIZE: u32 = 16 * TS_PACKET_SIZE;

/// Tunes vidtv's frontend to its DVB-T channel and waits for the lock,
/// without which vidtv drops every packet.
fn tuned() -> Frontend {
    let fe = Frontend::open(FRONTEND).unwrap();
    fe.tune(prop::SYS_DVBT, VIDTV_DVBT_HZ, &[(prop::BANDWIDTH_HZ, 8_000_000)]).unwrap();
    assert!(fe.wait_for_lock(Duration::from_secs(10)).unwrap(), "no lock; status {:#x}", fe.status().unwrap());
    fe
}

/// Every `TS_PACKET_SIZE`-th byte of `data` is the sync byte.
fn is_ts(data: &[u8]) -> bool {
    !data.is_empty()
        && data.len() % TS_PACKET_SIZE as usize == 0
        && data.chunks(TS_PACKET_SIZE as usize).all(|p| p[0] == TS_SYNC_BYTE)
}

#[test]
#[ignore = "needs vidtv and CONFIG_DVB_MMAP (the custom-kernel VM tier)"]
fn the_frontend_tunes_vidtv_and_reports_its_properties() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let fe = tuned();
        let info = fe.info().unwrap();
        assert!(info.name.contains("Dummy"), "{info:?}");
        let got = fe.get_properties(&[prop::DELIVERY_SYSTEM, prop::FREQUENCY, prop::API_VERSION]).unwrap();
        assert_eq!(&got[..2], &[prop::SYS_DVBT, VIDTV_DVBT_HZ]);
        assert!(got[2] >= 5 << 8, "DVB API version {:#x}", got[2]);
        assert_ne!(fe.status().unwrap() & status::HAS_LOCK, 0);
        // More than 64 properties, or none, are refused before the kernel.
        let e = fe.set_properties(&[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = fe.set_properties(&[(prop::CLEAR, 0); 65]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    });
}

// The whole path: tune, filter the whole TS into the demux's buffers,
// export them, dequeue one, map it, find TS packets, requeue, go on.
#[test]
#[ignore = "needs vidtv and CONFIG_DVB_MMAP (the custom-kernel VM tier)"]
fn demux_buffers_export_as_dma_bufs_that_hold_ts_packets() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let _fe = tuned();
        let demux = Demux::open(DEMUX).unwrap();
        demux.set_pes_filter(PID_ALL, PesOutput::TsDemuxTap, false).unwrap();
        let (count, size) = demux.request_buffers(4, BUF_SIZE).unwrap();
        assert_eq!((count, size), (4, BUF_SIZE));
        let bufs: Vec<_> = (0..count)
            .map(|i| {
                let q = demux.query_buffer(i).unwrap();
                assert_eq!((q.index, q.length), (i, BUF_SIZE));
                demux.export_buffer(i, Access::Read).unwrap()
            })
            .collect();
        let inodes: std::collections::HashSet<u64> = bufs.iter().map(|b| b.info().unwrap().inode).collect();
        assert_eq!(inodes.len(), bufs.len(), "four different buffers");
        for b in &bufs {
            let info = b.info().unwrap();
            assert_eq!(info.exporter, "videobuf2_vmalloc");
            assert!(!info.writable);
            assert!(b.size() >= u64::from(BUF_SIZE));
        }
        // Before the first QBUF nothing streams: dequeue says so.
        let e = demux.try_dequeue().unwrap_err();
        assert_eq!(e.errno(), Errno::EINVAL);
        assert!(e.to_string().contains("no buffer has been queued"), "{e}");

        for i in 0..count {
            demux.queue(i).unwrap();
        }
        // Queueing a queued buffer, or one that does not exist, is refused.
        assert_eq!(demux.queue(0).unwrap_err().errno(), Errno::EINVAL);
        assert_eq!(demux.queue(count).unwrap_err().errno(), Errno::EINVAL);
        demux.start().unwrap();

        let mut seen = Vec::new();
        for round in 0..8 {
            let d = demux.dequeue(Some(Duration::from_secs(10))).unwrap().expect("a filled buffer within 10 s");
            assert_eq!(d.bytesused, BUF_SIZE, "round {round}: {d:?}");
            assert_eq!(d.count, round, "dequeue counter");
            let buf = &bufs[d.index as usize];
            let map = buf.map(Access::Read).unwrap();
            let mut data = vec![0u8; d.bytesused as usize];
            {
                let _cpu = buf.begin_cpu_access(Access::Read).unwrap();
                map.read(0, &mut data).unwrap();
            }
            assert!(is_ts(&data), "round {round}: buffer {} is not TS packets: {:02x?}", d.index, &data[..16]);
            seen.push(d.index);
            demux.queue(d.index).unwrap();
        }
        // The buffers went round in order.
        assert_eq!(seen, vec![0, 1, 2, 3, 0, 1, 2, 3]);
        demux.stop().unwrap();
        // A writable map of a read-only export is refused.
        assert_eq!(bufs[0].map(Access::ReadWrite).unwrap_err().errno(), Errno::EACCES);
        // Closing the demux leaves the exported buffers readable.
        drop(demux);
        let map = bufs[1].map(Access::Read).unwrap();
        let mut first = [0u8; 1];
        map.read(0, &mut first).unwrap();
        assert_eq!(first[0], TS_SYNC_BYTE);
    });
}

#[test]
#[ignore = "needs vidtv and CONFIG_DVB_MMAP (the custom-kernel VM tier)"]
fn section_filter_buffers_hold_the_pat() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let _fe = tuned();
        let demux = Demux::open(DEMUX).unwrap();
        // The PAT: PID 0, table id 0.
        let mut f = SectionFilter::pid(0);
        f.mask[0] = 0xff;
        demux.set_section_filter(&f, false).unwrap();
        demux.request_buffers(2, 4096).unwrap();
        let buf = demux.export_buffer(0, Access::ReadWrite).unwrap();
        let _other = demux.export_buffer(1, Access::ReadWrite).unwrap();
        demux.queue(0).unwrap();
        demux.queue(1).unwrap();
        demux.start().unwrap();
        let d = demux.dequeue(Some(Duration::from_secs(10))).unwrap().expect("a section within 10 s");
        assert!(d.bytesused >= 12, "{d:?}");
        assert_eq!(d.index, 0, "the first buffer queued fills first");
        let map = buf.map(Access::ReadWrite).unwrap();
        let mut head = [0u8; 3];
        map.read(0, &mut head).unwrap();
        assert_eq!(head[0], 0, "table id 0 (PAT)");
        let len = (usize::from(head[1] & 0x0f) << 8) | usize::from(head[2]);
        assert_eq!(len + 3, d.bytesused as usize, "one whole section");
    });
}

#[test]
#[ignore = "needs vidtv and CONFIG_DVB_MMAP (the custom-kernel VM tier)"]
fn bad_indexes_and_timeouts_are_reported() {
    let _g = serial();
    assert_no_fd_leak(|| {
        let demux = Demux::open(DEMUX).unwrap();
        // No buffers yet: every index is bad.
        let e = demux.export_buffer(0, Access::Read).unwrap_err();
        assert_eq!(e.errno(), Errno::EINVAL);
        assert!(e.to_string().contains("no buffer 0"), "{e}");
        demux.request_buffers(2, BUF_SIZE).unwrap();
        assert_eq!(demux.query_buffer(2).unwrap_err().errno(), Errno::EINVAL);
        assert_eq!(demux.export_buffer(7, Access::Read).unwrap_err().errno(), Errno::EINVAL);
        // A filter on a PID nothing carries: the wait ends empty. The ring
        // buffer of the read() path can be resized until the filter runs.
        demux.set_pes_filter(0x1234, PesOutput::TsDemuxTap, false).unwrap();
        demux.set_buffer_size(64 * 1024).unwrap();
        demux.start().unwrap();
        assert_eq!(demux.set_buffer_size(32 * 1024).unwrap_err().errno(), Errno::EBUSY);
        demux.queue(0).unwrap();
        assert_eq!(demux.dequeue(Some(Duration::from_millis(50))).unwrap(), None);
        assert_eq!(demux.try_dequeue().unwrap(), None);
        // The PID range.
        assert_eq!(
            demux.set_pes_filter(0x2001, PesOutput::TsDemuxTap, false).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    });
}

#[test]
#[ignore = "needs vidtv and CONFIG_DVB_MMAP (the custom-kernel VM tier)"]
fn capabilities_list_the_demux_and_export() {
    let _g = serial();
    assert_eq!(dvb::list_demuxes().unwrap(), vec![std::path::PathBuf::from(DEMUX)]);
    assert_eq!(dvb::list_frontends().unwrap(), vec![std::path::PathBuf::from(FRONTEND)]);
    let caps = dmabuf::capabilities().unwrap();
    assert_eq!(caps.dvb_demuxes, vec![std::path::PathBuf::from(DEMUX)]);
    assert_eq!(caps.dvb_export, Some(true));
}
