"use strict";
// KMS (crates/dmabuf/src/kms.rs): showing dma-bufs on a display through
// atomic mode setting. A Card lists connectors, CRTCs and planes, imports a
// Frame as a Framebuffer, and commits KmsAtomic requests built by property
// name, with in-fences from SyncFiles and out-fences back as SyncFiles; its
// page-flip events are awaited on the event loop (no thread blocks).
Object.defineProperty(exports, "__esModule", { value: true });
exports.Card = exports.KmsAtomic = exports.Framebuffer = exports.KmsPropertyBlob = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const waits_1 = require("../internal/waits");
const dma_buf_1 = require("./dma-buf");
const frame_1 = require("./frame");
const sync_file_1 = require("./sync-file");
const MAX_U64 = 2n ** 64n - 1n;
/** `DRM_PROP_NAME_LEN` less its NUL. */
const PROP_NAME_MAX = 31;
const MIN_I64 = -(2n ** 63n);
/** A KMS object id (a connector, CRTC or plane). */
function objectId(method, name, v) {
    return (0, validators_1.uint)(method, name, v, validators_1.U32);
}
/** The numbers of a `KmsMode` after its name, in the order `kmsCreateModeBlob` takes them, with their limits. */
const MODE_FIELDS = [
    ['clock', validators_1.U32], ['hdisplay', 0xffff], ['hsyncStart', 0xffff], ['hsyncEnd', 0xffff], ['htotal', 0xffff], ['hskew', 0xffff],
    ['vdisplay', 0xffff], ['vsyncStart', 0xffff], ['vsyncEnd', 0xffff], ['vtotal', 0xffff], ['vscan', 0xffff], ['vrefresh', validators_1.U32],
    ['flags', validators_1.U32], ['type', validators_1.U32],
];
/** A mode blob (`DRM_IOCTL_MODE_CREATEPROPBLOB`): the value for a CRTC's `MODE_ID`. A CRTC using it keeps its own reference. */
class KmsPropertyBlob {
    #h;
    #id;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, id) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('KmsPropertyBlob');
        this.#h = h;
        this.#id = id;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOrClosed(x) {
        return KmsPropertyBlob.#is(x) ? x.#h : undefined;
    }
    /** The blob id (0 once closed). */
    get id() {
        if (!KmsPropertyBlob.#is(this))
            throw (0, errors_1.invalidThis)('KmsPropertyBlob.id', 'KmsPropertyBlob');
        return this.#h < 0 ? 0 : this.#id;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!KmsPropertyBlob.#is(this))
            throw (0, errors_1.invalidThis)('KmsPropertyBlob.closed', 'KmsPropertyBlob');
        return this.#h < 0;
    }
    /** DRM_IOCTL_MODE_DESTROYPROPBLOB. Calling it again does nothing. */
    close() {
        if (!KmsPropertyBlob.#is(this))
            throw (0, errors_1.invalidThis)('KmsPropertyBlob.close', 'KmsPropertyBlob');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.KmsPropertyBlob = KmsPropertyBlob;
/**
 * A framebuffer (`DRM_IOCTL_MODE_ADDFB2`) of a Frame's dma-bufs. It holds
 * GEM handles of its own: the Frame may be closed meanwhile. `close()`
 * removes it (`DRM_IOCTL_MODE_RMFB`, which also turns off a plane still
 * showing it).
 */
class Framebuffer {
    #h;
    #id;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, id) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Framebuffer');
        this.#h = h;
        this.#id = id;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOrClosed(x) {
        return Framebuffer.#is(x) ? x.#h : undefined;
    }
    /** The framebuffer id, the value of a plane's `FB_ID` (0 once closed). */
    get id() {
        if (!Framebuffer.#is(this))
            throw (0, errors_1.invalidThis)('Framebuffer.id', 'Framebuffer');
        return this.#h < 0 ? 0 : this.#id;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!Framebuffer.#is(this))
            throw (0, errors_1.invalidThis)('Framebuffer.closed', 'Framebuffer');
        return this.#h < 0;
    }
    /** DRM_IOCTL_MODE_RMFB, then its GEM handles go. Calling it again does nothing. */
    close() {
        if (!Framebuffer.#is(this))
            throw (0, errors_1.invalidThis)('Framebuffer.close', 'Framebuffer');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.Framebuffer = Framebuffer;
function propertyValue(method, v) {
    if (typeof v === 'bigint') {
        if (v < MIN_I64 || v > MAX_U64)
            throw (0, errors_1.outOfRange)(method, 'value', `>= -(2n ** 63n) and <= 2n ** 64n - 1n`, `${v}n`);
        return v;
    }
    if (typeof v === 'number') {
        if (!Number.isSafeInteger(v))
            throw (0, errors_1.outOfRange)(method, 'value', 'a safe integer', v);
        return BigInt(v);
    }
    for (const [cls, of] of [['Framebuffer', Framebuffer.handleOrClosed], ['KmsPropertyBlob', KmsPropertyBlob.handleOrClosed]]) {
        const h = of(v);
        if (h !== undefined) {
            (0, lifetime_1.live)(h, method, cls);
            return BigInt(v.id);
        }
    }
    throw (0, errors_1.invalidType)(method, 'value', 'of type number or bigint, or a Framebuffer or KmsPropertyBlob', v);
}
function commitFlags(method, options) {
    if (options === undefined)
        return { allowModeset: false, nonblock: false, flip: undefined };
    const o = (0, validators_1.objectArg)(method, 'options', options, 'of type object');
    const allowModeset = (0, validators_1.bool)(method, 'options.allowModeset', (0, validators_1.field)(method, 'options.allowModeset', o, 'allowModeset'), false);
    const nonblock = (0, validators_1.bool)(method, 'options.nonblock', (0, validators_1.field)(method, 'options.nonblock', o, 'nonblock'), false);
    const f = (0, validators_1.field)(method, 'options.flipEvent', o, 'flipEvent');
    let flip;
    if (f === undefined || f === false)
        flip = undefined;
    else if (f === true)
        flip = 0n;
    else if (typeof f === 'bigint') {
        if (f < 0n || f > MAX_U64)
            throw (0, errors_1.outOfRange)(method, 'options.flipEvent', '>= 0n and <= 2n ** 64n - 1n', `${f}n`);
        flip = f;
    }
    else
        throw (0, errors_1.invalidType)(method, 'options.flipEvent', 'of type boolean or bigint', f);
    return { allowModeset, nonblock, flip };
}
/**
 * An atomic request (from `card.atomic()`): property values by name, an
 * in-fence per plane, out-fences asked per CRTC or writeback connector.
 * Names are looked up when it is tested or committed (an unknown one is
 * EINVAL naming the properties the object has). Nothing is sent before
 * `test()` or `commit()`; a request may be committed again.
 */
class KmsAtomic {
    #card;
    #objects = [];
    #names = [];
    #values = [];
    #fencePlanes = [];
    #fences = [];
    #outCrtcs = [];
    #outWriteback = [];
    static #check(x, method) {
        if (typeof x !== 'object' || x === null || !(#card in x))
            throw (0, errors_1.invalidThis)(method, 'KmsAtomic');
        return x;
    }
    /** @internal */
    constructor(key, card) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('KmsAtomic');
        this.#card = card;
    }
    /** Sets `property` (a name: `'FB_ID'`, `'CRTC_ID'`, `'MODE_ID'`, `'ACTIVE'`, ...) of `object` to `value`; a later value for the same pair wins. */
    set(object, property, value) {
        const M = 'KmsAtomic.set';
        const a = KmsAtomic.#check(this, M);
        const o = objectId(M, 'object', object);
        const p = (0, validators_1.str)(M, 'property', property);
        if (p.length < 1 || p.length > PROP_NAME_MAX || p.includes('\0')) {
            throw (0, errors_1.invalidValue)(M, 'property', `must be a property name of 1 to ${PROP_NAME_MAX} characters without NUL. Received ${JSON.stringify(p.length > 28 ? p.slice(0, 25) + '...' : p)}`);
        }
        const v = propertyValue(M, value);
        a.#objects.push(o);
        a.#names.push(p);
        a.#values.push(v);
        return this;
    }
    /** `IN_FENCE_FD` of `plane`: the plane shows its new framebuffer only once `fence` signals. The SyncFile must stay open until the commit. */
    inFence(plane, fence) {
        const M = 'KmsAtomic.inFence';
        const a = KmsAtomic.#check(this, M);
        const p = objectId(M, 'plane', plane);
        sync_file_1.SyncFile.handleOf(fence, M, 'fence');
        const i = a.#fencePlanes.indexOf(p);
        if (i >= 0)
            a.#fences[i] = fence;
        else {
            a.#fencePlanes.push(p);
            a.#fences.push(fence);
        }
        return this;
    }
    /** Asks for `OUT_FENCE_PTR` of `crtc`: the commit returns a SyncFile that signals once it is on screen. */
    outFence(crtc) {
        const M = 'KmsAtomic.outFence';
        const a = KmsAtomic.#check(this, M);
        const c = objectId(M, 'crtc', crtc);
        if (!a.#outCrtcs.includes(c))
            a.#outCrtcs.push(c);
        return this;
    }
    /** Asks for `WRITEBACK_OUT_FENCE_PTR` of a writeback connector: a SyncFile that signals once the frame is written to its `WRITEBACK_FB_ID`. */
    writebackOutFence(connector) {
        const M = 'KmsAtomic.writebackOutFence';
        const a = KmsAtomic.#check(this, M);
        const c = objectId(M, 'connector', connector);
        if (!a.#outWriteback.includes(c))
            a.#outWriteback.push(c);
        return this;
    }
    #run(M, options, testOnly) {
        const h = Card.handleOf(this.#card, M);
        const f = commitFlags(M, options);
        const fences = this.#fences.map((s, i) => sync_file_1.SyncFile.handleOf(s, M, `inFence of plane ${this.#fencePlanes[i]}`));
        return native_1.native.kmsCommit(h, this.#objects, this.#names, this.#values, this.#fencePlanes, fences, this.#outCrtcs, this.#outWriteback, [f.allowModeset, f.nonblock, testOnly], f.flip);
    }
    /** DRM_IOCTL_MODE_ATOMIC with TEST_ONLY: throws what the kernel would refuse (EINVAL, EACCES without master); changes nothing. */
    test(options) {
        KmsAtomic.#check(this, 'KmsAtomic.test').#run('KmsAtomic.test', options, true);
    }
    /**
     * Tests, then DRM_IOCTL_MODE_ATOMIC. Returns the out-fences asked for,
     * keyed by CRTC or writeback connector id (close them when done).
     * EBUSY while a nonblocking commit on the same CRTC is pending; EACCES
     * without DRM master.
     */
    commit(options) {
        const out = KmsAtomic.#check(this, 'KmsAtomic.commit').#run('KmsAtomic.commit', options, false);
        return new Map(out.map((o) => [o.object, new sync_file_1.SyncFile(lifetime_1.token, o.handle, o.fd)]));
    }
}
exports.KmsAtomic = KmsAtomic;
/**
 * An open KMS card (`/dev/dri/card*`) with atomic mode setting, as DRM
 * master unless asked otherwise. Close it with `close()` (or `using`):
 * that releases master, and pending `nextEvents()` reject with
 * ERR_DMABUF_CLOSED.
 */
class Card {
    #h;
    #pending = new Set();
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Card');
        this.#h = h;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(c, method) {
        if (!Card.#is(c))
            throw (0, errors_1.invalidThis)(method, 'Card');
        return (0, lifetime_1.live)(c.#h, method, 'Card');
    }
    /**
     * Opens a KMS card: `path`, or else the first /dev/dri/card* with atomic
     * mode setting (ENODEV listing each card tried when none is). Throws
     * EBUSY when another process or Card is DRM master (unless `master` is
     * false), EOPNOTSUPP for a card without atomic mode setting (vgem).
     */
    static open(path, options) {
        const M = 'Card.open';
        const p = path === undefined ? undefined : (0, validators_1.str)(M, 'path', path);
        let master = true;
        let writeback = false;
        if (options !== undefined) {
            const o = (0, validators_1.objectArg)(M, 'options', options, 'of type object');
            master = (0, validators_1.bool)(M, 'options.master', (0, validators_1.field)(M, 'options.master', o, 'master'), true);
            writeback = (0, validators_1.bool)(M, 'options.writeback', (0, validators_1.field)(M, 'options.writeback', o, 'writeback'), false);
        }
        const card = new Card(lifetime_1.token, native_1.native.kmsOpen(p, master));
        if (writeback) {
            try {
                native_1.native.kmsEnableWriteback(card.#h);
            }
            catch (e) {
                card.close();
                throw e;
            }
        }
        return card;
    }
    static #open(self, method) {
        if (!Card.#is(self))
            throw (0, errors_1.invalidThis)(method, 'Card');
        return (0, lifetime_1.live)(self.#h, method, 'Card');
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!Card.#is(this))
            throw (0, errors_1.invalidThis)('Card.closed', 'Card');
        return this.#h < 0;
    }
    /** The device node's path. */
    get path() {
        return native_1.native.kmsDescribe(Card.#open(this, 'Card.path'))[0];
    }
    /** DRM_IOCTL_VERSION: the driver's name ('vkms', 'i915', ...). */
    driverName() {
        return native_1.native.kmsDescribe(Card.#open(this, 'Card.driverName'))[1];
    }
    /** Whether this card holds DRM master (needed to commit). */
    get isMaster() {
        return native_1.native.kmsIsMaster(Card.#open(this, 'Card.isMaster'));
    }
    /** The connectors (DRM_IOCTL_MODE_GETCONNECTOR, which probes each), with their modes. */
    connectors() {
        return native_1.native.kmsConnectors(Card.#open(this, 'Card.connectors'));
    }
    /** The CRTCs in index order. */
    crtcs() {
        return native_1.native.kmsCrtcs(Card.#open(this, 'Card.crtcs'));
    }
    /** The planes with their type, formats (fourcc strings) and, per format, the modifiers of their IN_FORMATS. */
    planes() {
        return native_1.native.kmsPlanes(Card.#open(this, 'Card.planes'));
    }
    /** The properties of a connector, CRTC or plane, with their values (ENOENT for an unknown object). */
    properties(object) {
        const M = 'Card.properties';
        const h = Card.#open(this, M);
        return native_1.native.kmsProperties(h, objectId(M, 'object', object));
    }
    /** DRM_IOCTL_MODE_CREATEPROPBLOB of a mode (from a connector's `modes`): the value for a CRTC's `MODE_ID`. */
    createModeBlob(mode) {
        const M = 'Card.createModeBlob';
        const h = Card.#open(this, M);
        const m = (0, validators_1.objectArg)(M, 'mode', mode, 'a KmsMode object');
        const name = (0, validators_1.str)(M, 'mode.name', (0, validators_1.field)(M, 'mode.name', m, 'name'));
        const numbers = MODE_FIELDS.map(([k, max]) => (0, validators_1.uint)(M, `mode.${k}`, (0, validators_1.field)(M, `mode.${k}`, m, k), max));
        const b = native_1.native.kmsCreateModeBlob(h, name, numbers);
        return new KmsPropertyBlob(lifetime_1.token, b.handle, b.id);
    }
    /**
     * DRM_IOCTL_PRIME_FD_TO_HANDLE of each plane's dma-buf, then
     * DRM_IOCTL_MODE_ADDFB2 of the frame's size, format, modifier, offsets
     * and pitches. With `plane` (a plane or its id), its formats and
     * IN_FORMATS are checked first: EINVAL naming what it takes. The frame
     * stays the caller's.
     */
    addFramebuffer(frame, plane) {
        const M = 'Card.addFramebuffer';
        const h = Card.#open(this, M);
        if (!(frame instanceof frame_1.Frame))
            throw (0, errors_1.invalidType)(M, 'frame', 'an instance of Frame', frame);
        const width = (0, validators_1.uint)(M, 'frame.width', frame.width, validators_1.U32);
        const height = (0, validators_1.uint)(M, 'frame.height', frame.height, validators_1.U32);
        const fourcc = (0, validators_1.uint)(M, 'frame.fourcc', frame.fourcc, validators_1.U32);
        const modifier = frame.modifier;
        if (typeof modifier !== 'bigint')
            throw (0, errors_1.invalidType)(M, 'frame.modifier', 'of type bigint', modifier);
        const planes = frame.planes;
        if (!Array.isArray(planes) || planes.length < 1 || planes.length > 4)
            throw (0, errors_1.invalidValue)(M, 'frame', 'is not a Frame made by new Frame()');
        const bufs = [];
        const offsets = [];
        const pitches = [];
        planes.forEach((p, i) => {
            const q = (0, validators_1.objectArg)(M, `frame.planes[${i}]`, p, 'of type object');
            bufs.push(dma_buf_1.DmaBuf.handleOf(q.buf, M, `frame.planes[${i}].buf`, i));
            offsets.push((0, validators_1.uint)(M, `frame.planes[${i}].offset`, q.offset, validators_1.U32));
            pitches.push((0, validators_1.uint)(M, `frame.planes[${i}].pitch`, q.pitch, validators_1.U32));
        });
        let target;
        if (plane !== undefined) {
            if (typeof plane === 'object' && plane !== null)
                target = objectId(M, 'plane.id', (0, validators_1.field)(M, 'plane.id', plane, 'id'));
            else if (typeof plane === 'number')
                target = objectId(M, 'plane', plane);
            else
                throw (0, errors_1.invalidType)(M, 'plane', 'a KmsPlane or a plane id', plane);
        }
        const fb = native_1.native.kmsAddFramebuffer(h, width, height, fourcc, modifier, bufs, offsets, pitches, target);
        return new Framebuffer(lifetime_1.token, fb.handle, fb.id);
    }
    /** DRM_CLIENT_CAP_WRITEBACK_CONNECTORS: list writeback connectors too (also `Card.open(path, { writeback: true })`). */
    enableWriteback() {
        native_1.native.kmsEnableWriteback(Card.#open(this, 'Card.enableWriteback'));
    }
    /** A new atomic request on this card. */
    atomic() {
        Card.#open(this, 'Card.atomic');
        return new KmsAtomic(lifetime_1.token, this);
    }
    /**
     * Resolves the events the card has queued (page flips of commits with
     * `flipEvent`) once there is at least one, or [] when `timeoutMs` passes
     * first; rejects with an AbortError when `signal` aborts, with
     * ERR_DMABUF_CLOSED when the card is closed meanwhile. No thread waits:
     * the card's fd sits in the event loop. Never throws: every error is a
     * rejection.
     */
    async nextEvents(timeoutMs, signal) {
        const M = 'Card.nextEvents';
        const h = Card.#open(this, M);
        const t = (0, validators_1.timeoutMs)(M, timeoutMs);
        const s = (0, waits_1.liveSignal)(M, signal);
        const id = (0, waits_1.waitId)();
        this.#pending.add(id);
        try {
            const r = await (0, waits_1.abortable)(M, s, id, native_1.native.kmsNextEvents(h, t, id), (i) => native_1.native.kmsCancelEvents(i));
            if (r === null && this.#h < 0)
                throw (0, errors_1.closedError)(M, 'Card');
            return r ?? [];
        }
        finally {
            this.#pending.delete(id);
        }
    }
    /** Closes the card: DRM master is released; its Framebuffers and blobs stay until closed. Calling it again does nothing. */
    close() {
        if (!Card.#is(this))
            throw (0, errors_1.invalidThis)('Card.close', 'Card');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        for (const id of this.#pending)
            native_1.native.kmsCancelEvents(id);
    }
}
exports.Card = Card;
for (const C of [KmsPropertyBlob, Framebuffer, Card]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
Object.defineProperty(KmsAtomic.prototype, Symbol.toStringTag, { value: 'KmsAtomic' });
