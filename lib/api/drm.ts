// DRM PRIME (crates/dmabuf/src/drm.rs): GEM handles and dma-bufs of a DRM device.

import { illegalConstructor, invalidThis, invalidType } from '../internal/errors'
import { Out } from '../internal/generated/slots'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { optionalAccessBits, str, uint } from '../internal/validators'
import { type Access, DmaBuf } from './dma-buf'

const A = args

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
    const raw = A[Out.GEM_HANDLE]
    const pitch = A[Out.GEM_PITCH]
    const size = A[Out.GEM_SIZE]
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
    return new GemHandle(token, g, A[Out.GEM_HANDLE])
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

for (const C of [GemHandle, DrmDevice]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
