"use strict";
// The native layer (crates/dmabuf-node, loaded through native.js at the
// package root) and its shared argument array.
//
// Hot paths (CPU access, sync_file export, close, unmap) call raw
// zero-argument native functions after writing their arguments into the
// Float64Array `A`; other calls leave extra results in its output slots. The
// slot numbers come from Rust (`mod slot` in crates/dmabuf-node/src/fast.rs)
// into ./generated/slots.ts as const enums (`Arg.HANDLE`, `Out.FD`, ...), so
// tsc writes the number itself at each use (`A[8 /* Out.FD */]`). A native
// function that returns a handle and more leaves the rest in the `Out` slots
// named for it: read them right after the call, before another native call.
Object.defineProperty(exports, "__esModule", { value: true });
exports.args = exports.native = void 0;
// eslint-disable-next-line @typescript-eslint/no-var-requires
exports.native = require('../native.js');
/**
 * The shared argument array of the fast calls: slots `Arg.*` in, `Out.*`
 * out. Modules copy it into a module constant of their own (`const A =
 * args`): an import is read through the exports object, a constant is not.
 */
exports.args = new Float64Array(exports.native.args);
