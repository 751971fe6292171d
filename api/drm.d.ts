import { type Access, DmaBuf } from './dma-buf';
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
