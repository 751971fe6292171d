"use strict";
// sync_file (crates/dmabuf/src/sync_file.rs): fences as fds.
Object.defineProperty(exports, "__esModule", { value: true });
exports.SyncFile = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const waits_1 = require("../internal/waits");
const A = native_1.args;
/** A sync_file: an fd that signals when its fences have. Close it with `close()` (or `using`). */
class SyncFile {
    #h;
    #fd;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, fd) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('SyncFile');
        this.#h = h;
        this.#fd = fd;
        (0, lifetime_1.own)(this, h);
    }
    /** @internal */
    static handleOf(s, method, name) {
        if (!(s instanceof Object) || !(#h in s))
            throw (0, errors_1.invalidType)(method, name, 'an instance of SyncFile', s);
        return (0, lifetime_1.live)(s.#h, method, 'SyncFile');
    }
    /** Wraps a sync_file fd number; the fd is duplicated (the caller keeps its own). */
    static fromFd(fd) {
        const h = native_1.native.syncFromFd((0, validators_1.uint)('SyncFile.fromFd', 'fd', fd, 2 ** 31 - 1));
        return new SyncFile(lifetime_1.token, h, A[8 /* Out.FD */]);
    }
    static #open(self, method) {
        if (!SyncFile.#is(self))
            throw (0, errors_1.invalidThis)(method, 'SyncFile');
        return (0, lifetime_1.live)(self.#h, method, 'SyncFile');
    }
    /** The fd number, or -1 once closed. */
    get fd() {
        if (!SyncFile.#is(this))
            throw (0, errors_1.invalidThis)('SyncFile.fd', 'SyncFile');
        return this.#h < 0 ? -1 : this.#fd;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!SyncFile.#is(this))
            throw (0, errors_1.invalidThis)('SyncFile.closed', 'SyncFile');
        return this.#h < 0;
    }
    /** Closes the fd; pending waits go on with their own duplicate. Calling it again does nothing. */
    close() {
        if (!SyncFile.#is(this))
            throw (0, errors_1.invalidThis)('SyncFile.close', 'SyncFile');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
    /** A new SyncFile with its own fd for the same fences. */
    dup() {
        const h = native_1.native.syncDup(SyncFile.#open(this, 'SyncFile.dup'));
        return new SyncFile(lifetime_1.token, h, A[8 /* Out.FD */]);
    }
    /** SYNC_IOC_FILE_INFO: name, status and fences. */
    info() {
        return native_1.native.syncInfo(SyncFile.#open(this, 'SyncFile.info'));
    }
    /** SYNC_IOC_MERGE: a new SyncFile that signals when both have. Neither is consumed. */
    merge(other, name) {
        const M = 'SyncFile.merge';
        const h = SyncFile.#open(this, M);
        const o = SyncFile.handleOf(other, M, 'other');
        const n = name === undefined ? 'dmabuf-merge' : (0, validators_1.str)(M, 'name', name);
        const m = native_1.native.syncMerge(h, o, n);
        return new SyncFile(lifetime_1.token, m, A[8 /* Out.FD */]);
    }
    /** Whether every fence has signalled (poll with a zero timeout). */
    isSignaled() {
        return native_1.native.syncIsSignaled(SyncFile.#open(this, 'SyncFile.isSignaled'));
    }
    /**
     * Blocks the thread until signalled (true) or `timeoutMs` passes (false).
     * Without a timeout (or with Infinity, or one longer than any clock) it
     * waits for ever. Prefer `wait()`.
     */
    waitSync(timeoutMs) {
        const M = 'SyncFile.waitSync';
        const h = SyncFile.#open(this, M);
        return native_1.native.syncWaitSync(h, (0, validators_1.timeoutMs)(M, timeoutMs));
    }
    /**
     * Resolves true once every fence has signalled, false when `timeoutMs`
     * passes first; rejects with an AbortError when `signal` aborts. No thread
     * is blocked while it waits: the fd sits in the event loop. Never
     * throws: every error is a rejection.
     */
    async wait(timeoutMs, signal) {
        const M = 'SyncFile.wait';
        const h = SyncFile.#open(this, M);
        const t = (0, validators_1.timeoutMs)(M, timeoutMs);
        const s = (0, waits_1.liveSignal)(M, signal);
        const id = (0, waits_1.waitId)();
        return (await (0, waits_1.abortable)(M, s, id, native_1.native.syncWait(h, t, id), (i) => native_1.native.syncCancelWait(i))) === true;
    }
}
exports.SyncFile = SyncFile;
Object.defineProperty(SyncFile.prototype, Symbol.toStringTag, { value: 'SyncFile' });
// `using x = ...` and `x[Symbol.dispose]()` are the very same function as close().
{
    const proto = SyncFile.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
