"use strict";
// What `dmabuf ls` needs to print what any user controls without being
// fooled by it (issue 19): process and buffer names escaped for a terminal,
// table widths and minimums without spreading rows into call arguments
// (`Math.max(...rows)` throws RangeError past ~120,000 rows), byte totals
// that never wrap or round, and strict parsing of --pid and --watch.
//
// lib/cli/commands/ls.ts calls:
// - printable(s) on every name it prints as text or CSV (comm, exporter,
//   buffer name); JSON keeps the raw string, which JSON.stringify escapes;
// - columnWidths(head, rows, visible) instead of Math.max(...rows.map(...));
// - minOf(values) instead of Math.min(...values);
// - addBytes(a, b) / sumBytes(values) for every total it computes itself;
// - parsePid(s) for each --pid value and parseWatch(s) for --watch, each
//   returning undefined for what the usage message refuses.
Object.defineProperty(exports, "__esModule", { value: true });
exports.MAX_WATCH_SECONDS = exports.MIN_WATCH_SECONDS = exports.PID_MAX = void 0;
exports.printable = printable;
exports.columnWidths = columnWidths;
exports.minOf = minOf;
exports.addBytes = addBytes;
exports.sumBytes = sumBytes;
exports.parsePid = parsePid;
exports.parseWatch = parseWatch;
/**
 * Escapes what a terminal would act on instead of showing: the C0 controls
 * (escape sequences start with ESC, 0x1b), DEL, the C1 controls
 * (U+0080–U+009F; U+009B is a one-byte CSI) and the Unicode format
 * controls that reorder or hide text (U+061C, U+200B–U+200F,
 * U+202A–U+202E, U+2060–U+2069, U+FEFF), as `\xNN` or `\u{NNNN}`; a
 * backslash becomes `\\`, so the escaped text reads back unambiguously.
 * Anything else (letters of any script, spaces) is kept.
 */
function printable(s) {
    // A fast path for the usual name: nothing to escape.
    if (!UNSAFE.test(s))
        return s;
    let out = '';
    for (const ch of s) {
        const c = ch.codePointAt(0);
        if (ch === '\\')
            out += '\\\\';
        else if (c < 0x20 || c === 0x7f)
            out += `\\x${c.toString(16).padStart(2, '0')}`;
        else if (isFormat(c))
            out += `\\u{${c.toString(16)}}`;
        else
            out += ch;
    }
    return out;
}
// The characters printable() escapes (kept in step with isFormat).
const UNSAFE = /[\\\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
function isFormat(c) {
    return ((c >= 0x80 && c <= 0x9f) ||
        c === 0x61c ||
        (c >= 0x200b && c <= 0x200f) ||
        (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2060 && c <= 0x2069) ||
        c === 0xfeff);
}
/**
 * The width of each column of a table: the widest of the head and every
 * row's cell, as `visible` measures it (for example without colour codes).
 * A loop, so any number of rows works.
 */
function columnWidths(head, rows, visible) {
    const w = head.map((h) => visible(h));
    for (const r of rows) {
        for (let i = 0; i < w.length; i++) {
            const n = visible(r[i] ?? '');
            if (n > w[i])
                w[i] = n;
        }
    }
    return w;
}
/** The smallest of `values`, or `empty` when there are none; a loop, for any count. */
function minOf(values, empty = 0) {
    let m = Infinity;
    for (const v of values)
        if (v < m)
            m = v;
    return m === Infinity ? empty : m;
}
/**
 * `a + b` for byte counts and totals: exact while the sum is a safe
 * integer, and Number.MAX_SAFE_INTEGER (2^53 − 1, which the native layer
 * also gives for anything larger) from there on, never a wrapped or
 * rounded value.
 */
function addBytes(a, b) {
    const s = a + b;
    return s > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : s;
}
/** The total of `values` with addBytes. */
function sumBytes(values) {
    let s = 0;
    for (const v of values)
        s = addBytes(s, v);
    return s;
}
/** The largest pid Linux can give (PID_MAX_LIMIT on 64-bit systems, 2^22). */
exports.PID_MAX = 4194304;
/**
 * A --pid value: a decimal process id from 1 to PID_MAX, written as digits
 * only (no sign, spaces, exponent, hex or leading zeros); undefined otherwise.
 */
function parsePid(s) {
    if (!/^[1-9][0-9]{0,6}$/.test(s))
        return undefined;
    const n = Number(s);
    return n <= exports.PID_MAX ? n : undefined;
}
/** The shortest --watch interval: each frame scans all of /proc. */
exports.MIN_WATCH_SECONDS = 0.1;
/** The longest --watch interval (a day). */
exports.MAX_WATCH_SECONDS = 86400;
/**
 * A --watch value: seconds as a plain decimal (`2`, `0.5`), from
 * MIN_WATCH_SECONDS to MAX_WATCH_SECONDS; undefined otherwise (an
 * exponent, hex, a sign, spaces, NaN, Infinity).
 */
function parseWatch(s) {
    if (!/^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(s))
        return undefined;
    const n = Number(s);
    return n >= exports.MIN_WATCH_SECONDS && n <= exports.MAX_WATCH_SECONDS ? n : undefined;
}
