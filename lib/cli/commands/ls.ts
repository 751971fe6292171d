// `dmabuf ls`: every dma-buf on the system, who holds it and who maps it.

import * as d from '../../index'
import { parse } from '../util/args'
import { UsageError } from '../util/errors'
import { bold, bytes, dim, out, red, table, tty, yellow } from '../util/output'
import { addBytes, minOf, parsePid, parseWatch, printable, sumBytes, MIN_WATCH_SECONDS, MAX_WATCH_SECONDS } from '../util/untrusted'

/** The version of `dmabuf ls --json`'s document; see schema/dmabuf-ls.schema.json. */
export const LS_SCHEMA = 'dmabuf-ls/1'

export const help = `Usage: dmabuf ls [options]

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
  --json                         JSON, schema "${LS_SCHEMA}" (README, schema/dmabuf-ls.schema.json)
  --csv                          CSV with a header line (numbers in bytes)
  --watch SECONDS                redraw every SECONDS (0.1 to 86400), marking with + what grew`

interface LsDoc {
  schema: string
  time: string
  scanMs: number
  scanned: number
  unconfirmed: number
  unreadable: { pid: number; code: string }[]
  processes: { pid: number; comm: string; cmdline: string; buffers: number; fds: number; fdBytes: number; mappedBytes: number; mappedOnly: number; pss: number; mapsRead: boolean }[]
  buffers: { inode: number; size: number; exporter: string; name: string; fileCount: number; holders: { pid: number; fds: number[]; mapped: number }[] }[]
  exporters: { name: string; buffers: number; bytes: number; processes: number }[]
}

function lsDoc(pids: number[] | undefined, exporter: string | undefined): LsDoc {
  const t0 = process.hrtime.bigint()
  const s = d.inspect(pids ? { pids } : undefined)
  const scanMs = Number(process.hrtime.bigint() - t0) / 1e6
  let buffers = s.buffers
  let processes = s.processes
  let exporters = s.exporters
  if (exporter !== undefined) {
    buffers = buffers.filter((b) => b.exporter === exporter)
    exporters = exporters.filter((e) => e.name === exporter)
    // Per-process totals over this exporter's buffers only.
    const acc = new Map<number, LsDoc['processes'][number]>()
    const byPid = new Map(processes.map((p) => [p.pid, p]))
    for (const b of buffers) {
      const share = Math.floor(b.size / Math.max(1, b.holders.length))
      for (const h of b.holders) {
        const base = byPid.get(h.pid)
        const p = acc.get(h.pid) ?? { pid: h.pid, comm: base?.comm ?? '', cmdline: base?.cmdline ?? '', buffers: 0, fds: 0, fdBytes: 0, mappedBytes: 0, mappedOnly: 0, pss: 0, mapsRead: base?.mapsRead ?? true }
        p.buffers++
        p.fds += h.fds.length
        if (h.fds.length) p.fdBytes = addBytes(p.fdBytes, b.size)
        else p.mappedOnly++
        p.mappedBytes = addBytes(p.mappedBytes, h.mapped)
        p.pss = addBytes(p.pss, share)
        acc.set(h.pid, p)
      }
    }
    processes = [...acc.values()].sort((x, y) => x.pid - y.pid)
  }
  return { schema: LS_SCHEMA, time: new Date().toISOString(), scanMs: Math.round(scanMs * 1000) / 1000, scanned: s.scanned, unconfirmed: s.unconfirmed, unreadable: s.unreadable, processes, buffers, exporters }
}

type Row = { key: string; cells: string[]; csv: (string | number)[]; grow: number; sort: { size: number; pid: number; name: string } }

function rows(doc: LsDoc, by: string): { head: string[]; right: boolean[]; rows: Row[] } {
  if (by === 'buffer') {
    return {
      head: ['INODE', 'SIZE', 'EXPORTER', 'NAME', 'HOLDERS (pid:fds)', 'MAPPED BY (pid:bytes)'],
      right: [true, true, false, false, false, false],
      rows: doc.buffers.map((b) => {
        const holders = b.holders.filter((h) => h.fds.length).map((h) => `${h.pid}:${h.fds.join('/')}`)
        const mappers = b.holders.filter((h) => h.mapped > 0).map((h) => `${h.pid}:${bytes(h.mapped)}${h.fds.length ? '' : ' (no fd)'}`)
        return {
          key: `b${b.inode}`,
          cells: [String(b.inode), bytes(b.size), printable(b.exporter) || '?', printable(b.name) || '-', holders.join(' ') || '-', mappers.join(' ') || '-'],
          csv: [b.inode, b.size, printable(b.exporter), printable(b.name), holders.join(' '), mappers.join(' ')],
          grow: b.holders.length,
          sort: { size: b.size, pid: minOf(b.holders.map((h) => h.pid)), name: b.name || b.exporter },
        }
      }),
    }
  }
  if (by === 'exporter') {
    return {
      head: ['EXPORTER', 'BUFFERS', 'BYTES', 'PROCESSES'],
      right: [false, true, true, true],
      rows: doc.exporters.map((e) => ({
        key: `e${e.name}`,
        cells: [printable(e.name) || '? (mapped only)', String(e.buffers), bytes(e.bytes), String(e.processes)],
        csv: [printable(e.name), e.buffers, e.bytes, e.processes],
        grow: e.bytes,
        sort: { size: e.bytes, pid: 0, name: e.name },
      })),
    }
  }
  return {
    head: ['PID', 'COMMAND', 'BUFFERS', 'FDS', 'BY FD', 'MAPPED', 'PSS', 'MAPPED ONLY'],
    right: [true, false, true, true, true, true, true, true],
    rows: doc.processes.map((p) => ({
      key: `p${p.pid}`,
      cells: [String(p.pid), clip(printable(command(p)), 48), String(p.buffers), String(p.fds), bytes(p.fdBytes), p.mapsRead ? bytes(p.mappedBytes) : dim('?'), bytes(p.pss), p.mappedOnly ? yellow(String(p.mappedOnly)) : '0'],
      csv: [p.pid, printable(command(p)), p.buffers, p.fds, p.fdBytes, p.mappedBytes, p.pss, p.mappedOnly],
      grow: p.fdBytes + p.mappedBytes,
      sort: { size: p.pss, pid: p.pid, name: command(p) },
    })),
  }
}

/** What `ps -o args` shows: the command line, or the command name where there is none (a kernel thread). */
function command(p: { comm: string; cmdline: string }): string {
  return p.cmdline || p.comm
}

/** `s` cut to `n` characters, the cut marked with an ellipsis. */
function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`
}

function csvCell(v: string | number): string {
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * The table's lines. With `watch`, a first column marks with + each row that
 * is new or grew since `previous` (none on the first frame).
 */
function renderLs(doc: LsDoc, by: string, sort: string, previous: Map<string, number> | undefined, watch = false): { lines: string[]; grew: Map<string, number> } {
  const t = rows(doc, by)
  const r = t.rows.slice()
  if (sort === 'pid') r.sort((x, y) => x.sort.pid - y.sort.pid)
  else if (sort === 'name') r.sort((x, y) => x.sort.name.localeCompare(y.sort.name))
  else r.sort((x, y) => y.sort.size - x.sort.size)
  const now = new Map(r.map((x) => [x.key, x.grow]))
  const cells = r.map((x) => {
    if (!watch) return x.cells
    const before = previous?.get(x.key)
    const grew = previous !== undefined && (before === undefined || x.grow > before)
    return [grew ? red('+') : ' ', ...x.cells]
  })
  const head = watch ? [' ', ...t.head] : t.head
  const right = watch ? [false, ...t.right] : t.right
  const lines = r.length ? table(head, cells, right) : [dim(`no dma-bufs${doc.unreadable.length ? ' that this user can see' : ''}`)]
  const total = sumBytes(doc.buffers.map((b) => b.size))
  lines.push('')
  lines.push(`${doc.buffers.length} buffers, ${bytes(total)} in ${doc.processes.length} processes; ${doc.scanned} processes scanned in ${doc.scanMs.toFixed(1)} ms`)
  if (doc.unreadable.length) {
    const shown = doc.unreadable.slice(0, 8).map((u) => u.pid).join(', ')
    lines.push(yellow(`${doc.unreadable.length} processes could not be read (${doc.unreadable[0].code}; run as root to see them): ${shown}${doc.unreadable.length > 8 ? ', ...' : ''}`))
  }
  if (doc.unconfirmed) lines.push(yellow(`${doc.unconfirmed} mappings named like a dma-buf are not dma-bufs (files named /dmabuf:...); left out`))
  const leaks = doc.processes.filter((p) => p.mappedOnly > 0)
  if (leaks.length) lines.push(yellow(`mapped with no fd left (possible leaks): ${leaks.map((p) => `${p.pid} ${clip(printable(command(p)), 48)} (${p.mappedOnly})`).join(', ')}`))
  return { lines, grew: now }
}

export async function ls(argv: string[]): Promise<number> {
  const a = parse(argv, { flags: ['json', 'csv'], values: ['pid', 'exporter', 'sort', 'by', 'watch'], multi: ['pid'] }, 'ls')
  if (a.help) return showHelp()
  if (a._.length) throw new UsageError(`ls: unexpected argument '${a._[0]}'`)
  const by = (a.by as string | undefined) ?? 'process'
  if (!['process', 'buffer', 'exporter'].includes(by)) throw new UsageError(`ls: --by must be process, buffer or exporter, not '${by}'`)
  const sort = (a.sort as string | undefined) ?? 'size'
  if (!['size', 'pid', 'name'].includes(sort)) throw new UsageError(`ls: --sort must be size, pid or name, not '${sort}'`)
  let pids: number[] | undefined
  if (a.pid) {
    pids = (a.pid as string[]).flatMap((s) => s.split(',')).map((s) => {
      const n = parsePid(s)
      if (n === undefined) throw new UsageError(`ls: --pid takes process ids (decimal, 1 to 4194304), not '${printable(s)}'`)
      return n
    })
  }
  if (a.json && a.csv) throw new UsageError('ls: choose one of --json and --csv')
  const exporter = a.exporter as string | undefined
  if (a.watch !== undefined) {
    const secs = parseWatch(String(a.watch))
    if (secs === undefined) throw new UsageError(`ls: --watch takes seconds from ${MIN_WATCH_SECONDS} to ${MAX_WATCH_SECONDS} (each frame scans all of /proc), not '${printable(String(a.watch))}'`)
    if (a.json || a.csv) throw new UsageError('ls: --watch draws the table; it does not combine with --json or --csv')
    let previous: Map<string, number> | undefined
    let stop = false
    let wake: (() => void) | undefined
    // Ctrl-C ends the watch (status 0) at once, even in the middle of a pause.
    process.on('SIGINT', () => {
      stop = true
      wake?.()
    })
    for (let frame = 0; !stop; frame++) {
      const doc = lsDoc(pids, exporter)
      const { lines, grew } = renderLs(doc, by, sort, previous, true)
      const headerLine = `${bold('dmabuf ls')} every ${secs} s, ${doc.time}${frame ? '  (+: new or grew since the last frame)' : ''}`
      if (tty) process.stdout.write('\x1b[H\x1b[2J')
      else if (frame) out('')
      out(headerLine)
      for (const l of lines) out(l)
      previous = grew
      if (stop) break
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, secs * 1000)
        wake = () => {
          clearTimeout(t)
          ok()
        }
      })
    }
    return 0
  }
  const doc = lsDoc(pids, exporter)
  if (a.json) {
    out(JSON.stringify(doc, null, 2))
    return 0
  }
  if (a.csv) {
    const t = rows(doc, by)
    out(t.head.map(csvCell).join(','))
    for (const r of t.rows) out(r.csv.map(csvCell).join(','))
    return 0
  }
  for (const l of renderLs(doc, by, sort, undefined).lines) out(l)
  return 0
}

function showHelp(): number {
  out(help)
  return 0
}
