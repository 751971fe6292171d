import type * as Native from './native';
/** How a buffer is accessed: 'r' (read), 'w' (write) or 'rw' (both). */
export type Access = 'r' | 'w' | 'rw';
export type { DmaBufInfo, SyncFileInfo, FenceInfo, Capabilities, DrmNodeInfo, IoctlSupport } from './native';
/**
 * A dma-buf: one owned, close-on-exec file descriptor for shared memory.
 *
 * Close it with `close()` (or `using`); garbage collection closes it too,
 * but only eventually.
 */
export declare class DmaBuf {
    #private;
    /**
     * Wraps a dma-buf fd number. The fd is duplicated (F_DUPFD_CLOEXEC): the
     * caller keeps, and must still close, its own. Throws `ENOTTY` when the fd
     * is not a dma-buf, `EBADF` when it is not open.
     */
    static fromFd(fd: number): DmaBuf;
    /**
     * Exports one SyncFile per buffer (the kmsroots/wlroots batch). All or
     * nothing: on any failure the SyncFiles already made are closed and the
     * error names the buffer's index.
     */
    static exportSyncFiles(buffers: DmaBuf[], access: Access): SyncFile[];
    /**
     * Imports one SyncFile into every buffer (the kmsroots/wlroots batch).
     * Every buffer is checked first, so a closed one fails the call before any
     * fence is attached. The SyncFile is only borrowed.
     */
    static importSyncFileAll(buffers: DmaBuf[], syncFile: SyncFile, access: Access): void;
    /** The fd number, or -1 once closed. */
    get fd(): number;
    /** Size in bytes (0 once closed). */
    get size(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** Size, exporter, name, inode, file count, writability (fstat and /proc/self/fdinfo). */
    info(): Native.DmaBufInfo;
    /** DMA_BUF_SET_NAME: names the buffer (at most 31 bytes). */
    setName(name: string): void;
    /** A new DmaBuf with its own fd for the same buffer. */
    dup(): DmaBuf;
    /**
     * Closes the fd. CPU accesses still open are ended first. Mappings stay
     * valid until unmapped. Calling it again does nothing.
     */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
    /**
     * DMA_BUF_IOCTL_SYNC start: begins CPU access. Call `end()` on the result
     * (or declare it with `using`); closing the DmaBuf ends it too.
     */
    beginCpuAccess(access: Access): CpuAccess;
    /**
     * mmap: maps `length` bytes at `offset` (a multiple of the page size;
     * default: to the end). `access` defaults to 'rw' on a read-write fd and
     * 'r' on a read-only one. The Mapping's `buffer` is an ArrayBuffer over the
     * memory itself (no copy).
     */
    map(access?: Access, offset?: number, length?: number): Mapping;
    /** Copies `length` bytes at `offset` out of the buffer, bracketed by CPU read access. Works where `map()` cannot (Electron). */
    read(offset: number, length: number): Buffer;
    /** Copies `data` into the buffer at `offset`, bracketed by CPU write access. */
    write(offset: number, data: Uint8Array): void;
    /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a SyncFile with the buffer's current fences ('r': what a reader must wait for; 'w'/'rw': everything). */
    exportSyncFile(access: Access): SyncFile;
    /**
     * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: attaches the SyncFile's fences ('w'/'rw':
     * as a write, 'r': as a read). The SyncFile stays yours: close it when you
     * no longer need it.
     */
    importSyncFile(syncFile: SyncFile, access: Access): void;
}
/** CPU access in progress (from `DmaBuf.beginCpuAccess`): a plain object, no native one. */
export declare class CpuAccess {
    #private;
    /** The access held: 'r', 'w' or 'rw' (also after `end()`). */
    get access(): Access;
    /** Whether the access is still open (false after `end()` or the DmaBuf's `close()`). */
    get active(): boolean;
    /**
     * DMA_BUF_IOCTL_SYNC end. Calling it again, or after the DmaBuf was closed
     * (which ended it), does nothing.
     */
    end(): void;
    /** The same function as `end()` (installed below). */
    [Symbol.dispose]: () => void;
}
/**
 * A mapping of a dma-buf. `buffer` is an ArrayBuffer over the mapped memory
 * (made on first use). `unmap()` detaches it (views then have length 0 and
 * never fault) and releases the dma-buf at once; the address range stays
 * reserved, as private zero pages, until the ArrayBuffer is garbage
 * collected, so native code still holding the pointer (Node's thread pool:
 * zlib, fs, crypto) can neither fault nor reach another buffer.
 */
export declare class Mapping {
    #private;
    /** The mapped memory, with no copy. Detached (byteLength 0) after `unmap()`. */
    get buffer(): ArrayBuffer;
    /** Offset of the mapping in the buffer. */
    get offset(): number;
    /** Length in bytes. */
    get length(): number;
    /** 'r' or 'rw'. */
    get access(): Access;
    /** Whether the memory is still mapped. */
    get mapped(): boolean;
    /** Detaches `buffer` and releases the dma-buf's pages. Calling it again does nothing. */
    unmap(): void;
    /** The same function as `unmap()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A sync_file: an fd that signals when its fences have. Close it with `close()` (or `using`). */
export declare class SyncFile {
    #private;
    /** Wraps a sync_file fd number; the fd is duplicated (the caller keeps its own). */
    static fromFd(fd: number): SyncFile;
    /** The fd number, or -1 once closed. */
    get fd(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** Closes the fd; pending waits go on with their own duplicate. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
    /** A new SyncFile with its own fd for the same fences. */
    dup(): SyncFile;
    /** SYNC_IOC_FILE_INFO: name, status and fences. */
    info(): Native.SyncFileInfo;
    /** SYNC_IOC_MERGE: a new SyncFile that signals when both have. Neither is consumed. */
    merge(other: SyncFile, name?: string): SyncFile;
    /** Whether every fence has signalled (poll with a zero timeout). */
    isSignaled(): boolean;
    /**
     * Blocks the thread until signalled (true) or `timeoutMs` passes (false).
     * Without a timeout (or with Infinity, or one longer than any clock) it
     * waits for ever. Prefer `wait()`.
     */
    waitSync(timeoutMs?: number): boolean;
    /**
     * Resolves true once every fence has signalled, false when `timeoutMs`
     * passes first; rejects with an AbortError when `signal` aborts. No thread
     * is blocked while it waits: the fd sits in the event reactor. Never
     * throws: every error is a rejection.
     */
    wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean>;
}
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
/** Names of the dma-heaps in /dev/dma_heap (empty when there are none). */
export declare function listHeaps(): string[];
/** Probes heaps, udmabuf, DRM nodes and the dma-buf ioctls of this kernel. */
export declare function capabilities(): Native.Capabilities;
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
/** A counted GEM handle of a DrmDevice; the kernel handle is closed when the last GemHandle for it is closed. */
export declare class GemHandle {
    #private;
    /** The kernel's handle number (0 once closed). */
    get handle(): number;
    /** Drops this reference. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** An open DRM device node. */
export declare class DrmDevice {
    #private;
    /** Opens a DRM node by path (/dev/dri/card0, /dev/dri/renderD128, ...). */
    static open(path: string): DrmDevice;
    /** Opens the first node whose driver is `driver` ('vgem', 'i915', ...); `primary` prefers card* nodes (dumb buffers need one). */
    static openDriver(driver: string, primary?: boolean): DrmDevice;
    /** Paths of the DRM nodes in /dev/dri. */
    static list(): string[];
    /** DRM_IOCTL_VERSION: the driver's name. */
    driverName(): string;
    /** DRM_IOCTL_MODE_CREATE_DUMB: `{ handle, pitch, size }`. */
    createDumb(width: number, height: number, bpp: number): {
        handle: GemHandle;
        pitch: number;
        size: number;
    };
    /** DRM_IOCTL_PRIME_HANDLE_TO_FD: the GEM object as a DmaBuf. */
    export(handle: GemHandle, access?: Access): DmaBuf;
    /** DRM_IOCTL_PRIME_FD_TO_HANDLE: a counted GemHandle for the DmaBuf. */
    import(buffer: DmaBuf): GemHandle;
    /** How many GemHandles are open for a kernel handle number. */
    handleUsers(handle: number): number;
    /** DRM_IOCTL_VGEM_FENCE_ATTACH (vgem): an unsignalled fence on the buffer, as a writer unless `write` is false. Returns the fence id. */
    vgemFenceAttach(handle: GemHandle, write?: boolean): number;
    /** DRM_IOCTL_VGEM_FENCE_SIGNAL (vgem). */
    vgemFenceSignal(fence: number): void;
    /** Closes this reference to the device (GemHandles keep it open until closed). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
export type { DvbBufferInfo, DvbFrontendInfo } from './native';
/** Where a PES filter sends what it passes (`enum dmx_output`): 'ts-demux-tap' puts whole TS packets in this demux's buffers. */
export type DvbPesOutput = 'decoder' | 'tap' | 'ts-tap' | 'ts-demux-tap';
/** A section filter (`struct dmx_sct_filter_params`). */
export interface DvbSectionFilter {
    /** Packet id, 0..0x1fff. */
    pid: number;
    /** Up to 16 bytes to match (the section's first bytes, without its two length bytes). */
    filter?: ArrayLike<number>;
    /** Which bits of `filter` count (default: none, so every section of `pid` passes). */
    mask?: ArrayLike<number>;
    /** Bits set here match on "not equal". */
    mode?: ArrayLike<number>;
    /** Milliseconds the kernel waits for a section before an ETIMEDOUT (0: no limit). */
    timeoutMs?: number;
    /** Drop sections whose CRC does not match (default true). */
    checkCrc?: boolean;
    /** Stop after one section. */
    oneshot?: boolean;
}
/** Numbers of `<linux/dvb/frontend.h>` and `<linux/dvb/dmx.h>` for `DvbFrontend` and `DvbDemux`. */
export declare const DVB: Readonly<{
    /** DTV_* property commands for `DvbFrontend.setProperties` / `getProperties`. */
    DTV_TUNE: 1;
    DTV_CLEAR: 2;
    DTV_FREQUENCY: 3;
    DTV_MODULATION: 4;
    DTV_BANDWIDTH_HZ: 5;
    DTV_INVERSION: 6;
    DTV_SYMBOL_RATE: 8;
    DTV_INNER_FEC: 9;
    DTV_DELIVERY_SYSTEM: 17;
    DTV_API_VERSION: 35;
    /** Delivery systems (values of DTV_DELIVERY_SYSTEM). */
    SYS_DVBC_ANNEX_A: 1;
    SYS_DVBT: 3;
    SYS_DVBS: 5;
    SYS_DVBS2: 6;
    SYS_ISDBT: 8;
    SYS_DVBT2: 16;
    /** FE_READ_STATUS bits. */
    FE_HAS_SIGNAL: 1;
    FE_HAS_CARRIER: 2;
    FE_HAS_VITERBI: 4;
    FE_HAS_SYNC: 8;
    FE_HAS_LOCK: 16;
    FE_TIMEDOUT: 32;
    /** The PES filter PID that passes the whole transport stream. */
    PID_ALL: 8192;
    /** Bytes in a TS packet, and its first byte. */
    TS_PACKET_SIZE: 188;
    TS_SYNC_BYTE: 71;
    /** The kernel's limit on one demux buffer (4096 TS packets). */
    MAX_BUFFER_SIZE: number;
}>;
/**
 * An open DVB demux (`/dev/dvb/adapterN/demuxM`): one filter, and the
 * buffers its data goes to, exported as DmaBufs. Needs a kernel with
 * CONFIG_DVB_MMAP for the buffers (elsewhere they throw ENOTTY naming it).
 *
 * The first `queue()` starts streaming, which lasts until `close()`; a
 * buffer comes back when it is full (a section filter: when a section
 * ends), so give TS filters a multiple of 188 bytes.
 */
export declare class DvbDemux {
    #private;
    /** Opens a demux node read-write and non-blocking; ENOTTY when `path` is not a DVB demux. */
    static open(path: string): DvbDemux;
    /** Paths of the demux nodes under /dev/dvb (empty when there are none). */
    static list(): string[];
    /** The fd number, or -1 once closed. */
    get fd(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** DMX_SET_PES_FILTER: packets of `pid` (DVB.PID_ALL: all) to `output` (default 'ts-demux-tap'); starts at once when `start` is true. */
    setPesFilter(pid: number, output?: DvbPesOutput, start?: boolean): void;
    /** DMX_SET_FILTER: the sections of `filter.pid` that match; starts at once when `start` is true. */
    setSectionFilter(filter: DvbSectionFilter, start?: boolean): void;
    /** DMX_START. */
    start(): void;
    /** DMX_STOP (queued buffers stay queued). */
    stop(): void;
    /** DMX_SET_BUFFER_SIZE: the ring buffer of the read() path (not the exported buffers). */
    setBufferSize(size: number): void;
    /** DMX_REQBUFS: `count` buffers of `size` bytes; returns what the kernel granted (size at most DVB.MAX_BUFFER_SIZE). */
    requestBuffers(count: number, size: number): {
        count: number;
        size: number;
    };
    /** DMX_QUERYBUF: buffer `index`'s size and mmap offset. */
    queryBuffer(index: number): Native.DvbBufferInfo;
    /** DMX_EXPBUF: buffer `index` as a DmaBuf (read-only for 'r', the default; read-write otherwise). It outlives the demux. */
    exportBuffer(index: number, access?: Access): DmaBuf;
    /** DMX_QBUF: hands buffer `index` to the demux to fill; the first one starts streaming. */
    queue(index: number): void;
    /** DMX_DQBUF without waiting: the next filled buffer, or null. */
    tryDequeue(): Native.DvbBufferInfo | null;
    /**
     * Resolves the next filled buffer, or null when `timeoutMs` passes first;
     * rejects with an AbortError when `signal` aborts. No thread waits: the
     * demux fd sits in the event reactor. Never throws: every error is a
     * rejection.
     */
    dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.DvbBufferInfo | null>;
    /** Closes the demux (its filter and streaming end; exported DmaBufs stay valid). Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** An open DVB frontend (`/dev/dvb/adapterN/frontendM`), read-write, for tuning. */
export declare class DvbFrontend {
    #private;
    /** Opens a frontend node read-write (EBUSY while another holds it so); ENOTTY when `path` is not a DVB frontend. */
    static open(path: string): DvbFrontend;
    /** Paths of the frontend nodes under /dev/dvb. */
    static list(): string[];
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** FE_GET_INFO: name, frequency range, capabilities. */
    info(): Native.DvbFrontendInfo;
    /** FE_READ_STATUS: DVB.FE_HAS_* bits. */
    status(): number;
    /** FE_SET_PROPERTY: `[command, value]` pairs (DVB.DTV_*), applied in order; 1 to 64 of them. */
    setProperties(props: Array<[number, number]>): void;
    /** FE_GET_PROPERTY: the value of each command (DVB.DTV_*), in order; 1 to 64 of them. */
    getProperties(commands: number[]): number[];
    /** Tunes: DTV_CLEAR, the delivery system (DVB.SYS_*), the frequency, `extra` pairs, DTV_TUNE. Returns at once; see `waitForLock`. */
    tune(deliverySystem: number, frequency: number, extra?: Array<[number, number]>): void;
    /**
     * Resolves true once FE_READ_STATUS has FE_HAS_LOCK, false when
     * `timeoutMs` (default 5000) passes first; reads the status every 10 ms on
     * a timer (no thread waits). Rejects with an AbortError when `signal` aborts.
     */
    waitForLock(timeoutMs?: number, signal?: AbortSignal): Promise<boolean>;
    /** Closes the frontend. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
