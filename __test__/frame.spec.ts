// Frame from TypeScript: the names, the modifier printing and the drm-format
// strings (host), and frames over real udmabufs, accepted and refused with
// the core's message, closing their DmaBufs, and frames of dequeued vivid
// buffers (device tier).

import { existsSync } from 'node:fs'

import test, { type ExecutionContext } from 'ava'
import {
  type DmaBuf,
  Frame,
  Udmabuf,
  V4l2Device,
  drmFormatString,
  drmFormats,
  drmFourcc,
  drmFourccName,
  drmModifierName,
  parseDrmFormat,
} from 'dmabuf'

import { PAGE, deviceTest, inVm, noLeak, openFds, thrown } from './helpers.js'

test('fourcc names both ways and the format table', (t) => {
  const nv12 = 0x3231564e
  t.is(drmFourcc('NV12'), nv12)
  t.is(drmFourcc('XRGB8888'), drmFourcc('XR24'))
  t.is(drmFourccName(drmFourcc('XR24')), 'XRGB8888')
  t.is(drmFourccName(drmFourcc('Q123')), 'Q123')
  const table = drmFormats()
  const row = table.find((f) => f.name === 'NV12')
  t.deepEqual(row, { fourcc: nv12, name: 'NV12', planes: 2, cpp: [1, 2], hsub: 2, vsub: 2, isYuv: true })
  t.true(table.some((f) => f.name === 'XRGB16161616'))
  t.is(thrown(t, () => drmFourcc('TOOLONG')).code, 'ERR_INVALID_ARG_VALUE')
})

test('modifiers are bigints, printed as drm_info does', (t) => {
  t.is(drmModifierName(0n), 'LINEAR')
  t.is(drmModifierName(0xffffffffffffffn), 'INVALID')
  t.is(drmModifierName(0x0100000000000002n), 'I915_FORMAT_MOD_Y_TILED')
  t.is(drmModifierName(0x0200000000001234n), 'AMD(0x1234)')
  t.is(thrown(t, () => drmModifierName(-1n)).code, 'ERR_OUT_OF_RANGE')
  t.is(thrown(t, () => drmModifierName(2n ** 64n)).code, 'ERR_OUT_OF_RANGE')
  t.is(thrown(t, () => drmModifierName(1 as unknown as bigint)).code, 'ERR_INVALID_ARG_TYPE')
})

test('drm-format strings parse and print', (t) => {
  t.deepEqual(parseDrmFormat('NV12'), { fourcc: drmFourcc('NV12'), modifier: 0n })
  t.deepEqual(parseDrmFormat('NV12:0x0100000000000002'), { fourcc: drmFourcc('NV12'), modifier: 0x0100000000000002n })
  t.is(drmFormatString(drmFourcc('NV12'), 0x0100000000000002n), 'NV12:0x0100000000000002')
  t.is(drmFormatString(drmFourcc('XRGB8888'), 0n), 'XR24')
  for (const bad of ['', 'NV1', 'NV12:', 'NV12:0x', 'NV12:0xfg', 'NV12:12']) {
    const e = thrown(t, () => parseDrmFormat(bad))
    t.is(e.code, 'EINVAL', bad)
    t.true(e.message.includes(JSON.stringify(bad)), e.message)
  }
})

deviceTest('an NV12 frame in one udmabuf: two planes, one buffer, closed by the frame', (t) => {
  noLeak(t, () => {
    using dev = Udmabuf.open()
    const before = openFds()
    const buf = dev.alloc(640 * 480 * 2)
    const chroma = buf.dup()
    const frame = new Frame({
      width: 640,
      height: 480,
      fourcc: 'NV12',
      planes: [
        { buf, pitch: 640 },
        { buf: chroma, offset: 640 * 480, pitch: 640 },
      ],
    })
    t.is(frame.modifier, 0n)
    t.is(frame.formatName, 'NV12')
    t.is(frame.drmFormat, 'NV12')
    t.deepEqual(frame.planes.map((p) => [p.offset, p.pitch]), [[0, 640], [307200, 640]])
    t.is(openFds(), before + 2)
    frame.close()
    t.true(buf.closed && chroma.closed)
    t.is(openFds(), before)
    frame.close()
    const close = Object.getOwnPropertyDescriptor(Frame.prototype, 'close')!.value as () => void
    t.is(thrown(t, () => close.call({})).code, 'ERR_INVALID_THIS')
  })
})

deviceTest('refusals carry the core message and leave the DmaBufs open', (t) => {
  noLeak(t, () => {
    using dev = Udmabuf.open()
    using buf = dev.alloc(2 * PAGE)
    const size = buf.size
    const fd = buf.fd
    let e = thrown(t, () => new Frame({ width: 64, height: 48, fourcc: 'NV12', planes: [{ buf, pitch: 64 }, { buf, offset: 4096, pitch: 32 }] }))
    t.is(e.code, 'EINVAL')
    t.is(e.message, `EINVAL: plane 1: pitch 32 is less than a row of NV12 at width 64 (64 bytes), new Frame (fd ${fd})`)
    e = thrown(t, () => new Frame({ width: 64, height: 48, fourcc: 'NV12', planes: [{ buf, pitch: 64 }, { buf, offset: size - 1000, pitch: 64 }] }))
    t.is(e.message, `EINVAL: plane 1: offset ${size - 1000} + pitch 64 x 24 rows = ${size + 536} is past the end of its ${size}-byte dma-buf, new Frame (fd ${fd})`)
    e = thrown(t, () => new Frame({ width: 64, height: 48, fourcc: 'NV12', planes: [{ buf, pitch: 64 }] }))
    t.is(e.message, `EINVAL: 1 planes given; NV12 with modifier LINEAR has 2, new Frame (fd ${fd})`)
    e = thrown(t, () => new Frame({ width: 64, height: 48, fourcc: 'NV12', modifier: -1n, planes: [{ buf, pitch: 64 }] }))
    t.is(e.code, 'ERR_OUT_OF_RANGE')
    t.false(buf.closed)
    buf.close()
    e = thrown(t, () => new Frame({ width: 16, height: 16, fourcc: 'XR24', planes: [{ buf, pitch: 64 }] }))
    t.is(e.code, 'ERR_DMABUF_CLOSED')
  })
})

const hasVivid = (): boolean => existsSync('/dev/video0') && V4l2Device.list().some((n) => n.name === 'vivid-000-vid-cap')
const vividTest = (title: string, body: (t: ExecutionContext) => Promise<void>): void => (inVm || hasVivid() ? test.serial : test.serial.skip)(title, body)

/** One frame of `pixelformat` captured on the vivid node `name`, as a Frame. */
async function captured(name: string, pixelformat: string): Promise<{ frame: Frame; bufs: DmaBuf[]; dataOffsets: number[]; bytesperline: number[] }> {
  const n = V4l2Device.list().find((x) => x.name === name)
  if (!n) throw new Error(`this test needs the vivid node ${name} (VM tier: npm test)`)
  using dev = V4l2Device.open(n.path)
  const f = dev.setFormat({ width: 320, height: 180, pixelformat }, true)
  const count = dev.requestBuffers(2)
  const all = Array.from({ length: count }, (_, i) => f.planes.map((_p, p) => dev.exportBuffer(i, p, 'r')))
  for (let i = 0; i < count; i++) dev.queue(i)
  dev.streamOn()
  const b = await dev.dequeue(20_000)
  if (!b) throw new Error('no frame within 20 s')
  dev.streamOff()
  const bufs = all[b.index]
  for (const [i, set] of all.entries()) if (i !== b.index) for (const x of set) x.close()
  dev.requestBuffers(0)
  const frame = Frame.fromV4l2(f, b, bufs)
  return { frame, bufs, dataOffsets: b.planes.map((p) => p.dataOffset), bytesperline: f.planes.map((p) => p.bytesperline) }
}

vividTest('Frame.fromV4l2: NV12 single-planar, NV16M multi-planar and RGB24 from vivid', async (t) =>
  noLeak(t, async () => {
    {
      const { frame, bufs } = await captured('vivid-000-vid-cap', 'NV12')
      t.is(frame.formatName, 'NV12')
      t.deepEqual(frame.planes.map((p) => [p.offset, p.pitch]), [[0, 320], [320 * 180, 320]])
      t.is(frame.planes[0].buf.info().inode, bufs[0].info().inode)
      frame.close()
      t.false(bufs[0].closed, 'the caller keeps its exported DmaBuf')
      for (const b of bufs) b.close()
    }
    {
      const { frame, bufs, dataOffsets, bytesperline } = await captured('vivid-001-vid-cap', 'NM16')
      t.is(frame.formatName, 'NV16')
      t.deepEqual(dataOffsets, [128, 0])
      t.deepEqual(frame.planes.map((p) => [p.offset, p.pitch]), [[128, bytesperline[0]], [0, bytesperline[1]]])
      t.is(frame.planes[1].buf.info().inode, bufs[1].info().inode)
      t.not(frame.planes[0].buf.info().inode, bufs[1].info().inode)
      frame.close()
      for (const b of bufs) b.close()
    }
    {
      const { frame, bufs } = await captured('vivid-000-vid-cap', 'RGB3')
      t.is(frame.formatName, 'BGR888', "V4L2 RGB24 (R, G, B bytes) is DRM BGR888")
      t.deepEqual(frame.planes.map((p) => [p.offset, p.pitch]), [[0, 960]])
      frame.close()
      for (const b of bufs) b.close()
    }
    // A compressed format has no DRM layout (the core's refusal), and the
    // DmaBufs must match the format's memory planes (checked first).
    const mjpg = { width: 16, height: 16, pixelformat: 'MJPG', field: 1, colorspace: 0, planes: [{ bytesperline: 0, sizeimage: 0 }] }
    const info = { index: 0, flags: 0, field: 1, sequence: 0, timestampUs: 0, planes: [{ length: 0, bytesused: 0, dataOffset: 0 }] }
    const u = Udmabuf.open()
    const buf = u.alloc(4096)
    const e = thrown(t, () => Frame.fromV4l2(mjpg, info, [buf]))
    t.is(e.code, 'EINVAL')
    t.regex(e.message, /MJPG has no DRM fourcc/)
    t.false(buf.closed, 'a refused call leaves the DmaBuf open')
    t.is(thrown(t, () => Frame.fromV4l2({ ...mjpg, pixelformat: 'YUYV' }, info, [])).code, 'ERR_INVALID_ARG_VALUE')
    buf.close()
    u.close()
  }))
