//! The per-thread table of kernel objects that JavaScript refers to by
//! handle.
//!
//! A handle is `generation * 2^22 + index`: an exact integer below 2^53, so
//! it travels as a JavaScript number (and through the `Float64Array` of the
//! fast calls) unchanged. Freeing a slot bumps its generation, so a handle
//! kept after `close()` (or made up) never names the slot's next object.

use std::cell::{Cell, RefCell};
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
    /// CPU accesses begun and not yet ended, counted per access ('r', 'w',
    /// 'rw'), so that `close()` can end them.
    pub active: [u32; 3],
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

/// An fd that came from another process (a `PassedFd`): dropping it closes
/// it with `dmabuf::fdpass::close_foreign`, so that `close()` never waits
/// on a file whose server (a FUSE daemon) the sender controls.
pub(crate) struct Foreign(Option<std::os::fd::OwnedFd>);

impl Foreign {
    pub fn new(fd: std::os::fd::OwnedFd) -> Foreign {
        Foreign(Some(fd))
    }

    /// The fd, borrowed (None only while it is being dropped).
    pub fn fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.0.as_ref().map(std::os::fd::AsFd::as_fd)
    }
}

impl std::os::fd::AsRawFd for Foreign {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.as_ref().map_or(-1, std::os::fd::AsRawFd::as_raw_fd)
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        if let Some(fd) = self.0.take() {
            dmabuf::fdpass::close_foreign(fd);
        }
    }
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
    Vk(dmabuf::vulkan::Vulkan),
    VkBuffer(dmabuf::vulkan::Buffer),
    VkImage(dmabuf::vulkan::Image),
    VkSemaphore(dmabuf::vulkan::Semaphore),
    VkFence(dmabuf::vulkan::Fence),
    Chan(Arc<dmabuf::fdpass::Channel>),
    Listener(Arc<dmabuf::fdpass::Listener>),
    Fd(Foreign),
    DvbDemux(dmabuf::dvb::Demux),
    DvbFrontend(dmabuf::dvb::Frontend),
    V4l2(dmabuf::v4l2::V4l2Device),
    V4l2Queue(dmabuf::v4l2::DmaBufQueue),
    M2m(dmabuf::v4l2::M2mDevice),
    /// Shared with the event waits pending on it (`kms::CardIo`).
    Card(std::rc::Rc<dmabuf::kms::Card>),
    Framebuffer(#[allow(dead_code)] /* Reason: held only to be dropped (RMFB) */ dmabuf::kms::Framebuffer),
    KmsBlob(#[allow(dead_code)] /* Reason: held only to be dropped */ dmabuf::kms::PropertyBlob),
}

impl Buf {
    /// A freshly wrapped dma-buf with nothing open.
    pub fn new(buf: dmabuf::DmaBuf) -> Buf {
        Buf { buf, active: [0; 3], io_map: None }
    }

    /// The counter of open accesses of this kind.
    pub fn open_count(&mut self, access: Access) -> &mut u32 {
        match access {
            Access::Read => &mut self.active[0],
            Access::Write => &mut self.active[1],
            Access::ReadWrite => &mut self.active[2],
        }
    }

    /// Ends every CPU access still open (`close()`).
    pub fn end_all(&mut self) {
        for (i, access) in [Access::Read, Access::Write, Access::ReadWrite].into_iter().enumerate() {
            for _ in 0..self.active[i] {
                let _ = self.buf.sync_end(access);
            }
            self.active[i] = 0;
        }
    }
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
            Obj::Vk(_) => "Vulkan",
            Obj::VkBuffer(_) => "VulkanBuffer",
            Obj::VkImage(_) => "VulkanImage",
            Obj::VkSemaphore(_) => "VulkanSemaphore",
            Obj::VkFence(_) => "VulkanFence",
            Obj::Chan(_) => "Channel",
            Obj::Listener(_) => "Listener",
            Obj::Fd(_) => "PassedFd",
            Obj::DvbDemux(_) => "DvbDemux",
            Obj::DvbFrontend(_) => "DvbFrontend",
            Obj::V4l2(_) => "V4l2Device",
            Obj::V4l2Queue(_) => "V4l2DmaBufQueue",
            Obj::M2m(_) => "M2mDevice",
            Obj::Card(_) => "Card",
            Obj::Framebuffer(_) => "Framebuffer",
            Obj::KmsBlob(_) => "KmsPropertyBlob",
        }
    }
}

struct Slot {
    generation: u32,
    obj: Option<Obj>,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

/// What a JavaScript thread has: its table and its argument array (see
/// `fast`). One thread-local for both, so that a fast call looks up
/// thread-local storage once (in a shared library every lookup is a call to
/// `__tls_get_addr`).
pub(crate) struct Thread {
    /// This thread's argument array: `SLOTS` doubles in an `ArrayBuffer` that the
    /// environment keeps alive; null until the addon is loaded here.
    pub args: Cell<*mut f64>,
    table: RefCell<Table>,
}

thread_local! {
    static THREAD: Thread = const {
        Thread { args: Cell::new(std::ptr::null_mut()), table: RefCell::new(Table { slots: Vec::new(), free: Vec::new() }) }
    };
}

/// Runs `f` with this thread's state.
pub(crate) fn thread<R>(f: impl FnOnce(&Thread) -> R) -> R {
    THREAD.with(f)
}

impl Thread {
    /// Stores `obj` and returns its handle.
    pub fn insert(&self, obj: Obj) -> Result<f64, Miss> {
        let Ok(mut t) = self.table.try_borrow_mut() else { return Err(Miss::Full) };
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
    }

    /// Removes and returns the object behind `handle`; its slot's
    /// generation moves on, so the handle is dead from now on.
    pub fn remove(&self, handle: f64) -> Option<Obj> {
        let mut t = self.table.try_borrow_mut().ok()?;
        let (index, generation) = decode(handle)?;
        let slot = t.slots.get_mut(index).filter(|s| s.generation == generation)?;
        let obj = slot.obj.take()?;
        slot.generation = (slot.generation + 1) % GENERATION_LIMIT;
        let index = u32::try_from(index).ok()?;
        t.free.push(index);
        Some(obj)
    }

    /// Runs `f` on the live `DmaBuf` behind `handle`, in this thread's table.
    pub fn with_buf<T>(&self, handle: f64, f: impl FnOnce(&mut Buf) -> T) -> Result<T, Miss> {
        let Ok(mut t) = self.table.try_borrow_mut() else { return Err(Miss::Closed) };
        let (index, generation) = decode(handle).ok_or(Miss::Closed)?;
        match t.slots.get_mut(index) {
            Some(Slot { generation: g, obj: Some(Obj::Buf(b)) }) if *g == generation => Ok(f(b)),
            Some(Slot { generation: g, obj: Some(other) }) if *g == generation => Err(Miss::WrongClass(other.class())),
            _ => Err(Miss::Closed),
        }
    }
}

/// A handle decoded into its parts; `None` for any number that no handle
/// can be (negative, fractional, too large, NaN).
fn decode(handle: f64) -> Option<(usize, u32)> {
    if !(0.0..9_007_199_254_740_992.0).contains(&handle) {
        return None;
    }
    // Reason: non-negative and below 2^53, so the conversion is exact for an
    // integer, and converting back tells a fraction apart (cheaper than
    // `fract()`, a libm call on baseline x86-64).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let h = handle as u64;
    #[allow(clippy::cast_precision_loss, clippy::float_cmp)]
    if h as f64 != handle {
        return None;
    }
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

/// Stores `obj` in the calling thread's table and returns its handle.
pub(crate) fn insert(obj: Obj) -> Result<f64, Miss> {
    THREAD.with(|t| t.insert(obj))
}

/// Runs `f` on the live object behind `handle`. `f` must not use the table
/// (it is borrowed meanwhile): take what it needs out, then insert after.
pub(crate) fn with<T>(handle: f64, f: impl FnOnce(&mut Obj) -> T) -> Result<T, Miss> {
    THREAD.with(|t| {
        let t = &t.table;
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
    THREAD.with(|t| {
        let t = &t.table;
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

/// Removes and returns the object behind `handle` from the calling thread's
/// table (see [`Thread::remove`]).
pub(crate) fn remove(handle: f64) -> Option<Obj> {
    // `try_with`: finalizers can run while the thread's locals are torn down.
    THREAD.try_with(|t| t.remove(handle)).ok().flatten()
}

/// Helper for the typed accessors below. A miss carries no class name of
/// its own: the caller names the class it expected in its error
/// (`errors::miss`), and a wrong object names itself (`Obj::class`).
macro_rules! accessor {
    ($name:ident, $variant:ident, $ty:ty) => {
        /// Runs `f` on the object if `handle` names a live one of this class.
        pub(crate) fn $name<T>(handle: f64, f: impl FnOnce(&mut $ty) -> T) -> Result<T, Miss> {
            with(handle, |o| match o {
                Obj::$variant(x) => Ok(f(x)),
                other => Err(Miss::WrongClass(other.class())),
            })?
        }
    };
}

accessor!(with_buf, Buf, Buf);
accessor!(with_sync, Sync, dmabuf::SyncFile);
accessor!(with_heap, Heap, dmabuf::heap::Heap);
accessor!(with_udmabuf, Udmabuf, dmabuf::udmabuf::Udmabuf);
accessor!(with_drm, Drm, dmabuf::drm::DrmDevice);
accessor!(with_gem, Gem, dmabuf::drm::GemHandle);
accessor!(with_map, Map, Arc<Mutex<MapMemory>>);
accessor!(with_dvb_demux, DvbDemux, dmabuf::dvb::Demux);
accessor!(with_dvb_frontend, DvbFrontend, dmabuf::dvb::Frontend);
accessor!(with_v4l2, V4l2, dmabuf::v4l2::V4l2Device);
accessor!(with_v4l2_queue, V4l2Queue, dmabuf::v4l2::DmaBufQueue);
accessor!(with_m2m, M2m, dmabuf::v4l2::M2mDevice);
accessor!(with_card, Card, std::rc::Rc<dmabuf::kms::Card>);
