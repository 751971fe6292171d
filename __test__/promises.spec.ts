// One rule for errors from Promise-returning methods (issue 20): they reject,
// never throw synchronously, argument errors included, as Node's promise APIs
// do. Every Promise-returning method of lib/api/ is called here with bad
// arguments (and with a bad receiver), and each call must return a Promise
// that rejects. Also the documented codes of Channel's errors, checked against
// what the kernel gives.

import test, { type ExecutionContext } from 'ava'
import { Channel, DvbDemux, DvbFrontend, Listener, MAX_FDS, Mapping, SyncFile, V4l2DmaBufQueue, V4l2Device, createUdmabuf } from 'dmabuf'

import { PAGE, deviceTest, noLeak } from './helpers.js'

/** Calls `fn`, asserts it did not throw and returned a Promise that rejects with `code`. */
async function rejects(t: ExecutionContext, what: string, fn: () => unknown, code: string): Promise<void> {
  let p: unknown
  try {
    p = fn()
  } catch (e) {
    t.fail(`${what} threw synchronously (${(e as NodeJS.ErrnoException).code}) instead of rejecting`)
    return
  }
  t.true(p instanceof Promise, `${what} returned a Promise`)
  const e = (await t.throwsAsync(p as Promise<unknown>)) as NodeJS.ErrnoException
  t.is(e?.code, code, `${what}: ${e?.message}`)
}

test('every Promise-returning method rejects on bad arguments and on a bad receiver, never throws', async (t) => {
  const [a, b] = Channel.pair()
  const circular: Record<string, unknown> = {}
  circular.self = circular
  await rejects(t, 'Channel.send(non-JSON header)', () => a.send(circular), 'ERR_INVALID_ARG_VALUE')
  await rejects(t, 'Channel.send(header over MAX_HEADER)', () => a.send('x'.repeat(70_000)), 'ERR_OUT_OF_RANGE')
  await rejects(t, 'Channel.send(fds not an Array)', () => a.send(1, {} as never), 'ERR_INVALID_ARG_TYPE')
  await rejects(t, 'Channel.send(fds of the wrong kind)', () => a.send(1, [1] as never), 'ERR_INVALID_ARG_TYPE')
  await rejects(t, 'Channel.send(too many fds)', () => a.send(1, Array.from({ length: MAX_FDS + 1 }) as never), 'ERR_OUT_OF_RANGE')
  await rejects(t, 'Channel.send(bad signal)', () => a.send(1, [], { signal: 1 as never }), 'ERR_INVALID_ARG_TYPE')
  await rejects(t, 'Channel.send on a non-Channel', () => Channel.prototype.send.call({}, 1), 'ERR_INVALID_THIS')
  await rejects(t, 'Channel.receive(maxFds -1)', () => b.receive({ maxFds: -1 }), 'ERR_OUT_OF_RANGE')
  await rejects(t, 'Channel.receive(maxFds over MAX_FDS)', () => b.receive({ maxFds: MAX_FDS + 1 }), 'ERR_OUT_OF_RANGE')
  await rejects(t, 'Channel.receive(bad signal)', () => b.receive({ signal: 'x' as never }), 'ERR_INVALID_ARG_TYPE')
  await rejects(t, 'Channel.receive on a non-Channel', () => Channel.prototype.receive.call({}), 'ERR_INVALID_THIS')
  a.close()
  b.close()
  await rejects(t, 'Channel.send on a closed channel', () => a.send(1), 'ERR_DMABUF_CLOSED')
  await rejects(t, 'Channel.receive on a closed channel', () => b.receive(), 'ERR_DMABUF_CLOSED')
  const l = Channel.listen(`@dmabuf-promises-${process.pid}`)
  await rejects(t, 'Listener.accept(bad signal)', () => l.accept({ signal: 1 as never }), 'ERR_INVALID_ARG_TYPE')
  l.close()
  await rejects(t, 'Listener.accept on a closed listener', () => l.accept(), 'ERR_DMABUF_CLOSED')
  await rejects(t, 'Listener.accept on a non-Listener', () => Listener.prototype.accept.call({}), 'ERR_INVALID_THIS')
  // The waits of device classes: a bad receiver is enough to reach their argument checks' path without a device.
  await rejects(t, 'SyncFile.wait on a non-SyncFile', () => SyncFile.prototype.wait.call({}, 1), 'ERR_INVALID_THIS')
  await rejects(t, 'V4l2Device.dequeue on a non-V4l2Device', () => V4l2Device.prototype.dequeue.call({}, 1), 'ERR_INVALID_THIS')
  await rejects(t, 'V4l2DmaBufQueue.dequeue on a non-queue', () => V4l2DmaBufQueue.prototype.dequeue.call({}, 1), 'ERR_INVALID_THIS')
  await rejects(t, 'DvbDemux.dequeue on a non-DvbDemux', () => DvbDemux.prototype.dequeue.call({}, 1), 'ERR_INVALID_THIS')
  await rejects(t, 'DvbFrontend.waitForLock on a non-DvbFrontend', () => DvbFrontend.prototype.waitForLock.call({}, 1), 'ERR_INVALID_THIS')
})

deviceTest('SyncFile.wait rejects on a bad timeout or signal, never throws', async (t) => {
  using buf = createUdmabuf(PAGE)
  using sf = buf.exportSyncFile('r')
  await rejects(t, 'SyncFile.wait(-2)', () => sf.wait(-2), 'ERR_OUT_OF_RANGE')
  await rejects(t, "SyncFile.wait('x')", () => sf.wait('x' as never), 'ERR_INVALID_ARG_TYPE')
  await rejects(t, 'SyncFile.wait(1, bad signal)', () => sf.wait(1, 1 as never), 'ERR_INVALID_ARG_TYPE')
})

test('Channel.send after the peer closed: EPIPE, or ECONNRESET on a seqpacket peer that closed with messages unread (the kernel\'s code, as documented)', async (t) => {
  for (const type of ['seqpacket', 'stream'] as const) {
    let [a, b] = Channel.pair(type)
    b.close()
    await rejects(t, `${type}: send after the peer closed`, () => a.send(1), 'EPIPE')
    a.close()
    ;[a, b] = Channel.pair(type)
    await a.send('unread')
    b.close()
    await rejects(t, `${type}: send after the peer closed with a message unread`, () => a.send(2), type === 'seqpacket' ? 'ECONNRESET' : 'EPIPE')
    a.close()
  }
})

deviceTest('receive() takes up to MAX_FDS fds by default; over an explicit maxFds it says how many, drops only that message, and the channel goes on', async (t) => {
  for (const type of ['seqpacket', 'stream'] as const) {
    await noLeak(t, async () => {
      const [a, b] = Channel.pair(type)
      using buf = createUdmabuf(PAGE)
      const ring = Array.from({ length: 32 }, () => buf)
      await a.send({ ring: 32 }, ring)
      const m = await b.receive()
      t.is(m.fds.length, 32, `${type}: a 32-buffer ring with the default maxFds`)
      for (const f of m.fds) f.close()
      await a.send({ ring: 32 }, ring)
      await a.send({ next: true })
      const e = (await t.throwsAsync(b.receive({ maxFds: 8 }))) as NodeJS.ErrnoException
      t.is(e.code, 'ETOOMANYREFS')
      t.regex(e.message, /\(8, MSG_CTRUNC\); the 8 that arrived were closed/)
      t.deepEqual((await b.receive()).header, { next: true })
      a.close()
      b.close()
    })
  }
})

deviceTest('Mapping.buffer first read after unmap() is a detached ArrayBuffer (byteLength 0), as index.d.ts says', (t) => {
  using buf = createUdmabuf(PAGE)
  const m: Mapping = buf.map('rw')
  m.unmap()
  const ab = m.buffer
  t.is(ab.byteLength, 0)
  t.is(m.buffer, ab, 'the same object on every read')
})
