// sync_file (crates/dmabuf/src/sync_file.rs): fences as fds.

import type * as Native from '../native'
import { illegalConstructor, invalidThis, invalidType } from '../internal/errors'
import { Out } from '../internal/generated/slots'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { str, timeoutMs as timeoutMsOf, uint } from '../internal/validators'
import { abortable, liveSignal, waitId } from '../internal/waits'

export type { SyncFileInfo, FenceInfo } from '../native'

const A = args

/** A sync_file: an fd that signals when its fences have. Close it with `close()` (or `using`). */
export class SyncFile {
  #h: number
  #fd: number

  static #is(x: unknown): x is SyncFile {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number) {
    if (key !== token) throw illegalConstructor('SyncFile')
    this.#h = h
    this.#fd = fd
    own(this, h)
  }

  /** @internal */
  static handleOf(s: SyncFile, method: string, name: string): number {
    if (!(s instanceof Object) || !(#h in s)) throw invalidType(method, name, 'an instance of SyncFile', s)
    return live(s.#h, method, 'SyncFile')
  }

  /** Wraps a sync_file fd number; the fd is duplicated (the caller keeps its own). */
  static fromFd(fd: number): SyncFile {
    const h = native.syncFromFd(uint('SyncFile.fromFd', 'fd', fd, 2 ** 31 - 1))
    return new SyncFile(token, h, A[Out.FD])
  }

  static #open(self: unknown, method: string): number {
    if (!SyncFile.#is(self)) throw invalidThis(method, 'SyncFile')
    return live(self.#h, method, 'SyncFile')
  }

  /** The fd number, or -1 once closed. */
  get fd(): number {
    if (!SyncFile.#is(this)) throw invalidThis('SyncFile.fd', 'SyncFile')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!SyncFile.#is(this)) throw invalidThis('SyncFile.closed', 'SyncFile')
    return this.#h < 0
  }

  /** Closes the fd; pending waits go on with their own duplicate. Calling it again does nothing. */
  close(): void {
    if (!SyncFile.#is(this)) throw invalidThis('SyncFile.close', 'SyncFile')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void

  /** A new SyncFile with its own fd for the same fences. */
  dup(): SyncFile {
    const h = native.syncDup(SyncFile.#open(this, 'SyncFile.dup'))
    return new SyncFile(token, h, A[Out.FD])
  }

  /** SYNC_IOC_FILE_INFO: name, status and fences. */
  info(): Native.SyncFileInfo {
    return native.syncInfo(SyncFile.#open(this, 'SyncFile.info'))
  }

  /** SYNC_IOC_MERGE: a new SyncFile that signals when both have. Neither is consumed. */
  merge(other: SyncFile, name?: string): SyncFile {
    const M = 'SyncFile.merge'
    const h = SyncFile.#open(this, M)
    const o = SyncFile.handleOf(other, M, 'other')
    const n = name === undefined ? 'dmabuf-merge' : str(M, 'name', name)
    const m = native.syncMerge(h, o, n)
    return new SyncFile(token, m, A[Out.FD])
  }

  /** Whether every fence has signalled (poll with a zero timeout). */
  isSignaled(): boolean {
    return native.syncIsSignaled(SyncFile.#open(this, 'SyncFile.isSignaled'))
  }

  /**
   * Blocks the thread until signalled (true) or `timeoutMs` passes (false).
   * Without a timeout (or with Infinity, or one longer than any clock) it
   * waits for ever. Prefer `wait()`.
   */
  waitSync(timeoutMs?: number): boolean {
    const M = 'SyncFile.waitSync'
    const h = SyncFile.#open(this, M)
    return native.syncWaitSync(h, timeoutMsOf(M, timeoutMs))
  }

  /**
   * Resolves true once every fence has signalled, false when `timeoutMs`
   * passes first; rejects with an AbortError when `signal` aborts. No thread
   * is blocked while it waits: the fd sits in the event loop. Never
   * throws: every error is a rejection.
   */
  async wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const M = 'SyncFile.wait'
    const h = SyncFile.#open(this, M)
    const t = timeoutMsOf(M, timeoutMs)
    const s = liveSignal(M, signal)
    const id = waitId()
    return (await abortable(M, s, id, native.syncWait(h, t, id), (i) => native.syncCancelWait(i))) === true
  }
}
Object.defineProperty(SyncFile.prototype, Symbol.toStringTag, { value: 'SyncFile' })

// `using x = ...` and `x[Symbol.dispose]()` are the very same function as close().
{
  const proto = SyncFile.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
