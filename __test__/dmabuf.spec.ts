// DmaBuf, Mapping and CpuAccess on real udmabuf buffers (device tier).

import { closeSync } from 'node:fs'

import test, { type ExecutionContext } from 'ava'
import * as dmabuf from 'dmabuf'
import { DmaBuf, Heap, Udmabuf, createUdmabuf } from 'dmabuf'

import { PAGE, assertOsError, deviceTest, heapTest, noLeak, openFds, pattern, thrown } from './helpers.js'

function assertClosedError(t: ExecutionContext, fn: () => unknown, method: string): void {
  const err = thrown(t, fn)
  t.is(err.code, 'ERR_DMABUF_CLOSED', `${method}: ${err.message}`)
  t.true(err.message.includes(method), err.message)
}

function assertTypeError(t: ExecutionContext, fn: () => unknown, method: string): void {
  const err = thrown(t, fn)
  t.true(err instanceof TypeError)
  t.is(err.code, 'ERR_INVALID_ARG_VALUE')
  t.true(err.message.includes(method), err.message)
}

deviceTest('createUdmabuf rounds the size up to whole pages', (t) => {
  using one = createUdmabuf(1)
  using more = createUdmabuf(PAGE + 1)
  t.is(one.size, PAGE)
  t.is(more.size, 2 * PAGE)
  t.is(more.info().size, 2 * PAGE)
})

deviceTest('Udmabuf.open().alloc rounds up too, and the exporter is udmabuf', (t) => {
  using dev = Udmabuf.open()
  using buf = dev.alloc(3 * PAGE - 100)
  t.is(buf.size, 3 * PAGE)
  const info = buf.info()
  t.is(info.exporter, 'udmabuf')
  t.true(info.writable)
  t.true(info.inode > 0)
})

deviceTest('map() gives an ArrayBuffer over the whole buffer', (t) => {
  using buf = createUdmabuf(2 * PAGE)
  using m = buf.map()
  t.true(m.buffer instanceof ArrayBuffer)
  t.is(m.buffer.byteLength, 2 * PAGE)
  t.is(m.length, 2 * PAGE)
  t.is(m.offset, 0)
  t.is(m.access, 'rw')
  t.true(m.mapped)
})

deviceTest('map(access, offset, length) maps just that range', (t) => {
  using buf = createUdmabuf(3 * PAGE)
  const data = pattern(16, 3)
  buf.write(PAGE, data)
  using m = buf.map('r', PAGE, PAGE)
  t.is(m.offset, PAGE)
  t.is(m.length, PAGE)
  t.is(m.buffer.byteLength, PAGE)
  t.is(m.access, 'r')
  using _acc = buf.beginCpuAccess('r')
  t.deepEqual(new Uint8Array(m.buffer, 0, 16).slice(), data)
})

deviceTest('bytes written through a mapping read back through a mapping of dup() and through read()', (t) => {
  using buf = createUdmabuf(2 * PAGE)
  using copy = buf.dup()
  t.not(copy.fd, buf.fd)
  t.is(copy.info().inode, buf.info().inode, 'dup() is the same buffer')

  const data = pattern(64, 5)
  {
    using m = buf.map()
    using acc = buf.beginCpuAccess('w')
    t.is(acc.access, 'w')
    new Uint8Array(m.buffer, PAGE + 8, 64).set(data)
  }
  {
    using m = copy.map('r')
    using _acc = copy.beginCpuAccess('r')
    t.deepEqual(new Uint8Array(m.buffer, PAGE + 8, 64).slice(), data)
  }
  const read = buf.read(PAGE + 8, 64)
  t.true(Buffer.isBuffer(read))
  t.deepEqual(new Uint8Array(read), data)
})

deviceTest('write(offset, bytes) is visible through a mapping', (t) => {
  using buf = createUdmabuf(PAGE)
  using m = buf.map('r')
  const data = pattern(100, 9)
  buf.write(1000, data)
  using _acc = buf.beginCpuAccess('r')
  t.deepEqual(new Uint8Array(m.buffer, 1000, 100).slice(), data)
})

deviceTest('read() and write() past the end throw RangeError', (t) => {
  using buf = createUdmabuf(PAGE)
  for (const fn of [() => buf.read(PAGE - 1, 2), () => buf.write(PAGE, new Uint8Array(1)), () => buf.read(-1, 1)]) {
    const err = thrown(t, fn)
    t.true(err instanceof RangeError)
    t.is(err.code, 'ERR_OUT_OF_RANGE')
  }
  t.is(buf.read(PAGE, 0).length, 0, 'an empty read at the end is fine')
})

deviceTest('unmap() detaches the ArrayBuffer: old views read as empty and mapped is false', (t) => {
  using buf = createUdmabuf(PAGE)
  const m = buf.map()
  const view = new Uint8Array(m.buffer)
  t.is(view.length, PAGE)
  m.unmap()
  t.false(m.mapped)
  t.is(view.length, 0)
  t.is(view.buffer.byteLength, 0)
  t.is(m.buffer.byteLength, 0)
  t.is(view[0] as number | undefined, undefined, 'reading a detached view does not touch the old memory')
  t.notThrows(() => m.unmap(), 'unmap twice is fine')
})

deviceTest('map() with an offset that is not page-aligned throws EINVAL', (t) => {
  using buf = createUdmabuf(2 * PAGE)
  assertOsError(t, thrown(t, () => buf.map('rw', 100)), 'EINVAL', 'DmaBuf.map')
})

deviceTest('map() of zero bytes throws EINVAL; a range past the end throws ERR_OUT_OF_RANGE naming the argument', (t) => {
  using buf = createUdmabuf(2 * PAGE)
  assertOsError(t, thrown(t, () => buf.map('rw', 0, 0)), 'EINVAL', 'DmaBuf.map')
  const pastEnd = thrown(t, () => buf.map('rw', PAGE, 2 * PAGE))
  t.true(pastEnd instanceof RangeError)
  t.is(pastEnd.code, 'ERR_OUT_OF_RANGE')
  t.regex(pastEnd.message, /^DmaBuf\.map: The value of "length" is out of range/)
  // An offset at or past the end says so (not "cannot map zero bytes").
  for (const offset of [2 * PAGE, 4 * PAGE]) {
    const err = thrown(t, () => buf.map('rw', offset))
    t.is(err.code, 'ERR_OUT_OF_RANGE')
    t.regex(err.message, /"offset"/)
  }
})

deviceTest("a bad access string throws TypeError ERR_INVALID_ARG_VALUE", (t) => {
  using buf = createUdmabuf(PAGE)
  // Bypass the type checker: JavaScript callers can pass anything.
  const bad = 'x' as unknown as 'r'
  assertTypeError(t, () => buf.map(bad), 'DmaBuf.map')
  assertTypeError(t, () => buf.beginCpuAccess(bad), 'DmaBuf.beginCpuAccess')
  assertTypeError(t, () => buf.exportSyncFile(bad), 'DmaBuf.exportSyncFile')
})

heapTest("map('rw') of a read-only heap buffer throws EACCES; map() defaults to 'r' there", (t) => {
  using heap = Heap.open('system')
  using buf = heap.alloc(PAGE, 'r')
  t.false(buf.info().writable)
  t.is(buf.info().exporter, 'system')
  assertOsError(t, thrown(t, () => buf.map('rw')), 'EACCES', 'DmaBuf.map')
  using m = buf.map()
  t.is(m.access, 'r')
})

deviceTest('every method of a closed DmaBuf throws ERR_DMABUF_CLOSED', (t) => {
  using other = createUdmabuf(PAGE)
  using sf = other.exportSyncFile('r')
  const buf = createUdmabuf(PAGE)
  buf.close()
  assertClosedError(t, () => buf.info(), 'DmaBuf.info')
  assertClosedError(t, () => buf.setName('x'), 'DmaBuf.setName')
  assertClosedError(t, () => buf.dup(), 'DmaBuf.dup')
  assertClosedError(t, () => buf.beginCpuAccess('r'), 'DmaBuf.beginCpuAccess')
  assertClosedError(t, () => buf.map(), 'DmaBuf.map')
  assertClosedError(t, () => buf.read(0, 1), 'DmaBuf.read')
  assertClosedError(t, () => buf.write(0, new Uint8Array(1)), 'DmaBuf.write')
  assertClosedError(t, () => buf.exportSyncFile('r'), 'DmaBuf.exportSyncFile')
  assertClosedError(t, () => buf.importSyncFile(sf, 'r'), 'DmaBuf.importSyncFile')
})

deviceTest('close(): fd becomes -1, closed true, size 0, and a second close() does nothing', (t) => {
  noLeak(t, () => {
    const buf = createUdmabuf(PAGE)
    t.true(buf.fd >= 0)
    t.false(buf.closed)
    buf.close()
    t.is(buf.fd, -1)
    t.true(buf.closed)
    t.is(buf.size, 0)
    t.notThrows(() => buf.close())
  })
})

deviceTest('a Mapping outlives close() of its DmaBuf', (t) => {
  const buf = createUdmabuf(PAGE)
  const data = pattern(32, 11)
  buf.write(0, data)
  using m = buf.map('r')
  buf.close()
  t.true(m.mapped)
  t.deepEqual(new Uint8Array(m.buffer, 0, 32).slice(), data)
})

deviceTest('setName() shows in info().name; a 40-byte name throws EINVAL', (t) => {
  using buf = createUdmabuf(PAGE)
  buf.setName('frame-17')
  t.is(buf.info().name, 'frame-17')
  assertOsError(t, thrown(t, () => buf.setName('n'.repeat(40))), 'EINVAL', 'DmaBuf.setName')
  t.is(buf.info().name, 'frame-17', 'a rejected name leaves the old one')
})

deviceTest('`using` closes a DmaBuf at the end of its block', (t) => {
  const before = openFds()
  let escaped: DmaBuf
  {
    using buf = createUdmabuf(PAGE)
    escaped = buf
    t.is(openFds(), before + 1)
  }
  t.true(escaped.closed)
  t.is(openFds(), before)
})

deviceTest('CpuAccess: active flips on end(), and end() twice is fine', (t) => {
  using buf = createUdmabuf(PAGE)
  const acc = buf.beginCpuAccess('rw')
  t.is(acc.access, 'rw')
  t.true(acc.active)
  acc.end()
  t.false(acc.active)
  t.notThrows(() => acc.end())
  t.false(acc.active)
})

deviceTest('CpuAccess objects come only from beginCpuAccess', (t) => {
  using buf = createUdmabuf(PAGE)
  using acc = buf.beginCpuAccess('r')
  // CpuAccess is a plain TypeScript class (no native object per access).
  t.is(Object.prototype.toString.call(acc), '[object CpuAccess]')
  t.is(acc[Symbol.dispose], acc.end, 'CpuAccess[Symbol.dispose] is end()')
  const Ctor = acc.constructor as new (...args: unknown[]) => unknown
  const err = thrown(t, () => new Ctor(undefined, buf, 1))
  t.true(err instanceof TypeError)
  t.is(err.code, 'ERR_ILLEGAL_CONSTRUCTOR')
})

deviceTest('several CpuAccess at once: each end() ends its own, close() ends the rest', (t) => {
  const buf = createUdmabuf(PAGE)
  const r = buf.beginCpuAccess('r')
  const w = buf.beginCpuAccess('w')
  const rw = buf.beginCpuAccess('rw')
  w.end()
  t.deepEqual([r.active, w.active, rw.active], [true, false, true])
  buf.close()
  t.deepEqual([r.active, w.active, rw.active], [false, false, false])
  t.notThrows(() => {
    r.end()
    rw.end()
  })
})

deviceTest('closing a DmaBuf ends its open CpuAccess', (t) => {
  const buf = createUdmabuf(PAGE)
  const acc = buf.beginCpuAccess('w')
  t.true(acc.active)
  buf.close()
  t.false(acc.active)
  t.notThrows(() => acc.end())
})

deviceTest("DmaBuf.fromFd duplicates a real dma-buf: new fd, same buffer, the caller's fd untouched", (t) => {
  using buf = createUdmabuf(PAGE)
  buf.write(0, pattern(8, 2))
  noLeak(t, () => {
    using wrapped = DmaBuf.fromFd(buf.fd)
    t.not(wrapped.fd, buf.fd)
    t.is(wrapped.size, PAGE)
    t.is(wrapped.info().inode, buf.info().inode)
    t.deepEqual(new Uint8Array(wrapped.read(0, 8)), pattern(8, 2))
  })
  t.false(buf.closed)
  t.deepEqual(new Uint8Array(buf.read(0, 8)), pattern(8, 2), "the caller's DmaBuf still works")
})

deviceTest('DmaBuf.fromFd on a memfd throws ENOTTY', (t) => {
  using dev = Udmabuf.open()
  const { buffer, memfd } = dev.allocWithMemfd(PAGE)
  buffer.close()
  try {
    assertOsError(t, thrown(t, () => DmaBuf.fromFd(memfd)), 'ENOTTY', 'DmaBuf.fromFd')
  } finally {
    closeSync(memfd)
  }
})

deviceTest('a closed Udmabuf throws ERR_DMABUF_CLOSED; buffers made from it live on', (t) => {
  const dev = Udmabuf.open()
  using buf = dev.alloc(PAGE)
  dev.close()
  assertClosedError(t, () => dev.alloc(PAGE), 'Udmabuf.alloc')
  t.notThrows(() => dev.close())
  buf.write(0, pattern(4))
  t.deepEqual(new Uint8Array(buf.read(0, 4)), pattern(4))
})

deviceTest('allocating, mapping, accessing and closing leaks no fd', (t) => {
  noLeak(t, () => {
    using dev = Udmabuf.open()
    using buf = dev.alloc(PAGE)
    using copy = buf.dup()
    using m = copy.map()
    using _acc = copy.beginCpuAccess('rw')
    new Uint8Array(m.buffer)[0] = 1
    buf.write(1, new Uint8Array([2]))
    t.deepEqual([...buf.read(0, 2)], [1, 2])
  })
})

// napi-rs cannot name a method by a symbol; the binding adds these at load.
test('[Symbol.dispose] is close(), end() or unmap() on every class', (t) => {
  const aliases = {
    DmaBuf: 'close',
    Mapping: 'unmap',
    SyncFile: 'close',
    Heap: 'close',
    Udmabuf: 'close',
    DrmDevice: 'close',
    GemHandle: 'close',
  } as const
  for (const [cls, method] of Object.entries(aliases)) {
    const proto = dmabuf[cls as keyof typeof aliases].prototype as unknown as Record<PropertyKey, unknown>
    t.is(typeof proto[Symbol.dispose], 'function', cls)
    t.is(proto[Symbol.dispose], proto[method], `${cls}[Symbol.dispose] is ${method}()`)
  }
})
