import { type Access, DmaBuf } from './dma-buf';
/** Names of the dma-heaps in /dev/dma_heap (empty when there are none). */
export declare function listHeaps(): string[];
/** An open dma-heap. */
export declare class Heap {
    #private;
    /** Opens /dev/dma_heap/`name`. Throws ENOENT listing the heaps that exist, or EACCES naming the node. */
    static open(name: string): Heap;
    /** The heap's name. */
    get name(): string;
    /** DMA_HEAP_IOCTL_ALLOC: at least `size` bytes (rounded up to pages; see `DmaBuf.size`). `access` 'r' gives a read-only fd; default 'rw'. */
    alloc(size: number, access?: Access): DmaBuf;
    /** Closes the heap's fd (buffers live on). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
