// KMS for the command: the listing `dmabuf info` prints (each card node
// opened without taking DRM master) and the display `dmabuf demo --sink kms`
// shows its frames on.

import * as d from '../../index'

/** A mode as people write it: `1024x768@60`. */
export function modeName(m: d.KmsMode): string {
  return `${m.hdisplay}x${m.vdisplay}@${m.vrefresh}`
}

/** The refresh rate a mode's timings give (pixel clock over the frame's total pixels), in Hz; `vrefresh` when the timings are zero. */
export function refreshHz(m: d.KmsMode): number {
  const total = m.htotal * m.vtotal
  return total > 0 && m.clock > 0 ? (m.clock * 1000) / total : m.vrefresh
}

/** One plane's formats, grouped by the modifiers IN_FORMATS lists for them (names as `drm_info` prints them). */
export interface KmsFormatGroup {
  /** The modifiers' names (`LINEAR`, `I915_FORMAT_MOD_Y_TILED`, ...); empty when the plane has no IN_FORMATS. */
  modifiers: string[]
  /** The fourcc names (`XR24`). */
  formats: string[]
}

export interface KmsCardListing {
  path: string
  /** The driver's name, or null when the node could not be opened. */
  driver: string | null
  /** `kms`: listed; `not-kms`: a DRM card without modesetting (vgem); `error`: it would not open (EACCES, ...). */
  status: 'kms' | 'not-kms' | 'error'
  /** Why it is not listed (status `not-kms` or `error`). */
  reason?: string
  /** The errno name when status is `error`. */
  code?: string
  connectors?: { id: number; name: string; type: string; status: string; modes: number; preferred: string | null; possibleCrtcs: number[] }[]
  crtcs?: { id: number; index: number; mode: string | null; fbId: number }[]
  planes?: { id: number; type: string; possibleCrtcs: number[]; crtcId: number; fbId: number; formats: KmsFormatGroup[] }[]
}

/** The card nodes (`/dev/dri/card*`; render nodes cannot modeset), in name order. */
export function cardNodes(): string[] {
  let nodes: string[]
  try {
    nodes = d.DrmDevice.list()
  } catch {
    return []
  }
  return nodes.filter((p) => /\/card\d+$/.test(p)).sort((a, b) => Number(a.replace(/\D+/g, '')) - Number(b.replace(/\D+/g, '')))
}

/** The driver of a DRM node that Card.open refused (DRM_IOCTL_VERSION through DrmDevice), or null. */
function driverOf(path: string): string | null {
  try {
    const dev = d.DrmDevice.open(path)
    try {
      return dev.driverName()
    } finally {
      dev.close()
    }
  } catch {
    return null
  }
}

function groups(p: d.KmsPlane): KmsFormatGroup[] {
  const byMods = new Map<string, KmsFormatGroup>()
  for (const f of p.formats) {
    const modifiers = (Object.hasOwn(p.modifiers, f) ? p.modifiers[f] : []).map((m) => d.drmModifierName(m))
    const key = modifiers.join(' ')
    const g = byMods.get(key)
    if (g) g.formats.push(f)
    else byMods.set(key, { modifiers, formats: [f] })
  }
  return [...byMods.values()]
}

/**
 * Lists every card node: opened with `master: false` (DRM master is not
 * taken from a display server, and one the kernel gives a first opener is
 * dropped), so listing never stops another program from committing. A
 * card that will not open is reported, not thrown.
 */
export function listKms(): KmsCardListing[] {
  return cardNodes().map((path): KmsCardListing => {
    let card: d.Card
    try {
      card = d.Card.open(path, { master: false })
    } catch (e) {
      const err = e as Error & { code?: string }
      const reason = err.message.replace(/^E[A-Z0-9]+: /, '').replace(/, Card\.open$/, '')
      if (err.code === 'EOPNOTSUPP') return { path, driver: driverOf(path), status: 'not-kms', reason: 'no KMS modesetting (a render-only or buffer-only driver)' }
      return { path, driver: driverOf(path), status: 'error', code: err.code ?? 'unknown', reason }
    }
    try {
      return {
        path,
        driver: card.driverName(),
        status: 'kms',
        connectors: card.connectors().map((c) => {
          const pref = c.modes.find((m) => m.preferred)
          return { id: c.id, name: c.name, type: c.type, status: c.status, modes: c.modes.length, preferred: pref ? modeName(pref) : null, possibleCrtcs: c.possibleCrtcs }
        }),
        crtcs: card.crtcs().map((c) => ({ id: c.id, index: c.index, mode: c.mode ? modeName(c.mode) : null, fbId: c.fbId })),
        planes: card.planes().map((p) => ({ id: p.id, type: p.type, possibleCrtcs: p.possibleCrtcs, crtcId: p.crtcId, fbId: p.fbId, formats: groups(p) })),
      }
    } catch (e) {
      const err = e as Error & { code?: string }
      return { path, driver: null, status: 'error', code: err.code ?? 'unknown', reason: err.message }
    } finally {
      card.close()
    }
  })
}
