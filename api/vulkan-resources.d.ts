import type * as Native from '../native';
import { DmaBuf } from './dma-buf';
import { Frame } from './frame';
import { SyncFile } from './sync-file';
import type { VulkanFormat } from './vulkan';
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
    /**
     * The image as a Frame (the Rust `Frame::from_vulkan_image`): its memory
     * exported as a dma-buf (vkGetMemoryFdKHR, duplicated for each further
     * plane), the modifier the driver chose and each memory plane's offset and
     * pitch (vkGetImageSubresourceLayout). The fourcc is the one the image was
     * made with (`'XR24'` stays `'XR24'`). The frame's DmaBufs are new and
     * yours (`frame.close()`); the image stays open and shares the memory.
     * Throws EOPNOTSUPP for an imported image (its memory is not exportable),
     * EINVAL when an offset or pitch does not fit in 32 bits.
     */
    toFrame(): Frame;
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
     * On lavapipe, `EBUSY` after 200 ms (payload kept) while the queue holds a
     * `submit` whose waits have not signalled: its exports wait for the queue.
     */
    exportSyncFile(): SyncFile | null;
    /** vkImportSemaphoreFdKHR(SYNC_FD, temporary): the next wait on it waits for `syncFile` (null: signalled). Vulkan takes a duplicate: the SyncFile stays yours. */
    importSyncFile(syncFile: SyncFile | null): void;
    /** vkDestroySemaphore, at once when the queue is done with it (within 50 ms), else once it is: never blocks on a sync_file that has not signalled. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A fence exportable as (and importable from) a SyncFile. */
export declare class VulkanFence {
    #private;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** vkGetFenceFdKHR(SYNC_FD): the fence's signal as a new SyncFile, yours; null when already signalled (fd -1). `EBUSY` on lavapipe as for `VulkanSemaphore.exportSyncFile`. */
    exportSyncFile(): SyncFile | null;
    /** vkImportFenceFdKHR(SYNC_FD, temporary): the fence signals when `syncFile` does (null: at once). The SyncFile stays yours. */
    importSyncFile(syncFile: SyncFile | null): void;
    /**
     * Resolves true once the fence has signalled, false when `timeoutMs`
     * passes first (default, or Infinity: for ever); rejects with an
     * AbortError when `signal` aborts, with ERR_DMABUF_CLOSED when the fence
     * is closed meanwhile, and with EINVAL when nothing was submitted or
     * imported that will signal it. No thread is blocked: a Vulkan fence has
     * no fd for the event loop to watch, so this asks `vkGetFenceStatus`
     * (vkWaitForFences with a zero timeout) on timers, 1 ms apart at first and
     * doubling to 16 ms, and sees a signal at most that late. Timers and I/O
     * run meanwhile, and the pending timer keeps the process alive. Never
     * throws: every error is a rejection.
     */
    wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean>;
    /**
     * vkWaitForFences, blocking this thread: true once signalled, false after
     * `timeoutMs` (default: for ever). Nothing else runs on this thread
     * meanwhile; prefer `wait()`.
     */
    waitSync(timeoutMs?: number): boolean;
    /** vkResetFences. */
    reset(): void;
    /** vkDestroyFence, at once when the queue is done with it (within 50 ms), else once it is: never blocks on a sync_file that has not signalled. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
