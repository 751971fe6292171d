import type * as Native from '../native';
import { Frame } from './frame';
import { SyncFile } from './sync-file';
export type { KmsMode, KmsConnector, KmsCrtc, KmsPlane, KmsProperty, KmsEvent } from '../native';
/** What `Card.open` takes. */
export interface CardOpenOptions {
    /** Take DRM master (default true): only the master may commit. With false the card does not hold it (one the kernel gave its first opener is dropped) and can list and add framebuffers. */
    master?: boolean;
    /** List writeback connectors too (`DRM_CLIENT_CAP_WRITEBACK_CONNECTORS`). */
    writeback?: boolean;
}
/** How `KmsAtomic.commit` (and `test`) commits. */
export interface KmsCommitOptions {
    /** `DRM_MODE_ATOMIC_ALLOW_MODESET`: the commit may change modes (turn a CRTC on, move a connector). */
    allowModeset?: boolean;
    /** `DRM_MODE_ATOMIC_NONBLOCK`: return before the commit reaches the screen. */
    nonblock?: boolean;
    /** `DRM_MODE_PAGE_FLIP_EVENT`: a 'flip-complete' event per CRTC (`Card.nextEvents`) carrying this user data (`true`: 0n). */
    flipEvent?: boolean | bigint;
}
/** A mode blob (`DRM_IOCTL_MODE_CREATEPROPBLOB`): the value for a CRTC's `MODE_ID`. A CRTC using it keeps its own reference. */
export declare class KmsPropertyBlob {
    #private;
    /** The blob id (0 once closed). */
    get id(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** DRM_IOCTL_MODE_DESTROYPROPBLOB. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/**
 * A framebuffer (`DRM_IOCTL_MODE_ADDFB2`) of a Frame's dma-bufs. It holds
 * GEM handles of its own: the Frame may be closed meanwhile. `close()`
 * removes it (`DRM_IOCTL_MODE_RMFB`, which also turns off a plane still
 * showing it).
 */
export declare class Framebuffer {
    #private;
    /** The framebuffer id, the value of a plane's `FB_ID` (0 once closed). */
    get id(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** DRM_IOCTL_MODE_RMFB, then its GEM handles go. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** A property value: an integer (negative for signed properties), a Framebuffer (its id) or a KmsPropertyBlob (its id). */
export type KmsValue = number | bigint | Framebuffer | KmsPropertyBlob;
/**
 * An atomic request (from `card.atomic()`): property values by name, an
 * in-fence per plane, out-fences asked per CRTC or writeback connector.
 * Names are looked up when it is tested or committed (an unknown one is
 * EINVAL naming the properties the object has). Nothing is sent before
 * `test()` or `commit()`; a request may be committed again.
 */
export declare class KmsAtomic {
    #private;
    /** Sets `property` (a name: `'FB_ID'`, `'CRTC_ID'`, `'MODE_ID'`, `'ACTIVE'`, ...) of `object` to `value`; a later value for the same pair wins. */
    set(object: number, property: string, value: KmsValue): this;
    /** `IN_FENCE_FD` of `plane`: the plane shows its new framebuffer only once `fence` signals. The SyncFile must stay open until the commit. */
    inFence(plane: number, fence: SyncFile): this;
    /** Asks for `OUT_FENCE_PTR` of `crtc`: the commit returns a SyncFile that signals once it is on screen. */
    outFence(crtc: number): this;
    /** Asks for `WRITEBACK_OUT_FENCE_PTR` of a writeback connector: a SyncFile that signals once the frame is written to its `WRITEBACK_FB_ID`. */
    writebackOutFence(connector: number): this;
    /** DRM_IOCTL_MODE_ATOMIC with TEST_ONLY: throws what the kernel would refuse (EINVAL, EACCES without master); changes nothing. */
    test(options?: KmsCommitOptions): void;
    /**
     * Tests, then DRM_IOCTL_MODE_ATOMIC. Returns the out-fences asked for,
     * keyed by CRTC or writeback connector id (close them when done).
     * EBUSY while a nonblocking commit on the same CRTC is pending; EACCES
     * without DRM master.
     */
    commit(options?: KmsCommitOptions): Map<number, SyncFile>;
}
/**
 * An open KMS card (`/dev/dri/card*`) with atomic mode setting, as DRM
 * master unless asked otherwise. Close it with `close()` (or `using`):
 * that releases master, and pending `nextEvents()` reject with
 * ERR_DMABUF_CLOSED.
 */
export declare class Card {
    #private;
    /**
     * Opens a KMS card: `path`, or else the first /dev/dri/card* with atomic
     * mode setting (ENODEV listing each card tried when none is). Throws
     * EBUSY when another process or Card is DRM master (unless `master` is
     * false), EOPNOTSUPP for a card without atomic mode setting (vgem).
     */
    static open(path?: string, options?: CardOpenOptions): Card;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** The device node's path. */
    get path(): string;
    /** DRM_IOCTL_VERSION: the driver's name ('vkms', 'i915', ...). */
    driverName(): string;
    /** Whether this card holds DRM master (needed to commit). */
    get isMaster(): boolean;
    /** The connectors (DRM_IOCTL_MODE_GETCONNECTOR, which probes each), with their modes. */
    connectors(): Native.KmsConnector[];
    /** The CRTCs in index order. */
    crtcs(): Native.KmsCrtc[];
    /** The planes with their type, formats (fourcc strings) and, per format, the modifiers of their IN_FORMATS. */
    planes(): Native.KmsPlane[];
    /** The properties of a connector, CRTC or plane, with their values (ENOENT for an unknown object). */
    properties(object: number): Native.KmsProperty[];
    /** DRM_IOCTL_MODE_CREATEPROPBLOB of a mode (from a connector's `modes`): the value for a CRTC's `MODE_ID`. */
    createModeBlob(mode: Native.KmsMode): KmsPropertyBlob;
    /**
     * DRM_IOCTL_PRIME_FD_TO_HANDLE of each plane's dma-buf, then
     * DRM_IOCTL_MODE_ADDFB2 of the frame's size, format, modifier, offsets
     * and pitches. With `plane` (a plane or its id), its formats and
     * IN_FORMATS are checked first: EINVAL naming what it takes. The frame
     * stays the caller's.
     */
    addFramebuffer(frame: Frame, plane?: Native.KmsPlane | number): Framebuffer;
    /** DRM_CLIENT_CAP_WRITEBACK_CONNECTORS: list writeback connectors too (also `Card.open(path, { writeback: true })`). */
    enableWriteback(): void;
    /** A new atomic request on this card. */
    atomic(): KmsAtomic;
    /**
     * Resolves the events the card has queued (page flips of commits with
     * `flipEvent`) once there is at least one, or [] when `timeoutMs` passes
     * first; rejects with an AbortError when `signal` aborts, with
     * ERR_DMABUF_CLOSED when the card is closed meanwhile. No thread waits:
     * the card's fd sits in the event loop. Never throws: every error is a
     * rejection.
     */
    nextEvents(timeoutMs?: number, signal?: AbortSignal): Promise<Native.KmsEvent[]>;
    /** Closes the card: DRM master is released; its Framebuffers and blobs stay until closed. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
