// Camera -> Frame -> display on the custom kernel (issue 21 item 3): a vivid
// capture buffer exported with VIDIOC_EXPBUF becomes a Frame and a vkms
// framebuffer with no copy, and the writeback connector reads back exactly
// the captured bytes; a Frame sent over a Channel (sendFrame/receiveFrame)
// is shown by another process that holds DRM master; and the README's
// examples that open a KMS card run here (readme.spec.ts runs them too where
// vkms is, and only logs them in the Debian tier, which has no vkms). Needs vkms (vkms.enable_writeback=1) and vivid: the
// custom-kernel VM tier runs this file (scripts/vm-tier.sh: `kms-*` is
// custom_only); on a host without vkms it is an honest skip, and in the VM
// a missing device fails.

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readlinkSync } from 'node:fs'
import { join, resolve } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import { Card, Channel, type DmaBuf, DrmDevice, Frame, type Framebuffer, type KmsAtomic, type KmsConnector, type KmsCrtc, type KmsMode, type KmsPlane, Udmabuf, V4l2Device } from 'dmabuf'

import { PAGE, inVm, noLeak, readmeExamples, since, vkmsPath } from './helpers.js'

const root = resolve(__dirname, '..', '..')
const kmsTest = inVm || existsSync('/sys/module/vkms') ? test.serial : test.serial.skip

/** The size every test here shows: a vivid webcam size and a vkms mode, since vkms's primary plane must cover the CRTC. */
const W = 640
const H = 480

/**
 * `fn()`, again every 50 ms for up to 20 s while it throws EBUSY: another
 * test file of the tier may hold vkms's DRM master (kms.spec, the matrix's
 * children) or vivid's queue for a moment. Any other error, or EBUSY after
 * 20 s, is thrown.
 */
async function whileBusy<T>(fn: () => T): Promise<T> {
  const start = performance.now()
  for (;;) {
    try {
      return fn()
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || since(start) > 20_000) throw e
      await new Promise((ok) => setTimeout(ok, 50))
    }
  }
}

/** vkms as DRM master. */
const vkms = (): Promise<Card> => {
  const path = vkmsPath()
  return whileBusy(() => Card.open(path, { writeback: true }))
}

interface Screen {
  conn: KmsConnector
  wb: KmsConnector
  crtc: KmsCrtc
  primary: KmsPlane
  mode: KmsMode
}

function screen(card: Card): Screen {
  const conns = card.connectors()
  const conn = conns.find((c) => c.type === 'Virtual')
  const wb = conns.find((c) => c.writeback)
  if (!conn || !wb) throw new Error(`vkms without its Virtual and writeback connectors: ${conns.map((c) => c.name).join(' ')}`)
  const mode = conn.modes.find((m) => m.hdisplay === W && m.vdisplay === H)
  if (!mode) throw new Error(`vkms has no ${W}x${H} mode: ${conn.modes.map((m) => `${m.hdisplay}x${m.vdisplay}`).join(' ')}`)
  const crtc = card.crtcs()[0]
  const primary = card.planes().find((p) => p.type === 'primary' && p.possibleCrtcs.includes(crtc.id))
  if (!primary) throw new Error('no primary plane')
  return { conn, wb, crtc, primary, mode }
}

/** The plane properties that show `fb` full screen. */
function show(a: KmsAtomic, s: Screen, fb: Framebuffer): KmsAtomic {
  const p = s.primary.id
  a.set(p, 'FB_ID', fb).set(p, 'CRTC_ID', s.crtc.id)
  a.set(p, 'SRC_X', 0).set(p, 'SRC_Y', 0).set(p, 'SRC_W', BigInt(W) << 16n).set(p, 'SRC_H', BigInt(H) << 16n)
  return a.set(p, 'CRTC_X', 0).set(p, 'CRTC_Y', 0).set(p, 'CRTC_W', W).set(p, 'CRTC_H', H)
}

/** An XR24 frame of W x H in a fresh udmabuf, zeroed: the writeback target. */
function captureFrame(): Frame {
  using u = Udmabuf.open()
  const buf = u.alloc(Math.ceil((W * 4 * H) / PAGE) * PAGE)
  return new Frame({ width: W, height: H, fourcc: 'XR24', planes: [{ buf, pitch: W * 4 }] })
}

/**
 * The screen back on the Virtual connector with the writeback connector
 * off, as a later client (the README examples, which do not ask for
 * writeback connectors and so cannot turn one off) needs to find it: vkms's
 * one CRTC cannot drive both in one commit. Done by each test, so that
 * nothing rests on what fbdev emulation restores when master is dropped.
 */
function restore(card: Card, s: Screen, fb: Framebuffer): void {
  using blob = card.createModeBlob(s.mode)
  const a = card.atomic().set(s.wb.id, 'CRTC_ID', 0).set(s.conn.id, 'CRTC_ID', s.crtc.id).set(s.crtc.id, 'MODE_ID', blob).set(s.crtc.id, 'ACTIVE', 1)
  show(a, s, fb).commit({ allowModeset: true })
}

/**
 * Compares a writeback of XRGB8888 with the XR24 source bytes: B, G, R equal,
 * and X written as 0xff by vkms whatever the source held. Returns the first
 * differences (at most 5), empty when all match.
 */
function differences(src: Uint8Array, pitch: number, got: Uint8Array): string[] {
  const bad: string[] = []
  for (let y = 0; y < H && bad.length < 5; y++) {
    for (let x = 0; x < W && bad.length < 5; x++) {
      const i = y * pitch + x * 4
      const j = (y * W + x) * 4
      if (src[i] !== got[j] || src[i + 1] !== got[j + 1] || src[i + 2] !== got[j + 2] || got[j + 3] !== 0xff) {
        bad.push(`(${x}, ${y}): source ${[...src.subarray(i, i + 4)].join(',')}, scanned out ${[...got.subarray(j, j + 4)].join(',')}`)
      }
    }
  }
  return bad
}

/** How many distinct B, G, R triples a W x H XR24 image holds, up to 64: a test image, not a blank one. */
function colours(src: Uint8Array, pitch: number): number {
  const seen = new Set<number>()
  for (let y = 0; y < H && seen.size < 64; y += 7) for (let x = 0; x < W; x += 5) seen.add(src[y * pitch + x * 4] | (src[y * pitch + x * 4 + 1] << 8) | (src[y * pitch + x * 4 + 2] << 16))
  return seen.size
}

/** The links of this process's fds that name a DRM node. */
const drmFds = (): string[] =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`)
      } catch {
        return ''
      }
    })
    .filter((l) => l.startsWith('/dev/dri/'))

kmsTest('a vivid capture buffer is shown by vkms with zero copies: writeback returns the captured bytes, and a later write into the V4L2 buffer reaches the screen', async (t) => {
  await noLeak(t, async () => {
    const node = V4l2Device.list().find((n) => n.name === 'vivid-000-vid-cap')
    if (!node) throw new Error('this test needs vivid (the custom-kernel VM has vivid-000-vid-cap)')
    using cam = V4l2Device.open(node.path)
    // V4L2 XR24 (XBGR32: B, G, R, X in memory) is DRM XRGB8888, which every vkms plane takes.
    const [format, count] = await whileBusy(() => [cam.setFormat({ width: W, height: H, pixelformat: 'XR24' }, true), cam.requestBuffers(2)] as const)
    t.is(format.planes.length, 1)
    const pitch = format.planes[0].bytesperline
    t.true(pitch >= W * 4)
    t.true(count >= 2)
    // 'rw': the test writes a mark into a captured buffer below.
    const exported: DmaBuf[] = Array.from({ length: count }, (_, i) => cam.exportBuffer(i, 0, 'rw'))
    for (let i = 0; i < count; i++) cam.queue(i)
    cam.streamOn()
    const b = await cam.dequeue(20_000)
    if (!b) throw new Error('vivid gave no frame within 20 s')
    const v4l2Buf = exported[b.index]
    t.is(v4l2Buf.info().exporter, 'videobuf2_vmalloc')

    // The V4L2 -> DRM path: Frame.fromV4l2 duplicates the exported fd
    // (F_DUPFD_CLOEXEC: same open file, same dma-buf) and computes offsets
    // and pitches; addFramebuffer PRIME-imports that fd
    // (DRM_IOCTL_PRIME_FD_TO_HANDLE) and calls DRM_IOCTL_MODE_ADDFB2 on the
    // handle. No call on the way reads or writes the pixels (no map, no
    // read(), no write()): the only CPU accesses in this test are the
    // comparisons and the mark, which are the test's own.
    const frame = Frame.fromV4l2(format, b, [v4l2Buf])
    t.is(frame.formatName, 'XRGB8888')
    t.is(frame.planes[0].offset, b.planes[0].dataOffset)
    t.is(frame.planes[0].buf.info().inode, v4l2Buf.info().inode, 'the frame is not over the dma-buf V4L2 exported')

    using card = await vkms()
    const s = screen(card)
    using fb = card.addFramebuffer(frame, s.primary)
    frame.close() // the framebuffer holds its own GEM handle
    const cap = captureFrame()
    using capFb = card.addFramebuffer(cap)
    const capBuf = cap.planes[0].buf

    using blob = card.createModeBlob(s.mode)
    const a = card.atomic().set(s.conn.id, 'CRTC_ID', 0).set(s.crtc.id, 'MODE_ID', blob).set(s.crtc.id, 'ACTIVE', 1)
    a.set(s.wb.id, 'CRTC_ID', s.crtc.id).set(s.wb.id, 'WRITEBACK_FB_ID', capFb).writebackOutFence(s.wb.id).outFence(s.crtc.id)
    show(a, s, fb)
    const start = performance.now()
    const fences = a.commit({ allowModeset: true })
    t.deepEqual([...fences.keys()].sort(), [s.crtc.id, s.wb.id].sort())
    using outFence = fences.get(s.crtc.id)!
    using written = fences.get(s.wb.id)!
    t.true(await written.wait(5000), 'the writeback was never written')
    const wbMs = since(start)
    t.true(await outFence.wait(5000), 'the out-fence never signalled')
    t.log(`commit (modeset) to writeback fence: ${wbMs.toFixed(1)} ms; frame ${b.sequence}, ${b.planes[0].bytesused} bytes, pitch ${pitch}`)

    // What was captured, through a map of the V4L2 dma-buf, against what was scanned out.
    {
      const m = v4l2Buf.map('r')
      const access = v4l2Buf.beginCpuAccess('r')
      const src = new Uint8Array(m.buffer.slice(b.planes[0].dataOffset, b.planes[0].dataOffset + pitch * H))
      access.end()
      m.unmap()
      t.true(colours(src, pitch) >= 4, 'vivid gave a nearly blank image: a comparison of it proves little')
      const got = capBuf.read(0, W * 4 * H)
      t.deepEqual(differences(src, pitch, got), [], 'the scanned-out bytes differ from the captured ones')
    }

    // Zero copy, by behaviour: a mark written into the V4L2 buffer after
    // the framebuffer was made is in the next writeback. Had the import
    // copied the pixels, the screen would still show the old row.
    {
      const mark = new Uint8Array(pitch)
      for (let i = 0; i < mark.length; i++) mark[i] = (i * 31 + 7) & 0xff
      v4l2Buf.write(b.planes[0].dataOffset, mark)
      capBuf.write(0, new Uint8Array(W * 4)) // clear the first row of the capture
      const again = card.atomic().set(s.wb.id, 'WRITEBACK_FB_ID', capFb).writebackOutFence(s.wb.id)
      using done = again.commit().get(s.wb.id)!
      t.true(await done.wait(5000), 'the second writeback was never written')
      const row = capBuf.read(0, W * 4)
      const want = Uint8Array.from(mark.subarray(0, W * 4), (v, i) => (i % 4 === 3 ? 0xff : v))
      t.true(Buffer.from(want).equals(row), 'the mark written into the V4L2 buffer did not reach the screen')
    }

    restore(card, s, fb)
    fb.close()
    capFb.close()
    cap.close()

    // The buffer goes back to the camera and comes round again.
    cam.queue(b.index)
    const seen = new Set([b.index])
    for (let i = 0; i < count; i++) {
      const next = await cam.dequeue(20_000)
      if (!next) throw new Error('no frame after re-queueing')
      seen.add(next.index)
      cam.queue(next.index)
    }
    t.true(seen.size >= 2, `only buffer ${[...seen].join()} came back`)
    cam.streamOff()
    for (const e of exported) e.close()
    cam.requestBuffers(0)
  })
})

/** The child: receives a frame, shows it on vkms as DRM master, reads it back through writeback, and reports. */
const CHILD = `
const d = require(${JSON.stringify(root)});
const fs = require('fs');
const ch = d.Channel.fromFd(3); fs.closeSync(3);
(async () => {
  const path = d.DrmDevice.list().filter((p) => p.includes('/card')).find((p) => {
    try { const x = d.DrmDevice.open(p); try { return x.driverName() === 'vkms' } finally { x.close() } } catch { return false }
  });
  if (!path) throw new Error('child: no vkms card');
  let card;
  for (const start = Date.now(); ; await new Promise((ok) => setTimeout(ok, 50))) {
    try { card = d.Card.open(path, { writeback: true }); break } catch (e) { if (e.code !== 'EBUSY' || Date.now() - start > 20000) throw e }
  }
  // The Rust Frame::send message, checked again by Frame::from_message on arrival.
  const frame = await ch.receiveFrame();
  const h = frame;
  const conns = card.connectors();
  const conn = conns.find((c) => c.type === 'Virtual');
  const wb = conns.find((c) => c.writeback);
  const mode = conn.modes.find((x) => x.hdisplay === h.width && x.vdisplay === h.height);
  const crtc = card.crtcs()[0];
  const plane = card.planes().find((p) => p.type === 'primary');
  const fb = card.addFramebuffer(frame, plane);
  const u = d.Udmabuf.open();
  const size = h.width * 4 * h.height;
  const capBuf = u.alloc(Math.ceil(size / ${PAGE}) * ${PAGE});
  u.close();
  const cap = new d.Frame({ width: h.width, height: h.height, fourcc: 'XR24', planes: [{ buf: capBuf.dup(), pitch: h.width * 4 }] });
  const capFb = card.addFramebuffer(cap);
  cap.close();
  const blob = card.createModeBlob(mode);
  const a = card.atomic().set(conn.id, 'CRTC_ID', 0).set(crtc.id, 'MODE_ID', blob).set(crtc.id, 'ACTIVE', 1)
    .set(wb.id, 'CRTC_ID', crtc.id).set(wb.id, 'WRITEBACK_FB_ID', capFb).writebackOutFence(wb.id).outFence(crtc.id)
    .set(plane.id, 'FB_ID', fb).set(plane.id, 'CRTC_ID', crtc.id)
    .set(plane.id, 'SRC_W', BigInt(h.width) << 16n).set(plane.id, 'SRC_H', BigInt(h.height) << 16n)
    .set(plane.id, 'CRTC_W', h.width).set(plane.id, 'CRTC_H', h.height);
  const start = performance.now();
  const fences = a.commit({ allowModeset: true, nonblock: true });
  const committedMs = performance.now() - start;
  const out = fences.get(crtc.id), written = fences.get(wb.id);
  const outSignalled = await out.wait(5000);
  const outFenceMs = performance.now() - start;
  const wbSignalled = await written.wait(5000);
  const writebackMs = performance.now() - start;
  const src = frame.planes[0].buf.read(0, size);
  const got = capBuf.read(0, size);
  let match = true;
  for (let i = 0; i < size; i++) if (got[i] !== (i % 4 === 3 ? 0xff : src[i])) { match = false; break }
  // Back to the screen, writeback off, for whoever opens the card next.
  card.atomic().set(wb.id, 'CRTC_ID', 0).set(conn.id, 'CRTC_ID', crtc.id).set(crtc.id, 'MODE_ID', blob).set(crtc.id, 'ACTIVE', 1)
    .set(plane.id, 'FB_ID', fb).set(plane.id, 'CRTC_ID', crtc.id).commit({ allowModeset: true });
  await ch.send({ match, isMaster: card.isMaster, inode: frame.planes[0].buf.info().inode, outSignalled, wbSignalled, committedMs, outFenceMs, writebackMs }, [capBuf]);
  for (const x of [out, written, fb, capFb, blob, capBuf, frame, card, ch]) x.close();
})().catch((e) => { console.error(e); process.exit(1) });
`

interface Report {
  match: boolean
  isMaster: boolean
  inode: number
  outSignalled: boolean
  wbSignalled: boolean
  committedMs: number
  outFenceMs: number
  writebackMs: number
}

kmsTest('a Frame sent over a Channel is shown by another process, the DRM master, which reads it back through writeback', async (t: ExecutionContext) => {
  await noLeak(t, async () => {
    // The parent never opens a DRM node: the child takes master.
    t.deepEqual(drmFds(), [])
    const [mine, theirs] = Channel.pair()
    const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
    theirs.close()
    const exited = new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)))
    try {
      const size = Math.ceil((W * 4 * H) / PAGE) * PAGE
      const u = Udmabuf.open()
      const buf = u.alloc(size)
      u.close()
      const pattern = new Uint8Array(W * 4 * H)
      for (let i = 0; i < pattern.length; i++) pattern[i] = i % 4 === 3 ? 0xff : (i * 7 + (i >> 12)) & 0xff
      buf.write(0, pattern)
      const frame = new Frame({ width: W, height: H, fourcc: 'XR24', planes: [{ buf, pitch: W * 4 }] })
      const inode = buf.info().inode
      // One message: the binary frame header and one dma-buf fd per plane (Channel.sendFrame).
      await mine.sendFrame(frame)
      frame.close()
      const reply = await mine.receive<Report>({ signal: AbortSignal.timeout(60_000) })
      const r = reply.header
      t.is(reply.fds.length, 1)
      const back = reply.fds[0] as DmaBuf
      t.log(`child: commit returned in ${r.committedMs.toFixed(1)} ms, out-fence after ${r.outFenceMs.toFixed(1)} ms, writeback after ${r.writebackMs.toFixed(1)} ms`)
      t.true(r.isMaster, 'the child did not hold DRM master')
      t.is(r.inode, inode, 'the child showed another buffer than the one sent')
      t.true(r.outSignalled && r.wbSignalled, 'a fence never signalled in the child')
      t.true(r.match, "the child's writeback differs from the frame it received")
      // The parent checks the scanned-out bytes itself, against its own pattern.
      const got = back.read(0, W * 4 * H)
      t.true(Buffer.from(pattern).equals(got), 'the writeback the child sent back differs from the pattern sent')
      back.close()
      t.is(await exited, 0, 'the child failed')
      t.deepEqual(drmFds(), [], 'the parent opened a DRM node')
    } finally {
      mine.close()
      if (child.exitCode === null) child.kill()
      await exited
    }
  })
})

// The README's examples that open a KMS card need vkms, which the Debian
// tier lacks: they run here, compiled by the host tier's readme.spec.ts into
// target/readme-examples (as readme.spec.ts's own VM run expects).
kmsTest("the README's KMS examples (Card.open) run on vkms, camera to display included", (t) => {
  const blocks = readmeExamples().filter((e) => e.runnable && /\bCard\.open\b/.test(e.source))
  t.true(blocks.some((e) => /\bV4l2Device\b/.test(e.source) && /\bFrame\.fromV4l2\b/.test(e.source)), 'the README lost its camera-to-display example')
  const node22 = join(root, 'target', 'pack', 'node22')
  for (const e of blocks) {
    const js = join(root, 'target', 'readme-examples', `line-${e.line}`, 'example.mjs')
    t.true(existsSync(js), `README.md:${e.line}: compiled by the host tier first (${js})`)
    for (const node of process.arch === 'x64' ? [process.execPath, node22] : [process.execPath]) {
      t.true(existsSync(node), `${node} (scripts/pack/pack.sh fetches Node 22)`)
      // An example opens the card as a user would, without waiting: while
      // another test file holds DRM master (or vivid's queue) it fails with
      // EBUSY, and runs again, for up to 20 s.
      const start = performance.now()
      let r = spawnSync(node, [js], { encoding: 'utf8', timeout: 60_000 })
      while (r.status !== 0 && /\bEBUSY\b/.test(r.stderr) && since(start) < 20_000) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
        r = spawnSync(node, [js], { encoding: 'utf8', timeout: 60_000 })
      }
      t.is(r.status, 0, `README.md:${e.line} on ${node}: ${r.stdout}${r.stderr}`)
      t.log(`README.md:${e.line} on ${node}: ${r.stdout.trim()}`)
    }
  }
})
