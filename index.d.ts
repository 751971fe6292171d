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
     * pidfd_open + pidfd_getfd: a dma-buf taken out of another process (its
     * fd `fd`), which keeps its own. Needs ptrace rights over the process
     * (EPERM otherwise); ENOSYS before Linux 5.6. See `fdFromProcess`.
     */
    static fromProcess(pid: number, fd: number): DmaBuf;
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
     * is blocked while it waits: the fd sits in the event loop. Never
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
/** An external memory handle type: a Linux dma-buf, or an fd only the same Vulkan driver can import. */
export type VulkanHandleType = 'dma-buf' | 'opaque-fd';
/** DRM fourcc codes of the image formats the binding knows ('AR24' is B8G8R8A8_UNORM, 'NV12' two planes). */
export type VulkanFormat = 'AR24' | 'XR24' | 'AB24' | 'XB24' | 'R8' | 'GR88' | 'RG16' | 'NV12';
export type { VulkanCapabilities, VulkanHandleSupport, VulkanSyncFdSupport, VulkanModifier, VulkanImageLayout, VulkanPlane } from './native';
/** `DRM_FORMAT_MOD_LINEAR`: rows one after the other, `pitch` bytes apart. */
export declare const DRM_FORMAT_MOD_LINEAR = 0n;
/** `DRM_FORMAT_MOD_INVALID`, the implicit modifier: never LINEAR, and refused by image import and export. */
export declare const DRM_FORMAT_MOD_INVALID = 72057594037927935n;
/** Options of `Vulkan.open`. */
export interface VulkanOpenOptions {
    /** A physical device: part of its name ('llvmpipe', 'NVIDIA'), or its index. Default: the first with VK_KHR_external_memory_fd. */
    device?: string | number;
}
/** Options of `Vulkan.createBuffer` / `exportBuffer`. */
export interface VulkanBufferOptions {
    /** How the memory can be exported: 'dma-buf', the only handle type TypeScript exports (opaque fds are Rust's: `Buffer::export_opaque_fd`). */
    export?: 'dma-buf';
    /** true: host-visible memory only; false: device-only memory only; default: either. */
    hostVisible?: boolean;
}
/** Options of `Vulkan.importBuffer`. */
export interface VulkanImportOptions {
    /** The buffer's size (default: the dma-buf's). */
    size?: number;
    /** As in VulkanBufferOptions. */
    hostVisible?: boolean;
}
/** What `Vulkan.createImage` makes. */
export interface VulkanImageOptions {
    width: number;
    height: number;
    format: VulkanFormat;
    /** Modifiers the driver may choose from (default [DRM_FORMAT_MOD_LINEAR]). */
    modifiers?: bigint[];
    hostVisible?: boolean;
}
/** How `Vulkan.importImage` reads a dma-buf: a modifier and one { offset, pitch } per memory plane. */
export interface VulkanImageImport {
    width: number;
    height: number;
    format: VulkanFormat;
    modifier: bigint;
    planes: Array<{
        offset: number;
        pitch: number;
    }>;
    hostVisible?: boolean;
}
/**
 * A Vulkan device ready for dma-buf interop (one queue, the external memory
 * and sync-fd extensions the device has). Buffers, images, semaphores and
 * fences made from it keep the device alive after `close()`.
 *
 * Ownership: `exportBuffer`/`exportDmaBuf` return a new DmaBuf that is yours;
 * `importBuffer`/`importImage` **consume** the DmaBuf they are given (it reads
 * as closed afterwards; Vulkan holds the memory) unless they throw, in which
 * case it is untouched and still yours.
 */
export declare class Vulkan {
    #private;
    /** Whether a Vulkan loader and a device with VK_KHR_external_memory_fd exist (opens and closes one). */
    static available(): boolean;
    /** Loads Vulkan and creates a device. Throws ENOENT when no Vulkan loader is installed, ENODEV when no device matches. */
    static open(options?: VulkanOpenOptions): Vulkan;
    /** The physical device's name ('llvmpipe (LLVM 15.0.6, 256 bits)', 'NVIDIA H200'). */
    get deviceName(): string;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** Handle types exported and imported, for buffers and images separately; SYNC_FD for semaphores and fences; the extensions enabled and missing. */
    capabilities(): Native.VulkanCapabilities;
    /** The DRM format modifiers the device supports for 2D transfer images of `format` as dma-bufs, with plane counts and largest extents. */
    modifiers(format: VulkanFormat): Native.VulkanModifier[];
    /** A buffer of `size` bytes whose memory can be exported (vkAllocateMemory with VkExportMemoryAllocateInfo). */
    createBuffer(size: number, options?: VulkanBufferOptions): VulkanBuffer;
    /** Vulkan memory of `size` bytes exported as a new DmaBuf (yours); the Vulkan side is released at once (the dma-buf keeps the memory). */
    exportBuffer(size: number, options?: VulkanBufferOptions): DmaBuf;
    /**
     * Imports a dma-buf as a buffer's memory. **Consumes `dmabuf`**: on success
     * it reads as closed (Vulkan holds the memory until the VulkanBuffer is
     * closed); on failure it is untouched and still yours.
     */
    importBuffer(dmabuf: DmaBuf, options?: VulkanImportOptions): VulkanBuffer;
    /** A 2D image with a DRM format modifier the driver picks from `modifiers`, its memory exportable as a dma-buf. */
    createImage(options: VulkanImageOptions): VulkanImage;
    /**
     * Imports a dma-buf as a 2D image with an explicit modifier and plane
     * layout (checked before vkCreateImage). **Consumes `dmabuf`** on success,
     * as `importBuffer`.
     */
    importImage(dmabuf: DmaBuf, options: VulkanImageImport): VulkanImage;
    /** vkCmdFillBuffer: `value` (a 32-bit word, little-endian) into `[offset, offset + size)` of `buffer` (default: all of it), on the device; returns once done. */
    fill(buffer: VulkanBuffer, value: number, offset?: number, size?: number): void;
    /** vkCmdCopyBuffer: `size` bytes (default: all of `src`) from `src` to `dst`, on the device; returns once done. */
    copy(src: VulkanBuffer, dst: VulkanBuffer, size?: number, srcOffset?: number, dstOffset?: number): void;
    /** vkCmdCopyBufferToImage: tightly packed rows of `src` into all of the single-plane image `dst`; returns once done. */
    copyBufferToImage(src: VulkanBuffer, dst: VulkanImage): void;
    /** A binary semaphore exportable as a SyncFile (VK_KHR_external_semaphore_fd). */
    createSemaphore(): VulkanSemaphore;
    /** An unsignalled fence exportable as a SyncFile (VK_KHR_external_fence_fd). */
    createFence(): VulkanFence;
    /** vkQueueSubmit of an empty batch: waits on `wait` (their payloads are consumed), then signals `signal` and `fence`. */
    submit(options: {
        wait?: VulkanSemaphore[];
        signal?: VulkanSemaphore[];
        fence?: VulkanFence;
    }): void;
    /** Releases this reference to the device (objects made from it keep it alive until they are closed). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A Vulkan buffer and its memory (allocated exportable, or imported from a dma-buf, which it then owns). */
export declare class VulkanBuffer {
    #private;
    /** Size in bytes. */
    get size(): number;
    /** Whether its memory is host-visible. */
    get hostVisible(): boolean;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** vkGetMemoryFdKHR(DMA_BUF): a new DmaBuf for this memory, yours to close. Only for buffers created with export 'dma-buf'. */
    exportDmaBuf(): DmaBuf;
    /** vkDestroyBuffer + vkFreeMemory (dma-bufs exported from it stay valid). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A 2D Vulkan image with a DRM format modifier, and its memory. */
export declare class VulkanImage {
    #private;
    /** Width in pixels. */
    get width(): number;
    /** Height in pixels. */
    get height(): number;
    /** The DRM fourcc. */
    get format(): VulkanFormat;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** The modifier and the offset and pitch of each memory plane (as the driver laid an exported image out). */
    layout(): Native.VulkanImageLayout;
    /** vkGetMemoryFdKHR(DMA_BUF) of an image made by createImage: a new DmaBuf, yours, laid out as `layout()` says. */
    exportDmaBuf(): DmaBuf;
    /** vkDestroyImage + vkFreeMemory. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A binary semaphore exportable as (and importable from) a SyncFile. */
export declare class VulkanSemaphore {
    #private;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /**
     * vkGetSemaphoreFdKHR(SYNC_FD): the pending signal (submitted with
     * `Vulkan.submit({ signal })`) as a new SyncFile, yours; null when the
     * driver says it already signalled (fd -1). The export consumes the payload.
     */
    exportSyncFile(): SyncFile | null;
    /** vkImportSemaphoreFdKHR(SYNC_FD, temporary): the next wait on it waits for `syncFile` (null: signalled). Vulkan takes a duplicate: the SyncFile stays yours. */
    importSyncFile(syncFile: SyncFile | null): void;
    /** vkDestroySemaphore (after the queue is idle). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A fence exportable as (and importable from) a SyncFile. */
export declare class VulkanFence {
    #private;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** vkGetFenceFdKHR(SYNC_FD): the fence's signal as a new SyncFile, yours; null when already signalled (fd -1). */
    exportSyncFile(): SyncFile | null;
    /** vkImportFenceFdKHR(SYNC_FD, temporary): the fence signals when `syncFile` does (null: at once). The SyncFile stays yours. */
    importSyncFile(syncFile: SyncFile | null): void;
    /** vkWaitForFences, blocking this thread: true once signalled, false after `timeoutMs` (default: for ever). */
    wait(timeoutMs?: number): boolean;
    /** vkResetFences. */
    reset(): void;
    /** vkDestroyFence (after the queue is idle). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
export type { Inspection, InspectBuffer, InspectHolder, InspectProcess, InspectExporter, InspectUnreadable } from './native';
/** The kind of Unix socket a Channel uses. */
export type SocketType = 'stream' | 'seqpacket';
/** The most fds one message may carry (the kernel's SCM_MAX_FD). */
export declare const MAX_FDS = 253;
/** The largest header, in bytes of its JSON text. */
export declare const MAX_HEADER = 65536;
/** What a message may carry. */
export type Passable = DmaBuf | SyncFile | PassedFd;
/** A received message: the header as the sender gave it, and the fds, owned by the receiver. */
export interface Message<H = unknown> {
    header: H;
    fds: Passable[];
}
/** An fd that arrived in a message (or from another process) and is neither a dma-buf nor a sync_file. */
export declare class PassedFd {
    #private;
    /** The fd number (usable with `fs` while open), or -1 once closed. */
    get fd(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** A new PassedFd with its own fd for the same open file. */
    dup(): PassedFd;
    /** Closes the fd. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/**
 * pidfd_open + pidfd_getfd: a duplicate, in this process, of fd `fd` of
 * process `pid` (which keeps its own), as a DmaBuf, a SyncFile or a
 * PassedFd. The kernel allows it where ptrace would be: EPERM otherwise,
 * ESRCH for no such process, EBADF for no such fd, ENOSYS before Linux 5.6.
 */
export declare function fdFromProcess(pid: number, fd: number): Passable;
/**
 * A Unix socket that carries messages with fds: a JSON header and up to
 * MAX_FDS dma-bufs, sync_files or other fds (SCM_RIGHTS). Received fds are
 * close-on-exec and owned by the receiver. send() and receive() are
 * Promises driven by the event loop; calls of each kind run in the order
 * they were made.
 *
 * Errors of receive(): EPIPE (the peer closed the channel), ECONNRESET (it
 * died in the middle of a message), ETOOMANYREFS (more fds than `maxFds`:
 * those that arrived are closed, the channel goes on), EMSGSIZE (a header
 * over MAX_HEADER), ERR_DMABUF_BAD_HEADER (not JSON; its fds are closed).
 * Of send(): EPIPE, EMSGSIZE, ERR_OUT_OF_RANGE (too many fds).
 */
export declare class Channel {
    #private;
    /**
     * socketpair(AF_UNIX): two connected channels (seqpacket unless
     * `type` is 'stream'). Hand one's `fd` to a child through
     * `child_process.spawn`'s `stdio` array and close it here.
     */
    static pair(type?: SocketType): [Channel, Channel];
    /** socket + connect to a Channel.listen() at `address` (a path, or `@name` for the abstract namespace). */
    static connect(address_: string, options?: {
        type?: SocketType;
    }): Channel;
    /** socket + bind + listen at `address` (a path, removed on close, or `@name`). */
    static listen(address_: string, options?: {
        type?: SocketType;
    }): Listener;
    /** Wraps a connected Unix socket fd (an inherited one: `Channel.fromFd(3)`); the fd is duplicated, the caller keeps its own. */
    static fromFd(fd: number): Channel;
    /** The socket's fd number, or -1 once closed. */
    get fd(): number;
    /** 'seqpacket' or 'stream'. */
    get type(): SocketType;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /**
     * Sends `header` (anything JSON.stringify takes, up to MAX_HEADER bytes)
     * with `fds` attached. The fds are duplicated at once, so they may be
     * closed as soon as this returns; the receiver gets its own.
     */
    send(header: unknown, fds?: Passable[], options?: {
        signal?: AbortSignal;
    }): Promise<void>;
    /**
     * Receives the next message. At most `maxFds` fds (default 16, up to
     * MAX_FDS) are accepted: a message with more is an ETOOMANYREFS error
     * and its fds are closed.
     */
    receive<H = unknown>(options?: {
        maxFds?: number;
        signal?: AbortSignal;
    }): Promise<Message<H>>;
    /** Closes the socket; pending sends and receives reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A listening Unix socket (Channel.listen). */
export declare class Listener {
    #private;
    /** The socket's fd number, or -1 once closed. */
    get fd(): number;
    /** The address it listens on. */
    get address(): string;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** accept4: the next connection, as a Channel. */
    accept(options?: {
        signal?: AbortSignal;
    }): Promise<Channel>;
    /** Closes the socket (and removes its path); pending accepts reject. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/**
 * One pass over /proc: every dma-buf the caller may see, who holds it by
 * fd, who maps it, per-process totals with PSS, per-exporter totals, and
 * the processes that could not be read. `pids` limits the scan.
 */
export declare function inspect(options?: {
    pids?: number[];
}): Native.Inspection;
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
     * demux fd sits in the event loop. Never throws: every error is a
     * rejection.
     */
    dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.DvbBufferInfo | null>;
    /** Closes the demux (its filter and streaming end; exported DmaBufs stay valid); pending dequeues reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
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
     * the event loop.
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
    /** Closes this reference to the node (its DMABUF queues keep it open until closed); pending dequeues reject with ERR_DMABUF_CLOSED. */
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
    /** Closes the queue's reference to the node and its duplicates of queued dma-bufs (the driver keeps its own until the node is closed); pending dequeues reject with ERR_DMABUF_CLOSED. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
