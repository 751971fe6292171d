"use strict";
// Native waits that JavaScript may cancel, and AbortSignal handling.
Object.defineProperty(exports, "__esModule", { value: true });
exports.waitId = waitId;
exports.liveSignal = liveSignal;
exports.abortable = abortable;
exports.sleep = sleep;
const errors_1 = require("./errors");
/** Ids of native waits that JavaScript may cancel (each family's cancel function ends only its own). */
let nextWait = 1;
/** A new wait id (a u32, as the native cancel functions take it). */
function waitId() {
    return nextWait++ >>> 0;
}
/** `signal` checked: undefined or an AbortSignal (else ERR_INVALID_ARG_TYPE) that has not aborted (else an AbortError). */
function liveSignal(M, signal) {
    if (signal !== undefined && !(signal instanceof AbortSignal))
        throw (0, errors_1.invalidType)(M, 'signal', 'an instance of AbortSignal', signal);
    if (signal?.aborted)
        throw (0, errors_1.abortError)(M, signal);
    return signal;
}
/**
 * Awaits `pending`, a native wait started with `id` that resolves null once
 * `cancel(id)` ran: `signal` aborting runs it, and the wait then rejects
 * with an AbortError. Any other value (null on a timeout too) as it came.
 */
async function abortable(M, signal, id, pending, cancel) {
    if (signal === undefined)
        return await pending;
    const onAbort = () => cancel(id);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
        const r = await pending;
        if (r === null && signal.aborted)
            throw (0, errors_1.abortError)(M, signal);
        return r;
    }
    finally {
        signal.removeEventListener('abort', onAbort);
    }
}
/** A ref'd timer of `ms` (it keeps the process alive), or an AbortError as soon as `signal` aborts. */
function sleep(M, ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) {
            reject((0, errors_1.abortError)(M, signal));
            return;
        }
        const onAbort = () => {
            clearTimeout(timer);
            reject((0, errors_1.abortError)(M, signal));
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}
