import type * as Native from '../native';
import { type Access } from '../internal/validators';
import { DmaBuf } from './dma-buf';
export type { V4l2Caps, V4l2Format, V4l2PlaneFormat, V4l2BufferInfo, V4l2PlaneInfo, V4l2ControlInfo, V4l2Node } from '../native';
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
export declare function formatRequest(method: string, f: unknown): Native.V4l2Format;
/** What `v4l2Dequeue` needs of the object it dequeues from. */
export interface DequeueSource<T> {
    /** The class, for ERR_DMABUF_CLOSED. */
    cls: string;
    /** Starts the native readiness wait (see `ready`). */
    start: (t: number, id: number) => Promise<boolean | null>;
    /** Ids of its pending waits, for close() to cancel. */
    pending: Set<number>;
    closed: () => boolean;
    /** Dequeues without waiting: the value, or null when nothing is done. */
    take: () => T | null;
    /** What "ready with nothing to take" means, for the EPIPE error. */
    idle?: string;
}
/**
 * Dequeues with `take`, waiting for readiness in between, until a value
 * comes, the timeout passes (null) or the signal aborts. Ready with nothing
 * to take is the queue's error state (not streaming, or nothing queued):
 * EPIPE.
 */
export declare function v4l2Dequeue<T>(M: string, timeout: unknown, signal: unknown, src: DequeueSource<T>): Promise<T | null>;
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
