// The public API of the `dmabuf` package: classes in TypeScript over the
// thin native layer (crates/dmabuf-node, loaded through native.js).
//
// Every object holds a *handle* to a kernel object that lives in the native
// layer's per-thread table (a stale or forged handle is refused there, never
// mistaken for another object). Hot paths (CPU access, sync_file export,
// close, unmap) call raw zero-argument native functions after writing their
// arguments into the shared Float64Array `A`; see crates/dmabuf-node/src/fast.rs.
// Compiled by `tsc -p tsconfig.json` into index.js and index.d.ts.

/* eslint-disable @typescript-eslint/no-require-imports */
import type * as Native from './native'
// eslint-disable-next-line @typescript-eslint/no-var-requires
const native: typeof Native = require('./native.js')

/** How a buffer is accessed: 'r' (read), 'w' (write) or 'rw' (both). */
export type Access = 'r' | 'w' | 'rw'
export type { DmaBufInfo, SyncFileInfo, FenceInfo, Capabilities, DrmNodeInfo, IoctlSupport } from './native'

/** The shared argument array of the fast calls: slots 0..7 in, 8..15 out. */
const A = new Float64Array(native.args)
const OUT = 8
// The fast calls, held in constants: a call through a constant is
// monomorphic and needs no property lookup on the exports object.
const nativeSyncStart = native.syncStart
const nativeSyncEnd = native.syncEnd
const nativeExportSyncFile = native.exportSyncFile
const nativeClose = native.close
const nativeUnmap = native.unmap

/**
 * `DMA_BUF_SYNC_READ` / `_WRITE` bits of an access string, 0 for anything
 * else. Comparisons, not a lookup table: V8 compares interned strings by
 * pointer, and an object with a null prototype would be a slow dictionary.
 */
function bitsOf(access: unknown): number {
  return access === 'rw' ? 3 : access === 'r' ? 1 : access === 'w' ? 2 : 0
}
const ACCESS: readonly Access[] = ['r', 'r', 'w', 'rw']
/** Most buffers one batch call takes: arrays are checked element by element, never trusted for an allocation. */
const MAX_BATCH = 4096
const token = Symbol('dmabuf')

// ---------------------------------------------------------------------------
// Errors shaped like Node's own.

interface NodeError extends Error {
  code: string
}

function nodeError<E extends Error>(Ctor: new (message: string) => E, code: string, message: string): E & NodeError {
  const e = new Ctor(message) as E & NodeError
  e.code = code
  return e
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (typeof v === 'function') return `function ${(v as { name?: string }).name || '(anonymous)'}`
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name
    return name ? `an instance of ${name}` : 'an object'
  }
  if (typeof v === 'string') return `type string (${JSON.stringify(v.length > 28 ? v.slice(0, 25) + '...' : v)})`
  if (typeof v === 'number') return `type number (${String(v)})`
  return `type ${typeof v} (${String(v)})`
}

function invalidType(method: string, name: string, expected: string, got: unknown): TypeError {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `${method}: The "${name}" argument must be ${expected}. Received ${describe(got)}`)
}

function invalidValue(method: string, name: string, message: string): TypeError {
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `${method}: The argument "${name}" ${message}`)
}

function outOfRange(method: string, name: string, expected: string, got: unknown): RangeError {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `${method}: The value of "${name}" is out of range. It must be ${expected}. Received ${String(got)}`)
}

function invalidThis(method: string, cls: string): TypeError {
  return nodeError(TypeError, 'ERR_INVALID_THIS', `${method}: Value of "this" must be of type ${cls}`)
}

function illegalConstructor(cls: string): TypeError {
  return nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', `Illegal constructor: ${cls} objects come from factory functions (see the README)`)
}

function closedError(method: string, cls: string): Error {
  return nodeError(Error, 'ERR_DMABUF_CLOSED', `${method}: the ${cls} is closed`)
}

function abortError(method: string, signal: AbortSignal): Error {
  const e = nodeError(Error, 'ABORT_ERR', `${method}: The operation was aborted`) as Error & { cause?: unknown }
  e.name = 'AbortError'
  e.cause = signal.reason
  return e
}

// ---------------------------------------------------------------------------
// Argument checks.

function accessBits(method: string, name: string, access: unknown): number {
  const bits = bitsOf(access)
  if (bits !== 0) return bits
  if (typeof access !== 'string') throw invalidType(method, name, "one of 'r', 'w' or 'rw'", access)
  throw invalidValue(method, name, `must be 'r', 'w' or 'rw'. Received ${JSON.stringify(access)}`)
}

function optionalAccessBits(method: string, name: string, access: unknown, dflt: number): number {
  return access === undefined ? dflt : accessBits(method, name, access)
}

function uint(method: string, name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number') throw invalidType(method, name, 'of type number', v)
  if (!Number.isInteger(v) || v < 0 || v > max) throw outOfRange(method, name, `an integer >= 0 and <= ${max}`, v)
  return v
}

function optionalUint(method: string, name: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : uint(method, name, v)
}

function str(method: string, name: string, v: unknown): string {
  if (typeof v !== 'string') throw invalidType(method, name, 'of type string', v)
  return v
}

/** A timeout in milliseconds: undefined or Infinity wait for ever (-1 natively). */
function timeoutMs(method: string, v: unknown): number {
  if (v === undefined || v === Infinity) return -1
  if (typeof v !== 'number') throw invalidType(method, 'timeoutMs', 'of type number', v)
  if (!(v >= 0)) throw outOfRange(method, 'timeoutMs', 'a number >= 0 (or Infinity)', v)
  return v
}

function handles(method: string, name: string, list: unknown, check: (v: unknown, i: number) => number): Float64Array {
  if (!Array.isArray(list)) throw invalidType(method, name, 'an instance of Array', list)
  const n = list.length
  if (n > MAX_BATCH) throw outOfRange(method, `${name}.length`, `<= ${MAX_BATCH}`, n)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = check(list[i], i)
  return out
}

// ---------------------------------------------------------------------------
// Garbage collection is only a backstop: close() is the way.
//
// A FinalizationRegistry entry per object would make V8 keep every object
// (and its WeakCell) until a full mark-compact, even once closed and
// unregistered: measured, RSS grew ~25 MB per 100,000 objects in a loop that
// never yields. So objects are registered late: a new object waits in
// `young` (held strongly, with its handle in `youngH`) until the current
// job's microtasks run; close() before then takes it out again in O(1), and
// only objects still open at that point are registered. An object dropped
// without close() is then collected in due course and its handle closed.

const registry = new FinalizationRegistry<number>((h) => {
  A[0] = h
  nativeClose()
})

/** Where an object waits in `young`: its index, or -1 (registered) or -2 (closed). */
const SLOT = Symbol('dmabuf.slot')
type Tracked = object & { [SLOT]: number }
const young: Tracked[] = []
const youngH: number[] = []
let flushQueued = false

function flush(): void {
  flushQueued = false
  for (let i = 0; i < young.length; i++) {
    const o = young[i]
    o[SLOT] = -1
    registry.register(o, youngH[i], o)
  }
  young.length = 0
  youngH.length = 0
}

function own(obj: object, h: number): void {
  const o = obj as Tracked
  o[SLOT] = young.length
  young.push(o)
  youngH.push(h)
  if (!flushQueued) {
    flushQueued = true
    queueMicrotask(flush)
  }
}

/** Stops tracking `obj` (it is being closed). */
function forget(obj: object): void {
  const o = obj as Tracked
  const i = o[SLOT]
  if (i >= 0) {
    const last = young.pop()!
    const lastH = youngH.pop()!
    if (last !== o) {
      young[i] = last
      youngH[i] = lastH
      last[SLOT] = i
    }
  } else if (i === -1) {
    registry.unregister(o)
  }
  o[SLOT] = -2
}

/** `h` if it is live, else `ERR_DMABUF_CLOSED` naming the method. */
function live(h: number, method: string, what: string): number {
  if (h < 0) throw closedError(method, what)
  return h
}

/** What close() does with a handle: releases it if still live; returns the closed marker to store. */
function closeOnce(obj: object, h: number): number {
  if (h >= 0) disown(obj, h)
  return -1
}

function disown(obj: object, h: number): void {
  forget(obj)
  A[0] = h
  nativeClose()
}

// ---------------------------------------------------------------------------

/**
 * A dma-buf: one owned, close-on-exec file descriptor for shared memory.
 *
 * Close it with `close()` (or `using`); garbage collection closes it too,
 * but only eventually.
 */
export class DmaBuf {
  #h: number
  #fd: number
  #size: number

  static #is(x: unknown): x is DmaBuf {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('DmaBuf')
    this.#h = h
    this.#fd = A[OUT]
    this.#size = A[OUT + 1]
    own(this, h)
  }

  /** @internal The native handle, or -1 once closed (CpuAccess.end). */
  static handleOrClosed(b: DmaBuf): number {
    return b.#h
  }

  /** @internal The native handle, for the other classes of this module. */
  static handleOf(b: DmaBuf, method: string, name: string, index?: number): number {
    if (!(b instanceof Object) || !(#h in b)) throw invalidType(method, name, 'an instance of DmaBuf', b)
    return live(b.#h, method, index === undefined ? 'DmaBuf' : `DmaBuf at index ${index} of ${name.replace(/\[.*/, '')}`)
  }

  /**
   * Wraps a dma-buf fd number. The fd is duplicated (F_DUPFD_CLOEXEC): the
   * caller keeps, and must still close, its own. Throws `ENOTTY` when the fd
   * is not a dma-buf, `EBADF` when it is not open.
   */
  static fromFd(fd: number): DmaBuf {
    return new DmaBuf(token, native.bufFromFd(uint('DmaBuf.fromFd', 'fd', fd, 2 ** 31 - 1)))
  }

  /**
   * pidfd_open + pidfd_getfd: a dma-buf taken out of another process (its
   * fd `fd`), which keeps its own. Needs ptrace rights over the process
   * (EPERM otherwise); ENOSYS before Linux 5.6. See `fdFromProcess`.
   */
  static fromProcess(pid: number, fd: number): DmaBuf {
    const x = fdFromProcess(pid, fd)
    if (x instanceof DmaBuf) return x
    x.close()
    throw nodeError(Error, 'ENOTTY', `ENOTTY: fd ${fd} of process ${pid} is not a dma-buf, DmaBuf.fromProcess`)
  }

  /**
   * Exports one SyncFile per buffer (the kmsroots/wlroots batch). All or
   * nothing: on any failure the SyncFiles already made are closed and the
   * error names the buffer's index.
   */
  static exportSyncFiles(buffers: DmaBuf[], access: Access): SyncFile[] {
    const M = 'DmaBuf.exportSyncFiles'
    const hs = handles(M, 'buffers', buffers, (b, i) => DmaBuf.handleOf(b as DmaBuf, M, `buffers[${i}]`, i))
    const bits = accessBits(M, 'access', access)
    const out = native.bufExportSyncFiles(hs, bits)
    const files: SyncFile[] = []
    for (let i = 0; i < out.length; i += 2) files.push(new SyncFile(token, out[i], out[i + 1]))
    return files
  }

  /**
   * Imports one SyncFile into every buffer (the kmsroots/wlroots batch).
   * Every buffer is checked first, so a closed one fails the call before any
   * fence is attached. The SyncFile is only borrowed.
   */
  static importSyncFileAll(buffers: DmaBuf[], syncFile: SyncFile, access: Access): void {
    const M = 'DmaBuf.importSyncFileAll'
    const hs = handles(M, 'buffers', buffers, (b, i) => DmaBuf.handleOf(b as DmaBuf, M, `buffers[${i}]`, i))
    const sf = SyncFile.handleOf(syncFile, M, 'syncFile')
    native.bufImportSyncFileAll(hs, sf, accessBits(M, 'access', access))
  }

  static #open(self: unknown, method: string): number {
    if (!DmaBuf.#is(self)) throw invalidThis(method, 'DmaBuf')
    return live(self.#h, method, 'DmaBuf')
  }

  /** The fd number, or -1 once closed. */
  get fd(): number {
    if (!DmaBuf.#is(this)) throw invalidThis('DmaBuf.fd', 'DmaBuf')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** Size in bytes (0 once closed). */
  get size(): number {
    if (!DmaBuf.#is(this)) throw invalidThis('DmaBuf.size', 'DmaBuf')
    return this.#h < 0 ? 0 : this.#size
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!DmaBuf.#is(this)) throw invalidThis('DmaBuf.closed', 'DmaBuf')
    return this.#h < 0
  }

  /** Size, exporter, name, inode, file count, writability (fstat and /proc/self/fdinfo). */
  info(): Native.DmaBufInfo {
    return native.bufInfo(DmaBuf.#open(this, 'DmaBuf.info'))
  }

  /** DMA_BUF_SET_NAME: names the buffer (at most 31 bytes). */
  setName(name: string): void {
    const h = DmaBuf.#open(this, 'DmaBuf.setName')
    native.bufSetName(h, str('DmaBuf.setName', 'name', name))
  }

  /** A new DmaBuf with its own fd for the same buffer. */
  dup(): DmaBuf {
    return new DmaBuf(token, native.bufDup(DmaBuf.#open(this, 'DmaBuf.dup')))
  }

  /**
   * Closes the fd. CPU accesses still open are ended first. Mappings stay
   * valid until unmapped. Calling it again does nothing.
   */
  close(): void {
    if (!DmaBuf.#is(this)) throw invalidThis('DmaBuf.close', 'DmaBuf')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void

  /**
   * DMA_BUF_IOCTL_SYNC start: begins CPU access. Call `end()` on the result
   * (or declare it with `using`); closing the DmaBuf ends it too.
   */
  beginCpuAccess(access: Access): CpuAccess {
    const h = DmaBuf.#open(this, 'DmaBuf.beginCpuAccess')
    const bits = bitsOf(access)
    if (bits === 0) accessBits('DmaBuf.beginCpuAccess', 'access', access)
    A[0] = h
    A[1] = bits
    nativeSyncStart()
    return new CpuAccess(token, this, bits)
  }

  /**
   * mmap: maps `length` bytes at `offset` (a multiple of the page size;
   * default: to the end). `access` defaults to 'rw' on a read-write fd and
   * 'r' on a read-only one. The Mapping's `buffer` is an ArrayBuffer over the
   * memory itself (no copy).
   */
  map(access?: Access, offset?: number, length?: number): Mapping {
    const M = 'DmaBuf.map'
    const h = DmaBuf.#open(this, M)
    const bits = optionalAccessBits(M, 'access', access, 0)
    const off = optionalUint(M, 'offset', offset, 0)
    const len = length === undefined ? -1 : uint(M, 'length', length)
    if (off >= this.#size) throw outOfRange(M, 'offset', `< the buffer's size (${this.#size})`, off)
    if (len !== -1 && off + len > this.#size) throw outOfRange(M, 'length', `<= ${this.#size - off} (the bytes after offset ${off})`, len)
    return new Mapping(token, native.bufMap(h, bits, off, len))
  }

  /** Copies `length` bytes at `offset` out of the buffer, bracketed by CPU read access. Works where `map()` cannot (Electron). */
  read(offset: number, length: number): Buffer {
    const M = 'DmaBuf.read'
    const h = DmaBuf.#open(this, M)
    return native.bufRead(h, uint(M, 'offset', offset), uint(M, 'length', length))
  }

  /** Copies `data` into the buffer at `offset`, bracketed by CPU write access. */
  write(offset: number, data: Uint8Array): void {
    const M = 'DmaBuf.write'
    const h = DmaBuf.#open(this, M)
    const off = uint(M, 'offset', offset)
    if (!(data instanceof Uint8Array)) throw invalidType(M, 'data', 'an instance of Uint8Array', data)
    native.bufWrite(h, off, data)
  }

  /** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: a SyncFile with the buffer's current fences ('r': what a reader must wait for; 'w'/'rw': everything). */
  exportSyncFile(access: Access): SyncFile {
    const h = DmaBuf.#open(this, 'DmaBuf.exportSyncFile')
    const bits = bitsOf(access)
    if (bits === 0) accessBits('DmaBuf.exportSyncFile', 'access', access)
    A[0] = h
    A[1] = bits
    const sf = nativeExportSyncFile()
    return new SyncFile(token, sf, A[OUT])
  }

  /**
   * DMA_BUF_IOCTL_IMPORT_SYNC_FILE: attaches the SyncFile's fences ('w'/'rw':
   * as a write, 'r': as a read). The SyncFile stays yours: close it when you
   * no longer need it.
   */
  importSyncFile(syncFile: SyncFile, access: Access): void {
    const M = 'DmaBuf.importSyncFile'
    const h = DmaBuf.#open(this, M)
    native.bufImportSyncFile(h, SyncFile.handleOf(syncFile, M, 'syncFile'), accessBits(M, 'access', access))
  }
}
Object.defineProperty(DmaBuf.prototype, Symbol.toStringTag, { value: 'DmaBuf' })

/** CPU access in progress (from `DmaBuf.beginCpuAccess`): a plain object, no native one. */
export class CpuAccess {
  // Two fields, set in the constructor: this object is made on the hottest
  // path there is. `#bits` is the access's DMA_BUF_SYNC_* bits while it is
  // open and 0 once ended; the handle is read from the DmaBuf at end(), so a
  // closed DmaBuf (which ended every access) gives -1 and the native side
  // does nothing.
  #bits: number
  #buf: DmaBuf

  static #is(x: unknown): x is CpuAccess {
    return typeof x === 'object' && x !== null && #bits in x
  }

  /** @internal */
  constructor(key: symbol, buf: DmaBuf, bits: number) {
    if (key !== token) throw illegalConstructor('CpuAccess')
    this.#bits = bits
    this.#buf = buf
  }

  /** The access held: 'r', 'w' or 'rw' (also after `end()`). */
  get access(): Access {
    if (!CpuAccess.#is(this)) throw invalidThis('CpuAccess.access', 'CpuAccess')
    return ACCESS[this.#bits & 3 || this.#bits >> 2]
  }

  /** Whether the access is still open (false after `end()` or the DmaBuf's `close()`). */
  get active(): boolean {
    if (!CpuAccess.#is(this)) throw invalidThis('CpuAccess.active', 'CpuAccess')
    return (this.#bits & 3) !== 0 && !this.#buf.closed
  }

  /**
   * DMA_BUF_IOCTL_SYNC end. Calling it again, or after the DmaBuf was closed
   * (which ended it), does nothing.
   */
  end(): void {
    if (!CpuAccess.#is(this)) throw invalidThis('CpuAccess.end', 'CpuAccess')
    const bits = this.#bits & 3
    if (bits === 0) return
    // Ended: keep the access in bits 2..3 for the `access` getter.
    this.#bits = bits << 2
    A[0] = DmaBuf.handleOrClosed(this.#buf)
    A[1] = bits
    nativeSyncEnd()
  }

  /** The same function as `end()` (installed below). */
  declare [Symbol.dispose]: () => void
}
Object.defineProperty(CpuAccess.prototype, Symbol.toStringTag, { value: 'CpuAccess' })

/**
 * A mapping of a dma-buf. `buffer` is an ArrayBuffer over the mapped memory
 * (made on first use). `unmap()` detaches it (views then have length 0 and
 * never fault) and releases the dma-buf at once; the address range stays
 * reserved, as private zero pages, until the ArrayBuffer is garbage
 * collected, so native code still holding the pointer (Node's thread pool:
 * zlib, fs, crypto) can neither fault nor reach another buffer.
 */
export class Mapping {
  #h: number
  #offset: number
  #length: number
  #bits: number
  #buffer: ArrayBuffer | undefined

  static #is(x: unknown): x is Mapping {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('Mapping')
    this.#h = h
    this.#offset = A[OUT]
    this.#length = A[OUT + 1]
    this.#bits = A[OUT + 2]
    own(this, h)
  }

  /** The mapped memory, with no copy. Detached (byteLength 0) after `unmap()`. */
  get buffer(): ArrayBuffer {
    if (!Mapping.#is(this)) throw invalidThis('Mapping.buffer', 'Mapping')
    this.#buffer ??= native.mapBuffer(live(this.#h, 'Mapping.buffer', 'Mapping')) as ArrayBuffer
    return this.#buffer
  }

  /** Offset of the mapping in the buffer. */
  get offset(): number {
    if (!Mapping.#is(this)) throw invalidThis('Mapping.offset', 'Mapping')
    return this.#offset
  }

  /** Length in bytes. */
  get length(): number {
    if (!Mapping.#is(this)) throw invalidThis('Mapping.length', 'Mapping')
    return this.#length
  }

  /** 'r' or 'rw'. */
  get access(): Access {
    if (!Mapping.#is(this)) throw invalidThis('Mapping.access', 'Mapping')
    return ACCESS[this.#bits]
  }

  /** Whether the memory is still mapped. */
  get mapped(): boolean {
    if (!Mapping.#is(this)) throw invalidThis('Mapping.mapped', 'Mapping')
    return this.#h >= 0
  }

  /** Detaches `buffer` and releases the dma-buf's pages. Calling it again does nothing. */
  unmap(): void {
    if (!Mapping.#is(this)) throw invalidThis('Mapping.unmap', 'Mapping')
    const h = this.#h
    if (h < 0) return
    this.#h = -1
    forget(this)
    A[0] = h
    if (this.#buffer === undefined) nativeClose()
    else nativeUnmap(this.#buffer)
  }

  /** The same function as `unmap()` (installed below). */
  declare [Symbol.dispose]: () => void
}
Object.defineProperty(Mapping.prototype, Symbol.toStringTag, { value: 'Mapping' })

/** Ids of native waits that JavaScript may cancel (each family's cancel function ends only its own). */
let nextWait = 1

/** `signal` checked: undefined or an AbortSignal (else ERR_INVALID_ARG_TYPE) that has not aborted (else an AbortError). */
function liveSignal(M: string, signal: unknown): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(M, 'signal', 'an instance of AbortSignal', signal)
  if (signal?.aborted) throw abortError(M, signal)
  return signal
}

/**
 * Awaits `pending`, a native wait started with `id` that resolves null once
 * `cancel(id)` ran: `signal` aborting runs it, and the wait then rejects
 * with an AbortError. Any other value (null on a timeout too) as it came.
 */
async function abortable<T>(M: string, signal: AbortSignal | undefined, id: number, pending: Promise<T | null>, cancel: (id: number) => void): Promise<T | null> {
  if (signal === undefined) return await pending
  const onAbort = (): void => cancel(id)
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const r = await pending
    if (r === null && signal.aborted) throw abortError(M, signal)
    return r
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

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
    return new SyncFile(token, h, A[OUT])
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
    return new SyncFile(token, h, A[OUT])
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
    return new SyncFile(token, m, A[OUT])
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
    const id = nextWait++ >>> 0
    return (await abortable(M, s, id, native.syncWait(h, t, id), (i) => native.syncCancelWait(i))) === true
  }
}
Object.defineProperty(SyncFile.prototype, Symbol.toStringTag, { value: 'SyncFile' })

const timeoutMsOf = timeoutMs

/** An open /dev/udmabuf: dma-bufs over memfd pages. */
export class Udmabuf {
  #h: number

  static #is(x: unknown): x is Udmabuf {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('Udmabuf')
    this.#h = h
    own(this, h)
  }

  /** Opens /dev/udmabuf (or `path`). Throws ENOENT with a hint about CONFIG_UDMABUF when it does not exist. */
  static open(path?: string): Udmabuf {
    const p = path === undefined ? null : str('Udmabuf.open', 'path', path)
    return new Udmabuf(token, native.udmabufOpen(p))
  }

  static #open(self: unknown, method: string): number {
    if (!Udmabuf.#is(self)) throw invalidThis(method, 'Udmabuf')
    return live(self.#h, method, 'Udmabuf')
  }

  /** A dma-buf of `size` bytes (rounded up to whole pages) over a new memfd. */
  alloc(size: number): DmaBuf {
    const h = Udmabuf.#open(this, 'Udmabuf.alloc')
    return new DmaBuf(token, native.udmabufAlloc(h, uint('Udmabuf.alloc', 'size', size)))
  }

  /**
   * Like `alloc`, and also returns the memfd, whose number is yours to
   * close. Bytes written through either show in the other, as long as the
   * memfd keeps its pages: the dma-buf pins the pages it was made from, so
   * a hole punched in the memfd afterwards (`fallocate` PUNCH_HOLE, by any
   * process that can reach it) gives the memfd new zero pages there while
   * the dma-buf keeps the old bytes.
   */
  allocWithMemfd(size: number): { buffer: DmaBuf; memfd: number } {
    const h = Udmabuf.#open(this, 'Udmabuf.allocWithMemfd')
    const buffer = new DmaBuf(token, native.udmabufAllocWithMemfd(h, uint('Udmabuf.allocWithMemfd', 'size', size)))
    return { buffer, memfd: A[OUT + 2] }
  }

  /** UDMABUF_CREATE over `size` bytes at `offset` of a memfd you own (sealed with F_SEAL_SHRINK; offset and size page-aligned). */
  create(memfd: number, offset: number, size: number): DmaBuf {
    const M = 'Udmabuf.create'
    const h = Udmabuf.#open(this, M)
    const b = native.udmabufCreate(h, uint(M, 'memfd', memfd, 2 ** 31 - 1), uint(M, 'offset', offset), uint(M, 'size', size))
    return new DmaBuf(token, b)
  }

  /** UDMABUF_CREATE_LIST: one dma-buf over several memfd ranges, in order. */
  createList(ranges: MemfdRange[]): DmaBuf {
    const M = 'Udmabuf.createList'
    const h = Udmabuf.#open(this, M)
    if (!Array.isArray(ranges)) throw invalidType(M, 'ranges', 'an instance of Array', ranges)
    const n = ranges.length
    if (n > MAX_BATCH) throw outOfRange(M, 'ranges.length', `<= ${MAX_BATCH}`, n)
    const fds = new Float64Array(n)
    const offsets = new Float64Array(n)
    const sizes = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const r: unknown = ranges[i]
      if (typeof r !== 'object' || r === null) throw invalidType(M, `ranges[${i}]`, 'an object { fd, offset, size }', r)
      const { fd, offset, size } = r as MemfdRange
      fds[i] = uint(M, `ranges[${i}].fd`, fd, 2 ** 31 - 1)
      offsets[i] = uint(M, `ranges[${i}].offset`, offset)
      sizes[i] = uint(M, `ranges[${i}].size`, size)
    }
    return new DmaBuf(token, native.udmabufCreateList(h, fds, offsets, sizes))
  }

  /** Closes the device fd (buffers made from it live on). */
  close(): void {
    if (!Udmabuf.#is(this)) throw invalidThis('Udmabuf.close', 'Udmabuf')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A memfd range for `Udmabuf.createList`. */
export interface MemfdRange {
  /** The memfd's fd number (borrowed). */
  fd: number
  /** Byte offset (page-aligned). */
  offset: number
  /** Length (page-aligned, non-zero). */
  size: number
}

/** Allocates a dma-buf of `size` bytes (rounded up to whole pages) from /dev/udmabuf, backed by a new sealed memfd. */
export function createUdmabuf(size: number): DmaBuf {
  return new DmaBuf(token, native.createUdmabuf(uint('createUdmabuf', 'size', size)))
}

/** Names of the dma-heaps in /dev/dma_heap (empty when there are none). */
export function listHeaps(): string[] {
  return native.listHeaps()
}

/** Probes heaps, udmabuf, DRM nodes and the dma-buf ioctls of this kernel. */
export function capabilities(): Native.Capabilities {
  return native.capabilities()
}

/** An open dma-heap. */
export class Heap {
  #h: number
  #name: string

  static #is(x: unknown): x is Heap {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, name: string) {
    if (key !== token) throw illegalConstructor('Heap')
    this.#h = h
    this.#name = name
    own(this, h)
  }

  /** Opens /dev/dma_heap/`name`. Throws ENOENT listing the heaps that exist, or EACCES naming the node. */
  static open(name: string): Heap {
    const n = str('Heap.open', 'name', name)
    return new Heap(token, native.heapOpen(n), n)
  }

  /** The heap's name. */
  get name(): string {
    if (!Heap.#is(this)) throw invalidThis('Heap.name', 'Heap')
    return this.#name
  }

  /** DMA_HEAP_IOCTL_ALLOC: at least `size` bytes (rounded up to pages; see `DmaBuf.size`). `access` 'r' gives a read-only fd; default 'rw'. */
  alloc(size: number, access?: Access): DmaBuf {
    const M = 'Heap.alloc'
    if (!Heap.#is(this)) throw invalidThis(M, 'Heap')
    return new DmaBuf(token, native.heapAlloc(live(this.#h, M, 'Heap'), uint(M, 'size', size), optionalAccessBits(M, 'access', access, 3)))
  }

  /** Closes the heap's fd (buffers live on). */
  close(): void {
    if (!Heap.#is(this)) throw invalidThis('Heap.close', 'Heap')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A counted GEM handle of a DrmDevice; the kernel handle is closed when the last GemHandle for it is closed. */
export class GemHandle {
  #h: number
  #raw: number

  static #is(x: unknown): x is GemHandle {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, raw: number) {
    if (key !== token) throw illegalConstructor('GemHandle')
    this.#h = h
    this.#raw = raw
    own(this, h)
  }

  /** @internal */
  static handleOf(g: GemHandle, method: string): number {
    if (!(g instanceof Object) || !(#h in g)) throw invalidType(method, 'handle', 'an instance of GemHandle', g)
    return live(g.#h, method, 'GemHandle')
  }

  /** The kernel's handle number (0 once closed). */
  get handle(): number {
    if (!GemHandle.#is(this)) throw invalidThis('GemHandle.handle', 'GemHandle')
    return this.#h < 0 ? 0 : this.#raw
  }

  /** Drops this reference. Calling it again does nothing. */
  close(): void {
    if (!GemHandle.#is(this)) throw invalidThis('GemHandle.close', 'GemHandle')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** An open DRM device node. */
export class DrmDevice {
  #h: number

  static #is(x: unknown): x is DrmDevice {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('DrmDevice')
    this.#h = h
    own(this, h)
  }

  /** Opens a DRM node by path (/dev/dri/card0, /dev/dri/renderD128, ...). */
  static open(path: string): DrmDevice {
    return new DrmDevice(token, native.drmOpen(str('DrmDevice.open', 'path', path)))
  }

  /** Opens the first node whose driver is `driver` ('vgem', 'i915', ...); `primary` prefers card* nodes (dumb buffers need one). */
  static openDriver(driver: string, primary?: boolean): DrmDevice {
    const M = 'DrmDevice.openDriver'
    if (primary !== undefined && typeof primary !== 'boolean') throw invalidType(M, 'primary', 'of type boolean', primary)
    return new DrmDevice(token, native.drmOpenDriver(str(M, 'driver', driver), primary === true))
  }

  /** Paths of the DRM nodes in /dev/dri. */
  static list(): string[] {
    return native.drmList()
  }

  static #open(self: unknown, method: string): number {
    if (!DrmDevice.#is(self)) throw invalidThis(method, 'DrmDevice')
    return live(self.#h, method, 'DrmDevice')
  }

  /** DRM_IOCTL_VERSION: the driver's name. */
  driverName(): string {
    return native.drmDriverName(DrmDevice.#open(this, 'DrmDevice.driverName'))
  }

  /** DRM_IOCTL_MODE_CREATE_DUMB: `{ handle, pitch, size }`. */
  createDumb(width: number, height: number, bpp: number): { handle: GemHandle; pitch: number; size: number } {
    const M = 'DrmDevice.createDumb'
    const h = DrmDevice.#open(this, M)
    const max = 2 ** 32 - 1
    const g = native.drmCreateDumb(h, uint(M, 'width', width, max), uint(M, 'height', height, max), uint(M, 'bpp', bpp, max))
    const raw = A[OUT]
    const pitch = A[OUT + 1]
    const size = A[OUT + 2]
    return { handle: new GemHandle(token, g, raw), pitch, size }
  }

  /** DRM_IOCTL_PRIME_HANDLE_TO_FD: the GEM object as a DmaBuf. */
  export(handle: GemHandle, access?: Access): DmaBuf {
    const M = 'DrmDevice.export'
    const h = DrmDevice.#open(this, M)
    return new DmaBuf(token, native.drmExport(h, GemHandle.handleOf(handle, M), optionalAccessBits(M, 'access', access, 3)))
  }

  /** DRM_IOCTL_PRIME_FD_TO_HANDLE: a counted GemHandle for the DmaBuf. */
  import(buffer: DmaBuf): GemHandle {
    const M = 'DrmDevice.import'
    const h = DrmDevice.#open(this, M)
    const g = native.drmImport(h, DmaBuf.handleOf(buffer, M, 'buffer'))
    return new GemHandle(token, g, A[OUT])
  }

  /** How many GemHandles are open for a kernel handle number. */
  handleUsers(handle: number): number {
    const M = 'DrmDevice.handleUsers'
    return native.drmHandleUsers(DrmDevice.#open(this, M), uint(M, 'handle', handle, 2 ** 32 - 1))
  }

  /** DRM_IOCTL_VGEM_FENCE_ATTACH (vgem): an unsignalled fence on the buffer, as a writer unless `write` is false. Returns the fence id. */
  vgemFenceAttach(handle: GemHandle, write?: boolean): number {
    const M = 'DrmDevice.vgemFenceAttach'
    const h = DrmDevice.#open(this, M)
    if (write !== undefined && typeof write !== 'boolean') throw invalidType(M, 'write', 'of type boolean', write)
    return native.drmVgemFenceAttach(h, GemHandle.handleOf(handle, M), write === false ? 1 : 2)
  }

  /** DRM_IOCTL_VGEM_FENCE_SIGNAL (vgem). */
  vgemFenceSignal(fence: number): void {
    const M = 'DrmDevice.vgemFenceSignal'
    native.drmVgemFenceSignal(DrmDevice.#open(this, M), uint(M, 'fence', fence, 2 ** 32 - 1))
  }

  /** Closes this reference to the device (GemHandles keep it open until closed). */
  close(): void {
    if (!DrmDevice.#is(this)) throw invalidThis('DrmDevice.close', 'DrmDevice')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [Udmabuf, Heap, GemHandle, DrmDevice]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
}

// `using x = ...` and `x[Symbol.dispose]()` are the very same function as
// close() / end() / unmap().
for (const [C, method] of [
  [DmaBuf, 'close'],
  [CpuAccess, 'end'],
  [Mapping, 'unmap'],
  [SyncFile, 'close'],
  [Udmabuf, 'close'],
  [Heap, 'close'],
  [GemHandle, 'close'],
  [DrmDevice, 'close'],
] as const) {
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto[method], writable: true, configurable: true })
}

// ---------------------------------------------------------------------------
// Vulkan interop (crates/dmabuf/src/vulkan.rs): device memory exported as
// dma-bufs, dma-bufs imported into Vulkan buffers and images, semaphores and
// fences as SyncFiles. The Vulkan loader is opened on demand: nothing here
// runs until Vulkan.open() or Vulkan.available() is called.

/** An external memory handle type: a Linux dma-buf, or an fd only the same Vulkan driver can import. */
export type VulkanHandleType = 'dma-buf' | 'opaque-fd'
/** DRM fourcc codes of the image formats the binding knows ('AR24' is B8G8R8A8_UNORM, 'NV12' two planes). */
export type VulkanFormat = 'AR24' | 'XR24' | 'AB24' | 'XB24' | 'R8' | 'GR88' | 'RG16' | 'NV12'
export type { VulkanCapabilities, VulkanHandleSupport, VulkanSyncFdSupport, VulkanModifier, VulkanImageLayout, VulkanPlane } from './native'

/** `DRM_FORMAT_MOD_LINEAR`: rows one after the other, `pitch` bytes apart. */
export const DRM_FORMAT_MOD_LINEAR = 0n
/** `DRM_FORMAT_MOD_INVALID`, the implicit modifier: never LINEAR, and refused by image import and export. */
export const DRM_FORMAT_MOD_INVALID = 0xffffffffffffffn

/** Options of `Vulkan.open`. */
export interface VulkanOpenOptions {
  /** A physical device: part of its name ('llvmpipe', 'NVIDIA'), or its index. Default: the first with VK_KHR_external_memory_fd. */
  device?: string | number
}

/** Options of `Vulkan.createBuffer` / `exportBuffer`. */
export interface VulkanBufferOptions {
  /** How the memory can be exported: 'dma-buf', the only handle type TypeScript exports (opaque fds are Rust's: `Buffer::export_opaque_fd`). */
  export?: 'dma-buf'
  /** true: host-visible memory only; false: device-only memory only; default: either. */
  hostVisible?: boolean
}

/** Options of `Vulkan.importBuffer`. */
export interface VulkanImportOptions {
  /** The buffer's size (default: the dma-buf's). */
  size?: number
  /** As in VulkanBufferOptions. */
  hostVisible?: boolean
}

/** What `Vulkan.createImage` makes. */
export interface VulkanImageOptions {
  width: number
  height: number
  format: VulkanFormat
  /** Modifiers the driver may choose from (default [DRM_FORMAT_MOD_LINEAR]). */
  modifiers?: bigint[]
  hostVisible?: boolean
}

/** How `Vulkan.importImage` reads a dma-buf: a modifier and one { offset, pitch } per memory plane. */
export interface VulkanImageImport {
  width: number
  height: number
  format: VulkanFormat
  modifier: bigint
  planes: Array<{ offset: number; pitch: number }>
  hostVisible?: boolean
}

const VK_FORMATS: readonly string[] = ['AR24', 'XR24', 'AB24', 'XB24', 'R8', 'GR88', 'RG16', 'NV12']

function vkFormat(method: string, name: string, v: unknown): VulkanFormat {
  if (typeof v !== 'string') throw invalidType(method, name, 'of type string', v)
  if (!VK_FORMATS.includes(v)) throw invalidValue(method, name, `must be one of ${VK_FORMATS.map((f) => `'${f}'`).join(', ')}. Received ${JSON.stringify(v)}`)
  return v as VulkanFormat
}

function vkOptions(method: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {}
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidType(method, 'options', 'of type object', v)
  return v as Record<string, unknown>
}

function vkHostVisible(method: string, v: unknown): number {
  if (v === undefined) return -1
  if (typeof v !== 'boolean') throw invalidType(method, 'options.hostVisible', 'of type boolean', v)
  return v ? 1 : 0
}

function vkModifier(method: string, name: string, v: unknown): bigint {
  if (typeof v !== 'bigint') throw invalidType(method, name, 'of type bigint', v)
  if (v < 0n || v >= 1n << 64n) throw outOfRange(method, name, '>= 0n and < 2n ** 64n', v)
  return v
}

function vkMemberHandle(method: string, name: string, v: unknown, cls: { handleOf(x: unknown, m: string, n: string): number }): number {
  return cls.handleOf(v, method, name)
}

/**
 * A Vulkan device ready for dma-buf interop (one queue, the external memory
 * and sync-fd extensions the device has). Buffers, images, semaphores and
 * fences made from it keep the device alive after `close()`.
 *
 * Ownership: `exportBuffer`/`exportDmaBuf` return a new DmaBuf that is yours;
 * `importBuffer`/`importImage` **consume** the DmaBuf they are given (it reads
 * as closed afterwards; Vulkan holds the memory) unless they throw, in which
 * case it is untouched and still yours.
 */
export class Vulkan {
  #h: number
  #name: string

  static #is(x: unknown): x is Vulkan {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, name: string) {
    if (key !== token) throw illegalConstructor('Vulkan')
    this.#h = h
    this.#name = name
    own(this, h)
  }

  /** Whether a Vulkan loader and a device with VK_KHR_external_memory_fd exist (opens and closes one). */
  static available(): boolean {
    return native.vkAvailable()
  }

  /** Loads Vulkan and creates a device. Throws ENOENT when no Vulkan loader is installed, ENODEV when no device matches. */
  static open(options?: VulkanOpenOptions): Vulkan {
    const M = 'Vulkan.open'
    const o = vkOptions(M, options)
    const dev = o.device
    let h: number
    if (dev === undefined) h = native.vkOpen(null, null)
    else if (typeof dev === 'string') h = native.vkOpen(dev, null)
    else h = native.vkOpen(null, uint(M, 'options.device', dev, 2 ** 32 - 1))
    const v = new Vulkan(token, h, '')
    v.#name = native.vkCapabilities(h).deviceName
    return v
  }

  /** @internal */
  static handleOf(v: unknown, method: string, name: string): number {
    if (!Vulkan.#is(v)) throw invalidType(method, name, 'an instance of Vulkan', v)
    return live(v.#h, method, 'Vulkan')
  }

  static #open(self: unknown, method: string): number {
    if (!Vulkan.#is(self)) throw invalidThis(method, 'Vulkan')
    return live(self.#h, method, 'Vulkan')
  }

  /** The physical device's name ('llvmpipe (LLVM 15.0.6, 256 bits)', 'NVIDIA H200'). */
  get deviceName(): string {
    if (!Vulkan.#is(this)) throw invalidThis('Vulkan.deviceName', 'Vulkan')
    return this.#name
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!Vulkan.#is(this)) throw invalidThis('Vulkan.closed', 'Vulkan')
    return this.#h < 0
  }

  /** Handle types exported and imported, for buffers and images separately; SYNC_FD for semaphores and fences; the extensions enabled and missing. */
  capabilities(): Native.VulkanCapabilities {
    return native.vkCapabilities(Vulkan.#open(this, 'Vulkan.capabilities'))
  }

  /** The DRM format modifiers the device supports for 2D transfer images of `format` as dma-bufs, with plane counts and largest extents. */
  modifiers(format: VulkanFormat): Native.VulkanModifier[] {
    const M = 'Vulkan.modifiers'
    return native.vkModifiers(Vulkan.#open(this, M), vkFormat(M, 'format', format))
  }

  /** A buffer of `size` bytes whose memory can be exported (vkAllocateMemory with VkExportMemoryAllocateInfo). */
  createBuffer(size: number, options?: VulkanBufferOptions): VulkanBuffer {
    const M = 'Vulkan.createBuffer'
    const h = Vulkan.#open(this, M)
    const n = uint(M, 'size', size)
    const o = vkOptions(M, options)
    const ex = o.export
    if (ex !== undefined && ex !== 'dma-buf') {
      if (typeof ex !== 'string') throw invalidType(M, 'options.export', 'of type string', ex)
      throw invalidValue(M, 'options.export', `must be 'dma-buf' (opaque fds are exported from Rust only). Received ${JSON.stringify(ex)}`)
    }
    const b = native.vkCreateBuffer(h, n, false, vkHostVisible(M, o.hostVisible))
    return new VulkanBuffer(token, b)
  }

  /** Vulkan memory of `size` bytes exported as a new DmaBuf (yours); the Vulkan side is released at once (the dma-buf keeps the memory). */
  exportBuffer(size: number, options?: VulkanBufferOptions): DmaBuf {
    const M = 'Vulkan.exportBuffer'
    const h = Vulkan.#open(this, M)
    const n = uint(M, 'size', size)
    const o = vkOptions(M, options)
    if (o.export !== undefined && o.export !== 'dma-buf') throw invalidValue(M, 'options.export', `must be 'dma-buf' or absent: exportBuffer returns a DmaBuf. Received ${describe(o.export)}`)
    const b = native.vkCreateBuffer(h, n, true, vkHostVisible(M, o.hostVisible))
    try {
      return new DmaBuf(token, native.vkBufferExport(b))
    } finally {
      A[0] = b
      nativeClose()
    }
  }

  /**
   * Imports a dma-buf as a buffer's memory. **Consumes `dmabuf`**: on success
   * it reads as closed (Vulkan holds the memory until the VulkanBuffer is
   * closed); on failure it is untouched and still yours.
   */
  importBuffer(dmabuf: DmaBuf, options?: VulkanImportOptions): VulkanBuffer {
    const M = 'Vulkan.importBuffer'
    const h = Vulkan.#open(this, M)
    const bh = DmaBuf.handleOf(dmabuf, M, 'dmabuf')
    const o = vkOptions(M, options)
    const size = o.size === undefined ? -1 : uint(M, 'options.size', o.size)
    const b = native.vkImportBuffer(h, bh, size, vkHostVisible(M, o.hostVisible))
    const out = new VulkanBuffer(token, b)
    dmabuf.close()
    return out
  }

  /** A 2D image with a DRM format modifier the driver picks from `modifiers`, its memory exportable as a dma-buf. */
  createImage(options: VulkanImageOptions): VulkanImage {
    const M = 'Vulkan.createImage'
    const h = Vulkan.#open(this, M)
    if (typeof options !== 'object' || options === null) throw invalidType(M, 'options', 'of type object', options)
    const w = uint(M, 'options.width', options.width, 2 ** 32 - 1)
    const ht = uint(M, 'options.height', options.height, 2 ** 32 - 1)
    const f = vkFormat(M, 'options.format', options.format)
    let mods: bigint[] = [DRM_FORMAT_MOD_LINEAR]
    if (options.modifiers !== undefined) {
      if (!Array.isArray(options.modifiers)) throw invalidType(M, 'options.modifiers', 'an instance of Array', options.modifiers)
      if (options.modifiers.length > 64) throw outOfRange(M, 'options.modifiers.length', '<= 64', options.modifiers.length)
      mods = options.modifiers.map((m, i) => vkModifier(M, `options.modifiers[${i}]`, m))
    }
    const i = native.vkCreateImage(h, w, ht, f, mods, vkHostVisible(M, options.hostVisible))
    return new VulkanImage(token, i, w, ht, f)
  }

  /**
   * Imports a dma-buf as a 2D image with an explicit modifier and plane
   * layout (checked before vkCreateImage). **Consumes `dmabuf`** on success,
   * as `importBuffer`.
   */
  importImage(dmabuf: DmaBuf, options: VulkanImageImport): VulkanImage {
    const M = 'Vulkan.importImage'
    const h = Vulkan.#open(this, M)
    const bh = DmaBuf.handleOf(dmabuf, M, 'dmabuf')
    if (typeof options !== 'object' || options === null) throw invalidType(M, 'options', 'of type object', options)
    const w = uint(M, 'options.width', options.width, 2 ** 32 - 1)
    const ht = uint(M, 'options.height', options.height, 2 ** 32 - 1)
    const f = vkFormat(M, 'options.format', options.format)
    const mod = vkModifier(M, 'options.modifier', options.modifier)
    const planes: unknown = options.planes
    if (!Array.isArray(planes)) throw invalidType(M, 'options.planes', 'an instance of Array', planes)
    if (planes.length < 1 || planes.length > 4) throw outOfRange(M, 'options.planes.length', '>= 1 and <= 4', planes.length)
    const offsets = new Float64Array(planes.length)
    const pitches = new Float64Array(planes.length)
    for (let i = 0; i < planes.length; i++) {
      const p: unknown = planes[i]
      if (typeof p !== 'object' || p === null) throw invalidType(M, `options.planes[${i}]`, 'an object { offset, pitch }', p)
      offsets[i] = uint(M, `options.planes[${i}].offset`, (p as { offset: unknown }).offset)
      pitches[i] = uint(M, `options.planes[${i}].pitch`, (p as { pitch: unknown }).pitch)
    }
    const img = native.vkImportImage(h, bh, w, ht, f, mod, offsets, pitches, vkHostVisible(M, options.hostVisible))
    const out = new VulkanImage(token, img, w, ht, f)
    dmabuf.close()
    return out
  }

  /** vkCmdFillBuffer: `value` (a 32-bit word, little-endian) into `[offset, offset + size)` of `buffer` (default: all of it), on the device; returns once done. */
  fill(buffer: VulkanBuffer, value: number, offset?: number, size?: number): void {
    const M = 'Vulkan.fill'
    const h = Vulkan.#open(this, M)
    const b = vkMemberHandle(M, 'buffer', buffer, VulkanBuffer)
    const v = uint(M, 'value', value, 2 ** 32 - 1)
    const off = optionalUint(M, 'offset', offset, 0)
    const n = size === undefined ? buffer.size - off : uint(M, 'size', size)
    native.vkFill(h, b, off, n, v)
  }

  /** vkCmdCopyBuffer: `size` bytes (default: all of `src`) from `src` to `dst`, on the device; returns once done. */
  copy(src: VulkanBuffer, dst: VulkanBuffer, size?: number, srcOffset?: number, dstOffset?: number): void {
    const M = 'Vulkan.copy'
    const h = Vulkan.#open(this, M)
    const s = vkMemberHandle(M, 'src', src, VulkanBuffer)
    const d = vkMemberHandle(M, 'dst', dst, VulkanBuffer)
    const so = optionalUint(M, 'srcOffset', srcOffset, 0)
    const dof = optionalUint(M, 'dstOffset', dstOffset, 0)
    const n = size === undefined ? src.size - so : uint(M, 'size', size)
    native.vkCopy(h, s, so, d, dof, n)
  }

  /** vkCmdCopyBufferToImage: tightly packed rows of `src` into all of the single-plane image `dst`; returns once done. */
  copyBufferToImage(src: VulkanBuffer, dst: VulkanImage): void {
    const M = 'Vulkan.copyBufferToImage'
    const h = Vulkan.#open(this, M)
    native.vkCopyToImage(h, vkMemberHandle(M, 'src', src, VulkanBuffer), vkMemberHandle(M, 'dst', dst, VulkanImage))
  }

  /** A binary semaphore exportable as a SyncFile (VK_KHR_external_semaphore_fd). */
  createSemaphore(): VulkanSemaphore {
    return new VulkanSemaphore(token, native.vkCreateSemaphore(Vulkan.#open(this, 'Vulkan.createSemaphore')))
  }

  /** An unsignalled fence exportable as a SyncFile (VK_KHR_external_fence_fd). */
  createFence(): VulkanFence {
    return new VulkanFence(token, native.vkCreateFence(Vulkan.#open(this, 'Vulkan.createFence')))
  }

  /** vkQueueSubmit of an empty batch: waits on `wait` (their payloads are consumed), then signals `signal` and `fence`. */
  submit(options: { wait?: VulkanSemaphore[]; signal?: VulkanSemaphore[]; fence?: VulkanFence }): void {
    const M = 'Vulkan.submit'
    const h = Vulkan.#open(this, M)
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(M, 'options', 'of type object', options)
    const list = (name: 'wait' | 'signal'): Float64Array =>
      options[name] === undefined
        ? new Float64Array(0)
        : handles(M, `options.${name}`, options[name], (s, i) => vkMemberHandle(M, `options.${name}[${i}]`, s, VulkanSemaphore))
    const w = list('wait')
    const s = list('signal')
    const f = options.fence === undefined ? -1 : vkMemberHandle(M, 'options.fence', options.fence, VulkanFence)
    native.vkSubmit(h, w, s, f)
  }

  /** Releases this reference to the device (objects made from it keep it alive until they are closed). */
  close(): void {
    if (!Vulkan.#is(this)) throw invalidThis('Vulkan.close', 'Vulkan')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A Vulkan buffer and its memory (allocated exportable, or imported from a dma-buf, which it then owns). */
export class VulkanBuffer {
  #h: number
  #size: number
  #hostVisible: boolean

  static #is(x: unknown): x is VulkanBuffer {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('VulkanBuffer')
    this.#h = h
    this.#size = A[OUT]
    this.#hostVisible = A[OUT + 1] === 1
    own(this, h)
  }

  /** @internal */
  static handleOf(v: unknown, method: string, name: string): number {
    if (!VulkanBuffer.#is(v)) throw invalidType(method, name, 'an instance of VulkanBuffer', v)
    return live(v.#h, method, 'VulkanBuffer')
  }

  /** Size in bytes. */
  get size(): number {
    if (!VulkanBuffer.#is(this)) throw invalidThis('VulkanBuffer.size', 'VulkanBuffer')
    return this.#size
  }

  /** Whether its memory is host-visible. */
  get hostVisible(): boolean {
    if (!VulkanBuffer.#is(this)) throw invalidThis('VulkanBuffer.hostVisible', 'VulkanBuffer')
    return this.#hostVisible
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!VulkanBuffer.#is(this)) throw invalidThis('VulkanBuffer.closed', 'VulkanBuffer')
    return this.#h < 0
  }

  /** vkGetMemoryFdKHR(DMA_BUF): a new DmaBuf for this memory, yours to close. Only for buffers created with export 'dma-buf'. */
  exportDmaBuf(): DmaBuf {
    const M = 'VulkanBuffer.exportDmaBuf'
    if (!VulkanBuffer.#is(this)) throw invalidThis(M, 'VulkanBuffer')
    return new DmaBuf(token, native.vkBufferExport(live(this.#h, M, 'VulkanBuffer')))
  }

  /** vkDestroyBuffer + vkFreeMemory (dma-bufs exported from it stay valid). */
  close(): void {
    if (!VulkanBuffer.#is(this)) throw invalidThis('VulkanBuffer.close', 'VulkanBuffer')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A 2D Vulkan image with a DRM format modifier, and its memory. */
export class VulkanImage {
  #h: number
  #width: number
  #height: number
  #format: VulkanFormat

  static #is(x: unknown): x is VulkanImage {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, width: number, height: number, format: VulkanFormat) {
    if (key !== token) throw illegalConstructor('VulkanImage')
    this.#h = h
    this.#width = width
    this.#height = height
    this.#format = format
    own(this, h)
  }

  /** @internal */
  static handleOf(v: unknown, method: string, name: string): number {
    if (!VulkanImage.#is(v)) throw invalidType(method, name, 'an instance of VulkanImage', v)
    return live(v.#h, method, 'VulkanImage')
  }

  /** Width in pixels. */
  get width(): number {
    if (!VulkanImage.#is(this)) throw invalidThis('VulkanImage.width', 'VulkanImage')
    return this.#width
  }

  /** Height in pixels. */
  get height(): number {
    if (!VulkanImage.#is(this)) throw invalidThis('VulkanImage.height', 'VulkanImage')
    return this.#height
  }

  /** The DRM fourcc. */
  get format(): VulkanFormat {
    if (!VulkanImage.#is(this)) throw invalidThis('VulkanImage.format', 'VulkanImage')
    return this.#format
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!VulkanImage.#is(this)) throw invalidThis('VulkanImage.closed', 'VulkanImage')
    return this.#h < 0
  }

  /** The modifier and the offset and pitch of each memory plane (as the driver laid an exported image out). */
  layout(): Native.VulkanImageLayout {
    const M = 'VulkanImage.layout'
    if (!VulkanImage.#is(this)) throw invalidThis(M, 'VulkanImage')
    return native.vkImageLayout(live(this.#h, M, 'VulkanImage'))
  }

  /** vkGetMemoryFdKHR(DMA_BUF) of an image made by createImage: a new DmaBuf, yours, laid out as `layout()` says. */
  exportDmaBuf(): DmaBuf {
    const M = 'VulkanImage.exportDmaBuf'
    if (!VulkanImage.#is(this)) throw invalidThis(M, 'VulkanImage')
    return new DmaBuf(token, native.vkImageExport(live(this.#h, M, 'VulkanImage')))
  }

  /** vkDestroyImage + vkFreeMemory. */
  close(): void {
    if (!VulkanImage.#is(this)) throw invalidThis('VulkanImage.close', 'VulkanImage')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

function vkSyncFileOrNull(method: string, sf: unknown): number {
  return sf === null ? -1 : SyncFile.handleOf(sf as SyncFile, method, 'syncFile')
}

/** A binary semaphore exportable as (and importable from) a SyncFile. */
export class VulkanSemaphore {
  #h: number

  static #is(x: unknown): x is VulkanSemaphore {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('VulkanSemaphore')
    this.#h = h
    own(this, h)
  }

  /** @internal */
  static handleOf(v: unknown, method: string, name: string): number {
    if (!VulkanSemaphore.#is(v)) throw invalidType(method, name, 'an instance of VulkanSemaphore', v)
    return live(v.#h, method, 'VulkanSemaphore')
  }

  static #open(self: unknown, method: string): number {
    if (!VulkanSemaphore.#is(self)) throw invalidThis(method, 'VulkanSemaphore')
    return live(self.#h, method, 'VulkanSemaphore')
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!VulkanSemaphore.#is(this)) throw invalidThis('VulkanSemaphore.closed', 'VulkanSemaphore')
    return this.#h < 0
  }

  /**
   * vkGetSemaphoreFdKHR(SYNC_FD): the pending signal (submitted with
   * `Vulkan.submit({ signal })`) as a new SyncFile, yours; null when the
   * driver says it already signalled (fd -1). The export consumes the payload.
   */
  exportSyncFile(): SyncFile | null {
    const h = native.vkSemaphoreExport(VulkanSemaphore.#open(this, 'VulkanSemaphore.exportSyncFile'))
    return h === -1 ? null : new SyncFile(token, h, A[OUT])
  }

  /** vkImportSemaphoreFdKHR(SYNC_FD, temporary): the next wait on it waits for `syncFile` (null: signalled). Vulkan takes a duplicate: the SyncFile stays yours. */
  importSyncFile(syncFile: SyncFile | null): void {
    const M = 'VulkanSemaphore.importSyncFile'
    native.vkSemaphoreImport(VulkanSemaphore.#open(this, M), vkSyncFileOrNull(M, syncFile))
  }

  /** vkDestroySemaphore (after the queue is idle). */
  close(): void {
    if (!VulkanSemaphore.#is(this)) throw invalidThis('VulkanSemaphore.close', 'VulkanSemaphore')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A fence exportable as (and importable from) a SyncFile. */
export class VulkanFence {
  #h: number

  static #is(x: unknown): x is VulkanFence {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('VulkanFence')
    this.#h = h
    own(this, h)
  }

  /** @internal */
  static handleOf(v: unknown, method: string, name: string): number {
    if (!VulkanFence.#is(v)) throw invalidType(method, name, 'an instance of VulkanFence', v)
    return live(v.#h, method, 'VulkanFence')
  }

  static #open(self: unknown, method: string): number {
    if (!VulkanFence.#is(self)) throw invalidThis(method, 'VulkanFence')
    return live(self.#h, method, 'VulkanFence')
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!VulkanFence.#is(this)) throw invalidThis('VulkanFence.closed', 'VulkanFence')
    return this.#h < 0
  }

  /** vkGetFenceFdKHR(SYNC_FD): the fence's signal as a new SyncFile, yours; null when already signalled (fd -1). */
  exportSyncFile(): SyncFile | null {
    const h = native.vkFenceExport(VulkanFence.#open(this, 'VulkanFence.exportSyncFile'))
    return h === -1 ? null : new SyncFile(token, h, A[OUT])
  }

  /** vkImportFenceFdKHR(SYNC_FD, temporary): the fence signals when `syncFile` does (null: at once). The SyncFile stays yours. */
  importSyncFile(syncFile: SyncFile | null): void {
    const M = 'VulkanFence.importSyncFile'
    native.vkFenceImport(VulkanFence.#open(this, M), vkSyncFileOrNull(M, syncFile))
  }

  /** vkWaitForFences, blocking this thread: true once signalled, false after `timeoutMs` (default: for ever). */
  wait(timeoutMs?: number): boolean {
    const M = 'VulkanFence.wait'
    const h = VulkanFence.#open(this, M)
    const t = timeoutMs === undefined || timeoutMs === Infinity ? -1 : uint(M, 'timeoutMs', timeoutMs, 2 ** 52)
    return native.vkFenceWait(h, t)
  }

  /** vkResetFences. */
  reset(): void {
    native.vkFenceReset(VulkanFence.#open(this, 'VulkanFence.reset'))
  }

  /** vkDestroyFence (after the queue is idle). */
  close(): void {
    if (!VulkanFence.#is(this)) throw invalidThis('VulkanFence.close', 'VulkanFence')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [Vulkan, VulkanBuffer, VulkanImage, VulkanSemaphore, VulkanFence]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}


// ---------------------------------------------------------------------------
// Passing fds between processes (crates/dmabuf/src/fdpass.rs) and the /proc
// inspection (crates/dmabuf/src/inspect.rs).

export type { Inspection, InspectBuffer, InspectHolder, InspectProcess, InspectExporter, InspectUnreadable } from './native'

/** The kind of Unix socket a Channel uses. */
export type SocketType = 'stream' | 'seqpacket'

/** The most fds one message may carry (the kernel's SCM_MAX_FD). */
export const MAX_FDS = 253
/** The largest header, in bytes of its JSON text. */
export const MAX_HEADER = 65536

/** What a message may carry. */
export type Passable = DmaBuf | SyncFile | PassedFd

/** A received message: the header as the sender gave it, and the fds, owned by the receiver. */
export interface Message<H = unknown> {
  header: H
  fds: Passable[]
}

/** An fd that arrived in a message (or from another process) and is neither a dma-buf nor a sync_file. */
export class PassedFd {
  #h: number
  #fd: number

  static #is(x: unknown): x is PassedFd {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number) {
    if (key !== token) throw illegalConstructor('PassedFd')
    this.#h = h
    this.#fd = fd
    own(this, h)
  }

  /** @internal */
  static handleOf(x: PassedFd): number {
    return live(x.#h, 'Channel.send', 'PassedFd')
  }

  /** The fd number (usable with `fs` while open), or -1 once closed. */
  get fd(): number {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.fd', 'PassedFd')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.closed', 'PassedFd')
    return this.#h < 0
  }

  /** A new PassedFd with its own fd for the same open file. */
  dup(): PassedFd {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.dup', 'PassedFd')
    const h = native.passedFdDup(live(this.#h, 'PassedFd.dup', 'PassedFd'))
    return new PassedFd(token, h, A[OUT])
  }

  /** Closes the fd. Calling it again does nothing. */
  close(): void {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.close', 'PassedFd')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** Wraps what the native layer stored: kind 0 a DmaBuf, 1 a SyncFile, 2 a PassedFd. */
function passed(kind: number, h: number, fd: number, size: number): Passable {
  if (kind === 0) {
    A[OUT] = fd
    A[OUT + 1] = size
    return new DmaBuf(token, h)
  }
  if (kind === 1) return new SyncFile(token, h, fd)
  return new PassedFd(token, h, fd)
}

/**
 * pidfd_open + pidfd_getfd: a duplicate, in this process, of fd `fd` of
 * process `pid` (which keeps its own), as a DmaBuf, a SyncFile or a
 * PassedFd. The kernel allows it where ptrace would be: EPERM otherwise,
 * ESRCH for no such process, EBADF for no such fd, ENOSYS before Linux 5.6.
 */
export function fdFromProcess(pid: number, fd: number): Passable {
  const M = 'fdFromProcess'
  const h = native.fdFromProcess(uint(M, 'pid', pid, 2 ** 32 - 1), uint(M, 'fd', fd, 2 ** 31 - 1))
  return passed(A[OUT + 1], h, A[OUT], A[OUT + 2])
}


function socketType(method: string, options: unknown): boolean {
  if (options === undefined) return true
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(method, 'options', 'of type object', options)
  const t = (options as { type?: unknown }).type
  if (t === undefined || t === 'seqpacket') return true
  if (t === 'stream') return false
  throw invalidValue(method, 'options.type', `must be 'stream' or 'seqpacket'. Received ${describe(t)}`)
}

function signalOf(method: string, options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(method, 'options', 'of type object', options)
  const s = (options as { signal?: unknown }).signal
  if (s !== undefined && !(s instanceof AbortSignal)) throw invalidType(method, 'options.signal', 'an instance of AbortSignal', s)
  return s
}

function address(method: string, a: unknown): string {
  const s = str(method, 'address', a)
  if (s.length === 0 || s.includes('\0')) throw invalidValue(method, 'address', 'must be a path or @name without NUL bytes')
  return s
}

/**
 * Runs a native operation `start(id)` that resolves null when cancelled;
 * `pending` gets the id while it runs (close() cancels them).
 */
async function cancellable<T>(method: string, pending: Set<number>, signal: AbortSignal | undefined, closed: () => boolean, start: (id: number) => Promise<T | null>): Promise<T> {
  if (signal?.aborted) throw abortError(method, signal)
  const id = nextWait++ >>> 0
  pending.add(id)
  try {
    const r = await abortable(method, signal, id, start(id), (i) => native.chanCancel(i))
    if (r === null) throw closedError(method, closed() ? 'Channel' : 'operation')
    return r
  } finally {
    pending.delete(id)
  }
}

/**
 * A Unix socket that carries messages with fds: a JSON header and up to
 * MAX_FDS dma-bufs, sync_files or other fds (SCM_RIGHTS). Received fds are
 * close-on-exec and owned by the receiver. send() and receive() are
 * Promises driven by the event loop; calls of each kind run in the order
 * they were made.
 *
 * Errors of receive(): EPIPE (the peer closed the channel), ECONNRESET (it
 * died in the middle of a message), ETOOMANYREFS (more fds than `maxFds`:
 * those that arrived are closed, the channel goes on), EMSGSIZE (a header
 * over MAX_HEADER), ERR_DMABUF_BAD_HEADER (not JSON; its fds are closed).
 * Of send(): EPIPE, EMSGSIZE, ERR_OUT_OF_RANGE (too many fds).
 */
export class Channel {
  #h: number
  #fd: number
  #seq: boolean
  #sendTail: Promise<unknown> = Promise.resolve()
  #recvTail: Promise<unknown> = Promise.resolve()
  #pending = new Set<number>()

  static #is(x: unknown): x is Channel {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number, seq: boolean) {
    if (key !== token) throw illegalConstructor('Channel')
    this.#h = h
    this.#fd = fd
    this.#seq = seq
    own(this, h)
  }

  /**
   * socketpair(AF_UNIX): two connected channels (seqpacket unless
   * `type` is 'stream'). Hand one's `fd` to a child through
   * `child_process.spawn`'s `stdio` array and close it here.
   */
  static pair(type?: SocketType): [Channel, Channel] {
    const seq = socketType('Channel.pair', type === undefined ? undefined : { type })
    const [a, b] = native.chanPair(seq)
    const fa = A[OUT]
    const fb = A[OUT + 1]
    return [new Channel(token, a, fa, seq), new Channel(token, b, fb, seq)]
  }

  /** socket + connect to a Channel.listen() at `address` (a path, or `@name` for the abstract namespace). */
  static connect(address_: string, options?: { type?: SocketType }): Channel {
    const M = 'Channel.connect'
    const a = address(M, address_)
    const seq = socketType(M, options)
    const h = native.chanConnect(a, seq)
    return new Channel(token, h, A[OUT], seq)
  }

  /** socket + bind + listen at `address` (a path, removed on close, or `@name`). */
  static listen(address_: string, options?: { type?: SocketType }): Listener {
    const M = 'Channel.listen'
    const a = address(M, address_)
    const seq = socketType(M, options)
    const h = native.listenerBind(a, seq)
    return new Listener(token, h, A[OUT], a, seq)
  }

  /** Wraps a connected Unix socket fd (an inherited one: `Channel.fromFd(3)`); the fd is duplicated, the caller keeps its own. */
  static fromFd(fd: number): Channel {
    const h = native.chanFromFd(uint('Channel.fromFd', 'fd', fd, 2 ** 31 - 1))
    return new Channel(token, h, A[OUT], A[OUT + 1] === 1)
  }

  static #open(self: unknown, method: string): Channel {
    if (!Channel.#is(self)) throw invalidThis(method, 'Channel')
    live(self.#h, method, 'Channel')
    return self
  }

  /** The socket's fd number, or -1 once closed. */
  get fd(): number {
    if (!Channel.#is(this)) throw invalidThis('Channel.fd', 'Channel')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** 'seqpacket' or 'stream'. */
  get type(): SocketType {
    if (!Channel.#is(this)) throw invalidThis('Channel.type', 'Channel')
    return this.#seq ? 'seqpacket' : 'stream'
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!Channel.#is(this)) throw invalidThis('Channel.closed', 'Channel')
    return this.#h < 0
  }

  /**
   * Sends `header` (anything JSON.stringify takes, up to MAX_HEADER bytes)
   * with `fds` attached. The fds are duplicated at once, so they may be
   * closed as soon as this returns; the receiver gets its own.
   */
  send(header: unknown, fds?: Passable[], options?: { signal?: AbortSignal }): Promise<void> {
    const M = 'Channel.send'
    const self = Channel.#open(this, M)
    const signal = signalOf(M, options)
    let text: string | undefined
    try {
      text = JSON.stringify(header)
    } catch (e) {
      throw invalidValue(M, 'header', `must be JSON-serializable: ${(e as Error).message}`)
    }
    if (text === undefined) text = 'null'
    if (Buffer.byteLength(text) > MAX_HEADER) throw outOfRange(M, 'header', `at most ${MAX_HEADER} bytes as JSON`, Buffer.byteLength(text))
    const list = fds === undefined ? [] : fds
    if (!Array.isArray(list)) throw invalidType(M, 'fds', 'an instance of Array', fds)
    if (list.length > MAX_FDS) throw outOfRange(M, 'fds.length', `<= ${MAX_FDS}`, list.length)
    const copies: Passable[] = []
    try {
      for (let i = 0; i < list.length; i++) {
        const x: unknown = list[i]
        if (x instanceof DmaBuf || x instanceof SyncFile || x instanceof PassedFd) copies.push(x.dup())
        else throw invalidType(M, `fds[${i}]`, 'a DmaBuf, SyncFile or PassedFd', x)
      }
    } catch (e) {
      for (const c of copies) c.close()
      throw e
    }
    const run = self.#sendTail.then(async () => {
      try {
        const handles = new Float64Array(copies.length)
        for (let i = 0; i < copies.length; i++) {
          const c = copies[i]
          handles[i] = c instanceof DmaBuf ? DmaBuf.handleOf(c, M, 'fds') : c instanceof SyncFile ? SyncFile.handleOf(c, M, 'fds') : PassedFd.handleOf(c)
        }
        const h = live(self.#h, M, 'Channel')
        if (signal?.aborted) throw abortError(M, signal)
        // Fast path: the socket has room (almost always), no trip through the event loop (taken only while the loop turned recently).
        const went = native.chanTrySend(h, text!, handles)
        if (went === 2) await cancellable(M, self.#pending, signal, () => self.#h < 0, (id) => native.chanFlush(h, id))
        else if (went === 0) await cancellable(M, self.#pending, signal, () => self.#h < 0, (id) => native.chanSend(h, text!, handles, id))
      } finally {
        for (const c of copies) c.close()
      }
    })
    self.#sendTail = run.catch(() => undefined)
    return run
  }

  /**
   * Receives the next message. At most `maxFds` fds (default 16, up to
   * MAX_FDS) are accepted: a message with more is an ETOOMANYREFS error
   * and its fds are closed.
   */
  receive<H = unknown>(options?: { maxFds?: number; signal?: AbortSignal }): Promise<Message<H>> {
    const M = 'Channel.receive'
    const self = Channel.#open(this, M)
    const signal = signalOf(M, options)
    const mf = (options as { maxFds?: unknown } | undefined)?.maxFds
    const maxFds = mf === undefined ? 16 : uint(M, 'options.maxFds', mf, MAX_FDS)
    const run = self.#recvTail.then(async () => {
      const h = live(self.#h, M, 'Channel')
      if (signal?.aborted) throw abortError(M, signal)
      // Fast path: a message is already there; otherwise wait on the event loop.
      const r = native.chanTryRecv(h, maxFds) ?? (await cancellable(M, self.#pending, signal, () => self.#h < 0, (id) => native.chanRecv(h, maxFds, id)))
      const fds = r.handles.map((fh, i) => passed(r.kinds[i], fh, r.fds[i], r.sizes[i]))
      let header: H
      try {
        header = JSON.parse(r.header) as H
      } catch {
        for (const f of fds) f.close()
        throw nodeError(Error, 'ERR_DMABUF_BAD_HEADER', `${M}: the message's header is not JSON; its ${fds.length} fds were closed`)
      }
      return { header, fds }
    })
    self.#recvTail = run.catch(() => undefined)
    return run
  }

  /** Closes the socket; pending sends and receives reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
  close(): void {
    if (!Channel.#is(this)) throw invalidThis('Channel.close', 'Channel')
    if (this.#h >= 0) native.chanUnlinger(this.#h)
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.chanCancel(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A listening Unix socket (Channel.listen). */
export class Listener {
  #h: number
  #fd: number
  #address: string
  #seq: boolean
  #pending = new Set<number>()

  static #is(x: unknown): x is Listener {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number, address_: string, seq: boolean) {
    if (key !== token) throw illegalConstructor('Listener')
    this.#h = h
    this.#fd = fd
    this.#address = address_
    this.#seq = seq
    own(this, h)
  }

  /** The socket's fd number, or -1 once closed. */
  get fd(): number {
    if (!Listener.#is(this)) throw invalidThis('Listener.fd', 'Listener')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** The address it listens on. */
  get address(): string {
    if (!Listener.#is(this)) throw invalidThis('Listener.address', 'Listener')
    return this.#address
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!Listener.#is(this)) throw invalidThis('Listener.closed', 'Listener')
    return this.#h < 0
  }

  /** accept4: the next connection, as a Channel. */
  async accept(options?: { signal?: AbortSignal }): Promise<Channel> {
    const M = 'Listener.accept'
    if (!Listener.#is(this)) throw invalidThis(M, 'Listener')
    const h = live(this.#h, M, 'Listener')
    const signal = signalOf(M, options)
    const r = await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native.listenerAccept(h, id))
    return new Channel(token, r[0], r[1], this.#seq)
  }

  /** Closes the socket (and removes its path); pending accepts reject. */
  close(): void {
    if (!Listener.#is(this)) throw invalidThis('Listener.close', 'Listener')
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.chanCancel(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/**
 * One pass over /proc: every dma-buf the caller may see, who holds it by
 * fd, who maps it, per-process totals with PSS, per-exporter totals, and
 * the processes that could not be read. `pids` limits the scan.
 */
export function inspect(options?: { pids?: number[] }): Native.Inspection {
  const M = 'inspect'
  if (options === undefined) return native.inspect(null)
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(M, 'options', 'of type object', options)
  const p = (options as { pids?: unknown }).pids
  if (p === undefined) return native.inspect(null)
  const list = handles(M, 'options.pids', p, (v, i) => uint(M, `options.pids[${i}]`, v, 2 ** 32 - 1))
  return native.inspect(Array.from(list))
}

for (const C of [PassedFd, Channel, Listener]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}

// ---------------------------------------------------------------------------
// DVB: a demux's buffers exported as DmaBufs (DMX_EXPBUF; kernels with
// CONFIG_DVB_MMAP), its filters, and the frontend properties that tune.

export type { DvbBufferInfo, DvbFrontendInfo } from './native'

/** Where a PES filter sends what it passes (`enum dmx_output`): 'ts-demux-tap' puts whole TS packets in this demux's buffers. */
export type DvbPesOutput = 'decoder' | 'tap' | 'ts-tap' | 'ts-demux-tap'
const PES_OUTPUTS: readonly DvbPesOutput[] = ['decoder', 'tap', 'ts-tap', 'ts-demux-tap']

/** A section filter (`struct dmx_sct_filter_params`). */
export interface DvbSectionFilter {
  /** Packet id, 0..0x1fff. */
  pid: number
  /** Up to 16 bytes to match (the section's first bytes, without its two length bytes). */
  filter?: ArrayLike<number>
  /** Which bits of `filter` count (default: none, so every section of `pid` passes). */
  mask?: ArrayLike<number>
  /** Bits set here match on "not equal". */
  mode?: ArrayLike<number>
  /** Milliseconds the kernel waits for a section before an ETIMEDOUT (0: no limit). */
  timeoutMs?: number
  /** Drop sections whose CRC does not match (default true). */
  checkCrc?: boolean
  /** Stop after one section. */
  oneshot?: boolean
}

/** Numbers of `<linux/dvb/frontend.h>` and `<linux/dvb/dmx.h>` for `DvbFrontend` and `DvbDemux`. */
export const DVB = Object.freeze({
  /** DTV_* property commands for `DvbFrontend.setProperties` / `getProperties`. */
  DTV_TUNE: 1,
  DTV_CLEAR: 2,
  DTV_FREQUENCY: 3,
  DTV_MODULATION: 4,
  DTV_BANDWIDTH_HZ: 5,
  DTV_INVERSION: 6,
  DTV_SYMBOL_RATE: 8,
  DTV_INNER_FEC: 9,
  DTV_DELIVERY_SYSTEM: 17,
  DTV_API_VERSION: 35,
  /** Delivery systems (values of DTV_DELIVERY_SYSTEM). */
  SYS_DVBC_ANNEX_A: 1,
  SYS_DVBT: 3,
  SYS_DVBS: 5,
  SYS_DVBS2: 6,
  SYS_ISDBT: 8,
  SYS_DVBT2: 16,
  /** FE_READ_STATUS bits. */
  FE_HAS_SIGNAL: 0x01,
  FE_HAS_CARRIER: 0x02,
  FE_HAS_VITERBI: 0x04,
  FE_HAS_SYNC: 0x08,
  FE_HAS_LOCK: 0x10,
  FE_TIMEDOUT: 0x20,
  /** The PES filter PID that passes the whole transport stream. */
  PID_ALL: 0x2000,
  /** Bytes in a TS packet, and its first byte. */
  TS_PACKET_SIZE: 188,
  TS_SYNC_BYTE: 0x47,
  /** The kernel's limit on one demux buffer (4096 TS packets). */
  MAX_BUFFER_SIZE: 4096 * 188,
})

function bool(method: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt
  if (typeof v !== 'boolean') throw invalidType(method, name, 'of type boolean', v)
  return v
}

function filterBytes(method: string, name: string, v: unknown, out: Uint8Array, at: number): void {
  if (v === undefined) return
  if (typeof v !== 'object' || v === null || typeof (v as ArrayLike<number>).length !== 'number') {
    throw invalidType(method, name, 'an array of bytes', v)
  }
  const a = v as ArrayLike<unknown>
  if (a.length > 16) throw outOfRange(method, `${name}.length`, '<= 16', a.length)
  for (let i = 0; i < a.length; i++) out[at + i] = uint(method, `${name}[${i}]`, a[i], 255)
}


/**
 * An open DVB demux (`/dev/dvb/adapterN/demuxM`): one filter, and the
 * buffers its data goes to, exported as DmaBufs. Needs a kernel with
 * CONFIG_DVB_MMAP for the buffers (elsewhere they throw ENOTTY naming it).
 *
 * The first `queue()` starts streaming, which lasts until `close()`; a
 * buffer comes back when it is full (a section filter: when a section
 * ends), so give TS filters a multiple of 188 bytes.
 */
export class DvbDemux {
  #h: number
  #fd: number
  #pending = new Set<number>()

  static #is(x: unknown): x is DvbDemux {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('DvbDemux')
    this.#h = h
    this.#fd = A[OUT]
    own(this, h)
  }

  /** Opens a demux node read-write and non-blocking; ENOTTY when `path` is not a DVB demux. */
  static open(path: string): DvbDemux {
    return new DvbDemux(token, native.dvbDemuxOpen(str('DvbDemux.open', 'path', path)))
  }

  /** Paths of the demux nodes under /dev/dvb (empty when there are none). */
  static list(): string[] {
    return native.dvbListDemuxes()
  }

  static #open(self: unknown, method: string): number {
    if (!DvbDemux.#is(self)) throw invalidThis(method, 'DvbDemux')
    return live(self.#h, method, 'DvbDemux')
  }

  /** The fd number, or -1 once closed. */
  get fd(): number {
    if (!DvbDemux.#is(this)) throw invalidThis('DvbDemux.fd', 'DvbDemux')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!DvbDemux.#is(this)) throw invalidThis('DvbDemux.closed', 'DvbDemux')
    return this.#h < 0
  }

  /** DMX_SET_PES_FILTER: packets of `pid` (DVB.PID_ALL: all) to `output` (default 'ts-demux-tap'); starts at once when `start` is true. */
  setPesFilter(pid: number, output?: DvbPesOutput, start?: boolean): void {
    const M = 'DvbDemux.setPesFilter'
    const h = DvbDemux.#open(this, M)
    const p = uint(M, 'pid', pid, 0x2000)
    let o = 3
    if (output !== undefined) {
      o = PES_OUTPUTS.indexOf(output)
      if (o < 0) {
        if (typeof output !== 'string') throw invalidType(M, 'output', "one of 'decoder', 'tap', 'ts-tap' or 'ts-demux-tap'", output)
        throw invalidValue(M, 'output', `must be 'decoder', 'tap', 'ts-tap' or 'ts-demux-tap'. Received ${JSON.stringify(output)}`)
      }
    }
    native.dvbDemuxSetPesFilter(h, p, o, bool(M, 'start', start, false))
  }

  /** DMX_SET_FILTER: the sections of `filter.pid` that match; starts at once when `start` is true. */
  setSectionFilter(filter: DvbSectionFilter, start?: boolean): void {
    const M = 'DvbDemux.setSectionFilter'
    const h = DvbDemux.#open(this, M)
    if (typeof filter !== 'object' || filter === null) throw invalidType(M, 'filter', 'an object { pid, filter?, mask?, mode? }', filter)
    const pid = uint(M, 'filter.pid', filter.pid, 0x1fff)
    const bytes = new Uint8Array(48)
    filterBytes(M, 'filter.filter', filter.filter, bytes, 0)
    filterBytes(M, 'filter.mask', filter.mask, bytes, 16)
    filterBytes(M, 'filter.mode', filter.mode, bytes, 32)
    const timeout = filter.timeoutMs === undefined ? 0 : uint(M, 'filter.timeoutMs', filter.timeoutMs, 2 ** 32 - 1)
    const flags = (bool(M, 'filter.checkCrc', filter.checkCrc, true) ? 1 : 0) | (bool(M, 'filter.oneshot', filter.oneshot, false) ? 2 : 0)
    native.dvbDemuxSetSectionFilter(h, pid, bytes, timeout, flags, bool(M, 'start', start, false))
  }

  /** DMX_START. */
  start(): void {
    native.dvbDemuxStart(DvbDemux.#open(this, 'DvbDemux.start'))
  }

  /** DMX_STOP (queued buffers stay queued). */
  stop(): void {
    native.dvbDemuxStop(DvbDemux.#open(this, 'DvbDemux.stop'))
  }

  /** DMX_SET_BUFFER_SIZE: the ring buffer of the read() path (not the exported buffers). */
  setBufferSize(size: number): void {
    const M = 'DvbDemux.setBufferSize'
    native.dvbDemuxSetBufferSize(DvbDemux.#open(this, M), uint(M, 'size', size, 2 ** 31 - 1))
  }

  /** DMX_REQBUFS: `count` buffers of `size` bytes; returns what the kernel granted (size at most DVB.MAX_BUFFER_SIZE). */
  requestBuffers(count: number, size: number): { count: number; size: number } {
    const M = 'DvbDemux.requestBuffers'
    const h = DvbDemux.#open(this, M)
    const [c, s] = native.dvbDemuxRequestBuffers(h, uint(M, 'count', count, 2 ** 32 - 1), uint(M, 'size', size, 2 ** 32 - 1))
    return { count: c, size: s }
  }

  /** DMX_QUERYBUF: buffer `index`'s size and mmap offset. */
  queryBuffer(index: number): Native.DvbBufferInfo {
    const M = 'DvbDemux.queryBuffer'
    return native.dvbDemuxQueryBuffer(DvbDemux.#open(this, M), uint(M, 'index', index, 2 ** 32 - 1))
  }

  /** DMX_EXPBUF: buffer `index` as a DmaBuf (read-only for 'r', the default; read-write otherwise). It outlives the demux. */
  exportBuffer(index: number, access?: Access): DmaBuf {
    const M = 'DvbDemux.exportBuffer'
    const h = DvbDemux.#open(this, M)
    const i = uint(M, 'index', index, 2 ** 32 - 1)
    return new DmaBuf(token, native.dvbDemuxExportBuffer(h, i, optionalAccessBits(M, 'access', access, 1)))
  }

  /** DMX_QBUF: hands buffer `index` to the demux to fill; the first one starts streaming. */
  queue(index: number): void {
    const M = 'DvbDemux.queue'
    native.dvbDemuxQueue(DvbDemux.#open(this, M), uint(M, 'index', index, 2 ** 32 - 1))
  }

  /** DMX_DQBUF without waiting: the next filled buffer, or null. */
  tryDequeue(): Native.DvbBufferInfo | null {
    return native.dvbDemuxTryDequeue(DvbDemux.#open(this, 'DvbDemux.tryDequeue'))
  }

  /**
   * Resolves the next filled buffer, or null when `timeoutMs` passes first;
   * rejects with an AbortError when `signal` aborts. No thread waits: the
   * demux fd sits in the event loop. Never throws: every error is a
   * rejection.
   */
  async dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.DvbBufferInfo | null> {
    const M = 'DvbDemux.dequeue'
    const h = DvbDemux.#open(this, M)
    const t = timeoutMsOf(M, timeoutMs)
    const s = liveSignal(M, signal)
    const id = nextWait++ >>> 0
    this.#pending.add(id)
    try {
      const r = await abortable(M, s, id, native.dvbDemuxDequeue(h, t, id), (i) => native.dvbCancelDequeue(i))
      if (r === null && this.#h < 0) throw closedError(M, 'DvbDemux')
      return r
    } finally {
      this.#pending.delete(id)
    }
  }

  /** Closes the demux (its filter and streaming end; exported DmaBufs stay valid); pending dequeues reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
  close(): void {
    if (!DvbDemux.#is(this)) throw invalidThis('DvbDemux.close', 'DvbDemux')
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.dvbCancelDequeue(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** An open DVB frontend (`/dev/dvb/adapterN/frontendM`), read-write, for tuning. */
export class DvbFrontend {
  #h: number

  static #is(x: unknown): x is DvbFrontend {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('DvbFrontend')
    this.#h = h
    own(this, h)
  }

  /** Opens a frontend node read-write (EBUSY while another holds it so); ENOTTY when `path` is not a DVB frontend. */
  static open(path: string): DvbFrontend {
    return new DvbFrontend(token, native.dvbFrontendOpen(str('DvbFrontend.open', 'path', path)))
  }

  /** Paths of the frontend nodes under /dev/dvb. */
  static list(): string[] {
    return native.dvbListFrontends()
  }

  static #open(self: unknown, method: string): number {
    if (!DvbFrontend.#is(self)) throw invalidThis(method, 'DvbFrontend')
    return live(self.#h, method, 'DvbFrontend')
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!DvbFrontend.#is(this)) throw invalidThis('DvbFrontend.closed', 'DvbFrontend')
    return this.#h < 0
  }

  /** FE_GET_INFO: name, frequency range, capabilities. */
  info(): Native.DvbFrontendInfo {
    return native.dvbFrontendInfo(DvbFrontend.#open(this, 'DvbFrontend.info'))
  }

  /** FE_READ_STATUS: DVB.FE_HAS_* bits. */
  status(): number {
    return native.dvbFrontendStatus(DvbFrontend.#open(this, 'DvbFrontend.status'))
  }

  /** FE_SET_PROPERTY: `[command, value]` pairs (DVB.DTV_*), applied in order; 1 to 64 of them. */
  setProperties(props: Array<[number, number]>): void {
    const M = 'DvbFrontend.setProperties'
    const h = DvbFrontend.#open(this, M)
    if (!Array.isArray(props)) throw invalidType(M, 'props', 'an instance of Array', props)
    const n = props.length
    if (n < 1 || n > 64) throw outOfRange(M, 'props.length', '>= 1 and <= 64', n)
    const cmds = new Float64Array(n)
    const values = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const p: unknown = props[i]
      if (!Array.isArray(p) || p.length !== 2) throw invalidType(M, `props[${i}]`, 'a [command, value] pair', p)
      cmds[i] = uint(M, `props[${i}][0]`, p[0], 2 ** 32 - 1)
      values[i] = uint(M, `props[${i}][1]`, p[1], 2 ** 32 - 1)
    }
    native.dvbFrontendSetProperties(h, cmds, values)
  }

  /** FE_GET_PROPERTY: the value of each command (DVB.DTV_*), in order; 1 to 64 of them. */
  getProperties(commands: number[]): number[] {
    const M = 'DvbFrontend.getProperties'
    const h = DvbFrontend.#open(this, M)
    if (!Array.isArray(commands)) throw invalidType(M, 'commands', 'an instance of Array', commands)
    const n = commands.length
    if (n < 1 || n > 64) throw outOfRange(M, 'commands.length', '>= 1 and <= 64', n)
    const cmds = new Float64Array(n)
    for (let i = 0; i < n; i++) cmds[i] = uint(M, `commands[${i}]`, commands[i], 2 ** 32 - 1)
    return native.dvbFrontendGetProperties(h, cmds)
  }

  /** Tunes: DTV_CLEAR, the delivery system (DVB.SYS_*), the frequency, `extra` pairs, DTV_TUNE. Returns at once; see `waitForLock`. */
  tune(deliverySystem: number, frequency: number, extra?: Array<[number, number]>): void {
    const M = 'DvbFrontend.tune'
    DvbFrontend.#open(this, M)
    const sys = uint(M, 'deliverySystem', deliverySystem, 2 ** 32 - 1)
    const freq = uint(M, 'frequency', frequency, 2 ** 32 - 1)
    if (extra !== undefined && !Array.isArray(extra)) throw invalidType(M, 'extra', 'an instance of Array', extra)
    const more = extra ?? []
    if (more.length > 60) throw outOfRange(M, 'extra.length', '<= 60', more.length)
    this.setProperties([[DVB.DTV_CLEAR, 0], [DVB.DTV_DELIVERY_SYSTEM, sys], [DVB.DTV_FREQUENCY, freq], ...more, [DVB.DTV_TUNE, 0]])
  }

  /**
   * Resolves true once FE_READ_STATUS has FE_HAS_LOCK, false when
   * `timeoutMs` (default 5000) passes first; reads the status every 10 ms on
   * a timer (no thread waits). Rejects with an AbortError when `signal` aborts.
   */
  async waitForLock(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const M = 'DvbFrontend.waitForLock'
    DvbFrontend.#open(this, M)
    const t = timeoutMs === undefined ? 5000 : timeoutMsOf(M, timeoutMs)
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(M, 'signal', 'an instance of AbortSignal', signal)
    const end = t < 0 ? Infinity : Date.now() + t
    for (;;) {
      if (signal?.aborted) throw abortError(M, signal)
      if ((native.dvbFrontendStatus(live(this.#h, M, 'DvbFrontend')) & DVB.FE_HAS_LOCK) !== 0) return true
      if (Date.now() >= end) return false
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /** Closes the frontend. Calling it again does nothing. */
  close(): void {
    if (!DvbFrontend.#is(this)) throw invalidThis('DvbFrontend.close', 'DvbFrontend')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [DvbDemux, DvbFrontend]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}

// ---------------------------------------------------------------------------
// V4L2: device buffers exported as dma-bufs, dma-bufs imported into a queue.

export type { V4l2Caps, V4l2Format, V4l2PlaneFormat, V4l2BufferInfo, V4l2PlaneInfo, V4l2ControlInfo, V4l2Node } from './native'

/** A V4L2 video queue type. */
export type V4l2BufType = 'capture' | 'output' | 'capture-mplane' | 'output-mplane'

/** What `V4l2Device.setFormat` asks for; the driver may choose otherwise (see `exact`). */
export interface V4l2FormatRequest {
  width: number
  height: number
  /** A fourcc as four characters: 'YUYV', 'RGB3', 'NM16' (NV16M)... */
  pixelformat: string
  /** `enum v4l2_field`; default 1 (progressive). */
  field?: number
  /** `enum v4l2_colorspace`; default 0 (the driver chooses). */
  colorspace?: number
  /** Per-plane bytesperline/sizeimage; default: the driver chooses. */
  planes?: { bytesperline?: number; sizeimage?: number }[]
}

/** A dequeued buffer of a V4l2DmaBufQueue and the DmaBuf objects that were queued with it. */
export interface V4l2Dequeued {
  info: Native.V4l2BufferInfo
  buffers: DmaBuf[]
}

const U32 = 2 ** 32 - 1

function uintList(method: string, name: string, v: unknown): number[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw invalidType(method, name, 'an instance of Array', v)
  if (v.length > 8) throw outOfRange(method, `${name}.length`, '<= 8 (VIDEO_MAX_PLANES)', v.length)
  const out: number[] = []
  for (let i = 0; i < v.length; i++) out.push(uint(method, `${name}[${i}]`, v[i], U32))
  return out
}

function formatRequest(method: string, f: unknown): Native.V4l2Format {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) throw invalidType(method, 'format', 'of type object', f)
  const r = f as Record<string, unknown>
  const pixelformat = str(method, 'format.pixelformat', r.pixelformat)
  if (!/^[\x20-\x7e]{4}$/.test(pixelformat)) throw invalidValue(method, 'format.pixelformat', `must be four ASCII characters. Received ${JSON.stringify(pixelformat)}`)
  let planes: Native.V4l2PlaneFormat[] = []
  if (r.planes !== undefined) {
    if (!Array.isArray(r.planes)) throw invalidType(method, 'format.planes', 'an instance of Array', r.planes)
    if (r.planes.length > 8) throw outOfRange(method, 'format.planes.length', '<= 8 (VIDEO_MAX_PLANES)', r.planes.length)
    planes = r.planes.map((p: unknown, i: number) => {
      if (typeof p !== 'object' || p === null) throw invalidType(method, `format.planes[${i}]`, 'of type object', p)
      const q = p as Record<string, unknown>
      return {
        bytesperline: q.bytesperline === undefined ? 0 : uint(method, `format.planes[${i}].bytesperline`, q.bytesperline, U32),
        sizeimage: q.sizeimage === undefined ? 0 : uint(method, `format.planes[${i}].sizeimage`, q.sizeimage, U32),
      }
    })
  }
  return {
    width: uint(method, 'format.width', r.width, U32),
    height: uint(method, 'format.height', r.height, U32),
    pixelformat,
    field: r.field === undefined ? 1 : uint(method, 'format.field', r.field, U32),
    colorspace: r.colorspace === undefined ? 0 : uint(method, 'format.colorspace', r.colorspace, U32),
    planes,
  }
}

function int32(method: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType(method, name, 'of type number', v)
  if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) throw outOfRange(method, name, 'an integer >= -2147483648 and <= 2147483647', v)
  return v
}

/**
 * Waits on the event loop (the node's fd watched by libuv, no thread)
 * until a buffer can be dequeued: true, or false once `t` ms (-1: no
 * limit) pass. `pending` holds the wait's id meanwhile, for close() to
 * cancel it; a wait cancelled because `closed()` rejects with
 * ERR_DMABUF_CLOSED.
 */
async function v4l2Ready(h: number, type: string, t: number, signal: AbortSignal | undefined, M: string, pending: Set<number>, closed: () => boolean): Promise<boolean> {
  const id = nextWait++ >>> 0
  pending.add(id)
  try {
    const r = await abortable(M, signal, id, native.v4l2Wait(h, type, t, id), (i) => native.v4l2CancelWait(i))
    if (r === null && closed()) throw closedError(M, M.startsWith('V4l2Device') ? 'V4l2Device' : 'V4l2DmaBufQueue')
    return r === true
  } finally {
    pending.delete(id)
  }
}

/**
 * Dequeues with `tryDequeue`, waiting for readiness in between, until a
 * buffer comes (its value), the timeout passes (null) or the signal aborts.
 * Ready with nothing to take is the queue's error state (not streaming, or
 * nothing queued): EPIPE.
 */
async function v4l2Dequeue<T>(M: string, h: number, type: string, timeout: unknown, signal: unknown, pending: Set<number>, closed: () => boolean, take: () => T | null): Promise<T | null> {
  const t = timeoutMs(M, timeout)
  const s = liveSignal(M, signal)
  // Fast path, while the event loop turned recently (else timers would
  // starve under a loop that always finds a buffer ready).
  if (native.waitFresh()) {
    const first = take()
    if (first !== null) return first
  }
  if (!(await v4l2Ready(h, type, t, s, M, pending, closed))) return null
  const got = take()
  if (got !== null) return got
  throw nodeError(Error, 'EPIPE', `EPIPE: the queue reported an error on poll (not streaming, or no buffer queued), ${M}`)
}

/**
 * An open V4L2 video node (`/dev/videoN`), for dma-buf work: formats, MMAP
 * buffers exported as DmaBufs, streaming, controls, and DMABUF import
 * queues (`dmabufQueue`). Every method works on the node's one video queue
 * (`bufType`: capture or output, single- or multi-planar); memory-to-memory
 * nodes, which have two, are for the Rust API.
 */
export class V4l2Device {
  #h: number
  #type: V4l2BufType
  #pending = new Set<number>()

  static #is(x: unknown): x is V4l2Device {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, type: V4l2BufType) {
    if (key !== token) throw illegalConstructor('V4l2Device')
    this.#h = h
    this.#type = type
    own(this, h)
  }

  /** Opens a video node (read-write, non-blocking) and checks that it is V4L2 with a video queue. */
  static open(path: string): V4l2Device {
    const M = 'V4l2Device.open'
    const h = native.v4l2Open(str(M, 'path', path))
    const type = native.v4l2Caps(h).bufType ?? null
    if (type === null) {
      A[0] = h
      nativeClose()
      throw nodeError(Error, 'ENOTTY', `ENOTTY: ${path} has no video capture or output queue with streaming I/O, ${M}`)
    }
    return new V4l2Device(token, h, type)
  }

  /** The video nodes that stream, with their sysfs names and whether they export and import. */
  static list(): Native.V4l2Node[] {
    return native.v4l2List()
  }

  static #open(self: unknown, method: string): number {
    if (!V4l2Device.#is(self)) throw invalidThis(method, 'V4l2Device')
    return live(self.#h, method, 'V4l2Device')
  }

  /** The node's video queue type. */
  get bufType(): V4l2BufType {
    if (!V4l2Device.#is(this)) throw invalidThis('V4l2Device.bufType', 'V4l2Device')
    return this.#type
  }

  /** VIDIOC_QUERYCAP: driver, card, bus, capabilities and the node's device_caps. */
  capabilities(): Native.V4l2Caps {
    return native.v4l2Caps(V4l2Device.#open(this, 'V4l2Device.capabilities'))
  }

  /** VIDIOC_G_FMT: the current format. */
  format(): Native.V4l2Format {
    return native.v4l2Format(V4l2Device.#open(this, 'V4l2Device.format'), this.#type)
  }

  /**
   * VIDIOC_S_FMT: sets the format and returns what the driver chose. With
   * `exact`, a different width, height or pixel format is an EINVAL error
   * naming the driver's choice (which is then in effect).
   */
  setFormat(format: V4l2FormatRequest, exact?: boolean): Native.V4l2Format {
    const M = 'V4l2Device.setFormat'
    const h = V4l2Device.#open(this, M)
    const f = formatRequest(M, format)
    if (exact !== undefined && typeof exact !== 'boolean') throw invalidType(M, 'exact', 'of type boolean', exact)
    return native.v4l2SetFormat(h, this.#type, f, exact === true ? 'exact' : 'set')
  }

  /** VIDIOC_TRY_FMT: what the driver would choose, changing nothing. */
  tryFormat(format: V4l2FormatRequest): Native.V4l2Format {
    const M = 'V4l2Device.tryFormat'
    const h = V4l2Device.#open(this, M)
    return native.v4l2SetFormat(h, this.#type, formatRequest(M, format), 'try')
  }

  /** VIDIOC_S_PARM: asks for `numerator`/`denominator` seconds per frame; returns the driver's [numerator, denominator]. */
  setFrameInterval(numerator: number, denominator: number): [number, number] {
    const M = 'V4l2Device.setFrameInterval'
    const h = V4l2Device.#open(this, M)
    const r = native.v4l2SetFrameInterval(h, this.#type, uint(M, 'numerator', numerator, U32), uint(M, 'denominator', denominator, U32))
    return [r[0], r[1]]
  }

  /** VIDIOC_REQBUFS (MMAP): allocates `count` buffers (0 frees them); returns how many the driver made. */
  requestBuffers(count: number): number {
    const M = 'V4l2Device.requestBuffers'
    return native.v4l2RequestBuffers(V4l2Device.#open(this, M), this.#type, uint(M, 'count', count, U32))
  }

  /** VIDIOC_QUERYBUF: a buffer's planes and state. */
  queryBuffer(index: number): Native.V4l2BufferInfo {
    const M = 'V4l2Device.queryBuffer'
    return native.v4l2QueryBuffer(V4l2Device.#open(this, M), this.#type, uint(M, 'index', index, U32))
  }

  /**
   * VIDIOC_EXPBUF: one plane of an MMAP buffer as a new DmaBuf (close-on-exec;
   * read-only for 'r', else read-write). The payload starts at the
   * dataOffset that each dequeued buffer reports.
   */
  exportBuffer(index: number, plane?: number, access?: Access): DmaBuf {
    const M = 'V4l2Device.exportBuffer'
    const h = V4l2Device.#open(this, M)
    const i = uint(M, 'index', index, U32)
    const p = plane === undefined ? 0 : uint(M, 'plane', plane, U32)
    return new DmaBuf(token, native.v4l2Export(h, this.#type, i, p, optionalAccessBits(M, 'access', access, 3)))
  }

  /** VIDIOC_QBUF of an MMAP buffer; on output queues `bytesused` gives each plane's payload. */
  queue(index: number, bytesused?: number[]): void {
    const M = 'V4l2Device.queue'
    const h = V4l2Device.#open(this, M)
    native.v4l2Queue(h, this.#type, uint(M, 'index', index, U32), uintList(M, 'bytesused', bytesused))
  }

  /** VIDIOC_DQBUF without waiting: the buffer, or null when none is done. */
  tryDequeue(): Native.V4l2BufferInfo | null {
    return native.v4l2TryDequeue(V4l2Device.#open(this, 'V4l2Device.tryDequeue'), this.#type)
  }

  /**
   * VIDIOC_DQBUF once a buffer is done: resolves with it, or null when
   * `timeoutMs` passes first (none or Infinity: no limit); rejects with an
   * AbortError when `signal` aborts. No thread waits: the node's fd sits in
   * the event loop.
   */
  async dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.V4l2BufferInfo | null> {
    const M = 'V4l2Device.dequeue'
    const h = V4l2Device.#open(this, M)
    const type = this.#type
    return v4l2Dequeue(M, h, type, timeoutMs, signal, this.#pending, () => this.#h < 0, () => native.v4l2TryDequeue(h, type))
  }

  /** VIDIOC_STREAMON. */
  streamOn(): void {
    native.v4l2Stream(V4l2Device.#open(this, 'V4l2Device.streamOn'), this.#type, true)
  }

  /** VIDIOC_STREAMOFF: stops; every queued buffer is the application's again. */
  streamOff(): void {
    native.v4l2Stream(V4l2Device.#open(this, 'V4l2Device.streamOff'), this.#type, false)
  }

  /** VIDIOC_G_CTRL. */
  getControl(id: number): number {
    const M = 'V4l2Device.getControl'
    return native.v4l2GetControl(V4l2Device.#open(this, M), uint(M, 'id', id, U32))
  }

  /** VIDIOC_S_CTRL: returns the value the driver kept. */
  setControl(id: number, value: number): number {
    const M = 'V4l2Device.setControl'
    const h = V4l2Device.#open(this, M)
    return native.v4l2SetControl(h, uint(M, 'id', id, U32), int32(M, 'value', value))
  }

  /** VIDIOC_QUERY_EXT_CTRL: the control with this name (e.g. vivid's 'OSD Text Mode'); EINVAL when none. */
  findControl(name: string): Native.V4l2ControlInfo {
    const M = 'V4l2Device.findControl'
    return native.v4l2FindControl(V4l2Device.#open(this, M), str(M, 'name', name))
  }

  /** VIDIOC_S_INPUT. */
  setInput(index: number): void {
    const M = 'V4l2Device.setInput'
    native.v4l2SetRoute(V4l2Device.#open(this, M), false, uint(M, 'index', index, U32))
  }

  /** VIDIOC_S_OUTPUT. */
  setOutput(index: number): void {
    const M = 'V4l2Device.setOutput'
    native.v4l2SetRoute(V4l2Device.#open(this, M), true, uint(M, 'index', index, U32))
  }

  /** VIDIOC_REQBUFS (DMABUF): an import queue of `count` slots on this node. */
  dmabufQueue(count: number): V4l2DmaBufQueue {
    const M = 'V4l2Device.dmabufQueue'
    const h = V4l2Device.#open(this, M)
    return new V4l2DmaBufQueue(token, native.v4l2QueueNew(h, this.#type, uint(M, 'count', count, U32)), this.#type)
  }

  /** Closes this reference to the node (its DMABUF queues keep it open until closed); pending dequeues reject with ERR_DMABUF_CLOSED. */
  close(): void {
    if (!V4l2Device.#is(this)) throw invalidThis('V4l2Device.close', 'V4l2Device')
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.v4l2CancelWait(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
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
export class V4l2DmaBufQueue {
  #h: number
  #type: V4l2BufType
  #held = new Map<number, DmaBuf[]>()
  #pending = new Set<number>()

  static #is(x: unknown): x is V4l2DmaBufQueue {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, type: V4l2BufType) {
    if (key !== token) throw illegalConstructor('V4l2DmaBufQueue')
    this.#h = h
    this.#type = type
    own(this, h)
  }

  static #open(self: unknown, method: string): number {
    if (!V4l2DmaBufQueue.#is(self)) throw invalidThis(method, 'V4l2DmaBufQueue')
    return live(self.#h, method, 'V4l2DmaBufQueue')
  }

  #take(got: Native.V4l2BufferInfo | null): V4l2Dequeued | null {
    if (got === null) return null
    const buffers = this.#held.get(got.index) ?? []
    this.#held.delete(got.index)
    return { info: got, buffers }
  }

  /**
   * VIDIOC_QBUF: one DmaBuf per plane, with each plane's `bytesused` and
   * `dataOffset` (output queues; default 0). A buffer smaller than the
   * format's plane is refused (EINVAL) before the driver sees it. Returns
   * the V4L2 index.
   */
  queue(buffers: DmaBuf[], bytesused?: number[], dataOffset?: number[]): number {
    const M = 'V4l2DmaBufQueue.queue'
    const h = V4l2DmaBufQueue.#open(this, M)
    const hs = handles(M, 'buffers', buffers, (b, i) => DmaBuf.handleOf(b as DmaBuf, M, 'buffers', i))
    const index = native.v4l2QueueQueue(h, Array.from(hs), uintList(M, 'bytesused', bytesused), uintList(M, 'dataOffset', dataOffset))
    this.#held.set(index, buffers.slice())
    return index
  }

  /** VIDIOC_DQBUF without waiting: the buffer and its DmaBufs, or null. */
  tryDequeue(): V4l2Dequeued | null {
    const h = V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.tryDequeue')
    return this.#take(native.v4l2QueueTryDequeue(h))
  }

  /** VIDIOC_DQBUF once a buffer is done (as V4l2Device.dequeue): the buffer and its DmaBufs, or null on timeout. */
  async dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<V4l2Dequeued | null> {
    const M = 'V4l2DmaBufQueue.dequeue'
    const h = V4l2DmaBufQueue.#open(this, M)
    return v4l2Dequeue(M, h, this.#type, timeoutMs, signal, this.#pending, () => this.#h < 0, () => this.#take(native.v4l2QueueTryDequeue(h)))
  }

  /** How many buffers the driver holds. */
  get queued(): number {
    return native.v4l2QueueQueued(V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.queued'))
  }

  /** VIDIOC_STREAMON. */
  streamOn(): void {
    native.v4l2QueueStreamOn(V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.streamOn'))
  }

  /** VIDIOC_STREAMOFF: the driver lets go of every buffer; returns the DmaBufs it held, per buffer. */
  streamOff(): DmaBuf[][] {
    const back = native.v4l2QueueStreamOff(V4l2DmaBufQueue.#open(this, 'V4l2DmaBufQueue.streamOff'))
    const out: DmaBuf[][] = []
    for (const i of back) {
      out.push(this.#held.get(i) ?? [])
      this.#held.delete(i)
    }
    return out
  }

  /** Closes the queue's reference to the node and its duplicates of queued dma-bufs (the driver keeps its own until the node is closed); pending dequeues reject with ERR_DMABUF_CLOSED. */
  close(): void {
    if (!V4l2DmaBufQueue.#is(this)) throw invalidThis('V4l2DmaBufQueue.close', 'V4l2DmaBufQueue')
    this.#held.clear()
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.v4l2CancelWait(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [V4l2Device, V4l2DmaBufQueue]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
