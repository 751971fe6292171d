"use strict";
// `dmabuf ls`: every dma-buf on the system, who holds it and who maps it.
Object.defineProperty(exports, "__esModule", { value: true });
exports.help = exports.LS_SCHEMA = void 0;
exports.ls = ls;
const d = require("../../index");
const args_1 = require("../util/args");
const errors_1 = require("../util/errors");
const output_1 = require("../util/output");
const untrusted_1 = require("../util/untrusted");
/** The version of `dmabuf ls --json`'s document; see schema/dmabuf-ls.schema.json. */
exports.LS_SCHEMA = 'dmabuf-ls/1';
exports.help = `Usage: dmabuf ls [options]

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
  --watch SECONDS                redraw every SECONDS (0.1 to 86400), marking with + what grew`;
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
        const byPid = new Map(processes.map((p) => [p.pid, p]));
        for (const b of buffers) {
            const share = Math.floor(b.size / Math.max(1, b.holders.length));
            for (const h of b.holders) {
                const base = byPid.get(h.pid);
                const p = acc.get(h.pid) ?? { pid: h.pid, comm: base?.comm ?? '', cmdline: base?.cmdline ?? '', buffers: 0, fds: 0, fdBytes: 0, mappedBytes: 0, mappedOnly: 0, pss: 0, mapsRead: base?.mapsRead ?? true };
                p.buffers++;
                p.fds += h.fds.length;
                if (h.fds.length)
                    p.fdBytes = (0, untrusted_1.addBytes)(p.fdBytes, b.size);
                else
                    p.mappedOnly++;
                p.mappedBytes = (0, untrusted_1.addBytes)(p.mappedBytes, h.mapped);
                p.pss = (0, untrusted_1.addBytes)(p.pss, share);
                acc.set(h.pid, p);
            }
        }
        processes = [...acc.values()].sort((x, y) => x.pid - y.pid);
    }
    return { schema: exports.LS_SCHEMA, time: new Date().toISOString(), scanMs: Math.round(scanMs * 1000) / 1000, scanned: s.scanned, unconfirmed: s.unconfirmed, unreadable: s.unreadable, processes, buffers, exporters };
}
function rows(doc, by) {
    if (by === 'buffer') {
        return {
            head: ['INODE', 'SIZE', 'EXPORTER', 'NAME', 'HOLDERS (pid:fds)', 'MAPPED BY (pid:bytes)'],
            right: [true, true, false, false, false, false],
            rows: doc.buffers.map((b) => {
                const holders = b.holders.filter((h) => h.fds.length).map((h) => `${h.pid}:${h.fds.join('/')}`);
                const mappers = b.holders.filter((h) => h.mapped > 0).map((h) => `${h.pid}:${(0, output_1.bytes)(h.mapped)}${h.fds.length ? '' : ' (no fd)'}`);
                return {
                    key: `b${b.inode}`,
                    cells: [String(b.inode), (0, output_1.bytes)(b.size), (0, untrusted_1.printable)(b.exporter) || '?', (0, untrusted_1.printable)(b.name) || '-', holders.join(' ') || '-', mappers.join(' ') || '-'],
                    csv: [b.inode, b.size, (0, untrusted_1.printable)(b.exporter), (0, untrusted_1.printable)(b.name), holders.join(' '), mappers.join(' ')],
                    grow: b.holders.length,
                    sort: { size: b.size, pid: (0, untrusted_1.minOf)(b.holders.map((h) => h.pid)), name: b.name || b.exporter },
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
                cells: [(0, untrusted_1.printable)(e.name) || '? (mapped only)', String(e.buffers), (0, output_1.bytes)(e.bytes), String(e.processes)],
                csv: [(0, untrusted_1.printable)(e.name), e.buffers, e.bytes, e.processes],
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
            cells: [String(p.pid), clip((0, untrusted_1.printable)(command(p)), 48), String(p.buffers), String(p.fds), (0, output_1.bytes)(p.fdBytes), p.mapsRead ? (0, output_1.bytes)(p.mappedBytes) : (0, output_1.dim)('?'), (0, output_1.bytes)(p.pss), p.mappedOnly ? (0, output_1.yellow)(String(p.mappedOnly)) : '0'],
            csv: [p.pid, (0, untrusted_1.printable)(command(p)), p.buffers, p.fds, p.fdBytes, p.mappedBytes, p.pss, p.mappedOnly],
            grow: p.fdBytes + p.mappedBytes,
            sort: { size: p.pss, pid: p.pid, name: command(p) },
        })),
    };
}
/** What `ps -o args` shows: the command line, or the command name where there is none (a kernel thread). */
function command(p) {
    return p.cmdline || p.comm;
}
/** `s` cut to `n` characters, the cut marked with an ellipsis. */
function clip(s, n) {
    return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
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
        return [grew ? (0, output_1.red)('+') : ' ', ...x.cells];
    });
    const head = watch ? [' ', ...t.head] : t.head;
    const right = watch ? [false, ...t.right] : t.right;
    const lines = r.length ? (0, output_1.table)(head, cells, right) : [(0, output_1.dim)(`no dma-bufs${doc.unreadable.length ? ' that this user can see' : ''}`)];
    const total = (0, untrusted_1.sumBytes)(doc.buffers.map((b) => b.size));
    lines.push('');
    lines.push(`${doc.buffers.length} buffers, ${(0, output_1.bytes)(total)} in ${doc.processes.length} processes; ${doc.scanned} processes scanned in ${doc.scanMs.toFixed(1)} ms`);
    if (doc.unreadable.length) {
        const shown = doc.unreadable.slice(0, 8).map((u) => u.pid).join(', ');
        lines.push((0, output_1.yellow)(`${doc.unreadable.length} processes could not be read (${doc.unreadable[0].code}; run as root to see them): ${shown}${doc.unreadable.length > 8 ? ', ...' : ''}`));
    }
    if (doc.unconfirmed)
        lines.push((0, output_1.yellow)(`${doc.unconfirmed} mappings named like a dma-buf are not dma-bufs (files named /dmabuf:...); left out`));
    const leaks = doc.processes.filter((p) => p.mappedOnly > 0);
    if (leaks.length)
        lines.push((0, output_1.yellow)(`mapped with no fd left (possible leaks): ${leaks.map((p) => `${p.pid} ${clip((0, untrusted_1.printable)(command(p)), 48)} (${p.mappedOnly})`).join(', ')}`));
    return { lines, grew: now };
}
async function ls(argv) {
    const a = (0, args_1.parse)(argv, { flags: ['json', 'csv'], values: ['pid', 'exporter', 'sort', 'by', 'watch'], multi: ['pid'] }, 'ls');
    if (a.help)
        return showHelp();
    if (a._.length)
        throw new errors_1.UsageError(`ls: unexpected argument '${a._[0]}'`);
    const by = a.by ?? 'process';
    if (!['process', 'buffer', 'exporter'].includes(by))
        throw new errors_1.UsageError(`ls: --by must be process, buffer or exporter, not '${by}'`);
    const sort = a.sort ?? 'size';
    if (!['size', 'pid', 'name'].includes(sort))
        throw new errors_1.UsageError(`ls: --sort must be size, pid or name, not '${sort}'`);
    let pids;
    if (a.pid) {
        pids = a.pid.flatMap((s) => s.split(',')).map((s) => {
            const n = (0, untrusted_1.parsePid)(s);
            if (n === undefined)
                throw new errors_1.UsageError(`ls: --pid takes process ids (decimal, 1 to 4194304), not '${(0, untrusted_1.printable)(s)}'`);
            return n;
        });
    }
    if (a.json && a.csv)
        throw new errors_1.UsageError('ls: choose one of --json and --csv');
    const exporter = a.exporter;
    if (a.watch !== undefined) {
        const secs = (0, untrusted_1.parseWatch)(String(a.watch));
        if (secs === undefined)
            throw new errors_1.UsageError(`ls: --watch takes seconds from ${untrusted_1.MIN_WATCH_SECONDS} to ${untrusted_1.MAX_WATCH_SECONDS} (each frame scans all of /proc), not '${(0, untrusted_1.printable)(String(a.watch))}'`);
        if (a.json || a.csv)
            throw new errors_1.UsageError('ls: --watch draws the table; it does not combine with --json or --csv');
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
            const headerLine = `${(0, output_1.bold)('dmabuf ls')} every ${secs} s, ${doc.time}${frame ? '  (+: new or grew since the last frame)' : ''}`;
            if (output_1.tty)
                process.stdout.write('\x1b[H\x1b[2J');
            else if (frame)
                (0, output_1.out)('');
            (0, output_1.out)(headerLine);
            for (const l of lines)
                (0, output_1.out)(l);
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
        (0, output_1.out)(JSON.stringify(doc, null, 2));
        return 0;
    }
    if (a.csv) {
        const t = rows(doc, by);
        (0, output_1.out)(t.head.map(csvCell).join(','));
        for (const r of t.rows)
            (0, output_1.out)(r.csv.map(csvCell).join(','));
        return 0;
    }
    for (const l of renderLs(doc, by, sort, undefined).lines)
        (0, output_1.out)(l);
    return 0;
}
function showHelp() {
    (0, output_1.out)(exports.help);
    return 0;
}
