"use strict";
// udmabuf (crates/dmabuf/src/udmabuf.rs): dma-bufs over memfd pages.
Object.defineProperty(exports, "__esModule", { value: true });
exports.Udmabuf = void 0;
exports.createUdmabuf = createUdmabuf;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const dma_buf_1 = require("./dma-buf");
const A = native_1.args;
/** An open /dev/udmabuf: dma-bufs over memfd pages. */
class Udmabuf {
    #h;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Udmabuf');
        this.#h = h;
        (0, lifetime_1.own)(this, h);
    }
    /** Opens /dev/udmabuf (or `path`). Throws ENOENT with a hint about CONFIG_UDMABUF when it does not exist. */
    static open(path) {
        const p = path === undefined ? null : (0, validators_1.str)('Udmabuf.open', 'path', path);
        return new Udmabuf(lifetime_1.token, native_1.native.udmabufOpen(p));
    }
    static #open(self, method) {
        if (!Udmabuf.#is(self))
            throw (0, errors_1.invalidThis)(method, 'Udmabuf');
        return (0, lifetime_1.live)(self.#h, method, 'Udmabuf');
    }
    /** A dma-buf of `size` bytes (rounded up to whole pages) over a new memfd. */
    alloc(size) {
        const h = Udmabuf.#open(this, 'Udmabuf.alloc');
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.udmabufAlloc(h, (0, validators_1.uint)('Udmabuf.alloc', 'size', size)));
    }
    /**
     * Like `alloc`, and also returns the memfd, whose number is yours to
     * close. Bytes written through either show in the other, as long as the
     * memfd keeps its pages: the dma-buf pins the pages it was made from, so
     * a hole punched in the memfd afterwards (`fallocate` PUNCH_HOLE, by any
     * process that can reach it) gives the memfd new zero pages there while
     * the dma-buf keeps the old bytes.
     */
    allocWithMemfd(size) {
        const h = Udmabuf.#open(this, 'Udmabuf.allocWithMemfd');
        const buffer = new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.udmabufAllocWithMemfd(h, (0, validators_1.uint)('Udmabuf.allocWithMemfd', 'size', size)));
        return { buffer, memfd: A[10 /* Out.MEMFD */] };
    }
    /** UDMABUF_CREATE over `size` bytes at `offset` of a memfd you own (sealed with F_SEAL_SHRINK; offset and size page-aligned). */
    create(memfd, offset, size) {
        const M = 'Udmabuf.create';
        const h = Udmabuf.#open(this, M);
        const b = native_1.native.udmabufCreate(h, (0, validators_1.uint)(M, 'memfd', memfd, 2 ** 31 - 1), (0, validators_1.uint)(M, 'offset', offset), (0, validators_1.uint)(M, 'size', size));
        return new dma_buf_1.DmaBuf(lifetime_1.token, b);
    }
    /** UDMABUF_CREATE_LIST: one dma-buf over several memfd ranges, in order. */
    createList(ranges) {
        const M = 'Udmabuf.createList';
        const h = Udmabuf.#open(this, M);
        if (!Array.isArray(ranges))
            throw (0, errors_1.invalidType)(M, 'ranges', 'an instance of Array', ranges);
        const n = ranges.length;
        if (n > validators_1.MAX_BATCH)
            throw (0, errors_1.outOfRange)(M, 'ranges.length', `<= ${validators_1.MAX_BATCH}`, n);
        const fds = new Float64Array(n);
        const offsets = new Float64Array(n);
        const sizes = new Float64Array(n);
        for (let i = 0; i < n; i++) {
            const r = ranges[i];
            if (typeof r !== 'object' || r === null)
                throw (0, errors_1.invalidType)(M, `ranges[${i}]`, 'an object { fd, offset, size }', r);
            const { fd, offset, size } = r;
            fds[i] = (0, validators_1.uint)(M, `ranges[${i}].fd`, fd, 2 ** 31 - 1);
            offsets[i] = (0, validators_1.uint)(M, `ranges[${i}].offset`, offset);
            sizes[i] = (0, validators_1.uint)(M, `ranges[${i}].size`, size);
        }
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.udmabufCreateList(h, fds, offsets, sizes));
    }
    /** Closes the device fd (buffers made from it live on). */
    close() {
        if (!Udmabuf.#is(this))
            throw (0, errors_1.invalidThis)('Udmabuf.close', 'Udmabuf');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.Udmabuf = Udmabuf;
/** Allocates a dma-buf of `size` bytes (rounded up to whole pages) from /dev/udmabuf, backed by a new sealed memfd. */
function createUdmabuf(size) {
    return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.createUdmabuf((0, validators_1.uint)('createUdmabuf', 'size', size)));
}
for (const C of [Udmabuf]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
