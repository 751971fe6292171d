//! KMS (`dmabuf::kms`): cards, their connectors, CRTCs and planes,
//! framebuffers of dma-bufs, atomic commits with fences in and out, and the
//! card's events, for the TypeScript `Card`, `Framebuffer`,
//! `KmsPropertyBlob` and `KmsAtomic` classes. The atomic request is built in
//! TypeScript and handed over whole to [`kms_commit`]; the events are read
//! once the card's fd polls readable on Node's event loop (`wait.rs`), so no
//! thread blocks.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use dmabuf::kms::{Card, CommitFlags, Event, FbPlane, FramebufferDesc, Mode, PlaneType};
use dmabuf::Fourcc;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{miss, os, range, store, value};
use crate::frame::modifier;
use crate::table::{self, Miss, Obj};
use crate::wait::{self, Fail, Ids, Interest, Outcome};

/// A display mode (`struct drm_mode_modeinfo`).
#[napi(object)]
pub struct KmsMode {
    pub name: String,
    /// Pixel clock in kHz.
    pub clock: u32,
    pub hdisplay: u32,
    pub hsync_start: u32,
    pub hsync_end: u32,
    pub htotal: u32,
    pub hskew: u32,
    pub vdisplay: u32,
    pub vsync_start: u32,
    pub vsync_end: u32,
    pub vtotal: u32,
    pub vscan: u32,
    /// Refresh rate in Hz.
    pub vrefresh: u32,
    /// `DRM_MODE_FLAG_*` bits.
    pub flags: u32,
    /// `DRM_MODE_TYPE_*` bits.
    #[napi(js_name = "type")]
    pub mode_type: u32,
    /// Whether the connector prefers this mode (`DRM_MODE_TYPE_PREFERRED`).
    pub preferred: bool,
}

impl From<&Mode> for KmsMode {
    fn from(m: &Mode) -> Self {
        KmsMode {
            name: m.name.clone(),
            clock: m.clock,
            hdisplay: m.hdisplay.into(),
            hsync_start: m.hsync_start.into(),
            hsync_end: m.hsync_end.into(),
            htotal: m.htotal.into(),
            hskew: m.hskew.into(),
            vdisplay: m.vdisplay.into(),
            vsync_start: m.vsync_start.into(),
            vsync_end: m.vsync_end.into(),
            vtotal: m.vtotal.into(),
            vscan: m.vscan.into(),
            vrefresh: m.vrefresh,
            flags: m.flags,
            mode_type: m.type_,
            preferred: m.is_preferred(),
        }
    }
}

/// A connector (`DRM_IOCTL_MODE_GETCONNECTOR`).
#[napi(object)]
pub struct KmsConnector {
    pub id: u32,
    /// `DRM_MODE_CONNECTOR_*` as a name: `'Virtual'`, `'HDMI-A'`, `'Writeback'`.
    #[napi(js_name = "type")]
    pub type_name: String,
    /// The number among connectors of its type (the 1 of `HDMI-A-1`).
    pub type_id: u32,
    /// `'HDMI-A-1'`, `'Virtual-1'`, `'Writeback-1'`.
    pub name: String,
    #[napi(ts_type = "'connected' | 'disconnected' | 'unknown'")]
    pub status: String,
    /// A writeback connector (listed only after `enableWriteback()`).
    pub writeback: bool,
    pub modes: Vec<KmsMode>,
    /// Physical size in millimetres.
    pub mm_width: u32,
    pub mm_height: u32,
    /// The CRTC ids its encoders can drive.
    pub possible_crtcs: Vec<u32>,
}

/// A CRTC (`DRM_IOCTL_MODE_GETCRTC`).
#[napi(object)]
pub struct KmsCrtc {
    pub id: u32,
    /// Its index (bit position in `possible_crtcs` masks).
    pub index: u32,
    /// The framebuffer it shows (0: none).
    pub fb_id: u32,
    /// Its mode, when it has one.
    pub mode: Option<KmsMode>,
    pub gamma_size: u32,
}

/// A plane (`DRM_IOCTL_MODE_GETPLANE`, its `type` and `IN_FORMATS`).
#[napi(object)]
pub struct KmsPlane {
    pub id: u32,
    #[napi(js_name = "type", ts_type = "'primary' | 'overlay' | 'cursor'")]
    pub plane_type: String,
    pub possible_crtcs: Vec<u32>,
    /// The CRTC it is on (0: none).
    pub crtc_id: u32,
    /// The framebuffer it shows (0: none).
    pub fb_id: u32,
    /// Its formats as fourcc strings (`'XR24'`).
    pub formats: Vec<String>,
    /// Per format, the modifiers its `IN_FORMATS` blob lists (empty without one).
    pub modifiers: HashMap<String, Vec<BigInt>>,
}

/// A property of a KMS object and its current value.
#[napi(object)]
pub struct KmsProperty {
    pub id: u32,
    pub name: String,
    pub value: BigInt,
    /// `DRM_MODE_PROP_IMMUTABLE`: the kernel's to set, not a commit's.
    pub immutable: bool,
}

/// A new object's handle and its KMS id.
#[napi(object)]
pub struct KmsCreated {
    pub handle: f64,
    pub id: u32,
}

/// An out-fence a commit returned.
#[napi(object)]
pub struct KmsOutFence {
    /// The CRTC or writeback connector.
    pub object: u32,
    /// The new `SyncFile`'s handle and fd.
    pub handle: f64,
    pub fd: i32,
}

/// An event read from the card (`struct drm_event`).
#[napi(object)]
pub struct KmsEvent {
    #[napi(js_name = "type", ts_type = "'flip-complete' | 'vblank' | 'other'")]
    pub event_type: String,
    /// `drm_event.type`.
    pub kind: u32,
    /// The commit's `flipEvent` user data (0n for 'other').
    pub user_data: BigInt,
    /// When, on `CLOCK_MONOTONIC`, in nanoseconds (0n for 'other').
    pub time_ns: BigInt,
    /// The CRTC's frame counter.
    pub sequence: u32,
    /// The CRTC (0 on kernels before 4.12, and for 'other').
    pub crtc_id: u32,
}

fn on_card<T>(env: &Env, h: f64, m: &str, f: impl FnOnce(&Card) -> dmabuf::Result<T>) -> Result<T> {
    table::with_card(h, |c| f(c)).map_err(|x| miss(env, m, "Card", &x))?.map_err(|e| os(env, m, &e))
}

/// `open` of a primary node with the atomic client capabilities, and
/// `DRM_IOCTL_SET_MASTER`, or with `master` false `DRM_IOCTL_DROP_MASTER`
/// (the kernel makes a card's first opener master): Card.open. No path:
/// the first KMS card in /dev/dri.
#[napi(catch_unwind)]
pub fn kms_open(env: &Env, path: Option<String>, master: bool) -> Result<f64> {
    const M: &str = "Card.open";
    let card = match (path, master) {
        (Some(p), true) => Card::open(p),
        (Some(p), false) => Card::open_without_master(p),
        (None, m) => Card::open_first(m),
    }
    .map_err(|e| os(env, M, &e))?;
    if !master {
        // The kernel makes the first file to open a card its master: let go
        // of it (EINVAL when this file is not master is the usual answer).
        let _ = card.drop_master();
    }
    store(env, M, Obj::Card(Rc::new(card)))
}

/// The card's path and driver name: Card.path, Card.driverName.
#[napi(catch_unwind)]
pub fn kms_describe(env: &Env, h: f64) -> Result<Vec<String>> {
    on_card(env, h, "Card.driverName", |c| {
        Ok(vec![c.device().path().to_string_lossy().into_owned(), c.device().driver_name()?])
    })
}

/// `DRM_CLIENT_CAP_WRITEBACK_CONNECTORS`: Card.enableWriteback.
#[napi(catch_unwind)]
pub fn kms_enable_writeback(env: &Env, h: f64) -> Result<()> {
    on_card(env, h, "Card.enableWriteback", Card::enable_writeback)
}

/// Whether the card holds DRM master: Card.isMaster.
#[napi(catch_unwind)]
pub fn kms_is_master(env: &Env, h: f64) -> Result<bool> {
    on_card(env, h, "Card.isMaster", |c| Ok(c.is_master()))
}

/// `DRM_IOCTL_MODE_GETCONNECTOR` of each: Card.connectors.
#[napi(catch_unwind)]
pub fn kms_connectors(env: &Env, h: f64) -> Result<Vec<KmsConnector>> {
    let list = on_card(env, h, "Card.connectors", Card::connectors)?;
    Ok(list
        .into_iter()
        .map(|c| KmsConnector {
            id: c.id,
            type_name: c.type_name.to_owned(),
            type_id: c.type_id,
            name: c.name(),
            status: match c.status {
                dmabuf::kms::ConnectorStatus::Connected => "connected",
                dmabuf::kms::ConnectorStatus::Disconnected => "disconnected",
                dmabuf::kms::ConnectorStatus::Unknown => "unknown",
            }
            .to_owned(),
            writeback: c.is_writeback(),
            modes: c.modes.iter().map(KmsMode::from).collect(),
            mm_width: c.mm_size.0,
            mm_height: c.mm_size.1,
            possible_crtcs: c.possible_crtcs,
        })
        .collect())
}

/// `DRM_IOCTL_MODE_GETCRTC` of each: Card.crtcs.
#[napi(catch_unwind)]
pub fn kms_crtcs(env: &Env, h: f64) -> Result<Vec<KmsCrtc>> {
    let list = on_card(env, h, "Card.crtcs", Card::crtcs)?;
    Ok(list
        .into_iter()
        .map(|c| KmsCrtc {
            id: c.id,
            index: c.index,
            fb_id: c.fb_id,
            mode: c.mode.as_ref().map(KmsMode::from),
            gamma_size: c.gamma_size,
        })
        .collect())
}

/// `DRM_IOCTL_MODE_GETPLANE` of each, with `IN_FORMATS`: Card.planes.
#[napi(catch_unwind)]
pub fn kms_planes(env: &Env, h: f64) -> Result<Vec<KmsPlane>> {
    let list = on_card(env, h, "Card.planes", Card::planes)?;
    Ok(list
        .into_iter()
        .map(|p| KmsPlane {
            id: p.id,
            plane_type: match p.plane_type {
                PlaneType::Primary => "primary",
                PlaneType::Overlay => "overlay",
                PlaneType::Cursor => "cursor",
            }
            .to_owned(),
            possible_crtcs: p.possible_crtcs,
            crtc_id: p.crtc_id,
            fb_id: p.fb_id,
            formats: p.formats.iter().map(|&f| Fourcc(f).to_string()).collect(),
            modifiers: p
                .modifiers
                .iter()
                .map(|(&f, mods)| (Fourcc(f).to_string(), mods.iter().map(|&m| BigInt::from(m)).collect()))
                .collect(),
        })
        .collect())
}

/// `DRM_IOCTL_MODE_OBJ_GETPROPERTIES`: Card.properties.
#[napi(catch_unwind)]
pub fn kms_properties(env: &Env, h: f64, object: u32) -> Result<Vec<KmsProperty>> {
    let list = on_card(env, h, "Card.properties", |c| c.properties(object))?;
    Ok(list
        .into_iter()
        .map(|p| KmsProperty { id: p.id, immutable: p.is_immutable(), name: p.name, value: BigInt::from(p.value) })
        .collect())
}

/// `DRM_IOCTL_MODE_CREATEPROPBLOB` of a mode: Card.createModeBlob. `numbers`
/// are the mode's fields in `KmsMode`'s order, from `clock` to `type`.
#[napi(catch_unwind)]
pub fn kms_create_mode_blob(env: &Env, h: f64, name: String, numbers: Vec<u32>) -> Result<KmsCreated> {
    const M: &str = "Card.createModeBlob";
    let [clock, hdisplay, hsync_start, hsync_end, htotal, hskew, vdisplay, vsync_start, vsync_end, vtotal, vscan, vrefresh, flags, type_] =
        numbers[..]
    else {
        return Err(value(env, M, "a mode has 14 numbers"));
    };
    let short = |field: &str, v: u32| {
        u16::try_from(v).map_err(|_| range(env, M, &format!("mode.{field} must be at most 65535, got {v}")))
    };
    let mode = Mode {
        name,
        clock,
        hdisplay: short("hdisplay", hdisplay)?,
        hsync_start: short("hsyncStart", hsync_start)?,
        hsync_end: short("hsyncEnd", hsync_end)?,
        htotal: short("htotal", htotal)?,
        hskew: short("hskew", hskew)?,
        vdisplay: short("vdisplay", vdisplay)?,
        vsync_start: short("vsyncStart", vsync_start)?,
        vsync_end: short("vsyncEnd", vsync_end)?,
        vtotal: short("vtotal", vtotal)?,
        vscan: short("vscan", vscan)?,
        vrefresh,
        flags,
        type_,
    };
    let blob = on_card(env, h, M, |c| c.create_mode_blob(&mode))?;
    let id = blob.id();
    Ok(KmsCreated { handle: store(env, M, Obj::KmsBlob(blob))?, id })
}

/// Card.addFramebuffer: `DRM_IOCTL_PRIME_FD_TO_HANDLE` of each plane's
/// dma-buf, then `DRM_IOCTL_MODE_ADDFB2`; checked first against the plane
/// `plane` (an id) when given.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)] // Reason: one flat call from TypeScript.
pub fn kms_add_framebuffer(
    env: &Env,
    h: f64,
    width: u32,
    height: u32,
    fourcc: u32,
    m: BigInt,
    bufs: Vec<f64>,
    offsets: Vec<u32>,
    pitches: Vec<u32>,
    plane: Option<u32>,
) -> Result<KmsCreated> {
    const M: &str = "Card.addFramebuffer";
    let modifier = modifier(env, M, &m)?.raw();
    if offsets.len() != bufs.len() || pitches.len() != bufs.len() {
        return Err(value(env, M, "the plane arrays differ in length"));
    }
    table::with_card(h, |_| ()).map_err(|x| miss(env, M, "Card", &x))?;
    for &b in &bufs {
        crate::dma_buf::on_buf(env, b, M, |_| Ok(()))?;
    }
    let mut handles = vec![h];
    handles.extend_from_slice(&bufs);
    let fb = table::with_all(&handles, |objs| {
        let Some((Obj::Card(card), rest)) = objs.split_first().map(|(c, r)| (*c, r)) else {
            return Err(miss(env, M, "Card", &Miss::Closed));
        };
        let mut planes = Vec::with_capacity(rest.len());
        for (i, o) in rest.iter().enumerate() {
            let Obj::Buf(b) = o else { return Err(miss(env, M, "DmaBuf", &Miss::Closed)) };
            planes.push(FbPlane { buf: &b.buf, offset: offsets[i], pitch: pitches[i] });
        }
        let target = match plane {
            Some(id) => {
                let all = card.planes().map_err(|e| os(env, M, &e))?;
                let ids: Vec<String> = all.iter().map(|p| p.id.to_string()).collect();
                let found = all.into_iter().find(|p| p.id == id);
                if found.is_none() {
                    return Err(value(env, M, &format!("the card has no plane {id} (planes: {})", ids.join(", "))));
                }
                found
            }
            None => None,
        };
        let desc = FramebufferDesc { width, height, format: fourcc, modifier, planes: &planes };
        card.add_framebuffer(&desc, target.as_ref()).map_err(|e| os(env, M, &e))
    })
    .map_err(|(_, x)| miss(env, M, "DmaBuf", &x))??;
    let id = fb.id();
    Ok(KmsCreated { handle: store(env, M, Obj::Framebuffer(fb))?, id })
}

/// A property value from JavaScript: 0 to 2^64 - 1, or a negative number
/// down to -2^63 for a signed property, as the kernel's two's complement.
fn prop_value(env: &Env, m: &str, v: &BigInt) -> Result<u64> {
    let (negative, n, lossless) = v.get_u64();
    let bad = || range(env, m, "a property value must be a bigint from -(2n ** 63n) to 2n ** 64n - 1n");
    if !lossless {
        return Err(bad());
    }
    if negative {
        if n > 1 << 63 {
            return Err(bad());
        }
        return Ok(0u64.wrapping_sub(n));
    }
    Ok(n)
}

/// `DRM_IOCTL_MODE_ATOMIC`: KmsAtomic.commit and .test. The request as flat
/// arrays: (object, property name, value) triples; (plane, `SyncFile`
/// handle) in-fences; the CRTCs and writeback connectors whose out-fences
/// are asked for; `flags` = [allowModeset, nonblock, testOnly]; `flip` the
/// page-flip event's user data.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)] // Reason: one flat call from TypeScript.
pub fn kms_commit(
    env: &Env,
    h: f64,
    objects: Vec<u32>,
    names: Vec<String>,
    values: Vec<BigInt>,
    fence_planes: Vec<u32>,
    fences: Vec<f64>,
    out_crtcs: Vec<u32>,
    out_writeback: Vec<u32>,
    flags: Vec<bool>,
    flip: Option<BigInt>,
) -> Result<Vec<KmsOutFence>> {
    let test_only = flags.get(2).copied().unwrap_or(false);
    let m = if test_only { "KmsAtomic.test" } else { "KmsAtomic.commit" };
    if names.len() != objects.len() || values.len() != objects.len() || fences.len() != fence_planes.len() {
        return Err(value(env, m, "the request arrays differ in length"));
    }
    let values = values.iter().map(|v| prop_value(env, m, v)).collect::<Result<Vec<u64>>>()?;
    let flip = match flip {
        Some(b) => {
            let (negative, n, lossless) = b.get_u64();
            if negative || !lossless {
                return Err(range(env, m, "flipEvent must be a bigint from 0n to 2n ** 64n - 1n"));
            }
            Some(n)
        }
        None => None,
    };
    let cf = CommitFlags {
        allow_modeset: flags.first().copied().unwrap_or(false),
        nonblock: flags.get(1).copied().unwrap_or(false),
        flip_event: flip,
    };
    table::with_card(h, |_| ()).map_err(|x| miss(env, m, "Card", &x))?;
    for &f in &fences {
        table::with_sync(f, |_| ()).map_err(|x| miss(env, m, "SyncFile", &x))?;
    }
    let mut handles = vec![h];
    handles.extend_from_slice(&fences);
    let committed = table::with_all(&handles, |objs| {
        let Some((Obj::Card(card), rest)) = objs.split_first().map(|(c, r)| (*c, r)) else {
            return Err(miss(env, m, "Card", &Miss::Closed));
        };
        let mut a = card.atomic();
        for ((&o, n), &v) in objects.iter().zip(&names).zip(&values) {
            a.set(o, n, v).map_err(|e| os(env, m, &e))?;
        }
        for (&plane, o) in fence_planes.iter().zip(rest) {
            let Obj::Sync(s) = o else { return Err(miss(env, m, "SyncFile", &Miss::Closed)) };
            a.in_fence(plane, s).map_err(|e| os(env, m, &e))?;
        }
        for &c in &out_crtcs {
            a.out_fence(c).map_err(|e| os(env, m, &e))?;
        }
        for &c in &out_writeback {
            a.writeback_out_fence(c).map_err(|e| os(env, m, &e))?;
        }
        if test_only {
            a.test(cf).map_err(|e| os(env, m, &e))?;
            Ok(dmabuf::kms::Committed::default())
        } else {
            a.commit(cf).map_err(|e| os(env, m, &e))
        }
    })
    .map_err(|(_, x)| miss(env, m, "SyncFile", &x))??;
    let mut out = Vec::with_capacity(committed.out_fences.len());
    for (object, sf) in committed.out_fences {
        let fd = sf.as_raw_fd();
        match store(env, m, Obj::Sync(sf)) {
            Ok(handle) => out.push(KmsOutFence { object, handle, fd }),
            Err(e) => {
                for f in out {
                    table::remove(f.handle);
                }
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// What an event wait watches: the card, kept open by the wait.
struct CardIo(Rc<Card>);

impl AsRawFd for CardIo {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

impl wait::Io for CardIo {}

fn event(e: &Event) -> KmsEvent {
    let (event_type, kind, v) = match e {
        Event::FlipComplete(v) => ("flip-complete", 2, Some(v)),
        Event::Vblank(v) => ("vblank", 1, Some(v)),
        Event::Other { kind, .. } => ("other", *kind, None),
    };
    KmsEvent {
        event_type: event_type.to_owned(),
        kind,
        user_data: BigInt::from(v.map_or(0, |v| v.user_data)),
        time_ns: BigInt::from(v.map_or(0, |v| u64::try_from(v.time.as_nanos()).unwrap_or(u64::MAX))),
        sequence: v.map_or(0, |v| v.sequence),
        crtc_id: v.map_or(0, |v| v.crtc_id),
    }
}

/// Card.nextEvents: once the card's fd polls readable on the event loop,
/// `read(2)` of its events. Resolves them, an empty list when `timeoutMs`
/// (negative: none) passes first, or null once `kmsCancelEvents(waitId)`
/// ran. The wait keeps the card open until it settles.
#[napi(catch_unwind, ts_return_type = "Promise<KmsEvent[] | null>")]
pub fn kms_next_events(
    env: &Env,
    h: f64,
    timeout_ms: f64,
    wait_id: u32,
) -> Result<PromiseRaw<'_, Option<Vec<KmsEvent>>>> {
    const M: &str = "Card.nextEvents";
    let card = table::with_card(h, |c| Rc::clone(c)).map_err(|x| miss(env, M, "Card", &x))?;
    let attempt = |c: &CardIo| -> std::result::Result<Option<Vec<Event>>, Fail> {
        let events = c.0.read_events(Some(Duration::ZERO)).map_err(Fail::Core)?;
        Ok((!events.is_empty()).then_some(events))
    };
    let limit = wait::timeout(timeout_ms);
    wait::spawn(env, M, (Ids::Kms, wait_id), limit, CardIo(card), Interest::READABLE, true, attempt, |_, outcome| {
        Ok(match outcome {
            Outcome::Done(events) => Some(events.iter().map(event).collect()),
            Outcome::TimedOut => Some(Vec::new()),
            Outcome::Cancelled => None,
        })
    })
}

/// Ends a pending `kmsNextEvents` (its promise resolves null); unknown ids are ignored.
#[napi(catch_unwind)]
pub fn kms_cancel_events(env: &Env, wait_id: u32) {
    wait::cancel(env, Ids::Kms, wait_id);
}
