//! Device tests of `fdpass` and `inspect` (the VM tier runs them with
//! `--include-ignored`): a dma-buf and a `sync_file` cross a channel and
//! arrive sorted and owned, bytes written on one side are read on the
//! other, and the `/proc` scan finds this process's buffers, shared and
//! mapped, with their sizes, names and PSS.

use std::os::fd::{AsFd, AsRawFd};

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

// Misuse and hostile peers (issue 19), no device needed: these run on the
// host too.

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dmabuf-fdpass-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temporary directory");
    d
}

#[test]
fn a_listener_removes_only_its_own_socket_file() {
    use dmabuf::fdpass::{Address, Listener};
    let dir = temp_dir("own");
    let path = dir.join("s.sock");
    let first = Listener::bind(&Address::Path(path.clone()), SocketKind::SeqPacket).unwrap();
    // Someone removes the file by hand and another server takes the path.
    std::fs::remove_file(&path).unwrap();
    let second = Listener::bind(&Address::Path(path.clone()), SocketKind::SeqPacket).unwrap();
    drop(first);
    assert!(path.exists(), "the first listener's drop left the second server's file alone");
    let client = Channel::connect(&Address::Path(path.clone()), SocketKind::SeqPacket).unwrap();
    let served = second.accept().unwrap();
    client.send(b"{}", &[]).unwrap();
    assert_eq!(served.recv(4).unwrap().header, b"{}");
    drop(second);
    assert!(!path.exists(), "its own file is removed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_zero_byte_packet_is_not_the_end_of_a_seqpacket_channel() {
    let (a, b) = Channel::pair(SocketKind::SeqPacket).unwrap();
    // A raw 0-byte packet, which a Channel never sends.
    nix::sys::socket::send(a.as_fd().as_raw_fd(), &[], nix::sys::socket::MsgFlags::empty()).unwrap();
    let e = b.recv(4).unwrap_err();
    assert_eq!(e.errno(), nix::errno::Errno::EPROTO, "{e}");
    a.send(b"[1]", &[]).unwrap();
    assert_eq!(b.recv(4).unwrap().header, b"[1]", "the channel goes on");
    drop(a);
    assert_eq!(b.recv(4).unwrap_err().errno(), nix::errno::Errno::EPIPE, "the hang-up is the end");
}

#[test]
fn pair_leaves_both_sockets_blocking() {
    let (a, b) = Channel::pair(SocketKind::Stream).unwrap();
    for c in [&a, &b] {
        let fl = nix::fcntl::fcntl(c.as_fd(), nix::fcntl::FcntlArg::F_GETFL).unwrap();
        assert_eq!(fl & libc::O_NONBLOCK, 0, "a child given this end may use blocking I/O");
    }
    // This library's own calls still never wait: nothing to read is EAGAIN.
    assert_eq!(a.try_recv(4).unwrap_err().errno(), nix::errno::Errno::EAGAIN);
}

#[test]
fn from_owned_refuses_listening_and_unconnected_sockets_and_keeps_flags() {
    use dmabuf::fdpass::{Address, Listener};
    use std::os::fd::OwnedFd;
    let dir = temp_dir("adopt");
    let l = Listener::bind(&Address::Path(dir.join("l.sock")), SocketKind::Stream).unwrap();
    let dup: OwnedFd = l.as_fd().try_clone_to_owned().unwrap();
    let e = Channel::from_owned(dup).unwrap_err();
    assert_eq!(e.error.errno(), nix::errno::Errno::EINVAL, "{}", e.error);
    let raw = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::SeqPacket,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    let e = Channel::from_owned(raw).unwrap_err();
    assert_eq!(e.error.errno(), nix::errno::Errno::ENOTCONN, "{}", e.error);
    let e = Listener::bind(&Address::parse("@"), SocketKind::SeqPacket).unwrap_err();
    assert_eq!(e.errno(), nix::errno::Errno::EINVAL, "{e}");
    drop(l);
    std::fs::remove_dir_all(&dir).unwrap();
}
