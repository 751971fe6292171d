/**
 * Escapes what a terminal would act on instead of showing: the C0 controls
 * (escape sequences start with ESC, 0x1b), DEL, the C1 controls
 * (U+0080–U+009F; U+009B is a one-byte CSI) and the Unicode format
 * controls that reorder or hide text (U+061C, U+200B–U+200F,
 * U+202A–U+202E, U+2060–U+2069, U+FEFF), as `\xNN` or `\u{NNNN}`; a
 * backslash becomes `\\`, so the escaped text reads back unambiguously.
 * Anything else (letters of any script, spaces) is kept.
 */
export declare function printable(s: string): string;
/**
 * The width of each column of a table: the widest of the head and every
 * row's cell, as `visible` measures it (for example without colour codes).
 * A loop, so any number of rows works.
 */
export declare function columnWidths(head: readonly string[], rows: readonly (readonly string[])[], visible: (s: string) => number): number[];
/** The smallest of `values`, or `empty` when there are none; a loop, for any count. */
export declare function minOf(values: Iterable<number>, empty?: number): number;
/**
 * `a + b` for byte counts and totals: exact while the sum is a safe
 * integer, and Number.MAX_SAFE_INTEGER (2^53 − 1, which the native layer
 * also gives for anything larger) from there on, never a wrapped or
 * rounded value.
 */
export declare function addBytes(a: number, b: number): number;
/** The total of `values` with addBytes. */
export declare function sumBytes(values: Iterable<number>): number;
/** The largest pid Linux can give (PID_MAX_LIMIT on 64-bit systems, 2^22). */
export declare const PID_MAX = 4194304;
/**
 * A --pid value: a decimal process id from 1 to PID_MAX, written as digits
 * only (no sign, spaces, exponent, hex or leading zeros); undefined otherwise.
 */
export declare function parsePid(s: string): number | undefined;
/** The shortest --watch interval: each frame scans all of /proc. */
export declare const MIN_WATCH_SECONDS = 0.1;
/** The longest --watch interval (a day). */
export declare const MAX_WATCH_SECONDS = 86400;
/**
 * A --watch value: seconds as a plain decimal (`2`, `0.5`), from
 * MIN_WATCH_SECONDS to MAX_WATCH_SECONDS; undefined otherwise (an
 * exponent, hex, a sign, spaces, NaN, Infinity).
 */
export declare function parseWatch(s: string): number | undefined;
