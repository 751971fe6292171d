// The memory guard (issue 19; crates/dmabuf/src/guard.rs): an allocation
// that would not fit in MemAvailable less the reserve (MemTotal / 16, at
// least 64 MiB) is ENOMEM naming the figures, before the kernel sees it;
// kept allocations stop there, and neither a bystander nor the caller is
// killed. Deterministic: the guard's refusal (its message), /proc/vmstat's
// oom_kill count, the bystander's being alive.
//
// These tests fill the machine's memory up to the guard's line, so
// scripts/vm-tier.sh runs this file alone, after every other spec: a test
// running beside them would find no memory left and fail for it.

import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'

import type { ExecutionContext } from 'ava'
import { DrmDevice, Heap, Udmabuf, type DmaBuf } from 'dmabuf'

import { PAGE, deviceTest, heapTest, thrown, vgemTest } from './helpers.js'


const MiB = 2 ** 20

function meminfo(): { total: number; available: number } {
  const text = readFileSync('/proc/meminfo', 'utf8')
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(text)![1]) * 1024
  return { total: kib('MemTotal'), available: kib('MemAvailable') }
}

const oomKills = (): number => Number(/^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'))?.[1] ?? 0)

/** A process that holds 64 MiB of touched memory until killed; the OOM killer's likely first choice after us. */
function bystander(t: ExecutionContext): ChildProcess {
  const child = spawn(process.execPath, ['-e', `const b = Buffer.alloc(${64 * MiB}, 1); setInterval(() => b[0]++, 1000)`], { stdio: 'ignore' })
  t.teardown(() => child.kill('SIGKILL'))
  return child
}

const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null

/** Allocates `chunk`-byte buffers with `alloc` (touching each through `touch`) and keeps them until the guard refuses; returns the refusal. */
function fill(t: ExecutionContext, alloc: () => { close(): void }, chunk: number, touch?: (b: never) => void): { err: NodeJS.ErrnoException; kept: number } {
  const { total } = meminfo()
  const kept: Array<{ close(): void }> = []
  try {
    for (let i = 0; i <= total / chunk + 1; i++) {
      let b: { close(): void }
      try {
        b = alloc()
      } catch (e) {
        return { err: e as NodeJS.ErrnoException, kept: kept.length }
      }
      kept.push(b)
      touch?.(b as never)
    }
    t.fail(`${kept.length} buffers of ${chunk} bytes fit in ${total} bytes of memory: the guard never refused`)
    return { err: new Error('not refused') as NodeJS.ErrnoException, kept: kept.length }
  } finally {
    for (const b of kept) b.close()
  }
}

function guardRefusal(t: ExecutionContext, err: NodeJS.ErrnoException, method: string): void {
  t.is(err.code, 'ENOMEM', err.message)
  t.regex(err.message, /bytes is more than this machine's memory (has available: MemAvailable \d+ bytes less a reserve of \d+ bytes|\(\d+ bytes\))/)
  t.true(err.message.includes(method), err.message)
}

heapTest('the memory guard: near-RAM heap sizes are ENOMEM naming MemAvailable and the reserve, and a bystander survives', async (t) => {
  const by = bystander(t)
  await new Promise((ok) => setTimeout(ok, 500))
  const kills = oomKills()
  using heap = Heap.open('system')
  const { total, available } = meminfo()
  const page = (n: number): number => Math.floor(n / PAGE) * PAGE
  for (const size of [total - PAGE, page(0.9 * total), page(available), page(available - 32 * MiB)]) {
    const err = thrown(t, () => heap.alloc(size))
    guardRefusal(t, err, 'Heap.alloc')
  }
  t.true(alive(by), 'the bystander lives')
  t.is(oomKills(), kills, 'the OOM killer killed nothing')
})

heapTest('the memory guard: heap buffers of a quarter of RAM, kept, stop with ENOMEM before the OOM killer; the bystander survives', async (t) => {
  const by = bystander(t)
  await new Promise((ok) => setTimeout(ok, 500))
  const kills = oomKills()
  using heap = Heap.open('system')
  const chunk = Math.floor(meminfo().total / 4 / PAGE) * PAGE
  const { err, kept } = fill(t, () => heap.alloc(chunk), chunk)
  guardRefusal(t, err, 'Heap.alloc')
  t.true(kept >= 1 && kept <= 3, `${kept} quarters of RAM were allocated before the refusal`)
  t.true(alive(by), 'the bystander lives')
  t.is(oomKills(), kills, 'the OOM killer killed nothing')
})

deviceTest('the memory guard: 64 MiB udmabuf allocations (udmabuf’s own limit), kept, stop with ENOMEM before the OOM killer; the bystander survives', async (t) => {
  const by = bystander(t)
  await new Promise((ok) => setTimeout(ok, 500))
  const kills = oomKills()
  using u = Udmabuf.open()
  const { err, kept } = fill(t, () => u.alloc(64 * MiB), 64 * MiB)
  guardRefusal(t, err, 'Udmabuf.alloc')
  t.true(kept >= 4, `${kept} × 64 MiB were allocated first`)
  t.true(alive(by), 'the bystander lives')
  t.is(oomKills(), kills, 'the OOM killer killed nothing')
})

vgemTest('the memory guard: vgem dumb buffers, each touched through its mapping, stop with ENOMEM before the OOM killer; the bystander survives', async (t) => {
  const by = bystander(t)
  await new Promise((ok) => setTimeout(ok, 500))
  const kills = oomKills()
  using drm = DrmDevice.openDriver('vgem', true)
  // 4096 x 4096 x 32 bpp: 64 MiB each. vgem gives a dumb buffer pages only
  // when they are touched, so each is filled before the next is asked for.
  const { err, kept } = fill(
    t,
    () => {
      const { handle } = drm.createDumb(4096, 4096, 32)
      const buf = drm.export(handle, 'rw')
      return { buf, handle, close: () => (buf.close(), handle.close()) }
    },
    64 * MiB,
    (b: { buf: DmaBuf }) => {
      const m = b.buf.map('rw')
      new Uint8Array(m.buffer).fill(7)
      m.unmap()
    },
  )
  guardRefusal(t, err, 'DrmDevice.createDumb')
  t.true(kept >= 4, `${kept} × 64 MiB were allocated first`)
  t.true(alive(by), 'the bystander lives')
  t.is(oomKills(), kills, 'the OOM killer killed nothing')
})
