// The short soak of the hardening issue: 10,000 cycles of every source and
// operation (scripts/soak.js: heap, udmabuf alloc/allocWithMemfd/create/
// createList, DRM dumb + PRIME export/import, setName, info, dup, map with
// and without its ArrayBuffer, CPU access, read/write, sync_file export,
// import, merge, info, batches, an async wait), in a child process.

import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

import { vgemTest } from './helpers.js'

const root = resolve(__dirname, '..', '..')

vgemTest('10,000 cycles of every source and operation: fds back to the start, RSS flat over the second half', (t) => {
  t.timeout(10 * 60_000)
  const r = spawnSync(process.execPath, [resolve(root, 'scripts', 'soak.js'), '10000'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>
  const mb = (n: number): string => (n / 2 ** 20).toFixed(1)
  t.log(`${out.cycles} cycles in ${out.ms} ms: fds ${out.fd0} -> ${out.fd1}; RSS ${mb(out.rss0)} -> ${mb(out.rssMid)} (half) -> ${mb(out.rss1)} MB`)
  t.is(out.fd1, out.fd0, 'fds back to the start count')
  // V8 sizes its heap during the first half (objects still open when a
  // job's microtasks run are registered for the GC backstop, and live until
  // a mark-compact); after that only its steps (a few MB) may show: a leak
  // of 1.6 KB a cycle would not fit.
  t.true(out.rss1 - out.rssMid < 8 * 2 ** 20, `RSS grew ${mb(out.rss1 - out.rssMid)} MB over the second half`)
  t.true(out.rss1 - out.rss0 < 24 * 2 ** 20, `RSS grew ${mb(out.rss1 - out.rss0)} MB in all`)
})
