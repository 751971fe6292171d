// GStreamer caps strings for the unixfd protocol (lib/api/unixfd.ts): one
// structure parsed and printed, the video/x-raw format names mapped to DRM
// fourccs, and the default plane layout GStreamer assumes for raw video
// that carries no GstVideoMeta. Pure TypeScript; the fourcc codes and the
// drm-format strings come from the Rust core (api/frame).

import { closedError, invalidType, invalidValue, nodeError, outOfRange } from '../internal/errors'
import { drmFormatString, drmFourcc, Frame, parseDrmFormat } from './frame'

/** A caps field's value: strings, numbers (int, double), booleans and fractions ([num, den]). */
export type CapsValue = string | number | boolean | [number, number]

/** One caps structure: `media` (`'video/x-raw'`), its features (`['memory:DMABuf']`) and its fields. */
export interface Caps {
  media: string
  features: string[]
  fields: Record<string, CapsValue>
}

function bad(method: string, s: string, why: string): TypeError {
  return invalidValue(method, 's', `must be a GStreamer caps string (${why}). Received ${JSON.stringify(s.length > 60 ? s.slice(0, 57) + '...' : s)}`)
}

/** Splits `s` at top-level `sep` (outside quotes, braces, brackets and angle brackets). */
function split(method: string, s: string, sep: string): string[] {
  const out: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
      continue
    }
    if (c === '"') quoted = true
    else if (c === '{' || c === '[' || c === '<') depth++
    else if (c === '}' || c === ']' || c === '>') depth--
    else if (c === sep && depth === 0) {
      out.push(s.slice(start, i))
      start = i + 1
    }
  }
  if (quoted || depth !== 0) throw bad(method, s, 'an unterminated quote or bracket')
  out.push(s.slice(start))
  return out
}

function unquote(v: string): string {
  return v.slice(1, -1).replace(/\\(.)/g, '$1')
}

const INT = /^[+-]?(0x[0-9a-fA-F]+|[0-9]+)$/
const FRACTION = /^([+-]?[0-9]+)\s*\/\s*([0-9]+)$/
const DOUBLE = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/

function value(method: string, s: string, type: string | undefined, raw: string): CapsValue {
  const v = raw.trim()
  if (v.startsWith('"')) {
    if (v.length < 2 || !v.endsWith('"')) throw bad(method, s, 'an unterminated quote')
    return unquote(v)
  }
  // Ranges, lists and arrays are kept as their text.
  if (v.startsWith('[') || v.startsWith('{') || v.startsWith('<')) return v
  switch (type) {
    case 'string':
    case 's':
      return v
    case 'int':
    case 'i':
    case 'uint':
    case 'int64':
    case 'uint64':
      if (!INT.test(v)) throw bad(method, s, `${JSON.stringify(v)} is not an ${type}`)
      return Number(v)
    case 'double':
    case 'd':
    case 'float':
    case 'f':
      if (!DOUBLE.test(v)) throw bad(method, s, `${JSON.stringify(v)} is not a ${type}`)
      return Number(v)
    case 'boolean':
    case 'bool':
    case 'b': {
      const l = v.toLowerCase()
      if (['true', 'yes', 't', '1'].includes(l)) return true
      if (['false', 'no', 'f', '0'].includes(l)) return false
      throw bad(method, s, `${JSON.stringify(v)} is not a boolean`)
    }
    case 'fraction': {
      const m = FRACTION.exec(v) ?? (INT.test(v) ? [v, v, '1'] : null)
      if (m === null) throw bad(method, s, `${JSON.stringify(v)} is not a fraction`)
      return [Number(m[1]), Number(m[2])]
    }
    case undefined: {
      // Untyped, as gst_caps_from_string guesses: int, then double, then fraction, then boolean, else string.
      if (INT.test(v)) return Number(v)
      if (DOUBLE.test(v)) return Number(v)
      const m = FRACTION.exec(v)
      if (m !== null) return [Number(m[1]), Number(m[2])]
      if (v === 'true' || v === 'false') return v === 'true'
      return v
    }
    default:
      // Lists, ranges and other types are kept as their text.
      return v
  }
}

/**
 * Parses one GStreamer caps structure: `'video/x-raw, format=(string)NV12,
 * width=(int)320, framerate=(fraction)30/1'`, with features
 * (`'video/x-raw(memory:DMABuf), …'`) and untyped fields
 * (`'video/x-raw,format=RGBA,width=64'`). Ints and doubles become numbers,
 * fractions `[num, den]`, booleans booleans, and anything else (lists,
 * ranges) its text. Several structures (`;`) are ERR_INVALID_ARG_VALUE.
 */
export function parseCaps(s: string): Caps {
  const M = 'parseCaps'
  if (typeof s !== 'string') throw invalidType(M, 's', 'of type string', s)
  let text = s.trim()
  if (text.endsWith(';')) text = text.slice(0, -1).trimEnd()
  if (split(M, text, ';').length > 1) throw bad(M, s, 'one structure: several, separated by ";", are not supported')
  const parts = split(M, text, ',')
  const head = parts[0].trim()
  // A media type is type/subtype (or ANY, EMPTY), each part starting with a letter.
  const hm = /^([A-Za-z][A-Za-z0-9_+\-.]*\/[A-Za-z][A-Za-z0-9_+\-.]*|ANY|EMPTY)(?:\(([^()]*)\))?$/.exec(head)
  if (hm === null) throw bad(M, s, `${JSON.stringify(head)} is not a media type`)
  const features = hm[2] === undefined ? [] : hm[2].split(',').map((f) => f.trim()).filter((f) => f.length > 0)
  const fields: Record<string, CapsValue> = {}
  for (const p of parts.slice(1)) {
    const f = p.trim()
    if (f.length === 0) continue
    const eq = f.indexOf('=')
    if (eq <= 0) throw bad(M, s, `${JSON.stringify(f)} is not name=value`)
    const name = f.slice(0, eq).trim()
    if (!/^[A-Za-z][A-Za-z0-9_+\-.:/]*$/.test(name)) throw bad(M, s, `${JSON.stringify(name)} is not a field name`)
    let rest = f.slice(eq + 1).trim()
    let type: string | undefined
    const tm = /^\(\s*([A-Za-z0-9_]+)\s*\)/.exec(rest)
    if (tm !== null) {
      type = tm[1].toLowerCase()
      rest = rest.slice(tm[0].length)
    }
    fields[name] = value(M, s, type, rest)
  }
  return { media: hm[1], features, fields }
}

const PLAIN = /^[A-Za-z0-9_\-+/:.]+$/

function printValue(v: CapsValue): string {
  if (Array.isArray(v)) return `(fraction)${v[0]}/${v[1]}`
  if (typeof v === 'boolean') return `(boolean)${v}`
  if (typeof v === 'number') return Number.isInteger(v) ? `(int)${v}` : `(double)${v}`
  return `(string)${PLAIN.test(v) ? v : JSON.stringify(v)}`
}

/** Prints a Caps as gst_caps_to_string does: `'media(features), name=(type)value, …'`, every field typed. */
export function printCaps(c: Caps): string {
  const M = 'printCaps'
  if (typeof c !== 'object' || c === null) throw invalidType(M, 'c', 'of type object', c)
  if (typeof c.media !== 'string') throw invalidType(M, 'c.media', 'of type string', c.media)
  if (!/^([A-Za-z][A-Za-z0-9_+\-.]*\/[A-Za-z][A-Za-z0-9_+\-.]*|ANY|EMPTY)$/.test(c.media)) throw invalidValue(M, 'c.media', `must be a media type such as video/x-raw. Received ${JSON.stringify(c.media.slice(0, 40))}`)
  const features = c.features ?? []
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'string' && /^[A-Za-z][A-Za-z0-9_:+\-.]*$/.test(f))) throw invalidType(M, 'c.features', 'an Array of feature names such as memory:DMABuf', features)
  const fields = c.fields ?? {}
  if (typeof fields !== 'object' || fields === null) throw invalidType(M, 'c.fields', 'of type object', fields)
  let out = c.media + (features.length > 0 ? `(${features.join(', ')})` : '')
  for (const [k, v] of Object.entries(fields)) {
    if (!/^[A-Za-z][A-Za-z0-9_+\-.]*$/.test(k)) throw invalidValue(M, 'c.fields', `has a name GStreamer cannot read: ${JSON.stringify(k.slice(0, 40))}`)
    const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && Math.abs(x) <= 0x7fffffff) && v[1] > 0)
    if (!ok) throw invalidType(M, `c.fields.${k}`, 'a string, a finite number, a boolean or a [num, den] fraction', v)
    out += `, ${k}=${printValue(v)}`
  }
  return out
}

// ---------------------------------------------------------------------------
// GStreamer video format names and DRM fourccs, as GStreamer's own table
// pairs them for LINEAR (gst_video_dma_drm_fourcc_from_format, 1.24+):
// GStreamer names bytes in memory order, DRM a little-endian word, so
// GStreamer's RGBA is DRM's ABGR8888. GRAY8/R8 and GRAY16_LE/R16 are this
// package's additions (the same bytes; GStreamer's table has no grey).

const GST_TO_DRM: ReadonlyArray<readonly [string, string]> = [
  ['RGBA', 'ABGR8888'],
  ['BGRA', 'ARGB8888'],
  ['ARGB', 'BGRA8888'],
  ['ABGR', 'RGBA8888'],
  ['RGBx', 'XBGR8888'],
  ['BGRx', 'XRGB8888'],
  ['xRGB', 'BGRX8888'],
  ['xBGR', 'RGBX8888'],
  ['RGB', 'BGR888'],
  ['BGR', 'RGB888'],
  ['RGB16', 'RGB565'],
  ['BGR16', 'BGR565'],
  ['NV12', 'NV12'],
  ['NV21', 'NV21'],
  ['NV16', 'NV16'],
  ['NV61', 'NV61'],
  ['NV24', 'NV24'],
  ['I420', 'YUV420'],
  ['YV12', 'YVU420'],
  ['Y42B', 'YUV422'],
  ['Y444', 'YUV444'],
  ['YUY2', 'YUYV'],
  ['YVYU', 'YVYU'],
  ['UYVY', 'UYVY'],
  ['VYUY', 'VYUY'],
  ['GRAY8', 'R8'],
  ['GRAY16_LE', 'R16'],
  ['P010_10LE', 'P010'],
]

let tables: { toDrm: Map<string, number>; toGst: Map<number, string> } | undefined

function formatTables(): { toDrm: Map<string, number>; toGst: Map<number, string> } {
  if (tables === undefined) {
    const toDrm = new Map<string, number>()
    const toGst = new Map<number, string>()
    for (const [g, d] of GST_TO_DRM) {
      const code = drmFourcc(d)
      toDrm.set(g, code)
      toGst.set(code, g)
    }
    tables = { toDrm, toGst }
  }
  return tables
}

/** The DRM fourcc of a GStreamer video format name (`'RGBA'` → ABGR8888), or undefined outside the table. */
export function gstFormatFourcc(name: string): number | undefined {
  if (typeof name !== 'string') throw invalidType('gstFormatFourcc', 'name', 'of type string', name)
  return formatTables().toDrm.get(name)
}

/** The GStreamer video format name of a DRM fourcc (ABGR8888 → `'RGBA'`), or undefined outside the table. */
export function gstFormatName(fourcc: number): string | undefined {
  if (typeof fourcc !== 'number') throw invalidType('gstFormatName', 'fourcc', 'of type number', fourcc)
  if (!Number.isInteger(fourcc) || fourcc < 0 || fourcc > 0xffffffff) throw outOfRange('gstFormatName', 'fourcc', '>= 0 and <= 4294967295', fourcc)
  return formatTables().toGst.get(fourcc)
}

const ru = (v: number, n: number): number => Math.ceil(v / n) * n

/** Default strides and plane offsets (gst_video_info_set_format) of a GStreamer format, by name. */
function defaultLayout(format: string, w: number, h: number): { pitches: number[]; offsets: number[]; size: number } | undefined {
  const packed = (bpp: number): { pitches: number[]; offsets: number[]; size: number } => {
    const p = ru(w * bpp, 4)
    return { pitches: [p], offsets: [0], size: p * h }
  }
  switch (format) {
    case 'RGBA': case 'BGRA': case 'ARGB': case 'ABGR': case 'RGBx': case 'BGRx': case 'xRGB': case 'xBGR':
      return packed(4)
    case 'RGB': case 'BGR':
      return packed(3)
    case 'RGB16': case 'BGR16': case 'YUY2': case 'YVYU': case 'UYVY': case 'VYUY': case 'GRAY16_LE':
      return packed(2)
    case 'GRAY8':
      return packed(1)
    case 'NV12': case 'NV21': {
      const p = ru(w, 4)
      const o1 = p * ru(h, 2)
      return { pitches: [p, p], offsets: [0, o1], size: o1 + (p * ru(h, 2)) / 2 }
    }
    case 'P010_10LE': {
      const p = ru(w * 2, 4)
      const o1 = p * ru(h, 2)
      return { pitches: [p, p], offsets: [0, o1], size: o1 + (p * ru(h, 2)) / 2 }
    }
    case 'NV16': case 'NV61': {
      const p = ru(w, 4)
      return { pitches: [p, p], offsets: [0, p * h], size: 2 * p * h }
    }
    case 'NV24': {
      const p0 = ru(w, 4)
      const p1 = ru(w * 2, 4)
      return { pitches: [p0, p1], offsets: [0, p0 * h], size: p0 * h + p1 * h }
    }
    case 'I420': case 'YV12': {
      // Planes in DRM order: Y, U, V for YUV420; Y, V, U for YVU420 (GStreamer's YV12 keeps V first in memory too).
      const p0 = ru(w, 4)
      const p1 = ru(ru(w, 2) / 2, 4)
      const o1 = p0 * ru(h, 2)
      const o2 = o1 + (p1 * ru(h, 2)) / 2
      return { pitches: [p0, p1, p1], offsets: [0, o1, o2], size: o2 + (p1 * ru(h, 2)) / 2 }
    }
    case 'Y42B': {
      const p0 = ru(w, 4)
      const p1 = ru(w, 8) / 2
      return { pitches: [p0, p1, p1], offsets: [0, p0 * h, p0 * h + p1 * h], size: p0 * h + 2 * p1 * h }
    }
    case 'Y444': {
      const p = ru(w, 4)
      return { pitches: [p, p, p], offsets: [0, p * h, 2 * p * h], size: 3 * p * h }
    }
    default:
      return undefined
  }
}

/** What `capsLayout` gives: the image a caps string describes, with GStreamer's default strides and offsets (no GstVideoMeta). */
export interface CapsLayout {
  width: number
  height: number
  fourcc: number
  modifier: bigint
  /** Each plane's offset in the buffer (all memories one after the other) and its pitch. */
  planes: { offset: number; pitch: number }[]
  /** The buffer's size in bytes by that layout. */
  size: number
}

function notVideo(method: string, why: string): Error {
  return nodeError(Error, 'ERR_INVALID_STATE', `${method}: ${why}`)
}

/**
 * The layout of raw video that caps describe: `video/x-raw` with a format
 * in the table above, or `video/x-raw(memory:DMABuf)` with
 * `format=DMA_DRM` and `drm-format`; strides and offsets are GStreamer's
 * defaults (gst_video_info_set_format: rows rounded up to 4 bytes). Throws
 * ERR_INVALID_STATE for other caps (not video, a format it cannot lay out,
 * a DMA_DRM modifier other than LINEAR).
 */
export function capsLayout(caps: string | Caps, method = 'capsLayout'): CapsLayout {
  if (typeof caps !== 'string' && (typeof caps !== 'object' || caps === null || typeof caps.media !== 'string' || typeof caps.fields !== 'object' || caps.fields === null)) {
    throw invalidType(method, 'caps', 'a caps string or a Caps object', caps)
  }
  const c = typeof caps === 'string' ? parseCaps(caps) : caps
  if (c.media !== 'video/x-raw') throw notVideo(method, `the caps are ${c.media}, not video/x-raw`)
  const { width, height } = c.fields
  if (typeof width !== 'number' || typeof height !== 'number' || !Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw notVideo(method, 'the caps give no width and height')
  }
  let format: CapsValue | undefined = c.fields.format
  let fourcc: number | undefined
  let modifier = 0n
  if (format === 'DMA_DRM') {
    const df = c.fields['drm-format']
    if (typeof df !== 'string') throw notVideo(method, 'DMA_DRM caps without a drm-format')
    const p = parseDrmFormat(df)
    fourcc = p.fourcc
    modifier = p.modifier
    format = gstFormatName(fourcc)
    if (modifier !== 0n) throw notVideo(method, `drm-format ${df} has a modifier other than LINEAR: its layout is the driver's, not in the caps`)
  } else if (typeof format === 'string') {
    fourcc = gstFormatFourcc(format)
  }
  const l = typeof format === 'string' ? defaultLayout(format, width, height) : undefined
  if (fourcc === undefined || l === undefined) throw notVideo(method, `no layout known for format ${String(format)}`)
  return { width, height, fourcc, modifier, planes: l.pitches.map((pitch, i) => ({ offset: l.offsets[i], pitch })), size: l.size }
}

/**
 * The caps of a Frame: `video/x-raw, format=…` for a LINEAR frame whose
 * fourcc has a GStreamer name, else `video/x-raw(memory:DMABuf),
 * format=DMA_DRM, drm-format=FOURCC:0xMODIFIER`; width, height and (when
 * given) the framerate. A receiver without a GstVideoMeta assumes
 * GStreamer's default strides (see capsLayout). ERR_DMABUF_CLOSED for a
 * frame whose dma-bufs are closed.
 */
export function capsForFrame(f: Frame, framerate?: [number, number]): string {
  const M = 'capsForFrame'
  if (!Frame.isFrame(f)) throw invalidType(M, 'f', 'an instance of Frame', f)
  // A closed frame's dma-bufs are gone: caps for it would describe nothing anyone can send.
  if (f.planes.some((p) => p.buf.closed)) throw closedError(M, 'Frame')
  // GStreamer's fractions are two gint.
  if (framerate !== undefined && !(Array.isArray(framerate) && framerate.length === 2 && framerate.every((x) => Number.isInteger(x) && x >= 0 && x <= 0x7fffffff) && framerate[1] > 0)) {
    throw invalidType(M, 'framerate', 'a [num, den] pair of integers with den > 0', framerate)
  }
  const name = f.modifier === 0n ? gstFormatName(f.fourcc) : undefined
  const fields: Record<string, CapsValue> = {}
  if (name !== undefined) fields.format = name
  else {
    fields.format = 'DMA_DRM'
    fields['drm-format'] = drmFormatString(f.fourcc, f.modifier)
  }
  fields.width = f.width
  fields.height = f.height
  if (framerate !== undefined) fields.framerate = [framerate[0], framerate[1]]
  return printCaps({ media: 'video/x-raw', features: name !== undefined ? [] : ['memory:DMABuf'], fields })
}
