//! Images and DRM format modifiers: the modifiers a format offers, images
//! created with an explicit modifier and exported, dma-bufs imported as images
//! with an explicit per-plane layout (`VK_EXT_image_drm_format_modifier`).

use std::fmt;
use std::os::fd::{AsFd, AsRawFd};

use ash::vk;

use crate::dma_buf::DmaBuf;
use crate::error::{Error, Result};

use super::conv::{bytes_per_pixel, memory_plane_aspect, plane_height, unsupported, vk_error, HandleType, ImportError};
use super::device::{Vulkan, DRM_MODIFIER, MEMORY_DMA_BUF};
use super::memory::get_memory_fd;

/// `DRM_FORMAT_MOD_LINEAR`: rows one after the other, `pitch` bytes apart.
pub const DRM_FORMAT_MOD_LINEAR: u64 = 0;
/// `DRM_FORMAT_MOD_INVALID`: the "implicit" modifier (the layout is agreed
/// out of band, as before modifiers existed). Never the same as LINEAR; an
/// image import needs an explicit modifier.
pub const DRM_FORMAT_MOD_INVALID: u64 = 0x00ff_ffff_ffff_ffff;

/// A 2D image's size, format and usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDesc {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The Vulkan format (see [`format_from_fourcc`](super::format_from_fourcc)).
    pub format: vk::Format,
    /// How it will be used (transfer source and destination by default).
    pub usage: vk::ImageUsageFlags,
}

impl ImageDesc {
    /// A description for transfers (`TRANSFER_SRC | TRANSFER_DST`).
    pub fn new(width: u32, height: u32, format: vk::Format) -> ImageDesc {
        ImageDesc {
            width,
            height,
            format,
            usage: vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST,
        }
    }
}

/// One memory plane's place in a dma-buf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneLayout {
    /// Byte offset of the plane's first row.
    pub offset: u64,
    /// Bytes from one row to the next.
    pub pitch: u64,
}

/// One DRM format modifier and what the device allows with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifierInfo {
    /// The modifier (`DRM_FORMAT_MOD_LINEAR` is 0).
    pub modifier: u64,
    /// Its number of memory planes.
    pub plane_count: u32,
    /// Largest width.
    pub max_width: u32,
    /// Largest height.
    pub max_height: u32,
    /// Exportable / importable as a dma-buf.
    pub external: vk::ExternalMemoryFeatureFlags,
}

/// A 2D image with a DRM format modifier and the memory bound to it.
#[allow(clippy::struct_field_names)] // Reason: `image` is the VkImage of an `Image`.
pub struct Image {
    pub(super) vk: Vulkan,
    pub(super) image: vk::Image,
    pub(super) memory: Vec<vk::DeviceMemory>,
    pub(super) desc: ImageDesc,
    pub(super) modifier: u64,
    pub(super) planes: Vec<PlaneLayout>,
    pub(super) size: u64,
    pub(super) exportable: bool,
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("desc", &self.desc)
            .field("modifier", &format_args!("{:#x}", self.modifier))
            .field("planes", &self.planes)
            .finish_non_exhaustive()
    }
}

impl Image {
    /// The DRM format modifier (chosen by the driver for an exported image).
    pub fn modifier(&self) -> u64 {
        self.modifier
    }

    /// Offset and pitch of each memory plane.
    pub fn planes(&self) -> &[PlaneLayout] {
        &self.planes
    }

    /// Size, format and usage.
    pub fn desc(&self) -> &ImageDesc {
        &self.desc
    }

    /// Bytes of memory.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The raw image handle.
    pub fn raw(&self) -> vk::Image {
        self.image
    }

    /// `vkGetMemoryFdKHR(DMA_BUF)` of an image made by
    /// [`Vulkan::create_image`]: a new dma-buf, owned by the caller, laid out
    /// as [`Image::modifier`] and [`Image::planes`] say.
    ///
    /// # Errors
    /// `Unsupported` for an imported image; Vulkan's errors.
    #[doc(alias = "vkGetMemoryFdKHR")]
    pub fn export_dma_buf(&self) -> Result<DmaBuf> {
        let exportable = self.exportable.then_some(HandleType::DmaBuf);
        let fd = get_memory_fd(&self.vk, self.memory[0], HandleType::DmaBuf, exportable, "image")?;
        DmaBuf::from_owned(fd).map_err(|e| e.error)
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let d = &self.vk.inner.device;
        // SAFETY: every command this module submits is waited for; the image is ours.
        unsafe { d.destroy_image(self.image, None) };
        for &m in &self.memory {
            // SAFETY: the memory is ours and its image is destroyed.
            unsafe { d.free_memory(m, None) };
        }
    }
}

impl Vulkan {
    pub(super) fn image_format_properties(
        &self,
        format: vk::Format,
        usage: vk::ImageUsageFlags,
        handle: HandleType,
        modifier: Option<u64>,
    ) -> Option<(vk::ImageFormatProperties, vk::ExternalMemoryFeatureFlags)> {
        let mut ext_info = vk::PhysicalDeviceExternalImageFormatInfo::default().handle_type(handle.flag());
        let mut mod_info = vk::PhysicalDeviceImageDrmFormatModifierInfoEXT::default()
            .drm_format_modifier(modifier.unwrap_or(0))
            .sharing_mode(vk::SharingMode::EXCLUSIVE);
        let mut info = vk::PhysicalDeviceImageFormatInfo2::default()
            .format(format)
            .ty(vk::ImageType::TYPE_2D)
            .usage(usage)
            .tiling(if modifier.is_some() {
                vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT
            } else {
                vk::ImageTiling::OPTIMAL
            })
            .push_next(&mut ext_info);
        if modifier.is_some() {
            info = info.push_next(&mut mod_info);
        }
        let mut ext_out = vk::ExternalImageFormatProperties::default();
        let mut out = vk::ImageFormatProperties2::default().push_next(&mut ext_out);
        // SAFETY: valid physical device, info chain and output chain.
        let r = unsafe {
            self.inner.instance.get_physical_device_image_format_properties2(self.inner.physical, &info, &mut out)
        };
        let props = out.image_format_properties;
        r.ok().map(|()| (props, ext_out.external_memory_properties.external_memory_features))
    }

    /// The DRM format modifiers the device supports for 2D images of
    /// `format` with `usage` as dma-bufs, each with its plane count, largest
    /// extent and whether it can be exported and imported
    /// (`vkGetPhysicalDeviceFormatProperties2` with
    /// `VkDrmFormatModifierPropertiesListEXT`, then
    /// `vkGetPhysicalDeviceImageFormatProperties2` with the external and
    /// modifier info for each). Modifiers the usage rules out are left out.
    ///
    /// # Errors
    /// `Unsupported` when `VK_EXT_image_drm_format_modifier` is not enabled.
    #[doc(alias = "vkGetPhysicalDeviceImageFormatProperties2")]
    pub fn modifiers(&self, format: vk::Format, usage: vk::ImageUsageFlags) -> Result<Vec<ModifierInfo>> {
        const OP: &str = "vkGetPhysicalDeviceFormatProperties2";
        self.require(DRM_MODIFIER, OP)?;
        self.require(MEMORY_DMA_BUF, OP)?;
        let mut list = vk::DrmFormatModifierPropertiesListEXT::default();
        let mut props = vk::FormatProperties2::default().push_next(&mut list);
        // SAFETY: valid physical device and output chain (count query).
        unsafe { self.inner.instance.get_physical_device_format_properties2(self.inner.physical, format, &mut props) };
        let mut mods = vec![vk::DrmFormatModifierPropertiesEXT::default(); list.drm_format_modifier_count as usize];
        let mut list = vk::DrmFormatModifierPropertiesListEXT::default().drm_format_modifier_properties(&mut mods);
        let mut props = vk::FormatProperties2::default().push_next(&mut list);
        // SAFETY: as above, with room for every modifier.
        unsafe { self.inner.instance.get_physical_device_format_properties2(self.inner.physical, format, &mut props) };
        let n = list.drm_format_modifier_count as usize;
        let mut out = Vec::new();
        for m in mods.iter().take(n) {
            if let Some((p, external)) =
                self.image_format_properties(format, usage, HandleType::DmaBuf, Some(m.drm_format_modifier))
            {
                out.push(ModifierInfo {
                    modifier: m.drm_format_modifier,
                    plane_count: m.drm_format_modifier_plane_count,
                    max_width: p.max_extent.width,
                    max_height: p.max_extent.height,
                    external,
                });
            }
        }
        Ok(out)
    }

    pub(super) fn image_info(desc: &ImageDesc, tiling: vk::ImageTiling) -> vk::ImageCreateInfo<'static> {
        vk::ImageCreateInfo::default()
            .image_type(vk::ImageType::TYPE_2D)
            .format(desc.format)
            .extent(vk::Extent3D { width: desc.width, height: desc.height, depth: 1 })
            .mip_levels(1)
            .array_layers(1)
            .samples(vk::SampleCountFlags::TYPE_1)
            .tiling(tiling)
            .usage(desc.usage)
            .sharing_mode(vk::SharingMode::EXCLUSIVE)
            .initial_layout(vk::ImageLayout::UNDEFINED)
    }

    pub(super) fn check_image_desc(&self, op: &'static str, desc: &ImageDesc, modifier: u64) -> Result<ModifierInfo> {
        if desc.width == 0 || desc.height == 0 {
            return Err(Error::invalid(op, None, "an image needs a non-zero width and height"));
        }
        if modifier == DRM_FORMAT_MOD_INVALID {
            return Err(Error::invalid(
                op,
                None,
                "DRM_FORMAT_MOD_INVALID (the implicit modifier) cannot be imported or exported explicitly; give the buffer's real modifier (DRM_FORMAT_MOD_LINEAR is 0)",
            ));
        }
        let mods = self.modifiers(desc.format, desc.usage)?;
        let Some(info) = mods.iter().find(|m| m.modifier == modifier) else {
            let list: Vec<String> = mods.iter().map(|m| format!("{:#x}", m.modifier)).collect();
            return Err(unsupported(
                op,
                format!(
                    "modifier {modifier:#x} is not supported for {:?} with usage {:?} on {} (supported: [{}])",
                    desc.format,
                    desc.usage,
                    self.inner.name,
                    list.join(", ")
                ),
            ));
        };
        if desc.width > info.max_width || desc.height > info.max_height {
            return Err(Error::invalid(
                op,
                None,
                format!(
                    "{}x{} is larger than the {}x{} this device supports for modifier {modifier:#x}",
                    desc.width, desc.height, info.max_width, info.max_height
                ),
            ));
        }
        Ok(info.clone())
    }

    /// `vkCreateImage` with `VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT` and
    /// `VkImageDrmFormatModifierListCreateInfoEXT` (the driver picks one of
    /// `modifiers`), memory exported as a dma-buf, then the chosen modifier
    /// and the per-plane layout read back
    /// (`vkGetImageDrmFormatModifierPropertiesEXT`, `vkGetImageSubresourceLayout`).
    ///
    /// # Errors
    /// `Unsupported` naming the missing extension or the modifiers the
    /// device does not support for this format and usage; `InvalidArgument`
    /// for a zero or too large extent or `DRM_FORMAT_MOD_INVALID`.
    #[doc(alias = "vkCreateImage")]
    pub fn create_image(&self, desc: &ImageDesc, modifiers: &[u64], host_visible: Option<bool>) -> Result<Image> {
        const OP: &str = "vkCreateImage";
        if modifiers.is_empty() {
            return Err(Error::invalid(OP, None, "at least one modifier is needed"));
        }
        for &m in modifiers {
            self.check_image_desc(OP, desc, m)?;
        }
        self.check_handle(OP, HandleType::DmaBuf, true, false)?;
        let mut list = vk::ImageDrmFormatModifierListCreateInfoEXT::default().drm_format_modifiers(modifiers);
        let mut ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(HandleType::DmaBuf.flag());
        let info =
            Self::image_info(desc, vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT).push_next(&mut list).push_next(&mut ext);
        // SAFETY: valid device and create info chain.
        let image = unsafe { self.inner.device.create_image(&info, None) }.map_err(|r| vk_error(OP, r))?;
        let guard = ImageGuard { vk: self, image };
        let (req, dedicated) = self.image_requirements(image);
        let type_index = self.pick_memory_type("vkAllocateMemory", req.memory_type_bits, host_visible)?;
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(HandleType::DmaBuf.flag());
        let mut ded = vk::MemoryDedicatedAllocateInfo::default().image(image);
        let mut ainfo = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(type_index)
            .push_next(&mut export);
        if dedicated {
            ainfo = ainfo.push_next(&mut ded);
        }
        // SAFETY: valid device and allocate info.
        let memory =
            unsafe { self.inner.device.allocate_memory(&ainfo, None) }.map_err(|r| vk_error("vkAllocateMemory", r))?;
        let image = guard.bind(memory)?;
        let mut img = Image {
            vk: self.clone(),
            image,
            memory: vec![memory],
            desc: desc.clone(),
            modifier: 0,
            planes: Vec::new(),
            size: req.size,
            exportable: true,
        };
        let modifier_dev =
            self.inner.modifier.as_ref().ok_or_else(|| unsupported(OP, "no modifier extension".into()))?;
        let mut props = vk::ImageDrmFormatModifierPropertiesEXT::default();
        // SAFETY: the image was created with DRM_FORMAT_MODIFIER_EXT tiling.
        unsafe { modifier_dev.get_image_drm_format_modifier_properties(image, &mut props) }
            .map_err(|r| vk_error("vkGetImageDrmFormatModifierPropertiesEXT", r))?;
        img.modifier = props.drm_format_modifier;
        let count = self.check_image_desc(OP, desc, img.modifier)?.plane_count;
        for plane in 0..count.min(4) {
            let sub = vk::ImageSubresource::default().aspect_mask(memory_plane_aspect(plane));
            // SAFETY: a modifier image and one of its memory planes.
            let layout = unsafe { self.inner.device.get_image_subresource_layout(image, sub) };
            img.planes.push(PlaneLayout { offset: layout.offset, pitch: layout.row_pitch });
        }
        Ok(img)
    }

    pub(super) fn image_requirements(&self, image: vk::Image) -> (vk::MemoryRequirements, bool) {
        let mut ded = vk::MemoryDedicatedRequirements::default();
        let info = vk::ImageMemoryRequirementsInfo2::default().image(image);
        let mut req = vk::MemoryRequirements2::default().push_next(&mut ded);
        // SAFETY: `image` is this device's, not disjoint.
        unsafe { self.inner.device.get_image_memory_requirements2(&info, &mut req) };
        let r = req.memory_requirements;
        (r, Self::dedicated(&ded))
    }

    /// Imports a dma-buf as a 2D image with an explicit DRM format modifier
    /// and per-plane layout (`VkImageDrmFormatModifierExplicitCreateInfoEXT`:
    /// an offset and a row pitch per memory plane), all planes in the one
    /// dma-buf. The layout is checked before `vkCreateImage`: the modifier
    /// must be supported for the format and usage, the plane count must be
    /// the modifier's, the extent within the device's limit, and every
    /// plane's rows must lie inside the dma-buf; with
    /// [`DRM_FORMAT_MOD_LINEAR`], each offset and pitch must be a multiple
    /// of the plane's texel size (lavapipe takes any layout, and would read
    /// texels across their alignment).
    ///
    /// Ownership as [`Vulkan::import_buffer`].
    ///
    /// # Errors
    /// `InvalidArgument` for a layout that does not fit; `Unsupported` for an
    /// unsupported modifier, format or handle type; Vulkan's errors.
    #[doc(alias = "VkImageDrmFormatModifierExplicitCreateInfoEXT")]
    #[allow(clippy::too_many_lines)] // Reason: one checked sequence of Vulkan calls, easier to audit in one place.
    pub fn import_image(
        &self,
        dmabuf: DmaBuf,
        desc: &ImageDesc,
        modifier: u64,
        planes: &[PlaneLayout],
        host_visible: Option<bool>,
    ) -> std::result::Result<Image, ImportError<DmaBuf>> {
        const OP: &str = "vkCreateImage";
        let fd_size = dmabuf.size();
        let checked = (|| {
            let info = self.check_image_desc(OP, desc, modifier)?;
            let raw = Some(dmabuf.as_raw_fd());
            if planes.len() != info.plane_count as usize {
                return Err(Error::invalid(
                    OP,
                    raw,
                    format!(
                        "modifier {modifier:#x} has {} memory plane(s); {} plane layouts were given",
                        info.plane_count,
                        planes.len()
                    ),
                ));
            }
            for (i, p) in planes.iter().enumerate() {
                let texel = u64::from(bytes_per_pixel(desc.format, i).unwrap_or(1));
                let min_pitch = u64::from(desc.width) * texel;
                if modifier == DRM_FORMAT_MOD_LINEAR && (p.offset % texel != 0 || p.pitch % texel != 0) {
                    return Err(Error::invalid(
                        OP,
                        raw,
                        format!(
                            "plane {i}: offset {} and pitch {} must be multiples of its {texel}-byte texel (a linear \
                             image addresses whole texels)",
                            p.offset, p.pitch
                        ),
                    ));
                }
                if modifier == DRM_FORMAT_MOD_LINEAR && p.pitch < min_pitch {
                    return Err(Error::invalid(
                        OP,
                        raw,
                        format!("plane {i}: pitch {} is less than a row of {} bytes", p.pitch, min_pitch),
                    ));
                }
                let rows = u64::from(plane_height(desc.format, i, desc.height));
                let end = p.pitch.checked_mul(rows).and_then(|b| b.checked_add(p.offset));
                if modifier == DRM_FORMAT_MOD_LINEAR && end.is_none_or(|e| e > fd_size) {
                    return Err(Error::invalid(
                        OP,
                        raw,
                        format!("plane {i}: offset {} + {rows} rows of pitch {} is past the end of the {fd_size}-byte dma-buf", p.offset, p.pitch),
                    ));
                }
                if p.offset >= fd_size {
                    return Err(Error::invalid(
                        OP,
                        raw,
                        format!("plane {i}: offset {} is past the end of the {fd_size}-byte dma-buf", p.offset),
                    ));
                }
            }
            self.check_handle(OP, HandleType::DmaBuf, true, true)?;
            let fd_bits = self.fd_memory_bits(OP, dmabuf.as_fd())?;
            let layouts: Vec<vk::SubresourceLayout> = planes
                .iter()
                .map(|p| vk::SubresourceLayout {
                    offset: p.offset,
                    size: 0,
                    row_pitch: p.pitch,
                    array_pitch: 0,
                    depth_pitch: 0,
                })
                .collect();
            let mut explicit = vk::ImageDrmFormatModifierExplicitCreateInfoEXT::default()
                .drm_format_modifier(modifier)
                .plane_layouts(&layouts);
            let mut ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(HandleType::DmaBuf.flag());
            let info = Self::image_info(desc, vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT)
                .push_next(&mut explicit)
                .push_next(&mut ext);
            // SAFETY: valid device and create info chain; `layouts` outlives the call.
            let image = unsafe { self.inner.device.create_image(&info, None) }.map_err(|r| vk_error(OP, r))?;
            let guard = ImageGuard { vk: self, image };
            let (req, dedicated) = self.image_requirements(image);
            if req.size > fd_size {
                return Err(Error::invalid(
                    OP,
                    raw,
                    format!("the image needs {} bytes; the dma-buf has {fd_size}", req.size),
                ));
            }
            let type_index = self
                .pick_memory_type("vkAllocateMemory", fd_bits & req.memory_type_bits, host_visible)
                .map_err(|e| e.with_fd(dmabuf.as_raw_fd()))?;
            Ok((guard.release(), req, type_index, dedicated))
        })();
        let (image, req, type_index, dedicated) = match checked {
            Ok(v) => v,
            Err(error) => return Err(ImportError { error, handle: dmabuf }),
        };
        let guard = ImageGuard { vk: self, image };
        let alloc = req.size.max(fd_size);
        let ded = dedicated.then_some((vk::Buffer::null(), image));
        let bound = self
            .import_memory(dmabuf.as_fd(), HandleType::DmaBuf, alloc, type_index, ded)
            .and_then(|memory| Ok((guard.bind(memory)?, memory)));
        match bound {
            Ok((image, memory)) => {
                drop(dmabuf);
                Ok(Image {
                    vk: self.clone(),
                    image,
                    memory: vec![memory],
                    desc: desc.clone(),
                    modifier,
                    planes: planes.to_vec(),
                    size: alloc,
                    exportable: false,
                })
            }
            Err(error) => Err(ImportError { error, handle: dmabuf }),
        }
    }
}

/// An image whose memory is not bound yet: destroyed on early return.
pub(super) struct ImageGuard<'a> {
    pub(super) vk: &'a Vulkan,
    pub(super) image: vk::Image,
}

impl ImageGuard<'_> {
    fn release(self) -> vk::Image {
        let i = self.image;
        std::mem::forget(self);
        i
    }

    fn bind(self, memory: vk::DeviceMemory) -> Result<vk::Image> {
        let d = &self.vk.inner.device;
        // SAFETY: both are this device's; the memory fits the requirements.
        match unsafe { d.bind_image_memory(self.image, memory, 0) } {
            Ok(()) => Ok(self.release()),
            Err(r) => {
                // SAFETY: the memory is ours and bound to nothing.
                unsafe { d.free_memory(memory, None) };
                Err(vk_error("vkBindImageMemory", r))
            }
        }
    }
}

impl Drop for ImageGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the image is ours and unused.
        unsafe { self.vk.inner.device.destroy_image(self.image, None) };
    }
}
