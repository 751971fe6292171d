"use strict";
// Frames (crates/dmabuf/src/frame/): an image in dma-bufs as the Linux
// graphics and media stack describes one, a DRM fourcc, a format modifier
// (a bigint) and one to four planes of (DmaBuf, offset, pitch). The checks,
// the names and the drm-format strings are the Rust core's.
Object.defineProperty(exports, "__esModule", { value: true });
exports.Frame = void 0;
exports.drmFourcc = drmFourcc;
exports.drmFourccName = drmFourccName;
exports.drmModifierName = drmModifierName;
exports.parseDrmFormat = parseDrmFormat;
exports.drmFormatString = drmFormatString;
exports.drmFormats = drmFormats;
const errors_1 = require("../internal/errors");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const dma_buf_1 = require("./dma-buf");
function modifierArg(method, name, m) {
    if (typeof m !== 'bigint')
        throw (0, errors_1.invalidType)(method, name, 'of type bigint', m);
    return m;
}
/** The code of a DRM format name (`'NV12'`, `'XRGB8888'`) or of its 1 to 4 characters (`'XR24'`, `'R8'`). */
function drmFourcc(name) {
    const M = 'drmFourcc';
    const code = native_1.native.fourccFromName((0, validators_1.str)(M, 'name', name));
    if (code === null || code === undefined)
        throw (0, errors_1.invalidValue)(M, 'name', `must be a DRM format name or 1 to 4 printable characters. Received ${JSON.stringify(name)}`);
    return code;
}
/** The DRM format's name (`'XRGB8888'`), or its characters (`'Q123'`) outside the table. */
function drmFourccName(code) {
    return native_1.native.fourccNames((0, validators_1.uint)('drmFourccName', 'code', code, validators_1.U32))[0];
}
/** A modifier as `drm_info` prints it: `'LINEAR'`, `'I915_FORMAT_MOD_Y_TILED'`, else `'AMD(0x1234)'`. */
function drmModifierName(modifier) {
    return native_1.native.modifierName(modifierArg('drmModifierName', 'modifier', modifier));
}
/** Parses GStreamer's `drm-format` string: `'NV12'` (LINEAR) or `'NV12:0x0100000000000002'`. Throws EINVAL for anything else. */
function parseDrmFormat(s) {
    return native_1.native.drmFormatParse((0, validators_1.str)('parseDrmFormat', 's', s));
}
/** The `drm-format` string of a fourcc and a modifier (no `:0x…` for LINEAR). */
function drmFormatString(fourcc, modifier) {
    const M = 'drmFormatString';
    return native_1.native.drmFormatString((0, validators_1.uint)(M, 'fourcc', fourcc, validators_1.U32), modifierArg(M, 'modifier', modifier));
}
/** The common formats: planes, bytes per pixel per plane, subsampling of planes 1 and up. */
function drmFormats() {
    return native_1.native.frameFormats();
}
/**
 * An image in dma-bufs. The constructor checks (in Rust) the plane count of
 * the format (more only with a non-linear modifier), each pitch against a
 * row and each `offset + pitch * rows` against its dma-buf's size, and
 * throws EINVAL naming the plane, the fd and the numbers. The frame takes
 * the DmaBufs: `close()` closes each of them (a DmaBuf given for several
 * planes once).
 */
class Frame {
    width;
    height;
    fourcc;
    modifier;
    planes;
    #brand = true;
    static #check(x, method) {
        if (typeof x !== 'object' || x === null || !(#brand in x))
            throw (0, errors_1.invalidThis)(method, 'Frame');
        return x;
    }
    constructor(options) {
        const M = 'new Frame';
        if (typeof options !== 'object' || options === null)
            throw (0, errors_1.invalidType)(M, 'options', 'of type object', options);
        const width = (0, validators_1.uint)(M, 'options.width', options.width, validators_1.U32);
        const height = (0, validators_1.uint)(M, 'options.height', options.height, validators_1.U32);
        const f = options.fourcc;
        const fourcc = typeof f === 'string' ? drmFourcc(f) : (0, validators_1.uint)(M, 'options.fourcc', f, validators_1.U32);
        const modifier = options.modifier === undefined ? 0n : modifierArg(M, 'options.modifier', options.modifier);
        if (!Array.isArray(options.planes))
            throw (0, errors_1.invalidType)(M, 'options.planes', 'an array', options.planes);
        const planes = options.planes.map((p, i) => {
            if (typeof p !== 'object' || p === null)
                throw (0, errors_1.invalidType)(M, `options.planes[${i}]`, 'of type object', p);
            dma_buf_1.DmaBuf.handleOf(p.buf, M, `options.planes[${i}].buf`, i);
            const offset = p.offset === undefined ? 0 : (0, validators_1.uint)(M, `options.planes[${i}].offset`, p.offset, validators_1.U32);
            return Object.freeze({ buf: p.buf, offset, pitch: (0, validators_1.uint)(M, `options.planes[${i}].pitch`, p.pitch, validators_1.U32) });
        });
        native_1.native.frameCheck(width, height, fourcc, modifier, planes.map((p) => p.buf.fd), planes.map((p) => p.buf.size), planes.map((p) => p.offset), planes.map((p) => p.pitch));
        this.width = width;
        this.height = height;
        this.fourcc = fourcc;
        this.modifier = modifier;
        this.planes = Object.freeze(planes);
    }
    /**
     * The frame of a dequeued V4L2 buffer: `format` from `V4l2Device.format()`
     * (or `setFormat`), `buffer` what `dequeue()` gave, `bufs` the buffer's
     * planes from `exportBuffer(index, plane)`, one per memory plane. The
     * layout is the Rust `Frame::from_v4l2`'s (single-planar formats: every
     * plane in the one buffer, chroma after luma; NV12M and friends: one
     * buffer per plane at its `dataOffset`). The DmaBufs are duplicated: they
     * stay the caller's, and the frame closes only its duplicates.
     */
    static fromV4l2(format, buffer, bufs) {
        const M = 'Frame.fromV4l2';
        if (typeof format !== 'object' || format === null || !Array.isArray(format.planes))
            throw (0, errors_1.invalidType)(M, 'format', 'a V4l2Format', format);
        if (typeof buffer !== 'object' || buffer === null || !Array.isArray(buffer.planes))
            throw (0, errors_1.invalidType)(M, 'buffer', 'a V4l2BufferInfo', buffer);
        if (!Array.isArray(bufs))
            throw (0, errors_1.invalidType)(M, 'bufs', 'an array of DmaBuf', bufs);
        if (bufs.length !== format.planes.length) {
            throw (0, errors_1.invalidValue)(M, 'bufs', `must hold one DmaBuf per memory plane of the format (${format.planes.length}). Received ${bufs.length}`);
        }
        bufs.forEach((b, i) => dma_buf_1.DmaBuf.handleOf(b, M, `bufs[${i}]`, i));
        const l = native_1.native.frameV4l2Layout((0, validators_1.str)(M, 'format.pixelformat', format.pixelformat), (0, validators_1.uint)(M, 'format.width', format.width, validators_1.U32), (0, validators_1.uint)(M, 'format.height', format.height, validators_1.U32), format.planes.map((p, i) => (0, validators_1.uint)(M, `format.planes[${i}].bytesperline`, p.bytesperline, validators_1.U32)), buffer.planes.map((p, i) => (0, validators_1.uint)(M, `buffer.planes[${i}].dataOffset`, p.dataOffset, validators_1.U32)));
        const dups = [];
        try {
            for (const m of l.memPlanes)
                dups.push(bufs[m].dup());
            return new Frame({
                width: format.width,
                height: format.height,
                fourcc: l.fourcc,
                planes: dups.map((buf, i) => ({ buf, offset: l.offsets[i], pitch: l.pitches[i] })),
            });
        }
        catch (e) {
            for (const d of dups)
                d.close();
            throw e;
        }
    }
    /** The format's name (`'NV12'`, `'XRGB8888'`). */
    get formatName() {
        return drmFourccName(Frame.#check(this, 'Frame.formatName').fourcc);
    }
    /** The format as GStreamer's `drm-format` field writes it. */
    get drmFormat() {
        const f = Frame.#check(this, 'Frame.drmFormat');
        return drmFormatString(f.fourcc, f.modifier);
    }
    /** Closes every plane's DmaBuf. Calling it again does nothing. */
    close() {
        for (const p of Frame.#check(this, 'Frame.close').planes)
            p.buf.close();
    }
    [Symbol.dispose]() {
        Frame.#check(this, 'Frame[Symbol.dispose]').close();
    }
}
exports.Frame = Frame;
