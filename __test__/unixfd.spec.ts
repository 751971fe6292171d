// GStreamer's unixfd protocol from Node (host tier: memfd-like memories, no
// dma-buf device needed): UnixFdSink to UnixFdSrc over abstract sockets,
// caps then buffers then EOS, timestamps and ids round trip, each buffer
// released exactly once (by release(), dispose or the garbage collector),
// back-pressure, the ends that vanish, a NEW_BUFFER whose fds do not match
// its memories, and the caps strings. The wire format itself is checked
// against real GStreamer in __test__/gst*.spec.ts.

import { spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { resolve } from 'node:path'

import test from 'ava'
import { Frame, type PassedFd, Udmabuf, UnixFdSink, capsForFrame, createUdmabuf, UnixFdSrc, UnixFdSinkConnection, capsLayout, fdFromProcess, gstFormatFourcc, gstFormatName, parseCaps, printCaps, drmFourcc } from 'dmabuf'

import { assertOsError, deviceTest, noLeak, pattern, thrown } from './helpers.js'

const root = resolve(__dirname, '..', '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const native = require(resolve(root, 'native.js')) as typeof import('../native')

const CAPS = 'video/x-raw, format=(string)RGBA, width=(int)4, height=(int)2, framerate=(fraction)30/1'
let serial = 0
const addr = (): string => `@dmabuf-unixfd-spec-${process.pid}-${serial++}`

/** A memfd-like fd (a /dev/shm file, unlinked) holding `data`, as a PassedFd. */
function memfd(data: Uint8Array): PassedFd {
  const p = `/dev/shm/dmabuf-unixfd-spec-${process.pid}-${serial++}`
  const fd = openSync(p, 'w+')
  unlinkSync(p)
  try {
    writeSync(fd, data)
    return fdFromProcess(process.pid, fd) as PassedFd
  } finally {
    closeSync(fd)
  }
}

/** A sink, a source connected to it and the sink's side of the connection. */
async function pair(caps = CAPS, maxInFlight?: number): Promise<{ sink: UnixFdSink; src: UnixFdSrc; conn: UnixFdSinkConnection; close: () => void }> {
  const sink = UnixFdSink.listen(addr(), { caps, maxInFlight })
  const src = UnixFdSrc.connect(sink.address)
  const conn = await sink.accept()
  return {
    sink,
    src,
    conn,
    close: () => {
      src.close()
      conn.close()
      sink.close()
    },
  }
}

const turn = (): Promise<void> => new Promise((ok) => setImmediate(ok))

test.serial('caps come first, then the buffers with their bytes, then EOS: read() gives null', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    const data = pattern(32, 3)
    const m = memfd(data)
    const id = await p.conn.send([m])
    t.is(p.src.caps, null, 'nothing read yet')
    const b = await p.src.read()
    t.truthy(b)
    t.is(p.src.caps, CAPS)
    t.is(b!.caps, CAPS)
    t.is(b!.id, id)
    t.is(b!.memories.length, 1)
    t.is(b!.memories[0].kind, 'fd')
    t.is(b!.memories[0].dmaBuf, null)
    t.is(b!.memories[0].size, 32)
    t.is(b!.memories[0].offset, 0)
    t.deepEqual(b!.bytes(), data, 'the source reads what the sink wrote')
    b!.release()
    await p.conn.setCaps('video/x-raw, format=(string)GRAY8, width=(int)8, height=(int)4')
    const id2 = await p.conn.send([m])
    const b2 = await p.src.read()
    t.is(b2!.id, id2)
    t.not(id2, id)
    t.is(b2!.caps, 'video/x-raw, format=(string)GRAY8, width=(int)8, height=(int)4', 'the caps in force when it arrived')
    b2!.release()
    const ended = p.conn.end()
    t.is(await p.src.read(), null)
    t.true(p.src.ended)
    t.is(await p.src.read(), null, 'and again')
    await ended
    m.close()
    p.close()
  })
})

test.serial('timestamps, offsets, flags and ids round trip, null for none', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    const m = memfd(pattern(16))
    const info = { pts: 1_000_000_000n, dts: null, duration: 33_333_333n, offset: 7n, offsetEnd: null, flags: 0x4040 }
    await p.conn.send([m], info)
    await p.conn.send([m, m])
    const a = (await p.src.read())!
    t.is(a.pts, info.pts)
    t.is(a.dts, null)
    t.is(a.duration, info.duration)
    t.is(a.offset, 7n)
    t.is(a.offsetEnd, null)
    t.is(a.flags, 0x4040)
    const b = (await p.src.read())!
    t.is(b.pts, null)
    t.is(b.duration, null)
    t.is(b.flags, 0)
    t.is(b.memories.length, 2)
    t.is(b.id, a.id + 1n)
    t.is(b.bytes().length, 32)
    a.release()
    b.release()
    m.close()
    p.close()
  })
})

test.serial('each buffer is released exactly once: release() and dispose, repeated, send one RELEASE_BUFFER', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    const m = memfd(pattern(16))
    const id = await p.conn.send([m])
    t.is(p.conn.inFlight, 1)
    const b = (await p.src.read())!
    t.false(b.released)
    b.release()
    t.true(b.released)
    t.is(b.memories[0].fd!.closed, true, 'its fds closed')
    b.release()
    b[Symbol.dispose]()
    await p.conn.released(id)
    t.is(p.conn.inFlight, 0)
    {
      const id2 = await p.conn.send([m])
      using b2 = (await p.src.read())!
      t.is(b2.id, id2)
    }
    await p.conn.released(id + 1n)
    t.is(p.conn.inFlight, 0)
    t.throws(() => b.bytes(), { code: 'ERR_DMABUF_CLOSED' })
    // A release for an id twice would be EPROTO at a strict sink; the sink saw none.
    await p.conn.end()
    m.close()
    p.close()
  })
})

test.serial('back-pressure: with maxInFlight 2, a third send waits until a release', async (t) => {
  await noLeak(t, async () => {
    const p = await pair(CAPS, 2)
    const m = memfd(pattern(16))
    await p.conn.send([m])
    await p.conn.send([m])
    let third = false
    const pending = p.conn.send([m]).then((id) => {
      third = true
      return id
    })
    for (let i = 0; i < 10; i++) await turn()
    t.false(third, 'it waits')
    t.is(p.conn.inFlight, 2)
    const a = (await p.src.read())!
    a.release()
    const id3 = await pending
    t.true(third)
    t.is(id3, a.id + 2n)
    const b = (await p.src.read())!
    const c = (await p.src.read())!
    t.is(c.id, id3)
    b.release()
    c.release()
    await p.conn.end()
    t.is(p.conn.inFlight, 0)
    // An aborted wait rejects.
    await p.conn.send([m])
    await p.conn.send([m])
    const ac = new AbortController()
    const aborted = p.conn.send([m], { signal: ac.signal })
    ac.abort()
    await t.throwsAsync(aborted, { name: 'AbortError' })
    for (let i = 0; i < 2; i++) (await p.src.read())?.release()
    m.close()
    p.close()
  })
})

test.serial('a buffer collected unreleased is released by the garbage collector', (t) => {
  const script = `const d = require(${JSON.stringify(root)}); const fs = require('fs');
    const turn = () => new Promise((ok) => setImmediate(ok));
    (async () => {
      const sink = d.UnixFdSink.listen('@dmabuf-unixfd-gc-' + process.pid, { caps: 'video/x-raw' });
      const src = d.UnixFdSrc.connect(sink.address);
      const conn = await sink.accept();
      const p = '/dev/shm/dmabuf-unixfd-gc-' + process.pid; const fd = fs.openSync(p, 'w+'); fs.unlinkSync(p);
      fs.writeSync(fd, Buffer.alloc(64, 1)); const m = d.fdFromProcess(process.pid, fd); fs.closeSync(fd);
      const fds0 = fs.readdirSync('/proc/self/fd').length;
      const id = await conn.send([m]);
      await (async () => { const b = await src.read(); if (b.id !== id) throw new Error('id') })();
      await turn();
      let released = false; conn.released(id).then(() => { released = true });
      for (let i = 0; i < 50 && !released; i++) { global.gc(); await turn(); await new Promise((ok) => setTimeout(ok, 5)) }
      const fds1 = fs.readdirSync('/proc/self/fd').length;
      console.log(JSON.stringify({ released, inFlight: conn.inFlight, fds0, fds1 }));
      m.close(); src.close(); conn.close(); sink.close();
    })().catch((e) => { console.error(e); process.exit(1) })`
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  t.is(r.status, 0, r.stderr)
  const o = JSON.parse(r.stdout) as { released: boolean; inFlight: number; fds0: number; fds1: number }
  t.true(o.released, 'the sink got RELEASE_BUFFER')
  t.is(o.inFlight, 0)
  t.is(o.fds1, o.fds0, "the buffer's fd was closed too")
})

test.serial('close() while read() waits rejects it with ERR_DMABUF_CLOSED and leaks no fd', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    const pending = p.src.read()
    await turn()
    p.src.close()
    const e = await t.throwsAsync(pending)
    t.is((e as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED')
    t.true(p.src.closed)
    t.is(p.src.fd, -1)
    await t.throwsAsync(p.src.read(), { code: 'ERR_DMABUF_CLOSED' })
    p.src.close()
    p.close()
  })
})

test.serial('buffers read before close() stay valid; their release() sends nothing', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    const data = pattern(16, 9)
    const m = memfd(data)
    await p.conn.send([m])
    const b = (await p.src.read())!
    p.src.close()
    t.deepEqual(b.bytes(), data)
    b.release()
    t.true(b.released)
    m.close()
    p.close()
  })
})

test.serial('a sink that goes mid-stream makes read() reject with EPIPE', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    const m = memfd(pattern(16))
    await p.conn.send([m])
    const pending = p.src.read().then((b) => {
      b?.release()
      return p.src.read()
    })
    p.conn.close()
    const e = (await t.throwsAsync(pending)) as NodeJS.ErrnoException
    t.true(e.code === 'EPIPE' || e.code === 'ECONNRESET', String(e.code))
    assertOsError(t, e, e.code!, 'UnixFdSrc.read')
    m.close()
    p.close()
  })
})

test.serial('a sink process killed mid-stream makes read() reject with EPIPE or ECONNRESET, leaking nothing', async (t) => {
  await noLeak(t, async () => {
    const a = addr()
    const script = `const d = require(${JSON.stringify(root)}); const fs = require('fs');
      const sink = d.UnixFdSink.listen(${JSON.stringify(a)}, { caps: 'video/x-raw' });
      console.log('ready');
      (async () => {
        const conn = await sink.accept();
        const p = '/dev/shm/dmabuf-unixfd-kill-' + process.pid; const fd = fs.openSync(p, 'w+'); fs.unlinkSync(p);
        fs.writeSync(fd, Buffer.alloc(64, 2)); const m = d.fdFromProcess(process.pid, fd); fs.closeSync(fd);
        await conn.send([m]);
        console.log('sent');
        setInterval(() => {}, 1000);
      })().catch((e) => { console.error(e); process.exit(1) })`
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines: string[] = []
    const next = (): Promise<string> => new Promise((ok) => {
      const poll = (): void => {
        if (lines.length > 0) ok(lines.shift()!)
        else setTimeout(poll, 5)
      }
      poll()
    })
    child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.trim().split('\n')))
    const exited = new Promise((ok) => child.on('exit', ok))
    t.is(await next(), 'ready')
    const src = UnixFdSrc.connect(a)
    const b = (await src.read())!
    t.deepEqual(b.bytes(), new Uint8Array(64).fill(2))
    t.is(await next(), 'sent')
    const pending = src.read()
    child.kill('SIGKILL')
    await exited
    const e = (await t.throwsAsync(pending)) as NodeJS.ErrnoException
    t.true(e.code === 'EPIPE' || e.code === 'ECONNRESET', String(e.code))
    assertOsError(t, e, e.code!, 'UnixFdSrc.read')
    b.release()
    src.close()
  })
})

test.serial('a source that goes: released() resolves, later sends reject with EPIPE', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    const m = memfd(pattern(16))
    const id = await p.conn.send([m])
    const b = (await p.src.read())!
    p.src.close()
    await p.conn.released(id)
    t.is(p.conn.inFlight, 0, 'what the source held went with it')
    const e = (await t.throwsAsync(p.conn.send([m]))) as NodeJS.ErrnoException
    t.true(e.code === 'EPIPE' || e.code === 'ECONNRESET', String(e.code))
    b.release()
    m.close()
    p.close()
    await t.throwsAsync(p.conn.send([m]), { code: 'ERR_DMABUF_CLOSED' })
  })
})

test.serial('a NEW_BUFFER whose fds do not match its memories is EPROTO, its fds closed, and the next command still comes', async (t) => {
  await noLeak(t, async () => {
    const a = addr()
    const l = native.listenerBind(a, false)
    const src = UnixFdSrc.connect(a)
    const [h] = (await native.unixfdAccept(l, 4242))!
    const m = memfd(pattern(16))
    // Two memories described, one fd attached.
    const bytes = native.unixfdBuffer({ id: 9n, flags: 0, memoryType: 0, sizes: [16, 16], offsets: [0, 0] })
    await rawSend(h, bytes, [handleOf(m)])
    await rawSend(h, native.unixfdEos())
    const e = (await t.throwsAsync(src.read())) as NodeJS.ErrnoException
    assertOsError(t, e, 'EPROTO', 'UnixFdSrc.read')
    t.regex(e.message, /came with 1 fds \(it needs 2\)/)
    t.is(await src.read(), null, 'the EOS behind it')
    m.close()
    src.close()
    native.chanUnlinger(h)
    for (const x of [h, l]) closeNative(x)
  })
})

test.serial('the sink sees exactly one RELEASE_BUFFER per buffer, however often release() and dispose run', async (t) => {
  await noLeak(t, async () => {
    const a = addr()
    const l = native.listenerBind(a, false)
    const src = UnixFdSrc.connect(a)
    const [h] = (await native.unixfdAccept(l, 4243))!
    const m = memfd(pattern(16))
    await rawSend(h, native.unixfdCaps('video/x-raw'))
    for (const id of [5n, 6n]) await rawSend(h, native.unixfdBuffer({ id, flags: 0, memoryType: 0, sizes: [16], offsets: [0] }), [handleOf(m)])
    const b5 = (await src.read())!
    const b6 = (await src.read())!
    b5.release()
    b5.release()
    b5[Symbol.dispose]()
    b6[Symbol.dispose]()
    b6.release()
    const seen: bigint[] = []
    for (let i = 0; i < 2; i++) {
      const c = (await native.unixfdRecv(h, 4244))!
      t.is(c.kind, 'release')
      seen.push(c.id!)
    }
    // Nothing more: once the source closes, the next receive is the end, not a third release.
    src.close()
    const end = (await t.throwsAsync(native.unixfdRecv(h, 4245))) as NodeJS.ErrnoException
    t.is(end.code, 'EPIPE')
    t.deepEqual(seen, [5n, 6n])
    m.close()
    native.chanUnlinger(h)
    for (const x of [h, l]) closeNative(x)
  })
})

deviceTest('frame() lays a dma-buf out as its caps say (one memory, NV12)', async (t) => {
  await noLeak(t, async () => {
    const p = await pair('video/x-raw, format=(string)NV12, width=(int)62, height=(int)16')
    // Y stride RU4(62) = 64: 64 * 16 + 64 * 8 bytes.
    const buf = createUdmabuf(4096)
    buf.write(64 * 16, pattern(8, 5))
    await p.conn.send(buf)
    const b = (await p.src.read())!
    t.is(b.memories[0].kind, 'dma-buf')
    {
      using f = b.frame()
      t.is(f.width, 62)
      t.is(f.fourcc, drmFourcc('NV12'))
      t.deepEqual(f.planes.map((x) => [x.offset, x.pitch]), [[0, 64], [64 * 16, 64]])
      t.deepEqual(new Uint8Array(f.planes[1].buf.read(64 * 16, 8)), pattern(8, 5))
      t.is(capsForFrame(f, [30, 1]), 'video/x-raw, format=(string)NV12, width=(int)62, height=(int)16, framerate=(fraction)30/1')
    }
    b.release()
    buf.close()
    p.close()
  })
})

deviceTest('send(frame) sends each dma-buf once, however many DmaBuf objects its planes hold for it', async (t) => {
  await noLeak(t, async () => {
    const p = await pair('video/x-raw, format=(string)NV12, width=(int)64, height=(int)16')
    const buf = createUdmabuf(4096)
    buf.write(0, pattern(64 * 16, 1))
    buf.write(64 * 16, pattern(64 * 8, 2))
    // Two objects, one buffer: the second plane holds a duplicate fd of the first's dma-buf.
    const f = new Frame({ width: 64, height: 16, fourcc: 'NV12', planes: [{ buf, pitch: 64 }, { buf: buf.dup(), offset: 64 * 16, pitch: 64 }] })
    await p.conn.send(f)
    const b = (await p.src.read())!
    t.is(b.memories.length, 1)
    t.is(b.memories[0].size, 4096)
    t.deepEqual(new Uint8Array(b.bytes()).subarray(64 * 16, 64 * 24), pattern(64 * 8, 2))
    b.release()
    f.close()
    p.close()
  })
})

deviceTest('map() of a sealed memfd shows its bytes with no copy, keeps writes private, and goes with release()', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    // udmabuf's memfds are sealed with F_SEAL_SHRINK, as GStreamer's shm allocator seals its own.
    const u = Udmabuf.open()
    const { buffer, memfd: raw } = u.allocWithMemfd(8192)
    buffer.write(0, pattern(8192, 3))
    const mem = fdFromProcess(process.pid, raw) as PassedFd
    closeSync(raw)
    await p.conn.send([mem])
    const b = (await p.src.read())!
    const v = b.map()
    t.is(v.byteLength, 8192)
    t.deepEqual(new Uint8Array(v), pattern(8192, 3))
    t.is(b.map(0).buffer, v.buffer, 'mapped once')
    // The sender's writes show through; the receiver's own stay with it.
    buffer.write(100, Uint8Array.of(7))
    t.is(v[100], 7)
    v[0] = v[0] ^ 0xff
    t.deepEqual(new Uint8Array(buffer.read(0, 1)), pattern(8192, 3).subarray(0, 1))
    b.release()
    t.is(v.byteLength, 0, 'release() unmaps: the view reads as empty')
    buffer.close()
    mem.close()
    u.close()
    p.close()
  })
})

/** One raw send on a native unixfd channel: at once when the fast path takes it, else through the event loop. */
async function rawSend(h: number, bytes: Uint8Array, fds: number[] = []): Promise<void> {
  const hs = new Float64Array(fds)
  const went = native.unixfdTrySend(h, bytes, hs, false)
  if (went === 2) await native.chanFlush(h, 4246)
  else if (went === 0) await native.unixfdSend(h, bytes, hs, false, 4247)
}

/** A PassedFd's native handle (the class keeps it private; this reads it the way Channel does). */
function handleOf(m: PassedFd): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PassedFd: P } = require(resolve(root, 'api', 'channel.js')) as { PassedFd: { handleOf(x: PassedFd): number } }
  return P.handleOf(m)
}

function closeNative(h: number): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { closeHandle } = require(resolve(root, 'internal', 'lifetime.js')) as { closeHandle(h: number): void }
  closeHandle(h)
}

test('parseCaps reads typed, untyped and DMABuf caps; printCaps round-trips them', (t) => {
  const c = parseCaps('video/x-raw, format=(string)NV12, width=(int)320, height=(int)240, framerate=(fraction)30/1')
  t.deepEqual(c, { media: 'video/x-raw', features: [], fields: { format: 'NV12', width: 320, height: 240, framerate: [30, 1] } })
  t.deepEqual(parseCaps(printCaps(c)), c)
  t.is(printCaps(c), 'video/x-raw, format=(string)NV12, width=(int)320, height=(int)240, framerate=(fraction)30/1')
  const d = parseCaps('video/x-raw(memory:DMABuf), format=(string)DMA_DRM, drm-format=(string)NV12:0x0100000000000002, width=(int)1920, height=(int)1080')
  t.deepEqual(d.features, ['memory:DMABuf'])
  t.is(d.fields['drm-format'], 'NV12:0x0100000000000002')
  t.deepEqual(parseCaps(printCaps(d)), d)
  const u = parseCaps('video/x-raw,format=RGBA,width=64,height=48,framerate=25/1,interlaced=false')
  t.deepEqual(u.fields, { format: 'RGBA', width: 64, height: 48, framerate: [25, 1], interlaced: false })
  t.deepEqual(parseCaps(printCaps(u)), u)
  const q = parseCaps('text/x-raw, format=(string)"a, b; c", rate=(double)2.5, on=(boolean)true')
  t.is(q.fields.format, 'a, b; c')
  t.is(q.fields.rate, 2.5)
  t.true(q.fields.on)
  t.deepEqual(parseCaps(printCaps(q)), q)
  t.is(parseCaps('video/x-raw, width=(int)[ 1, 100 ]').fields.width, '[ 1, 100 ]', 'ranges kept as text')
  t.throws(() => parseCaps('video/x-raw; audio/x-raw'), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => parseCaps('video/x-raw, format="RGBA'), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => parseCaps('video/x-raw, width=(int)abc'), { code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => parseCaps(5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => printCaps({ media: 'video/x-raw', features: [], fields: { w: NaN } }), { code: 'ERR_INVALID_ARG_TYPE' })
})

test("GStreamer format names map to DRM fourccs byte-order-wise", (t) => {
  t.is(gstFormatFourcc('RGBA'), drmFourcc('ABGR8888'))
  t.is(gstFormatFourcc('BGRx'), drmFourcc('XRGB8888'))
  t.is(gstFormatFourcc('I420'), drmFourcc('YUV420'))
  t.is(gstFormatFourcc('YUY2'), drmFourcc('YUYV'))
  t.is(gstFormatFourcc('GRAY8'), drmFourcc('R8'))
  t.is(gstFormatName(drmFourcc('ARGB8888')), 'BGRA')
  t.is(gstFormatName(drmFourcc('NV12')), 'NV12')
  t.is(gstFormatFourcc('NOPE'), undefined)
})

test("capsLayout gives GStreamer's default strides and offsets", (t) => {
  const i420 = capsLayout('video/x-raw, format=(string)I420, width=(int)322, height=(int)241')
  // Y stride RU4(322) = 324; U/V stride RU4(RU2(322)/2) = RU4(161) = 164; rows RU2(241) = 242.
  t.deepEqual(i420.planes, [{ offset: 0, pitch: 324 }, { offset: 324 * 242, pitch: 164 }, { offset: 324 * 242 + 164 * 121, pitch: 164 }])
  t.is(i420.size, 324 * 242 + 2 * 164 * 121)
  t.is(i420.fourcc, drmFourcc('YUV420'))
  const nv12 = capsLayout('video/x-raw,format=NV12,width=318,height=240')
  t.deepEqual(nv12.planes, [{ offset: 0, pitch: 320 }, { offset: 320 * 240, pitch: 320 }])
  t.is(nv12.size, 320 * 240 * 1.5)
  const rgb = capsLayout('video/x-raw,format=RGB,width=5,height=2')
  t.deepEqual(rgb.planes, [{ offset: 0, pitch: 16 }])
  const drm = capsLayout('video/x-raw(memory:DMABuf), format=(string)DMA_DRM, drm-format=(string)XR24, width=(int)64, height=(int)8')
  t.is(drm.fourcc, drmFourcc('XRGB8888'))
  t.is(drm.modifier, 0n)
  t.deepEqual(drm.planes, [{ offset: 0, pitch: 256 }])
  t.throws(() => capsLayout('audio/x-raw, rate=(int)48000'), { code: 'ERR_INVALID_STATE' })
  t.throws(() => capsLayout('video/x-raw(memory:DMABuf), format=(string)DMA_DRM, drm-format=(string)NV12:0x0100000000000002, width=(int)64, height=(int)8'), { code: 'ERR_INVALID_STATE' })
})

test.serial('frame() refuses memories that are not dma-bufs and caps that are not raw video', async (t) => {
  await noLeak(t, async () => {
    const p = await pair('video/x-raw, format=(string)GRAY8, width=(int)4, height=(int)4')
    const m = memfd(pattern(16))
    await p.conn.send([m])
    const b = (await p.src.read())!
    t.throws(() => b.frame(), { code: 'ERR_INVALID_STATE' })
    b.release()
    m.close()
    p.close()
  })
})

test.serial('map() maps only what cannot shrink: a plain shm file, a bad index and a released buffer are named errors', async (t) => {
  await noLeak(t, async () => {
    const p = await pair()
    // A /dev/shm file: tmpfs, but not a memfd sealed with F_SEAL_SHRINK, so its sender could truncate it under a mapping.
    const m = memfd(pattern(16))
    await p.conn.send([m])
    const b = (await p.src.read())!
    const e = thrown(t, () => b.map())
    assertOsError(t, e, 'EINVAL', 'UnixFdBuffer.map')
    t.regex(e.message, /F_SEAL_SHRINK/)
    t.throws(() => b.map(1), { code: 'ERR_OUT_OF_RANGE' })
    t.throws(() => b.map(-1), { code: 'ERR_OUT_OF_RANGE' })
    t.throws(() => b.map('0' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' })
    t.deepEqual(b.bytes(), pattern(16), 'bytes() still reads it')
    b.release()
    t.throws(() => b.map(), { code: 'ERR_DMABUF_CLOSED' })
    m.close()
    p.close()
  })
})

test.serial('bad arguments are Node-style errors', async (t) => {
  t.throws(() => UnixFdSrc.connect(5 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => UnixFdSrc.connect(''), { code: 'ERR_INVALID_ARG_VALUE' })
  assertOsError(t, thrown(t, () => UnixFdSrc.connect(`/nonexistent-${process.pid}/sock`)), 'ENOENT', 'UnixFdSrc.connect')
  assertOsError(t, thrown(t, () => UnixFdSrc.connect(`@dmabuf-unixfd-nobody-${process.pid}`)), 'ECONNREFUSED', 'UnixFdSrc.connect')
  t.throws(() => UnixFdSink.listen(addr(), undefined as unknown as { caps: string }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => UnixFdSink.listen(addr(), { caps: 1 as unknown as string }), { code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => UnixFdSink.listen(addr(), { caps: 'video/x-raw', maxInFlight: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => new (UnixFdSrc as unknown as new () => unknown)(), { code: 'ERR_ILLEGAL_CONSTRUCTOR' })
  const p = await pair()
  const m = memfd(pattern(16))
  await t.throwsAsync(p.conn.send('x' as unknown as PassedFd[]), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(p.conn.send([]), { code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(p.conn.send([m], { pts: 5 as unknown as bigint }), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(p.conn.send([m], { pts: -1n }), { code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(p.conn.send([m], { flags: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  await t.throwsAsync(p.conn.setCaps('a\0b'), { code: 'ERR_INVALID_ARG_VALUE' })
  await t.throwsAsync(p.src.read({ signal: 1 as unknown as AbortSignal }), { code: 'ERR_INVALID_ARG_TYPE' })
  await t.throwsAsync(p.conn.released(1 as unknown as bigint), { code: 'ERR_INVALID_ARG_TYPE' })
  const ac = new AbortController()
  const r = p.src.read({ signal: ac.signal })
  ac.abort()
  await t.throwsAsync(r, { name: 'AbortError' })
  m.close()
  p.close()
})
