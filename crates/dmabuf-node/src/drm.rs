//! DRM devices, GEM handles, PRIME and vgem fences (`dmabuf::drm`), for the
//! `DrmDevice` and `GemHandle` classes. An export returns the new
//! `DmaBuf`'s handle with its fd and size in output slots 0 and 1
//! (`dma_buf::out_buf`); a GEM handle's kernel number goes to slot 0.

use dmabuf::drm::NodeKind;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::dma_buf::{on_buf, out_buf};
use crate::errors::{access, miss, os, store, u32_arg};
use crate::fast::set_out;
use crate::table::{self, Obj};

/// `open` of a DRM node: DrmDevice.open.
#[napi(catch_unwind)]
pub fn drm_open(env: &Env, path: String) -> Result<f64> {
    const M: &str = "DrmDevice.open";
    let d = dmabuf::drm::DrmDevice::open(&path).map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Drm(d))
}

/// The first node whose driver is `driver`: DrmDevice.openDriver.
#[napi(catch_unwind)]
pub fn drm_open_driver(env: &Env, driver: String, primary: bool) -> Result<f64> {
    const M: &str = "DrmDevice.openDriver";
    let kind = if primary { NodeKind::Primary } else { NodeKind::Render };
    let d = dmabuf::drm::DrmDevice::open_driver(&driver, kind).map_err(|e| os(env, M, &e))?;
    store(env, M, Obj::Drm(d))
}

/// The DRM nodes in /dev/dri: DrmDevice.list.
#[napi(catch_unwind)]
pub fn drm_list(env: &Env) -> Result<Vec<String>> {
    let nodes = dmabuf::drm::list_nodes().map_err(|e| os(env, "DrmDevice.list", &e))?;
    Ok(nodes.into_iter().map(|p| p.to_string_lossy().into_owned()).collect())
}

fn on_drm<T>(env: &Env, h: f64, m: &str, f: impl FnOnce(&dmabuf::drm::DrmDevice) -> dmabuf::Result<T>) -> Result<T> {
    table::with_drm(h, |d| f(d)).map_err(|x| miss(env, m, "DrmDevice", &x))?.map_err(|e| os(env, m, &e))
}

/// `DRM_IOCTL_VERSION`: DrmDevice.driverName.
#[napi(catch_unwind)]
pub fn drm_driver_name(env: &Env, h: f64) -> Result<String> {
    on_drm(env, h, "DrmDevice.driverName", dmabuf::drm::DrmDevice::driver_name)
}

/// Stores a GEM handle; output slot 0 holds its kernel number.
fn out_gem(env: &Env, m: &str, g: dmabuf::drm::GemHandle) -> Result<f64> {
    let raw = g.raw();
    let h = store(env, m, Obj::Gem(g))?;
    set_out(0, f64::from(raw));
    Ok(h)
}

/// `DRM_IOCTL_MODE_CREATE_DUMB`: DrmDevice.createDumb. Output slots: 0 the
/// GEM handle's number, 1 pitch, 2 size.
#[napi(catch_unwind)]
pub fn drm_create_dumb(env: &Env, h: f64, width: f64, height: f64, bpp: f64) -> Result<f64> {
    const M: &str = "DrmDevice.createDumb";
    let (w, ht, b) =
        (u32_arg(env, M, "width", width)?, u32_arg(env, M, "height", height)?, u32_arg(env, M, "bpp", bpp)?);
    let dumb = on_drm(env, h, M, |d| d.create_dumb(w, ht, b))?;
    let (pitch, size) = (dumb.pitch, dumb.size);
    let gh = out_gem(env, M, dumb.handle)?;
    set_out(1, f64::from(pitch));
    #[allow(clippy::cast_precision_loss)] // Reason: a dumb buffer's size is far below 2^53.
    set_out(2, size as f64);
    Ok(gh)
}

/// Runs `f` with a DRM device and one of its GEM handles.
#[allow(clippy::many_single_char_names)] // Reason: the same short names as every function here.
fn on_drm_gem<T>(
    env: &Env,
    h: f64,
    gh: f64,
    m: &str,
    f: impl FnOnce(&dmabuf::drm::DrmDevice, &dmabuf::drm::GemHandle) -> dmabuf::Result<T>,
) -> Result<T> {
    table::with_gem(gh, |_| ()).map_err(|x| miss(env, m, "GemHandle", &x))?;
    table::with_drm(h, |_| ()).map_err(|x| miss(env, m, "DrmDevice", &x))?;
    table::with_all(&[h, gh], |objs| match objs {
        [Obj::Drm(d), Obj::Gem(g)] => f(d, g).map_err(|e| os(env, m, &e)),
        _ => Err(miss(env, m, "DrmDevice", &table::Miss::Closed)),
    })
    .map_err(|(_, x)| miss(env, m, "DrmDevice", &x))?
}

/// `DRM_IOCTL_PRIME_HANDLE_TO_FD`: DrmDevice.export.
#[napi(catch_unwind)]
pub fn drm_export(env: &Env, h: f64, gh: f64, bits: f64) -> Result<f64> {
    const M: &str = "DrmDevice.export";
    let acc = access(env, M, bits)?;
    let buf = on_drm_gem(env, h, gh, M, |d, g| d.export(g, acc))?;
    out_buf(env, M, buf)
}

/// `DRM_IOCTL_PRIME_FD_TO_HANDLE`: DrmDevice.import.
#[napi(catch_unwind)]
pub fn drm_import(env: &Env, h: f64, bh: f64) -> Result<f64> {
    const M: &str = "DrmDevice.import";
    on_buf(env, bh, M, |_| Ok(()))?;
    on_drm(env, h, M, |_| Ok(()))?;
    let g = table::with_all(&[h, bh], |objs| match objs {
        [Obj::Drm(d), Obj::Buf(b)] => d.import(&b.buf).map_err(|e| os(env, M, &e)),
        _ => Err(miss(env, M, "DmaBuf", &table::Miss::Closed)),
    })
    .map_err(|(_, x)| miss(env, M, "DmaBuf", &x))??;
    out_gem(env, M, g)
}

/// How many `GemHandles` are open for a kernel handle number.
#[napi(catch_unwind)]
pub fn drm_handle_users(env: &Env, h: f64, handle: f64) -> Result<u32> {
    const M: &str = "DrmDevice.handleUsers";
    let n = u32_arg(env, M, "handle", handle)?;
    on_drm(env, h, M, |d| Ok(u32::try_from(d.handle_users(n)).unwrap_or(u32::MAX)))
}

/// `DRM_IOCTL_VGEM_FENCE_ATTACH`: DrmDevice.vgemFenceAttach.
#[napi(catch_unwind)]
pub fn drm_vgem_fence_attach(env: &Env, h: f64, gh: f64, bits: f64) -> Result<u32> {
    const M: &str = "DrmDevice.vgemFenceAttach";
    let acc = access(env, M, bits)?;
    on_drm_gem(env, h, gh, M, |d, g| d.vgem_fence_attach(g, acc))
}

/// `DRM_IOCTL_VGEM_FENCE_SIGNAL`: DrmDevice.vgemFenceSignal.
#[napi(catch_unwind)]
pub fn drm_vgem_fence_signal(env: &Env, h: f64, fence: f64) -> Result<()> {
    const M: &str = "DrmDevice.vgemFenceSignal";
    let fence = u32_arg(env, M, "fence", fence)?;
    on_drm(env, h, M, |d| d.vgem_fence_signal(fence))
}
