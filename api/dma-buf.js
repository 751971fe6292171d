"use strict";
// DMA-BUF (crates/dmabuf/src/dma_buf.rs): the DmaBuf class, CPU access
// brackets (DMA_BUF_IOCTL_SYNC) and mappings.
Object.defineProperty(exports, "__esModule", { value: true });
exports.Mapping = exports.CpuAccess = exports.DmaBuf = void 0;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const pidfd_1 = require("../internal/pidfd");
const validators_1 = require("../internal/validators");
const sync_file_1 = require("./sync-file");
/** The shared argument array, as a module constant (read on every hot path). */
const A = native_1.args;
// The fast calls, held in constants: a call through a constant is
// monomorphic and needs no property lookup on the exports object.
const nativeSyncStart = native_1.native.syncStart;
const nativeSyncEnd = native_1.native.syncEnd;
const nativeExportSyncFile = native_1.native.exportSyncFile;
const nativeClose = native_1.native.close;
const nativeUnmap = native_1.native.unmap;
/**
 * A dma-buf: one owned, close-on-exec file descriptor for shared memory.
 *
 * Close it with `close()` (or `using`); garbage collection closes it too,
 * but only eventually.
 */
class DmaBuf {
    #h;
    #fd;
    #size;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('DmaBuf');
        this.#h = h;
        this.#fd = A[8 /* Out.FD */];
        this.#size = A[9 /* Out.BUF_SIZE */];
        (0, lifetime_1.own)(this, h);
    }
    /** @internal The native handle, or -1 once closed (CpuAccess.end). */
    static handleOrClosed(b) {
        return b.#h;
    }
    /** @internal The native handle, for the other classes of this package. */
    static handleOf(b, method, name, index) {
        if (!(b instanceof Object) || !(#h in b))
            throw (0, errors_1.invalidType)(method, name, 'an instance of DmaBuf', b);
        return (0, lifetime_1.live)(b.#h, method, index === undefined ? 'DmaBuf' : `DmaBuf at index ${index} of ${name.replace(/\[.*/, '')}`);
    }
    /**
     * Wraps a dma-buf fd number. The fd is duplicated (F_DUPFD_CLOEXEC): the
     * caller keeps, and must still close, its own. Throws `ENOTTY` when the fd
     * is not a dma-buf, `EBADF` when it is not open.
     */
    static fromFd(fd) {
        return new DmaBuf(lifetime_1.token, native_1.native.bufFromFd((0, validators_1.uint)('DmaBuf.fromFd', 'fd', fd, 2 ** 31 - 1)));
    }
    /**
     * pidfd_open + pidfd_getfd: a dma-buf taken out of another process (its
     * fd `fd`), which keeps its own. Needs ptrace rights over the process
     * (EPERM otherwise); ENOSYS before Linux 5.6. See `fdFromProcess`.
     */
    static fromProcess(pid, fd) {
        const h = (0, pidfd_1.takeFd)('DmaBuf.fromProcess', pid, fd);
        if (A[9 /* Out.PASSED_KIND */] === 0 /* PassedKind.DMA_BUF */) {
            A[9 /* Out.BUF_SIZE */] = A[10 /* Out.PASSED_SIZE */];
            return new DmaBuf(lifetime_1.token, h);
        }
        (0, lifetime_1.closeHandle)(h);
        throw (0, errors_1.nodeError)(Error, 'ENOTTY', `ENOTTY: fd ${fd} of process ${pid} is not a dma-buf, DmaBuf.fromProcess`);
    }
    /**
     * Exports one SyncFile per buffer (the kmsroots/wlroots batch). All or
     * nothing: on any failure the SyncFiles already made are closed and the
     * error names the buffer's index.
     */
    static exportSyncFiles(buffers, access) {
        const M = 'DmaBuf.exportSyncFiles';
        const hs = (0, validators_1.handles)(M, 'buffers', buffers, (b, i) => DmaBuf.handleOf(b, M, `buffers[${i}]`, i));
        const bits = (0, validators_1.accessBits)(M, 'access', access);
        const out = native_1.native.bufExportSyncFiles(hs, bits);
        const files = [];
        for (let i = 0; i < out.length; i += 2)
            files.push(new sync_file_1.SyncFile(lifetime_1.token, out[i], out[i + 1]));
        return files;
    }
    /**
     * Imports one SyncFile into every buffer (the kmsroots/wlroots batch).
     * Every buffer is checked first, so a closed one fails the call before any
     * fence is attached. The SyncFile is only borrowed.
     */
    static importSyncFileAll(buffers, syncFile, access) {
        const M = 'DmaBuf.importSyncFileAll';
        const hs = (0, validators_1.handles)(M, 'buffers', buffers, (b, i) => DmaBuf.handleOf(b, M, `buffers[${i}]`, i));
        const sf = sync_file_1.SyncFile.handleOf(syncFile, M, 'syncFile');
        native_1.native.bufImportSyncFileAll(hs, sf, (0, validators_1.accessBits)(M, 'access', access));
    }
    static #open(self, method) {
        if (!DmaBuf.#is(self))
            throw (0, errors_1.invalidThis)(method, 'DmaBuf');
        return (0, lifetime_1.live)(self.#h, method, 'DmaBuf');
    }
    /** The fd number, or -1 once closed. */
    get fd() {
        if (!DmaBuf.#is(this))
            throw (0, errors_1.invalidThis)('DmaBuf.fd', 'DmaBuf');
        return this.#h < 0 ? -1 : this.#fd;
    }
    /** Size in bytes (0 once closed). */
    get size() {
        if (!DmaBuf.#is(this))
            throw (0, errors_1.invalidThis)('DmaBuf.size', 'DmaBuf');
        return this.#h < 0 ? 0 : this.#size;
    }
    /** Whether `close()` was called. */
    get closed() {
        if (!DmaBuf.#is(this))
            throw (0, errors_1.invalidThis)('DmaBuf.closed', 'DmaBuf');
        return this.#h < 0;
    }
    /** Size, exporter, name, inode, file count, writability (fstat and /proc/self/fdinfo). */
    info() {
        return native_1.native.bufInfo(DmaBuf.#open(this, 'DmaBuf.info'));
    }
    /** DMA_BUF_SET_NAME: names the buffer (at most 31 bytes). */
    setName(name) {
        const h = DmaBuf.#open(this, 'DmaBuf.setName');
        native_1.native.bufSetName(h, (0, validators_1.str)('DmaBuf.setName', 'name', name));
    }
    /** A new DmaBuf with its own fd for the same buffer. */
    dup() {
        return new DmaBuf(lifetime_1.token, native_1.native.bufDup(DmaBuf.#open(this, 'DmaBuf.dup')));
    }
    /**
     * Closes the fd. CPU accesses still open are ended first. Mappings stay
     * valid until unmapped. Calling it again does nothing.
     */
    close() {
        if (!DmaBuf.#is(this))
            throw (0, errors_1.invalidThis)('DmaBuf.close', 'DmaBuf');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
    /**
     * DMA_BUF_IOCTL_SYNC start: begins CPU access. Call `end()` on the result
     * (or declare it with `using`); closing the DmaBuf ends it too.
     */
    beginCpuAccess(access) {
        const h = DmaBuf.#open(this, 'DmaBuf.beginCpuAccess');
        const bits = (0, validators_1.bitsOf)(access);
        if (bits === 0)
            (0, validators_1.accessBits)('DmaBuf.beginCpuAccess', 'access', access);
        A[0 /* Arg.HANDLE */] = h;
        A[1 /* Arg.ACCESS */] = bits;
        nativeSyncStart();
        return new CpuAccess(lifetime_1.token, this, bits);
    }
    /**
     * mmap: maps `length` bytes at `offset` (a multiple of the page size;
     * default: to the end). `access` defaults to 'rw' on a read-write fd and
     * 'r' on a read-only one. The Mapping's `buffer` is an ArrayBuffer over the
     * memory itself (no copy).
     */
    map(access, offset, length) {
        const M = 'DmaBuf.map';
        const h = DmaBuf.#open(this, M);
        const bits = (0, validators_1.optionalAccessBits)(M, 'access', access, 0);
        const off = (0, validators_1.optionalUint)(M, 'offset', offset, 0);
        const len = length === undefined ? -1 : (0, validators_1.uint)(M, 'length', length);
        if (off >= this.#size)
            throw (0, errors_1.outOfRange)(M, 'offset', `< the buffer's size (${this.#size})`, off);
        if (len !== -1 && off + len > this.#size)
            throw (0, errors_1.outOfRange)(M, 'length', `<= ${this.#size - off} (the bytes after offset ${off})`, len);
        return new Mapping(lifetime_1.token, native_1.native.bufMap(h, bits, off, len));
    }
    /** Copies `length` bytes at `offset` out of the buffer, bracketed by CPU read access. Works where `map()` cannot (Electron). */
    read(offset, length) {
        const M = 'DmaBuf.read';
        const h = DmaBuf.#open(this, M);
        return native_1.native.bufRead(h, (0, validators_1.uint)(M, 'offset', offset), (0, validators_1.uint)(M, 'length', length));
    }
    /** Copies `data` into the buffer at `offset`, bracketed by CPU write access. */
    write(offset, data) {
        const M = 'DmaBuf.write';
        const h = DmaBuf.#open(this, M);
        const off = (0, validators_1.uint)(M, 'offset', offset);
        if (!(data instanceof Uint8Array))
            throw (0, errors_1.invalidType)(M, 'data', 'an instance of Uint8Array', data);
        native_1.native.bufWrite(h, off, data);
    }
    /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a SyncFile with the buffer's current fences ('r': what a reader must wait for; 'w'/'rw': everything). */
    exportSyncFile(access) {
        const h = DmaBuf.#open(this, 'DmaBuf.exportSyncFile');
        const bits = (0, validators_1.bitsOf)(access);
        if (bits === 0)
            (0, validators_1.accessBits)('DmaBuf.exportSyncFile', 'access', access);
        A[0 /* Arg.HANDLE */] = h;
        A[1 /* Arg.ACCESS */] = bits;
        const sf = nativeExportSyncFile();
        return new sync_file_1.SyncFile(lifetime_1.token, sf, A[8 /* Out.FD */]);
    }
    /**
     * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: attaches the SyncFile's fences ('w'/'rw':
     * as a write, 'r': as a read). The SyncFile stays yours: close it when you
     * no longer need it.
     */
    importSyncFile(syncFile, access) {
        const M = 'DmaBuf.importSyncFile';
        const h = DmaBuf.#open(this, M);
        native_1.native.bufImportSyncFile(h, sync_file_1.SyncFile.handleOf(syncFile, M, 'syncFile'), (0, validators_1.accessBits)(M, 'access', access));
    }
}
exports.DmaBuf = DmaBuf;
Object.defineProperty(DmaBuf.prototype, Symbol.toStringTag, { value: 'DmaBuf' });
/** CPU access in progress (from `DmaBuf.beginCpuAccess`): a plain object, no native one. */
class CpuAccess {
    // Two fields, set in the constructor: this object is made on the hottest
    // path there is. `#bits` is the access's DMA_BUF_SYNC_* bits while it is
    // open and 0 once ended; the handle is read from the DmaBuf at end(), so a
    // closed DmaBuf (which ended every access) gives -1 and the native side
    // does nothing.
    #bits;
    #buf;
    static #is(x) {
        return typeof x === 'object' && x !== null && #bits in x;
    }
    /** @internal */
    constructor(key, buf, bits) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('CpuAccess');
        this.#bits = bits;
        this.#buf = buf;
    }
    /** The access held: 'r', 'w' or 'rw' (also after `end()`). */
    get access() {
        if (!CpuAccess.#is(this))
            throw (0, errors_1.invalidThis)('CpuAccess.access', 'CpuAccess');
        return validators_1.ACCESS[this.#bits & 3 || this.#bits >> 2];
    }
    /** Whether the access is still open (false after `end()` or the DmaBuf's `close()`). */
    get active() {
        if (!CpuAccess.#is(this))
            throw (0, errors_1.invalidThis)('CpuAccess.active', 'CpuAccess');
        return (this.#bits & 3) !== 0 && !this.#buf.closed;
    }
    /**
     * DMA_BUF_IOCTL_SYNC end. Calling it again, or after the DmaBuf was closed
     * (which ended it), does nothing.
     */
    end() {
        if (!CpuAccess.#is(this))
            throw (0, errors_1.invalidThis)('CpuAccess.end', 'CpuAccess');
        const bits = this.#bits & 3;
        if (bits === 0)
            return;
        // Ended: keep the access in bits 2..3 for the `access` getter.
        this.#bits = bits << 2;
        A[0 /* Arg.HANDLE */] = DmaBuf.handleOrClosed(this.#buf);
        A[1 /* Arg.ACCESS */] = bits;
        nativeSyncEnd();
    }
}
exports.CpuAccess = CpuAccess;
Object.defineProperty(CpuAccess.prototype, Symbol.toStringTag, { value: 'CpuAccess' });
/**
 * A mapping of a dma-buf. `buffer` is an ArrayBuffer over the mapped memory
 * (made on first use). `unmap()` detaches it (views then have length 0 and
 * never fault) and releases the dma-buf at once; the address range stays
 * reserved, as private zero pages, until the ArrayBuffer is garbage
 * collected, so native code still holding the pointer (Node's thread pool:
 * zlib, fs, crypto) can neither fault nor reach another buffer.
 */
/** An ArrayBuffer already detached (byteLength 0), as `unmap()` leaves a mapping's. */
function detached() {
    const b = new ArrayBuffer(0);
    structuredClone(b, { transfer: [b] });
    return b;
}
class Mapping {
    #h;
    #offset;
    #length;
    #bits;
    #buffer;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Mapping');
        this.#h = h;
        this.#offset = A[8 /* Out.MAP_OFFSET */];
        this.#length = A[9 /* Out.MAP_LENGTH */];
        this.#bits = A[10 /* Out.MAP_ACCESS */];
        (0, lifetime_1.own)(this, h);
    }
    /** The mapped memory, with no copy. Detached (byteLength 0) after `unmap()`. */
    get buffer() {
        if (!Mapping.#is(this))
            throw (0, errors_1.invalidThis)('Mapping.buffer', 'Mapping');
        // After unmap(), never read before: a detached ArrayBuffer (byteLength 0), as one read before reads now.
        if (this.#buffer === undefined && this.#h < 0)
            this.#buffer = detached();
        this.#buffer ??= native_1.native.mapBuffer((0, lifetime_1.live)(this.#h, 'Mapping.buffer', 'Mapping'));
        return this.#buffer;
    }
    /** Offset of the mapping in the buffer. */
    get offset() {
        if (!Mapping.#is(this))
            throw (0, errors_1.invalidThis)('Mapping.offset', 'Mapping');
        return this.#offset;
    }
    /** Length in bytes. */
    get length() {
        if (!Mapping.#is(this))
            throw (0, errors_1.invalidThis)('Mapping.length', 'Mapping');
        return this.#length;
    }
    /** 'r' or 'rw'. */
    get access() {
        if (!Mapping.#is(this))
            throw (0, errors_1.invalidThis)('Mapping.access', 'Mapping');
        return validators_1.ACCESS[this.#bits];
    }
    /** Whether the memory is still mapped. */
    get mapped() {
        if (!Mapping.#is(this))
            throw (0, errors_1.invalidThis)('Mapping.mapped', 'Mapping');
        return this.#h >= 0;
    }
    /** Detaches `buffer` and releases the dma-buf's pages. Calling it again does nothing. */
    unmap() {
        if (!Mapping.#is(this))
            throw (0, errors_1.invalidThis)('Mapping.unmap', 'Mapping');
        const h = this.#h;
        if (h < 0)
            return;
        this.#h = -1;
        (0, lifetime_1.forget)(this);
        A[0 /* Arg.HANDLE */] = h;
        if (this.#buffer === undefined)
            nativeClose();
        else
            nativeUnmap(this.#buffer);
    }
}
exports.Mapping = Mapping;
Object.defineProperty(Mapping.prototype, Symbol.toStringTag, { value: 'Mapping' });
// `using x = ...` and `x[Symbol.dispose]()` are the very same function as
// close() / end() / unmap().
for (const [C, method] of [
    [DmaBuf, 'close'],
    [CpuAccess, 'end'],
    [Mapping, 'unmap'],
]) {
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto[method], writable: true, configurable: true });
}
