//! The memory guard: an allocation of new memory (a heap buffer, a udmabuf
//! over a new memfd, a DRM dumb buffer, Vulkan memory) is refused with
//! `ENOMEM`, before the kernel sees it, when it would not fit in what the
//! kernel says is free for it. Bottom layer: it depends on [`crate::error`]
//! only.
//!
//! Why: the kernel does not refuse these for want of memory. Debian 6.12's
//! system heap takes any size and, past what is free, calls the OOM killer,
//! which kills whatever scores highest (a bystander first, then the
//! caller); udmabuf's memfd pages and dumb buffers are faulted in later, by
//! which time the same happens.
//!
//! # The rule
//!
//! `size` must be at most each of:
//!
//! 1. `MemTotal` (`/proc/meminfo`): more can never fit;
//! 2. `MemAvailable − reserve`, where `MemAvailable` is the kernel's own
//!    estimate of what can be allocated without swapping (free pages above
//!    the low watermarks, plus the page cache and slab it can reclaim) and
//!    `reserve` is `MemTotal / 16`, at least 64 MiB and at most half of
//!    `MemTotal`. The reserve is there because `MemAvailable` counts as
//!    reclaimable the page cache that running programs use (their own
//!    code), and because the rest of the machine has to go on allocating:
//!    the caller's next page fault, the bystanders' growth. With nothing
//!    kept back, an allocation that exactly fits leaves the system
//!    thrashing at the OOM killer's door. A sixteenth is the order of the
//!    kernel's own high watermarks on small machines and leaves a 2 GiB
//!    machine 128 MiB;
//! 3. for every memory cgroup from the caller's up to the root that has a
//!    limit (`memory.max` in cgroup v2, `memory.limit_in_bytes` in v1):
//!    `limit − usage − limit / 16`. The heap's pages are not charged to the
//!    cgroup (Debian 6.12 allocates them without `__GFP_ACCOUNT`), but a
//!    process in a cgroup with a limit is not meant to use more than that
//!    limit, and a heap buffer is memory all the same: it is refused too.
//!
//! Each figure is read at the call (a few microseconds); where one cannot be
//! read (no `/proc`, no cgroup file system) that part of the rule is
//! skipped. Memory already allocated is not checked again: a udmabuf over a
//! memfd the caller made (`Udmabuf::create`) pins pages the memfd has or
//! will have, and is bounded by udmabuf's `size_limit_mb` instead.
//!
//! The check and the allocation are not atomic: another process may
//! allocate in between. The guard makes the OOM killer unlikely, not
//! impossible.

use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};

/// The least that the reserve keeps back.
const MIN_RESERVE: u64 = 64 << 20;

/// Refuses (`ENOMEM`, with the figures in the message) an allocation of
/// `size` bytes that would not fit: see the module documentation.
pub(crate) fn check_alloc_size(op: &'static str, size: u64) -> Result<()> {
    let refuse = |why: String| Err(Error::new(ErrorKind::Os, Errno::ENOMEM, op, None, why));
    if let Some(mem) = meminfo() {
        if size > mem.total {
            return refuse(format!(
                "{size} bytes is more than this machine's memory ({} bytes): refused before asking the kernel",
                mem.total
            ));
        }
        let reserve = reserve(mem.total);
        let room = mem.available.saturating_sub(reserve);
        if size > room {
            return refuse(format!(
                "{size} bytes is more than this machine's memory has available: MemAvailable {} bytes less a reserve of {reserve} bytes (MemTotal / 16, at least 64 MiB) leaves {room}; refused before asking the kernel, whose OOM killer would otherwise choose a process to kill",
                mem.available
            ));
        }
    } else if let Ok(info) = nix::sys::sysinfo::sysinfo() {
        let ram = info.ram_total();
        if size > ram {
            return refuse(format!(
                "{size} bytes is more than this machine's memory ({ram} bytes): refused before asking the kernel"
            ));
        }
    }
    for cg in cgroup_limits() {
        let reserve = cg.limit / 16;
        let room = cg.limit.saturating_sub(cg.usage).saturating_sub(reserve);
        if size > room {
            return refuse(format!(
                "{size} bytes is more than this process's memory cgroup has room for: {} has a limit of {} bytes and uses {}, which less a reserve of {reserve} (1/16 of the limit) leaves {room}; refused before asking the kernel",
                cg.dir.display(),
                cg.limit,
                cg.usage
            ));
        }
    }
    Ok(())
}

/// What the memory guard keeps back of `MemAvailable` on a machine with
/// `total` bytes.
pub(crate) fn reserve(total: u64) -> u64 {
    (total / 16).max(MIN_RESERVE).min(total / 2)
}

/// `MemTotal` and `MemAvailable`, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemInfo {
    pub total: u64,
    pub available: u64,
}

/// `/proc/meminfo`'s `MemTotal` and `MemAvailable` (Linux 3.14+).
pub(crate) fn meminfo() -> Option<MemInfo> {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

fn parse_meminfo(text: &str) -> Option<MemInfo> {
    let kib = |key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.split(':').next() == Some(key))?;
        let v: u64 = line.split_ascii_whitespace().nth(1)?.parse().ok()?;
        v.checked_mul(1024)
    };
    Some(MemInfo { total: kib("MemTotal")?, available: kib("MemAvailable")? })
}

/// A memory cgroup with a limit, and what it uses now.
#[derive(Debug)]
struct Limited {
    dir: PathBuf,
    limit: u64,
    usage: u64,
}

/// Every memory cgroup with a limit from the caller's up to its root, in
/// cgroup v2 (`memory.max`, `memory.current`) and v1
/// (`memory.limit_in_bytes`, `memory.usage_in_bytes`).
fn cgroup_limits() -> Vec<Limited> {
    let (Ok(cgroups), Ok(mounts)) =
        (std::fs::read_to_string("/proc/self/cgroup"), std::fs::read_to_string("/proc/self/mountinfo"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in cgroups.lines() {
        // "ID:CONTROLLERS:PATH"; v2 is "0::PATH".
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let v2 = controllers.is_empty();
        if !v2 && !controllers.split(',').any(|c| c == "memory") {
            continue;
        }
        let Some((mount, root)) = cgroup_mount(&mounts, v2) else { continue };
        // The path is relative to the cgroup namespace's root, which is the mount's root here.
        let rel = path.strip_prefix(root.as_str()).unwrap_or(path).trim_start_matches('/');
        let mut dir = mount.join(rel);
        loop {
            if let Some(l) = limited(&dir, v2) {
                out.push(l);
            }
            if dir == mount || !dir.pop() {
                break;
            }
        }
    }
    out
}

/// The mount point and root of the cgroup v2 hierarchy (`v2`) or of the v1
/// hierarchy with the memory controller, from `/proc/self/mountinfo`.
fn cgroup_mount(mounts: &str, v2: bool) -> Option<(PathBuf, String)> {
    mounts.lines().find_map(|l| {
        let (head, tail) = l.split_once(" - ")?;
        let mut t = tail.split(' ');
        let fstype = t.next()?;
        let _source = t.next()?;
        let options = t.next().unwrap_or("");
        let ok = if v2 { fstype == "cgroup2" } else { fstype == "cgroup" && options.split(',').any(|o| o == "memory") };
        if !ok {
            return None;
        }
        let mut h = head.split(' ');
        let root = h.nth(3)?.to_string();
        let point = h.next()?;
        Some((PathBuf::from(unescape(point)), root))
    })
}

/// mountinfo escapes space, tab, newline and backslash as octal (`\040`).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn limited(dir: &Path, v2: bool) -> Option<Limited> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let (limit, usage) = if v2 {
        (read("memory.max")?, read("memory.current")?)
    } else {
        (read("memory.limit_in_bytes")?, read("memory.usage_in_bytes")?)
    };
    // "max" (v2) does not parse: no limit.
    let limit: u64 = limit.trim().parse().ok()?;
    // v1 writes "no limit" as the largest page-aligned i64.
    if !v2 && limit >= 1 << 62 {
        return None;
    }
    Some(Limited { dir: dir.to_path_buf(), limit, usage: usage.trim().parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_the_reserve() {
        let m = parse_meminfo("MemTotal:        2014292 kB\nMemFree:          100 kB\nMemAvailable:    1800000 kB\n")
            .expect("parsed");
        assert_eq!(m, MemInfo { total: 2_014_292 * 1024, available: 1_800_000 * 1024 });
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);
        assert_eq!(reserve(2 << 30), 128 << 20);
        assert_eq!(reserve(256 << 20), 64 << 20);
        assert_eq!(reserve(64 << 20), 32 << 20);
        assert_eq!(reserve(64 << 30), 4 << 30);
        let live = meminfo().expect("this machine's /proc/meminfo");
        assert!(live.available <= live.total);
    }

    #[test]
    fn refuses_what_does_not_fit_and_names_the_figures() {
        let live = meminfo().expect("meminfo");
        let e = check_alloc_size("TEST", live.total + 1).expect_err("over MemTotal");
        assert_eq!(e.errno(), Errno::ENOMEM);
        assert!(e.to_string().contains("more than this machine's memory"), "{e}");
        let e = check_alloc_size("TEST", live.available).expect_err("all of MemAvailable");
        assert!(e.to_string().contains("MemAvailable"), "{e}");
        check_alloc_size("TEST", 4096).expect("a page fits");
    }

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape(r"/sys/fs/a\040b"), "/sys/fs/a b");
        assert_eq!(unescape(r"/x\\y"), r"/x\\y");
        let mounts = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(cgroup_mount(mounts, true), Some((PathBuf::from("/sys/fs/cgroup"), "/".into())));
        assert_eq!(cgroup_mount(mounts, false), None);
    }
}
