// V4L2 (crates/dmabuf/src/v4l2.rs): device buffers exported as dma-bufs,
// dma-bufs imported into a queue.

import type * as Native from '../native'
import { closedError, illegalConstructor, invalidThis, invalidType, invalidValue, nodeError, osError, outOfRange } from '../internal/errors'
import { closeHandle, closeOnce, live, own, token } from '../internal/lifetime'
import { native } from '../internal/native'
import { type Access, handles, int32, optionalAccessBits, str, timeoutMs, U32, uint, uintList } from '../internal/validators'
import { abortable, liveSignal, waitId } from '../internal/waits'
import { DmaBuf } from './dma-buf'


export type { V4l2Caps, V4l2Format, V4l2PlaneFormat, V4l2BufferInfo, V4l2PlaneInfo, V4l2ControlInfo, V4l2Node } from '../native'

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


export function formatRequest(method: string, f: unknown): Native.V4l2Format {
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


/**
 * Waits on the event loop (the node's fd watched by libuv, no thread)
 * through `start(t, id)` (a native wait that resolves true once ready,
 * false once `t` ms pass (-1: no limit), null once cancelled). `pending`
 * holds the wait's id meanwhile, for close() to cancel it; a wait
 * cancelled because `closed()` rejects with ERR_DMABUF_CLOSED naming `cls`.
 */
async function ready(M: string, cls: string, start: (t: number, id: number) => Promise<boolean | null>, t: number, signal: AbortSignal | undefined, pending: Set<number>, closed: () => boolean): Promise<boolean> {
  const id = waitId()
  pending.add(id)
  try {
    const r = await abortable(M, signal, id, start(t, id), (i) => native.v4l2CancelWait(i))
    if (r === null && closed()) throw closedError(M, cls)
    return r === true
  } finally {
    pending.delete(id)
  }
}

/** What `v4l2Dequeue` needs of the object it dequeues from. */
export interface DequeueSource<T> {
  /** The class, for ERR_DMABUF_CLOSED. */
  cls: string
  /** Starts the native readiness wait (see `ready`). */
  start: (t: number, id: number) => Promise<boolean | null>
  /** Ids of its pending waits, for close() to cancel. */
  pending: Set<number>
  closed: () => boolean
  /** Dequeues without waiting: the value, or null when nothing is done. */
  take: () => T | null
  /** What "ready with nothing to take" means, for the EPIPE error. */
  idle?: string
}

/**
 * Dequeues with `take`, waiting for readiness in between, until a value
 * comes, the timeout passes (null) or the signal aborts. Ready with nothing
 * to take is the queue's error state (not streaming, or nothing queued):
 * EPIPE.
 */
export async function v4l2Dequeue<T>(M: string, timeout: unknown, signal: unknown, src: DequeueSource<T>): Promise<T | null> {
  const t = timeoutMs(M, timeout)
  const s = liveSignal(M, signal)
  // Fast path, while the event loop turned recently (else timers would
  // starve under a loop that always finds a buffer ready).
  if (native.waitFresh()) {
    const first = src.take()
    if (first !== null) return first
  }
  if (!(await ready(M, src.cls, src.start, t, s, src.pending, src.closed))) return null
  const got = src.take()
  if (got !== null) return got
  throw osError('EPIPE', 32, 'poll', `${src.idle ?? 'the queue reported an error on poll (not streaming, or no buffer queued)'}, ${M}`)
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
      closeHandle(h)
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
    return v4l2Dequeue(M, timeoutMs, signal, {
      cls: 'V4l2Device',
      start: (t, id) => native.v4l2Wait(h, type, t, id),
      pending: this.#pending,
      closed: () => this.#h < 0,
      take: () => native.v4l2TryDequeue(h, type),
    })
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
    const type = this.#type
    return v4l2Dequeue(M, timeoutMs, signal, {
      cls: 'V4l2DmaBufQueue',
      start: (t, id) => native.v4l2Wait(h, type, t, id),
      pending: this.#pending,
      closed: () => this.#h < 0,
      take: () => this.#take(native.v4l2QueueTryDequeue(h)),
    })
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
