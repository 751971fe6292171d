//! Vulkan interop on Mesa's lavapipe (software Vulkan, from bookworm-backports:
//! scripts/lavapipe.sh), which exports real dma-bufs only where
//! /dev/udmabuf exists: ignored on a bare host, run by the VM tier.
//! lavapipe offers `SYNC_FD` semaphores and fences there too; the GPU
//! machine's script (bench/vulkan-gpu.sh) covers them on NVIDIA's driver.
#![cfg(feature = "vulkan")]
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

mod common;

use common::{assert_no_fd_leak, open_fds, serial, udmabuf};
use dmabuf::ash::vk;
use dmabuf::frame::{Fourcc, Frame, FramePlane, Modifier};
use dmabuf::vulkan::{
    DeviceChoice, HandleType, ImageDesc, PlaneLayout, Vulkan, DRM_FORMAT_MOD_INVALID, DRM_FORMAT_MOD_LINEAR,
};
use dmabuf::{Access, DmaBuf, ErrorKind};
use std::os::fd::AsRawFd;

fn lavapipe() -> Vulkan {
    Vulkan::open(&DeviceChoice::Name("llvmpipe".into()))
        .unwrap_or_else(|e| panic!("this test needs lavapipe (mesa-vulkan-drivers >= 25: scripts/lavapipe.sh) and /dev/udmabuf (the VM tier): {e}"))
}

fn read_all(buf: &DmaBuf) -> Vec<u8> {
    let map = buf.map(Access::Read).unwrap();
    let _cpu = buf.begin_cpu_access(Access::Read).unwrap();
    let mut out = vec![0u8; map.len()];
    map.read(0, &mut out).unwrap();
    out
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn capabilities_report_dma_buf_for_buffers_and_images() {
    let _s = serial();
    let vk = lavapipe();
    let caps = vk.capabilities();
    assert!(caps.device_name.contains("llvmpipe"), "{caps:?}");
    assert!(caps.buffer.export.contains(&HandleType::DmaBuf), "{caps:?}");
    assert!(caps.buffer.import.contains(&HandleType::DmaBuf), "{caps:?}");
    assert!(caps.image.export.contains(&HandleType::DmaBuf), "{caps:?}");
    assert!(caps.enabled_extensions.iter().any(|e| e == "VK_EXT_image_drm_format_modifier"), "{caps:?}");
    // Mesa 25's lavapipe offers SYNC_FD semaphores and fences where the
    // kernel has sync_file (the VM's 6.12): checked here, exercised below.
    assert!(caps.semaphore.export && caps.semaphore.import, "{caps:?}");
    assert!(caps.fence.export && caps.fence.import, "{caps:?}");
    assert!(caps.missing_extensions.is_empty(), "{caps:?}");
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn exported_buffer_filled_by_the_device_reads_back_on_the_cpu() {
    let _s = serial();
    let vk = lavapipe();
    let buf = vk.create_buffer(65536, HandleType::DmaBuf, None).unwrap();
    vk.fill(&buf, 0, 65536, 0xa5c3_0f5a).unwrap();
    let dmabuf = buf.export_dma_buf().unwrap();
    assert!(dmabuf.size() >= 65536);
    let bytes = read_all(&dmabuf);
    for (i, chunk) in bytes[..65536].chunks(4).enumerate() {
        assert_eq!(chunk, 0xa5c3_0f5a_u32.to_le_bytes(), "word {i}");
    }
    // An opaque fd is a different type: asking a dma-buf buffer for one fails.
    let e = buf.export_opaque_fd().unwrap_err();
    assert!(e.to_string().contains("opaque-fd"), "{e}");
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn udmabuf_written_by_the_cpu_is_imported_and_copied_on_the_device() {
    let _s = serial();
    let vk = lavapipe();
    let size = 8192u64;
    let src = udmabuf().alloc(size).unwrap();
    let pattern: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    {
        let map = src.map(Access::ReadWrite).unwrap();
        let _cpu = src.begin_cpu_access(Access::Write).unwrap();
        map.write(0, &pattern).unwrap();
    }
    // Import, copy into a new exportable buffer, export it and read it back.
    let round = |src: DmaBuf| {
        let imported = vk.import_buffer(src, None, None).unwrap();
        let dst = vk.create_buffer(size, HandleType::DmaBuf, None).unwrap();
        vk.copy(&imported, 0, &dst, 0, size).unwrap();
        read_all(&dst.export_dma_buf().unwrap())
    };
    // A first round opens the files the driver keeps for the device's life.
    round(udmabuf().alloc(size).unwrap());
    let before = open_fds();
    assert_eq!(&round(src)[..size as usize], &pattern[..]);
    // The import consumed the DmaBuf: its fd became the driver's, and
    // freeing the memory closed it with whatever the driver held besides
    // (Mesa 22's lavapipe keeps the fd it is given; Mesa 26's a duplicate
    // too). So exactly one fd fewer than before.
    assert_eq!(open_fds(), before - 1, "fds left open by an import, copy and export");
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn a_successful_import_leaves_no_forgotten_fd() {
    let _s = serial();
    let vk = lavapipe();
    let u = udmabuf();
    // Warm the driver up once (it may open files of its own on first use).
    drop(vk.import_buffer(u.alloc(4096).unwrap(), None, None).unwrap());
    assert_no_fd_leak(|| {
        for _ in 0..8 {
            let b = vk.import_buffer(u.alloc(4096).unwrap(), None, None).unwrap();
            drop(b);
        }
    });
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn failed_imports_hand_the_dma_buf_back_open() {
    let _s = serial();
    let vk = lavapipe();
    let u = udmabuf();
    assert_no_fd_leak(|| {
        // Wrong size: more than the dma-buf holds.
        let buf = u.alloc(4096).unwrap();
        let raw = buf.as_raw_fd();
        let e = vk.import_buffer(buf, Some(8192), None).unwrap_err();
        assert_eq!(e.error.kind(), ErrorKind::InvalidArgument, "{}", e.error);
        assert_eq!(e.handle.as_raw_fd(), raw);
        e.handle.info().unwrap(); // still open, still a dma-buf
                                  // Incompatible memory type: lavapipe has only host-visible memory.
        let e = vk.import_buffer(e.handle, None, Some(false)).unwrap_err();
        assert_eq!(e.error.kind(), ErrorKind::Unsupported, "{}", e.error);
        assert!(e.error.to_string().contains("memory type"), "{}", e.error);
        e.handle.info().unwrap();
        // Unsupported modifier for an image import (lavapipe has LINEAR only).
        let desc = ImageDesc::new(16, 16, vk::Format::R8G8B8A8_UNORM);
        let e = vk
            .import_image(e.handle, &desc, 0x0100_0000_0000_0001, &[PlaneLayout { offset: 0, pitch: 64 }], None)
            .unwrap_err();
        assert_eq!(e.error.kind(), ErrorKind::Unsupported, "{}", e.error);
        assert!(e.error.to_string().contains("modifier 0x100000000000001"), "{}", e.error);
        // The implicit modifier is not LINEAR and is refused.
        let e = vk
            .import_image(e.handle, &desc, DRM_FORMAT_MOD_INVALID, &[PlaneLayout { offset: 0, pitch: 64 }], None)
            .unwrap_err();
        assert!(e.error.to_string().contains("DRM_FORMAT_MOD_INVALID"), "{}", e.error);
        // A layout past the end of the dma-buf, refused before vkCreateImage.
        let e = vk
            .import_image(e.handle, &desc, DRM_FORMAT_MOD_LINEAR, &[PlaneLayout { offset: 0, pitch: 512 }], None)
            .unwrap_err();
        assert_eq!(e.error.kind(), ErrorKind::InvalidArgument, "{}", e.error);
        // Two planes for a one-plane modifier.
        let two = [PlaneLayout { offset: 0, pitch: 64 }, PlaneLayout { offset: 1024, pitch: 64 }];
        let e = vk.import_image(e.handle, &desc, DRM_FORMAT_MOD_LINEAR, &two, None).unwrap_err();
        assert!(e.error.to_string().contains("plane"), "{}", e.error);
        // After all that, the right import succeeds with the same buffer.
        let img = vk
            .import_image(e.handle, &desc, DRM_FORMAT_MOD_LINEAR, &[PlaneLayout { offset: 0, pitch: 64 }], None)
            .unwrap();
        assert_eq!(img.modifier(), DRM_FORMAT_MOD_LINEAR);
    });
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn linear_image_exported_and_checked_row_by_row_with_its_pitch() {
    let _s = serial();
    let vk = lavapipe();
    let (w, h) = (37u32, 19u32);
    let desc = ImageDesc::new(w, h, vk::Format::R8G8B8A8_UNORM);
    let mods = vk.modifiers(desc.format, desc.usage).unwrap();
    assert!(mods.iter().any(|m| m.modifier == DRM_FORMAT_MOD_LINEAR), "{mods:?}");
    let img = vk.create_image(&desc, &[DRM_FORMAT_MOD_LINEAR], None).unwrap();
    assert_eq!(img.modifier(), DRM_FORMAT_MOD_LINEAR);
    let plane = img.planes()[0];
    assert!(plane.pitch >= u64::from(w) * 4, "{plane:?}");
    let packed = u64::from(w * h * 4);
    let src = vk.create_buffer(packed, HandleType::DmaBuf, None).unwrap();
    let staging = src.export_dma_buf().unwrap();
    let pattern: Vec<u8> = (0..packed).map(|i| (i % 253) as u8).collect();
    {
        let map = staging.map(Access::ReadWrite).unwrap();
        let _cpu = staging.begin_cpu_access(Access::Write).unwrap();
        map.write(0, &pattern).unwrap();
    }
    vk.copy_buffer_to_image(&src, &img).unwrap();
    let out = img.export_dma_buf().unwrap();
    let bytes = read_all(&out);
    let row = (w * 4) as usize;
    for y in 0..h as usize {
        let at = (plane.offset + plane.pitch * y as u64) as usize;
        assert_eq!(&bytes[at..at + row], &pattern[y * row..(y + 1) * row], "row {y}");
    }
    // The exported dma-buf imports back as an image with the same layout.
    let back = vk.import_image(out, &desc, img.modifier(), img.planes(), None).unwrap();
    assert_eq!(back.planes(), img.planes());
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn semaphore_to_sync_file_and_back() {
    let _s = serial();
    let vk = lavapipe();
    assert_no_fd_leak(|| {
        let a = vk.create_semaphore().unwrap();
        vk.submit_sync(&[], &[&a], None).unwrap();
        // The signal operation's fence as a sync_file (None: already signalled, fd -1).
        let sf = a.export_sync_file().unwrap();
        if let Some(sf) = &sf {
            assert!(sf.wait(Some(std::time::Duration::from_secs(10))).unwrap());
        }
        // Imported into a second semaphore and waited on by the queue.
        let b = vk.create_semaphore().unwrap();
        b.import_sync_file(sf.as_ref()).unwrap();
        let fence = vk.create_fence().unwrap();
        vk.submit_sync(&[&b], &[], Some(&fence)).unwrap();
        assert!(fence.wait(Some(std::time::Duration::from_secs(10))).unwrap());
        // A signalled payload given as "no fd" (-1) works the same way.
        b.import_sync_file(None).unwrap();
        fence.reset().unwrap();
        vk.submit_sync(&[&b], &[], Some(&fence)).unwrap();
        assert!(fence.wait(Some(std::time::Duration::from_secs(10))).unwrap());
    });
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn fence_exported_as_sync_file_then_attached_to_a_dma_buf() {
    let _s = serial();
    let vk = lavapipe();
    let buf = vk.create_buffer(4096, HandleType::DmaBuf, None).unwrap();
    let dmabuf = buf.export_dma_buf().unwrap();
    let fence = vk.create_fence().unwrap();
    vk.submit_sync(&[], &[], Some(&fence)).unwrap();
    let sf = fence.export_sync_file().unwrap();
    if let Some(sf) = sf {
        assert!(sf.wait(Some(std::time::Duration::from_secs(10))).unwrap());
        // The wlroots path: the render-done fence travels with the buffer.
        dmabuf.import_sync_file(&sf, Access::Write).unwrap();
        // And the reverse: the buffer's fence imported into a Vulkan fence.
        let out = dmabuf.export_sync_file(Access::Write).unwrap();
        let f2 = vk.create_fence().unwrap();
        f2.import_sync_file(Some(&out)).unwrap();
        assert!(f2.wait(Some(std::time::Duration::from_secs(10))).unwrap());
    }
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn opaque_fd_round_trip() {
    let _s = serial();
    let vk = lavapipe();
    let a = vk.create_buffer(4096, HandleType::OpaqueFd, Some(true)).unwrap();
    vk.fill(&a, 0, 4096, 0x0102_0304).unwrap();
    let opaque = a.export_opaque_fd().unwrap();
    // The types keep an opaque fd apart from a dma-buf whatever the driver
    // puts behind it. Mesa 22's lavapipe (bookworm, the x86 tiers) exports a
    // memfd, which the kernel refuses as a dma-buf; Mesa 26's (forky, the ARM
    // tiers) backs exportable memory with udmabuf, so the same fd is one.
    match DmaBuf::dup_from(&opaque) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::NotDmaBuf),
        Ok(d) => assert!(d.size() >= 4096, "a dma-buf behind the opaque fd holds the whole buffer: {d:?}"),
    }
    let b = vk.import_opaque_buffer(opaque, 4096).unwrap();
    let out = vk.create_buffer(4096, HandleType::DmaBuf, None).unwrap();
    vk.copy(&b, 0, &out, 0, 4096).unwrap();
    let bytes = read_all(&out.export_dma_buf().unwrap());
    assert!(bytes[..4096].chunks(4).all(|c| c == 0x0102_0304_u32.to_le_bytes()));
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
#[allow(unsafe_code, clippy::undocumented_unsafe_blocks, clippy::multiple_unsafe_ops_per_block)]
fn a_callers_own_ash_device_is_wrapped_and_left_to_the_caller() {
    // The normal case for a Rust program: it has its own instance and
    // device, made with the extensions it needs, and lends them.
    let _s = serial();
    let entry = unsafe { ash::Entry::load() }.unwrap();
    let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_1);
    let instance =
        unsafe { entry.create_instance(&vk::InstanceCreateInfo::default().application_info(&app), None) }.unwrap();
    let pd = unsafe { instance.enumerate_physical_devices() }
        .unwrap()
        .into_iter()
        .find(|&pd| {
            let p = unsafe { instance.get_physical_device_properties(pd) };
            p.device_name_as_c_str().unwrap().to_string_lossy().contains("llvmpipe")
        })
        .expect("lavapipe");
    let exts = [c"VK_KHR_external_memory_fd", c"VK_EXT_external_memory_dma_buf"];
    let ptrs: Vec<_> = exts.iter().map(|e| e.as_ptr()).collect();
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default().queue_family_index(0).queue_priorities(&prio)];
    let info = vk::DeviceCreateInfo::default().queue_create_infos(&queues).enabled_extension_names(&ptrs);
    let device = unsafe { instance.create_device(pd, &info, None) }.unwrap();
    {
        let vk = unsafe { Vulkan::from_raw(&instance, &device, pd, 0, &exts) }.unwrap();
        // What it was not given is reported missing, and refused by name.
        assert!(vk.missing_extensions().iter().any(|e| e == "VK_KHR_external_semaphore_fd"));
        let e = vk.create_fence().unwrap_err();
        assert!(e.to_string().contains("VK_KHR_external_fence_fd"), "{e}");
        let buf = vk.create_buffer(4096, HandleType::DmaBuf, None).unwrap();
        vk.fill(&buf, 0, 4096, 0x1234_5678).unwrap();
        let bytes = read_all(&buf.export_dma_buf().unwrap());
        assert!(bytes[..4096].chunks(4).all(|c| c == 0x1234_5678_u32.to_le_bytes()));
    }
    // The wrapper destroyed only its own command pool: the device is still
    // the caller's to use and destroy.
    unsafe { device.device_wait_idle() }.unwrap();
    unsafe { device.destroy_device(None) };
    unsafe { instance.destroy_instance(None) };
}

/// Copies `pattern` (tightly packed rows) into the single-plane `img`.
fn upload(vk: &Vulkan, img: &dmabuf::vulkan::Image, pattern: &[u8]) {
    let src = vk.create_buffer(pattern.len() as u64, HandleType::DmaBuf, None).unwrap();
    let staging = src.export_dma_buf().unwrap();
    {
        let map = staging.map(Access::ReadWrite).unwrap();
        let _cpu = staging.begin_cpu_access(Access::Write).unwrap();
        map.write(0, pattern).unwrap();
    }
    vk.copy_buffer_to_image(&src, img).unwrap();
}

/// Rows of `row` bytes read from `buf` at `offset`, `pitch` apart.
fn rows(buf: &DmaBuf, offset: u32, pitch: u32, row: usize, n: usize) -> Vec<u8> {
    let bytes = read_all(buf);
    let mut out = Vec::new();
    for y in 0..n {
        let at = offset as usize + pitch as usize * y;
        out.extend_from_slice(&bytes[at..at + row]);
    }
    out
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn image_to_frame_and_back_shares_the_pixels() {
    let _s = serial();
    let vk = lavapipe();
    let (w, h) = (37u32, 19u32);
    let desc = ImageDesc::new(w, h, vk::Format::R8G8B8A8_UNORM);
    let row = (w * 4) as usize;
    let first: Vec<u8> = (0..row * h as usize).map(|i| (i % 251) as u8).collect();
    let second: Vec<u8> = (0..row * h as usize).map(|i| (i * 3 % 241) as u8 ^ 0x5a).collect();
    // Warm the driver up (it opens files of its own on first use).
    drop(Frame::from_vulkan_image(&vk.create_image(&desc, &[DRM_FORMAT_MOD_LINEAR], None).unwrap()).unwrap());
    assert_no_fd_leak(|| {
        let img = vk.create_image(&desc, &[DRM_FORMAT_MOD_LINEAR], None).unwrap();
        upload(&vk, &img, &first);
        // Image -> Frame: the fourcc of R8G8B8A8 is AB24, the modifier and
        // the plane layout are the driver's.
        let frame = Frame::from_vulkan_image(&img).unwrap();
        assert_eq!((frame.width(), frame.height()), (w, h));
        assert_eq!(frame.fourcc(), Fourcc::ABGR8888);
        assert_eq!(frame.modifier(), Modifier::LINEAR);
        assert_eq!(frame.planes().len(), 1);
        let p = &frame.planes()[0];
        assert_eq!((u64::from(p.offset), u64::from(p.pitch)), (img.planes()[0].offset, img.planes()[0].pitch));
        assert!(p.pitch as usize >= row, "{p:?}");
        assert_eq!(rows(&p.buf, p.offset, p.pitch, row, h as usize), first, "the frame reads the image's pixels");
        // Frame -> Image: the import aliases the same memory, so pixels
        // copied into it show in the frame's dma-buf (and so in `img`).
        let back = frame.to_vulkan_image(&vk, desc.usage, None).unwrap();
        assert_eq!(back.modifier(), DRM_FORMAT_MOD_LINEAR);
        assert_eq!(back.planes(), img.planes());
        assert_eq!(back.desc(), &desc);
        upload(&vk, &back, &second);
        assert_eq!(rows(&p.buf, p.offset, p.pitch, row, h as usize), second, "pixels written through the import");
        // The frame is still the caller's and open; an imported image has
        // no exportable memory, so it makes no frame.
        frame.planes()[0].buf.info().unwrap();
        let e = Frame::from_vulkan_image(&back).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    });
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn udmabuf_frame_imported_as_an_image_keeps_its_offset_and_pitch() {
    let _s = serial();
    let vk = lavapipe();
    let (w, h, offset, pitch) = (16u32, 8u32, 4096u32, 128u32);
    let row = (w * 4) as usize;
    let buf = udmabuf().alloc(16384).unwrap();
    {
        let map = buf.map(Access::ReadWrite).unwrap();
        let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
        map.write(0, &[0xee; 16384]).unwrap();
    }
    let frame =
        Frame::new(w, h, Fourcc::XRGB8888, Modifier::LINEAR, vec![FramePlane::new(buf, offset, pitch)]).unwrap();
    let img = frame.to_vulkan_image(&vk, ImageDesc::new(1, 1, vk::Format::UNDEFINED).usage, None).unwrap();
    assert_eq!(img.desc().format, vk::Format::B8G8R8A8_UNORM);
    assert_eq!(img.planes(), &[PlaneLayout { offset: 4096, pitch: 128 }]);
    let pattern: Vec<u8> = (0..row * h as usize).map(|i| (i * 5 % 239) as u8).collect();
    upload(&vk, &img, &pattern);
    let bytes = read_all(&frame.planes()[0].buf);
    assert!(bytes[..offset as usize].iter().all(|&b| b == 0xee), "bytes before the plane untouched");
    for y in 0..h as usize {
        let at = offset as usize + pitch as usize * y;
        assert_eq!(&bytes[at..at + row], &pattern[y * row..(y + 1) * row], "row {y} at its pitch");
        assert!(bytes[at + row..at + pitch as usize].iter().all(|&b| b == 0xee), "row {y}'s padding untouched");
    }
}

#[test]
#[ignore = "needs lavapipe and /dev/udmabuf (run in the VM tier: npm test)"]
fn bad_frames_are_refused_by_name_and_leak_nothing() {
    let _s = serial();
    let vk = lavapipe();
    let u = udmabuf();
    let usage = ImageDesc::new(1, 1, vk::Format::UNDEFINED).usage;
    drop(vk.import_buffer(u.alloc(4096).unwrap(), None, None).unwrap());
    assert_no_fd_leak(|| {
        // A format with no Vulkan mapping.
        let f =
            Frame::new(16, 16, Fourcc::YUYV, Modifier::LINEAR, vec![FramePlane::new(u.alloc(4096).unwrap(), 0, 32)])
                .unwrap();
        let e = f.to_vulkan_image(&vk, usage, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains("YUYV") && e.to_string().contains("no Vulkan format"), "{e}");
        assert_eq!(e.fd(), Some(f.planes()[0].buf.as_raw_fd()), "{e}");
        // NV12 in two dma-bufs: one memory per plane is not supported.
        let f = Frame::new(
            16,
            16,
            Fourcc::NV12,
            Modifier::LINEAR,
            vec![FramePlane::new(u.alloc(4096).unwrap(), 0, 16), FramePlane::new(u.alloc(4096).unwrap(), 0, 16)],
        )
        .unwrap();
        let e = f.to_vulkan_image(&vk, usage, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains("plane 1 is in another dma-buf"), "{e}");
        // A modifier lavapipe does not offer (it has LINEAR only).
        let f = Frame::new(
            16,
            16,
            Fourcc::XRGB8888,
            Modifier(0x0100_0000_0000_0001),
            vec![FramePlane::new(u.alloc(4096).unwrap(), 0, 64)],
        )
        .unwrap();
        let e = f.to_vulkan_image(&vk, usage, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains("modifier 0x100000000000001"), "{e}");
        assert_eq!(e.fd(), Some(f.planes()[0].buf.as_raw_fd()), "{e}");
        // Layouts refused before vkCreateImage, naming the plane: an offset
        // or a pitch that splits a 4-byte texel (lavapipe itself accepts
        // any in-bounds layout, so no layout reaches its refusal,
        // VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT).
        for (offset, pitch, says) in
            [(2u32, 64u32, "plane 0: offset 2 and pitch 64"), (0, 66, "plane 0: offset 0 and pitch 66")]
        {
            let f = Frame::new(
                8,
                8,
                Fourcc::XRGB8888,
                Modifier::LINEAR,
                vec![FramePlane::new(u.alloc(4096).unwrap(), offset, pitch)],
            )
            .unwrap();
            let e = f.to_vulkan_image(&vk, usage, None).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
            assert!(e.to_string().contains(says) && e.to_string().contains("4-byte texel"), "{e}");
            assert_eq!(e.fd(), Some(f.planes()[0].buf.as_raw_fd()), "{e}");
            f.planes()[0].buf.info().unwrap();
        }
        // The last row ending exactly at the end of the dma-buf is fine.
        let f = Frame::new(
            8,
            8,
            Fourcc::XRGB8888,
            Modifier::LINEAR,
            vec![FramePlane::new(u.alloc(4096).unwrap(), 3840, 32)],
        )
        .unwrap();
        let img = f.to_vulkan_image(&vk, usage, None).unwrap();
        assert_eq!(img.planes(), &[PlaneLayout { offset: 3840, pitch: 32 }]);
    });
}
