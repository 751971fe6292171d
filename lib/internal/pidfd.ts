// Taking an fd out of another process: the piece that fdFromProcess (fd
// passing) and DmaBuf.fromProcess share, kept below both.

import { native } from './native'
import { uint } from './validators'

/** What kind of fd the native layer stored, in `Out.PASSED_KIND` (set by fdpass.rs). */
export const enum PassedKind {
  DMA_BUF = 0,
  SYNC_FILE = 1,
  OTHER = 2,
}

/**
 * pidfd_open + pidfd_getfd: the handle of a duplicate of fd `fd` of process
 * `pid`; `Out.FD`, `Out.PASSED_KIND` and (for a dma-buf) `Out.PASSED_SIZE`
 * describe it. Errors name `M`, the method the user called.
 */
export function takeFd(M: 'fdFromProcess' | 'DmaBuf.fromProcess', pid: unknown, fd: unknown): number {
  return native.fdFromProcess(uint(M, 'pid', pid, 2 ** 32 - 1), uint(M, 'fd', fd, 2 ** 31 - 1), M === 'DmaBuf.fromProcess')
}
