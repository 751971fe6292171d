//! Vulkan images as [`Frame`]s and back (Cargo feature `vulkan`):
//! [`Frame::from_vulkan_image`] exports an image's memory with its DRM
//! format modifier and per-plane layout, [`Frame::to_vulkan_image`] imports
//! a frame with `VK_EXT_image_drm_format_modifier`'s explicit layout.
//!
//! The fourcc and the Vulkan format go through
//! [`vk_format`]/[`fourcc_from_format`]: a format outside that table has no
//! Vulkan mapping and is refused by name.

use std::os::fd::{AsRawFd, RawFd};

use ash::vk;
use nix::errno::Errno;

use super::{Frame, FramePlane, Modifier};
use crate::dma_buf::DmaBuf;
use crate::error::{Error, ErrorKind, Result};
use crate::vulkan::{fourcc_from_format, vk_format, Image, ImageDesc, PlaneLayout, Vulkan};

const FROM: &str = "Frame::from_vulkan_image";
const TO: &str = "Frame::to_vulkan_image";

fn unsupported(op: &'static str, fd: Option<RawFd>, detail: String) -> Error {
    Error::new(ErrorKind::Unsupported, Errno::EOPNOTSUPP, op, fd, detail)
}

impl Frame {
    /// An image made by [`Vulkan::create_image`] as a frame:
    /// `vkGetMemoryFdKHR(DMA_BUF)` exports its memory (one new dma-buf,
    /// duplicated with `F_DUPFD_CLOEXEC` for each further plane), the
    /// modifier is the one the driver chose
    /// (`vkGetImageDrmFormatModifierPropertiesEXT`) and each plane's offset
    /// and pitch are `vkGetImageSubresourceLayout`'s for its memory plane.
    /// The fourcc is the image format's ([`fourcc_from_format`]:
    /// `B8G8R8A8_UNORM` is `AR24`). The frame owns the new fds; the image
    /// stays valid and shares the memory.
    ///
    /// # Errors
    /// `Unsupported` for an imported image (its memory was not made
    /// exportable) or a format with no DRM fourcc in the table;
    /// `InvalidArgument` when an offset or pitch does not fit in 32 bits
    /// (a frame's planes are `u32`) or [`Frame::new`] refuses the layout;
    /// Vulkan's errors; `EMFILE`.
    #[doc(alias = "vkGetMemoryFdKHR")]
    #[doc(alias = "vkGetImageSubresourceLayout")]
    pub fn from_vulkan_image(image: &Image) -> Result<Frame> {
        let desc = image.desc();
        let fourcc = fourcc_from_format(desc.format).ok_or_else(|| {
            unsupported(
                FROM,
                None,
                format!("the image's format {:?} has no DRM fourcc in this crate's table", desc.format),
            )
        })?;
        let layout = image.planes();
        // Checked before exporting, so that a refusal opens no fd at all.
        let mut fits = Vec::with_capacity(layout.len());
        for (i, p) in layout.iter().enumerate() {
            let fit = |v: u64, what: &str| {
                u32::try_from(v).map_err(|_| {
                    Error::invalid(FROM, None, format!("plane {i}: {what} {v} does not fit in a frame's 32 bits"))
                })
            };
            fits.push((fit(p.offset, "offset")?, fit(p.pitch, "pitch")?));
        }
        let buf = image.export_dma_buf()?;
        // One duplicate per further plane; the last plane takes the export.
        let mut bufs = Vec::with_capacity(fits.len());
        for _ in 1..fits.len() {
            bufs.push(buf.try_clone()?);
        }
        bufs.push(buf);
        let planes: Vec<FramePlane> =
            fits.iter().zip(bufs).map(|(&(offset, pitch), buf)| FramePlane { buf, offset, pitch }).collect();
        Frame::new(desc.width, desc.height, fourcc, Modifier(image.modifier()), planes)
            .map_err(|e| e.error.without_fd())
    }

    /// The frame imported as a 2D Vulkan image (`vkCreateImage` with
    /// `VkImageDrmFormatModifierExplicitCreateInfoEXT` giving the frame's
    /// modifier and each plane's offset and pitch, then `vkAllocateMemory`
    /// with `VkImportMemoryFdInfoKHR`), through [`Vulkan::import_image`].
    /// Vulkan takes a duplicate (`F_DUPFD_CLOEXEC`) of the planes'
    /// dma-buf: the frame stays the caller's, open, whatever happens.
    ///
    /// Every plane must lie in the same dma-buf (the same inode; disjoint
    /// images, one memory per plane, are not supported). `usage` is the
    /// image's (`TRANSFER_SRC | TRANSFER_DST` in [`ImageDesc::new`]);
    /// `host_visible` as for [`Vulkan::import_image`].
    ///
    /// # Errors
    /// `Unsupported` for a fourcc with no Vulkan format ([`vk_format`]), a
    /// plane in another dma-buf than plane 0, or a modifier the device does
    /// not support for the format and usage; `InvalidArgument` naming the
    /// plane when the layout does not fit the dma-buf, and naming every
    /// plane's offset and pitch when the driver refuses the layout
    /// (`VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT`); Vulkan's
    /// errors; `EMFILE`. Errors name plane 0's fd.
    #[doc(alias = "VkImageDrmFormatModifierExplicitCreateInfoEXT")]
    #[doc(alias = "VkImportMemoryFdInfoKHR")]
    pub fn to_vulkan_image(
        &self,
        vulkan: &Vulkan,
        usage: vk::ImageUsageFlags,
        host_visible: Option<bool>,
    ) -> Result<Image> {
        let first = &self.planes[0].buf;
        let fd0 = first.as_raw_fd();
        let format = vk_format(self.fourcc).ok_or_else(|| {
            unsupported(
                TO,
                Some(fd0),
                format!("{} ({}) has no Vulkan format in this crate's table", self.fourcc.name(), self.fourcc),
            )
        })?;
        if self.planes.len() > 1 {
            let inode = first.info()?.inode;
            for (i, p) in self.planes.iter().enumerate().skip(1) {
                let other = p.buf.info()?.inode;
                if other != inode {
                    return Err(unsupported(
                        TO,
                        Some(p.buf.as_raw_fd()),
                        format!(
                            "plane {i} is in another dma-buf (inode {other}) than plane 0 (inode {inode}); an image \
                             with one memory per plane (VK_IMAGE_CREATE_DISJOINT_BIT) is not supported"
                        ),
                    ));
                }
            }
        }
        let desc = ImageDesc { width: self.width, height: self.height, format, usage };
        let layout: Vec<PlaneLayout> = self
            .planes
            .iter()
            .map(|p| PlaneLayout { offset: u64::from(p.offset), pitch: u64::from(p.pitch) })
            .collect();
        let dup: DmaBuf = first.try_clone()?;
        vulkan.import_image(dup, &desc, self.modifier.0, &layout, host_visible).map_err(|e| {
            // The duplicate is closed here: name the caller's plane 0.
            let error = e.error;
            drop(e.handle);
            let error = error.with_fd(fd0);
            if error.errno() == Errno::EINVAL && error.op() == "vkCreateImage" {
                let planes: Vec<String> = self
                    .planes
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("plane {i}: offset {}, pitch {}", p.offset, p.pitch))
                    .collect();
                let detail = format!(
                    "{} ({}x{} {} modifier {}; {})",
                    error.description(),
                    self.width,
                    self.height,
                    self.fourcc.name(),
                    self.modifier,
                    planes.join("; ")
                );
                error.with_detail(detail)
            } else {
                error
            }
        })
    }
}
