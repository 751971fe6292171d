// Vulkan interop on Mesa's lavapipe (software Vulkan, mesa-vulkan-drivers
// 25 from bookworm-backports, installed by scripts/lavapipe.sh). lavapipe
// exports real dma-bufs only where /dev/udmabuf exists: these run in the VM
// tier (never skipped there) and wherever lavapipe and udmabuf both exist.
// The GPU machine's script (bench/vulkan-gpu.sh) covers NVIDIA's driver.

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import {
  DRM_FORMAT_MOD_INVALID,
  DRM_FORMAT_MOD_LINEAR,
  type DmaBuf,
  Frame,
  Udmabuf,
  Vulkan,
  VulkanBuffer,
  type VulkanFence,
  type VulkanSemaphore,
} from 'dmabuf'

import { type Fenced, PAGE, assertOsError, fencedVgem, hasVgem, inVm, noLeak, openFds, openVgem, since, thrown } from './helpers.js'

type Body = (t: ExecutionContext) => void | Promise<void>
const lavapipeTest = (title: string, body: Body): void =>
  (inVm || (existsSync('/dev/udmabuf') && Vulkan.available()) ? test.serial : test.serial.skip)(title, body)

function lavapipe(): Vulkan {
  return Vulkan.open({ device: 'llvmpipe' })
}

function readAll(buf: DmaBuf): Uint8Array {
  const map = buf.map('r')
  const cpu = buf.beginCpuAccess('r')
  const out = new Uint8Array(map.buffer).slice()
  cpu.end()
  map.unmap()
  return out
}

function writeAll(buf: DmaBuf, bytes: Uint8Array): void {
  const map = buf.map('rw')
  const cpu = buf.beginCpuAccess('w')
  new Uint8Array(map.buffer).set(bytes)
  cpu.end()
  map.unmap()
}

test('Vulkan.available() answers without throwing, with or without a loader', (t) => {
  t.is(typeof Vulkan.available(), 'boolean')
})

lavapipeTest('capabilities: lavapipe exports and imports dma-bufs for buffers and images, and SYNC_FD semaphores and fences', (t) => {
  using vk = lavapipe()
  t.regex(vk.deviceName, /llvmpipe/)
  const c = vk.capabilities()
  t.true(c.buffer.export.includes('dma-buf'))
  t.true(c.buffer.import.includes('dma-buf'))
  t.true(c.image.export.includes('dma-buf'))
  t.true(c.enabledExtensions.includes('VK_EXT_image_drm_format_modifier'))
  t.true(c.semaphore.export && c.semaphore.import)
  t.true(c.fence.export && c.fence.import)
  const mods = vk.modifiers('AB24')
  t.true(mods.some((m) => m.modifier === DRM_FORMAT_MOD_LINEAR && m.planeCount === 1 && m.maxWidth >= 4096))
})

lavapipeTest('exportBuffer + vkCmdFillBuffer: every byte read back through the CPU mapping', (t) => {
  using vk = lavapipe()
  noLeak(t, () => {
    const size = 64 * 1024
    using buf = vk.createBuffer(size)
    vk.fill(buf, 0xdeadbeef)
    using dmabuf = buf.exportDmaBuf()
    t.true(dmabuf.size >= size)
    t.is(dmabuf.info().exporter, 'udmabuf')
    const bytes = readAll(dmabuf)
    const words = new DataView(bytes.buffer)
    for (let i = 0; i < size; i += 4) {
      if (words.getUint32(i, true) !== 0xdeadbeef) return t.fail(`word at ${i} is ${words.getUint32(i, true).toString(16)}`)
    }
    t.pass()
    // exportBuffer: the DmaBuf alone, the Vulkan side released.
    const only = vk.exportBuffer(PAGE)
    t.is(only.size, PAGE)
    only.close()
  })
})

lavapipeTest('a CPU-written udmabuf imported, vkCmdCopyBuffer into an exported buffer, the copy checked through its mapping', (t) => {
  using vk = lavapipe()
  using u = Udmabuf.open()
  const size = 3 * PAGE
  const src = u.alloc(size)
  const pattern = new Uint8Array(size).map((_, i) => (i * 13 + 7) % 251)
  writeAll(src, pattern)
  using imported = vk.importBuffer(src)
  t.true(src.closed, 'the import consumed the DmaBuf')
  t.is(imported.size, size)
  using dst = vk.createBuffer(size)
  vk.copy(imported, dst)
  using out = dst.exportDmaBuf()
  t.deepEqual(readAll(out).subarray(0, size), pattern)
})

lavapipeTest('a LINEAR image exported, mapped and checked row by row with its pitch; the dma-buf imports back', (t) => {
  using vk = lavapipe()
  const [w, h] = [29, 11]
  using img = vk.createImage({ width: w, height: h, format: 'AB24', modifiers: [DRM_FORMAT_MOD_LINEAR] })
  const layout = img.layout()
  t.is(layout.modifier, DRM_FORMAT_MOD_LINEAR)
  t.is(layout.planes.length, 1)
  const { offset, pitch } = layout.planes[0]
  t.true(pitch >= w * 4)
  const packed = w * h * 4
  using staging = vk.createBuffer(packed)
  const pattern = new Uint8Array(packed).map((_, i) => (i * 7) % 253)
  using sd = staging.exportDmaBuf()
  writeAll(sd, pattern)
  vk.copyBufferToImage(staging, img)
  const out = img.exportDmaBuf()
  const bytes = readAll(out)
  for (let y = 0; y < h; y++) {
    t.deepEqual(bytes.subarray(offset + y * pitch, offset + y * pitch + w * 4), pattern.subarray(y * w * 4, (y + 1) * w * 4), `row ${y}`)
  }
  using back = vk.importImage(out, { width: w, height: h, format: 'AB24', modifier: layout.modifier, planes: layout.planes })
  t.true(out.closed)
  t.deepEqual(back.layout().planes, layout.planes)
})

lavapipeTest('VulkanImage.toFrame and Vulkan.importFrame: image -> Frame -> image shares the pixels both ways', (t) => {
  using vk = lavapipe()
  const [w, h] = [23, 9]
  const row = w * 4
  const first = new Uint8Array(row * h).map((_, i) => (i * 11) % 251)
  const second = new Uint8Array(row * h).map((_, i) => ((i * 3) % 241) ^ 0x5a)
  using staging = vk.createBuffer(row * h)
  using sd = staging.exportDmaBuf()
  const rows = (buf: DmaBuf, offset: number, pitch: number): Uint8Array => {
    const bytes = readAll(buf)
    const out = new Uint8Array(row * h)
    for (let y = 0; y < h; y++) out.set(bytes.subarray(offset + y * pitch, offset + y * pitch + row), y * row)
    return out
  }
  {
    using warm = vk.createImage({ width: w, height: h, format: 'XR24' })
    warm.toFrame().close() // the driver's first-use files
  }
  noLeak(t, () => {
    using img = vk.createImage({ width: w, height: h, format: 'XR24', modifiers: [DRM_FORMAT_MOD_LINEAR] })
    writeAll(sd, first)
    vk.copyBufferToImage(staging, img)
    using frame = img.toFrame()
    t.true(frame instanceof Frame)
    t.is(frame.width, w)
    t.is(frame.height, h)
    t.is(frame.formatName, 'XRGB8888', 'the fourcc the image was made with')
    t.is(frame.modifier, DRM_FORMAT_MOD_LINEAR)
    t.deepEqual(frame.planes.map((p) => ({ offset: p.offset, pitch: p.pitch })), img.layout().planes)
    const { buf, offset, pitch } = frame.planes[0]
    t.deepEqual(rows(buf, offset, pitch), first, "the frame reads the image's pixels")
    using back = vk.importFrame(frame)
    t.is(back.format, 'XR24')
    t.deepEqual(back.layout(), img.layout())
    t.false(buf.closed, 'the frame stays open: Vulkan took a duplicate')
    writeAll(sd, second)
    vk.copyBufferToImage(staging, back)
    t.deepEqual(rows(buf, offset, pitch), second, 'pixels written through the imported image')
    // An imported image has no exportable memory.
    t.is(thrown(t, () => back.toFrame()).code, 'EOPNOTSUPP')
  })
})

lavapipeTest('Vulkan.importFrame: a udmabuf frame at an offset with a padded pitch is written by the device where the frame says', (t) => {
  using vk = lavapipe()
  using u = Udmabuf.open()
  const [w, h, offset, pitch] = [16, 8, 4096, 128]
  const row = w * 4
  const buf = u.alloc(4 * PAGE)
  writeAll(buf, new Uint8Array(4 * PAGE).fill(0xee))
  using frame = new Frame({ width: w, height: h, fourcc: 'AB24', planes: [{ buf, offset, pitch }] })
  using img = vk.importFrame(frame, { hostVisible: true })
  t.is(img.format, 'AB24')
  t.deepEqual(img.layout().planes, [{ offset, pitch }])
  const pattern = new Uint8Array(row * h).map((_, i) => (i * 5) % 239)
  using staging = vk.createBuffer(row * h)
  using sd = staging.exportDmaBuf()
  writeAll(sd, pattern)
  vk.copyBufferToImage(staging, img)
  const bytes = readAll(buf)
  t.true(bytes.subarray(0, offset).every((b) => b === 0xee), 'bytes before the plane untouched')
  for (let y = 0; y < h; y++) {
    const at = offset + y * pitch
    t.deepEqual(bytes.subarray(at, at + row), pattern.subarray(y * row, (y + 1) * row), `row ${y}`)
    t.true(bytes.subarray(at + row, at + pitch).every((b) => b === 0xee), `row ${y}'s padding untouched`)
  }
})

lavapipeTest('Vulkan.importFrame refuses bad frames by name (no Vulkan format, two dma-bufs, texel-splitting layout, unsupported modifier) and leaks nothing', (t) => {
  using vk = lavapipe()
  using u = Udmabuf.open()
  vk.importBuffer(u.alloc(PAGE)).close()
  noLeak(t, () => {
    using yuyv = new Frame({ width: 16, height: 16, fourcc: 'YUYV', planes: [{ buf: u.alloc(PAGE), pitch: 32 }] })
    let e = thrown(t, () => vk.importFrame(yuyv))
    assertOsError(t, e, 'EOPNOTSUPP', 'Vulkan.importFrame')
    t.regex(e.message, /YUYV .*no Vulkan format/)
    t.is((e as { fd?: number }).fd, yuyv.planes[0].buf.fd, "err.fd is the frame's plane 0")
    using nv12 = new Frame({ width: 16, height: 16, fourcc: 'NV12', planes: [{ buf: u.alloc(PAGE), pitch: 16 }, { buf: u.alloc(PAGE), pitch: 16 }] })
    e = thrown(t, () => vk.importFrame(nv12))
    t.is(e.code, 'EOPNOTSUPP')
    t.regex(e.message, /plane 1 is in another dma-buf/)
    t.is((e as { fd?: number }).fd, nv12.planes[1].buf.fd, "err.fd is plane 1's")
    using odd = new Frame({ width: 8, height: 8, fourcc: 'XR24', planes: [{ buf: u.alloc(PAGE), offset: 2, pitch: 64 }] })
    e = thrown(t, () => vk.importFrame(odd))
    t.is(e.code, 'EINVAL')
    t.regex(e.message, /plane 0: offset 2 and pitch 64 must be multiples of its 4-byte texel/)
    t.regex(e.message, new RegExp(`\\(fd ${odd.planes[0].buf.fd}\\)`))
    using tiled = new Frame({ width: 16, height: 16, fourcc: 'XR24', modifier: 0x0100000000000001n, planes: [{ buf: u.alloc(PAGE), pitch: 64 }] })
    e = thrown(t, () => vk.importFrame(tiled))
    t.is(e.code, 'EOPNOTSUPP')
    t.regex(e.message, /modifier 0x100000000000001/)
    for (const f of [yuyv, nv12, odd, tiled]) for (const p of f.planes) t.false(p.buf.closed)
    // Bad arguments.
    t.is(thrown(t, () => vk.importFrame({} as never)).code, 'ERR_INVALID_ARG_TYPE')
    t.is(thrown(t, () => vk.importFrame(odd, { hostVisible: 1 } as never)).code, 'ERR_INVALID_ARG_TYPE')
    odd.close()
    t.is(thrown(t, () => vk.importFrame(odd)).code, 'ERR_DMABUF_CLOSED')
  })
})

lavapipeTest('failed imports (wrong size, unsupported modifier, implicit modifier, bad layout, incompatible memory type) leave the DmaBuf open and usable', (t) => {
  using vk = lavapipe()
  using u = Udmabuf.open()
  noLeak(t, () => {
    using buf = u.alloc(PAGE)
    const fd = buf.fd
    let e = thrown(t, () => vk.importBuffer(buf, { size: 2 * PAGE }))
    t.is(e.code, 'EINVAL')
    t.regex(e.message, /does not fit/)
    t.false(buf.closed)
    t.is(buf.fd, fd)
    // Incompatible memory type: lavapipe's memory is all host-visible.
    e = thrown(t, () => vk.importBuffer(buf, { hostVisible: false }))
    t.is(e.code, 'EOPNOTSUPP')
    t.is((e as { fd?: number }).fd, buf.fd, "err.fd is the caller's DmaBuf.fd, not the closed duplicate Vulkan was offered")
    t.regex(e.message, new RegExp(`\\(fd ${buf.fd}\\)`))
    t.regex(e.message, /memory type/)
    t.false(buf.closed)
    // Unsupported handle type for images: a modifier lavapipe lacks.
    const img = { width: 16, height: 16, format: 'AB24' as const, planes: [{ offset: 0, pitch: 64 }] }
    e = thrown(t, () => vk.importImage(buf, { ...img, modifier: 0x0100000000000001n }))
    t.is(e.code, 'EOPNOTSUPP')
    const imgFd = (e as { fd?: number }).fd
    t.true(imgFd === undefined || imgFd === buf.fd, `importImage: err.fd (${imgFd}) is absent or the caller's DmaBuf.fd (${buf.fd})`)
    t.regex(e.message, /modifier 0x100000000000001/)
    e = thrown(t, () => vk.importImage(buf, { ...img, modifier: DRM_FORMAT_MOD_INVALID }))
    t.regex(e.message, /DRM_FORMAT_MOD_INVALID/)
    e = thrown(t, () => vk.importImage(buf, { ...img, modifier: DRM_FORMAT_MOD_LINEAR, planes: [{ offset: 0, pitch: 1024 }] }))
    t.is(e.code, 'EINVAL')
    t.regex(e.message, /past the end/)
    e = thrown(t, () => vk.importImage(buf, { ...img, modifier: DRM_FORMAT_MOD_LINEAR, planes: [{ offset: 0, pitch: 64 }, { offset: 0, pitch: 64 }] }))
    t.regex(e.message, /plane/)
    t.false(buf.closed)
    // Still a working dma-buf, and the right import goes through.
    t.is(buf.info().size, PAGE)
    vk.importBuffer(buf).close()
    t.true(buf.closed)
  })
})

lavapipeTest('a successful import leaves no fd the library forgot (/proc/self/fd)', (t) => {
  using vk = lavapipe()
  using u = Udmabuf.open()
  vk.importBuffer(u.alloc(PAGE)).close() // the driver's first-use files
  const before = openFds()
  // The consumed DmaBuf is closed; the driver holds what it needs for the
  // memory while it lives (Mesa 22's lavapipe: the fd it was given, so one
  // more than before; Mesa 26's: that fd and a duplicate, two more) and
  // closes it with the memory. Whatever that number, it is the same for
  // every import: nothing piles up.
  let held: number | undefined
  for (let i = 0; i < 16; i++) {
    const b = u.alloc(PAGE)
    const v = vk.importBuffer(b)
    const now = openFds() - before
    held ??= now
    t.true(held >= 0 && held <= 2, `${held} fds held by the driver for one import`)
    t.is(now, held, `import ${i}: ${now} fds open beyond the start, ${held} for the first import`)
    v.close()
    t.is(openFds(), before, 'closing the VulkanBuffer released every fd of the import')
  }
  t.log(`the driver holds ${held} fd(s) per imported buffer`)
  t.is(openFds(), before)
})

lavapipeTest('semaphore -> SyncFile -> semaphore, and a fence exported as a SyncFile attached to a dma-buf (lavapipe has SYNC_FD on this kernel)', async (t) => {
  using vk = lavapipe()
  await noLeak(t, async () => {
    using a = vk.createSemaphore()
    vk.submit({ signal: [a] })
    const sf = a.exportSyncFile()
    if (sf) t.true(await sf.wait(10_000))
    using b = vk.createSemaphore()
    b.importSyncFile(sf)
    using fence = vk.createFence()
    vk.submit({ wait: [b], fence })
    t.true(await fence.wait(10_000))
    sf?.close()
    // A signalled payload as null (fd -1).
    b.importSyncFile(null)
    fence.reset()
    vk.submit({ wait: [b], fence })
    t.true(fence.waitSync(10_000))
    // Fence export, attached to a dma-buf (the wlroots path) and back.
    using f2 = vk.createFence()
    vk.submit({ fence: f2 })
    const fsf = f2.exportSyncFile()
    using buf = vk.exportBuffer(PAGE)
    if (fsf) {
      buf.importSyncFile(fsf, 'w')
      fsf.close()
    }
    using back = buf.exportSyncFile('w')
    using f3 = vk.createFence()
    f3.importSyncFile(back)
    t.true(await f3.wait(10_000))
  })
})

lavapipeTest('misuse that would block for ever is refused with EINVAL at once: exporting or waiting on what nothing will signal, waiting on a never-signalled semaphore, signalling twice, resubmitting a fence', async (t) => {
  using vk = lavapipe()
  using idle = vk.createSemaphore()
  using fence = vk.createFence()
  const quick = (what: string, fn: () => unknown): void => {
    const start = process.hrtime.bigint()
    const e = thrown(t, fn)
    t.is(e.code, 'EINVAL', `${what}: ${e.message}`)
    t.true(Number(process.hrtime.bigint() - start) / 1e6 < 2000, `${what} returned at once`)
  }
  quick('exporting a semaphore with no signal', () => idle.exportSyncFile())
  quick('exporting a fence never submitted', () => fence.exportSyncFile())
  quick('waiting on a fence never submitted', () => fence.waitSync())
  const never = await t.throwsAsync(fence.wait())
  t.is((never as NodeJS.ErrnoException).code, 'EINVAL', 'wait() rejects the same way')
  t.regex(never.message, /, VulkanFence\.wait$/, 'named by the method called')
  quick('a batch waiting on a never-signalled semaphore', () => vk.submit({ wait: [idle], fence }))
  t.regex(thrown(t, () => vk.submit({ wait: [idle] })).message, /wait\[0\]: nothing will signal this semaphore/)
  // A signal pending: a second signal is refused, one wait consumes it, a second wait is refused.
  using s = vk.createSemaphore()
  vk.submit({ signal: [s] })
  quick('signalling a semaphore twice', () => vk.submit({ signal: [s] }))
  vk.submit({ wait: [s], fence })
  t.true(fence.waitSync(10_000))
  quick('waiting again on a consumed semaphore', () => vk.submit({ wait: [s] }))
  // A fence is reused only after reset().
  quick('resubmitting a fence without reset()', () => vk.submit({ fence }))
  fence.reset()
  vk.submit({ fence })
  t.true(await fence.wait(10_000))
  // An export consumes: the semaphore is empty again.
  vk.submit({ signal: [s] })
  s.exportSyncFile()?.close()
  quick('exporting a consumed semaphore', () => s.exportSyncFile())
})

lavapipeTest('VulkanFence.wait() leaves the thread free while a submission waits on a sync_file not yet signalled: timers run, abort and close reject, the signal resolves it', async (t) => {
  if (!hasVgem()) return t.fail('the VM tier loads vgem: its fences are the sync_files here that signal only when told')
  using vk = lavapipe()
  using dev = openVgem()
  await noLeak(t, async () => {
    // A fence whose submission waits on a vgem fence's sync_file: pending until f.signal().
    const pendingFence = (f: Fenced): VulkanFence => {
      using sf = f.buf.exportSyncFile('rw')
      t.false(sf.isSignaled())
      using sem = vk.createSemaphore()
      sem.importSyncFile(sf)
      const fence = vk.createFence()
      vk.submit({ wait: [sem], fence })
      return fence
    }
    {
      using f = fencedVgem(dev)
      using fence = pendingFence(f)
      let ticks = 0
      const timer = setInterval(() => ticks++, 5)
      const start = performance.now()
      t.false(await fence.wait(120), 'the timeout passes first')
      const waited = since(start)
      t.true(waited >= 119 && waited < 2000, `false after ${waited} ms`)
      t.true(ticks >= 3, `a 5 ms interval ran ${ticks} times meanwhile: the thread was free`)
      const waiting = fence.wait(30_000)
      setTimeout(() => f.signal(), 50)
      const signalled = performance.now()
      t.true(await waiting, 'resolves once the sync_file it waits on signals')
      clearInterval(timer)
      t.true(since(signalled) < 2000)
      t.true(fence.waitSync(0), 'and the fence is signalled')
    }
    {
      using f = fencedVgem(dev)
      using fence = pendingFence(f)
      const ac = new AbortController()
      const waiting = fence.wait(undefined, ac.signal)
      setTimeout(() => ac.abort(new Error('enough')), 30)
      const e = await t.throwsAsync(waiting)
      t.is(e.name, 'AbortError')
      t.is((e as NodeJS.ErrnoException).code, 'ABORT_ERR')
      const closing = fence.wait()
      f.signal()
      t.true(await closing, 'the fence is still usable after an aborted wait')
    }
    {
      using f = fencedVgem(dev)
      const fence = pendingFence(f)
      const waiting = fence.wait()
      setTimeout(() => {
        f.signal()
        fence.close()
      }, 30)
      const e = await t.throwsAsync(waiting)
      t.is((e as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED', e.message)
      t.regex(e.message, /^VulkanFence\.wait: /)
    }
  })
})

lavapipeTest('closing a semaphore, a fence and then the device while their submission waits on a sync_file not yet signalled returns at once', async (t) => {
  if (!hasVgem()) return t.fail('the VM tier loads vgem: its fences are the sync_files here that signal only when told')
  using dev = openVgem()
  const quick = (what: string, fn: () => void): void => {
    const start = performance.now()
    fn()
    t.true(since(start) < 1000, `${what} took ${since(start).toFixed(0)} ms`)
  }
  const stuck = (vk: Vulkan, f: Fenced): { sem: VulkanSemaphore; fence: VulkanFence } => {
    using sf = f.buf.exportSyncFile('rw')
    const sem = vk.createSemaphore()
    sem.importSyncFile(sf)
    const fence = vk.createFence()
    vk.submit({ wait: [sem], fence })
    return { sem, fence }
  }
  {
    using vk = lavapipe()
    using f = fencedVgem(dev)
    const { sem, fence } = stuck(vk, f)
    quick('closing the waiting semaphore', () => sem.close())
    quick('closing the fence of the waiting batch', () => fence.close())
    f.signal()
    // The device goes on: the closed objects are destroyed at the next close, and new work runs.
    using done = vk.createFence()
    vk.submit({ fence: done })
    t.true(await done.wait(10_000))
    using buf = vk.createBuffer(PAGE)
    vk.fill(buf, 0x01020304)
  }
  {
    // The device closed too while the batch still waits: left to the process's exit.
    const vk = lavapipe()
    using f = fencedVgem(dev)
    const { sem, fence } = stuck(vk, f)
    quick('closing the semaphore', () => sem.close())
    quick('closing the fence', () => fence.close())
    quick('closing the device', () => vk.close())
    f.signal()
  }
})

lavapipeTest('fill, copy, copyBufferToImage and (on lavapipe) every SyncFile export, behind a batch waiting on a sync_file not yet signalled, fail with EBUSY instead of blocking, and work once it has run', async (t) => {
  if (!hasVgem()) return t.fail('the VM tier loads vgem: its fences are the sync_files here that signal only when told')
  using vk = lavapipe()
  using dev = openVgem()
  const [w, h] = [8, 4]
  using src = vk.createBuffer(w * h * 4)
  using dst = vk.createBuffer(w * h * 4)
  using img = vk.createImage({ width: w, height: h, format: 'AB24', modifiers: [DRM_FORMAT_MOD_LINEAR] })
  vk.fill(src, 0x5a5a5a5a)
  const commands: [string, () => void][] = [
    ['Vulkan.fill', () => vk.fill(dst, 0x01020304)],
    ['Vulkan.copy', () => vk.copy(src, dst)],
    ['Vulkan.copyBufferToImage', () => vk.copyBufferToImage(src, img)],
  ]
  await noLeak(t, async () => {
    using f = fencedVgem(dev)
    using fence = vk.createFence()
    using signalled = vk.createSemaphore()
    using imported = vk.createSemaphore()
    {
      using sf = f.buf.exportSyncFile('rw')
      using sem = vk.createSemaphore()
      sem.importSyncFile(sf)
      vk.submit({ wait: [sem], signal: [signalled], fence })
      imported.importSyncFile(sf)
    }
    // lavapipe flushes its queue before any export, even of a payload imported from a sync_file.
    commands.push(['VulkanSemaphore.exportSyncFile', () => signalled.exportSyncFile()?.close()])
    commands.push(['VulkanSemaphore.exportSyncFile', () => imported.exportSyncFile()?.close()])
    commands.push(['VulkanFence.exportSyncFile', () => fence.exportSyncFile()?.close()])
    for (let round = 0; round < 2; round++) {
      for (const [method, run] of commands) {
        const start = performance.now()
        const e = thrown(t, run)
        const took = since(start)
        assertOsError(t, e, 'EBUSY', method)
        t.regex(e.message, /waits on a semaphore not signalled/, e.message)
        t.true(took < 1000, `${method} returned after ${took.toFixed(0)} ms`)
      }
    }
    t.false(fence.waitSync(0), 'the batch is still waiting: nothing ran behind it')
    f.signal()
    t.true(await fence.wait(10_000), 'the batch runs once its sync_file signals')
    for (const [, run] of commands) run()
    using out = dst.exportDmaBuf()
    t.is(new DataView(readAll(out).buffer).getUint32(0, true), 0x5a5a5a5a, 'the copy ran after the fill')
  })
  // A batch that waits on a sync_file already signalled holds nothing up.
  using f = fencedVgem(dev)
  f.signal()
  using sf = f.buf.exportSyncFile('rw')
  using sem = vk.createSemaphore()
  sem.importSyncFile(sf)
  vk.submit({ wait: [sem] })
  vk.fill(dst, 0x01020304)
  t.pass()
})

lavapipeTest('with no fd left, Vulkan exports fail with EMFILE naming the call, not EIO', (t) => {
  // A child under `ulimit -n 256` fills its fd table, then exports.
  const root = resolve(__dirname, '..', '..')
  const code = `const d = require(${JSON.stringify(root)}); const fs = require('fs');
    const vk = d.Vulkan.open({ device: 'llvmpipe' }); const buf = vk.createBuffer(4096, { export: 'dma-buf' });
    const sem = vk.createSemaphore(); vk.submit({ signal: [sem] });
    const held = []; const fill = () => { try { for (;;) held.push(fs.openSync('/dev/null', 'r')) } catch {} };
    const out = {};
    for (const [k, f] of [['buffer', () => buf.exportDmaBuf()], ['semaphore', () => sem.exportSyncFile()]]) {
      // A thread of Node or of the driver may close an fd of its own between the fill and the export; a success
      // then took that slot, so keep what it returned, fill again and retry: the first error is the answer.
      for (let attempt = 0; attempt < 8; attempt++) {
        fill();
        try { const r = f(); out[k] = 'no error'; if (r) held.push(r) } catch (e) { out[k] = e.code + ' ' + e.message; break }
      }
    }
    for (const h of held) typeof h === 'number' ? fs.closeSync(h) : h.close();
    console.log(JSON.stringify(out))`
  const r = spawnSync('bash', ['-c', 'ulimit -n 256 && exec "$0" -e "$1"', process.execPath, code], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, string>
  t.regex(out.buffer, /^EMFILE .*vkGetMemoryFdKHR/, out.buffer)
  // A semaphore export needs no new fd where the payload has already signalled (fd -1): then it succeeds.
  t.true(out.semaphore === 'no error' || /^EMFILE .*vkGetSemaphoreFdKHR/.test(out.semaphore), out.semaphore)
})

lavapipeTest('bad arguments are Node-style errors before any Vulkan call; closed objects are ERR_DMABUF_CLOSED', (t) => {
  const vk = lavapipe()
  const buf = vk.createBuffer(PAGE)
  t.is(thrown(t, () => vk.createBuffer(-1)).code, 'ERR_OUT_OF_RANGE')
  t.is(thrown(t, () => vk.createBuffer(PAGE, { export: 'x' as never })).code, 'ERR_INVALID_ARG_VALUE')
  t.is(thrown(t, () => vk.fill(buf, 2 ** 32)).code, 'ERR_OUT_OF_RANGE')
  t.is(thrown(t, () => vk.fill(buf, 0, 1)).code, 'EINVAL')
  t.is(thrown(t, () => vk.fill({} as VulkanBuffer, 0)).code, 'ERR_INVALID_ARG_TYPE')
  t.is(thrown(t, () => vk.createImage({ width: 1, height: 1, format: 'YUYV' as never })).code, 'ERR_INVALID_ARG_VALUE')
  t.is(thrown(t, () => vk.createImage({ width: 1, height: 1, format: 'AB24', modifiers: [1] as never })).code, 'ERR_INVALID_ARG_TYPE')
  t.is(thrown(t, () => buf.exportDmaBuf.call({})).code, 'ERR_INVALID_THIS')
  vk.close()
  t.is(thrown(t, () => vk.createBuffer(PAGE)).code, 'ERR_DMABUF_CLOSED')
  // The buffer keeps the device alive, and stays tied to it.
  buf.exportDmaBuf().close()
  const other = lavapipe()
  const e = thrown(t, () => other.fill(buf, 1))
  t.is(e.code, 'EINVAL')
  t.regex(e.message, /another Vulkan device/)
  other.close()
  buf.close()
  t.true(buf.closed)
  t.is(thrown(t, () => buf.exportDmaBuf()).code, 'ERR_DMABUF_CLOSED')
})
