import { DmaBuf } from './dma-buf';
/** An open /dev/udmabuf: dma-bufs over memfd pages. */
export declare class Udmabuf {
    #private;
    /** Opens /dev/udmabuf (or `path`). Throws ENOENT with a hint about CONFIG_UDMABUF when it does not exist. */
    static open(path?: string): Udmabuf;
    /** A dma-buf of `size` bytes (rounded up to whole pages) over a new memfd. */
    alloc(size: number): DmaBuf;
    /**
     * Like `alloc`, and also returns the memfd, whose number is yours to
     * close. Bytes written through either show in the other, as long as the
     * memfd keeps its pages: the dma-buf pins the pages it was made from, so
     * a hole punched in the memfd afterwards (`fallocate` PUNCH_HOLE, by any
     * process that can reach it) gives the memfd new zero pages there while
     * the dma-buf keeps the old bytes.
     */
    allocWithMemfd(size: number): {
        buffer: DmaBuf;
        memfd: number;
    };
    /** UDMABUF_CREATE over `size` bytes at `offset` of a memfd you own (sealed with F_SEAL_SHRINK; offset and size page-aligned). */
    create(memfd: number, offset: number, size: number): DmaBuf;
    /** UDMABUF_CREATE_LIST: one dma-buf over several memfd ranges, in order. */
    createList(ranges: MemfdRange[]): DmaBuf;
    /** Closes the device fd (buffers made from it live on). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A memfd range for `Udmabuf.createList`. */
export interface MemfdRange {
    /** The memfd's fd number (borrowed). */
    fd: number;
    /** Byte offset (page-aligned). */
    offset: number;
    /** Length (page-aligned, non-zero). */
    size: number;
}
/** Allocates a dma-buf of `size` bytes (rounded up to whole pages) from /dev/udmabuf, backed by a new sealed memfd. */
export declare function createUdmabuf(size: number): DmaBuf;
