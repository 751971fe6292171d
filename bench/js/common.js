'use strict'
// Shared by the JavaScript contenders of `npm run bench`: arguments, the
// timing scheme, statistics and the JSON line they print.
//
// The scheme is the same in every contender (bench/c/bench.c,
// bench/rust/src/lib.rs): warm up for --warmup-ms; find a batch of K
// operations lasting at least 5 ms (K = 1 for throughput cases); time batches
// until --time-ms has passed (at least 5, at most 2000 samples). One sample
// is the batch's time divided by K. After each batch the event loop gets one
// turn, inside the timed region, so that finalizers and the garbage collector
// run (and are paid for) as they would in an application.

const fs = require('node:fs')
const { setImmediate: turn } = require('node:timers/promises')

const BATCH_NS = 5_000_000
const MIN_SAMPLES = 5
const MAX_SAMPLES = 2000

function parseArgs(contender) {
  const argv = process.argv.slice(2)
  const a = { contender, case: argv[0] || '', size: 4096, source: 'udmabuf', timeMs: 2000, warmupMs: 300 }
  if (!a.case) die(a, 'usage: CASE [--size N] [--source udmabuf|heap] [--time-ms T] [--warmup-ms W]')
  for (let i = 1; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]]
    if (value === undefined) die(a, `${flag} needs a value`)
    if (flag === '--size') a.size = Number(value)
    else if (flag === '--source') a.source = value
    else if (flag === '--time-ms') a.timeMs = Number(value)
    else if (flag === '--warmup-ms') a.warmupMs = Number(value)
    else die(a, `unknown option ${flag}`)
  }
  return a
}

/** The buffer `npm run bench` or cuda_exec lends, or undefined. */
function benchFd() {
  const v = process.env.DMABUF_BENCH_FD
  return v === undefined ? undefined : Number(v)
}

/** Size of a dma-buf fd (its inode's size). */
function fdSize(fd) {
  return fs.fstatSync(fd).size
}

function die(a, msg) {
  process.stderr.write(`${a.contender} ${a.case}: ${msg}\n`)
  process.exit(1)
}

function unavailable(a, reason) {
  process.stdout.write(JSON.stringify({ contender: a.contender, case: a.case, unavailable: reason }) + '\n')
  process.exit(3)
}

function quantile(s, q) {
  const pos = q * (s.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, s.length - 1)
  return s[lo] + (s[hi] - s[lo]) * (pos - lo)
}

/**
 * Runs `op(i)` under the timing scheme. With `throughputBytes` each
 * operation is one pass over that many bytes and samples are MiB/s.
 */
async function measure(a, throughputBytes, op) {
  let i = 0
  const run = async (k) => {
    const s = process.hrtime.bigint()
    for (let j = 0; j < k; j++) op(i++)
    await turn()
    return Number(process.hrtime.bigint() - s)
  }
  // DMABUF_BENCH_ITERS=N (profiling): exactly N operations, one sample, no warm-up.
  const fixed = Number(process.env.DMABUF_BENCH_ITERS || 0)
  const t0 = process.hrtime.bigint()
  if (!fixed) {
    do await run(1)
    while (Number(process.hrtime.bigint() - t0) < a.warmupMs * 1e6)
  }
  let k = fixed || 1
  if (!throughputBytes && !fixed) {
    // From the fastest time per operation seen, so that one slow batch (a
    // GC, preemption) does not leave K too small.
    let fastest = Infinity
    for (;;) {
      fastest = Math.min(fastest, (await run(k)) / k)
      if (fastest * k >= BATCH_NS || k >= 1 << 24) break
      k *= 2
    }
  }
  const samples = []
  const start = process.hrtime.bigint()
  const more = () =>
    fixed ? samples.length < 1 : samples.length < MAX_SAMPLES && (samples.length < MIN_SAMPLES || Number(process.hrtime.bigint() - start) < a.timeMs * 1e6)
  while (more()) {
    const ns = (await run(k)) / k
    samples.push(throughputBytes ? throughputBytes / (1024 * 1024) / (ns / 1e9) : ns)
  }
  samples.sort((x, y) => x - y)
  return {
    unit: throughputBytes ? 'MiB/s' : 'ns',
    median: quantile(samples, 0.5),
    p10: quantile(samples, 0.1),
    p90: quantile(samples, 0.9),
    n: samples.length,
    batch: k,
    ops: i,
    samples,
  }
}

function report(a, size, st, check, sink) {
  process.stdout.write(JSON.stringify({ contender: a.contender, case: a.case, size, ...st, check, sink: Number(sink) }) + '\n')
}

/**
 * Sums every byte: the plain loop, as in the C and Rust contenders, left to
 * the JIT as C's is left to the compiler (bench/README.md: what hand
 * unrolling would change).
 */
function sumBytes(u8) {
  let s = 0
  for (let k = 0; k < u8.length; k++) s += u8[k]
  return s
}

/** Byte k holds k mod 256. */
function fillPattern(u8) {
  for (let k = 0; k < u8.length; k++) u8[k] = k & 255
}

function patternSum(len) {
  let s = Math.floor(len / 256) * ((255 * 256) / 2)
  for (let k = 0; k < len % 256; k++) s += k
  return s
}

/**
 * Case 5 for the peers that allocate raw fds: `alloc()` returns a new
 * dma-buf fd; checks the first one's size, then measures alloc + close.
 */
async function measureAllocClose(a, alloc) {
  const first = alloc()
  if (fdSize(first) !== a.size) die(a, `allocated ${fdSize(first)} bytes, asked for ${a.size}`)
  fs.closeSync(first)
  let sink = 0
  const st = await measure(a, 0, () => {
    const fd = alloc()
    sink += fd
    fs.closeSync(fd)
  })
  report(a, a.size, st, `a ${a.source} buffer reports ${a.size} bytes`, sink)
}

/** Runs main(), turning a thrown error into a failure report. */
function main(a, fn) {
  fn().catch((e) => die(a, e && e.stack ? e.stack : String(e)))
}

module.exports = { parseArgs, benchFd, fdSize, die, unavailable, measure, measureAllocClose, report, sumBytes, fillPattern, patternSum, main }
