// Memory-to-memory devices from JavaScript, on the custom kernel's vicodec
// (a stateful FWHT encoder and decoder) and vim2m (a converter), with
// vivid's frames: M2mDevice and its two queues, events on the event loop,
// the Encoder and Decoder helpers, drains, a resolution change, 1,000
// frames without an fd leak, DMABUF on both sides, and named errors.
// Debian's kernel has neither driver: the custom-kernel VM tier runs this
// file (scripts/vm-tier.sh custom), the Debian tier leaves it out, and on
// a host without them every test is an honest skip.

import test from 'ava'
import { DmaBuf, Decoder, Encoder, Heap, M2mDevice, V4l2Device, type EncodedChunk } from 'dmabuf'

import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'

import { assertOsError, noLeak, openFds, readmeExamples, runCli, thrown } from './helpers.js'

const root = resolve(__dirname, '..', '..')

const nodes = (): { name: string; path: string }[] => V4l2Device.list()
const has = (name: string): boolean => nodes().some((n) => n.name === name)
const codecTest = has('stateful-encoder') && has('vivid-000-vid-cap') ? test.serial : test.serial.skip
const vim2mTest = has('vim2m') && has('vivid-000-vid-cap') ? test.serial : test.serial.skip

/** A generous wait: the VM emulates its CPU. */
const T = 30_000
const QP = { 'FWHT I-Frame QP Value': 1, 'FWHT P-Frame QP Value': 1 }

function pathOf(name: string): string {
  const n = nodes().find((x) => x.name === name)
  if (!n) throw new Error(`no V4L2 node ${name}: build the kernel with vicodec, vim2m and vivid (DMABUF_VM_KERNEL=custom)`)
  return n.path
}

/** Runs `f` again while it fails with EBUSY (another test file streams from vivid), for up to 60 s. */
function whileBusy<T>(f: () => T): T {
  const start = performance.now()
  for (;;) {
    try {
      return f()
    } catch (e) {
      if ((e as { code?: string }).code !== 'EBUSY' || performance.now() - start > 60_000) throw e
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
    }
  }
}

/** vivid's capture node streaming `w`x`h` `fourcc` into 4 exported MMAP buffers. */
function vivid(w: number, h: number, fourcc: string): { cam: V4l2Device; bufs: DmaBuf[]; [Symbol.dispose](): void } {
  const cam = V4l2Device.open(pathOf('vivid-000-vid-cap'))
  const n = whileBusy(() => {
    cam.setInput(0)
    cam.setFormat({ width: w, height: h, pixelformat: fourcc }, true)
    return cam.requestBuffers(4)
  })
  const bufs = Array.from({ length: n }, (_, i) => cam.exportBuffer(i, 0, 'rw'))
  for (let i = 0; i < n; i++) cam.queue(i)
  cam.streamOn()
  return {
    cam,
    bufs,
    [Symbol.dispose]() {
      cam.streamOff()
      for (const b of bufs) b.close()
      cam.close()
    },
  }
}

/** PSNR in dB of `b` against `a` (8-bit samples). */
function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} and ${b.length}`)
  let se = 0
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.length))
}

/** YUYV frames of a moving pattern. */
function synthetic(w: number, h: number, k: number): Uint8Array {
  const f = new Uint8Array(w * h * 2)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 2
      f[i] = ((x + y + k * 7) % 220) + 16
      f[i + 1] = x % 2 === 0 ? (((y >> 2) + k) % 200) + 28 : ((x >> 3) % 200) + 28
    }
  }
  return f
}

/** Reads every chunk of `enc` until the end of the stream, copying its bytes (the test's copy, not the library's). */
async function readAll(enc: Encoder, seen: (c: EncodedChunk) => void = () => {}): Promise<{ ts: number; data: Uint8Array }[]> {
  const out: { ts: number; data: Uint8Array }[] = []
  for (;;) {
    const c = await enc.read(T)
    if (c === null) return out
    seen(c)
    out.push({ ts: c.timestampUs, data: c.buffer.read(c.offset, c.size) })
    c.release()
  }
}

/** Decodes `stream` and returns each frame's bytes (its first plane, `bytes` long) and width by timestamp. */
async function decodeAll(stream: { ts: number; data: Uint8Array }[]): Promise<Map<number, { data: Uint8Array; width: number }>> {
  using dec = Decoder.open({ codedFormat: 'FWHT', pixelformat: 'YUYV' })
  const got = new Map<number, { data: Uint8Array; width: number }>()
  const inodes = new Set<number>()
  const reading = (async () => {
    for (;;) {
      const f = await dec.read(T)
      if (f === null) return
      const p = f.frame.planes[0]
      inodes.add(p.buf.info().inode)
      got.set(f.timestampUs, { data: p.buf.read(p.offset, f.visible.width * f.visible.height * 2), width: f.frame.width })
      f.release()
    }
  })()
  for (const c of stream) await dec.decode(c.data, c.ts)
  await Promise.all([dec.flush(), reading])
  if (inodes.size > 4 * 2) throw new Error(`frames came in ${inodes.size} dma-bufs: more than the decoder's CAPTURE buffers`)
  return got
}

test('on a host without vicodec every test of this file is skipped, not failed', (t) => {
  t.is(typeof M2mDevice.list, 'function')
  t.true(Array.isArray(M2mDevice.list()))
})

codecTest('M2mDevice.list names vicodec\'s encoder and decoder and vim2m, with their coded formats', (t) => {
  const list = M2mDevice.list()
  const enc = list.find((n) => n.name === 'stateful-encoder')
  const dec = list.find((n) => n.name === 'stateful-decoder')
  t.truthy(enc, JSON.stringify(list))
  t.truthy(dec)
  t.is(enc!.role, 'encoder')
  t.is(enc!.driver, 'vicodec')
  t.true(enc!.captureFormats.some((f) => f.pixelformat === 'FWHT' && f.compressed))
  t.true(enc!.outputFormats.some((f) => f.pixelformat === 'YUYV' && !f.compressed))
  t.is(dec!.role, 'decoder')
  t.true(dec!.outputFormats.some((f) => f.pixelformat === 'FWHT' && f.compressed))
  if (has('vim2m')) t.is(list.find((n) => n.name === 'vim2m')!.role, 'converter')
  t.false(list.some((n) => n.name.startsWith('vivid')), 'vivid is no M2M device')
})

codecTest('dmabuf info lists the codecs and the converter with their formats, coded ones marked', (t) => {
  const r = runCli('info')
  t.is(r.status, 0, r.stderr)
  const lines = r.stdout.split('\n')
  const at = lines.findIndex((l) => l.startsWith('m2m devices (codecs, converters):'))
  t.true(at >= 0, r.stdout)
  const enc = lines.findIndex((l, i) => i > at && /stateful-encoder\s+vicodec\s+encoder$/.test(l))
  t.true(enc > at, r.stdout)
  t.regex(lines[enc + 1], /in {2}\(OUTPUT\): .*YUYV/)
  t.regex(lines[enc + 2], /out \(CAPTURE\): FWHT \(coded\)/)
  const j = JSON.parse(runCli('info', '--json').stdout) as { m2m: { name: string; role: string }[] }
  t.deepEqual(j.m2m.filter((n) => n.name === 'stateful-decoder').map((n) => n.role), ['decoder'])
  if (has('vim2m')) t.deepEqual(j.m2m.filter((n) => n.name === 'vim2m').map((n) => n.role), ['converter'])
})

codecTest('vivid → Encoder (its dma-bufs imported) → Decoder: frames come back within 45 dB PSNR, no frame copied, the drain returns every buffer', async (t) => {
  const W = 640
  const H = 360
  const FRAMES = 8
  await noLeak(t, async () => {
    using src = vivid(W, H, 'YUYV')
    using enc = Encoder.open({ codedFormat: 'FWHT', width: W, height: H, pixelformat: 'YUYV', controls: QP })
    t.is(enc.device.role, 'encoder')
    t.is(enc.device.state, 'Encoding')
    t.deepEqual(enc.device.getControls(['FWHT I-Frame QP Value', 'FWHT P-Frame QP Value']), [1, 1])
    t.is(enc.format.planes[0].sizeimage, W * H * 2)
    t.is(enc.codedFormat.pixelformat, 'FWHT')
    const chunkInodes = new Set<number>()
    const reading = readAll(enc, (c) => {
      t.is(c.buffer.info().exporter, 'videobuf2_vmalloc', "a chunk is the encoder's own CAPTURE buffer")
      chunkInodes.add(c.buffer.info().inode)
    })
    const originals = new Map<number, Uint8Array>()
    const inFlight: Promise<void>[] = []
    for (let k = 1; k <= FRAMES; k++) {
      const b = await src.cam.dequeue(T)
      if (b === null) throw new Error('vivid gave no frame')
      const buf = src.bufs[b.index]
      originals.set(k, buf.read(0, W * H * 2))
      // The frame's memory is vivid's until the encoder has read it; then back to vivid.
      inFlight.push(enc.encode(buf, k).then(() => src.cam.queue(b.index)))
      if (inFlight.length >= 3) await inFlight.shift()
    }
    await enc.flush()
    t.is(enc.device.state, 'Drain')
    const e = thrown(t, () => enc.device.drain())
    assertOsError(t, e, 'EBUSY', 'M2mDevice.drain')
    t.true(e.message.includes('Drain'), e.message)
    await Promise.all(inFlight)
    const stream = await reading
    t.is(stream.length, FRAMES, 'one chunk per frame')
    t.deepEqual(stream.map((c) => c.ts), Array.from({ length: FRAMES }, (_, i) => i + 1), 'in order, with their timestamps')
    t.true(chunkInodes.size <= 4, `chunks in the encoder's ${chunkInodes.size} CAPTURE buffers`)
    t.is(enc.device.state, 'Stopped')
    t.is(enc.device.output.queued, 0, 'every frame came back')
    const ev = await enc.device.nextEvent(T)
    t.is(ev?.kind, 'eos')
    t.is(await enc.read(10), null, 'after the end, read() is null')
    await t.throwsAsync(enc.encode(src.bufs[0], 99), { code: 'EBUSY' })

    const decoded = await decodeAll(stream)
    t.is(decoded.size, FRAMES)
    let worst = Infinity
    for (const [k, orig] of originals) worst = Math.min(worst, psnr(orig, decoded.get(k)!.data))
    t.log(`worst PSNR over ${FRAMES} vivid frames at QP 1: ${worst.toFixed(2)} dB`)
    // Measured (worst frame of a run): 50.4 to 50.8 dB on x86, 48.4 on
    // arm64, 48.2 on armv7; vivid's frames differ with the moment they are
    // taken, and the Rust test's 50.5 to 51.6 dB were other frames.
    t.true(worst >= 45, `worst PSNR ${worst.toFixed(2)} dB`)
  })
})

codecTest('a stream whose resolution changes goes through the decoder\'s source-change flow', async (t) => {
  const heap = Heap.open('system')
  const encode = async (w: number, h: number, from: number): Promise<{ ts: number; data: Uint8Array }[]> => {
    using enc = Encoder.open({ codedFormat: 'FWHT', width: w, height: h, pixelformat: 'YUYV', controls: QP, inputSlots: 2 })
    const bufs = [heap.alloc(w * h * 2), heap.alloc(w * h * 2)]
    const reading = readAll(enc)
    for (let k = 0; k < 3; k++) {
      bufs[k % 2].write(0, synthetic(w, h, from + k))
      await enc.encode(bufs[k % 2], from + k + 1)
    }
    await enc.flush()
    const out = await reading
    for (const b of bufs) b.close()
    return out
  }
  await noLeak(t, async () => {
    const stream = [...(await encode(640, 360, 0)), ...(await encode(1280, 720, 3))]
    t.is(stream.length, 6)
    const got = await decodeAll(stream)
    t.deepEqual([...got.keys()].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6])
    t.deepEqual([1, 2, 3, 4, 5, 6].map((k) => got.get(k)!.width), [640, 640, 640, 1280, 1280, 1280], 'the new size after the change')
    for (let k = 0; k < 6; k++) {
      const [w, h] = k < 3 ? [640, 360] : [1280, 720]
      const p = psnr(synthetic(w, h, k), got.get(k + 1)!.data)
      // The Rust test measured 41.8 to 58.0 dB on these frames.
      t.true(p >= 38, `frame ${k}: PSNR ${p.toFixed(2)} dB`)
    }
  })
  heap.close()
})

codecTest('1,000 frames through the encoder leak no fd, and the same dma-bufs keep their slots', async (t) => {
  const FRAMES = 1000
  const before = openFds()
  {
    using src = vivid(640, 360, 'YUYV')
    src.cam.streamOff()
    using dev = M2mDevice.open(pathOf('stateful-encoder'))
    dev.output.setFormat({ width: 640, height: 360, pixelformat: 'YUYV' }, true)
    t.is(dev.output.requestBuffers(4, 'dmabuf'), 4)
    const c = dev.capture.requestBuffers(4, 'mmap')
    for (let i = 0; i < c; i++) dev.capture.queue(i)
    dev.output.streamOn()
    dev.capture.streamOn()
    const during = openFds()
    const slots = new Set<number>()
    for (let k = 0; k < FRAMES; k++) {
      const buf = src.bufs[k % src.bufs.length]
      slots.add(dev.output.queueDmaBuf([buf], { bytesused: [640 * 360 * 2], timestampUs: k + 1 }))
      const b = await dev.capture.dequeue(T)
      t.truthy(b)
      if (b!.info.planes[0].bytesused === 0) t.fail(`frame ${k} encoded to nothing`)
      dev.capture.queue(b!.info.index)
      const o = await dev.output.dequeue(T)
      if (o?.buffers[0] !== buf || o.info.timestampUs !== k + 1) t.fail(`frame ${k}: the OUTPUT buffer came back with another dma-buf or timestamp`)
      if (k % 100 === 99 && openFds() !== during) t.fail(`fds grew by frame ${k}: ${openFds()} against ${during}`)
    }
    t.true(slots.size <= src.bufs.length, `the same dma-bufs reuse their V4L2 slots: ${[...slots]}`)
    dev.reset()
    t.is(dev.state, 'Initialization')
  }
  t.is(openFds(), before, 'fd leak over 1,000 frames')
})

vim2mTest('vim2m converts RGB24 to BGR24 with dma-bufs on both queues, and events and waits behave', async (t) => {
  const W = 320
  const H = 180
  const size = W * H * 3
  await noLeak(t, async () => {
    using src = vivid(W, H, 'RGB3')
    const b = await src.cam.dequeue(T)
    src.cam.streamOff()
    const frame = src.bufs[b!.index]
    const original = frame.read(0, size)
    using conv = M2mDevice.open(pathOf('vim2m'))
    t.is(conv.role, 'converter')
    conv.output.setFormat({ width: W, height: H, pixelformat: 'RGB3' }, true)
    t.is(conv.capture.setFormat({ width: W, height: H, pixelformat: 'BGR3' }, true).planes[0].sizeimage, size)
    conv.output.requestBuffers(2, 'dmabuf')
    conv.capture.requestBuffers(2, 'dmabuf')
    using heap = Heap.open('system')
    using dst = heap.alloc(size)
    // A wait for a buffer that cannot come yet: the timeout, then a close that ends a pending one.
    conv.capture.queueDmaBuf([dst])
    conv.capture.streamOn()
    t.is(await conv.capture.dequeue(50), null)
    const ac = new AbortController()
    const aborted = conv.capture.dequeue(undefined, ac.signal)
    ac.abort()
    await t.throwsAsync(aborted, { name: 'AbortError' })
    conv.output.queueDmaBuf([frame], { bytesused: [size], timestampUs: 7 })
    conv.output.streamOn()
    t.is(conv.state, 'Running')
    const got = await conv.capture.dequeue(T)
    t.is(got?.info.timestampUs, 7, "the OUTPUT buffer's timestamp is copied")
    t.is(got?.buffers[0], dst, 'our dma-buf comes back: the converter wrote into it')
    const back = await conv.output.dequeue(T)
    t.is(back?.buffers[0], frame)
    const converted = dst.read(0, size)
    let coloured = false
    for (let i = 0; i < size; i += 3) {
      coloured ||= original[i] !== original[i + 2]
      if (converted[i] !== original[i + 2] || converted[i + 1] !== original[i + 1] || converted[i + 2] !== original[i]) {
        t.fail(`pixel ${i / 3}: RGB24 to BGR24 swaps red and blue`)
        break
      }
    }
    t.true(coloured, "vivid's frame has colour")
    const e = thrown(t, () => conv.drain())
    assertOsError(t, e, 'ENOTTY', 'M2mDevice.drain')
    t.true(e.message.includes('converter'), e.message)
    // close() ends a pending wait with ERR_DMABUF_CLOSED.
    conv.capture.queueDmaBuf([dst])
    const pending = conv.capture.dequeue()
    conv.close()
    await t.throwsAsync(pending, { code: 'ERR_DMABUF_CLOSED' })
  })
})

codecTest('bad formats, the wrong queue, commands in the wrong state and bad controls are named errors', async (t) => {
  await noLeak(t, async () => {
    using enc = M2mDevice.open(pathOf('stateful-encoder'))
    let e = thrown(t, () => enc.output.setFormat({ width: 640, height: 360, pixelformat: 'FWHT' }))
    assertOsError(t, e, 'EINVAL', 'M2mQueue.setFormat')
    t.true(e.message.includes('OUTPUT queue') && e.message.includes('no format FWHT') && e.message.includes('YUYV'), e.message)
    e = thrown(t, () => enc.capture.setFormat({ width: 640, height: 360, pixelformat: 'YUYV' }))
    t.true(e.message.includes('CAPTURE queue') && e.message.includes('no format YUYV'), e.message)
    e = thrown(t, () => enc.drain())
    assertOsError(t, e, 'EBUSY', 'M2mDevice.drain')
    t.true(e.message.includes('Initialization') && e.message.includes('Encoding'), e.message)
    t.is(thrown(t, () => enc.start()).code, 'EBUSY')
    enc.output.setFormat({ width: 640, height: 360, pixelformat: 'YUYV' })
    enc.output.requestBuffers(2, 'mmap')
    enc.capture.requestBuffers(2, 'dmabuf')
    using heap = Heap.open('system')
    using buf = heap.alloc(640 * 360 * 2)
    const before = openFds()
    e = thrown(t, () => enc.output.queueDmaBuf([buf]))
    assertOsError(t, e, 'EINVAL', 'M2mQueue.queueDmaBuf')
    t.true(e.message.includes('holds MMAP buffers'), e.message)
    t.is(openFds(), before, "the refused dma-buf's duplicate is closed")
    t.false(buf.closed)
    e = thrown(t, () => enc.capture.exportBuffer(0))
    t.true(e.message.includes('holds DMABUF slots'), e.message)
    e = thrown(t, () => enc.capture.queue(0))
    t.true(e.message.includes('holds DMABUF slots'), e.message)
    t.is(thrown(t, () => enc.output.requestBuffers(1, 'userptr' as 'mmap')).code, 'ERR_INVALID_ARG_VALUE')
    t.is(thrown(t, () => enc.output.queue(0, { timestampUs: -1 })).code, 'ERR_OUT_OF_RANGE')
    // Controls: by name, clamped by TRY, unknown names and ids, a bigint for a 32-bit control.
    t.deepEqual(enc.tryControls({ 'FWHT P-Frame QP Value': 99 }), { 'FWHT P-Frame QP Value': 31 })
    const qp = enc.controls().find((c) => c.name === 'FWHT I-Frame QP Value')
    t.deepEqual([qp?.minimum, qp?.maximum], [1, 31])
    t.deepEqual(enc.setControls({ [String(qp!.id)]: 5 }), { [String(qp!.id)]: 5 })
    t.deepEqual(enc.getControls([qp!.id]), [5])
    e = thrown(t, () => enc.setControls({ 'No Such Control': 1 }))
    assertOsError(t, e, 'EINVAL', 'M2mDevice.setControls')
    t.is(thrown(t, () => enc.getControls([0x009809ff])).code, 'EINVAL')
    t.is(thrown(t, () => enc.setControls({ 'FWHT I-Frame QP Value': 1.5 })).code, 'ERR_OUT_OF_RANGE')
    t.is(thrown(t, () => enc.setControls({ 'FWHT I-Frame QP Value': {} as number })).code, 'ERR_INVALID_ARG_TYPE')

    // The decoder's CAPTURE queue before the stream's format is known.
    using dec = M2mDevice.open(pathOf('stateful-decoder'))
    e = thrown(t, () => dec.capture.requestBuffers(4))
    assertOsError(t, e, 'EBUSY', 'M2mQueue.requestBuffers')
    t.true(e.message.includes('SOURCE_CHANGE'), e.message)
    t.is(thrown(t, () => dec.capture.setFormat({ width: 640, height: 360, pixelformat: 'YUYV' })).code, 'EBUSY')
    t.is(thrown(t, () => dec.drain()).code, 'EBUSY')
    t.is(thrown(t, () => dec.output.streamOn()).code, 'EINVAL', 'no buffers yet')
    // Nothing streams: no event comes, and the wait ends at its timeout.
    t.is(await dec.nextEvent(50), null)
    // A node that is no M2M device, and helpers without a device.
    e = thrown(t, () => M2mDevice.open(pathOf('vivid-000-vid-cap')))
    assertOsError(t, e, 'ENOTTY', 'M2mDevice.open')
    t.true(e.message.includes('not a memory-to-memory device'), e.message)
    t.is(thrown(t, () => Encoder.open({ codedFormat: 'H264', width: 64, height: 64, pixelformat: 'YUYV' })).code, 'ENODEV')
    t.is(thrown(t, () => Decoder.open({ codedFormat: 'FWHT', path: pathOf('stateful-encoder') })).code, 'EINVAL')
    using d = Decoder.open({ codedFormat: 'FWHT' })
    await t.throwsAsync(d.decode('x' as unknown as Uint8Array, 0), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

// The README's codec example needs vicodec, which the Debian tier lacks: it
// runs here, compiled by the host tier's readme.spec.ts into
// target/readme-examples (readme.spec.ts runs it too where vicodec is).
codecTest("the README's camera → encoder → file example runs and writes FWHT frames", (t) => {
  const blocks = readmeExamples().filter((e) => e.runnable && /\bEncoder\.open\b/.test(e.source))
  t.is(blocks.length, 1, 'the README has its camera → encoder example')
  const file = '/tmp/camera.fwht'
  for (const e of blocks) {
    const js = join(root, 'target', 'readme-examples', `line-${e.line}`, 'example.mjs')
    t.true(existsSync(js), `README.md:${e.line}: compiled by the host tier first (${js})`)
    rmSync(file, { force: true })
    // vivid may be streaming for another test file: EBUSY, then again, for up to 60 s.
    const start = performance.now()
    let r = spawnSync(process.execPath, [js], { encoding: 'utf8', timeout: 180_000 })
    while (r.status !== 0 && /\bEBUSY\b/.test(r.stderr) && performance.now() - start < 60_000) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
      r = spawnSync(process.execPath, [js], { encoding: 'utf8', timeout: 180_000 })
    }
    t.is(r.status, 0, `README.md:${e.line}: ${r.stdout}${r.stderr}`)
    // 10 FWHT frames, each starting with vicodec's header magic (four 'O's, then 0xff bytes).
    const data = readFileSync(file)
    let frames = 0
    for (let i = data.indexOf('OOOO'); i >= 0; i = data.indexOf('OOOO', i + 4)) if (data[i + 4] === 0xff && data[i + 7] === 0xff) frames++
    t.is(frames, 10, `${data.length} bytes in ${file}`)
    rmSync(file, { force: true })
  }
})
