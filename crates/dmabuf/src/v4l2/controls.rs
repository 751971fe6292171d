//! Controls: `VIDIOC_G_CTRL`, `VIDIOC_S_CTRL` and the list from
//! `VIDIOC_QUERY_EXT_CTRL`.

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::sys::videodev2 as sys;

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

impl V4l2Device {
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
                out.push(ControlInfo {
                    id: q.id,
                    name: c_string(&q.name),
                    kind: q.type_,
                    minimum: q.minimum,
                    maximum: q.maximum,
                    step: q.step,
                    default_value: q.default_value,
                    flags: q.flags,
                });
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
