// V4L2 on vivid (VM tier: vivid-000 single-planar, vivid-001 multi-planar):
// buffers exported as DmaBufs, DMABUF import of udmabuf and heap buffers,
// dequeue promises on the event loop, the lifetime rules of queued
// buffers, and the zero-copy capture -> output -> capture loop.

import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'

import test, { type ExecutionContext } from 'ava'
import { DmaBuf, Heap, Udmabuf, V4l2Device, capabilities } from 'dmabuf'

import { PAGE, inVm, noLeak, openFds, thrown } from './helpers.js'

type Body = (t: ExecutionContext) => void | Promise<void>
const hasVivid = (): boolean => existsSync('/dev/video0') && V4l2Device.list().some((n) => n.name === 'vivid-000-vid-cap')
const vividTest = (title: string, body: Body): void => (inVm || hasVivid() ? test.serial : test.serial.skip)(title, body)

/** The vivid node whose sysfs name is `name`, opened. */
function node(name: string): V4l2Device {
  const n = V4l2Device.list().find((x) => x.name === name)
  if (!n) throw new Error(`this test needs the vivid node ${name} (VM tier: npm test)`)
  return V4l2Device.open(n.path)
}

const distinct = (b: Uint8Array): number => new Set(b).size
const sha = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex')

function readFrame(buf: DmaBuf, offset: number, length: number): Uint8Array {
  using _cpu = buf.beginCpuAccess('r')
  return new Uint8Array(buf.read(offset, length))
}

vividTest('V4l2Device.list names vivid nodes, as capabilities().v4l2 does; open refuses files that are not V4L2', (t) => {
  const nodes = V4l2Device.list()
  t.deepEqual(capabilities().v4l2, nodes)
  const cap = nodes.find((n) => n.name === 'vivid-000-vid-cap')!
  t.is(cap.bufType, 'capture')
  t.true(cap.canExport && cap.canImport)
  t.is(nodes.find((n) => n.name === 'vivid-001-vid-cap')!.bufType, 'capture-mplane')
  t.is(nodes.find((n) => n.name === 'vivid-000-vid-out')!.bufType, 'output')
  const e = thrown(t, () => V4l2Device.open('/dev/null'))
  t.is(e.code, 'ENOTTY')
  t.regex(e.message, /is not a V4L2 device/)
  using dev = node('vivid-001-vid-cap')
  t.is(dev.bufType, 'capture-mplane')
  t.is(dev.capabilities().driver, 'vivid')
})

vividTest('every buffer and every plane exports as its own DmaBuf; bad index and plane are named', (t) =>
  noLeak(t, () => {
    using dev = node('vivid-001-vid-cap')
    dev.setInput(0)
    const f = dev.setFormat({ width: 640, height: 360, pixelformat: 'NM16' }, true)
    t.is(f.planes.length, 2)
    const n = dev.requestBuffers(4)
    const inodes = new Set<number>()
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 2; p++) {
        using b = dev.exportBuffer(i, p, 'rw')
        const info = b.info()
        t.is(info.exporter, 'videobuf2_vmalloc')
        t.true(b.size >= f.planes[p].sizeimage)
        inodes.add(info.inode)
      }
    }
    t.is(inodes.size, n * 2)
    using ro = dev.exportBuffer(0, 1, 'r')
    t.is(thrown(t, () => ro.map('rw')).code, 'EACCES', 'a read-only export refuses a writable map')
    ro.map('r').unmap()
    const bad = thrown(t, () => dev.exportBuffer(n, 0))
    t.is(bad.code, 'EINVAL')
    t.regex(bad.message, new RegExp(`buffer index ${n} is out of range`))
    t.regex(thrown(t, () => dev.exportBuffer(0, 2)).message, /plane 2 is out of range: buffer 0 has 2 plane/)
    t.regex(thrown(t, () => dev.setFormat({ width: 640, height: 360, pixelformat: 'NM16' }, true)).message, /EBUSY/)
    dev.requestBuffers(0)
    const changed = thrown(t, () => dev.setFormat({ width: 641, height: 360, pixelformat: 'NM16' }, true))
    t.regex(changed.message, /asked for 641x360 NM16, it chose 640x360 NM16/)
  }))

vividTest('a captured frame, dequeued by a promise, holds the test pattern; NV16M reports and honours data_offset 128', async (t) =>
  noLeak(t, async () => {
    using dev = node('vivid-001-vid-cap')
    dev.setInput(0)
    const f = dev.setFormat({ width: 640, height: 360, pixelformat: 'NM16' }, true)
    const n = dev.requestBuffers(2)
    const bufs = Array.from({ length: n }, (_, i) => [dev.exportBuffer(i, 0, 'r'), dev.exportBuffer(i, 1, 'r')])
    for (let i = 0; i < n; i++) dev.queue(i)
    dev.streamOn()
    const b = await dev.dequeue(20_000)
    t.truthy(b)
    t.deepEqual(b!.planes.map((p) => p.dataOffset), [128, 0])
    t.deepEqual(b!.planes.map((p) => p.bytesused), f.planes.map((p) => p.sizeimage))
    const y = bufs[b!.index][0]
    const head = readFrame(y, 0, 128)
    t.true(head.every((x) => x === 0x80), 'vivid fills the bytes before data_offset with 0x80')
    const line = readFrame(y, 128 + f.planes[0].bytesperline * 10, f.planes[0].bytesperline)
    t.true(distinct(line) >= 4, 'the picture starts at data_offset')
    dev.streamOff()
    for (let i = 0; i < n; i++) t.is(dev.queryBuffer(i).flags & 0x6, 0, `STREAMOFF took buffer ${i} back (neither QUEUED nor DONE)`)
    t.is(thrown(t, () => dev.tryDequeue()).code, 'EINVAL', 'nothing to dequeue once stopped')
    for (const pair of bufs) for (const x of pair) x.close()
    dev.requestBuffers(0)
  }))

for (const [kind, source] of [
  ['udmabuf', (): { alloc(size: number): DmaBuf; close(): void } => Udmabuf.open()],
  ['system heap', (): { alloc(size: number): DmaBuf; close(): void } => Heap.open('system')],
] as const) {
  vividTest(`vivid captures into a ${kind} buffer; re-queueing it reuses its index`, async (t) =>
    noLeak(t, async () => {
      using src = { s: source(), [Symbol.dispose]() { this.s.close() } }
      const make = (size: number): DmaBuf => src.s.alloc(size)
      using dev = node('vivid-000-vid-cap')
      dev.setInput(0)
      const f = dev.setFormat({ width: 320, height: 180, pixelformat: 'YUYV' }, true)
      const size = Math.ceil(f.planes[0].sizeimage / PAGE) * PAGE
      using q = dev.dmabufQueue(2)
      const ours = [make(size), make(size)]
      const small = make(PAGE)
      t.regex(thrown(t, () => q.queue([small])).message, /the format needs/)
      small.close()
      const index = ours.map((b) => q.queue([b]))
      t.is(q.queued, 2)
      q.streamOn()
      const d = await q.dequeue(20_000)
      t.truthy(d)
      t.is(d!.info.planes[0].bytesused, f.planes[0].sizeimage)
      t.true(ours.includes(d!.buffers[0]), 'the dequeued DmaBuf is one we queued')
      const line = readFrame(d!.buffers[0], 640 * 10, 640)
      t.true(distinct(line) >= 8, `vivid wrote its colour bars into our ${kind} buffer`)
      t.is(q.queue(d!.buffers), d!.info.index, 'the same dma-buf goes back to its index')
      t.true(index.includes(d!.info.index))
      const back = q.streamOff()
      t.is(back.flat().length, 2, 'STREAMOFF returns every buffer')
      t.is(q.queued, 0)
      for (const b of ours) b.close()
    }))
}

vividTest('a read-only dma-buf is refused as a capture target (EACCES, handed back open); the same buffer read-write is taken', async (t) =>
  noLeak(t, async () => {
    using heap = Heap.open('system')
    using dev = node('vivid-000-vid-cap')
    dev.setInput(0)
    const f = dev.setFormat({ width: 320, height: 180, pixelformat: 'YUYV' }, true)
    const size = Math.ceil(f.planes[0].sizeimage / PAGE) * PAGE
    using q = dev.dmabufQueue(2)
    using ro = heap.alloc(size, 'r')
    const e = thrown(t, () => q.queue([ro]))
    t.is(e.code, 'EACCES', e.message)
    t.regex(e.message, /plane 0: the dma-buf is read-only .* capture queue writes into it/)
    t.false(ro.closed, 'the refused DmaBuf stays the caller\'s, open')
    t.is(q.queued, 0)
    using rw = heap.alloc(size, 'rw')
    t.is(typeof q.queue([rw]), 'number')
    t.is(q.queued, 1)
    q.streamOff()
  }))

vividTest('close() of a queued DmaBuf is deferred: the driver still writes into it, read through a mapping', async (t) =>
  noLeak(t, async () => {
    using dev = node('vivid-000-vid-cap')
    dev.setInput(0)
    const f = dev.setFormat({ width: 320, height: 180, pixelformat: 'YUYV' }, true)
    const u = Udmabuf.open()
    const size = Math.ceil(f.planes[0].sizeimage / PAGE) * PAGE
    using q = dev.dmabufQueue(2)
    const bufs = [u.alloc(size), u.alloc(size)]
    const maps = bufs.map((b) => b.map('r'))
    for (const b of bufs) q.queue([b])
    for (const b of bufs) b.close() // our fds go; the queue's duplicates keep the memory for the driver
    t.true(bufs.every((b) => b.closed))
    q.streamOn()
    const d = await q.dequeue(20_000)
    t.truthy(d)
    t.true(d!.buffers[0].closed, 'the DmaBuf comes back as the closed object it was')
    const m = maps[bufs.indexOf(d!.buffers[0])]
    t.true(distinct(new Uint8Array(m.buffer, 640 * 10, 640)) >= 8, 'the frame landed in the memory we still map')
    t.is(q.streamOff().length, 1)
    for (const x of maps) x.unmap()
    u.close()
  }))

vividTest('dequeue: a timeout resolves null, an AbortSignal rejects, 1,000 cycles leak no fd', async (t) => {
  using dev = node('vivid-000-vid-cap')
  dev.setInput(0)
  const f = dev.setFormat({ width: 320, height: 180, pixelformat: 'YUYV' }, true)
  const u = Udmabuf.open()
  const size = Math.ceil(f.planes[0].sizeimage / PAGE) * PAGE
  t.deepEqual(dev.setFrameInterval(1, 1), [1, 1])
  {
    using q = dev.dmabufQueue(2)
    const bufs = [u.alloc(size), u.alloc(size)]
    for (const b of bufs) q.queue([b])
    q.streamOn()
    const first = await q.dequeue(5_000) // vivid gives its first frame at once
    t.truthy(first)
    q.queue(first!.buffers)
    t.is(await q.dequeue(10), null, 'at one frame a second, 10 ms pass first')
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 20)
    const e = await t.throwsAsync(q.dequeue(undefined, ac.signal))
    t.is((e as NodeJS.ErrnoException).code, 'ABORT_ERR')
    await t.throwsAsync(q.dequeue(undefined, AbortSignal.abort()), { code: 'ABORT_ERR' })
    q.streamOff()
    for (const b of bufs) b.close()
  }
  t.deepEqual(dev.setFrameInterval(1, 60), [1, 60])
  using q = dev.dmabufQueue(4)
  const bufs = Array.from({ length: 4 }, () => u.alloc(size))
  for (const b of bufs) q.queue([b])
  q.streamOn()
  const before = openFds()
  const start = performance.now()
  for (let i = 0; i < 1000; i++) {
    const d = await q.dequeue(20_000)
    t.is(q.queue(d!.buffers), d!.info.index)
  }
  t.is(openFds(), before, 'fds after 1,000 queue/dequeue cycles')
  t.log(`1,000 DMABUF cycles in ${((performance.now() - start) / 1000).toFixed(1)} s`)
  t.is(q.streamOff().length, 4)
  for (const b of bufs) b.close()
  u.close()
})

vividTest('zero-copy loop: capture buffers exported as dma-bufs go to the output as DMABUF and come back byte for byte', async (t) => {
  const before = openFds()
  const src = node('vivid-000-vid-cap')
  const out = node('vivid-000-vid-out')
  const sink = node('vivid-001-vid-cap')
  src.setInput(0) // webcam: the test pattern generator
  out.setOutput(1) // HDMI 000-0
  sink.setInput(3) // HDMI 001-0
  const connect = sink.findControl('HDMI 001-0 Is Connected To')
  sink.setControl(connect.id, 2) // menu entry 2: 'Output HDMI 000-0'
  const osd = sink.findControl('OSD Text Mode')
  sink.setControl(osd.id, 2) // no text over looped video
  const { width, height } = out.format()
  const want = { width, height, pixelformat: 'RGB3' }
  const sf = src.setFormat(want, true)
  src.setFrameInterval(1, 60)
  out.setFormat(want, true)
  sink.setFormat(want, true)
  const frame = sf.planes[0].sizeimage

  const n = src.requestBuffers(4)
  const exported = Array.from({ length: n }, (_, i) => src.exportBuffer(i, 0, 'rw'))
  const inode = exported.map((b) => b.info().inode)
  const oq = out.dmabufQueue(n)
  const k = sink.requestBuffers(4)
  const sinkBufs = Array.from({ length: k }, (_, i) => sink.exportBuffer(i, 0, 'r'))
  for (let i = 0; i < n; i++) src.queue(i)
  for (let i = 0; i < k; i++) sink.queue(i)
  src.streamOn()
  oq.streamOn()
  sink.streamOn()

  const sent = new Set<string>()
  let looped = 0
  let others = 0
  let firstLoop = 0
  const start = performance.now()
  // The output side: what vivid has shown goes back to the capture queue.
  const recycle = (): void => {
    for (let d = oq.tryDequeue(); d !== null; d = oq.tryDequeue()) src.queue(exported.indexOf(d.buffers[0]))
  }
  const forward = (async () => {
    while (looped < 60 && performance.now() - start < 120_000) {
      const b = await src.dequeue(100)
      recycle()
      if (b === null) continue
      const buf = exported[b.index]
      sent.add(sha(readFrame(buf, 0, frame)))
      oq.queue([buf], [b.planes[0].bytesused])
    }
  })()
  while (looped < 60 && performance.now() - start < 120_000) {
    const b = await sink.dequeue(100)
    if (b === null) continue
    const p = b.planes[0]
    t.is(p.bytesused - p.dataOffset, frame)
    if (sent.has(sha(readFrame(sinkBufs[b.index], p.dataOffset, frame)))) {
      looped++
      if (firstLoop === 0) firstLoop = performance.now()
    } else others++
    sink.queue(b.index)
  }
  await forward
  const secs = (performance.now() - firstLoop) / 1000
  t.log(`loop: ${looped} frames back byte for byte (${others} others) in ${secs.toFixed(2)} s: ${(looped / secs).toFixed(1)} fps at ${width}x${height} RGB24`)
  t.true(looped >= 60, `${looped} frames came back equal to a frame sent`)
  t.true(sent.size > 1, 'the frames sent differ (the pattern moves)')
  sink.streamOff()
  const back = oq.streamOff().flat()
  t.true(back.every((b) => inode.includes(b.info().inode)), 'the output held the capture queue’s own dma-bufs')
  src.streamOff()
  sink.setControl(connect.id, 0)
  sink.setControl(osd.id, 0)
  for (const b of [...exported, ...sinkBufs]) b.close()
  oq.close()
  for (const d of [src, out, sink]) d.close()
  t.is(openFds(), before)
})
