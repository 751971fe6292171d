// GStreamer's unixfd protocol against real GStreamer (issue 23): gst-launch-1.0
// from the Debian trixie root that scripts/gst-rootfs.sh makes (GStreamer
// 1.26; bookworm's 1.22 has no unixfd plugin), entered with chroot inside the
// VM. scripts/test.sh builds the root and passes its path in as
// DMABUF_GST_ROOT. x86 VM tier only (the root is x86_64); on the host these
// are skipped by design, as the other device tests are.
//
// Both directions: `… ! unixfdsink` → UnixFdSrc (memfds from videotestsrc,
// vivid's own dma-bufs from v4l2src) and UnixFdSink → `unixfdsrc ! …`, with
// checksumsink's SHA-1 of every buffer as the reference; release and
// back-pressure; caps changes; EOS; either side killed mid-stream.

import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import {
  type DmaBuf,
  type UnixFdBuffer,
  UnixFdSink,
  UnixFdSrc,
  V4l2Device,
  createUdmabuf,
  inspect,
  parseCaps,
} from 'dmabuf'

import { inVm, noLeak, pattern, readmeExamples } from './helpers.js'

type Body = (t: ExecutionContext) => void | Promise<void>

const GST_ROOT = process.env.DMABUF_GST_ROOT ?? ''
const gstTest = (title: string, body: Body): void => (inVm ? test.serial : test.serial.skip)(title, body)

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex')
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
let sockets = 0
/** A fresh socket path under /tmp, which the root sees (bind-mounted). */
const socketPath = (): string => {
  const p = `/tmp/dmabuf-gst-${process.pid}-${++sockets}.sock`
  rmSync(p, { force: true })
  return p
}

interface Gst {
  child: ChildProcess
  /** Resolves once gst-launch-1.0 exits: its status and everything it printed. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/** gst-launch-1.0 -q PIPELINE inside the GStreamer root, in a private mount namespace. */
function gstLaunch(pipeline: string): Gst {
  if (!GST_ROOT || !existsSync(resolve(GST_ROOT, 'usr/bin/gst-launch-1.0'))) {
    throw new Error(`DMABUF_GST_ROOT ('${GST_ROOT}') holds no gst-launch-1.0: scripts/test.sh builds it with scripts/gst-rootfs.sh`)
  }
  // unshare and sh exec in place, so the child's pid is gst-launch-1.0's.
  const script =
    'R=$1; shift; mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" && mount --rbind /sys "$R/sys" && ' +
    'mount --bind /tmp "$R/tmp" && exec chroot "$R" env HOME=/tmp GST_REGISTRY=/tmp/gst-registry-trixie.bin "$@"'
  const args = ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', GST_ROOT, 'gst-launch-1.0', '-q', ...pipeline.split(/\s+/)]
  const child = spawn('unshare', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((res) =>
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  )
  return { child, done }
}

/** checksumsink's lines: `H:MM:SS.NNNNNNNNN SHA1`, as [pts in ns, sha1]. */
function checksums(stdout: string): [bigint, string][] {
  const out: [bigint, string][] = []
  for (const l of stdout.split('\n')) {
    const m = /^(\d+):(\d\d):(\d\d)\.(\d{9}) ([0-9a-f]{40})$/.exec(l.trim())
    if (m) out.push([((BigInt(m[1]) * 60n + BigInt(m[2])) * 60n + BigInt(m[3])) * 1_000_000_000n + BigInt(m[4]), m[5]])
  }
  return out
}

/** Connects to a unixfdsink's socket once it exists (gst-launch makes it while starting). */
async function connect(path: string, gst: Gst): Promise<UnixFdSrc> {
  const start = performance.now()
  for (;;) {
    if (gst.child.exitCode !== null) throw new Error(`gst-launch-1.0 exited early: ${(await gst.done).stderr}`)
    if (existsSync(path)) {
      try {
        return UnixFdSrc.connect(path)
      } catch (e) {
        if ((e as { code?: string }).code !== 'ECONNREFUSED') throw e
      }
    }
    if (performance.now() - start > 120_000) throw new Error(`no unixfdsink listened at ${path} within 120 s`)
    await sleep(20)
  }
}

/** A read that must not resolve within `ms`: undefined if it did not (the read stays pending). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  // A read left pending rejects once its source closes: that is expected, not an unhandled rejection.
  p.catch(() => undefined)
  const r = await Promise.race([p, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), ms)))])
  clearTimeout(timer)
  return r
}

const RGBA_64x48 = 'video/x-raw,format=RGBA,width=64,height=48,framerate=30/1'

test.before(async () => {
  if (!inVm) return
  // The first gst-launch-1.0 of a boot scans the plugins into the registry
  // (tens of seconds under TCG); do it once here, not inside a timed test.
  const g = gstLaunch('fakesrc num-buffers=1 ! fakesink')
  const r = await g.done
  if (r.code !== 0) throw new Error(`gst-launch-1.0 does not run in the root: ${r.stderr}`)
})

gstTest('videotestsrc ! unixfdsink: Node receives every frame, byte for byte as checksumsink hashed it', async (t) => {
  // Sizes with GStreamer's default strides (rows rounded up to 4 bytes per plane).
  for (const [format, w, h, size] of [
    ['RGBA', 64, 48, 64 * 48 * 4],
    ['I420', 62, 30, 64 * 30 + 2 * 32 * 15],
    ['NV12', 64, 48, 64 * 48 + 64 * 24],
  ] as const) {
    await noLeak(t, async () => {
      const path = socketPath()
      const n = 8
      // videotestsrc is deterministic: a second run into checksumsink gives each frame's SHA-1. (A tee would
      // hand unixfdsink system memory, which 1.26 refuses: it needs the memfds its own allocator gives.)
      const source = `videotestsrc num-buffers=${n} pattern=ball ! video/x-raw,format=${format},width=${w},height=${h},framerate=30/1`
      const reference = await gstLaunch(`${source} ! checksumsink hash=sha1`).done
      t.is(reference.code, 0, reference.stderr)
      const gst = gstLaunch(`${source} ! unixfdsink socket-path=${path} wait-for-connection=true`)
      const src = await connect(path, gst)
      const got: { pts: bigint | null; sha: string; id: bigint }[] = []
      for await (const buf of src) {
        using b = buf
        const caps = parseCaps(b.caps)
        t.is(caps.media, 'video/x-raw')
        t.is(caps.fields.format, format)
        t.is(caps.fields.width, w)
        t.is(caps.fields.height, h)
        t.true(b.memories.length >= 1)
        for (const m of b.memories) t.is(m.kind, 'fd', 'videotestsrc buffers travel as memfds')
        const bytes = b.bytes()
        t.is(bytes.length, size, `${format} ${w}x${h}`)
        // GStreamer seals its memfds against shrinking, so they map with no copy, and show the same bytes.
        t.deepEqual(Buffer.concat(b.memories.map((_, i) => b.map(i))), Buffer.from(bytes))
        got.push({ pts: b.pts, sha: sha1(bytes), id: b.id })
      }
      t.true(src.ended, 'EOS ends the iteration')
      t.is(await src.read(), null, 'reads after EOS give null')
      src.close()
      const r = await gst.done
      t.is(r.code, 0, r.stderr)
      const want = checksums(reference.stdout)
      t.is(want.length, n, reference.stdout)
      t.deepEqual(
        got.map((g) => g.sha),
        want.map((w) => w[1]),
        `${format}: every frame arrived once, in order, unchanged`,
      )
      // unixfdsink sends clock times (running time + base time), so compare the steps between frames.
      const steps = (xs: bigint[]): bigint[] => xs.slice(1).map((x, i) => x - xs[i])
      t.true(got.every((g) => g.pts !== null))
      t.deepEqual(steps(got.map((g) => g.pts!)), steps(want.map((w) => w[0])), `${format}: timestamps 1/30 s apart, as GStreamer set them`)
      t.true(got.every((g) => g.id > 0n), 'buffer ids are GStreamer\'s (reused once released)')
    })
  }
})

gstTest('a caps change mid-stream reaches the buffers after it, and only those', async (t) => {
  await noLeak(t, async () => {
    const path = socketPath()
    const gst = gstLaunch(
      `concat name=c ! unixfdsink socket-path=${path} wait-for-connection=true ` +
        `videotestsrc num-buffers=3 ! video/x-raw,format=RGBA,width=64,height=48 ! c. ` +
        `videotestsrc num-buffers=2 ! video/x-raw,format=BGRx,width=32,height=16 ! c.`,
    )
    const src = await connect(path, gst)
    const seen: string[] = []
    for await (const buf of src) {
      using b = buf
      const c = parseCaps(b.caps).fields
      seen.push(`${c.format} ${c.width}x${c.height} ${b.bytes().length}`)
      t.is<string | null, string | null>(b.caps, src.caps, 'the buffer carries the caps in force when it arrived')
    }
    src.close()
    t.is((await gst.done).code, 0)
    t.deepEqual(seen, [...Array(3).fill(`RGBA 64x48 ${64 * 48 * 4}`), ...Array(2).fill(`BGRx 32x16 ${32 * 16 * 4}`)])
  })
})

/** The vivid capture node, or a failure naming what the test needs. */
function vividCapture(): string {
  const n = V4l2Device.list().find((x) => x.name === 'vivid-000-vid-cap')
  if (!n) throw new Error('this test needs vivid-000-vid-cap (VM tier)')
  return n.path
}

/** Runs `fn` again while GStreamer finds vivid busy (another test file streams from it), for up to 120 s. */
async function retryBusy<T>(fn: () => Promise<T | 'busy'>): Promise<T> {
  const start = performance.now()
  for (;;) {
    const r = await fn()
    if (r !== 'busy') return r
    if (performance.now() - start > 120_000) throw new Error('vivid stayed busy for 120 s')
    await sleep(500)
  }
}

// unixfdsink itself holds no buffer back: it keeps each one it sent until the client releases it. So what
// bounds a pipeline is its pool: v4l2src's grows with VIDIOC_CREATE_BUFS up to VIDEO_MAX_FRAME (32) while
// downstream holds buffers, then stops with an error. A client that releases keeps it running on the same
// few V4L2 buffers; one that never does stops it within 32 frames, having lost none that were captured.
const V4L2_POOL_MAX = 32

function v4l2Pipeline(dev: string, n: number, path: string): Gst {
  return gstLaunch(
    `v4l2src device=${dev} io-mode=dmabuf num-buffers=${n} ! video/x-raw,format=BGRx,width=320,height=180,framerate=15/1 ! ` +
      `unixfdsink socket-path=${path} wait-for-connection=true`,
  )
}

/** Connects, or 'busy' when GStreamer could not open vivid (another test file streams from it). */
async function connectV4l2(gst: Gst, path: string): Promise<UnixFdSrc | 'busy'> {
  try {
    return await connect(path, gst)
  } catch (e) {
    if (/busy/i.test((await gst.done).stderr)) return 'busy'
    throw e
  }
}

gstTest("v4l2src io-mode=dmabuf ! unixfdsink: Node gets vivid's own dma-bufs, and the pipeline runs on as long as Node releases them", async (t) => {
  const dev = vividCapture()
  const n = V4L2_POOL_MAX + 8
  await noLeak(t, () =>
    retryBusy(async () => {
      const path = socketPath()
      const gst = v4l2Pipeline(dev, n, path)
      const src = await connectV4l2(gst, path)
      if (src === 'busy') return 'busy' as const
      const inodes = new Set<number>()
      let count = 0
      for await (const buf of src) {
        using b = buf
        t.is(b.memories.length, 1)
        const m = b.memories[0]
        t.is(m.kind, 'dma-buf', 'v4l2src io-mode=dmabuf buffers arrive as dma-bufs')
        const info = m.dmaBuf!.info()
        t.is(info.exporter, 'videobuf2_vmalloc', 'exported by the V4L2 driver, not a copy')
        using f = b.frame() // its own duplicates of the dma-bufs
        t.deepEqual([f.width, f.height, f.formatName], [320, 180, 'XRGB8888'])
        inodes.add(info.inode)
        count++
      }
      src.close()
      const r = await gst.done
      if (/busy/i.test(r.stderr)) return 'busy' as const
      t.is(r.code, 0, r.stderr)
      t.is(count, n, `all ${n} captured frames arrived, more than v4l2src's pool can ever hold`)
      t.true(inodes.size <= V4L2_POOL_MAX, `${inodes.size} V4L2 buffers went round, released and captured into again`)
      return undefined
    }),
  )
})

gstTest('a Node consumer that never releases stops v4l2src within its pool, and loses no frame it captured', async (t) => {
  const dev = vividCapture()
  const n = 2 * V4L2_POOL_MAX
  await noLeak(t, () =>
    retryBusy(async () => {
      const path = socketPath()
      const gst = v4l2Pipeline(dev, n, path)
      const src = await connectV4l2(gst, path)
      if (src === 'busy') return 'busy' as const
      const held: UnixFdBuffer[] = []
      try {
        // Hold every buffer until nothing more comes (4 s) or the stream ends: at EOS, or when
        // gst-launch-1.0 exits on v4l2src's error and its socket closes (EPIPE or ECONNRESET).
        for (;;) {
          let b: UnixFdBuffer | null | undefined
          try {
            b = await within(src.read(), held.length === 0 ? 60_000 : 4000)
          } catch (e) {
            if (held.length > 0 && ['EPIPE', 'ECONNRESET'].includes((e as NodeJS.ErrnoException).code!)) {
              t.log(`the socket closed after ${held.length} buffers: ${(e as Error).message}`)
              break
            }
            throw e
          }
          if (b === undefined || b === null) {
            t.log(`${b === null ? 'EOS' : 'nothing for 4 s'} after ${held.length} buffers`)
            break
          }
          if (held.length === 0 && b.memories[0]?.dmaBuf) {
            // The same buffer is open in GStreamer's v4l2src (VIDIOC_EXPBUF there): one buffer, two processes.
            const pid = gst.child.pid!
            const theirs = inspect({ pids: [pid] }).buffers.filter((x) => x.holders.some((h) => h.pid === pid)).map((x) => x.inode)
            const inode = b.memories[0].dmaBuf.info().inode
            t.true(theirs.includes(inode), `inode ${inode} is among those v4l2src holds: ${theirs.join(', ')}`)
          }
          held.push(b)
        }
        const r = await within(gst.done, 60_000)
        if (r && /busy/i.test(r.stderr)) return 'busy' as const
        t.true(held.length >= 2 && held.length <= V4L2_POOL_MAX, `${held.length} buffers held when v4l2src stopped (its pool: at most ${V4L2_POOL_MAX})`)
        t.true(held.length < n, 'the pipeline did not run to its end while Node held everything')
        t.truthy(r, 'gst-launch-1.0 ended instead of waiting for ever')
        t.not(r?.code, 0, 'v4l2src reports that it ran out of buffers')
        t.is(new Set(held.map((b) => b.memories[0].dmaBuf!.info().inode)).size, held.length, 'each held buffer is a V4L2 buffer of its own')
        // Frames are numbered by the driver (the buffer offset is V4L2's sequence): all that were captured arrived.
        const seq = held.map((b) => b.offset)
        t.true(seq.every((x, i) => i === 0 || (x !== null && seq[i - 1] !== null && x > seq[i - 1]!)), `in order: ${seq.join(', ')}`)
        return undefined
      } finally {
        // Whatever happened, nothing of this attempt is left for the next test's fd count.
        for (const b of held) b.release()
        src.close()
      }
    }),
  )
})

gstTest('Node as the sink: unixfdsrc ! checksumsink gets every frame unchanged, dma-bufs and a caps change included', async (t) => {
  await noLeak(t, async () => {
    const path = socketPath()
    const size = 64 * 48 * 4
    const sink = UnixFdSink.listen(path, { caps: RGBA_64x48, maxInFlight: 2 })
    const gst = gstLaunch(`unixfdsrc socket-path=${path} ! checksumsink hash=sha1`)
    const conn = await sink.accept()
    const bufs = [0, 1, 2].map(() => createUdmabuf(size))
    const sent: string[] = []
    const ids: bigint[] = []
    for (let i = 0; i < 6; i++) {
      const buf = bufs[i % bufs.length]
      // Reuse a buffer only once GStreamer let go of it.
      if (i >= bufs.length) await conn.released(ids[i - bufs.length])
      const data = pattern(size, i + 1)
      buf.write(0, data)
      sent.push(sha1(data))
      ids.push(await conn.send(buf, { pts: BigInt(i) * 33_333_333n, duration: 33_333_333n }))
      t.true(conn.inFlight <= 2, `at most maxInFlight (2) unreleased: ${conn.inFlight}`)
    }
    // Then a smaller format: unixfdsrc renegotiates from the new CAPS.
    await conn.setCaps('video/x-raw,format=RGBA,width=16,height=16,framerate=30/1')
    // A memory is its dma-buf's whole size: a page here, the frame's 1,024 bytes and zeros after them.
    const small = createUdmabuf(4096)
    const data = new Uint8Array(4096)
    data.set(pattern(16 * 16 * 4, 99))
    small.write(0, data)
    sent.push(sha1(data))
    await conn.send([small], { pts: 6n * 33_333_333n })
    await conn.end()
    t.is(conn.inFlight, 0, 'end() waited for every release')
    conn.close()
    sink.close()
    for (const b of [...bufs, small]) b.close()
    const r = await gst.done
    t.is(r.code, 0, r.stderr)
    t.deepEqual(
      checksums(r.stdout).map((c) => c[1]),
      sent,
    )
  })
})

gstTest('GStreamer killed mid-stream: the pending read rejects with a clear error, and Node keeps no fd', async (t) => {
  await noLeak(t, async () => {
    const path = socketPath()
    const gst = gstLaunch(`videotestsrc is-live=true ! ${RGBA_64x48} ! unixfdsink socket-path=${path} wait-for-connection=true`)
    const src = await connect(path, gst)
    const first = await src.read()
    t.truthy(first)
    first!.release()
    gst.child.kill('SIGKILL')
    const e = await t.throwsAsync(async () => {
      for (;;) {
        const b = await src.read()
        if (b === null) throw new Error('an EOS that GStreamer never sent')
        b.release()
      }
    })
    t.regex((e as NodeJS.ErrnoException).code ?? '', /^(EPIPE|ECONNRESET)$/, e?.message)
    t.regex(e?.message ?? '', /UnixFdSrc\.read/, 'the message names the call')
    src.close()
    t.is((await gst.done).signal, 'SIGKILL')
  })
})

gstTest('Node killed mid-stream: GStreamer carries on to its end on either side of the socket', async (t) => {
  // Node receiving: a child reads two frames and is killed; unixfdsink drops it and finishes.
  const root = resolve(__dirname, '..', '..')
  const path = socketPath()
  const gst = gstLaunch(`videotestsrc is-live=true num-buffers=300 ! ${RGBA_64x48} ! unixfdsink socket-path=${path}`)
  while (!existsSync(path)) await sleep(20)
  const code = `const d = require(${JSON.stringify(root)}); const s = d.UnixFdSrc.connect(${JSON.stringify(path)});
    (async () => { for (let i = 0; i < 2; i++) { await s.read() } console.log('held'); setInterval(() => {}, 1000) })()`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((res) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && res()))
  child.kill('SIGKILL')
  const r = await gst.done
  t.is(r.code, 0, `unixfdsink finished its 300 buffers after the client died: ${r.stderr}`)

  // Node sending: the Node sink's process dies; unixfdsrc ends with an error, not a hang.
  const path2 = socketPath()
  const code2 = `const d = require(${JSON.stringify(root)});
    const sink = d.UnixFdSink.listen(${JSON.stringify(path2)}, { caps: ${JSON.stringify(RGBA_64x48)} });
    console.log('listening');
    (async () => { const c = await sink.accept(); const b = d.createUdmabuf(${64 * 48 * 4}); await c.send(b); console.log('sent'); setInterval(() => {}, 1000) })()`
  const child2 = spawn(process.execPath, ['-e', code2], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out2 = ''
  await new Promise<void>((res) => child2.stdout!.on('data', (d: Buffer) => (out2 += d.toString()).includes('listening') && res()))
  const gst2 = gstLaunch(`unixfdsrc socket-path=${path2} ! fakesink`)
  while (!out2.includes('sent')) await sleep(20)
  child2.kill('SIGKILL')
  const r2 = await within(gst2.done, 60_000)
  t.truthy(r2, 'unixfdsrc ended within 60 s of the sink dying')
  t.not(r2?.code, 0, 'gst-launch-1.0 reports the lost sink as an error')
  t.regex(r2?.stderr ?? '', /ERROR/, r2?.stderr)
})

// The README's example, compiled by the host tier's readme.spec.ts into target/readme-examples, against the
// pipeline the README pairs it with (vivid as the camera).
gstTest("the README's GStreamer example receives a camera's frames as dma-bufs", async (t) => {
  const blocks = readmeExamples().filter((e) => e.runnable && /\bUnixFdSrc\.connect\b/.test(e.source))
  t.is(blocks.length, 1, 'the README has its GStreamer example')
  const dev = vividCapture()
  const sock = '/tmp/camera.sock'
  for (const e of blocks) {
    const js = join(resolve(__dirname, '..', '..'), 'target', 'readme-examples', `line-${e.line}`, 'example.mjs')
    t.true(existsSync(js), `README.md:${e.line}: compiled by the host tier first (${js})`)
    await retryBusy(async () => {
      rmSync(sock, { force: true })
      const gst = gstLaunch(
        `v4l2src device=${dev} io-mode=dmabuf num-buffers=10 ! video/x-raw,format=NV12,width=640,height=360,framerate=15/1 ! ` +
          `unixfdsink socket-path=${sock} wait-for-connection=true`,
      )
      while (!existsSync(sock)) {
        if (gst.child.exitCode !== null) {
          const g = await gst.done
          if (/busy/i.test(g.stderr)) return 'busy' as const
          t.fail(`gst-launch-1.0 exited early: ${g.stderr}`)
          return undefined
        }
        await sleep(20)
      }
      const child = spawn(process.execPath, [js], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
      const code = await new Promise<number | null>((res) => child.on('close', res))
      const g = await gst.done
      if (/busy/i.test(g.stderr)) return 'busy' as const
      t.is(code, 0, `README.md:${e.line}: ${out}`)
      t.is(g.code, 0, g.stderr)
      t.is(out.match(/ ns: 640x360 NV12 in a dma-buf$/gm)?.length, 10, out)
      t.regex(out, /^10 frames, then EOS \(caps: video\/x-raw, format=\(string\)NV12, width=\(int\)640/m)
      return undefined
    })
  }
})
