// udmabuf over memfds: Udmabuf.allocWithMemfd, create and createList
// (device tier). A udmabuf and its memfd share pages, so bytes written
// through either show in the other.

import { closeSync, openSync, readSync, writeSync } from 'node:fs'

import type { ExecutionContext } from 'ava'
import { Udmabuf, type DmaBuf } from 'dmabuf'

import { PAGE, assertOsError, deviceTest, noLeak, pattern, thrown } from './helpers.js'

/** allocWithMemfd, handing both to `fn` and closing both afterwards. */
function withMemfd(t: ExecutionContext, size: number, fn: (dev: Udmabuf, buf: DmaBuf, memfd: number) => void): void {
  noLeak(t, () => {
    using dev = Udmabuf.open()
    const { buffer, memfd } = dev.allocWithMemfd(size)
    try {
      t.is(typeof memfd, 'number')
      fn(dev, buffer, memfd)
    } finally {
      buffer.close()
      closeSync(memfd)
    }
  })
}

deviceTest('bytes written to the memfd with fs.writeSync show in the mapping', (t) => {
  withMemfd(t, 2 * PAGE, (_dev, buf, memfd) => {
    const data = pattern(256, 21)
    t.is(writeSync(memfd, data, 0, data.length, PAGE + 16), data.length)
    using m = buf.map('r')
    using _acc = buf.beginCpuAccess('r')
    t.deepEqual(new Uint8Array(m.buffer, PAGE + 16, 256).slice(), data)
  })
})

deviceTest('bytes written through the mapping read back with fs.readSync on the memfd', (t) => {
  withMemfd(t, PAGE, (_dev, buf, memfd) => {
    const data = pattern(128, 22)
    {
      using m = buf.map('rw')
      using _acc = buf.beginCpuAccess('w')
      new Uint8Array(m.buffer, 512, 128).set(data)
    }
    const back = Buffer.alloc(128)
    t.is(readSync(memfd, back, 0, 128, 512), 128)
    t.deepEqual(new Uint8Array(back), data)
  })
})

deviceTest('create() over a sealed memfd from allocWithMemfd aliases the same pages', (t) => {
  withMemfd(t, 2 * PAGE, (dev, buf, memfd) => {
    buf.write(PAGE, pattern(16, 23))
    using second = dev.create(memfd, PAGE, PAGE)
    t.is(second.size, PAGE)
    t.not(second.info().inode, buf.info().inode, 'a new dma-buf over the same memory')
    t.deepEqual(new Uint8Array(second.read(0, 16)), pattern(16, 23))
  })
})

deviceTest('create() on a regular file throws EINVAL saying it is not a memfd', (t) => {
  noLeak(t, () => {
    using dev = Udmabuf.open()
    const fd = openSync(__filename, 'r')
    try {
      const err = thrown(t, () => dev.create(fd, 0, PAGE))
      assertOsError(t, err, 'EINVAL', 'Udmabuf.create')
      t.regex(err.message, /memfd/)
    } finally {
      closeSync(fd)
    }
  })
})

deviceTest('create() with an offset that is not page-aligned throws EINVAL', (t) => {
  withMemfd(t, 2 * PAGE, (dev, _buf, memfd) => {
    const err = thrown(t, () => dev.create(memfd, 100, PAGE))
    assertOsError(t, err, 'EINVAL', 'Udmabuf.create')
    t.regex(err.message, /page size/)
  })
})

deviceTest("createList() places each memfd range at its offset, in order", (t) => {
  noLeak(t, () => {
    using dev = Udmabuf.open()
    const a = dev.allocWithMemfd(2 * PAGE)
    const b = dev.allocWithMemfd(PAGE)
    try {
      const bytesA = pattern(32, 31)
      const bytesB = pattern(32, 32)
      writeSync(a.memfd, bytesA, 0, 32, PAGE) // the second page of a
      writeSync(b.memfd, bytesB, 0, 32, 0)
      // [a's second page][b's page]
      using list = dev.createList([
        { fd: a.memfd, offset: PAGE, size: PAGE },
        { fd: b.memfd, offset: 0, size: PAGE },
      ])
      t.is(list.size, 2 * PAGE)
      t.is(list.info().exporter, 'udmabuf')
      t.deepEqual(new Uint8Array(list.read(0, 32)), bytesA)
      t.deepEqual(new Uint8Array(list.read(PAGE, 32)), bytesB)

      // And the other way: a write through the list lands in b's memfd.
      list.write(PAGE + 64, pattern(8, 33))
      const back = Buffer.alloc(8)
      readSync(b.memfd, back, 0, 8, 64)
      t.deepEqual(new Uint8Array(back), pattern(8, 33))
    } finally {
      for (const x of [a, b]) {
        x.buffer.close()
        closeSync(x.memfd)
      }
    }
  })
})
