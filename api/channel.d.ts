import { DmaBuf } from './dma-buf';
import { Frame } from './frame';
import { SyncFile } from './sync-file';
/** The kind of Unix socket a Channel uses. */
export type SocketType = 'stream' | 'seqpacket';
/** The most fds one message may carry (the kernel's SCM_MAX_FD). */
export declare const MAX_FDS = 253;
/** The largest header, in bytes of its JSON text. */
export declare const MAX_HEADER = 65536;
/**
 * The most fd copies that sends waiting behind another `send()` of the same
 * Channel may hold together (each keeps a copy of its fds until it goes). A
 * send that would pass it rejects with ENOBUFS; await earlier sends first.
 */
export declare const MAX_QUEUED_FDS = 1024;
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
 * Both always return a Promise: every error, argument errors included,
 * rejects it (as Node's promise APIs do), none is thrown.
 * Errors of receive(): EPIPE (the peer closed the channel), ECONNRESET (it
 * died in the middle of a message), ETOOMANYREFS (more fds than `maxFds`:
 * those that arrived are closed, the channel goes on), EMSGSIZE (a header
 * over MAX_HEADER), ERR_DMABUF_BAD_HEADER (not JSON, or a frame, which
 * receiveFrame() takes; its fds are closed). Frames go as sendFrame() and
 * receiveFrame(): the Rust `Frame::send` message, the same errors plus
 * EPROTO for a message that is no frame.
 * Of send(): EPIPE (the peer closed the channel), or ECONNRESET where the
 * kernel gives it: a seqpacket peer that closed with messages unread;
 * ERR_OUT_OF_RANGE (a header over MAX_HEADER bytes of JSON, or more than
 * MAX_FDS fds).
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
     * Sends `frame` as one message, the same the Rust `Frame::send` sends: a
     * binary header (`DMFR`, version, plane count, width, height, fourcc,
     * modifier, each plane's offset and pitch; made by the Rust
     * `Frame::header_of`) with one dma-buf fd per plane attached. The frame
     * stays the caller's (its fds are duplicated when the send has to wait),
     * so it may be closed as soon as this returns. The peer takes it with
     * receiveFrame() or `Frame::recv`. Queued with send() in call order.
     */
    sendFrame(frame: Frame, options?: {
        signal?: AbortSignal;
    }): Promise<void>;
    /**
     * Receives the next message. At most `maxFds` fds (default MAX_FDS, 253,
     * the kernel's limit per message, so by default nothing a peer can send is
     * dropped) are accepted: a message with more is an ETOOMANYREFS error that
     * gives the limit and how many arrived; those fds are closed, the message
     * dropped, and the channel goes on with the next one.
     */
    receive<H = unknown>(options?: {
        maxFds?: number;
        signal?: AbortSignal;
    }): Promise<Message<H>>;
    /**
     * Receives the next message as a Frame: one that sendFrame() (or the
     * Rust `Frame::send`) sent, its binary header and one dma-buf per plane
     * checked by the Rust `Frame::from_message` and then as `new Frame`
     * checks. The frame owns the dma-bufs that came. Any other message (a
     * JSON one, a bad plane count, fds that differ from it or are no
     * dma-bufs) is an EPROTO error naming what is wrong: its fds are closed,
     * the channel goes on with the next message. Queued with receive() in
     * call order.
     */
    receiveFrame(options?: {
        signal?: AbortSignal;
    }): Promise<Frame>;
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
