// DVB demux buffers as DmaBufs, on vidtv (the kernel's virtual DVB driver).
// Needs a kernel with CONFIG_DVB_MMAP and CONFIG_DVB_VIDTV, which Debian's
// lacks: the custom-kernel VM tier runs this file (scripts/vm-tier.sh
// custom), the Debian tier leaves it out, and on a host without a demux it
// is an honest skip.

import { existsSync } from 'node:fs'

import test from 'ava'
import { DVB, DmaBuf, DvbDemux, DvbFrontend, capabilities } from 'dmabuf'

import { assertOsError, noLeak, openFds, thrown } from './helpers.js'

const DEMUX = '/dev/dvb/adapter0/demux0'
const FRONTEND = '/dev/dvb/adapter0/frontend0'
/** vidtv's one valid DVB-T frequency. */
const VIDTV_DVBT_HZ = 474_000_000
/** Whole TS packets per buffer, so every buffer starts on a packet. */
const BUF_SIZE = 16 * DVB.TS_PACKET_SIZE

const dvbTest = existsSync(DEMUX) ? test.serial : test.serial.skip

async function tuned(): Promise<DvbFrontend> {
  const fe = DvbFrontend.open(FRONTEND)
  fe.tune(DVB.SYS_DVBT, VIDTV_DVBT_HZ, [[DVB.DTV_BANDWIDTH_HZ, 8_000_000]])
  if (!(await fe.waitForLock(10_000))) throw new Error(`vidtv did not lock: status ${fe.status()}`)
  return fe
}

function isTs(data: Uint8Array): boolean {
  if (data.length === 0 || data.length % DVB.TS_PACKET_SIZE !== 0) return false
  for (let i = 0; i < data.length; i += DVB.TS_PACKET_SIZE) if (data[i] !== DVB.TS_SYNC_BYTE) return false
  return true
}

dvbTest('tune vidtv, filter the whole TS, export the buffers, dequeue, map, find TS packets, requeue', async (t) => {
  await noLeak(t, async () => {
    using fe = await tuned()
    t.true(fe.info().name.length > 0)
    t.deepEqual(fe.getProperties([DVB.DTV_DELIVERY_SYSTEM, DVB.DTV_FREQUENCY]), [DVB.SYS_DVBT, VIDTV_DVBT_HZ])
    t.not(fe.status() & DVB.FE_HAS_LOCK, 0)

    const demux = DvbDemux.open(DEMUX)
    t.true(demux.fd >= 0)
    demux.setPesFilter(DVB.PID_ALL, 'ts-demux-tap')
    t.deepEqual(demux.requestBuffers(4, BUF_SIZE), { count: 4, size: BUF_SIZE })
    const bufs: DmaBuf[] = []
    for (let i = 0; i < 4; i++) {
      const q = demux.queryBuffer(i)
      t.is(q.index, i)
      t.is(q.length, BUF_SIZE)
      bufs.push(demux.exportBuffer(i))
    }
    t.is(new Set(bufs.map((b) => b.info().inode)).size, 4)
    for (const b of bufs) {
      const info = b.info()
      t.is(info.exporter, 'videobuf2_vmalloc')
      t.false(info.writable, "exportBuffer's default access is 'r'")
    }
    for (let i = 0; i < 4; i++) demux.queue(i)
    demux.start()

    const order: number[] = []
    for (let round = 0; round < 8; round++) {
      const d = await demux.dequeue(10_000)
      if (d === null) return t.fail(`round ${round}: no buffer within 10 s`)
      t.is(d.bytesused, BUF_SIZE)
      t.is(d.count, round)
      const buf = bufs[d.index]
      using access = buf.beginCpuAccess('r')
      using map = buf.map('r')
      t.true(access.active)
      const data = new Uint8Array(map.buffer, 0, d.bytesused)
      t.true(isTs(data), `buffer ${d.index}: ${Buffer.from(data.subarray(0, 8)).toString('hex')}`)
      order.push(d.index)
      demux.queue(d.index)
    }
    t.deepEqual(order, [0, 1, 2, 3, 0, 1, 2, 3])
    demux.stop()
    demux.close()
    t.true(demux.closed)
    t.is(demux.fd, -1)
    // The exported buffers outlive the demux.
    t.is(bufs[1].read(0, 1)[0], DVB.TS_SYNC_BYTE)
    for (const b of bufs) b.close()
  })
})

dvbTest('dequeue() waits on the event loop: it times out with null, an AbortSignal rejects it, close() meanwhile rejects it', async (t) => {
  await noLeak(t, async () => {
    using demux = DvbDemux.open(DEMUX)
    // A PID nothing carries: nothing ever fills.
    demux.setPesFilter(0x1234, 'ts-demux-tap', true)
    demux.requestBuffers(2, BUF_SIZE)
    demux.queue(0)
    t.is(demux.tryDequeue(), null)
    const start = performance.now()
    t.is(await demux.dequeue(50), null)
    t.true(performance.now() - start >= 45)

    // The event loop runs while a dequeue is pending.
    let ticks = 0
    const timer = setInterval(() => ticks++, 5)
    const ac = new AbortController()
    const pending = demux.dequeue(undefined, ac.signal)
    await new Promise((r) => setTimeout(r, 100))
    clearInterval(timer)
    t.true(ticks >= 5, `${ticks} timer ticks while a dequeue was pending`)
    ac.abort()
    const err = await t.throwsAsync(pending)
    t.is(err?.name, 'AbortError')
    t.is((err as NodeJS.ErrnoException).code, 'ABORT_ERR')
    await t.throwsAsync(demux.dequeue(0, AbortSignal.abort()), { name: 'AbortError' })

    // close() while a dequeue waits ends it: it rejects as closed, at once.
    const later = demux.dequeue(10_000)
    const closing = performance.now()
    demux.close()
    await t.throwsAsync(later, { code: 'ERR_DMABUF_CLOSED' })
    t.true(performance.now() - closing < 5_000, 'the dequeue did not wait for its timeout')
  })
})

dvbTest('errors: not a demux, bad indexes, dequeue before queue, closed objects', async (t) => {
  await noLeak(t, async () => {
    assertOsError(t, thrown(t, () => DvbDemux.open('/dev/null')), 'ENOTTY', 'DvbDemux.open')
    t.regex(thrown(t, () => DvbDemux.open('/dev/null')).message, /is not a DVB demux/)
    t.regex(thrown(t, () => DvbFrontend.open('/dev/null')).message, /is not a DVB frontend/)
    t.regex(thrown(t, () => DvbDemux.open(FRONTEND)).message, /is not a DVB demux \(it is the DVB device dvb0\.frontend0\)/)
    assertOsError(t, thrown(t, () => DvbDemux.open('/dev/dvb/adapter9/demux0')), 'ENOENT', 'DvbDemux.open')

    using demux = DvbDemux.open(DEMUX)
    const noBuf = thrown(t, () => demux.exportBuffer(0))
    assertOsError(t, noBuf, 'EINVAL', 'DvbDemux.exportBuffer')
    t.regex(noBuf.message, /no buffer 0/)
    demux.requestBuffers(2, BUF_SIZE)
    assertOsError(t, thrown(t, () => demux.queryBuffer(2)), 'EINVAL', 'DvbDemux.queryBuffer')
    const early = await t.throwsAsync(demux.dequeue(1000))
    assertOsError(t, early as NodeJS.ErrnoException, 'EINVAL', 'DvbDemux.dequeue')
    t.regex(early!.message, /no buffer has been queued/)
    demux.queue(0)
    assertOsError(t, thrown(t, () => demux.queue(0)), 'EINVAL', 'DvbDemux.queue')
    t.throws(() => demux.setPesFilter(0x2001), { code: 'ERR_OUT_OF_RANGE' })
    t.throws(() => demux.setPesFilter(0, 'sideways' as never), { code: 'ERR_INVALID_ARG_VALUE' })
    t.throws(() => demux.setSectionFilter({ pid: 0, filter: new Array(17).fill(0) }), { code: 'ERR_OUT_OF_RANGE' })
    demux.close()
    t.throws(() => demux.queue(0), { code: 'ERR_DMABUF_CLOSED' })
    await t.throwsAsync(demux.dequeue(0), { code: 'ERR_DMABUF_CLOSED' })

    using fe = DvbFrontend.open(FRONTEND)
    t.throws(() => fe.setProperties([]), { code: 'ERR_OUT_OF_RANGE' })
    t.throws(() => fe.setProperties([[1, 2, 3] as never]), { code: 'ERR_INVALID_ARG_TYPE' })
    // Only one process (or fd) may hold the frontend read-write.
    assertOsError(t, thrown(t, () => DvbFrontend.open(FRONTEND)), 'EBUSY', 'DvbFrontend.open')
  })
})

dvbTest('a section filter fills one buffer per section (the PAT)', async (t) => {
  await noLeak(t, async () => {
    using _fe = await tuned()
    using demux = DvbDemux.open(DEMUX)
    demux.setSectionFilter({ pid: 0, filter: [0], mask: [0xff] })
    demux.requestBuffers(2, 4096)
    using buf = demux.exportBuffer(0, 'rw')
    t.true(buf.info().writable)
    demux.queue(0)
    demux.queue(1)
    demux.start()
    const d = await demux.dequeue(10_000)
    if (d === null) return t.fail('no section within 10 s')
    t.is(d.index, 0)
    const head = buf.read(0, 3)
    t.is(head[0], 0, 'table id 0: the PAT')
    t.is((((head[1] & 0x0f) << 8) | head[2]) + 3, d.bytesused, 'one whole section')
  })
})

dvbTest('1,000 dequeue/queue cycles leak no fd, and capabilities() reports the demux', async (t) => {
  using _fe = await tuned()
  const caps = capabilities()
  t.deepEqual(caps.dvbDemuxes, [DEMUX])
  t.is(caps.dvbExport, true)
  t.deepEqual(DvbDemux.list(), [DEMUX])
  t.deepEqual(DvbFrontend.list(), [FRONTEND])
  const before = openFds()
  using demux = DvbDemux.open(DEMUX)
  demux.setPesFilter(DVB.PID_ALL, 'ts-demux-tap', true)
  demux.requestBuffers(4, BUF_SIZE)
  for (let i = 0; i < 4; i++) demux.queue(i)
  for (let i = 0; i < 1000; i++) {
    const d = await demux.dequeue(10_000)
    if (d === null) return t.fail(`cycle ${i}: no buffer within 10 s`)
    demux.queue(d.index)
  }
  demux.close()
  t.is(openFds(), before)
})
