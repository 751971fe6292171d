// capabilities() and listHeaps(): checked against the filesystem on any
// host, and against the VM's known devices in the VM tier.

import { existsSync, readdirSync } from 'node:fs'
import { release } from 'node:os'

import test from 'ava'
import { DrmDevice, capabilities, listHeaps } from 'dmabuf'

import { inVm } from './helpers.js'

const ls = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : [])

test('capabilities() agrees with /dev and uname', (t) => {
  const caps = capabilities()
  t.is(caps.kernel, release())
  t.is(caps.udmabuf, existsSync('/dev/udmabuf'))
  t.deepEqual([...caps.heaps].sort(), ls('/dev/dma_heap'))
  t.deepEqual([...caps.drm.map((n) => n.path)].sort(), ls('/dev/dri').filter((n) => /^(card|renderD)\d+$/.test(n)).map((n) => `/dev/dri/${n}`).sort())
})

test('listHeaps() and DrmDevice.list() match capabilities()', (t) => {
  const caps = capabilities()
  t.deepEqual(listHeaps(), caps.heaps)
  t.deepEqual(DrmDevice.list(), caps.drm.map((n) => n.path))
})

// The VM's kernel is known, so everything must be there; on other hosts
// this would only restate what they happen to have.
;(inVm ? test : test.skip)('in the VM: system heap, udmabuf, a vgem node and every dma-buf ioctl', (t) => {
  const caps = capabilities()
  t.true(caps.heaps.includes('system'), `heaps: ${caps.heaps.join(', ')}`)
  t.true(caps.udmabuf)
  t.true(caps.drm.some((n) => n.driver === 'vgem'), JSON.stringify(caps.drm))
  t.deepEqual(caps.ioctls, { sync: true, setName: true, exportSyncFile: true, importSyncFile: true })
})

// Only on a host without udmabuf or heaps (the VM has both, and the VM tier
// allows no skips, so there it is not registered at all).
const nothingToProbe = !existsSync('/dev/udmabuf') && ls('/dev/dma_heap').length === 0
if (!inVm) {
  ;(nothingToProbe ? test : test.skip)('with no buffer to try them on, the ioctls are unknown rather than false', (t) => {
    t.deepEqual(capabilities().ioctls, {})
  })
}
