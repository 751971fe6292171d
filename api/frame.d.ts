import type * as Native from '../native';
import { DmaBuf } from './dma-buf';
export type { FrameFormatInfo } from '../native';
/** One plane of a `Frame`: rows `pitch` bytes apart from `offset` in `buf`. */
export interface FramePlane {
    readonly buf: DmaBuf;
    readonly offset: number;
    readonly pitch: number;
}
/** What `new Frame` takes. `fourcc` is a code or a name (`'NV12'`, `'XRGB8888'`, `'XR24'`); `modifier` defaults to LINEAR (`0n`). */
export interface FrameOptions {
    width: number;
    height: number;
    fourcc: number | string;
    modifier?: bigint;
    planes: {
        buf: DmaBuf;
        offset?: number;
        pitch: number;
    }[];
}
/** The code of a DRM format name (`'NV12'`, `'XRGB8888'`) or of its 1 to 4 characters (`'XR24'`, `'R8'`). */
export declare function drmFourcc(name: string): number;
/** The DRM format's name (`'XRGB8888'`), or its characters (`'Q123'`) outside the table. */
export declare function drmFourccName(code: number): string;
/** A modifier as `drm_info` prints it: `'LINEAR'`, `'I915_FORMAT_MOD_Y_TILED'`, else `'AMD(0x1234)'`. */
export declare function drmModifierName(modifier: bigint): string;
/** Parses GStreamer's `drm-format` string: `'NV12'` (LINEAR) or `'NV12:0x0100000000000002'`. Throws EINVAL for anything else. */
export declare function parseDrmFormat(s: string): {
    fourcc: number;
    modifier: bigint;
};
/** The `drm-format` string of a fourcc and a modifier (no `:0x…` for LINEAR). */
export declare function drmFormatString(fourcc: number, modifier: bigint): string;
/** The common formats: planes, bytes per pixel per plane, subsampling of planes 1 and up. */
export declare function drmFormats(): Native.FrameFormatInfo[];
/**
 * A Frame given as the argument `name` of `method` to another class of this
 * package (not exported by the package): ERR_INVALID_ARG_TYPE for anything
 * else, a forged `Object.create(Frame.prototype)` included.
 */
export declare function frameArg(x: unknown, method: string, name: string): Frame;
/**
 * An image in dma-bufs. The constructor checks (in Rust) the plane count of
 * the format (more only with a non-linear modifier), each pitch against a
 * row and each `offset + pitch * rows` against its dma-buf's size, and
 * throws EINVAL naming the plane, the fd and the numbers. The frame takes
 * the DmaBufs: `close()` closes each of them (a DmaBuf given for several
 * planes once).
 */
export declare class Frame {
    #private;
    readonly width: number;
    readonly height: number;
    readonly fourcc: number;
    readonly modifier: bigint;
    readonly planes: readonly FramePlane[];
    constructor(options: FrameOptions);
    /**
     * The frame of a dequeued V4L2 buffer: `format` from `V4l2Device.format()`
     * (or `setFormat`), `buffer` what `dequeue()` gave, `bufs` the buffer's
     * planes from `exportBuffer(index, plane)`, one per memory plane. The
     * layout is the Rust `Frame::from_v4l2`'s (single-planar formats: every
     * plane in the one buffer, chroma after luma; NV12M and friends: one
     * buffer per plane at its `dataOffset`). The DmaBufs are duplicated: they
     * stay the caller's, and the frame closes only its duplicates.
     */
    static fromV4l2(format: Native.V4l2Format, buffer: Native.V4l2BufferInfo, bufs: DmaBuf[]): Frame;
    /** The format's name (`'NV12'`, `'XRGB8888'`). */
    get formatName(): string;
    /** The format as GStreamer's `drm-format` field writes it. */
    get drmFormat(): string;
    /** Closes every plane's DmaBuf. Calling it again does nothing. */
    close(): void;
    [Symbol.dispose](): void;
}
