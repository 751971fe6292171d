"use strict";
// The /proc inspection (crates/dmabuf/src/inspect.rs).
Object.defineProperty(exports, "__esModule", { value: true });
exports.inspect = inspect;
const errors_1 = require("../internal/errors");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
/**
 * One pass over /proc: every dma-buf the caller may see, who holds it by
 * fd, who maps it, per-process totals with PSS, per-exporter totals, and
 * the processes that could not be read. `pids` limits the scan.
 */
function inspect(options) {
    const M = 'inspect';
    if (options === undefined)
        return native_1.native.inspect(null);
    if (typeof options !== 'object' || options === null || Array.isArray(options))
        throw (0, errors_1.invalidType)(M, 'options', 'of type object', options);
    const p = options.pids;
    if (p === undefined)
        return native_1.native.inspect(null);
    const list = (0, validators_1.handles)(M, 'options.pids', p, (v, i) => (0, validators_1.uint)(M, `options.pids[${i}]`, v, 2 ** 32 - 1));
    return native_1.native.inspect(Array.from(list));
}
