import type * as Native from '../native';
import { type Access } from '../internal/validators';
import { SyncFile } from './sync-file';
export type { Access } from '../internal/validators';
export type { DmaBufInfo } from '../native';
/**
 * A dma-buf: one owned, close-on-exec file descriptor for shared memory.
 *
 * Close it with `close()` (or `using`); garbage collection closes it too,
 * but only eventually.
 */
export declare class DmaBuf {
    #private;
    /**
     * Wraps a dma-buf fd number. The fd is duplicated (F_DUPFD_CLOEXEC): the
     * caller keeps, and must still close, its own. Throws `ENOTTY` when the fd
     * is not a dma-buf, `EBADF` when it is not open.
     */
    static fromFd(fd: number): DmaBuf;
    /**
     * pidfd_open + pidfd_getfd: a dma-buf taken out of another process (its
     * fd `fd`), which keeps its own. Needs ptrace rights over the process
     * (EPERM otherwise); ENOSYS before Linux 5.6. See `fdFromProcess`.
     */
    static fromProcess(pid: number, fd: number): DmaBuf;
    /**
     * Exports one SyncFile per buffer (the kmsroots/wlroots batch). All or
     * nothing: on any failure the SyncFiles already made are closed and the
     * error names the buffer's index.
     */
    static exportSyncFiles(buffers: DmaBuf[], access: Access): SyncFile[];
    /**
     * Imports one SyncFile into every buffer (the kmsroots/wlroots batch).
     * Every buffer is checked first, so a closed one fails the call before any
     * fence is attached. The SyncFile is only borrowed.
     */
    static importSyncFileAll(buffers: DmaBuf[], syncFile: SyncFile, access: Access): void;
    /** The fd number, or -1 once closed. */
    get fd(): number;
    /** Size in bytes (0 once closed). */
    get size(): number;
    /** Whether `close()` was called. */
    get closed(): boolean;
    /** Size, exporter, name, inode, file count, writability (fstat and /proc/self/fdinfo). */
    info(): Native.DmaBufInfo;
    /** DMA_BUF_SET_NAME: names the buffer (at most 31 bytes). */
    setName(name: string): void;
    /** A new DmaBuf with its own fd for the same buffer. */
    dup(): DmaBuf;
    /**
     * Closes the fd. CPU accesses still open are ended first. Mappings stay
     * valid until unmapped. Calling it again does nothing.
     */
    close(): void;
    /** The same function as `close()` (installed below). */
    [Symbol.dispose]: () => void;
    /**
     * DMA_BUF_IOCTL_SYNC start: begins CPU access. Call `end()` on the result
     * (or declare it with `using`); closing the DmaBuf ends it too.
     */
    beginCpuAccess(access: Access): CpuAccess;
    /**
     * mmap: maps `length` bytes at `offset` (a multiple of the page size;
     * default: to the end). `access` defaults to 'rw' on a read-write fd and
     * 'r' on a read-only one. The Mapping's `buffer` is an ArrayBuffer over the
     * memory itself (no copy).
     */
    map(access?: Access, offset?: number, length?: number): Mapping;
    /** Copies `length` bytes at `offset` out of the buffer, bracketed by CPU read access. Works where `map()` cannot (Electron). */
    read(offset: number, length: number): Buffer;
    /** Copies `data` into the buffer at `offset`, bracketed by CPU write access. */
    write(offset: number, data: Uint8Array): void;
    /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a SyncFile with the buffer's current fences ('r': what a reader must wait for; 'w'/'rw': everything). */
    exportSyncFile(access: Access): SyncFile;
    /**
     * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: attaches the SyncFile's fences ('w'/'rw':
     * as a write, 'r': as a read). The SyncFile stays yours: close it when you
     * no longer need it.
     */
    importSyncFile(syncFile: SyncFile, access: Access): void;
}
/** CPU access in progress (from `DmaBuf.beginCpuAccess`): a plain object, no native one. */
export declare class CpuAccess {
    #private;
    /** The access held: 'r', 'w' or 'rw' (also after `end()`). */
    get access(): Access;
    /** Whether the access is still open (false after `end()` or the DmaBuf's `close()`). */
    get active(): boolean;
    /**
     * DMA_BUF_IOCTL_SYNC end. Calling it again, or after the DmaBuf was closed
     * (which ended it), does nothing.
     */
    end(): void;
    /** The same function as `end()` (installed below). */
    [Symbol.dispose]: () => void;
}
export declare class Mapping {
    #private;
    /** The mapped memory, with no copy. Detached (byteLength 0) after `unmap()`. */
    get buffer(): ArrayBuffer;
    /** Offset of the mapping in the buffer. */
    get offset(): number;
    /** Length in bytes. */
    get length(): number;
    /** 'r' or 'rw'. */
    get access(): Access;
    /** Whether the memory is still mapped. */
    get mapped(): boolean;
    /** Detaches `buffer` and releases the dma-buf's pages. Calling it again does nothing. */
    unmap(): void;
    /** The same function as `unmap()` (installed below). */
    [Symbol.dispose]: () => void;
}
