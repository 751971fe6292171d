#!/usr/bin/env node
"use strict";
// The `dmabuf` command (the package's bin): `dmabuf info`, `dmabuf ls`,
// `dmabuf demo`. Written over the public classes of ./index; compiled by
// `tsc -p tsconfig.json` into cli.js at the package root.
//
// Exit codes: 0 success; 1 failure (an error, or the demo's check failed);
// 2 bad usage; 3 this system has no dma-buf exporter to run on.
Object.defineProperty(exports, "__esModule", { value: true });
exports.LS_SCHEMA = void 0;
const node_child_process_1 = require("node:child_process");
const node_fs_1 = require("node:fs");
const node_net_1 = require("node:net");
const node_os_1 = require("node:os");
const node_path_1 = require("node:path");
const d = require("./index");
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;
const EXIT_UNSUPPORTED = 3;
/** The version of `dmabuf ls --json`'s document; see schema/dmabuf-ls.schema.json. */
exports.LS_SCHEMA = 'dmabuf-ls/1';
class UsageError extends Error {
}
class CliError extends Error {
    exitCode;
    constructor(message, exitCode = EXIT_FAIL) {
        super(message);
        this.exitCode = exitCode;
    }
}
// ---------------------------------------------------------------------------
// Output: colours only on a terminal (and never with NO_COLOR).
const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code) => (s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const yellow = paint('33');
function out(line = '') {
    process.stdout.write(line + '\n');
}
function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
        v /= 1024;
        u++;
    }
    return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}
function table(head, rows, right) {
    const visible = (s) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
    const w = head.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i]))));
    const fmt = (r, isHead = false) => r
        .map((c, i) => {
        const pad = ' '.repeat(w[i] - visible(c));
        const cell = right[i] ? pad + c : c + pad;
        return isHead ? bold(cell) : cell;
    })
        .join('  ')
        .trimEnd();
    return [fmt(head, true), ...rows.map((r) => fmt(r))];
}
function parse(argv, spec, command) {
    const a = { _: [] };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith('-') || arg === '-') {
            a._.push(arg);
            continue;
        }
        let [name, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
        if (name === '-h')
            name = '--help';
        if (name === '-v')
            name = '--verbose';
        const key = name.replace(/^--/, '');
        if (spec.flags.includes(key) || key === 'help' || key === 'verbose') {
            if (value !== undefined)
                throw new UsageError(`${command}: --${key} takes no value`);
            a[key] = true;
        }
        else if (spec.values.includes(key)) {
            if (value === undefined) {
                value = argv[++i];
                if (value === undefined)
                    throw new UsageError(`${command}: --${key} needs a value`);
            }
            if (spec.multi?.includes(key))
                a[key] = [...(a[key] ?? []), value];
            else
                a[key] = value;
        }
        else {
            throw new UsageError(`${command}: unknown option ${name} (see dmabuf ${command} --help)`);
        }
    }
    return a;
}
function positiveInt(command, name, v, dflt, max = 1e9) {
    if (v === undefined)
        return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
        throw new UsageError(`${command}: --${name} must be a whole number from 1 to ${max}, not '${v}'`);
    return n;
}
function sizeArg(command, name, v, dflt) {
    if (v === undefined)
        return dflt;
    const m = /^(\d+)\s*([kKmMgG]?)(i?B)?$/.exec(v);
    if (!m)
        throw new UsageError(`${command}: --${name} must be a size such as 4096, 64K or 8M, not '${v}'`);
    const n = Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()];
    if (n < 4096 || n % 4096 !== 0)
        throw new UsageError(`${command}: --${name} must be a multiple of 4096 bytes, not ${n}`);
    return n;
}
// ---------------------------------------------------------------------------
// Help.
const HELP = {
    main: `dmabuf: Linux DMA-BUF from the command line

Usage: dmabuf <command> [options]

Commands:
  info    what this system offers: kernel, heaps, udmabuf, DRM, V4L2, DVB,
          Vulkan, ioctls
  ls      every dma-buf on the system, who holds it and who maps it
  demo    a zero-copy pipeline between two processes, against a socket copy

Options:
  -h, --help     help (also after a command: dmabuf ls --help)
  -v, --verbose  stack traces with errors
  --version      the package's version

Exit codes: 0 success, 1 failure, 2 bad usage, 3 no dma-buf exporter here.`,
    info: `Usage: dmabuf info [--json]

Prints the kernel, dma-heaps, udmabuf, DRM nodes and their drivers, the V4L2
video nodes (single- or multi-planar, whether they export their buffers and
import dma-bufs), the DVB demuxes and whether their buffers export, the Vulkan
devices (dma-buf export and import, SYNC_FD; "none" without Vulkan), which
dma-buf and sync_file ioctls the kernel implements, whether pidfd_getfd
works, and whatever else capabilities() reports.

Options:
  --json   the same as JSON (capabilities() plus the probes of this command:
           syncFileIoctls, pidfdGetfd, vulkan)`,
    ls: `Usage: dmabuf ls [options]

Every dma-buf this user may see (one pass over /proc): per process the
buffers held by fd, the bytes mapped, and PSS (each buffer's size divided
among the processes holding or mapping it); per buffer its exporter, name and
holders; per exporter totals. Processes that cannot be read are counted (run
as root to see every process).

Options:
  --by process|buffer|exporter   what one row is (default process)
  --pid PID[,PID...]             only these processes (repeatable)
  --exporter NAME                only buffers of this exporter (udmabuf, system, ...)
  --sort size|pid|name           row order (default size, largest first)
  --json                         JSON, schema "${exports.LS_SCHEMA}" (README, schema/dmabuf-ls.schema.json)
  --csv                          CSV with a header line (numbers in bytes)
  --watch SECONDS                redraw every SECONDS, marking with + what grew`,
    demo: `Usage: dmabuf demo [options]

A producer process allocates a ring of dma-bufs, passes their fds to a
consumer process once, then per frame writes the frame under CPU access and
sends only the buffer's index and a sync_file; the consumer waits on the
fence, maps, verifies a checksum and hands the index back. Then the same
frames go through a plain Unix socket (copying), and the two are compared.
With --source v4l2 the ring is a capture node's buffers and each frame is
one it captured, queued back to the driver once the consumer hands it back.
Without dma-buf devices here, it runs inside the project's VM (in a checkout).

Options:
  --frames N          frames to send (default 300)
  --size BYTES        frame size (default 2M; suffixes K, M; not with v4l2)
  --ring N            buffers in the ring (default 4; v4l2: the driver may give more)
  --source udmabuf|heap|v4l2
                      where the buffers come from (default: a heap if any, else
                      udmabuf); v4l2: a capture node's exported MMAP buffers
                      (vivid-000-vid-cap first), each frame one it captured,
                      its size set by the capture format (no --size)
  --no-copy           skip the socket-copy comparison`,
};
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
        out(`${indent}${label}: ${dim('unknown')}`);
    else if (typeof v === 'boolean')
        out(`${indent}${label}: ${v ? green('yes') : yellow('no')}`);
    else if (Array.isArray(v)) {
        if (v.length === 0)
            out(`${indent}${label}: ${dim('none')}`);
        else if (v.every((x) => typeof x !== 'object' || x === null))
            out(`${indent}${label}: ${v.join(', ')}`);
        else {
            out(`${indent}${label}:`);
            for (const x of v) {
                const o = x;
                const parts = Object.entries(o).map(([k, y]) => (k === 'path' ? String(y) : `${k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} ${y === null || y === undefined ? dim('unknown') : typeof y === 'object' ? JSON.stringify(y) : String(y)}`));
                out(`${indent}  ${parts.join(', ')}`);
            }
        }
    }
    else if (typeof v === 'object') {
        out(`${indent}${label}:`);
        for (const [k, y] of Object.entries(v))
            show(IOCTL_NAMES[k] ?? k, y, indent + '  ');
    }
    else
        out(`${indent}${label}: ${String(v)}`);
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
const yesNo = (v) => (v === null || v === undefined ? dim('unknown') : v ? green('yes') : yellow('no'));
function infoV4l2(nodes) {
    out(`${bold('v4l2 nodes')}:${nodes.length ? '' : ' ' + dim('none')}`);
    if (!nodes.length)
        return;
    const kind = (t) => [t.replace('-mplane', ''), t.endsWith('-mplane') ? 'multi-planar' : 'single-planar'];
    const rows = nodes.map((n) => [n.path, n.name || '-', n.driver, ...kind(n.bufType), yesNo(n.canExport), yesNo(n.canImport)]);
    for (const l of table(['PATH', 'NAME', 'DRIVER', 'QUEUE', 'PLANES', 'EXPORTS (MMAP)', 'IMPORTS (DMABUF)'], rows, [false, false, false, false, false, false, false]))
        out(`  ${l}`);
}
function infoDvb(demuxes, canExport) {
    out(`${bold('dvb demuxes')}:${demuxes.length ? '' : ' ' + dim('none')}`);
    for (const p of demuxes)
        out(`  ${p}`);
    if (demuxes.length)
        out(`  buffer export (DMX_REQBUFS + DMX_EXPBUF, CONFIG_DVB_MMAP): ${yesNo(canExport)}`);
}
function infoVulkan(v) {
    if (!v.devices.length) {
        out(`${bold('vulkan devices')}: ${dim('none')}${v.reason ? dim(` (${v.reason})`) : ''}`);
        return;
    }
    out(`${bold('vulkan devices')}:`);
    const dir = (s) => `export ${yesNo(s.export.includes('dma-buf'))}, import ${yesNo(s.import.includes('dma-buf'))}`;
    for (const dev of v.devices) {
        if ('error' in dev) {
            out(`  ${dev.index}: ${red('cannot open')}: ${dev.error}`);
            continue;
        }
        out(`  ${dev.index}: ${dev.deviceName} (Vulkan ${dev.apiVersion})`);
        out(`     dma-buf buffers: ${dir(dev.buffer)}; images: ${dir(dev.image)}`);
        out(`     SYNC_FD semaphores: export ${yesNo(dev.semaphore.export)}, import ${yesNo(dev.semaphore.import)}; fences: export ${yesNo(dev.fence.export)}, import ${yesNo(dev.fence.import)}`);
        if (dev.missingExtensions.length)
            out(`     ${dim(`missing: ${dev.missingExtensions.join(', ')}`)}`);
    }
}
function info(argv) {
    const a = parse(argv, { flags: ['json'], values: [] }, 'info');
    if (a.help)
        return help('info');
    if (a._.length)
        throw new UsageError(`info: unexpected argument '${a._[0]}'`);
    const caps = d.capabilities();
    const extra = { syncFileIoctls: probeSyncFile(), pidfdGetfd: probePidfd(), vulkan: probeVulkan() };
    if (a.json) {
        out(JSON.stringify({ ...caps, ...extra }, null, 2));
        return 0;
    }
    const { kernel, ioctls, v4l2, dvbDemuxes, dvbExport, ...rest } = caps;
    out(`${bold('kernel')}: ${String(kernel)}`);
    for (const [k, v] of Object.entries(rest)) {
        if (k === 'drm' && Array.isArray(v)) {
            out(`${bold('drm nodes')}:${v.length ? '' : ' ' + dim('none')}`);
            for (const n of v)
                out(`  ${n.path}  ${n.driver ?? dim('(cannot open)')}`);
        }
        else
            show(k, v, '');
    }
    infoV4l2((v4l2 ?? []));
    infoDvb((dvbDemuxes ?? []), dvbExport);
    infoVulkan(extra.vulkan);
    out(bold('dma-buf ioctls') + (Object.values((ioctls ?? {})).every((x) => x === null || x === undefined) ? dim(' (no dma-buf could be made to try them)') : '') + ':');
    const io = (ioctls ?? {});
    for (const k of new Set([...Object.keys(IOCTL_NAMES), ...Object.keys(io)]))
        show(IOCTL_NAMES[k] ?? k, io[k], '  ');
    out(bold('sync_file ioctls') + ':');
    for (const [k, v] of Object.entries(extra.syncFileIoctls))
        show(k, v, '  ');
    show('pidfd_getfd (DmaBuf.fromProcess)', extra.pidfdGetfd === true ? true : extra.pidfdGetfd === false ? false : null, '');
    return 0;
}
function lsDoc(pids, exporter) {
    const t0 = process.hrtime.bigint();
    const s = d.inspect(pids ? { pids } : undefined);
    const scanMs = Number(process.hrtime.bigint() - t0) / 1e6;
    let buffers = s.buffers;
    let processes = s.processes;
    let exporters = s.exporters;
    if (exporter !== undefined) {
        buffers = buffers.filter((b) => b.exporter === exporter);
        exporters = exporters.filter((e) => e.name === exporter);
        // Per-process totals over this exporter's buffers only.
        const acc = new Map();
        for (const b of buffers) {
            const share = Math.floor(b.size / Math.max(1, b.holders.length));
            for (const h of b.holders) {
                const base = processes.find((p) => p.pid === h.pid);
                const p = acc.get(h.pid) ?? { pid: h.pid, comm: base?.comm ?? '', buffers: 0, fds: 0, fdBytes: 0, mappedBytes: 0, mappedOnly: 0, pss: 0, mapsRead: base?.mapsRead ?? true };
                p.buffers++;
                p.fds += h.fds.length;
                if (h.fds.length)
                    p.fdBytes += b.size;
                else
                    p.mappedOnly++;
                p.mappedBytes += h.mapped;
                p.pss += share;
                acc.set(h.pid, p);
            }
        }
        processes = [...acc.values()].sort((x, y) => x.pid - y.pid);
    }
    return { schema: exports.LS_SCHEMA, time: new Date().toISOString(), scanMs: Math.round(scanMs * 1000) / 1000, scanned: s.scanned, unreadable: s.unreadable, processes, buffers, exporters };
}
function rows(doc, by) {
    if (by === 'buffer') {
        return {
            head: ['INODE', 'SIZE', 'EXPORTER', 'NAME', 'HOLDERS (pid:fds)', 'MAPPED BY (pid:bytes)'],
            right: [true, true, false, false, false, false],
            rows: doc.buffers.map((b) => {
                const holders = b.holders.filter((h) => h.fds.length).map((h) => `${h.pid}:${h.fds.join('/')}`);
                const mappers = b.holders.filter((h) => h.mapped > 0).map((h) => `${h.pid}:${bytes(h.mapped)}${h.fds.length ? '' : ' (no fd)'}`);
                return {
                    key: `b${b.inode}`,
                    cells: [String(b.inode), bytes(b.size), b.exporter || '?', b.name || '-', holders.join(' ') || '-', mappers.join(' ') || '-'],
                    csv: [b.inode, b.size, b.exporter, b.name, holders.join(' '), mappers.join(' ')],
                    grow: b.holders.length,
                    sort: { size: b.size, pid: Math.min(...b.holders.map((h) => h.pid)), name: b.name || b.exporter },
                };
            }),
        };
    }
    if (by === 'exporter') {
        return {
            head: ['EXPORTER', 'BUFFERS', 'BYTES', 'PROCESSES'],
            right: [false, true, true, true],
            rows: doc.exporters.map((e) => ({
                key: `e${e.name}`,
                cells: [e.name || '? (mapped only)', String(e.buffers), bytes(e.bytes), String(e.processes)],
                csv: [e.name, e.buffers, e.bytes, e.processes],
                grow: e.bytes,
                sort: { size: e.bytes, pid: 0, name: e.name },
            })),
        };
    }
    return {
        head: ['PID', 'COMMAND', 'BUFFERS', 'FDS', 'BY FD', 'MAPPED', 'PSS', 'MAPPED ONLY'],
        right: [true, false, true, true, true, true, true, true],
        rows: doc.processes.map((p) => ({
            key: `p${p.pid}`,
            cells: [String(p.pid), p.comm, String(p.buffers), String(p.fds), bytes(p.fdBytes), p.mapsRead ? bytes(p.mappedBytes) : dim('?'), bytes(p.pss), p.mappedOnly ? yellow(String(p.mappedOnly)) : '0'],
            csv: [p.pid, p.comm, p.buffers, p.fds, p.fdBytes, p.mappedBytes, p.pss, p.mappedOnly],
            grow: p.fdBytes + p.mappedBytes,
            sort: { size: p.pss, pid: p.pid, name: p.comm },
        })),
    };
}
function csvCell(v) {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
/**
 * The table's lines. With `watch`, a first column marks with + each row that
 * is new or grew since `previous` (none on the first frame).
 */
function renderLs(doc, by, sort, previous, watch = false) {
    const t = rows(doc, by);
    const r = t.rows.slice();
    if (sort === 'pid')
        r.sort((x, y) => x.sort.pid - y.sort.pid);
    else if (sort === 'name')
        r.sort((x, y) => x.sort.name.localeCompare(y.sort.name));
    else
        r.sort((x, y) => y.sort.size - x.sort.size);
    const now = new Map(r.map((x) => [x.key, x.grow]));
    const cells = r.map((x) => {
        if (!watch)
            return x.cells;
        const before = previous?.get(x.key);
        const grew = previous !== undefined && (before === undefined || x.grow > before);
        return [grew ? red('+') : ' ', ...x.cells];
    });
    const head = watch ? [' ', ...t.head] : t.head;
    const right = watch ? [false, ...t.right] : t.right;
    const lines = r.length ? table(head, cells, right) : [dim(`no dma-bufs${doc.unreadable.length ? ' that this user can see' : ''}`)];
    const total = doc.buffers.reduce((s, b) => s + b.size, 0);
    lines.push('');
    lines.push(`${doc.buffers.length} buffers, ${bytes(total)} in ${doc.processes.length} processes; ${doc.scanned} processes scanned in ${doc.scanMs.toFixed(1)} ms`);
    if (doc.unreadable.length) {
        const shown = doc.unreadable.slice(0, 8).map((u) => u.pid).join(', ');
        lines.push(yellow(`${doc.unreadable.length} processes could not be read (${doc.unreadable[0].code}; run as root to see them): ${shown}${doc.unreadable.length > 8 ? ', ...' : ''}`));
    }
    const leaks = doc.processes.filter((p) => p.mappedOnly > 0);
    if (leaks.length)
        lines.push(yellow(`mapped with no fd left (possible leaks): ${leaks.map((p) => `${p.pid} ${p.comm} (${p.mappedOnly})`).join(', ')}`));
    return { lines, grew: now };
}
async function ls(argv) {
    const a = parse(argv, { flags: ['json', 'csv'], values: ['pid', 'exporter', 'sort', 'by', 'watch'], multi: ['pid'] }, 'ls');
    if (a.help)
        return help('ls');
    if (a._.length)
        throw new UsageError(`ls: unexpected argument '${a._[0]}'`);
    const by = a.by ?? 'process';
    if (!['process', 'buffer', 'exporter'].includes(by))
        throw new UsageError(`ls: --by must be process, buffer or exporter, not '${by}'`);
    const sort = a.sort ?? 'size';
    if (!['size', 'pid', 'name'].includes(sort))
        throw new UsageError(`ls: --sort must be size, pid or name, not '${sort}'`);
    let pids;
    if (a.pid) {
        pids = a.pid.flatMap((s) => s.split(',')).map((s) => {
            const n = Number(s);
            if (!Number.isInteger(n) || n < 1 || n > 2 ** 31)
                throw new UsageError(`ls: --pid takes process ids, not '${s}'`);
            return n;
        });
    }
    if (a.json && a.csv)
        throw new UsageError('ls: choose one of --json and --csv');
    const exporter = a.exporter;
    if (a.watch !== undefined) {
        const secs = Number(a.watch);
        if (!(secs > 0 && secs <= 86400))
            throw new UsageError(`ls: --watch takes seconds (> 0), not '${String(a.watch)}'`);
        if (a.json || a.csv)
            throw new UsageError('ls: --watch draws the table; it does not combine with --json or --csv');
        let previous;
        let stop = false;
        let wake;
        // Ctrl-C ends the watch (status 0) at once, even in the middle of a pause.
        process.on('SIGINT', () => {
            stop = true;
            wake?.();
        });
        for (let frame = 0; !stop; frame++) {
            const doc = lsDoc(pids, exporter);
            const { lines, grew } = renderLs(doc, by, sort, previous, true);
            const headerLine = `${bold('dmabuf ls')} every ${secs} s, ${doc.time}${frame ? '  (+: new or grew since the last frame)' : ''}`;
            if (tty)
                process.stdout.write('\x1b[H\x1b[2J');
            else if (frame)
                out('');
            out(headerLine);
            for (const l of lines)
                out(l);
            previous = grew;
            if (stop)
                break;
            await new Promise((ok) => {
                const t = setTimeout(ok, secs * 1000);
                wake = () => {
                    clearTimeout(t);
                    ok();
                };
            });
        }
        return 0;
    }
    const doc = lsDoc(pids, exporter);
    if (a.json) {
        out(JSON.stringify(doc, null, 2));
        return 0;
    }
    if (a.csv) {
        const t = rows(doc, by);
        out(t.head.map(csvCell).join(','));
        for (const r of t.rows)
            out(r.csv.map(csvCell).join(','));
        return 0;
    }
    for (const l of renderLs(doc, by, sort, undefined).lines)
        out(l);
    return 0;
}
// ---------------------------------------------------------------------------
// dmabuf demo
function hasExporter() {
    if ((0, node_fs_1.existsSync)('/dev/udmabuf'))
        return true;
    try {
        return (0, node_fs_1.readdirSync)('/dev/dma_heap').length > 0;
    }
    catch {
        return false;
    }
}
/** Fills a frame: a seed everywhere and the frame number at both ends; returns its checksum (the 32-bit sum of its words). */
function fill(u32, frame) {
    const seed = Math.imul(frame + 1, 2654435761) >>> 0;
    u32.fill(seed);
    const n = u32.length;
    u32[0] = frame;
    u32[n - 1] = ~frame >>> 0;
    return (Math.imul(seed, n - 2) + frame + (~frame >>> 0)) >>> 0;
}
function checksum(u32) {
    let s = 0;
    for (let i = 0; i < u32.length; i++)
        s = (s + u32[i]) | 0;
    return s >>> 0;
}
function percentile(sorted, p) {
    if (!sorted.length)
        return 0;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
class Progress {
    label;
    total;
    #last = 0;
    constructor(label, total) {
        this.label = label;
        this.total = total;
    }
    tick(done, t0) {
        const now = Date.now();
        if (done < this.total && now - this.#last < 100)
            return;
        this.#last = now;
        const fps = done / (Number(process.hrtime.bigint() - t0) / 1e9 || 1);
        if (tty) {
            const w = 30;
            const full = Math.round((done / this.total) * w);
            process.stdout.write(`\r${this.label} [${green('#'.repeat(full))}${'.'.repeat(w - full)}] ${done}/${this.total} frames, ${fps.toFixed(0)} fps `);
            if (done === this.total)
                process.stdout.write('\n');
        }
        else if (done === this.total || done % Math.max(1, Math.floor(this.total / 4)) === 0) {
            out(`${this.label}: ${done}/${this.total} frames, ${fps.toFixed(0)} fps`);
        }
    }
}
async function consumer() {
    const ch = d.Channel.fromFd(3);
    (0, node_fs_1.closeSync)(3);
    const first = await ch.receive({ maxFds: 64 });
    const ring = first.fds;
    const maps = ring.map((b) => b.map('r'));
    const views = maps.map((m) => new Uint32Array(m.buffer));
    // Started and mapped: the producer starts its clock now, not while this process was starting.
    await ch.send({ type: 'ready' });
    for (;;) {
        let msg;
        try {
            msg = await ch.receive({ maxFds: 1 });
        }
        catch (e) {
            if (e.code === 'EPIPE')
                break;
            throw e;
        }
        if (msg.header.type === 'end')
            break;
        const { i, frame, sum, off, len } = msg.header;
        const fence = msg.fds[0];
        // A fence that has signalled already (udmabuf and heaps signal at once) needs no trip through the event loop.
        if (!fence.isSignaled())
            await fence.wait();
        fence.close();
        const access = ring[i].beginCpuAccess('r');
        const got = checksum(views[i].subarray(off / 4, (off + len) / 4));
        access.end();
        await ch.send({ i, frame, ok: got === sum, sum: got });
    }
    for (const m of maps)
        m.unmap();
    for (const b of ring)
        b.close();
    ch.close();
    return 0;
}
/** udmabuf or heap buffers that the producer fills itself, each frame under CPU access. */
function allocSource(source, size, ringSize) {
    const ring = [];
    try {
        for (let i = 0; i < ringSize; i++) {
            const b = source === 'heap' ? d.Heap.open(d.listHeaps().includes('system') ? 'system' : d.listHeaps()[0]).alloc(size) : d.createUdmabuf(size);
            ring.push(b);
            b.setName(`demo-frame-${i}`);
        }
    }
    catch (e) {
        for (const b of ring)
            b.close();
        throw e;
    }
    const maps = ring.map((b) => b.map('rw'));
    const views = maps.map((m) => new Uint32Array(m.buffer));
    const free = ring.map((_, i) => i);
    let waiting;
    return {
        ring,
        frameBytes: size,
        label: `a ring of ${ringSize} ${source} buffers`,
        data: (i) => maps[i].buffer,
        async next(frame) {
            while (free.length === 0) {
                await new Promise((ok) => (waiting = ok));
                waiting = undefined;
            }
            const i = free.shift();
            const access = ring[i].beginCpuAccess('w');
            const sum = fill(views[i], frame);
            access.end();
            return { i, sum, off: 0, len: size };
        },
        release(i) {
            free.push(i);
            waiting?.();
        },
        close() {
            for (const m of maps)
                m.unmap();
            for (const b of ring)
                b.close();
        },
    };
}
/** The V4L2 capture nodes whose buffers export as dma-bufs, single-planar, vivid's first. */
function captureNodes() {
    let nodes;
    try {
        nodes = d.V4l2Device.list();
    }
    catch {
        return [];
    }
    return nodes.filter((n) => n.bufType === 'capture' && n.canExport).sort((x, y) => Number(y.name === 'vivid-000-vid-cap') - Number(x.name === 'vivid-000-vid-cap'));
}
const V4L2_BUF_FLAG_ERROR = 0x40;
/**
 * A V4L2 capture node's MMAP buffers, exported as dma-bufs: each frame is
 * one the driver captured. The producer dequeues it, checksums it under
 * CPU access (reading, not copying), and queues it back to the driver only
 * once the consumer has handed its index back.
 */
function v4l2Source(node, ringSize) {
    const dev = d.V4l2Device.open(node.path);
    const ring = [];
    let maps = [];
    let streaming = false;
    const close = () => {
        if (streaming)
            dev.streamOff();
        streaming = false;
        for (const m of maps)
            m.unmap();
        for (const b of ring)
            b.close();
        dev.close();
    };
    try {
        try {
            dev.setFrameInterval(1, 60);
        }
        catch {
            // Not every driver lets the frame rate be chosen: its own rate it is.
        }
        const fmt = dev.format();
        const n = dev.requestBuffers(ringSize);
        for (let i = 0; i < n; i++) {
            const b = dev.exportBuffer(i, 0, 'rw');
            ring.push(b);
            b.setName(`demo-frame-${i}`);
        }
        maps = ring.map((b) => b.map('r'));
        const views = maps.map((m) => new Uint32Array(m.buffer));
        for (let i = 0; i < n; i++)
            dev.queue(i);
        dev.streamOn();
        streaming = true;
        let errors = 0;
        return {
            ring,
            frameBytes: fmt.planes[0].sizeimage,
            data: (i) => maps[i].buffer,
            label: `a ring of ${n} buffers captured by ${node.name} (${node.path}, ${fmt.width}x${fmt.height} ${fmt.pixelformat}, ${bytes(fmt.planes[0].sizeimage)} a frame)`,
            async next() {
                for (;;) {
                    const b = await dev.dequeue(5_000);
                    if (b === null)
                        throw new CliError(`demo: ${node.path} (${node.name}) captured no frame in 5 s`);
                    // A frame the driver marks as damaged goes straight back to it (vivid never does).
                    if (b.flags & V4L2_BUF_FLAG_ERROR && ++errors < 100) {
                        dev.queue(b.index);
                        continue;
                    }
                    const p = b.planes[0];
                    const off = p.dataOffset & ~3;
                    const len = (p.bytesused - off) & ~3;
                    const access = ring[b.index].beginCpuAccess('r');
                    const sum = checksum(views[b.index].subarray(off / 4, (off + len) / 4));
                    access.end();
                    return { i: b.index, sum, off, len };
                }
            },
            release(i) {
                dev.queue(i);
            },
            close,
        };
    }
    catch (e) {
        close();
        throw e;
    }
}
async function zeroCopy(frames, src) {
    const [mine, theirs] = d.Channel.pair();
    const child = (0, node_child_process_1.spawn)(process.execPath, [__filename, 'demo', '--role', 'consumer'], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] });
    theirs.close();
    const exited = new Promise((ok) => child.on('exit', (code, sig) => ok(code ?? (sig ? 128 : 1))));
    try {
        return await zeroCopyRun(frames, src, mine, exited);
    }
    catch (e) {
        // A source that stops (no frame from the device) or a consumer that fails: do not leave the other process waiting.
        child.kill();
        if (!mine.closed)
            mine.close();
        throw e;
    }
}
async function zeroCopyRun(frames, src, mine, exited) {
    const ring = src.ring;
    const exporter = ring[0].info().exporter;
    await mine.send({ type: 'ring', size: src.frameBytes }, ring);
    await mine.receive({ maxFds: 0 });
    const sentAt = new Map();
    const latencies = [];
    let bad = 0;
    let acked = 0;
    let headerBytes = 0;
    const bar = new Progress('zero-copy', frames);
    const t0 = process.hrtime.bigint();
    const acks = (async () => {
        while (acked < frames) {
            const m = await mine.receive({ maxFds: 0 });
            const t = sentAt.get(m.header.frame);
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
            if (!m.header.ok)
                bad++;
            acked++;
            src.release(m.header.i);
            bar.tick(acked, t0);
        }
    })();
    // Settles only if the acknowledgements fail: the producer then stops waiting for a buffer.
    const ackFailed = new Promise((_, fail) => acks.catch((e) => fail(e ?? new Error('the acknowledgements stopped'))));
    for (let f = 0; f < frames; f++) {
        const { i, sum, off, len } = await Promise.race([src.next(f), ackFailed]);
        const fence = ring[i].exportSyncFile('w');
        const header = { type: 'frame', i, frame: f, sum, off, len };
        headerBytes += JSON.stringify(header).length + 4;
        sentAt.set(f, process.hrtime.bigint());
        await mine.send(header, [fence]);
        fence.close();
    }
    await acks;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await mine.send({ type: 'end' });
    const code = await exited;
    mine.close();
    if (code !== 0)
        throw new CliError(`demo: the consumer process exited with status ${code}`);
    return { frames, seconds, latencies, bad, exporter, headerBytes };
}
async function copyConsumer(path, size) {
    const sock = (0, node_net_1.createConnection)(path);
    const frame = Buffer.alloc(size + 8);
    let have = 0;
    await new Promise((ok, fail) => {
        sock.on('data', (chunk) => {
            let off = 0;
            while (off < chunk.length) {
                const n = Math.min(chunk.length - off, frame.length - have);
                chunk.copy(frame, have, off, off + n);
                have += n;
                off += n;
                if (have === frame.length) {
                    have = 0;
                    const f = frame.readUInt32LE(0);
                    const sum = frame.readUInt32LE(4);
                    const u32 = new Uint32Array(frame.buffer, frame.byteOffset + 8, size / 4);
                    const ack = Buffer.alloc(8);
                    ack.writeUInt32LE(f, 0);
                    ack.writeUInt32LE(checksum(u32) === sum ? 1 : 0, 4);
                    sock.write(ack);
                }
            }
        });
        sock.on('end', ok);
        sock.on('error', fail);
    });
    sock.end();
    return 0;
}
/**
 * The same frames through a plain Unix socket, copied. Without `src`, the
 * producer fills plain memory as the zero-copy run fills its dma-bufs; with
 * it (v4l2), each frame is one the device captured, copied out of its
 * mapping into the socket, and the buffer goes back to the driver at once.
 */
async function socketCopy(frames, size, ringSize, src) {
    const dir = (0, node_fs_1.mkdtempSync)((0, node_path_1.join)((0, node_os_1.tmpdir)(), 'dmabuf-demo-'));
    const path = (0, node_path_1.join)(dir, 'copy.sock');
    const server = (0, node_net_1.createServer)();
    await new Promise((ok) => server.listen(path, ok));
    const child = (0, node_child_process_1.spawn)(process.execPath, [__filename, 'demo', '--role', 'copy-consumer', '--path', path, '--size', String(size)], { stdio: ['ignore', 'inherit', 'inherit'] });
    const exited = new Promise((ok) => child.on('exit', (code, sig) => ok(code ?? (sig ? 128 : 1))));
    const sock = await new Promise((ok) => server.once('connection', ok));
    const sentAt = [];
    const latencies = [];
    let bad = 0;
    let acked = 0;
    let inflight = 0;
    let waiting;
    let pending = Buffer.alloc(0);
    const bar = new Progress('socket copy', frames);
    const t0 = process.hrtime.bigint();
    sock.on('data', (chunk) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        while (pending.length >= 8) {
            const f = pending.readUInt32LE(0);
            if (pending.readUInt32LE(4) !== 1)
                bad++;
            latencies.push(Number(process.hrtime.bigint() - sentAt[f]) / 1e6);
            pending = pending.subarray(8);
            acked++;
            inflight--;
            bar.tick(acked, t0);
            waiting?.();
        }
    });
    // One buffer per ring slot, filled like the dma-bufs, then written (copied) into the socket.
    const slots = Array.from({ length: ringSize }, () => Buffer.alloc(size + 8));
    for (let f = 0; f < frames; f++) {
        while (inflight >= ringSize) {
            await new Promise((ok) => (waiting = ok));
            waiting = undefined;
        }
        const b = slots[f % ringSize];
        let sum;
        if (src) {
            const got = await src.next(f);
            const n = Math.min(got.len, size);
            const access = src.ring[got.i].beginCpuAccess('r');
            b.set(new Uint8Array(src.data(got.i), got.off, n), 8);
            access.end();
            src.release(got.i);
            b.fill(0, 8 + n);
            sum = got.sum;
        }
        else
            sum = fill(new Uint32Array(b.buffer, b.byteOffset + 8, size / 4), f);
        b.writeUInt32LE(f, 0);
        b.writeUInt32LE(sum, 4);
        sentAt[f] = process.hrtime.bigint();
        inflight++;
        if (!sock.write(b))
            await new Promise((ok) => sock.once('drain', ok));
    }
    while (acked < frames) {
        await new Promise((ok) => (waiting = ok));
        waiting = undefined;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    sock.end();
    const code = await exited;
    server.close();
    (0, node_fs_1.rmSync)(dir, { recursive: true, force: true });
    if (code !== 0)
        throw new CliError(`demo: the socket-copy consumer exited with status ${code}`);
    return { frames, seconds, latencies, bad };
}
function checkout() {
    const root = (0, node_path_1.join)(__dirname);
    return (0, node_fs_1.existsSync)((0, node_path_1.join)(root, 'scripts/vm/run.sh')) && (0, node_fs_1.existsSync)((0, node_path_1.join)(root, 'Cargo.toml')) ? root : undefined;
}
async function demo(argv) {
    const a = parse(argv, { flags: ['no-copy'], values: ['frames', 'size', 'ring', 'source', 'role', 'path'] }, 'demo');
    if (a.help)
        return help('demo');
    if (a._.length)
        throw new UsageError(`demo: unexpected argument '${a._[0]}'`);
    if (a.role === 'consumer')
        return consumer();
    if (a.role === 'copy-consumer')
        return copyConsumer(String(a.path), positiveInt('demo', 'size', a.size, 4, 2 ** 31));
    if (a.role !== undefined)
        throw new UsageError(`demo: unknown --role '${String(a.role)}'`);
    const frames = positiveInt('demo', 'frames', a.frames, 300, 1e7);
    const size = sizeArg('demo', 'size', a.size, 2 << 20);
    const ringSize = positiveInt('demo', 'ring', a.ring, 4, 64);
    let source = a.source;
    if (source !== undefined && source !== 'udmabuf' && source !== 'heap' && source !== 'v4l2')
        throw new UsageError(`demo: --source must be udmabuf, heap or v4l2, not '${source}'`);
    if (source === 'v4l2' && a.size !== undefined)
        throw new UsageError('demo: --size does not apply to --source v4l2 (the capture format sets the frame size)');
    const inVm = process.env.DMABUF_VM === '1';
    const capture = source === 'v4l2' ? captureNodes() : [];
    if (source === 'v4l2' ? capture.length === 0 : !hasExporter()) {
        const root = checkout();
        if (inVm || root === undefined || (source === 'v4l2' && hasExporter())) {
            if (source === 'v4l2')
                throw new CliError('demo: --source v4l2: this system has no V4L2 capture node that exports its buffers (single-planar, MMAP): load one (modprobe vivid) or choose another --source', EXIT_UNSUPPORTED);
            throw new CliError('demo: this system has no dma-buf exporter (no /dev/udmabuf, no /dev/dma_heap/*): load one (modprobe udmabuf) or run it in a checkout, where it uses the project VM', EXIT_UNSUPPORTED);
        }
        out(`no ${source === 'v4l2' ? 'V4L2 capture node' : 'dma-buf devices'} here: running the demo inside the project's VM (scripts/vm/run.sh)`);
        const r = (0, node_child_process_1.spawnSync)('bash', [(0, node_path_1.join)(root, 'scripts/vm/run.sh'), process.execPath, __filename, 'demo', ...argv], { stdio: 'inherit', cwd: root });
        return r.status ?? EXIT_FAIL;
    }
    if (source === undefined)
        source = d.listHeaps().length ? 'heap' : 'udmabuf';
    const src = source === 'v4l2' ? v4l2Source(capture[0], ringSize) : allocSource(source, size, ringSize);
    let z;
    try {
        out(`${bold('dmabuf demo')}: ${frames} frames of ${bytes(src.frameBytes)}, ${src.label}, producer pid ${process.pid}${inVm ? ' (inside the project VM)' : ''}`);
        z = await zeroCopy(frames, src);
    }
    finally {
        src.close();
    }
    const frameBytes = src.frameBytes;
    const lat = z.latencies.slice().sort((x, y) => x - y);
    const fps = z.frames / z.seconds;
    out(`zero-copy (${source}, exporter ${z.exporter}): ${fps.toFixed(1)} frames/s, ${((fps * frameBytes) / 2 ** 20).toFixed(0)} MiB/s of frames; latency p50 ${percentile(lat, 50).toFixed(2)} ms, p90 ${percentile(lat, 90).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms`);
    out(`  frame bytes copied by the library: 0 (each frame's message: ${Math.round(z.headerBytes / z.frames)} bytes of header and 1 sync_file)`);
    out(`  checksums: ${z.frames - z.bad}/${z.frames} ${z.bad ? red('FAILED') : green('ok')}`);
    let failed = z.bad > 0;
    if (!a['no-copy']) {
        let c;
        if (source === 'v4l2') {
            const again = v4l2Source(capture[0], ringSize);
            try {
                c = await socketCopy(frames, frameBytes & ~3, ringSize, again);
            }
            finally {
                again.close();
            }
        }
        else
            c = await socketCopy(frames, frameBytes & ~3, ringSize);
        const cl = c.latencies.slice().sort((x, y) => x - y);
        const cfps = c.frames / c.seconds;
        out(`socket copy: ${cfps.toFixed(1)} frames/s; latency p50 ${percentile(cl, 50).toFixed(2)} ms, p99 ${percentile(cl, 99).toFixed(2)} ms; checksums ${c.frames - c.bad}/${c.frames} ${c.bad ? red('FAILED') : green('ok')}`);
        out(`${bold('ratio')}: zero-copy ${(fps / cfps).toFixed(2)}x the frames per second of the socket copy (latency p50 ${percentile(lat, 50).toFixed(2)} ms against ${percentile(cl, 50).toFixed(2)} ms)`);
        if (source === 'v4l2')
            out(dim(`  (both runs take the frames ${capture[0].name} captures, so both go at its frame rate at most)`));
        failed ||= c.bad > 0;
    }
    return failed ? EXIT_FAIL : 0;
}
// ---------------------------------------------------------------------------
function help(command) {
    out(HELP[command]);
    return 0;
}
async function main(argv) {
    const [command, ...rest] = argv;
    switch (command) {
        case undefined:
            out(HELP.main);
            return EXIT_USAGE;
        case '-h':
        case '--help':
        case 'help':
            return rest.length && HELP[rest[0]] ? help(rest[0]) : help('main');
        case '--version':
            out(require('./package.json').version);
            return 0;
        case 'info':
            return info(rest);
        case 'ls':
            return ls(rest);
        case 'demo':
            return demo(rest);
        default:
            throw new UsageError(`unknown command '${command}' (dmabuf --help lists them)`);
    }
}
if (require.main === module) {
    const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    }, (e) => {
        const err = e;
        const message = err instanceof UsageError || err instanceof CliError ? err.message : `${err.code ? `${err.code}: ` : ''}${err.message?.replace(/^E[A-Z0-9]+: /, '') ?? String(e)}`;
        process.stderr.write(`dmabuf: ${message}\n`);
        if (verbose && err.stack)
            process.stderr.write(err.stack + '\n');
        process.exitCode = err instanceof UsageError ? EXIT_USAGE : (err.exitCode ?? EXIT_FAIL);
    });
}
