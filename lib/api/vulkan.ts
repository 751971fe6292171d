// Vulkan interop (crates/dmabuf/src/vulkan.rs): device memory exported as
// dma-bufs, dma-bufs imported into Vulkan buffers and images, semaphores and
// fences as SyncFiles. The Vulkan loader is opened on demand: nothing here
// runs until Vulkan.open() or Vulkan.available() is called.

import type * as Native from '../native'
import { describe, illegalConstructor, invalidThis, invalidType, invalidValue, outOfRange } from '../internal/errors'
import { closeHandle, closeOnce, live, own, token } from '../internal/lifetime'
import { native } from '../internal/native'
import { handles, optionalUint, uint } from '../internal/validators'
import { DmaBuf } from './dma-buf'
import { type Frame, frameArg } from './frame'
import { VulkanBuffer, VulkanFence, VulkanImage, VulkanSemaphore } from './vulkan-resources'


/** An external memory handle type: a Linux dma-buf, or an fd only the same Vulkan driver can import. */
export type VulkanHandleType = 'dma-buf' | 'opaque-fd'
/** DRM fourcc codes of the image formats the binding knows ('AR24' is B8G8R8A8_UNORM, 'NV12' two planes). */
export type VulkanFormat = 'AR24' | 'XR24' | 'AB24' | 'XB24' | 'R8' | 'GR88' | 'RG16' | 'NV12'
export type { VulkanCapabilities, VulkanHandleSupport, VulkanSyncFdSupport, VulkanModifier, VulkanImageLayout, VulkanPlane } from '../native'

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

/**
 * Runs an import, whose native side hands Vulkan a duplicate of the dma-buf's
 * fd (Vulkan takes ownership of what it imports): an error naming that
 * duplicate, closed by now, names the caller's `DmaBuf.fd` instead (`err.fd`
 * and the message's `(fd N)`).
 */
function callerFd<T>(dmabuf: DmaBuf, run: () => T): T {
  try {
    return run()
  } catch (e) {
    const err = e as { fd?: unknown; message?: unknown }
    if (typeof err === 'object' && err !== null && typeof err.fd === 'number' && err.fd !== dmabuf.fd) {
      if (typeof err.message === 'string') err.message = err.message.replaceAll(`(fd ${err.fd})`, `(fd ${dmabuf.fd})`)
      err.fd = dmabuf.fd
    }
    throw e
  }
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
      closeHandle(b)
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
    const b = callerFd(dmabuf, () => native.vkImportBuffer(h, bh, size, vkHostVisible(M, o.hostVisible)))
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
    const img = callerFd(dmabuf, () => native.vkImportImage(h, bh, w, ht, f, mod, offsets, pitches, vkHostVisible(M, options.hostVisible)))
    const out = new VulkanImage(token, img, w, ht, f)
    dmabuf.close()
    return out
  }

  /**
   * Imports a Frame as a 2D image (the Rust `Frame::to_vulkan_image`):
   * vkCreateImage with VkImageDrmFormatModifierExplicitCreateInfoEXT (the
   * frame's modifier, each plane's offset and pitch) and vkAllocateMemory
   * importing a duplicate of the planes' dma-buf. The frame stays yours and
   * open, whatever happens. Every plane must be in the same dma-buf; the
   * fourcc must have a Vulkan format (`'AR24'`, `'XR24'`, `'AB24'`, `'XB24'`,
   * `'R8'`, `'GR88'`, `'RG16'`, `'NV12'`), else EOPNOTSUPP; a linear layout
   * whose offset or pitch splits a texel is EINVAL naming the plane.
   */
  importFrame(frame: Frame, options?: { hostVisible?: boolean }): VulkanImage {
    const M = 'Vulkan.importFrame'
    const h = Vulkan.#open(this, M)
    const f = frameArg(frame, M, 'frame')
    const visible = vkHostVisible(M, vkOptions(M, options).hostVisible)
    const bufs = new Float64Array(f.planes.length)
    f.planes.forEach((p, i) => {
      bufs[i] = DmaBuf.handleOf(p.buf, M, `frame.planes[${i}].buf`)
    })
    const img = native.vkImportFrame(
      h,
      f.width,
      f.height,
      f.fourcc,
      f.modifier,
      bufs,
      f.planes.map((p) => p.offset),
      f.planes.map((p) => p.pitch),
      visible,
    )
    const chars = String.fromCharCode(f.fourcc & 0xff, (f.fourcc >>> 8) & 0xff, (f.fourcc >>> 16) & 0xff, (f.fourcc >>> 24) & 0xff).trimEnd()
    return new VulkanImage(token, img, f.width, f.height, chars as VulkanFormat)
  }

  /** vkCmdFillBuffer: `value` (a 32-bit word, little-endian) into `[offset, offset + size)` of `buffer` (default: all of it), on the device; returns once done. Throws `EBUSY` after 200 ms, having run nothing, while a `submit` whose waits have not signalled holds the queue. */
  fill(buffer: VulkanBuffer, value: number, offset?: number, size?: number): void {
    const M = 'Vulkan.fill'
    const h = Vulkan.#open(this, M)
    const b = vkMemberHandle(M, 'buffer', buffer, VulkanBuffer)
    const v = uint(M, 'value', value, 2 ** 32 - 1)
    const off = optionalUint(M, 'offset', offset, 0)
    const n = size === undefined ? buffer.size - off : uint(M, 'size', size)
    native.vkFill(h, b, off, n, v)
  }

  /** vkCmdCopyBuffer: `size` bytes (default: all of `src`) from `src` to `dst`, on the device; returns once done (`EBUSY` as for `fill`). */
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

  /** vkCmdCopyBufferToImage: tightly packed rows of `src` into all of the single-plane image `dst`; returns once done (`EBUSY` as for `fill`). */
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

for (const C of [Vulkan]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
