// Guards against input the kernel would take badly or misreport (part of
// the hardening issue): sizes beyond the machine's memory, numbers that do
// not fit a kernel field, heap names that are paths, the wrong device node,
// and messages that say what really happened.

import { DrmDevice, Heap, Udmabuf, createUdmabuf } from 'dmabuf'

import { PAGE, deviceTest, heapTest, noLeak, thrown, vgemTest } from './helpers.js'
import test from 'ava'

heapTest('Heap.alloc(2 ** 40) is ENOMEM before the kernel sees it (it used to bring the OOM killer)', (t) => {
  noLeak(t, () => {
    using heap = Heap.open('system')
    for (const size of [2 ** 40, 2 ** 53 - 1]) {
      const err = thrown(t, () => heap.alloc(size))
      t.is(err.code, 'ENOMEM')
      t.regex(err.message, /^ENOMEM: \d+ bytes is more than this machine's memory .*Heap\.alloc/)
    }
    using ok = heap.alloc(PAGE)
    t.is(ok.size, PAGE)
  })
})

deviceTest('udmabuf allocations beyond memory are ENOMEM too', (t) => {
  noLeak(t, () => {
    t.is(thrown(t, () => createUdmabuf(2 ** 45)).code, 'ENOMEM')
    using u = Udmabuf.open()
    t.is(thrown(t, () => u.alloc(2 ** 45)).code, 'ENOMEM')
    t.is(thrown(t, () => u.allocWithMemfd(2 ** 45)).code, 'ENOMEM')
  })
})

vgemTest('createDumb refuses what does not fit its u32 fields instead of truncating, and sizes beyond memory', (t) => {
  noLeak(t, () => {
    using drm = DrmDevice.openDriver('vgem', true)
    for (const bad of [2 ** 32 + 32, 32.7, -1, Number.NaN, Infinity]) {
      const err = thrown(t, () => drm.createDumb(bad, 32, 32))
      t.is(err.code, 'ERR_OUT_OF_RANGE', String(bad))
      t.regex(err.message, /^DrmDevice\.createDumb: The value of "width" is out of range/)
    }
    t.regex(thrown(t, () => drm.createDumb(32, 32, Infinity)).message, /Received Infinity$/)
    t.is(thrown(t, () => drm.createDumb(65535, 65535, 32)).code, 'ENOMEM')
  })
})

test('a heap name is a name: ., .., slashes and NUL are EINVAL (Heap.open("..") used to open /dev)', (t) => {
  for (const name of ['.', '..', '../null', 'a/b', 'sys\0tem', '']) {
    const err = thrown(t, () => Heap.open(name))
    t.is(err.code, 'EINVAL', JSON.stringify(name))
    t.regex(err.message, /Heap\.open/)
  }
})

deviceTest('opening the wrong node fails at once and says what it is (it used to succeed, then ENOTTY "Not a typewriter")', (t) => {
  noLeak(t, () => {
    for (const [fn, what] of [
      [() => Udmabuf.open('/dev/null'), 'udmabuf device'],
      [() => Udmabuf.open('/dev/dma_heap/system'), 'udmabuf device'],
      [() => DrmDevice.open('/dev/null'), 'DRM device'],
    ] as const) {
      const err = thrown(t, fn)
      t.is(err.code, 'ENOTTY')
      t.true(err.message.includes(`is not a ${what}`), err.message)
      t.false(/typewriter|needs Linux/.test(err.message), err.message)
    }
  })
})
