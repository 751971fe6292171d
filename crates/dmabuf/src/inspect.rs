//! Every dma-buf on the system, who holds it and who maps it: one pass over
//! `/proc`, in the spirit of Android's `dmabuf_dump`.
//!
//! For each process the caller may look at, [`scan`] reads
//! `/proc/<pid>/fd` (a `readlink` per fd: a dma-buf's link reads
//! `/dmabuf:<name>`), `/proc/<pid>/fdinfo/<fd>` for those only (`size`,
//! `count`, `exp_name`, `name`, `ino`), and `/proc/<pid>/maps` for
//! mappings of dma-bufs (a buffer stays mapped after its fd is closed:
//! those are the leaks people hunt). No subprocess, no re-open of any
//! buffer, and no call that reaches another filesystem (`stat` of a FUSE
//! file waits for its daemon).
//!
//! # What counts as a dma-buf
//!
//! Only what the kernel says is one; a path is not enough, since any user
//! can name a file `/dmabuf:x` (in a directory `/dmabuf:x`, or at the root
//! of a mount namespace of their own). An fd counts when its fdinfo has
//! the `exp_name:` line that only the dma-buf core writes. A mapping counts
//! when its device (the maps line's `MAJ:MIN`) is the dma-buf filesystem's:
//! the device of a dma-buf fd the scan confirmed, or, when no process
//! showed one, of a one-page buffer the scan allocates from udmabuf or a
//! dma-heap and frees at once. Lines named like a dma-buf that fail the
//! test are left out and counted in [`Snapshot::unconfirmed`]; where no
//! device could be learned (no dma-buf fd anywhere and no allocator this
//! user may open), every mapping is unconfirmed.
//!
//! Totals saturate at `u64::MAX` rather than wrap. Names (`comm`, buffer
//! names) are as the kernel gives them, control characters included:
//! escape them before printing to a terminal. Buffers are grouped by inode; each process gets the buffers it
//! holds, the bytes behind its fds, the bytes it maps and its proportional
//! share (PSS: each buffer's size divided among the processes that hold or
//! map it); each exporter gets totals. Processes whose fds cannot be read
//! (another user's, without `CAP_SYS_PTRACE`) are listed in
//! [`Snapshot::unreadable`], never dropped silently.
//!
//! Top layer: it uses [`crate::error`] and the fd helpers, and the
//! udmabuf and heap sources for the one-page probe above.
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
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
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
    /// Its command name (`/proc/<pid>/comm`: 15 bytes at most, `node` for
    /// every Node.js process unless it sets `process.title`).
    pub comm: String,
    /// Its command line (`/proc/<pid>/cmdline`, the arguments joined by
    /// spaces, as `ps -o args` shows it); empty for a kernel thread, a
    /// zombie, or where it could not be read. The process writes it: treat
    /// it as untrusted text.
    pub cmdline: String,
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
    /// Maps lines named like a dma-buf (`/dmabuf:`) that the kernel does
    /// not show to be one (another filesystem's file, or no dma-buf device
    /// known to compare with): left out of everything above.
    pub unconfirmed: u64,
}

#[derive(Default)]
struct Acc {
    buffer: Option<Buffer>,
    by_pid: BTreeMap<u32, Holder>,
    map_end: u64,
    /// The name in a maps line, for buffers nobody holds by fd.
    map_name: String,
}

/// A mapping named like a dma-buf, before its device is checked.
struct Mapped {
    pid: u32,
    len: u64,
    end: u64,
    dev: (u64, u64),
    inode: u64,
    name: String,
}

/// What one scan gathers before it is summed up.
#[derive(Default)]
struct Pass {
    accs: HashMap<u64, Acc>,
    /// Mappings named like a dma-buf, until the dma-buf device is known.
    maps: Vec<Mapped>,
    /// The dma-buf filesystem's device, `(major, minor)`, once a confirmed dma-buf showed it.
    dmabuf_dev: Option<(u64, u64)>,
    /// A reusable read buffer.
    text: Vec<u8>,
}

impl Pass {
    /// Process `pid`'s dma-buf fds (`names` in its `fd` directory): each one
    /// whose fdinfo has `exp_name`. Returns whether it holds any.
    fn fds(&mut self, pid: u32, fd_dir: BorrowedFd<'_>, info_dir: BorrowedFd<'_>, names: Vec<i32>) -> bool {
        let mut seen = false;
        for n in names {
            let name = n.to_string();
            let Ok(link) = readlinkat(fd_dir, name.as_str()) else { continue };
            let link = link.to_string_lossy();
            if !(link.starts_with("/dmabuf:") || link == "anon_inode:dmabuf") {
                continue;
            }
            if read_at(info_dir, &name, &mut self.text, true).is_err() {
                continue;
            }
            let (size, count, exp, bname, ino) = parse_fdinfo(&String::from_utf8_lossy(&self.text));
            // Only the dma-buf core writes exp_name: anything else named so is not one.
            let Some(exp) = exp else { continue };
            // A confirmed dma-buf: stat reaches only the dma-buf filesystem. Its device
            // is the one every mapping of a dma-buf shows.
            let st = crate::fd::stat_at(fd_dir, name.as_str());
            if let Ok(st) = &st {
                self.dmabuf_dev.get_or_insert(dev_of(st.st_dev));
            }
            let ino = match (ino, &st) {
                (Some(i), _) => i,
                (None, Ok(st)) => st.st_ino,
                (None, Err(_)) => continue,
            };
            let acc = self.accs.entry(ino).or_default();
            let b = acc.buffer.get_or_insert_with(|| Buffer {
                inode: ino,
                size,
                exporter: exp,
                name: bname,
                file_count: count,
                holders: Vec::new(),
            });
            b.file_count = b.file_count.max(count);
            acc.by_pid.entry(pid).or_insert_with(|| Holder { pid, fds: Vec::new(), mapped: 0 }).fds.push(n);
            seen = true;
        }
        seen
    }

    /// Counts the mappings on the dma-buf device (learned from a probe
    /// buffer when no fd showed it); returns how many were not.
    fn confirm_maps(&mut self) -> u64 {
        if self.dmabuf_dev.is_none() && !self.maps.is_empty() {
            self.dmabuf_dev = probe_dev();
        }
        let mut unconfirmed = 0u64;
        for m in std::mem::take(&mut self.maps) {
            if Some(m.dev) != self.dmabuf_dev {
                unconfirmed = unconfirmed.saturating_add(1);
                continue;
            }
            let acc = self.accs.entry(m.inode).or_default();
            if acc.map_name.is_empty() {
                acc.map_name = m.name;
            }
            acc.map_end = acc.map_end.max(m.end);
            let h = acc.by_pid.entry(m.pid).or_insert_with(|| Holder { pid: m.pid, fds: Vec::new(), mapped: 0 });
            h.mapped = h.mapped.saturating_add(m.len);
        }
        unconfirmed
    }
}

fn open_dir(dir: BorrowedFd<'_>, name: &str) -> std::result::Result<OwnedFd, Errno> {
    openat(dir, name, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
}

/// Reads a /proc file. `small`: one record that fits a read (an fdinfo), so
/// a short read is the end; a multi-record file (maps) is read to EOF, as
/// `seq_file` hands out at most a page or so per read.
fn read_at(dir: BorrowedFd<'_>, name: &str, buf: &mut Vec<u8>, small: bool) -> std::result::Result<(), Errno> {
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

/// `/proc/<pid>/cmdline` as one line: the NUL-separated arguments joined
/// by spaces (a process that rewrote its arguments, as `process.title`
/// does, may leave one string padded with NULs: those go too).
fn cmdline_text(raw: &[u8]) -> String {
    let args: Vec<String> =
        raw.split(|&b| b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    args.join(" ")
}

/// A dma-buf's fdinfo: (size, count, `exp_name`, name, ino); `exp_name` is
/// `None` when the line is missing (not a dma-buf).
fn parse_fdinfo(text: &str) -> (u64, u64, Option<String>, String, Option<u64>) {
    let (mut size, mut count, mut exp, mut name, mut ino) = (0, 0, None, String::new(), None);
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let v = v.trim();
        match k {
            "size" => size = v.parse().unwrap_or(0),
            "count" => count = v.parse().unwrap_or(0),
            "exp_name" => exp = Some(v.to_string()),
            "name" => name = v.to_string(),
            "ino" => ino = v.parse().ok(),
            _ => {}
        }
    }
    (size, count, exp, name, ino)
}

/// A maps line that names a dma-buf.
#[derive(Debug, PartialEq, Eq)]
struct MapLine<'a> {
    /// Bytes mapped.
    len: u64,
    /// The end of the mapping in the buffer (offset + length).
    end: u64,
    /// The device, `(major, minor)`.
    dev: (u64, u64),
    inode: u64,
    name: &'a str,
}

/// A maps line of a dma-buf (`START-END PERMS OFFSET MAJ:MIN INODE /dmabuf:NAME`).
fn parse_map(line: &str) -> Option<MapLine<'_>> {
    let mut f = line.split_ascii_whitespace();
    let range = f.next()?;
    let _perms = f.next()?;
    let offset = u64::from_str_radix(f.next()?, 16).ok()?;
    let (major, minor) = f.next()?.split_once(':')?;
    let dev = (u64::from_str_radix(major, 16).ok()?, u64::from_str_radix(minor, 16).ok()?);
    let inode: u64 = f.next()?.parse().ok()?;
    f.next()?;
    // The path is the rest of the line (a name may hold spaces): `/dmabuf:<name>`.
    let name = line.split_once("/dmabuf:")?.1.trim_end();
    let name = name.strip_suffix(" (deleted)").unwrap_or(name);
    let (a, b) = range.split_once('-')?;
    let len = u64::from_str_radix(b, 16).ok()?.checked_sub(u64::from_str_radix(a, 16).ok()?)?;
    Some(MapLine { len, end: offset.saturating_add(len), dev, inode, name })
}

/// The device of the dma-buf filesystem, `(major, minor)`, from a dma-buf
/// this process makes for the purpose (one page, freed at once).
fn probe_dev() -> Option<(u64, u64)> {
    let page = crate::page_size() as u64;
    let buf = crate::udmabuf::Udmabuf::open().and_then(|u| u.alloc(page)).ok().or_else(|| {
        crate::heap::list()
            .ok()?
            .iter()
            .find_map(|name| crate::heap::Heap::open(name).and_then(|h| h.alloc(page, crate::Access::Read)).ok())
    })?;
    let st = crate::fd::stat(buf.as_fd()).ok()?;
    Some(dev_of(st.st_dev))
}

fn dev_of(dev: libc::dev_t) -> (u64, u64) {
    (nix::sys::stat::major(dev), nix::sys::stat::minor(dev))
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

    let mut pass = Pass::default();
    let mut snap = Snapshot::default();
    let mut comms: HashMap<u32, (String, String, bool)> = HashMap::new();
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
        // fds: readlink each; fdinfo for dma-bufs only.
        let names: Vec<i32> = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
            Ok(rd) => rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect(),
            Err(e) => {
                snap.unreadable.push(Unreadable { pid, errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)) });
                continue;
            }
        };
        let fdinfo_dir = open_dir(dir.as_fd(), "fdinfo").ok();
        let mut seen = fdinfo_dir.is_some_and(|info| pass.fds(pid, fd_dir.as_fd(), info.as_fd(), names));
        // Mappings: kept until the dma-buf device is known (after every process's fds).
        let maps_read = read_at(dir.as_fd(), "maps", &mut pass.text, false).is_ok();
        if maps_read {
            for line in String::from_utf8_lossy(&pass.text).lines() {
                if !line.contains("/dmabuf:") {
                    continue;
                }
                let Some(m) = parse_map(line) else { continue };
                pass.maps.push(Mapped { pid, len: m.len, end: m.end, dev: m.dev, inode: m.inode, name: m.name.into() });
                seen = true;
            }
        }
        if seen {
            let comm = read_at(dir.as_fd(), "comm", &mut pass.text, true)
                .map(|()| String::from_utf8_lossy(&pass.text).trim_end().to_string())
                .unwrap_or_default();
            let cmdline = read_at(dir.as_fd(), "cmdline", &mut pass.text, true)
                .map(|()| cmdline_text(&pass.text))
                .unwrap_or_default();
            comms.insert(pid, (comm, cmdline, maps_read));
        }
    }

    snap.unconfirmed = pass.confirm_maps();
    summarize(pass.accs, &comms, &mut snap);
    Ok(snap)
}

/// Turns what the pass gathered into buffers, process and exporter totals.
fn summarize(accs: HashMap<u64, Acc>, comms: &HashMap<u32, (String, String, bool)>, snap: &mut Snapshot) {
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
            let (comm, cmdline, maps_read) = comms.get(&h.pid).cloned().unwrap_or_default();
            let p = totals.entry(h.pid).or_insert_with(|| Process {
                pid: h.pid,
                comm,
                cmdline,
                buffers: 0,
                fds: 0,
                fd_bytes: 0,
                mapped_bytes: 0,
                mapped_only: 0,
                pss: 0,
                maps_read,
            });
            p.buffers = p.buffers.saturating_add(1);
            p.fds = p.fds.saturating_add(h.fds.len() as u64);
            if h.fds.is_empty() {
                p.mapped_only = p.mapped_only.saturating_add(1);
            } else {
                p.fd_bytes = p.fd_bytes.saturating_add(b.size);
            }
            p.mapped_bytes = p.mapped_bytes.saturating_add(h.mapped);
            p.pss = p.pss.saturating_add(share);
        }
        let e = exporters.entry(b.exporter.clone()).or_insert_with(|| {
            (
                Exporter { name: b.exporter.clone(), buffers: 0, bytes: 0, processes: 0 },
                std::collections::BTreeSet::new(),
            )
        });
        e.0.buffers = e.0.buffers.saturating_add(1);
        e.0.bytes = e.0.bytes.saturating_add(b.size);
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
    #[test]
    fn cmdline_joins_arguments_and_drops_padding() {
        assert_eq!(cmdline_text(b"node\0server.js\0--port\x003000\0"), "node server.js --port 3000");
        assert_eq!(cmdline_text(b"my title\0\0\0\0"), "my title");
        assert_eq!(cmdline_text(b""), "");
        assert_eq!(cmdline_text(b"a\xffb\0"), "a\u{fffd}b");
    }

    use super::*;

    #[test]
    fn parses_fdinfo_and_maps() {
        let (size, count, exp, name, ino) = parse_fdinfo(
            "pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t1234\nsize:\t8192\ncount:\t2\nexp_name:\tudmabuf\nname:\tframe\n",
        );
        assert_eq!((size, count, exp.as_deref(), name.as_str(), ino), (8192, 2, Some("udmabuf"), "frame", Some(1234)));
        // A file named like a dma-buf has no exp_name in its fdinfo.
        assert_eq!(parse_fdinfo("pos:\t0\nflags:\t0100000\nmnt_id:\t40\nino:\t77\n").2, None);
        let m = parse_map("7f0000000000-7f0000002000 rw-s 00001000 00:0d 1234                       /dmabuf:frame");
        assert_eq!(m, Some(MapLine { len: 0x2000, end: 0x3000, dev: (0, 0xd), inode: 1234, name: "frame" }));
        assert_eq!(parse_map("7f0000000000-7f0000002000 r--p 00000000 08:01 99 /usr/lib/libc.so"), None);
        // Offsets near the top of u64 saturate instead of wrapping.
        let m = parse_map("7f0000000000-7f0000002000 rw-s ffffffffffffff00 00:0d 5 /dmabuf:x").expect("line");
        assert_eq!(m.end, u64::MAX);
    }

    #[test]
    fn scans_proc_without_error() {
        let snap = scan().expect("scan");
        assert!(snap.scanned > 0);
    }
}
