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
exports.frameArg = frameArg;
exports.frameBuffers = frameBuffers;
const errors_1 = require("../internal/errors");
const native_1 = require("../internal/native");
const validators_1 = require("../internal/validators");
const dma_buf_1 = require("./dma-buf");
/** Most planes a frame has (the Rust core's `MAX_PLANES`). */
const MAX_PLANES = 4;
/** Most memory planes of a V4L2 format (`VIDEO_MAX_PLANES`). */
const VIDEO_MAX_PLANES = 8;
/** An array's length, checked to lie in 1..=max before any element is read (a sparse array may claim 2^32 - 1). */
function arrayLength(method, name, v, max) {
    if (!Array.isArray(v))
        throw (0, errors_1.invalidType)(method, name, 'an instance of Array', v);
    const n = (0, validators_1.field)(method, `${name}.length`, v, 'length');
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max)
        throw (0, errors_1.outOfRange)(method, `${name}.length`, `>= 1 and <= ${max}`, n);
    return v;
}
function modifierArg(method, name, m) {
    if (typeof m !== 'bigint')
        throw (0, errors_1.invalidType)(method, name, 'of type bigint', m);
    return m;
}
function fourccArg(method, name, f) {
    if (typeof f === 'number')
        return (0, validators_1.uint)(method, name, f, validators_1.U32);
    if (typeof f !== 'string')
        throw (0, errors_1.invalidType)(method, name, 'of type number or string', f);
    const code = native_1.native.fourccFromName(f);
    if (code === null || code === undefined)
        throw (0, errors_1.invalidValue)(method, name, `must be a DRM format name or 1 to 4 printable characters. Received ${JSON.stringify(f.length > 28 ? f.slice(0, 25) + '...' : f)}`);
    return code;
}
/** The code of a DRM format name (`'NV12'`, `'XRGB8888'`) or of its 1 to 4 characters (`'XR24'`, `'R8'`). */
function drmFourcc(name) {
    return fourccArg('drmFourcc', 'name', (0, validators_1.str)('drmFourcc', 'name', name));
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
/** Whether `x` is a Frame this module made (its private brand), set by Frame's static block. */
let isFrame;
/**
 * A Frame given as the argument `name` of `method` to another class of this
 * package (not exported by the package): ERR_INVALID_ARG_TYPE for anything
 * else, a forged `Object.create(Frame.prototype)` included.
 */
function frameArg(x, method, name) {
    if (!isFrame(x))
        throw (0, errors_1.invalidType)(method, name, 'an instance of Frame', x);
    return x;
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
    /** @internal Whether `x` is a Frame made by the constructor (not an object that only claims the prototype). */
    static isFrame(x) {
        return typeof x === 'object' && x !== null && #brand in x;
    }
    static #check(x, method) {
        if (typeof x !== 'object' || x === null || !(#brand in x))
            throw (0, errors_1.invalidThis)(method, 'Frame');
        return x;
    }
    static {
        isFrame = (x) => typeof x === 'object' && x !== null && #brand in x;
    }
    constructor(options) {
        const M = 'new Frame';
        const o = (0, validators_1.objectArg)(M, 'options', options, 'of type object');
        const width = (0, validators_1.uint)(M, 'options.width', (0, validators_1.field)(M, 'options.width', o, 'width'), validators_1.U32);
        const height = (0, validators_1.uint)(M, 'options.height', (0, validators_1.field)(M, 'options.height', o, 'height'), validators_1.U32);
        const fourcc = fourccArg(M, 'options.fourcc', (0, validators_1.field)(M, 'options.fourcc', o, 'fourcc'));
        const m = (0, validators_1.field)(M, 'options.modifier', o, 'modifier');
        const modifier = m === undefined ? 0n : modifierArg(M, 'options.modifier', m);
        const list = arrayLength(M, 'options.planes', (0, validators_1.field)(M, 'options.planes', o, 'planes'), MAX_PLANES);
        const n = list.length;
        const planes = [];
        for (let i = 0; i < n; i++) {
            const name = `options.planes[${i}]`;
            const p = (0, validators_1.objectArg)(M, name, (0, validators_1.field)(M, name, list, i), 'of type object');
            const buf = (0, validators_1.field)(M, `${name}.buf`, p, 'buf');
            dma_buf_1.DmaBuf.handleOf(buf, M, `${name}.buf`, i);
            const off = (0, validators_1.field)(M, `${name}.offset`, p, 'offset');
            const offset = off === undefined ? 0 : (0, validators_1.uint)(M, `${name}.offset`, off, validators_1.U32);
            const pitch = (0, validators_1.uint)(M, `${name}.pitch`, (0, validators_1.field)(M, `${name}.pitch`, p, 'pitch'), validators_1.U32);
            planes.push(Object.freeze({ buf, offset, pitch }));
        }
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
        const f = (0, validators_1.objectArg)(M, 'format', format, 'a V4l2Format');
        const b = (0, validators_1.objectArg)(M, 'buffer', buffer, 'a V4l2BufferInfo');
        const pixelformat = (0, validators_1.str)(M, 'format.pixelformat', (0, validators_1.field)(M, 'format.pixelformat', f, 'pixelformat'));
        const width = (0, validators_1.uint)(M, 'format.width', (0, validators_1.field)(M, 'format.width', f, 'width'), validators_1.U32);
        const height = (0, validators_1.uint)(M, 'format.height', (0, validators_1.field)(M, 'format.height', f, 'height'), validators_1.U32);
        const fPlanes = arrayLength(M, 'format.planes', (0, validators_1.field)(M, 'format.planes', f, 'planes'), VIDEO_MAX_PLANES);
        const n = fPlanes.length;
        const bytesperline = [];
        for (let i = 0; i < n; i++) {
            const name = `format.planes[${i}]`;
            const p = (0, validators_1.objectArg)(M, name, (0, validators_1.field)(M, name, fPlanes, i), 'of type object');
            bytesperline.push((0, validators_1.uint)(M, `${name}.bytesperline`, (0, validators_1.field)(M, `${name}.bytesperline`, p, 'bytesperline'), validators_1.U32));
        }
        const bPlanes = arrayLength(M, 'buffer.planes', (0, validators_1.field)(M, 'buffer.planes', b, 'planes'), VIDEO_MAX_PLANES);
        if (bPlanes.length !== n) {
            throw (0, errors_1.invalidValue)(M, 'buffer.planes', `must hold one entry per memory plane of the format (${n}). Received ${bPlanes.length}`);
        }
        const dataOffsets = [];
        for (let i = 0; i < n; i++) {
            const name = `buffer.planes[${i}]`;
            const p = (0, validators_1.objectArg)(M, name, (0, validators_1.field)(M, name, bPlanes, i), 'of type object');
            dataOffsets.push((0, validators_1.uint)(M, `${name}.dataOffset`, (0, validators_1.field)(M, `${name}.dataOffset`, p, 'dataOffset'), validators_1.U32));
        }
        if (!Array.isArray(bufs))
            throw (0, errors_1.invalidType)(M, 'bufs', 'an instance of Array', bufs);
        const list = bufs;
        const count = (0, validators_1.field)(M, 'bufs.length', list, 'length');
        if (count !== n) {
            throw (0, errors_1.invalidValue)(M, 'bufs', `must hold one DmaBuf per memory plane of the format (${n}). Received a length of ${typeof count === 'number' ? count : (0, errors_1.describe)(count)}`);
        }
        const mem = [];
        for (let i = 0; i < n; i++) {
            const buf = (0, validators_1.field)(M, `bufs[${i}]`, list, i);
            dma_buf_1.DmaBuf.handleOf(buf, M, `bufs[${i}]`, i);
            mem.push(buf);
        }
        const l = native_1.native.frameV4l2Layout(pixelformat, width, height, bytesperline, dataOffsets);
        const dups = [];
        try {
            for (const m of l.memPlanes)
                dups.push(mem[m].dup());
            return new Frame({
                width,
                height,
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
/** Each Frame's memory planes, found once: a frame's planes never change. */
const memoryPlanes = new WeakMap();
/**
 * A Frame's memory planes: its distinct DmaBufs (by inode, which takes an
 * fstat and a read of fdinfo each), in plane order; cached, since an
 * encoder or a sink is given the same frames again and again.
 *
 * @internal Shared by M2mQueue and UnixFdSinkConnection; not exported by the package.
 */
function frameBuffers(f) {
    const known = memoryPlanes.get(f);
    if (known !== undefined)
        return known;
    const seen = new Set();
    const out = [];
    for (const p of f.planes) {
        const ino = p.buf.info().inode;
        if (seen.has(ino))
            continue;
        seen.add(ino);
        out.push(p.buf);
    }
    memoryPlanes.set(f, out);
    return out;
}
