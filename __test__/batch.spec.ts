// The batch calls (device tier): DmaBuf.exportSyncFiles and
// DmaBuf.importSyncFileAll, as a compositor uses them once per frame for
// all the planes of a buffer (kmsroots, wlroots). All or nothing.

import type { ExecutionContext } from 'ava'
import { DmaBuf, createUdmabuf } from 'dmabuf'

import { PAGE, deviceTest, fencedVgem, noLeak, openFds, openVgem, thrown, vgemTest } from './helpers.js'

function threeBuffers(): DmaBuf[] & Disposable {
  const bufs = [createUdmabuf(PAGE), createUdmabuf(PAGE), createUdmabuf(PAGE)]
  return Object.assign(bufs, {
    [Symbol.dispose]() {
      for (const b of bufs) b.close()
    },
  })
}

function assertClosedAtIndex1(t: ExecutionContext, err: NodeJS.ErrnoException, method: string): void {
  t.is(err.code, 'ERR_DMABUF_CLOSED')
  t.regex(err.message, /index 1/)
  t.true(err.message.includes(method), err.message)
}

deviceTest('exportSyncFiles returns one SyncFile per buffer, each its own fd', (t) => {
  using bufs = threeBuffers()
  const before = openFds()
  const sfs = DmaBuf.exportSyncFiles(bufs, 'r')
  t.is(sfs.length, 3)
  t.is(openFds(), before + 3)
  t.is(new Set(sfs.map((s) => s.fd)).size, 3)
  t.true(sfs.every((s) => s.isSignaled()), 'idle buffers give signalled sync_files')
  for (const s of sfs) s.close()
  t.is(openFds(), before)
})

deviceTest('exportSyncFiles with a closed buffer throws naming its index and makes nothing', (t) => {
  using bufs = threeBuffers()
  const [a, b, c] = bufs
  b.close()
  noLeak(t, () => {
    const err = thrown(t, () => DmaBuf.exportSyncFiles(bufs, 'r'))
    assertClosedAtIndex1(t, err, 'DmaBuf.exportSyncFiles')
  })
  t.false(a.closed)
  t.false(c.closed)
  using sa = a.exportSyncFile('r')
  using sc = c.exportSyncFile('r')
  t.true(sa.isSignaled() && sc.isSignaled(), 'the other buffers are still usable')
})

vgemTest('importSyncFileAll makes every buffer wait for the fence, and only borrows the SyncFile', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using pending = f.buf.exportSyncFile('rw')
  using bufs = threeBuffers()

  noLeak(t, () => DmaBuf.importSyncFileAll(bufs, pending, 'w'))
  t.false(pending.closed)
  t.false(pending.isSignaled(), 'the SyncFile is still open and usable')

  const exports = DmaBuf.exportSyncFiles(bufs, 'r')
  try {
    t.true(exports.every((s) => !s.isSignaled()))
    f.signal()
    const done = await Promise.all(exports.map((s) => s.wait(5000)))
    t.deepEqual(done, [true, true, true])
  } finally {
    for (const s of exports) s.close()
  }
})

vgemTest('importSyncFileAll with a closed buffer in the middle throws and attaches nothing', (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using pending = f.buf.exportSyncFile('rw')
  using bufs = threeBuffers()
  const [a, b, c] = bufs
  b.close()
  noLeak(t, () => {
    const err = thrown(t, () => DmaBuf.importSyncFileAll(bufs, pending, 'w'))
    assertClosedAtIndex1(t, err, 'DmaBuf.importSyncFileAll')
  })
  t.false(a.closed)
  t.false(c.closed)
  t.false(pending.closed)
  // Every buffer is checked before any fence is attached.
  using sa = a.exportSyncFile('r')
  using sc = c.exportSyncFile('r')
  t.true(sa.isSignaled())
  t.true(sc.isSignaled())
})
