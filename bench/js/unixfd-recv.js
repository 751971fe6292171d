'use strict'
// Case 8 (bench/streaming.mjs): the receiving side of GStreamer's unixfd
// protocol through this package's UnixFdSrc, in place of `unixfdsrc !
// fakesink`, against the same producer (`gst_handoff producer`: appsrc !
// unixfdsink, one frame in flight, its fd sent with every buffer).
//
//   node bench/js/unixfd-recv.js SOCKET WARMUP FRAMES [iterate|read]
//
// Connects to unixfdsink's socket and releases every buffer as soon as it
// has it (nothing mapped or read: fakesink does not look at the frame
// either); `iterate` (the default) is `for await (const buf of src)`,
// `read` an explicit `await src.read()` loop. WARMUP frames, FRAMES timed
// ones, then one that ends the count; the CPU time (process.cpuUsage():
// getrusage RUSAGE_SELF, all threads) and wall time are taken, as
// gst_handoff's consumer takes them, from the arrival of frame WARMUP to the
// arrival of frame WARMUP+FRAMES. Prints
// {"side":"consumer","cpu_ns","wall_ns","frames","kind","size"} as soon as
// the end frame arrives, then reads on until the end of the stream.

const { UnixFdSrc } = require('../../index.js')

const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}

async function main(sock, warmup, frames, mode) {
  if (typeof UnixFdSrc !== 'function') throw new Error('this build of the package has no UnixFdSrc')
  const src = UnixFdSrc.connect(sock)
  let n = 0
  let c0 = 0
  let t0 = 0n
  let first = null
  const onBuffer = (buf) => {
    if (n === warmup) {
      c0 = cpu()
      t0 = process.hrtime.bigint()
    }
    if (n === warmup + frames) {
      const cpuNs = cpu() - c0
      const wallNs = Number(process.hrtime.bigint() - t0)
      process.stdout.write(JSON.stringify({ side: 'consumer', cpu_ns: cpuNs, wall_ns: wallNs, frames, kind: first.kind, size: first.size }) + '\n')
    }
    if (n === 0) {
      // Checked once, before the timed frames: one memory, the whole frame.
      const m = buf.memories
      if (m.length !== 1) throw new Error(`a buffer with ${m.length} memories (expected 1)`)
      first = { kind: m[0].kind, size: m[0].size }
    }
    n++
  }
  if (mode === 'read') {
    for (;;) {
      const buf = await src.read()
      if (buf === null) break
      onBuffer(buf)
      buf.release()
    }
  } else {
    for await (const buf of src) {
      onBuffer(buf)
      buf.release()
    }
  }
  src.close()
  if (n <= warmup + frames) throw new Error(`the stream ended after ${n} of ${warmup + frames + 1} frames`)
}

if (require.main === module) {
  const [sock, warmup, frames, mode = 'iterate'] = process.argv.slice(2)
  process.title = 'b-unixfd-recv'
  if (!sock || !(Number(frames) > 0) || !(Number(warmup) >= 0) || !['iterate', 'read'].includes(mode)) {
    console.error('usage: node bench/js/unixfd-recv.js SOCKET WARMUP FRAMES [iterate|read]')
    process.exit(2)
  }
  main(sock, Number(warmup), Number(frames), mode).catch((e) => {
    console.error(e)
    // Last, on one line: what bench/streaming.mjs quotes.
    console.error(`unixfd-recv: ${e.code ? `${e.code}: ` : ''}${e.message}`)
    process.exit(1)
  })
}
