// Frame from TypeScript: the names, the modifier printing and the drm-format
// strings (host), and frames over real udmabufs, accepted and refused with
// the core's message, closing their DmaBufs (device tier).

import test from 'ava'
import {
  Frame,
  Udmabuf,
  drmFormatString,
  drmFormats,
  drmFourcc,
  drmFourccName,
  drmModifierName,
  parseDrmFormat,
} from 'dmabuf'

import { PAGE, deviceTest, noLeak, openFds, thrown } from './helpers.js'

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
  t.is(thrown(t, () => drmFourcc('TOOLONG')).code, 'ERR_INVALID_ARG_TYPE')
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
