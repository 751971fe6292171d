// KMS from TypeScript on vkms: listing, a Frame of a udmabuf as a
// framebuffer, atomic commits with an in-fence (a vgem fence the test
// signals) and out-fences, page-flip events awaited on the event loop,
// writeback reading the scanned-out bytes back, and bad input. Needs a
// kernel with CONFIG_DRM_VKMS and vkms.enable_writeback=1, which Debian's
// lacks: the custom-kernel VM tier runs this file (scripts/vm-tier.sh
// custom; `kms` is in its custom_only list), the Debian tier leaves it out,
// and on a host without vkms it is an honest skip (in the VM it fails).

import { existsSync } from 'node:fs'

import test from 'ava'
import { Card, type DmaBuf, DrmDevice, Frame, type Framebuffer, type KmsAtomic, type KmsConnector, type KmsCrtc, type KmsMode, type KmsPlane, Udmabuf } from 'dmabuf'

import { PAGE, assertOsError, fencedVgem, inVm, noLeak, openVgem, since, thrown, vkmsPath } from './helpers.js'

const kmsTest = inVm || existsSync('/sys/module/vkms') ? test.serial : test.serial.skip

/**
 * vkms as DRM master. Another file may hold master for a moment (the
 * bad-input matrix's children open the card without master, but the kernel
 * makes a card's first opener master until it drops it): retry EBUSY a while.
 */
async function vkms(writeback = true): Promise<Card> {
  const path = vkmsPath()
  const start = performance.now()
  for (;;) {
    try {
      return Card.open(path, { writeback })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || since(start) > 20_000) throw e
      await new Promise((ok) => setTimeout(ok, 50))
    }
  }
}

interface Screen {
  conn: KmsConnector
  crtc: KmsCrtc
  primary: KmsPlane
  mode: KmsMode
}

function screen(card: Card): Screen {
  const conn = card.connectors().find((c) => c.type === 'Virtual')
  if (!conn) throw new Error('no Virtual connector')
  const mode = conn.modes.find((m) => m.preferred)
  if (!mode) throw new Error('no preferred mode')
  const crtc = card.crtcs()[0]
  const primary = card.planes().find((p) => p.type === 'primary' && p.possibleCrtcs.includes(crtc.id))
  if (!primary) throw new Error('no primary plane')
  return { conn, crtc, primary, mode }
}

/** An XR24 frame of the screen's size in a udmabuf, filled with a pattern whose X bytes are 0xff (what vkms writes back). */
function frame(s: Screen, seed: number): { frame: Frame; bytes: Uint8Array } {
  const { hdisplay: w, vdisplay: h } = s.mode
  const size = Math.ceil((w * 4 * h) / PAGE) * PAGE
  using u = Udmabuf.open()
  const buf = u.alloc(size)
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = i % 4 === 3 ? 0xff : (i * 13 + seed * 7) & 0xff
  buf.write(0, bytes)
  return { frame: new Frame({ width: w, height: h, fourcc: 'XR24', planes: [{ buf, pitch: w * 4 }] }), bytes }
}

/** The plane properties that show `fb` full screen. */
function show(a: KmsAtomic, s: Screen, fb: Framebuffer): KmsAtomic {
  const { hdisplay: w, vdisplay: h } = s.mode
  const p = s.primary.id
  a.set(p, 'FB_ID', fb).set(p, 'CRTC_ID', s.crtc.id)
  a.set(p, 'SRC_X', 0).set(p, 'SRC_Y', 0).set(p, 'SRC_W', BigInt(w) << 16n).set(p, 'SRC_H', BigInt(h) << 16n)
  return a.set(p, 'CRTC_X', 0).set(p, 'CRTC_Y', 0).set(p, 'CRTC_W', w).set(p, 'CRTC_H', h)
}

kmsTest('Card lists vkms: one CRTC, its primary plane with XR24 (LINEAR), the Virtual and writeback connectors', async (t) => {
  await noLeak(t, async () => {
    // Writeback connectors are listed only to a file that asks.
    {
      using plain = await vkms(false)
      t.false(plain.connectors().some((c) => c.writeback), 'writeback listed without the cap')
    }
    // Without a path: the first card with atomic mode setting (vgem, which
    // has none, is passed over).
    {
      using first = Card.open(undefined, { master: false })
      t.false(first.isMaster)
      t.not(first.driverName(), 'vgem')
      t.true(first.crtcs().length > 0)
    }
    using card = await vkms()
    t.is(card.driverName(), 'vkms')
    t.is(card.path, vkmsPath())
    t.true(card.isMaster)
    const crtcs = card.crtcs()
    t.is(crtcs.length, 1, 'vkms has one CRTC')
    t.is(crtcs[0].index, 0)
    const planes = card.planes()
    const primary = planes.find((p) => p.type === 'primary')
    t.truthy(primary, JSON.stringify(planes, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
    t.true(planes.some((p) => p.type === 'cursor'))
    for (const p of planes) {
      t.deepEqual(p.possibleCrtcs, [crtcs[0].id])
      for (const f of ['XR24', 'AR24', 'RG16']) t.true(p.formats.includes(f), `plane ${p.id} lacks ${f}: ${p.formats.join(' ')}`)
      t.deepEqual(p.modifiers.XR24, [0n], 'IN_FORMATS: LINEAR only')
      t.false(p.formats.includes('NV12'), 'vkms has no YUV')
    }
    const conns = card.connectors()
    const virt = conns.filter((c) => c.type === 'Virtual')
    t.is(virt.length, 1)
    t.is(virt[0].status, 'connected')
    t.deepEqual(virt[0].possibleCrtcs, [crtcs[0].id])
    const mode = virt[0].modes.find((m) => m.preferred)!
    t.true(mode.hdisplay > 0 && mode.vdisplay > 0 && mode.clock > 0, JSON.stringify(mode))
    const wb = conns.filter((c) => c.writeback)
    t.is(wb.length, 1, 'one writeback connector (vkms.enable_writeback=1)')
    t.is(wb[0].name, 'Writeback-1')
    t.is(wb[0].type, 'Writeback')
    const props = card.properties(crtcs[0].id).map((p) => p.name)
    for (const name of ['ACTIVE', 'MODE_ID', 'OUT_FENCE_PTR']) t.true(props.includes(name), `CRTC lacks ${name}: ${props.join(' ')}`)
    t.is(typeof card.properties(primary!.id).find((p) => p.name === 'type')!.value, 'bigint')
  })
})

kmsTest('a udmabuf Frame flips once its vgem in-fence signals; the flip event is awaited without blocking the loop; the out-fence signals', async (t) => {
  await noLeak(t, async () => {
    using card = await vkms()
    const s = screen(card)
    const a = frame(s, 1)
    const b = frame(s, 2)
    using fbA = card.addFramebuffer(a.frame, s.primary)
    using fbB = card.addFramebuffer(b.frame, s.primary.id)
    // The framebuffers hold GEM handles of their own: the frames may go.
    a.frame.close()
    b.frame.close()
    t.true(fbA.id > 0 && fbB.id > 0 && fbA.id !== fbB.id)

    using blob = card.createModeBlob(s.mode)
    const modeset = card.atomic().set(s.conn.id, 'CRTC_ID', s.crtc.id).set(s.crtc.id, 'MODE_ID', blob).set(s.crtc.id, 'ACTIVE', 1)
    // The writeback connector cannot share the CRTC with the screen: off, whatever an earlier client left.
    for (const wb of card.connectors().filter((c) => c.writeback)) modeset.set(wb.id, 'CRTC_ID', 0)
    show(modeset, s, fbA)
    modeset.test({ allowModeset: true })
    t.deepEqual(modeset.commit({ allowModeset: true }), new Map())
    t.is(card.crtcs()[0].fbId, fbA.id)

    // The flip to B waits for a vgem fence that only a timer signals.
    using vgem = openVgem()
    using fenced = fencedVgem(vgem)
    using inFence = fenced.buf.exportSyncFile('r')
    t.false(inFence.isSignaled())
    const flip = card.atomic().set(s.primary.id, 'FB_ID', fbB).inFence(s.primary.id, inFence).outFence(s.crtc.id)
    const fences = flip.commit({ nonblock: true, flipEvent: 0xfeedn })
    t.deepEqual([...fences.keys()], [s.crtc.id])
    using out = fences.get(s.crtc.id)!

    // Nothing reaches the screen while the in-fence is pending.
    t.deepEqual(await card.nextEvents(300), [], 'flipped before the in-fence signalled')
    t.false(out.isSignaled(), 'out-fence signalled before the in-fence')

    // The wait leaves the event loop free: the timer that signals the
    // fence runs while nextEvents is pending, or no flip could come.
    let ticks = 0
    const ticker = setInterval(() => ticks++, 5)
    let signalledAt = 0
    const signaller = setTimeout(() => {
      signalledAt = performance.now()
      fenced.signal()
    }, 100)
    const start = performance.now()
    const events = await card.nextEvents(5000)
    const waited = since(start)
    clearInterval(ticker)
    clearTimeout(signaller)
    t.true(signalledAt > 0, 'the fence was signalled by a timer during the wait')
    t.true(ticks >= 2, `only ${ticks} ticks of a 5 ms interval during a ${waited.toFixed(0)} ms wait`)
    t.is(events.length, 1, JSON.stringify(events, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
    const ev = events[0]
    t.is(ev.type, 'flip-complete')
    t.is(ev.userData, 0xfeedn)
    t.is(ev.crtcId, s.crtc.id)
    t.true(ev.timeNs > 0n)
    t.log(`in-fence signal -> flip event resolved: ${(performance.now() - signalledAt).toFixed(1)} ms; ${ticks} timer ticks while waiting ${waited.toFixed(0)} ms`)
    t.true(await out.wait(5000), 'the out-fence signals after the flip')
    t.is(card.crtcs()[0].fbId, fbB.id)

    // Without a flip event asked, nothing comes; the wait times out with [].
    t.deepEqual(await card.nextEvents(50), [])
  })
})

kmsTest('writeback reads back the bytes of the frame on the primary plane', async (t) => {
  await noLeak(t, async () => {
    using card = await vkms()
    const s = screen(card)
    const { hdisplay: w, vdisplay: h } = s.mode
    const src = frame(s, 5)
    const cap = frame(s, 9)
    using fb = card.addFramebuffer(src.frame, s.primary)
    using capFb = card.addFramebuffer(cap.frame)
    const wb = card.connectors().find((c) => c.writeback)!
    using blob = card.createModeBlob(s.mode)
    // The screen and writeback connectors cannot share the CRTC in one commit.
    const a = card.atomic().set(s.conn.id, 'CRTC_ID', 0).set(s.crtc.id, 'MODE_ID', blob).set(s.crtc.id, 'ACTIVE', 1)
    a.set(wb.id, 'CRTC_ID', s.crtc.id).set(wb.id, 'WRITEBACK_FB_ID', capFb).writebackOutFence(wb.id)
    show(a, s, fb)
    const fences = a.commit({ allowModeset: true })
    using done = fences.get(wb.id)!
    t.true(await done.wait(5000), 'the writeback frame was never written')
    const capBuf: DmaBuf = cap.frame.planes[0].buf
    const got = capBuf.read(0, w * 4 * h)
    t.true(Buffer.from(src.bytes.subarray(0, w * 4 * h)).equals(got), 'writeback bytes differ from the frame')
    src.frame.close()
    cap.frame.close()
  })
})

kmsTest('bad input: named Node-style errors, DRM master exclusive, closed objects refused, nothing leaks', async (t) => {
  await noLeak(t, async () => {
    using card = await vkms()
    const s = screen(card)

    // A second master is refused, naming why; without master, commits are refused.
    const busy = thrown(t, () => Card.open(card.path))
    assertOsError(t, busy, 'EBUSY', 'Card.open')
    t.true(busy.message.includes('master'), busy.message)
    {
      using guest = Card.open(card.path, { master: false })
      t.false(guest.isMaster)
      t.is(guest.crtcs().length, 1)
      const err = thrown(t, () => guest.atomic().set(s.crtc.id, 'ACTIVE', 1).commit())
      assertOsError(t, err, 'EACCES', 'KmsAtomic.commit')
      t.true(err.message.includes('DRM master'), err.message)
    }

    // Not a KMS card, not a DRM node, no such node.
    {
      const vgemPath = DrmDevice.list().find((p) => {
        try {
          using d = DrmDevice.open(p)
          return p.includes('card') && d.driverName() === 'vgem'
        } catch {
          return false
        }
      })
      t.truthy(vgemPath)
      const err = thrown(t, () => Card.open(vgemPath))
      t.is(err.code, 'EOPNOTSUPP')
      t.true(err.message.includes('not a KMS card'), err.message)
      t.true(err.message.includes('Card.open'), err.message)
    }
    assertOsError(t, thrown(t, () => Card.open('/nonexistent/card9')), 'ENOENT', 'Card.open')

    // Wrong types, named.
    const types: [() => unknown, string][] = [
      [() => Card.open(7 as unknown as string), 'ERR_INVALID_ARG_TYPE'],
      [() => Card.open(undefined, { master: 1 as unknown as boolean }), 'ERR_INVALID_ARG_TYPE'],
      [() => card.addFramebuffer({} as Frame), 'ERR_INVALID_ARG_TYPE'],
      [() => card.properties(-1), 'ERR_OUT_OF_RANGE'],
      [() => card.atomic().set(s.crtc.id, 'ACTIVE', '1' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      [() => card.atomic().set(s.crtc.id, 'ACTIVE', 2n ** 64n), 'ERR_OUT_OF_RANGE'],
      [() => card.atomic().inFence(s.primary.id, {} as never), 'ERR_INVALID_ARG_TYPE'],
      [() => card.atomic().commit({ flipEvent: 1 as unknown as bigint }), 'ERR_INVALID_ARG_TYPE'],
      [() => card.createModeBlob({ ...s.mode, hdisplay: 70000 }), 'ERR_OUT_OF_RANGE'],
      [() => Reflect.apply(Card.prototype.crtcs, {}, []), 'ERR_INVALID_THIS'],
    ]
    for (const [fn, code] of types) t.is(thrown(t, fn).code, code)

    // An unknown property names what the object has.
    const unknown = thrown(t, () => card.atomic().set(s.crtc.id, 'NO_SUCH_PROPERTY', 1).test())
    t.is(unknown.code, 'ENOENT')
    t.true(unknown.message.includes('MODE_ID'), unknown.message)

    // A format the plane lacks, named (the kernel takes YUYV, the plane does not).
    {
      using u = Udmabuf.open()
      const yuyv = new Frame({ width: 16, height: 16, fourcc: 'YUYV', planes: [{ buf: u.alloc(PAGE), pitch: 32 }] })
      const err = thrown(t, () => card.addFramebuffer(yuyv, s.primary))
      assertOsError(t, err, 'EINVAL', 'Card.addFramebuffer')
      t.true(err.message.includes('does not take YUYV'), err.message)
      const noPlane = thrown(t, () => card.addFramebuffer(yuyv, 99999))
      t.is(noPlane.code, 'ERR_INVALID_ARG_VALUE')
      t.true(noPlane.message.includes('no plane 99999'), noPlane.message)
      // A frame whose DmaBuf was closed.
      yuyv.close()
      t.is(thrown(t, () => card.addFramebuffer(yuyv)).code, 'ERR_DMABUF_CLOSED')
    }

    // A closed card, framebuffer, blob and fence.
    const other = frame(s, 3)
    const fb = card.addFramebuffer(other.frame)
    other.frame.close()
    const blob = card.createModeBlob(s.mode)
    const atomic = card.atomic().set(s.primary.id, 'FB_ID', fb)
    fb.close()
    blob.close()
    t.true(fb.closed && blob.closed)
    t.is(fb.id, 0)
    t.is(thrown(t, () => card.atomic().set(s.primary.id, 'FB_ID', fb)).code, 'ERR_DMABUF_CLOSED')
    t.is(thrown(t, () => card.atomic().set(s.crtc.id, 'MODE_ID', blob)).code, 'ERR_DMABUF_CLOSED')
    {
      using u = Udmabuf.open()
      using buf = u.alloc(PAGE)
      const sf = buf.exportSyncFile('r')
      const withFence = card.atomic().inFence(s.primary.id, sf)
      sf.close()
      t.is(thrown(t, () => withFence.test()).code, 'ERR_DMABUF_CLOSED')
    }
    // An AbortSignal ends a wait with an AbortError; the card stays usable.
    const aborted = await t.throwsAsync(card.nextEvents(undefined, AbortSignal.timeout(20)))
    t.is((aborted as NodeJS.ErrnoException).code, 'ABORT_ERR')
    t.deepEqual(await card.nextEvents(0), [])
    const pending = card.nextEvents()
    card.close()
    t.true(card.closed)
    const closed = await t.throwsAsync(pending)
    t.is((closed as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED')
    for (const fn of [() => card.crtcs(), () => card.atomic(), () => atomic.commit(), () => card.addFramebuffer(other.frame)]) {
      t.is(thrown(t, fn).code, 'ERR_DMABUF_CLOSED')
    }
    t.is((await t.throwsAsync(card.nextEvents(0)))!.message, 'Card.nextEvents: the Card is closed')
    // Master went with the card: a new one takes it.
    using again = await vkms()
    t.true(again.isMaster)
  })
})
