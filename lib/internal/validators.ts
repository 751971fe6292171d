// Argument checks shared by the classes: each throws Node's own error codes
// (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE) naming the
// method and the argument.

import { invalidType, invalidValue, outOfRange } from './errors'

/** How a buffer is accessed: 'r' (read), 'w' (write) or 'rw' (both). */
export type Access = 'r' | 'w' | 'rw'


/**
 * `DMA_BUF_SYNC_READ` / `_WRITE` bits of an access string, 0 for anything
 * else. Comparisons, not a lookup table: V8 compares interned strings by
 * pointer, and an object with a null prototype would be a slow dictionary.
 */
export function bitsOf(access: unknown): number {
  return access === 'rw' ? 3 : access === 'r' ? 1 : access === 'w' ? 2 : 0
}
export const ACCESS: readonly Access[] = ['r', 'r', 'w', 'rw']
/** Most buffers one batch call takes: arrays are checked element by element, never trusted for an allocation. */
export const MAX_BATCH = 4096

export function accessBits(method: string, name: string, access: unknown): number {
  const bits = bitsOf(access)
  if (bits !== 0) return bits
  if (typeof access !== 'string') throw invalidType(method, name, "one of 'r', 'w' or 'rw'", access)
  throw invalidValue(method, name, `must be 'r', 'w' or 'rw'. Received ${JSON.stringify(access)}`)
}

export function optionalAccessBits(method: string, name: string, access: unknown, dflt: number): number {
  return access === undefined ? dflt : accessBits(method, name, access)
}

export function uint(method: string, name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number') throw invalidType(method, name, 'of type number', v)
  if (!Number.isInteger(v) || v < 0 || v > max) throw outOfRange(method, name, `an integer >= 0 and <= ${max}`, v)
  return v
}

export function optionalUint(method: string, name: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : uint(method, name, v)
}

export function str(method: string, name: string, v: unknown): string {
  if (typeof v !== 'string') throw invalidType(method, name, 'of type string', v)
  return v
}

/** A timeout in milliseconds: undefined or Infinity wait for ever (-1 natively). */
export function timeoutMs(method: string, v: unknown): number {
  if (v === undefined || v === Infinity) return -1
  if (typeof v !== 'number') throw invalidType(method, 'timeoutMs', 'of type number', v)
  if (!(v >= 0)) throw outOfRange(method, 'timeoutMs', 'a number >= 0 (or Infinity)', v)
  return v
}

export function handles(method: string, name: string, list: unknown, check: (v: unknown, i: number) => number): Float64Array {
  if (!Array.isArray(list)) throw invalidType(method, name, 'an instance of Array', list)
  const n = list.length
  if (n > MAX_BATCH) throw outOfRange(method, `${name}.length`, `<= ${MAX_BATCH}`, n)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = check(list[i], i)
  return out
}

export function bool(method: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt
  if (typeof v !== 'boolean') throw invalidType(method, name, 'of type boolean', v)
  return v
}

export const U32 = 2 ** 32 - 1

export function uintList(method: string, name: string, v: unknown): number[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw invalidType(method, name, 'an instance of Array', v)
  if (v.length > 8) throw outOfRange(method, `${name}.length`, '<= 8 (VIDEO_MAX_PLANES)', v.length)
  const out: number[] = []
  for (let i = 0; i < v.length; i++) out.push(uint(method, `${name}[${i}]`, v[i], U32))
  return out
}

export function int32(method: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType(method, name, 'of type number', v)
  if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) throw outOfRange(method, name, 'an integer >= -2147483648 and <= 2147483647', v)
  return v
}

/**
 * Reads `o[key]` once. What the caller hands in may be a proxy or carry
 * getters: one that throws becomes ERR_INVALID_ARG_VALUE naming the field
 * (the thrown value is its `cause`), and every field is read exactly once,
 * so a getter cannot answer the check and the use differently.
 */
export function field(method: string, name: string, o: object, key: string | number): unknown {
  try {
    return (o as Record<string | number, unknown>)[key]
  } catch (e) {
    const err = invalidValue(method, name, 'could not be read: its getter or proxy threw (see the cause)') as TypeError & { cause?: unknown }
    err.cause = e
    throw err
  }
}

/** `v` as an object (not null), or ERR_INVALID_ARG_TYPE expecting `expected`. */
export function objectArg(method: string, name: string, v: unknown, expected: string): object {
  if (typeof v !== 'object' || v === null) throw invalidType(method, name, expected, v)
  return v
}
