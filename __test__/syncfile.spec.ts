// sync_file fences (device tier): vgem makes fences that stay pending until
// signalled, which is what lets these tests see a sync_file wait.

import type { ExecutionContext } from 'ava'
import { DmaBuf, SyncFile, createUdmabuf } from 'dmabuf'

import { PAGE, assertOsError, deviceTest, fencedVgem, noLeak, openVgem, since, thrown, vgemTest } from './helpers.js'

function assertClosedError(t: ExecutionContext, fn: () => unknown, method: string): void {
  const err = thrown(t, fn)
  t.is(err.code, 'ERR_DMABUF_CLOSED')
  t.true(err.message.includes(method), err.message)
}

deviceTest("an idle buffer's exportSyncFile('r') is already signalled", async (t) => {
  using buf = createUdmabuf(PAGE)
  using sf = buf.exportSyncFile('r')
  t.true(sf.isSignaled())
  t.true(sf.waitSync(0))
  t.true(await sf.wait(0))
  t.is(sf.info().status, 'signaled')
})

// wait(0) is a poll: a signalled fence must win over the zero timeout every
// time, not by the luck of which branch the runtime looks at first.
deviceTest('wait(0) on a signalled sync_file always resolves true', async (t) => {
  using buf = createUdmabuf(PAGE)
  using sf = buf.exportSyncFile('r')
  const results = []
  for (let i = 0; i < 200; i++) results.push(await sf.wait(0, new AbortController().signal))
  t.true(results.every((v) => v === true), `${results.filter((v) => !v).length} of 200 resolved false`)
})

vgemTest('wait(0) on a pending sync_file resolves false at once', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const start = performance.now()
  t.false(await sf.wait(0))
  t.true(since(start) < 1000)
})

vgemTest('a fenced vgem buffer exports a pending sync_file: isSignaled, waitSync and wait all say not yet', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  t.false(sf.isSignaled())
  t.false(sf.waitSync(20))
  const start = performance.now()
  t.false(await sf.wait(50))
  t.true(since(start) >= 45, `wait(50) resolved after ${since(start)} ms`)
})

vgemTest("info() of a pending sync_file shows vgem's fence as active", (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const info = sf.info()
  t.is(info.status, 'active')
  t.is(info.fences.length, 1)
  t.is(info.fences[0].driver, 'vgem')
  t.is(info.fences[0].status, 'active')
  t.is(info.fences[0].timestampNs, 0n)
})

vgemTest('after vgemFenceSignal, wait() resolves true and info() says signaled with a timestamp', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const waiting = sf.wait()
  f.signal()
  t.true(await waiting)
  t.true(sf.isSignaled())
  const info = sf.info()
  t.is(info.status, 'signaled')
  t.is(info.fences[0].status, 'signaled')
  t.true(info.fences[0].timestampNs > 0n)
  using later = f.buf.exportSyncFile('rw')
  t.true(later.isSignaled(), 'a new export after the signal is signalled')
})

// A reader's fence blocks writers only; EXPORT_SYNC_FILE('r') returns what a
// reader must wait for, which is the writers.
vgemTest("a read fence keeps exportSyncFile('w') pending but not exportSyncFile('r')", (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev, false)
  using forReader = f.buf.exportSyncFile('r')
  using forWriter = f.buf.exportSyncFile('w')
  t.true(forReader.isSignaled())
  t.false(forWriter.isSignaled())
})

vgemTest('importSyncFile of a pending sync_file makes a udmabuf wait for it too', (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using pending = f.buf.exportSyncFile('rw')
  using buf = createUdmabuf(PAGE)
  buf.importSyncFile(pending, 'w')
  t.false(pending.closed, 'the kernel only borrows the imported sync_file')
  using before = buf.exportSyncFile('r')
  t.false(before.isSignaled())
  f.signal()
  t.true(before.waitSync(5000))
  using after = buf.exportSyncFile('r')
  t.true(after.isSignaled())
})

vgemTest('merge(pending, signalled) is pending until the fence signals', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using idle = createUdmabuf(PAGE)
  using pending = f.buf.exportSyncFile('rw')
  using done = idle.exportSyncFile('r')
  using merged = pending.merge(done, 'both')
  t.is(merged.info().name, 'both')
  t.false(merged.isSignaled())
  t.false(pending.closed, 'merge consumes neither input')
  t.false(done.closed)
  f.signal()
  t.true(await merged.wait(5000))
  t.is(merged.info().status, 'signaled')
})

vgemTest('a wait in progress goes on after its SyncFile is closed', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  const sf = f.buf.exportSyncFile('rw')
  const waiting = sf.wait(5000)
  sf.close()
  f.signal()
  t.true(await waiting)
})

vgemTest('SyncFile.fromFd duplicates a real sync_file', (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  noLeak(t, () => {
    using copy = SyncFile.fromFd(sf.fd)
    t.not(copy.fd, sf.fd)
    t.false(copy.isSignaled())
    using dup = copy.dup()
    t.not(dup.fd, copy.fd)
    t.is(dup.info().fences[0].timeline, sf.info().fences[0].timeline)
  })
  t.false(sf.closed, "the caller's SyncFile is untouched")
})

deviceTest('a sync_file is not a dma-buf and the other way round', (t) => {
  using buf = createUdmabuf(PAGE)
  using sf = buf.exportSyncFile('r')
  assertOsError(t, thrown(t, () => DmaBuf.fromFd(sf.fd)), 'ENOTTY', 'DmaBuf.fromFd')
  assertOsError(t, thrown(t, () => SyncFile.fromFd(buf.fd)), 'EINVAL', 'SyncFile.fromFd')
})

deviceTest('a closed SyncFile throws ERR_DMABUF_CLOSED (wait() rejects with it); close twice is fine', async (t) => {
  using buf = createUdmabuf(PAGE)
  using other = buf.exportSyncFile('r')
  const sf = buf.exportSyncFile('r')
  sf.close()
  t.true(sf.closed)
  t.is(sf.fd, -1)
  t.notThrows(() => sf.close())
  assertClosedError(t, () => sf.info(), 'SyncFile.info')
  assertClosedError(t, () => sf.dup(), 'SyncFile.dup')
  assertClosedError(t, () => sf.isSignaled(), 'SyncFile.isSignaled')
  assertClosedError(t, () => sf.waitSync(0), 'SyncFile.waitSync')
  // A Promise-returning method never throws: it rejects.
  const pending = sf.wait(0)
  t.true(pending instanceof Promise)
  const rejected = await t.throwsAsync(pending)
  t.is((rejected as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED')
  t.regex(rejected!.message, /SyncFile\.wait/)
  assertClosedError(t, () => sf.merge(other), 'SyncFile.merge')
  assertClosedError(t, () => other.merge(sf), 'SyncFile.merge')
  assertClosedError(t, () => buf.importSyncFile(sf, 'w'), 'DmaBuf.importSyncFile')
})

deviceTest('a bad access string for exportSyncFile or importSyncFile throws TypeError', (t) => {
  using buf = createUdmabuf(PAGE)
  using sf = buf.exportSyncFile('r')
  const bad = 'x' as unknown as 'r'
  for (const fn of [() => buf.exportSyncFile(bad), () => buf.importSyncFile(sf, bad), () => DmaBuf.exportSyncFiles([buf], bad)]) {
    const err = thrown(t, fn)
    t.true(err instanceof TypeError)
    t.is(err.code, 'ERR_INVALID_ARG_VALUE')
  }
})

deviceTest('a negative timeout throws RangeError from waitSync and rejects with it from wait', async (t) => {
  using buf = createUdmabuf(PAGE)
  using sf = buf.exportSyncFile('r')
  for (const fn of [() => sf.waitSync(-1), () => sf.waitSync(Number.NaN)]) {
    const err = thrown(t, fn)
    t.true(err instanceof RangeError)
    t.is(err.code, 'ERR_OUT_OF_RANGE')
  }
  for (const bad of [-1, Number.NaN]) {
    const err = (await t.throwsAsync(sf.wait(bad))) as NodeJS.ErrnoException
    t.true(err instanceof RangeError)
    t.is(err.code, 'ERR_OUT_OF_RANGE')
  }
})
