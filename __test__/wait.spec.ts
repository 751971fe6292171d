// SyncFile.wait() occupies no thread and honours AbortSignal (device tier).
// This file has its process to itself, so the libuv thread pool measured
// here is not shared with other tests. UV_THREADPOOL_SIZE is left at its
// default (4) on purpose.

import { promises as fsp } from 'node:fs'

import { openVgem, fencedVgem, since, vgemTest } from './helpers.js'

vgemTest('1000 pending waits block neither the thread pool nor each other', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')

  let settled = 0
  const waits = Array.from({ length: 1000 }, () =>
    sf.wait().then((v) => {
      settled++
      return v
    }),
  )

  // Were each wait parked on a pool thread, this read would queue behind them
  // until vgem's own 10 s fence timeout.
  const start = performance.now()
  const self = await fsp.readFile(__filename)
  t.true(self.length > 0)
  t.true(since(start) < 2000, `fs.promises.readFile took ${since(start)} ms`)
  t.is(settled, 0, 'every wait is still pending')

  f.signal()
  const results = await Promise.all(waits)
  t.is(results.length, 1000)
  t.true(results.every((v) => v === true))
})

vgemTest('aborting the signal rejects a pending wait with an AbortError', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const ac = new AbortController()
  const waiting = sf.wait(undefined, ac.signal)
  ac.abort()
  const err = await t.throwsAsync(waiting)
  t.is(err?.name, 'AbortError')
  t.is((err as NodeJS.ErrnoException).code, 'ABORT_ERR')
  t.false(sf.isSignaled(), 'the abort ended the wait, not the fence')
})

vgemTest('an already aborted signal rejects at once', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const start = performance.now()
  // A rejected promise, not a synchronous throw, as Node's promise APIs do.
  let waiting: Promise<boolean> | undefined
  t.notThrows(() => {
    waiting = sf.wait(10_000, AbortSignal.abort())
  })
  const err = await t.throwsAsync(waiting!)
  t.is(err?.name, 'AbortError')
  t.is((err as NodeJS.ErrnoException).code, 'ABORT_ERR')
  t.true(since(start) < 1000, `rejected after ${since(start)} ms`)
})

vgemTest('a signal that never aborts does not disturb a wait that resolves', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const ac = new AbortController()
  const waiting = sf.wait(5000, ac.signal)
  f.signal()
  t.true(await waiting)
  // Aborting after the wait settled changes nothing.
  ac.abort()
  t.true(await sf.wait(0, new AbortController().signal))
})

vgemTest('a wait with a timeout and a signal resolves false when the timeout comes first', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const ac = new AbortController()
  t.false(await sf.wait(30, ac.signal))
})
