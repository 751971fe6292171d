'use strict'
// Node peer of `npm run bench`: the same ioctls and mmap from JavaScript
// through koffi (a C FFI), declared from libc as the koffi documentation
// shows: uapi structs as koffi structs, ioctl() and fcntl() as the variadic
// functions they are, mmap() returning a pointer that koffi.view() exposes as
// an ArrayBuffer, errors from koffi.errno(). Fds are closed with
// fs.closeSync. Same cases, arguments and output as bench/c/bench.c.

const fs = require('node:fs')
const c = require('./common.js')

const a = c.parseArgs('Node peer (koffi)')

let koffi
try {
  koffi = require('koffi')
} catch (e) {
  c.unavailable(a, `koffi is not installed (${e.code || e.message})`)
}

const libc = koffi.load('libc.so.6')

// <linux/dma-buf.h>, <linux/dma-heap.h>, <linux/udmabuf.h>
const dma_buf_sync = koffi.struct('dma_buf_sync', { flags: 'uint64_t' })
const dma_buf_export_sync_file = koffi.struct('dma_buf_export_sync_file', { flags: 'uint32_t', fd: 'int32_t' })
const dma_heap_allocation_data = koffi.struct('dma_heap_allocation_data', {
  len: 'uint64_t',
  fd: 'uint32_t',
  fd_flags: 'uint32_t',
  heap_flags: 'uint64_t',
})
const udmabuf_create = koffi.struct('udmabuf_create', { memfd: 'uint32_t', flags: 'uint32_t', offset: 'uint64_t', size: 'uint64_t' })

// _IOC(dir, type, nr, size) with the generic (x86, arm, riscv) encoding.
const IOC = (dir, type, nr, size) => ((dir << 30) | (size << 16) | (type.charCodeAt(0) << 8) | nr) >>> 0
const IOW = (type, nr, t) => IOC(1, type, nr, koffi.sizeof(t))
const IOWR = (type, nr, t) => IOC(3, type, nr, koffi.sizeof(t))
const DMA_BUF_IOCTL_SYNC = IOW('b', 0, dma_buf_sync)
const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = IOWR('b', 2, dma_buf_export_sync_file)
const DMA_HEAP_IOCTL_ALLOC = IOWR('H', 0, dma_heap_allocation_data)
const UDMABUF_CREATE = IOW('u', 0x42, udmabuf_create)
const DMA_BUF_SYNC_READ = 1
const DMA_BUF_SYNC_WRITE = 2
const DMA_BUF_SYNC_RW = 3
const DMA_BUF_SYNC_END = 4
const UDMABUF_FLAGS_CLOEXEC = 1
const PROT_READ = 1
const PROT_WRITE = 2
const MAP_SHARED = 1
const MFD_CLOEXEC = 1
const MFD_ALLOW_SEALING = 2
const F_ADD_SEALS = 1033
const F_SEAL_SHRINK = 2
const O_RDWR = 2
const O_CLOEXEC = 0o2000000
const MAP_FAILED = 0xffffffffffffffffn

const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)')
const fcntl = libc.func('int fcntl(int fd, int cmd, ...)')
const memfd_create = libc.func('int memfd_create(const char *name, unsigned int flags)')
const ftruncate = libc.func('int ftruncate(int fd, int64_t length)')
const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)')
const munmap = libc.func('int munmap(void *addr, size_t length)')
const strerror = libc.func('const char *strerror(int errnum)')

const SyncPtr = koffi.pointer(dma_buf_sync)
const ExportPtr = koffi.inout(koffi.pointer(dma_buf_export_sync_file))
const HeapAllocPtr = koffi.inout(koffi.pointer(dma_heap_allocation_data))
const UdmabufCreatePtr = koffi.pointer(udmabuf_create)

function check(r, what) {
  if (r < 0) {
    const errno = koffi.errno()
    throw new Error(`${what}: ${strerror(errno)} (errno ${errno})`)
  }
  return r
}

function sync(fd, flags) {
  check(ioctl(fd, DMA_BUF_IOCTL_SYNC, SyncPtr, { flags }), 'DMA_BUF_IOCTL_SYNC')
}

function exportSyncFile(fd) {
  const arg = { flags: DMA_BUF_SYNC_RW, fd: -1 }
  check(ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, ExportPtr, arg), 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE')
  return arg.fd
}

function heapAlloc(heap, len) {
  const arg = { len, fd: 0, fd_flags: O_RDWR | O_CLOEXEC, heap_flags: 0 }
  check(ioctl(heap, DMA_HEAP_IOCTL_ALLOC, HeapAllocPtr, arg), 'DMA_HEAP_IOCTL_ALLOC')
  return arg.fd
}

function udmabufAlloc(dev, size) {
  const memfd = check(memfd_create('bench', MFD_CLOEXEC | MFD_ALLOW_SEALING), 'memfd_create')
  try {
    check(ftruncate(memfd, size), 'ftruncate')
    check(fcntl(memfd, F_ADD_SEALS, 'int', F_SEAL_SHRINK), 'fcntl(F_ADD_SEALS)')
    const arg = { memfd, flags: UDMABUF_FLAGS_CLOEXEC, offset: 0, size }
    return check(ioctl(dev, UDMABUF_CREATE, UdmabufCreatePtr, arg), 'UDMABUF_CREATE')
  } finally {
    fs.closeSync(memfd)
  }
}

/** mmap of the whole buffer: { ptr, u8 } (u8 is a view of the mapped memory). */
function map(fd, size) {
  const ptr = mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
  if (koffi.address(ptr) === MAP_FAILED) {
    const errno = koffi.errno()
    throw new Error(`mmap: ${strerror(errno)} (errno ${errno})`)
  }
  return { ptr, u8: new Uint8Array(koffi.view(ptr, size)) }
}

function unmap(m, size) {
  check(munmap(m.ptr, size), 'munmap')
}

c.main(a, async () => {
  let sink = 0

  if (a.case === 'alloc') {
    const size = a.size
    const heap = a.source === 'heap'
    const dev = fs.openSync(heap ? '/dev/dma_heap/system' : '/dev/udmabuf', heap ? 'r' : 'r+')
    const alloc = heap ? () => heapAlloc(dev, size) : () => udmabufAlloc(dev, size)
    await c.measureAllocClose(a, alloc)
    return
  }

  let fd = c.benchFd()
  if (fd === undefined) fd = udmabufAlloc(fs.openSync('/dev/udmabuf', 'r+'), a.size)
  const size = c.fdSize(fd)
  const mapOrUnavailable = () => {
    try {
      return map(fd, size)
    } catch (e) {
      c.unavailable(a, `this buffer cannot be mapped (${e.message})`)
    }
  }

  let st, chk
  switch (a.case) {
    case 'sync':
      st = await c.measure(a, 0, () => {
        sync(fd, DMA_BUF_SYNC_RW)
        sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW)
      })
      chk = 'every DMA_BUF_IOCTL_SYNC returned 0'
      break
    case 'export': {
      const first = exportSyncFile(fd)
      const signalled = isSignalled(first)
      fs.closeSync(first)
      if (!signalled) c.die(a, 'the sync_file of an idle buffer is not signalled')
      st = await c.measure(a, 0, () => {
        const f = exportSyncFile(fd)
        sink += f
        fs.closeSync(f)
      })
      chk = 'exported sync_files are signalled (idle buffer)'
      break
    }
    case 'map': {
      let m = mapOrUnavailable()
      sync(fd, DMA_BUF_SYNC_WRITE)
      m.u8[0] = 0x5a
      m.u8[size - 1] = 0xa5
      sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)
      unmap(m, size)
      m = map(fd, size)
      if (m.u8[0] !== 0x5a || m.u8[size - 1] !== 0xa5) c.die(a, 'bytes written through one mapping were not read back through another')
      unmap(m, size)
      st = await c.measure(a, 0, () => {
        const m = map(fd, size)
        sink += m.u8.length
        unmap(m, size)
      })
      chk = 'bytes written through one mapping read back through the next'
      break
    }
    case 'read': {
      const m = mapOrUnavailable()
      sync(fd, DMA_BUF_SYNC_WRITE)
      c.fillPattern(m.u8)
      sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)
      const expect = c.patternSum(size)
      st = await c.measure(a, size, () => {
        sync(fd, DMA_BUF_SYNC_READ)
        const s = c.sumBytes(m.u8)
        sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)
        if (s !== expect) throw new Error(`read back sum ${s}, expected ${expect}`)
        sink += s
      })
      chk = `every pass summed to ${expect}`
      break
    }
    case 'rw':
      unmap(mapOrUnavailable(), size)
      st = await c.measure(a, 0, (i) => {
        const v = (i * 7 + 1) & 255
        const m = map(fd, size)
        sync(fd, DMA_BUF_SYNC_WRITE)
        m.u8.fill(v)
        sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE)
        sync(fd, DMA_BUF_SYNC_READ)
        const s = c.sumBytes(m.u8)
        sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)
        unmap(m, size)
        if (s !== v * size) throw new Error(`read back sum ${s}, expected ${v * size}`)
        sink += s
      })
      chk = 'every pass read back the bytes it wrote'
      break
    default:
      c.die(a, `unknown case ${a.case}`)
  }
  c.report(a, size, st, chk, sink)
})

/** poll(POLLIN) with a zero timeout, through koffi. */
function isSignalled(fd) {
  const pollfd = koffi.struct('pollfd', { fd: 'int', events: 'short', revents: 'short' })
  const poll = libc.func('int poll(_Inout_ pollfd *fds, unsigned long nfds, int timeout)')
  const p = { fd, events: 1, revents: 0 }
  return check(poll(p, 1, 0), 'poll') === 1 && (p.revents & 1) !== 0
}
