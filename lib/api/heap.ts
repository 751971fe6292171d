// dma-heap (crates/dmabuf/src/heap.rs): allocations from /dev/dma_heap.

import { illegalConstructor, invalidThis } from '../internal/errors'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { native } from '../internal/native'
import { optionalAccessBits, str, uint } from '../internal/validators'
import { type Access, DmaBuf } from './dma-buf'

/** Names of the dma-heaps in /dev/dma_heap (empty when there are none). */
export function listHeaps(): string[] {
  return native.listHeaps()
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

for (const C of [Heap]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
