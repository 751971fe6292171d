// udmabuf (crates/dmabuf/src/udmabuf.rs): dma-bufs over memfd pages.

import { illegalConstructor, invalidThis, invalidType, outOfRange } from '../internal/errors'
import { Out } from '../internal/generated/slots'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { MAX_BATCH, str, uint } from '../internal/validators'
import { DmaBuf } from './dma-buf'

const A = args

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
    return { buffer, memfd: A[Out.MEMFD] }
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

for (const C of [Udmabuf]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
