import { PassedFd } from './channel';
import { DmaBuf } from './dma-buf';
import { Frame } from './frame';
export { type Caps, type CapsValue, type CapsLayout, parseCaps, printCaps, capsForFrame, capsLayout, gstFormatFourcc, gstFormatName } from './unixfd-caps';
/** Nanoseconds; null is GStreamer's GST_CLOCK_TIME_NONE. */
export type ClockTime = bigint | null;
/** What a sender may give about a buffer (all optional: none by default, flags 0). */
export interface UnixFdBufferInfo {
    pts?: ClockTime;
    dts?: ClockTime;
    duration?: ClockTime;
    offset?: bigint | null;
    offsetEnd?: bigint | null;
    flags?: number;
}
/** One memory of a received buffer: `size` bytes at `offset` of a dma-buf or of another fd (a memfd). */
export interface UnixFdMemory {
    readonly kind: 'dma-buf' | 'fd';
    readonly dmaBuf: DmaBuf | null;
    readonly fd: PassedFd | null;
    readonly offset: number;
    readonly size: number;
}
/**
 * A buffer received from a unixfdsink: its timestamps, flags and memories
 * (each a dma-buf or a memfd, owned by this object). release() (or
 * `using`) closes them and tells the sink, exactly once; a buffer collected
 * unreleased is released by the garbage collector, eventually.
 */
export declare class UnixFdBuffer implements Disposable {
    #private;
    readonly id: bigint;
    readonly pts: ClockTime;
    readonly dts: ClockTime;
    readonly duration: ClockTime;
    readonly offset: bigint | null;
    readonly offsetEnd: bigint | null;
    readonly flags: number;
    readonly memories: readonly UnixFdMemory[];
    /** The caps in force when it arrived. */
    readonly caps: string;
    /** Whether release() was called. */
    get released(): boolean;
    /**
     * A copy of the buffer's content, its memories one after the other
     * (dma-bufs read under CPU read access, other fds with pread).
     */
    bytes(): Uint8Array;
    /**
     * The memory at `index` (default 0) with no copy, when it is a memfd
     * sealed against shrinking (`F_SEAL_SHRINK`, as GStreamer's shm allocator
     * seals its memfds): a Uint8Array of its `size` bytes (fcntl F_GET_SEALS,
     * fstat, mmap MAP_PRIVATE). It shows what the sender wrote; writes to it
     * stay in this process (copy-on-write). Mapped once per memory: later
     * calls view the same mapping. release() unmaps it, and every view of it
     * then reads as empty. EINVAL for any other fd (a memfd without the seal
     * could be truncated under the mapping, which would raise SIGBUS): read
     * those with bytes(); ERR_INVALID_STATE for a dma-buf memory (map its
     * `dmaBuf` inside beginCpuAccess).
     */
    map(index?: number): Uint8Array;
    /**
     * A Frame over the memories, laid out as the caps say (capsLayout:
     * GStreamer's default strides; all planes in one memory, or spread over
     * several, as GStreamer counts offsets across them). The Frame holds
     * duplicates of the dma-bufs: close it on its own; release() does not.
     * ERR_INVALID_STATE for caps that are not raw video it can lay out,
     * memories that are not dma-bufs, or too few bytes.
     */
    frame(): Frame;
    /** Unmaps what map() mapped, closes every fd it holds and sends RELEASE_BUFFER, once; later calls do nothing. */
    release(): void;
    /** The same as release(). */
    [Symbol.dispose](): void;
}
/**
 * The role of GStreamer's unixfdsrc: connects to a unixfdsink and reads
 * its buffers. CAPS commands update `caps`; read() gives the next buffer,
 * or null after EOS.
 */
export declare class UnixFdSrc {
    #private;
    /** socket + connect to a unixfdsink at `address` (a path, or `@name` for an abstract socket). */
    static connect(address_: string): UnixFdSrc;
    /** The latest caps received, or null before any. */
    get caps(): string | null;
    /** Whether EOS arrived. */
    get ended(): boolean;
    /** The socket's fd number, or -1 once closed. */
    get fd(): number;
    /** Whether close() was called. */
    get closed(): boolean;
    /**
     * The next buffer, or null after EOS. Reads run in call order. Rejects
     * with EPIPE (the sink closed the connection) or ECONNRESET (it went in
     * the middle of a command), EPROTO (a command that is not one, or a
     * buffer whose fds do not match its memories: those fds are closed, and
     * the next read goes on), ERR_DMABUF_CLOSED after close().
     */
    read(options?: {
        signal?: AbortSignal;
    }): Promise<UnixFdBuffer | null>;
    /** Reads buffers until EOS. */
    [Symbol.asyncIterator](): AsyncIterator<UnixFdBuffer>;
    /** Closes the socket; a pending read rejects with ERR_DMABUF_CLOSED. Buffers already read stay valid; their release() sends nothing. Calling it again does nothing. */
    close(): void;
    /** The same as close(). */
    [Symbol.dispose](): void;
}
/**
 * The role of GStreamer's unixfdsink: listens where unixfdsrc elements
 * (or UnixFdSrc) connect; accept() gives each connection.
 */
export declare class UnixFdSink {
    #private;
    /** socket + bind + listen at `address` (a path, removed on close, or `@name`). `caps` go first to each connection; `maxInFlight` (default 4) bounds the buffers a connection may hold unreleased. */
    static listen(address_: string, options: {
        caps: string;
        maxInFlight?: number;
    }): UnixFdSink;
    /** The address it listens on. */
    get address(): string;
    /** The caps each new connection gets first. */
    get caps(): string;
    /** The listening socket's fd, or -1 once closed. */
    get fd(): number;
    /** Whether close() was called. */
    get closed(): boolean;
    /** accept4: the next connection, its caps already sent. */
    accept(options?: {
        signal?: AbortSignal;
    }): Promise<UnixFdSinkConnection>;
    /** Closes the socket (and removes its path); a pending accept rejects. Connections stay open. */
    close(): void;
    /** The same as close(). */
    [Symbol.dispose](): void;
}
type Memories = DmaBuf | Frame | readonly (DmaBuf | PassedFd)[];
/** One connected source: buffers go out, releases come back. */
export declare class UnixFdSinkConnection {
    #private;
    /** How many buffers the source holds unreleased. */
    get inFlight(): number;
    /** Whether close() was called. */
    get closed(): boolean;
    /** The socket's fd, or -1 once closed. */
    get fd(): number;
    /** Sends CAPS: the caps of the buffers sent after it. */
    setCaps(caps: string): Promise<void>;
    /**
     * Sends a buffer: one DmaBuf, a Frame (one memory per distinct dma-buf
     * of its planes, in plane order), or a list of DmaBufs or of PassedFds
     * (memfds), each memory its whole object (a PassedFd's size from fstat).
     * Waits while maxInFlight buffers are unreleased. Resolves with the
     * buffer's id once sent; the kernel gives the source its own fds, the
     * caller keeps its objects (reuse them once released(id) resolves).
     */
    send(memories: Memories, info?: UnixFdBufferInfo & {
        signal?: AbortSignal;
    }): Promise<bigint>;
    /** Resolves once the source released buffer `id` (at once for an id not in flight), or the connection ended. */
    released(id: bigint): Promise<void>;
    /** Sends EOS, then waits until every buffer is released or the source hung up. */
    end(): Promise<void>;
    /** Closes the connection: later sends reject, pending released() promises resolve. Calling it again does nothing. */
    close(): void;
    /** The same as close(). */
    [Symbol.dispose](): void;
}
