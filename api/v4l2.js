"use strict";
// V4L2 (crates/dmabuf/src/v4l2.rs): device buffers exported as dma-bufs,
// dma-bufs imported into a queue.
Object.defineProperty(exports, "__esModule", { value: true });
exports.V4l2DmaBufQueue = exports.V4l2Device = void 0;
exports.formatRequest = formatRequest;
exports.v4l2Dequeue = v4l2Dequeue;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const waits_1 = require("../internal/waits");
const dma_buf_1 = require("./dma-buf");
function formatRequest(method, f) {
    if (typeof f !== 'object' || f === null || Array.isArray(f))
        throw (0, errors_1.invalidType)(method, 'format', 'of type object', f);
    const r = f;
    const pixelformat = (0, validators_1.str)(method, 'format.pixelformat', r.pixelformat);
    if (!/^[\x20-\x7e]{4}$/.test(pixelformat))
        throw (0, errors_1.invalidValue)(method, 'format.pixelformat', `must be four ASCII characters. Received ${JSON.stringify(pixelformat)}`);
    let planes = [];
    if (r.planes !== undefined) {
        if (!Array.isArray(r.planes))
            throw (0, errors_1.invalidType)(method, 'format.planes', 'an instance of Array', r.planes);
        if (r.planes.length > 8)
            throw (0, errors_1.outOfRange)(method, 'format.planes.length', '<= 8 (VIDEO_MAX_PLANES)', r.planes.length);
        planes = r.planes.map((p, i) => {
            if (typeof p !== 'object' || p === null)
                throw (0, errors_1.invalidType)(method, `format.planes[${i}]`, 'of type object', p);
            const q = p;
            return {
                bytesperline: q.bytesperline === undefined ? 0 : (0, validators_1.uint)(method, `format.planes[${i}].bytesperline`, q.bytesperline, validators_1.U32),
                sizeimage: q.sizeimage === undefined ? 0 : (0, validators_1.uint)(method, `format.planes[${i}].sizeimage`, q.sizeimage, validators_1.U32),
            };
        });
    }
    return {
        width: (0, validators_1.uint)(method, 'format.width', r.width, validators_1.U32),
        height: (0, validators_1.uint)(method, 'format.height', r.height, validators_1.U32),
        pixelformat,
        field: r.field === undefined ? 1 : (0, validators_1.uint)(method, 'format.field', r.field, validators_1.U32),
        colorspace: r.colorspace === undefined ? 0 : (0, validators_1.uint)(method, 'format.colorspace', r.colorspace, validators_1.U32),
        planes,
    };
}
/**
 * Waits on the event loop (the node's fd watched by libuv, no thread)
 * through `start(t, id)` (a native wait that resolves true once ready,
 * false once `t` ms pass (-1: no limit), null once cancelled). `pending`
 * holds the wait's id meanwhile, for close() to cancel it; a wait
 * cancelled because `closed()` rejects with ERR_DMABUF_CLOSED naming `cls`.
 */
async function ready(M, cls, start, t, signal, pending, closed) {
    const id = (0, waits_1.waitId)();
    pending.add(id);
    try {
        const r = await (0, waits_1.abortable)(M, signal, id, start(t, id), (i) => native_1.native.v4l2CancelWait(i));
        if (r === null && closed())
            throw (0, errors_1.closedError)(M, cls);
        return r === true;
    }
    finally {
        pending.delete(id);
    }
}
/**
 * Dequeues with `take`, waiting for readiness in between, until a value
 * comes, the timeout passes (null) or the signal aborts. Ready with nothing
 * to take is the queue's error state (not streaming, or nothing queued):
 * EPIPE.
 */
async function v4l2Dequeue(M, timeout, signal, src) {
    const t = (0, validators_1.timeoutMs)(M, timeout);
    const s = (0, waits_1.liveSignal)(M, signal);
    // Fast path, while the event loop turned recently (else timers would
    // starve under a loop that always finds a buffer ready).
    if (native_1.native.waitFresh()) {
        const first = src.take();
        if (first !== null)
            return first;
    }
    if (!(await ready(M, src.cls, src.start, t, s, src.pending, src.closed)))
        return null;
    const got = src.take();
    if (got !== null)
        return got;
    throw (0, errors_1.osError)('EPIPE', 32, 'poll', `${src.idle ?? 'the queue reported an error on poll (not streaming, or no buffer queued)'}, ${M}`);
}
/**
 * An open V4L2 video node (`/dev/videoN`), for dma-buf work: formats, MMAP
 * buffers exported as DmaBufs, streaming, controls, and DMABUF import
 * queues (`dmabufQueue`). Every method works on the node's one video queue
 * (`bufType`: capture or output, single- or multi-planar); memory-to-memory
 * nodes, which have two, are for the Rust API.
 */
class V4l2Device {
    #h;
    #type;
    #pending = new Set();
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, type) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('V4l2Device');
        this.#h = h;
        this.#type = type;
        (0, lifetime_1.own)(this, h);
    }
    /** Opens a video node (read-write, non-blocking) and checks that it is V4L2 with a video queue. */
    static open(path) {
        const M = 'V4l2Device.open';
        const h = native_1.native.v4l2Open((0, validators_1.str)(M, 'path', path));
        const type = native_1.native.v4l2Caps(h).bufType ?? null;
        if (type === null) {
            (0, lifetime_1.closeHandle)(h);
            throw (0, errors_1.nodeError)(Error, 'ENOTTY', `ENOTTY: ${path} has no video capture or output queue with streaming I/O, ${M}`);
        }
        return new V4l2Device(lifetime_1.token, h, type);
    }
    /** The video nodes that stream, with their sysfs names and whether they export and import. */
    static list() {
        return native_1.native.v4l2List();
    }
    static #open(self, method) {
        if (!V4l2Device.#is(self))
            throw (0, errors_1.invalidThis)(method, 'V4l2Device');
        return (0, lifetime_1.live)(self.#h, method, 'V4l2Device');
    }
    /** The node's video queue type. */
    get bufType() {
        if (!V4l2Device.#is(this))
            throw (0, errors_1.invalidThis)('V4l2Device.bufType', 'V4l2Device');
        return this.#type;
    }
    /** VIDIOC_QUERYCAP: driver, card, bus, capabilities and the node's device_caps. */
    capabilities() {
        return native_1.native.v4l2Caps(V4l2Device.#open(this, 'V4l2Device.capabilities'));
    }
    /** VIDIOC_G_FMT: the current format. */
    format() {
        return native_1.native.v4l2Format(V4l2Device.#open(this, 'V4l2Device.format'), this.#type);
    }
    /**
     * VIDIOC_S_FMT: sets the format and returns what the driver chose. With
     * `exact`, a different width, height or pixel format is an EINVAL error
     * naming the driver's choice (which is then in effect).
     */
    setFormat(format, exact) {
        const M = 'V4l2Device.setFormat';
        const h = V4l2Device.#open(this, M);
        const f = formatRequest(M, format);
        if (exact !== undefined && typeof exact !== 'boolean')
            throw (0, errors_1.invalidType)(M, 'exact', 'of type boolean', exact);
        return native_1.native.v4l2SetFormat(h, this.#type, f, exact === true ? 'exact' : 'set');
    }
    /** VIDIOC_TRY_FMT: what the driver would choose, changing nothing. */
    tryFormat(format) {
        const M = 'V4l2Device.tryFormat';
        const h = V4l2Device.#open(this, M);
        return native_1.native.v4l2SetFormat(h, this.#type, formatRequest(M, format), 'try');
    }
    /** VIDIOC_S_PARM: asks for `numerator`/`denominator` seconds per frame; returns the driver's [numerator, denominator]. */
    setFrameInterval(numerator, denominator) {
        const M = 'V4l2Device.setFrameInterval';
        const h = V4l2Device.#open(this, M);
        const r = native_1.native.v4l2SetFrameInterval(h, this.#type, (0, validators_1.uint)(M, 'numerator', numerator, validators_1.U32), (0, validators_1.uint)(M, 'denominator', denominator, validators_1.U32));
        return [r[0], r[1]];
    }
    /** VIDIOC_REQBUFS (MMAP): allocates `count` buffers (0 frees them); returns how many the driver made. */
    requestBuffers(count) {
        const M = 'V4l2Device.requestBuffers';
        return native_1.native.v4l2RequestBuffers(V4l2Device.#open(this, M), this.#type, (0, validators_1.uint)(M, 'count', count, validators_1.U32));
    }
    /** VIDIOC_QUERYBUF: a buffer's planes and state. */
    queryBuffer(index) {
        const M = 'V4l2Device.queryBuffer';
        return native_1.native.v4l2QueryBuffer(V4l2Device.#open(this, M), this.#type, (0, validators_1.uint)(M, 'index', index, validators_1.U32));
    }
    /**
     * VIDIOC_EXPBUF: one plane of an MMAP buffer as a new DmaBuf (close-on-exec;
     * read-only for 'r', else read-write). The payload starts at the
     * dataOffset that each dequeued buffer reports.
     */
    exportBuffer(index, plane, access) {
        const M = 'V4l2Device.exportBuffer';
        const h = V4l2Device.#open(this, M);
        const i = (0, validators_1.uint)(M, 'index', index, validators_1.U32);
        const p = plane === undefined ? 0 : (0, validators_1.uint)(M, 'plane', plane, validators_1.U32);
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.v4l2Export(h, this.#type, i, p, (0, validators_1.optionalAccessBits)(M, 'access', access, 3)));
    }
    /** VIDIOC_QBUF of an MMAP buffer; on output queues `bytesused` gives each plane's payload. */
    queue(index, bytesused) {
        const M = 'V4l2Device.queue';
        const h = V4l2Device.#open(this, M);
        native_1.native.v4l2Queue(h, this.#type, (0, validators_1.uint)(M, 'index', index, validators_1.U32), (0, validators_1.uintList)(M, 'bytesused', bytesused));
    }
    /** VIDIOC_DQBUF without waiting: the buffer, or null when none is done. */
    tryDequeue() {
        return native_1.native.v4l2TryDequeue(V4l2Device.#open(this, 'V4l2Device.tryDequeue'), this.#type);
    }
    /**
     * VIDIOC_DQBUF once a buffer is done: resolves with it, or null when
     * `timeoutMs` passes first (none or Infinity: no limit); rejects with an
     * AbortError when `signal` aborts. No thread waits: the node's fd sits in
     * the event loop.
     */
    async dequeue(timeoutMs, signal) {
        const M = 'V4l2Device.dequeue';
        const h = V4l2Device.#open(this, M);
        const type = this.#type;
        return v4l2Dequeue(M, timeoutMs, signal, {
            cls: 'V4l2Device',
            start: (t, id) => native_1.native.v4l2Wait(h, type, t, id),
            pending: this.#pending,
            closed: () => this.#h < 0,
            take: () => native_1.native.v4l2TryDequeue(h, type),
        });
    }
    /** VIDIOC_STREAMON. */
    streamOn() {
        native_1.native.v4l2Stream(V4l2Device.#open(this, 'V4l2Device.streamOn'), this.#type, true);
    }
    /** VIDIOC_STREAMOFF: stops; every queued buffer is the application's again. */
    streamOff() {
        native_1.native.v4l2Stream(V4l2Device.#open(this, 'V4l2Device.streamOff'), this.#type, false);
    }
    /** VIDIOC_G_CTRL. */
    getControl(id) {
        const M = 'V4l2Device.getControl';
        return native_1.native.v4l2GetControl(V4l2Device.#open(this, M), (0, validators_1.uint)(M, 'id', id, validators_1.U32));
    }
    /** VIDIOC_S_CTRL: returns the value the driver kept. */
    setControl(id, value) {
        const M = 'V4l2Device.setControl';
        const h = V4l2Device.#open(this, M);
        return native_1.native.v4l2SetControl(h, (0, validators_1.uint)(M, 'id', id, validators_1.U32), (0, validators_1.int32)(M, 'value', value));
    }
    /** VIDIOC_QUERY_EXT_CTRL: the control with this name (e.g. vivid's 'OSD Text Mode'); EINVAL when none. */
    findControl(name) {
        const M = 'V4l2Device.findControl';
        return native_1.native.v4l2FindControl(V4l2Device.#open(this, M), (0, validators_1.str)(M, 'name', name));
    }
    /** VIDIOC_S_INPUT. */
    setInput(index) {
        const M = 'V4l2Device.setInput';
        native_1.native.v4l2SetRoute(V4l2Device.#open(this, M), false, (0, validators_1.uint)(M, 'index', index, validators_1.U32));
    }
    /** VIDIOC_S_OUTPUT. */
    setOutput(index) {
        const M = 'V4l2Device.setOutput';
        native_1.native.v4l2SetRoute(V4l2Device.#open(this, M), true, (0, validators_1.uint)(M, 'index', index, validators_1.U32));
    }
    /** VIDIOC_REQBUFS (DMABUF): an import queue of `count` slots on this node. */
    dmabufQueue(count) {
        const M = 'V4l2Device.dmabufQueue';
        const h = V4l2Device.#open(this, M);
        return new V4l2DmaBufQueue(lifetime_1.token, native_1.native.v4l2QueueNew(h, this.#type, (0, validators_1.uint)(M, 'count', count, validators_1.U32)), this.#type);
    }
    /** Closes this reference to the node (its DMABUF queues keep it open until closed); pending dequeues reject with ERR_DMABUF_CLOSED. */
    close() {
        if (!V4l2Device.#is(this))
            throw (0, errors_1.invalidThis)('V4l2Device.close', 'V4l2Device');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        for (const id of this.#pending)
            native_1.native.v4l2CancelWait(id);
    }
}
exports.V4l2Device = V4l2Device;
/**
 * A V4L2 queue of imported dma-bufs (V4L2_MEMORY_DMABUF), from any source.
 *
 * `queue()` keeps the DmaBuf objects and, natively, a duplicate of each fd
 * until the buffer is dequeued or `streamOff()` returns it. So `close()` of
 * a queued DmaBuf is deferred, never a use-after-free: it closes your fd at
 * once, and the memory stays alive for the driver until the buffer comes
 * back (then as a closed DmaBuf). Queueing the same dma-bufs again (same
 * inodes) reuses their V4L2 index, so the driver keeps its import.
 */
class V4l2DmaBufQueue {
    #h;
    #type;
    #held = new Map();
    #pending = new Set();
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, type) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('V4l2DmaBufQueue');
        this.#h = h;
        this.#type = type;
        (0, lifetime_1.own)(this, h);
    }
    static #open(self, method) {
        if (!V4l2DmaBufQueue.#is(self))
            throw (0, errors_1.invalidThis)(method, 'V4l2DmaBufQueue');
        return (0, lifetime_1.live)(self.#h, method, 'V4l2DmaBufQueue');
    }
    #take(got) {
        if (got === null)
            return null;
        const buffers = this.#held.get(got.index) ?? [];
        this.#held.delete(got.index);
        return { info: got, buffers };
    }
    /**
     * VIDIOC_QBUF: one DmaBuf per plane, with each plane's `bytesused` and
     * `dataOffset` (output queues; default 0). A buffer smaller than the
     * format's plane is refused (EINVAL) before the driver sees it. Returns
     * the V4L2 index.
     */
    queue(buffers, bytesused, dataOffset) {
        const M = 'V4l2DmaBufQueue.queue';
        const h = V4l2DmaBufQueue.#open(this, M);
        const hs = (0, validators_1.handles)(M, 'buffers', buffers, (b, i) => dma_buf_1.DmaBuf.handleOf(b, M, 'buffers', i));
        const index = native_1.native.v4l2QueueQueue(h, Array.from(hs), (0, validators_1.uintList)(M, 'bytesused', bytesused), (0, validators_1.uintList)(M, 'dataOffset', dataOffset));
        this.#held.set(index, buffers.slice());
        return index;
    }
    /** VIDIOC_DQBUF without waiting: the buffer and its DmaBufs, or null. */
    tryDequeue() {
        const h = V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.tryDequeue');
        return this.#take(native_1.native.v4l2QueueTryDequeue(h));
    }
    /** VIDIOC_DQBUF once a buffer is done (as V4l2Device.dequeue): the buffer and its DmaBufs, or null on timeout. */
    async dequeue(timeoutMs, signal) {
        const M = 'V4l2DmaBufQueue.dequeue';
        const h = V4l2DmaBufQueue.#open(this, M);
        const type = this.#type;
        return v4l2Dequeue(M, timeoutMs, signal, {
            cls: 'V4l2DmaBufQueue',
            start: (t, id) => native_1.native.v4l2Wait(h, type, t, id),
            pending: this.#pending,
            closed: () => this.#h < 0,
            take: () => this.#take(native_1.native.v4l2QueueTryDequeue(h)),
        });
    }
    /** How many buffers the driver holds. */
    get queued() {
        return native_1.native.v4l2QueueQueued(V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.queued'));
    }
    /** VIDIOC_STREAMON. */
    streamOn() {
        native_1.native.v4l2QueueStreamOn(V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.streamOn'));
    }
    /** VIDIOC_STREAMOFF: the driver lets go of every buffer; returns the DmaBufs it held, per buffer. */
    streamOff() {
        const back = native_1.native.v4l2QueueStreamOff(V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.streamOff'));
        const out = [];
        for (const i of back) {
            out.push(this.#held.get(i) ?? []);
            this.#held.delete(i);
        }
        return out;
    }
    /** Closes the queue's reference to the node and its duplicates of queued dma-bufs (the driver keeps its own until the node is closed); pending dequeues reject with ERR_DMABUF_CLOSED. */
    close() {
        if (!V4l2DmaBufQueue.#is(this))
            throw (0, errors_1.invalidThis)('V4l2DmaBufQueue.close', 'V4l2DmaBufQueue');
        this.#held.clear();
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        for (const id of this.#pending)
            native_1.native.v4l2CancelWait(id);
    }
}
exports.V4l2DmaBufQueue = V4l2DmaBufQueue;
for (const C of [V4l2Device, V4l2DmaBufQueue]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
