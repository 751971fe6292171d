//! Every dma-buf on the system, who holds it and who maps it: one pass over
//! `/proc`, in the spirit of Android's `dmabuf_dump`.
//!
//! For each process the caller may look at, [`scan`] reads
//! `/proc/<pid>/fd` (a `readlink` per fd: a dma-buf's link reads
//! `/dmabuf:<name>`), `/proc/<pid>/fdinfo/<fd>` for the dma-bufs only
//! (`size`, `count`, `exp_name`, `name`, `ino`), and `/proc/<pid>/maps`
//! for mappings of dma-bufs (a buffer stays mapped after its fd is closed:
//! those are the leaks people hunt). No subprocess, no re-open of any
//! buffer. Buffers are grouped by inode; each process gets the buffers it
//! holds, the bytes behind its fds, the bytes it maps and its proportional
//! share (PSS: each buffer's size divided among the processes that hold or
//! map it); each exporter gets totals. Processes whose fds cannot be read
//! (another user's, without `CAP_SYS_PTRACE`) are listed in
//! [`Snapshot::unreadable`], never dropped silently.
//!
//! Top layer: it uses only [`crate::error`] and the fd helpers.
//!
//! ```no_run
//! # fn main() -> Result<(), dmabuf::Error> {
//! let snap = dmabuf::inspect::scan()?;
//! for p in &snap.processes {
//!     println!("{} {} buffers, {} bytes by fd, pss {}", p.pid, p.buffers, p.fd_bytes, p.pss);
//! }
//! println!("{} processes could not be read", snap.unreadable.len());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::Mode;

use crate::error::{Error, Result};

/// One dma-buf (one inode), with everyone who holds or maps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buffer {
    /// The buffer's inode number (`ino` in fdinfo, the inode column of maps).
    pub inode: u64,
    /// Size in bytes. For a buffer nobody holds by fd (mapped only), the
    /// end of the furthest mapping, a lower bound.
    pub size: u64,
    /// The exporter (`exp_name`); empty when nobody holds it by fd.
    pub exporter: String,
    /// The name set with `DMA_BUF_SET_NAME`, or empty (for a buffer only
    /// mapped, the name in its maps line).
    pub name: String,
    /// The kernel's reference count of the buffer's file (`count`), the
    /// largest seen; 0 when nobody holds it by fd.
    pub file_count: u64,
    /// Who holds or maps it, by pid.
    pub holders: Vec<Holder>,
}

/// One process's hold on one buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The process.
    pub pid: u32,
    /// Its fds for the buffer (empty: it only maps it).
    pub fds: Vec<i32>,
    /// Bytes of the buffer it has mapped (summed over its mappings).
    pub mapped: u64,
}

/// One process's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// The process id.
    pub pid: u32,
    /// Its command name (`/proc/<pid>/comm`).
    pub comm: String,
    /// Distinct buffers it holds by fd or maps.
    pub buffers: u64,
    /// Its dma-buf fds.
    pub fds: u64,
    /// Bytes of the distinct buffers behind its fds.
    pub fd_bytes: u64,
    /// Bytes it has mapped.
    pub mapped_bytes: u64,
    /// Distinct buffers it maps but holds no fd for.
    pub mapped_only: u64,
    /// Its proportional share: each buffer's size divided by the number of
    /// processes that hold or map it.
    pub pss: u64,
    /// Whether its maps could be read (when not, mappings are missing).
    pub maps_read: bool,
}

/// One exporter's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exporter {
    /// `exp_name` (empty for mapped-only buffers of unknown exporter).
    pub name: String,
    /// Its buffers.
    pub buffers: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Processes holding or mapping at least one of them.
    pub processes: u64,
}

/// A process that could not be looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The process id.
    pub pid: u32,
    /// Why (`EACCES` for another user's process).
    pub errno: Errno,
}

/// The result of [`scan`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Every buffer seen, by inode.
    pub buffers: Vec<Buffer>,
    /// Every process that holds or maps at least one buffer, by pid.
    pub processes: Vec<Process>,
    /// Totals per exporter, by name.
    pub exporters: Vec<Exporter>,
    /// Processes whose fds could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Processes looked at.
    pub scanned: u64,
}

#[derive(Default)]
struct Acc {
    buffer: Option<Buffer>,
    by_pid: BTreeMap<u32, Holder>,
    map_end: u64,
    /// The name in a maps line, for buffers nobody holds by fd.
    map_name: String,
}

fn open_dir(dir: std::os::fd::BorrowedFd<'_>, name: &str) -> std::result::Result<OwnedFd, Errno> {
    openat(dir, name, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
}

/// Reads a /proc file. `small`: one record that fits a read (an fdinfo), so
/// a short read is the end; a multi-record file (maps) is read to EOF, as
/// `seq_file` hands out at most a page or so per read.
fn read_at(
    dir: std::os::fd::BorrowedFd<'_>,
    name: &str,
    buf: &mut Vec<u8>,
    small: bool,
) -> std::result::Result<(), Errno> {
    let fd = openat(dir, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        match nix::unistd::read(fd.as_fd(), &mut chunk) {
            Ok(0) => return Ok(()),
            // Saves one read per fdinfo.
            Ok(n) if small && n < chunk.len() / 2 => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(());
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// A dma-buf's fdinfo: (size, count, `exp_name`, name, ino).
fn parse_fdinfo(text: &str) -> (u64, u64, String, String, Option<u64>) {
    let (mut size, mut count, mut exp, mut name, mut ino) = (0, 0, String::new(), String::new(), None);
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let v = v.trim();
        match k {
            "size" => size = v.parse().unwrap_or(0),
            "count" => count = v.parse().unwrap_or(0),
            "exp_name" => exp = v.to_string(),
            "name" => name = v.to_string(),
            "ino" => ino = v.parse().ok(),
            _ => {}
        }
    }
    (size, count, exp, name, ino)
}

/// A maps line of a dma-buf: (length, end offset in the buffer, inode, name).
fn parse_map(line: &str) -> Option<(u64, u64, u64, &str)> {
    let mut f = line.split_ascii_whitespace();
    let range = f.next()?;
    let _perms = f.next()?;
    let offset = u64::from_str_radix(f.next()?, 16).ok()?;
    let _dev = f.next()?;
    let inode: u64 = f.next()?.parse().ok()?;
    f.next()?;
    // The path is the rest of the line (a name may hold spaces): `/dmabuf:<name>`.
    let name = line.split_once("/dmabuf:")?.1.trim_end();
    let name = name.strip_suffix(" (deleted)").unwrap_or(name);
    let (a, b) = range.split_once('-')?;
    let len = u64::from_str_radix(b, 16).ok()?.checked_sub(u64::from_str_radix(a, 16).ok()?)?;
    Some((len, offset + len, inode, name))
}

/// Scans `/proc` once. See the module documentation.
///
/// # Errors
/// When `/proc` itself cannot be read (not mounted, `EMFILE`). A process
/// that exits during the scan is left out; one that cannot be read is
/// listed in [`Snapshot::unreadable`].
pub fn scan() -> Result<Snapshot> {
    scan_pids(None)
}

/// [`scan`] limited to the given processes (the others are not read at all).
///
/// # Errors
/// As [`scan`].
pub fn scan_pids(only: Option<&[u32]>) -> Result<Snapshot> {
    let proc_ = Path::new("/proc");
    let io = |e: std::io::Error| {
        Error::os("open", None, Errno::from_raw(e.raw_os_error().unwrap_or(0)))
            .with_detail(format!("cannot list /proc: {e}"))
    };
    let mut pids: Vec<u32> = match only {
        Some(list) => list.to_vec(),
        None => {
            std::fs::read_dir(proc_).map_err(io)?.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect()
        }
    };
    pids.sort_unstable();
    pids.dedup();
    let proc_fd = nix::fcntl::open(proc_, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| Error::os("open", None, e).with_detail("cannot open /proc"))?;

    let mut accs: HashMap<u64, Acc> = HashMap::new();
    let mut snap = Snapshot::default();
    let mut comms: HashMap<u32, (String, bool)> = HashMap::new();
    let mut text = Vec::with_capacity(4096);
    for pid in pids {
        let Ok(dir) = open_dir(proc_fd.as_fd(), &pid.to_string()) else { continue };
        snap.scanned += 1;
        let fd_dir = match open_dir(dir.as_fd(), "fd") {
            Ok(d) => d,
            Err(Errno::ENOENT | Errno::ESRCH) => continue,
            Err(errno) => {
                snap.unreadable.push(Unreadable { pid, errno });
                continue;
            }
        };
        let mut seen = false;
        // fds: readlink each; fdinfo for dma-bufs only.
        let names: Vec<i32> = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
            Ok(rd) => rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect(),
            Err(e) => {
                snap.unreadable.push(Unreadable { pid, errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)) });
                continue;
            }
        };
        let fdinfo_dir = open_dir(dir.as_fd(), "fdinfo").ok();
        let fd_dir_b = fd_dir.as_fd();
        for n in names {
            let name = n.to_string();
            let Ok(link) = readlinkat(fd_dir_b, name.as_str()) else { continue };
            let link = link.to_string_lossy();
            if !(link.starts_with("/dmabuf:") || link == "anon_inode:dmabuf") {
                continue;
            }
            let Some(info_dir) = fdinfo_dir.as_ref() else { continue };
            if read_at(info_dir.as_fd(), &name, &mut text, true).is_err() {
                continue;
            }
            let (size, count, exp, bname, ino) = parse_fdinfo(&String::from_utf8_lossy(&text));
            let ino = match ino {
                Some(i) => i,
                None => match nix::sys::stat::fstatat(fd_dir_b, name.as_str(), nix::fcntl::AtFlags::empty()) {
                    Ok(st) => st.st_ino,
                    Err(_) => continue,
                },
            };
            let acc = accs.entry(ino).or_default();
            let b = acc.buffer.get_or_insert_with(|| Buffer {
                inode: ino,
                size,
                exporter: exp.clone(),
                name: bname.clone(),
                file_count: count,
                holders: Vec::new(),
            });
            b.file_count = b.file_count.max(count);
            acc.by_pid.entry(pid).or_insert_with(|| Holder { pid, fds: Vec::new(), mapped: 0 }).fds.push(n);
            seen = true;
        }
        // Mappings.
        let maps_read = read_at(dir.as_fd(), "maps", &mut text, false).is_ok();
        if maps_read {
            for line in String::from_utf8_lossy(&text).lines() {
                if !line.contains("/dmabuf:") {
                    continue;
                }
                let Some((len, end, ino, name)) = parse_map(line) else { continue };
                let acc = accs.entry(ino).or_default();
                if acc.map_name.is_empty() {
                    name.clone_into(&mut acc.map_name);
                }
                acc.map_end = acc.map_end.max(end);
                acc.by_pid.entry(pid).or_insert_with(|| Holder { pid, fds: Vec::new(), mapped: 0 }).mapped += len;
                seen = true;
            }
        }
        if seen {
            let comm = read_at(dir.as_fd(), "comm", &mut text, true)
                .map(|()| String::from_utf8_lossy(&text).trim_end().to_string())
                .unwrap_or_default();
            comms.insert(pid, (comm, maps_read));
        }
    }

    summarize(accs, &comms, &mut snap);
    Ok(snap)
}

/// Turns what the pass gathered into buffers, process and exporter totals.
fn summarize(accs: HashMap<u64, Acc>, comms: &HashMap<u32, (String, bool)>, snap: &mut Snapshot) {
    let mut totals: BTreeMap<u32, Process> = BTreeMap::new();
    let mut exporters: BTreeMap<String, (Exporter, std::collections::BTreeSet<u32>)> = BTreeMap::new();
    let mut buffers: Vec<Buffer> = Vec::with_capacity(accs.len());
    for (ino, acc) in accs {
        let mut b = acc.buffer.unwrap_or_else(|| Buffer {
            inode: ino,
            size: acc.map_end,
            exporter: String::new(),
            name: acc.map_name.clone(),
            file_count: 0,
            holders: Vec::new(),
        });
        b.holders = acc.by_pid.into_values().collect();
        let share = b.size / (b.holders.len().max(1) as u64);
        for h in &b.holders {
            let (comm, maps_read) = comms.get(&h.pid).cloned().unwrap_or_default();
            let p = totals.entry(h.pid).or_insert_with(|| Process {
                pid: h.pid,
                comm,
                buffers: 0,
                fds: 0,
                fd_bytes: 0,
                mapped_bytes: 0,
                mapped_only: 0,
                pss: 0,
                maps_read,
            });
            p.buffers += 1;
            p.fds += h.fds.len() as u64;
            if h.fds.is_empty() {
                p.mapped_only += 1;
            } else {
                p.fd_bytes += b.size;
            }
            p.mapped_bytes += h.mapped;
            p.pss += share;
        }
        let e = exporters.entry(b.exporter.clone()).or_insert_with(|| {
            (
                Exporter { name: b.exporter.clone(), buffers: 0, bytes: 0, processes: 0 },
                std::collections::BTreeSet::new(),
            )
        });
        e.0.buffers += 1;
        e.0.bytes += b.size;
        e.1.extend(b.holders.iter().map(|h| h.pid));
        buffers.push(b);
    }
    buffers.sort_unstable_by_key(|b| b.inode);
    snap.buffers = buffers;
    snap.processes = totals.into_values().collect();
    snap.exporters = exporters
        .into_values()
        .map(|(mut e, pids)| {
            e.processes = pids.len() as u64;
            e
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fdinfo_and_maps() {
        let (size, count, exp, name, ino) = parse_fdinfo(
            "pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1234\nsize:\t8192\ncount:\t2\nexp_name:\tudmabuf\nname:\tframe\n",
        );
        assert_eq!((size, count, exp.as_str(), name.as_str(), ino), (8192, 2, "udmabuf", "frame", Some(1234)));
        let m = parse_map("7f0000000000-7f0000002000 rw-s 00001000 00:0d 1234                       /dmabuf:frame");
        assert_eq!(m, Some((0x2000, 0x3000, 1234, "frame")));
        assert_eq!(parse_map("7f0000000000-7f0000002000 r--p 00000000 08:01 99 /usr/lib/libc.so"), None);
    }

    #[test]
    fn scans_proc_without_error() {
        let snap = scan().expect("scan");
        assert!(snap.scanned > 0);
    }
}
