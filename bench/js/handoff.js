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

module.exports = (a, c) => (a.case === 'handoff-copy' ? producerCopy(a, c) : producerFd(a, c))

if (require.main === module) {
  const [role, p, size] = process.argv.slice(2)
  const done = role === 'consumer-copy' ? consumerCopy(p, Number(size)) : consumerFd()
  done.catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
