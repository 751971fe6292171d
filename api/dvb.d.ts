import type * as Native from '../native';
import { type Access } from '../internal/validators';
import { DmaBuf } from './dma-buf';
export type { DvbBufferInfo, DvbFrontendInfo } from '../native';
/** Where a PES filter sends what it passes (`enum dmx_output`): 'ts-demux-tap' puts whole TS packets in this demux's buffers. */
export type DvbPesOutput = 'decoder' | 'tap' | 'ts-tap' | 'ts-demux-tap';
/** A section filter (`struct dmx_sct_filter_params`). */
export interface DvbSectionFilter {
    /** Packet id, 0..0x1fff. */
    pid: number;
    /** Up to 16 bytes to match (the section's first bytes, without its two length bytes). */
    filter?: ArrayLike<number>;
    /** Which bits of `filter` count (default: none, so every section of `pid` passes). */
    mask?: ArrayLike<number>;
    /** Bits set here match on "not equal". */
    mode?: ArrayLike<number>;
    /** Milliseconds the kernel waits for a section before an ETIMEDOUT (0: no limit). */
    timeoutMs?: number;
    /** Drop sections whose CRC does not match (default true). */
    checkCrc?: boolean;
    /** Stop after one section. */
    oneshot?: boolean;
}
/** Numbers of `<linux/dvb/frontend.h>` and `<linux/dvb/dmx.h>` for `DvbFrontend` and `DvbDemux`. */
export declare const DVB: Readonly<{
    /** DTV_* property commands for `DvbFrontend.setProperties` / `getProperties`. */
    DTV_TUNE: 1;
    DTV_CLEAR: 2;
    DTV_FREQUENCY: 3;
    DTV_MODULATION: 4;
    DTV_BANDWIDTH_HZ: 5;
    DTV_INVERSION: 6;
    DTV_SYMBOL_RATE: 8;
    DTV_INNER_FEC: 9;
    DTV_DELIVERY_SYSTEM: 17;
    DTV_API_VERSION: 35;
    /** Delivery systems (values of DTV_DELIVERY_SYSTEM). */
    SYS_DVBC_ANNEX_A: 1;
    SYS_DVBT: 3;
    SYS_DVBS: 5;
    SYS_DVBS2: 6;
    SYS_ISDBT: 8;
    SYS_DVBT2: 16;
    /** FE_READ_STATUS bits. */
    FE_HAS_SIGNAL: 1;
    FE_HAS_CARRIER: 2;
    FE_HAS_VITERBI: 4;
    FE_HAS_SYNC: 8;
    FE_HAS_LOCK: 16;
    FE_TIMEDOUT: 32;
    /** The PES filter PID that passes the whole transport stream. */
    PID_ALL: 8192;
    /** Bytes in a TS packet, and its first byte. */
    TS_PACKET_SIZE: 188;
    TS_SYNC_BYTE: 71;
    /** The kernel's limit on one demux buffer (4096 TS packets). */
    MAX_BUFFER_SIZE: number;
}>;
/**
 * An open DVB demux (`/dev/dvb/adapterN/demuxM`): one filter, and the
 * buffers its data goes to, exported as DmaBufs. Needs a kernel with
 * CONFIG_DVB_MMAP for the buffers (elsewhere they throw ENOTTY naming it).
 *
 * The first `queue()` starts streaming, which lasts until `close()`; a
 * buffer comes back when it is full (a section filter: when a section
 * ends), so give TS filters a multiple of 188 bytes.
 */
export declare class DvbDemux {
    #private;
    /** Opens a demux node read-write and non-blocking; ENOTTY when `path` is not a DVB demux. */
    static open(path: string): DvbDemux;
    /** Paths of the demux nodes under /dev/dvb (empty when there are none). */
    static list(): string[];
    /** The fd number, or -1 once closed. */
    get fd(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** DMX_SET_PES_FILTER: packets of `pid` (DVB.PID_ALL: all) to `output` (default 'ts-demux-tap'); starts at once when `start` is true. */
    setPesFilter(pid: number, output?: DvbPesOutput, start?: boolean): void;
    /** DMX_SET_FILTER: the sections of `filter.pid` that match; starts at once when `start` is true. */
    setSectionFilter(filter: DvbSectionFilter, start?: boolean): void;
    /** DMX_START. */
    start(): void;
    /** DMX_STOP (queued buffers stay queued). */
    stop(): void;
    /** DMX_SET_BUFFER_SIZE: the ring buffer of the read() path (not the exported buffers). */
    setBufferSize(size: number): void;
    /** DMX_REQBUFS: `count` buffers of `size` bytes; returns what the kernel granted (size at most DVB.MAX_BUFFER_SIZE). */
    requestBuffers(count: number, size: number): {
        count: number;
        size: number;
    };
    /** DMX_QUERYBUF: buffer `index`'s size and mmap offset. */
    queryBuffer(index: number): Native.DvbBufferInfo;
    /** DMX_EXPBUF: buffer `index` as a DmaBuf (read-only for 'r', the default; read-write otherwise). It outlives the demux. */
    exportBuffer(index: number, access?: Access): DmaBuf;
    /** DMX_QBUF: hands buffer `index` to the demux to fill; the first one starts streaming. */
    queue(index: number): void;
    /** DMX_DQBUF without waiting: the next filled buffer, or null. */
    tryDequeue(): Native.DvbBufferInfo | null;
    /**
     * Resolves the next filled buffer, or null when `timeoutMs` passes first;
     * rejects with an AbortError when `signal` aborts. No thread waits: the
     * demux fd sits in the event loop. Never throws: every error is a
     * rejection.
     */
    dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.DvbBufferInfo | null>;
    /** Closes the demux (its filter and streaming end; exported DmaBufs stay valid); pending dequeues reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
/** An open DVB frontend (`/dev/dvb/adapterN/frontendM`), read-write, for tuning. */
export declare class DvbFrontend {
    #private;
    /** Opens a frontend node read-write (EBUSY while another holds it so); ENOTTY when `path` is not a DVB frontend. */
    static open(path: string): DvbFrontend;
    /** Paths of the frontend nodes under /dev/dvb. */
    static list(): string[];
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** FE_GET_INFO: name, frequency range, capabilities. */
    info(): Native.DvbFrontendInfo;
    /** FE_READ_STATUS: DVB.FE_HAS_* bits. */
    status(): number;
    /** FE_SET_PROPERTY: `[command, value]` pairs (DVB.DTV_*), applied in order; 1 to 64 of them. */
    setProperties(props: Array<[number, number]>): void;
    /** FE_GET_PROPERTY: the value of each command (DVB.DTV_*), in order; 1 to 64 of them. */
    getProperties(commands: number[]): number[];
    /** Tunes: DTV_CLEAR, the delivery system (DVB.SYS_*), the frequency, `extra` pairs, DTV_TUNE. Returns at once; see `waitForLock`. */
    tune(deliverySystem: number, frequency: number, extra?: Array<[number, number]>): void;
    /**
     * Resolves true once FE_READ_STATUS has FE_HAS_LOCK, false when
     * `timeoutMs` (default 5000) passes first; reads the status every 10 ms on
     * a timer (no thread waits). Rejects with an AbortError when `signal` aborts.
     */
    waitForLock(timeoutMs?: number, signal?: AbortSignal): Promise<boolean>;
    /** Closes the frontend. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
}
