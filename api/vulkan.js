"use strict";
// Vulkan interop (crates/dmabuf/src/vulkan.rs): device memory exported as
// dma-bufs, dma-bufs imported into Vulkan buffers and images, semaphores and
// fences as SyncFiles. The Vulkan loader is opened on demand: nothing here
// runs until Vulkan.open() or Vulkan.available() is called.
Object.defineProperty(exports, "__esModule", { value: true });
exports.Vulkan = exports.DRM_FORMAT_MOD_INVALID = exports.DRM_FORMAT_MOD_LINEAR = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const dma_buf_1 = require("./dma-buf");
const frame_1 = require("./frame");
const vulkan_resources_1 = require("./vulkan-resources");
/** `DRM_FORMAT_MOD_LINEAR`: rows one after the other, `pitch` bytes apart. */
exports.DRM_FORMAT_MOD_LINEAR = 0n;
/** `DRM_FORMAT_MOD_INVALID`, the implicit modifier: never LINEAR, and refused by image import and export. */
exports.DRM_FORMAT_MOD_INVALID = 0xffffffffffffffn;
const VK_FORMATS = ['AR24', 'XR24', 'AB24', 'XB24', 'R8', 'GR88', 'RG16', 'NV12'];
function vkFormat(method, name, v) {
    if (typeof v !== 'string')
        throw (0, errors_1.invalidType)(method, name, 'of type string', v);
    if (!VK_FORMATS.includes(v))
        throw (0, errors_1.invalidValue)(method, name, `must be one of ${VK_FORMATS.map((f) => `'${f}'`).join(', ')}. Received ${JSON.stringify(v)}`);
    return v;
}
function vkOptions(method, v) {
    if (v === undefined)
        return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw (0, errors_1.invalidType)(method, 'options', 'of type object', v);
    return v;
}
function vkHostVisible(method, v) {
    if (v === undefined)
        return -1;
    if (typeof v !== 'boolean')
        throw (0, errors_1.invalidType)(method, 'options.hostVisible', 'of type boolean', v);
    return v ? 1 : 0;
}
function vkModifier(method, name, v) {
    if (typeof v !== 'bigint')
        throw (0, errors_1.invalidType)(method, name, 'of type bigint', v);
    if (v < 0n || v >= 1n << 64n)
        throw (0, errors_1.outOfRange)(method, name, '>= 0n and < 2n ** 64n', v);
    return v;
}
/**
 * Runs an import, whose native side hands Vulkan a duplicate of the dma-buf's
 * fd (Vulkan takes ownership of what it imports): an error naming that
 * duplicate, closed by now, names the caller's `DmaBuf.fd` instead (`err.fd`
 * and the message's `(fd N)`).
 */
function callerFd(dmabuf, run) {
    try {
        return run();
    }
    catch (e) {
        const err = e;
        if (typeof err === 'object' && err !== null && typeof err.fd === 'number' && err.fd !== dmabuf.fd) {
            if (typeof err.message === 'string')
                err.message = err.message.replaceAll(`(fd ${err.fd})`, `(fd ${dmabuf.fd})`);
            err.fd = dmabuf.fd;
        }
        throw e;
    }
}
function vkMemberHandle(method, name, v, cls) {
    return cls.handleOf(v, method, name);
}
/**
 * A Vulkan device ready for dma-buf interop (one queue, the external memory
 * and sync-fd extensions the device has). Buffers, images, semaphores and
 * fences made from it keep the device alive after `close()`.
 *
 * Ownership: `exportBuffer`/`exportDmaBuf` return a new DmaBuf that is yours;
 * `importBuffer`/`importImage` **consume** the DmaBuf they are given (it reads
 * as closed afterwards; Vulkan holds the memory) unless they throw, in which
 * case it is untouched and still yours.
 */
class Vulkan {
    #h;
    #name;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, name) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Vulkan');
        this.#h = h;
        this.#name = name;
        (0, lifetime_1.own)(this, h);
    }
    /** Whether a Vulkan loader and a device with VK_KHR_external_memory_fd exist (opens and closes one). */
    static available() {
        return native_1.native.vkAvailable();
    }
    /** Loads Vulkan and creates a device. Throws ENOENT when no Vulkan loader is installed, ENODEV when no device matches. */
    static open(options) {
        const M = 'Vulkan.open';
        const o = vkOptions(M, options);
        const dev = o.device;
        let h;
        if (dev === undefined)
            h = native_1.native.vkOpen(null, null);
        else if (typeof dev === 'string')
            h = native_1.native.vkOpen(dev, null);
        else
            h = native_1.native.vkOpen(null, (0, validators_1.uint)(M, 'options.device', dev, 2 ** 32 - 1));
        const v = new Vulkan(lifetime_1.token, h, '');
        v.#name = native_1.native.vkCapabilities(h).deviceName;
        return v;
    }
    /** @internal */
    static handleOf(v, method, name) {
        if (!Vulkan.#is(v))
            throw (0, errors_1.invalidType)(method, name, 'an instance of Vulkan', v);
        return (0, lifetime_1.live)(v.#h, method, 'Vulkan');
    }
    static #open(self, method) {
        if (!Vulkan.#is(self))
            throw (0, errors_1.invalidThis)(method, 'Vulkan');
        return (0, lifetime_1.live)(self.#h, method, 'Vulkan');
    }
    /** The physical device's name ('llvmpipe (LLVM 15.0.6, 256 bits)', 'NVIDIA H200'). */
    get deviceName() {
        if (!Vulkan.#is(this))
            throw (0, errors_1.invalidThis)('Vulkan.deviceName', 'Vulkan');
        return this.#name;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!Vulkan.#is(this))
            throw (0, errors_1.invalidThis)('Vulkan.closed', 'Vulkan');
        return this.#h < 0;
    }
    /** Handle types exported and imported, for buffers and images separately; SYNC_FD for semaphores and fences; the extensions enabled and missing. */
    capabilities() {
        return native_1.native.vkCapabilities(Vulkan.#open(this, 'Vulkan.capabilities'));
    }
    /** The DRM format modifiers the device supports for 2D transfer images of `format` as dma-bufs, with plane counts and largest extents. */
    modifiers(format) {
        const M = 'Vulkan.modifiers';
        return native_1.native.vkModifiers(Vulkan.#open(this, M), vkFormat(M, 'format', format));
    }
    /** A buffer of `size` bytes whose memory can be exported (vkAllocateMemory with VkExportMemoryAllocateInfo). */
    createBuffer(size, options) {
        const M = 'Vulkan.createBuffer';
        const h = Vulkan.#open(this, M);
        const n = (0, validators_1.uint)(M, 'size', size);
        const o = vkOptions(M, options);
        const ex = o.export;
        if (ex !== undefined && ex !== 'dma-buf') {
            if (typeof ex !== 'string')
                throw (0, errors_1.invalidType)(M, 'options.export', 'of type string', ex);
            throw (0, errors_1.invalidValue)(M, 'options.export', `must be 'dma-buf' (opaque fds are exported from Rust only). Received ${JSON.stringify(ex)}`);
        }
        const b = native_1.native.vkCreateBuffer(h, n, false, vkHostVisible(M, o.hostVisible));
        return new vulkan_resources_1.VulkanBuffer(lifetime_1.token, b);
    }
    /** Vulkan memory of `size` bytes exported as a new DmaBuf (yours); the Vulkan side is released at once (the dma-buf keeps the memory). */
    exportBuffer(size, options) {
        const M = 'Vulkan.exportBuffer';
        const h = Vulkan.#open(this, M);
        const n = (0, validators_1.uint)(M, 'size', size);
        const o = vkOptions(M, options);
        if (o.export !== undefined && o.export !== 'dma-buf')
            throw (0, errors_1.invalidValue)(M, 'options.export', `must be 'dma-buf' or absent: exportBuffer returns a DmaBuf. Received ${(0, errors_1.describe)(o.export)}`);
        const b = native_1.native.vkCreateBuffer(h, n, true, vkHostVisible(M, o.hostVisible));
        try {
            return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.vkBufferExport(b));
        }
        finally {
            (0, lifetime_1.closeHandle)(b);
        }
    }
    /**
     * Imports a dma-buf as a buffer's memory. **Consumes `dmabuf`**: on success
     * it reads as closed (Vulkan holds the memory until the VulkanBuffer is
     * closed); on failure it is untouched and still yours.
     */
    importBuffer(dmabuf, options) {
        const M = 'Vulkan.importBuffer';
        const h = Vulkan.#open(this, M);
        const bh = dma_buf_1.DmaBuf.handleOf(dmabuf, M, 'dmabuf');
        const o = vkOptions(M, options);
        const size = o.size === undefined ? -1 : (0, validators_1.uint)(M, 'options.size', o.size);
        const b = callerFd(dmabuf, () => native_1.native.vkImportBuffer(h, bh, size, vkHostVisible(M, o.hostVisible)));
        const out = new vulkan_resources_1.VulkanBuffer(lifetime_1.token, b);
        dmabuf.close();
        return out;
    }
    /** A 2D image with a DRM format modifier the driver picks from `modifiers`, its memory exportable as a dma-buf. */
    createImage(options) {
        const M = 'Vulkan.createImage';
        const h = Vulkan.#open(this, M);
        if (typeof options !== 'object' || options === null)
            throw (0, errors_1.invalidType)(M, 'options', 'of type object', options);
        const w = (0, validators_1.uint)(M, 'options.width', options.width, 2 ** 32 - 1);
        const ht = (0, validators_1.uint)(M, 'options.height', options.height, 2 ** 32 - 1);
        const f = vkFormat(M, 'options.format', options.format);
        let mods = [exports.DRM_FORMAT_MOD_LINEAR];
        if (options.modifiers !== undefined) {
            if (!Array.isArray(options.modifiers))
                throw (0, errors_1.invalidType)(M, 'options.modifiers', 'an instance of Array', options.modifiers);
            if (options.modifiers.length > 64)
                throw (0, errors_1.outOfRange)(M, 'options.modifiers.length', '<= 64', options.modifiers.length);
            mods = options.modifiers.map((m, i) => vkModifier(M, `options.modifiers[${i}]`, m));
        }
        const i = native_1.native.vkCreateImage(h, w, ht, f, mods, vkHostVisible(M, options.hostVisible));
        return new vulkan_resources_1.VulkanImage(lifetime_1.token, i, w, ht, f);
    }
    /**
     * Imports a dma-buf as a 2D image with an explicit modifier and plane
     * layout (checked before vkCreateImage). **Consumes `dmabuf`** on success,
     * as `importBuffer`.
     */
    importImage(dmabuf, options) {
        const M = 'Vulkan.importImage';
        const h = Vulkan.#open(this, M);
        const bh = dma_buf_1.DmaBuf.handleOf(dmabuf, M, 'dmabuf');
        if (typeof options !== 'object' || options === null)
            throw (0, errors_1.invalidType)(M, 'options', 'of type object', options);
        const w = (0, validators_1.uint)(M, 'options.width', options.width, 2 ** 32 - 1);
        const ht = (0, validators_1.uint)(M, 'options.height', options.height, 2 ** 32 - 1);
        const f = vkFormat(M, 'options.format', options.format);
        const mod = vkModifier(M, 'options.modifier', options.modifier);
        const planes = options.planes;
        if (!Array.isArray(planes))
            throw (0, errors_1.invalidType)(M, 'options.planes', 'an instance of Array', planes);
        if (planes.length < 1 || planes.length > 4)
            throw (0, errors_1.outOfRange)(M, 'options.planes.length', '>= 1 and <= 4', planes.length);
        const offsets = new Float64Array(planes.length);
        const pitches = new Float64Array(planes.length);
        for (let i = 0; i < planes.length; i++) {
            const p = planes[i];
            if (typeof p !== 'object' || p === null)
                throw (0, errors_1.invalidType)(M, `options.planes[${i}]`, 'an object { offset, pitch }', p);
            offsets[i] = (0, validators_1.uint)(M, `options.planes[${i}].offset`, p.offset);
            pitches[i] = (0, validators_1.uint)(M, `options.planes[${i}].pitch`, p.pitch);
        }
        const img = callerFd(dmabuf, () => native_1.native.vkImportImage(h, bh, w, ht, f, mod, offsets, pitches, vkHostVisible(M, options.hostVisible)));
        const out = new vulkan_resources_1.VulkanImage(lifetime_1.token, img, w, ht, f);
        dmabuf.close();
        return out;
    }
    /**
     * Imports a Frame as a 2D image (the Rust `Frame::to_vulkan_image`):
     * vkCreateImage with VkImageDrmFormatModifierExplicitCreateInfoEXT (the
     * frame's modifier, each plane's offset and pitch) and vkAllocateMemory
     * importing a duplicate of the planes' dma-buf. The frame stays yours and
     * open, whatever happens. Every plane must be in the same dma-buf; the
     * fourcc must have a Vulkan format (`'AR24'`, `'XR24'`, `'AB24'`, `'XB24'`,
     * `'R8'`, `'GR88'`, `'RG16'`, `'NV12'`), else EOPNOTSUPP; a linear layout
     * whose offset or pitch splits a texel is EINVAL naming the plane.
     */
    importFrame(frame, options) {
        const M = 'Vulkan.importFrame';
        const h = Vulkan.#open(this, M);
        const f = (0, frame_1.frameArg)(frame, M, 'frame');
        const visible = vkHostVisible(M, vkOptions(M, options).hostVisible);
        const bufs = new Float64Array(f.planes.length);
        f.planes.forEach((p, i) => {
            bufs[i] = dma_buf_1.DmaBuf.handleOf(p.buf, M, `frame.planes[${i}].buf`);
        });
        const img = native_1.native.vkImportFrame(h, f.width, f.height, f.fourcc, f.modifier, bufs, f.planes.map((p) => p.offset), f.planes.map((p) => p.pitch), visible);
        const chars = String.fromCharCode(f.fourcc & 0xff, (f.fourcc >>> 8) & 0xff, (f.fourcc >>> 16) & 0xff, (f.fourcc >>> 24) & 0xff).trimEnd();
        return new vulkan_resources_1.VulkanImage(lifetime_1.token, img, f.width, f.height, chars);
    }
    /** vkCmdFillBuffer: `value` (a 32-bit word, little-endian) into `[offset, offset + size)` of `buffer` (default: all of it), on the device; returns once done. Throws `EBUSY` after 200 ms, having run nothing, while a `submit` whose waits have not signalled holds the queue. */
    fill(buffer, value, offset, size) {
        const M = 'Vulkan.fill';
        const h = Vulkan.#open(this, M);
        const b = vkMemberHandle(M, 'buffer', buffer, vulkan_resources_1.VulkanBuffer);
        const v = (0, validators_1.uint)(M, 'value', value, 2 ** 32 - 1);
        const off = (0, validators_1.optionalUint)(M, 'offset', offset, 0);
        const n = size === undefined ? buffer.size - off : (0, validators_1.uint)(M, 'size', size);
        native_1.native.vkFill(h, b, off, n, v);
    }
    /** vkCmdCopyBuffer: `size` bytes (default: all of `src`) from `src` to `dst`, on the device; returns once done (`EBUSY` as for `fill`). */
    copy(src, dst, size, srcOffset, dstOffset) {
        const M = 'Vulkan.copy';
        const h = Vulkan.#open(this, M);
        const s = vkMemberHandle(M, 'src', src, vulkan_resources_1.VulkanBuffer);
        const d = vkMemberHandle(M, 'dst', dst, vulkan_resources_1.VulkanBuffer);
        const so = (0, validators_1.optionalUint)(M, 'srcOffset', srcOffset, 0);
        const dof = (0, validators_1.optionalUint)(M, 'dstOffset', dstOffset, 0);
        const n = size === undefined ? src.size - so : (0, validators_1.uint)(M, 'size', size);
        native_1.native.vkCopy(h, s, so, d, dof, n);
    }
    /** vkCmdCopyBufferToImage: tightly packed rows of `src` into all of the single-plane image `dst`; returns once done (`EBUSY` as for `fill`). */
    copyBufferToImage(src, dst) {
        const M = 'Vulkan.copyBufferToImage';
        const h = Vulkan.#open(this, M);
        native_1.native.vkCopyToImage(h, vkMemberHandle(M, 'src', src, vulkan_resources_1.VulkanBuffer), vkMemberHandle(M, 'dst', dst, vulkan_resources_1.VulkanImage));
    }
    /** A binary semaphore exportable as a SyncFile (VK_KHR_external_semaphore_fd). */
    createSemaphore() {
        return new vulkan_resources_1.VulkanSemaphore(lifetime_1.token, native_1.native.vkCreateSemaphore(Vulkan.#open(this, 'Vulkan.createSemaphore')));
    }
    /** An unsignalled fence exportable as a SyncFile (VK_KHR_external_fence_fd). */
    createFence() {
        return new vulkan_resources_1.VulkanFence(lifetime_1.token, native_1.native.vkCreateFence(Vulkan.#open(this, 'Vulkan.createFence')));
    }
    /** vkQueueSubmit of an empty batch: waits on `wait` (their payloads are consumed), then signals `signal` and `fence`. */
    submit(options) {
        const M = 'Vulkan.submit';
        const h = Vulkan.#open(this, M);
        if (typeof options !== 'object' || options === null || Array.isArray(options))
            throw (0, errors_1.invalidType)(M, 'options', 'of type object', options);
        const list = (name) => options[name] === undefined
            ? new Float64Array(0)
            : (0, validators_1.handles)(M, `options.${name}`, options[name], (s, i) => vkMemberHandle(M, `options.${name}[${i}]`, s, vulkan_resources_1.VulkanSemaphore));
        const w = list('wait');
        const s = list('signal');
        const f = options.fence === undefined ? -1 : vkMemberHandle(M, 'options.fence', options.fence, vulkan_resources_1.VulkanFence);
        native_1.native.vkSubmit(h, w, s, f);
    }
    /** Releases this reference to the device (objects made from it keep it alive until they are closed). */
    close() {
        if (!Vulkan.#is(this))
            throw (0, errors_1.invalidThis)('Vulkan.close', 'Vulkan');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.Vulkan = Vulkan;
for (const C of [Vulkan]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
