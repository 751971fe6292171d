// Frames (crates/dmabuf/src/frame/): an image in dma-bufs as the Linux
// graphics and media stack describes one, a DRM fourcc, a format modifier
// (a bigint) and one to four planes of (DmaBuf, offset, pitch). The checks,
// the names and the drm-format strings are the Rust core's.

import type * as Native from '../native'
import { describe, invalidThis, invalidType, invalidValue, outOfRange } from '../internal/errors'
import { native } from '../internal/native'
import { field, objectArg, str, U32, uint } from '../internal/validators'
import { DmaBuf } from './dma-buf'

export type { FrameFormatInfo } from '../native'

/** One plane of a `Frame`: rows `pitch` bytes apart from `offset` in `buf`. */
export interface FramePlane {
  readonly buf: DmaBuf
  readonly offset: number
  readonly pitch: number
}

/** What `new Frame` takes. `fourcc` is a code or a name (`'NV12'`, `'XRGB8888'`, `'XR24'`); `modifier` defaults to LINEAR (`0n`). */
export interface FrameOptions {
  width: number
  height: number
  fourcc: number | string
  modifier?: bigint
  planes: { buf: DmaBuf; offset?: number; pitch: number }[]
}

/** Most planes a frame has (the Rust core's `MAX_PLANES`). */
const MAX_PLANES = 4
/** Most memory planes of a V4L2 format (`VIDEO_MAX_PLANES`). */
const VIDEO_MAX_PLANES = 8

/** An array's length, checked to lie in 1..=max before any element is read (a sparse array may claim 2^32 - 1). */
function arrayLength(method: string, name: string, v: unknown, max: number): unknown[] & { length: number } {
  if (!Array.isArray(v)) throw invalidType(method, name, 'an instance of Array', v)
  const n = field(method, `${name}.length`, v, 'length') as number
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) throw outOfRange(method, `${name}.length`, `>= 1 and <= ${max}`, n)
  return v
}

function modifierArg(method: string, name: string, m: unknown): bigint {
  if (typeof m !== 'bigint') throw invalidType(method, name, 'of type bigint', m)
  return m
}

function fourccArg(method: string, name: string, f: unknown): number {
  if (typeof f === 'number') return uint(method, name, f, U32)
  if (typeof f !== 'string') throw invalidType(method, name, 'of type number or string', f)
  const code = native.fourccFromName(f)
  if (code === null || code === undefined) throw invalidValue(method, name, `must be a DRM format name or 1 to 4 printable characters. Received ${JSON.stringify(f.length > 28 ? f.slice(0, 25) + '...' : f)}`)
  return code
}

/** The code of a DRM format name (`'NV12'`, `'XRGB8888'`) or of its 1 to 4 characters (`'XR24'`, `'R8'`). */
export function drmFourcc(name: string): number {
  return fourccArg('drmFourcc', 'name', str('drmFourcc', 'name', name))
}

/** The DRM format's name (`'XRGB8888'`), or its characters (`'Q123'`) outside the table. */
export function drmFourccName(code: number): string {
  return native.fourccNames(uint('drmFourccName', 'code', code, U32))[0]
}

/** A modifier as `drm_info` prints it: `'LINEAR'`, `'I915_FORMAT_MOD_Y_TILED'`, else `'AMD(0x1234)'`. */
export function drmModifierName(modifier: bigint): string {
  return native.modifierName(modifierArg('drmModifierName', 'modifier', modifier))
}

/** Parses GStreamer's `drm-format` string: `'NV12'` (LINEAR) or `'NV12:0x0100000000000002'`. Throws EINVAL for anything else. */
export function parseDrmFormat(s: string): { fourcc: number; modifier: bigint } {
  return native.drmFormatParse(str('parseDrmFormat', 's', s))
}

/** The `drm-format` string of a fourcc and a modifier (no `:0x…` for LINEAR). */
export function drmFormatString(fourcc: number, modifier: bigint): string {
  const M = 'drmFormatString'
  return native.drmFormatString(uint(M, 'fourcc', fourcc, U32), modifierArg(M, 'modifier', modifier))
}

/** The common formats: planes, bytes per pixel per plane, subsampling of planes 1 and up. */
export function drmFormats(): Native.FrameFormatInfo[] {
  return native.frameFormats()
}

/** Whether `x` is a Frame this module made (its private brand), set by Frame's static block. */
let isFrame: (x: unknown) => x is Frame

/**
 * A Frame given as the argument `name` of `method` to another class of this
 * package (not exported by the package): ERR_INVALID_ARG_TYPE for anything
 * else, a forged `Object.create(Frame.prototype)` included.
 */
export function frameArg(x: unknown, method: string, name: string): Frame {
  if (!isFrame(x)) throw invalidType(method, name, 'an instance of Frame', x)
  return x
}

/**
 * An image in dma-bufs. The constructor checks (in Rust) the plane count of
 * the format (more only with a non-linear modifier), each pitch against a
 * row and each `offset + pitch * rows` against its dma-buf's size, and
 * throws EINVAL naming the plane, the fd and the numbers. The frame takes
 * the DmaBufs: `close()` closes each of them (a DmaBuf given for several
 * planes once).
 */
export class Frame {
  readonly width: number
  readonly height: number
  readonly fourcc: number
  readonly modifier: bigint
  readonly planes: readonly FramePlane[]
  #brand = true

  /** @internal Whether `x` is a Frame made by the constructor (not an object that only claims the prototype). */
  static isFrame(x: unknown): x is Frame {
    return typeof x === 'object' && x !== null && #brand in x
  }

  static #check(x: unknown, method: string): Frame {
    if (typeof x !== 'object' || x === null || !(#brand in x)) throw invalidThis(method, 'Frame')
    return x
  }

  static {
    isFrame = (x: unknown): x is Frame => typeof x === 'object' && x !== null && #brand in x
  }

  constructor(options: FrameOptions) {
    const M = 'new Frame'
    const o = objectArg(M, 'options', options, 'of type object')
    const width = uint(M, 'options.width', field(M, 'options.width', o, 'width'), U32)
    const height = uint(M, 'options.height', field(M, 'options.height', o, 'height'), U32)
    const fourcc = fourccArg(M, 'options.fourcc', field(M, 'options.fourcc', o, 'fourcc'))
    const m = field(M, 'options.modifier', o, 'modifier')
    const modifier = m === undefined ? 0n : modifierArg(M, 'options.modifier', m)
    const list = arrayLength(M, 'options.planes', field(M, 'options.planes', o, 'planes'), MAX_PLANES)
    const n = list.length
    const planes: FramePlane[] = []
    for (let i = 0; i < n; i++) {
      const name = `options.planes[${i}]`
      const p = objectArg(M, name, field(M, name, list, i), 'of type object')
      const buf = field(M, `${name}.buf`, p, 'buf') as DmaBuf
      DmaBuf.handleOf(buf, M, `${name}.buf`, i)
      const off = field(M, `${name}.offset`, p, 'offset')
      const offset = off === undefined ? 0 : uint(M, `${name}.offset`, off, U32)
      const pitch = uint(M, `${name}.pitch`, field(M, `${name}.pitch`, p, 'pitch'), U32)
      planes.push(Object.freeze({ buf, offset, pitch }))
    }
    native.frameCheck(
      width,
      height,
      fourcc,
      modifier,
      planes.map((p) => p.buf.fd),
      planes.map((p) => p.buf.size),
      planes.map((p) => p.offset),
      planes.map((p) => p.pitch),
    )
    this.width = width
    this.height = height
    this.fourcc = fourcc
    this.modifier = modifier
    this.planes = Object.freeze(planes)
  }

  /**
   * The frame of a dequeued V4L2 buffer: `format` from `V4l2Device.format()`
   * (or `setFormat`), `buffer` what `dequeue()` gave, `bufs` the buffer's
   * planes from `exportBuffer(index, plane)`, one per memory plane. The
   * layout is the Rust `Frame::from_v4l2`'s (single-planar formats: every
   * plane in the one buffer, chroma after luma; NV12M and friends: one
   * buffer per plane at its `dataOffset`). The DmaBufs are duplicated: they
   * stay the caller's, and the frame closes only its duplicates.
   */
  static fromV4l2(format: Native.V4l2Format, buffer: Native.V4l2BufferInfo, bufs: DmaBuf[]): Frame {
    const M = 'Frame.fromV4l2'
    const f = objectArg(M, 'format', format, 'a V4l2Format')
    const b = objectArg(M, 'buffer', buffer, 'a V4l2BufferInfo')
    const pixelformat = str(M, 'format.pixelformat', field(M, 'format.pixelformat', f, 'pixelformat'))
    const width = uint(M, 'format.width', field(M, 'format.width', f, 'width'), U32)
    const height = uint(M, 'format.height', field(M, 'format.height', f, 'height'), U32)
    const fPlanes = arrayLength(M, 'format.planes', field(M, 'format.planes', f, 'planes'), VIDEO_MAX_PLANES)
    const n = fPlanes.length
    const bytesperline: number[] = []
    for (let i = 0; i < n; i++) {
      const name = `format.planes[${i}]`
      const p = objectArg(M, name, field(M, name, fPlanes, i), 'of type object')
      bytesperline.push(uint(M, `${name}.bytesperline`, field(M, `${name}.bytesperline`, p, 'bytesperline'), U32))
    }
    const bPlanes = arrayLength(M, 'buffer.planes', field(M, 'buffer.planes', b, 'planes'), VIDEO_MAX_PLANES)
    if (bPlanes.length !== n) {
      throw invalidValue(M, 'buffer.planes', `must hold one entry per memory plane of the format (${n}). Received ${bPlanes.length}`)
    }
    const dataOffsets: number[] = []
    for (let i = 0; i < n; i++) {
      const name = `buffer.planes[${i}]`
      const p = objectArg(M, name, field(M, name, bPlanes, i), 'of type object')
      dataOffsets.push(uint(M, `${name}.dataOffset`, field(M, `${name}.dataOffset`, p, 'dataOffset'), U32))
    }
    if (!Array.isArray(bufs)) throw invalidType(M, 'bufs', 'an instance of Array', bufs)
    const list = bufs as unknown[]
    const count = field(M, 'bufs.length', list, 'length')
    if (count !== n) {
      throw invalidValue(M, 'bufs', `must hold one DmaBuf per memory plane of the format (${n}). Received a length of ${typeof count === 'number' ? count : describe(count)}`)
    }
    const mem: DmaBuf[] = []
    for (let i = 0; i < n; i++) {
      const buf = field(M, `bufs[${i}]`, list, i) as DmaBuf
      DmaBuf.handleOf(buf, M, `bufs[${i}]`, i)
      mem.push(buf)
    }
    const l = native.frameV4l2Layout(pixelformat, width, height, bytesperline, dataOffsets)
    const dups: DmaBuf[] = []
    try {
      for (const m of l.memPlanes) dups.push(mem[m].dup())
      return new Frame({
        width,
        height,
        fourcc: l.fourcc,
        planes: dups.map((buf, i) => ({ buf, offset: l.offsets[i], pitch: l.pitches[i] })),
      })
    } catch (e) {
      for (const d of dups) d.close()
      throw e
    }
  }

  /** The format's name (`'NV12'`, `'XRGB8888'`). */
  get formatName(): string {
    return drmFourccName(Frame.#check(this, 'Frame.formatName').fourcc)
  }

  /** The format as GStreamer's `drm-format` field writes it. */
  get drmFormat(): string {
    const f = Frame.#check(this, 'Frame.drmFormat')
    return drmFormatString(f.fourcc, f.modifier)
  }

  /** Closes every plane's DmaBuf. Calling it again does nothing. */
  close(): void {
    for (const p of Frame.#check(this, 'Frame.close').planes) p.buf.close()
  }

  [Symbol.dispose](): void {
    Frame.#check(this, 'Frame[Symbol.dispose]').close()
  }
}

/** Each Frame's memory planes, found once: a frame's planes never change. */
const memoryPlanes = new WeakMap<Frame, DmaBuf[]>()

/**
 * A Frame's memory planes: its distinct DmaBufs (by inode, which takes an
 * fstat and a read of fdinfo each), in plane order; cached, since an
 * encoder or a sink is given the same frames again and again.
 *
 * @internal Shared by M2mQueue and UnixFdSinkConnection; not exported by the package.
 */
export function frameBuffers(f: Frame): DmaBuf[] {
  const known = memoryPlanes.get(f)
  if (known !== undefined) return known
  const seen = new Set<number>()
  const out: DmaBuf[] = []
  for (const p of f.planes) {
    const ino = p.buf.info().inode
    if (seen.has(ino)) continue
    seen.add(ino)
    out.push(p.buf)
  }
  memoryPlanes.set(f, out)
  return out
}
