// Smoke test of the installed package (CommonJS). With --load it only checks
// that the package loads and reports its version (host tier); otherwise it
// allocates, maps and fences a real buffer (VM tier).
'use strict'
const assert = require('node:assert')
const dmabuf = require('dmabuf')
const { version } = require('dmabuf/package.json')
assert.strictEqual(typeof dmabuf.DmaBuf, 'function')
console.log(`require('dmabuf') ${version} on node ${process.version}`)
// The package's bin, as `npx dmabuf` finds it after npm install.
const bin = require('node:path').join(__dirname, 'node_modules', '.bin', 'dmabuf')
const help = require('node:child_process').spawnSync(bin, ['--help'], { encoding: 'utf8' })
assert.strictEqual(help.status, 0, help.stderr)
assert.match(help.stdout, /^dmabuf: Linux DMA-BUF from the command line/)
if (process.argv.includes('--load')) process.exit(0)

const buf = dmabuf.createUdmabuf(8192)
const map = buf.map('rw')
const acc = buf.beginCpuAccess('w')
new Uint8Array(map.buffer).set([7, 8, 9], 4096)
acc.end()
assert.deepStrictEqual([...buf.read(4096, 3)], [7, 8, 9])
const fence = buf.exportSyncFile('rw')
fence.wait(1000).then((signaled) => {
  assert.strictEqual(signaled, true)
  map.unmap()
  fence.close()
  buf.close()
  console.log('smoke (cjs): allocated, mapped, wrote, read back and waited on a fence')
})
