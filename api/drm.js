"use strict";
// DRM PRIME (crates/dmabuf/src/drm.rs): GEM handles and dma-bufs of a DRM device.
Object.defineProperty(exports, "__esModule", { value: true });
exports.DrmDevice = exports.GemHandle = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const dma_buf_1 = require("./dma-buf");
const A = native_1.args;
/** A counted GEM handle of a DrmDevice; the kernel handle is closed when the last GemHandle for it is closed. */
class GemHandle {
    #h;
    #raw;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, raw) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('GemHandle');
        this.#h = h;
        this.#raw = raw;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(g, method) {
        if (!(g instanceof Object) || !(#h in g))
            throw (0, errors_1.invalidType)(method, 'handle', 'an instance of GemHandle', g);
        return (0, lifetime_1.live)(g.#h, method, 'GemHandle');
    }
    /** The kernel's handle number (0 once closed). */
    get handle() {
        if (!GemHandle.#is(this))
            throw (0, errors_1.invalidThis)('GemHandle.handle', 'GemHandle');
        return this.#h < 0 ? 0 : this.#raw;
    }
    /** Drops this reference. Calling it again does nothing. */
    close() {
        if (!GemHandle.#is(this))
            throw (0, errors_1.invalidThis)('GemHandle.close', 'GemHandle');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.GemHandle = GemHandle;
/** An open DRM device node. */
class DrmDevice {
    #h;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('DrmDevice');
        this.#h = h;
        (0, lifetime_1.own)(this, h);
    }
    /** Opens a DRM node by path (/dev/dri/card0, /dev/dri/renderD128, ...). */
    static open(path) {
        return new DrmDevice(lifetime_1.token, native_1.native.drmOpen((0, validators_1.str)('DrmDevice.open', 'path', path)));
    }
    /** Opens the first node whose driver is `driver` ('vgem', 'i915', ...); `primary` prefers card* nodes (dumb buffers need one). */
    static openDriver(driver, primary) {
        const M = 'DrmDevice.openDriver';
        if (primary !== undefined && typeof primary !== 'boolean')
            throw (0, errors_1.invalidType)(M, 'primary', 'of type boolean', primary);
        return new DrmDevice(lifetime_1.token, native_1.native.drmOpenDriver((0, validators_1.str)(M, 'driver', driver), primary === true));
    }
    /** Paths of the DRM nodes in /dev/dri. */
    static list() {
        return native_1.native.drmList();
    }
    static #open(self, method) {
        if (!DrmDevice.#is(self))
            throw (0, errors_1.invalidThis)(method, 'DrmDevice');
        return (0, lifetime_1.live)(self.#h, method, 'DrmDevice');
    }
    /** DRM_IOCTL_VERSION: the driver's name. */
    driverName() {
        return native_1.native.drmDriverName(DrmDevice.#open(this, 'DrmDevice.driverName'));
    }
    /** DRM_IOCTL_MODE_CREATE_DUMB: `{ handle, pitch, size }`. */
    createDumb(width, height, bpp) {
        const M = 'DrmDevice.createDumb';
        const h = DrmDevice.#open(this, M);
        const max = 2 ** 32 - 1;
        const g = native_1.native.drmCreateDumb(h, (0, validators_1.uint)(M, 'width', width, max), (0, validators_1.uint)(M, 'height', height, max), (0, validators_1.uint)(M, 'bpp', bpp, max));
        const raw = A[8 /* Out.GEM_HANDLE */];
        const pitch = A[9 /* Out.GEM_PITCH */];
        const size = A[10 /* Out.GEM_SIZE */];
        return { handle: new GemHandle(lifetime_1.token, g, raw), pitch, size };
    }
    /** DRM_IOCTL_PRIME_HANDLE_TO_FD: the GEM object as a DmaBuf. */
    export(handle, access) {
        const M = 'DrmDevice.export';
        const h = DrmDevice.#open(this, M);
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.drmExport(h, GemHandle.handleOf(handle, M), (0, validators_1.optionalAccessBits)(M, 'access', access, 3)));
    }
    /** DRM_IOCTL_PRIME_FD_TO_HANDLE: a counted GemHandle for the DmaBuf. */
    import(buffer) {
        const M = 'DrmDevice.import';
        const h = DrmDevice.#open(this, M);
        const g = native_1.native.drmImport(h, dma_buf_1.DmaBuf.handleOf(buffer, M, 'buffer'));
        return new GemHandle(lifetime_1.token, g, A[8 /* Out.GEM_HANDLE */]);
    }
    /** How many GemHandles are open for a kernel handle number. */
    handleUsers(handle) {
        const M = 'DrmDevice.handleUsers';
        return native_1.native.drmHandleUsers(DrmDevice.#open(this, M), (0, validators_1.uint)(M, 'handle', handle, 2 ** 32 - 1));
    }
    /** DRM_IOCTL_VGEM_FENCE_ATTACH (vgem): an unsignalled fence on the buffer, as a writer unless `write` is false. Returns the fence id. */
    vgemFenceAttach(handle, write) {
        const M = 'DrmDevice.vgemFenceAttach';
        const h = DrmDevice.#open(this, M);
        if (write !== undefined && typeof write !== 'boolean')
            throw (0, errors_1.invalidType)(M, 'write', 'of type boolean', write);
        return native_1.native.drmVgemFenceAttach(h, GemHandle.handleOf(handle, M), write === false ? 1 : 2);
    }
    /** DRM_IOCTL_VGEM_FENCE_SIGNAL (vgem). */
    vgemFenceSignal(fence) {
        const M = 'DrmDevice.vgemFenceSignal';
        native_1.native.drmVgemFenceSignal(DrmDevice.#open(this, M), (0, validators_1.uint)(M, 'fence', fence, 2 ** 32 - 1));
    }
    /** Closes this reference to the device (GemHandles keep it open until closed). */
    close() {
        if (!DrmDevice.#is(this))
            throw (0, errors_1.invalidThis)('DrmDevice.close', 'DrmDevice');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.DrmDevice = DrmDevice;
for (const C of [GemHandle, DrmDevice]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
