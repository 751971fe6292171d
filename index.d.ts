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
export type { V4l2Caps, V4l2Format, V4l2PlaneFormat, V4l2BufferInfo, V4l2PlaneInfo, V4l2ControlInfo, V4l2Node } from './native';
/** A V4L2 video queue type. */
export type V4l2BufType = 'capture' | 'output' | 'capture-mplane' | 'output-mplane';
/** What `V4l2Device.setFormat` asks for; the driver may choose otherwise (see `exact`). */
export interface V4l2FormatRequest {
    width: number;
    height: number;
    /** A fourcc as four characters: 'YUYV', 'RGB3', 'NM16' (NV16M)... */
    pixelformat: string;
    /** `enum v4l2_field`; default 1 (progressive). */
    field?: number;
    /** `enum v4l2_colorspace`; default 0 (the driver chooses). */
    colorspace?: number;
    /** Per-plane bytesperline/sizeimage; default: the driver chooses. */
    planes?: {
        bytesperline?: number;
        sizeimage?: number;
    }[];
}
/** A dequeued buffer of a V4l2DmaBufQueue and the DmaBuf objects that were queued with it. */
export interface V4l2Dequeued {
    info: Native.V4l2BufferInfo;
    buffers: DmaBuf[];
}
/**
 * An open V4L2 video node (`/dev/videoN`), for dma-buf work: formats, MMAP
 * buffers exported as DmaBufs, streaming, controls, and DMABUF import
 * queues (`dmabufQueue`). Every method works on the node's one video queue
 * (`bufType`: capture or output, single- or multi-planar); memory-to-memory
 * nodes, which have two, are for the Rust API.
 */
export declare class V4l2Device {
    #private;
    /** Opens a video node (read-write, non-blocking) and checks that it is V4L2 with a video queue. */
    static open(path: string): V4l2Device;
    /** The video nodes that stream, with their sysfs names and whether they export and import. */
    static list(): Native.V4l2Node[];
    /** The node's video queue type. */
    get bufType(): V4l2BufType;
    /** VIDIOC_QUERYCAP: driver, card, bus, capabilities and the node's device_caps. */
    capabilities(): Native.V4l2Caps;
    /** VIDIOC_G_FMT: the current format. */
    format(): Native.V4l2Format;
    /**
     * VIDIOC_S_FMT: sets the format and returns what the driver chose. With
     * `exact`, a different width, height or pixel format is an EINVAL error
     * naming the driver's choice (which is then in effect).
     */
    setFormat(format: V4l2FormatRequest, exact?: boolean): Native.V4l2Format;
    /** VIDIOC_TRY_FMT: what the driver would choose, changing nothing. */
    tryFormat(format: V4l2FormatRequest): Native.V4l2Format;
    /** VIDIOC_S_PARM: asks for `numerator`/`denominator` seconds per frame; returns the driver's [numerator, denominator]. */
    setFrameInterval(numerator: number, denominator: number): [number, number];
    /** VIDIOC_REQBUFS (MMAP): allocates `count` buffers (0 frees them); returns how many the driver made. */
    requestBuffers(count: number): number;
    /** VIDIOC_QUERYBUF: a buffer's planes and state. */
    queryBuffer(index: number): Native.V4l2BufferInfo;
    /**
     * VIDIOC_EXPBUF: one plane of an MMAP buffer as a new DmaBuf (close-on-exec;
     * read-only for 'r', else read-write). The payload starts at the
     * dataOffset that each dequeued buffer reports.
     */
    exportBuffer(index: number, plane?: number, access?: Access): DmaBuf;
    /** VIDIOC_QBUF of an MMAP buffer; on output queues `bytesused` gives each plane's payload. */
    queue(index: number, bytesused?: number[]): void;
    /** VIDIOC_DQBUF without waiting: the buffer, or null when none is done. */
    tryDequeue(): Native.V4l2BufferInfo | null;
    /**
     * VIDIOC_DQBUF once a buffer is done: resolves with it, or null when
     * `timeoutMs` passes first (none or Infinity: no limit); rejects with an
     * AbortError when `signal` aborts. No thread waits: the node's fd sits in
     * the event loop's reactor.
     */
    dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.V4l2BufferInfo | null>;
    /** VIDIOC_STREAMON. */
    streamOn(): void;
    /** VIDIOC_STREAMOFF: stops; every queued buffer is the application's again. */
    streamOff(): void;
    /** VIDIOC_G_CTRL. */
    getControl(id: number): number;
    /** VIDIOC_S_CTRL: returns the value the driver kept. */
    setControl(id: number, value: number): number;
    /** VIDIOC_QUERY_EXT_CTRL: the control with this name (e.g. vivid's 'OSD Text Mode'); EINVAL when none. */
    findControl(name: string): Native.V4l2ControlInfo;
    /** VIDIOC_S_INPUT. */
    setInput(index: number): void;
    /** VIDIOC_S_OUTPUT. */
    setOutput(index: number): void;
    /** VIDIOC_REQBUFS (DMABUF): an import queue of `count` slots on this node. */
    dmabufQueue(count: number): V4l2DmaBufQueue;
    /** Closes this reference to the node (its DMABUF queues keep it open until closed). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/**
 * A V4L2 queue of imported dma-bufs (V4L2_MEMORY_DMABUF), from any source.
 *
 * `queue()` keeps the DmaBuf objects and, natively, a duplicate of each fd
 * until the buffer is dequeued or `streamOff()` returns it. So `close()` of
 * a queued DmaBuf is deferred, never a use-after-free: it closes your fd at
 * once, and the memory stays alive for the driver until the buffer comes
 * back (then as a closed DmaBuf). Queueing the same dma-bufs again (same
 * inodes) reuses their V4L2 index, so the driver keeps its import.
 */
export declare class V4l2DmaBufQueue {
    #private;
    /**
     * VIDIOC_QBUF: one DmaBuf per plane, with each plane's `bytesused` and
     * `dataOffset` (output queues; default 0). A buffer smaller than the
     * format's plane is refused (EINVAL) before the driver sees it. Returns
     * the V4L2 index.
     */
    queue(buffers: DmaBuf[], bytesused?: number[], dataOffset?: number[]): number;
    /** VIDIOC_DQBUF without waiting: the buffer and its DmaBufs, or null. */
    tryDequeue(): V4l2Dequeued | null;
    /** VIDIOC_DQBUF once a buffer is done (as V4l2Device.dequeue): the buffer and its DmaBufs, or null on timeout. */
    dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<V4l2Dequeued | null>;
    /** How many buffers the driver holds. */
    get queued(): number;
    /** VIDIOC_STREAMON. */
    streamOn(): void;
    /** VIDIOC_STREAMOFF: the driver lets go of every buffer; returns the DmaBufs it held, per buffer. */
    streamOff(): DmaBuf[][];
    /** Closes the queue's reference to the node and its duplicates of queued dma-bufs (the driver keeps its own until the node is closed). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
