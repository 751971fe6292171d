import { Frame } from './frame';
/** A caps field's value: strings, numbers (int, double), booleans and fractions ([num, den]). */
export type CapsValue = string | number | boolean | [number, number];
/** One caps structure: `media` (`'video/x-raw'`), its features (`['memory:DMABuf']`) and its fields. */
export interface Caps {
    media: string;
    features: string[];
    fields: Record<string, CapsValue>;
}
/**
 * Parses one GStreamer caps structure: `'video/x-raw, format=(string)NV12,
 * width=(int)320, framerate=(fraction)30/1'`, with features
 * (`'video/x-raw(memory:DMABuf), …'`) and untyped fields
 * (`'video/x-raw,format=RGBA,width=64'`). Ints and doubles become numbers,
 * fractions `[num, den]`, booleans booleans, and anything else (lists,
 * ranges) its text. Several structures (`;`) are ERR_INVALID_ARG_VALUE.
 */
export declare function parseCaps(s: string): Caps;
/** Prints a Caps as gst_caps_to_string does: `'media(features), name=(type)value, …'`, every field typed. */
export declare function printCaps(c: Caps): string;
/** The DRM fourcc of a GStreamer video format name (`'RGBA'` → ABGR8888), or undefined outside the table. */
export declare function gstFormatFourcc(name: string): number | undefined;
/** The GStreamer video format name of a DRM fourcc (ABGR8888 → `'RGBA'`), or undefined outside the table. */
export declare function gstFormatName(fourcc: number): string | undefined;
/** What `capsLayout` gives: the image a caps string describes, with GStreamer's default strides and offsets (no GstVideoMeta). */
export interface CapsLayout {
    width: number;
    height: number;
    fourcc: number;
    modifier: bigint;
    /** Each plane's offset in the buffer (all memories one after the other) and its pitch. */
    planes: {
        offset: number;
        pitch: number;
    }[];
    /** The buffer's size in bytes by that layout. */
    size: number;
}
/**
 * The layout of raw video that caps describe: `video/x-raw` with a format
 * in the table above, or `video/x-raw(memory:DMABuf)` with
 * `format=DMA_DRM` and `drm-format`; strides and offsets are GStreamer's
 * defaults (gst_video_info_set_format: rows rounded up to 4 bytes). Throws
 * ERR_INVALID_STATE for other caps (not video, a format it cannot lay out,
 * a DMA_DRM modifier other than LINEAR).
 */
export declare function capsLayout(caps: string | Caps, method?: string): CapsLayout;
/**
 * The caps of a Frame: `video/x-raw, format=…` for a LINEAR frame whose
 * fourcc has a GStreamer name, else `video/x-raw(memory:DMABuf),
 * format=DMA_DRM, drm-format=FOURCC:0xMODIFIER`; width, height and (when
 * given) the framerate. A receiver without a GstVideoMeta assumes
 * GStreamer's default strides (see capsLayout). ERR_DMABUF_CLOSED for a
 * frame whose dma-bufs are closed.
 */
export declare function capsForFrame(f: Frame, framerate?: [number, number]): string;
