//! The instance and the device: the loader opened at run time, the physical
//! device chosen, the extensions enabled, and the state every object shares.

use std::ffi::{c_char, CStr};
use std::fmt;
use std::sync::{Arc, Mutex};

use ash::vk;
use nix::errno::Errno;

use crate::error::{Error, ErrorKind, Result};

use super::conv::{name_of, unsupported, vk_error};

/// Extensions this module enables on a device it creates, when present.
pub(super) const MEMORY_FD: &CStr = c"VK_KHR_external_memory_fd";
pub(super) const MEMORY_DMA_BUF: &CStr = c"VK_EXT_external_memory_dma_buf";
pub(super) const DRM_MODIFIER: &CStr = c"VK_EXT_image_drm_format_modifier";
pub(super) const IMAGE_FORMAT_LIST: &CStr = c"VK_KHR_image_format_list";
pub(super) const SEMAPHORE_FD: &CStr = c"VK_KHR_external_semaphore_fd";
pub(super) const FENCE_FD: &CStr = c"VK_KHR_external_fence_fd";
pub(super) const WANTED: [&CStr; 5] = [MEMORY_FD, MEMORY_DMA_BUF, DRM_MODIFIER, SEMAPHORE_FD, FENCE_FD];

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

pub(super) struct Inner {
    /// Kept loaded as long as the instance (only when this module loaded it).
    pub(super) entry: Option<ash::Entry>,
    pub(super) instance: ash::Instance,
    pub(super) device: ash::Device,
    pub(super) physical: vk::PhysicalDevice,
    pub(super) queue: vk::Queue,
    /// The queue's lock (taken first) and what it guards: the command pool
    /// for `fill`/`copy`, which Vulkan wants externally synchronised, and
    /// what is known of the batches in flight.
    pub(super) pool: Mutex<QueueState>,
    /// Semaphores and fences closed while the queue was still busy, each
    /// destroyed once its probe fence says the work before it is done
    /// (`sync.rs`, [`Vulkan::retire`]). Locked after `pool`.
    pub(super) retired: Mutex<Vec<super::sync::Retired>>,
    /// Whether this module created the instance and device (and destroys them).
    pub(super) owned: bool,
    pub(super) enabled: Vec<&'static CStr>,
    pub(super) memory: vk::PhysicalDeviceMemoryProperties,
    pub(super) name: String,
    pub(super) api_version: u32,
    pub(super) memory_fd: ash::khr::external_memory_fd::Device,
    pub(super) modifier: Option<ash::ext::image_drm_format_modifier::Device>,
    pub(super) semaphore_fd: Option<ash::khr::external_semaphore_fd::Device>,
    pub(super) fence_fd: Option<ash::khr::external_fence_fd::Device>,
}

impl Inner {
    /// Whether exporting a semaphore or fence as `SYNC_FD` waits until the
    /// queue has taken in every batch submitted before: lavapipe
    /// (`llvmpipe`) runs batches on a thread of its own and flushes that
    /// queue before an export, so behind a batch that waits on a peer's
    /// `sync_file` every export blocks (measured: 10 s, until vgem's fence
    /// timed out), even of a payload imported from a `sync_file`. Drivers
    /// with kernel fences export a pending signal at once.
    pub(super) fn exports_wait_for_queue(&self) -> bool {
        self.name.starts_with("llvmpipe")
    }
}

/// What the queue's lock guards.
pub(super) struct QueueState {
    pub(super) pool: vk::CommandPool,
    /// A [`Vulkan::submit_sync`] batch with semaphore waits went in after
    /// `probe` (or while there was none): until a new probe has signalled,
    /// work submitted now may queue behind a wait on what others control.
    pub(super) waits: bool,
    /// The fence of an empty submission made by a `fill`/`copy` that found
    /// the queue busy, not yet seen signalled (`command.rs`).
    pub(super) probe: Option<vk::Fence>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let state = self.pool.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (pool, probe) = (state.pool, state.probe.take());
        let retired = self.retired.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(probe) = probe {
            retired.push(super::sync::Retired::probe_only(probe));
        }
        let retired = std::mem::take(retired);
        if !super::sync::destroy_retired(&self.device, retired) {
            // A submission still waits (on a sync_file that has not
            // signalled): destroying the device, or unloading the driver
            // that runs its queue, would pull everything from under it.
            // Leave all of it to the process's exit instead of blocking.
            std::mem::forget(self.entry.take());
            return;
        }
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
    pub(super) inner: Arc<Inner>,
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

/// `vkEnumerateDeviceExtensionProperties` as names.
pub(super) fn device_extensions(instance: &ash::Instance, pd: vk::PhysicalDevice) -> Result<Vec<String>> {
    // SAFETY: `pd` came from this instance's vkEnumeratePhysicalDevices.
    let props = unsafe { instance.enumerate_device_extension_properties(pd) }
        .map_err(|r| vk_error("vkEnumerateDeviceExtensionProperties", r))?;
    Ok(props.iter().map(|p| crate::sys::c_chars(&p.extension_name)).collect())
}

pub(super) fn device_name(instance: &ash::Instance, pd: vk::PhysicalDevice) -> (String, u32) {
    // SAFETY: `pd` came from this instance.
    let p = unsafe { instance.get_physical_device_properties(pd) };
    (crate::sys::c_chars(&p.device_name), p.api_version)
}

/// `vkCreateCommandPool` for the one-time command buffers of `fill`/`copy`.
pub(super) fn command_pool(device: &ash::Device, family: u32) -> Result<vk::CommandPool> {
    let info = vk::CommandPoolCreateInfo::default()
        .queue_family_index(family)
        .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER | vk::CommandPoolCreateFlags::TRANSIENT);
    // SAFETY: a valid device and create info.
    unsafe { device.create_command_pool(&info, None) }.map_err(|r| vk_error("vkCreateCommandPool", r))
}

/// A queue family that can transfer (graphics and compute imply it).
pub(super) fn transfer_family(instance: &ash::Instance, pd: vk::PhysicalDevice) -> Option<u32> {
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
    pub(super) fn open_on(
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
    pub(super) fn assemble(
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
                pool: Mutex::new(QueueState { pool, waits: false, probe: None }),
                retired: Mutex::new(Vec::new()),
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
    pub(super) fn same_device(&self, op: &'static str, other: &Vulkan) -> Result<()> {
        if Arc::ptr_eq(&self.inner, &other.inner) {
            Ok(())
        } else {
            Err(Error::invalid(op, None, "the object belongs to another Vulkan device"))
        }
    }

    pub(super) fn require(&self, ext: &'static CStr, op: &'static str) -> Result<()> {
        if self.inner.enabled.contains(&ext) {
            Ok(())
        } else {
            Err(unsupported(
                op,
                format!("{} is not enabled on {} (the device lacks it)", name_of(ext), self.inner.name),
            ))
        }
    }
}
