'use strict'
// Why case 3e (map + buffer + unmap of 256 MiB) costs what it does, in V8's
// own words: run under `node --trace-gc`, it makes N external ArrayBuffers
// over a mapping of SIZE bytes, yielding to the event loop after each (as
// an application would), and prints how many mark-compacts V8 started and
// why. Usage (root, inside the project's VM or on a machine with udmabuf):
//
//   node --trace-gc bench/gc-trace.js SIZE N | node bench/gc-trace.js --count
//
// Measured: every 256 MiB ArrayBuffer crosses V8's 64 MiB external-memory
// soft limit and starts a mark-compact ("external memory pressure") on
// Node 20 and on Node 22; 4 KiB ones never do. Node-API has no way to make
// an ArrayBuffer over foreign memory that V8 does not count: both
// napi_create_external_arraybuffer and napi_create_external_buffer go
// through node::Buffer's tracked backing store with a real deleter.

if (process.argv[2] === '--count') {
  let text = ''
  process.stdin.on('data', (d) => (text += d))
  process.stdin.on('end', () => {
    const lines = text.split('\n').filter((l) => /Mark-Compact/.test(l))
    const reasons = {}
    for (const l of lines) {
      const m = l.match(/Mark-Compact[^;]*;[^;]*;?\s*(.*)$/)
      const why = (l.match(/(external memory pressure|allocation failure|finalize incremental marking via [a-z ]+|testing)/) || [m ? m[1] : 'other'])[0]
      reasons[why] = (reasons[why] || 0) + 1
    }
    console.log(JSON.stringify({ markCompacts: lines.length, reasons, done: /^done /m.test(text) ? text.match(/^done .*/m)[0] : null }))
  })
  return
}

const { Udmabuf } = require('../index.js')
const size = Number(process.argv[2] || 256 * 1024 * 1024)
const n = Number(process.argv[3] || 50)
try {
  require('node:fs').writeFileSync('/sys/module/udmabuf/parameters/size_limit_mb', String(Math.max(64, Math.ceil(size / 2 ** 20))))
} catch {}
const buf = Udmabuf.open().alloc(size)
let i = 0
const t0 = process.hrtime.bigint()
const step = () => {
  const m = buf.map('rw')
  if (m.buffer.byteLength !== size) throw new Error('short buffer')
  m.unmap()
  if (++i < n) setImmediate(step)
  else {
    const us = Number(process.hrtime.bigint() - t0) / 1000 / n
    console.log(`done ${n} x ${size} bytes on node ${process.version}: ${us.toFixed(1)} us each`)
    buf.close()
  }
}
step()
