/** How a buffer is accessed: 'r' (read), 'w' (write) or 'rw' (both). */
export type Access = 'r' | 'w' | 'rw';
/**
 * `DMA_BUF_SYNC_READ` / `_WRITE` bits of an access string, 0 for anything
 * else. Comparisons, not a lookup table: V8 compares interned strings by
 * pointer, and an object with a null prototype would be a slow dictionary.
 */
export declare function bitsOf(access: unknown): number;
export declare const ACCESS: readonly Access[];
/** Most buffers one batch call takes: arrays are checked element by element, never trusted for an allocation. */
export declare const MAX_BATCH = 4096;
export declare function accessBits(method: string, name: string, access: unknown): number;
export declare function optionalAccessBits(method: string, name: string, access: unknown, dflt: number): number;
export declare function uint(method: string, name: string, v: unknown, max?: number): number;
export declare function optionalUint(method: string, name: string, v: unknown, dflt: number): number;
export declare function str(method: string, name: string, v: unknown): string;
/** A timeout in milliseconds: undefined or Infinity wait for ever (-1 natively). */
export declare function timeoutMs(method: string, v: unknown): number;
export declare function handles(method: string, name: string, list: unknown, check: (v: unknown, i: number) => number): Float64Array;
export declare function bool(method: string, name: string, v: unknown, dflt: boolean): boolean;
export declare const U32: number;
export declare function uintList(method: string, name: string, v: unknown): number[];
export declare function int32(method: string, name: string, v: unknown): number;
/**
 * Reads `o[key]` once. What the caller hands in may be a proxy or carry
 * getters: one that throws becomes ERR_INVALID_ARG_VALUE naming the field
 * (the thrown value is its `cause`), and every field is read exactly once,
 * so a getter cannot answer the check and the use differently.
 */
export declare function field(method: string, name: string, o: object, key: string | number): unknown;
/** `v` as an object (not null), or ERR_INVALID_ARG_TYPE expecting `expected`. */
export declare function objectArg(method: string, name: string, v: unknown, expected: string): object;
