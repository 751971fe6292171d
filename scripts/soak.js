'use strict'
// The soak (hardening issue): N cycles of every source and operation of the
// package, yielding to the event loop every 16th cycle (as an application
// does, now and then), then prints one JSON line: cycles, fds and RSS at the start (after
// a warm-up) and at the end. Run it where the devices are (root, in the
// project's VM: `bash scripts/vm/run.sh node scripts/soak.js 1000000`).
// __test__/soak.spec.ts runs 10,000 cycles in the VM tier and asserts fds
// and RSS flat.

const fs = require('node:fs')
const d = require('..')

const cycles = Number(process.argv[2] || 10000)
const PAGE = 4096
const fds = () => fs.readdirSync('/proc/self/fd').length
const u = d.Udmabuf.open()
const heap = d.Heap.open('system')
const drm = d.DrmDevice.openDriver('vgem', true)

async function cycle(i) {
  // Sources: a heap buffer, udmabufs (alloc, with memfd, create, createList), a dumb buffer through PRIME.
  const a = heap.alloc(PAGE)
  const { buffer: b, memfd } = u.allocWithMemfd(2 * PAGE)
  const c = u.create(memfd, 0, PAGE)
  const l = u.createList([{ fd: memfd, offset: 0, size: PAGE }, { fd: memfd, offset: PAGE, size: PAGE }])
  fs.closeSync(memfd)
  const dumb = drm.createDumb(16, 16, 32)
  const v = drm.export(dumb.handle, 'rw')
  const g = drm.import(a)
  // Operations: naming, info, dup, mapping (with and without its ArrayBuffer), CPU access, copies.
  a.setName(`soak-${i % 100}`)
  if (a.info().exporter !== 'system') throw new Error('info')
  const dup = b.dup()
  const m = dup.map('rw')
  const acc = dup.beginCpuAccess('w')
  new Uint8Array(m.buffer)[i % PAGE] = i & 255
  acc.end()
  m.unmap()
  b.map('r').unmap()
  c.write(0, new Uint8Array([i & 255]))
  if (l.read(0, 1)[0] !== (i & 255)) throw new Error('createList does not alias the memfd')
  // Fences: export, import, merge, info, batches, a wait on the event loop.
  const s1 = a.exportSyncFile('rw')
  const s2 = v.exportSyncFile('r')
  const s3 = s1.merge(s2, 'soak')
  b.importSyncFile(s3, 'w')
  const all = d.DmaBuf.exportSyncFiles([a, b, c, l, v], 'rw')
  d.DmaBuf.importSyncFileAll([a, b, c], s1, 'r')
  if (s3.info().fences.length < 1) throw new Error('merge info')
  // The promise wait (and so an event-loop turn) every 16th cycle, the
  // blocking one otherwise: a turn costs milliseconds under TCG.
  const signaled = i % 16 === 0 ? await s3.wait(1000) : s3.waitSync(1000)
  if (!signaled) throw new Error('an idle buffer did not signal')
  for (const o of [...all, s1, s2, s3, g, dumb.handle, dup, a, b, c, l, v]) o.close()
}

;(async () => {
  for (let i = 0; i < Math.min(1000, cycles); i++) await cycle(i)
  const fd0 = fds()
  const rss0 = process.memoryUsage.rss()
  const t0 = Date.now()
  let rssMid = 0
  for (let i = 0; i < cycles; i++) {
    await cycle(i)
    if (i + 1 === Math.ceil(cycles / 2)) rssMid = process.memoryUsage.rss()
    if (process.env.DMABUF_SOAK_TRACE && (i + 1) % Math.ceil(cycles / 10) === 0) {
      const m = process.memoryUsage()
      console.error(`${i + 1}: fds ${fds()} rss ${(m.rss / 2 ** 20).toFixed(1)} MB heap ${(m.heapUsed / 2 ** 20).toFixed(1)}/${(m.heapTotal / 2 ** 20).toFixed(1)} MB external ${(m.external / 2 ** 20).toFixed(1)} MB`)
    }
  }
  const out = { cycles, ms: Date.now() - t0, fd0, fd1: fds(), rss0, rssMid, rss1: process.memoryUsage.rss() }
  for (const o of [u, heap, drm]) o.close()
  console.log(JSON.stringify(out))
})().catch((e) => {
  console.error(e)
  process.exit(1)
})
