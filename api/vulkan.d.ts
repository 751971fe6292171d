import type * as Native from '../native';
import { DmaBuf } from './dma-buf';
import { type Frame } from './frame';
import { VulkanBuffer, VulkanFence, VulkanImage, VulkanSemaphore } from './vulkan-resources';
/** An external memory handle type: a Linux dma-buf, or an fd only the same Vulkan driver can import. */
export type VulkanHandleType = 'dma-buf' | 'opaque-fd';
/** DRM fourcc codes of the image formats the binding knows ('AR24' is B8G8R8A8_UNORM, 'NV12' two planes). */
export type VulkanFormat = 'AR24' | 'XR24' | 'AB24' | 'XB24' | 'R8' | 'GR88' | 'RG16' | 'NV12';
export type { VulkanCapabilities, VulkanHandleSupport, VulkanSyncFdSupport, VulkanModifier, VulkanImageLayout, VulkanPlane } from '../native';
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
    /**
     * Imports a Frame as a 2D image (the Rust `Frame::to_vulkan_image`):
     * vkCreateImage with VkImageDrmFormatModifierExplicitCreateInfoEXT (the
     * frame's modifier, each plane's offset and pitch) and vkAllocateMemory
     * importing a duplicate of the planes' dma-buf. The frame stays yours and
     * open, whatever happens. Every plane must be in the same dma-buf; the
     * fourcc must have a Vulkan format (`'AR24'`, `'XR24'`, `'AB24'`, `'XB24'`,
     * `'R8'`, `'GR88'`, `'RG16'`, `'NV12'`), else EOPNOTSUPP; a linear layout
     * whose offset or pitch splits a texel is EINVAL naming the plane.
     */
    importFrame(frame: Frame, options?: {
        hostVisible?: boolean;
    }): VulkanImage;
    /** vkCmdFillBuffer: `value` (a 32-bit word, little-endian) into `[offset, offset + size)` of `buffer` (default: all of it), on the device; returns once done. Throws `EBUSY` after 200 ms, having run nothing, while a `submit` whose waits have not signalled holds the queue. */
    fill(buffer: VulkanBuffer, value: number, offset?: number, size?: number): void;
    /** vkCmdCopyBuffer: `size` bytes (default: all of `src`) from `src` to `dst`, on the device; returns once done (`EBUSY` as for `fill`). */
    copy(src: VulkanBuffer, dst: VulkanBuffer, size?: number, srcOffset?: number, dstOffset?: number): void;
    /** vkCmdCopyBufferToImage: tightly packed rows of `src` into all of the single-plane image `dst`; returns once done (`EBUSY` as for `fill`). */
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
