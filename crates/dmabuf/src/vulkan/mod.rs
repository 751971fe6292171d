//! Vulkan interop (Cargo feature `vulkan`): device memory exported as a
//! [`DmaBuf`] (`VK_EXT_external_memory_dma_buf`) or an [`OpaqueFd`]
//! (`VK_KHR_external_memory_fd`), dma-bufs imported into buffers and images
//! (`VK_EXT_image_drm_format_modifier` with an explicit per-plane layout),
//! and semaphores and fences exported to and imported from [`SyncFile`]s
//! (`VK_KHR_external_semaphore_fd`, `VK_KHR_external_fence_fd`, handle type
//! `SYNC_FD`).
//!
//! Built on [`ash`] with the Vulkan loader opened at run time: nothing links
//! against `libvulkan`, and a machine without a loader gets an error
//! ([`ErrorKind::NotFound`]) only from [`Vulkan::open`].
//!
//! ## Who owns each fd
//!
//! | call | the fd afterwards |
//! |---|---|
//! | [`Buffer::export_dma_buf`], [`Image::export_dma_buf`] (`vkGetMemoryFdKHR`) | a new fd, yours (a [`DmaBuf`]); the Vulkan memory stays Vulkan's |
//! | [`Buffer::export_opaque_fd`] | a new fd, yours (an [`OpaqueFd`], not a dma-buf) |
//! | [`Vulkan::import_buffer`], [`Vulkan::import_image`] succeeding | Vulkan's: the [`DmaBuf`] was consumed; the memory lives until the [`Buffer`]/[`Image`] is dropped |
//! | the same failing | yours again, still open, inside [`ImportError`] |
//! | [`Semaphore::export_sync_file`], [`Fence::export_sync_file`] | a new [`SyncFile`], yours (or `None`: already signalled, fd -1) |
//! | [`Semaphore::import_sync_file`], [`Fence::import_sync_file`] | yours: Vulkan takes a duplicate (temporary import) |
//!
//! Vulkan specification: <https://registry.khronos.org/vulkan/specs/latest/html/vkspec.html#synchronization-semaphores-importing>
//!
//! ## Files, by role (as wgpu-hal's `vulkan/`)
//!
//! | file | what |
//! |---|---|
//! | `device.rs` | the instance and the device: [`Vulkan::open`], [`Vulkan::from_raw`], the extensions enabled |
//! | `adapter.rs` | what the physical device offers: [`Vulkan::capabilities`] |
//! | `memory.rs` | buffers and their memory, exported ([`Buffer::export_dma_buf`]) and imported ([`Vulkan::import_buffer`]) |
//! | `image.rs` | images and DRM format modifiers ([`Vulkan::modifiers`], [`Vulkan::create_image`], [`Vulkan::import_image`]) |
//! | `sync.rs` | [`Semaphore`] and [`Fence`] to and from `sync_file`s, [`Vulkan::submit_sync`], [`Vulkan::wait_idle`] |
//! | `command.rs` | one-time command buffers: [`Vulkan::fill`], [`Vulkan::copy`], [`Vulkan::copy_buffer_to_image`] |
//! | `conv.rs` | conversions and errors: [`HandleType`], `VkResult` to errno, the DRM fourcc ↔ `VkFormat` table ([`vk_format`], [`fourcc_from_format`], [`format_from_fourcc`]), [`ImportError`] |
//!
//! An [`Image`] becomes a [`Frame`](crate::Frame) (a fourcc, the modifier
//! and each plane's dma-buf, offset and pitch) with
//! `Frame::from_vulkan_image`, and a frame an image with
//! `Frame::to_vulkan_image`: those live in `frame/vulkan.rs`, above this
//! module, which takes only an offset and a pitch per plane
//! ([`PlaneLayout`]) for one dma-buf.
//!
//! [`DmaBuf`]: crate::DmaBuf
//! [`SyncFile`]: crate::SyncFile
//! [`ErrorKind::NotFound`]: crate::ErrorKind::NotFound

mod adapter;
mod command;
mod conv;
mod device;
mod image;
mod memory;
mod sync;

pub use adapter::{HandleSupport, SyncFdSupport, VulkanCapabilities};
pub use conv::{format_from_fourcc, fourcc_from_format, vk_format, HandleType, ImportError};
pub use device::{DeviceChoice, Vulkan};
pub use image::{Image, ImageDesc, ModifierInfo, PlaneLayout, DRM_FORMAT_MOD_INVALID, DRM_FORMAT_MOD_LINEAR};
pub use memory::{Buffer, OpaqueFd};
pub use sync::{Fence, Semaphore};
