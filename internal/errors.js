"use strict";
// Errors shaped like Node's own: `code` is the errno name or an ERR_* code.
Object.defineProperty(exports, "__esModule", { value: true });
exports.nodeError = nodeError;
exports.osError = osError;
exports.describe = describe;
exports.invalidType = invalidType;
exports.invalidValue = invalidValue;
exports.outOfRange = outOfRange;
exports.invalidThis = invalidThis;
exports.illegalConstructor = illegalConstructor;
exports.closedError = closedError;
exports.abortError = abortError;
function nodeError(Ctor, code, message) {
    const e = new Ctor(message);
    e.code = code;
    return e;
}
/** An error as a failed system call gives it: `code` the errno name, `errno` negative, `syscall` the call (or ioctl) that would have failed. */
function osError(code, errno, syscall, message) {
    const e = nodeError(Error, code, `${code}: ${message}`);
    e.errno = -errno;
    e.syscall = syscall;
    return e;
}
function describe(v) {
    if (v === null)
        return 'null';
    if (v === undefined)
        return 'undefined';
    if (typeof v === 'function')
        return `function ${v.name || '(anonymous)'}`;
    if (typeof v === 'object') {
        const name = v.constructor?.name;
        return name ? `an instance of ${name}` : 'an object';
    }
    if (typeof v === 'string')
        return `type string (${JSON.stringify(v.length > 28 ? v.slice(0, 25) + '...' : v)})`;
    if (typeof v === 'number')
        return `type number (${String(v)})`;
    return `type ${typeof v} (${String(v)})`;
}
function invalidType(method, name, expected, got) {
    return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `${method}: The "${name}" argument must be ${expected}. Received ${describe(got)}`);
}
function invalidValue(method, name, message) {
    return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `${method}: The argument "${name}" ${message}`);
}
function outOfRange(method, name, expected, got) {
    return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `${method}: The value of "${name}" is out of range. It must be ${expected}. Received ${String(got)}`);
}
function invalidThis(method, cls) {
    return nodeError(TypeError, 'ERR_INVALID_THIS', `${method}: Value of "this" must be of type ${cls}`);
}
function illegalConstructor(cls) {
    return nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', `Illegal constructor: ${cls} objects come from factory functions (see the README)`);
}
function closedError(method, cls) {
    return nodeError(Error, 'ERR_DMABUF_CLOSED', `${method}: the ${cls} is closed`);
}
function abortError(method, signal) {
    const e = nodeError(Error, 'ABORT_ERR', `${method}: The operation was aborted`);
    e.name = 'AbortError';
    e.cause = signal.reason;
    return e;
}
