//! Vulkan functions (`dmabuf::vulkan`) under the TypeScript `Vulkan*`
//! classes. The device, buffers, images, semaphores and fences live
//! in the per-thread table like every other object; the functions take
//! their handles first. An import consumes its `DmaBuf`: on success the
//! `DmaBuf`'s handle is removed from the table here (the TypeScript object
//! then reads as closed); on failure it stays as it was.

use std::os::fd::AsRawFd;
use std::time::Duration;

use dmabuf::ash::vk;
use dmabuf::frame::{Fourcc, Frame, FramePlane};
use dmabuf::vulkan::{self as core, HandleType, ImageDesc, PlaneLayout};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::out_buf;
use crate::errors::{miss, os, os_err_value, raise, range, store, u32_arg, uint, value};
use crate::fast::set_out;
use crate::frame::StoredFrame;
use crate::sync_file::out_sync;
use crate::table::{self, Miss, Obj};

/// Runs `f` with the objects behind `handles`, each checked to be of the
/// class `pick` accepts (`None` otherwise).
fn with_objs<T>(
    env: &Env,
    method: &str,
    handles: &[(f64, &'static str)],
    f: impl FnOnce(&[&Obj]) -> Result<T>,
) -> Result<T> {
    let hs: Vec<f64> = handles.iter().map(|h| h.0).collect();
    match table::with_all(&hs, |objs| {
        for (o, (_, class)) in objs.iter().zip(handles) {
            if o.class() != *class {
                return Err(miss(env, method, class, &Miss::WrongClass(o.class())));
            }
        }
        f(objs)
    }) {
        Ok(r) => r,
        Err((i, m)) => Err(miss(env, method, handles[i].1, &m)),
    }
}

macro_rules! get {
    ($obj:expr, $variant:ident) => {
        match $obj {
            Obj::$variant(x) => x,
            // with_objs checked the class.
            _ => unreachable!(),
        }
    };
}

fn host_visible(env: &Env, method: &str, v: f64) -> Result<Option<bool>> {
    #[allow(clippy::float_cmp)] // Reason: exact small integers from TypeScript.
    match () {
        () if v == -1.0 => Ok(None),
        () if v == 0.0 => Ok(Some(false)),
        () if v == 1.0 => Ok(Some(true)),
        () => Err(value(env, method, "hostVisible must be true, false or undefined")),
    }
}

fn format(env: &Env, method: &str, fourcc: &str) -> Result<vk::Format> {
    core::format_from_fourcc(fourcc).ok_or_else(|| {
        value(
            env,
            method,
            &format!(
                "format must be one of 'AR24', 'XR24', 'AB24', 'XB24', 'R8', 'GR88', 'RG16', 'NV12', got {fourcc:?}"
            ),
        )
    })
}

fn modifier(env: &Env, method: &str, m: &BigInt) -> Result<u64> {
    let (signed, v, lossless) = m.get_u64();
    if signed || !lossless {
        return Err(range(env, method, "a modifier must be a bigint from 0n to 2n ** 64n - 1n"));
    }
    Ok(v)
}

/// Whether a Vulkan loader and a device with `VK_KHR_external_memory_fd`
/// exist: Vulkan.available.
#[napi(catch_unwind)]
pub fn vk_available() -> bool {
    core::Vulkan::open(&core::DeviceChoice::First).is_ok()
}

/// Loads Vulkan and creates a device: Vulkan.open. `device` is a name
/// fragment, `index` an index of vkEnumeratePhysicalDevices.
#[napi(catch_unwind)]
pub fn vk_open(env: &Env, device: Option<String>, index: Option<u32>) -> Result<f64> {
    const M: &str = "Vulkan.open";
    let choice = match (device, index) {
        (Some(name), _) => core::DeviceChoice::Name(name),
        (None, Some(i)) => core::DeviceChoice::Index(i as usize),
        (None, None) => core::DeviceChoice::First,
    };
    let v = core::Vulkan::open(&choice).map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Vk(v))
}

/// Handle types for one kind of resource.
#[napi(object)]
pub struct VulkanHandleSupport {
    /// Handle types it exports.
    #[napi(ts_type = "Array<'dma-buf' | 'opaque-fd'>")]
    pub export: Vec<String>,
    /// Handle types it imports.
    #[napi(ts_type = "Array<'dma-buf' | 'opaque-fd'>")]
    pub import: Vec<String>,
}

/// `SYNC_FD` support of semaphores or fences.
#[napi(object)]
pub struct VulkanSyncFdSupport {
    /// Export to a `SyncFile`.
    pub export: bool,
    /// Import from a `SyncFile`.
    pub import: bool,
}

/// What `Vulkan.capabilities()` returns.
#[napi(object)]
pub struct VulkanCapabilities {
    /// The physical device's name.
    pub device_name: String,
    /// Its Vulkan version.
    pub api_version: String,
    /// Extensions enabled.
    pub enabled_extensions: Vec<String>,
    /// Extensions the device lacks.
    pub missing_extensions: Vec<String>,
    /// Buffers.
    pub buffer: VulkanHandleSupport,
    /// 2D images.
    pub image: VulkanHandleSupport,
    /// Semaphores.
    pub semaphore: VulkanSyncFdSupport,
    /// Fences.
    pub fence: VulkanSyncFdSupport,
}

fn names(v: &[HandleType]) -> Vec<String> {
    v.iter().map(|h| h.as_str().to_string()).collect()
}

/// Vulkan.capabilities.
#[napi(catch_unwind)]
pub fn vk_capabilities(env: &Env, h: f64) -> Result<VulkanCapabilities> {
    const M: &str = "Vulkan.capabilities";
    with_objs(env, M, &[(h, "Vulkan")], |o| {
        let c = get!(o[0], Vk).capabilities();
        Ok(VulkanCapabilities {
            device_name: c.device_name,
            api_version: c.api_version,
            enabled_extensions: c.enabled_extensions,
            missing_extensions: c.missing_extensions,
            buffer: VulkanHandleSupport { export: names(&c.buffer.export), import: names(&c.buffer.import) },
            image: VulkanHandleSupport { export: names(&c.image.export), import: names(&c.image.import) },
            semaphore: VulkanSyncFdSupport { export: c.semaphore.export, import: c.semaphore.import },
            fence: VulkanSyncFdSupport { export: c.fence.export, import: c.fence.import },
        })
    })
}

#[allow(clippy::cast_precision_loss)] // Reason: sizes below 2^53.
fn num(v: u64) -> f64 {
    v as f64
}

fn out_vk_buffer(env: &Env, method: &str, b: core::Buffer) -> Result<f64> {
    let (size, hv) = (b.size(), b.host_visible());
    let h = store(env, method, Obj::VkBuffer(b))?;
    set_out(0, num(size));
    set_out(1, if hv { 1.0 } else { 0.0 });
    Ok(h)
}

/// `vkAllocateMemory` of a buffer exportable as a dma-buf: Vulkan.createBuffer,
/// or the first half of Vulkan.exportBuffer (`for_export`, which names it in errors).
#[napi(catch_unwind)]
pub fn vk_create_buffer(env: &Env, h: f64, size: f64, for_export: bool, visible: f64) -> Result<f64> {
    let m = if for_export { "Vulkan.exportBuffer" } else { "Vulkan.createBuffer" };
    let size = uint(env, m, "size", size)?;
    let hv = host_visible(env, m, visible)?;
    let b = with_objs(env, m, &[(h, "Vulkan")], |o| {
        get!(o[0], Vk).create_buffer(size, HandleType::DmaBuf, hv).map_err(|e| os(env, m, &e))
    })?;
    out_vk_buffer(env, m, b)
}

/// `vkGetMemoryFdKHR(DMA_BUF)`: VulkanBuffer.exportDmaBuf.
#[napi(catch_unwind)]
pub fn vk_buffer_export(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "VulkanBuffer.exportDmaBuf";
    let d = with_objs(env, M, &[(h, "VulkanBuffer")], |o| {
        get!(o[0], VkBuffer).export_dma_buf().map_err(|e| os(env, M, &e))
    })?;
    out_buf(env, M, d)
}

/// A duplicate of the `DmaBuf` behind `bh`, for an import; the original
/// stays in the table until the import succeeds.
fn dup_buf(env: &Env, method: &str, bh: f64) -> Result<dmabuf::DmaBuf> {
    table::with_buf(bh, |b| b.buf.try_clone())
        .map_err(|m| miss(env, method, "DmaBuf", &m))?
        .map_err(|e| os(env, method, &e))
}

/// The import succeeded: the caller's `DmaBuf` is consumed (closed here,
/// its CPU accesses ended).
fn consume(bh: f64) {
    if let Some(Obj::Buf(mut b)) = table::remove(bh) {
        b.end_all();
    }
}

/// `vkAllocateMemory` with `VkImportMemoryFdInfoKHR`: Vulkan.importBuffer.
/// `size` -1 is the dma-buf's size.
#[napi(catch_unwind)]
pub fn vk_import_buffer(env: &Env, h: f64, bh: f64, size: f64, visible: f64) -> Result<f64> {
    const M: &str = "Vulkan.importBuffer";
    #[allow(clippy::float_cmp)] // Reason: -1 is exact.
    let size = if size == -1.0 { None } else { Some(uint(env, M, "size", size)?) };
    let hv = host_visible(env, M, visible)?;
    let d = dup_buf(env, M, bh)?;
    let b = with_objs(env, M, &[(h, "Vulkan")], |o| {
        get!(o[0], Vk).import_buffer(d, size, hv).map_err(|e| os(env, M, &e.error))
    })?;
    consume(bh);
    out_vk_buffer(env, M, b)
}

/// One modifier the device supports.
#[napi(object)]
pub struct VulkanModifier {
    /// The DRM format modifier (0n is LINEAR).
    pub modifier: BigInt,
    /// Memory planes.
    pub plane_count: u32,
    /// Largest width.
    pub max_width: u32,
    /// Largest height.
    pub max_height: u32,
    /// Exportable as a dma-buf.
    pub exportable: bool,
    /// Importable from a dma-buf.
    pub importable: bool,
}

/// `vkGetPhysicalDeviceImageFormatProperties2` per modifier: Vulkan.modifiers.
#[napi(catch_unwind)]
pub fn vk_modifiers(env: &Env, h: f64, fourcc: String) -> Result<Vec<VulkanModifier>> {
    const M: &str = "Vulkan.modifiers";
    let f = format(env, M, &fourcc)?;
    let usage = ImageDesc::new(1, 1, f).usage;
    let mods = with_objs(env, M, &[(h, "Vulkan")], |o| get!(o[0], Vk).modifiers(f, usage).map_err(|e| os(env, M, &e)))?;
    Ok(mods
        .into_iter()
        .map(|m| VulkanModifier {
            modifier: BigInt::from(m.modifier),
            plane_count: m.plane_count,
            max_width: m.max_width,
            max_height: m.max_height,
            exportable: m.external.contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE),
            importable: m.external.contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE),
        })
        .collect())
}

/// One plane of an image layout.
#[napi(object)]
pub struct VulkanPlane {
    /// Byte offset in the dma-buf.
    pub offset: f64,
    /// Bytes from one row to the next.
    pub pitch: f64,
}

/// An image's modifier and plane layout: VulkanImage.layout.
#[napi(object)]
pub struct VulkanImageLayout {
    /// The DRM format modifier.
    pub modifier: BigInt,
    /// Offset and pitch of each memory plane.
    pub planes: Vec<VulkanPlane>,
}

fn desc(env: &Env, method: &str, width: f64, height: f64, fourcc: &str) -> Result<ImageDesc> {
    let w = u32_arg(env, method, "width", width)?;
    let h = u32_arg(env, method, "height", height)?;
    Ok(ImageDesc::new(w, h, format(env, method, fourcc)?))
}

/// `vkCreateImage` with a modifier list and exportable memory: Vulkan.createImage.
#[napi(catch_unwind)]
pub fn vk_create_image(
    env: &Env,
    h: f64,
    width: f64,
    height: f64,
    fourcc: String,
    modifiers: Vec<BigInt>,
    visible: f64,
) -> Result<f64> {
    const M: &str = "Vulkan.createImage";
    let d = desc(env, M, width, height, &fourcc)?;
    let mods = modifiers.iter().map(|m| modifier(env, M, m)).collect::<Result<Vec<u64>>>()?;
    let hv = host_visible(env, M, visible)?;
    let img = with_objs(env, M, &[(h, "Vulkan")], |o| {
        get!(o[0], Vk).create_image(&d, &mods, hv).map_err(|e| os(env, M, &e))
    })?;
    store(env, M, Obj::VkImage(img))
}

/// `VkImageDrmFormatModifierExplicitCreateInfoEXT` import: Vulkan.importImage.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)] // Reason: the flat argument list of one binding call.
pub fn vk_import_image(
    env: &Env,
    h: f64,
    bh: f64,
    width: f64,
    height: f64,
    fourcc: String,
    modifier_: BigInt,
    offsets: Float64Array,
    pitches: Float64Array,
    visible: f64,
) -> Result<f64> {
    const M: &str = "Vulkan.importImage";
    let d = desc(env, M, width, height, &fourcc)?;
    let m = modifier(env, M, &modifier_)?;
    let mut planes = Vec::new();
    for (&o, &p) in offsets.iter().zip(pitches.iter()) {
        planes.push(PlaneLayout { offset: uint(env, M, "offset", o)?, pitch: uint(env, M, "pitch", p)? });
    }
    let hv = host_visible(env, M, visible)?;
    let buf = dup_buf(env, M, bh)?;
    let img = with_objs(env, M, &[(h, "Vulkan")], |o| {
        get!(o[0], Vk).import_image(buf, &d, m, &planes, hv).map_err(|e| os(env, M, &e.error))
    })?;
    consume(bh);
    store(env, M, Obj::VkImage(img))
}

/// VulkanImage.layout.
#[napi(catch_unwind)]
pub fn vk_image_layout(env: &Env, h: f64) -> Result<VulkanImageLayout> {
    const M: &str = "VulkanImage.layout";
    with_objs(env, M, &[(h, "VulkanImage")], |o| {
        let img = get!(o[0], VkImage);
        Ok(VulkanImageLayout {
            modifier: BigInt::from(img.modifier()),
            planes: img.planes().iter().map(|p| VulkanPlane { offset: num(p.offset), pitch: num(p.pitch) }).collect(),
        })
    })
}

/// `vkGetMemoryFdKHR(DMA_BUF)` of an image: VulkanImage.exportDmaBuf.
#[napi(catch_unwind)]
pub fn vk_image_export(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "VulkanImage.exportDmaBuf";
    let d =
        with_objs(env, M, &[(h, "VulkanImage")], |o| get!(o[0], VkImage).export_dma_buf().map_err(|e| os(env, M, &e)))?;
    out_buf(env, M, d)
}

/// `Frame::from_vulkan_image`, its planes' dma-bufs stored: VulkanImage.toFrame.
#[napi(catch_unwind)]
pub fn vk_image_to_frame(env: &Env, h: f64) -> Result<StoredFrame> {
    const M: &str = "VulkanImage.toFrame";
    let frame = with_objs(env, M, &[(h, "VulkanImage")], |o| {
        Frame::from_vulkan_image(get!(o[0], VkImage)).map_err(|e| os(env, M, &e))
    })?;
    crate::frame::store_frame(env, M, frame)
}

/// `Frame::to_vulkan_image` on duplicates of the planes' dma-bufs (the
/// caller's stay open; errors name the caller's fds): Vulkan.importFrame.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)] // Reason: the flat argument list of one binding call.
pub fn vk_import_frame(
    env: &Env,
    h: f64,
    width: u32,
    height: u32,
    fourcc: u32,
    modifier_: BigInt,
    handles: Float64Array,
    offsets: Vec<u32>,
    pitches: Vec<u32>,
    visible: f64,
) -> Result<f64> {
    const M: &str = "Vulkan.importFrame";
    let m = crate::frame::modifier(env, M, &modifier_)?;
    let hv = host_visible(env, M, visible)?;
    if offsets.len() != handles.len() || pitches.len() != handles.len() {
        return Err(value(env, M, "the plane arrays differ in length"));
    }
    // (duplicate's fd, caller's fd): an error names the caller's.
    let mut names = Vec::with_capacity(handles.len());
    let mut planes = Vec::with_capacity(handles.len());
    for (i, &bh) in handles.iter().enumerate() {
        let caller = table::with_buf(bh, |b| b.buf.as_raw_fd()).map_err(|e| miss(env, M, "DmaBuf", &e))?;
        let buf = dup_buf(env, M, bh)?;
        names.push((buf.as_raw_fd(), caller));
        planes.push(FramePlane::new(buf, offsets[i], pitches[i]));
    }
    let rename = |e: &dmabuf::Error| {
        let mut js = os_err_value(e, M);
        if let Some(&(dup, caller)) = e.fd().and_then(|d| names.iter().find(|(dup, _)| *dup == d)) {
            js.message = js.message.replace(&format!("(fd {dup})"), &format!("(fd {caller})"));
            js.fd = Some(caller);
        }
        raise(env, js)
    };
    let frame = Frame::new(width, height, Fourcc(fourcc), m, planes).map_err(|e| rename(&e.error))?;
    let img = with_objs(env, M, &[(h, "Vulkan")], |o| {
        frame
            .to_vulkan_image(get!(o[0], Vk), ImageDesc::new(1, 1, vk::Format::UNDEFINED).usage, hv)
            .map_err(|e| rename(&e))
    })?;
    store(env, M, Obj::VkImage(img))
}

/// `vkCmdFillBuffer`: Vulkan.fill.
#[napi(catch_unwind)]
pub fn vk_fill(env: &Env, h: f64, bh: f64, offset: f64, size: f64, word: f64) -> Result<()> {
    const M: &str = "Vulkan.fill";
    let (offset, size, word) =
        (uint(env, M, "offset", offset)?, uint(env, M, "size", size)?, u32_arg(env, M, "value", word)?);
    with_objs(env, M, &[(h, "Vulkan"), (bh, "VulkanBuffer")], |o| {
        get!(o[0], Vk).fill(get!(o[1], VkBuffer), offset, size, word).map_err(|e| os(env, M, &e))
    })
}

/// `vkCmdCopyBuffer`: Vulkan.copy.
#[napi(catch_unwind)]
pub fn vk_copy(env: &Env, h: f64, src: f64, src_offset: f64, dst: f64, dst_offset: f64, size: f64) -> Result<()> {
    const M: &str = "Vulkan.copy";
    let (so, dof, size) =
        (uint(env, M, "srcOffset", src_offset)?, uint(env, M, "dstOffset", dst_offset)?, uint(env, M, "size", size)?);
    with_objs(env, M, &[(h, "Vulkan"), (src, "VulkanBuffer"), (dst, "VulkanBuffer")], |o| {
        get!(o[0], Vk).copy(get!(o[1], VkBuffer), so, get!(o[2], VkBuffer), dof, size).map_err(|e| os(env, M, &e))
    })
}

/// `vkCmdCopyBufferToImage`: Vulkan.copyBufferToImage.
#[napi(catch_unwind)]
pub fn vk_copy_to_image(env: &Env, h: f64, src: f64, dst: f64) -> Result<()> {
    const M: &str = "Vulkan.copyBufferToImage";
    with_objs(env, M, &[(h, "Vulkan"), (src, "VulkanBuffer"), (dst, "VulkanImage")], |o| {
        get!(o[0], Vk).copy_buffer_to_image(get!(o[1], VkBuffer), get!(o[2], VkImage)).map_err(|e| os(env, M, &e))
    })
}

/// `vkCreateSemaphore` (exportable as `SYNC_FD`): Vulkan.createSemaphore.
#[napi(catch_unwind)]
pub fn vk_create_semaphore(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "Vulkan.createSemaphore";
    let s = with_objs(env, M, &[(h, "Vulkan")], |o| get!(o[0], Vk).create_semaphore().map_err(|e| os(env, M, &e)))?;
    store(env, M, Obj::VkSemaphore(s))
}

/// `vkCreateFence` (exportable as `SYNC_FD`): Vulkan.createFence.
#[napi(catch_unwind)]
pub fn vk_create_fence(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "Vulkan.createFence";
    let f = with_objs(env, M, &[(h, "Vulkan")], |o| get!(o[0], Vk).create_fence().map_err(|e| os(env, M, &e)))?;
    store(env, M, Obj::VkFence(f))
}

/// `vkQueueSubmit` of an empty batch: Vulkan.submit.
#[napi(catch_unwind)]
pub fn vk_submit(env: &Env, h: f64, wait: Float64Array, signal: Float64Array, fence: f64) -> Result<()> {
    const M: &str = "Vulkan.submit";
    let mut hs = vec![(h, "Vulkan")];
    hs.extend(wait.iter().map(|&w| (w, "VulkanSemaphore")));
    hs.extend(signal.iter().map(|&s| (s, "VulkanSemaphore")));
    #[allow(clippy::float_cmp)] // Reason: -1 is exact.
    let with_fence = fence != -1.0;
    if with_fence {
        hs.push((fence, "VulkanFence"));
    }
    let (nw, ns) = (wait.len(), signal.len());
    with_objs(env, M, &hs, |o| {
        let w: Vec<&core::Semaphore> = o[1..=nw].iter().map(|x| get!(x, VkSemaphore)).collect();
        let s: Vec<&core::Semaphore> = o[1 + nw..=nw + ns].iter().map(|x| get!(x, VkSemaphore)).collect();
        let f = with_fence.then(|| get!(o[1 + nw + ns], VkFence));
        get!(o[0], Vk).submit_sync(&w, &s, f).map_err(|e| os(env, M, &e))
    })
}

fn out_opt_sync(env: &Env, method: &str, sf: Option<dmabuf::SyncFile>) -> Result<f64> {
    match sf {
        Some(sf) => out_sync(env, method, sf),
        None => Ok(-1.0),
    }
}

/// `vkGetSemaphoreFdKHR(SYNC_FD)`: VulkanSemaphore.exportSyncFile (-1: already signalled).
#[napi(catch_unwind)]
pub fn vk_semaphore_export(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "VulkanSemaphore.exportSyncFile";
    let sf = with_objs(env, M, &[(h, "VulkanSemaphore")], |o| {
        get!(o[0], VkSemaphore).export_sync_file().map_err(|e| os(env, M, &e))
    })?;
    out_opt_sync(env, M, sf)
}

/// `vkGetFenceFdKHR(SYNC_FD)`: VulkanFence.exportSyncFile (-1: already signalled).
#[napi(catch_unwind)]
pub fn vk_fence_export(env: &Env, h: f64) -> Result<f64> {
    const M: &str = "VulkanFence.exportSyncFile";
    let sf = with_objs(env, M, &[(h, "VulkanFence")], |o| {
        get!(o[0], VkFence).export_sync_file().map_err(|e| os(env, M, &e))
    })?;
    out_opt_sync(env, M, sf)
}

/// `vkImportSemaphoreFdKHR(SYNC_FD, TEMPORARY)`: VulkanSemaphore.importSyncFile (`sf` -1: null).
#[napi(catch_unwind)]
pub fn vk_semaphore_import(env: &Env, h: f64, sf: f64) -> Result<()> {
    const M: &str = "VulkanSemaphore.importSyncFile";
    #[allow(clippy::float_cmp)] // Reason: -1 is exact.
    if sf == -1.0 {
        return with_objs(env, M, &[(h, "VulkanSemaphore")], |o| {
            get!(o[0], VkSemaphore).import_sync_file(None).map_err(|e| os(env, M, &e))
        });
    }
    with_objs(env, M, &[(h, "VulkanSemaphore"), (sf, "SyncFile")], |o| {
        get!(o[0], VkSemaphore).import_sync_file(Some(get!(o[1], Sync))).map_err(|e| os(env, M, &e))
    })
}

/// `vkImportFenceFdKHR(SYNC_FD, TEMPORARY)`: VulkanFence.importSyncFile (`sf` -1: null).
#[napi(catch_unwind)]
pub fn vk_fence_import(env: &Env, h: f64, sf: f64) -> Result<()> {
    const M: &str = "VulkanFence.importSyncFile";
    #[allow(clippy::float_cmp)] // Reason: -1 is exact.
    if sf == -1.0 {
        return with_objs(env, M, &[(h, "VulkanFence")], |o| {
            get!(o[0], VkFence).import_sync_file(None).map_err(|e| os(env, M, &e))
        });
    }
    with_objs(env, M, &[(h, "VulkanFence"), (sf, "SyncFile")], |o| {
        get!(o[0], VkFence).import_sync_file(Some(get!(o[1], Sync))).map_err(|e| os(env, M, &e))
    })
}

/// vkWaitForFences (`timeout_ms` -1: forever), blocking the thread:
/// VulkanFence.waitSync, and with a zero timeout (a status check) each step
/// of VulkanFence.wait (`blocking` false: the errors name that method).
#[napi(catch_unwind)]
pub fn vk_fence_wait(env: &Env, h: f64, timeout_ms: f64, blocking: bool) -> Result<bool> {
    let method = if blocking { "VulkanFence.waitSync" } else { "VulkanFence.wait" };
    #[allow(clippy::float_cmp)] // Reason: -1 is exact.
    let t =
        if timeout_ms == -1.0 { None } else { Some(Duration::from_millis(uint(env, method, "timeout", timeout_ms)?)) };
    with_objs(env, method, &[(h, "VulkanFence")], |o| get!(o[0], VkFence).wait(t).map_err(|e| os(env, method, &e)))
}

/// `vkResetFences`: VulkanFence.reset.
#[napi(catch_unwind)]
pub fn vk_fence_reset(env: &Env, h: f64) -> Result<()> {
    const M: &str = "VulkanFence.reset";
    with_objs(env, M, &[(h, "VulkanFence")], |o| get!(o[0], VkFence).reset().map_err(|e| os(env, M, &e)))
}
