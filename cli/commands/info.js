"use strict";
// `dmabuf info`: what this system offers (capabilities() and the command's own probes).
Object.defineProperty(exports, "__esModule", { value: true });
exports.help = void 0;
exports.info = info;
const node_fs_1 = require("node:fs");
const d = require("../../index");
const args_1 = require("../util/args");
const errors_1 = require("../util/errors");
const kms_1 = require("../util/kms");
const output_1 = require("../util/output");
exports.help = `Usage: dmabuf info [--json]

Prints the kernel, dma-heaps, udmabuf, DRM nodes and their drivers, the KMS
displays (each card with modesetting: its connectors, CRTCs and planes with
their formats and IN_FORMATS modifiers; cards are opened without taking DRM
master, and one that will not open is reported), the V4L2
video nodes (single- or multi-planar, whether they export their buffers and
import dma-bufs), the memory-to-memory devices (codecs and converters: their
role and the formats each queue takes, coded ones marked), the DVB demuxes and whether their buffers export, the Vulkan
devices (dma-buf export and import, SYNC_FD; "none" without Vulkan), which
dma-buf and sync_file ioctls the kernel implements, whether pidfd_getfd
works, and whatever else capabilities() reports.

Options:
  --json   the same as JSON (capabilities() plus the probes of this command:
           syncFileIoctls, pidfdGetfd, vulkan, kms, m2m)`;
function probeSyncFile() {
    const r = { SYNC_IOC_FILE_INFO: null, SYNC_IOC_MERGE: null };
    let buf;
    try {
        buf = d.listHeaps().includes('system') ? d.Heap.open('system').alloc(4096) : d.createUdmabuf(4096);
    }
    catch {
        return r;
    }
    try {
        const sf = buf.exportSyncFile('r');
        try {
            const has = (f) => {
                try {
                    f();
                    return true;
                }
                catch (e) {
                    return e.code !== 'ENOTTY';
                }
            };
            r.SYNC_IOC_FILE_INFO = has(() => sf.info());
            r.SYNC_IOC_MERGE = has(() => sf.merge(sf).close());
        }
        finally {
            sf.close();
        }
    }
    catch {
        // No sync_file export on this kernel: the sync_file ioctls cannot be tried.
    }
    finally {
        buf.close();
    }
    return r;
}
/** Why there is no /dev/dma_heap and what to use instead (the core's own sentence, from Heap.open's error); null when it exists. */
function heapsMissing() {
    if ((0, node_fs_1.existsSync)('/dev/dma_heap'))
        return null;
    try {
        d.Heap.open('system').close();
        return null;
    }
    catch (e) {
        return e.message.replace(/^E[A-Z]+: /, '').replace(/, Heap\.open$/, '');
    }
}
function probePidfd() {
    try {
        d.fdFromProcess(process.pid, 0).close();
        return true;
    }
    catch (e) {
        const code = e.code;
        return code === 'ENOSYS' ? false : `unknown (${String(code)})`;
    }
}
const IOCTL_NAMES = {
    sync: 'DMA_BUF_IOCTL_SYNC',
    setName: 'DMA_BUF_SET_NAME',
    exportSyncFile: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE',
    importSyncFile: 'DMA_BUF_IOCTL_IMPORT_SYNC_FILE',
};
/** Prints any value capabilities() returns, so that fields added later show up without a change here. */
function show(key, v, indent) {
    const label = /^[a-z][A-Za-z0-9]*$/.test(key) ? key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : key;
    if (v === null || v === undefined)
        (0, output_1.out)(`${indent}${label}: ${(0, output_1.dim)('unknown')}`);
    else if (typeof v === 'boolean')
        (0, output_1.out)(`${indent}${label}: ${v ? (0, output_1.green)('yes') : (0, output_1.yellow)('no')}`);
    else if (Array.isArray(v)) {
        if (v.length === 0)
            (0, output_1.out)(`${indent}${label}: ${(0, output_1.dim)('none')}`);
        else if (v.every((x) => typeof x !== 'object' || x === null))
            (0, output_1.out)(`${indent}${label}: ${v.join(', ')}`);
        else {
            (0, output_1.out)(`${indent}${label}:`);
            for (const x of v) {
                const o = x;
                const parts = Object.entries(o).map(([k, y]) => (k === 'path' ? String(y) : `${k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} ${y === null || y === undefined ? (0, output_1.dim)('unknown') : typeof y === 'object' ? JSON.stringify(y) : String(y)}`));
                (0, output_1.out)(`${indent}  ${parts.join(', ')}`);
            }
        }
    }
    else if (typeof v === 'object') {
        (0, output_1.out)(`${indent}${label}:`);
        for (const [k, y] of Object.entries(v))
            show(IOCTL_NAMES[k] ?? k, y, indent + '  ');
    }
    else
        (0, output_1.out)(`${indent}${label}: ${String(v)}`);
}
/** Opens each Vulkan physical device in turn; never throws (no loader, no device: an empty list and the reason). */
function probeVulkan() {
    const r = { available: false, devices: [] };
    try {
        r.available = d.Vulkan.available();
    }
    catch (e) {
        r.reason = e.message;
        return r;
    }
    for (let index = 0; index < 64; index++) {
        try {
            const v = d.Vulkan.open({ device: index });
            try {
                r.devices.push({ index, ...v.capabilities() });
            }
            finally {
                v.close();
            }
        }
        catch (e) {
            const err = e;
            // Past the last device (or no loader at all): ENODEV/ENOENT end the list.
            if (err.code === 'ENODEV' || err.code === 'ENOENT') {
                if (index === 0)
                    r.reason = err.message.replace(/^E[A-Z]+: /, '').replace(/, Vulkan\.open$/, '');
                break;
            }
            r.devices.push({ index, error: err.message });
            if (!r.available && index === 0)
                break;
        }
    }
    return r;
}
const yesNo = (v) => (v === null || v === undefined ? (0, output_1.dim)('unknown') : v ? (0, output_1.green)('yes') : (0, output_1.yellow)('no'));
function infoKms(cards) {
    const shown = cards.filter((c) => c.status === 'kms');
    const closed = cards.filter((c) => c.status === 'error').length;
    const why = !cards.length ? 'no /dev/dri/card* node' : closed ? `${closed} card node${closed === 1 ? '' : 's'} could not be opened` : 'no card node has KMS modesetting';
    (0, output_1.out)(`${(0, output_1.bold)('kms displays')}:${shown.length ? '' : ` ${(0, output_1.dim)('none')} (${why})`}`);
    for (const c of cards) {
        if (c.status === 'not-kms') {
            (0, output_1.out)(`  ${c.path}  ${c.driver ?? (0, output_1.dim)('unknown driver')}: ${(0, output_1.dim)('not a KMS display (no modesetting): skipped')}`);
            continue;
        }
        if (c.status === 'error') {
            (0, output_1.out)(`  ${c.path}  ${c.driver ?? (0, output_1.dim)('unknown driver')}: ${(0, output_1.red)(`cannot open (${String(c.code)})`)}: ${String(c.reason)}`);
            continue;
        }
        (0, output_1.out)(`  ${c.path}  ${String(c.driver)}`);
        (0, output_1.out)(`    connectors:${c.connectors.length ? '' : ' ' + (0, output_1.dim)('none')}`);
        for (const k of c.connectors)
            (0, output_1.out)(`      ${k.name}  ${k.type}  ${k.status === 'connected' ? (0, output_1.green)(k.status) : (0, output_1.yellow)(k.status)}  ${k.modes} mode${k.modes === 1 ? '' : 's'}${k.preferred ? `, preferred ${k.preferred}` : ''}`);
        (0, output_1.out)(`    crtcs:${c.crtcs.length ? '' : ' ' + (0, output_1.dim)('none')}`);
        for (const k of c.crtcs)
            (0, output_1.out)(`      ${k.id}  index ${k.index}  ${k.mode ? `${k.mode}, framebuffer ${k.fbId || (0, output_1.dim)('none')}` : (0, output_1.dim)('off')}`);
        (0, output_1.out)(`    planes:${c.planes.length ? '' : ' ' + (0, output_1.dim)('none')}`);
        for (const p of c.planes) {
            (0, output_1.out)(`      ${p.id}  ${p.type}  crtcs ${p.possibleCrtcs.join(',') || (0, output_1.dim)('none')}${p.crtcId ? `  on crtc ${p.crtcId}` : ''}`);
            for (const g of p.formats)
                (0, output_1.out)(`        ${g.modifiers.length ? g.modifiers.join(', ') : (0, output_1.dim)('no IN_FORMATS')}: ${g.formats.join(' ')}`);
        }
    }
}
function infoV4l2(nodes) {
    (0, output_1.out)(`${(0, output_1.bold)('v4l2 nodes')}:${nodes.length ? '' : ' ' + (0, output_1.dim)('none')}`);
    if (!nodes.length)
        return;
    const kind = (t) => [t.replace('-mplane', ''), t.endsWith('-mplane') ? 'multi-planar' : 'single-planar'];
    const rows = nodes.map((n) => [n.path, n.name || '-', n.driver, ...kind(n.bufType), yesNo(n.canExport), yesNo(n.canImport)]);
    for (const l of (0, output_1.table)(['PATH', 'NAME', 'DRIVER', 'QUEUE', 'PLANES', 'EXPORTS (MMAP)', 'IMPORTS (DMABUF)'], rows, [false, false, false, false, false, false, false]))
        (0, output_1.out)(`  ${l}`);
}
/** The memory-to-memory devices (M2mDevice.list()), or why none could be listed. */
function listM2m() {
    try {
        return d.M2mDevice.list();
    }
    catch (e) {
        return { error: e.message };
    }
}
function infoM2m(m) {
    if (!Array.isArray(m)) {
        (0, output_1.out)(`${(0, output_1.bold)('m2m devices (codecs, converters)')}: ${(0, output_1.red)('cannot list')}: ${m.error}`);
        return;
    }
    (0, output_1.out)(`${(0, output_1.bold)('m2m devices (codecs, converters)')}:${m.length ? '' : ' ' + (0, output_1.dim)('none')}`);
    // Coded formats first and marked: they are what a codec is chosen by.
    const fmts = (fs) => [...fs.filter((f) => f.compressed).map((f) => `${f.pixelformat} (coded)`), ...fs.filter((f) => !f.compressed).map((f) => f.pixelformat)].join(' ') || (0, output_1.dim)('none');
    for (const n of m) {
        (0, output_1.out)(`  ${n.path}  ${n.name || '-'}  ${n.driver}  ${n.role}`);
        (0, output_1.out)(`    in  (OUTPUT):  ${fmts(n.outputFormats)}`);
        (0, output_1.out)(`    out (CAPTURE): ${fmts(n.captureFormats)}`);
    }
}
function infoDvb(demuxes, canExport) {
    (0, output_1.out)(`${(0, output_1.bold)('dvb demuxes')}:${demuxes.length ? '' : ' ' + (0, output_1.dim)('none')}`);
    for (const p of demuxes)
        (0, output_1.out)(`  ${p}`);
    if (demuxes.length)
        (0, output_1.out)(`  buffer export (DMX_REQBUFS + DMX_EXPBUF, CONFIG_DVB_MMAP): ${yesNo(canExport)}`);
}
function infoVulkan(v) {
    if (!v.devices.length) {
        (0, output_1.out)(`${(0, output_1.bold)('vulkan devices')}: ${(0, output_1.dim)('none')}${v.reason ? (0, output_1.dim)(` (${v.reason})`) : ''}`);
        return;
    }
    (0, output_1.out)(`${(0, output_1.bold)('vulkan devices')}:`);
    const dir = (s) => `export ${yesNo(s.export.includes('dma-buf'))}, import ${yesNo(s.import.includes('dma-buf'))}`;
    for (const dev of v.devices) {
        if ('error' in dev) {
            (0, output_1.out)(`  ${dev.index}: ${(0, output_1.red)('cannot open')}: ${dev.error}`);
            continue;
        }
        (0, output_1.out)(`  ${dev.index}: ${dev.deviceName} (Vulkan ${dev.apiVersion})`);
        (0, output_1.out)(`     dma-buf buffers: ${dir(dev.buffer)}; images: ${dir(dev.image)}`);
        (0, output_1.out)(`     SYNC_FD semaphores: export ${yesNo(dev.semaphore.export)}, import ${yesNo(dev.semaphore.import)}; fences: export ${yesNo(dev.fence.export)}, import ${yesNo(dev.fence.import)}`);
        if (dev.missingExtensions.length)
            (0, output_1.out)(`     ${(0, output_1.dim)(`missing: ${dev.missingExtensions.join(', ')}`)}`);
    }
}
function info(argv) {
    const a = (0, args_1.parse)(argv, { flags: ['json'], values: [] }, 'info');
    if (a.help)
        return showHelp();
    if (a._.length)
        throw new errors_1.UsageError(`info: unexpected argument '${a._[0]}'`);
    const caps = d.capabilities();
    const extra = { heapsMissing: heapsMissing(), syncFileIoctls: probeSyncFile(), pidfdGetfd: probePidfd(), vulkan: probeVulkan(), kms: (0, kms_1.listKms)(), m2m: listM2m() };
    if (a.json) {
        (0, output_1.out)(JSON.stringify({ ...caps, ...extra }, null, 2));
        return 0;
    }
    const { kernel, ioctls, v4l2, dvbDemuxes, dvbExport, ...rest } = caps;
    (0, output_1.out)(`${(0, output_1.bold)('kernel')}: ${String(kernel)}`);
    for (const [k, v] of Object.entries(rest)) {
        if (k === 'heaps' && Array.isArray(v) && v.length === 0 && extra.heapsMissing) {
            (0, output_1.out)(`${(0, output_1.bold)('heaps')}: ${(0, output_1.dim)('none')} (${extra.heapsMissing})`);
        }
        else if (k === 'drm' && Array.isArray(v)) {
            (0, output_1.out)(`${(0, output_1.bold)('drm nodes')}:${v.length ? '' : ' ' + (0, output_1.dim)('none')}`);
            for (const n of v)
                (0, output_1.out)(`  ${n.path}  ${n.driver ?? (0, output_1.dim)('(cannot open)')}`);
        }
        else
            show(k, v, '');
    }
    infoKms(extra.kms);
    infoV4l2((v4l2 ?? []));
    infoM2m(extra.m2m);
    infoDvb((dvbDemuxes ?? []), dvbExport);
    infoVulkan(extra.vulkan);
    (0, output_1.out)((0, output_1.bold)('dma-buf ioctls') + (Object.values((ioctls ?? {})).every((x) => x === null || x === undefined) ? (0, output_1.dim)(' (no dma-buf could be made to try them)') : '') + ':');
    const io = (ioctls ?? {});
    for (const k of new Set([...Object.keys(IOCTL_NAMES), ...Object.keys(io)]))
        show(IOCTL_NAMES[k] ?? k, io[k], '  ');
    (0, output_1.out)((0, output_1.bold)('sync_file ioctls') + ':');
    for (const [k, v] of Object.entries(extra.syncFileIoctls))
        show(k, v, '  ');
    show('pidfd_getfd (DmaBuf.fromProcess)', extra.pidfdGetfd === true ? true : extra.pidfdGetfd === false ? false : null, '');
    return 0;
}
function showHelp() {
    (0, output_1.out)(exports.help);
    return 0;
}
