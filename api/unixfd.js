"use strict";
// GStreamer's unixfd protocol (crates/dmabuf/src/unixfd/, binding
// crates/dmabuf-node/src/unixfd.rs): UnixFdSrc (the role of unixfdsrc),
// UnixFdSink and UnixFdSinkConnection (the role of unixfdsink), and the
// buffers that cross. A connection is a Channel handle in unixfd framing;
// its sends are queued in call order and never block the JavaScript
// thread (one try, then a wait on the event loop).
Object.defineProperty(exports, "__esModule", { value: true });
exports.UnixFdSinkConnection = exports.UnixFdSink = exports.UnixFdSrc = exports.UnixFdBuffer = exports.gstFormatName = exports.gstFormatFourcc = exports.capsLayout = exports.capsForFrame = exports.printCaps = exports.parseCaps = void 0;
const node_fs_1 = require("node:fs");
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const channel_1 = require("./channel");
const dma_buf_1 = require("./dma-buf");
const frame_1 = require("./frame");
const sync_file_1 = require("./sync-file");
const unixfd_caps_1 = require("./unixfd-caps");
var unixfd_caps_2 = require("./unixfd-caps");
Object.defineProperty(exports, "parseCaps", { enumerable: true, get: function () { return unixfd_caps_2.parseCaps; } });
Object.defineProperty(exports, "printCaps", { enumerable: true, get: function () { return unixfd_caps_2.printCaps; } });
Object.defineProperty(exports, "capsForFrame", { enumerable: true, get: function () { return unixfd_caps_2.capsForFrame; } });
Object.defineProperty(exports, "capsLayout", { enumerable: true, get: function () { return unixfd_caps_2.capsLayout; } });
Object.defineProperty(exports, "gstFormatFourcc", { enumerable: true, get: function () { return unixfd_caps_2.gstFormatFourcc; } });
Object.defineProperty(exports, "gstFormatName", { enumerable: true, get: function () { return unixfd_caps_2.gstFormatName; } });
const A = native_1.args;
const U64_MAX = 2n ** 64n - 1n;
/**
 * One unixfd connection: the Channel handle (owned here, so the garbage
 * collector closes it only once neither the class using it nor a buffer
 * still to release holds it), and its sends in call order.
 */
class Conn {
    h;
    fd;
    pending = new Set();
    #tail = Promise.resolve();
    #sending = 0;
    constructor(h, fd) {
        this.h = h;
        this.fd = fd;
        (0, lifetime_1.own)(this, h);
    }
    get closed() {
        return this.h < 0;
    }
    /**
     * Sends an encoded command with the fds of `objs` (read when it goes: a
     * send queued behind others looks them up then). Now when nothing is
     * queued and the socket has room, else on the event loop.
     */
    send(M, what, bytes, objs, release, signal) {
        const handlesOf = () => {
            const hs = new Float64Array(objs.length);
            for (let i = 0; i < objs.length; i++) {
                const o = objs[i];
                hs[i] = o instanceof dma_buf_1.DmaBuf ? dma_buf_1.DmaBuf.handleOf(o, M, 'memories', i) : channel_1.PassedFd.handleOf(o);
            }
            return hs;
        };
        const go = async (h, hs, went) => {
            if (went === 2)
                await (0, channel_1.cancellable)(M, this.pending, signal, () => this.closed, (id) => native_1.native.chanFlush(h, id), what);
            else if (went === 0)
                await (0, channel_1.cancellable)(M, this.pending, signal, () => this.closed, (id) => native_1.native.unixfdSend(h, bytes, hs, release, id), what);
        };
        if (this.#sending === 0) {
            let went;
            let hs;
            try {
                const h = (0, lifetime_1.live)(this.h, M, what);
                if (signal?.aborted)
                    throw (0, errors_1.abortError)(M, signal);
                hs = handlesOf();
                went = native_1.native.unixfdTrySend(h, bytes, hs, release);
            }
            catch (e) {
                return Promise.reject(e);
            }
            if (went === 1)
                return Promise.resolve();
            return this.#queue(() => go(this.h, hs, went));
        }
        return this.#queue(async () => {
            const h = (0, lifetime_1.live)(this.h, M, what);
            if (signal?.aborted)
                throw (0, errors_1.abortError)(M, signal);
            const hs = handlesOf();
            await go(h, hs, native_1.native.unixfdTrySend(h, bytes, hs, release));
        });
    }
    #queue(run) {
        this.#sending++;
        const p = this.#tail.then(run).finally(() => {
            this.#sending--;
        });
        this.#tail = p.catch(() => undefined);
        return p;
    }
    /** Cancels every pending wait and closes the socket. */
    close() {
        if (this.h >= 0)
            native_1.native.chanUnlinger(this.h);
        this.h = (0, lifetime_1.closeOnce)(this, this.h);
        for (const id of this.pending)
            native_1.native.chanCancel(id);
    }
}
/** Sends RELEASE_BUFFER `id` unless the connection is closed; a sink that has gone makes it a no-op. */
function sendRelease(conn, id) {
    if (conn.closed)
        return;
    let bytes;
    try {
        bytes = native_1.native.unixfdRelease(id);
    }
    catch {
        return;
    }
    conn.send('UnixFdBuffer.release', 'UnixFdSrc', bytes, [], true).catch(() => undefined);
}
/** The backstop: a buffer collected unreleased is released (its fds close through their own backstops). */
const releaseRegistry = new FinalizationRegistry(({ conn, id }) => {
    sendRelease(conn, id);
});
const big = (v) => (v === undefined || v === null ? null : v);
/**
 * A buffer received from a unixfdsink: its timestamps, flags and memories
 * (each a dma-buf or a memfd, owned by this object). release() (or
 * `using`) closes them and tells the sink, exactly once; a buffer collected
 * unreleased is released by the garbage collector, eventually.
 */
class UnixFdBuffer {
    id;
    pts;
    dts;
    duration;
    offset;
    offsetEnd;
    flags;
    memories;
    /** The caps in force when it arrived. */
    caps;
    #conn;
    #maps = [];
    static #is(x) {
        return typeof x === 'object' && x !== null && #conn in x;
    }
    /** @internal */
    constructor(key, conn, c, caps, memories) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('UnixFdBuffer');
        this.id = c.id;
        this.pts = big(c.pts);
        this.dts = big(c.dts);
        this.duration = big(c.duration);
        this.offset = big(c.offset);
        this.offsetEnd = big(c.offsetEnd);
        this.flags = c.flags;
        this.memories = Object.freeze(memories);
        this.caps = caps;
        this.#conn = conn;
        releaseRegistry.register(this, { conn, id: this.id }, this);
    }
    /** Whether release() was called. */
    get released() {
        if (!UnixFdBuffer.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdBuffer.released', 'UnixFdBuffer');
        return this.#conn === null;
    }
    static #open(self, M) {
        if (!UnixFdBuffer.#is(self))
            throw (0, errors_1.invalidThis)(M, 'UnixFdBuffer');
        if (self.#conn === null)
            throw (0, errors_1.closedError)(M, 'UnixFdBuffer (released)');
        return self;
    }
    /**
     * A copy of the buffer's content, its memories one after the other
     * (dma-bufs read under CPU read access, other fds with pread).
     */
    bytes() {
        const self = UnixFdBuffer.#open(this, 'UnixFdBuffer.bytes');
        const total = self.memories.reduce((n, m) => n + m.size, 0);
        const out = new Uint8Array(total);
        let at = 0;
        for (const m of self.memories) {
            if (m.dmaBuf !== null) {
                out.set(m.dmaBuf.read(m.offset, m.size), at);
            }
            else {
                let done = 0;
                while (done < m.size) {
                    const n = (0, node_fs_1.readSync)(m.fd.fd, out, at + done, m.size - done, m.offset + done);
                    if (n === 0)
                        throw (0, errors_1.nodeError)(Error, 'ERR_DMABUF_SHORT_READ', `UnixFdBuffer.bytes: fd ${m.fd.fd} ends ${m.size - done} bytes before the memory's end (offset ${m.offset}, size ${m.size})`);
                    done += n;
                }
            }
            at += m.size;
        }
        return out;
    }
    /**
     * The memory at `index` (default 0) with no copy, when it is a memfd
     * sealed against shrinking (`F_SEAL_SHRINK`, as GStreamer's shm allocator
     * seals its memfds): a Uint8Array of its `size` bytes (fcntl F_GET_SEALS,
     * fstat, mmap MAP_PRIVATE). It shows what the sender wrote; writes to it
     * stay in this process (copy-on-write). Mapped once per memory: later
     * calls view the same mapping. release() unmaps it, and every view of it
     * then reads as empty. EINVAL for any other fd (a memfd without the seal
     * could be truncated under the mapping, which would raise SIGBUS): read
     * those with bytes(); ERR_INVALID_STATE for a dma-buf memory (map its
     * `dmaBuf` inside beginCpuAccess).
     */
    map(index) {
        const M = 'UnixFdBuffer.map';
        const self = UnixFdBuffer.#open(this, M);
        const i = index === undefined ? 0 : (0, validators_1.uint)(M, 'index', index, validators_1.U32);
        if (i >= self.memories.length)
            throw (0, errors_1.outOfRange)(M, 'index', `< ${self.memories.length} (the buffer's memories)`, i);
        const m = self.memories[i];
        if (m.fd === null)
            throw (0, errors_1.nodeError)(Error, 'ERR_INVALID_STATE', `${M}: memory ${i} is a dma-buf: map its dmaBuf inside beginCpuAccess() instead`);
        if (m.fd.fd < 0)
            throw (0, errors_1.closedError)(M, `PassedFd of memory ${i}`);
        let map = self.#maps[i];
        if (map === undefined) {
            map = new dma_buf_1.Mapping(lifetime_1.token, native_1.native.unixfdMapMemory(channel_1.PassedFd.handleOf(m.fd), m.offset, m.size));
            self.#maps[i] = map;
        }
        return new Uint8Array(map.buffer, m.offset - map.offset, m.size);
    }
    /**
     * A Frame over the memories, laid out as the caps say (capsLayout:
     * GStreamer's default strides; all planes in one memory, or spread over
     * several, as GStreamer counts offsets across them). The Frame holds
     * duplicates of the dma-bufs: close it on its own; release() does not.
     * ERR_INVALID_STATE for caps that are not raw video it can lay out,
     * memories that are not dma-bufs, or too few bytes.
     */
    frame() {
        const M = 'UnixFdBuffer.frame';
        const self = UnixFdBuffer.#open(this, M);
        const l = (0, unixfd_caps_1.capsLayout)(self.caps, M);
        const mems = self.memories;
        if (mems.some((m) => m.dmaBuf === null))
            throw (0, errors_1.nodeError)(Error, 'ERR_INVALID_STATE', `${M}: the memories are not dma-bufs (a Frame is made of dma-bufs; read them with bytes())`);
        const total = mems.reduce((n, m) => n + m.size, 0);
        if (total < l.size)
            throw (0, errors_1.nodeError)(Error, 'ERR_INVALID_STATE', `${M}: the buffer has ${total} bytes; its caps need ${l.size}`);
        const dups = new Map();
        try {
            const planes = l.planes.map((p) => {
                let start = 0;
                let k = 0;
                while (k < mems.length - 1 && p.offset >= start + mems[k].size)
                    start += mems[k++].size;
                let buf = dups.get(k);
                if (buf === undefined) {
                    buf = mems[k].dmaBuf.dup();
                    dups.set(k, buf);
                }
                return { buf, offset: mems[k].offset + p.offset - start, pitch: p.pitch };
            });
            return new frame_1.Frame({ width: l.width, height: l.height, fourcc: l.fourcc, modifier: l.modifier, planes });
        }
        catch (e) {
            for (const d of dups.values())
                d.close();
            throw e;
        }
    }
    /** Unmaps what map() mapped, closes every fd it holds and sends RELEASE_BUFFER, once; later calls do nothing. */
    release() {
        if (!UnixFdBuffer.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdBuffer.release', 'UnixFdBuffer');
        const conn = this.#conn;
        if (conn === null)
            return;
        this.#conn = null;
        releaseRegistry.unregister(this);
        for (const map of this.#maps)
            map?.unmap();
        for (const m of this.memories) {
            m.dmaBuf?.close();
            m.fd?.close();
        }
        sendRelease(conn, this.id);
    }
    /** The same as release(). */
    [Symbol.dispose]() {
        this.release();
    }
}
exports.UnixFdBuffer = UnixFdBuffer;
/** The memories of a received NEW_BUFFER, wrapped; a sync_file among them is EPROTO (all closed). */
function memoriesOf(M, c) {
    const out = [];
    if (c.kinds.includes(1 /* PassedKind.SYNC_FILE */)) {
        for (let i = 0; i < c.handles.length; i++)
            (0, lifetime_1.closeHandle)(c.handles[i]);
        throw (0, errors_1.osError)('EPROTO', 71, 'recvmsg', `${M}: buffer ${c.id} came with a sync_file among its memories; its ${c.handles.length} fds were closed`);
    }
    for (let i = 0; i < c.handles.length; i++) {
        if (c.kinds[i] === 0 /* PassedKind.DMA_BUF */) {
            A[8 /* Out.FD */] = c.fds[i];
            A[9 /* Out.BUF_SIZE */] = c.bufSizes[i];
            out.push(Object.freeze({ kind: 'dma-buf', dmaBuf: new dma_buf_1.DmaBuf(lifetime_1.token, c.handles[i]), fd: null, offset: c.offsets[i], size: c.sizes[i] }));
        }
        else {
            out.push(Object.freeze({ kind: 'fd', dmaBuf: null, fd: new channel_1.PassedFd(lifetime_1.token, c.handles[i], c.fds[i]), offset: c.offsets[i], size: c.sizes[i] }));
        }
    }
    return out;
}
/** One command: at once when one is there (and nothing is queued before), else on the event loop. */
async function recvCommand(M, conn, signal, what) {
    const h = (0, lifetime_1.live)(conn.h, M, what);
    if (signal?.aborted)
        throw (0, errors_1.abortError)(M, signal);
    return native_1.native.unixfdTryRecv(h) ?? (await (0, channel_1.cancellable)(M, conn.pending, signal, () => conn.closed, (id) => native_1.native.unixfdRecv(h, id), what));
}
/**
 * The role of GStreamer's unixfdsrc: connects to a unixfdsink and reads
 * its buffers. CAPS commands update `caps`; read() gives the next buffer,
 * or null after EOS.
 */
class UnixFdSrc {
    #conn;
    #caps = null;
    #ended = false;
    #tail = Promise.resolve();
    static #is(x) {
        return typeof x === 'object' && x !== null && #conn in x;
    }
    /** @internal */
    constructor(key, h, fd) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('UnixFdSrc');
        this.#conn = new Conn(h, fd);
    }
    /** socket + connect to a unixfdsink at `address` (a path, or `@name` for an abstract socket). */
    static connect(address_) {
        const h = native_1.native.unixfdConnect((0, channel_1.address)('UnixFdSrc.connect', address_));
        return new UnixFdSrc(lifetime_1.token, h, A[8 /* Out.FD */]);
    }
    /** The latest caps received, or null before any. */
    get caps() {
        if (!UnixFdSrc.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSrc.caps', 'UnixFdSrc');
        return this.#caps;
    }
    /** Whether EOS arrived. */
    get ended() {
        if (!UnixFdSrc.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSrc.ended', 'UnixFdSrc');
        return this.#ended;
    }
    /** The socket's fd number, or -1 once closed. */
    get fd() {
        if (!UnixFdSrc.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSrc.fd', 'UnixFdSrc');
        return this.#conn.closed ? -1 : this.#conn.fd;
    }
    /** Whether close() was called. */
    get closed() {
        if (!UnixFdSrc.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSrc.closed', 'UnixFdSrc');
        return this.#conn.closed;
    }
    /**
     * The next buffer, or null after EOS. Reads run in call order. Rejects
     * with EPIPE (the sink closed the connection) or ECONNRESET (it went in
     * the middle of a command), EPROTO (a command that is not one, or a
     * buffer whose fds do not match its memories: those fds are closed, and
     * the next read goes on), ERR_DMABUF_CLOSED after close().
     */
    read(options) {
        const M = 'UnixFdSrc.read';
        try {
            if (!UnixFdSrc.#is(this))
                throw (0, errors_1.invalidThis)(M, 'UnixFdSrc');
            const signal = (0, channel_1.signalOf)(M, options);
            (0, lifetime_1.live)(this.#conn.h, M, 'UnixFdSrc');
            const run = this.#tail.then(() => this.#next(M, signal));
            // The tail keeps the order, not the buffer (which the collector may then release).
            this.#tail = run.then(() => undefined, () => undefined);
            return run;
        }
        catch (e) {
            return Promise.reject(e);
        }
    }
    async #next(M, signal) {
        for (;;) {
            if (this.#ended)
                return null;
            const c = await recvCommand(M, this.#conn, signal, 'UnixFdSrc');
            switch (c.kind) {
                case 'caps':
                    this.#caps = c.caps ?? '';
                    break;
                case 'eos':
                    this.#ended = true;
                    return null;
                case 'buffer': {
                    let memories;
                    try {
                        memories = memoriesOf(M, c);
                    }
                    catch (e) {
                        // Refused (its fds closed): the sink still gets the buffer back.
                        sendRelease(this.#conn, c.id);
                        throw e;
                    }
                    return new UnixFdBuffer(lifetime_1.token, this.#conn, c, this.#caps ?? '', memories);
                }
                default:
                    // RELEASE_BUFFER is the source's own command; unknown types are skipped, as unixfdsrc does.
                    for (const h of c.handles)
                        (0, lifetime_1.closeHandle)(h);
            }
        }
    }
    /** Reads buffers until EOS. */
    async *[Symbol.asyncIterator]() {
        for (;;) {
            const b = await this.read();
            if (b === null)
                return;
            yield b;
        }
    }
    /** Closes the socket; a pending read rejects with ERR_DMABUF_CLOSED. Buffers already read stay valid; their release() sends nothing. Calling it again does nothing. */
    close() {
        if (!UnixFdSrc.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSrc.close', 'UnixFdSrc');
        this.#conn.close();
    }
    /** The same as close(). */
    [Symbol.dispose]() {
        this.close();
    }
}
exports.UnixFdSrc = UnixFdSrc;
/**
 * The role of GStreamer's unixfdsink: listens where unixfdsrc elements
 * (or UnixFdSrc) connect; accept() gives each connection.
 */
class UnixFdSink {
    #h;
    #fd;
    #address;
    #caps;
    #maxInFlight;
    #pending = new Set();
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, fd, address_, caps, maxInFlight) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('UnixFdSink');
        this.#h = h;
        this.#fd = fd;
        this.#address = address_;
        this.#caps = caps;
        this.#maxInFlight = maxInFlight;
        (0, lifetime_1.own)(this, h);
    }
    /** socket + bind + listen at `address` (a path, removed on close, or `@name`). `caps` go first to each connection; `maxInFlight` (default 4) bounds the buffers a connection may hold unreleased. */
    static listen(address_, options) {
        const M = 'UnixFdSink.listen';
        const a = (0, channel_1.address)(M, address_);
        if (typeof options !== 'object' || options === null)
            throw (0, errors_1.invalidType)(M, 'options', 'of type object', options);
        const caps = (0, validators_1.str)(M, 'options.caps', options.caps);
        if (caps.includes('\0'))
            throw (0, errors_1.invalidValue)(M, 'options.caps', 'must not contain NUL bytes');
        checkCaps(M, 'options.caps', caps);
        const mif = options.maxInFlight === undefined ? 4 : (0, validators_1.uint)(M, 'options.maxInFlight', options.maxInFlight, validators_1.U32);
        if (mif < 1)
            throw (0, errors_1.outOfRange)(M, 'options.maxInFlight', '>= 1', mif);
        const h = native_1.native.listenerBind(a, false);
        return new UnixFdSink(lifetime_1.token, h, A[8 /* Out.FD */], a, caps, mif);
    }
    /** The address it listens on. */
    get address() {
        if (!UnixFdSink.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSink.address', 'UnixFdSink');
        return this.#address;
    }
    /** The caps each new connection gets first. */
    get caps() {
        if (!UnixFdSink.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSink.caps', 'UnixFdSink');
        return this.#caps;
    }
    /** The listening socket's fd, or -1 once closed. */
    get fd() {
        if (!UnixFdSink.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSink.fd', 'UnixFdSink');
        return this.#h < 0 ? -1 : this.#fd;
    }
    /** Whether close() was called. */
    get closed() {
        if (!UnixFdSink.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSink.closed', 'UnixFdSink');
        return this.#h < 0;
    }
    /** accept4: the next connection, its caps already sent. */
    async accept(options) {
        const M = 'UnixFdSink.accept';
        if (!UnixFdSink.#is(this))
            throw (0, errors_1.invalidThis)(M, 'UnixFdSink');
        const h = (0, lifetime_1.live)(this.#h, M, 'UnixFdSink');
        const signal = (0, channel_1.signalOf)(M, options);
        const r = await (0, channel_1.cancellable)(M, this.#pending, signal, () => this.#h < 0, (id) => native_1.native.unixfdAccept(h, id), 'UnixFdSink');
        const c = new UnixFdSinkConnection(lifetime_1.token, new Conn(r[0], r[1]), this.#maxInFlight);
        try {
            await c.setCaps(this.#caps);
        }
        catch (e) {
            c.close();
            throw e;
        }
        return c;
    }
    /** Closes the socket (and removes its path); a pending accept rejects. Connections stay open. */
    close() {
        if (!UnixFdSink.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSink.close', 'UnixFdSink');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        for (const id of this.#pending)
            native_1.native.chanCancel(id);
    }
    /** The same as close(). */
    [Symbol.dispose]() {
        this.close();
    }
}
exports.UnixFdSink = UnixFdSink;
/** One connected source: buffers go out, releases come back. */
class UnixFdSinkConnection {
    #conn;
    #max;
    #nextId = 1n;
    #inFlight = new Set();
    #waiters = new Map();
    #room = [];
    #drained = [];
    #pumping = false;
    /** Why the source is gone (its error), once it is. */
    #gone = null;
    static #is(x) {
        return typeof x === 'object' && x !== null && #conn in x;
    }
    /** @internal */
    constructor(key, conn, maxInFlight) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('UnixFdSinkConnection');
        this.#conn = conn;
        this.#max = maxInFlight;
    }
    static #open(self, M) {
        if (!UnixFdSinkConnection.#is(self))
            throw (0, errors_1.invalidThis)(M, 'UnixFdSinkConnection');
        (0, lifetime_1.live)(self.#conn.h, M, 'UnixFdSinkConnection');
        if (self.#gone !== null)
            throw self.#goneError(M);
        return self;
    }
    #goneError(M) {
        const g = this.#gone;
        const code = g?.code ?? 'EPIPE';
        const e = (0, errors_1.osError)(code.startsWith('E') ? code : 'EPIPE', g?.errno !== undefined ? -g.errno : 32, g?.syscall ?? 'recvmsg', `${M}: the source has gone (${g?.message ?? 'it hung up'})`);
        return e;
    }
    /** How many buffers the source holds unreleased. */
    get inFlight() {
        if (!UnixFdSinkConnection.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSinkConnection.inFlight', 'UnixFdSinkConnection');
        return this.#inFlight.size;
    }
    /** Whether close() was called. */
    get closed() {
        if (!UnixFdSinkConnection.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSinkConnection.closed', 'UnixFdSinkConnection');
        return this.#conn.closed;
    }
    /** The socket's fd, or -1 once closed. */
    get fd() {
        if (!UnixFdSinkConnection.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSinkConnection.fd', 'UnixFdSinkConnection');
        return this.#conn.closed ? -1 : this.#conn.fd;
    }
    /** Sends CAPS: the caps of the buffers sent after it. */
    setCaps(caps) {
        const M = 'UnixFdSinkConnection.setCaps';
        try {
            const self = UnixFdSinkConnection.#open(this, M);
            const s = (0, validators_1.str)(M, 'caps', caps);
            if (s.includes('\0'))
                throw (0, errors_1.invalidValue)(M, 'caps', 'must not contain NUL bytes');
            checkCaps(M, 'caps', s);
            return self.#conn.send(M, 'UnixFdSinkConnection', native_1.native.unixfdCaps(s), [], false).catch((e) => {
                throw self.#failed(M, e);
            });
        }
        catch (e) {
            return Promise.reject(e);
        }
    }
    /** A send error: EPIPE/ECONNRESET mark the source gone (and free what it held). */
    #failed(M, e) {
        const code = e.code;
        if ((code === 'EPIPE' || code === 'ECONNRESET') && this.#gone === null) {
            this.#gone = e;
            this.#freeAll();
            return this.#goneError(M);
        }
        return e;
    }
    /** Everything in flight counts as released: the source is gone or the connection closed. */
    #freeAll() {
        this.#inFlight.clear();
        for (const ws of this.#waiters.values())
            for (const w of ws)
                w();
        this.#waiters.clear();
        for (const w of this.#room.splice(0))
            w();
        for (const w of this.#drained.splice(0))
            w();
    }
    /**
     * Sends a buffer: one DmaBuf, a Frame (one memory per distinct dma-buf
     * of its planes, in plane order), or a list of DmaBufs or of PassedFds
     * (memfds), each memory its whole object (a PassedFd's size from fstat).
     * Waits while maxInFlight buffers are unreleased. Resolves with the
     * buffer's id once sent; the kernel gives the source its own fds, the
     * caller keeps its objects (reuse them once released(id) resolves).
     */
    send(memories, info) {
        const M = 'UnixFdSinkConnection.send';
        try {
            const self = UnixFdSinkConnection.#open(this, M);
            const signal = (0, channel_1.signalOf)(M, info);
            const objs = memoryList(M, memories);
            const dma = objs[0] instanceof dma_buf_1.DmaBuf;
            const sizes = objs.map((o, i) => {
                if ((o instanceof dma_buf_1.DmaBuf) !== dma)
                    throw (0, errors_1.invalidValue)(M, 'memories', 'must be all DmaBufs or all PassedFds (one buffer has one memory type)');
                if (o instanceof dma_buf_1.DmaBuf) {
                    dma_buf_1.DmaBuf.handleOf(o, M, 'memories', i);
                    return o.size;
                }
                channel_1.PassedFd.handleOf(o);
                return (0, node_fs_1.fstatSync)(o.fd).size;
            });
            const fields = bufferInfo(M, info);
            return self.#send(M, objs, sizes, dma, fields, signal);
        }
        catch (e) {
            return Promise.reject(e);
        }
    }
    async #send(M, objs, sizes, dma, fields, signal) {
        while (this.#inFlight.size >= this.#max) {
            this.#pump();
            await new Promise((resolve, reject) => {
                const onAbort = () => {
                    const i = this.#room.indexOf(wake);
                    if (i >= 0)
                        this.#room.splice(i, 1);
                    reject((0, errors_1.abortError)(M, signal));
                };
                const wake = () => {
                    signal?.removeEventListener('abort', onAbort);
                    resolve();
                };
                if (signal?.aborted) {
                    reject((0, errors_1.abortError)(M, signal));
                    return;
                }
                signal?.addEventListener('abort', onAbort, { once: true });
                this.#room.push(wake);
            });
            (0, lifetime_1.live)(this.#conn.h, M, 'UnixFdSinkConnection');
            if (this.#gone !== null)
                throw this.#goneError(M);
        }
        const id = this.#nextId++;
        const bytes = native_1.native.unixfdBuffer({ ...fields, id, memoryType: dma ? 1 : 0, sizes, offsets: sizes.map(() => 0) });
        this.#inFlight.add(id);
        try {
            await this.#conn.send(M, 'UnixFdSinkConnection', bytes, objs, false, signal);
        }
        catch (e) {
            this.#inFlight.delete(id);
            this.#wake(id);
            throw this.#failed(M, e);
        }
        this.#pump();
        return id;
    }
    /** Resolves once the source released buffer `id` (at once for an id not in flight), or the connection ended. */
    released(id) {
        const M = 'UnixFdSinkConnection.released';
        if (!UnixFdSinkConnection.#is(this))
            return Promise.reject((0, errors_1.invalidThis)(M, 'UnixFdSinkConnection'));
        if (typeof id !== 'bigint')
            return Promise.reject((0, errors_1.invalidType)(M, 'id', 'of type bigint', id));
        if (id < 1n || id >= 2n ** 64n)
            return Promise.reject((0, errors_1.outOfRange)(M, 'id', '>= 1n and < 2n ** 64n (an id send() gave)', id));
        if (!this.#inFlight.has(id))
            return Promise.resolve();
        return new Promise((resolve) => {
            const ws = this.#waiters.get(id);
            if (ws === undefined)
                this.#waiters.set(id, [resolve]);
            else
                ws.push(resolve);
            this.#pump();
        });
    }
    #wake(id) {
        const ws = this.#waiters.get(id);
        this.#waiters.delete(id);
        if (ws !== undefined)
            for (const w of ws)
                w();
        for (const w of this.#room.splice(0))
            w();
        if (this.#inFlight.size === 0)
            for (const w of this.#drained.splice(0))
                w();
    }
    /** Reads the source's releases while buffers are in flight (the wait keeps the process alive only then). */
    #pump() {
        if (this.#pumping || this.#conn.closed || this.#gone !== null || this.#inFlight.size === 0)
            return;
        this.#pumping = true;
        void (async () => {
            const M = 'UnixFdSinkConnection.released';
            try {
                while (this.#inFlight.size > 0 && !this.#conn.closed && this.#gone === null) {
                    const c = await recvCommand(M, this.#conn, undefined, 'UnixFdSinkConnection');
                    for (const h of c.handles)
                        (0, lifetime_1.closeHandle)(h);
                    if (c.kind === 'release' && c.id !== undefined && this.#inFlight.delete(c.id))
                        this.#wake(c.id);
                }
            }
            catch (e) {
                if (!this.#conn.closed && this.#gone === null) {
                    this.#gone = e;
                    this.#freeAll();
                }
            }
            finally {
                this.#pumping = false;
            }
        })();
    }
    /** Sends EOS, then waits until every buffer is released or the source hung up. */
    async end() {
        const M = 'UnixFdSinkConnection.end';
        const self = UnixFdSinkConnection.#open(this, M);
        try {
            await self.#conn.send(M, 'UnixFdSinkConnection', native_1.native.unixfdEos(), [], false);
        }
        catch (e) {
            throw self.#failed(M, e);
        }
        if (self.#inFlight.size === 0)
            return;
        await new Promise((resolve) => {
            self.#drained.push(resolve);
            self.#pump();
        });
    }
    /** Closes the connection: later sends reject, pending released() promises resolve. Calling it again does nothing. */
    close() {
        if (!UnixFdSinkConnection.#is(this))
            throw (0, errors_1.invalidThis)('UnixFdSinkConnection.close', 'UnixFdSinkConnection');
        this.#conn.close();
        this.#freeAll();
    }
    /** The same as close(). */
    [Symbol.dispose]() {
        this.close();
    }
}
exports.UnixFdSinkConnection = UnixFdSinkConnection;
/** The objects whose fds a send carries. */
/** Caps that parseCaps reads, else ERR_INVALID_ARG_VALUE naming `M` and `name` (a unixfdsrc would refuse them). */
function checkCaps(M, name, caps) {
    try {
        (0, unixfd_caps_1.parseCaps)(caps);
    }
    catch (e) {
        throw (0, errors_1.invalidValue)(M, name, `must be caps GStreamer can read: ${e.message}`);
    }
}
function memoryList(M, memories) {
    if (memories instanceof dma_buf_1.DmaBuf)
        return [memories];
    if (frame_1.Frame.isFrame(memories)) {
        // Checked before frameBuffers reads each one's inode, so that a closed plane is named as the caller's argument.
        memories.planes.forEach((p, i) => dma_buf_1.DmaBuf.handleOf(p.buf, M, 'memories.planes', i));
        return (0, frame_1.frameBuffers)(memories);
    }
    if (!Array.isArray(memories))
        throw (0, errors_1.invalidType)(M, 'memories', 'a DmaBuf, a Frame or an Array of DmaBufs or PassedFds', memories);
    if (memories.length < 1 || memories.length > 16)
        throw (0, errors_1.outOfRange)(M, 'memories.length', '>= 1 and <= 16', memories.length);
    // An index loop, not map(): map() skips a sparse array's holes.
    const out = [];
    for (let i = 0; i < memories.length; i++) {
        const m = memories[i];
        if (m instanceof dma_buf_1.DmaBuf || m instanceof channel_1.PassedFd)
            out.push(m);
        else if (m instanceof sync_file_1.SyncFile)
            throw (0, errors_1.invalidValue)(M, `memories[${i}]`, 'is a SyncFile, which is no memory');
        else
            throw (0, errors_1.invalidType)(M, `memories[${i}]`, 'a DmaBuf or a PassedFd', m);
    }
    return out;
}
function u64Arg(M, name, v) {
    if (v === undefined || v === null)
        return null;
    if (typeof v !== 'bigint')
        throw (0, errors_1.invalidType)(M, name, 'of type bigint or null', v);
    if (v < 0n || v >= U64_MAX)
        throw (0, errors_1.outOfRange)(M, name, `>= 0n and < 2n ** 64n - 1n (all bits set is "none": pass null)`, v);
    return v;
}
function bufferInfo(M, info) {
    if (info === undefined)
        return { flags: 0 };
    if (typeof info !== 'object' || info === null)
        throw (0, errors_1.invalidType)(M, 'info', 'of type object', info);
    const i = info;
    const flags = i.flags === undefined ? 0 : (0, validators_1.uint)(M, 'info.flags', i.flags, validators_1.U32);
    const out = { flags };
    const put = (k) => {
        const v = u64Arg(M, `info.${k}`, i[k]);
        if (v !== null)
            out[k] = v;
    };
    put('pts');
    put('dts');
    put('duration');
    put('offset');
    put('offsetEnd');
    return out;
}
for (const C of [UnixFdBuffer, UnixFdSrc, UnixFdSink, UnixFdSinkConnection]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
}
