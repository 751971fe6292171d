// DMA-BUF (crates/dmabuf/src/dma_buf.rs): the DmaBuf class, CPU access
// brackets (DMA_BUF_IOCTL_SYNC) and mappings.

import type * as Native from '../native'
import { illegalConstructor, invalidThis, invalidType, nodeError, outOfRange } from '../internal/errors'
import { Arg, Out } from '../internal/generated/slots'
import { closeHandle, closeOnce, forget, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { PassedKind, takeFd } from '../internal/pidfd'
import { type Access, ACCESS, accessBits, bitsOf, handles, optionalAccessBits, optionalUint, str, uint } from '../internal/validators'
import { SyncFile } from './sync-file'

export type { Access } from '../internal/validators'
export type { DmaBufInfo } from '../native'

/** The shared argument array, as a module constant (read on every hot path). */
const A = args
// The fast calls, held in constants: a call through a constant is
// monomorphic and needs no property lookup on the exports object.
const nativeSyncStart = native.syncStart
const nativeSyncEnd = native.syncEnd
const nativeExportSyncFile = native.exportSyncFile
const nativeClose = native.close
const nativeUnmap = native.unmap

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
    this.#fd = A[Out.FD]
    this.#size = A[Out.BUF_SIZE]
    own(this, h)
  }

  /** @internal The native handle, or -1 once closed (CpuAccess.end). */
  static handleOrClosed(b: DmaBuf): number {
    return b.#h
  }

  /** @internal The native handle, for the other classes of this package. */
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
    const h = takeFd('DmaBuf.fromProcess', pid, fd)
    if (A[Out.PASSED_KIND] === PassedKind.DMA_BUF) {
      A[Out.BUF_SIZE] = A[Out.PASSED_SIZE]
      return new DmaBuf(token, h)
    }
    closeHandle(h)
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
    A[Arg.HANDLE] = h
    A[Arg.ACCESS] = bits
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
    A[Arg.HANDLE] = h
    A[Arg.ACCESS] = bits
    const sf = nativeExportSyncFile()
    return new SyncFile(token, sf, A[Out.FD])
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
    A[Arg.HANDLE] = DmaBuf.handleOrClosed(this.#buf)
    A[Arg.ACCESS] = bits
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
/** An ArrayBuffer already detached (byteLength 0), as `unmap()` leaves a mapping's. */
function detached(): ArrayBuffer {
  const b = new ArrayBuffer(0)
  structuredClone(b, { transfer: [b] })
  return b
}

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
    this.#offset = A[Out.MAP_OFFSET]
    this.#length = A[Out.MAP_LENGTH]
    this.#bits = A[Out.MAP_ACCESS]
    own(this, h)
  }

  /** The mapped memory, with no copy. Detached (byteLength 0) after `unmap()`. */
  get buffer(): ArrayBuffer {
    if (!Mapping.#is(this)) throw invalidThis('Mapping.buffer', 'Mapping')
    // After unmap(), never read before: a detached ArrayBuffer (byteLength 0), as one read before reads now.
    if (this.#buffer === undefined && this.#h < 0) this.#buffer = detached()
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
    A[Arg.HANDLE] = h
    if (this.#buffer === undefined) nativeClose()
    else nativeUnmap(this.#buffer)
  }

  /** The same function as `unmap()` (installed below). */
  declare [Symbol.dispose]: () => void
}
Object.defineProperty(Mapping.prototype, Symbol.toStringTag, { value: 'Mapping' })

// `using x = ...` and `x[Symbol.dispose]()` are the very same function as
// close() / end() / unmap().
for (const [C, method] of [
  [DmaBuf, 'close'],
  [CpuAccess, 'end'],
  [Mapping, 'unmap'],
] as const) {
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto[method], writable: true, configurable: true })
}
