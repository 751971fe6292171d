// Smoke test of the installed package (ES module import). See smoke.cjs.
import assert from 'node:assert'
import { createRequire } from 'node:module'
import { DmaBuf, createUdmabuf } from 'dmabuf'

const { version } = createRequire(import.meta.url)('dmabuf/package.json')
assert.strictEqual(typeof DmaBuf, 'function')
console.log(`import 'dmabuf' ${version} on node ${process.version}`)
if (!process.argv.includes('--load')) {
  const buf = createUdmabuf(4096)
  const map = buf.map('rw')
  const acc = buf.beginCpuAccess('w')
  new Uint8Array(map.buffer)[0] = 42
  acc[Symbol.dispose]() // what `using` calls at block exit
  assert.strictEqual(acc.active, false)
  assert.strictEqual(buf.read(0, 1)[0], 42)
  const fence = buf.exportSyncFile('w')
  assert.strictEqual(await fence.wait(1000), true)
  map.unmap()
  fence.close()
  buf[Symbol.dispose]()
  assert.strictEqual(buf.closed, true)
  console.log('smoke (esm): allocated, mapped, wrote, read back and waited on a fence')
}
