//! What the physical device offers: external memory handle types for buffers
//! and images, `SYNC_FD` for semaphores and fences (`vkGetPhysicalDeviceExternal*Properties`).

use ash::vk;

use crate::error::Result;

use super::conv::{unsupported, version_string, HandleType};
use super::device::Vulkan;

/// What a device offers for one kind of resource (buffers, images).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandleSupport {
    /// Handle types the device can export this resource's memory as.
    pub export: Vec<HandleType>,
    /// Handle types it can import.
    pub import: Vec<HandleType>,
}

/// Whether `SYNC_FD` export and import work for semaphores or fences.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncFdSupport {
    /// `vkGetSemaphoreFdKHR`/`vkGetFenceFdKHR` with `SYNC_FD`.
    pub export: bool,
    /// `vkImportSemaphoreFdKHR`/`vkImportFenceFdKHR` with `SYNC_FD`.
    pub import: bool,
}

/// The result of [`Vulkan::capabilities`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulkanCapabilities {
    /// The physical device's name (`llvmpipe (LLVM ...)`, `NVIDIA H200`).
    pub device_name: String,
    /// Its Vulkan version, `major.minor.patch`.
    pub api_version: String,
    /// Extensions of this module that are enabled.
    pub enabled_extensions: Vec<String>,
    /// Extensions of this module that the device lacks (or that a caller's
    /// device was not created with).
    pub missing_extensions: Vec<String>,
    /// Buffers (`vkGetPhysicalDeviceExternalBufferProperties`).
    pub buffer: HandleSupport,
    /// 2D `R8G8B8A8_UNORM` images with a DRM format modifier (dma-buf) or
    /// optimal tiling (opaque fd) (`vkGetPhysicalDeviceImageFormatProperties2`).
    pub image: HandleSupport,
    /// Semaphores (`vkGetPhysicalDeviceExternalSemaphoreProperties`).
    pub semaphore: SyncFdSupport,
    /// Fences (`vkGetPhysicalDeviceExternalFenceProperties`).
    pub fence: SyncFdSupport,
}

impl Vulkan {
    pub(super) fn buffer_support(&self, handle: HandleType) -> (bool, bool) {
        let info = vk::PhysicalDeviceExternalBufferInfo::default()
            .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
            .handle_type(handle.flag());
        let mut out = vk::ExternalBufferProperties::default();
        // SAFETY: valid physical device, info and output struct.
        unsafe {
            self.inner.instance.get_physical_device_external_buffer_properties(self.inner.physical, &info, &mut out);
        };
        let f = out.external_memory_properties.external_memory_features;
        (f.contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE), f.contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE))
    }

    pub(super) fn image_support(&self, handle: HandleType) -> (bool, bool) {
        let usage = vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST;
        let f = match handle {
            HandleType::DmaBuf => {
                let mods = self.modifiers(vk::Format::R8G8B8A8_UNORM, usage).unwrap_or_default();
                mods.iter().fold(vk::ExternalMemoryFeatureFlags::empty(), |acc, m| acc | m.external)
            }
            HandleType::OpaqueFd => self
                .image_format_properties(vk::Format::R8G8B8A8_UNORM, usage, handle, None)
                .map(|(_, f)| f)
                .unwrap_or_default(),
        };
        (f.contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE), f.contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE))
    }

    pub(super) fn semaphore_support(&self) -> SyncFdSupport {
        let mut out = SyncFdSupport::default();
        if self.inner.semaphore_fd.is_some() {
            let info = vk::PhysicalDeviceExternalSemaphoreInfo::default()
                .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
            let mut props = vk::ExternalSemaphoreProperties::default();
            // SAFETY: valid physical device, info and output struct.
            unsafe {
                self.inner.instance.get_physical_device_external_semaphore_properties(
                    self.inner.physical,
                    &info,
                    &mut props,
                );
            };
            let f = props.external_semaphore_features;
            out.export = f.contains(vk::ExternalSemaphoreFeatureFlags::EXPORTABLE);
            out.import = f.contains(vk::ExternalSemaphoreFeatureFlags::IMPORTABLE);
        }
        out
    }

    pub(super) fn fence_support(&self) -> SyncFdSupport {
        let mut out = SyncFdSupport::default();
        if self.inner.fence_fd.is_some() {
            let info =
                vk::PhysicalDeviceExternalFenceInfo::default().handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
            let mut props = vk::ExternalFenceProperties::default();
            // SAFETY: valid physical device, info and output struct.
            unsafe {
                self.inner.instance.get_physical_device_external_fence_properties(
                    self.inner.physical,
                    &info,
                    &mut props,
                );
            };
            let f = props.external_fence_features;
            out.export = f.contains(vk::ExternalFenceFeatureFlags::EXPORTABLE);
            out.import = f.contains(vk::ExternalFenceFeatureFlags::IMPORTABLE);
        }
        out
    }

    /// `Unsupported` naming the handle type when the device reports no
    /// `SYNC_FD` export (checked before any object is created: drivers
    /// answer it with unrelated errors such as `VK_ERROR_INITIALIZATION_FAILED`).
    pub(super) fn require_sync_fd(&self, op: &'static str, what: &str, support: SyncFdSupport) -> Result<()> {
        if support.export {
            Ok(())
        } else {
            Err(unsupported(
                op,
                format!(
                    "{} cannot export {what} as handle type SYNC_FD (vkGetPhysicalDeviceExternal*Properties reports export {}, import {})",
                    self.inner.name, support.export, support.import
                ),
            ))
        }
    }

    /// What the device exports and imports, for buffers and images
    /// separately (some drivers export dma-bufs but import none), and for
    /// semaphores and fences as `SYNC_FD`.
    #[doc(alias = "vkGetPhysicalDeviceExternalBufferProperties")]
    pub fn capabilities(&self) -> VulkanCapabilities {
        let mut buffer = HandleSupport::default();
        let mut image = HandleSupport::default();
        for h in HandleType::all() {
            if !self.inner.enabled.contains(&h.extension()) {
                continue;
            }
            let (e, i) = self.buffer_support(h);
            if e {
                buffer.export.push(h);
            }
            if i {
                buffer.import.push(h);
            }
            let (e, i) = self.image_support(h);
            if e {
                image.export.push(h);
            }
            if i {
                image.import.push(h);
            }
        }
        let semaphore = self.semaphore_support();
        let fence = self.fence_support();
        VulkanCapabilities {
            device_name: self.inner.name.clone(),
            api_version: version_string(self.inner.api_version),
            enabled_extensions: self.enabled_extensions(),
            missing_extensions: self.missing_extensions(),
            buffer,
            image,
            semaphore,
            fence,
        }
    }
}
