"use strict";
// Vulkan buffers, images, semaphores and fences (crates/dmabuf/src/vulkan.rs),
// made by a Vulkan device (./vulkan.ts).
Object.defineProperty(exports, "__esModule", { value: true });
exports.VulkanFence = exports.VulkanSemaphore = exports.VulkanImage = exports.VulkanBuffer = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const waits_1 = require("../internal/waits");
const dma_buf_1 = require("./dma-buf");
const frame_1 = require("./frame");
const sync_file_1 = require("./sync-file");
const A = native_1.args;
/** The longest step between two status checks of `VulkanFence.wait`, in ms. */
const FENCE_POLL_MAX_MS = 16;
/** A Vulkan buffer and its memory (allocated exportable, or imported from a dma-buf, which it then owns). */
class VulkanBuffer {
    #h;
    #size;
    #hostVisible;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('VulkanBuffer');
        this.#h = h;
        this.#size = A[8 /* Out.VK_SIZE */];
        this.#hostVisible = A[9 /* Out.VK_HOST_VISIBLE */] === 1;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(v, method, name) {
        if (!VulkanBuffer.#is(v))
            throw (0, errors_1.invalidType)(method, name, 'an instance of VulkanBuffer', v);
        return (0, lifetime_1.live)(v.#h, method, 'VulkanBuffer');
    }
    /** Size in bytes. */
    get size() {
        if (!VulkanBuffer.#is(this))
            throw (0, errors_1.invalidThis)('VulkanBuffer.size', 'VulkanBuffer');
        return this.#size;
    }
    /** Whether its memory is host-visible. */
    get hostVisible() {
        if (!VulkanBuffer.#is(this))
            throw (0, errors_1.invalidThis)('VulkanBuffer.hostVisible', 'VulkanBuffer');
        return this.#hostVisible;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!VulkanBuffer.#is(this))
            throw (0, errors_1.invalidThis)('VulkanBuffer.closed', 'VulkanBuffer');
        return this.#h < 0;
    }
    /** vkGetMemoryFdKHR(DMA_BUF): a new DmaBuf for this memory, yours to close. Only for buffers created with export 'dma-buf'. */
    exportDmaBuf() {
        const M = 'VulkanBuffer.exportDmaBuf';
        if (!VulkanBuffer.#is(this))
            throw (0, errors_1.invalidThis)(M, 'VulkanBuffer');
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.vkBufferExport((0, lifetime_1.live)(this.#h, M, 'VulkanBuffer')));
    }
    /** vkDestroyBuffer + vkFreeMemory (dma-bufs exported from it stay valid). */
    close() {
        if (!VulkanBuffer.#is(this))
            throw (0, errors_1.invalidThis)('VulkanBuffer.close', 'VulkanBuffer');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.VulkanBuffer = VulkanBuffer;
/** A 2D Vulkan image with a DRM format modifier, and its memory. */
class VulkanImage {
    #h;
    #width;
    #height;
    #format;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, width, height, format) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('VulkanImage');
        this.#h = h;
        this.#width = width;
        this.#height = height;
        this.#format = format;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(v, method, name) {
        if (!VulkanImage.#is(v))
            throw (0, errors_1.invalidType)(method, name, 'an instance of VulkanImage', v);
        return (0, lifetime_1.live)(v.#h, method, 'VulkanImage');
    }
    /** Width in pixels. */
    get width() {
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)('VulkanImage.width', 'VulkanImage');
        return this.#width;
    }
    /** Height in pixels. */
    get height() {
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)('VulkanImage.height', 'VulkanImage');
        return this.#height;
    }
    /** The DRM fourcc. */
    get format() {
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)('VulkanImage.format', 'VulkanImage');
        return this.#format;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)('VulkanImage.closed', 'VulkanImage');
        return this.#h < 0;
    }
    /** The modifier and the offset and pitch of each memory plane (as the driver laid an exported image out). */
    layout() {
        const M = 'VulkanImage.layout';
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)(M, 'VulkanImage');
        return native_1.native.vkImageLayout((0, lifetime_1.live)(this.#h, M, 'VulkanImage'));
    }
    /** vkGetMemoryFdKHR(DMA_BUF) of an image made by createImage: a new DmaBuf, yours, laid out as `layout()` says. */
    exportDmaBuf() {
        const M = 'VulkanImage.exportDmaBuf';
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)(M, 'VulkanImage');
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.vkImageExport((0, lifetime_1.live)(this.#h, M, 'VulkanImage')));
    }
    /**
     * The image as a Frame (the Rust `Frame::from_vulkan_image`): its memory
     * exported as a dma-buf (vkGetMemoryFdKHR, duplicated for each further
     * plane), the modifier the driver chose and each memory plane's offset and
     * pitch (vkGetImageSubresourceLayout). The fourcc is the one the image was
     * made with (`'XR24'` stays `'XR24'`). The frame's DmaBufs are new and
     * yours (`frame.close()`); the image stays open and shares the memory.
     * Throws EOPNOTSUPP for an imported image (its memory is not exportable),
     * EINVAL when an offset or pitch does not fit in 32 bits.
     */
    toFrame() {
        const M = 'VulkanImage.toFrame';
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)(M, 'VulkanImage');
        const r = native_1.native.vkImageToFrame((0, lifetime_1.live)(this.#h, M, 'VulkanImage'));
        const bufs = [];
        for (let i = 0; i < r.handles.length; i++) {
            A[8 /* Out.FD */] = r.fds[i];
            A[9 /* Out.BUF_SIZE */] = r.sizes[i];
            bufs.push(new dma_buf_1.DmaBuf(lifetime_1.token, r.handles[i]));
        }
        try {
            return new frame_1.Frame({
                width: this.#width,
                height: this.#height,
                fourcc: this.#format,
                modifier: r.modifier,
                planes: bufs.map((buf, i) => ({ buf, offset: r.offsets[i], pitch: r.pitches[i] })),
            });
        }
        catch (e) {
            for (const b of bufs)
                b.close();
            throw e;
        }
    }
    /** vkDestroyImage + vkFreeMemory. */
    close() {
        if (!VulkanImage.#is(this))
            throw (0, errors_1.invalidThis)('VulkanImage.close', 'VulkanImage');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.VulkanImage = VulkanImage;
function vkSyncFileOrNull(method, sf) {
    return sf === null ? -1 : sync_file_1.SyncFile.handleOf(sf, method, 'syncFile');
}
/** A binary semaphore exportable as (and importable from) a SyncFile. */
class VulkanSemaphore {
    #h;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('VulkanSemaphore');
        this.#h = h;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(v, method, name) {
        if (!VulkanSemaphore.#is(v))
            throw (0, errors_1.invalidType)(method, name, 'an instance of VulkanSemaphore', v);
        return (0, lifetime_1.live)(v.#h, method, 'VulkanSemaphore');
    }
    static #open(self, method) {
        if (!VulkanSemaphore.#is(self))
            throw (0, errors_1.invalidThis)(method, 'VulkanSemaphore');
        return (0, lifetime_1.live)(self.#h, method, 'VulkanSemaphore');
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!VulkanSemaphore.#is(this))
            throw (0, errors_1.invalidThis)('VulkanSemaphore.closed', 'VulkanSemaphore');
        return this.#h < 0;
    }
    /**
     * vkGetSemaphoreFdKHR(SYNC_FD): the pending signal (submitted with
     * `Vulkan.submit({ signal })`) as a new SyncFile, yours; null when the
     * driver says it already signalled (fd -1). The export consumes the payload.
     * On lavapipe, `EBUSY` after 200 ms (payload kept) while the queue holds a
     * `submit` whose waits have not signalled: its exports wait for the queue.
     */
    exportSyncFile() {
        const h = native_1.native.vkSemaphoreExport(VulkanSemaphore.#open(this, 'VulkanSemaphore.exportSyncFile'));
        return h === -1 ? null : new sync_file_1.SyncFile(lifetime_1.token, h, A[8 /* Out.FD */]);
    }
    /** vkImportSemaphoreFdKHR(SYNC_FD, temporary): the next wait on it waits for `syncFile` (null: signalled). Vulkan takes a duplicate: the SyncFile stays yours. */
    importSyncFile(syncFile) {
        const M = 'VulkanSemaphore.importSyncFile';
        native_1.native.vkSemaphoreImport(VulkanSemaphore.#open(this, M), vkSyncFileOrNull(M, syncFile));
    }
    /** vkDestroySemaphore, at once when the queue is done with it (within 50 ms), else once it is: never blocks on a sync_file that has not signalled. */
    close() {
        if (!VulkanSemaphore.#is(this))
            throw (0, errors_1.invalidThis)('VulkanSemaphore.close', 'VulkanSemaphore');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.VulkanSemaphore = VulkanSemaphore;
/** A fence exportable as (and importable from) a SyncFile. */
class VulkanFence {
    #h;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('VulkanFence');
        this.#h = h;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(v, method, name) {
        if (!VulkanFence.#is(v))
            throw (0, errors_1.invalidType)(method, name, 'an instance of VulkanFence', v);
        return (0, lifetime_1.live)(v.#h, method, 'VulkanFence');
    }
    static #open(self, method) {
        if (!VulkanFence.#is(self))
            throw (0, errors_1.invalidThis)(method, 'VulkanFence');
        return (0, lifetime_1.live)(self.#h, method, 'VulkanFence');
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!VulkanFence.#is(this))
            throw (0, errors_1.invalidThis)('VulkanFence.closed', 'VulkanFence');
        return this.#h < 0;
    }
    /** vkGetFenceFdKHR(SYNC_FD): the fence's signal as a new SyncFile, yours; null when already signalled (fd -1). `EBUSY` on lavapipe as for `VulkanSemaphore.exportSyncFile`. */
    exportSyncFile() {
        const h = native_1.native.vkFenceExport(VulkanFence.#open(this, 'VulkanFence.exportSyncFile'));
        return h === -1 ? null : new sync_file_1.SyncFile(lifetime_1.token, h, A[8 /* Out.FD */]);
    }
    /** vkImportFenceFdKHR(SYNC_FD, temporary): the fence signals when `syncFile` does (null: at once). The SyncFile stays yours. */
    importSyncFile(syncFile) {
        const M = 'VulkanFence.importSyncFile';
        native_1.native.vkFenceImport(VulkanFence.#open(this, M), vkSyncFileOrNull(M, syncFile));
    }
    /**
     * Resolves true once the fence has signalled, false when `timeoutMs`
     * passes first (default, or Infinity: for ever); rejects with an
     * AbortError when `signal` aborts, with ERR_DMABUF_CLOSED when the fence
     * is closed meanwhile, and with EINVAL when nothing was submitted or
     * imported that will signal it. No thread is blocked: a Vulkan fence has
     * no fd for the event loop to watch, so this asks `vkGetFenceStatus`
     * (vkWaitForFences with a zero timeout) on timers, 1 ms apart at first and
     * doubling to 16 ms, and sees a signal at most that late. Timers and I/O
     * run meanwhile, and the pending timer keeps the process alive. Never
     * throws: every error is a rejection.
     */
    async wait(timeoutMs, signal) {
        const M = 'VulkanFence.wait';
        let h = VulkanFence.#open(this, M);
        const t = (0, validators_1.timeoutMs)(M, timeoutMs);
        const s = (0, waits_1.liveSignal)(M, signal);
        const deadline = t < 0 ? Infinity : performance.now() + t;
        for (let step = 1;; step = Math.min(step * 2, FENCE_POLL_MAX_MS)) {
            if (native_1.native.vkFenceWait(h, 0, false))
                return true;
            const left = deadline - performance.now();
            if (left <= 0)
                return false;
            await (0, waits_1.sleep)(M, Math.min(step, left), s);
            h = VulkanFence.#open(this, M);
        }
    }
    /**
     * vkWaitForFences, blocking this thread: true once signalled, false after
     * `timeoutMs` (default: for ever). Nothing else runs on this thread
     * meanwhile; prefer `wait()`.
     */
    waitSync(timeoutMs) {
        const M = 'VulkanFence.waitSync';
        const h = VulkanFence.#open(this, M);
        const t = timeoutMs === undefined || timeoutMs === Infinity ? -1 : (0, validators_1.uint)(M, 'timeoutMs', timeoutMs, 2 ** 52);
        return native_1.native.vkFenceWait(h, t, true);
    }
    /** vkResetFences. */
    reset() {
        native_1.native.vkFenceReset(VulkanFence.#open(this, 'VulkanFence.reset'));
    }
    /** vkDestroyFence, at once when the queue is done with it (within 50 ms), else once it is: never blocks on a sync_file that has not signalled. */
    close() {
        if (!VulkanFence.#is(this))
            throw (0, errors_1.invalidThis)('VulkanFence.close', 'VulkanFence');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.VulkanFence = VulkanFence;
for (const C of [VulkanBuffer, VulkanImage, VulkanSemaphore, VulkanFence]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
