'use strict'
// Node peer of `npm run bench`: the `ioctl` npm package (a native addon
// exposing ioctl(fd, request, Buffer|int)), with the uapi structs laid out in
// Buffers allocated once, and fs for opening and closing fds. It has no mmap
// and Node has no memfd_create, so the mapping cases and udmabuf allocation
// report themselves unavailable. Same arguments and output as bench/c/bench.c.

const fs = require('node:fs')
const c = require('./common.js')

const a = c.parseArgs('Node peer (ioctl)')

let ioctl
try {
  ioctl = require('ioctl')
} catch (e) {
  c.unavailable(a, `the ioctl package is not installed or did not build (${e.code || e.message})`)
}

const DMA_BUF_IOCTL_SYNC = 0x40086200
const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = 0xc0086202
const DMA_HEAP_IOCTL_ALLOC = 0xc0184800
const DMA_BUF_SYNC_RW = 3
const DMA_BUF_SYNC_END = 4
const O_RDWR = 2
const O_CLOEXEC = 0o2000000

if (['map', 'read', 'rw'].includes(a.case)) c.unavailable(a, 'the ioctl package has no mmap')
if (a.case === 'alloc' && a.source !== 'heap') c.unavailable(a, 'udmabuf needs a memfd, and Node has no memfd_create')

c.main(a, async () => {
  let sink = 0

  if (a.case === 'alloc') {
    const size = a.size
    const heap = fs.openSync('/dev/dma_heap/system', 'r')
    // struct dma_heap_allocation_data { u64 len; u32 fd; u32 fd_flags; u64 heap_flags }
    const arg = Buffer.alloc(24)
    arg.writeBigUInt64LE(BigInt(size), 0)
    arg.writeUInt32LE(O_RDWR | O_CLOEXEC, 12)
    const alloc = () => {
      arg.writeUInt32LE(0, 8) // the kernel refuses a non-zero fd on input
      ioctl(heap, DMA_HEAP_IOCTL_ALLOC, arg)
      return arg.readUInt32LE(8)
    }
    await c.measureAllocClose(a, alloc)
    return
  }

  const fd = c.benchFd()
  if (fd === undefined) c.unavailable(a, 'needs a buffer in DMABUF_BENCH_FD')
  const size = c.fdSize(fd)
  let st, chk
  switch (a.case) {
    case 'sync': {
      // struct dma_buf_sync { u64 flags }: the kernel only reads it.
      const start = Buffer.alloc(8)
      start.writeBigUInt64LE(BigInt(DMA_BUF_SYNC_RW))
      const end = Buffer.alloc(8)
      end.writeBigUInt64LE(BigInt(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW))
      st = await c.measure(a, 0, () => {
        ioctl(fd, DMA_BUF_IOCTL_SYNC, start)
        ioctl(fd, DMA_BUF_IOCTL_SYNC, end)
      })
      chk = 'every DMA_BUF_IOCTL_SYNC returned 0'
      break
    }
    case 'export': {
      // struct dma_buf_export_sync_file { u32 flags; s32 fd }: fd is written back.
      const arg = Buffer.alloc(8)
      arg.writeUInt32LE(DMA_BUF_SYNC_RW, 0)
      const exp = () => {
        ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg)
        return arg.readInt32LE(4)
      }
      const first = exp()
      if (!(first >= 0)) c.die(a, `EXPORT_SYNC_FILE gave fd ${first}`)
      fs.closeSync(first)
      st = await c.measure(a, 0, () => {
        const f = exp()
        sink += f
        fs.closeSync(f)
      })
      chk = 'every export gave an fd (no poll() in Node to check its state)'
      break
    }
    default:
      c.die(a, `unknown case ${a.case}`)
  }
  c.report(a, size, st, chk, sink)
})
