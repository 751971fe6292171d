//! The Vulkan checks for a machine with a real GPU (run by bench/vulkan-gpu.sh,
//! from a prebuilt binary: no Rust or npm needed there). NVIDIA's driver
//! offers opaque fds and `SYNC_FD` semaphores and fences but no dma-buf
//! export, so this covers what lavapipe in the VM tier cannot:
//!
//! 1. the opaque-fd round trip: memory filled on the device, exported as an
//!    `OpaqueFd`, imported as a second buffer, shown to alias the first;
//! 2. semaphore -> `SyncFile` -> semaphore, waited on by the queue;
//! 3. fence export as a `SyncFile`, waited on with `poll()`;
//! 4. a dma-buf export, where the driver has `VK_EXT_external_memory_dma_buf`.
//!
//! Prints one line per check and a last line `vulkan-gpu: N passed, M
//! failed, K unsupported by the driver` (unsupported: the driver reports no
//! support and the library's error names what is missing). Exits 0 only
//! when nothing failed. `DMABUF_VK_DEVICE` picks a device by
//! name (default: the first that has `VK_KHR_external_memory_fd`).
#![allow(clippy::cast_possible_truncation)] // Reason: 1 MiB fits any usize.

use std::time::{Duration, Instant};

use dmabuf::vulkan::{DeviceChoice, HandleType, Vulkan};
use dmabuf::{Access, ErrorKind};

/// `Ok(Ok(what))` passed, `Ok(Err(why))` unsupported by this driver (and
/// the error says so, naming the handle type), `Err(why)` failed.
type Check = Result<Result<String, String>, String>;
type CheckFn = fn(&Vulkan) -> Check;

fn e2s(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The object could not be made: unsupported (named in the error) or a failure.
fn unsupported_or_fail(e: &dmabuf::Error, needle: &str) -> Check {
    if e.kind() == ErrorKind::Unsupported && e.to_string().contains(needle) {
        Ok(Err(e.to_string()))
    } else {
        Err(e.to_string())
    }
}

fn opaque_round_trip(vk: &Vulkan) -> Check {
    const SIZE: u64 = 1 << 20;
    let a = vk.create_buffer(SIZE, HandleType::OpaqueFd, None).map_err(e2s)?;
    vk.fill(&a, 0, SIZE, 0x5a5a_c3c3).map_err(e2s)?;
    let fd = a.export_opaque_fd().map_err(e2s)?;
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let b = vk.import_opaque_buffer(fd, SIZE).map_err(|e| e.error.to_string())?;
    let host = vk.create_buffer(SIZE, HandleType::OpaqueFd, Some(true)).map_err(e2s)?;
    // What A holds, read through the imported B.
    vk.copy(&b, 0, &host, 0, SIZE).map_err(e2s)?;
    let mut out = vec![0u8; SIZE as usize];
    host.read_host(0, &mut out).map_err(e2s)?;
    if !out.chunks(4).all(|c| c == 0x5a5a_c3c3_u32.to_le_bytes()) {
        return Err("the imported buffer does not hold what the exported one was filled with".into());
    }
    // Written through B, read through A: one memory.
    vk.fill(&b, 4096, 4096, 0x0102_0304).map_err(e2s)?;
    vk.copy(&a, 0, &host, 0, SIZE).map_err(e2s)?;
    host.read_host(0, &mut out).map_err(e2s)?;
    let ok = out[4096..8192].chunks(4).all(|c| c == 0x0102_0304_u32.to_le_bytes())
        && out[..4096].chunks(4).all(|c| c == 0x5a5a_c3c3_u32.to_le_bytes());
    if !ok {
        return Err("a write through the imported buffer did not show in the exported one".into());
    }
    Ok(Ok(format!("1 MiB filled on the device, exported as opaque fd {raw}, imported, aliasing checked both ways")))
}

fn semaphore_round_trip(vk: &Vulkan) -> Check {
    let a = match vk.create_semaphore() {
        Ok(a) => a,
        Err(e) => return unsupported_or_fail(&e, "SYNC_FD"),
    };
    vk.submit_sync(&[], &[&a], None).map_err(e2s)?;
    let sf = a.export_sync_file().map_err(e2s)?;
    let what = match &sf {
        Some(sf) => {
            let info = sf.info().map_err(e2s)?;
            if !sf.wait(Some(Duration::from_secs(10))).map_err(e2s)? {
                return Err("the exported sync_file did not signal in 10 s".into());
            }
            let driver = info.fences.first().map_or("?".to_string(), |f| f.driver.clone());
            format!(
                "sync_file fd {} ({} fence(s), driver {driver})",
                std::os::fd::AsRawFd::as_raw_fd(sf),
                info.fences.len()
            )
        }
        None => "fd -1 (already signalled)".to_string(),
    };
    let b = vk.create_semaphore().map_err(e2s)?;
    b.import_sync_file(sf.as_ref()).map_err(e2s)?;
    let fence = vk.create_fence().map_err(e2s)?;
    vk.submit_sync(&[&b], &[], Some(&fence)).map_err(e2s)?;
    if !fence.wait(Some(Duration::from_secs(10))).map_err(e2s)? {
        return Err("the queue did not get past the imported semaphore in 10 s".into());
    }
    Ok(Ok(format!("exported as {what}, imported into a second semaphore, waited on by the queue")))
}

fn fence_export(vk: &Vulkan) -> Check {
    let fence = match vk.create_fence() {
        Ok(f) => f,
        Err(e) => return unsupported_or_fail(&e, "SYNC_FD"),
    };
    vk.submit_sync(&[], &[], Some(&fence)).map_err(e2s)?;
    let t = Instant::now();
    let sf = fence.export_sync_file().map_err(e2s)?;
    match sf {
        Some(sf) => {
            if !sf.wait(Some(Duration::from_secs(10))).map_err(e2s)? {
                return Err("the fence's sync_file did not signal in 10 s".into());
            }
            let st = sf.info().map_err(e2s)?.status;
            Ok(Ok(format!("sync_file signalled after {:?} (status {})", t.elapsed(), st.as_str())))
        }
        None => Ok(Ok("fd -1: the fence had already signalled".into())),
    }
}

fn dma_buf_export(vk: &Vulkan) -> Check {
    match vk.create_buffer(65536, HandleType::DmaBuf, None) {
        Err(e) if e.kind() == ErrorKind::Unsupported && e.to_string().contains("VK_EXT_external_memory_dma_buf") => {
            Ok(Err(e.to_string()))
        }
        Err(e) => Err(format!("unexpected error: {e}")),
        Ok(b) => {
            vk.fill(&b, 0, 65536, 0x7777_7777).map_err(e2s)?;
            let d = b.export_dma_buf().map_err(e2s)?;
            let info = d.info().map_err(e2s)?;
            match d.map(Access::Read) {
                Ok(m) => {
                    let mut out = vec![0u8; 16];
                    m.read(0, &mut out).map_err(e2s)?;
                    Ok(Ok(format!("dma-buf exported (exporter {}), first bytes {:02x?}", info.exporter, &out[..4])))
                }
                Err(e) => Ok(Ok(format!("dma-buf exported (exporter {}), not mappable: {e}", info.exporter))),
            }
        }
    }
}

fn main() {
    let choice = std::env::var("DMABUF_VK_DEVICE").map_or(DeviceChoice::First, DeviceChoice::Name);
    let vk = match Vulkan::open(&choice) {
        Ok(vk) => vk,
        Err(e) => {
            println!("vulkan-gpu: 0 passed, 1 failed (no device: {e})");
            std::process::exit(1);
        }
    };
    let caps = vk.capabilities();
    println!("device: {} (Vulkan {})", caps.device_name, caps.api_version);
    println!("enabled: {}", caps.enabled_extensions.join(" "));
    println!("missing: {}", caps.missing_extensions.join(" "));
    println!(
        "buffers: export {:?} import {:?}; images: export {:?} import {:?}; semaphore SYNC_FD {:?}; fence SYNC_FD {:?}",
        caps.buffer.export, caps.buffer.import, caps.image.export, caps.image.import, caps.semaphore, caps.fence
    );
    let checks: [(&str, CheckFn); 4] = [
        ("opaque-fd round trip", opaque_round_trip),
        ("semaphore -> SyncFile -> semaphore", semaphore_round_trip),
        ("fence export as SyncFile", fence_export),
        ("dma-buf export", dma_buf_export),
    ];
    let (mut passed, mut failed, mut unsupported) = (0, 0, 0);
    for (name, f) in checks {
        match f(&vk) {
            Ok(Ok(what)) => {
                passed += 1;
                println!("pass: {name}: {what}");
            }
            Ok(Err(why)) => {
                unsupported += 1;
                println!("unsupported: {name}: the driver lacks it, and the error says so: {why}");
            }
            Err(why) => {
                failed += 1;
                println!("FAIL: {name}: {why}");
            }
        }
    }
    println!(
        "vulkan-gpu: {passed} passed, {failed} failed, {unsupported} unsupported by the driver ({})",
        caps.device_name
    );
    std::process::exit(i32::from(failed > 0));
}
