//! Controls: `VIDIOC_G_CTRL`, `VIDIOC_S_CTRL`, the list from
//! `VIDIOC_QUERY_EXT_CTRL`, menus (`VIDIOC_QUERYMENU`) and extended
//! controls (`VIDIOC_G_EXT_CTRLS`, `VIDIOC_S_EXT_CTRLS`,
//! `VIDIOC_TRY_EXT_CTRLS`): integer, boolean, menu, 64-bit and string
//! controls of any class, codec parameters among them.
//!
//! Kernel documentation: <https://docs.kernel.org/userspace-api/media/v4l/vidioc-g-ext-ctrls.html>

use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};
use crate::sys::videodev2::{self as sys, ExtCtrlsOp};

use super::device::{c_string, V4l2Device};

/// A control as `VIDIOC_QUERY_EXT_CTRL` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlInfo {
    /// The control's id (`V4L2_CID_*` or a driver's own).
    pub id: u32,
    /// Its name (`"OSD Text Mode"`).
    pub name: String,
    /// `enum v4l2_ctrl_type` (1 integer, 2 boolean, 3 menu, ...).
    pub kind: u32,
    /// Smallest value.
    pub minimum: i64,
    /// Largest value.
    pub maximum: i64,
    /// Step between values.
    pub step: u64,
    /// Default value.
    pub default_value: i64,
    /// `V4L2_CTRL_FLAG_*`.
    pub flags: u32,
}

/// A control's value, in the member of `struct v4l2_ext_control` its type uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlValue {
    /// `value`: integer, boolean, button, bitmask and menu controls (a
    /// menu's value is the index of its item).
    Integer(i32),
    /// `value64`: `V4L2_CTRL_TYPE_INTEGER64` controls.
    Integer64(i64),
    /// `string`: `V4L2_CTRL_TYPE_STRING` controls (at most `maximum` bytes).
    String(String),
}

impl ControlValue {
    /// The value as an integer (`None` for a string).
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ControlValue::Integer(v) => Some(i64::from(*v)),
            ControlValue::Integer64(v) => Some(*v),
            ControlValue::String(_) => None,
        }
    }
}

/// One item of a menu control, as `VIDIOC_QUERYMENU` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    /// The item's index: the control's value that selects it.
    pub index: u32,
    /// Its name (menu controls; empty for integer menus).
    pub name: String,
    /// Its value (integer menus, `V4L2_CTRL_TYPE_INTEGER_MENU`; 0 for menus).
    pub value: i64,
}

/// The `v4l2_ext_control` entries of one call, with the string buffers
/// their pointers point at (kept alive beside them).
struct ExtBatch {
    ctrls: Vec<sys::V4l2ExtControl>,
    strings: Vec<Option<Vec<u8>>>,
    infos: Vec<ControlInfo>,
}

impl ExtBatch {
    /// Points each string control at its buffer; the buffers do not move
    /// again until the batch is dropped.
    fn point(&mut self) {
        for (c, s) in self.ctrls.iter_mut().zip(&mut self.strings) {
            if let Some(buf) = s {
                c.u.ptr = buf.as_mut_ptr();
                c.size = u32::try_from(buf.len()).unwrap_or(u32::MAX);
            }
        }
    }

    fn values(&self) -> Vec<ControlValue> {
        self.ctrls
            .iter()
            .zip(&self.strings)
            .zip(&self.infos)
            .map(|((c, s), info)| match s {
                Some(buf) => ControlValue::String(c_string(buf)),
                None if info.kind == sys::V4L2_CTRL_TYPE_INTEGER64 => ControlValue::Integer64(c.value64()),
                None => ControlValue::Integer(c.value()),
            })
            .collect()
    }
}

impl ControlInfo {
    /// What `VIDIOC_QUERY_EXT_CTRL` answered.
    fn from_query(q: &sys::V4l2QueryExtCtrl) -> ControlInfo {
        ControlInfo {
            id: q.id,
            name: c_string(&q.name),
            kind: q.type_,
            minimum: q.minimum,
            maximum: q.maximum,
            step: q.step,
            default_value: q.default_value,
            flags: q.flags,
        }
    }
}

impl V4l2Device {
    /// `VIDIOC_QUERY_EXT_CTRL` of one control by id.
    ///
    /// # Errors
    /// `InvalidArgument` (`EINVAL`) naming the id when the node has no such
    /// control.
    #[doc(alias = "VIDIOC_QUERY_EXT_CTRL")]
    pub fn query_control(&self, id: u32) -> Result<ControlInfo> {
        let mut q = sys::V4l2QueryExtCtrl::new(id);
        sys::query_ext_ctrl(self.fd(), &mut q).map_err(|e| {
            if e.errno() == Errno::EINVAL {
                e.with_kind(ErrorKind::InvalidArgument).with_detail(format!("{} has no control {id:#x}", self.name()))
            } else {
                e
            }
        })?;
        Ok(ControlInfo::from_query(&q))
    }

    /// `VIDIOC_QUERYMENU` for every index from the control's minimum to its
    /// maximum: the items of a menu or integer-menu control (indexes the
    /// driver skips are left out).
    ///
    /// # Errors
    /// `InvalidArgument` when `id` is not a menu control; the kernel's errors.
    #[doc(alias = "VIDIOC_QUERYMENU")]
    pub fn menu_items(&self, id: u32) -> Result<Vec<MenuItem>> {
        let info = self.query_control(id)?;
        let integer = info.kind == sys::V4L2_CTRL_TYPE_INTEGER_MENU;
        if info.kind != sys::V4L2_CTRL_TYPE_MENU && !integer {
            return Err(Error::invalid(
                "VIDIOC_QUERYMENU",
                Some(self.raw()),
                format!("control {id:#x} ({}) is not a menu (its type is {})", info.name, info.kind),
            ));
        }
        let lo = u32::try_from(info.minimum.max(0)).unwrap_or(0);
        let hi = u32::try_from(info.maximum.max(0)).unwrap_or(0);
        let mut out = Vec::new();
        for index in lo..=hi {
            let mut q = sys::V4l2QueryMenu { id, index, name: [0; 32], reserved: 0 };
            match sys::querymenu(self.fd(), &mut q) {
                Ok(()) => {}
                Err(e) if e.errno() == Errno::EINVAL => continue,
                Err(e) => return Err(e),
            }
            let name = q.name;
            out.push(if integer {
                MenuItem { index, name: String::new(), value: q.value() }
            } else {
                MenuItem { index, name: c_string(&name), value: 0 }
            });
        }
        Ok(out)
    }

    /// `VIDIOC_G_EXT_CTRLS`: the current values of `ids`, each in the form
    /// its type takes (the types come from `VIDIOC_QUERY_EXT_CTRL`).
    ///
    /// # Errors
    /// `InvalidArgument` for an unknown id or a control type other than
    /// integer, boolean, menu, button, bitmask, 64-bit or string; the
    /// kernel's errors name the control it refused.
    #[doc(alias = "VIDIOC_G_EXT_CTRLS")]
    pub fn ext_controls(&self, ids: &[u32]) -> Result<Vec<ControlValue>> {
        let mut batch = self.batch(ExtCtrlsOp::Get, ids.iter().map(|&id| (id, None)))?;
        self.run_batch(ExtCtrlsOp::Get, &mut batch)?;
        Ok(batch.values())
    }

    /// `VIDIOC_S_EXT_CTRLS`: sets every control of `values` in one call
    /// (all or none) and returns the values the driver kept, which it may
    /// have clamped or rounded to its step.
    ///
    /// # Errors
    /// As [`V4l2Device::ext_controls`]; `InvalidArgument` when a value's
    /// form does not match the control's type or a string is too long;
    /// `ERANGE` for a value out of range, `EBUSY` for a control locked
    /// while streaming, `EACCES` for a read-only one, each naming the control.
    #[doc(alias = "VIDIOC_S_EXT_CTRLS")]
    pub fn set_ext_controls(&self, values: &[(u32, ControlValue)]) -> Result<Vec<ControlValue>> {
        let mut batch = self.batch(ExtCtrlsOp::Set, values.iter().map(|(id, v)| (*id, Some(v))))?;
        self.run_batch(ExtCtrlsOp::Set, &mut batch)?;
        Ok(batch.values())
    }

    /// `VIDIOC_TRY_EXT_CTRLS`: what [`V4l2Device::set_ext_controls`] would
    /// keep, changing nothing.
    ///
    /// # Errors
    /// As [`V4l2Device::set_ext_controls`].
    #[doc(alias = "VIDIOC_TRY_EXT_CTRLS")]
    pub fn try_ext_controls(&self, values: &[(u32, ControlValue)]) -> Result<Vec<ControlValue>> {
        let mut batch = self.batch(ExtCtrlsOp::Try, values.iter().map(|(id, v)| (*id, Some(v))))?;
        self.run_batch(ExtCtrlsOp::Try, &mut batch)?;
        Ok(batch.values())
    }

    fn batch<'a>(
        &self,
        op: ExtCtrlsOp,
        items: impl Iterator<Item = (u32, Option<&'a ControlValue>)>,
    ) -> Result<ExtBatch> {
        let mut batch = ExtBatch { ctrls: Vec::new(), strings: Vec::new(), infos: Vec::new() };
        for (id, value) in items {
            let info = self.query_control(id)?;
            let mut c = sys::V4l2ExtControl::new(id);
            let mut string = None;
            let mismatch = |want: &str| {
                Error::invalid(
                    op.name(),
                    Some(self.raw()),
                    format!("control {id:#x} ({}) takes {want}, not {value:?}", info.name),
                )
            };
            match info.kind {
                sys::V4L2_CTRL_TYPE_INTEGER64 => match value {
                    None => {}
                    Some(ControlValue::Integer64(v)) => c.u.value64 = *v,
                    Some(ControlValue::Integer(v)) => c.u.value64 = i64::from(*v),
                    Some(ControlValue::String(_)) => return Err(mismatch("a 64-bit integer")),
                },
                sys::V4L2_CTRL_TYPE_STRING => {
                    // `maximum` is the longest string; the kernel wants room for its NUL.
                    let room = usize::try_from(info.maximum).unwrap_or(0) + 1;
                    let mut buf = vec![0u8; room];
                    match value {
                        None => {}
                        Some(ControlValue::String(s)) => {
                            if s.len() >= room || s.as_bytes().contains(&0) {
                                return Err(Error::invalid(
                                    op.name(),
                                    Some(self.raw()),
                                    format!(
                                        "control {id:#x} ({}) takes strings of at most {} bytes without NUL, not {} bytes",
                                        info.name,
                                        room - 1,
                                        s.len()
                                    ),
                                ));
                            }
                            buf[..s.len()].copy_from_slice(s.as_bytes());
                        }
                        Some(_) => return Err(mismatch("a string")),
                    }
                    string = Some(buf);
                }
                sys::V4L2_CTRL_TYPE_INTEGER
                | sys::V4L2_CTRL_TYPE_BOOLEAN
                | sys::V4L2_CTRL_TYPE_MENU
                | sys::V4L2_CTRL_TYPE_INTEGER_MENU
                | sys::V4L2_CTRL_TYPE_BUTTON
                | sys::V4L2_CTRL_TYPE_BITMASK => match value {
                    None => {}
                    Some(ControlValue::Integer(v)) => c.u.value = *v,
                    Some(ControlValue::Integer64(v)) => {
                        c.u.value = i32::try_from(*v).map_err(|_| mismatch("a 32-bit integer"))?;
                    }
                    Some(ControlValue::String(_)) => return Err(mismatch("an integer")),
                },
                other => {
                    return Err(Error::invalid(
                        op.name(),
                        Some(self.raw()),
                        format!(
                            "control {id:#x} ({}) has type {other}, a compound control this call does not handle",
                            info.name
                        ),
                    ))
                }
            }
            batch.ctrls.push(c);
            batch.strings.push(string);
            batch.infos.push(info);
        }
        Ok(batch)
    }

    fn run_batch(&self, op: ExtCtrlsOp, batch: &mut ExtBatch) -> Result<()> {
        batch.point();
        // SAFETY: `point` aimed every string control at its buffer in
        // `batch.strings`, `size` bytes long, which lives until `batch` drops.
        let r = unsafe { sys::ext_ctrls(self.fd(), op, &mut batch.ctrls) };
        r.map_err(|(e, idx)| match usize::try_from(idx).ok().and_then(|i| batch.infos.get(i)) {
            Some(info) => {
                let what = e.description().into_owned();
                e.with_detail(format!("control {:#x} ({}): {what}", info.id, info.name))
            }
            None => e,
        })
    }

    /// `VIDIOC_G_CTRL`: a control's value.
    ///
    /// # Errors
    /// `EINVAL` for an unknown id.
    #[doc(alias = "VIDIOC_G_CTRL")]
    pub fn control(&self, id: u32) -> Result<i32> {
        sys::g_ctrl(self.fd(), id)
    }

    /// `VIDIOC_S_CTRL`: sets a control; returns the value the driver kept.
    ///
    /// # Errors
    /// `EINVAL` for an unknown id, `ERANGE` for a value out of range,
    /// `EBUSY` for a control locked while streaming, `EACCES` for a
    /// read-only one.
    #[doc(alias = "VIDIOC_S_CTRL")]
    pub fn set_control(&self, id: u32, value: i32) -> Result<i32> {
        sys::s_ctrl(self.fd(), id, value)
    }

    /// `VIDIOC_QUERY_EXT_CTRL` with `V4L2_CTRL_FLAG_NEXT_CTRL`: every
    /// control of the node (class headings left out).
    ///
    /// # Errors
    /// The kernel's errors other than the `EINVAL` that ends the list.
    #[doc(alias = "VIDIOC_QUERY_EXT_CTRL")]
    pub fn controls(&self) -> Result<Vec<ControlInfo>> {
        let mut out = Vec::new();
        let mut id = 0;
        loop {
            let mut q = sys::V4l2QueryExtCtrl::new(id | sys::V4L2_CTRL_FLAG_NEXT_CTRL);
            match sys::query_ext_ctrl(self.fd(), &mut q) {
                Ok(()) => {}
                Err(e) if e.errno() == Errno::EINVAL => break,
                Err(e) => return Err(e),
            }
            id = q.id;
            if q.type_ != sys::V4L2_CTRL_TYPE_CTRL_CLASS {
                out.push(ControlInfo::from_query(&q));
            }
        }
        Ok(out)
    }

    /// The control whose name is `name` (ASCII case ignored), such as
    /// vivid's `"OSD Text Mode"`.
    ///
    /// # Errors
    /// `InvalidArgument` (`EINVAL`) listing nothing when none has that name.
    pub fn find_control(&self, name: &str) -> Result<ControlInfo> {
        self.controls()?.into_iter().find(|c| c.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
            Error::invalid(
                "VIDIOC_QUERY_EXT_CTRL",
                Some(self.raw()),
                format!("{} has no control named {name:?}", self.name()),
            )
        })
    }
}
