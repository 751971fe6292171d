"use strict";
// dma-heap (crates/dmabuf/src/heap.rs): allocations from /dev/dma_heap.
Object.defineProperty(exports, "__esModule", { value: true });
exports.Heap = void 0;
exports.listHeaps = listHeaps;
const errors_1 = require("../internal/errors");
const lifetime_1 = require("../internal/lifetime");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const dma_buf_1 = require("./dma-buf");
/** Names of the dma-heaps in /dev/dma_heap (empty when there are none). */
function listHeaps() {
    return native_1.native.listHeaps();
}
/** An open dma-heap. */
class Heap {
    #h;
    #name;
    static #is(x) {
        return typeof x === 'object' && x !== null && #h in x;
    }
    /** @internal */
    constructor(key, h, name) {
        if (key !== lifetime_1.token)
            throw (0, errors_1.illegalConstructor)('Heap');
        this.#h = h;
        this.#name = name;
        (0, lifetime_1.own)(this, h);
    }
    /** Opens /dev/dma_heap/`name`. Throws ENOENT listing the heaps that exist, or EACCES naming the node. */
    static open(name) {
        const n = (0, validators_1.str)('Heap.open', 'name', name);
        return new Heap(lifetime_1.token, native_1.native.heapOpen(n), n);
    }
    /** The heap's name. */
    get name() {
        if (!Heap.#is(this))
            throw (0, errors_1.invalidThis)('Heap.name', 'Heap');
        return this.#name;
    }
    /** DMA_HEAP_IOCTL_ALLOC: at least `size` bytes (rounded up to pages; see `DmaBuf.size`). `access` 'r' gives a read-only fd; default 'rw'. */
    alloc(size, access) {
        const M = 'Heap.alloc';
        if (!Heap.#is(this))
            throw (0, errors_1.invalidThis)(M, 'Heap');
        return new dma_buf_1.DmaBuf(lifetime_1.token, native_1.native.heapAlloc((0, lifetime_1.live)(this.#h, M, 'Heap'), (0, validators_1.uint)(M, 'size', size), (0, validators_1.optionalAccessBits)(M, 'access', access, 3)));
    }
    /** Closes the heap's fd (buffers live on). */
    close() {
        if (!Heap.#is(this))
            throw (0, errors_1.invalidThis)('Heap.close', 'Heap');
        this.#h = (0, lifetime_1.closeOnce)(this, this.#h);
    }
}
exports.Heap = Heap;
for (const C of [Heap]) {
    Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
    const proto = C.prototype;
    Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true });
}
