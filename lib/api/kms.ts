// KMS (crates/dmabuf/src/kms.rs): showing dma-bufs on a display through
// atomic mode setting. A Card lists connectors, CRTCs and planes, imports a
// Frame as a Framebuffer, and commits KmsAtomic requests built by property
// name, with in-fences from SyncFiles and out-fences back as SyncFiles; its
// page-flip events are awaited on the event loop (no thread blocks).

import type * as Native from '../native'
import { closedError, illegalConstructor, invalidThis, invalidType, invalidValue, outOfRange } from '../internal/errors'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { native } from '../internal/native'
import { bool, field, objectArg, str, timeoutMs as timeoutMsOf, U32, uint } from '../internal/validators'
import { abortable, liveSignal, waitId } from '../internal/waits'
import { DmaBuf } from './dma-buf'
import { Frame } from './frame'
import { SyncFile } from './sync-file'

export type { KmsMode, KmsConnector, KmsCrtc, KmsPlane, KmsProperty, KmsEvent } from '../native'

/** What `Card.open` takes. */
export interface CardOpenOptions {
  /** Take DRM master (default true): only the master may commit. With false the card does not hold it (one the kernel gave its first opener is dropped) and can list and add framebuffers. */
  master?: boolean
  /** List writeback connectors too (`DRM_CLIENT_CAP_WRITEBACK_CONNECTORS`). */
  writeback?: boolean
}

/** How `KmsAtomic.commit` (and `test`) commits. */
export interface KmsCommitOptions {
  /** `DRM_MODE_ATOMIC_ALLOW_MODESET`: the commit may change modes (turn a CRTC on, move a connector). */
  allowModeset?: boolean
  /** `DRM_MODE_ATOMIC_NONBLOCK`: return before the commit reaches the screen. */
  nonblock?: boolean
  /** `DRM_MODE_PAGE_FLIP_EVENT`: a 'flip-complete' event per CRTC (`Card.nextEvents`) carrying this user data (`true`: 0n). */
  flipEvent?: boolean | bigint
}

const MAX_U64 = 2n ** 64n - 1n
/** `DRM_PROP_NAME_LEN` less its NUL. */
const PROP_NAME_MAX = 31
const MIN_I64 = -(2n ** 63n)

/** A KMS object id (a connector, CRTC or plane). */
function objectId(method: string, name: string, v: unknown): number {
  return uint(method, name, v, U32)
}

/** The numbers of a `KmsMode` after its name, in the order `kmsCreateModeBlob` takes them, with their limits. */
const MODE_FIELDS: [keyof Native.KmsMode, number][] = [
  ['clock', U32], ['hdisplay', 0xffff], ['hsyncStart', 0xffff], ['hsyncEnd', 0xffff], ['htotal', 0xffff], ['hskew', 0xffff],
  ['vdisplay', 0xffff], ['vsyncStart', 0xffff], ['vsyncEnd', 0xffff], ['vtotal', 0xffff], ['vscan', 0xffff], ['vrefresh', U32],
  ['flags', U32], ['type', U32],
]

/** A mode blob (`DRM_IOCTL_MODE_CREATEPROPBLOB`): the value for a CRTC's `MODE_ID`. A CRTC using it keeps its own reference. */
export class KmsPropertyBlob {
  #h: number
  #id: number

  static #is(x: unknown): x is KmsPropertyBlob {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, id: number) {
    if (key !== token) throw illegalConstructor('KmsPropertyBlob')
    this.#h = h
    this.#id = id
    own(this, h)
  }

  /** @internal */
  static handleOrClosed(x: unknown): number | undefined {
    return KmsPropertyBlob.#is(x) ? x.#h : undefined
  }

  /** The blob id (0 once closed). */
  get id(): number {
    if (!KmsPropertyBlob.#is(this)) throw invalidThis('KmsPropertyBlob.id', 'KmsPropertyBlob')
    return this.#h < 0 ? 0 : this.#id
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!KmsPropertyBlob.#is(this)) throw invalidThis('KmsPropertyBlob.closed', 'KmsPropertyBlob')
    return this.#h < 0
  }

  /** DRM_IOCTL_MODE_DESTROYPROPBLOB. Calling it again does nothing. */
  close(): void {
    if (!KmsPropertyBlob.#is(this)) throw invalidThis('KmsPropertyBlob.close', 'KmsPropertyBlob')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/**
 * A framebuffer (`DRM_IOCTL_MODE_ADDFB2`) of a Frame's dma-bufs. It holds
 * GEM handles of its own: the Frame may be closed meanwhile. `close()`
 * removes it (`DRM_IOCTL_MODE_RMFB`, which also turns off a plane still
 * showing it).
 */
export class Framebuffer {
  #h: number
  #id: number

  static #is(x: unknown): x is Framebuffer {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, id: number) {
    if (key !== token) throw illegalConstructor('Framebuffer')
    this.#h = h
    this.#id = id
    own(this, h)
  }

  /** @internal */
  static handleOrClosed(x: unknown): number | undefined {
    return Framebuffer.#is(x) ? x.#h : undefined
  }

  /** The framebuffer id, the value of a plane's `FB_ID` (0 once closed). */
  get id(): number {
    if (!Framebuffer.#is(this)) throw invalidThis('Framebuffer.id', 'Framebuffer')
    return this.#h < 0 ? 0 : this.#id
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!Framebuffer.#is(this)) throw invalidThis('Framebuffer.closed', 'Framebuffer')
    return this.#h < 0
  }

  /** DRM_IOCTL_MODE_RMFB, then its GEM handles go. Calling it again does nothing. */
  close(): void {
    if (!Framebuffer.#is(this)) throw invalidThis('Framebuffer.close', 'Framebuffer')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A property value: an integer (negative for signed properties), a Framebuffer (its id) or a KmsPropertyBlob (its id). */
export type KmsValue = number | bigint | Framebuffer | KmsPropertyBlob

function propertyValue(method: string, v: unknown): bigint {
  if (typeof v === 'bigint') {
    if (v < MIN_I64 || v > MAX_U64) throw outOfRange(method, 'value', `>= -(2n ** 63n) and <= 2n ** 64n - 1n`, `${v}n`)
    return v
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw outOfRange(method, 'value', 'a safe integer', v)
    return BigInt(v)
  }
  for (const [cls, of] of [['Framebuffer', Framebuffer.handleOrClosed], ['KmsPropertyBlob', KmsPropertyBlob.handleOrClosed]] as const) {
    const h = of(v)
    if (h !== undefined) {
      live(h, method, cls)
      return BigInt((v as Framebuffer | KmsPropertyBlob).id)
    }
  }
  throw invalidType(method, 'value', 'of type number or bigint, or a Framebuffer or KmsPropertyBlob', v)
}

function commitFlags(method: string, options: unknown): { allowModeset: boolean; nonblock: boolean; flip: bigint | undefined } {
  if (options === undefined) return { allowModeset: false, nonblock: false, flip: undefined }
  const o = objectArg(method, 'options', options, 'of type object')
  const allowModeset = bool(method, 'options.allowModeset', field(method, 'options.allowModeset', o, 'allowModeset'), false)
  const nonblock = bool(method, 'options.nonblock', field(method, 'options.nonblock', o, 'nonblock'), false)
  const f = field(method, 'options.flipEvent', o, 'flipEvent')
  let flip: bigint | undefined
  if (f === undefined || f === false) flip = undefined
  else if (f === true) flip = 0n
  else if (typeof f === 'bigint') {
    if (f < 0n || f > MAX_U64) throw outOfRange(method, 'options.flipEvent', '>= 0n and <= 2n ** 64n - 1n', `${f}n`)
    flip = f
  } else throw invalidType(method, 'options.flipEvent', 'of type boolean or bigint', f)
  return { allowModeset, nonblock, flip }
}

/**
 * An atomic request (from `card.atomic()`): property values by name, an
 * in-fence per plane, out-fences asked per CRTC or writeback connector.
 * Names are looked up when it is tested or committed (an unknown one is
 * EINVAL naming the properties the object has). Nothing is sent before
 * `test()` or `commit()`; a request may be committed again.
 */
export class KmsAtomic {
  #card: Card
  #objects: number[] = []
  #names: string[] = []
  #values: bigint[] = []
  #fencePlanes: number[] = []
  #fences: SyncFile[] = []
  #outCrtcs: number[] = []
  #outWriteback: number[] = []

  static #check(x: unknown, method: string): KmsAtomic {
    if (typeof x !== 'object' || x === null || !(#card in x)) throw invalidThis(method, 'KmsAtomic')
    return x
  }

  /** @internal */
  constructor(key: symbol, card: Card) {
    if (key !== token) throw illegalConstructor('KmsAtomic')
    this.#card = card
  }

  /** Sets `property` (a name: `'FB_ID'`, `'CRTC_ID'`, `'MODE_ID'`, `'ACTIVE'`, ...) of `object` to `value`; a later value for the same pair wins. */
  set(object: number, property: string, value: KmsValue): this {
    const M = 'KmsAtomic.set'
    const a = KmsAtomic.#check(this, M)
    const o = objectId(M, 'object', object)
    const p = str(M, 'property', property)
    if (p.length < 1 || p.length > PROP_NAME_MAX || p.includes('\0')) {
      throw invalidValue(M, 'property', `must be a property name of 1 to ${PROP_NAME_MAX} characters without NUL. Received ${JSON.stringify(p.length > 28 ? p.slice(0, 25) + '...' : p)}`)
    }
    const v = propertyValue(M, value)
    a.#objects.push(o)
    a.#names.push(p)
    a.#values.push(v)
    return this
  }

  /** `IN_FENCE_FD` of `plane`: the plane shows its new framebuffer only once `fence` signals. The SyncFile must stay open until the commit. */
  inFence(plane: number, fence: SyncFile): this {
    const M = 'KmsAtomic.inFence'
    const a = KmsAtomic.#check(this, M)
    const p = objectId(M, 'plane', plane)
    SyncFile.handleOf(fence, M, 'fence')
    const i = a.#fencePlanes.indexOf(p)
    if (i >= 0) a.#fences[i] = fence
    else {
      a.#fencePlanes.push(p)
      a.#fences.push(fence)
    }
    return this
  }

  /** Asks for `OUT_FENCE_PTR` of `crtc`: the commit returns a SyncFile that signals once it is on screen. */
  outFence(crtc: number): this {
    const M = 'KmsAtomic.outFence'
    const a = KmsAtomic.#check(this, M)
    const c = objectId(M, 'crtc', crtc)
    if (!a.#outCrtcs.includes(c)) a.#outCrtcs.push(c)
    return this
  }

  /** Asks for `WRITEBACK_OUT_FENCE_PTR` of a writeback connector: a SyncFile that signals once the frame is written to its `WRITEBACK_FB_ID`. */
  writebackOutFence(connector: number): this {
    const M = 'KmsAtomic.writebackOutFence'
    const a = KmsAtomic.#check(this, M)
    const c = objectId(M, 'connector', connector)
    if (!a.#outWriteback.includes(c)) a.#outWriteback.push(c)
    return this
  }

  #run(M: string, options: unknown, testOnly: boolean): Native.KmsOutFence[] {
    const h = Card.handleOf(this.#card, M)
    const f = commitFlags(M, options)
    const fences = this.#fences.map((s, i) => SyncFile.handleOf(s, M, `inFence of plane ${this.#fencePlanes[i]}`))
    return native.kmsCommit(h, this.#objects, this.#names, this.#values, this.#fencePlanes, fences, this.#outCrtcs, this.#outWriteback, [f.allowModeset, f.nonblock, testOnly], f.flip)
  }

  /** DRM_IOCTL_MODE_ATOMIC with TEST_ONLY: throws what the kernel would refuse (EINVAL, EACCES without master); changes nothing. */
  test(options?: KmsCommitOptions): void {
    KmsAtomic.#check(this, 'KmsAtomic.test').#run('KmsAtomic.test', options, true)
  }

  /**
   * Tests, then DRM_IOCTL_MODE_ATOMIC. Returns the out-fences asked for,
   * keyed by CRTC or writeback connector id (close them when done).
   * EBUSY while a nonblocking commit on the same CRTC is pending; EACCES
   * without DRM master.
   */
  commit(options?: KmsCommitOptions): Map<number, SyncFile> {
    const out = KmsAtomic.#check(this, 'KmsAtomic.commit').#run('KmsAtomic.commit', options, false)
    return new Map(out.map((o) => [o.object, new SyncFile(token, o.handle, o.fd)]))
  }
}

/**
 * An open KMS card (`/dev/dri/card*`) with atomic mode setting, as DRM
 * master unless asked otherwise. Close it with `close()` (or `using`):
 * that releases master, and pending `nextEvents()` reject with
 * ERR_DMABUF_CLOSED.
 */
export class Card {
  #h: number
  #pending = new Set<number>()

  static #is(x: unknown): x is Card {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('Card')
    this.#h = h
    own(this, h)
  }

  /** @internal */
  static handleOf(c: Card, method: string): number {
    if (!Card.#is(c)) throw invalidThis(method, 'Card')
    return live(c.#h, method, 'Card')
  }

  /**
   * Opens a KMS card: `path`, or else the first /dev/dri/card* with atomic
   * mode setting (ENODEV listing each card tried when none is). Throws
   * EBUSY when another process or Card is DRM master (unless `master` is
   * false), EOPNOTSUPP for a card without atomic mode setting (vgem).
   */
  static open(path?: string, options?: CardOpenOptions): Card {
    const M = 'Card.open'
    const p = path === undefined ? undefined : str(M, 'path', path)
    let master = true
    let writeback = false
    if (options !== undefined) {
      const o = objectArg(M, 'options', options, 'of type object')
      master = bool(M, 'options.master', field(M, 'options.master', o, 'master'), true)
      writeback = bool(M, 'options.writeback', field(M, 'options.writeback', o, 'writeback'), false)
    }
    const card = new Card(token, native.kmsOpen(p, master))
    if (writeback) {
      try {
        native.kmsEnableWriteback(card.#h)
      } catch (e) {
        card.close()
        throw e
      }
    }
    return card
  }

  static #open(self: unknown, method: string): number {
    if (!Card.#is(self)) throw invalidThis(method, 'Card')
    return live(self.#h, method, 'Card')
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!Card.#is(this)) throw invalidThis('Card.closed', 'Card')
    return this.#h < 0
  }

  /** The device node's path. */
  get path(): string {
    return native.kmsDescribe(Card.#open(this, 'Card.path'))[0]
  }

  /** DRM_IOCTL_VERSION: the driver's name ('vkms', 'i915', ...). */
  driverName(): string {
    return native.kmsDescribe(Card.#open(this, 'Card.driverName'))[1]
  }

  /** Whether this card holds DRM master (needed to commit). */
  get isMaster(): boolean {
    return native.kmsIsMaster(Card.#open(this, 'Card.isMaster'))
  }

  /** The connectors (DRM_IOCTL_MODE_GETCONNECTOR, which probes each), with their modes. */
  connectors(): Native.KmsConnector[] {
    return native.kmsConnectors(Card.#open(this, 'Card.connectors'))
  }

  /** The CRTCs in index order. */
  crtcs(): Native.KmsCrtc[] {
    return native.kmsCrtcs(Card.#open(this, 'Card.crtcs'))
  }

  /** The planes with their type, formats (fourcc strings) and, per format, the modifiers of their IN_FORMATS. */
  planes(): Native.KmsPlane[] {
    return native.kmsPlanes(Card.#open(this, 'Card.planes'))
  }

  /** The properties of a connector, CRTC or plane, with their values (ENOENT for an unknown object). */
  properties(object: number): Native.KmsProperty[] {
    const M = 'Card.properties'
    const h = Card.#open(this, M)
    return native.kmsProperties(h, objectId(M, 'object', object))
  }

  /** DRM_IOCTL_MODE_CREATEPROPBLOB of a mode (from a connector's `modes`): the value for a CRTC's `MODE_ID`. */
  createModeBlob(mode: Native.KmsMode): KmsPropertyBlob {
    const M = 'Card.createModeBlob'
    const h = Card.#open(this, M)
    const m = objectArg(M, 'mode', mode, 'a KmsMode object')
    const name = str(M, 'mode.name', field(M, 'mode.name', m, 'name'))
    const numbers = MODE_FIELDS.map(([k, max]) => uint(M, `mode.${k}`, field(M, `mode.${k}`, m, k), max))
    const b = native.kmsCreateModeBlob(h, name, numbers)
    return new KmsPropertyBlob(token, b.handle, b.id)
  }

  /**
   * DRM_IOCTL_PRIME_FD_TO_HANDLE of each plane's dma-buf, then
   * DRM_IOCTL_MODE_ADDFB2 of the frame's size, format, modifier, offsets
   * and pitches. With `plane` (a plane or its id), its formats and
   * IN_FORMATS are checked first: EINVAL naming what it takes. The frame
   * stays the caller's.
   */
  addFramebuffer(frame: Frame, plane?: Native.KmsPlane | number): Framebuffer {
    const M = 'Card.addFramebuffer'
    const h = Card.#open(this, M)
    if (!(frame instanceof Frame)) throw invalidType(M, 'frame', 'an instance of Frame', frame)
    const width = uint(M, 'frame.width', frame.width, U32)
    const height = uint(M, 'frame.height', frame.height, U32)
    const fourcc = uint(M, 'frame.fourcc', frame.fourcc, U32)
    const modifier = frame.modifier
    if (typeof modifier !== 'bigint') throw invalidType(M, 'frame.modifier', 'of type bigint', modifier)
    const planes = frame.planes as unknown
    if (!Array.isArray(planes) || planes.length < 1 || planes.length > 4) throw invalidValue(M, 'frame', 'is not a Frame made by new Frame()')
    const bufs: number[] = []
    const offsets: number[] = []
    const pitches: number[] = []
    planes.forEach((p: unknown, i) => {
      const q = objectArg(M, `frame.planes[${i}]`, p, 'of type object') as { buf: unknown; offset: unknown; pitch: unknown }
      bufs.push(DmaBuf.handleOf(q.buf as DmaBuf, M, `frame.planes[${i}].buf`, i))
      offsets.push(uint(M, `frame.planes[${i}].offset`, q.offset, U32))
      pitches.push(uint(M, `frame.planes[${i}].pitch`, q.pitch, U32))
    })
    let target: number | undefined
    if (plane !== undefined) {
      if (typeof plane === 'object' && plane !== null) target = objectId(M, 'plane.id', field(M, 'plane.id', plane, 'id'))
      else if (typeof plane === 'number') target = objectId(M, 'plane', plane)
      else throw invalidType(M, 'plane', 'a KmsPlane or a plane id', plane)
    }
    const fb = native.kmsAddFramebuffer(h, width, height, fourcc, modifier, bufs, offsets, pitches, target)
    return new Framebuffer(token, fb.handle, fb.id)
  }

  /** DRM_CLIENT_CAP_WRITEBACK_CONNECTORS: list writeback connectors too (also `Card.open(path, { writeback: true })`). */
  enableWriteback(): void {
    native.kmsEnableWriteback(Card.#open(this, 'Card.enableWriteback'))
  }

  /** A new atomic request on this card. */
  atomic(): KmsAtomic {
    Card.#open(this, 'Card.atomic')
    return new KmsAtomic(token, this)
  }

  /**
   * Resolves the events the card has queued (page flips of commits with
   * `flipEvent`) once there is at least one, or [] when `timeoutMs` passes
   * first; rejects with an AbortError when `signal` aborts, with
   * ERR_DMABUF_CLOSED when the card is closed meanwhile. No thread waits:
   * the card's fd sits in the event loop. Never throws: every error is a
   * rejection.
   */
  async nextEvents(timeoutMs?: number, signal?: AbortSignal): Promise<Native.KmsEvent[]> {
    const M = 'Card.nextEvents'
    const h = Card.#open(this, M)
    const t = timeoutMsOf(M, timeoutMs)
    const s = liveSignal(M, signal)
    const id = waitId()
    this.#pending.add(id)
    try {
      const r = await abortable(M, s, id, native.kmsNextEvents(h, t, id), (i) => native.kmsCancelEvents(i))
      if (r === null && this.#h < 0) throw closedError(M, 'Card')
      return r ?? []
    } finally {
      this.#pending.delete(id)
    }
  }

  /** Closes the card: DRM master is released; its Framebuffers and blobs stay until closed. Calling it again does nothing. */
  close(): void {
    if (!Card.#is(this)) throw invalidThis('Card.close', 'Card')
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.kmsCancelEvents(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [KmsPropertyBlob, Framebuffer, Card]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
Object.defineProperty(KmsAtomic.prototype, Symbol.toStringTag, { value: 'KmsAtomic' })
