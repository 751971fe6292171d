#!/usr/bin/env node
// Cases 8-12 of `npm run bench` (issues 18 and 22): streaming work side by
// side with GStreamer and C, in one run. See bench/README.md, "Streaming cases".
//
//   node bench/streaming.mjs [--only 8,9,10,11,12] [--rounds 3] [--no-vm] [--vm-only] [--update-readme]
//   node bench/streaming.mjs --inner-vm --gst-root DIR [--only ...] [--rounds N]   (inside the VM)
//
// Natively (this machine): 8-native (the handoff with a memfd), 9 (messages),
// 11 (footprint). In the project's VM (scripts/vm/run.sh, a second pass of
// this script): 8-vm (the handoff with a udmabuf dma-buf), 10 (vivid
// capture -> output) and 11-vm on Debian's kernel; 12 (vivid -> vicodec's
// FWHT encoder) in a boot of its own on the project's custom kernel
// (DMABUF_VM_KERNEL=custom), the one with vicodec. GStreamer is trixie's, in the root filesystem that
// scripts/gst-rootfs.sh makes and caches (~1.2 GB, built on first use),
// entered with chroot; the C side of case 8 (bench/c/gst_handoff.c) is
// compiled inside it. Results: bench/results-streaming.json (or
// DMABUF_BENCH_STREAMING_OUT, else DMABUF_BENCH_OUT), and the table on stdout; a missed goal reads MISSED.
//
// Every JS process loads the binding through index.js, i.e. whichever build
// the checkout has (NAPI_RS_NATIVE_LIBRARY_PATH, set below to
// target/bench/dmabuf.node when bench/run.mjs built it): nothing here
// depends on how the binding waits.

import { spawn, spawnSync, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(ROOT)
const require = createRequire(import.meta.url)

const argv = process.argv.slice(2)
const flag = (name) => argv.includes(name)
const option = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt
}
const OPT = {
  innerVm: flag('--inner-vm'),
  noVm: flag('--no-vm'),
  vmOnly: flag('--vm-only'),
  only: option('--only', '') ? option('--only', '').split(',') : null,
  rounds: Number(option('--rounds', '3')),
  gstRoot: option('--gst-root', ''),
  updateReadme: flag('--update-readme'),
}
// --only 8 picks 8-native and 8-vm; 9 picks 9a, 9b, 9c.
const want = (id) => {
  const base = id.split('-')[0]
  return !OPT.only || [id, base, base.replace(/[a-z]$/, '')].some((x) => OPT.only.includes(x))
}

const BEGIN = '@@DMABUF-STREAMING-JSON-BEGIN@@'
const END = '@@DMABUF-STREAMING-JSON-END@@'
const MiB = 1 << 20
const FRAME = 8 * MiB
const BINDING = process.env.DMABUF_BENCH_BINDING || path.join(ROOT, 'target/bench/dmabuf.node')
if (fs.existsSync(BINDING)) process.env.NAPI_RS_NATIVE_LIBRARY_PATH ??= BINDING
const BIN = { memfdExec: 'target/bench/memfd_exec', msg: 'target/bench/msg' }
const GST_BIN = '/opt/dmabuf-bench/gst_handoff' // inside the root filesystem

// Frame and message counts: natively, and under TCG (every step ~10-30x
// slower). DMABUF_BENCH_SCALE=K multiplies the native ones and case 10's
// frames (bench/profile/streaming.sh uses 10 natively and 5 for case 10, so
// that start-up is a small share of its samples).
const SCALE = Math.max(1, Math.floor(Number(process.env.DMABUF_BENCH_SCALE ?? 1)) || 1)
const N = {
  handoffNative: { warmup: 200 * SCALE, frames: 2000 * SCALE },
  handoffVm: { warmup: 30, frames: 300 },
  messages: { warmup: 2000 * SCALE, count: 20000 * SCALE },
  v4l2: { warmup: 30, frames: 300 * SCALE },
  // vicodec encodes a 1280x720 frame in ~80 ms under TCG: ~12 fps.
  codec: { warmup: 20, frames: 200 * SCALE },
}

const log = (...m) => process.stderr.write(m.join(' ') + '\n')

// ---------------------------------------------------------------------------
// Processes

/** Runs a command; resolves {status, stdout, stderr}. `fd3` becomes the child's fd 3; `.child` is the process. */
function proc(cmd, args, { fd3, env, timeoutMs = 600_000 } = {}) {
  let child
  const done = new Promise((resolve) => {
    const stdio = ['ignore', 'pipe', 'pipe']
    if (fd3 !== undefined) stdio.push(fd3)
    child = spawn(cmd, args, { stdio, env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      resolve({ status: status ?? signal, stdout, stderr })
    })
  })
  // The process itself, for a caller that must stop it early (case 8: a
  // producer whose consumer never came).
  done.child = child
  return done
}

/** The last JSON line a process printed, or an Error naming what went wrong. */
function json(r, what) {
  for (const l of r.stdout.trim().split('\n').reverse()) {
    try {
      const v = JSON.parse(l)
      if (r.status === 0 || v.side === 'consumer') return v
    } catch {}
  }
  const err = r.stderr.trim().split('\n').filter((l) => l && !/^\s+at /.test(l)).slice(-3).join(' | ')
  throw new Error(`${what} exited ${r.status}${err ? ': ' + err : ''}`)
}

/**
 * argv that runs `args` inside the GStreamer root: a private mount
 * namespace with /proc, /dev, /sys and this machine's /tmp (where sockets
 * meet; in the VM the root is read-only and /tmp a tmpfs), then chroot.
 */
function inRoot(args) {
  const script = 'R=$1; shift; mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" && mount --rbind /sys "$R/sys" && mount --bind /tmp "$R/tmp" && exec chroot "$R" env HOME=/tmp GST_REGISTRY=/tmp/gst-registry-trixie.bin "$@"'
  return ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', OPT.gstRoot, ...args]]
}

// ---------------------------------------------------------------------------
// Statistics

function quantiles(values) {
  const s = [...values].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))]
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), n: s.length }
}
const median = (xs) => quantiles(xs).median

// ---------------------------------------------------------------------------
// Case 8: an 8 MiB frame handed to another process and acknowledged

/**
 * GStreamer's producer (appsrc ! unixfdsink) and a consumer: `gst`, its
 * unixfdsrc ! fakesink; `node`, bench/js/unixfd-recv.js (this package's
 * UnixFdSrc, every buffer released as it comes; `mode` iterate: `for await`,
 * read: `await src.read()`), outside the root, on the same socket (the
 * root's /tmp is this machine's).
 */
async function gstHandoff(fd3, warmup, frames, consumer = 'gst', mode = 'iterate') {
  const sock = `/tmp/dmabuf-gst-handoff-${process.pid}.sock`
  fs.rmSync(sock, { force: true })
  const [pc, pa] = inRoot([GST_BIN, 'producer', sock, String(warmup), String(frames)])
  const producer = fd3 === undefined ? proc(BIN.memfdExec, [String(FRAME), '--', pc, ...pa]) : proc(pc, pa, { fd3 })
  // unixfdsink makes the socket; the consumer connects to it.
  const t0 = Date.now()
  while (!fs.existsSync(sock)) {
    if (Date.now() - t0 > 60_000) throw new Error('unixfdsink made no socket within 60 s')
    await new Promise((ok) => setTimeout(ok, 20))
  }
  const consumerRun =
    consumer === 'node' ? proc(process.execPath, ['bench/js/unixfd-recv.js', sock, String(warmup), String(frames), mode])
    : proc(...inRoot([GST_BIN, 'consumer', sock, String(warmup), String(frames)]))
  // A consumer that ends without its result (did not connect, failed) would
  // leave the producer waiting for a connection or a release: stop it.
  consumerRun.then((r) => {
    if (!/"side":"consumer"/.test(r.stdout)) producer.child.kill('SIGKILL')
  })
  const [p, c] = await Promise.all([producer, consumerRun])
  fs.rmSync(sock, { force: true })
  const cname = consumer === 'node' ? 'unixfd-recv.js (UnixFdSrc)' : 'the GStreamer consumer'
  const cj = json(c, cname)
  // Its result came before the stream's end; a failure after that is reported, not hidden.
  if (c.status !== 0) log(`  warning: ${cname} printed its result but exited ${c.status}: ${c.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  const pj = json(p, 'the GStreamer producer')
  const r = { rt: pj.rt, producerCpu: pj.cpu_ns / frames, consumerCpu: cj.cpu_ns / frames }
  if (cj.wall_ns) r.fps = frames / (cj.wall_ns / 1e9)
  return r
}

async function jsHandoff(mode, fd3, warmup, frames) {
  const args = ['bench/js/handoff.js', 'side', mode, String(warmup), String(frames)]
  const r = fd3 === undefined ? await proc(BIN.memfdExec, [String(FRAME), '--', process.execPath, ...args]) : await proc(process.execPath, args, { fd3, env: { DMABUF_BENCH_FD: '3' } })
  const j = json(r, `handoff.js side ${mode}`)
  return { rt: j.rt, producerCpu: j.cpu_ns / frames, consumerCpu: j.consumer_cpu_ns / frames }
}

const GST8 = 'GStreamer (appsrc ! unixfdsink → unixfdsrc ! fakesink)'
const UFS8 = 'GStreamer appsrc ! unixfdsink → Node UnixFdSrc (for await, release)'
const UFS8R = 'GStreamer appsrc ! unixfdsink → Node UnixFdSrc (read(), release)'
const IDX = 'Channel: index only'
const IDXF = 'Channel: index + sync_file'

async function caseHandoff(id, name, contenders, fd3, { warmup, frames }) {
  const runs = Object.fromEntries(contenders.map(([key]) => [key, []]))
  for (let round = 0; round < OPT.rounds; round++) {
    for (let j = 0; j < contenders.length; j++) {
      const [key, fn] = contenders[(j + round) % contenders.length]
      if (runs[key].failed) continue
      try {
        const r = await fn(fd3, warmup, frames)
        runs[key].push(r)
        log(`  ${id} ${key} (round ${round + 1}/${OPT.rounds}): round trip p50 ${us(median(r.rt))}, CPU per frame ${us(r.producerCpu)} + ${us(r.consumerCpu)} = ${us(r.producerCpu + r.consumerCpu)}${r.fps ? `, ${r.fps.toFixed(0)} frames/s at the consumer` : ''}`)
      } catch (e) {
        runs[key].failed = e.message
        log(`  ${id} ${key}: FAILED: ${e.message}`)
      }
    }
  }
  const row = { id, name, unit: 'µs per frame', contenders: {} }
  for (const [key] of contenders) {
    const rs = runs[key]
    if (rs.failed) {
      row.contenders[key] = { failed: rs.failed }
      continue
    }
    const q = quantiles(rs.flatMap((r) => r.rt))
    row.contenders[key] = {
      rt: q,
      producerCpu: median(rs.map((r) => r.producerCpu)),
      consumerCpu: median(rs.map((r) => r.consumerCpu)),
      cpu: median(rs.map((r) => r.producerCpu + r.consumerCpu)),
      // Frames/s at the consumer (timed frames ÷ its wall time), where the consumer times it.
      fps: rs.every((r) => r.fps) ? median(rs.map((r) => r.fps)) : undefined,
      rounds: rs.map((r) => ({ rtMedian: median(r.rt), producerCpu: r.producerCpu, consumerCpu: r.consumerCpu, fps: r.fps })),
      frames,
      warmup,
    }
  }
  return row
}

// ---------------------------------------------------------------------------
// Case 9: small messages

async function caseMessages() {
  const { warmup, count } = N.messages
  const variants = [
    { id: '9a', name: '9a. ping-pong, 68-byte message, no fd', fds: 0, inflight: 1, contenders: ['C', 'net', 'channel'] },
    { id: '9b', name: '9b. ping-pong, 68-byte message + 1 fd', fds: 1, inflight: 1, contenders: ['C', 'channel'] },
    { id: '9c', name: '9c. 8 messages in flight, no fd', fds: 0, inflight: 8, contenders: ['C', 'net', 'channel'] },
  ]
  const KEYS = { C: 'C (blocking sendmsg/recvmsg, seqpacket)', net: "Node's net (Unix stream socket)", channel: 'Channel (seqpacket)' }
  const rows = []
  for (const v of variants) {
    if (!want(v.id)) continue
    const runs = Object.fromEntries(v.contenders.map((k) => [k, []]))
    for (let round = 0; round < OPT.rounds; round++) {
      for (let j = 0; j < v.contenders.length; j++) {
        const k = v.contenders[(j + round) % v.contenders.length]
        if (runs[k].failed) continue
        const args = [String(v.fds), String(v.inflight), String(count), String(warmup)]
        const r =
          k === 'C' ? await proc(BIN.msg, args)
          : await proc(BIN.memfdExec, ['4096', '--', process.execPath, 'bench/js/messages.js', k, ...args])
        try {
          const j2 = json(r, `${k} messages`)
          runs[k].push(j2)
          log(`  ${v.id} ${KEYS[k]} (round ${round + 1}/${OPT.rounds}): ${us(j2.wall_ns / j2.count)} per round trip, CPU ${us((j2.cpu_ns + j2.child_cpu_ns) / j2.count)}`)
        } catch (e) {
          runs[k].failed = e.message
          log(`  ${v.id} ${KEYS[k]}: FAILED: ${e.message}`)
        }
      }
    }
    const row = { id: v.id, name: v.name, unit: 'µs per round trip', contenders: {} }
    for (const k of v.contenders) {
      const rs = runs[k]
      if (rs.failed) {
        row.contenders[KEYS[k]] = { failed: rs.failed }
        continue
      }
      row.contenders[KEYS[k]] = {
        rt: quantiles(rs.flatMap((r) => r.samples)),
        perSecond: median(rs.map((r) => r.count / (r.wall_ns / 1e9))),
        cpu: median(rs.map((r) => (r.cpu_ns + r.child_cpu_ns) / r.count)),
        rounds: rs.map((r) => ({ rt: r.wall_ns / r.count, cpu: (r.cpu_ns + r.child_cpu_ns) / r.count })),
        count,
      }
    }
    rows.push(row)
  }
  return rows
}

// ---------------------------------------------------------------------------
// Case 10: vivid capture -> output (VM)

const GST10 = 'GStreamer (v4l2src io-mode=dmabuf ! v4l2sink io-mode=dmabuf-import)'
const JS10 = 'JS loop (public API)'

/**
 * Runs `contenders` ([name, fn]) over the rounds in a rotated order; each fn
 * resolves {frames, wall_ns, cpu_ns, fps, skipped?}. A contender that fails
 * once is not run again. Returns the row's contenders: fps and CPU per frame,
 * medians of the rounds, and every round.
 */
async function fpsRounds(id, contenders, frames) {
  const runs = Object.fromEntries(contenders.map(([k]) => [k, []]))
  for (let round = 0; round < OPT.rounds; round++) {
    for (let j = 0; j < contenders.length; j++) {
      const [k, fn] = contenders[(j + round) % contenders.length]
      if (runs[k].failed) continue
      try {
        const r = await fn()
        runs[k].push(r)
        log(`  ${id} ${k} (round ${round + 1}/${OPT.rounds}): ${r.fps.toFixed(1)} fps, CPU per frame ${us(r.cpu_ns / r.frames)}${r.skipped !== undefined ? `, ${r.skipped} frames skipped` : ''}`)
      } catch (e) {
        runs[k].failed = e.message
        log(`  ${id} ${k}: FAILED: ${e.message}`)
      }
    }
  }
  const out = {}
  for (const [k] of contenders) {
    const rs = runs[k]
    out[k] = rs.failed ? { failed: rs.failed } : {
      fps: median(rs.map((r) => r.fps)),
      cpu: median(rs.map((r) => r.cpu_ns / r.frames)),
      rounds: rs.map((r) => ({ fps: r.fps, cpu: r.cpu_ns / r.frames, skipped: r.skipped })),
      frames,
    }
  }
  return out
}

async function caseV4l2() {
  const { warmup, frames } = N.v4l2
  const setup = json(await proc(process.execPath, ['bench/js/v4l2loop.js', 'setup']), 'v4l2loop.js setup')
  const desc = `v4l2src device=${setup.capture} io-mode=dmabuf ! video/x-raw,format=RGB,width=${setup.width},height=${setup.height},framerate=60/1 ! v4l2sink name=sink device=${setup.output} io-mode=dmabuf-import sync=false`
  const contenders = [
    [GST10, async () => json(await proc(...inRoot([GST_BIN, 'pipeline', String(warmup), String(frames), desc])), 'the GStreamer pipeline')],
    [JS10, async () => json(await proc(process.execPath, ['bench/js/v4l2loop.js', 'run', String(warmup), String(frames)]), 'v4l2loop.js')],
  ]
  const name = `10. vivid capture → output, ${setup.width}x${setup.height} RGB24, ${frames} frames`
  return { id: '10', name, unit: 'fps; CPU per frame', contenders: await fpsRounds('10', contenders, frames) }
}

// ---------------------------------------------------------------------------
// Case 12: vivid capture -> vicodec's stateful FWHT encoder (VM, custom kernel)

const GST12 = 'GStreamer (v4l2src io-mode=dmabuf ! v4l2fwhtenc output-io-mode=dmabuf-import ! fakesink)'
const JS12 = 'JS loop (public API, M2mDevice)'

async function caseCodec() {
  const { warmup, frames } = N.codec
  // Sets vivid up (input 0, the format, 1/60 s) and names the nodes: in
  // this kernel vicodec and vim2m come first, so vivid's numbers move.
  const setup = json(await proc(process.execPath, ['bench/js/m2m-encode.js', 'setup']), 'm2m-encode.js setup')
  log(`  12 setup: vivid ${setup.capture}, encoder ${setup.encoder}, ${setup.width}x${setup.height} ${setup.pixelformat} (${setup.sizeimage} bytes a frame), frame interval ${setup.interval.join('/')} s`)
  // v4l2fwhtenc is registered by probing vicodec's encoder node; the sink
  // pad probe of gst_handoff counts the encoded frames reaching fakesink.
  const desc = `v4l2src device=${setup.capture} io-mode=dmabuf ! video/x-raw,format=${setup.gstFormat},width=${setup.width},height=${setup.height},framerate=60/1 ! v4l2fwhtenc output-io-mode=dmabuf-import ! fakesink name=sink sync=false enable-last-sample=false`
  const contenders = [
    [GST12, async () => json(await proc(...inRoot([GST_BIN, 'pipeline', String(warmup), String(frames), desc])), 'the GStreamer pipeline')],
    [JS12, async () => json(await proc(process.execPath, ['bench/js/m2m-encode.js', 'run', String(warmup), String(frames)]), 'm2m-encode.js')],
  ]
  const name = `12. vivid capture → vicodec FWHT encoder, ${setup.width}x${setup.height} ${setup.pixelformat}, ${frames} frames`
  return { id: '12', name, unit: 'fps; CPU per frame', contenders: await fpsRounds('12', contenders, frames) }
}

// ---------------------------------------------------------------------------
// Case 11: footprint

async function caseFootprint(id) {
  const j = json(await proc(process.execPath, ['bench/js/footprint.js']), 'footprint.js')
  return { id, name: `${id.replace('-', ' (')}). threads and fds added`, unit: 'count', footprint: j }
}

// ---------------------------------------------------------------------------
// Goals (never relaxed)

const GOALS = [
  ['8-native', 'rt', IDX, GST8, 1.0, '8 (host, memfd): Channel index-only round trip ÷ GStreamer ≤ 1.0'],
  ['8-native', 'cpu', IDX, GST8, 1.0, '8 (host, memfd): Channel index-only CPU per frame (both processes) ÷ GStreamer ≤ 1.0'],
  ['8-native', 'consumerCpu', UFS8, GST8, 1.0, '8 (host, memfd): Node UnixFdSrc consumer CPU per frame ÷ unixfdsrc ≤ 1.0'],
  ['8-native', 'consumerCpu', UFS8R, GST8, 1.0, '8 (host, memfd): Node UnixFdSrc consumer CPU per frame ÷ unixfdsrc ≤ 1.0 (read() loop)'],
  ['8-vm', 'rt', IDX, GST8, 1.0, '8 (VM, dma-buf): Channel index-only round trip ÷ GStreamer ≤ 1.0'],
  ['8-vm', 'cpu', IDX, GST8, 1.0, '8 (VM, dma-buf): Channel index-only CPU per frame ÷ GStreamer ≤ 1.0'],
  ['8-vm', 'rt', IDXF, GST8, 1.0, '8 (VM, dma-buf): Channel index + sync_file round trip ÷ GStreamer ≤ 1.0'],
  ['8-vm', 'cpu', IDXF, GST8, 1.0, '8 (VM, dma-buf): Channel index + sync_file CPU per frame ÷ GStreamer ≤ 1.0'],
  ['8-vm', 'consumerCpu', UFS8, GST8, 1.0, '8 (VM, dma-buf): Node UnixFdSrc consumer CPU per frame ÷ unixfdsrc ≤ 1.0'],
  ['8-vm', 'consumerCpu', UFS8R, GST8, 1.0, '8 (VM, dma-buf): Node UnixFdSrc consumer CPU per frame ÷ unixfdsrc ≤ 1.0 (read() loop)'],
  ['12', 'fps', JS12, GST12, 1.0, '12: JS fps ÷ GStreamer fps ≥ 1.0', '>='],
  ['12', 'cpu', JS12, GST12, 1.0, '12: JS CPU per frame ÷ GStreamer ≤ 1.0'],
]

function goals(rows) {
  const by = Object.fromEntries(rows.map((r) => [r.id, r]))
  const out = []
  const ratio = (goal, n, d, limit, cmp = '<=') => {
    if (n === undefined || d === undefined || n === null || d === null || Number.isNaN(n) || Number.isNaN(d)) {
      out.push({ goal, ratio: null, limit, met: null, note: 'not measured' })
      return
    }
    const r = n / d
    out.push({ goal, ratio: Number(r.toFixed(3)), limit, met: cmp === '<=' ? r <= limit : r >= limit })
  }
  const value = (goal, v, limit, unit) => {
    if (v === undefined || v === null) return out.push({ goal, value: null, limit, met: null, note: 'not measured' })
    out.push({ goal, value: Number(v.toFixed(3)), unit, limit, met: v <= limit })
  }
  const pick = { rt: (c) => c?.rt?.median, cpu: (c) => c?.cpu, consumerCpu: (c) => c?.consumerCpu, fps: (c) => c?.fps }
  for (const [id, what, num, den, limit, goal, cmp] of GOALS) {
    const row = by[id]
    if (!row) continue
    ratio(goal, pick[what](row.contenders[num]), pick[what](row.contenders[den]), limit, cmp)
  }
  const C = 'C (blocking sendmsg/recvmsg, seqpacket)'
  const NET = "Node's net (Unix stream socket)"
  const CH = 'Channel (seqpacket)'
  if (by['9a']) ratio("9a: Channel ping-pong ÷ Node's net (no fd) ≤ 1.0", by['9a'].contenders[CH]?.rt?.median, by['9a'].contenders[NET]?.rt?.median, 1.0)
  if (by['9a'] && by['9b']) {
    const a = by['9a'].contenders[CH]?.cpu
    const b = by['9b'].contenders[CH]?.cpu
    value('9b: CPU one fd adds to a Channel round trip (9b − 9a, both processes) ≤ 1 µs', a !== undefined && b !== undefined ? (b - a) / 1000 : null, 1, 'µs')
  }
  if (by['9c']) ratio('9c: Channel with 8 messages in flight ÷ C ≤ 1.5', by['9c'].contenders[CH]?.rt?.median, by['9c'].contenders[C]?.rt?.median, 1.5)
  if (by['10']) {
    const js = by['10'].contenders[JS10]
    const gst = by['10'].contenders[GST10]
    // vivid paces capture at 60.00 fps; ±1 frame over the window is the measurement's own error.
    const tol = js?.frames ? 1 - 1 / js.frames : 1
    ratio(`10: JS loop holds vivid's 60 fps (fps ÷ 60 ≥ ${tol.toFixed(4)}, one frame of the window)`, js?.fps, 60, Number(tol.toFixed(4)), '>=')
    ratio('10: JS loop CPU per frame ÷ GStreamer ≤ 1.0', js?.cpu, gst?.cpu, 1.0)
  }
  for (const id of ['11-native', '11-vm']) {
    const f = by[id]?.footprint
    if (!f) continue
    const where = id === '11-native' ? 'host' : 'VM'
    value(`11 (${where}): threads added by require('dmabuf') = 0`, f.require.threads, 0, 'threads')
    value(`11 (${where}): fds added by require('dmabuf') = 0`, f.require.fds, 0, 'fds')
  }
  return out
}

// ---------------------------------------------------------------------------
// Report

function us(ns) {
  if (ns === undefined || ns === null || Number.isNaN(ns)) return '?'
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)} ms`
  return `${(ns / 1e3).toPrecision(3)} µs`
}

function table(results) {
  const L = []
  const m = results.machine
  L.push(`dmabuf streaming benchmarks, ${results.date}`)
  L.push(`host: ${m.uname}; CPU ${m.cpu}; node ${m.node}; binding ${m.binding}`)
  if (results.vm) L.push(`VM: ${results.vm.uname}; CPU ${results.vm.cpu} (qemu TCG: absolute VM times are TCG times, compare within a row)`)
  if (results.vmCustom) L.push(`VM, custom kernel (case 12): ${results.vmCustom.uname}; CPU ${results.vmCustom.cpu} (qemu TCG)`)
  if (m.gstreamer) L.push(`GStreamer: ${m.gstreamer} (Debian trixie root, scripts/gst-rootfs.sh)`)
  for (const row of results.cases) {
    L.push('')
    L.push(`### ${row.name}`)
    if (row.date && row.date !== results.date) L.push(`(measured ${row.date}, in an earlier run)`)
    if (row.footprint) {
      const f = row.footprint
      L.push(`| what | threads | fds |`)
      L.push(`|---|---|---|`)
      L.push(`| the process before require | ${f.before.threads} | ${f.before.fds} |`)
      L.push(`| added by require('dmabuf') | ${f.require.threads} | ${f.require.fds} |`)
      L.push(`| added by one pending Channel.receive() | ${f.pendingWait.threads} | ${f.pendingWait.fds} |`)
      L.push(`| left after it settled | ${f.afterWait.threads} | ${f.afterWait.fds} |`)
      continue
    }
    if (row.id === '10' || row.id === '12') {
      L.push('| contender | fps (median of rounds) | CPU per frame | rounds: fps / CPU per frame / frames skipped |')
      L.push('|---|---|---|---|')
      for (const [k, c] of Object.entries(row.contenders)) {
        if (c.failed) L.push(`| ${k} | **FAILED**: ${c.failed} | | |`)
        else L.push(`| ${k} | ${c.fps.toFixed(1)} | ${us(c.cpu)} | ${c.rounds.map((r) => `${r.fps.toFixed(1)} / ${us(r.cpu)} / ${r.skipped ?? '-'}`).join('; ')} |`)
      }
      continue
    }
    if (row.id.startsWith('9')) {
      L.push('| contender | per round trip p50 [p10 – p90] | round trips/s | CPU per round trip (both processes) |')
      L.push('|---|---|---|---|')
      for (const [k, c] of Object.entries(row.contenders)) {
        if (c.failed) L.push(`| ${k} | **FAILED**: ${c.failed} | | |`)
        else L.push(`| ${k} | ${us(c.rt.median)} [${us(c.rt.p10)} – ${us(c.rt.p90)}] | ${Math.round(c.perSecond).toLocaleString('en')} | ${us(c.cpu)} |`)
      }
      continue
    }
    L.push('| contender | round trip p50 [p10 – p90] | CPU per frame: producer + consumer = total | consumer: frames/s; CPU per frame, each round |')
    L.push('|---|---|---|---|')
    for (const [k, c] of Object.entries(row.contenders)) {
      if (c.failed) L.push(`| ${k} | **FAILED**: ${c.failed} | | |`)
      else {
        const fps = c.fps ? `${Math.round(c.fps).toLocaleString('en')}; ` : ''
        L.push(`| ${k} | ${us(c.rt.median)} [${us(c.rt.p10)} – ${us(c.rt.p90)}] | ${us(c.producerCpu)} + ${us(c.consumerCpu)} = ${us(c.cpu)} | ${fps}${(c.rounds ?? []).map((r) => us(r.consumerCpu)).join(', ')} |`)
      }
    }
  }
  L.push('')
  L.push(`Rounds: ${OPT.rounds}, contenders in a rotated order; round trips are pooled over the rounds, CPU is the median of the rounds' (getrusage RUSAGE_SELF of each process, all threads, over the timed frames only).`)
  L.push('')
  L.push('| goal | measured | limit | result |')
  L.push('|---|---|---|---|')
  for (const g of results.goals) {
    const res = g.met === true ? 'met' : g.met === false ? '**MISSED**' : `not measured${g.note && g.note !== 'not measured' ? ` (${g.note})` : ''}`
    L.push(`| ${g.goal} | ${g.ratio ?? (g.value !== undefined && g.value !== null ? `${g.value} ${g.unit}` : '-')} | ${g.limit} | ${res} |`)
  }
  const missed = results.goals.filter((g) => g.met === false)
  L.push('')
  L.push(missed.length ? `MISSED ${missed.length} of ${results.goals.length} goals: ${missed.map((g) => g.goal).join('; ')}` : `All ${results.goals.filter((g) => g.met).length} measured goals met.`)
  return L.join('\n')
}

// ---------------------------------------------------------------------------
// Machine, building

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

function machine() {
  let binding = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  try {
    if (binding) binding = `${path.relative(ROOT, binding)} (built ${fs.statSync(binding).mtime.toISOString()})`
  } catch {}
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model
  return { uname: sh('uname', ['-a']), cpu, cpus: os.cpus().length, node: process.version, binding: binding || 'index.js default' }
}

function gstRoot() {
  const r = spawnSync('bash', ['scripts/gst-rootfs.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (r.status !== 0) throw new Error('scripts/gst-rootfs.sh failed (see above)')
  return r.stdout.trim().split('\n').pop()
}

function buildHost() {
  fs.mkdirSync('target/bench', { recursive: true })
  for (const [bin, src] of [[BIN.memfdExec, 'bench/c/memfd_exec.c'], [BIN.msg, 'bench/c/msg.c']]) {
    const r = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', bin, src], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`cc ${src} failed`)
  }
  // The GStreamer side, compiled inside the root against its GStreamer.
  const dir = path.join(OPT.gstRoot, 'opt/dmabuf-bench')
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync('bench/c/gst_handoff.c', path.join(dir, 'gst_handoff.c'))
  const r = spawnSync('chroot', [OPT.gstRoot, 'sh', '-c', 'cd /opt/dmabuf-bench && gcc -O2 -Wall -Wextra -o gst_handoff gst_handoff.c $(pkg-config --cflags --libs gstreamer-app-1.0 gstreamer-allocators-1.0)'], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error('compiling bench/c/gst_handoff.c inside the GStreamer root failed')
}

// ---------------------------------------------------------------------------
// The two halves

async function native() {
  const rows = []
  if (want('8-native')) {
    log('== 8 (host, memfd): handoff against GStreamer')
    rows.push(await caseHandoff('8-native', '8 (host, memfd). 8 MiB frame handed to another process and acknowledged, one in flight', [
      [GST8, (fd3, w, f) => gstHandoff(fd3, w, f)],
      [UFS8, (fd3, w, f) => gstHandoff(fd3, w, f, 'node', 'iterate')],
      [UFS8R, (fd3, w, f) => gstHandoff(fd3, w, f, 'node', 'read')],
      [IDX, (fd3, w, f) => jsHandoff('index', fd3, w, f)],
    ], undefined, N.handoffNative))
  }
  if (['9a', '9b', '9c'].some(want)) {
    log('== 9 (host): messages')
    rows.push(...(await caseMessages()))
  }
  if (want('11-native')) {
    log('== 11 (host): footprint')
    rows.push(await caseFootprint('11-native'))
  }
  return rows
}

async function inVm() {
  const rows = []
  // A registry for trixie's GStreamer in this boot's /tmp (first use scans the plugins).
  await proc(...inRoot(['gst-inspect-1.0', 'unixfdsink']))
  if (want('8-vm')) {
    log('== 8 (VM, udmabuf): handoff against GStreamer')
    const lib = require('../index.js')
    const buf = lib.Udmabuf.open().alloc(FRAME)
    rows.push(await caseHandoff('8-vm', '8 (VM, dma-buf). 8 MiB frame handed to another process and acknowledged, one in flight', [
      [GST8, (fd3, w, f) => gstHandoff(fd3, w, f)],
      [UFS8, (fd3, w, f) => gstHandoff(fd3, w, f, 'node', 'iterate')],
      [UFS8R, (fd3, w, f) => gstHandoff(fd3, w, f, 'node', 'read')],
      [IDX, (fd3, w, f) => jsHandoff('index', fd3, w, f)],
      [IDXF, (fd3, w, f) => jsHandoff('fence', fd3, w, f)],
    ], buf.fd, N.handoffVm))
    buf.close()
  }
  if (want('10')) {
    log('== 10 (VM): vivid capture -> output')
    try {
      rows.push(await caseV4l2())
    } catch (e) {
      log(`  10: FAILED: ${e.message}`)
      rows.push({ id: '10', name: '10. vivid capture → output', unit: 'fps; CPU per frame', contenders: { [JS10]: { failed: e.message }, [GST10]: { failed: e.message } } })
    }
  }
  if (want('11-vm')) {
    log('== 11 (VM): footprint')
    rows.push(await caseFootprint('11-vm'))
  }
  if (want('12')) {
    log('== 12 (VM, custom kernel): vivid capture -> vicodec FWHT encoder')
    try {
      rows.push(await caseCodec())
    } catch (e) {
      log(`  12: FAILED: ${e.message}`)
      rows.push({ id: '12', name: '12. vivid capture → vicodec FWHT encoder', unit: 'fps; CPU per frame', contenders: { [JS12]: { failed: e.message }, [GST12]: { failed: e.message } } })
    }
  }
  return { machine: machine(), cases: rows }
}

// The VM passes, one boot each: Debian's kernel (udmabuf, vivid), and the
// project's custom kernel (scripts/vm/kernel.sh), the one with vicodec.
const VM_PASSES = [
  { kernel: 'debian', ids: ['8-vm', '10', '11-vm'] },
  { kernel: 'custom', ids: ['12'] },
]

/** One boot of scripts/vm/run.sh running this script's inner half for `ids`; resolves its JSON, or null. */
async function vmPass(kernel, ids) {
  log(`== the VM, ${kernel === 'custom' ? 'custom' : "Debian's"} kernel (scripts/vm/run.sh; qemu TCG): ${ids.join(', ')}`)
  const args = ['scripts/vm/run.sh', process.execPath, 'bench/streaming.mjs', '--inner-vm', '--gst-root', OPT.gstRoot, '--rounds', String(OPT.rounds), '--only', ids.join(',')]
  const env = { DMABUF_VM_TIMEOUT: '3600', ...process.env, DMABUF_VM_KERNEL: kernel }
  const r = await new Promise((resolve) => {
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'inherit'], env })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', (status) => resolve({ status, out }))
  })
  const a = r.out.indexOf(BEGIN)
  const b = r.out.indexOf(END)
  if (a < 0 || b < a) {
    log(`the VM pass (${kernel} kernel) exited ${r.status} without results:\n${r.out.slice(-2000)}`)
    return null
  }
  return JSON.parse(r.out.slice(a + BEGIN.length, b))
}

async function main() {
  if (OPT.innerVm) {
    if (!OPT.gstRoot) throw new Error('--inner-vm needs --gst-root')
    const data = await inVm()
    process.stdout.write(`${BEGIN}\n${JSON.stringify(data)}\n${END}\n`)
    return
  }
  if (process.getuid?.() !== 0) throw new Error('the streaming cases need root (chroot into the GStreamer root, mount namespaces)')
  OPT.gstRoot = gstRoot()
  buildHost()
  const results = { date: new Date().toISOString(), machine: machine(), vm: null, cases: [], goals: [] }
  results.machine.gstreamer = sh('chroot', [OPT.gstRoot, 'gst-launch-1.0', '--version'])?.match(/GStreamer (\S+)/)?.[1] ?? null
  if (!OPT.vmOnly) results.cases.push(...(await native()))
  if (!OPT.noVm) {
    for (const pass of VM_PASSES) {
      const ids = pass.ids.filter(want)
      if (ids.length === 0) continue
      const data = await vmPass(pass.kernel, ids)
      if (!data) continue
      results[pass.kernel === 'custom' ? 'vmCustom' : 'vm'] = data.machine
      results.cases.push(...data.cases)
    }
  }
  for (const c of results.cases) c.date = results.date
  const out = process.env.DMABUF_BENCH_STREAMING_OUT || process.env.DMABUF_BENCH_OUT || 'bench/results-streaming.json'
  // A partial run (--only) into the committed file replaces only the cases
  // it ran: the others stay, each with the date of the run that measured it
  // (each case's ratios come from one run, side by side), and the goals are
  // checked again over them all.
  if (OPT.only && fs.existsSync(out)) {
    const old = JSON.parse(fs.readFileSync(out, 'utf8'))
    const ran = new Set(results.cases.map((c) => c.id))
    const kept = (old.cases ?? []).filter((c) => !ran.has(c.id)).map((c) => ({ ...c, date: c.date ?? old.date }))
    if (kept.length) {
      log(`kept ${kept.length} case(s) of ${out} from earlier runs: ${kept.map((c) => `${c.id} (${c.date})`).join(', ')}`)
      for (const k of ['vm', 'vmCustom']) results[k] ??= old[k] ?? null
      results.machine.gstreamer ??= old.machine?.gstreamer ?? null
      results.cases = [...kept, ...results.cases]
    }
  }
  results.goals = goals(results.cases)
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  const text = table(results)
  process.stdout.write('\n' + text + '\n')
  log(`\nwrote ${out}`)
  if (OPT.updateReadme) {
    const readme = fs.readFileSync('bench/README.md', 'utf8')
    const a = '<!-- streaming-results:begin -->'
    const b = '<!-- streaming-results:end -->'
    const i = readme.indexOf(a)
    const j = readme.indexOf(b)
    if (i >= 0 && j > i) {
      fs.writeFileSync('bench/README.md', `${readme.slice(0, i + a.length)}\n${text}\n${readme.slice(j)}`)
      log('updated bench/README.md')
    }
  }
}

main().catch((e) => {
  log(`bench (streaming): ${e.stack || e.message}`)
  process.exit(1)
})
