"use strict";
// Taking an fd out of another process: the piece that fdFromProcess (fd
// passing) and DmaBuf.fromProcess share, kept below both.
Object.defineProperty(exports, "__esModule", { value: true });
exports.takeFd = takeFd;
const native_1 = require("./native");
const validators_1 = require("./validators");
/**
 * pidfd_open + pidfd_getfd: the handle of a duplicate of fd `fd` of process
 * `pid`; `Out.FD`, `Out.PASSED_KIND` and (for a dma-buf) `Out.PASSED_SIZE`
 * describe it. Errors name `M`, the method the user called.
 */
function takeFd(M, pid, fd) {
    return native_1.native.fdFromProcess((0, validators_1.uint)(M, 'pid', pid, 2 ** 32 - 1), (0, validators_1.uint)(M, 'fd', fd, 2 ** 31 - 1), M === 'DmaBuf.fromProcess');
}
