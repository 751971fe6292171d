// Frames (crates/dmabuf/src/frame/): an image in dma-bufs as the Linux
// graphics and media stack describes one, a DRM fourcc, a format modifier
// (a bigint) and one to four planes of (DmaBuf, offset, pitch). The checks,
// the names and the drm-format strings are the Rust core's.

import type * as Native from '../native'
import { invalidThis, invalidType, invalidValue } from '../internal/errors'
import { native } from '../internal/native'
import { str, U32, uint } from '../internal/validators'
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

function modifierArg(method: string, name: string, m: unknown): bigint {
  if (typeof m !== 'bigint') throw invalidType(method, name, 'of type bigint', m)
  return m
}

/** The code of a DRM format name (`'NV12'`, `'XRGB8888'`) or of its 1 to 4 characters (`'XR24'`, `'R8'`). */
export function drmFourcc(name: string): number {
  const M = 'drmFourcc'
  const code = native.fourccFromName(str(M, 'name', name))
  if (code === null || code === undefined) throw invalidValue(M, 'name', `must be a DRM format name or 1 to 4 printable characters. Received ${JSON.stringify(name)}`)
  return code
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

  static #check(x: unknown, method: string): Frame {
    if (typeof x !== 'object' || x === null || !(#brand in x)) throw invalidThis(method, 'Frame')
    return x
  }

  constructor(options: FrameOptions) {
    const M = 'new Frame'
    if (typeof options !== 'object' || options === null) throw invalidType(M, 'options', 'of type object', options)
    const width = uint(M, 'options.width', options.width, U32)
    const height = uint(M, 'options.height', options.height, U32)
    const f = options.fourcc
    const fourcc = typeof f === 'string' ? drmFourcc(f) : uint(M, 'options.fourcc', f, U32)
    const modifier = options.modifier === undefined ? 0n : modifierArg(M, 'options.modifier', options.modifier)
    if (!Array.isArray(options.planes)) throw invalidType(M, 'options.planes', 'an array', options.planes)
    const planes = options.planes.map((p, i): FramePlane => {
      if (typeof p !== 'object' || p === null) throw invalidType(M, `options.planes[${i}]`, 'of type object', p)
      DmaBuf.handleOf(p.buf, M, `options.planes[${i}].buf`, i)
      const offset = p.offset === undefined ? 0 : uint(M, `options.planes[${i}].offset`, p.offset, U32)
      return Object.freeze({ buf: p.buf, offset, pitch: uint(M, `options.planes[${i}].pitch`, p.pitch, U32) })
    })
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
    if (typeof format !== 'object' || format === null || !Array.isArray(format.planes)) throw invalidType(M, 'format', 'a V4l2Format', format)
    if (typeof buffer !== 'object' || buffer === null || !Array.isArray(buffer.planes)) throw invalidType(M, 'buffer', 'a V4l2BufferInfo', buffer)
    if (!Array.isArray(bufs)) throw invalidType(M, 'bufs', 'an array of DmaBuf', bufs)
    if (bufs.length !== format.planes.length) {
      throw invalidValue(M, 'bufs', `must hold one DmaBuf per memory plane of the format (${format.planes.length}). Received ${bufs.length}`)
    }
    bufs.forEach((b, i) => DmaBuf.handleOf(b, M, `bufs[${i}]`, i))
    const l = native.frameV4l2Layout(
      str(M, 'format.pixelformat', format.pixelformat),
      uint(M, 'format.width', format.width, U32),
      uint(M, 'format.height', format.height, U32),
      format.planes.map((p, i) => uint(M, `format.planes[${i}].bytesperline`, p.bytesperline, U32)),
      buffer.planes.map((p, i) => uint(M, `buffer.planes[${i}].dataOffset`, p.dataOffset, U32)),
    )
    const dups: DmaBuf[] = []
    try {
      for (const m of l.memPlanes) dups.push(bufs[m].dup())
      return new Frame({
        width: format.width,
        height: format.height,
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
