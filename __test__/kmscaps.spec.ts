// KMS as a kernel without a display sees it, on every tier: Debian's kernel
// has vgem (a card with no mode setting) but no vkms, the host has no
// /dev/dri at all. There Card.open() must say what it tried and which
// kernel option gives a display; where vkms is (the custom kernel) the same
// call finds it. Never skipped: each branch asserts what this kernel has.

import { existsSync, readdirSync, readlinkSync } from 'node:fs'

import test from 'ava'
import { Card } from 'dmabuf'

import { assertOsError, thrown } from './helpers.js'

const cards = existsSync('/dev/dri') ? readdirSync('/dev/dri').filter((n) => /^card\d+$/.test(n)) : []
const hasVkms = existsSync('/sys/module/vkms')

test('Card.open() with no KMS card is ENODEV naming every card tried and CONFIG_DRM_VKMS', (t) => {
  if (hasVkms) {
    // Without master: kms.spec may hold it in the same guest.
    const card = Card.open(undefined, { master: false })
    try {
      t.is(card.driverName(), 'vkms', 'the first card with mode setting is vkms')
      t.true(card.crtcs().length > 0)
    } finally {
      card.close()
    }
    return
  }
  const e = thrown(t, () => Card.open(undefined, { master: false }))
  assertOsError(t, e, 'ENODEV', 'Card.open')
  t.regex(e.message, /CONFIG_DRM_VKMS/)
  if (cards.length === 0) t.regex(e.message, /tried: no card/)
  for (const c of cards) t.true(e.message.includes(`/dev/dri/${c} (`), `${c} is listed as tried: ${e.message}`)
  if (existsSync('/sys/module/vgem')) t.regex(e.message, /\(vgem: /, 'vgem is named as passed over')
})

test('Card.open(path) of a card with no mode setting, or of no DRM node, says so', (t) => {
  const missing = thrown(t, () => Card.open('/dev/dri/card99'))
  assertOsError(t, missing, 'ENOENT', 'Card.open')
  const notDrm = thrown(t, () => Card.open('/dev/null'))
  assertOsError(t, notDrm, 'ENOTTY', 'Card.open')
  t.regex(notDrm.message, /\/dev\/null is not a DRM device/)
  // vgem (Debian's kernel and the custom one): a card node, no mode setting.
  const vgem = cards.find((c) => /\bvgem$/.test(deviceOf(c)))
  if (existsSync('/sys/module/vgem')) t.truthy(vgem, `vgem's card is among ${cards.join(', ')}`)
  if (vgem !== undefined) {
    const e = thrown(t, () => Card.open(`/dev/dri/${vgem}`, { master: false }))
    t.log(e.message)
    assertOsError(t, e, 'EOPNOTSUPP', 'Card.open')
    t.true(e.message.includes(`/dev/dri/${vgem}`), e.message)
  }
})

/** The card's device in sysfs: vgem and vkms are platform devices named after their driver. */
function deviceOf(card: string): string {
  try {
    return readlinkSync(`/sys/class/drm/${card}/device`)
  } catch {
    return ''
  }
}
