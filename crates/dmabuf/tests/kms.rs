//! KMS on vkms: listing, framebuffers from dma-bufs, atomic commits with
//! fences in and out, page-flip events, writeback capture, DRM master.
//! Needs a kernel with `CONFIG_DRM_VKMS` (and `vkms.enable_writeback=1` on
//! its command line), which Debian's lacks: these run only in the
//! custom-kernel VM tier (`DMABUF_VM_KERNEL=custom`, `scripts/vm-tier.sh
//! custom`); run anywhere else they fail saying that vkms needs
//! `CONFIG_DRM_VKMS`. The in-fence is a vgem fence (`CONFIG_DRM_VGEM`, in
//! both kernels), which the test signals when it chooses.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps and numeric casts are fine; w, h, s(creen), a(tomic)
// read as the KMS names they stand for, and the bad-input table is a tuple.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]
#![allow(clippy::many_single_char_names, clippy::type_complexity)]

mod common;

use std::time::{Duration, Instant};

use dmabuf::kms::{
    fourcc, Card, CommitFlags, Connector, ConnectorStatus, Crtc, Event, FbPlane, Framebuffer, FramebufferDesc, Mode,
    Plane, PlaneType, PropertyBlob, MOD_INVALID, MOD_LINEAR,
};
use dmabuf::{Access, DmaBuf, ErrorKind};

const XR24: u32 = fourcc(b"XR24");

fn vkms() -> Card {
    Card::open_driver("vkms").unwrap_or_else(|e| {
        panic!("this test needs vkms: a kernel with CONFIG_DRM_VKMS (the custom-kernel VM tier): {e}")
    })
}

/// The screen: vkms's Virtual connector, its CRTC, primary plane and mode.
struct Screen {
    conn: Connector,
    crtc: Crtc,
    primary: Plane,
    mode: Mode,
}

fn screen(card: &Card) -> Screen {
    let conn = card.connectors().unwrap().into_iter().find(|c| c.type_name == "Virtual").expect("a Virtual connector");
    let mode = conn.preferred_mode().expect("a mode").clone();
    let crtc = card.crtcs().unwrap().into_iter().next().expect("a CRTC");
    let primary = card
        .planes()
        .unwrap()
        .into_iter()
        .find(|p| p.plane_type == PlaneType::Primary && p.possible_crtcs.contains(&crtc.id))
        .expect("a primary plane");
    Screen { conn, crtc, primary, mode }
}

/// A dumb buffer of vkms exported with PRIME, filled with a pattern whose
/// X bytes are 0xff (what vkms writes back for XRGB8888).
fn frame(card: &Card, w: u32, h: u32, seed: u8) -> (DmaBuf, u32, Vec<u8>) {
    let dumb = card.device().create_dumb(w, h, 32).unwrap();
    let buf = card.device().export(&dumb.handle, Access::ReadWrite).unwrap();
    let mut bytes = common::pattern(seed, dumb.size as usize);
    for px in bytes.chunks_mut(4) {
        if px.len() == 4 {
            px[3] = 0xff;
        }
    }
    let map = buf.map(Access::ReadWrite).unwrap();
    {
        let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
        map.write(0, &bytes).unwrap();
    }
    (buf, dumb.pitch, bytes)
}

fn add_fb(card: &Card, buf: &DmaBuf, pitch: u32, w: u32, h: u32, plane: Option<&Plane>) -> Framebuffer {
    let planes = [FbPlane { buf, offset: 0, pitch }];
    card.add_framebuffer(
        &FramebufferDesc { width: w, height: h, format: XR24, modifier: MOD_LINEAR, planes: &planes },
        plane,
    )
    .unwrap()
}

/// The plane properties that show `fb` full screen.
fn show(a: &mut dmabuf::kms::Atomic<'_>, s: &Screen, fb: &Framebuffer) {
    let (w, h) = (u64::from(s.mode.hdisplay), u64::from(s.mode.vdisplay));
    let p = s.primary.id;
    a.set(p, "FB_ID", u64::from(fb.id())).unwrap();
    a.set(p, "CRTC_ID", u64::from(s.crtc.id)).unwrap();
    for (name, v) in [("SRC_X", 0), ("SRC_Y", 0), ("SRC_W", w << 16), ("SRC_H", h << 16)] {
        a.set(p, name, v).unwrap();
    }
    for (name, v) in [("CRTC_X", 0), ("CRTC_Y", 0), ("CRTC_W", w), ("CRTC_H", h)] {
        a.set(p, name, v).unwrap();
    }
}

/// Modesets the screen with `fb` (blocking) and returns the mode blob.
fn modeset(card: &Card, s: &Screen, fb: &Framebuffer) -> PropertyBlob {
    let blob = card.create_mode_blob(&s.mode).unwrap();
    let mut a = card.atomic();
    a.set(s.conn.id, "CRTC_ID", u64::from(s.crtc.id)).unwrap();
    a.set(s.crtc.id, "MODE_ID", u64::from(blob.id())).unwrap();
    a.set(s.crtc.id, "ACTIVE", 1).unwrap();
    show(&mut a, s, fb);
    a.commit(CommitFlags { allow_modeset: true, ..Default::default() }).unwrap();
    blob
}

#[test]
#[ignore = "needs vkms (CONFIG_DRM_VKMS, vkms.enable_writeback=1: the custom-kernel VM tier)"]
fn vkms_lists_one_crtc_its_planes_formats_and_the_writeback_connector() {
    let _g = common::serial();
    let card = vkms();
    // Writeback connectors are listed only to files that ask.
    let before = card.connectors().unwrap();
    assert!(before.iter().all(|c| !c.is_writeback()), "writeback listed without the cap: {before:?}");
    card.enable_writeback().unwrap();
    let conns = card.connectors().unwrap();
    let crtcs = card.crtcs().unwrap();
    let planes = card.planes().unwrap();
    eprintln!("vkms: connectors {conns:#?}\ncrtcs {crtcs:#?}\nplanes {planes:#?}");

    assert_eq!(crtcs.len(), 1, "vkms has one CRTC");
    let crtc = &crtcs[0];
    let virt: Vec<_> = conns.iter().filter(|c| c.type_name == "Virtual").collect();
    assert_eq!(virt.len(), 1, "one Virtual connector: {conns:?}");
    assert_eq!(virt[0].status, ConnectorStatus::Connected);
    assert!(virt[0].preferred_mode().is_some_and(|m| m.hdisplay > 0 && m.vdisplay > 0), "{:?}", virt[0].modes);
    assert_eq!(virt[0].possible_crtcs, vec![crtc.id]);
    let wb: Vec<_> = conns.iter().filter(|c| c.is_writeback()).collect();
    assert_eq!(wb.len(), 1, "one writeback connector (vkms.enable_writeback=1 on the kernel command line): {conns:?}");
    assert_eq!(wb[0].name(), "Writeback-1");
    let wb_formats = card.property(wb[0].id, "WRITEBACK_PIXEL_FORMATS").unwrap();
    let blob = card.blob(u32::try_from(wb_formats.value).unwrap()).unwrap();
    let wb_fourccs: Vec<u32> = blob.chunks_exact(4).map(|c| u32::from_ne_bytes(c.try_into().unwrap())).collect();
    assert!(wb_fourccs.contains(&XR24), "writeback formats {wb_fourccs:x?}");

    let kinds: Vec<PlaneType> = planes.iter().map(|p| p.plane_type).collect();
    assert!(kinds.contains(&PlaneType::Primary) && kinds.contains(&PlaneType::Cursor), "{kinds:?}");
    for p in &planes {
        assert_eq!(p.possible_crtcs, vec![crtc.id], "plane {}", p.id);
        for code in [b"AR24", b"XR24", b"XR48", b"AR48", b"RG16"] {
            let f = fourcc(code);
            assert!(p.formats.contains(&f), "plane {} lacks {}", p.id, String::from_utf8_lossy(code));
            // IN_FORMATS: LINEAR only.
            assert_eq!(p.modifiers.get(&f), Some(&vec![MOD_LINEAR]), "plane {} {:?}", p.id, p.modifiers);
            assert!(p.supports(f, MOD_LINEAR) && p.supports(f, MOD_INVALID));
            assert!(!p.supports(f, 0x0100_0000_0000_0001), "an Intel X-tiled modifier");
        }
        assert!(!p.supports(fourcc(b"NV12"), MOD_LINEAR), "vkms has no YUV");
    }
    let props = card.properties(crtc.id).unwrap();
    for name in ["ACTIVE", "MODE_ID", "OUT_FENCE_PTR"] {
        assert!(props.iter().any(|p| p.name == name), "CRTC lacks {name}: {props:?}");
    }
    let mode_id = card.property(crtc.id, "MODE_ID").unwrap().id;
    assert_eq!(card.property_id(crtc.id, "MODE_ID").unwrap(), mode_id);
    assert_eq!(card.property_id(crtc.id, "MODE_ID").unwrap(), mode_id, "from the cache");
    assert_eq!(card.property_id(crtc.id, "NO_SUCH_PROPERTY").unwrap_err().kind(), ErrorKind::InvalidArgument);
    let err = card.property(crtc.id, "NO_SUCH_PROPERTY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("MODE_ID"), "the error lists what the object has: {err}");
}

#[test]
#[ignore = "needs vkms (CONFIG_DRM_VKMS, vkms.enable_writeback=1: the custom-kernel VM tier)"]
fn drm_master_is_exclusive_named_when_missing_and_released_on_drop() {
    let _g = common::serial();
    common::assert_no_fd_leak(|| {
        let first = vkms();
        assert!(first.is_master());
        let path = first.device().path().to_path_buf();
        let err = Card::open(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        assert_eq!(err.code(), "EBUSY", "{err}");
        assert!(err.to_string().contains("master"), "{err}");

        // Without master, listing works and committing is refused, named.
        let guest = Card::open_without_master(&path).unwrap();
        let s = screen(&guest);
        let (buf, pitch, _) = frame(&guest, u32::from(s.mode.hdisplay), u32::from(s.mode.vdisplay), 1);
        let fb = add_fb(&guest, &buf, pitch, u32::from(s.mode.hdisplay), u32::from(s.mode.vdisplay), None);
        let mut a = guest.atomic();
        show(&mut a, &s, &fb);
        let err = a.commit(CommitFlags::default()).unwrap_err();
        assert_eq!(err.code(), "EACCES", "{err}");
        assert!(err.to_string().contains("DRM master"), "{err}");
        drop(fb);
        drop(a);
        assert!(guest.framebuffer_ids().unwrap().is_empty());

        // Released on drop: the guest can take it now.
        drop(first);
        guest.set_master().unwrap();
        guest.drop_master().unwrap();
        assert!(!guest.is_master());
    });
}

/// A vgem buffer with an unsignalled write fence, and that fence as a
/// `SyncFile`; signal it with `vgem.vgem_fence_signal(id)`.
fn vgem_fence(vgem: &dmabuf::drm::DrmDevice) -> (dmabuf::drm::DumbBuffer, u32, dmabuf::SyncFile) {
    let dumb = vgem.create_dumb(64, 1, 32).unwrap();
    let buf = vgem.export(&dumb.handle, Access::ReadWrite).unwrap();
    let id = vgem.vgem_fence_attach(&dumb.handle, Access::Write).unwrap();
    let fence = buf.export_sync_file(Access::Read).unwrap();
    assert!(!fence.is_signaled().unwrap());
    (dumb, id, fence)
}

#[test]
#[ignore = "needs vkms (CONFIG_DRM_VKMS, vkms.enable_writeback=1: the custom-kernel VM tier)"]
fn a_cpu_frame_waits_for_its_in_fence_then_flips_and_writeback_reads_it_back() {
    let _g = common::serial();
    let card = vkms();
    card.enable_writeback().unwrap();
    let s = screen(&card);
    let (w, h) = (u32::from(s.mode.hdisplay), u32::from(s.mode.vdisplay));
    let (buf, pitch, bytes) = frame(&card, w, h, 7);
    let fb = add_fb(&card, &buf, pitch, w, h, Some(&s.primary));

    // The modeset waits for an in-fence that the test signals later.
    let vgem = common::vgem();
    let (_fenced, fence_id, in_fence) = vgem_fence(&vgem);
    let blob = card.create_mode_blob(&s.mode).unwrap();
    let mut a = card.atomic();
    a.set(s.conn.id, "CRTC_ID", u64::from(s.crtc.id)).unwrap();
    a.set(s.crtc.id, "MODE_ID", u64::from(blob.id())).unwrap();
    a.set(s.crtc.id, "ACTIVE", 1).unwrap();
    show(&mut a, &s, &fb);
    a.in_fence(s.primary.id, &in_fence).unwrap();
    a.out_fence(s.crtc.id).unwrap();
    let flags = CommitFlags { allow_modeset: true, nonblock: true, flip_event: Some(0xfeed) };
    let mut done = a.commit(flags).unwrap();
    let out = done.take_fence(s.crtc.id).expect("an out-fence");
    // Nothing may reach the screen while the in-fence is pending.
    std::thread::sleep(Duration::from_millis(300));
    assert!(card.read_events(Some(Duration::ZERO)).unwrap().is_empty(), "flipped before the in-fence signalled");
    assert!(!out.is_signaled().unwrap(), "out-fence signalled before the in-fence");

    let signalled = Instant::now();
    vgem.vgem_fence_signal(fence_id).unwrap();
    let events = card.read_events(Some(Duration::from_secs(5))).unwrap();
    let to_flip = signalled.elapsed();
    let flip = match events.as_slice() {
        [Event::FlipComplete(e)] if e.user_data == 0xfeed && e.crtc_id == s.crtc.id => *e,
        _ => panic!("expected one flip event: {events:?}"),
    };
    assert!(out.wait(Some(Duration::from_secs(5))).unwrap(), "the out-fence signals after the flip");
    // The kernel's own timestamps, all CLOCK_MONOTONIC: when the in-fence
    // signalled, the vblank that showed the frame, when the out-fence did.
    let stamp = |f: &dmabuf::SyncFile| f.info().unwrap().fences[0].timestamp_ns;
    let (in_ns, out_ns) = (stamp(&in_fence), stamp(&out));
    let flip_ns = u64::try_from(flip.time.as_nanos()).unwrap();
    // vkms stamps a vblank with the frame boundary its timer was set for,
    // and the timer may fire late (a TCG guest: seen 0.7 ms): the flip is
    // handled by the first timer run after the fence signalled, whose stamp
    // is the last boundary before that run, so it is less than one frame
    // period before the signal, never more. The out-fence is signalled with
    // that same stamp (drm_send_event_timestamp_locked), so the same bound
    // holds for it (seen 1.8 ms before the in-fence on armv7).
    let period_ns = u64::from(s.mode.htotal) * u64::from(s.mode.vtotal) * 1_000_000 / u64::from(s.mode.clock);
    assert!(
        flip_ns + period_ns > in_ns,
        "the flip's vblank ({flip_ns} ns) came a whole frame ({period_ns} ns) or more before the in-fence signalled ({in_ns} ns)"
    );
    assert!(
        out_ns + period_ns > in_ns,
        "the out-fence ({out_ns} ns) signalled a whole frame ({period_ns} ns) or more before the in-fence ({in_ns} ns)"
    );
    assert!(out_ns >= flip_ns, "the out-fence ({out_ns} ns) signalled before the flip's vblank ({flip_ns} ns)");
    eprintln!(
        "vkms timing: in-fence signal -> flip vblank {:?}, -> out-fence signal {:?} (kernel timestamps); \
         signal call -> flip event read {to_flip:?}",
        Duration::from_nanos(flip_ns.saturating_sub(in_ns)),
        Duration::from_nanos(out_ns.saturating_sub(in_ns))
    );

    let got = capture(&card, &s, &fb);
    assert_same_rows(&got, &bytes, pitch as usize, w as usize * 4, h as usize);
    drop(blob);
}

/// Writeback: the Virtual connector off, the writeback connector on the
/// CRTC (they cannot share it) with `fb` on the primary plane, capturing
/// into a second buffer, whose bytes come back.
fn capture(card: &Card, s: &Screen, fb: &Framebuffer) -> Vec<u8> {
    let (w, h) = (u32::from(s.mode.hdisplay), u32::from(s.mode.vdisplay));
    let wb = card.connectors().unwrap().into_iter().find(Connector::is_writeback).expect("writeback connector");
    let (cap_buf, cap_pitch, _) = frame(card, w, h, 99);
    let cap_fb = add_fb(card, &cap_buf, cap_pitch, w, h, None);
    let blob = card.create_mode_blob(&s.mode).unwrap();
    let mut a = card.atomic();
    a.set(s.conn.id, "CRTC_ID", 0).unwrap();
    a.set(s.crtc.id, "MODE_ID", u64::from(blob.id())).unwrap();
    a.set(s.crtc.id, "ACTIVE", 1).unwrap();
    a.set(wb.id, "CRTC_ID", u64::from(s.crtc.id)).unwrap();
    a.set(wb.id, "WRITEBACK_FB_ID", u64::from(cap_fb.id())).unwrap();
    a.writeback_out_fence(wb.id).unwrap();
    show(&mut a, s, fb);
    let started = Instant::now();
    let mut done = a.commit(CommitFlags { allow_modeset: true, ..Default::default() }).unwrap();
    let wb_fence = done.take_fence(wb.id).expect("a writeback out-fence");
    assert!(wb_fence.wait(Some(Duration::from_secs(5))).unwrap(), "the writeback frame was never written");
    eprintln!("vkms timing: writeback commit -> writeback out-fence {:?}", started.elapsed());
    let map = cap_buf.map(Access::Read).unwrap();
    let mut got = vec![0u8; cap_buf.size() as usize];
    {
        let _cpu = cap_buf.begin_cpu_access(Access::Read).unwrap();
        map.read(0, &mut got).unwrap();
    }
    // Rows are compared at the capture's pitch: make the callers' match.
    assert_eq!(cap_pitch as usize, w as usize * 4, "vkms's dumb pitch is not w * 4");
    got
}

fn assert_same_rows(got: &[u8], want: &[u8], want_pitch: usize, row: usize, h: usize) {
    for y in 0..h {
        let expected = &want[y * want_pitch..y * want_pitch + row];
        assert!(&got[y * row..y * row + row] == expected, "writeback row {y} differs from the frame");
    }
}

#[test]
#[ignore = "needs vkms (CONFIG_DRM_VKMS, vkms.enable_writeback=1: the custom-kernel VM tier)"]
fn a_udmabuf_frame_from_another_device_is_scanned_out_byte_for_byte() {
    let _g = common::serial();
    let card = vkms();
    card.enable_writeback().unwrap();
    let s = screen(&card);
    let (w, h) = (u32::from(s.mode.hdisplay), u32::from(s.mode.vdisplay));
    let pitch = w * 4;
    let size = u64::from(pitch) * u64::from(h);
    let buf = common::udmabuf().alloc(size.div_ceil(common::page()) * common::page()).unwrap();
    let mut bytes = common::pattern(31, buf.size() as usize);
    for px in bytes.chunks_mut(4) {
        px[3] = 0xff;
    }
    let map = buf.map(Access::ReadWrite).unwrap();
    {
        let _cpu = buf.begin_cpu_access(Access::Write).unwrap();
        map.write(0, &bytes).unwrap();
    }
    let fb = add_fb(&card, &buf, pitch, w, h, Some(&s.primary));
    let got = capture(&card, &s, &fb);
    assert_same_rows(&got, &bytes, pitch as usize, pitch as usize, h as usize);
}

#[test]
#[ignore = "needs vkms (CONFIG_DRM_VKMS, vkms.enable_writeback=1: the custom-kernel VM tier)"]
fn bad_framebuffers_give_named_errors_and_leak_nothing() {
    let _g = common::serial();
    let card = vkms();
    let s = screen(&card);
    let (w, h) = (u32::from(s.mode.hdisplay), u32::from(s.mode.vdisplay));
    let dumb = card.device().create_dumb(w, h, 32).unwrap();
    let buf = card.device().export(&dumb.handle, Access::ReadWrite).unwrap();
    let pitch = dumb.pitch;
    let fds = common::open_fds();
    let planes = |offset, pitch| [FbPlane { buf: &buf, offset, pitch }];
    let short_pitch = format!("pitch {}", w * 4 - 4);
    let cases: Vec<(&str, u32, u64, [FbPlane<'_>; 1], Option<&Plane>, &str)> = vec![
        ("pitch below a row", XR24, MOD_LINEAR, planes(0, w * 4 - 4), None, &short_pitch),
        ("offset past the end", XR24, MOD_LINEAR, planes(pitch * 2, pitch), None, "offset"),
        (
            "modifier the kernel lacks",
            XR24,
            0x0100_0000_0000_0001,
            planes(0, pitch),
            None,
            "modifier 0x100000000000001",
        ),
        ("modifier the plane lacks", XR24, 0x0100_0000_0000_0001, planes(0, pitch), Some(&s.primary), "does not take"),
        ("format the plane lacks", fourcc(b"NV12"), MOD_LINEAR, planes(0, pitch), Some(&s.primary), "NV12"),
        ("format the kernel lacks", fourcc(b"NV12"), MOD_LINEAR, planes(0, pitch), None, "NV12"),
    ];
    for (what, format, modifier, p, plane, needle) in cases {
        let desc = FramebufferDesc { width: w, height: h, format, modifier, planes: &p };
        let err = card.add_framebuffer(&desc, plane).unwrap_err();
        eprintln!("{what}: {err}");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{what}: {err}");
        assert_eq!(err.code(), "EINVAL", "{what}: {err}");
        assert!(err.to_string().contains(needle), "{what}: {err} should name {needle}");
        assert_eq!(card.device().handle_users(dumb.handle.raw()), 1, "{what}: the import's GEM handle leaked");
    }
    let err = card
        .add_framebuffer(
            &FramebufferDesc { width: w, height: h, format: XR24, modifier: MOD_LINEAR, planes: &[] },
            None,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert_eq!(common::open_fds(), fds, "fd leak");
    assert!(card.framebuffer_ids().unwrap().is_empty(), "framebuffer leak");
    // The same buffer imports fine with good numbers, and goes on drop.
    let fb = add_fb(&card, &buf, pitch, w, h, Some(&s.primary));
    assert_eq!(card.framebuffer_ids().unwrap(), vec![fb.id()]);
    assert_eq!(card.device().handle_users(dumb.handle.raw()), 2);
    drop(fb);
    assert!(card.framebuffer_ids().unwrap().is_empty());
    assert_eq!(card.device().handle_users(dumb.handle.raw()), 1);
}

#[test]
#[ignore = "needs vkms (CONFIG_DRM_VKMS, vkms.enable_writeback=1: the custom-kernel VM tier)"]
fn a_thousand_flips_leak_no_fd_and_no_framebuffer() {
    let _g = common::serial();
    let card = vkms();
    let s = screen(&card);
    let (w, h) = (u32::from(s.mode.hdisplay), u32::from(s.mode.vdisplay));
    let (a_buf, pitch, _) = frame(&card, w, h, 1);
    let (b_buf, _, _) = frame(&card, w, h, 2);
    let fbs = [add_fb(&card, &a_buf, pitch, w, h, None), add_fb(&card, &b_buf, pitch, w, h, None)];
    let _blob = modeset(&card, &s, &fbs[0]);
    let fds = common::open_fds();
    let n = 1000u64;
    let mut commit_to_fence = Duration::ZERO;
    let mut commit_to_flip = Duration::ZERO;
    for i in 0..n {
        let fb = &fbs[usize::from(i % 2 == 0)];
        let mut a = card.atomic();
        a.set(s.primary.id, "FB_ID", u64::from(fb.id())).unwrap();
        a.out_fence(s.crtc.id).unwrap();
        let t = Instant::now();
        let mut done = a.commit(CommitFlags { nonblock: true, flip_event: Some(i), ..Default::default() }).unwrap();
        let fence = done.take_fence(s.crtc.id).unwrap();
        assert!(fence.wait(Some(Duration::from_secs(5))).unwrap(), "flip {i}: out-fence never signalled");
        commit_to_fence += t.elapsed();
        let ev = card.read_events(Some(Duration::from_secs(5))).unwrap();
        commit_to_flip += t.elapsed();
        assert!(matches!(ev.as_slice(), [Event::FlipComplete(e)] if e.user_data == i), "flip {i}: {ev:?}");
    }
    let n32 = u32::try_from(n).unwrap();
    eprintln!(
        "vkms timing over {n} flips: commit -> out-fence {:?}, commit -> flip event read {:?} (mean)",
        commit_to_fence / n32,
        commit_to_flip / n32
    );
    assert_eq!(common::open_fds(), fds, "fd leak over {n} commits");
    let mut ids = card.framebuffer_ids().unwrap();
    ids.sort_unstable();
    let mut want: Vec<u32> = fbs.iter().map(Framebuffer::id).collect();
    want.sort_unstable();
    assert_eq!(ids, want, "framebuffer leak over {n} commits");
}
