// DRM PRIME through vgem (device tier). The kernel returns the same GEM
// handle each time one dma-buf is imported into a device file, and a single
// GEM_CLOSE would drop it for every importer; the binding counts users.

import { createUdmabuf } from 'dmabuf'

import { PAGE, noLeak, openVgem, pattern, vgemTest } from './helpers.js'

vgemTest('importing one DmaBuf twice gives the same handle, counted twice', (t) => {
  using dev = openVgem()
  using buf = createUdmabuf(PAGE)
  const first = dev.import(buf)
  const second = dev.import(buf)
  t.true(first.handle > 0)
  t.is(second.handle, first.handle)
  const h = first.handle
  t.is(dev.handleUsers(h), 2)

  // Closing one user leaves the kernel handle alive for the other.
  first.close()
  t.is(first.handle, 0)
  t.is(dev.handleUsers(h), 1)
  buf.write(0, pattern(16, 51))
  using back = dev.export(second, 'rw')
  t.is(back.info().inode, buf.info().inode, 'exporting the handle gives back the same buffer')
  t.deepEqual(new Uint8Array(back.read(0, 16)), pattern(16, 51))

  second.close()
  t.is(dev.handleUsers(h), 0)
  t.notThrows(() => second.close(), 'closing a GemHandle twice is fine')
})

vgemTest('a closed GemHandle cannot be exported or fenced', (t) => {
  using dev = openVgem()
  const { handle } = dev.createDumb(16, 16, 32)
  handle.close()
  for (const [fn, method] of [
    [() => dev.export(handle), 'DrmDevice.export'],
    [() => dev.vgemFenceAttach(handle), 'DrmDevice.vgemFenceAttach'],
  ] as const) {
    const err = t.throws(fn) as NodeJS.ErrnoException
    t.is(err.code, 'ERR_DMABUF_CLOSED')
    t.true(err.message.includes(method), err.message)
  }
})

vgemTest('createDumb gives a handle, pitch and size; the export is a vgem dma-buf of that size', (t) => {
  using dev = openVgem()
  t.is(dev.driverName(), 'vgem')
  const { handle, pitch, size } = dev.createDumb(64, 64, 32)
  using _h = handle
  t.true(handle.handle > 0)
  t.true(pitch >= 64 * 4)
  t.true(size >= pitch * 64)
  using buf = dev.export(handle)
  t.is(buf.size, size)
  const info = buf.info()
  // vgem exports through drm_gem_prime_export, whose exporter name is 'drm';
  // the binding names the buffer after the driver.
  t.is(info.exporter, 'drm')
  t.is(info.name, 'drm:vgem')
})

vgemTest('PRIME import and export leak no fd and no handle', (t) => {
  using dev = openVgem()
  let h = 0
  noLeak(t, () => {
    using buf = createUdmabuf(PAGE)
    using gem = dev.import(buf)
    h = gem.handle
    using again = dev.export(gem)
    t.is(again.size, PAGE)
  })
  t.is(dev.handleUsers(h), 0)
})
