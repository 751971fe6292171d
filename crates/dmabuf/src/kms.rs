//! KMS: showing dma-bufs on a display through atomic mode setting.
//!
//! A [`Card`] is a DRM primary node (`/dev/dri/card*`) opened with the
//! client capabilities `DRM_CLIENT_CAP_UNIVERSAL_PLANES` and
//! `DRM_CLIENT_CAP_ATOMIC` and, unless asked otherwise, as DRM master
//! (`DRM_IOCTL_SET_MASTER`; only the master may commit). It lists
//! connectors, CRTCs and planes (with each plane's formats and, from its
//! `IN_FORMATS` blob, the modifiers of each format); imports dma-bufs as
//! [`Framebuffer`]s (`DRM_IOCTL_PRIME_FD_TO_HANDLE`, then
//! `DRM_IOCTL_MODE_ADDFB2`, with the GEM handles counted by
//! [`DrmDevice`]); builds [`Atomic`] commits by property name, tests them
//! (`DRM_MODE_ATOMIC_TEST_ONLY`) and commits them, with an in-fence from a
//! [`SyncFile`] (`IN_FENCE_FD`) and out-fences returned as [`SyncFile`]s
//! (`OUT_FENCE_PTR`, `WRITEBACK_OUT_FENCE_PTR`); and reads the page-flip
//! events a commit asked for ([`Card::read_events`]).
//!
//! This module builds on [`crate::drm`]: a card is a [`DrmDevice`], so a
//! dma-buf imported for a framebuffer shares the device's GEM handle table
//! with every other import on that file.
//!
//! Kernel documentation: <https://docs.kernel.org/gpu/drm-kms.html>

use std::collections::{BTreeMap, HashMap};
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use nix::errno::Errno;
use nix::libc::c_char;
use nix::poll::PollFlags;

use crate::dma_buf::DmaBuf;
use crate::drm::{list_nodes, DrmDevice, GemHandle};
use crate::error::{Error, ErrorKind, Result};
use crate::fourcc::Fourcc;
use crate::sync_file::SyncFile;
use crate::sys::drm as sys;
use crate::sys::drm_mode as mode;

/// `DRM_FORMAT_MOD_LINEAR`: rows one after another, no tiling.
pub const MOD_LINEAR: u64 = 0;
/// `DRM_FORMAT_MOD_INVALID`: no explicit modifier (the driver's choice);
/// `DRM_IOCTL_MODE_ADDFB2` is then called without `DRM_MODE_FB_MODIFIERS`.
pub const MOD_INVALID: u64 = 0x00ff_ffff_ffff_ffff;

/// A fourcc code as `DRM_FORMAT_*` spells it: `fourcc(b"XR24")` is
/// `DRM_FORMAT_XRGB8888`.
#[must_use]
pub const fn fourcc(code: &[u8; 4]) -> u32 {
    Fourcc::from_chars(*code).0
}

/// A display mode (`struct drm_mode_modeinfo`), as a connector lists it and
/// as a CRTC's `MODE_ID` blob takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // Reason: the fields are drm_mode_modeinfo's, named alike.
pub struct Mode {
    pub name: String,
    /// Pixel clock in kHz.
    pub clock: u32,
    pub hdisplay: u16,
    pub hsync_start: u16,
    pub hsync_end: u16,
    pub htotal: u16,
    pub hskew: u16,
    pub vdisplay: u16,
    pub vsync_start: u16,
    pub vsync_end: u16,
    pub vtotal: u16,
    pub vscan: u16,
    /// Refresh rate in Hz.
    pub vrefresh: u32,
    /// `DRM_MODE_FLAG_*`.
    pub flags: u32,
    /// `DRM_MODE_TYPE_*`.
    pub type_: u32,
}

/// `DRM_MODE_TYPE_PREFERRED`.
const DRM_MODE_TYPE_PREFERRED: u32 = 1 << 3;

impl Mode {
    fn from_raw(m: &mode::DrmModeModeinfo) -> Mode {
        Mode {
            name: crate::sys::c_chars(&m.name),
            clock: m.clock,
            hdisplay: m.hdisplay,
            hsync_start: m.hsync_start,
            hsync_end: m.hsync_end,
            htotal: m.htotal,
            hskew: m.hskew,
            vdisplay: m.vdisplay,
            vsync_start: m.vsync_start,
            vsync_end: m.vsync_end,
            vtotal: m.vtotal,
            vscan: m.vscan,
            vrefresh: m.vrefresh,
            flags: m.flags,
            type_: m.type_,
        }
    }

    fn to_raw(&self) -> mode::DrmModeModeinfo {
        let mut name = [0 as c_char; mode::DRM_DISPLAY_MODE_LEN];
        for (d, s) in name.iter_mut().zip(self.name.bytes().take(mode::DRM_DISPLAY_MODE_LEN - 1)) {
            *d = c_char::from_ne_bytes([s]);
        }
        mode::DrmModeModeinfo {
            clock: self.clock,
            hdisplay: self.hdisplay,
            hsync_start: self.hsync_start,
            hsync_end: self.hsync_end,
            htotal: self.htotal,
            hskew: self.hskew,
            vdisplay: self.vdisplay,
            vsync_start: self.vsync_start,
            vsync_end: self.vsync_end,
            vtotal: self.vtotal,
            vscan: self.vscan,
            vrefresh: self.vrefresh,
            flags: self.flags,
            type_: self.type_,
            name,
        }
    }

    /// Whether the connector marks this mode preferred (`DRM_MODE_TYPE_PREFERRED`).
    #[must_use]
    pub fn is_preferred(&self) -> bool {
        self.type_ & DRM_MODE_TYPE_PREFERRED != 0
    }
}

/// A connector's state (`drm_mode_get_connector.connection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorStatus {
    /// A display is attached.
    Connected,
    /// Nothing is attached.
    Disconnected,
    /// The driver cannot tell.
    Unknown,
}

/// `DRM_MODE_CONNECTOR_WRITEBACK`.
const DRM_MODE_CONNECTOR_WRITEBACK: u32 = 18;

/// The name of a `DRM_MODE_CONNECTOR_*` type, as the kernel's own
/// connector names use it (`"Virtual"`, `"HDMI-A"`, `"Writeback"`).
#[must_use]
pub fn connector_type_name(t: u32) -> &'static str {
    const NAMES: [&str; 21] = [
        "Unknown",
        "VGA",
        "DVI-I",
        "DVI-D",
        "DVI-A",
        "Composite",
        "SVIDEO",
        "LVDS",
        "Component",
        "DIN",
        "DP",
        "HDMI-A",
        "HDMI-B",
        "TV",
        "eDP",
        "Virtual",
        "DSI",
        "DPI",
        "Writeback",
        "SPI",
        "USB",
    ];
    usize::try_from(t).ok().and_then(|i| NAMES.get(i)).copied().unwrap_or("Unknown")
}

/// A connector (`DRM_IOCTL_MODE_GETCONNECTOR`).
#[derive(Debug, Clone)]
pub struct Connector {
    /// Object id.
    pub id: u32,
    /// `DRM_MODE_CONNECTOR_*`.
    pub connector_type: u32,
    /// The type's name ([`connector_type_name`]).
    pub type_name: &'static str,
    /// Number among connectors of the same type (`Virtual-1` is 1).
    pub type_id: u32,
    /// Whether a display is attached.
    pub status: ConnectorStatus,
    /// Modes the display offers, the preferred one marked.
    pub modes: Vec<Mode>,
    /// Physical size in millimetres (0 where unknown).
    pub mm_size: (u32, u32),
    /// The encoders that can drive it.
    pub encoders: Vec<u32>,
    /// The CRTCs that can drive it (ids, from its encoders' `possible_crtcs`).
    pub possible_crtcs: Vec<u32>,
}

impl Connector {
    /// The connector's name as the kernel prints it (`Virtual-1`).
    #[must_use]
    pub fn name(&self) -> String {
        format!("{}-{}", self.type_name, self.type_id)
    }

    /// Whether this is a writeback connector (visible only after
    /// [`Card::enable_writeback`]).
    #[must_use]
    pub fn is_writeback(&self) -> bool {
        self.connector_type == DRM_MODE_CONNECTOR_WRITEBACK
    }

    /// The preferred mode, else the first.
    #[must_use]
    pub fn preferred_mode(&self) -> Option<&Mode> {
        self.modes.iter().find(|m| m.is_preferred()).or_else(|| self.modes.first())
    }
}

/// A CRTC (`DRM_IOCTL_MODE_GETCRTC`).
#[derive(Debug, Clone)]
pub struct Crtc {
    /// Object id.
    pub id: u32,
    /// Its index: bit `index` of a plane's or encoder's `possible_crtcs`.
    pub index: u32,
    /// The framebuffer its primary plane shows (0: none).
    pub fb_id: u32,
    /// The current mode, if one is set.
    pub mode: Option<Mode>,
    /// Entries of its gamma table.
    pub gamma_size: u32,
}

/// A plane's role (its `type` property).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneType {
    /// `Overlay`.
    Overlay,
    /// `Primary`: the CRTC's main image.
    Primary,
    /// `Cursor`.
    Cursor,
}

/// A plane (`DRM_IOCTL_MODE_GETPLANE` and its `type` and `IN_FORMATS`
/// properties).
#[derive(Debug, Clone)]
pub struct Plane {
    /// Object id.
    pub id: u32,
    /// Primary, overlay or cursor.
    pub plane_type: PlaneType,
    /// The CRTCs it can be shown on (ids).
    pub possible_crtcs: Vec<u32>,
    /// The CRTC it is on now (0: none).
    pub crtc_id: u32,
    /// The framebuffer it shows now (0: none).
    pub fb_id: u32,
    /// Fourcc formats, in the driver's order.
    pub formats: Vec<u32>,
    /// Format -> modifiers from `IN_FORMATS`; empty where the plane has no
    /// such property (then only [`MOD_LINEAR`] and [`MOD_INVALID`] are
    /// taken to work).
    pub modifiers: BTreeMap<u32, Vec<u64>>,
}

impl Plane {
    /// Whether the plane takes `format` with `modifier`, by its format list
    /// and `IN_FORMATS` ([`MOD_INVALID`] asks for the format only).
    #[must_use]
    pub fn supports(&self, format: u32, modifier: u64) -> bool {
        if !self.formats.contains(&format) {
            return false;
        }
        if modifier == MOD_INVALID {
            return true;
        }
        if self.modifiers.is_empty() {
            return modifier == MOD_LINEAR;
        }
        self.modifiers.get(&format).is_some_and(|m| m.contains(&modifier))
    }
}

/// Reads a native-endian `u32` at `off` of `b`, or `None` past its end.
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_ne_bytes(s.try_into().ok()?))
}

/// Reads a native-endian `u64` at `off` of `b`, or `None` past its end.
fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    Some(u64::from_ne_bytes(s.try_into().ok()?))
}

/// `FORMAT_BLOB_CURRENT`.
const FORMAT_BLOB_VERSION: u32 = 1;

/// Parses an `IN_FORMATS` blob (`struct drm_format_modifier_blob`) into
/// format -> modifiers, checking every offset and count against the blob's
/// length. `None` for a blob that does not hold together.
pub(crate) fn parse_in_formats(blob: &[u8]) -> Option<BTreeMap<u32, Vec<u64>>> {
    let version = u32_at(blob, 0)?;
    if version != FORMAT_BLOB_VERSION {
        return None;
    }
    let count_formats = usize::try_from(u32_at(blob, 8)?).ok()?;
    let formats_offset = usize::try_from(u32_at(blob, 12)?).ok()?;
    let count_modifiers = usize::try_from(u32_at(blob, 16)?).ok()?;
    let modifiers_offset = usize::try_from(u32_at(blob, 20)?).ok()?;
    let mut formats = Vec::with_capacity(count_formats.min(blob.len() / 4));
    for i in 0..count_formats {
        formats.push(u32_at(blob, formats_offset.checked_add(i.checked_mul(4)?)?)?);
    }
    let mut out: BTreeMap<u32, Vec<u64>> = formats.iter().map(|&f| (f, Vec::new())).collect();
    for i in 0..count_modifiers {
        let at = modifiers_offset.checked_add(i.checked_mul(24)?)?;
        let mask = u64_at(blob, at)?;
        let first = usize::try_from(u32_at(blob, at + 8)?).ok()?;
        let modifier = u64_at(blob, at + 16)?;
        for bit in 0..64 {
            if mask & (1u64 << bit) != 0 {
                let f = *formats.get(first.checked_add(bit)?)?;
                let list = out.entry(f).or_default();
                if !list.contains(&modifier) {
                    list.push(modifier);
                }
            }
        }
    }
    Some(out)
}

/// A property of a KMS object (`DRM_IOCTL_MODE_OBJ_GETPROPERTIES` and
/// `DRM_IOCTL_MODE_GETPROPERTY`).
#[derive(Debug, Clone)]
pub struct Property {
    /// Property id (what an atomic commit names).
    pub id: u32,
    /// Name (`FB_ID`, `CRTC_ID`, `MODE_ID`, `IN_FENCE_FD`, ...).
    pub name: String,
    /// Current value on the object.
    pub value: u64,
    /// `DRM_MODE_PROP_*`.
    pub flags: u32,
    /// Names and values of an enum or bitmask property.
    pub enums: Vec<(String, u64)>,
    /// A range property's minimum and maximum; an enum's values.
    pub values: Vec<u64>,
}

/// `DRM_MODE_PROP_IMMUTABLE`.
const DRM_MODE_PROP_IMMUTABLE: u32 = 1 << 2;

impl Property {
    /// Whether the property is read-only (`DRM_MODE_PROP_IMMUTABLE`).
    #[must_use]
    pub fn is_immutable(&self) -> bool {
        self.flags & DRM_MODE_PROP_IMMUTABLE != 0
    }
}

/// An open KMS card. See the [module documentation](self).
#[derive(Debug)]
pub struct Card {
    drm: DrmDevice,
    master: AtomicBool,
    /// (object, property name) -> property id, filled by [`Card::property_id`].
    prop_ids: Mutex<HashMap<(u32, String), u32>>,
}

impl Card {
    /// `open(path, O_RDWR | O_CLOEXEC)` of a primary node, then
    /// `DRM_IOCTL_SET_CLIENT_CAP` (`UNIVERSAL_PLANES`, `ATOMIC`) and
    /// `DRM_IOCTL_SET_MASTER`.
    ///
    /// # Errors
    /// Those of [`DrmDevice::open`]; `Unsupported` naming the capability a
    /// driver without atomic mode setting refuses (vgem, a render node);
    /// `PermissionDenied` (`EBUSY` or `EACCES`) when another file or process
    /// is DRM master of the card (a compositor, another [`Card`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Card> {
        let card = Card::open_without_master(path)?;
        card.set_master()?;
        Ok(card)
    }

    /// As [`Card::open`] but without asking to be DRM master: enough to
    /// list resources, not to commit.
    ///
    /// # Errors
    /// As [`Card::open`], less the master errors.
    pub fn open_without_master(path: impl AsRef<Path>) -> Result<Card> {
        let drm = DrmDevice::open(path)?;
        let fd = drm.as_fd();
        for (cap, name) in [
            (sys::DRM_CLIENT_CAP_UNIVERSAL_PLANES, "DRM_CLIENT_CAP_UNIVERSAL_PLANES"),
            (sys::DRM_CLIENT_CAP_ATOMIC, "DRM_CLIENT_CAP_ATOMIC"),
        ] {
            sys::set_client_cap(fd, cap, 1).map_err(|e| {
                let driver = drm.driver_name().unwrap_or_default();
                let code = e.code();
                e.with_kind(ErrorKind::Unsupported).with_detail(format!(
                    "{} (driver {driver}) refused {name} ({}): it is not a KMS card with atomic mode setting",
                    drm.path().display(),
                    code
                ))
            })?;
        }
        Ok(Card { drm, master: AtomicBool::new(false), prop_ids: Mutex::new(HashMap::new()) })
    }

    /// Opens the first `/dev/dri/card*` whose driver (`DRM_IOCTL_VERSION`)
    /// is `driver` (`"vkms"`), as [`Card::open`] does.
    ///
    /// # Errors
    /// `ENODEV` listing the cards found and their drivers; then those of
    /// [`Card::open`].
    pub fn open_driver(driver: &str) -> Result<Card> {
        let mut seen = Vec::new();
        for node in list_nodes()? {
            if !node.file_name().is_some_and(|n| n.to_string_lossy().starts_with("card")) {
                continue;
            }
            match DrmDevice::open(&node).and_then(|d| d.driver_name()) {
                Ok(name) if name == driver => return Card::open(&node),
                Ok(name) => seen.push(format!("{} ({name})", node.display())),
                Err(e) => seen.push(format!("{} ({})", node.display(), e.code())),
            }
        }
        let have = if seen.is_empty() { "none".to_string() } else { seen.join(", ") };
        Err(Error::os("open", None, Errno::ENODEV).with_detail(format!(
            "no KMS card with driver {driver} in {} (found: {have}){}",
            crate::drm::DRI_DIR,
            if driver == "vkms" { "; vkms needs a kernel with CONFIG_DRM_VKMS" } else { "" }
        )))
    }

    /// Opens the first `/dev/dri/card*` that is a KMS card with atomic mode
    /// setting (vgem and other render-only drivers refuse the client
    /// capabilities and are passed over), as [`Card::open`] does, or as
    /// [`Card::open_without_master`] when `master` is false.
    ///
    /// # Errors
    /// `ENODEV` listing each card tried and why it was passed over (its
    /// driver and the error: not KMS, or another process is DRM master),
    /// and naming `CONFIG_DRM_VKMS`, the virtual display a VM can load.
    pub fn open_first(master: bool) -> Result<Card> {
        let mut seen = Vec::new();
        for node in list_nodes()? {
            if !node.file_name().is_some_and(|n| n.to_string_lossy().starts_with("card")) {
                continue;
            }
            let opened = if master { Card::open(&node) } else { Card::open_without_master(&node) };
            match opened {
                Ok(card) => return Ok(card),
                Err(e) => {
                    let driver = DrmDevice::open(&node).and_then(|d| d.driver_name()).unwrap_or_else(|_| "?".into());
                    seen.push(format!("{} ({driver}: {})", node.display(), e.code()));
                }
            }
        }
        let have = if seen.is_empty() { "no card".to_string() } else { seen.join(", ") };
        Err(Error::os("open", None, Errno::ENODEV).with_detail(format!(
            "no KMS card with atomic mode setting in {} (tried: {have}); a display needs its DRM driver loaded, \
             and a virtual one (a VM, CI) a kernel with CONFIG_DRM_VKMS",
            crate::drm::DRI_DIR
        )))
    }

    /// The card as a [`DrmDevice`] (dumb buffers, PRIME, GEM handles).
    #[must_use]
    pub fn device(&self) -> &DrmDevice {
        &self.drm
    }

    /// `DRM_IOCTL_SET_MASTER`: become the card's DRM master (needed to
    /// commit). Succeeds when this file already is.
    ///
    /// # Errors
    /// `PermissionDenied` (`EBUSY`: another file holds it; `EACCES`: this
    /// process may not take it) with a sentence saying so.
    #[doc(alias = "DRM_IOCTL_SET_MASTER")]
    pub fn set_master(&self) -> Result<()> {
        sys::set_master(self.drm.as_fd()).map_err(|e| match e.errno() {
            Errno::EBUSY | Errno::EACCES | Errno::EPERM => {
                let code = e.code();
                e.with_kind(ErrorKind::PermissionDenied).with_detail(format!(
                    "cannot become DRM master of {} ({}): another process or open file (a compositor, a \
                 display server, another Card) is master; close it or run on a free card",
                    self.drm.path().display(),
                    code
                ))
            }
            _ => e,
        })?;
        self.master.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// `DRM_IOCTL_DROP_MASTER`: let another file become master. Also done
    /// when the card is dropped.
    ///
    /// # Errors
    /// `EINVAL` when this file is not master.
    #[doc(alias = "DRM_IOCTL_DROP_MASTER")]
    pub fn drop_master(&self) -> Result<()> {
        sys::drop_master(self.drm.as_fd())?;
        self.master.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// Whether this card took DRM master (and has not dropped it).
    #[must_use]
    pub fn is_master(&self) -> bool {
        self.master.load(Ordering::Relaxed)
    }

    /// `DRM_IOCTL_SET_CLIENT_CAP(DRM_CLIENT_CAP_WRITEBACK_CONNECTORS)`:
    /// list writeback connectors too.
    ///
    /// # Errors
    /// `Unsupported` when the kernel or driver refuses.
    pub fn enable_writeback(&self) -> Result<()> {
        sys::set_client_cap(self.drm.as_fd(), sys::DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1).map_err(|e| {
            e.with_kind(ErrorKind::Unsupported)
                .with_detail("the kernel refused DRM_CLIENT_CAP_WRITEBACK_CONNECTORS (Linux 4.19 or later)")
        })
    }

    /// `DRM_IOCTL_MODE_GETRESOURCES`: ids of the framebuffers this file
    /// created and still holds (the kernel lists only a file's own).
    ///
    /// # Errors
    /// Errors of the ioctl.
    pub fn framebuffer_ids(&self) -> Result<Vec<u32>> {
        Ok(mode::getresources(self.drm.as_fd())?.fbs)
    }

    /// CRTC ids in index order.
    fn crtc_ids(&self) -> Result<Vec<u32>> {
        Ok(mode::getresources(self.drm.as_fd())?.crtcs)
    }

    fn mask_to_crtcs(mask: u32, crtcs: &[u32]) -> Vec<u32> {
        crtcs.iter().enumerate().filter(|(i, _)| *i < 32 && mask & (1 << i) != 0).map(|(_, &c)| c).collect()
    }

    /// `DRM_IOCTL_MODE_GETRESOURCES` and `DRM_IOCTL_MODE_GETCONNECTOR` (which
    /// probes each connector), with `DRM_IOCTL_MODE_GETENCODER` for the
    /// CRTCs each can use.
    ///
    /// # Errors
    /// Errors of the ioctls.
    #[doc(alias = "DRM_IOCTL_MODE_GETCONNECTOR")]
    pub fn connectors(&self) -> Result<Vec<Connector>> {
        let fd = self.drm.as_fd();
        let res = mode::getresources(fd)?;
        let mut out = Vec::with_capacity(res.connectors.len());
        for &id in &res.connectors {
            let c = mode::getconnector(fd, id)?;
            let mut mask = 0;
            for &e in &c.encoders {
                mask |= mode::getencoder(fd, e)?.possible_crtcs;
            }
            out.push(Connector {
                id,
                connector_type: c.info.connector_type,
                type_name: connector_type_name(c.info.connector_type),
                type_id: c.info.connector_type_id,
                status: match c.info.connection {
                    1 => ConnectorStatus::Connected,
                    2 => ConnectorStatus::Disconnected,
                    _ => ConnectorStatus::Unknown,
                },
                modes: c.modes.iter().map(Mode::from_raw).collect(),
                mm_size: (c.info.mm_width, c.info.mm_height),
                encoders: c.encoders,
                possible_crtcs: Card::mask_to_crtcs(mask, &res.crtcs),
            });
        }
        Ok(out)
    }

    /// `DRM_IOCTL_MODE_GETCRTC` for every CRTC.
    ///
    /// # Errors
    /// Errors of the ioctls.
    #[doc(alias = "DRM_IOCTL_MODE_GETCRTC")]
    pub fn crtcs(&self) -> Result<Vec<Crtc>> {
        let fd = self.drm.as_fd();
        let mut out = Vec::new();
        for (index, id) in (0u32..).zip(self.crtc_ids()?) {
            let c = mode::getcrtc(fd, id)?;
            out.push(Crtc {
                id,
                index,
                fb_id: c.fb_id,
                mode: (c.mode_valid != 0).then(|| Mode::from_raw(&c.mode)),
                gamma_size: c.gamma_size,
            });
        }
        Ok(out)
    }

    /// `DRM_IOCTL_MODE_GETPLANERESOURCES` and `DRM_IOCTL_MODE_GETPLANE`, with
    /// each plane's `type` property and its `IN_FORMATS` blob
    /// (`DRM_IOCTL_MODE_GETPROPBLOB`).
    ///
    /// # Errors
    /// Errors of the ioctls; `EINVAL` for an `IN_FORMATS` blob whose
    /// offsets or counts point outside it, or a plane without a `type`.
    #[doc(alias = "DRM_IOCTL_MODE_GETPLANE")]
    pub fn planes(&self) -> Result<Vec<Plane>> {
        let fd = self.drm.as_fd();
        let crtcs = self.crtc_ids()?;
        let mut out = Vec::new();
        for id in mode::getplaneresources(fd)? {
            let (p, formats) = mode::getplane(fd, id)?;
            let props = self.properties(id)?;
            let plane_type = match props.iter().find(|p| p.name == "type").map(|p| p.value) {
                Some(0) => PlaneType::Overlay,
                Some(1) => PlaneType::Primary,
                Some(2) => PlaneType::Cursor,
                other => {
                    return Err(Error::new(
                        ErrorKind::Os,
                        Errno::EINVAL,
                        "DRM_IOCTL_MODE_OBJ_GETPROPERTIES",
                        Some(fd.as_raw_fd()),
                        format!("plane {id} has no known type property (value {other:?})"),
                    ))
                }
            };
            let modifiers = match props.iter().find(|p| p.name == "IN_FORMATS") {
                Some(prop) if prop.value != 0 => {
                    let blob_id = u32::try_from(prop.value).unwrap_or(0);
                    let bytes = mode::getpropblob(fd, blob_id)?;
                    parse_in_formats(&bytes).ok_or_else(|| {
                        Error::new(
                            ErrorKind::Os,
                            Errno::EINVAL,
                            "DRM_IOCTL_MODE_GETPROPBLOB",
                            Some(fd.as_raw_fd()),
                            format!("plane {id}'s IN_FORMATS blob {blob_id} ({} bytes) is malformed", bytes.len()),
                        )
                    })?
                }
                _ => BTreeMap::new(),
            };
            out.push(Plane {
                id,
                plane_type,
                possible_crtcs: Card::mask_to_crtcs(p.possible_crtcs, &crtcs),
                crtc_id: p.crtc_id,
                fb_id: p.fb_id,
                formats,
                modifiers,
            });
        }
        Ok(out)
    }

    /// `DRM_IOCTL_MODE_OBJ_GETPROPERTIES` and `DRM_IOCTL_MODE_GETPROPERTY`:
    /// every property of a connector, CRTC or plane with its value.
    ///
    /// # Errors
    /// `ENOENT` for an unknown object; errors of the ioctls.
    #[doc(alias = "DRM_IOCTL_MODE_OBJ_GETPROPERTIES")]
    pub fn properties(&self, object: u32) -> Result<Vec<Property>> {
        let fd = self.drm.as_fd();
        let mut out = Vec::new();
        for (id, value) in mode::obj_getproperties(fd, object)? {
            let p = mode::getproperty(fd, id)?;
            out.push(Property {
                id,
                name: crate::sys::c_chars(&p.name),
                value,
                flags: p.flags,
                enums: p.enums.iter().map(|e| (crate::sys::c_chars(&e.name), e.value)).collect(),
                values: p.values,
            });
        }
        Ok(out)
    }

    /// The property named `name` of `object`.
    ///
    /// # Errors
    /// `InvalidArgument` (`ENOENT`) naming the object and the properties it
    /// has when none is called `name`.
    pub fn property(&self, object: u32, name: &str) -> Result<Property> {
        let props = self.properties(object)?;
        let names: Vec<String> = props.iter().map(|p| p.name.clone()).collect();
        props.into_iter().find(|p| p.name == name).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                Errno::ENOENT,
                "DRM_IOCTL_MODE_OBJ_GETPROPERTIES",
                Some(self.drm.as_fd().as_raw_fd()),
                format!("object {object} has no property {name} (it has: {})", names.join(", ")),
            )
        })
    }

    /// The id of the property called `name` of `object`, as
    /// [`Card::property`] finds it, remembered for the card's lifetime (an
    /// object's property ids do not change), so that building a commit by
    /// name costs no ioctl after the first time.
    ///
    /// # Errors
    /// Those of [`Card::property`].
    pub fn property_id(&self, object: u32, name: &str) -> Result<u32> {
        let key = (object, name.to_string());
        if let Some(&id) = self.prop_ids.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(id);
        }
        let id = self.property(object, name)?.id;
        self.prop_ids.lock().unwrap_or_else(PoisonError::into_inner).insert(key, id);
        Ok(id)
    }

    /// `DRM_IOCTL_MODE_GETPROPBLOB`: a blob's bytes (`IN_FORMATS`,
    /// `WRITEBACK_PIXEL_FORMATS`, `MODE_ID`).
    ///
    /// # Errors
    /// `ENOENT` for an unknown blob.
    #[doc(alias = "DRM_IOCTL_MODE_GETPROPBLOB")]
    pub fn blob(&self, blob_id: u32) -> Result<Vec<u8>> {
        mode::getpropblob(self.drm.as_fd(), blob_id)
    }

    /// `DRM_IOCTL_MODE_CREATEPROPBLOB` of a mode: the value for a CRTC's
    /// `MODE_ID`. The blob is destroyed when the returned value is dropped
    /// (a CRTC using it keeps its own reference).
    ///
    /// # Errors
    /// Errors of the ioctl.
    #[doc(alias = "DRM_IOCTL_MODE_CREATEPROPBLOB")]
    pub fn create_mode_blob(&self, m: &Mode) -> Result<PropertyBlob> {
        let raw = m.to_raw();
        // SAFETY: DrmModeModeinfo is plain old data without padding (68 bytes
        // of integers and chars); reading it as bytes is sound.
        let bytes =
            unsafe { std::slice::from_raw_parts((&raw const raw).cast::<u8>(), size_of::<mode::DrmModeModeinfo>()) };
        let id = mode::createpropblob(self.drm.as_fd(), bytes)?;
        Ok(PropertyBlob { drm: self.drm.clone(), id })
    }

    /// Imports dma-bufs as a framebuffer: `DRM_IOCTL_PRIME_FD_TO_HANDLE` per
    /// plane (the handles counted by the [`DrmDevice`]), then
    /// `DRM_IOCTL_MODE_ADDFB2`, with `DRM_MODE_FB_MODIFIERS` unless the
    /// modifier is [`MOD_INVALID`]. Where `for_plane` is given, the format
    /// and modifier are checked against its list and `IN_FORMATS` first.
    /// The buffers are borrowed: the framebuffer holds GEM handles, which
    /// keep the memory alive.
    ///
    /// # Errors
    /// `InvalidArgument` for no or more than four planes, a zero size, a
    /// format or modifier the plane lacks, or what the kernel refuses with
    /// `EINVAL` (pitch, offset, size, format, modifier), naming the
    /// numbers of each plane; import errors of [`DrmDevice::import`].
    #[doc(alias = "DRM_IOCTL_MODE_ADDFB2")]
    pub fn add_framebuffer(&self, desc: &FramebufferDesc<'_>, for_plane: Option<&Plane>) -> Result<Framebuffer> {
        const OP: &str = "DRM_IOCTL_MODE_ADDFB2";
        let raw = Some(self.drm.as_fd().as_raw_fd());
        let what = || {
            format!(
                "{}x{} {} modifier {:#x}, planes [{}]",
                desc.width,
                desc.height,
                Fourcc(desc.format),
                desc.modifier,
                desc.planes
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("{i}: offset {} pitch {} of {} bytes", p.offset, p.pitch, p.buf.size()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if desc.planes.is_empty() || desc.planes.len() > 4 {
            return Err(Error::invalid(OP, raw, format!("a framebuffer has 1 to 4 planes, not {}", desc.planes.len())));
        }
        if desc.width == 0 || desc.height == 0 {
            return Err(Error::invalid(OP, raw, format!("zero size: {}", what())));
        }
        if let Some(p) = for_plane {
            if !p.supports(desc.format, desc.modifier) {
                let mods = p.modifiers.get(&desc.format).map(|m| format!("{m:x?}")).unwrap_or_default();
                return Err(Error::invalid(
                    OP,
                    raw,
                    format!(
                        "plane {} does not take {} with modifier {:#x} (formats: {}; modifiers of this format: {})",
                        p.id,
                        Fourcc(desc.format),
                        desc.modifier,
                        p.formats.iter().map(|&f| Fourcc(f).to_string()).collect::<Vec<_>>().join(" "),
                        if mods.is_empty() { "none".into() } else { mods }
                    ),
                ));
            }
        }
        let mut handles = Vec::with_capacity(desc.planes.len());
        let mut cmd = mode::DrmModeFbCmd2 {
            width: desc.width,
            height: desc.height,
            pixel_format: desc.format,
            flags: if desc.modifier == MOD_INVALID { 0 } else { mode::DRM_MODE_FB_MODIFIERS },
            ..Default::default()
        };
        for (i, p) in desc.planes.iter().enumerate() {
            let h = self.drm.import(p.buf)?;
            cmd.handles[i] = h.raw();
            cmd.pitches[i] = p.pitch;
            cmd.offsets[i] = p.offset;
            if desc.modifier != MOD_INVALID {
                cmd.modifier[i] = desc.modifier;
            }
            handles.push(h);
        }
        let id = mode::addfb2(self.drm.as_fd(), cmd).map_err(|e| {
            let kind = if e.errno() == Errno::EINVAL { ErrorKind::InvalidArgument } else { e.kind() };
            let code = e.code();
            e.with_kind(kind).with_detail(format!("the kernel refused the framebuffer ({code}): {}", what()))
        })?;
        Ok(Framebuffer { drm: self.drm.clone(), id, _handles: handles })
    }

    /// Starts an atomic request on this card.
    #[must_use]
    pub fn atomic(&self) -> Atomic<'_> {
        Atomic { card: self, entries: Vec::new(), out_fences: Vec::new() }
    }

    /// Reads the events the kernel queued on the card (`read(2)` of
    /// `struct drm_event`s), waiting up to `timeout` for the first
    /// (`None`: for ever; zero: not at all). Empty when none came in time.
    ///
    /// # Errors
    /// Errors of `poll` and `read`; `EIO` for an event whose length does not
    /// fit what was read.
    pub fn read_events(&self, timeout: Option<Duration>) -> Result<Vec<Event>> {
        let fd = self.drm.as_fd();
        // Only POLLIN means a read will not block: the fd is a blocking one.
        match crate::fd::poll_ready(fd, PollFlags::POLLIN, timeout)? {
            Some(r) if r.contains(PollFlags::POLLIN) => {}
            _ => return Ok(Vec::new()),
        }
        let mut buf = [0u8; 4096];
        let n = loop {
            match nix::unistd::read(fd, &mut buf) {
                Ok(n) => break n,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::os("read", Some(fd.as_raw_fd()), e)),
            }
        };
        parse_events(buf.get(..n).unwrap_or(&[])).ok_or_else(|| {
            Error::os("read", Some(fd.as_raw_fd()), Errno::EIO)
                .with_detail(format!("malformed DRM event stream ({n} bytes)"))
        })
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        if self.is_master() {
            // Closing the file drops master too; saying so first makes the
            // release explicit and ordered before any other file's SET_MASTER.
            let _ = sys::drop_master(self.drm.as_fd());
        }
    }
}

impl AsFd for Card {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.drm.as_fd()
    }
}

/// A blob the card created (`DRM_IOCTL_MODE_CREATEPROPBLOB`), destroyed on
/// drop (`DRM_IOCTL_MODE_DESTROYPROPBLOB`).
#[derive(Debug)]
pub struct PropertyBlob {
    drm: DrmDevice,
    id: u32,
}

impl PropertyBlob {
    /// The blob id (a property value).
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for PropertyBlob {
    fn drop(&mut self) {
        let _ = mode::destroypropblob(self.drm.as_fd(), self.id);
    }
}

/// One plane of a framebuffer: a dma-buf and where the image is in it.
#[derive(Debug, Clone, Copy)]
pub struct FbPlane<'a> {
    /// The memory (borrowed: the framebuffer holds a GEM handle).
    pub buf: &'a DmaBuf,
    /// Byte offset of the first row.
    pub offset: u32,
    /// Bytes from one row to the next.
    pub pitch: u32,
}

/// What [`Card::add_framebuffer`] imports.
#[derive(Debug, Clone, Copy)]
pub struct FramebufferDesc<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Fourcc ([`fourcc`]`(b"XR24")`).
    pub format: u32,
    /// Modifier of every plane ([`MOD_LINEAR`], or [`MOD_INVALID`] for none).
    pub modifier: u64,
    /// One to four planes.
    pub planes: &'a [FbPlane<'a>],
}

/// A framebuffer (`DRM_IOCTL_MODE_ADDFB2`), removed on drop
/// (`DRM_IOCTL_MODE_RMFB`, which also turns off a plane still showing it),
/// then its GEM handles released.
#[derive(Debug)]
pub struct Framebuffer {
    drm: DrmDevice,
    id: u32,
    _handles: Vec<GemHandle>,
}

impl Framebuffer {
    /// The framebuffer id (the value for a plane's `FB_ID` or a writeback
    /// connector's `WRITEBACK_FB_ID`).
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl Drop for Framebuffer {
    fn drop(&mut self) {
        let _ = mode::rmfb(self.drm.as_fd(), self.id);
    }
}

/// How [`Atomic::commit`] commits.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommitFlags {
    /// `DRM_MODE_ATOMIC_ALLOW_MODESET`: the commit may change modes.
    pub allow_modeset: bool,
    /// `DRM_MODE_ATOMIC_NONBLOCK`: return before the commit is done.
    pub nonblock: bool,
    /// `DRM_MODE_PAGE_FLIP_EVENT` with this user data: one
    /// [`Event::FlipComplete`] per CRTC when the commit is on screen.
    pub flip_event: Option<u64>,
}

/// An atomic request: (object, property, value) triples built by property
/// name, with fences in and out. From [`Card::atomic`].
#[derive(Debug)]
pub struct Atomic<'a> {
    card: &'a Card,
    entries: Vec<(u32, u32, u64)>,
    /// (object, `*_OUT_FENCE_PTR` property) asked for.
    out_fences: Vec<(u32, u32)>,
}

/// What a commit returned: the out-fences it was asked for.
#[derive(Debug, Default)]
pub struct Committed {
    /// (object, fence) for each `OUT_FENCE_PTR` or `WRITEBACK_OUT_FENCE_PTR`.
    pub out_fences: Vec<(u32, SyncFile)>,
}

impl Committed {
    /// Takes the out-fence of `object` (a CRTC or writeback connector).
    pub fn take_fence(&mut self, object: u32) -> Option<SyncFile> {
        let i = self.out_fences.iter().position(|(o, _)| *o == object)?;
        Some(self.out_fences.swap_remove(i).1)
    }
}

impl<'a> Atomic<'a> {
    /// Sets property `id` of `object` to `value`.
    pub fn set_raw(&mut self, object: u32, property: u32, value: u64) -> &mut Self {
        self.entries.retain(|&(o, p, _)| !(o == object && p == property));
        self.entries.push((object, property, value));
        self
    }

    /// Sets the property called `name` of `object` to `value` (its id from
    /// [`Card::property_id`]).
    ///
    /// # Errors
    /// Those of [`Card::property`] (no such property, named).
    pub fn set(&mut self, object: u32, name: &str, value: u64) -> Result<&mut Self> {
        let id = self.card.property_id(object, name)?;
        Ok(self.set_raw(object, id, value))
    }

    /// `IN_FENCE_FD` of `plane`: the plane waits for `fence` before it
    /// shows its new framebuffer. The fence is only borrowed: the kernel
    /// takes its own reference during the commit, so it must live until
    /// [`Atomic::commit`] returns, which the lifetime enforces.
    ///
    /// # Errors
    /// Those of [`Card::property`].
    pub fn in_fence(&mut self, plane: u32, fence: &'a SyncFile) -> Result<&mut Self> {
        let raw: RawFd = fence.as_raw_fd();
        let value = u64::try_from(raw).map_err(|_| Error::invalid("IN_FENCE_FD", Some(raw), "negative fd"))?;
        self.set(plane, "IN_FENCE_FD", value)
    }

    /// Asks for an out-fence of `crtc` (`OUT_FENCE_PTR`): a [`SyncFile`]
    /// that signals when the commit is on screen, in [`Committed`].
    ///
    /// # Errors
    /// Those of [`Card::property`].
    pub fn out_fence(&mut self, crtc: u32) -> Result<&mut Self> {
        let id = self.card.property_id(crtc, "OUT_FENCE_PTR")?;
        self.out_fences.retain(|&(o, _)| o != crtc);
        self.out_fences.push((crtc, id));
        Ok(self)
    }

    /// Asks for a writeback connector's out-fence
    /// (`WRITEBACK_OUT_FENCE_PTR`): signals when the frame is written to
    /// its `WRITEBACK_FB_ID`.
    ///
    /// # Errors
    /// Those of [`Card::property`].
    pub fn writeback_out_fence(&mut self, connector: u32) -> Result<&mut Self> {
        let id = self.card.property_id(connector, "WRITEBACK_OUT_FENCE_PTR")?;
        self.out_fences.retain(|&(o, _)| o != connector);
        self.out_fences.push((connector, id));
        Ok(self)
    }

    /// `DRM_IOCTL_MODE_ATOMIC` with `DRM_MODE_ATOMIC_TEST_ONLY`: would the
    /// kernel take this request? Nothing changes and no fence is made.
    ///
    /// # Errors
    /// The kernel's refusal (`EINVAL` for a configuration it cannot show,
    /// `EACCES` without DRM master), with the request in the message.
    pub fn test(&self, flags: CommitFlags) -> Result<()> {
        // TEST_ONLY with PAGE_FLIP_EVENT is EINVAL: a test sends no event.
        let f = CommitFlags { flip_event: None, ..flags };
        self.run(f, true).map(drop)
    }

    /// [`Atomic::test`], then `DRM_IOCTL_MODE_ATOMIC`: the commit. Out-fences
    /// become [`SyncFile`]s as the kernel returns them.
    ///
    /// # Errors
    /// As [`Atomic::test`]; `EBUSY` while a nonblocking commit on the same
    /// CRTC is still pending.
    #[doc(alias = "DRM_IOCTL_MODE_ATOMIC")]
    pub fn commit(&self, flags: CommitFlags) -> Result<Committed> {
        self.test(flags)?;
        self.run(flags, false)
    }

    fn describe(&self) -> String {
        self.entries.iter().map(|(o, p, v)| format!("{o}.{p}={v}")).collect::<Vec<_>>().join(" ")
    }

    fn run(&self, flags: CommitFlags, test_only: bool) -> Result<Committed> {
        // One i32 per out-fence; the kernel writes an fd number into each.
        // The vector is not touched again until the ioctl has returned.
        let mut slots: Vec<i32> = vec![-1; self.out_fences.len()];
        let base = slots.as_mut_ptr();
        let mut triples = self.entries.clone();
        for (i, &(obj, prop)) in self.out_fences.iter().enumerate() {
            // SAFETY: `i` is within `slots`, whose buffer does not move below.
            let p = unsafe { base.add(i) };
            triples.retain(|&(o, q, _)| !(o == obj && q == prop));
            triples.push((obj, prop, p as usize as u64));
        }
        let mut arrays = mode::AtomicArrays::default();
        let mut by_obj: BTreeMap<u32, Vec<(u32, u64)>> = BTreeMap::new();
        for &(o, p, v) in &triples {
            by_obj.entry(o).or_default().push((p, v));
        }
        for (o, props) in by_obj {
            arrays.objs.push(o);
            arrays.count_props.push(u32::try_from(props.len()).unwrap_or(u32::MAX));
            for (p, v) in props {
                arrays.props.push(p);
                arrays.values.push(v);
            }
        }
        let mut f = 0;
        if test_only {
            f |= mode::DRM_MODE_ATOMIC_TEST_ONLY;
        }
        if flags.allow_modeset {
            f |= mode::DRM_MODE_ATOMIC_ALLOW_MODESET;
        }
        if flags.nonblock {
            f |= mode::DRM_MODE_ATOMIC_NONBLOCK;
        }
        if flags.flip_event.is_some() {
            f |= mode::DRM_MODE_PAGE_FLIP_EVENT;
        }
        let fd = self.card.drm.as_fd();
        // SAFETY: every pointer-valued property addresses one i32 of `slots`,
        // which lives, unmoved, across the call.
        let r = unsafe { mode::atomic(fd, &arrays, f, flags.flip_event.unwrap_or(0)) };
        r.map_err(|e| {
            let why = match e.errno() {
                Errno::EACCES | Errno::EPERM => {
                    " (only the DRM master may commit: another process or Card holds it, or master was dropped)"
                }
                Errno::EINVAL => " (a property, value or configuration the driver refuses)",
                Errno::EBUSY => " (a previous nonblocking commit on this CRTC is still pending)",
                _ => "",
            };
            let code = e.code();
            e.with_detail(format!(
                "{} failed ({}){why}: {}",
                if test_only { "atomic test" } else { "atomic commit" },
                code,
                self.describe()
            ))
        })?;
        let mut out = Committed::default();
        for (i, &(obj, _)) in self.out_fences.iter().enumerate() {
            let raw = slots.get(i).copied().unwrap_or(-1);
            if raw >= 0 && !test_only {
                // SAFETY: on success the kernel installed a new fd (with
                // O_CLOEXEC) for this out-fence; nothing else owns it.
                let owned = unsafe { crate::sys::adopt(raw) };
                out.out_fences.push((obj, SyncFile::from_trusted(owned)));
            }
        }
        Ok(out)
    }
}

/// A vblank or page-flip event (`struct drm_event_vblank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VblankEvent {
    /// The commit's user data ([`CommitFlags::flip_event`]).
    pub user_data: u64,
    /// When, on `CLOCK_MONOTONIC`.
    pub time: Duration,
    /// The CRTC's frame counter.
    pub sequence: u32,
    /// The CRTC (0 on kernels before 4.12).
    pub crtc_id: u32,
}

/// An event read from the card ([`Card::read_events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `DRM_EVENT_FLIP_COMPLETE`: a commit with a flip event is on screen.
    FlipComplete(VblankEvent),
    /// `DRM_EVENT_VBLANK`.
    Vblank(VblankEvent),
    /// Another event type, with its payload.
    Other {
        /// `drm_event.type`.
        kind: u32,
        /// The bytes after the header.
        data: Vec<u8>,
    },
}

/// Splits a `read(2)` of a card into events, checking each header's
/// length against what is left. `None` for a stream that does not hold
/// together.
pub(crate) fn parse_events(mut b: &[u8]) -> Option<Vec<Event>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let kind = u32_at(b, 0)?;
        let length = usize::try_from(u32_at(b, 4)?).ok()?;
        if length < 8 || length > b.len() {
            return None;
        }
        let (ev, rest) = b.split_at(length);
        b = rest;
        let vblank = || -> Option<VblankEvent> {
            Some(VblankEvent {
                user_data: u64_at(ev, 8)?,
                time: Duration::new(u64::from(u32_at(ev, 16)?), u32_at(ev, 20)?.saturating_mul(1000)),
                sequence: u32_at(ev, 24)?,
                crtc_id: u32_at(ev, 28)?,
            })
        };
        out.push(match kind {
            mode::DRM_EVENT_FLIP_COMPLETE => Event::FlipComplete(vblank()?),
            mode::DRM_EVENT_VBLANK => Event::Vblank(vblank()?),
            _ => Event::Other { kind, data: ev.get(8..)?.to_vec() },
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(formats: &[u32], mods: &[(u64, u32, u64)]) -> Vec<u8> {
        let mut b = Vec::new();
        let fo = 24u32;
        let mo = fo + 4 * u32::try_from(formats.len()).unwrap();
        for v in [1, 0, u32::try_from(formats.len()).unwrap(), fo, u32::try_from(mods.len()).unwrap(), mo] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        for f in formats {
            b.extend_from_slice(&f.to_ne_bytes());
        }
        for &(mask, off, m) in mods {
            b.extend_from_slice(&mask.to_ne_bytes());
            b.extend_from_slice(&off.to_ne_bytes());
            b.extend_from_slice(&0u32.to_ne_bytes());
            b.extend_from_slice(&m.to_ne_bytes());
        }
        b
    }

    #[test]
    fn in_formats_parses_and_checks_bounds() {
        let xr = fourcc(b"XR24");
        let ar = fourcc(b"AR24");
        let b = blob(&[xr, ar], &[(0b11, 0, MOD_LINEAR), (0b10, 0, 7)]);
        let m = parse_in_formats(&b).unwrap();
        assert_eq!(m[&xr], vec![MOD_LINEAR]);
        assert_eq!(m[&ar], vec![MOD_LINEAR, 7]);
        // Every truncation is refused, never read past.
        for cut in 0..b.len() {
            assert!(parse_in_formats(&b[..cut]).is_none(), "accepted a blob cut at {cut}");
        }
        // A mask bit past the format list.
        assert!(parse_in_formats(&blob(&[xr], &[(0b10, 0, 0)])).is_none());
        // An offset near u32::MAX.
        let mut bad = b.clone();
        bad[12..16].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(parse_in_formats(&bad).is_none());
        // Another version.
        let mut v2 = b;
        v2[0..4].copy_from_slice(&2u32.to_ne_bytes());
        assert!(parse_in_formats(&v2).is_none());
    }

    #[test]
    fn events_parse_and_check_lengths() {
        let mut b = Vec::new();
        for v in [2u32, 32] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(&42u64.to_ne_bytes());
        for v in [3u32, 500, 9, 77] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        let e = parse_events(&b).unwrap();
        assert_eq!(
            e,
            vec![Event::FlipComplete(VblankEvent {
                user_data: 42,
                time: Duration::new(3, 500_000),
                sequence: 9,
                crtc_id: 77
            })]
        );
        for cut in 1..b.len() {
            assert!(parse_events(&b[..cut]).is_none(), "accepted a stream cut at {cut}");
        }
        let mut short = b.clone();
        short[4..8].copy_from_slice(&4u32.to_ne_bytes());
        assert!(parse_events(&short).is_none());
    }

    #[test]
    fn fourcc_names() {
        assert_eq!(fourcc(b"XR24"), 0x3432_5258);
        assert_eq!(Fourcc(fourcc(b"AR24")).to_string(), "AR24");
        assert_eq!(Fourcc(1).to_string(), "0x00000001");
        assert_eq!(connector_type_name(18), "Writeback");
        assert_eq!(connector_type_name(999), "Unknown");
    }
}
