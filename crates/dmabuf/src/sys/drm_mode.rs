//! `<drm/drm_mode.h>`'s mode-setting part (KMS): resources, connectors,
//! encoders, CRTCs, planes, properties and blobs, framebuffers and atomic
//! commits, plus `<drm/drm.h>`'s events that a commit sends back. The ioctl
//! numbers are declared in `drm.h`, but their argument structs live in
//! `drm_mode.h`, so they are declared here beside them (`drm.rs` keeps
//! `drm.h`'s own structs and the dumb buffers the crate already had).
//!
//! The listing ioctls are called twice: once with zero counts to learn the
//! sizes, once with arrays of that size. A hot-plug between the two calls
//! can make the second answer larger than the arrays; then the kernel
//! fills only what fits and reports the new count, and the call is retried.

use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::libc::c_char;

use super::drm::DRM_IOCTL_BASE;
use super::ioctls;
use crate::error::{Error, Result};

/// `DRM_DISPLAY_MODE_LEN`.
pub(crate) const DRM_DISPLAY_MODE_LEN: usize = 32;
/// `DRM_PROP_NAME_LEN`.
pub(crate) const DRM_PROP_NAME_LEN: usize = 32;
/// `DRM_MODE_OBJECT_ANY`: `DRM_IOCTL_MODE_OBJ_GETPROPERTIES` finds the type.
pub(crate) const DRM_MODE_OBJECT_ANY: u32 = 0;
/// `DRM_MODE_FB_MODIFIERS`: `drm_mode_fb_cmd2.modifier[]` is valid.
pub(crate) const DRM_MODE_FB_MODIFIERS: u32 = 1 << 1;
/// `DRM_MODE_PAGE_FLIP_EVENT`: send a `DRM_EVENT_FLIP_COMPLETE` per CRTC.
pub(crate) const DRM_MODE_PAGE_FLIP_EVENT: u32 = 0x01;
/// `DRM_MODE_ATOMIC_TEST_ONLY`.
pub(crate) const DRM_MODE_ATOMIC_TEST_ONLY: u32 = 0x0100;
/// `DRM_MODE_ATOMIC_NONBLOCK`.
pub(crate) const DRM_MODE_ATOMIC_NONBLOCK: u32 = 0x0200;
/// `DRM_MODE_ATOMIC_ALLOW_MODESET`.
pub(crate) const DRM_MODE_ATOMIC_ALLOW_MODESET: u32 = 0x0400;
/// `DRM_EVENT_VBLANK`.
pub(crate) const DRM_EVENT_VBLANK: u32 = 0x01;
/// `DRM_EVENT_FLIP_COMPLETE`.
pub(crate) const DRM_EVENT_FLIP_COMPLETE: u32 = 0x02;

/// `struct drm_mode_modeinfo`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeModeinfo {
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
    pub vrefresh: u32,
    pub flags: u32,
    pub type_: u32,
    pub name: [c_char; DRM_DISPLAY_MODE_LEN],
}

/// `struct drm_mode_card_res`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeCardRes {
    pub fb_id_ptr: u64,
    pub crtc_id_ptr: u64,
    pub connector_id_ptr: u64,
    pub encoder_id_ptr: u64,
    pub count_fbs: u32,
    pub count_crtcs: u32,
    pub count_connectors: u32,
    pub count_encoders: u32,
    pub min_width: u32,
    pub max_width: u32,
    pub min_height: u32,
    pub max_height: u32,
}

/// `struct drm_mode_crtc`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeCrtc {
    pub set_connectors_ptr: u64,
    pub count_connectors: u32,
    pub crtc_id: u32,
    pub fb_id: u32,
    pub x: u32,
    pub y: u32,
    pub gamma_size: u32,
    pub mode_valid: u32,
    pub mode: DrmModeModeinfo,
}

/// `struct drm_mode_get_encoder`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeGetEncoder {
    pub encoder_id: u32,
    pub encoder_type: u32,
    pub crtc_id: u32,
    pub possible_crtcs: u32,
    pub possible_clones: u32,
}

/// `struct drm_mode_get_connector`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeGetConnector {
    pub encoders_ptr: u64,
    pub modes_ptr: u64,
    pub props_ptr: u64,
    pub prop_values_ptr: u64,
    pub count_modes: u32,
    pub count_props: u32,
    pub count_encoders: u32,
    pub encoder_id: u32,
    pub connector_id: u32,
    pub connector_type: u32,
    pub connector_type_id: u32,
    pub connection: u32,
    pub mm_width: u32,
    pub mm_height: u32,
    pub subpixel: u32,
    pub pad: u32,
}

/// `struct drm_mode_get_property`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeGetProperty {
    pub values_ptr: u64,
    pub enum_blob_ptr: u64,
    pub prop_id: u32,
    pub flags: u32,
    pub name: [c_char; DRM_PROP_NAME_LEN],
    pub count_values: u32,
    pub count_enum_blobs: u32,
}

/// `struct drm_mode_property_enum`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct DrmModePropertyEnum {
    pub value: u64,
    pub name: [c_char; DRM_PROP_NAME_LEN],
}

/// `struct drm_mode_get_blob`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeGetBlob {
    pub blob_id: u32,
    pub length: u32,
    pub data: u64,
}

/// `struct drm_mode_get_plane_res`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeGetPlaneRes {
    pub plane_id_ptr: u64,
    pub count_planes: u32,
}

/// `struct drm_mode_get_plane`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeGetPlane {
    pub plane_id: u32,
    pub crtc_id: u32,
    pub fb_id: u32,
    pub possible_crtcs: u32,
    pub gamma_size: u32,
    pub count_format_types: u32,
    pub format_type_ptr: u64,
}

/// `struct drm_mode_fb_cmd2`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeFbCmd2 {
    pub fb_id: u32,
    pub width: u32,
    pub height: u32,
    pub pixel_format: u32,
    pub flags: u32,
    pub handles: [u32; 4],
    pub pitches: [u32; 4],
    pub offsets: [u32; 4],
    pub modifier: [u64; 4],
}

/// `struct drm_mode_obj_get_properties`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeObjGetProperties {
    pub props_ptr: u64,
    pub prop_values_ptr: u64,
    pub count_props: u32,
    pub obj_id: u32,
    pub obj_type: u32,
}

/// `struct drm_mode_atomic`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeAtomic {
    pub flags: u32,
    pub count_objs: u32,
    pub objs_ptr: u64,
    pub count_props_ptr: u64,
    pub props_ptr: u64,
    pub prop_values_ptr: u64,
    pub reserved: u64,
    pub user_data: u64,
}

/// `struct drm_mode_create_blob`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeCreateBlob {
    pub data: u64,
    pub length: u32,
    pub blob_id: u32,
}

/// `struct drm_mode_destroy_blob`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmModeDestroyBlob {
    pub blob_id: u32,
}

/// `struct drm_event` (from `drm.h`): the header of every event read from
/// the card.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmEvent {
    pub type_: u32,
    pub length: u32,
}

/// `struct drm_event_vblank` (from `drm.h`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmEventVblank {
    pub base: DrmEvent,
    pub user_data: u64,
    pub tv_sec: u32,
    pub tv_usec: u32,
    pub sequence: u32,
    pub crtc_id: u32,
}

/// `struct drm_format_modifier_blob`: the header of a plane's `IN_FORMATS`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmFormatModifierBlob {
    pub version: u32,
    pub flags: u32,
    pub count_formats: u32,
    pub formats_offset: u32,
    pub count_modifiers: u32,
    pub modifiers_offset: u32,
}

/// `struct drm_format_modifier`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DrmFormatModifier {
    pub formats: u64,
    pub offset: u32,
    pub pad: u32,
    pub modifier: u64,
}

const _: () = assert!(size_of::<DrmModeModeinfo>() == 68);
const _: () = assert!(size_of::<DrmModeCardRes>() == 64);
const _: () = assert!(size_of::<DrmModeCrtc>() == 104);
const _: () = assert!(size_of::<DrmModeGetEncoder>() == 20);
const _: () = assert!(size_of::<DrmModeGetConnector>() == 80);
const _: () = assert!(size_of::<DrmModeGetProperty>() == 64);
const _: () = assert!(size_of::<DrmModePropertyEnum>() == 40);
const _: () = assert!(size_of::<DrmModeGetBlob>() == 16);
const _: () = assert!(size_of::<DrmModeGetPlaneRes>() == 16);
const _: () = assert!(size_of::<DrmModeGetPlane>() == 32);
const _: () = assert!(size_of::<DrmModeFbCmd2>() == 104);
const _: () = assert!(size_of::<DrmModeObjGetProperties>() == 32);
const _: () = assert!(size_of::<DrmModeAtomic>() == 56);
const _: () = assert!(size_of::<DrmModeCreateBlob>() == 16);
const _: () = assert!(size_of::<DrmModeDestroyBlob>() == 4);
const _: () = assert!(size_of::<DrmEvent>() == 8);
const _: () = assert!(size_of::<DrmEventVblank>() == 32);
const _: () = assert!(size_of::<DrmFormatModifierBlob>() == 24);
const _: () = assert!(size_of::<DrmFormatModifier>() == 24);

ioctls! {
    readwrite DRM_IOCTL_MODE_GETRESOURCES = raw_getresources(DRM_IOCTL_BASE, 0xa0, DrmModeCardRes);
    readwrite DRM_IOCTL_MODE_GETCRTC = raw_getcrtc(DRM_IOCTL_BASE, 0xa1, DrmModeCrtc);
    readwrite DRM_IOCTL_MODE_GETENCODER = raw_getencoder(DRM_IOCTL_BASE, 0xa6, DrmModeGetEncoder);
    readwrite DRM_IOCTL_MODE_GETCONNECTOR = raw_getconnector(DRM_IOCTL_BASE, 0xa7, DrmModeGetConnector);
    readwrite DRM_IOCTL_MODE_GETPROPERTY = raw_getproperty(DRM_IOCTL_BASE, 0xaa, DrmModeGetProperty);
    readwrite DRM_IOCTL_MODE_GETPROPBLOB = raw_getpropblob(DRM_IOCTL_BASE, 0xac, DrmModeGetBlob);
    readwrite DRM_IOCTL_MODE_RMFB = raw_rmfb(DRM_IOCTL_BASE, 0xaf, u32);
    readwrite DRM_IOCTL_MODE_GETPLANERESOURCES = raw_getplaneresources(DRM_IOCTL_BASE, 0xb5, DrmModeGetPlaneRes);
    readwrite DRM_IOCTL_MODE_GETPLANE = raw_getplane(DRM_IOCTL_BASE, 0xb6, DrmModeGetPlane);
    readwrite DRM_IOCTL_MODE_ADDFB2 = raw_addfb2(DRM_IOCTL_BASE, 0xb8, DrmModeFbCmd2);
    readwrite DRM_IOCTL_MODE_OBJ_GETPROPERTIES = raw_obj_getproperties(DRM_IOCTL_BASE, 0xb9, DrmModeObjGetProperties);
    readwrite DRM_IOCTL_MODE_ATOMIC = raw_atomic(DRM_IOCTL_BASE, 0xbc, DrmModeAtomic);
    readwrite DRM_IOCTL_MODE_CREATEPROPBLOB = raw_createpropblob(DRM_IOCTL_BASE, 0xbd, DrmModeCreateBlob);
    readwrite DRM_IOCTL_MODE_DESTROYPROPBLOB = raw_destroypropblob(DRM_IOCTL_BASE, 0xbe, DrmModeDestroyBlob);
}

/// A user pointer as the kernel's `__u64`.
fn uptr<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// A kernel count as a length (u32 always fits a usize on Linux targets).
fn len(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A length the crate built as a kernel count.
fn count(n: usize, op: &'static str) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::invalid(op, None, format!("{n} items are more than the kernel's u32 count")))
}

/// How often a listing is retried when a hot-plug changes its counts.
const RETRIES: usize = 8;

/// What `DRM_IOCTL_MODE_GETRESOURCES` lists: ids of this file's
/// framebuffers, of CRTCs, connectors and encoders.
#[derive(Debug, Default, Clone)]
pub(crate) struct CardRes {
    pub fbs: Vec<u32>,
    pub crtcs: Vec<u32>,
    pub connectors: Vec<u32>,
    pub encoders: Vec<u32>,
}

/// `DRM_IOCTL_MODE_GETRESOURCES`.
pub(crate) fn getresources(dev: BorrowedFd<'_>) -> Result<CardRes> {
    const OP: &str = "DRM_IOCTL_MODE_GETRESOURCES";
    let mut out = CardRes::default();
    for _ in 0..RETRIES {
        let mut arg = DrmModeCardRes {
            fb_id_ptr: uptr(out.fbs.as_ptr()),
            crtc_id_ptr: uptr(out.crtcs.as_ptr()),
            connector_id_ptr: uptr(out.connectors.as_ptr()),
            encoder_id_ptr: uptr(out.encoders.as_ptr()),
            count_fbs: count(out.fbs.len(), OP)?,
            count_crtcs: count(out.crtcs.len(), OP)?,
            count_connectors: count(out.connectors.len(), OP)?,
            count_encoders: count(out.encoders.len(), OP)?,
            ..Default::default()
        };
        let before = (arg.count_fbs, arg.count_crtcs, arg.count_connectors, arg.count_encoders);
        // SAFETY: each pointer addresses a vector of the count given beside it.
        let r = unsafe { raw_getresources(dev.as_raw_fd(), &raw mut arg) };
        r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e))?;
        if (arg.count_fbs, arg.count_crtcs, arg.count_connectors, arg.count_encoders) == before {
            return Ok(out);
        }
        out.fbs = vec![0; len(arg.count_fbs)];
        out.crtcs = vec![0; len(arg.count_crtcs)];
        out.connectors = vec![0; len(arg.count_connectors)];
        out.encoders = vec![0; len(arg.count_encoders)];
    }
    Err(Error::os(OP, Some(dev.as_raw_fd()), nix::errno::Errno::EAGAIN)
        .with_detail("the card's resources kept changing (hot-plug) while they were listed"))
}

/// `DRM_IOCTL_MODE_GETCRTC`.
pub(crate) fn getcrtc(dev: BorrowedFd<'_>, crtc_id: u32) -> Result<DrmModeCrtc> {
    let mut arg = DrmModeCrtc { crtc_id, ..Default::default() };
    // SAFETY: `arg` is a valid, writable drm_mode_crtc with no connector array.
    let r = unsafe { raw_getcrtc(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_MODE_GETCRTC", Some(dev.as_raw_fd()), e))?;
    Ok(arg)
}

/// `DRM_IOCTL_MODE_GETENCODER`.
pub(crate) fn getencoder(dev: BorrowedFd<'_>, encoder_id: u32) -> Result<DrmModeGetEncoder> {
    let mut arg = DrmModeGetEncoder { encoder_id, ..Default::default() };
    // SAFETY: `arg` is a valid, writable drm_mode_get_encoder.
    let r = unsafe { raw_getencoder(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_MODE_GETENCODER", Some(dev.as_raw_fd()), e))?;
    Ok(arg)
}

/// What `DRM_IOCTL_MODE_GETCONNECTOR` returns.
#[derive(Debug, Default, Clone)]
pub(crate) struct Connector {
    pub info: DrmModeGetConnector,
    pub modes: Vec<DrmModeModeinfo>,
    pub encoders: Vec<u32>,
}

/// `DRM_IOCTL_MODE_GETCONNECTOR`. The kernel probes the connector when
/// `count_modes` is 0, so the first call probes and the second reads.
pub(crate) fn getconnector(dev: BorrowedFd<'_>, connector_id: u32) -> Result<Connector> {
    const OP: &str = "DRM_IOCTL_MODE_GETCONNECTOR";
    let mut out = Connector::default();
    for _ in 0..RETRIES {
        let mut arg = DrmModeGetConnector {
            encoders_ptr: uptr(out.encoders.as_ptr()),
            modes_ptr: uptr(out.modes.as_ptr()),
            count_modes: count(out.modes.len(), OP)?,
            count_encoders: count(out.encoders.len(), OP)?,
            connector_id,
            ..Default::default()
        };
        let before = (arg.count_modes, arg.count_encoders);
        // SAFETY: each pointer addresses a vector of the count given beside it;
        // props are not asked for (count 0).
        let r = unsafe { raw_getconnector(dev.as_raw_fd(), &raw mut arg) };
        r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e))?;
        if (arg.count_modes, arg.count_encoders) == before {
            out.info = arg;
            return Ok(out);
        }
        out.info = arg;
        out.modes = vec![DrmModeModeinfo::default(); len(arg.count_modes)];
        out.encoders = vec![0; len(arg.count_encoders)];
    }
    Err(Error::os(OP, Some(dev.as_raw_fd()), nix::errno::Errno::EAGAIN)
        .with_detail(format!("connector {connector_id}'s modes kept changing while they were read")))
}

/// `DRM_IOCTL_MODE_GETPLANERESOURCES`: plane ids.
pub(crate) fn getplaneresources(dev: BorrowedFd<'_>) -> Result<Vec<u32>> {
    const OP: &str = "DRM_IOCTL_MODE_GETPLANERESOURCES";
    let mut ids: Vec<u32> = Vec::new();
    for _ in 0..RETRIES {
        let mut arg = DrmModeGetPlaneRes { plane_id_ptr: uptr(ids.as_ptr()), count_planes: count(ids.len(), OP)? };
        let before = arg.count_planes;
        // SAFETY: the pointer addresses a vector of `count_planes` u32s.
        let r = unsafe { raw_getplaneresources(dev.as_raw_fd(), &raw mut arg) };
        r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e))?;
        if arg.count_planes == before {
            return Ok(ids);
        }
        ids = vec![0; len(arg.count_planes)];
    }
    Err(Error::os(OP, Some(dev.as_raw_fd()), nix::errno::Errno::EAGAIN))
}

/// `DRM_IOCTL_MODE_GETPLANE`: the plane and its format list.
pub(crate) fn getplane(dev: BorrowedFd<'_>, plane_id: u32) -> Result<(DrmModeGetPlane, Vec<u32>)> {
    const OP: &str = "DRM_IOCTL_MODE_GETPLANE";
    let mut formats: Vec<u32> = Vec::new();
    for _ in 0..RETRIES {
        let mut arg = DrmModeGetPlane {
            plane_id,
            count_format_types: count(formats.len(), OP)?,
            format_type_ptr: uptr(formats.as_ptr()),
            ..Default::default()
        };
        let before = arg.count_format_types;
        // SAFETY: the pointer addresses a vector of `count_format_types` u32s.
        let r = unsafe { raw_getplane(dev.as_raw_fd(), &raw mut arg) };
        r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e))?;
        if arg.count_format_types == before {
            return Ok((arg, formats));
        }
        formats = vec![0; len(arg.count_format_types)];
    }
    Err(Error::os(OP, Some(dev.as_raw_fd()), nix::errno::Errno::EAGAIN))
}

/// `DRM_IOCTL_MODE_OBJ_GETPROPERTIES`: (property id, value) pairs.
pub(crate) fn obj_getproperties(dev: BorrowedFd<'_>, obj_id: u32) -> Result<Vec<(u32, u64)>> {
    const OP: &str = "DRM_IOCTL_MODE_OBJ_GETPROPERTIES";
    let mut ids: Vec<u32> = Vec::new();
    let mut values: Vec<u64> = Vec::new();
    for _ in 0..RETRIES {
        let mut arg = DrmModeObjGetProperties {
            props_ptr: uptr(ids.as_ptr()),
            prop_values_ptr: uptr(values.as_ptr()),
            count_props: count(ids.len(), OP)?,
            obj_id,
            obj_type: DRM_MODE_OBJECT_ANY,
        };
        let before = arg.count_props;
        // SAFETY: both pointers address vectors of `count_props` elements.
        let r = unsafe { raw_obj_getproperties(dev.as_raw_fd(), &raw mut arg) };
        r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e).with_detail(format!("object {obj_id}")))?;
        if arg.count_props == before {
            return Ok(ids.into_iter().zip(values).collect());
        }
        ids = vec![0; len(arg.count_props)];
        values = vec![0; len(arg.count_props)];
    }
    Err(Error::os(OP, Some(dev.as_raw_fd()), nix::errno::Errno::EAGAIN))
}

/// What `DRM_IOCTL_MODE_GETPROPERTY` returns: flags, name, and the enum
/// entries of an enum or bitmask property.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    pub flags: u32,
    pub name: [c_char; DRM_PROP_NAME_LEN],
    pub values: Vec<u64>,
    pub enums: Vec<DrmModePropertyEnum>,
}

/// `DRM_IOCTL_MODE_GETPROPERTY`.
pub(crate) fn getproperty(dev: BorrowedFd<'_>, prop_id: u32) -> Result<Property> {
    const OP: &str = "DRM_IOCTL_MODE_GETPROPERTY";
    let mut values: Vec<u64> = Vec::new();
    let mut enums: Vec<DrmModePropertyEnum> = Vec::new();
    for _ in 0..RETRIES {
        let mut arg = DrmModeGetProperty {
            values_ptr: uptr(values.as_ptr()),
            enum_blob_ptr: uptr(enums.as_ptr()),
            prop_id,
            count_values: count(values.len(), OP)?,
            count_enum_blobs: count(enums.len(), OP)?,
            ..Default::default()
        };
        let before = (arg.count_values, arg.count_enum_blobs);
        // SAFETY: both pointers address vectors of the counts given.
        let r = unsafe { raw_getproperty(dev.as_raw_fd(), &raw mut arg) };
        r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e))?;
        // Blob properties report a zero enum count; the values are fixed.
        let after = (arg.count_values, if arg.count_enum_blobs == 0 { before.1 } else { arg.count_enum_blobs });
        if after == before {
            return Ok(Property { flags: arg.flags, name: arg.name, values, enums });
        }
        values = vec![0; len(arg.count_values)];
        enums = vec![DrmModePropertyEnum { value: 0, name: [0; DRM_PROP_NAME_LEN] }; len(arg.count_enum_blobs)];
    }
    Err(Error::os(OP, Some(dev.as_raw_fd()), nix::errno::Errno::EAGAIN))
}

/// `DRM_IOCTL_MODE_GETPROPBLOB`: a blob's bytes.
pub(crate) fn getpropblob(dev: BorrowedFd<'_>, blob_id: u32) -> Result<Vec<u8>> {
    const OP: &str = "DRM_IOCTL_MODE_GETPROPBLOB";
    let mut data: Vec<u8> = Vec::new();
    for _ in 0..RETRIES {
        let mut arg = DrmModeGetBlob { blob_id, length: count(data.len(), OP)?, data: uptr(data.as_ptr()) };
        let before = arg.length;
        // SAFETY: `data` addresses a vector of `length` bytes.
        let r = unsafe { raw_getpropblob(dev.as_raw_fd(), &raw mut arg) };
        r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e).with_detail(format!("blob {blob_id}")))?;
        if arg.length == before {
            return Ok(data);
        }
        data = vec![0; len(arg.length)];
    }
    Err(Error::os(OP, Some(dev.as_raw_fd()), nix::errno::Errno::EAGAIN))
}

/// `DRM_IOCTL_MODE_CREATEPROPBLOB`: the new blob's id.
pub(crate) fn createpropblob(dev: BorrowedFd<'_>, data: &[u8]) -> Result<u32> {
    const OP: &str = "DRM_IOCTL_MODE_CREATEPROPBLOB";
    let mut arg = DrmModeCreateBlob { data: uptr(data.as_ptr()), length: count(data.len(), OP)?, blob_id: 0 };
    // SAFETY: `data` addresses `length` readable bytes.
    let r = unsafe { raw_createpropblob(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e))?;
    Ok(arg.blob_id)
}

/// `DRM_IOCTL_MODE_DESTROYPROPBLOB`.
pub(crate) fn destroypropblob(dev: BorrowedFd<'_>, blob_id: u32) -> Result<()> {
    let mut arg = DrmModeDestroyBlob { blob_id };
    // SAFETY: `arg` is a valid drm_mode_destroy_blob.
    let r = unsafe { raw_destroypropblob(dev.as_raw_fd(), &raw mut arg) };
    r.map(drop).map_err(|e| Error::os("DRM_IOCTL_MODE_DESTROYPROPBLOB", Some(dev.as_raw_fd()), e))
}

/// `DRM_IOCTL_MODE_ADDFB2`: the new framebuffer's id.
pub(crate) fn addfb2(dev: BorrowedFd<'_>, mut arg: DrmModeFbCmd2) -> Result<u32> {
    // SAFETY: `arg` is a valid, writable drm_mode_fb_cmd2.
    let r = unsafe { raw_addfb2(dev.as_raw_fd(), &raw mut arg) };
    r.map_err(|e| Error::os("DRM_IOCTL_MODE_ADDFB2", Some(dev.as_raw_fd()), e))?;
    Ok(arg.fb_id)
}

/// `DRM_IOCTL_MODE_RMFB`.
pub(crate) fn rmfb(dev: BorrowedFd<'_>, fb_id: u32) -> Result<()> {
    let mut arg = fb_id;
    // SAFETY: `arg` is a writable u32.
    let r = unsafe { raw_rmfb(dev.as_raw_fd(), &raw mut arg) };
    r.map(drop).map_err(|e| Error::os("DRM_IOCTL_MODE_RMFB", Some(dev.as_raw_fd()), e))
}

/// The arrays of one atomic commit, as `struct drm_mode_atomic` points at
/// them: objects, the number of properties of each, then all properties
/// and values in object order.
#[derive(Debug, Default)]
pub(crate) struct AtomicArrays {
    pub objs: Vec<u32>,
    pub count_props: Vec<u32>,
    pub props: Vec<u32>,
    pub values: Vec<u64>,
}

/// `DRM_IOCTL_MODE_ATOMIC`.
///
/// # Safety
/// Values of pointer properties (`OUT_FENCE_PTR`, `WRITEBACK_OUT_FENCE_PTR`)
/// must address writable `i32`s that live across the call.
pub(crate) unsafe fn atomic(dev: BorrowedFd<'_>, a: &AtomicArrays, flags: u32, user_data: u64) -> Result<()> {
    const OP: &str = "DRM_IOCTL_MODE_ATOMIC";
    if a.objs.len() != a.count_props.len() || a.props.len() != a.values.len() {
        return Err(Error::invalid(OP, Some(dev.as_raw_fd()), "inconsistent atomic arrays"));
    }
    let mut arg = DrmModeAtomic {
        flags,
        count_objs: count(a.objs.len(), OP)?,
        objs_ptr: uptr(a.objs.as_ptr()),
        count_props_ptr: uptr(a.count_props.as_ptr()),
        props_ptr: uptr(a.props.as_ptr()),
        prop_values_ptr: uptr(a.values.as_ptr()),
        reserved: 0,
        user_data,
    };
    // SAFETY: the arrays have the lengths given; the caller vouches for pointer values.
    let r = unsafe { raw_atomic(dev.as_raw_fd(), &raw mut arg) };
    r.map(drop).map_err(|e| Error::os(OP, Some(dev.as_raw_fd()), e))
}
