import type * as Native from '../native';
export type { SyncFileInfo, FenceInfo } from '../native';
/** A sync_file: an fd that signals when its fences have. Close it with `close()` (or `using`). */
export declare class SyncFile {
    #private;
    /** Wraps a sync_file fd number; the fd is duplicated (the caller keeps its own). */
    static fromFd(fd: number): SyncFile;
    /** The fd number, or -1 once closed. */
    get fd(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** Closes the fd; pending waits go on with their own duplicate. Calling it again does nothing. */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
    /** A new SyncFile with its own fd for the same fences. */
    dup(): SyncFile;
    /** SYNC_IOC_FILE_INFO: name, status and fences. */
    info(): Native.SyncFileInfo;
    /** SYNC_IOC_MERGE: a new SyncFile that signals when both have. Neither is consumed. */
    merge(other: SyncFile, name?: string): SyncFile;
    /** Whether every fence has signalled (poll with a zero timeout). */
    isSignaled(): boolean;
    /**
     * Blocks the thread until signalled (true) or `timeoutMs` passes (false).
     * Without a timeout (or with Infinity, or one longer than any clock) it
     * waits for ever. Prefer `wait()`.
     */
    waitSync(timeoutMs?: number): boolean;
    /**
     * Resolves true once every fence has signalled, false when `timeoutMs`
     * passes first; rejects with an AbortError when `signal` aborts. No thread
     * is blocked while it waits: the fd sits in the event loop. Never
     * throws: every error is a rejection.
     */
    wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean>;
}
