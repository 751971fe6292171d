"use strict";
// V4L2 memory-to-memory devices (crates/dmabuf/src/v4l2/m2m.rs): codecs and
// converters with an OUTPUT queue (what goes in) and a CAPTURE queue (what
// comes out) on one open node, after the kernel's "Memory-to-memory Stateful
// Video Encoder/Decoder Interface" documents; and the Encoder and Decoder
// helpers on top of them.
Object.defineProperty(exports, "__esModule", { value: true });
exports.Decoder = exports.Encoder = exports.M2mQueue = exports.M2mDevice = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const waits_1 = require("../internal/waits");
const dma_buf_1 = require("./dma-buf");
const frame_1 = require("./frame");
const v4l2_1 = require("./v4l2");
/** M2mQueue's methods for M2mDevice (symbol keys: no public surface). */
const forget = Symbol('forget');
const forgetAll = Symbol('forgetAll');
/** `V4L2_BUF_FLAG_KEYFRAME`. */
const BUF_FLAG_KEYFRAME = 0x8;
function timestamp(M, v, optional) {
    if (v === undefined && optional)
        return 0;
    if (typeof v !== 'number')
        throw (0, errors_1.invalidType)(M, 'timestampUs', 'of type number', v);
    if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER)
        throw (0, errors_1.outOfRange)(M, 'timestampUs', `an integer >= 0 and <= ${Number.MAX_SAFE_INTEGER}`, v);
    return v;
}
function queueOptions(M, o) {
    if (o === undefined)
        return { bytesused: [], dataOffset: [], timestampUs: 0 };
    if (typeof o !== 'object' || o === null || Array.isArray(o))
        throw (0, errors_1.invalidType)(M, 'options', 'of type object', o);
    const r = o;
    return { bytesused: (0, validators_1.uintList)(M, 'options.bytesused', r.bytesused), dataOffset: (0, validators_1.uintList)(M, 'options.dataOffset', r.dataOffset), timestampUs: timestamp(M, r.timestampUs, true) };
}
/**
 * An open memory-to-memory node: a codec (stateful encoder or decoder) or
 * a converter (scaler, colour converter). Its two queues are `output` and
 * `capture`; `state` follows the kernel documents' state machine, and a
 * call the state does not allow throws `EBUSY` naming the state and the
 * way out, instead of the driver's silence. Codec events
 * (`V4L2_EVENT_EOS`, a decoder's `V4L2_EVENT_SOURCE_CHANGE`) are
 * subscribed when it opens; `nextEvent()` waits for one on the event loop.
 */
class M2mDevice {
    #h;
    #pending = new Set();
    #output;
    #capture;
    #controls = null;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('M2mDevice');
        this.#h = h;
        (0, lifetime_1.own)(this, h);
        const handle = (M) => (0, lifetime_1.live)(this.#h, M, 'M2mDevice');
        this.#output = new M2mQueue(lifetime_1.token, 'output', handle, this.#pending, () => this.#h < 0);
        this.#capture = new M2mQueue(lifetime_1.token, 'capture', handle, this.#pending, () => this.#h < 0);
    }
    /** Opens a memory-to-memory node (read-write, non-blocking); ENOTTY when it is not one. */
    static open(path) {
        return new M2mDevice(lifetime_1.token, native_1.native.m2mOpen((0, validators_1.str)('M2mDevice.open', 'path', path)));
    }
    /** The system's memory-to-memory devices with their roles and the formats of both queues, by path. */
    static list() {
        return native_1.native.m2mList();
    }
    static #open(self, method) {
        if (!M2mDevice.#is(self))
            throw (0, errors_1.invalidThis)(method, 'M2mDevice');
        return (0, lifetime_1.live)(self.#h, method, 'M2mDevice');
    }
    /** The OUTPUT queue: raw frames for an encoder or converter, bitstream for a decoder. */
    get output() {
        M2mDevice.#open(this, 'M2mDevice.output');
        return this.#output;
    }
    /** The CAPTURE queue: what the device gives back. */
    get capture() {
        M2mDevice.#open(this, 'M2mDevice.capture');
        return this.#capture;
    }
    /** What the device does, from the formats of its queues. */
    get role() {
        return native_1.native.m2mStatus(M2mDevice.#open(this, 'M2mDevice.role')).role;
    }
    /** The state, named as the kernel's documents name it: 'Initialization', 'Capture Setup', 'Encoding', 'Decoding', 'Running', 'Dynamic Resolution Change', 'Drain', 'Stopped', 'Reset', 'Seek'. */
    get state() {
        return native_1.native.m2mStatus(M2mDevice.#open(this, 'M2mDevice.state')).state;
    }
    /** The role, the state and both queues' buffer types, streaming and queued counts in one call. */
    status() {
        return native_1.native.m2mStatus(M2mDevice.#open(this, 'M2mDevice.status'));
    }
    /** VIDIOC_QUERYCAP: driver, card, bus and capabilities. */
    capabilities() {
        return native_1.native.m2mCaps(M2mDevice.#open(this, 'M2mDevice.capabilities'));
    }
    /** VIDIOC_G_SELECTION: the visible rectangle (a decoder's CAPTURE compose rectangle, an encoder's OUTPUT crop). */
    visibleRect() {
        return native_1.native.m2mVisibleRect(M2mDevice.#open(this, 'M2mDevice.visibleRect'));
    }
    /** VIDIOC_QUERY_EXT_CTRL of every control: ids, names, types and ranges. */
    controls() {
        return native_1.native.m2mControls(M2mDevice.#open(this, 'M2mDevice.controls'));
    }
    /** VIDIOC_QUERYMENU: the items of menu control `id`. */
    menu(id) {
        const M = 'M2mDevice.menu';
        return native_1.native.m2mMenu(M2mDevice.#open(this, M), (0, validators_1.uint)(M, 'id', id, validators_1.U32));
    }
    #ids(M, h, keys) {
        return keys.map((k, i) => {
            if (typeof k === 'number')
                return (0, validators_1.uint)(M, `ids[${i}]`, k, validators_1.U32);
            if (typeof k !== 'string')
                throw (0, errors_1.invalidType)(M, `ids[${i}]`, 'of type number or string', k);
            this.#controls ??= new Map(native_1.native.m2mControls(h).map((c) => [c.name, c]));
            const c = this.#controls.get(k);
            if (c === undefined)
                throw (0, errors_1.osError)('EINVAL', 22, 'VIDIOC_QUERY_EXT_CTRL', `the device has no control named ${JSON.stringify(k)} (controls() lists them), ${M}`);
            return c.id;
        });
    }
    /** VIDIOC_G_EXT_CTRLS: the values of controls given by id or by name ('FWHT I-Frame QP Value'). */
    getControls(ids) {
        const M = 'M2mDevice.getControls';
        const h = M2mDevice.#open(this, M);
        if (!Array.isArray(ids))
            throw (0, errors_1.invalidType)(M, 'ids', 'an instance of Array', ids);
        return native_1.native.m2mGetControls(h, this.#ids(M, h, ids));
    }
    static #set(self, M, values, tryOnly) {
        const h = M2mDevice.#open(self, M);
        const dev = self;
        if (typeof values !== 'object' || values === null || Array.isArray(values))
            throw (0, errors_1.invalidType)(M, 'values', 'of type object', values);
        const keys = Object.keys(values);
        const ids = dev.#ids(M, h, keys.map((k) => (/^\d+$/.test(k) ? Number(k) : k)));
        const vals = keys.map((k) => {
            const v = values[k];
            if (typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'string')
                throw (0, errors_1.invalidType)(M, `values[${JSON.stringify(k)}]`, 'of type number, bigint or string', v);
            return v;
        });
        const kept = native_1.native.m2mSetControls(h, ids, vals, tryOnly);
        return Object.fromEntries(keys.map((k, i) => [k, kept[i]]));
    }
    /**
     * VIDIOC_S_EXT_CTRLS, all at once: `{ 'FWHT I-Frame QP Value': 1, ... }`
     * (names or numeric ids as keys; numbers for 32-bit and menu controls,
     * bigints for 64-bit ones, strings for string controls). Returns what the
     * driver kept, by the same keys.
     */
    setControls(values) {
        return M2mDevice.#set(this, 'M2mDevice.setControls', values, false);
    }
    /** VIDIOC_TRY_EXT_CTRLS: what setControls would keep, changing nothing. */
    tryControls(values) {
        return M2mDevice.#set(this, 'M2mDevice.tryControls', values, true);
    }
    /**
     * VIDIOC_DQEVENT once an event is pending (`POLLPRI` watched by the event
     * loop, no thread): resolves with it, or null when `timeoutMs` passes
     * first (none or Infinity: no limit); AbortError when `signal` aborts;
     * ERR_DMABUF_CLOSED when the device is closed meanwhile. A decoder's
     * 'source-change' moves it to Capture Setup (or Dynamic Resolution
     * Change while decoding). Two waits may race for one event: the one that
     * finds none waits on.
     */
    async nextEvent(timeoutMs, signal) {
        const M = 'M2mDevice.nextEvent';
        const h = M2mDevice.#open(this, M);
        const t = (0, validators_1.timeoutMs)(M, timeoutMs);
        const deadline = t < 0 ? Infinity : performance.now() + t;
        for (;;) {
            const left = deadline === Infinity ? undefined : Math.max(0, deadline - performance.now());
            try {
                return await (0, v4l2_1.v4l2Dequeue)(M, left, signal, {
                    cls: 'M2mDevice',
                    start: (ms, id) => native_1.native.m2mWait(h, 'event', ms, id),
                    pending: this.#pending,
                    closed: () => this.#h < 0,
                    take: () => native_1.native.m2mTryDequeueEvent(h),
                });
            }
            catch (e) {
                // Ready with no event: another wait took it (the kernel reports no error state for events alone).
                if (e.code !== 'EPIPE' || left === 0)
                    throw e;
            }
        }
    }
    /** VIDIOC_DQEVENT without waiting: the oldest pending event, or null. */
    tryNextEvent() {
        return native_1.native.m2mTryDequeueEvent(M2mDevice.#open(this, 'M2mDevice.tryNextEvent'));
    }
    /**
     * The drain (V4L2_ENC_CMD_STOP / V4L2_DEC_CMD_STOP): the OUTPUT buffers
     * queued so far are processed, the last CAPTURE buffer carries `last`, a
     * 'eos' event follows. EBUSY outside Encoding/Decoding; ENOTTY for a
     * converter.
     */
    drain() {
        native_1.native.m2mCommand(M2mDevice.#open(this, 'M2mDevice.drain'), 'drain');
    }
    /** V4L2_ENC_CMD_START / V4L2_DEC_CMD_START: resumes after a drain (Stopped). */
    start() {
        native_1.native.m2mCommand(M2mDevice.#open(this, 'M2mDevice.start'), 'start');
    }
    /** The reset: VIDIOC_STREAMOFF of both queues (buffers stay allocated) to Initialization; every DmaBuf of a DMABUF slot comes back to its queue's `streamOff` list semantics (dropped from the queue). */
    reset() {
        const back = native_1.native.m2mReset(M2mDevice.#open(this, 'M2mDevice.reset'));
        for (let i = 0; i < back.length; i += 2)
            (back[i] === 0 ? this.#output : this.#capture)[forget](back[i + 1]);
    }
    /** Closes the node; pending dequeues and event waits reject with ERR_DMABUF_CLOSED. Exported DmaBufs stay open (they are yours). */
    close() {
        if (!M2mDevice.#is(this))
            throw (0, errors_1.invalidThis)('M2mDevice.close', 'M2mDevice');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        this.#output[forgetAll]();
        this.#capture[forgetAll]();
        for (const id of this.#pending)
            native_1.native.v4l2CancelWait(id);
    }
}
exports.M2mDevice = M2mDevice;
/**
 * One queue of an M2mDevice (`device.output`, `device.capture`). Its
 * buffers are MMAP (the driver's memory, exportable as DmaBufs) or DMABUF
 * slots (DmaBufs from anywhere, held until they are dequeued: closing one
 * meanwhile closes only your fd, the memory stays alive for the driver).
 */
class M2mQueue {
    #name;
    #h;
    #pending;
    #closed;
    #held = new Map();
    /** @internal */
    constructor(key, name, h, pending, closed) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('M2mQueue');
        this.#name = name;
        this.#h = h;
        this.#pending = pending;
        this.#closed = closed;
    }
    static #check(self, M) {
        if (typeof self !== 'object' || self === null || !(#name in self))
            throw (0, errors_1.invalidThis)(M, 'M2mQueue');
        return self;
    }
    /** Drops (and returns) the DmaBufs held for a slot the driver gave back: for M2mDevice, keyed by a symbol so that it is no public method. */
    [forget](index) {
        const b = this.#held.get(index) ?? [];
        this.#held.delete(index);
        return b;
    }
    [forgetAll]() {
        this.#held.clear();
    }
    /** 'output' or 'capture'. */
    get name() {
        return M2mQueue.#check(this, 'M2mQueue.name').#name;
    }
    /** VIDIOC_ENUM_FMT: the formats this queue takes (a decoder's CAPTURE list may depend on the stream). */
    formats() {
        const q = M2mQueue.#check(this, 'M2mQueue.formats');
        return native_1.native.m2mFormats(q.#h('M2mQueue.formats'), q.#name);
    }
    /** VIDIOC_G_FMT. */
    format() {
        const q = M2mQueue.#check(this, 'M2mQueue.format');
        return native_1.native.m2mFormat(q.#h('M2mQueue.format'), q.#name);
    }
    /**
     * VIDIOC_S_FMT after checking that the queue lists the pixel format (a
     * driver would silently pick another): EINVAL naming what it takes.
     * With `exact`, a changed size or format is EINVAL naming the driver's
     * choice. EBUSY while the queue streams or, for a decoder's CAPTURE
     * queue, before the stream's format is known.
     */
    setFormat(format, exact) {
        const M = 'M2mQueue.setFormat';
        const q = M2mQueue.#check(this, M);
        const h = q.#h(M);
        const f = (0, v4l2_1.formatRequest)(M, format);
        if (exact !== undefined && typeof exact !== 'boolean')
            throw (0, errors_1.invalidType)(M, 'exact', 'of type boolean', exact);
        return native_1.native.m2mSetFormat(h, q.#name, f, exact === true ? 'exact' : 'set');
    }
    /** VIDIOC_TRY_FMT: what the driver would choose. */
    tryFormat(format) {
        const M = 'M2mQueue.tryFormat';
        const q = M2mQueue.#check(this, M);
        return native_1.native.m2mSetFormat(q.#h(M), q.#name, (0, v4l2_1.formatRequest)(M, format), 'try');
    }
    /** VIDIOC_REQBUFS: `count` buffers of `memory` (default 'mmap'); 0 frees them. Returns how many the driver made. */
    requestBuffers(count, memory) {
        const M = 'M2mQueue.requestBuffers';
        const q = M2mQueue.#check(this, M);
        const h = q.#h(M);
        const n = (0, validators_1.uint)(M, 'count', count, validators_1.U32);
        const mem = memory === undefined ? 'mmap' : memory;
        if (typeof mem !== 'string')
            throw (0, errors_1.invalidType)(M, 'memory', 'of type string', mem);
        if (mem !== 'mmap' && mem !== 'dmabuf')
            throw (0, errors_1.invalidValue)(M, 'memory', `must be 'mmap' or 'dmabuf'. Received ${JSON.stringify(mem)}`);
        const got = native_1.native.m2mRequestBuffers(h, q.#name, mem, n);
        q.#held.clear();
        return got;
    }
    /** VIDIOC_EXPBUF of every plane of MMAP buffer `index`: new read-write DmaBufs over the driver's memory (yours to close). */
    exportBuffer(index) {
        const M = 'M2mQueue.exportBuffer';
        const q = M2mQueue.#check(this, M);
        const h = q.#h(M);
        const i = (0, validators_1.uint)(M, 'index', index, validators_1.U32);
        const planes = native_1.native.m2mFormat(h, q.#name).planes.length;
        const out = [];
        try {
            for (let p = 0; p < Math.max(1, planes); p++)
                out.push(new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.m2mExport(h, q.#name, i, p)));
        }
        catch (e) {
            for (const b of out)
                b.close();
            throw e;
        }
        return out;
    }
    /** VIDIOC_QBUF of MMAP buffer `index` (OUTPUT: with each plane's `bytesused`; `timestampUs` comes back on the CAPTURE buffer made from it). */
    queue(index, options) {
        const M = 'M2mQueue.queue';
        const q = M2mQueue.#check(this, M);
        const h = q.#h(M);
        const i = (0, validators_1.uint)(M, 'index', index, validators_1.U32);
        const o = queueOptions(M, options);
        native_1.native.m2mQueue(h, q.#name, i, o.bytesused, o.timestampUs);
    }
    /**
     * VIDIOC_QBUF of DmaBufs (one per memory plane, or a Frame's) into a
     * DMABUF slot; returns the V4L2 index. The queue keeps the objects, and
     * natively a duplicate of each fd, until the buffer is dequeued. Queueing
     * the same dma-bufs again reuses their slot (the driver keeps its import).
     */
    queueDmaBuf(buffers, options) {
        const M = 'M2mQueue.queueDmaBuf';
        const q = M2mQueue.#check(this, M);
        const h = q.#h(M);
        const list = frame_1.Frame.isFrame(buffers) ? (0, frame_1.frameBuffers)(buffers) : buffers;
        const hs = (0, validators_1.handles)(M, 'buffers', list, (b, i) => dma_buf_1.DmaBuf.handleOf(b, M, 'buffers', i));
        const o = queueOptions(M, options);
        const index = native_1.native.m2mQueueDmaBuf(h, q.#name, Array.from(hs), o.bytesused, o.dataOffset, o.timestampUs);
        q.#held.set(index, list.slice());
        return index;
    }
    #take(got) {
        if (got === null)
            return null;
        return { info: got.info, buffers: this[forget](got.info.index), last: got.last };
    }
    /** VIDIOC_DQBUF without waiting: the buffer, or null when none is done. EBUSY after the last CAPTURE buffer of a drain. */
    tryDequeue() {
        const M = 'M2mQueue.tryDequeue';
        const q = M2mQueue.#check(this, M);
        return q.#take(native_1.native.m2mTryDequeue(q.#h(M), q.#name));
    }
    /**
     * VIDIOC_DQBUF once a buffer is done (the node's fd in the event loop,
     * `POLLOUT` for OUTPUT and `POLLIN` for CAPTURE; no thread): resolves
     * with it, or null when `timeoutMs` passes (none or Infinity: no
     * limit); AbortError when `signal` aborts; ERR_DMABUF_CLOSED when the
     * device is closed meanwhile.
     */
    async dequeue(timeoutMs, signal) {
        const M = 'M2mQueue.dequeue';
        const q = M2mQueue.#check(this, M);
        const h = q.#h(M);
        const name = q.#name;
        return (0, v4l2_1.v4l2Dequeue)(M, timeoutMs, signal, {
            cls: 'M2mDevice',
            start: (t, id) => native_1.native.m2mWait(h, name, t, id),
            pending: q.#pending,
            closed: q.#closed,
            take: () => q.#take(native_1.native.m2mTryDequeue(h, name)),
            idle: 'the device reported an error on poll (neither queue streams with buffers queued)',
        });
    }
    /** VIDIOC_STREAMON. */
    streamOn() {
        const q = M2mQueue.#check(this, 'M2mQueue.streamOn');
        native_1.native.m2mStreamOn(q.#h('M2mQueue.streamOn'), q.#name);
    }
    /** VIDIOC_STREAMOFF: the driver gives back every buffer; returns the DmaBufs of the DMABUF slots it held. */
    streamOff() {
        const q = M2mQueue.#check(this, 'M2mQueue.streamOff');
        return native_1.native.m2mStreamOff(q.#h('M2mQueue.streamOff'), q.#name).map((i) => q[forget](i));
    }
    /** How many buffers of this queue the driver holds. */
    get queued() {
        const q = M2mQueue.#check(this, 'M2mQueue.queued');
        const s = native_1.native.m2mStatus(q.#h('M2mQueue.queued'));
        return q.#name === 'output' ? s.outputQueued : s.captureQueued;
    }
    /** Whether this queue streams. */
    get streaming() {
        const q = M2mQueue.#check(this, 'M2mQueue.streaming');
        const s = native_1.native.m2mStatus(q.#h('M2mQueue.streaming'));
        return q.#name === 'output' ? s.outputStreaming : s.captureStreaming;
    }
}
exports.M2mQueue = M2mQueue;
for (const C of [M2mDevice, M2mQueue]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
}
{
    const proto = M2mDevice.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
// ---------------------------------------------------------------------------
// Encoder and Decoder
/** The device to use: `path`, else the first of `M2mDevice.list()` with `role` whose coded queue lists `coded`. */
function codecPath(M, role, path, coded) {
    if (path !== undefined)
        return (0, validators_1.str)(M, 'options.path', path);
    const side = role === 'encoder' ? 'captureFormats' : 'outputFormats';
    const n = native_1.native.m2mList().find((x) => x.role === role && x[side].some((f) => f.pixelformat === coded));
    if (n === undefined)
        throw (0, errors_1.osError)('ENODEV', 19, 'open', `no ${role} for ${coded} (M2mDevice.list() shows the memory-to-memory devices), ${M}`);
    return n.path;
}
/**
 * Opens the codec for `coded` (`codecPath`), checks its role and runs
 * `setup` on it with a list for the DmaBufs it exports; if anything
 * throws, those and the device are closed before the error goes on.
 */
function openCodec(M, role, path, coded, setup) {
    const dev = M2mDevice.open(codecPath(M, role, path, coded));
    const bufs = [];
    try {
        if (dev.role !== role)
            throw (0, errors_1.osError)('EINVAL', 22, 'VIDIOC_ENUM_FMT', `${String(path)} is a ${dev.role}, not ${role === 'encoder' ? 'an encoder' : 'a decoder'}, ${M}`);
        return setup(dev, bufs);
    }
    catch (e) {
        for (const b of bufs)
            b.close();
        dev.close();
        throw e;
    }
}
function options(M, o) {
    if (typeof o !== 'object' || o === null)
        throw (0, errors_1.invalidType)(M, 'options', 'of type object', o);
    return o;
}
function fourcc(M, name, v) {
    const s = (0, validators_1.str)(M, name, v);
    if (!/^[\x20-\x7e]{4}$/.test(s))
        throw (0, errors_1.invalidValue)(M, name, `must be four ASCII characters. Received ${JSON.stringify(s)}`);
    return s;
}
/** Waiters for a slot of a fixed set: `take()` resolves with a free index, in arrival order. */
class Slots {
    #free = [];
    #waiters = [];
    #error = null;
    give(i) {
        const w = this.#waiters.shift();
        if (w)
            w.ok(i);
        else
            this.#free.push(i);
    }
    get free() {
        return this.#free.length;
    }
    take() {
        if (this.#error !== null)
            return Promise.reject(this.#error);
        const i = this.#free.shift();
        if (i !== undefined)
            return Promise.resolve(i);
        return new Promise((ok, fail) => this.#waiters.push({ ok, fail }));
    }
    fail(e) {
        this.#error = e;
        for (const w of this.#waiters.splice(0))
            w.fail(e);
    }
}
/**
 * A stateful encoder, raw frames in, coded chunks out, with no copy: each
 * frame's dma-bufs are imported (DMABUF) into the OUTPUT queue, and each
 * chunk is a CAPTURE buffer the encoder wrote, exported once as a DmaBuf.
 *
 * `encode()` resolves once the encoder is done reading the frame (reuse
 * it then); `read()` gives the chunks in order; `flush()` drains, after
 * which `read()` returns the rest and then null. Run `read()` concurrently
 * with `encode()` (a reader loop) and release each chunk: the encoder
 * stops when it has no free CAPTURE buffer.
 */
class Encoder {
    #dev;
    #format;
    #coded;
    #capBufs;
    #slots = new Slots();
    #inflight = new Map();
    #pump = null;
    #ended = false;
    #flushed = false;
    /** encode() calls between their checks and their VIDIOC_QBUF (waiting for a slot). */
    #queuing = new Set();
    /** @internal */
    constructor(key, dev, format, coded, capBufs, slots) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Encoder');
        this.#dev = dev;
        this.#format = format;
        this.#coded = coded;
        this.#capBufs = capBufs;
        for (let i = 0; i < slots; i++)
            this.#slots.give(i);
    }
    /**
     * Opens and starts an encoder: controls, the OUTPUT format (exactly the
     * frames' size and pixel format), the CAPTURE format (`codedFormat` at
     * that size), DMABUF slots on OUTPUT, MMAP buffers on CAPTURE exported
     * once and queued, both queues streaming (state Encoding).
     */
    static open(options_) {
        const M = 'Encoder.open';
        const o = options(M, options_);
        const coded = fourcc(M, 'options.codedFormat', o.codedFormat);
        const width = (0, validators_1.uint)(M, 'options.width', o.width, validators_1.U32);
        const height = (0, validators_1.uint)(M, 'options.height', o.height, validators_1.U32);
        const pixelformat = fourcc(M, 'options.pixelformat', o.pixelformat);
        const slots = o.inputSlots === undefined ? 4 : (0, validators_1.uint)(M, 'options.inputSlots', o.inputSlots, 32);
        const nCap = o.outputBuffers === undefined ? 4 : (0, validators_1.uint)(M, 'options.outputBuffers', o.outputBuffers, 32);
        if (slots < 1)
            throw (0, errors_1.outOfRange)(M, 'options.inputSlots', '>= 1 and <= 32', slots);
        if (nCap < 1)
            throw (0, errors_1.outOfRange)(M, 'options.outputBuffers', '>= 1 and <= 32', nCap);
        return openCodec(M, 'encoder', o.path, coded, (dev, bufs) => {
            if (o.controls !== undefined)
                dev.setControls(o.controls);
            const format = dev.output.setFormat({ width, height, pixelformat }, true);
            const codedFmt = dev.capture.setFormat({ width, height, pixelformat: coded });
            const n = dev.output.requestBuffers(slots, 'dmabuf');
            const c = dev.capture.requestBuffers(nCap, 'mmap');
            for (let i = 0; i < c; i++)
                bufs.push(dev.capture.exportBuffer(i)[0]);
            for (let i = 0; i < c; i++)
                dev.capture.queue(i);
            dev.output.streamOn();
            dev.capture.streamOn();
            return new Encoder(lifetime_1.token, dev, format, codedFmt, bufs, n);
        });
    }
    static #check(self, M) {
        if (typeof self !== 'object' || self === null || !(#dev in self))
            throw (0, errors_1.invalidThis)(M, 'Encoder');
        return self;
    }
    /** The device (for its controls, state and events). */
    get device() {
        return Encoder.#check(this, 'Encoder.device').#dev;
    }
    /** The OUTPUT (raw) format in effect. */
    get format() {
        return Encoder.#check(this, 'Encoder.format').#format;
    }
    /** The CAPTURE (coded) format in effect. */
    get codedFormat() {
        return Encoder.#check(this, 'Encoder.codedFormat').#coded;
    }
    /** Dequeues OUTPUT buffers while frames are in flight, resolving their encode() calls. */
    async #run() {
        try {
            while (this.#inflight.size > 0) {
                const d = await this.#dev.output.dequeue();
                if (d === null)
                    continue;
                const w = this.#inflight.get(d.info.index);
                this.#inflight.delete(d.info.index);
                this.#slots.give(d.info.index);
                w?.ok();
            }
        }
        catch (e) {
            for (const w of this.#inflight.values())
                w.fail(e);
            this.#inflight.clear();
            this.#slots.fail(e);
        }
        finally {
            this.#pump = null;
        }
    }
    /**
     * Queues a frame (a Frame, or its DmaBufs, one per memory plane) with
     * its timestamp; waits for a free slot first when `inputSlots` frames are
     * in flight. Resolves once the encoder has read the frame (its OUTPUT
     * buffer came back): the frame's memory is yours again.
     */
    async encode(frame, timestampUs) {
        const M = 'Encoder.encode';
        const self = Encoder.#check(this, M);
        const ts = timestamp(M, timestampUs, false);
        const list = frame instanceof dma_buf_1.DmaBuf ? [frame] : frame_1.Frame.isFrame(frame) ? (0, frame_1.frameBuffers)(frame) : frame;
        if (!Array.isArray(list))
            throw (0, errors_1.invalidType)(M, 'frame', 'a Frame, a DmaBuf or an Array of DmaBuf', frame);
        if (self.#flushed)
            throw (0, errors_1.osError)('EBUSY', 16, 'VIDIOC_QBUF', `the encoder was flushed; open a new one, ${M}`);
        const sizes = self.#format.planes.map((p) => p.sizeimage);
        const slot = self.#slots.take();
        self.#queuing.add(slot);
        try {
            await slot;
        }
        finally {
            self.#queuing.delete(slot);
        }
        const done = new Promise((ok, fail) => {
            let index;
            try {
                index = self.#dev.output.queueDmaBuf(list, { bytesused: sizes.slice(0, list.length), timestampUs: ts });
            }
            catch (e) {
                fail(e);
                return;
            }
            self.#inflight.set(index, { ok, fail });
        });
        // The slot taken above is the one the driver fills (DMABUF slots are
        // chosen by inode); the pump gives back whichever comes back.
        self.#pump ??= self.#run();
        return done;
    }
    /**
     * The next coded chunk: resolves with it, null once the stream ended
     * (after `flush()`), or null when `timeoutMs` passes first. `release()`
     * each chunk when done with it.
     */
    async read(timeoutMs, signal) {
        const M = 'Encoder.read';
        const self = Encoder.#check(this, M);
        (0, validators_1.timeoutMs)(M, timeoutMs);
        if (self.#ended)
            return null;
        const d = await self.#dev.capture.dequeue(timeoutMs, signal);
        if (d === null)
            return null;
        const p = d.info.planes[0];
        if (d.last)
            self.#ended = true;
        if (d.last && p.bytesused - p.dataOffset === 0)
            return null;
        let released = false;
        const dev = self.#dev;
        return {
            buffer: self.#capBufs[d.info.index],
            offset: p.dataOffset,
            size: p.bytesused - p.dataOffset,
            timestampUs: d.info.timestampUs,
            keyFrame: (d.info.flags & BUF_FLAG_KEYFRAME) !== 0,
            sequence: d.info.sequence,
            release: () => {
                if (released || self.#ended)
                    return;
                released = true;
                dev.capture.queue(d.info.index);
            },
        };
    }
    /**
     * The drain, once every `encode()` called so far has queued its frame:
     * those frames are encoded, `read()` returns their chunks, then null.
     * Resolves once the drain command was sent; later `encode()` calls fail
     * with EBUSY.
     */
    async flush() {
        const self = Encoder.#check(this, 'Encoder.flush');
        if (self.#flushed)
            return;
        self.#flushed = true;
        while (self.#queuing.size > 0)
            await Promise.allSettled([...self.#queuing]);
        self.#dev.drain();
    }
    /** Closes the device and the CAPTURE buffers' DmaBufs; pending calls reject with ERR_DMABUF_CLOSED. */
    close() {
        const self = Encoder.#check(this, 'Encoder.close');
        self.#dev.close();
        for (const b of self.#capBufs)
            b.close();
        self.#slots.fail((0, errors_1.closedError)('Encoder.encode', 'Encoder'));
    }
    [Symbol.dispose]() {
        this.close();
    }
}
exports.Encoder = Encoder;
/**
 * A stateful decoder, coded chunks in, Frames out. Chunks are written into
 * MMAP OUTPUT buffers (the bitstream is copied once, into the driver's
 * memory; frames never are); frames are CAPTURE buffers exported once.
 * The kernel document's flow is followed: the CAPTURE queue is set up
 * after the stream's 'source-change' event, and again at each resolution
 * change; `flush()` drains. Run `read()` concurrently with `decode()`.
 */
class Decoder {
    #dev;
    #pixelformat;
    #nFrames;
    #outBufs;
    #outSlots = new Slots();
    #outQueued = 0;
    #outPump = null;
    #outIdle = [];
    #capBufs = [];
    #capFormat = null;
    #visible = null;
    #epoch = 0;
    #flush = null;
    #drained = false;
    #ended = false;
    #reading = null;
    /** @internal */
    constructor(key, dev, outBufs, pixelformat, nFrames) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Decoder');
        this.#dev = dev;
        this.#outBufs = outBufs;
        this.#pixelformat = pixelformat;
        this.#nFrames = nFrames;
        for (let i = 0; i < outBufs.length; i++)
            this.#outSlots.give(i);
    }
    /** Opens a decoder: the OUTPUT format (`codedFormat`), MMAP bitstream buffers exported once, OUTPUT streaming (state Initialization). */
    static open(options_) {
        const M = 'Decoder.open';
        const o = options(M, options_);
        const coded = fourcc(M, 'options.codedFormat', o.codedFormat);
        const pixelformat = o.pixelformat === undefined ? null : fourcc(M, 'options.pixelformat', o.pixelformat);
        const width = o.width === undefined ? 1280 : (0, validators_1.uint)(M, 'options.width', o.width, validators_1.U32);
        const height = o.height === undefined ? 720 : (0, validators_1.uint)(M, 'options.height', o.height, validators_1.U32);
        const nIn = o.inputBuffers === undefined ? 4 : (0, validators_1.uint)(M, 'options.inputBuffers', o.inputBuffers, 32);
        const nFrames = o.frameBuffers === undefined ? 4 : (0, validators_1.uint)(M, 'options.frameBuffers', o.frameBuffers, 32);
        if (nIn < 1)
            throw (0, errors_1.outOfRange)(M, 'options.inputBuffers', '>= 1 and <= 32', nIn);
        if (nFrames < 1)
            throw (0, errors_1.outOfRange)(M, 'options.frameBuffers', '>= 1 and <= 32', nFrames);
        return openCodec(M, 'decoder', o.path, coded, (dev, bufs) => {
            dev.output.setFormat({ width, height, pixelformat: coded });
            const n = dev.output.requestBuffers(nIn, 'mmap');
            for (let i = 0; i < n; i++)
                bufs.push(dev.output.exportBuffer(i)[0]);
            dev.output.streamOn();
            return new Decoder(lifetime_1.token, dev, bufs, pixelformat, nFrames);
        });
    }
    static #check(self, M) {
        if (typeof self !== 'object' || self === null || !(#dev in self))
            throw (0, errors_1.invalidThis)(M, 'Decoder');
        return self;
    }
    /** The device (for its state, controls and events). */
    get device() {
        return Decoder.#check(this, 'Decoder.device').#dev;
    }
    /** The CAPTURE format once the stream's is known (after the first frames), else null. */
    get format() {
        return Decoder.#check(this, 'Decoder.format').#capFormat;
    }
    async #runOutput() {
        try {
            while (this.#outQueued > 0) {
                const d = await this.#dev.output.dequeue();
                if (d === null)
                    continue;
                this.#outQueued--;
                this.#outSlots.give(d.info.index);
            }
            for (const w of this.#outIdle.splice(0))
                w();
        }
        catch (e) {
            this.#outSlots.fail(e);
            this.#flush?.fail(e);
        }
        finally {
            this.#outPump = null;
        }
    }
    /**
     * Copies one coded chunk (a whole frame, for FWHT) into a free OUTPUT
     * buffer and queues it with its timestamp; waits for a free buffer
     * first. Resolves once it is queued. E2BIG when the chunk is larger than
     * the buffers (`inputBuffers` of the OUTPUT format's sizeimage).
     */
    async decode(chunk, timestampUs) {
        const M = 'Decoder.decode';
        const self = Decoder.#check(this, M);
        if (!(chunk instanceof Uint8Array))
            throw (0, errors_1.invalidType)(M, 'chunk', 'an instance of Uint8Array', chunk);
        const ts = timestamp(M, timestampUs, false);
        if (self.#flush !== null)
            throw (0, errors_1.osError)('EBUSY', 16, 'VIDIOC_QBUF', `the decoder was flushed; open a new one, ${M}`);
        const i = await self.#outSlots.take();
        const buf = self.#outBufs[i];
        if (chunk.length > buf.size) {
            self.#outSlots.give(i);
            throw (0, errors_1.osError)('E2BIG', 7, 'VIDIOC_QBUF', `the chunk has ${chunk.length} bytes and the OUTPUT buffers ${buf.size}, ${M}`);
        }
        try {
            buf.write(0, chunk);
            self.#dev.output.queue(i, { bytesused: [chunk.length], timestampUs: ts });
        }
        catch (e) {
            self.#outSlots.give(i);
            throw e;
        }
        self.#outQueued++;
        self.#outPump ??= self.#runOutput();
    }
    /** The CAPTURE setup of the document: stop, free, read the stream's format, set it (with `pixelformat`), allocate, export, queue, start. */
    #setupCapture() {
        const dev = this.#dev;
        if (dev.capture.streaming)
            dev.capture.streamOff();
        for (const b of this.#capBufs)
            b.close();
        this.#capBufs = [];
        dev.capture.requestBuffers(0);
        const known = dev.capture.format();
        const visible = dev.visibleRect();
        const want = this.#pixelformat ?? known.pixelformat;
        this.#capFormat = dev.capture.setFormat({ width: visible.width, height: visible.height, pixelformat: want });
        this.#visible = dev.visibleRect();
        const n = dev.capture.requestBuffers(this.#nFrames, 'mmap');
        for (let i = 0; i < n; i++)
            this.#capBufs.push(dev.capture.exportBuffer(i)[0]);
        for (let i = 0; i < n; i++)
            dev.capture.queue(i);
        this.#epoch++;
        dev.capture.streamOn();
    }
    /** Whether every OUTPUT buffer is back (what vicodec needs before a drain that must not cross a CAPTURE restart). */
    #outputIdle() {
        if (this.#outQueued === 0)
            return Promise.resolve();
        return new Promise((ok) => this.#outIdle.push(ok));
    }
    async #drainWhenReady(signal) {
        await this.#outputIdle();
        if (signal.aborted || this.#drained || this.#ended)
            return;
        const state = this.#dev.state;
        if (state === 'Decoding') {
            this.#dev.drain();
            this.#drained = true;
        }
    }
    /**
     * The next decoded frame, in order: resolves with it, null once the
     * stream ended (after `flush()`), or null when `timeoutMs` passes. Sets
     * up the CAPTURE queue on the stream's 'source-change' (and again on a
     * resolution change). `release()` each frame when done with it.
     */
    async read(timeoutMs, signal) {
        const M = 'Decoder.read';
        const self = Decoder.#check(this, M);
        const limit = (0, validators_1.timeoutMs)(M, timeoutMs);
        (0, waits_1.liveSignal)(M, signal);
        const deadline = limit < 0 ? Infinity : Date.now() + limit;
        const dev = self.#dev;
        for (;;) {
            if (self.#ended)
                return null;
            for (let ev = dev.tryNextEvent(); ev !== null; ev = dev.tryNextEvent()) {
                if (ev.kind === 'eos' && self.#drained && !dev.capture.streaming)
                    self.#ended = true;
            }
            const state = dev.state;
            if (state === 'Capture Setup')
                self.#setupCapture();
            if (self.#ended)
                return null;
            const left = deadline === Infinity ? undefined : Math.max(0, deadline - Date.now());
            const ac = new AbortController();
            self.#reading = ac;
            const onAbort = () => ac.abort(signal?.reason);
            signal?.addEventListener('abort', onAbort, { once: true });
            try {
                if (!dev.capture.streaming) {
                    // Initialization: the stream's format comes with 'source-change'.
                    if (self.#flush !== null && self.#outQueued === 0 && dev.state === 'Initialization') {
                        self.#ended = true;
                        self.#flush.ok();
                        return null;
                    }
                    let ev;
                    try {
                        ev = await dev.nextEvent(left, ac.signal);
                    }
                    catch (e) {
                        // flush() woke this wait to look again; the caller's own abort is theirs.
                        if (ac.signal.aborted && !signal?.aborted)
                            continue;
                        throw e;
                    }
                    if (ev === null)
                        return null;
                    if (ev.kind === 'source-change' && dev.state === 'Capture Setup')
                        self.#setupCapture();
                    continue;
                }
                if (self.#flush !== null && !self.#drained)
                    void self.#drainWhenReady(ac.signal).catch((e) => self.#flush?.fail(e));
                const d = await dev.capture.dequeue(left, ac.signal);
                if (d === null)
                    return null;
                const epoch = self.#epoch;
                const p = d.info.planes[0];
                if (d.last) {
                    // The end of a drain (Stopped) or of a resolution change (Capture Setup next turn).
                    if (dev.state === 'Stopped' && self.#drained) {
                        self.#ended = true;
                        self.#flush?.ok();
                    }
                    if (p.bytesused - p.dataOffset === 0)
                        continue;
                }
                const format = self.#capFormat;
                const frame = frame_1.Frame.fromV4l2(format, d.info, [self.#capBufs[d.info.index]]);
                let released = false;
                return {
                    frame,
                    format,
                    visible: self.#visible,
                    timestampUs: d.info.timestampUs,
                    sequence: d.info.sequence,
                    release: () => {
                        if (released)
                            return;
                        released = true;
                        frame.close();
                        if (epoch === self.#epoch && !d.last && !self.#ended && dev.capture.streaming)
                            dev.capture.queue(d.info.index);
                    },
                };
            }
            finally {
                signal?.removeEventListener('abort', onAbort);
                self.#reading = null;
            }
        }
    }
    /**
     * Ends the stream: once every chunk queued so far is decoded, the drain
     * (V4L2_DEC_CMD_STOP); `read()` returns the remaining frames, then null.
     * Resolves when the last frame was read.
     */
    flush() {
        const self = Decoder.#check(this, 'Decoder.flush');
        if (self.#flush === null) {
            let ok;
            let fail;
            const promise = new Promise((a, b) => {
                ok = a;
                fail = b;
            });
            self.#flush = { ok, fail, promise };
            promise.catch(() => { });
            // A read waiting for an event that cannot come (no chunk at all) looks again.
            if (!self.#dev.capture.streaming)
                self.#reading?.abort();
        }
        return self.#flush.promise;
    }
    /** Closes the device and the buffers' DmaBufs; pending calls reject with ERR_DMABUF_CLOSED. */
    close() {
        const self = Decoder.#check(this, 'Decoder.close');
        self.#dev.close();
        for (const b of self.#outBufs)
            b.close();
        for (const b of self.#capBufs)
            b.close();
        self.#outSlots.fail((0, errors_1.closedError)('Decoder.decode', 'Decoder'));
    }
    [Symbol.dispose]() {
        this.close();
    }
}
exports.Decoder = Decoder;
