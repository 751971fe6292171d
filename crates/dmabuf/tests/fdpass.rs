//! Device tests of `fdpass` and `inspect` (the VM tier runs them with
//! `--include-ignored`): a dma-buf and a `sync_file` cross a channel and
//! arrive sorted and owned, bytes written on one side are read on the
//! other, and the `/proc` scan finds this process's buffers, shared and
//! mapped, with their sizes, names and PSS.

use std::os::fd::AsFd;

use dmabuf::fdpass::{Channel, Passed, SocketKind};
use dmabuf::udmabuf::Udmabuf;
use dmabuf::Access;

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn a_dma_buf_and_a_sync_file_cross_and_arrive_sorted() {
    let before = fds();
    {
        let buf = Udmabuf::open().expect("udmabuf").alloc(4096).expect("alloc");
        buf.set_name("crossing").expect("name");
        let fence = buf.export_sync_file(Access::Write).expect("export");
        for kind in [SocketKind::SeqPacket, SocketKind::Stream] {
            let (a, b) = Channel::pair(kind).expect("pair");
            let map = buf.map(Access::ReadWrite).expect("map");
            map.write(0, b"across").expect("write");
            a.send(b"{\"n\":1}", &[buf.as_fd(), fence.as_fd()]).expect("send");
            let msg = b.recv(2).expect("recv");
            assert_eq!(msg.header, b"{\"n\":1}");
            let [Passed::DmaBuf(got), Passed::SyncFile(sf)] = &msg.fds[..] else { panic!("not sorted: {:?}", msg.fds) };
            assert_eq!(got.info().expect("info").inode, buf.info().expect("info").inode);
            assert_eq!(got.info().expect("info").name.as_deref(), Some("crossing"));
            assert!(sf.wait(Some(std::time::Duration::from_secs(1))).expect("wait"));
            let theirs = got.map(Access::Read).expect("map");
            let mut out = [0u8; 6];
            theirs.read(0, &mut out).expect("read");
            assert_eq!(&out, b"across");
        }
    }
    assert_eq!(fds(), before, "fds leaked");
}

#[test]
#[ignore = "needs /dev/udmabuf (run in the VM tier: npm test)"]
fn inspect_finds_this_process_buffers_sizes_names_and_mappings() {
    let u = Udmabuf::open().expect("udmabuf");
    let held = u.alloc(3 * 4096).expect("alloc");
    held.set_name("inspect-held").expect("name");
    let twin = held.try_clone().expect("dup");
    let mapped_only = u.alloc(2 * 4096).expect("alloc");
    mapped_only.set_name("inspect-mapped").expect("name");
    let map = mapped_only.map(Access::Read).expect("map");
    drop(mapped_only);
    let me = std::process::id();
    let snap = dmabuf::inspect::scan_pids(Some(&[me])).expect("scan");
    let b = snap.buffers.iter().find(|b| b.name == "inspect-held").expect("held buffer listed");
    assert_eq!(b.size, 3 * 4096);
    assert_eq!(b.exporter, "udmabuf");
    assert_eq!(b.holders.len(), 1);
    assert_eq!(b.holders[0].fds.len(), 2, "both fds of the buffer");
    let m = snap.buffers.iter().find(|b| b.name == "inspect-mapped").expect("mapped buffer listed");
    assert!(m.holders[0].fds.is_empty());
    assert_eq!(m.holders[0].mapped, 2 * 4096);
    let p = snap.processes.iter().find(|p| p.pid == me).expect("this process");
    assert!(p.mapped_only >= 1);
    assert!(p.pss >= 5 * 4096);
    drop((map, twin));
}
