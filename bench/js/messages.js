'use strict'
// Case 9 of bench/streaming.mjs: small messages between two Node processes,
// the same protocol and output as bench/c/msg.c (the C floor):
//
//   node bench/js/messages.js channel|net FDS INFLIGHT COUNT WARMUP
//
// channel: the project's Channel over a seqpacket pair; each message is a
// JSON header of ~64 bytes with FDS fds (fd 3, a memfd lent by
// target/bench/memfd_exec, passed FDS times), answered by a header without
// fds. net: Node's own `net` over a Unix stream socket (libuv, no addon),
// 68-byte messages (4-byte length + 64 bytes), no fds. INFLIGHT messages
// outstanding at a time (1: `await send(); await receive()` ping-pong).
// WARMUP round trips, then COUNT timed ones in 20 batches. Prints
// {"samples":[ns per round trip, per batch],"cpu_ns","child_cpu_ns",...}:
// CPU time (process.cpuUsage(), all threads) of each process over the timed
// round trips.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const BATCHES = 20
const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}
const PAD = 'x'.repeat(40) // {"seq":123456,"pad":"xxx..."} is ~64 bytes of JSON

/** The parent's loop, whatever carries the messages: send(n) starts message n, replies arrive through onReply. */
function driver(total, warmup, inflight, count) {
  const per = count / BATCHES
  const samples = []
  let got = 0
  let c0 = 0
  let t0 = 0n
  let tb = 0n
  return {
    samples,
    /** Called for each reply; returns true when all have come. */
    reply() {
      if (got === warmup) {
        c0 = cpu()
        t0 = tb = process.hrtime.bigint()
      }
      got++
      if (got > warmup && (got - warmup) % per === 0) {
        const t = process.hrtime.bigint()
        samples.push(Number(t - tb) / per)
        tb = t
      }
      return got === total
    },
    get got() {
      return got
    },
    result(childCpu) {
      return { wall_ns: Number(process.hrtime.bigint() - t0), count, cpu_ns: cpu() - c0, child_cpu_ns: childCpu, inflight, samples }
    },
  }
}

async function channelParent(nfds, inflight, count, warmup) {
  const { Channel, fdFromProcess } = require('../../index.js')
  let fd = null
  if (nfds > 0) {
    fd = fdFromProcess(process.pid, Number(process.env.DMABUF_BENCH_FD ?? NaN))
    fs.closeSync(Number(process.env.DMABUF_BENCH_FD))
  }
  const fds = Array.from({ length: nfds }, () => fd)
  const [mine, theirs] = Channel.pair()
  const total = warmup + count
  const child = spawn(process.execPath, [__filename, 'channel-child', String(total), String(warmup)], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
  theirs.close()
  const d = driver(total, warmup, inflight, count)
  let childCpu = null
  let sent = 0
  if (inflight === 1) {
    for (;;) {
      await mine.send({ seq: sent++, pad: PAD }, fds)
      const m = await mine.receive({ maxFds: 0 })
      if (m.header.cpu_ns !== undefined) childCpu = m.header.cpu_ns
      if (d.reply()) break
    }
  } else {
    const sends = []
    while (sent < inflight) sends.push(mine.send({ seq: sent++, pad: PAD }, fds))
    for (;;) {
      const m = await mine.receive({ maxFds: 0 })
      if (m.header.cpu_ns !== undefined) childCpu = m.header.cpu_ns
      if (d.reply()) break
      if (sent < total) sends.push(mine.send({ seq: sent++, pad: PAD }, fds))
      if (sends.length > 64) await Promise.all(sends.splice(0))
    }
    await Promise.all(sends)
  }
  const r = d.result(childCpu)
  mine.close()
  await new Promise((ok) => child.on('exit', ok))
  fd?.close()
  return r
}

async function channelChild(total, warmup) {
  const { Channel } = require('../../index.js')
  const ch = Channel.fromFd(3)
  fs.closeSync(3)
  let c0 = 0
  for (let n = 0; n < total; n++) {
    if (n === warmup) c0 = cpu()
    const m = await ch.receive()
    for (const f of m.fds) f.close()
    const reply = { seq: m.header.seq, pad: PAD }
    if (n === total - 1) reply.cpu_ns = cpu() - c0
    await ch.send(reply)
  }
  // Wait for the parent to close.
  await ch.receive().catch(() => {})
  ch.close()
}

async function netParent(inflight, count, warmup) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmabuf-msg-'))
  const sockPath = path.join(dir, 's')
  const server = net.createServer()
  await new Promise((ok) => server.listen(sockPath, ok))
  const total = warmup + count
  const child = spawn(process.execPath, [__filename, 'net-child', sockPath, String(total), String(warmup)], { stdio: ['ignore', 'inherit', 'inherit'] })
  const sock = await new Promise((ok) => server.once('connection', ok))
  sock.setNoDelay(true)
  const d = driver(total, warmup, inflight, count)
  const msg = Buffer.alloc(68, 'x')
  msg.writeUInt32LE(64, 0)
  let sent = 0
  let childCpu = null
  const r = await new Promise((resolve) => {
    let pending = Buffer.alloc(0)
    sock.on('data', (data) => {
      pending = pending.length ? Buffer.concat([pending, data]) : data
      while (pending.length >= 68) {
        const rep = pending.subarray(0, 68)
        pending = pending.subarray(68)
        const c = rep.readDoubleLE(4)
        if (c > 0) childCpu = c
        if (d.reply()) return resolve(d.result(childCpu))
        if (sent < total) {
          sock.write(msg)
          sent++
        }
      }
    })
    while (sent < inflight) {
      sock.write(msg)
      sent++
    }
  })
  sock.end()
  await new Promise((ok) => child.on('exit', ok))
  server.close()
  fs.rmSync(dir, { recursive: true, force: true })
  return r
}

async function netChild(sockPath, total, warmup) {
  const sock = net.createConnection(sockPath)
  sock.setNoDelay(true)
  let n = 0
  let c0 = 0
  let pending = Buffer.alloc(0)
  sock.on('data', (data) => {
    pending = pending.length ? Buffer.concat([pending, data]) : data
    while (pending.length >= 68) {
      const m = Buffer.from(pending.subarray(0, 68))
      pending = pending.subarray(68)
      if (n === warmup) c0 = cpu()
      m.writeDoubleLE(n === total - 1 ? cpu() - c0 : 0, 4)
      n++
      sock.write(m)
    }
  })
  await new Promise((ok) => sock.on('end', ok))
  sock.end()
}

async function main() {
  const [role, ...rest] = process.argv.slice(2)
  // The role as the process's name (/proc/PID/comm), so that bench/profile/streaming.sh can tell the processes apart.
  process.title = `b-${role}`.slice(0, 15)
  if (role === 'channel-child') return channelChild(Number(rest[0]), Number(rest[1]))
  if (role === 'net-child') return netChild(rest[0], Number(rest[1]), Number(rest[2]))
  const [nfds, inflight, count, warmup] = rest.map(Number)
  if (!(count >= BATCHES) || count % BATCHES) throw new Error('COUNT must be a multiple of 20')
  if (role === 'net' && nfds) throw new Error('net carries no fds')
  const r = role === 'net' ? await netParent(inflight, count, warmup) : await channelParent(nfds, inflight, count, warmup)
  process.stdout.write(JSON.stringify(r) + '\n')
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
