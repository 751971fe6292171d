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

let nextWait = 1

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
   * is blocked while it waits: the fd sits in the event reactor. Never
   * throws: every error is a rejection.
   */
  async wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const M = 'SyncFile.wait'
    const h = SyncFile.#open(this, M)
    const t = timeoutMsOf(M, timeoutMs)
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(M, 'signal', 'an instance of AbortSignal', signal)
    if (signal?.aborted) throw abortError(M, signal)
    const id = nextWait++ >>> 0
    const pending = native.syncWait(h, t, id)
    if (signal === undefined) return (await pending) === true
    const onAbort = (): void => native.syncCancelWait(id)
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const r = await pending
      if (r === null) throw abortError(M, signal)
      return r
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
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

let nextDequeue = 1

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
   * demux fd sits in the event reactor. Never throws: every error is a
   * rejection.
   */
  async dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.DvbBufferInfo | null> {
    const M = 'DvbDemux.dequeue'
    const h = DvbDemux.#open(this, M)
    const t = timeoutMsOf(M, timeoutMs)
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(M, 'signal', 'an instance of AbortSignal', signal)
    if (signal?.aborted) throw abortError(M, signal)
    const id = nextDequeue++ >>> 0
    const pending = native.dvbDemuxDequeue(h, t, id)
    if (signal === undefined) return await pending
    const onAbort = (): void => native.dvbCancelDequeue(id)
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const r = await pending
      if (r === null && signal.aborted) throw abortError(M, signal)
      return r
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Closes the demux (its filter and streaming end; exported DmaBufs stay valid). Calling it again does nothing. */
  close(): void {
    if (!DvbDemux.#is(this)) throw invalidThis('DvbDemux.close', 'DvbDemux')
    this.#h = closeOnce(this, this.#h)
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
