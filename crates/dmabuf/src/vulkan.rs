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

use std::ffi::{c_char, CStr};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ash::vk;
use nix::errno::Errno;

use crate::dma_buf::DmaBuf;
use crate::error::{Error, ErrorKind, Result};
use crate::sync_file::SyncFile;

/// `DRM_FORMAT_MOD_LINEAR`: rows one after the other, `pitch` bytes apart.
pub const DRM_FORMAT_MOD_LINEAR: u64 = 0;
/// `DRM_FORMAT_MOD_INVALID`: the "implicit" modifier (the layout is agreed
/// out of band, as before modifiers existed). Never the same as LINEAR; an
/// image import needs an explicit modifier.
pub const DRM_FORMAT_MOD_INVALID: u64 = 0x00ff_ffff_ffff_ffff;

/// Extensions this module enables on a device it creates, when present.
const MEMORY_FD: &CStr = c"VK_KHR_external_memory_fd";
const MEMORY_DMA_BUF: &CStr = c"VK_EXT_external_memory_dma_buf";
const DRM_MODIFIER: &CStr = c"VK_EXT_image_drm_format_modifier";
const IMAGE_FORMAT_LIST: &CStr = c"VK_KHR_image_format_list";
const SEMAPHORE_FD: &CStr = c"VK_KHR_external_semaphore_fd";
const FENCE_FD: &CStr = c"VK_KHR_external_fence_fd";
const WANTED: [&CStr; 5] = [MEMORY_FD, MEMORY_DMA_BUF, DRM_MODIFIER, SEMAPHORE_FD, FENCE_FD];

/// An external memory handle type this module can export or import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandleType {
    /// `VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT`: a Linux dma-buf.
    DmaBuf,
    /// `VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT`: an fd only the same
    /// driver (and device) can import; not a dma-buf.
    OpaqueFd,
}

impl HandleType {
    fn flag(self) -> vk::ExternalMemoryHandleTypeFlags {
        match self {
            HandleType::DmaBuf => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
            HandleType::OpaqueFd => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
        }
    }

    /// `"dma-buf"` or `"opaque-fd"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleType::DmaBuf => "dma-buf",
            HandleType::OpaqueFd => "opaque-fd",
        }
    }

    /// The extension that provides it.
    fn extension(self) -> &'static CStr {
        match self {
            HandleType::DmaBuf => MEMORY_DMA_BUF,
            HandleType::OpaqueFd => MEMORY_FD,
        }
    }

    fn all() -> [HandleType; 2] {
        [HandleType::DmaBuf, HandleType::OpaqueFd]
    }
}

impl fmt::Display for HandleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `OPAQUE_FD` memory handle: only a Vulkan device of the same driver
/// can import it, and nothing else may read it. A distinct type so that it
/// cannot be passed where a [`DmaBuf`] is expected.
#[derive(Debug)]
pub struct OpaqueFd {
    fd: OwnedFd,
    size: u64,
}

impl OpaqueFd {
    /// Adopts an fd the caller owns as an opaque memory handle of `size`
    /// bytes (the allocation size the exporter used).
    pub fn from_owned(fd: OwnedFd, size: u64) -> OpaqueFd {
        OpaqueFd { fd, size }
    }

    /// The exporter's allocation size, which an import must repeat.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl AsFd for OpaqueFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for OpaqueFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<OpaqueFd> for OwnedFd {
    fn from(o: OpaqueFd) -> OwnedFd {
        o.fd
    }
}

/// A failed import: why, and the handle, still open and yours again (the
/// same pattern as [`FromFdError`](crate::FromFdError)).
#[derive(Debug)]
pub struct ImportError<T> {
    /// Why the import failed.
    pub error: Error,
    /// What was given to the import, unconsumed.
    pub handle: T,
}

impl<T> From<ImportError<T>> for Error {
    fn from(e: ImportError<T>) -> Error {
        e.error
    }
}

impl<T> fmt::Display for ImportError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<T: fmt::Debug> std::error::Error for ImportError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A Vulkan result turned into this crate's error: the errno closest in
/// meaning, the Vulkan function as the operation, the `VkResult` named.
fn vk_error(op: &'static str, r: vk::Result) -> Error {
    let (kind, errno) = match r {
        vk::Result::ERROR_OUT_OF_HOST_MEMORY | vk::Result::ERROR_OUT_OF_DEVICE_MEMORY => (ErrorKind::Os, Errno::ENOMEM),
        vk::Result::ERROR_INVALID_EXTERNAL_HANDLE => (ErrorKind::InvalidArgument, Errno::EINVAL),
        vk::Result::ERROR_EXTENSION_NOT_PRESENT
        | vk::Result::ERROR_FEATURE_NOT_PRESENT
        | vk::Result::ERROR_FORMAT_NOT_SUPPORTED => (ErrorKind::Unsupported, Errno::EOPNOTSUPP),
        vk::Result::ERROR_INITIALIZATION_FAILED | vk::Result::ERROR_INCOMPATIBLE_DRIVER => {
            (ErrorKind::NotFound, Errno::ENODEV)
        }
        vk::Result::ERROR_TOO_MANY_OBJECTS => (ErrorKind::Os, Errno::EMFILE),
        vk::Result::TIMEOUT => (ErrorKind::Os, Errno::ETIMEDOUT),
        _ => (ErrorKind::Os, Errno::EIO),
    };
    Error::new(kind, errno, op, None, format!("{op} returned VK_{r:?}"))
}

fn unsupported(op: &'static str, detail: String) -> Error {
    Error::new(ErrorKind::Unsupported, Errno::EOPNOTSUPP, op, None, detail)
}

fn name_of(ext: &CStr) -> &str {
    ext.to_str().unwrap_or("?")
}

/// Which device [`Vulkan::open`] picks.
#[derive(Debug, Clone, Default)]
pub enum DeviceChoice {
    /// The first physical device that offers `VK_KHR_external_memory_fd`.
    #[default]
    First,
    /// The physical device at this index of `vkEnumeratePhysicalDevices`.
    Index(usize),
    /// The first physical device whose name contains this text
    /// (case-insensitive), such as `"llvmpipe"` or `"NVIDIA"`.
    Name(String),
}

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

struct Inner {
    /// Kept loaded as long as the instance (only when this module loaded it).
    entry: Option<ash::Entry>,
    instance: ash::Instance,
    device: ash::Device,
    physical: vk::PhysicalDevice,
    queue: vk::Queue,
    /// The command pool for `fill`/`copy`; Vulkan wants it externally synchronised.
    pool: Mutex<vk::CommandPool>,
    /// Whether this module created the instance and device (and destroys them).
    owned: bool,
    enabled: Vec<&'static CStr>,
    memory: vk::PhysicalDeviceMemoryProperties,
    name: String,
    api_version: u32,
    memory_fd: ash::khr::external_memory_fd::Device,
    modifier: Option<ash::ext::image_drm_format_modifier::Device>,
    semaphore_fd: Option<ash::khr::external_semaphore_fd::Device>,
    fence_fd: Option<ash::khr::external_fence_fd::Device>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let pool = *self.pool.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: every object made from this device holds an Arc of this
        // Inner, so none is alive any more; the pool is ours.
        unsafe { self.device.destroy_command_pool(pool, None) };
        if self.owned {
            // SAFETY: we created the device and nothing made from it remains.
            unsafe { self.device.destroy_device(None) };
            // SAFETY: we created the instance; its only device is gone.
            unsafe { self.instance.destroy_instance(None) };
        }
        drop(self.entry.take());
    }
}

/// A Vulkan device ready for dma-buf interop: one queue that can transfer,
/// the external-memory and sync-fd extensions. Cheap to clone (shared);
/// buffers, images, semaphores and fences keep it alive.
#[derive(Clone)]
pub struct Vulkan {
    inner: Arc<Inner>,
}

impl fmt::Debug for Vulkan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vulkan")
            .field("device", &self.inner.name)
            .field("enabled", &self.inner.enabled)
            .field("owned", &self.inner.owned)
            .finish_non_exhaustive()
    }
}

fn cstr_array(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars.iter().take_while(|&&c| c != 0).map(|&c| c.to_ne_bytes()[0]).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn version_string(v: u32) -> String {
    format!("{}.{}.{}", vk::api_version_major(v), vk::api_version_minor(v), vk::api_version_patch(v))
}

/// `vkEnumerateDeviceExtensionProperties` as names.
fn device_extensions(instance: &ash::Instance, pd: vk::PhysicalDevice) -> Result<Vec<String>> {
    // SAFETY: `pd` came from this instance's vkEnumeratePhysicalDevices.
    let props = unsafe { instance.enumerate_device_extension_properties(pd) }
        .map_err(|r| vk_error("vkEnumerateDeviceExtensionProperties", r))?;
    Ok(props.iter().map(|p| cstr_array(&p.extension_name)).collect())
}

fn device_name(instance: &ash::Instance, pd: vk::PhysicalDevice) -> (String, u32) {
    // SAFETY: `pd` came from this instance.
    let p = unsafe { instance.get_physical_device_properties(pd) };
    (cstr_array(&p.device_name), p.api_version)
}

/// `vkCreateCommandPool` for the one-time command buffers of `fill`/`copy`.
fn command_pool(device: &ash::Device, family: u32) -> Result<vk::CommandPool> {
    let info = vk::CommandPoolCreateInfo::default()
        .queue_family_index(family)
        .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER | vk::CommandPoolCreateFlags::TRANSIENT);
    // SAFETY: a valid device and create info.
    unsafe { device.create_command_pool(&info, None) }.map_err(|r| vk_error("vkCreateCommandPool", r))
}

/// A queue family that can transfer (graphics and compute imply it).
fn transfer_family(instance: &ash::Instance, pd: vk::PhysicalDevice) -> Option<u32> {
    // SAFETY: `pd` came from this instance.
    let families = unsafe { instance.get_physical_device_queue_family_properties(pd) };
    let any = vk::QueueFlags::GRAPHICS | vk::QueueFlags::COMPUTE | vk::QueueFlags::TRANSFER;
    families.iter().position(|f| f.queue_flags.intersects(any)).and_then(|i| u32::try_from(i).ok())
}

impl Vulkan {
    /// Loads the Vulkan loader (`libvulkan.so.1`, at run time), creates an
    /// instance (Vulkan 1.1) and a device on the chosen physical device with
    /// one queue and exactly the extensions this module uses that the device
    /// offers (see [`Vulkan::missing_extensions`] for the others).
    ///
    /// # Errors
    /// `NotFound` (`ENOENT`) when no Vulkan loader is installed, (`ENODEV`)
    /// when no physical device matches or none has
    /// `VK_KHR_external_memory_fd`; Vulkan errors (`vkCreateInstance`,
    /// `vkCreateDevice`) with the `VkResult` named.
    #[doc(alias = "vkCreateDevice")]
    pub fn open(choice: &DeviceChoice) -> Result<Vulkan> {
        // SAFETY: loading the system's Vulkan loader runs its initialisers;
        // it is the library every Vulkan program loads.
        let entry = unsafe { ash::Entry::load() }.map_err(|e| {
            Error::new(
                ErrorKind::NotFound,
                Errno::ENOENT,
                "dlopen(libvulkan.so.1)",
                None,
                format!("no Vulkan loader on this machine ({e}); install libvulkan1 and a driver (Mesa's lavapipe is mesa-vulkan-drivers)"),
            )
        })?;
        let app = vk::ApplicationInfo::default().application_name(c"dmabuf").api_version(vk::API_VERSION_1_1);
        let info = vk::InstanceCreateInfo::default().application_info(&app);
        // SAFETY: `info` and what it points to live across the call.
        let instance = unsafe { entry.create_instance(&info, None) }.map_err(|r| vk_error("vkCreateInstance", r))?;
        match Self::open_on(&instance, choice) {
            Ok((physical, family, enabled, device)) => match command_pool(&device, family) {
                Ok(pool) => Ok(Self::assemble(Some(entry), instance, device, physical, family, pool, enabled, true)),
                Err(e) => {
                    // SAFETY: the device is ours and has no objects.
                    unsafe { device.destroy_device(None) };
                    // SAFETY: the instance is ours and its device is gone.
                    unsafe { instance.destroy_instance(None) };
                    Err(e)
                }
            },
            Err(e) => {
                // SAFETY: the instance is ours and has no device.
                unsafe { instance.destroy_instance(None) };
                Err(e)
            }
        }
    }

    #[allow(clippy::type_complexity)] // Reason: one private helper's tuple.
    fn open_on(
        instance: &ash::Instance,
        choice: &DeviceChoice,
    ) -> Result<(vk::PhysicalDevice, u32, Vec<&'static CStr>, ash::Device)> {
        // SAFETY: the instance is alive.
        let devices =
            unsafe { instance.enumerate_physical_devices() }.map_err(|r| vk_error("vkEnumeratePhysicalDevices", r))?;
        let mut names = Vec::new();
        let mut picked = None;
        for (i, &pd) in devices.iter().enumerate() {
            let (name, _) = device_name(instance, pd);
            let exts = device_extensions(instance, pd)?;
            let fits = match choice {
                DeviceChoice::First => exts.iter().any(|e| e.as_bytes() == MEMORY_FD.to_bytes()),
                DeviceChoice::Index(n) => *n == i,
                DeviceChoice::Name(s) => name.to_lowercase().contains(&s.to_lowercase()),
            };
            names.push(name);
            if fits && picked.is_none() {
                picked = Some((pd, exts));
            }
        }
        let Some((pd, exts)) = picked else {
            return Err(Error::new(
                ErrorKind::NotFound,
                Errno::ENODEV,
                "vkEnumeratePhysicalDevices",
                None,
                format!("no Vulkan device matches {choice:?} (devices: {})", names.join(", ")),
            ));
        };
        let has = |e: &CStr| exts.iter().any(|x| x.as_bytes() == e.to_bytes());
        if !has(MEMORY_FD) {
            return Err(unsupported(
                "vkCreateDevice",
                format!("the Vulkan device lacks {} (its extensions: {})", name_of(MEMORY_FD), exts.join(" ")),
            ));
        }
        let (_, api) = device_name(instance, pd);
        let mut enabled: Vec<&'static CStr> = WANTED.iter().copied().filter(|e| has(e)).collect();
        // The modifier extension needs VK_KHR_image_format_list, core in 1.2.
        if enabled.contains(&DRM_MODIFIER) && api < vk::API_VERSION_1_2 {
            if has(IMAGE_FORMAT_LIST) {
                enabled.push(IMAGE_FORMAT_LIST);
            } else {
                enabled.retain(|e| *e != DRM_MODIFIER);
            }
        }
        let family = transfer_family(instance, pd)
            .ok_or_else(|| unsupported("vkCreateDevice", "the Vulkan device has no queue that can transfer".into()))?;
        let priorities = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default().queue_family_index(family).queue_priorities(&priorities)];
        let ptrs: Vec<*const c_char> = enabled.iter().map(|e| e.as_ptr()).collect();
        let info = vk::DeviceCreateInfo::default().queue_create_infos(&queues).enabled_extension_names(&ptrs);
        // SAFETY: `pd` is this instance's; `info` and its arrays outlive the call.
        let device = unsafe { instance.create_device(pd, &info, None) }.map_err(|r| vk_error("vkCreateDevice", r))?;
        Ok((pd, family, enabled, device))
    }

    /// Wraps a device the caller already has (the normal case in a Vulkan
    /// program). The caller keeps ownership: nothing is destroyed when the
    /// last clone is dropped, except the command pool this module creates.
    ///
    /// `extensions` lists the device extensions the device was created with;
    /// operations that need one it lacks fail with an error naming it.
    ///
    /// # Safety
    /// `device` was created from `instance` on `physical` with a queue in
    /// `queue_family` (queue 0 is used, from this and the caller's threads
    /// only with the caller's own synchronisation), with the `extensions`
    /// given; the instance and device outlive every clone of this value and
    /// every object made from it.
    ///
    /// # Errors
    /// `Unsupported` when `VK_KHR_external_memory_fd` is not among
    /// `extensions`; `vkCreateCommandPool`'s errors.
    pub unsafe fn from_raw(
        instance: &ash::Instance,
        device: &ash::Device,
        physical: vk::PhysicalDevice,
        queue_family: u32,
        extensions: &[&CStr],
    ) -> Result<Vulkan> {
        let enabled: Vec<&'static CStr> =
            WANTED.iter().copied().chain([IMAGE_FORMAT_LIST]).filter(|w| extensions.contains(w)).collect();
        if !enabled.contains(&MEMORY_FD) {
            return Err(unsupported(
                "Vulkan::from_raw",
                format!("the device was not created with {}", name_of(MEMORY_FD)),
            ));
        }
        let pool = command_pool(device, queue_family)?;
        Ok(Self::assemble(None, instance.clone(), device.clone(), physical, queue_family, pool, enabled, false))
    }

    #[allow(clippy::too_many_arguments)] // Reason: one private constructor's parts.
    fn assemble(
        entry: Option<ash::Entry>,
        instance: ash::Instance,
        device: ash::Device,
        physical: vk::PhysicalDevice,
        family: u32,
        pool: vk::CommandPool,
        enabled: Vec<&'static CStr>,
        owned: bool,
    ) -> Vulkan {
        // SAFETY: the device was created with a queue in `family`.
        let queue = unsafe { device.get_device_queue(family, 0) };
        // SAFETY: `physical` belongs to `instance`.
        let memory = unsafe { instance.get_physical_device_memory_properties(physical) };
        let (name, api_version) = device_name(&instance, physical);
        let on = |e: &CStr| enabled.contains(&e);
        let memory_fd = ash::khr::external_memory_fd::Device::new(&instance, &device);
        let modifier = on(DRM_MODIFIER).then(|| ash::ext::image_drm_format_modifier::Device::new(&instance, &device));
        let semaphore_fd = on(SEMAPHORE_FD).then(|| ash::khr::external_semaphore_fd::Device::new(&instance, &device));
        let fence_fd = on(FENCE_FD).then(|| ash::khr::external_fence_fd::Device::new(&instance, &device));
        Vulkan {
            inner: Arc::new(Inner {
                entry,
                instance,
                device,
                physical,
                queue,
                pool: Mutex::new(pool),
                owned,
                enabled,
                memory,
                name,
                api_version,
                memory_fd,
                modifier,
                semaphore_fd,
                fence_fd,
            }),
        }
    }

    /// The physical device's name.
    pub fn device_name(&self) -> &str {
        &self.inner.name
    }

    /// The extensions of this module that are enabled.
    pub fn enabled_extensions(&self) -> Vec<String> {
        self.inner.enabled.iter().map(|e| name_of(e).to_string()).collect()
    }

    /// The extensions this module would use that are not enabled (the
    /// device lacks them); the operations that need them fail naming them.
    pub fn missing_extensions(&self) -> Vec<String> {
        WANTED.iter().filter(|w| !self.inner.enabled.contains(w)).map(|e| name_of(e).to_string()).collect()
    }

    /// Refuses an object made by another device: Vulkan forbids mixing
    /// them, and a driver may crash on it.
    fn same_device(&self, op: &'static str, other: &Vulkan) -> Result<()> {
        if Arc::ptr_eq(&self.inner, &other.inner) {
            Ok(())
        } else {
            Err(Error::invalid(op, None, "the object belongs to another Vulkan device"))
        }
    }

    fn require(&self, ext: &'static CStr, op: &'static str) -> Result<()> {
        if self.inner.enabled.contains(&ext) {
            Ok(())
        } else {
            Err(unsupported(
                op,
                format!("{} is not enabled on {} (the device lacks it)", name_of(ext), self.inner.name),
            ))
        }
    }

    fn buffer_support(&self, handle: HandleType) -> (bool, bool) {
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

    fn image_support(&self, handle: HandleType) -> (bool, bool) {
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

    fn semaphore_support(&self) -> SyncFdSupport {
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

    fn fence_support(&self) -> SyncFdSupport {
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
    fn require_sync_fd(&self, op: &'static str, what: &str, support: SyncFdSupport) -> Result<()> {
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

    // ---- memory -----------------------------------------------------------

    fn memory_type_names(&self, bits: u32) -> String {
        let m = &self.inner.memory;
        let n = usize::try_from(m.memory_type_count).unwrap_or(0).min(m.memory_types.len());
        let list: Vec<String> = m.memory_types[..n]
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(i, t)| format!("{i}: {:?}", t.property_flags))
            .collect();
        if list.is_empty() {
            "none".into()
        } else {
            list.join("; ")
        }
    }

    /// The first memory type in `bits` with the wanted host visibility.
    fn pick_memory_type(&self, op: &'static str, bits: u32, host_visible: Option<bool>) -> Result<u32> {
        let m = &self.inner.memory;
        let n = m.memory_type_count.min(32);
        (0..n)
            .find(|&i| {
                let flags = m.memory_types[i as usize].property_flags;
                let hv = flags.contains(vk::MemoryPropertyFlags::HOST_VISIBLE);
                bits & (1 << i) != 0 && host_visible.is_none_or(|want| want == hv)
            })
            .ok_or_else(|| {
                let wish = match host_visible {
                    Some(true) => "host-visible ",
                    Some(false) => "non-host-visible ",
                    None => "",
                };
                Error::new(
                    ErrorKind::Unsupported,
                    Errno::EOPNOTSUPP,
                    op,
                    None,
                    format!(
                        "no {wish}memory type fits (allowed: {}; all: {})",
                        self.memory_type_names(bits),
                        self.memory_type_names(u32::MAX)
                    ),
                )
            })
    }

    fn check_handle(&self, op: &'static str, handle: HandleType, image: bool, import: bool) -> Result<()> {
        self.require(handle.extension(), op)?;
        let (e, i) = if image { self.image_support(handle) } else { self.buffer_support(handle) };
        let ok = if import { i } else { e };
        if ok {
            Ok(())
        } else {
            let what = if image { "images" } else { "buffers" };
            let dir = if import { "import" } else { "export" };
            // lavapipe exports dma-bufs through udmabuf: say so where it is missing.
            let hint = if self.inner.name.contains("llvmpipe")
                && handle == HandleType::DmaBuf
                && !std::path::Path::new("/dev/udmabuf").exists()
            {
                " (lavapipe exports dma-bufs through /dev/udmabuf, which this system lacks)"
            } else {
                ""
            };
            Err(unsupported(op, format!("{} cannot {dir} {what} as handle type {handle}{hint}", self.inner.name)))
        }
    }

    fn dedicated(req2: &vk::MemoryDedicatedRequirements<'_>) -> bool {
        req2.requires_dedicated_allocation == vk::TRUE || req2.prefers_dedicated_allocation == vk::TRUE
    }

    fn new_buffer(&self, size: u64, handle: HandleType, usage: vk::BufferUsageFlags) -> Result<vk::Buffer> {
        let mut ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(handle.flag());
        let info = vk::BufferCreateInfo::default()
            .size(size)
            .usage(usage)
            .sharing_mode(vk::SharingMode::EXCLUSIVE)
            .push_next(&mut ext);
        // SAFETY: valid device and create info.
        unsafe { self.inner.device.create_buffer(&info, None) }.map_err(|r| vk_error("vkCreateBuffer", r))
    }

    fn buffer_requirements(&self, buffer: vk::Buffer) -> (vk::MemoryRequirements, bool) {
        let mut ded = vk::MemoryDedicatedRequirements::default();
        let info = vk::BufferMemoryRequirementsInfo2::default().buffer(buffer);
        let mut req = vk::MemoryRequirements2::default().push_next(&mut ded);
        // SAFETY: `buffer` is this device's.
        unsafe { self.inner.device.get_buffer_memory_requirements2(&info, &mut req) };
        let r = req.memory_requirements;
        (r, Self::dedicated(&ded))
    }

    /// `vkCreateBuffer`, `vkAllocateMemory` (with `VkExportMemoryAllocateInfo`)
    /// and `vkBindBufferMemory`: a buffer of `size` bytes whose memory can be
    /// exported as `handle` ([`Buffer::export_dma_buf`],
    /// [`Buffer::export_opaque_fd`]). Usable as a transfer source and
    /// destination.
    ///
    /// # Errors
    /// `InvalidArgument` for zero bytes; `Unsupported` naming the missing
    /// extension, the handle type the device cannot export buffers as, or
    /// the memory type that does not exist; Vulkan's errors (`ENOMEM`).
    #[doc(alias = "vkAllocateMemory")]
    pub fn create_buffer(&self, size: u64, handle: HandleType, host_visible: Option<bool>) -> Result<Buffer> {
        const OP: &str = "vkAllocateMemory";
        if size == 0 {
            return Err(Error::invalid(OP, None, "cannot allocate zero bytes"));
        }
        // Like the other sources: a size past this machine's memory is
        // ENOMEM before the driver sees it (lavapipe backs memory with a memfd).
        crate::fd::check_alloc_size(OP, size)?;
        self.check_handle(OP, handle, false, false)?;
        let buffer = self.new_buffer(size, handle, transfer_usage())?;
        let guard = BufferGuard { vk: self, buffer };
        let (req, dedicated) = self.buffer_requirements(buffer);
        let type_index = self.pick_memory_type(OP, req.memory_type_bits, host_visible)?;
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(handle.flag());
        let mut ded = vk::MemoryDedicatedAllocateInfo::default().buffer(buffer);
        let mut info = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(type_index)
            .push_next(&mut export);
        if dedicated {
            info = info.push_next(&mut ded);
        }
        // SAFETY: valid device and allocate info.
        let memory = unsafe { self.inner.device.allocate_memory(&info, None) }.map_err(|r| vk_error(OP, r))?;
        let buffer = guard.bind(memory)?;
        Ok(self.wrap_buffer(buffer, memory, size, req.size, type_index, Some(handle)))
    }

    fn wrap_buffer(
        &self,
        buffer: vk::Buffer,
        memory: vk::DeviceMemory,
        size: u64,
        allocation: u64,
        type_index: u32,
        exportable: Option<HandleType>,
    ) -> Buffer {
        let flags = self.inner.memory.memory_types[type_index as usize].property_flags;
        Buffer {
            vk: self.clone(),
            buffer,
            memory,
            size,
            allocation,
            host_visible: flags.contains(vk::MemoryPropertyFlags::HOST_VISIBLE),
            exportable,
        }
    }

    /// `vkGetMemoryFdPropertiesKHR` of a dma-buf: the memory types it can be
    /// imported as (a bit mask).
    fn fd_memory_bits(&self, op: &'static str, fd: BorrowedFd<'_>) -> Result<u32> {
        let mut props = vk::MemoryFdPropertiesKHR::default();
        // SAFETY: the fd is open for the duration of the call; Vulkan does not keep it.
        unsafe {
            self.inner.memory_fd.get_memory_fd_properties(
                vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
                fd.as_raw_fd(),
                &mut props,
            )
        }
        .map_err(|r| vk_error("vkGetMemoryFdPropertiesKHR", r).with_fd(fd.as_raw_fd()))
        .map_err(|e| {
            let d = format!("{op}: {}", e.description());
            e.with_detail(d)
        })?;
        Ok(props.memory_type_bits)
    }

    /// `vkAllocateMemory` with `VkImportMemoryFdInfoKHR` of a duplicate of
    /// `fd`: on success Vulkan owns the duplicate; on failure it is closed
    /// here. The caller's fd is untouched either way, so that a failure at
    /// any later step can still hand it back.
    fn import_memory(
        &self,
        fd: BorrowedFd<'_>,
        handle: HandleType,
        size: u64,
        type_index: u32,
        dedicated: Option<(vk::Buffer, vk::Image)>,
    ) -> Result<vk::DeviceMemory> {
        let dup = crate::fd::dup_cloexec(fd)?;
        let mut import = vk::ImportMemoryFdInfoKHR::default().handle_type(handle.flag()).fd(dup.as_raw_fd());
        let mut ded = vk::MemoryDedicatedAllocateInfo::default();
        let mut info = vk::MemoryAllocateInfo::default()
            .allocation_size(size)
            .memory_type_index(type_index)
            .push_next(&mut import);
        if let Some((b, i)) = dedicated {
            ded = ded.buffer(b).image(i);
            info = info.push_next(&mut ded);
        }
        // SAFETY: valid device and allocate info; the duplicate is open; on
        // success Vulkan owns it, which the next lines account for.
        let memory = unsafe { self.inner.device.allocate_memory(&info, None) }
            .map_err(|r| vk_error("vkAllocateMemory", r).with_fd(fd.as_raw_fd()))?;
        // Ownership of the duplicate moved to Vulkan on the line above.
        let _ = dup.into_raw_fd();
        Ok(memory)
    }

    /// Imports a dma-buf as the memory of a new buffer of `size` bytes (the
    /// dma-buf's size when `None`), usable as a transfer source and
    /// destination. The memory type is the first in
    /// `vkGetMemoryFdPropertiesKHR` ∩ the buffer's requirements ∩ the
    /// caller's wish (`host_visible`: `Some(true)` host-visible only,
    /// `Some(false)` device-only, `None` either); a dedicated allocation is
    /// used where the driver requires or prefers one.
    ///
    /// Ownership: on success the fd is Vulkan's (the [`DmaBuf`] is consumed);
    /// on failure it comes back, still open, inside [`ImportError`].
    ///
    /// # Errors
    /// `InvalidArgument` for a size of zero or past the dma-buf's end;
    /// `Unsupported` naming the missing extension, the handle type the device
    /// does not import, or the memory types that do not fit.
    #[doc(alias = "vkGetMemoryFdPropertiesKHR")]
    #[doc(alias = "VkImportMemoryFdInfoKHR")]
    pub fn import_buffer(
        &self,
        dmabuf: DmaBuf,
        size: Option<u64>,
        host_visible: Option<bool>,
    ) -> std::result::Result<Buffer, ImportError<DmaBuf>> {
        let fd_size = dmabuf.size();
        match self.import_buffer_checked(&dmabuf, size.unwrap_or(fd_size), fd_size, host_visible) {
            Err(error) => Err(ImportError { error, handle: dmabuf }),
            Ok((buffer, req, type_index, dedicated)) => {
                let guard = BufferGuard { vk: self, buffer };
                let alloc = req.size.max(fd_size);
                let ded = dedicated.then_some((buffer, vk::Image::null()));
                let bound = self
                    .import_memory(dmabuf.as_fd(), HandleType::DmaBuf, alloc, type_index, ded)
                    .and_then(|memory| Ok((guard.bind(memory)?, memory)));
                match bound {
                    // Vulkan holds its own reference now: the caller's fd is closed.
                    Ok((buffer, memory)) => {
                        drop(dmabuf);
                        Ok(self.wrap_buffer(buffer, memory, size.unwrap_or(fd_size), alloc, type_index, None))
                    }
                    Err(error) => Err(ImportError { error, handle: dmabuf }),
                }
            }
        }
    }

    fn import_buffer_checked(
        &self,
        dmabuf: &DmaBuf,
        size: u64,
        fd_size: u64,
        host_visible: Option<bool>,
    ) -> Result<(vk::Buffer, vk::MemoryRequirements, u32, bool)> {
        const OP: &str = "vkAllocateMemory";
        let raw = Some(dmabuf.as_raw_fd());
        if size == 0 {
            return Err(Error::invalid(OP, raw, "cannot import a buffer of zero bytes"));
        }
        if size > fd_size {
            return Err(Error::invalid(
                OP,
                raw,
                format!("a buffer of {size} bytes does not fit in this {fd_size}-byte dma-buf"),
            ));
        }
        self.check_handle(OP, HandleType::DmaBuf, false, true)?;
        let fd_bits = self.fd_memory_bits(OP, dmabuf.as_fd())?;
        let buffer = self.new_buffer(size, HandleType::DmaBuf, transfer_usage())?;
        let guard = BufferGuard { vk: self, buffer };
        let (req, dedicated) = self.buffer_requirements(buffer);
        if req.size > fd_size {
            return Err(Error::invalid(
                OP,
                raw,
                format!("the buffer needs {} bytes of memory; the dma-buf has {fd_size}", req.size),
            ));
        }
        let type_index = self
            .pick_memory_type(OP, fd_bits & req.memory_type_bits, host_visible)
            .map_err(|e| e.with_fd(dmabuf.as_raw_fd()))?;
        Ok((guard.release(), req, type_index, dedicated))
    }

    /// Imports an [`OpaqueFd`] exported by the same driver as the memory of
    /// a new buffer of `size` bytes. Ownership as [`Vulkan::import_buffer`].
    ///
    /// # Errors
    /// As [`Vulkan::import_buffer`].
    pub fn import_opaque_buffer(
        &self,
        handle: OpaqueFd,
        size: u64,
    ) -> std::result::Result<Buffer, ImportError<OpaqueFd>> {
        const OP: &str = "vkAllocateMemory";
        let checked = (|| {
            if size == 0 || size > handle.size {
                return Err(Error::invalid(
                    OP,
                    Some(handle.as_raw_fd()),
                    format!("size {size} does not fit in the {}-byte allocation", handle.size),
                ));
            }
            self.check_handle(OP, HandleType::OpaqueFd, false, true)?;
            let buffer = self.new_buffer(size, HandleType::OpaqueFd, transfer_usage())?;
            let guard = BufferGuard { vk: self, buffer };
            let (req, dedicated) = self.buffer_requirements(buffer);
            let type_index = self.pick_memory_type(OP, req.memory_type_bits, None)?;
            Ok((guard.release(), req, type_index, dedicated))
        })();
        let (buffer, req, type_index, dedicated) = match checked {
            Ok(v) => v,
            Err(error) => return Err(ImportError { error, handle }),
        };
        let guard = BufferGuard { vk: self, buffer };
        let alloc = handle.size;
        let ded = dedicated.then_some((buffer, vk::Image::null()));
        let _ = req;
        let bound = self
            .import_memory(handle.as_fd(), HandleType::OpaqueFd, alloc, type_index, ded)
            .and_then(|memory| Ok((guard.bind(memory)?, memory)));
        match bound {
            Ok((buffer, memory)) => {
                drop(handle);
                Ok(self.wrap_buffer(buffer, memory, size, alloc, type_index, None))
            }
            Err(error) => Err(ImportError { error, handle }),
        }
    }

    // ---- images -----------------------------------------------------------

    fn image_format_properties(
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

    fn image_info(desc: &ImageDesc, tiling: vk::ImageTiling) -> vk::ImageCreateInfo<'static> {
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

    fn check_image_desc(&self, op: &'static str, desc: &ImageDesc, modifier: u64) -> Result<ModifierInfo> {
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

    fn image_requirements(&self, image: vk::Image) -> (vk::MemoryRequirements, bool) {
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
    /// plane's rows must lie inside the dma-buf.
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
                let min_pitch = u64::from(desc.width) * u64::from(bytes_per_pixel(desc.format, i).unwrap_or(1));
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

    // ---- commands ---------------------------------------------------------

    /// Records commands into a one-time command buffer, submits them with
    /// `wait` semaphores and `signal` semaphores and fence, and (when
    /// `block`) waits for them.
    fn submit(
        &self,
        op: &'static str,
        record: impl FnOnce(&ash::Device, vk::CommandBuffer),
        wait: &[vk::Semaphore],
        signal: &[vk::Semaphore],
        fence: Option<vk::Fence>,
    ) -> Result<()> {
        let d = &self.inner.device;
        let pool = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let info = vk::CommandBufferAllocateInfo::default()
            .command_pool(*pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(1);
        // SAFETY: the pool is this device's and locked.
        let cbs = unsafe { d.allocate_command_buffers(&info) }.map_err(|r| vk_error("vkAllocateCommandBuffers", r))?;
        let cb = cbs[0];
        let result = (|| {
            let begin = vk::CommandBufferBeginInfo::default().flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
            // SAFETY: a new command buffer of a locked pool.
            unsafe { d.begin_command_buffer(cb, &begin) }.map_err(|r| vk_error("vkBeginCommandBuffer", r))?;
            record(d, cb);
            // SAFETY: the command buffer is recording.
            unsafe { d.end_command_buffer(cb) }.map_err(|r| vk_error("vkEndCommandBuffer", r))?;
            // SAFETY: valid device and create info.
            let own_fence = unsafe { d.create_fence(&vk::FenceCreateInfo::default(), None) }
                .map_err(|r| vk_error("vkCreateFence", r))?;
            let stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; wait.len()];
            let cbs = [cb];
            let submit = vk::SubmitInfo::default()
                .command_buffers(&cbs)
                .wait_semaphores(wait)
                .wait_dst_stage_mask(&stages)
                .signal_semaphores(signal);
            // SAFETY: the queue is used only under the pool's lock by this
            // module; the arrays outlive the call.
            let r = unsafe { d.queue_submit(self.inner.queue, &[submit], own_fence) }.map_err(|r| vk_error(op, r));
            let r = r.and_then(|()| {
                // SAFETY: the fence was just submitted.
                unsafe { d.wait_for_fences(&[own_fence], true, u64::MAX) }.map_err(|r| vk_error("vkWaitForFences", r))
            });
            // An extra empty submission signals the caller's fence once ours has.
            let r = r.and_then(|()| match fence {
                // SAFETY: as above; an empty submission with a fence.
                Some(f) => unsafe { d.queue_submit(self.inner.queue, &[], f) }.map_err(|r| vk_error(op, r)),
                None => Ok(()),
            });
            // SAFETY: the fence has signalled (or was never submitted).
            unsafe { d.destroy_fence(own_fence, None) };
            r
        })();
        // SAFETY: the command buffer has completed (we waited) or never ran.
        unsafe { d.free_command_buffers(*pool, &cbs) };
        result
    }

    /// `vkCmdFillBuffer`: writes `value` (little-endian) into every 4-byte
    /// word of `[offset, offset + size)` of `buffer` on the device and waits
    /// for it.
    ///
    /// # Errors
    /// `InvalidArgument` for an offset or size that is not a multiple of 4 or
    /// a range past the buffer's end; Vulkan's errors.
    #[doc(alias = "vkCmdFillBuffer")]
    pub fn fill(&self, buffer: &Buffer, offset: u64, size: u64, value: u32) -> Result<()> {
        const OP: &str = "vkCmdFillBuffer";
        self.same_device(OP, &buffer.vk)?;
        check_range(OP, buffer.size, offset, size)?;
        if offset % 4 != 0 || size % 4 != 0 {
            return Err(Error::invalid(OP, None, "offset and size must be multiples of 4"));
        }
        let b = buffer.buffer;
        // SAFETY (inside the closure): `b` is a live buffer of this device.
        self.submit(
            OP,
            |d, cb| {
                // SAFETY: `b` is a live buffer of this device; the range is inside it.
                unsafe { d.cmd_fill_buffer(cb, b, offset, size, value) };
            },
            &[],
            &[],
            None,
        )
    }

    /// `vkCmdCopyBuffer`: copies `size` bytes from `src` at `src_offset` to
    /// `dst` at `dst_offset` on the device and waits for it.
    ///
    /// # Errors
    /// `InvalidArgument` for a range past either buffer's end or overlapping
    /// ranges of one buffer; Vulkan's errors.
    #[doc(alias = "vkCmdCopyBuffer")]
    pub fn copy(&self, src: &Buffer, src_offset: u64, dst: &Buffer, dst_offset: u64, size: u64) -> Result<()> {
        const OP: &str = "vkCmdCopyBuffer";
        self.same_device(OP, &src.vk)?;
        self.same_device(OP, &dst.vk)?;
        check_range(OP, src.size, src_offset, size)?;
        check_range(OP, dst.size, dst_offset, size)?;
        // Vulkan forbids overlapping source and destination regions.
        if src.buffer == dst.buffer && src_offset < dst_offset + size && dst_offset < src_offset + size {
            return Err(Error::invalid(OP, None, "the source and destination ranges overlap in the same buffer"));
        }
        let region = [vk::BufferCopy { src_offset, dst_offset, size }];
        let (s, t) = (src.buffer, dst.buffer);
        // SAFETY (inside the closure): both buffers are live buffers of this device.
        self.submit(
            OP,
            |d, cb| {
                // SAFETY: both buffers are live buffers of this device; the ranges are inside them.
                unsafe { d.cmd_copy_buffer(cb, s, t, &region) };
            },
            &[],
            &[],
            None,
        )
    }

    /// `vkCmdCopyBufferToImage`: copies tightly packed rows from `src` into
    /// the whole of a single-plane `dst` (transitioned to `GENERAL`) and waits.
    ///
    /// # Errors
    /// `InvalidArgument` when `src` is smaller than the packed image or the
    /// image has several planes; Vulkan's errors.
    #[doc(alias = "vkCmdCopyBufferToImage")]
    pub fn copy_buffer_to_image(&self, src: &Buffer, dst: &Image) -> Result<()> {
        const OP: &str = "vkCmdCopyBufferToImage";
        self.same_device(OP, &src.vk)?;
        self.same_device(OP, &dst.vk)?;
        let bpp = bytes_per_pixel(dst.desc.format, 0)
            .filter(|_| dst.planes.len() <= 1)
            .ok_or_else(|| Error::invalid(OP, None, "only single-plane images of a known format can be copied to"))?;
        let need = u64::from(dst.desc.width) * u64::from(dst.desc.height) * u64::from(bpp);
        check_range(OP, src.size, 0, need)?;
        let (s, img) = (src.buffer, dst.image);
        let extent = vk::Extent3D { width: dst.desc.width, height: dst.desc.height, depth: 1 };
        let range =
            vk::ImageSubresourceRange::default().aspect_mask(vk::ImageAspectFlags::COLOR).level_count(1).layer_count(1);
        let barrier = [vk::ImageMemoryBarrier::default()
            .old_layout(vk::ImageLayout::UNDEFINED)
            .new_layout(vk::ImageLayout::GENERAL)
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(img)
            .subresource_range(range)];
        let region = [vk::BufferImageCopy::default()
            .image_subresource(
                vk::ImageSubresourceLayers::default().aspect_mask(vk::ImageAspectFlags::COLOR).layer_count(1),
            )
            .image_extent(extent)];
        self.submit(
            OP,
            |d, cb| {
                // SAFETY: `img` is a live image of this device.
                unsafe {
                    d.cmd_pipeline_barrier(
                        cb,
                        vk::PipelineStageFlags::TOP_OF_PIPE,
                        vk::PipelineStageFlags::TRANSFER,
                        vk::DependencyFlags::empty(),
                        &[],
                        &[],
                        &barrier,
                    );
                };
                // SAFETY: `s` and `img` are live; the region is inside both.
                unsafe { d.cmd_copy_buffer_to_image(cb, s, img, vk::ImageLayout::GENERAL, &region) };
            },
            &[],
            &[],
            None,
        )
    }

    // ---- synchronisation --------------------------------------------------

    /// `vkCreateSemaphore` with `VkExportSemaphoreCreateInfo(SYNC_FD)`: a
    /// binary semaphore whose payload can be exported as a [`SyncFile`].
    ///
    /// # Errors
    /// `Unsupported` naming `VK_KHR_external_semaphore_fd` when the device lacks it.
    #[doc(alias = "vkCreateSemaphore")]
    pub fn create_semaphore(&self) -> Result<Semaphore> {
        const OP: &str = "vkCreateSemaphore";
        self.require(SEMAPHORE_FD, OP)?;
        self.require_sync_fd(OP, "semaphores", self.semaphore_support())?;
        let mut export =
            vk::ExportSemaphoreCreateInfo::default().handle_types(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
        let info = vk::SemaphoreCreateInfo::default().push_next(&mut export);
        // SAFETY: valid device and create info.
        let semaphore = unsafe { self.inner.device.create_semaphore(&info, None) }.map_err(|r| vk_error(OP, r))?;
        Ok(Semaphore { vk: self.clone(), semaphore })
    }

    /// `vkCreateFence` with `VkExportFenceCreateInfo(SYNC_FD)`, unsignalled.
    ///
    /// # Errors
    /// `Unsupported` naming `VK_KHR_external_fence_fd` when the device lacks it.
    #[doc(alias = "vkCreateFence")]
    pub fn create_fence(&self) -> Result<Fence> {
        const OP: &str = "vkCreateFence";
        self.require(FENCE_FD, OP)?;
        self.require_sync_fd(OP, "fences", self.fence_support())?;
        let mut export = vk::ExportFenceCreateInfo::default().handle_types(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
        let info = vk::FenceCreateInfo::default().push_next(&mut export);
        // SAFETY: valid device and create info.
        let fence = unsafe { self.inner.device.create_fence(&info, None) }.map_err(|r| vk_error(OP, r))?;
        Ok(Fence { vk: self.clone(), fence })
    }

    /// `vkQueueSubmit` of an empty batch that waits on `wait` (each
    /// semaphore's payload is consumed) and then signals `signal` and
    /// `fence`: the way to make Vulkan wait on an imported [`SyncFile`], or to
    /// give a semaphore or fence a payload to export.
    ///
    /// # Errors
    /// Vulkan's errors.
    #[doc(alias = "vkQueueSubmit")]
    pub fn submit_sync(&self, wait: &[&Semaphore], signal: &[&Semaphore], fence: Option<&Fence>) -> Result<()> {
        const OP: &str = "vkQueueSubmit";
        for s in wait.iter().chain(signal) {
            self.same_device(OP, &s.vk)?;
        }
        if let Some(f) = fence {
            self.same_device(OP, &f.vk)?;
        }
        let wait: Vec<vk::Semaphore> = wait.iter().map(|s| s.semaphore).collect();
        let signal: Vec<vk::Semaphore> = signal.iter().map(|s| s.semaphore).collect();
        let stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; wait.len()];
        let submit =
            vk::SubmitInfo::default().wait_semaphores(&wait).wait_dst_stage_mask(&stages).signal_semaphores(&signal);
        let _pool = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let f = fence.map_or(vk::Fence::null(), |f| f.fence);
        // SAFETY: the queue is used under the pool's lock; the arrays outlive the call.
        unsafe { self.inner.device.queue_submit(self.inner.queue, &[submit], f) }.map_err(|r| vk_error(OP, r))
    }

    /// `vkQueueWaitIdle`.
    ///
    /// # Errors
    /// Vulkan's errors (`VK_ERROR_DEVICE_LOST`).
    pub fn wait_idle(&self) -> Result<()> {
        let _pool = self.inner.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: the queue is used under the pool's lock.
        unsafe { self.inner.device.queue_wait_idle(self.inner.queue) }.map_err(|r| vk_error("vkQueueWaitIdle", r))
    }
}

fn transfer_usage() -> vk::BufferUsageFlags {
    vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST
}

fn check_range(op: &'static str, len: u64, offset: u64, size: u64) -> Result<()> {
    match offset.checked_add(size) {
        Some(end) if end <= len && size > 0 => Ok(()),
        _ => Err(Error::invalid(op, None, format!("range {offset}+{size} is outside the {len}-byte buffer"))),
    }
}

fn memory_plane_aspect(plane: u32) -> vk::ImageAspectFlags {
    match plane {
        0 => vk::ImageAspectFlags::MEMORY_PLANE_0_EXT,
        1 => vk::ImageAspectFlags::MEMORY_PLANE_1_EXT,
        2 => vk::ImageAspectFlags::MEMORY_PLANE_2_EXT,
        _ => vk::ImageAspectFlags::MEMORY_PLANE_3_EXT,
    }
}

/// Bytes per pixel of plane `plane` of the formats this module knows.
fn bytes_per_pixel(format: vk::Format, plane: usize) -> Option<u32> {
    match (format, plane) {
        (vk::Format::R8_UNORM | vk::Format::G8_B8R8_2PLANE_420_UNORM, 0) => Some(1),
        (vk::Format::R8G8_UNORM | vk::Format::R5G6B5_UNORM_PACK16, 0) | (vk::Format::G8_B8R8_2PLANE_420_UNORM, 1) => {
            Some(2)
        }
        (vk::Format::R8G8B8A8_UNORM | vk::Format::B8G8R8A8_UNORM | vk::Format::A2R10G10B10_UNORM_PACK32, 0) => Some(4),
        _ => None,
    }
}

fn plane_height(format: vk::Format, plane: usize, height: u32) -> u32 {
    if format == vk::Format::G8_B8R8_2PLANE_420_UNORM && plane == 1 {
        height.div_ceil(2)
    } else {
        height
    }
}

/// The Vulkan format of a DRM fourcc (`AR24` is `B8G8R8A8_UNORM` on a
/// little-endian machine), for the formats this module knows.
pub fn format_from_fourcc(fourcc: &str) -> Option<vk::Format> {
    Some(match fourcc {
        "AR24" | "XR24" => vk::Format::B8G8R8A8_UNORM,
        "AB24" | "XB24" => vk::Format::R8G8B8A8_UNORM,
        "R8  " | "R8" => vk::Format::R8_UNORM,
        "GR88" => vk::Format::R8G8_UNORM,
        "RG16" => vk::Format::R5G6B5_UNORM_PACK16,
        "NV12" => vk::Format::G8_B8R8_2PLANE_420_UNORM,
        _ => return None,
    })
}

/// A buffer whose memory is not bound yet: destroyed on early return.
struct BufferGuard<'a> {
    vk: &'a Vulkan,
    buffer: vk::Buffer,
}

impl BufferGuard<'_> {
    fn release(self) -> vk::Buffer {
        let b = self.buffer;
        std::mem::forget(self);
        b
    }

    /// `vkBindBufferMemory`; on failure both are freed.
    fn bind(self, memory: vk::DeviceMemory) -> Result<vk::Buffer> {
        let d = &self.vk.inner.device;
        // SAFETY: both are this device's; the memory fits the requirements.
        match unsafe { d.bind_buffer_memory(self.buffer, memory, 0) } {
            Ok(()) => Ok(self.release()),
            Err(r) => {
                // SAFETY: the memory is ours and bound to nothing.
                unsafe { d.free_memory(memory, None) };
                Err(vk_error("vkBindBufferMemory", r))
            }
        }
    }
}

impl Drop for BufferGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the buffer is ours and unused.
        unsafe { self.vk.inner.device.destroy_buffer(self.buffer, None) };
    }
}

/// An image whose memory is not bound yet: destroyed on early return.
struct ImageGuard<'a> {
    vk: &'a Vulkan,
    image: vk::Image,
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

/// A Vulkan buffer and the memory bound to it (allocated for export, or
/// imported). Freed (`vkDestroyBuffer`, `vkFreeMemory`) on drop; dma-bufs
/// exported from it stay valid after that (the kernel keeps the pages).
#[allow(clippy::struct_field_names)] // Reason: `buffer` is the VkBuffer of a `Buffer`.
pub struct Buffer {
    vk: Vulkan,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    size: u64,
    allocation: u64,
    host_visible: bool,
    exportable: Option<HandleType>,
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("size", &self.size)
            .field("host_visible", &self.host_visible)
            .field("exportable", &self.exportable)
            .finish_non_exhaustive()
    }
}

impl Buffer {
    /// The buffer's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether its memory is host-visible.
    pub fn host_visible(&self) -> bool {
        self.host_visible
    }

    /// The raw handles, for the caller's own Vulkan commands. They stay
    /// valid while this value lives.
    pub fn raw(&self) -> (vk::Buffer, vk::DeviceMemory) {
        (self.buffer, self.memory)
    }

    fn get_fd(&self, handle: HandleType) -> Result<OwnedFd> {
        get_memory_fd(&self.vk, self.memory, handle, self.exportable, "buffer")
    }

    /// `vkGetMemoryFdKHR(DMA_BUF)`: a new dma-buf fd for this buffer's
    /// memory, owned by the caller.
    ///
    /// # Errors
    /// `Unsupported` when the buffer was not created exportable as a dma-buf;
    /// Vulkan's errors.
    #[doc(alias = "vkGetMemoryFdKHR")]
    pub fn export_dma_buf(&self) -> Result<DmaBuf> {
        let fd = self.get_fd(HandleType::DmaBuf)?;
        DmaBuf::from_owned(fd).map_err(|e| e.error)
    }

    /// `vkMapMemory` + copy + `vkUnmapMemory`: reads `out.len()` bytes at
    /// `offset` of host-visible memory (the way to check an opaque-fd
    /// buffer, which has no dma-buf to map). Call it when the device is done
    /// writing (the transfer functions of [`Vulkan`] wait).
    ///
    /// # Errors
    /// `InvalidArgument` for memory that is not host-visible or a range past
    /// the end; Vulkan's errors.
    #[doc(alias = "vkMapMemory")]
    pub fn read_host(&self, offset: u64, out: &mut [u8]) -> Result<()> {
        const OP: &str = "vkMapMemory";
        if !self.host_visible {
            return Err(Error::invalid(OP, None, "the buffer's memory is not host-visible"));
        }
        let len = out.len() as u64;
        check_range(OP, self.size, offset, len)?;
        let d = &self.vk.inner.device;
        // SAFETY: host-visible memory of this device, not mapped elsewhere by this module.
        let ptr = unsafe { d.map_memory(self.memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty()) }
            .map_err(|r| vk_error(OP, r))?;
        let range = [vk::MappedMemoryRange::default().memory(self.memory).offset(0).size(vk::WHOLE_SIZE)];
        // SAFETY: the memory is mapped; the range is the whole allocation.
        let inv = unsafe { d.invalidate_mapped_memory_ranges(&range) };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        // SAFETY: the mapping covers the whole allocation, which holds
        // `[offset, offset + len)` (checked above).
        let src = unsafe { ptr.cast::<u8>().add(start) };
        // SAFETY: `src` has `out.len()` readable bytes; `out` does not overlap them.
        unsafe { std::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len()) };
        // SAFETY: mapped above.
        unsafe { d.unmap_memory(self.memory) };
        inv.map_err(|r| vk_error("vkInvalidateMappedMemoryRanges", r))
    }

    /// `vkGetMemoryFdKHR(OPAQUE_FD)`: a new opaque fd, owned by the caller.
    ///
    /// # Errors
    /// As [`Buffer::export_dma_buf`].
    pub fn export_opaque_fd(&self) -> Result<OpaqueFd> {
        Ok(OpaqueFd { fd: self.get_fd(HandleType::OpaqueFd)?, size: self.allocation })
    }
}

fn get_memory_fd(
    vk: &Vulkan,
    memory: vk::DeviceMemory,
    handle: HandleType,
    exportable: Option<HandleType>,
    what: &str,
) -> Result<OwnedFd> {
    const OP: &str = "vkGetMemoryFdKHR";
    if exportable != Some(handle) {
        let was = exportable.map_or_else(|| "imported".to_string(), |h| format!("created exportable as {h}"));
        return Err(unsupported(OP, format!("this {what} cannot be exported as {handle}: it was {was}")));
    }
    let info = vk::MemoryGetFdInfoKHR::default().memory(memory).handle_type(handle.flag());
    // SAFETY: the memory is live and was allocated exportable as `handle`.
    let raw = unsafe { vk.inner.memory_fd.get_memory_fd(&info) }.map_err(|r| vk_error(OP, r))?;
    if raw < 0 {
        return Err(Error::new(ErrorKind::Os, Errno::EIO, OP, None, format!("{OP} returned fd {raw}")));
    }
    // SAFETY: vkGetMemoryFdKHR returns a new fd that the caller owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // Vulkan makes no promise about O_CLOEXEC: set it.
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
        .map_err(|e| Error::os("fcntl(F_SETFD)", Some(raw), e))?;
    Ok(fd)
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let d = &self.vk.inner.device;
        // SAFETY: every command this module submits is waited for; the buffer is ours.
        unsafe { d.destroy_buffer(self.buffer, None) };
        // SAFETY: the memory is ours and no longer bound to a live buffer.
        unsafe { d.free_memory(self.memory, None) };
    }
}

/// A 2D image's size, format and usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDesc {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The Vulkan format (see [`format_from_fourcc`]).
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
    vk: Vulkan,
    image: vk::Image,
    memory: Vec<vk::DeviceMemory>,
    desc: ImageDesc,
    modifier: u64,
    planes: Vec<PlaneLayout>,
    size: u64,
    exportable: bool,
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

/// A binary semaphore created exportable as `SYNC_FD`.
pub struct Semaphore {
    vk: Vulkan,
    semaphore: vk::Semaphore,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("semaphore", &self.semaphore).finish_non_exhaustive()
    }
}

/// `dup` of a `sync_file` for a Vulkan import that takes ownership.
fn dup_for_import(sync_file: Option<&SyncFile>, op: &'static str) -> Result<Option<OwnedFd>> {
    sync_file
        .map(|s| {
            crate::fd::dup_cloexec(s.as_fd()).map_err(|e| {
                let d = format!("{op}: {}", e.description());
                e.with_detail(d)
            })
        })
        .transpose()
}

impl Semaphore {
    /// The raw handle, for the caller's own submissions.
    pub fn raw(&self) -> vk::Semaphore {
        self.semaphore
    }

    /// `vkGetSemaphoreFdKHR(SYNC_FD)`: the semaphore's pending signal as a
    /// new [`SyncFile`] the caller owns. Exporting a `SYNC_FD` consumes the
    /// payload (the semaphore is unsignalled afterwards). `None` when the
    /// driver answers -1: the payload had already signalled.
    ///
    /// # Errors
    /// Vulkan's errors (a semaphore with no signal operation submitted is
    /// invalid to export).
    #[doc(alias = "vkGetSemaphoreFdKHR")]
    pub fn export_sync_file(&self) -> Result<Option<SyncFile>> {
        const OP: &str = "vkGetSemaphoreFdKHR";
        let dev = self.vk.inner.semaphore_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(SEMAPHORE_FD).into()))?;
        let info = vk::SemaphoreGetFdInfoKHR::default()
            .semaphore(self.semaphore)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
        // SAFETY: a live semaphore created exportable as SYNC_FD.
        let raw = unsafe { dev.get_semaphore_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        sync_file_from_raw(raw, OP)
    }

    /// `vkImportSemaphoreFdKHR(SYNC_FD, TEMPORARY)`: the next wait on this
    /// semaphore waits for `sync_file` (`None`: already signalled, passed to
    /// Vulkan as fd -1). Vulkan takes a duplicate; the [`SyncFile`] stays
    /// the caller's.
    ///
    /// # Errors
    /// `EMFILE`; Vulkan's errors (`VK_ERROR_INVALID_EXTERNAL_HANDLE`).
    #[doc(alias = "vkImportSemaphoreFdKHR")]
    pub fn import_sync_file(&self, sync_file: Option<&SyncFile>) -> Result<()> {
        const OP: &str = "vkImportSemaphoreFdKHR";
        let dev = self.vk.inner.semaphore_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(SEMAPHORE_FD).into()))?;
        let dup = dup_for_import(sync_file, OP)?;
        let raw = dup.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        let info = vk::ImportSemaphoreFdInfoKHR::default()
            .semaphore(self.semaphore)
            .flags(vk::SemaphoreImportFlags::TEMPORARY)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)
            .fd(raw);
        // SAFETY: a live semaphore; `raw` is an fd we own (or -1).
        unsafe { dev.import_semaphore_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        // Vulkan owns the duplicate now.
        let _ = dup.map(IntoRawFd::into_raw_fd);
        Ok(())
    }
}

fn sync_file_from_raw(raw: RawFd, op: &'static str) -> Result<Option<SyncFile>> {
    if raw == -1 {
        return Ok(None);
    }
    if raw < 0 {
        return Err(Error::new(ErrorKind::Os, Errno::EIO, op, None, format!("{op} returned fd {raw}")));
    }
    // SAFETY: vkGet*FdKHR returns a new fd that the caller owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
        .map_err(|e| Error::os("fcntl(F_SETFD)", Some(raw), e))?;
    SyncFile::from_owned(fd).map(Some).map_err(|e| e.error)
}

impl Drop for Semaphore {
    fn drop(&mut self) {
        // Pending waits and signals are not tracked: make the queue idle first.
        let _ = self.vk.wait_idle();
        // SAFETY: the queue is idle; the semaphore is ours.
        unsafe { self.vk.inner.device.destroy_semaphore(self.semaphore, None) };
    }
}

/// A fence created exportable as `SYNC_FD`.
pub struct Fence {
    vk: Vulkan,
    fence: vk::Fence,
}

impl fmt::Debug for Fence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fence").field("fence", &self.fence).finish_non_exhaustive()
    }
}

impl Fence {
    /// The raw handle.
    pub fn raw(&self) -> vk::Fence {
        self.fence
    }

    /// `vkGetFenceFdKHR(SYNC_FD)`: the fence's signal as a new [`SyncFile`]
    /// the caller owns (the fence is reset by the export). `None` when the
    /// driver answers -1 (already signalled).
    ///
    /// # Errors
    /// Vulkan's errors.
    #[doc(alias = "vkGetFenceFdKHR")]
    pub fn export_sync_file(&self) -> Result<Option<SyncFile>> {
        const OP: &str = "vkGetFenceFdKHR";
        let dev = self.vk.inner.fence_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(FENCE_FD).into()))?;
        let info =
            vk::FenceGetFdInfoKHR::default().fence(self.fence).handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
        // SAFETY: a live fence created exportable as SYNC_FD.
        let raw = unsafe { dev.get_fence_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        sync_file_from_raw(raw, OP)
    }

    /// `vkImportFenceFdKHR(SYNC_FD, TEMPORARY)`: the fence signals when
    /// `sync_file` does (`None`: at once). Vulkan takes a duplicate.
    ///
    /// # Errors
    /// `EMFILE`; Vulkan's errors.
    #[doc(alias = "vkImportFenceFdKHR")]
    pub fn import_sync_file(&self, sync_file: Option<&SyncFile>) -> Result<()> {
        const OP: &str = "vkImportFenceFdKHR";
        let dev = self.vk.inner.fence_fd.as_ref().ok_or_else(|| unsupported(OP, name_of(FENCE_FD).into()))?;
        let dup = dup_for_import(sync_file, OP)?;
        let raw = dup.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        let info = vk::ImportFenceFdInfoKHR::default()
            .fence(self.fence)
            .flags(vk::FenceImportFlags::TEMPORARY)
            .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD)
            .fd(raw);
        // SAFETY: a live fence; `raw` is an fd we own (or -1).
        unsafe { dev.import_fence_fd(&info) }.map_err(|r| vk_error(OP, r))?;
        let _ = dup.map(IntoRawFd::into_raw_fd);
        Ok(())
    }

    /// `vkWaitForFences`: `Ok(true)` once signalled, `Ok(false)` on timeout.
    ///
    /// # Errors
    /// Vulkan's errors.
    #[doc(alias = "vkWaitForFences")]
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        let ns = timeout.map_or(u64::MAX, |t| u64::try_from(t.as_nanos()).unwrap_or(u64::MAX));
        // SAFETY: a live fence of this device.
        match unsafe { self.vk.inner.device.wait_for_fences(&[self.fence], true, ns) } {
            Ok(()) => Ok(true),
            Err(vk::Result::TIMEOUT) => Ok(false),
            Err(r) => Err(vk_error("vkWaitForFences", r)),
        }
    }

    /// `vkResetFences`.
    ///
    /// # Errors
    /// Vulkan's errors.
    pub fn reset(&self) -> Result<()> {
        // SAFETY: a live fence with no pending submission (the caller's promise).
        unsafe { self.vk.inner.device.reset_fences(&[self.fence]) }.map_err(|r| vk_error("vkResetFences", r))
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        // Wait for the queue (under its lock) so that the fence is not in use.
        let _ = self.vk.wait_idle();
        // SAFETY: the queue is idle; the fence is ours.
        unsafe { self.vk.inner.device.destroy_fence(self.fence, None) };
    }
}
