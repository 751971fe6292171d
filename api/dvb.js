"use strict";
// DVB (crates/dmabuf/src/dvb.rs): a demux's buffers exported as DmaBufs
// (DMX_EXPBUF; kernels with CONFIG_DVB_MMAP), its filters, and the frontend
// properties that tune.
Object.defineProperty(exports, "__esModule", { value: true });
exports.DvbFrontend = exports.DvbDemux = exports.DVB = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const waits_1 = require("../internal/waits");
const dma_buf_1 = require("./dma-buf");
const A = native_1.args;
const PES_OUTPUTS = ['decoder', 'tap', 'ts-tap', 'ts-demux-tap'];
/** Numbers of `<linux/dvb/frontend.h>` and `<linux/dvb/dmx.h>` for `DvbFrontend` and `DvbDemux`. */
exports.DVB = Object.freeze({
    /** DTV_* property commands for `DvbFrontend.setProperties` / `getProperties`. */
    DTV_TUNE: 1,
    DTV_CLEAR: 2,
    DTV_FREQUENCY: 3,
    DTV_MODULATION: 4,
    DTV_BANDWIDTH_HZ: 5,
    DTV_INVERSION: 6,
    DTV_SYMBOL_RATE: 8,
    DTV_INNER_FEC: 9,
    DTV_DELIVERY_SYSTEM: 17,
    DTV_API_VERSION: 35,
    /** Delivery systems (values of DTV_DELIVERY_SYSTEM). */
    SYS_DVBC_ANNEX_A: 1,
    SYS_DVBT: 3,
    SYS_DVBS: 5,
    SYS_DVBS2: 6,
    SYS_ISDBT: 8,
    SYS_DVBT2: 16,
    /** FE_READ_STATUS bits. */
    FE_HAS_SIGNAL: 0x01,
    FE_HAS_CARRIER: 0x02,
    FE_HAS_VITERBI: 0x04,
    FE_HAS_SYNC: 0x08,
    FE_HAS_LOCK: 0x10,
    FE_TIMEDOUT: 0x20,
    /** The PES filter PID that passes the whole transport stream. */
    PID_ALL: 0x2000,
    /** Bytes in a TS packet, and its first byte. */
    TS_PACKET_SIZE: 188,
    TS_SYNC_BYTE: 0x47,
    /** The kernel's limit on one demux buffer (4096 TS packets). */
    MAX_BUFFER_SIZE: 4096 * 188,
});
function filterBytes(method, name, v, out, at) {
    if (v === undefined)
        return;
    if (typeof v !== 'object' || v === null || typeof v.length !== 'number') {
        throw (0, errors_1.invalidType)(method, name, 'an array of bytes', v);
    }
    const a = v;
    if (a.length > 16)
        throw (0, errors_1.outOfRange)(method, `${name}.length`, '<= 16', a.length);
    for (let i = 0; i < a.length; i++)
        out[at + i] = (0, validators_1.uint)(method, `${name}[${i}]`, a[i], 255);
}
/**
 * An open DVB demux (`/dev/dvb/adapterN/demuxM`): one filter, and the
 * buffers its data goes to, exported as DmaBufs. Needs a kernel with
 * CONFIG_DVB_MMAP for the buffers (elsewhere they throw ENOTTY naming it).
 *
 * The first `queue()` starts streaming, which lasts until `close()`; a
 * buffer comes back when it is full (a section filter: when a section
 * ends), so give TS filters a multiple of 188 bytes.
 */
class DvbDemux {
    #h;
    #fd;
    #pending = new Set();
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('DvbDemux');
        this.#h = h;
        this.#fd = A[8 /* Out.FD */];
        (0, lifetime_1.own)(this, h);
    }
    /** Opens a demux node read-write and non-blocking; ENOTTY when `path` is not a DVB demux. */
    static open(path) {
        return new DvbDemux(lifetime_1.token, native_1.native.dvbDemuxOpen((0, validators_1.str)('DvbDemux.open', 'path', path)));
    }
    /** Paths of the demux nodes under /dev/dvb (empty when there are none). */
    static list() {
        return native_1.native.dvbListDemuxes();
    }
    static #open(self, method) {
        if (!DvbDemux.#is(self))
            throw (0, errors_1.invalidThis)(method, 'DvbDemux');
        return (0, lifetime_1.live)(self.#h, method, 'DvbDemux');
    }
    /** The fd number, or -1 once closed. */
    get fd() {
        if (!DvbDemux.#is(this))
            throw (0, errors_1.invalidThis)('DvbDemux.fd', 'DvbDemux');
        return this.#h < 0 ? -1 : this.#fd;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!DvbDemux.#is(this))
            throw (0, errors_1.invalidThis)('DvbDemux.closed', 'DvbDemux');
        return this.#h < 0;
    }
    /** DMX_SET_PES_FILTER: packets of `pid` (DVB.PID_ALL: all) to `output` (default 'ts-demux-tap'); starts at once when `start` is true. */
    setPesFilter(pid, output, start) {
        const M = 'DvbDemux.setPesFilter';
        const h = DvbDemux.#open(this, M);
        const p = (0, validators_1.uint)(M, 'pid', pid, 0x2000);
        let o = 3;
        if (output !== undefined) {
            o = PES_OUTPUTS.indexOf(output);
            if (o < 0) {
                if (typeof output !== 'string')
                    throw (0, errors_1.invalidType)(M, 'output', "one of 'decoder', 'tap', 'ts-tap' or 'ts-demux-tap'", output);
                throw (0, errors_1.invalidValue)(M, 'output', `must be 'decoder', 'tap', 'ts-tap' or 'ts-demux-tap'. Received ${JSON.stringify(output)}`);
            }
        }
        native_1.native.dvbDemuxSetPesFilter(h, p, o, (0, validators_1.bool)(M, 'start', start, false));
    }
    /** DMX_SET_FILTER: the sections of `filter.pid` that match; starts at once when `start` is true. */
    setSectionFilter(filter, start) {
        const M = 'DvbDemux.setSectionFilter';
        const h = DvbDemux.#open(this, M);
        if (typeof filter !== 'object' || filter === null)
            throw (0, errors_1.invalidType)(M, 'filter', 'an object { pid, filter?, mask?, mode? }', filter);
        const pid = (0, validators_1.uint)(M, 'filter.pid', filter.pid, 0x1fff);
        const bytes = new Uint8Array(48);
        filterBytes(M, 'filter.filter', filter.filter, bytes, 0);
        filterBytes(M, 'filter.mask', filter.mask, bytes, 16);
        filterBytes(M, 'filter.mode', filter.mode, bytes, 32);
        const timeout = filter.timeoutMs === undefined ? 0 : (0, validators_1.uint)(M, 'filter.timeoutMs', filter.timeoutMs, 2 ** 32 - 1);
        const flags = ((0, validators_1.bool)(M, 'filter.checkCrc', filter.checkCrc, true) ? 1 : 0) | ((0, validators_1.bool)(M, 'filter.oneshot', filter.oneshot, false) ? 2 : 0);
        native_1.native.dvbDemuxSetSectionFilter(h, pid, bytes, timeout, flags, (0, validators_1.bool)(M, 'start', start, false));
    }
    /** DMX_START. */
    start() {
        native_1.native.dvbDemuxStart(DvbDemux.#open(this, 'DvbDemux.start'));
    }
    /** DMX_STOP (queued buffers stay queued). */
    stop() {
        native_1.native.dvbDemuxStop(DvbDemux.#open(this, 'DvbDemux.stop'));
    }
    /** DMX_SET_BUFFER_SIZE: the ring buffer of the read() path (not the exported buffers). */
    setBufferSize(size) {
        const M = 'DvbDemux.setBufferSize';
        native_1.native.dvbDemuxSetBufferSize(DvbDemux.#open(this, M), (0, validators_1.uint)(M, 'size', size, 2 ** 31 - 1));
    }
    /** DMX_REQBUFS: `count` buffers of `size` bytes; returns what the kernel granted (size at most DVB.MAX_BUFFER_SIZE). */
    requestBuffers(count, size) {
        const M = 'DvbDemux.requestBuffers';
        const h = DvbDemux.#open(this, M);
        const [c, s] = native_1.native.dvbDemuxRequestBuffers(h, (0, validators_1.uint)(M, 'count', count, 2 ** 32 - 1), (0, validators_1.uint)(M, 'size', size, 2 ** 32 - 1));
        return { count: c, size: s };
    }
    /** DMX_QUERYBUF: buffer `index`'s size and mmap offset. */
    queryBuffer(index) {
        const M = 'DvbDemux.queryBuffer';
        return native_1.native.dvbDemuxQueryBuffer(DvbDemux.#open(this, M), (0, validators_1.uint)(M, 'index', index, 2 ** 32 - 1));
    }
    /** DMX_EXPBUF: buffer `index` as a DmaBuf (read-only for 'r', the default; read-write otherwise). It outlives the demux. */
    exportBuffer(index, access) {
        const M = 'DvbDemux.exportBuffer';
        const h = DvbDemux.#open(this, M);
        const i = (0, validators_1.uint)(M, 'index', index, 2 ** 32 - 1);
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.dvbDemuxExportBuffer(h, i, (0, validators_1.optionalAccessBits)(M, 'access', access, 1)));
    }
    /** DMX_QBUF: hands buffer `index` to the demux to fill; the first one starts streaming. */
    queue(index) {
        const M = 'DvbDemux.queue';
        native_1.native.dvbDemuxQueue(DvbDemux.#open(this, M), (0, validators_1.uint)(M, 'index', index, 2 ** 32 - 1));
    }
    /** DMX_DQBUF without waiting: the next filled buffer, or null. */
    tryDequeue() {
        return native_1.native.dvbDemuxTryDequeue(DvbDemux.#open(this, 'DvbDemux.tryDequeue'));
    }
    /**
     * Resolves the next filled buffer, or null when `timeoutMs` passes first;
     * rejects with an AbortError when `signal` aborts. No thread waits: the
     * demux fd sits in the event loop. Never throws: every error is a
     * rejection.
     */
    async dequeue(timeoutMs, signal) {
        const M = 'DvbDemux.dequeue';
        const h = DvbDemux.#open(this, M);
        const t = (0, validators_1.timeoutMs)(M, timeoutMs);
        const s = (0, waits_1.liveSignal)(M, signal);
        const id = (0, waits_1.waitId)();
        this.#pending.add(id);
        try {
            const r = await (0, waits_1.abortable)(M, s, id, native_1.native.dvbDemuxDequeue(h, t, id), (i) => native_1.native.dvbCancelDequeue(i));
            if (r === null && this.#h < 0)
                throw (0, errors_1.closedError)(M, 'DvbDemux');
            return r;
        }
        finally {
            this.#pending.delete(id);
        }
    }
    /** Closes the demux (its filter and streaming end; exported DmaBufs stay valid); pending dequeues reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
    close() {
        if (!DvbDemux.#is(this))
            throw (0, errors_1.invalidThis)('DvbDemux.close', 'DvbDemux');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        for (const id of this.#pending)
            native_1.native.dvbCancelDequeue(id);
    }
}
exports.DvbDemux = DvbDemux;
/** An open DVB frontend (`/dev/dvb/adapterN/frontendM`), read-write, for tuning. */
class DvbFrontend {
    #h;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('DvbFrontend');
        this.#h = h;
        (0, lifetime_1.own)(this, h);
    }
    /** Opens a frontend node read-write (EBUSY while another holds it so); ENOTTY when `path` is not a DVB frontend. */
    static open(path) {
        return new DvbFrontend(lifetime_1.token, native_1.native.dvbFrontendOpen((0, validators_1.str)('DvbFrontend.open', 'path', path)));
    }
    /** Paths of the frontend nodes under /dev/dvb. */
    static list() {
        return native_1.native.dvbListFrontends();
    }
    static #open(self, method) {
        if (!DvbFrontend.#is(self))
            throw (0, errors_1.invalidThis)(method, 'DvbFrontend');
        return (0, lifetime_1.live)(self.#h, method, 'DvbFrontend');
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!DvbFrontend.#is(this))
            throw (0, errors_1.invalidThis)('DvbFrontend.closed', 'DvbFrontend');
        return this.#h < 0;
    }
    /** FE_GET_INFO: name, frequency range, capabilities. */
    info() {
        return native_1.native.dvbFrontendInfo(DvbFrontend.#open(this, 'DvbFrontend.info'));
    }
    /** FE_READ_STATUS: DVB.FE_HAS_* bits. */
    status() {
        return native_1.native.dvbFrontendStatus(DvbFrontend.#open(this, 'DvbFrontend.status'));
    }
    /** FE_SET_PROPERTY: `[command, value]` pairs (DVB.DTV_*), applied in order; 1 to 64 of them. */
    setProperties(props) {
        const M = 'DvbFrontend.setProperties';
        const h = DvbFrontend.#open(this, M);
        if (!Array.isArray(props))
            throw (0, errors_1.invalidType)(M, 'props', 'an instance of Array', props);
        const n = props.length;
        if (n < 1 || n > 64)
            throw (0, errors_1.outOfRange)(M, 'props.length', '>= 1 and <= 64', n);
        const cmds = new Float64Array(n);
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) {
            const p = props[i];
            if (!Array.isArray(p) || p.length !== 2)
                throw (0, errors_1.invalidType)(M, `props[${i}]`, 'a [command, value] pair', p);
            cmds[i] = (0, validators_1.uint)(M, `props[${i}][0]`, p[0], 2 ** 32 - 1);
            values[i] = (0, validators_1.uint)(M, `props[${i}][1]`, p[1], 2 ** 32 - 1);
        }
        native_1.native.dvbFrontendSetProperties(h, cmds, values);
    }
    /** FE_GET_PROPERTY: the value of each command (DVB.DTV_*), in order; 1 to 64 of them. */
    getProperties(commands) {
        const M = 'DvbFrontend.getProperties';
        const h = DvbFrontend.#open(this, M);
        if (!Array.isArray(commands))
            throw (0, errors_1.invalidType)(M, 'commands', 'an instance of Array', commands);
        const n = commands.length;
        if (n < 1 || n > 64)
            throw (0, errors_1.outOfRange)(M, 'commands.length', '>= 1 and <= 64', n);
        const cmds = new Float64Array(n);
        for (let i = 0; i < n; i++)
            cmds[i] = (0, validators_1.uint)(M, `commands[${i}]`, commands[i], 2 ** 32 - 1);
        return native_1.native.dvbFrontendGetProperties(h, cmds);
    }
    /** Tunes: DTV_CLEAR, the delivery system (DVB.SYS_*), the frequency, `extra` pairs, DTV_TUNE. Returns at once; see `waitForLock`. */
    tune(deliverySystem, frequency, extra) {
        const M = 'DvbFrontend.tune';
        DvbFrontend.#open(this, M);
        const sys = (0, validators_1.uint)(M, 'deliverySystem', deliverySystem, 2 ** 32 - 1);
        const freq = (0, validators_1.uint)(M, 'frequency', frequency, 2 ** 32 - 1);
        if (extra !== undefined && !Array.isArray(extra))
            throw (0, errors_1.invalidType)(M, 'extra', 'an instance of Array', extra);
        const more = extra ?? [];
        if (more.length > 60)
            throw (0, errors_1.outOfRange)(M, 'extra.length', '<= 60', more.length);
        this.setProperties([[exports.DVB.DTV_CLEAR, 0], [exports.DVB.DTV_DELIVERY_SYSTEM, sys], [exports.DVB.DTV_FREQUENCY, freq], ...more, [exports.DVB.DTV_TUNE, 0]]);
    }
    /**
     * Resolves true once FE_READ_STATUS has FE_HAS_LOCK, false when
     * `timeoutMs` (default 5000) passes first; reads the status every 10 ms on
     * a timer (no thread waits). Rejects with an AbortError when `signal` aborts.
     */
    async waitForLock(timeoutMs, signal) {
        const M = 'DvbFrontend.waitForLock';
        DvbFrontend.#open(this, M);
        const t = timeoutMs === undefined ? 5000 : (0, validators_1.timeoutMs)(M, timeoutMs);
        if (signal !== undefined && !(signal instanceof AbortSignal))
            throw (0, errors_1.invalidType)(M, 'signal', 'an instance of AbortSignal', signal);
        const end = t < 0 ? Infinity : Date.now() + t;
        for (;;) {
            if (signal?.aborted)
                throw (0, errors_1.abortError)(M, signal);
            if ((native_1.native.dvbFrontendStatus((0, lifetime_1.live)(this.#h, M, 'DvbFrontend')) & exports.DVB.FE_HAS_LOCK) !== 0)
                return true;
            if (Date.now() >= end)
                return false;
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
    }
    /** Closes the frontend. Calling it again does nothing. */
    close() {
        if (!DvbFrontend.#is(this))
            throw (0, errors_1.invalidThis)('DvbFrontend.close', 'DvbFrontend');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.DvbFrontend = DvbFrontend;
for (const C of [DvbDemux, DvbFrontend]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
