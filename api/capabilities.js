"use strict";
// What this kernel offers (crates/dmabuf/src/caps.rs).
Object.defineProperty(exports, "__esModule", { value: true });
exports.capabilities = capabilities;
const native_1 = require("../internal/native");
/** Probes heaps, udmabuf, DRM nodes and the dma-buf ioctls of this kernel. */
function capabilities() {
    return native_1.native.capabilities();
}
