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
let nextV4l2Wait = 0

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
 * Waits on the event loop (the node's fd in the reactor, no thread) until
 * a buffer can be dequeued: true, or false once `t` ms (-1: no limit) pass.
 */
async function v4l2Ready(h: number, type: string, t: number, signal: AbortSignal | undefined, M: string): Promise<boolean> {
  const id = nextV4l2Wait++ >>> 0
  const pending = native.v4l2Wait(h, type, t, id)
  if (signal === undefined) return (await pending) === true
  const onAbort = (): void => native.v4l2CancelWait(id)
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const r = await pending
    if (r === null) throw abortError(M, signal)
    return r
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Dequeues with `tryDequeue`, waiting for readiness in between, until a
 * buffer comes (its value), the timeout passes (null) or the signal aborts.
 * Ready with nothing to take is the queue's error state (not streaming, or
 * nothing queued): EPIPE.
 */
async function v4l2Dequeue<T>(M: string, h: number, type: string, timeout: unknown, signal: unknown, take: () => T | null): Promise<T | null> {
  const t = timeoutMs(M, timeout)
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(M, 'signal', 'an instance of AbortSignal', signal)
  if (signal?.aborted) throw abortError(M, signal)
  const first = take()
  if (first !== null) return first
  const deadline = t < 0 ? Infinity : Date.now() + t
  const left = deadline === Infinity ? -1 : Math.max(0, deadline - Date.now())
  if (!(await v4l2Ready(h, type, left, signal, M))) return null
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
   * the event loop's reactor.
   */
  async dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.V4l2BufferInfo | null> {
    const M = 'V4l2Device.dequeue'
    const h = V4l2Device.#open(this, M)
    const type = this.#type
    return v4l2Dequeue(M, h, type, timeoutMs, signal, () => native.v4l2TryDequeue(h, type))
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

  /** Closes this reference to the node (its DMABUF queues keep it open until closed). */
  close(): void {
    if (!V4l2Device.#is(this)) throw invalidThis('V4l2Device.close', 'V4l2Device')
    this.#h = closeOnce(this, this.#h)
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
    return v4l2Dequeue(M, h, this.#type, timeoutMs, signal, () => this.#take(native.v4l2QueueTryDequeue(h)))
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

  /** Closes the queue's reference to the node and its duplicates of queued dma-bufs (the driver keeps its own until the node is closed). */
  close(): void {
    if (!V4l2DmaBufQueue.#is(this)) throw invalidThis('V4l2DmaBufQueue.close', 'V4l2DmaBufQueue')
    this.#held.clear()
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [V4l2Device, V4l2DmaBufQueue]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
