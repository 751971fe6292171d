"use strict";
// Argument checks shared by the classes: each throws Node's own error codes
// (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE) naming the
// method and the argument.
Object.defineProperty(exports, "__esModule", { value: true });
exports.U32 = exports.MAX_BATCH = exports.ACCESS = void 0;
exports.bitsOf = bitsOf;
exports.accessBits = accessBits;
exports.optionalAccessBits = optionalAccessBits;
exports.uint = uint;
exports.optionalUint = optionalUint;
exports.str = str;
exports.timeoutMs = timeoutMs;
exports.handles = handles;
exports.bool = bool;
exports.uintList = uintList;
exports.int32 = int32;
exports.field = field;
exports.objectArg = objectArg;
const errors_1 = require("./errors");
/**
 * `DMA_BUF_SYNC_READ` / `_WRITE` bits of an access string, 0 for anything
 * else. Comparisons, not a lookup table: V8 compares interned strings by
 * pointer, and an object with a null prototype would be a slow dictionary.
 */
function bitsOf(access) {
    return access === 'rw' ? 3 : access === 'r' ? 1 : access === 'w' ? 2 : 0;
}
exports.ACCESS = ['r', 'r', 'w', 'rw'];
/** Most buffers one batch call takes: arrays are checked element by element, never trusted for an allocation. */
exports.MAX_BATCH = 4096;
function accessBits(method, name, access) {
    const bits = bitsOf(access);
    if (bits !== 0)
        return bits;
    if (typeof access !== 'string')
        throw (0, errors_1.invalidType)(method, name, "one of 'r', 'w' or 'rw'", access);
    throw (0, errors_1.invalidValue)(method, name, `must be 'r', 'w' or 'rw'. Received ${JSON.stringify(access)}`);
}
function optionalAccessBits(method, name, access, dflt) {
    return access === undefined ? dflt : accessBits(method, name, access);
}
function uint(method, name, v, max = Number.MAX_SAFE_INTEGER) {
    if (typeof v !== 'number')
        throw (0, errors_1.invalidType)(method, name, 'of type number', v);
    if (!Number.isInteger(v) || v < 0 || v > max)
        throw (0, errors_1.outOfRange)(method, name, `an integer >= 0 and <= ${max}`, v);
    return v;
}
function optionalUint(method, name, v, dflt) {
    return v === undefined ? dflt : uint(method, name, v);
}
function str(method, name, v) {
    if (typeof v !== 'string')
        throw (0, errors_1.invalidType)(method, name, 'of type string', v);
    return v;
}
/** A timeout in milliseconds: undefined or Infinity wait for ever (-1 natively). */
function timeoutMs(method, v) {
    if (v === undefined || v === Infinity)
        return -1;
    if (typeof v !== 'number')
        throw (0, errors_1.invalidType)(method, 'timeoutMs', 'of type number', v);
    if (!(v >= 0))
        throw (0, errors_1.outOfRange)(method, 'timeoutMs', 'a number >= 0 (or Infinity)', v);
    return v;
}
function handles(method, name, list, check) {
    if (!Array.isArray(list))
        throw (0, errors_1.invalidType)(method, name, 'an instance of Array', list);
    const n = list.length;
    if (n > exports.MAX_BATCH)
        throw (0, errors_1.outOfRange)(method, `${name}.length`, `<= ${exports.MAX_BATCH}`, n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++)
        out[i] = check(list[i], i);
    return out;
}
function bool(method, name, v, dflt) {
    if (v === undefined)
        return dflt;
    if (typeof v !== 'boolean')
        throw (0, errors_1.invalidType)(method, name, 'of type boolean', v);
    return v;
}
exports.U32 = 2 ** 32 - 1;
function uintList(method, name, v) {
    if (v === undefined)
        return [];
    if (!Array.isArray(v))
        throw (0, errors_1.invalidType)(method, name, 'an instance of Array', v);
    if (v.length > 8)
        throw (0, errors_1.outOfRange)(method, `${name}.length`, '<= 8 (VIDEO_MAX_PLANES)', v.length);
    const out = [];
    for (let i = 0; i < v.length; i++)
        out.push(uint(method, `${name}[${i}]`, v[i], exports.U32));
    return out;
}
function int32(method, name, v) {
    if (typeof v !== 'number')
        throw (0, errors_1.invalidType)(method, name, 'of type number', v);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1)
        throw (0, errors_1.outOfRange)(method, name, 'an integer >= -2147483648 and <= 2147483647', v);
    return v;
}
/**
 * Reads `o[key]` once. What the caller hands in may be a proxy or carry
 * getters: one that throws becomes ERR_INVALID_ARG_VALUE naming the field
 * (the thrown value is its `cause`), and every field is read exactly once,
 * so a getter cannot answer the check and the use differently.
 */
function field(method, name, o, key) {
    try {
        return o[key];
    }
    catch (e) {
        const err = (0, errors_1.invalidValue)(method, name, 'could not be read: its getter or proxy threw (see the cause)');
        err.cause = e;
        throw err;
    }
}
/** `v` as an object (not null), or ERR_INVALID_ARG_TYPE expecting `expected`. */
function objectArg(method, name, v, expected) {
    if (typeof v !== 'object' || v === null)
        throw (0, errors_1.invalidType)(method, name, expected, v);
    return v;
}
