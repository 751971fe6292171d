/** What kind of fd the native layer stored, in `Out.PASSED_KIND` (set by fdpass.rs). */
export declare const enum PassedKind {
    DMA_BUF = 0,
    SYNC_FILE = 1,
    OTHER = 2
}
/**
 * pidfd_open + pidfd_getfd: the handle of a duplicate of fd `fd` of process
 * `pid`; `Out.FD`, `Out.PASSED_KIND` and (for a dma-buf) `Out.PASSED_SIZE`
 * describe it. Errors name `M`, the method the user called.
 */
export declare function takeFd(M: 'fdFromProcess' | 'DmaBuf.fromProcess', pid: unknown, fd: unknown): number;
