// Frame from TypeScript: the names, the modifier printing and the drm-format
// strings (host), and frames over real udmabufs, accepted and refused with
// the core's message, closing their DmaBufs, and frames of dequeued vivid
// buffers (device tier). Frames over a Channel (Channel.sendFrame and
// receiveFrame): between two Node channels, to the Rust peer
// (crates/dmabuf/examples/fdpass_peer.rs, which parses with Frame::from_message
// and answers with Frame::send) and back, and the messages refused.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import {
  Channel,
  DmaBuf,
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

const root = resolve(__dirname, '..', '..')
// The ARM VM tiers run a cross-built one (scripts/vm-tier.sh sets the variable).
const rustPeer = process.env.DMABUF_RUST_PEER ? resolve(root, process.env.DMABUF_RUST_PEER) : join(root, 'target', 'debug', 'examples', 'fdpass_peer')

/** The Rust peer with one end of a new channel as its fd 3; returns the other end. */
function rust(): { ch: Channel; exited: Promise<number | null> } {
  const [mine, theirs] = Channel.pair()
  const child: ChildProcess = spawn(rustPeer, [], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
  theirs.close()
  return { ch: mine, exited: new Promise((ok) => child.on('exit', (c) => ok(c))) }
}

/** A 64x48 NV12 frame in one udmabuf (two DmaBufs of it, as a V4L2 export gives), tiled modifier. */
function nv12(dev: Udmabuf): Frame {
  const buf = dev.alloc(2 * PAGE)
  return new Frame({
    width: 64,
    height: 48,
    fourcc: 'NV12',
    modifier: 0x0100000000000002n,
    planes: [
      { buf, pitch: 64 },
      { buf: buf.dup(), offset: 64 * 48, pitch: 64 },
    ],
  })
}

function same(t: ExecutionContext, got: Frame, sent: Frame, what: string): void {
  t.deepEqual([got.width, got.height, got.fourcc, got.modifier], [64, 48, drmFourcc('NV12'), 0x0100000000000002n], what)
  t.deepEqual(got.planes.map((p) => [p.offset, p.pitch]), [[0, 64], [3072, 64]], what)
  t.deepEqual(got.planes.map((p) => p.buf.info().inode), sent.planes.map((p) => p.buf.info().inode), `${what}: the same buffers, not copies`)
  t.true(got.planes.every((p) => p.buf instanceof DmaBuf && !sent.planes.includes(p)), `${what}: the receiver's own DmaBufs`)
  // Bytes written through the sender's plane are read through the receiver's.
  sent.planes[1].buf.write(3072, Buffer.from('chroma'))
  t.is(got.planes[1].buf.read(3072, 6).toString(), 'chroma', what)
}

deviceTest('sendFrame/receiveFrame: a frame crosses a Channel pair as one message, on both socket kinds', async (t) => {
  await noLeak(t, async () => {
    using dev = Udmabuf.open()
    for (const type of ['seqpacket', 'stream'] as const) {
      const [a, b] = Channel.pair(type)
      const sent = nv12(dev)
      await a.sendFrame(sent)
      const before = openFds()
      const got = await b.receiveFrame()
      t.is(openFds(), before + 2, `${type}: one fd per plane arrived`)
      same(t, got, sent, type)
      // Received frames are Frames like any other: they go on again.
      await b.sendFrame(got)
      got.close()
      const again = await a.receiveFrame()
      same(t, again, sent, `${type}, sent on`)
      again.close()
      sent.close()
      a.close()
      b.close()
    }
  })
})

deviceTest('sendFrame and receiveFrame queue with send and receive in call order; abort and close reject them', async (t) => {
  await noLeak(t, async () => {
    using dev = Udmabuf.open()
    const [a, b] = Channel.pair()
    const frame = nv12(dev)
    // Receives called before anything arrives settle in call order, each taking its own message.
    const r1 = b.receive()
    const r2 = b.receiveFrame()
    const r3 = b.receive()
    const sends = [a.send({ n: 1 }), a.sendFrame(frame), a.send({ n: 3 })]
    frame.close() // sendFrame already holds what it needs
    await Promise.all(sends)
    t.deepEqual((await r1).header, { n: 1 })
    const got = await r2
    t.is(got.planes.length, 2)
    got.close()
    t.deepEqual((await r3).header, { n: 3 })

    const ac = new AbortController()
    const pending = b.receiveFrame({ signal: ac.signal })
    ac.abort()
    t.is((await t.throwsAsync(pending))?.name, 'AbortError')
    t.is((await t.throwsAsync(b.receiveFrame({ signal: ac.signal })))?.name, 'AbortError')
    const waiting = b.receiveFrame()
    b.close()
    t.is(((await t.throwsAsync(waiting)) as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED')
    const f2 = nv12(dev)
    t.is(((await t.throwsAsync(b.sendFrame(f2))) as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED')
    f2.planes[0].buf.close()
    const e = (await t.throwsAsync(a.sendFrame(f2))) as NodeJS.ErrnoException
    t.is(e.code, 'ERR_DMABUF_CLOSED', e.message)
    t.true(e.message.startsWith('Channel.sendFrame'), e.message)
    f2.close()
    a.close()
  })
})

deviceTest('a sendFrame queued behind sends that wait for room holds copies of the planes: the frame may be closed at once', async (t) => {
  await noLeak(t, async () => {
    using dev = Udmabuf.open()
    const [a, b] = Channel.pair('stream')
    // ~1.8 MB of headers fill the stream socket: later sends wait in the queue.
    const sends = Array.from({ length: 30 }, (_, i) => a.send({ i, pad: 'x'.repeat(60_000) }))
    const frame = nv12(dev)
    const inodes = frame.planes.map((p) => p.buf.info().inode)
    const before = openFds()
    const queued = a.sendFrame(frame)
    t.is(openFds(), before + 2, 'the queued send holds a copy of each plane')
    frame.close()
    for (let i = 0; i < 30; i++) t.is((await b.receive<{ i: number }>()).header.i, i)
    const got = await b.receiveFrame()
    await Promise.all([...sends, queued])
    t.deepEqual(got.planes.map((p) => p.buf.info().inode), inodes)
    t.deepEqual(got.planes.map((p) => [p.offset, p.pitch]), [[0, 64], [3072, 64]])
    got.close()
    a.close()
    b.close()
  })
})

deviceTest('Node to Rust and back: the Rust peer parses a sendFrame message with Frame::from_message and answers with Frame::send', async (t) => {
  t.true(existsSync(rustPeer), `${rustPeer} is missing: run cargo build -p dmabuf --example fdpass_peer`)
  await noLeak(t, async () => {
    using dev = Udmabuf.open()
    const peer = rust()
    const sent = nv12(dev)
    await peer.ch.sendFrame(sent)
    const got = await peer.ch.receiveFrame()
    same(t, got, sent, 'through Rust')
    got.close()
    sent.close()
    peer.ch.close()
    t.is(await peer.exited, 0)
  })
})

deviceTest('malformed frame messages: named EPROTO errors, their fds closed, the channel goes on', async (t) => {
  t.true(existsSync(rustPeer), `${rustPeer} is missing: run cargo build -p dmabuf --example fdpass_peer`)
  await noLeak(t, async () => {
    using dev = Udmabuf.open()
    const peer = rust()
    const refused = async (what: string, says: string): Promise<void> => {
      const before = openFds()
      const e = (await t.throwsAsync(peer.ch.receiveFrame())) as NodeJS.ErrnoException
      t.is(e.code, 'EPROTO', `${what}: ${e.message}`)
      t.is(e.message, `EPROTO: ${says}, Channel.receiveFrame`, what)
      t.is(openFds(), before, `${what}: every fd that came is closed`)
    }
    // The Rust peer sends a 2-plane NV12 header with its count byte changed and N fds.
    await peer.ch.send({ op: 'badframe', planes: 2, nfds: 1 })
    await refused('too few fds', 'the header says 2 planes in 48 bytes (48 expected) and 1 fds came with it')
    await peer.ch.send({ op: 'badframe', planes: 5, nfds: 2 })
    await refused('5 planes', 'the header says 5 planes in 48 bytes (72 expected) and 2 fds came with it')
    await peer.ch.send({ op: 'badframe', planes: 0, nfds: 0 })
    await refused('0 planes', 'the header says 0 planes in 48 bytes (32 expected) and 0 fds came with it')
    // A JSON message with a dma-buf: not a frame.
    const buf = dev.alloc(PAGE)
    await peer.ch.send({ op: 'echo' }, [buf])
    buf.close()
    await refused('a JSON message', 'a 13-byte header that is no version-1 frame header')
    // The channel goes on: the peer's next answer arrives whole.
    await peer.ch.send({ op: 'badframe', planes: 2, nfds: 2 })
    const good = await peer.ch.receiveFrame()
    t.deepEqual([good.width, good.height, good.planes.length], [16, 16, 2])
    good.close()
    // A frame message at plain receive(): an error naming receiveFrame, its fds closed.
    const [a, b] = Channel.pair()
    const frame = nv12(dev)
    await a.sendFrame(frame)
    frame.close()
    const before = openFds()
    const e = (await t.throwsAsync(b.receive())) as NodeJS.ErrnoException
    t.is(e.code, 'ERR_DMABUF_BAD_HEADER')
    t.is(e.message, 'Channel.receive: the message is a frame (a binary DMFR header), which receiveFrame() takes, not JSON; its 2 fds were closed')
    t.is(openFds(), before)
    await a.send('after')
    t.is((await b.receive()).header, 'after')
    a.close()
    b.close()
    peer.ch.close()
    t.is(await peer.exited, 0)
  })
})
