"use strict";
// Passing fds between processes (crates/dmabuf/src/fdpass.rs): Channel,
// Listener, PassedFd and fdFromProcess.
Object.defineProperty(exports, "__esModule", { value: true });
exports.Listener = exports.Channel = exports.PassedFd = exports.MAX_QUEUED_FDS = exports.MAX_HEADER = exports.MAX_FDS = void 0;
exports.fdFromProcess = fdFromProcess;
exports.signalOf = signalOf;
exports.address = address;
exports.cancellable = cancellable;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const pidfd_1 = require("../internal/pidfd");
const validators_1 = require("../internal/validators");
const waits_1 = require("../internal/waits");
const dma_buf_1 = require("./dma-buf");
const frame_1 = require("./frame");
const sync_file_1 = require("./sync-file");
const A = native_1.args;
/** The most fds one message may carry (the kernel's SCM_MAX_FD). */
exports.MAX_FDS = 253;
/** The largest header, in bytes of its JSON text. */
exports.MAX_HEADER = 65536;
/**
 * The most fd copies that sends waiting behind another `send()` of the same
 * Channel may hold together (each keeps a copy of its fds until it goes). A
 * send that would pass it rejects with ENOBUFS; await earlier sends first.
 */
exports.MAX_QUEUED_FDS = 1024;
/** An fd that arrived in a message (or from another process) and is neither a dma-buf nor a sync_file. */
class PassedFd {
    #h;
    #fd;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, fd) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('PassedFd');
        this.#h = h;
        this.#fd = fd;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(x) {
        return (0, lifetime_1.live)(x.#h, 'Channel.send', 'PassedFd');
    }
    /** The fd number (usable with `fs` while open), or -1 once closed. */
    get fd() {
        if (!PassedFd.#is(this))
            throw (0, errors_1.invalidThis)('PassedFd.fd', 'PassedFd');
        return this.#h < 0 ? -1 : this.#fd;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!PassedFd.#is(this))
            throw (0, errors_1.invalidThis)('PassedFd.closed', 'PassedFd');
        return this.#h < 0;
    }
    /** A new PassedFd with its own fd for the same open file. */
    dup() {
        if (!PassedFd.#is(this))
            throw (0, errors_1.invalidThis)('PassedFd.dup', 'PassedFd');
        const h = native_1.native.passedFdDup((0, lifetime_1.live)(this.#h, 'PassedFd.dup', 'PassedFd'));
        return new PassedFd(lifetime_1.token, h, A[8 /* Out.FD */]);
    }
    /** Closes the fd. Calling it again does nothing. */
    close() {
        if (!PassedFd.#is(this))
            throw (0, errors_1.invalidThis)('PassedFd.close', 'PassedFd');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.PassedFd = PassedFd;
/** Wraps what the native layer stored: kind 0 a DmaBuf, 1 a SyncFile, 2 a PassedFd. */
function passed(kind, h, fd, size) {
    if (kind === 0 /* PassedKind.DMA_BUF */) {
        A[8 /* Out.FD */] = fd;
        A[9 /* Out.BUF_SIZE */] = size;
        return new dma_buf_1.DmaBuf(lifetime_1.token, h);
    }
    if (kind === 1 /* PassedKind.SYNC_FILE */)
        return new sync_file_1.SyncFile(lifetime_1.token, h, fd);
    return new PassedFd(lifetime_1.token, h, fd);
}
/**
 * pidfd_open + pidfd_getfd: a duplicate, in this process, of fd `fd` of
 * process `pid` (which keeps its own), as a DmaBuf, a SyncFile or a
 * PassedFd. The kernel allows it where ptrace would be: EPERM otherwise,
 * ESRCH for no such process, EBADF for no such fd, ENOSYS before Linux 5.6.
 */
function fdFromProcess(pid, fd) {
    const h = (0, pidfd_1.takeFd)('fdFromProcess', pid, fd);
    return passed(A[9 /* Out.PASSED_KIND */], h, A[8 /* Out.FD */], A[10 /* Out.PASSED_SIZE */]);
}
function socketType(method, options) {
    if (options === undefined)
        return true;
    if (typeof options !== 'object' || options === null || Array.isArray(options))
        throw (0, errors_1.invalidType)(method, 'options', 'of type object', options);
    const t = options.type;
    if (t === undefined || t === 'seqpacket')
        return true;
    if (t === 'stream')
        return false;
    throw (0, errors_1.invalidValue)(method, 'options.type', `must be 'stream' or 'seqpacket'. Received ${(0, errors_1.describe)(t)}`);
}
/** @internal An options object's `signal`, checked. */
function signalOf(method, options) {
    if (options === undefined)
        return undefined;
    if (typeof options !== 'object' || options === null || Array.isArray(options))
        throw (0, errors_1.invalidType)(method, 'options', 'of type object', options);
    const s = options.signal;
    if (s !== undefined && !(s instanceof AbortSignal))
        throw (0, errors_1.invalidType)(method, 'options.signal', 'an instance of AbortSignal', s);
    return s;
}
/** @internal A socket address (a path or @name), checked. */
function address(method, a) {
    const s = (0, validators_1.str)(method, 'address', a);
    if (s.length === 0 || s.includes('\0'))
        throw (0, errors_1.invalidValue)(method, 'address', 'must be a path or @name without NUL bytes');
    return s;
}
/**
 * Runs a native operation `start(id)` that resolves null when cancelled;
 * `pending` gets the id while it runs (close() cancels them).
 */
/** A received message as receive() gives it: the header parsed, the fds wrapped. */
function message(M, r) {
    const fds = r.handles.map((fh, i) => passed(r.kinds[i], fh, r.fds[i], r.sizes[i]));
    if (r.header.startsWith('DMFR')) {
        // No JSON text starts so: the peer sent a frame (sendFrame, Rust's Frame::send).
        for (const f of fds)
            f.close();
        throw (0, errors_1.nodeError)(Error, 'ERR_DMABUF_BAD_HEADER', `${M}: the message is a frame (a binary DMFR header), which receiveFrame() takes, not JSON; its ${fds.length} fds were closed`);
    }
    let header;
    try {
        header = JSON.parse(r.header);
    }
    catch {
        for (const f of fds)
            f.close();
        throw (0, errors_1.nodeError)(Error, 'ERR_DMABUF_BAD_HEADER', `${M}: the message's header is not JSON; its ${fds.length} fds were closed`);
    }
    return { header, fds };
}
/** A received frame message as receiveFrame() gives it: the planes' dma-bufs wrapped, the frame made (and checked again). */
function frameOf(r) {
    const bufs = r.handles.map((fh, i) => {
        A[8 /* Out.FD */] = r.fds[i];
        A[9 /* Out.BUF_SIZE */] = r.sizes[i];
        return new dma_buf_1.DmaBuf(lifetime_1.token, fh);
    });
    try {
        return new frame_1.Frame({ width: r.width, height: r.height, fourcc: r.fourcc, modifier: r.modifier, planes: bufs.map((buf, i) => ({ buf, offset: r.offsets[i], pitch: r.pitches[i] })) });
    }
    catch (e) {
        for (const b of bufs)
            b.close();
        throw e;
    }
}
/** One sendmsg without waiting (chanTrySend's answer: 1 sent, 2 a stream tail left, 0 wait). */
function trySendWire(h, wire, handles) {
    return typeof wire === 'string' ? native_1.native.chanTrySend(h, wire, handles) : native_1.native.chanTrySendFrame(h, wire, handles);
}
/** The send that waits for room on the event loop. */
function sendWire(h, wire, handles, id) {
    return typeof wire === 'string' ? native_1.native.chanSend(h, wire, handles, id) : native_1.native.chanSendFrame(h, wire, handles, id);
}
/** @internal */
async function cancellable(method, pending, signal, closed, start, what = 'Channel') {
    if (signal?.aborted)
        throw (0, errors_1.abortError)(method, signal);
    const id = (0, waits_1.waitId)();
    pending.add(id);
    try {
        const r = await (0, waits_1.abortable)(method, signal, id, start(id), (i) => native_1.native.chanCancel(i));
        if (r === null)
            throw (0, errors_1.closedError)(method, closed() ? what : 'operation');
        return r;
    }
    finally {
        pending.delete(id);
    }
}
/**
 * A Unix socket that carries messages with fds: a JSON header and up to
 * MAX_FDS dma-bufs, sync_files or other fds (SCM_RIGHTS). Received fds are
 * close-on-exec and owned by the receiver. send() and receive() are
 * Promises driven by the event loop; calls of each kind run in the order
 * they were made.
 *
 * Both always return a Promise: every error, argument errors included,
 * rejects it (as Node's promise APIs do), none is thrown.
 * Errors of receive(): EPIPE (the peer closed the channel), ECONNRESET (it
 * died in the middle of a message), ETOOMANYREFS (more fds than `maxFds`:
 * those that arrived are closed, the channel goes on), EMSGSIZE (a header
 * over MAX_HEADER), ERR_DMABUF_BAD_HEADER (not JSON, or a frame, which
 * receiveFrame() takes; its fds are closed). Frames go as sendFrame() and
 * receiveFrame(): the Rust `Frame::send` message, the same errors plus
 * EPROTO for a message that is no frame.
 * Of send(): EPIPE (the peer closed the channel), or ECONNRESET where the
 * kernel gives it: a seqpacket peer that closed with messages unread;
 * ERR_OUT_OF_RANGE (a header over MAX_HEADER bytes of JSON, or more than
 * MAX_FDS fds).
 */
class Channel {
    #h;
    #fd;
    #seq;
    #sendTail = Promise.resolve();
    #recvTail = Promise.resolve();
    // Sends and receives called and not yet settled: at 0 a call may go at
    // once (nothing is queued before it), without a trip through #sendTail.
    #sending = 0;
    #receiving = 0;
    // fd copies held by sends queued behind another (at most MAX_QUEUED_FDS).
    #queuedFds = 0;
    #pending = new Set();
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, fd, seq) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Channel');
        this.#h = h;
        this.#fd = fd;
        this.#seq = seq;
        (0, lifetime_1.own)(this, h);
    }
    /**
     * socketpair(AF_UNIX): two connected channels (seqpacket unless
     * `type` is 'stream'). Hand one's `fd` to a child through
     * `child_process.spawn`'s `stdio` array and close it here.
     */
    static pair(type) {
        const seq = socketType('Channel.pair', type === undefined ? undefined : { type });
        const [a, b] = native_1.native.chanPair(seq);
        const fa = A[8 /* Out.FD */];
        const fb = A[9 /* Out.PAIR_FD */];
        return [new Channel(lifetime_1.token, a, fa, seq), new Channel(lifetime_1.token, b, fb, seq)];
    }
    /** socket + connect to a Channel.listen() at `address` (a path, or `@name` for the abstract namespace). */
    static connect(address_, options) {
        const M = 'Channel.connect';
        const a = address(M, address_);
        const seq = socketType(M, options);
        const h = native_1.native.chanConnect(a, seq);
        return new Channel(lifetime_1.token, h, A[8 /* Out.FD */], seq);
    }
    /** socket + bind + listen at `address` (a path, removed on close, or `@name`). */
    static listen(address_, options) {
        const M = 'Channel.listen';
        const a = address(M, address_);
        const seq = socketType(M, options);
        const h = native_1.native.listenerBind(a, seq);
        return new Listener(lifetime_1.token, h, A[8 /* Out.FD */], a, seq);
    }
    /** Wraps a connected Unix socket fd (an inherited one: `Channel.fromFd(3)`); the fd is duplicated, the caller keeps its own. */
    static fromFd(fd) {
        const h = native_1.native.chanFromFd((0, validators_1.uint)('Channel.fromFd', 'fd', fd, 2 ** 31 - 1));
        return new Channel(lifetime_1.token, h, A[8 /* Out.FD */], A[9 /* Out.SEQPACKET */] === 1);
    }
    static #open(self, method) {
        if (!Channel.#is(self))
            throw (0, errors_1.invalidThis)(method, 'Channel');
        (0, lifetime_1.live)(self.#h, method, 'Channel');
        return self;
    }
    /** The socket's fd number, or -1 once closed. */
    get fd() {
        if (!Channel.#is(this))
            throw (0, errors_1.invalidThis)('Channel.fd', 'Channel');
        return this.#h < 0 ? -1 : this.#fd;
    }
    /** 'seqpacket' or 'stream'. */
    get type() {
        if (!Channel.#is(this))
            throw (0, errors_1.invalidThis)('Channel.type', 'Channel');
        return this.#seq ? 'seqpacket' : 'stream';
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!Channel.#is(this))
            throw (0, errors_1.invalidThis)('Channel.closed', 'Channel');
        return this.#h < 0;
    }
    /**
     * Sends `header` (anything JSON.stringify takes, up to MAX_HEADER bytes)
     * with `fds` attached. The fds are duplicated at once, so they may be
     * closed as soon as this returns; the receiver gets its own.
     */
    send(header, fds, options) {
        // Argument errors reject too, as Node's promise APIs do: never a synchronous throw.
        try {
            return Channel.#send(this, header, fds, options);
        }
        catch (e) {
            return Promise.reject(e);
        }
    }
    static #send(that, header, fds, options) {
        const M = 'Channel.send';
        const self = Channel.#open(that, M);
        const signal = signalOf(M, options);
        let text;
        try {
            text = JSON.stringify(header);
        }
        catch (e) {
            throw (0, errors_1.invalidValue)(M, 'header', `must be JSON-serializable: ${e.message}`);
        }
        if (text === undefined)
            text = 'null';
        if (Buffer.byteLength(text) > exports.MAX_HEADER)
            throw (0, errors_1.outOfRange)(M, 'header', `at most ${exports.MAX_HEADER} bytes as JSON`, Buffer.byteLength(text));
        const list = fds === undefined ? [] : fds;
        if (!Array.isArray(list))
            throw (0, errors_1.invalidType)(M, 'fds', 'an instance of Array', fds);
        if (list.length > exports.MAX_FDS)
            throw (0, errors_1.outOfRange)(M, 'fds.length', `<= ${exports.MAX_FDS}`, list.length);
        return self.#dispatch(M, text, list, signal);
    }
    /** Sends now when nothing is queued, else queues the message behind the sends before it (holding copies of its fds). */
    #dispatch(M, wire, list, signal) {
        const self = this;
        if (self.#sending === 0)
            return self.#sendNow(M, wire, list, signal);
        // A queued send holds a copy of each fd until it goes: bounded, so that
        // a loop that never awaits its sends gets told instead of using up the
        // process's fds.
        if (list.length > 0 && self.#queuedFds + list.length > exports.MAX_QUEUED_FDS) {
            throw (0, errors_1.nodeError)(Error, 'ENOBUFS', `${M}: ${self.#sending} sends are waiting with ${self.#queuedFds} fd copies, and ${list.length} more would pass the limit of ${exports.MAX_QUEUED_FDS}; await earlier sends before sending more`);
        }
        const copies = [];
        try {
            for (let i = 0; i < list.length; i++) {
                const x = list[i];
                if (!(x instanceof dma_buf_1.DmaBuf || x instanceof sync_file_1.SyncFile || x instanceof PassedFd))
                    throw (0, errors_1.invalidType)(M, `fds[${i}]`, 'a DmaBuf, SyncFile or PassedFd', x);
                try {
                    copies.push(x.dup());
                }
                catch (e) {
                    const code = e.code ?? 'ERR_DMABUF';
                    throw (0, errors_1.nodeError)(Error, code, `${M}: cannot hold a copy of fds[${i}] for a send queued behind ${self.#sending} others: ${e.message}`);
                }
            }
        }
        catch (e) {
            for (const c of copies)
                c.close();
            throw e;
        }
        self.#sending++;
        self.#queuedFds += copies.length;
        const run = self.#sendTail.then(async () => {
            try {
                const handles = new Float64Array(copies.length);
                for (let i = 0; i < copies.length; i++) {
                    const c = copies[i];
                    handles[i] = c instanceof dma_buf_1.DmaBuf ? dma_buf_1.DmaBuf.handleOf(c, M, 'fds') : c instanceof sync_file_1.SyncFile ? sync_file_1.SyncFile.handleOf(c, M, 'fds') : PassedFd.handleOf(c);
                }
                const h = (0, lifetime_1.live)(self.#h, M, 'Channel');
                if (signal?.aborted)
                    throw (0, errors_1.abortError)(M, signal);
                // Fast path: the socket has room (almost always), no trip through the event loop (taken only while the loop turned recently).
                const went = trySendWire(h, wire, handles);
                if (went === 2)
                    await cancellable(M, self.#pending, signal, () => self.#h < 0, (id) => native_1.native.chanFlush(h, id));
                else if (went === 0)
                    await cancellable(M, self.#pending, signal, () => self.#h < 0, (id) => sendWire(h, wire, handles, id));
            }
            finally {
                self.#sending--;
                self.#queuedFds -= copies.length;
                for (const c of copies)
                    c.close();
            }
        });
        self.#sendTail = run.catch(() => undefined);
        return run;
    }
    /**
     * Sends `frame` as one message, the same the Rust `Frame::send` sends: a
     * binary header (`DMFR`, version, plane count, width, height, fourcc,
     * modifier, each plane's offset and pitch; made by the Rust
     * `Frame::header_of`) with one dma-buf fd per plane attached. The frame
     * stays the caller's (its fds are duplicated when the send has to wait),
     * so it may be closed as soon as this returns. The peer takes it with
     * receiveFrame() or `Frame::recv`. Queued with send() in call order.
     */
    sendFrame(frame, options) {
        try {
            const M = 'Channel.sendFrame';
            const self = Channel.#open(this, M);
            const signal = signalOf(M, options);
            if (!frame_1.Frame.isFrame(frame))
                throw (0, errors_1.invalidType)(M, 'frame', 'an instance of Frame', frame);
            const list = frame.planes.map((p, i) => {
                dma_buf_1.DmaBuf.handleOf(p.buf, M, `frame.planes[${i}].buf`);
                return p.buf;
            });
            const header = native_1.native.frameHeader(frame.width, frame.height, frame.fourcc, frame.modifier, frame.planes.map((p) => p.offset), frame.planes.map((p) => p.pitch));
            return self.#dispatch(M, header, list, signal);
        }
        catch (e) {
            return Promise.reject(e);
        }
    }
    /**
     * send() with nothing queued before it: the message goes now, with the
     * caller's fds and no copies of them (`chanTrySend` sends them before
     * returning; `chanSend` duplicates them before returning when it has to
     * wait), so one fd costs no dup, close or object here.
     */
    #sendNow(M, wire, list, signal) {
        const handles = new Float64Array(list.length);
        for (let i = 0; i < list.length; i++) {
            const x = list[i];
            if (x instanceof dma_buf_1.DmaBuf)
                handles[i] = dma_buf_1.DmaBuf.handleOf(x, M, 'fds');
            else if (x instanceof sync_file_1.SyncFile)
                handles[i] = sync_file_1.SyncFile.handleOf(x, M, 'fds');
            else if (x instanceof PassedFd)
                handles[i] = PassedFd.handleOf(x);
            else
                throw (0, errors_1.invalidType)(M, `fds[${i}]`, 'a DmaBuf, SyncFile or PassedFd', x);
        }
        let went;
        try {
            if (signal?.aborted)
                throw (0, errors_1.abortError)(M, signal);
            // Fast path: the socket has room (almost always), no trip through the event loop (taken only while the loop turned recently).
            went = trySendWire(this.#h, wire, handles);
        }
        catch (e) {
            return Promise.reject(e);
        }
        if (went === 1)
            return Promise.resolve();
        const h = this.#h;
        this.#sending++;
        const run = (async () => {
            try {
                if (went === 2)
                    await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native_1.native.chanFlush(h, id));
                else
                    await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => sendWire(h, wire, handles, id));
            }
            finally {
                this.#sending--;
            }
        })();
        this.#sendTail = run.catch(() => undefined);
        return run;
    }
    /**
     * Receives the next message. At most `maxFds` fds (default MAX_FDS, 253,
     * the kernel's limit per message, so by default nothing a peer can send is
     * dropped) are accepted: a message with more is an ETOOMANYREFS error that
     * gives the limit and how many arrived; those fds are closed, the message
     * dropped, and the channel goes on with the next one.
     */
    receive(options) {
        try {
            return Channel.#receive(this, options);
        }
        catch (e) {
            return Promise.reject(e);
        }
    }
    static #receive(that, options) {
        const M = 'Channel.receive';
        const self = Channel.#open(that, M);
        const signal = signalOf(M, options);
        const mf = options?.maxFds;
        const maxFds = mf === undefined ? exports.MAX_FDS : (0, validators_1.uint)(M, 'options.maxFds', mf, exports.MAX_FDS);
        return self.#take(M, signal, maxFds);
    }
    /**
     * Receives the next message as a Frame: one that sendFrame() (or the
     * Rust `Frame::send`) sent, its binary header and one dma-buf per plane
     * checked by the Rust `Frame::from_message` and then as `new Frame`
     * checks. The frame owns the dma-bufs that came. Any other message (a
     * JSON one, a bad plane count, fds that differ from it or are no
     * dma-bufs) is an EPROTO error naming what is wrong: its fds are closed,
     * the channel goes on with the next message. Queued with receive() in
     * call order.
     */
    receiveFrame(options) {
        try {
            const M = 'Channel.receiveFrame';
            const self = Channel.#open(this, M);
            const signal = signalOf(M, options);
            return self.#take(M, signal, -1);
        }
        catch (e) {
            return Promise.reject(e);
        }
    }
    /**
     * Receives now when nothing is queued and a message is there, else queues
     * behind the receives before it: a Message of at most `maxFds` fds, or a
     * Frame when `maxFds` is -1 (receiveFrame).
     */
    #take(M, signal, maxFds) {
        const tryRecv = (h) => {
            if (maxFds < 0) {
                const r = native_1.native.chanTryRecvFrame(h);
                return r === null ? null : frameOf(r);
            }
            const r = native_1.native.chanTryRecv(h, maxFds);
            return r === null ? null : message(M, r);
        };
        const recv = async (h) => {
            if (maxFds < 0)
                return frameOf(await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native_1.native.chanRecvFrame(h, id)));
            return message(M, await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native_1.native.chanRecv(h, maxFds, id)));
        };
        const self = this;
        // Whether this call already found the socket empty (then it waits without a second recvmsg).
        let tried = false;
        if (self.#receiving === 0) {
            // Nothing queued before it: a message already there settles it now, without a trip through #recvTail.
            try {
                if (signal?.aborted)
                    throw (0, errors_1.abortError)(M, signal);
                const r = tryRecv(self.#h);
                if (r !== null)
                    return Promise.resolve(r);
            }
            catch (e) {
                return Promise.reject(e);
            }
            tried = true;
        }
        self.#receiving++;
        const run = self.#recvTail.then(async () => {
            try {
                const h = (0, lifetime_1.live)(self.#h, M, 'Channel');
                if (signal?.aborted)
                    throw (0, errors_1.abortError)(M, signal);
                // Fast path: a message is already there; otherwise wait on the event loop.
                return (tried ? null : tryRecv(h)) ?? (await recv(h));
            }
            finally {
                self.#receiving--;
            }
        });
        self.#recvTail = run.catch(() => undefined);
        return run;
    }
    /** Closes the socket; pending sends and receives reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
    close() {
        if (!Channel.#is(this))
            throw (0, errors_1.invalidThis)('Channel.close', 'Channel');
        if (this.#h >= 0)
            native_1.native.chanUnlinger(this.#h);
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        for (const id of this.#pending)
            native_1.native.chanCancel(id);
    }
}
exports.Channel = Channel;
/** A listening Unix socket (Channel.listen). */
class Listener {
    #h;
    #fd;
    #address;
    #seq;
    #pending = new Set();
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, fd, address_, seq) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Listener');
        this.#h = h;
        this.#fd = fd;
        this.#address = address_;
        this.#seq = seq;
        (0, lifetime_1.own)(this, h);
    }
    /** The socket's fd number, or -1 once closed. */
    get fd() {
        if (!Listener.#is(this))
            throw (0, errors_1.invalidThis)('Listener.fd', 'Listener');
        return this.#h < 0 ? -1 : this.#fd;
    }
    /** The address it listens on. */
    get address() {
        if (!Listener.#is(this))
            throw (0, errors_1.invalidThis)('Listener.address', 'Listener');
        return this.#address;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!Listener.#is(this))
            throw (0, errors_1.invalidThis)('Listener.closed', 'Listener');
        return this.#h < 0;
    }
    /** accept4: the next connection, as a Channel. */
    async accept(options) {
        const M = 'Listener.accept';
        if (!Listener.#is(this))
            throw (0, errors_1.invalidThis)(M, 'Listener');
        const h = (0, lifetime_1.live)(this.#h, M, 'Listener');
        const signal = signalOf(M, options);
        const r = await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native_1.native.listenerAccept(h, id), 'Listener');
        return new Channel(lifetime_1.token, r[0], r[1], this.#seq);
    }
    /** Closes the socket (and removes its path); pending accepts reject. */
    close() {
        if (!Listener.#is(this))
            throw (0, errors_1.invalidThis)('Listener.close', 'Listener');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
        for (const id of this.#pending)
            native_1.native.chanCancel(id);
    }
}
exports.Listener = Listener;
for (const C of [PassedFd, Channel, Listener]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
