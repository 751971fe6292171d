// Vulkan buffers, images, semaphores and fences (crates/dmabuf/src/vulkan.rs),
// made by a Vulkan device (./vulkan.ts).


import type * as Native from '../native'
import { illegalConstructor, invalidThis, invalidType } from '../internal/errors'
import { Out } from '../internal/generated/slots'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { timeoutMs as timeoutMsOf, uint } from '../internal/validators'
import { liveSignal, sleep } from '../internal/waits'
import { DmaBuf } from './dma-buf'
import { Frame } from './frame'
import { SyncFile } from './sync-file'
import type { VulkanFormat } from './vulkan'

const A = args

/** The longest step between two status checks of `VulkanFence.wait`, in ms. */
const FENCE_POLL_MAX_MS = 16

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
    this.#size = A[Out.VK_SIZE]
    this.#hostVisible = A[Out.VK_HOST_VISIBLE] === 1
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

  /**
   * The image as a Frame (the Rust `Frame::from_vulkan_image`): its memory
   * exported as a dma-buf (vkGetMemoryFdKHR, duplicated for each further
   * plane), the modifier the driver chose and each memory plane's offset and
   * pitch (vkGetImageSubresourceLayout). The fourcc is the one the image was
   * made with (`'XR24'` stays `'XR24'`). The frame's DmaBufs are new and
   * yours (`frame.close()`); the image stays open and shares the memory.
   * Throws EOPNOTSUPP for an imported image (its memory is not exportable),
   * EINVAL when an offset or pitch does not fit in 32 bits.
   */
  toFrame(): Frame {
    const M = 'VulkanImage.toFrame'
    if (!VulkanImage.#is(this)) throw invalidThis(M, 'VulkanImage')
    const r = native.vkImageToFrame(live(this.#h, M, 'VulkanImage'))
    const bufs: DmaBuf[] = []
    for (let i = 0; i < r.handles.length; i++) {
      A[Out.FD] = r.fds[i]
      A[Out.BUF_SIZE] = r.sizes[i]
      bufs.push(new DmaBuf(token, r.handles[i]))
    }
    try {
      return new Frame({
        width: this.#width,
        height: this.#height,
        fourcc: this.#format,
        modifier: r.modifier,
        planes: bufs.map((buf, i) => ({ buf, offset: r.offsets[i], pitch: r.pitches[i] })),
      })
    } catch (e) {
      for (const b of bufs) b.close()
      throw e
    }
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
   * On lavapipe, `EBUSY` after 200 ms (payload kept) while the queue holds a
   * `submit` whose waits have not signalled: its exports wait for the queue.
   */
  exportSyncFile(): SyncFile | null {
    const h = native.vkSemaphoreExport(VulkanSemaphore.#open(this, 'VulkanSemaphore.exportSyncFile'))
    return h === -1 ? null : new SyncFile(token, h, A[Out.FD])
  }

  /** vkImportSemaphoreFdKHR(SYNC_FD, temporary): the next wait on it waits for `syncFile` (null: signalled). Vulkan takes a duplicate: the SyncFile stays yours. */
  importSyncFile(syncFile: SyncFile | null): void {
    const M = 'VulkanSemaphore.importSyncFile'
    native.vkSemaphoreImport(VulkanSemaphore.#open(this, M), vkSyncFileOrNull(M, syncFile))
  }

  /** vkDestroySemaphore, at once when the queue is done with it (within 50 ms), else once it is: never blocks on a sync_file that has not signalled. */
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

  /** vkGetFenceFdKHR(SYNC_FD): the fence's signal as a new SyncFile, yours; null when already signalled (fd -1). `EBUSY` on lavapipe as for `VulkanSemaphore.exportSyncFile`. */
  exportSyncFile(): SyncFile | null {
    const h = native.vkFenceExport(VulkanFence.#open(this, 'VulkanFence.exportSyncFile'))
    return h === -1 ? null : new SyncFile(token, h, A[Out.FD])
  }

  /** vkImportFenceFdKHR(SYNC_FD, temporary): the fence signals when `syncFile` does (null: at once). The SyncFile stays yours. */
  importSyncFile(syncFile: SyncFile | null): void {
    const M = 'VulkanFence.importSyncFile'
    native.vkFenceImport(VulkanFence.#open(this, M), vkSyncFileOrNull(M, syncFile))
  }

  /**
   * Resolves true once the fence has signalled, false when `timeoutMs`
   * passes first (default, or Infinity: for ever); rejects with an
   * AbortError when `signal` aborts, with ERR_DMABUF_CLOSED when the fence
   * is closed meanwhile, and with EINVAL when nothing was submitted or
   * imported that will signal it. No thread is blocked: a Vulkan fence has
   * no fd for the event loop to watch, so this asks `vkGetFenceStatus`
   * (vkWaitForFences with a zero timeout) on timers, 1 ms apart at first and
   * doubling to 16 ms, and sees a signal at most that late. Timers and I/O
   * run meanwhile, and the pending timer keeps the process alive. Never
   * throws: every error is a rejection.
   */
  async wait(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const M = 'VulkanFence.wait'
    let h = VulkanFence.#open(this, M)
    const t = timeoutMsOf(M, timeoutMs)
    const s = liveSignal(M, signal)
    const deadline = t < 0 ? Infinity : performance.now() + t
    for (let step = 1; ; step = Math.min(step * 2, FENCE_POLL_MAX_MS)) {
      if (native.vkFenceWait(h, 0, false)) return true
      const left = deadline - performance.now()
      if (left <= 0) return false
      await sleep(M, Math.min(step, left), s)
      h = VulkanFence.#open(this, M)
    }
  }

  /**
   * vkWaitForFences, blocking this thread: true once signalled, false after
   * `timeoutMs` (default: for ever). Nothing else runs on this thread
   * meanwhile; prefer `wait()`.
   */
  waitSync(timeoutMs?: number): boolean {
    const M = 'VulkanFence.waitSync'
    const h = VulkanFence.#open(this, M)
    const t = timeoutMs === undefined || timeoutMs === Infinity ? -1 : uint(M, 'timeoutMs', timeoutMs, 2 ** 52)
    return native.vkFenceWait(h, t, true)
  }

  /** vkResetFences. */
  reset(): void {
    native.vkFenceReset(VulkanFence.#open(this, 'VulkanFence.reset'))
  }

  /** vkDestroyFence, at once when the queue is done with it (within 50 ms), else once it is: never blocks on a sync_file that has not signalled. */
  close(): void {
    if (!VulkanFence.#is(this)) throw invalidThis('VulkanFence.close', 'VulkanFence')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [VulkanBuffer, VulkanImage, VulkanSemaphore, VulkanFence]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
