//! The per-thread table of kernel objects that JavaScript refers to by
//! handle.
//!
//! A handle is `generation * 2^22 + index`: an exact integer below 2^53, so
//! it travels as a JavaScript number (and through the `Float64Array` of the
//! fast calls) unchanged. Freeing a slot bumps its generation, so a handle
//! kept after `close()` (or made up) never names the slot's next object.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use dmabuf::Access;

const INDEX_BITS: u32 = 22;
const INDEX_LIMIT: u32 = 1 << INDEX_BITS;
/// Generations wrap below 2^31, keeping every handle below 2^53.
const GENERATION_LIMIT: u32 = 1 << 31;

/// A dma-buf and what the binding tracks with it.
#[allow(clippy::struct_field_names)] // Reason: `buf.buf` is the dma-buf of a table entry `buf`.
pub(crate) struct Buf {
    pub buf: dmabuf::DmaBuf,
    /// CPU accesses begun and not yet ended, so `close()` can end them.
    pub active: Vec<Access>,
    /// A whole-buffer mapping for `read()`/`write()`, made on first use.
    pub io_map: Option<dmabuf::Mapping>,
}

/// A mapping's memory, shared with its `ArrayBuffer`'s finalizer: the
/// dma-buf mapping until `unmap()`, then the placeholder that keeps the
/// address range reserved until the `ArrayBuffer` is collected.
pub(crate) enum MapMemory {
    Mapped(dmabuf::Mapping),
    Reserved(#[allow(dead_code)] /* Reason: held only to be dropped */ dmabuf::Placeholder),
    Gone,
}

/// Everything a handle can name.
pub(crate) enum Obj {
    Buf(Buf),
    Sync(dmabuf::SyncFile),
    Map(Arc<Mutex<MapMemory>>),
    Heap(dmabuf::heap::Heap),
    Udmabuf(dmabuf::udmabuf::Udmabuf),
    Drm(dmabuf::drm::DrmDevice),
    Gem(dmabuf::drm::GemHandle),
}

impl Obj {
    /// The JavaScript class name, for messages.
    pub fn class(&self) -> &'static str {
        match self {
            Obj::Buf(_) => "DmaBuf",
            Obj::Sync(_) => "SyncFile",
            Obj::Map(_) => "Mapping",
            Obj::Heap(_) => "Heap",
            Obj::Udmabuf(_) => "Udmabuf",
            Obj::Drm(_) => "DrmDevice",
            Obj::Gem(_) => "GemHandle",
        }
    }
}

struct Slot {
    generation: u32,
    obj: Option<Obj>,
}

#[derive(Default)]
struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
}

/// A handle decoded into its parts; `None` for any number that no handle
/// can be (negative, fractional, too large, NaN).
fn decode(handle: f64) -> Option<(usize, u32)> {
    if !(0.0..9_007_199_254_740_992.0).contains(&handle) || handle.fract() != 0.0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    // Reason: checked above to be a non-negative integer below 2^53.
    let h = handle as u64;
    let index = usize::try_from(h % u64::from(INDEX_LIMIT)).ok()?;
    let generation = u32::try_from(h >> INDEX_BITS).ok()?;
    Some((index, generation))
}

fn encode(index: u32, generation: u32) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    // Reason: generation < 2^31 and index < 2^22, so the value is below 2^53: exact.
    let h = (u64::from(generation) << INDEX_BITS | u64::from(index)) as f64;
    h
}

/// Why a handle found nothing.
pub(crate) enum Miss {
    /// Closed, stale or forged: no live object of any kind.
    Closed,
    /// A live object of another class (a forged or mixed-up handle).
    WrongClass(&'static str),
    /// The table is full (4 million live objects on one thread).
    Full,
}

/// Stores `obj` and returns its handle.
pub(crate) fn insert(obj: Obj) -> Result<f64, Miss> {
    TABLE.with(|t| {
        let Ok(mut t) = t.try_borrow_mut() else { return Err(Miss::Full) };
        if let Some(index) = t.free.pop() {
            let i = index as usize;
            if let Some(slot) = t.slots.get_mut(i) {
                slot.obj = Some(obj);
                return Ok(encode(index, slot.generation));
            }
            return Err(Miss::Full);
        }
        let index = u32::try_from(t.slots.len()).map_err(|_| Miss::Full)?;
        if index >= INDEX_LIMIT {
            return Err(Miss::Full);
        }
        t.slots.push(Slot { generation: 0, obj: Some(obj) });
        Ok(encode(index, 0))
    })
}

/// Runs `f` on the live object behind `handle`. `f` must not use the table
/// (it is borrowed meanwhile): take what it needs out, then insert after.
pub(crate) fn with<T>(handle: f64, f: impl FnOnce(&mut Obj) -> T) -> Result<T, Miss> {
    TABLE.with(|t| {
        let Ok(mut t) = t.try_borrow_mut() else { return Err(Miss::Closed) };
        let (index, generation) = decode(handle).ok_or(Miss::Closed)?;
        match t.slots.get_mut(index) {
            Some(Slot { generation: g, obj: Some(obj) }) if *g == generation => Ok(f(obj)),
            _ => Err(Miss::Closed),
        }
    })
}

/// Runs `f` on several live objects at once (shared borrows: one object may
/// be named twice). Fails with the position of the first handle that names
/// nothing.
pub(crate) fn with_all<T>(handles: &[f64], f: impl FnOnce(&[&Obj]) -> T) -> Result<T, (usize, Miss)> {
    TABLE.with(|t| {
        let Ok(t) = t.try_borrow() else { return Err((0, Miss::Closed)) };
        let mut objs = Vec::new();
        objs.try_reserve_exact(handles.len()).map_err(|_| (0, Miss::Full))?;
        for (i, &h) in handles.iter().enumerate() {
            let (index, generation) = decode(h).ok_or((i, Miss::Closed))?;
            match t.slots.get(index) {
                Some(Slot { generation: g, obj: Some(obj) }) if *g == generation => objs.push(obj),
                _ => return Err((i, Miss::Closed)),
            }
        }
        Ok(f(&objs))
    })
}

/// Removes and returns the object behind `handle`; its slot's generation
/// moves on, so the handle is dead from now on.
pub(crate) fn remove(handle: f64) -> Option<Obj> {
    // `try_with`: finalizers can run while the thread's locals are torn down.
    TABLE
        .try_with(|t| {
            let mut t = t.try_borrow_mut().ok()?;
            let (index, generation) = decode(handle)?;
            let slot = t.slots.get_mut(index).filter(|s| s.generation == generation)?;
            let obj = slot.obj.take()?;
            slot.generation = (slot.generation + 1) % GENERATION_LIMIT;
            let index = u32::try_from(index).ok()?;
            t.free.push(index);
            Some(obj)
        })
        .ok()
        .flatten()
}

/// Helper for the typed accessors below.
macro_rules! accessor {
    ($name:ident, $variant:ident, $ty:ty, $class:literal) => {
        /// Runs `f` on the object if `handle` names a live one of this class.
        pub(crate) fn $name<T>(handle: f64, f: impl FnOnce(&mut $ty) -> T) -> Result<T, Miss> {
            with(handle, |o| match o {
                Obj::$variant(x) => Ok(f(x)),
                other => Err(Miss::WrongClass(other.class())),
            })?
        }
    };
}

accessor!(with_buf, Buf, Buf, "DmaBuf");
accessor!(with_sync, Sync, dmabuf::SyncFile, "SyncFile");
accessor!(with_heap, Heap, dmabuf::heap::Heap, "Heap");
accessor!(with_udmabuf, Udmabuf, dmabuf::udmabuf::Udmabuf, "Udmabuf");
accessor!(with_drm, Drm, dmabuf::drm::DrmDevice, "DrmDevice");
accessor!(with_gem, Gem, dmabuf::drm::GemHandle, "GemHandle");
accessor!(with_map, Map, Arc<Mutex<MapMemory>>, "Mapping");
