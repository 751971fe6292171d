import type * as Native from '../native';
import { DmaBuf } from './dma-buf';
import { Frame } from './frame';
import { type V4l2FormatRequest } from './v4l2';
export type { M2mNode, M2mStatus, V4l2FormatDesc, V4l2Event, V4l2Rect, V4l2MenuItem } from '../native';
/** One of the two queues of an M2M device. */
export type M2mQueueName = 'output' | 'capture';
/** How a queue's buffers are allocated: by the driver (MMAP, exportable) or imported dma-bufs (DMABUF). */
export type M2mMemory = 'mmap' | 'dmabuf';
/** A control's value: a number (32-bit and menu controls), a bigint (64-bit) or a string. */
export type V4l2ControlValue = number | bigint | string;
/** What `M2mQueue.queue` and `queueDmaBuf` take besides the buffer. */
export interface M2mQueueOptions {
    /** Each plane's payload (OUTPUT queues; default the whole plane). */
    bytesused?: number[];
    /** Where each plane's payload starts (DMABUF slots; default 0). */
    dataOffset?: number[];
    /** Microseconds; the CAPTURE buffer made from this OUTPUT buffer carries it back. Default 0. */
    timestampUs?: number;
}
/** A dequeued buffer of an M2M queue. */
export interface M2mDequeued {
    info: Native.V4l2BufferInfo;
    /** The DmaBufs that were queued into this DMABUF slot (empty for MMAP buffers). */
    buffers: DmaBuf[];
    /** `V4L2_BUF_FLAG_LAST`: the last CAPTURE buffer of a drain or of a resolution change. */
    last: boolean;
}
/** M2mQueue's methods for M2mDevice (symbol keys: no public surface). */
declare const forget: unique symbol;
declare const forgetAll: unique symbol;
/**
 * An open memory-to-memory node: a codec (stateful encoder or decoder) or
 * a converter (scaler, colour converter). Its two queues are `output` and
 * `capture`; `state` follows the kernel documents' state machine, and a
 * call the state does not allow throws `EBUSY` naming the state and the
 * way out, instead of the driver's silence. Codec events
 * (`V4L2_EVENT_EOS`, a decoder's `V4L2_EVENT_SOURCE_CHANGE`) are
 * subscribed when it opens; `nextEvent()` waits for one on the event loop.
 */
export declare class M2mDevice {
    #private;
    /** Opens a memory-to-memory node (read-write, non-blocking); ENOTTY when it is not one. */
    static open(path: string): M2mDevice;
    /** The system's memory-to-memory devices with their roles and the formats of both queues, by path. */
    static list(): Native.M2mNode[];
    /** The OUTPUT queue: raw frames for an encoder or converter, bitstream for a decoder. */
    get output(): M2mQueue;
    /** The CAPTURE queue: what the device gives back. */
    get capture(): M2mQueue;
    /** What the device does, from the formats of its queues. */
    get role(): 'encoder' | 'decoder' | 'converter';
    /** The state, named as the kernel's documents name it: 'Initialization', 'Capture Setup', 'Encoding', 'Decoding', 'Running', 'Dynamic Resolution Change', 'Drain', 'Stopped', 'Reset', 'Seek'. */
    get state(): string;
    /** The role, the state and both queues' buffer types, streaming and queued counts in one call. */
    status(): Native.M2mStatus;
    /** VIDIOC_QUERYCAP: driver, card, bus and capabilities. */
    capabilities(): Native.V4l2Caps;
    /** VIDIOC_G_SELECTION: the visible rectangle (a decoder's CAPTURE compose rectangle, an encoder's OUTPUT crop). */
    visibleRect(): Native.V4l2Rect;
    /** VIDIOC_QUERY_EXT_CTRL of every control: ids, names, types and ranges. */
    controls(): Native.V4l2ControlInfo[];
    /** VIDIOC_QUERYMENU: the items of menu control `id`. */
    menu(id: number): Native.V4l2MenuItem[];
    /** VIDIOC_G_EXT_CTRLS: the values of controls given by id or by name ('FWHT I-Frame QP Value'). */
    getControls(ids: (number | string)[]): V4l2ControlValue[];
    /**
     * VIDIOC_S_EXT_CTRLS, all at once: `{ 'FWHT I-Frame QP Value': 1, ... }`
     * (names or numeric ids as keys; numbers for 32-bit and menu controls,
     * bigints for 64-bit ones, strings for string controls). Returns what the
     * driver kept, by the same keys.
     */
    setControls(values: Record<string, V4l2ControlValue>): Record<string, V4l2ControlValue>;
    /** VIDIOC_TRY_EXT_CTRLS: what setControls would keep, changing nothing. */
    tryControls(values: Record<string, V4l2ControlValue>): Record<string, V4l2ControlValue>;
    /**
     * VIDIOC_DQEVENT once an event is pending (`POLLPRI` watched by the event
     * loop, no thread): resolves with it, or null when `timeoutMs` passes
     * first (none or Infinity: no limit); AbortError when `signal` aborts;
     * ERR_DMABUF_CLOSED when the device is closed meanwhile. A decoder's
     * 'source-change' moves it to Capture Setup (or Dynamic Resolution
     * Change while decoding). Two waits may race for one event: the one that
     * finds none waits on.
     */
    nextEvent(timeoutMs?: number, signal?: AbortSignal): Promise<Native.V4l2Event | null>;
    /** VIDIOC_DQEVENT without waiting: the oldest pending event, or null. */
    tryNextEvent(): Native.V4l2Event | null;
    /**
     * The drain (V4L2_ENC_CMD_STOP / V4L2_DEC_CMD_STOP): the OUTPUT buffers
     * queued so far are processed, the last CAPTURE buffer carries `last`, a
     * 'eos' event follows. EBUSY outside Encoding/Decoding; ENOTTY for a
     * converter.
     */
    drain(): void;
    /** V4L2_ENC_CMD_START / V4L2_DEC_CMD_START: resumes after a drain (Stopped). */
    start(): void;
    /** The reset: VIDIOC_STREAMOFF of both queues (buffers stay allocated) to Initialization; every DmaBuf of a DMABUF slot comes back to its queue's `streamOff` list semantics (dropped from the queue). */
    reset(): void;
    /** Closes the node; pending dequeues and event waits reject with ERR_DMABUF_CLOSED. Exported DmaBufs stay open (they are yours). */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/**
 * One queue of an M2mDevice (`device.output`, `device.capture`). Its
 * buffers are MMAP (the driver's memory, exportable as DmaBufs) or DMABUF
 * slots (DmaBufs from anywhere, held until they are dequeued: closing one
 * meanwhile closes only your fd, the memory stays alive for the driver).
 */
export declare class M2mQueue {
    #private;
    /** Drops (and returns) the DmaBufs held for a slot the driver gave back: for M2mDevice, keyed by a symbol so that it is no public method. */
    [forget](index: number): DmaBuf[];
    [forgetAll](): void;
    /** 'output' or 'capture'. */
    get name(): M2mQueueName;
    /** VIDIOC_ENUM_FMT: the formats this queue takes (a decoder's CAPTURE list may depend on the stream). */
    formats(): Native.V4l2FormatDesc[];
    /** VIDIOC_G_FMT. */
    format(): Native.V4l2Format;
    /**
     * VIDIOC_S_FMT after checking that the queue lists the pixel format (a
     * driver would silently pick another): EINVAL naming what it takes.
     * With `exact`, a changed size or format is EINVAL naming the driver's
     * choice. EBUSY while the queue streams or, for a decoder's CAPTURE
     * queue, before the stream's format is known.
     */
    setFormat(format: V4l2FormatRequest, exact?: boolean): Native.V4l2Format;
    /** VIDIOC_TRY_FMT: what the driver would choose. */
    tryFormat(format: V4l2FormatRequest): Native.V4l2Format;
    /** VIDIOC_REQBUFS: `count` buffers of `memory` (default 'mmap'); 0 frees them. Returns how many the driver made. */
    requestBuffers(count: number, memory?: M2mMemory): number;
    /** VIDIOC_EXPBUF of every plane of MMAP buffer `index`: new read-write DmaBufs over the driver's memory (yours to close). */
    exportBuffer(index: number): DmaBuf[];
    /** VIDIOC_QBUF of MMAP buffer `index` (OUTPUT: with each plane's `bytesused`; `timestampUs` comes back on the CAPTURE buffer made from it). */
    queue(index: number, options?: M2mQueueOptions): void;
    /**
     * VIDIOC_QBUF of DmaBufs (one per memory plane, or a Frame's) into a
     * DMABUF slot; returns the V4L2 index. The queue keeps the objects, and
     * natively a duplicate of each fd, until the buffer is dequeued. Queueing
     * the same dma-bufs again reuses their slot (the driver keeps its import).
     */
    queueDmaBuf(buffers: DmaBuf[] | Frame, options?: M2mQueueOptions): number;
    /** VIDIOC_DQBUF without waiting: the buffer, or null when none is done. EBUSY after the last CAPTURE buffer of a drain. */
    tryDequeue(): M2mDequeued | null;
    /**
     * VIDIOC_DQBUF once a buffer is done (the node's fd in the event loop,
     * `POLLOUT` for OUTPUT and `POLLIN` for CAPTURE; no thread): resolves
     * with it, or null when `timeoutMs` passes (none or Infinity: no
     * limit); AbortError when `signal` aborts; ERR_DMABUF_CLOSED when the
     * device is closed meanwhile.
     */
    dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<M2mDequeued | null>;
    /** VIDIOC_STREAMON. */
    streamOn(): void;
    /** VIDIOC_STREAMOFF: the driver gives back every buffer; returns the DmaBufs of the DMABUF slots it held. */
    streamOff(): DmaBuf[][];
    /** How many buffers of this queue the driver holds. */
    get queued(): number;
    /** Whether this queue streams. */
    get streaming(): boolean;
}
/** What `Encoder.open` takes. */
export interface EncoderOptions {
    /** The encoder's node; default the first encoder whose CAPTURE queue lists `codedFormat`. */
    path?: string;
    /** The coded format as four characters ('FWHT', 'H264', 'VP80'). */
    codedFormat: string;
    /** The raw frames' width, height and V4L2 pixel format ('YUYV', 'NV12', 'YU12'...). */
    width: number;
    height: number;
    pixelformat: string;
    /** Frames in flight at once (DMABUF slots of OUTPUT); default 4. */
    inputSlots?: number;
    /** Bitstream buffers (MMAP, CAPTURE); default 4. */
    outputBuffers?: number;
    /** Controls set before streaming, by name or id: `{ 'Video Bitrate': 4000000 }`. */
    controls?: Record<string, V4l2ControlValue>;
}
/** One coded frame, in a CAPTURE buffer of the encoder that `release()` gives back. */
export interface EncodedChunk {
    /** The CAPTURE buffer's DmaBuf (the encoder's: do not close it). Its bytes are [offset, offset + size). */
    readonly buffer: DmaBuf;
    readonly offset: number;
    readonly size: number;
    /** The timestamp of the frame it was made from. */
    readonly timestampUs: number;
    /** `V4L2_BUF_FLAG_KEYFRAME`. */
    readonly keyFrame: boolean;
    readonly sequence: number;
    /** Gives the buffer back to the encoder (once; later calls do nothing). */
    release(): void;
}
/**
 * A stateful encoder, raw frames in, coded chunks out, with no copy: each
 * frame's dma-bufs are imported (DMABUF) into the OUTPUT queue, and each
 * chunk is a CAPTURE buffer the encoder wrote, exported once as a DmaBuf.
 *
 * `encode()` resolves once the encoder is done reading the frame (reuse
 * it then); `read()` gives the chunks in order; `flush()` drains, after
 * which `read()` returns the rest and then null. Run `read()` concurrently
 * with `encode()` (a reader loop) and release each chunk: the encoder
 * stops when it has no free CAPTURE buffer.
 */
export declare class Encoder {
    #private;
    /**
     * Opens and starts an encoder: controls, the OUTPUT format (exactly the
     * frames' size and pixel format), the CAPTURE format (`codedFormat` at
     * that size), DMABUF slots on OUTPUT, MMAP buffers on CAPTURE exported
     * once and queued, both queues streaming (state Encoding).
     */
    static open(options_: EncoderOptions): Encoder;
    /** The device (for its controls, state and events). */
    get device(): M2mDevice;
    /** The OUTPUT (raw) format in effect. */
    get format(): Native.V4l2Format;
    /** The CAPTURE (coded) format in effect. */
    get codedFormat(): Native.V4l2Format;
    /**
     * Queues a frame (a Frame, or its DmaBufs, one per memory plane) with
     * its timestamp; waits for a free slot first when `inputSlots` frames are
     * in flight. Resolves once the encoder has read the frame (its OUTPUT
     * buffer came back): the frame's memory is yours again.
     */
    encode(frame: Frame | DmaBuf | DmaBuf[], timestampUs: number): Promise<void>;
    /**
     * The next coded chunk: resolves with it, null once the stream ended
     * (after `flush()`), or null when `timeoutMs` passes first. `release()`
     * each chunk when done with it.
     */
    read(timeoutMs?: number, signal?: AbortSignal): Promise<EncodedChunk | null>;
    /**
     * The drain, once every `encode()` called so far has queued its frame:
     * those frames are encoded, `read()` returns their chunks, then null.
     * Resolves once the drain command was sent; later `encode()` calls fail
     * with EBUSY.
     */
    flush(): Promise<void>;
    /** Closes the device and the CAPTURE buffers' DmaBufs; pending calls reject with ERR_DMABUF_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
}
/** What `Decoder.open` takes. */
export interface DecoderOptions {
    /** The decoder's node; default the first decoder whose OUTPUT queue lists `codedFormat`. */
    path?: string;
    /** The coded format ('FWHT', 'H264'...). */
    codedFormat: string;
    /** The raw format wanted on CAPTURE ('YUYV', 'NV12'...); default the driver's choice for the stream. */
    pixelformat?: string;
    /** Width and height to announce on OUTPUT before the stream tells (default 1280x720); the stream's own come with 'source-change'. */
    width?: number;
    height?: number;
    /** Bitstream buffers (MMAP, OUTPUT); default 4. */
    inputBuffers?: number;
    /** Frame buffers (MMAP, CAPTURE); default 4, or what the driver needs. */
    frameBuffers?: number;
}
/** A decoded frame, in a CAPTURE buffer of the decoder that `release()` gives back. */
export interface DecodedFrame {
    /** The picture (its planes duplicate the decoder's DmaBufs; `release()` closes them). */
    readonly frame: Frame;
    /** The CAPTURE format it has (coded size; `visible` is the picture's rectangle). */
    readonly format: Native.V4l2Format;
    readonly visible: Native.V4l2Rect;
    /** The timestamp of the chunk it was decoded from. */
    readonly timestampUs: number;
    readonly sequence: number;
    /** Gives the buffer back to the decoder and closes `frame` (once). */
    release(): void;
}
/**
 * A stateful decoder, coded chunks in, Frames out. Chunks are written into
 * MMAP OUTPUT buffers (the bitstream is copied once, into the driver's
 * memory; frames never are); frames are CAPTURE buffers exported once.
 * The kernel document's flow is followed: the CAPTURE queue is set up
 * after the stream's 'source-change' event, and again at each resolution
 * change; `flush()` drains. Run `read()` concurrently with `decode()`.
 */
export declare class Decoder {
    #private;
    /** Opens a decoder: the OUTPUT format (`codedFormat`), MMAP bitstream buffers exported once, OUTPUT streaming (state Initialization). */
    static open(options_: DecoderOptions): Decoder;
    /** The device (for its state, controls and events). */
    get device(): M2mDevice;
    /** The CAPTURE format once the stream's is known (after the first frames), else null. */
    get format(): Native.V4l2Format | null;
    /**
     * Copies one coded chunk (a whole frame, for FWHT) into a free OUTPUT
     * buffer and queues it with its timestamp; waits for a free buffer
     * first. Resolves once it is queued. E2BIG when the chunk is larger than
     * the buffers (`inputBuffers` of the OUTPUT format's sizeimage).
     */
    decode(chunk: Uint8Array, timestampUs: number): Promise<void>;
    /**
     * The next decoded frame, in order: resolves with it, null once the
     * stream ended (after `flush()`), or null when `timeoutMs` passes. Sets
     * up the CAPTURE queue on the stream's 'source-change' (and again on a
     * resolution change). `release()` each frame when done with it.
     */
    read(timeoutMs?: number, signal?: AbortSignal): Promise<DecodedFrame | null>;
    /**
     * Ends the stream: once every chunk queued so far is decoded, the drain
     * (V4L2_DEC_CMD_STOP); `read()` returns the remaining frames, then null.
     * Resolves when the last frame was read.
     */
    flush(): Promise<void>;
    /** Closes the device and the buffers' DmaBufs; pending calls reject with ERR_DMABUF_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
}
