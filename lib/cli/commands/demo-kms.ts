// `dmabuf demo --sink kms`: the demo's frames shown on the first KMS display
// with atomic commits, each asking for the CRTC's out-fence, and the flip
// timing read from the out-fences' signal times.

import * as d from '../../index'
import { CliError, EXIT_FAIL, EXIT_UNSUPPORTED } from '../util/errors'
import { cardNodes, modeName, refreshHz } from '../util/kms'
import { bold, dim, green, out, red } from '../util/output'

const PAGE = 4096
/** How long one out-fence may take before the demo gives up (a display at 1 Hz would still pass). */
const FENCE_TIMEOUT_MS = 5_000

/** What a display needs for the demo: a connected connector, its mode, a CRTC it can drive and that CRTC's primary plane taking XR24 LINEAR. */
interface Display {
  card: d.Card
  conn: d.KmsConnector
  mode: d.KmsMode
  crtc: d.KmsCrtc
  primary: d.KmsPlane
  /** Writeback connectors (vkms's) that may hold the CRTC: turned off in the first commit. */
  writeback: d.KmsConnector[]
}

/** The one line the demo prints when there is no display to show on. */
export const NO_DISPLAY =
  'demo: --sink kms: this system has no KMS display (no /dev/dri/card* with modesetting and a connected connector): ' +
  'load a display driver, or vkms for a virtual one (CONFIG_DRM_VKMS, modprobe vkms); in a checkout of the repository, ' +
  'npm run demo -- --sink kms runs it inside the project\'s custom-kernel VM, which has vkms'

function pick(card: d.Card): Omit<Display, 'card'> | null {
  const conns = card.connectors()
  const crtcs = card.crtcs()
  const planes = card.planes()
  for (const conn of conns) {
    if (conn.writeback || conn.status !== 'connected' || conn.modes.length === 0) continue
    const mode = conn.modes.find((m) => m.preferred) ?? conn.modes[0]
    for (const crtc of crtcs) {
      if (!conn.possibleCrtcs.includes(crtc.id)) continue
      const primary = planes.find((p) => p.type === 'primary' && p.possibleCrtcs.includes(crtc.id) && p.formats.includes('XR24') && (!p.modifiers.XR24?.length || p.modifiers.XR24.includes(0n)))
      if (primary) return { conn, mode, crtc, primary, writeback: conns.filter((c) => c.writeback) }
    }
  }
  return null
}

/** Opens the first card node with a display as DRM master; EBUSY (another master) is a clear error. */
function openDisplay(): Display {
  const busy: string[] = []
  const denied: string[] = []
  for (const path of cardNodes()) {
    let card: d.Card
    try {
      card = d.Card.open(path, { master: true })
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code === 'EBUSY') busy.push(path)
      else if (code === 'EACCES' || code === 'EPERM') denied.push(path)
      // Not KMS (vgem): the next node.
      continue
    }
    try {
      try {
        card.enableWriteback()
      } catch {
        // A kernel before 4.19 or a driver without writeback: nothing to turn off.
      }
      const p = pick(card)
      if (p) return { card, ...p }
    } catch (e) {
      card.close()
      throw e
    }
    card.close()
  }
  if (busy.length) throw new CliError(`demo: --sink kms: ${busy.join(', ')} has another DRM master (a display server or another program showing on it): stop it, or run from a text console`, EXIT_FAIL)
  if (denied.length) throw new CliError(`demo: --sink kms: ${denied.join(', ')} may not be opened by this user (EACCES): get read-write access to it (its group, often video), or run as root`, EXIT_FAIL)
  throw new CliError(NO_DISPLAY, EXIT_UNSUPPORTED)
}

/** The dma-buf of one XR24 frame of `bytes` bytes: a heap's (system) when asked and present, else udmabuf. */
function allocFrame(source: 'udmabuf' | 'heap', bytes: number): d.DmaBuf {
  const size = Math.ceil(bytes / PAGE) * PAGE
  if (source === 'heap') {
    const heaps = d.listHeaps()
    const heap = d.Heap.open(heaps.includes('system') ? 'system' : heaps[0])
    try {
      return heap.alloc(size)
    } finally {
      heap.close()
    }
  }
  return d.createUdmabuf(size)
}

/** Paints frame `f`: a background whose colour turns with f and a white band moving down, written under CPU access. */
function paint(buf: d.DmaBuf, u32: Uint32Array, w: number, h: number, f: number): void {
  const access = buf.beginCpuAccess('w')
  try {
    const r = (f * 5) & 0xff
    const g = (f * 3 + 85) & 0xff
    const b = (255 - f * 7) & 0xff
    u32.fill(0xff000000 | (r << 16) | (g << 8) | b, 0, w * h)
    const band = Math.max(1, h >> 4)
    const y = (f * 8) % Math.max(1, h - band)
    u32.fill(0xffffffff, y * w, (y + band) * w)
  } finally {
    access.end()
  }
}

/** The primary plane's properties that show `fb` full screen on the CRTC. */
function showFull(a: d.KmsAtomic, s: Display, fb: d.Framebuffer): d.KmsAtomic {
  const { hdisplay: w, vdisplay: h } = s.mode
  const p = s.primary.id
  a.set(p, 'FB_ID', fb).set(p, 'CRTC_ID', s.crtc.id)
  a.set(p, 'SRC_X', 0).set(p, 'SRC_Y', 0).set(p, 'SRC_W', BigInt(w) << 16n).set(p, 'SRC_H', BigInt(h) << 16n)
  return a.set(p, 'CRTC_X', 0).set(p, 'CRTC_Y', 0).set(p, 'CRTC_W', w).set(p, 'CRTC_H', h)
}

/** The latest signal time among a sync_file's fences (CLOCK_MONOTONIC, ns), or 0n when it reports none. */
function signalledAt(sf: d.SyncFile): bigint {
  let t = 0n
  for (const f of sf.info().fences) if (f.timestampNs > t) t = f.timestampNs
  return t
}

/**
 * Commits nonblocking; EBUSY (the previous commit's cleanup not yet done,
 * although its fence signalled) is retried for up to a second.
 */
async function commitRetrying(a: d.KmsAtomic): Promise<Map<number, d.SyncFile>> {
  for (let tries = 0; ; tries++) {
    try {
      return a.commit({ nonblock: true })
    } catch (e) {
      if ((e as { code?: string }).code !== 'EBUSY' || tries >= 200) throw e
      await new Promise((ok) => setTimeout(ok, 5))
    }
  }
}

/** What the display showed before: put back at the end when it had a mode and a framebuffer, else the CRTC is turned off. */
interface Before {
  mode: d.KmsMode | undefined
  fbId: number
  plane: Map<string, bigint>
  connCrtc: bigint
}

function before(s: Display): Before {
  const crtc = s.card.crtcs().find((c) => c.id === s.crtc.id)
  const plane = new Map(s.card.properties(s.primary.id).map((p) => [p.name, p.value]))
  const connCrtc = s.card.properties(s.conn.id).find((p) => p.name === 'CRTC_ID')?.value ?? 0n
  return { mode: crtc?.mode, fbId: crtc?.fbId ?? 0, plane, connCrtc }
}

/** Puts the display back as it was (another client's framebuffer, such as the console's), or turns the CRTC off; says which. */
function restore(s: Display, b: Before): string {
  const off = (): void => {
    const a = s.card.atomic().set(s.primary.id, 'FB_ID', 0).set(s.primary.id, 'CRTC_ID', 0)
    a.set(s.conn.id, 'CRTC_ID', 0).set(s.crtc.id, 'ACTIVE', 0).set(s.crtc.id, 'MODE_ID', 0)
    a.commit({ allowModeset: true })
  }
  if (b.mode && b.fbId && b.plane.get('FB_ID') === BigInt(b.fbId) && b.connCrtc === BigInt(s.crtc.id)) {
    try {
      const blob = s.card.createModeBlob(b.mode)
      try {
        const a = s.card.atomic().set(s.crtc.id, 'MODE_ID', blob).set(s.crtc.id, 'ACTIVE', 1).set(s.conn.id, 'CRTC_ID', s.crtc.id)
        for (const name of ['FB_ID', 'CRTC_ID', 'SRC_X', 'SRC_Y', 'SRC_W', 'SRC_H', 'CRTC_X', 'CRTC_Y', 'CRTC_W', 'CRTC_H']) {
          const v = b.plane.get(name)
          if (v !== undefined) a.set(s.primary.id, name, v)
        }
        a.commit({ allowModeset: true })
        return `restored: framebuffer ${b.fbId} in ${modeName(b.mode)} again`
      } finally {
        blob.close()
      }
    } catch {
      // Its framebuffer is gone meanwhile: turn the CRTC off instead.
    }
  }
  off()
  return 'cleared: the CRTC is off again'
}

export interface KmsSinkResult {
  failed: boolean
}

/**
 * Shows `frames` frames on the first KMS display, `ring` framebuffers in
 * turn: each frame is painted into a buffer the screen is not showing, then
 * one nonblocking atomic commit flips the primary plane to it and asks for
 * the CRTC's out-fence (OUT_FENCE_PTR); the demo waits for that fence (on
 * the event loop) before the next frame. The first commit sets the mode; at
 * the end the display is put back as it was (or its CRTC turned off) and
 * every framebuffer removed, also when a commit fails.
 */
export async function kmsSink(frames: number, ring: number, source: 'udmabuf' | 'heap', inVm: boolean): Promise<KmsSinkResult> {
  const s = openDisplay()
  const fbs: d.Framebuffer[] = []
  const bufs: d.DmaBuf[] = []
  const maps: d.Mapping[] = []
  let was: Before | undefined
  let modeset = false
  try {
    const { hdisplay: w, vdisplay: h } = s.mode
    const driver = s.card.driverName()
    const hz = refreshHz(s.mode)
    out(`${bold('dmabuf demo')}: ${frames} frames on ${s.card.path} (${driver}), ${s.conn.name} in ${modeName(s.mode)} (${hz.toFixed(2)} Hz by its timings), a ring of ${ring} ${source} framebuffers, XR24 LINEAR ${w}x${h}${inVm ? ' (inside the project VM)' : ''}`)
    for (let i = 0; i < ring; i++) {
      const buf = allocFrame(source, w * 4 * h)
      bufs.push(buf)
      buf.setName(`demo-kms-${i}`)
      maps.push(buf.map('rw'))
      const frame = new d.Frame({ width: w, height: h, fourcc: 'XR24', planes: [{ buf, pitch: w * 4 }] })
      // The framebuffer holds GEM handles of its own; the Frame does not own the buffer's fd.
      fbs.push(s.card.addFramebuffer(frame, s.primary))
    }
    const views = maps.map((m) => new Uint32Array(m.buffer))
    was = before(s)

    // Frame 0 with the mode set: the connector on the CRTC, its mode, the CRTC on.
    paint(bufs[0], views[0], w, h, 0)
    const blob = s.card.createModeBlob(s.mode)
    try {
      const a = s.card.atomic().set(s.conn.id, 'CRTC_ID', s.crtc.id).set(s.crtc.id, 'MODE_ID', blob).set(s.crtc.id, 'ACTIVE', 1)
      for (const wb of s.writeback) a.set(wb.id, 'CRTC_ID', 0)
      showFull(a, s, fbs[0])
      modeset = true
      a.commit({ allowModeset: true })
    } finally {
      blob.close()
    }

    // Each frame: paint a buffer the screen is not showing, flip to it with
    // a nonblocking commit, wait for the out-fence. The fence's own time
    // (SYNC_IOC_FILE_INFO) is the vblank's timestamp, which a driver may
    // stamp with the vblank's due time (vkms does, its timer's): it can
    // precede a commit made while the timer ran late, so the latency is
    // taken when this process sees the fence signal, and the fence times
    // give the flip intervals. Nor is "still pending when the commit
    // returned" a test: on one busy CPU the flip may complete inside the
    // ioctl. Each flip must come at a later vblank than the one before.
    const latencies: number[] = []
    const flips: bigint[] = []
    let stampedEarly = 0
    for (let f = 1; f <= frames; f++) {
      const i = f % ring
      paint(bufs[i], views[i], w, h, f)
      const request = showFull(s.card.atomic(), s, fbs[i]).outFence(s.crtc.id)
      const committed = process.hrtime.bigint()
      const fences = await commitRetrying(request)
      const fence = fences.get(s.crtc.id)
      if (!fence) throw new CliError(`demo: --sink kms: the commit of frame ${f} returned no out-fence for CRTC ${s.crtc.id}`)
      try {
        if (!(await fence.wait(FENCE_TIMEOUT_MS))) throw new CliError(`demo: --sink kms: the out-fence of frame ${f} did not signal in ${FENCE_TIMEOUT_MS / 1000} s`)
        latencies.push(Number(process.hrtime.bigint() - committed) / 1e6)
        const at = signalledAt(fence)
        if (at > 0n) {
          flips.push(at)
          if (at < committed) stampedEarly++
        }
      } finally {
        fence.close()
      }
    }
    const mean = latencies.reduce((x, y) => x + y, 0) / latencies.length
    let min = Infinity
    let max = -Infinity
    for (const l of latencies) {
      if (l < min) min = l
      if (l > max) max = l
    }
    let period = 0
    if (flips.length > 1) period = Number(flips[flips.length - 1] - flips[0]) / 1e6 / (flips.length - 1)
    out(`kms: ${latencies.length} frames shown, each by one nonblocking atomic commit with an out-fence`)
    out(`  commit -> out-fence signalled: mean ${mean.toFixed(2)} ms, min ${min.toFixed(2)} ms, max ${max.toFixed(2)} ms`)
    out(`  mode ${modeName(s.mode)}: ${hz.toFixed(2)} Hz refresh (${(1000 / hz).toFixed(2)} ms a frame); the out-fences' vblank times ${period ? `${period.toFixed(2)} ms apart on average (${(1000 / period).toFixed(1)} flips/s)` : 'give no interval (one frame)'}`)
    let ordered = 0
    for (let k = 1; k < flips.length; k++) if (flips[k] > flips[k - 1]) ordered++
    const pairs = Math.max(0, flips.length - 1)
    out(`  each flip at a later vblank than the one before: ${ordered}/${pairs} ${ordered < pairs ? red('FAILED') : green('ok')}`)
    if (stampedEarly) out(dim(`  (${stampedEarly === 1 ? '1 out-fence carries a vblank time before its commit' : `${stampedEarly} out-fences carry a vblank time before their commit`}: the driver stamps a vblank with its due time, and its timer ran late)`))
    return { failed: ordered < pairs }
  } finally {
    let restored: string | undefined
    try {
      if (modeset && was) restored = restore(s, was)
    } finally {
      for (const fb of fbs) fb.close()
      for (const m of maps) m.unmap()
      for (const b of bufs) b.close()
      s.card.close()
    }
    if (restored) out(dim(`  display ${restored}; ${fbs.length} framebuffers removed`))
  }
}
