'use strict'
// Case 7 of `npm run bench`: one frame handed to another process and
// acknowledged, two ways. 'handoff-copy' writes the frame's bytes into a
// plain Unix stream socket (the kernel copies them in, the consumer copies
// them out); 'handoff-fd' passes the dma-buf once, then per frame sends only
// its index and a sync_file over a Channel (crates/dmabuf/src/fdpass.rs).
// Neither consumer reads the frame: this is the cost of the handoff alone.
//
// Run by bench/js/dmabuf.js for those cases; `node bench/js/handoff.js
// consumer-copy PATH SIZE` and `consumer-fd` are its consumer processes.
//
// Case 8 (bench/streaming.mjs), side by side with GStreamer's unixfdsink ->
// unixfdsrc (bench/c/gst_handoff.c), with the same protocol and output:
//
//   node bench/js/handoff.js side index|fence WARMUP FRAMES
//
// The frame is fd 3 (DMABUF_BENCH_FD: a memfd natively, lent by
// target/bench/memfd_exec; a dma-buf in the VM), or a new udmabuf. It goes
// to the consumer once; then per frame 'index' sends {i, frame} and 'fence'
// also a sync_file exported from the dma-buf ('w'), which the consumer
// checks (waits for) and closes; the consumer acknowledges each frame with a
// message. One frame in flight. WARMUP frames, FRAMES timed ones, then one
// that ends the consumer's count. Prints {"rt":[ns...],"cpu_ns",
// "consumer_cpu_ns"}: the round trip of each timed frame and the CPU time
// (process.cpuUsage(): getrusage RUSAGE_SELF, all threads) of each process
// over the timed frames.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const lib = () => require('../../index.js')

/** Times `op` (async, one handoff) in batches of ≥ 5 ms, after a warm-up. */
async function measureAsync(a, op) {
  const t0 = process.hrtime.bigint()
  let ops = 0
  while (Number(process.hrtime.bigint() - t0) < a.warmupMs * 1e6) {
    await op()
    ops++
  }
  const samples = []
  const start = process.hrtime.bigint()
  let k = 1
  while (samples.length < 10 || (samples.length < 1000 && Number(process.hrtime.bigint() - start) < a.timeMs * 1e6)) {
    const s = process.hrtime.bigint()
    for (let j = 0; j < k; j++) await op()
    const ns = Number(process.hrtime.bigint() - s)
    ops += k
    samples.push(ns / k)
    if (ns < 5e6 && k < 1 << 16) k *= 2
  }
  samples.sort((x, y) => x - y)
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]
  return { unit: 'ns', median: q(0.5), p10: q(0.1), p90: q(0.9), n: samples.length, batch: k, ops, samples }
}

async function producerCopy(a, c) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmabuf-handoff-'))
  const sockPath = path.join(dir, 's')
  const server = net.createServer()
  await new Promise((ok) => server.listen(sockPath, ok))
  const child = spawn(process.execPath, [__filename, 'consumer-copy', sockPath, String(a.size)], { stdio: ['ignore', 'inherit', 'inherit'] })
  const sock = await new Promise((ok) => server.once('connection', ok))
  const frame = Buffer.alloc(a.size, 7)
  let acked = null
  sock.on('data', (d) => {
    for (let i = 0; i < d.length; i++) acked?.()
  })
  const st = await measureAsync(a, () => new Promise((ok) => {
    acked = ok
    sock.write(frame)
  }))
  sock.end()
  await new Promise((ok) => child.on('exit', ok))
  server.close()
  fs.rmSync(dir, { recursive: true, force: true })
  c.report(a, a.size, st, `each ${a.size}-byte frame was received whole by the consumer before its ack`, 0)
}

async function producerFd(a, c) {
  const { Channel, DmaBuf, Udmabuf } = lib()
  // The dma-buf cuda_exec lends (bench/gpu.sh), else a udmabuf of the case's size.
  const fd = c.benchFd()
  const buf = fd !== undefined ? DmaBuf.fromFd(fd) : Udmabuf.open().alloc(a.size)
  const bytes = buf.size
  const [mine, theirs] = Channel.pair()
  const child = spawn(process.execPath, [__filename, 'consumer-fd'], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
  theirs.close()
  await mine.send({ ring: 1 }, [buf])
  let frame = 0
  const st = await measureAsync(a, async () => {
    const fence = buf.exportSyncFile('w')
    await mine.send({ i: 0, frame: frame++ }, [fence])
    fence.close()
    const ack = await mine.receive({ maxFds: 0 })
    if (ack.header !== frame - 1) throw new Error(`ack ${ack.header} for frame ${frame - 1}`)
  })
  mine.close()
  await new Promise((ok) => child.on('exit', ok))
  buf.close()
  c.report(a, bytes, st, `each frame's index and sync_file were received and acknowledged; the ${bytes}-byte dma-buf went once`, 0)
}

async function consumerCopy(sockPath, size) {
  const sock = net.createConnection(sockPath)
  let got = 0
  sock.on('data', (d) => {
    got += d.length
    while (got >= size) {
      got -= size
      sock.write(Buffer.of(1))
    }
  })
  await new Promise((ok) => sock.on('end', ok))
  sock.end()
}

async function consumerFd() {
  const { Channel } = lib()
  const ch = Channel.fromFd(3)
  fs.closeSync(3)
  const ring = await ch.receive()
  for (;;) {
    let m
    try {
      m = await ch.receive({ maxFds: 1 })
    } catch (e) {
      if (e.code === 'EPIPE') break
      throw e
    }
    const fence = m.fds[0]
    if (!fence.isSignaled()) await fence.wait()
    fence.close()
    await ch.send(m.header.frame)
  }
  for (const f of ring.fds) f.close()
  ch.close()
}

async function producerSide(mode, warmup, frames) {
  const { Channel, DmaBuf, Udmabuf, fdFromProcess } = lib()
  const fd = process.env.DMABUF_BENCH_FD !== undefined ? Number(process.env.DMABUF_BENCH_FD) : undefined
  // The lent fd: a dma-buf (the VM) or a memfd (natively), as the library sees it.
  const buf = fd !== undefined ? fdFromProcess(process.pid, fd) : Udmabuf.open().alloc(8 << 20)
  if (fd !== undefined) fs.closeSync(fd)
  const isDmaBuf = buf instanceof DmaBuf
  const size = isDmaBuf ? buf.size : fs.fstatSync(buf.fd).size
  if (mode === 'fence' && !isDmaBuf) throw new Error('index + sync_file needs a dma-buf (run it in the VM)')
  const [mine, theirs] = Channel.pair()
  const child = spawn(process.execPath, [__filename, 'side-consumer', mode, String(warmup), String(frames)], {
    stdio: ['ignore', 'inherit', 'inherit', theirs.fd],
  })
  theirs.close()
  await mine.send({ ring: 1 }, [buf])
  const total = warmup + frames + 1
  const rt = new Array(frames)
  let c0 = 0
  let c1 = 0
  let consumerCpu = null
  const cpu = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) * 1000
  }
  for (let i = 0; i < total; i++) {
    if (i === warmup) c0 = cpu()
    const t0 = process.hrtime.bigint()
    if (mode === 'fence') {
      const fence = buf.exportSyncFile('w')
      await mine.send({ i: 0, frame: i }, [fence])
      fence.close()
    } else {
      await mine.send({ i: 0, frame: i })
    }
    const ack = await mine.receive({ maxFds: 0 })
    const t1 = process.hrtime.bigint()
    if (ack.header.frame !== i) throw new Error(`ack ${JSON.stringify(ack.header)} for frame ${i}`)
    if (i >= warmup && i < warmup + frames) rt[i - warmup] = Number(t1 - t0)
    if (i === warmup + frames - 1) c1 = cpu()
    if (ack.header.cpu_ns !== undefined) consumerCpu = ack.header.cpu_ns
  }
  mine.close()
  await new Promise((ok) => child.on('exit', ok))
  buf.close()
  const out = { side: 'producer', dmabuf: isDmaBuf, size, cpu_ns: c1 - c0, consumer_cpu_ns: consumerCpu, rt }
  process.stdout.write(JSON.stringify(out) + '\n')
}

async function consumerSide(mode, warmup, frames) {
  const { Channel } = lib()
  const ch = Channel.fromFd(3)
  fs.closeSync(3)
  const ring = await ch.receive()
  const cpu = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) * 1000
  }
  let c0 = 0
  for (let n = 0; ; n++) {
    let m
    try {
      m = await ch.receive({ maxFds: mode === 'fence' ? 1 : 0 })
    } catch (e) {
      if (e.code === 'EPIPE') break
      throw e
    }
    if (n === warmup) c0 = cpu()
    const ack = { frame: m.header.frame }
    if (n === warmup + frames) ack.cpu_ns = cpu() - c0
    if (mode === 'fence') {
      const fence = m.fds[0]
      if (!fence.isSignaled()) await fence.wait()
      fence.close()
    }
    await ch.send(ack)
  }
  for (const f of ring.fds) f.close()
  ch.close()
}

module.exports = (a, c) => (a.case === 'handoff-copy' ? producerCopy(a, c) : producerFd(a, c))

if (require.main === module) {
  const [role, p, size, frames] = process.argv.slice(2)
  // The role as the process's name (/proc/PID/comm), so that bench/profile/streaming.sh can tell the processes apart.
  process.title = `b-${role}`.slice(0, 15)
  const done =
    role === 'consumer-copy' ? consumerCopy(p, Number(size))
    : role === 'side' ? producerSide(p, Number(size), Number(frames))
    : role === 'side-consumer' ? consumerSide(p, Number(size), Number(frames))
    : consumerFd()
  done.catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
