// `dmabuf demo`: a zero-copy pipeline between two processes (a ring of
// dma-bufs passed once, then an index and a sync_file per frame), against
// the same frames copied through a Unix socket.

import { spawn } from 'node:child_process'
import { closeSync, existsSync, readdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, createConnection, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import * as d from '../../index'
import { parse, positiveInt, sizeArg } from '../util/args'
import { CliError, EXIT_FAIL, EXIT_UNSUPPORTED, UsageError } from '../util/errors'
import { bold, bytes, dim, green, out, red, tty } from '../util/output'
import { kmsSink, NO_DISPLAY } from './demo-kms'
import { listKms } from '../util/kms'

/** The command's entry (cli.js at the package root), which the demo runs again as its consumer. */
const ENTRY = join(__dirname, '..', '..', 'cli.js')

export const help = `Usage: dmabuf demo [options]

A producer process allocates a ring of dma-bufs, passes their fds to a
consumer process once, then per frame writes the frame under CPU access and
sends only the buffer's index and a sync_file; the consumer waits on the
fence, maps, verifies a checksum and hands the index back. Then the same
frames go through a plain Unix socket (copying), and the two are compared.
With --source v4l2 the ring is a capture node's buffers and each frame is
one it captured, queued back to the driver once the consumer hands it back.
Without a dma-buf exporter here it says what is missing and exits 3 (in a
checkout of the repository, npm run demo runs it inside the project's VM).

Options:
  --frames N          frames to send (default 300)
  --size BYTES        frame size (default 2M; suffixes K, M; not with v4l2)
  --ring N            buffers in the ring (default 4; v4l2: the driver may give more)
  --source udmabuf|heap|v4l2
                      where the buffers come from (default: a heap if any, else
                      udmabuf); v4l2: a capture node's exported MMAP buffers
                      (vivid-000-vid-cap first), each frame one it captured,
                      its size set by the capture format (no --size)
  --no-copy           skip the socket-copy comparison
  --sink process|kms  where the frames go (default process: the consumer
                      process above); kms: shown on the first KMS display
                      (vkms in the project VM), one nonblocking atomic commit
                      a frame, each with an out-fence, and the flip timing from
                      the out-fences (commit -> out-fence mean, min, max; the
                      mode's refresh rate); then the display is put back as it
                      was (or turned off) and the framebuffers removed.
                      --frames (default 300) and --ring (default 3) apply;
                      --source udmabuf|heap; the frame size is the display's.
                      Without a KMS display it says what is missing, exit 3`

function hasExporter(): boolean {
  if (existsSync('/dev/udmabuf')) return true
  try {
    return readdirSync('/dev/dma_heap').length > 0
  } catch {
    return false
  }
}

/** Fills a frame: a seed everywhere and the frame number at both ends; returns its checksum (the 32-bit sum of its words). */
function fill(u32: Uint32Array, frame: number): number {
  const seed = Math.imul(frame + 1, 2654435761) >>> 0
  u32.fill(seed)
  const n = u32.length
  u32[0] = frame
  u32[n - 1] = ~frame >>> 0
  return (Math.imul(seed, n - 2) + frame + (~frame >>> 0)) >>> 0
}

function checksum(u32: Uint32Array): number {
  let s = 0
  for (let i = 0; i < u32.length; i++) s = (s + u32[i]) | 0
  return s >>> 0
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

class Progress {
  #last = 0
  constructor(private readonly label: string, private readonly total: number) {}
  tick(done: number, t0: bigint): void {
    const now = Date.now()
    if (done < this.total && now - this.#last < 100) return
    this.#last = now
    const fps = done / (Number(process.hrtime.bigint() - t0) / 1e9 || 1)
    if (tty) {
      const w = 30
      const full = Math.round((done / this.total) * w)
      process.stdout.write(`\r${this.label} [${green('#'.repeat(full))}${'.'.repeat(w - full)}] ${done}/${this.total} frames, ${fps.toFixed(0)} fps `)
      if (done === this.total) process.stdout.write('\n')
    } else if (done === this.total || done % Math.max(1, Math.floor(this.total / 4)) === 0) {
      out(`${this.label}: ${done}/${this.total} frames, ${fps.toFixed(0)} fps`)
    }
  }
}

interface RingMsg {
  type: 'ring'
  size: number
}
interface FrameMsg {
  type: 'frame'
  i: number
  frame: number
  sum: number
  /** Where the frame lies in the buffer, in bytes (multiples of 4). */
  off: number
  len: number
}
interface AckMsg {
  i: number
  frame: number
  ok: boolean
  sum: number
}

async function consumer(): Promise<number> {
  const ch = d.Channel.fromFd(3)
  closeSync(3)
  const first = await ch.receive<RingMsg>({ maxFds: 64 })
  const ring = first.fds as d.DmaBuf[]
  const maps = ring.map((b) => b.map('r'))
  const views = maps.map((m) => new Uint32Array(m.buffer))
  // Started and mapped: the producer starts its clock now, not while this process was starting.
  await ch.send({ type: 'ready' })
  for (;;) {
    let msg: d.Message<FrameMsg | { type: 'end' }>
    try {
      msg = await ch.receive({ maxFds: 1 })
    } catch (e) {
      if ((e as { code?: string }).code === 'EPIPE') break
      throw e
    }
    if (msg.header.type === 'end') break
    const { i, frame, sum, off, len } = msg.header
    const fence = msg.fds[0] as d.SyncFile
    // A fence that has signalled already (udmabuf and heaps signal at once) needs no trip through the event loop.
    if (!fence.isSignaled()) await fence.wait()
    fence.close()
    const access = ring[i].beginCpuAccess('r')
    const got = checksum(views[i].subarray(off / 4, (off + len) / 4))
    access.end()
    await ch.send({ i, frame, ok: got === sum, sum: got } satisfies AckMsg)
  }
  for (const m of maps) m.unmap()
  for (const b of ring) b.close()
  ch.close()
  return 0
}

interface RunResult {
  frames: number
  seconds: number
  latencies: number[]
  bad: number
}

/**
 * Where the producer's frames come from: a ring of dma-bufs, the next frame
 * to send (its ring index, its checksum and where it lies in the buffer),
 * and what to do with an index the consumer has handed back.
 */
interface FrameSource {
  ring: d.DmaBuf[]
  /** The frame's size in bytes (what the socket copy sends per frame). */
  frameBytes: number
  /** What the summary says the frames are. */
  label: string
  /** The mapping (read access at least) of ring buffer `i`. */
  data(i: number): ArrayBuffer
  next(frame: number): Promise<{ i: number; sum: number; off: number; len: number }>
  release(i: number): void
  close(): void
}

/** udmabuf or heap buffers that the producer fills itself, each frame under CPU access. */
function allocSource(source: string, size: number, ringSize: number): FrameSource {
  const ring: d.DmaBuf[] = []
  try {
    for (let i = 0; i < ringSize; i++) {
      const b = source === 'heap' ? d.Heap.open(d.listHeaps().includes('system') ? 'system' : d.listHeaps()[0]).alloc(size) : d.createUdmabuf(size)
      ring.push(b)
      b.setName(`demo-frame-${i}`)
    }
  } catch (e) {
    for (const b of ring) b.close()
    throw e
  }
  const maps = ring.map((b) => b.map('rw'))
  const views = maps.map((m) => new Uint32Array(m.buffer))
  const free: number[] = ring.map((_, i) => i)
  let waiting: (() => void) | undefined
  return {
    ring,
    frameBytes: size,
    label: `a ring of ${ringSize} ${source} buffers`,
    data: (i) => maps[i].buffer,
    async next(frame) {
      while (free.length === 0) {
        await new Promise<void>((ok) => (waiting = ok))
        waiting = undefined
      }
      const i = free.shift()!
      const access = ring[i].beginCpuAccess('w')
      const sum = fill(views[i], frame)
      access.end()
      return { i, sum, off: 0, len: size }
    },
    release(i) {
      free.push(i)
      waiting?.()
    },
    close() {
      for (const m of maps) m.unmap()
      for (const b of ring) b.close()
    },
  }
}

/** The V4L2 capture nodes whose buffers export as dma-bufs, single-planar, vivid's first. */
function captureNodes(): d.V4l2Node[] {
  let nodes: d.V4l2Node[]
  try {
    nodes = d.V4l2Device.list()
  } catch {
    return []
  }
  return nodes.filter((n) => n.bufType === 'capture' && n.canExport).sort((x, y) => Number(y.name === 'vivid-000-vid-cap') - Number(x.name === 'vivid-000-vid-cap'))
}

const V4L2_BUF_FLAG_ERROR = 0x40

/**
 * A V4L2 capture node's MMAP buffers, exported as dma-bufs: each frame is
 * one the driver captured. The producer dequeues it, checksums it under
 * CPU access (reading, not copying), and queues it back to the driver only
 * once the consumer has handed its index back.
 */
function v4l2Source(node: d.V4l2Node, ringSize: number): FrameSource {
  const dev = d.V4l2Device.open(node.path)
  const ring: d.DmaBuf[] = []
  let maps: d.Mapping[] = []
  let streaming = false
  const close = (): void => {
    if (streaming) dev.streamOff()
    streaming = false
    for (const m of maps) m.unmap()
    for (const b of ring) b.close()
    dev.close()
  }
  try {
    try {
      dev.setFrameInterval(1, 60)
    } catch {
      // Not every driver lets the frame rate be chosen: its own rate it is.
    }
    const fmt = dev.format()
    const n = dev.requestBuffers(ringSize)
    for (let i = 0; i < n; i++) {
      const b = dev.exportBuffer(i, 0, 'rw')
      ring.push(b)
      b.setName(`demo-frame-${i}`)
    }
    maps = ring.map((b) => b.map('r'))
    const views = maps.map((m) => new Uint32Array(m.buffer))
    for (let i = 0; i < n; i++) dev.queue(i)
    dev.streamOn()
    streaming = true
    let errors = 0
    return {
      ring,
      frameBytes: fmt.planes[0].sizeimage,
      data: (i) => maps[i].buffer,
      label: `a ring of ${n} buffers captured by ${node.name} (${node.path}, ${fmt.width}x${fmt.height} ${fmt.pixelformat}, ${bytes(fmt.planes[0].sizeimage)} a frame)`,
      async next() {
        for (;;) {
          const b = await dev.dequeue(5_000)
          if (b === null) throw new CliError(`demo: ${node.path} (${node.name}) captured no frame in 5 s`)
          // A frame the driver marks as damaged goes straight back to it (vivid never does).
          if (b.flags & V4L2_BUF_FLAG_ERROR && ++errors < 100) {
            dev.queue(b.index)
            continue
          }
          const p = b.planes[0]
          const off = p.dataOffset & ~3
          const len = (p.bytesused - off) & ~3
          const access = ring[b.index].beginCpuAccess('r')
          const sum = checksum(views[b.index].subarray(off / 4, (off + len) / 4))
          access.end()
          return { i: b.index, sum, off, len }
        }
      },
      release(i) {
        dev.queue(i)
      },
      close,
    }
  } catch (e) {
    close()
    throw e
  }
}

async function zeroCopy(frames: number, src: FrameSource): Promise<RunResult & { exporter: string; headerBytes: number }> {
  const [mine, theirs] = d.Channel.pair()
  const child = spawn(process.execPath, [ENTRY, 'demo', '--role', 'consumer'], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
  theirs.close()
  const exited = new Promise<number>((ok) => child.on('exit', (code, sig) => ok(code ?? (sig ? 128 : 1))))
  try {
    return await zeroCopyRun(frames, src, mine, exited)
  } catch (e) {
    // A source that stops (no frame from the device) or a consumer that fails: do not leave the other process waiting.
    child.kill()
    if (!mine.closed) mine.close()
    throw e
  }
}

async function zeroCopyRun(frames: number, src: FrameSource, mine: d.Channel, exited: Promise<number>): Promise<RunResult & { exporter: string; headerBytes: number }> {
  const ring = src.ring
  const exporter = ring[0].info().exporter
  await mine.send({ type: 'ring', size: src.frameBytes } satisfies RingMsg, ring)
  await mine.receive({ maxFds: 0 })
  const sentAt = new Map<number, bigint>()
  const latencies: number[] = []
  let bad = 0
  let acked = 0
  let headerBytes = 0
  const bar = new Progress('zero-copy', frames)
  const t0 = process.hrtime.bigint()
  const acks = (async () => {
    while (acked < frames) {
      const m = await mine.receive<AckMsg>({ maxFds: 0 })
      const t = sentAt.get(m.header.frame)!
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6)
      if (!m.header.ok) bad++
      acked++
      src.release(m.header.i)
      bar.tick(acked, t0)
    }
  })()
  // Settles only if the acknowledgements fail: the producer then stops waiting for a buffer.
  const ackFailed = new Promise<never>((_, fail) => acks.catch((e: unknown) => fail(e ?? new Error('the acknowledgements stopped'))))
  for (let f = 0; f < frames; f++) {
    const { i, sum, off, len } = await Promise.race([src.next(f), ackFailed])
    const fence = ring[i].exportSyncFile('w')
    const header = { type: 'frame', i, frame: f, sum, off, len } satisfies FrameMsg
    headerBytes += JSON.stringify(header).length + 4
    sentAt.set(f, process.hrtime.bigint())
    await mine.send(header, [fence])
    fence.close()
  }
  await acks
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  await mine.send({ type: 'end' })
  const code = await exited
  mine.close()
  if (code !== 0) throw new CliError(`demo: the consumer process exited with status ${code}`)
  return { frames, seconds, latencies, bad, exporter, headerBytes }
}

async function copyConsumer(path: string, size: number): Promise<number> {
  const sock: Socket = createConnection(path)
  const frame = Buffer.alloc(size + 8)
  let have = 0
  await new Promise<void>((ok, fail) => {
    sock.on('data', (chunk: Buffer) => {
      let off = 0
      while (off < chunk.length) {
        const n = Math.min(chunk.length - off, frame.length - have)
        chunk.copy(frame, have, off, off + n)
        have += n
        off += n
        if (have === frame.length) {
          have = 0
          const f = frame.readUInt32LE(0)
          const sum = frame.readUInt32LE(4)
          const u32 = new Uint32Array(frame.buffer, frame.byteOffset + 8, size / 4)
          const ack = Buffer.alloc(8)
          ack.writeUInt32LE(f, 0)
          ack.writeUInt32LE(checksum(u32) === sum ? 1 : 0, 4)
          sock.write(ack)
        }
      }
    })
    sock.on('end', ok)
    sock.on('error', fail)
  })
  sock.end()
  return 0
}

/**
 * The same frames through a plain Unix socket, copied. Without `src`, the
 * producer fills plain memory as the zero-copy run fills its dma-bufs; with
 * it (v4l2), each frame is one the device captured, copied out of its
 * mapping into the socket, and the buffer goes back to the driver at once.
 */
async function socketCopy(frames: number, size: number, ringSize: number, src?: FrameSource): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-demo-'))
  const path = join(dir, 'copy.sock')
  const server = createServer()
  await new Promise<void>((ok) => server.listen(path, ok))
  const child = spawn(process.execPath, [ENTRY, 'demo', '--role', 'copy-consumer', '--path', path, '--size', String(size)], { stdio: ['ignore', 'inherit', 'inherit'] })
  const exited = new Promise<number>((ok) => child.on('exit', (code, sig) => ok(code ?? (sig ? 128 : 1))))
  const sock = await new Promise<Socket>((ok) => server.once('connection', ok))
  const sentAt: bigint[] = []
  const latencies: number[] = []
  let bad = 0
  let acked = 0
  let inflight = 0
  let waiting: (() => void) | undefined
  let pending: Buffer = Buffer.alloc(0)
  const bar = new Progress('socket copy', frames)
  const t0 = process.hrtime.bigint()
  sock.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    while (pending.length >= 8) {
      const f = pending.readUInt32LE(0)
      if (pending.readUInt32LE(4) !== 1) bad++
      latencies.push(Number(process.hrtime.bigint() - sentAt[f]) / 1e6)
      pending = pending.subarray(8)
      acked++
      inflight--
      bar.tick(acked, t0)
      waiting?.()
    }
  })
  // One buffer per ring slot, filled like the dma-bufs, then written (copied) into the socket.
  const slots = Array.from({ length: ringSize }, () => Buffer.alloc(size + 8))
  for (let f = 0; f < frames; f++) {
    while (inflight >= ringSize) {
      await new Promise<void>((ok) => (waiting = ok))
      waiting = undefined
    }
    const b = slots[f % ringSize]
    let sum: number
    if (src) {
      const got = await src.next(f)
      const n = Math.min(got.len, size)
      const access = src.ring[got.i].beginCpuAccess('r')
      b.set(new Uint8Array(src.data(got.i), got.off, n), 8)
      access.end()
      src.release(got.i)
      b.fill(0, 8 + n)
      sum = got.sum
    } else sum = fill(new Uint32Array(b.buffer, b.byteOffset + 8, size / 4), f)
    b.writeUInt32LE(f, 0)
    b.writeUInt32LE(sum, 4)
    sentAt[f] = process.hrtime.bigint()
    inflight++
    if (!sock.write(b)) await new Promise<void>((ok) => sock.once('drain', ok))
  }
  while (acked < frames) {
    await new Promise<void>((ok) => (waiting = ok))
    waiting = undefined
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  sock.end()
  const code = await exited
  server.close()
  rmSync(dir, { recursive: true, force: true })
  if (code !== 0) throw new CliError(`demo: the socket-copy consumer exited with status ${code}`)
  return { frames, seconds, latencies, bad }
}

export async function demo(argv: string[]): Promise<number> {
  const a = parse(argv, { flags: ['no-copy'], values: ['frames', 'size', 'ring', 'source', 'role', 'path', 'sink'] }, 'demo')
  if (a.help) return showHelp()
  if (a._.length) throw new UsageError(`demo: unexpected argument '${a._[0]}'`)
  if (a.role === 'consumer') return consumer()
  if (a.role === 'copy-consumer') return copyConsumer(String(a.path), positiveInt('demo', 'size', a.size as string | undefined, 4, 2 ** 31))
  if (a.role !== undefined) throw new UsageError(`demo: unknown --role '${String(a.role)}'`)
  const frames = positiveInt('demo', 'frames', a.frames as string | undefined, 300, 1e7)
  const size = sizeArg('demo', 'size', a.size as string | undefined, 2 << 20)
  const ringSize = positiveInt('demo', 'ring', a.ring as string | undefined, 4, 64)
  let source = a.source as string | undefined
  if (source !== undefined && source !== 'udmabuf' && source !== 'heap' && source !== 'v4l2') throw new UsageError(`demo: --source must be udmabuf, heap or v4l2, not '${source}'`)
  if (source === 'v4l2' && a.size !== undefined) throw new UsageError('demo: --size does not apply to --source v4l2 (the capture format sets the frame size)')
  const sink = a.sink as string | undefined
  if (sink !== undefined && sink !== 'process' && sink !== 'kms') throw new UsageError(`demo: --sink must be process or kms, not '${sink}'`)
  if (sink === 'kms') {
    if (source === 'v4l2') throw new UsageError('demo: --sink kms takes --source udmabuf or heap (it paints XR24 frames of the display\'s size), not v4l2')
    if (a.size !== undefined) throw new UsageError('demo: --size does not apply to --sink kms (the display\'s mode sets the frame size)')
    if (a['no-copy']) throw new UsageError('demo: --no-copy does not apply to --sink kms (it makes no socket copy)')
    const kmsRing = positiveInt('demo', 'ring', a.ring as string | undefined, 3, 64)
    if (kmsRing < 2) throw new UsageError('demo: --sink kms needs --ring 2 or more (one buffer on screen while the next is painted)')
    // What is missing first: a display (without one no source helps), then the buffers.
    // (A card this user may not open is left to the display search, which names it.)
    if (!listKms().some((c) => c.status === 'error' || c.connectors?.some((k) => k.status === 'connected' && k.modes > 0))) throw new CliError(NO_DISPLAY, EXIT_UNSUPPORTED)
    if (!hasExporter()) throw new CliError('demo: --sink kms: this system has no dma-buf exporter for the frames (no /dev/udmabuf, no /dev/dma_heap/*): load one (modprobe udmabuf)', EXIT_UNSUPPORTED)
    if (source === 'heap' && d.listHeaps().length === 0) throw new CliError('demo: --sink kms --source heap: this system has no dma-buf heap (no /dev/dma_heap/*): choose --source udmabuf', EXIT_UNSUPPORTED)
    if (source === 'udmabuf' && !existsSync('/dev/udmabuf')) throw new CliError('demo: --sink kms --source udmabuf: this system has no /dev/udmabuf (modprobe udmabuf)', EXIT_UNSUPPORTED)
    const kmsSource = (source ?? (d.listHeaps().length ? 'heap' : 'udmabuf')) as 'udmabuf' | 'heap'
    const r = await kmsSink(frames, kmsRing, kmsSource, process.env.DMABUF_VM === '1')
    return r.failed ? EXIT_FAIL : 0
  }

  const inVm = process.env.DMABUF_VM === '1'
  const capture = source === 'v4l2' ? captureNodes() : []
  if (source === 'v4l2' ? capture.length === 0 : !hasExporter()) {
    if (source === 'v4l2') throw new CliError('demo: --source v4l2: this system has no V4L2 capture node that exports its buffers (single-planar, MMAP): load one (modprobe vivid) or choose another --source', EXIT_UNSUPPORTED)
    throw new CliError('demo: this system has no dma-buf exporter (no /dev/udmabuf, no /dev/dma_heap/*): load one (modprobe udmabuf); in a checkout of the repository, npm run demo runs it inside the project VM', EXIT_UNSUPPORTED)
  }
  if (source === undefined) source = d.listHeaps().length ? 'heap' : 'udmabuf'

  const src = source === 'v4l2' ? v4l2Source(capture[0], ringSize) : allocSource(source, size, ringSize)
  let z: Awaited<ReturnType<typeof zeroCopy>>
  try {
    out(`${bold('dmabuf demo')}: ${frames} frames of ${bytes(src.frameBytes)}, ${src.label}, producer pid ${process.pid}${inVm ? ' (inside the project VM)' : ''}`)
    z = await zeroCopy(frames, src)
  } finally {
    src.close()
  }
  const frameBytes = src.frameBytes
  const lat = z.latencies.slice().sort((x, y) => x - y)
  const fps = z.frames / z.seconds
  out(`zero-copy (${source}, exporter ${z.exporter}): ${fps.toFixed(1)} frames/s, ${((fps * frameBytes) / 2 ** 20).toFixed(0)} MiB/s of frames; latency p50 ${percentile(lat, 50).toFixed(2)} ms, p90 ${percentile(lat, 90).toFixed(2)} ms, p99 ${percentile(lat, 99).toFixed(2)} ms`)
  out(`  frame bytes copied by the library: 0 (each frame's message: ${Math.round(z.headerBytes / z.frames)} bytes of header and 1 sync_file)`)
  out(`  checksums: ${z.frames - z.bad}/${z.frames} ${z.bad ? red('FAILED') : green('ok')}`)
  let failed = z.bad > 0
  if (!a['no-copy']) {
    let c: RunResult
    if (source === 'v4l2') {
      const again = v4l2Source(capture[0], ringSize)
      try {
        c = await socketCopy(frames, frameBytes & ~3, ringSize, again)
      } finally {
        again.close()
      }
    } else c = await socketCopy(frames, frameBytes & ~3, ringSize)
    const cl = c.latencies.slice().sort((x, y) => x - y)
    const cfps = c.frames / c.seconds
    out(`socket copy: ${cfps.toFixed(1)} frames/s; latency p50 ${percentile(cl, 50).toFixed(2)} ms, p99 ${percentile(cl, 99).toFixed(2)} ms; checksums ${c.frames - c.bad}/${c.frames} ${c.bad ? red('FAILED') : green('ok')}`)
    out(`${bold('ratio')}: zero-copy ${(fps / cfps).toFixed(2)}x the frames per second of the socket copy (latency p50 ${percentile(lat, 50).toFixed(2)} ms against ${percentile(cl, 50).toFixed(2)} ms)`)
    if (source === 'v4l2') out(dim(`  (both runs take the frames ${capture[0].name} captures, so both go at its frame rate at most)`))
    failed ||= c.bad > 0
  }
  return failed ? EXIT_FAIL : 0
}

function showHelp(): number {
  out(help)
  return 0
}
