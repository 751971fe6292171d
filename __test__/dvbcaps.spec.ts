// DVB as capabilities() and the classes see it, on any kernel: with no
// demux (the host, Debian's kernel) the lists are empty, the export probe
// is absent and opening a demux names what is missing; with one (the
// custom kernel) they agree with /dev/dvb. Never skipped.

import { existsSync, readdirSync } from 'node:fs'

import test from 'ava'
import { DvbDemux, DvbFrontend, capabilities } from 'dmabuf'

import { assertOsError, thrown } from './helpers.js'

function nodes(kind: string): string[] {
  if (!existsSync('/dev/dvb')) return []
  const out: string[] = []
  for (const a of readdirSync('/dev/dvb').sort()) {
    if (!a.startsWith('adapter')) continue
    for (const n of readdirSync(`/dev/dvb/${a}`).sort()) if (new RegExp(`^${kind}\\d+$`).test(n)) out.push(`/dev/dvb/${a}/${n}`)
  }
  return out
}

test('capabilities() and DvbDemux.list() agree with /dev/dvb', (t) => {
  const caps = capabilities()
  t.deepEqual(caps.dvbDemuxes, nodes('demux'))
  t.deepEqual(DvbDemux.list(), nodes('demux'))
  t.deepEqual(DvbFrontend.list(), nodes('frontend'))
  if (caps.dvbDemuxes.length === 0) t.is(caps.dvbExport, undefined, 'nothing to probe: unknown, not false')
  else t.is(typeof caps.dvbExport, 'boolean')
})

test('a missing demux or frontend is ENOENT naming CONFIG_DVB_CORE; a file that is none is ENOTTY', (t) => {
  const missing = thrown(t, () => DvbDemux.open('/dev/dvb/adapter99/demux0'))
  assertOsError(t, missing, 'ENOENT', 'DvbDemux.open')
  t.regex(missing.message, /CONFIG_DVB_CORE/)
  assertOsError(t, thrown(t, () => DvbFrontend.open('/dev/dvb/adapter99/frontend0')), 'ENOENT', 'DvbFrontend.open')
  const notDvb = thrown(t, () => DvbDemux.open('/dev/null'))
  assertOsError(t, notDvb, 'ENOTTY', 'DvbDemux.open')
  t.regex(notDvb.message, /\/dev\/null is not a DVB demux/)
})
