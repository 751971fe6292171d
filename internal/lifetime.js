"use strict";
// Who owns a native handle, and the garbage-collection backstop.
Object.defineProperty(exports, "__esModule", { value: true });
exports.token = void 0;
exports.own = own;
exports.forget = forget;
exports.live = live;
exports.closeOnce = closeOnce;
exports.disown = disown;
exports.closeHandle = closeHandle;
const errors_1 = require("./errors");
const native_1 = require("./native");
const A = native_1.args;
const nativeClose = native_1.native.close;
/** The key a class's constructor demands: objects come from this package's factories only. */
exports.token = Symbol('dmabuf');
// ---------------------------------------------------------------------------
// Garbage collection is only a backstop: close() is the way.
//
// A FinalizationRegistry entry per object would make V8 keep every object
// (and its WeakCell) until a full mark-compact, even once closed and
// unregistered: measured, RSS grew ~25 MB per 100,000 objects in a loop that
// never yields. So objects are registered late: a new object waits in
// `young` (held strongly, with its handle in `youngH`) until the current
// job's microtasks run; close() before then takes it out again in O(1), and
// only objects still open at that point are registered. An object dropped
// without close() is then collected in due course and its handle closed.
const registry = new FinalizationRegistry((h) => {
    A[0 /* Arg.HANDLE */] = h;
    nativeClose();
});
/** Where an object waits in `young`: its index, or -1 (registered) or -2 (closed). */
const SLOT = Symbol('dmabuf.slot');
const young = [];
const youngH = [];
let flushQueued = false;
function flush() {
    flushQueued = false;
    for (let i = 0; i < young.length; i++) {
        const o = young[i];
        o[SLOT] = -1;
        registry.register(o, youngH[i], o);
    }
    young.length = 0;
    youngH.length = 0;
}
function own(obj, h) {
    const o = obj;
    o[SLOT] = young.length;
    young.push(o);
    youngH.push(h);
    if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flush);
    }
}
/** Stops tracking `obj` (it is being closed). */
function forget(obj) {
    const o = obj;
    const i = o[SLOT];
    if (i >= 0) {
        const last = young.pop();
        const lastH = youngH.pop();
        if (last !== o) {
            young[i] = last;
            youngH[i] = lastH;
            last[SLOT] = i;
        }
    }
    else if (i === -1) {
        registry.unregister(o);
    }
    o[SLOT] = -2;
}
/** `h` if it is live, else `ERR_DMABUF_CLOSED` naming the method. */
function live(h, method, what) {
    if (h < 0)
        throw (0, errors_1.closedError)(method, what);
    return h;
}
/** What close() does with a handle: releases it if still live; returns the closed marker to store. */
function closeOnce(obj, h) {
    if (h >= 0)
        disown(obj, h);
    return -1;
}
function disown(obj, h) {
    forget(obj);
    closeHandle(h);
}
/** Closes a handle that no object holds. */
function closeHandle(h) {
    A[0 /* Arg.HANDLE */] = h;
    nativeClose();
}
