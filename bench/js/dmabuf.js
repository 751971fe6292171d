'use strict'
// The JS contender of `npm run bench`: this package, used as its README
// shows. Same cases, arguments and output as bench/c/bench.c.

const { DmaBuf, Heap, Udmabuf } = require('../../index.js')
const c = require('./common.js')

const a = c.parseArgs('JS')

c.main(a, async () => {
  let sink = 0

  // Case 7: a frame handed to another process (bench/js/handoff.js).
  if (a.case === 'handoff-copy' || a.case === 'handoff-fd') return require('./handoff.js')(a, c)

  if (a.case === 'alloc') {
    const size = a.size
    const src = a.source === 'heap' ? Heap.open('system') : Udmabuf.open()
    const first = src.alloc(size)
    if (first.size !== size) c.die(a, `allocated ${first.size} bytes, asked for ${size}`)
    first.close()
    // (No property reads in the loops: a getter is a full native call here.)
    const st = await c.measure(a, 0, () => {
      src.alloc(size).close()
    })
    c.report(a, size, st, `a ${a.source} buffer reports ${size} bytes`, sink)
    return
  }

  const fd = c.benchFd()
  const buf =
    fd !== undefined ? DmaBuf.fromFd(fd) : a.source === 'heap' ? Heap.open('system').alloc(a.size) : Udmabuf.open().alloc(a.size)
  const size = buf.size
  const mapOrUnavailable = (access) => {
    try {
      return buf.map(access)
    } catch (e) {
      c.unavailable(a, `this buffer cannot be mapped (${e.message})`)
    }
  }

  let st, check
  switch (a.case) {
    case 'sync':
      st = await c.measure(a, 0, () => {
        const cpu = buf.beginCpuAccess('rw')
        cpu.end()
      })
      check = 'every DMA_BUF_IOCTL_SYNC returned 0'
      break
    case 'export': {
      const first = buf.exportSyncFile('rw')
      if (!first.isSignaled()) c.die(a, 'the sync_file of an idle buffer is not signalled')
      first.close()
      st = await c.measure(a, 0, () => {
        buf.exportSyncFile('rw').close()
      })
      check = 'exported sync_files are signalled (idle buffer)'
      break
    }
    case 'map': {
      let m = mapOrUnavailable('rw')
      let cpu = buf.beginCpuAccess('w')
      let u8 = new Uint8Array(m.buffer)
      u8[0] = 0x5a
      u8[size - 1] = 0xa5
      cpu.end()
      m.unmap()
      m = buf.map('r')
      u8 = new Uint8Array(m.buffer)
      if (u8[0] !== 0x5a || u8[size - 1] !== 0xa5) c.die(a, 'bytes written through one mapping were not read back through another')
      m.unmap()
      st = await c.measure(a, 0, () => {
        buf.map('rw').unmap()
      })
      check = 'bytes written through one mapping read back through the next'
      break
    }
    case 'mapbuf': {
      // Case 3d/3e: map, take the ArrayBuffer (an external ArrayBuffer over
      // the mapping, made on first use), unmap.
      mapOrUnavailable('rw').unmap()
      st = await c.measure(a, 0, () => {
        const m = buf.map('rw')
        sink += m.buffer.byteLength
        m.unmap()
      })
      check = 'every mapping gave an ArrayBuffer of the whole buffer'
      break
    }
    case 'copy': {
      // Case 4a: copy the whole mapping into a JavaScript Uint8Array.
      const m = mapOrUnavailable('rw')
      const u8 = new Uint8Array(m.buffer)
      let cpu = buf.beginCpuAccess('w')
      c.fillPattern(u8)
      cpu.end()
      const dst = new Uint8Array(size)
      let i = 0
      st = await c.measure(a, size, () => {
        const cpu = buf.beginCpuAccess('r')
        dst.set(u8)
        cpu.end()
        const k = (i++ * 4099) % size
        if (dst[k] !== (k & 255)) throw new Error(`copied byte ${k} is ${dst[k]}, expected ${k & 255}`)
        sink += dst[k]
      })
      check = 'every copy holds the pattern written through the mapping'
      break
    }
    case 'readheap': {
      // Case 4b: the read loop of case 4 over an ordinary ArrayBuffer, to
      // compare mapped memory with heap memory from JavaScript.
      const u8 = new Uint8Array(new ArrayBuffer(size))
      c.fillPattern(u8)
      const expect = c.patternSum(size)
      st = await c.measure(a, size, () => {
        const s = c.sumBytes(u8)
        if (s !== expect) throw new Error(`read back sum ${s}, expected ${expect}`)
        sink += s
      })
      check = `every pass summed to ${expect}`
      break
    }
    case 'read': {
      const m = mapOrUnavailable('rw')
      const u8 = new Uint8Array(m.buffer)
      let cpu = buf.beginCpuAccess('w')
      c.fillPattern(u8)
      cpu.end()
      const expect = c.patternSum(size)
      st = await c.measure(a, size, () => {
        const cpu = buf.beginCpuAccess('r')
        const s = c.sumBytes(u8)
        cpu.end()
        if (s !== expect) throw new Error(`read back sum ${s}, expected ${expect}`)
        sink += s
      })
      check = `every pass summed to ${expect}`
      break
    }
    case 'rw':
      mapOrUnavailable('rw').unmap()
      st = await c.measure(a, 0, (i) => {
        const v = (i * 7 + 1) & 255
        const m = buf.map('rw')
        const u8 = new Uint8Array(m.buffer)
        let cpu = buf.beginCpuAccess('w')
        u8.fill(v)
        cpu.end()
        cpu = buf.beginCpuAccess('r')
        const s = c.sumBytes(u8)
        cpu.end()
        m.unmap()
        if (s !== v * size) throw new Error(`read back sum ${s}, expected ${v * size}`)
        sink += s
      })
      check = 'every pass read back the bytes it wrote'
      break
    default:
      c.die(a, `unknown case ${a.case}`)
  }
  c.report(a, size, st, check, sink)
  buf.close()
})
