#!/usr/bin/env node
// The main job, end to end: allocate a dma-buf, write it through a mapping
// under CPU access, read it back through a second fd's mapping (the same
// memory, not a copy), export its implicit fence as a sync_file and wait on
// it. Run with `npm run demo`. Where this machine has no dma-buf devices,
// the demo runs itself inside the project's qemu VM (scripts/vm/run.sh).
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const hasDevice = fs.existsSync('/dev/udmabuf') || fs.existsSync('/dev/dma_heap/system')
if (!hasDevice && process.env.DMABUF_VM !== '1') {
  console.log('no /dev/udmabuf or /dev/dma_heap here: running the demo in the VM (scripts/vm/run.sh)')
  const r = spawnSync('bash', [path.join(root, 'scripts/vm/run.sh'), process.execPath, __filename], { stdio: 'inherit', cwd: root })
  process.exit(r.status ?? 1)
}

const { DmaBuf, Heap, createUdmabuf, listHeaps } = require(root)

async function main() {
  const size = 1 << 20
  // Any source gives the same DmaBuf: a dma-heap where there is one, else udmabuf.
  const buf = listHeaps().includes('system') ? Heap.open('system').alloc(size) : createUdmabuf(size)
  const info = buf.info()
  console.log(`allocated ${buf.size} bytes from ${info.exporter} (fd ${buf.fd}, inode ${info.inode}, name ${info.name})`)

  const message = Buffer.from(`hello from pid ${process.pid} through a dma-buf`)
  const map = buf.map('rw')
  {
    const access = buf.beginCpuAccess('w') // DMA_BUF_IOCTL_SYNC start
    new Uint8Array(map.buffer).set(message, 0)
    access.end() // DMA_BUF_IOCTL_SYNC end
  }
  console.log(`wrote ${message.length} bytes through a ${map.length}-byte mapping under CPU write access`)

  // A second fd for the same buffer, mapped separately: the bytes are there.
  const twin = buf.dup()
  const twinMap = twin.map('r')
  const access = twin.beginCpuAccess('r')
  const seen = Buffer.from(twinMap.buffer, 0, message.length).toString()
  access.end()
  console.log(`read back through fd ${twin.fd} (same inode: ${twin.info().inode === info.inode}): "${seen}"`)
  if (seen !== message.toString()) throw new Error('the second mapping does not show the bytes')

  const fence = buf.exportSyncFile('rw') // DMA_BUF_IOCTL_EXPORT_SYNC_FILE
  const t0 = process.hrtime.bigint()
  const signaled = await fence.wait(1000)
  const us = Number(process.hrtime.bigint() - t0) / 1000
  const fi = fence.info()
  console.log(`exported sync_file fd ${fence.fd}: status ${fi.status}, ${fi.fences.length} fence(s); wait() resolved ${signaled} in ${us.toFixed(0)} µs`)

  map.unmap()
  twinMap.unmap()
  for (const x of [fence, twin, buf]) x.close()
  console.log('unmapped and closed everything: done')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
