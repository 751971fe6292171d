// Fault injection (device tier): the kernel refuses, a signal interrupts, a
// peer dies. Each fault must reach the caller as a Node-style error naming
// the method (`EMFILE: Too many open files, Heap.alloc (fd 20)`), and leave
// nothing behind: the caller's fds, buffers and mappings as they were, and
// no fd or mapping of the failed call left over.
//
// Faults that would disturb ava's worker (a full fd table, a memory cgroup,
// signals) run in a child Node that loads the package from this checkout and
// prints one `RESULT {json}` line, which the test parses and asserts on.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, readFileSync, readSync, readdirSync, readlinkSync, rmdirSync, writeFileSync, writeSync } from 'node:fs'
import { resolve } from 'node:path'

import type { ExecutionContext } from 'ava'
import { SyncFile, Udmabuf, createUdmabuf } from 'dmabuf'

import { PAGE, deviceTest, fencedVgem, heapTest, openFds, openVgem, pattern, since, vgemTest } from './helpers.js'

const root = resolve(__dirname, '..', '..')
const MiB = 1 << 20

/** Lines of /proc/self/maps that map a dma-buf (`... /dmabuf:udmabuf`). */
function dmabufMaps(pid: number | 'self' = 'self'): number {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((l) => / \/dmabuf:/.test(l)).length
}

/** This process's open fds as `N -> target`, for messages that say which fd differs. */
function fdTable(): string[] {
  return readdirSync('/proc/self/fd').flatMap((n) => {
    try {
      return [`${n} -> ${readlinkSync(`/proc/self/fd/${n}`)}`]
    } catch {
      return [] // readdirSync's own fd, closed by now
    }
  })
}

/** Asserts that this process has `before.length + extra` fds, naming those that came or went. */
function assertFdCount(t: ExecutionContext, before: string[], extra: number, message: string): void {
  const now = fdTable()
  const gone = before.filter((x) => !now.includes(x))
  const added = now.filter((x) => !before.includes(x))
  t.is(now.length, before.length + extra, `${message} (new: ${added.join(', ') || 'none'}; gone: ${gone.join(', ') || 'none'})`)
}

/** What a child reports of an error. */
interface ErrInfo {
  name: string
  code?: string
  errno?: number
  syscall?: string
  message: string
}

/** The message of an OS error from `method`: `CODE: <why>, method` and maybe ` (fd N)`. */
const osMessage = (code: string, method: string): RegExp => new RegExp(`^${code}: .*, ${method.replace('.', '\\.')}( \\(fd \\d+\\))?$`)

/** Asserts that a child's error is the OS error `codes` (one of) from `method`. */
function assertChildOsError(t: ExecutionContext, e: ErrInfo | undefined | null, codes: string[], method: string, label: string): void {
  if (!e) {
    t.fail(`${label}: expected ${codes.join(' or ')} from ${method}, but the call succeeded`)
    return
  }
  t.true(codes.includes(e.code ?? ''), `${label}: code ${e.code} (${e.message})`)
  t.is(e.name, 'Error', label)
  t.regex(e.message, osMessage(e.code ?? '', method), label)
  t.true(typeof e.errno === 'number' && e.errno < 0, `${label}: errno ${e.errno}`)
  t.true(typeof e.syscall === 'string' && e.syscall.length > 0, `${label}: syscall ${e.syscall}`)
}

/** The start of every child script: the package, fd and mapping counters, and the result line. */
const PRELUDE = `'use strict'
const d = require(${JSON.stringify(root)})
const fs = require('node:fs')
const PAGE = ${PAGE}
const MiB = 1 << 20
const fds = () => fs.readdirSync('/proc/self/fd').length
const maps = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => / \\/dmabuf:/.test(l)).length
const links = (list) => list.map((fd) => fs.readlinkSync('/proc/self/fd/' + fd))
const errOf = (e) => ({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message })
const attempt = (f) => { try { return { value: f() } } catch (e) { return { err: errOf(e) } } }
const result = (x) => fs.writeSync(1, '\\nRESULT ' + JSON.stringify(x) + '\\n')
const main = (f) => f().catch((e) => { fs.writeSync(2, 'child failed: ' + (e && e.stack || e) + '\\n'); process.exit(3) })
`

interface ChildRun {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `script` (after PRELUDE) in a child Node, optionally under `prefix` (e.g. prlimit), and waits for it. */
function runChild(script: string, prefix: string[] = [], timeoutMs = 50_000): ChildRun {
  const argv = [...prefix, process.execPath, '-e', PRELUDE + script]
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' })
  if (r.error) throw r.error
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

/** The child's RESULT line, after asserting that it exited 0 by itself (not killed). */
function resultOf<T>(t: ExecutionContext, r: ChildRun): T {
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (r.status !== 0 || r.signal !== null || line === undefined) {
    throw new Error(`the child exited with ${r.signal ?? r.status}, result line ${line === undefined ? 'missing' : 'present'}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`)
  }
  t.pass('the child exited 0 by itself')
  return JSON.parse(line.slice('RESULT '.length)) as T
}

/** A child Node running `script` with `fds` as its fds 3, 4, ...; its stdout is watched for markers. */
class Peer {
  readonly child: ChildProcess
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #out = ''
  #err = ''
  #waiters: Array<{ marker: string; ok: (s: string) => void; fail: (e: Error) => void }> = []

  constructor(script: string, fds: number[]) {
    this.child = spawn(process.execPath, ['-e', PRELUDE + script], { stdio: ['ignore', 'pipe', 'pipe', ...fds] })
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.#out += s
      this.#waiters = this.#waiters.filter((w) => {
        const at = this.#out.indexOf(w.marker)
        if (at < 0) return true
        w.ok(this.#out.slice(at + w.marker.length).split('\n')[0])
        return false
      })
    })
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.#err += s))
    this.closed = new Promise((ok) =>
      this.child.on('close', (code, signal) => {
        for (const w of this.#waiters) w.fail(new Error(`the child exited (${signal ?? code}) before printing ${w.marker}\n${this.#err}`))
        this.#waiters = []
        ok({ code, signal })
      }),
    )
  }

  /** Resolves with the rest of the line after `marker` once the child prints it. */
  waitFor(marker: string, ms = 30_000): Promise<string> {
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no ${marker} from the child in ${ms} ms; stderr:\n${this.#err}`)), ms)
      const at = this.#out.indexOf(marker)
      if (at >= 0) {
        clearTimeout(timer)
        ok(this.#out.slice(at + marker.length).split('\n')[0])
        return
      }
      this.#waiters.push({
        marker,
        ok: (s) => (clearTimeout(timer), ok(s)),
        fail: (e) => (clearTimeout(timer), fail(e)),
      })
    })
  }

  get stderr(): string {
    return this.#err
  }

  /** SIGKILL, then the exit. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGKILL')
    return this.closed
  }
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms))

/** Whether `pid` is blocked in poll(2) (its wchan, or its system call number on x86_64). */
function inPoll(pid: number): boolean {
  try {
    if (/poll/.test(readFileSync(`/proc/${pid}/wchan`, 'utf8'))) return true
    return process.arch === 'x64' && /^(7|271) /.test(readFileSync(`/proc/${pid}/syscall`, 'utf8'))
  } catch {
    return false
  }
}

async function untilInPoll(t: ExecutionContext, pid: number, what: string): Promise<void> {
  const start = performance.now()
  while (!inPoll(pid)) {
    if (since(start) > 20_000) throw new Error(`${what} is not blocked in poll() after 20 s`)
    await sleep(20)
  }
  t.pass(`${what} is blocked in poll()`)
}

// ---------------------------------------------------------------------------
// 1. Out of fds (RLIMIT_NOFILE).

const NOFILE = 96

/** Runs the child under RLIMIT_NOFILE = NOFILE: prlimit (util-linux) if there is one, else bash's ulimit. */
function underNofile(script: string): ChildRun {
  const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0
  return hasPrlimit
    ? runChild(script, ['prlimit', `--nofile=${NOFILE}:${NOFILE}`])
    : runChild(script, ['bash', '-c', `ulimit -n ${NOFILE} && exec "$@"`, 'bash'])
}

/**
 * Child code: `fill(free)` fills the fd table but for `free` slots,
 * `freeSlots()` counts the free slots (opening and closing them), and
 * `underEmfile(cases)` runs each case [method, fdsItNeeds, call] once for
 * every number of free slots too small for it (0 .. needs-1), then once with
 * the table emptied again.
 */
const EMFILE_HARNESS = `
const filler = []
const fill = (free) => {
  for (;;) {
    try { filler.push(fs.openSync('/dev/null', 'r')) } catch (e) { if (e.code !== 'EMFILE' && e.code !== 'ENFILE') throw e; break }
  }
  for (let i = 0; i < free; i++) fs.closeSync(filler.pop())
}
const unfill = () => { while (filler.length) fs.closeSync(filler.pop()) }
const freeSlots = () => {
  const got = []
  try { for (;;) got.push(fs.openSync('/dev/null', 'r')) } catch {}
  for (const fd of got) fs.closeSync(fd)
  return got.length
}
const release = (r) => {
  for (const x of [r].flat()) {
    if (typeof x === 'number') fs.closeSync(x)
    else if (x && typeof x.close === 'function') x.close()
  }
}
const underEmfile = (cases) => {
  const out = []
  for (const [method, needs, call] of cases) {
    for (let free = 0; free < needs; free++) {
      fill(free)
      const r = attempt(call)
      const left = freeSlots()
      unfill()
      release(r.value) // an unexpected success: closed here, reported below
      out.push({ method, free, err: r.err, succeeded: !r.err, left })
    }
    const r = attempt(call)
    release(r.value)
    out.push({ method, free: null, err: r.err, succeeded: !r.err, left: null })
  }
  return out
}
`

interface EmfileCase {
  method: string
  /** Free fd slots during the call; null: the table emptied again. */
  free: number | null
  err?: ErrInfo
  succeeded: boolean
  /** Free slots right after the call (before the filler fds were closed). */
  left: number | null
}

interface EmfileResult {
  cases: EmfileCase[]
  fds0: number
  fds1: number
  maps0: number
  maps1: number
  links0: string[]
  links1: string[]
  intact: boolean
  writable: boolean
}

/** The assertions every EMFILE child shares. */
function assertEmfile(t: ExecutionContext, o: EmfileResult, methods: string[]): void {
  for (const m of methods) t.true(o.cases.some((c) => c.method === m && c.free === 0), `${m} was tried with a full table`)
  for (const c of o.cases) {
    if (c.free === null) {
      t.true(c.succeeded, `${c.method} succeeds once fds are free again: ${c.err?.message}`)
      continue
    }
    const label = `${c.method} with ${c.free} free fd slot(s)`
    assertChildOsError(t, c.err, ['EMFILE', 'ENFILE'], c.method, label)
    t.is(c.left, c.free, `${label}: the failed call left no fd behind and closed none of the caller's`)
  }
  t.is(o.fds1, o.fds0, 'fd count back to the start')
  t.is(o.maps1, o.maps0, 'dma-buf mapping count back to the start')
  t.deepEqual(o.links1, o.links0, "the caller's own fds are still open, on the same files")
  t.true(o.intact, "the caller's buffer still holds its bytes (through its mapping and read())")
  t.true(o.writable, "the caller's buffer can still be written and exported")
}

deviceTest('out of fds: udmabuf, dma-buf and sync_file calls throw EMFILE naming the method, leave no fd behind (also when the table fills midway), and work again once fds are free', (t) => {
  const o = resultOf<EmfileResult & { waitThrew: boolean; waitErr?: ErrInfo; waitLeft: number; waitAfter: boolean }>(
    t,
    underNofile(`${EMFILE_HARNESS}
main(async () => {
  const u = d.Udmabuf.open()
  const { buffer: buf, memfd } = u.allocWithMemfd(4 * PAGE)
  const other = d.createUdmabuf(PAGE)
  const data = Buffer.alloc(4 * PAGE).map((_, i) => (i * 13 + 5) & 255)
  const m = buf.map('rw')
  { const a = buf.beginCpuAccess('w'); new Uint8Array(m.buffer).set(data); a.end() }
  const s1 = buf.exportSyncFile('r'), s2 = other.exportSyncFile('rw')
  buf.read(0, 1) // read() and write() keep a whole-buffer mapping of their own until close: make it now
  const own = [buf.fd, other.fd, memfd, s1.fd, s2.fd]
  const fds0 = fds(), maps0 = maps(), links0 = links(own)

  // First, before anything else async in this process: wait() needs an fd
  // of its own; with none left it must reject, never throw or abort.
  fill(0)
  let p, waitThrew = false
  try { p = s2.wait(0) } catch { waitThrew = true }
  const waitErr = p ? await p.then(() => undefined, errOf) : undefined
  const waitLeft = freeSlots()
  unfill()
  const waitAfter = await s2.wait(5000)

  const cases = underEmfile([
    ['createUdmabuf', 3, () => d.createUdmabuf(PAGE)], // /dev/udmabuf, the memfd, the dma-buf
    ['Udmabuf.open', 1, () => d.Udmabuf.open()],
    ['Udmabuf.alloc', 2, () => u.alloc(PAGE)], // the memfd, the dma-buf
    ['Udmabuf.allocWithMemfd', 2, () => { const r = u.allocWithMemfd(PAGE); return [r.buffer, r.memfd] }],
    ['Udmabuf.create', 1, () => u.create(memfd, 0, PAGE)],
    ['Udmabuf.createList', 1, () => u.createList([{ fd: memfd, offset: 0, size: PAGE }, { fd: memfd, offset: 2 * PAGE, size: PAGE }])],
    ['DmaBuf.exportSyncFile', 1, () => buf.exportSyncFile('rw')],
    ['DmaBuf.exportSyncFiles', 3, () => d.DmaBuf.exportSyncFiles([buf, other, buf], 'r')], // all or nothing
    ['DmaBuf.dup', 1, () => buf.dup()],
    ['DmaBuf.fromFd', 1, () => d.DmaBuf.fromFd(buf.fd)],
    ['DmaBuf.info', 1, () => buf.info()], // reads /proc/self/fdinfo
    ['SyncFile.fromFd', 1, () => d.SyncFile.fromFd(s1.fd)],
    ['SyncFile.dup', 1, () => s1.dup()],
    ['SyncFile.merge', 1, () => s1.merge(s2)],
  ])

  const intact = Buffer.from(m.buffer).equals(data) && buf.read(0, 4 * PAGE).equals(data) &&
    fs.readSync(memfd, Buffer.alloc(16), 0, 16, 0) === 16
  buf.write(PAGE, Buffer.from('still writable'))
  const sf = buf.exportSyncFile('w')
  const writable = buf.read(PAGE, 14).toString() === 'still writable' && sf.waitSync(0) === true && s1.waitSync(0) === true
  sf.close()
  buf.write(PAGE, data.subarray(PAGE, PAGE + 14))
  result({ cases, fds0, fds1: fds(), maps0, maps1: maps(), links0, links1: links(own), intact, writable, waitThrew, waitErr, waitLeft, waitAfter })
})`),
  )
  assertEmfile(t, o, ['createUdmabuf', 'Udmabuf.alloc', 'DmaBuf.exportSyncFile', 'DmaBuf.dup', 'SyncFile.merge', 'DmaBuf.fromFd'])
  // The calls that need several fds failed at each step on the way.
  t.deepEqual(
    o.cases.filter((c) => c.method === 'createUdmabuf' && c.free !== null).map((c) => c.err?.syscall),
    ['open', 'memfd_create', 'UDMABUF_CREATE'],
    'createUdmabuf ran out at open, then at memfd_create, then at UDMABUF_CREATE (its memfd closed each time)',
  )
  t.deepEqual(
    o.cases.filter((c) => c.method === 'DmaBuf.exportSyncFiles' && c.free !== null).map((c) => c.err?.message.match(/buffer (\d) of 3/)?.[1]),
    ['0', '1', '2'],
    'exportSyncFiles ran out at buffer 0, 1 and 2, closing the sync_files it had already made',
  )
  t.false(o.waitThrew, 'wait() did not throw')
  assertChildOsError(t, o.waitErr, ['EMFILE', 'ENFILE'], 'SyncFile.wait', 'wait() with a full table rejects')
  t.is(o.waitLeft, 0)
  t.true(o.waitAfter, 'and resolves true once an fd is free')
})

heapTest('out of fds: Heap.alloc throws EMFILE naming the method, the kernel frees the buffer it made, and the heap allocates again once fds are free', (t) => {
  const o = resultOf<EmfileResult & { freeBefore: number; freeAfter: number }>(
    t,
    underNofile(`${EMFILE_HARNESS}
main(async () => {
  const heap = d.Heap.open('system')
  const buf = heap.alloc(2 * PAGE)
  const data = Buffer.alloc(2 * PAGE).map((_, i) => (i * 7 + 3) & 255)
  const m = buf.map('rw')
  { const a = buf.beginCpuAccess('w'); new Uint8Array(m.buffer).set(data); a.end() }
  buf.read(0, 1) // read() and write() keep a whole-buffer mapping of their own until close: make it now
  const own = [buf.fd]
  const fds0 = fds(), maps0 = maps(), links0 = links(own)
  const memFree = () => Number(/MemFree:\\s+(\\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))[1]) * 1024
  const freeBefore = memFree()
  const cases = underEmfile([
    ['Heap.alloc', 1, () => heap.alloc(PAGE)],
    // The kernel allocates the pages, then finds no fd to return them in: four times 64 MiB.
    ...[1, 2, 3, 4].map(() => ['Heap.alloc', 1, () => heap.alloc(64 * MiB)]),
    ['Heap.open', 1, () => d.Heap.open('system')],
  ])
  const freeAfter = memFree()
  const intact = Buffer.from(m.buffer).equals(data) && buf.read(0, 2 * PAGE).equals(data)
  buf.write(0, Buffer.from('heap'))
  const sf = buf.exportSyncFile('rw')
  const writable = buf.read(0, 4).toString() === 'heap' && sf.waitSync(0)
  sf.close()
  result({ cases, fds0, fds1: fds(), maps0, maps1: maps(), links0, links1: links(own), intact, writable, freeBefore, freeAfter })
})`),
  )
  assertEmfile(t, o, ['Heap.alloc', 'Heap.open'])
  t.true(o.cases.filter((c) => c.method === 'Heap.alloc' && c.free === 0).every((c) => c.err?.syscall === 'DMA_HEAP_IOCTL_ALLOC'), 'the kernel refused in DMA_HEAP_IOCTL_ALLOC')
  // 4 x 64 MiB was allocated and not returned for want of an fd; the kernel
  // must have freed it (and each successful 64 MiB allocation was closed).
  t.true(o.freeAfter > o.freeBefore - 128 * MiB, `MemFree ${o.freeBefore >> 20} MiB -> ${o.freeAfter >> 20} MiB: the 256 MiB of failed allocations did not stay allocated`)
})

vgemTest('out of fds: DrmDevice.export and sync_file calls on a pending vgem fence throw EMFILE naming the method; the fence and the caller’s fds survive', (t) => {
  const o = resultOf<EmfileResult & { pendingDuring: boolean; pendingMs: number; signalledAfter: boolean }>(
    t,
    underNofile(`${EMFILE_HARNESS}
main(async () => {
  const dev = d.DrmDevice.openDriver('vgem', true)
  const { handle } = dev.createDumb(64, 64, 32)
  const buf = dev.export(handle, 'rw')
  // read() and write() keep a whole-buffer mapping of their own until close:
  // make it now (with a fence attached, CPU access would wait for the fence).
  buf.read(0, 1)
  const fence = dev.vgemFenceAttach(handle, true) // vgem signals it by itself after 10 s
  const t0 = performance.now()
  const pending = buf.exportSyncFile('rw')
  const own = [buf.fd, pending.fd]
  const fds0 = fds(), maps0 = maps(), links0 = links(own)
  const cases = underEmfile([
    ['DrmDevice.export', 1, () => dev.export(handle, 'r')],
    ['DmaBuf.exportSyncFile', 1, () => buf.exportSyncFile('r')],
    ['SyncFile.merge', 1, () => pending.merge(pending)],
    ['SyncFile.dup', 1, () => pending.dup()],
    // Listings and look-ups must not answer "none" when they could not look
    // (they used to: ENODEV "found: none", heaps: [], drm: []).
    ['DrmDevice.openDriver', 1, () => d.DrmDevice.openDriver('vgem', true)],
    ['DrmDevice.list', 1, () => d.DrmDevice.list()],
    ['listHeaps', 1, () => d.listHeaps()],
    ['capabilities', 3, () => d.capabilities()], // a directory, then /dev/udmabuf + memfd + a dma-buf to probe the ioctls
  ])
  const pendingDuring = !pending.isSignaled() && pending.waitSync(0) === false
  const pendingMs = performance.now() - t0
  dev.vgemFenceSignal(fence)
  const after = buf.exportSyncFile('rw')
  const signalledAfter = pending.waitSync(5000) && after.waitSync(0)
  after.close()
  const m = buf.map('rw')
  new Uint8Array(m.buffer).fill(9)
  const intact = buf.read(100, 1)[0] === 9
  m.unmap()
  result({ cases, fds0, fds1: fds(), maps0, maps1: maps(), links0, links1: links(own), intact, writable: intact, pendingDuring, pendingMs, signalledAfter })
})`),
  )
  assertEmfile(t, o, ['DrmDevice.export', 'DmaBuf.exportSyncFile', 'SyncFile.merge', 'SyncFile.dup', 'DrmDevice.openDriver', 'DrmDevice.list', 'listHeaps', 'capabilities'])
  t.true(o.pendingDuring, `the fence was still pending through the failed calls, ${Math.round(o.pendingMs)} ms after it was attached (none of them signalled or dropped it)`)
  t.true(o.signalledAfter, 'the caller’s sync_file signals once vgem signals the fence')
})

// ---------------------------------------------------------------------------
// 2. Out of memory: a memory cgroup (cgroup v2) limit.

const CGROUP = '/sys/fs/cgroup'
let cgroups = 0

/**
 * Reads node and the native module whole from this process, outside the
 * test's cgroup, so that their pages are in the page cache charged
 * elsewhere. A child squeezed below its usage cannot charge a new page: a
 * fault on a code page not read yet (a debug build of the binding is 30+
 * MiB, node 100+, more than readahead brings in) waits until the limit is
 * raised, and code pages charged to the child's cgroup are what its
 * reclaim evicts and the child faults back in, over and over, so that a
 * charge made by reclaiming succeeds where it should have failed.
 */
function preloadCode(): void {
  for (const f of [process.execPath, ...readdirSync(root).filter((n) => n.endsWith('.node')).map((n) => resolve(root, n))]) readFileSync(f)
}

/**
 * A new cgroup with memory.max = `max` bytes, removed at teardown. Mounts
 * cgroup2 on /sys/fs/cgroup when nothing is mounted there (the VM mounts
 * nothing), and unmounts it again at teardown. Throws, failing the test,
 * where the kernel has no memory controller or this process cannot use it.
 */
function memoryCgroup(t: ExecutionContext, max: number): string {
  let mounted = false
  if (!existsSync(`${CGROUP}/cgroup.controllers`)) {
    const r = spawnSync('mount', ['-t', 'cgroup2', 'none', CGROUP], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`no cgroup2 hierarchy at ${CGROUP}, and mounting one failed (${r.stderr.trim()}): the out-of-memory tests need memory cgroups (root, CONFIG_MEMCG)`)
    mounted = true
  }
  const dir = `${CGROUP}/dmabuf-faults-${process.pid}-${++cgroups}`
  t.teardown(() => {
    if (existsSync(dir)) {
      // The child is gone (spawnSync waited, or the test killed it); its
      // cgroup empties once the kernel has reaped it.
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir)
          break
        } catch {
          spawnSync('sleep', ['0.1'])
        }
      }
    }
    if (mounted) spawnSync('umount', [CGROUP])
  })
  const controllers = readFileSync(`${CGROUP}/cgroup.controllers`, 'utf8')
  if (!/\bmemory\b/.test(controllers)) throw new Error(`this kernel has no memory cgroup controller (${CGROUP}/cgroup.controllers: "${controllers.trim()}"): the out-of-memory tests need CONFIG_MEMCG`)
  writeFileSync(`${CGROUP}/cgroup.subtree_control`, '+memory')
  mkdirSync(dir)
  writeFileSync(`${dir}/memory.max`, String(max))
  if (existsSync(`${dir}/memory.swap.max`)) writeFileSync(`${dir}/memory.swap.max`, '0')
  return dir
}

const memoryEvents = (dir: string): Record<string, number> =>
  Object.fromEntries(
    readFileSync(`${dir}/memory.events`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, v]) => [k, Number(v)]),
  )

/**
 * Child code: joins the cgroup `CG` (so Node's own start-up memory stays
 * charged outside it) and makes itself unkillable by the OOM killer
 * (oom_score_adj -1000): the memory cgroup's OOM path then finds nothing to
 * kill and the kernel answers the allocation with ENOMEM. Without that, the
 * kernel SIGKILLs the child at the limit instead (seen on Debian's 6.12:
 * "Memory cgroup out of memory: Killed process ... (node)"), and the library
 * never gets an error to report.
 */
const JOIN_CGROUP = (dir: string): string => `
const CG = ${JSON.stringify(dir)}
fs.writeFileSync(CG + '/cgroup.procs', String(process.pid))
fs.writeFileSync('/proc/self/oom_score_adj', '-1000')
const current = () => Number(fs.readFileSync(CG + '/memory.current', 'utf8'))
const MAX = Number(fs.readFileSync(CG + '/memory.max', 'utf8'))
// One step of filling the cgroup: allocate, map, touch every page with
// byte, keep it in held; returns the error of whichever step failed.
const allocTouched = (alloc, byte, held) => {
  const r = attempt(alloc)
  let m
  if (r.value) {
    m = attempt(() => r.value.map('rw'))
    if (m.value) { new Uint8Array(m.value.buffer).fill(byte); held.push({ buf: r.value, map: m.value, byte }) }
    else r.value.close()
  }
  return r.err || (m && m.err)
}
`

deviceTest('out of memory in a 64 MiB memory cgroup: udmabuf allocations fail with ENOMEM naming the method, the failed memfd is closed and uncharged, earlier buffers keep their bytes, and freeing one lets the next allocation through', (t) => {
  const dir = memoryCgroup(t, 64 * MiB)
  interface Step {
    ok: boolean
    err?: ErrInfo
    fdsBefore: number
    fdsAfter: number
    current: number
  }
  const o = resultOf<{
    steps: Step[]
    max: number
    currentAfterFail: number
    again: Record<string, { err?: ErrInfo; fdsBefore: number; fdsAfter: number }>
    intact: boolean
    reallocated: boolean
    fds0: number
    fds1: number
    maps0: number
    maps1: number
  }>(
    t,
    runChild(`${JOIN_CGROUP(dir)}
main(async () => {
  const fds0 = fds(), maps0 = maps()
  const u = d.Udmabuf.open()
  const held = []
  const steps = []
  for (let i = 0; i < 8; i++) {
    const fdsBefore = fds()
    const err = allocTouched(() => u.alloc(16 * MiB), i + 1, held)
    steps.push({ ok: !err, err, fdsBefore, fdsAfter: fds(), current: current() })
    if (err) break
  }
  const currentAfterFail = current()
  // The cgroup is still nearly full: the other ways in fail the same way.
  const again = {}
  for (const [name, f] of [['createUdmabuf', () => d.createUdmabuf(16 * MiB)], ['Udmabuf.allocWithMemfd', () => u.allocWithMemfd(16 * MiB)]]) {
    const fdsBefore = fds()
    const r = attempt(f)
    if (r.value) { const v = r.value; (v.buffer || v).close(); if (v.memfd !== undefined) fs.closeSync(v.memfd) }
    again[name] = { err: r.err, fdsBefore, fdsAfter: fds() }
  }
  // Every buffer that was made still holds its bytes (one sample a page).
  let intact = held.length > 0
  for (const h of held) {
    const v = new Uint8Array(h.map.buffer)
    for (let i = 0; i < v.length; i += PAGE) if (v[i] !== h.byte) intact = false
    if (h.buf.read(16 * MiB - 1, 1)[0] !== h.byte) intact = false
  }
  // Freeing one gives its pages back: the next allocation fits.
  const first = held.shift()
  if (first) { first.map.unmap(); first.buf.close() }
  const r = attempt(() => u.alloc(16 * MiB))
  const reallocated = !!r.value && r.value.read(0, 1)[0] === 0
  if (r.value) r.value.close()
  for (const h of held) { h.map.unmap(); h.buf.close() }
  u.close()
  result({ steps, max: MAX, currentAfterFail, again, intact, reallocated, fds0, fds1: fds(), maps0, maps1: maps() })
})`),
  )
  const events = memoryEvents(dir)
  const failed = o.steps.findIndex((s) => !s.ok)
  t.true(failed >= 1, `the first 16 MiB fit and a later one failed (steps: ${o.steps.map((s) => (s.ok ? 'ok' : s.err?.code)).join(', ')})`)
  t.true(failed <= 4, `no more than 64 MiB was allocated in a 64 MiB cgroup (failed at buffer ${failed})`)
  const step = o.steps[failed]
  assertChildOsError(t, step?.err, ['ENOMEM'], 'Udmabuf.alloc', 'the allocation past memory.max')
  t.is(step?.fdsAfter, step?.fdsBefore, 'the failed allocation left no fd (its memfd was closed)')
  t.true(o.currentAfterFail < o.max - 8 * MiB, `the failed attempt's pages were uncharged again (memory.current ${o.currentAfterFail >> 10} KiB of ${o.max >> 10} KiB)`)
  for (const [name, a] of Object.entries(o.again)) {
    assertChildOsError(t, a.err, ['ENOMEM'], name, `${name} at the limit`)
    t.is(a.fdsAfter, a.fdsBefore, `${name} left no fd behind`)
  }
  t.true(o.intact, 'the buffers allocated before the failure still hold their bytes')
  t.true(o.reallocated, 'after closing one buffer, a new 16 MiB allocation succeeds (zeroed)')
  t.is(o.fds1, o.fds0, 'fd count back to the start')
  t.is(o.maps1, o.maps0, 'mapping count back to the start')
  // The memory guard (crates/dmabuf/src/guard.rs) refuses before the kernel
  // charges anything once an allocation would not fit in the cgroup's room
  // less 1/16 of its limit; where it cannot see the cgroup, the kernel's own
  // refusal at memory.max is what the checks above saw.
  const byGuard = /memory cgroup has room for/.test(step?.err?.message ?? '')
  t.true(byGuard || (events.max > 0 && events.oom > 0), `refused by the guard with the cgroup's figures, or the cgroup did reach its limit (memory.events: max ${events.max}, oom ${events.oom}): ${step?.err?.message}`)
  t.is(events.oom_kill, 0, 'and nothing was killed')
})

heapTest('out of memory in a 64 MiB memory cgroup: system-heap buffers beyond the limit, and a cgroup squeezed below its usage: DmaBuf.map fails with ENOMEM naming the method (Heap.alloc too, whenever the kernel refuses rather than reclaims), leaving no fd or mapping, and work once the limit is lifted', async (t) => {
  const dir = memoryCgroup(t, 64 * MiB)
  preloadCode()
  interface HeapResult {
    fill: Array<{ ok: boolean; err?: ErrInfo; current: number }>
    start: number
    max: number
    squeezedTo: number
    squeezeMs: number
    mapsMade: number
    allocsMade: number
    mapErr?: ErrInfo
    allocErr?: ErrInfo
    fdsBefore: number
    fdsAfter: number
    mapsBefore: number
    mapsAfter: number
    intact: boolean
    afterLift: boolean
    fds0: number
    fds1: number
    maps0: number
    maps1: number
  }
  // The squeeze makes every new page of the child fail to charge, its own
  // page faults included: with the OOM killer kept off, a fault at the limit
  // waits (the kernel retries it) until memory frees up. Whatever the child
  // faults on (a code page of node or of the binding not read yet, a new
  // page of its heaps: seen in the full tier beside another guest, not
  // alone), the parent, which is outside the cgroup, raises the limit by
  // 128 KiB each time the child has gone 2 s (4 s at first) without a
  // result: enough for the faults, not for the ~700 vmas the map() loop
  // then charges, so map() still ends in ENOMEM. After 20 raises it lifts
  // the limit, and the test fails if no map() was refused.
  const peer = new Peer(
    `${JOIN_CGROUP(dir)}
main(async () => {
  const fds0 = fds(), maps0 = maps()
  const heap = d.Heap.open('system')
  const start = current()
  // Allocate and touch 16 MiB buffers up to twice the limit.
  const held = [], fill = []
  for (let i = 0; i < 8; i++) {
    const err = allocTouched(() => heap.alloc(16 * MiB), i + 1, held)
    fill.push({ ok: !err, err, current: current() })
    if (err) break
  }
  const hb = heap.alloc(16 * MiB)
  // What the cgroup holds that reclaim could free (page cache it was
  // charged for) goes first, so that the squeeze below cannot be met by
  // reclaiming it. Best effort: EAGAIN when not all of it could be freed.
  try { fs.writeFileSync(CG + '/memory.reclaim', String(64 * MiB)) } catch {}
  // A refused map(), once before the squeeze (a read-only buffer mapped
  // writable: EACCES from mmap), so that the failure path's code pages and
  // page tables are in place before nothing more can be charged.
  const ro = heap.alloc(PAGE, 'r')
  try { ro.map('rw') } catch {}
  ro.close()
  const ctl = fs.openSync(CG + '/memory.max', 'w')
  const squeezedTo = Math.max(PAGE, current() - MiB)
  const low = String(squeezedTo)
  const fdsBefore = fds(), mapsBefore = maps()
  fs.writeSync(1, '\\nSQUEEZE\\n')
  const t0 = performance.now()
  fs.writeSync(ctl, low)
  // Small kernel objects can still be charged from the per-CPU stock the
  // cgroup already holds (up to MEMCG_CHARGE_BATCH = 64 pages, 256 KiB, per
  // CPU: the VM has one), so each call is repeated until the kernel refuses,
  // bounded in bytes rather than in calls: a mapping charges at least its
  // vma (~200 bytes) and a heap buffer at least its file and dma_buf
  // (~500 bytes), so 2,000 calls charge more than the whole stock (64
  // calls, as before, failed on a quiet machine). 2,000 fds stay under the
  // VM's fd limit.
  const made = []
  let mapErr, allocErr
  for (let i = 0; i < 2000 && !mapErr; i++) { try { made.push(hb.map('rw')) } catch (e) { mapErr = e } }
  const mapsMade = made.length
  for (let i = 0; i < 2000 && !allocErr; i++) { try { made.push(heap.alloc(PAGE)) } catch (e) { allocErr = e } }
  const allocsMade = made.length - mapsMade
  fs.writeSync(ctl, 'max')
  const squeezeMs = performance.now() - t0
  for (const x of made) x.close ? x.close() : x.unmap()
  const fdsAfter = fds(), mapsAfter = maps()
  let intact = true
  for (const h of held) {
    const v = new Uint8Array(h.map.buffer)
    for (let i = 0; i < v.length; i += PAGE) if (v[i] !== h.byte) intact = false
  }
  const m2 = hb.map('rw'); new Uint8Array(m2.buffer).fill(0x5a)
  const b2 = heap.alloc(16 * MiB)
  const afterLift = hb.read(16 * MiB - 1, 1)[0] === 0x5a && b2.size === 16 * MiB
  m2.unmap(); b2.close(); hb.close(); fs.closeSync(ctl)
  for (const h of held) { h.map.unmap(); h.buf.close() }
  heap.close()
  result({ fill, start, max: MAX, squeezedTo, squeezeMs, mapsMade, allocsMade, mapErr: mapErr && errOf(mapErr), allocErr: allocErr && errOf(allocErr),
    fdsBefore, fdsAfter, mapsBefore, mapsAfter, intact, afterLift, fds0, fds1: fds(), maps0, maps1: maps() })
})`,
    [],
  )
  let lifted = false
  let raises = 0
  t.teardown(() => {
    if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill('SIGKILL')
  })
  await peer.waitFor('SQUEEZE', 50_000)
  const done = peer.waitFor('RESULT ', 60_000)
  const finished = done.then(() => 'done')
  while ((await Promise.race([finished, sleep(raises === 0 ? 4000 : 2000).then(() => 'late')])) === 'late') {
    // 'max' once the child has lifted it itself: only its result is awaited.
    if (readFileSync(`${dir}/memory.max`, 'utf8').trim() === 'max') continue
    if (raises < 20) {
      writeFileSync(`${dir}/memory.max`, String(Number(readFileSync(`${dir}/memory.current`, 'utf8')) + 128 * 1024))
      raises++
    } else {
      writeFileSync(`${dir}/memory.max`, 'max')
      lifted = true
    }
  }
  const line = await done
  const exit = await peer.closed
  t.deepEqual(exit, { code: 0, signal: null }, peer.stderr)
  const o = JSON.parse(line) as HeapResult
  const events = memoryEvents(dir)

  // Buffers beyond the limit: whatever the kernel does, no kill, and each
  // either works or failed with a clean ENOMEM.
  const made = o.fill.filter((f) => f.ok).length
  for (const f of o.fill.filter((x) => !x.ok)) {
    t.true(f.err?.code === 'ENOMEM' && /, (Heap\.alloc|DmaBuf\.map)( \(fd \d+\))?$/.test(f.err.message), `a heap allocation past the limit failed cleanly: ${f.err?.message}`)
  }
  const charged = (o.fill[o.fill.length - 1]?.current ?? o.start) - o.start
  if (made === 8) {
    t.log(`the system heap is not charged to the memory cgroup on this kernel: 8 x 16 MiB allocated and touched with memory.max ${o.max >> 20} MiB, memory.current rose by ${charged >> 10} KiB (page tables)`)
  }
  t.true(o.intact, 'every heap buffer made holds the bytes written through its mapping')

  // The squeeze: the kernel's own allocations for a mapping (page tables,
  // the vma) and for a new dma-buf (its file) are charged, and fail.
  if (!o.mapErr) t.log(`no map() was refused: ${JSON.stringify({ ...o, fill: undefined, raises, lifted })}`)
  assertChildOsError(t, o.mapErr, ['ENOMEM'], 'DmaBuf.map', 'map() in a cgroup at its limit')
  t.is(o.mapErr?.syscall, 'mmap')
  // A system-heap allocation charges only small objects (its file), and a
  // cgroup over its limit may reclaim its own page cache to take them: seen
  // here, 2,000 page-sized allocations all succeeding in one run and ENOMEM
  // within 64 in another (KERNEL-FACTS: memory cgroups). What is
  // deterministic: when the kernel refuses, it is a clean ENOMEM naming the
  // method, and nothing leaks either way (below).
  if (o.allocErr) assertChildOsError(t, o.allocErr, ['ENOMEM'], 'Heap.alloc', 'Heap.alloc in a cgroup at its limit')
  else t.log(`Heap.alloc in the squeezed cgroup: ${o.allocsMade} page-sized allocations, none refused (the cgroup reclaimed instead)`)
  t.is(o.fdsAfter, o.fdsBefore, 'the failed calls left no fd behind')
  t.is(o.mapsAfter, o.mapsBefore, 'and no mapping')
  t.true(o.afterLift, 'with the limit lifted, the same buffer maps and a new one allocates')
  t.is(o.fds1, o.fds0, 'fd count back to the start')
  t.is(o.maps1, o.maps0, 'mapping count back to the start')
  t.is(events.oom_kill, 0, 'nothing was killed')
  t.log(`squeezed to ${o.squeezedTo >> 10} KiB for ${Math.round(o.squeezeMs)} ms; ${o.mapsMade} map() and ${o.allocsMade} Heap.alloc(${PAGE}) calls succeeded before the kernel refused${raises ? ` (the child stalled at the limit: the parent raised it ${raises} time(s) by 128 KiB${lifted ? ', then lifted it' : ''})` : ''}`)
})

// ---------------------------------------------------------------------------
// 3. Signals while waiting.

vgemTest('signals arriving while waiting on a pending vgem fence: waitSync keeps waiting (EINTR retried for the time left) and wait() is unaffected; both see the fence signal', (t) => {
  const o = resultOf<{
    sync: { r: boolean; ms: number; sent: number }
    handledAfterSync: number
    async: { r: boolean; ms: number; sent: number }
    signalled: { r: boolean; ms: number; sent: number }
    after: boolean
    handled: number
    fds0: number
    fds1: number
  }>(
    t,
    runChild(`
const { Worker } = require('node:worker_threads')
main(async () => {
  const dev = d.DrmDevice.openDriver('vgem', true)
  const { handle } = dev.createDumb(64, 64, 32)
  const buf = dev.export(handle, 'rw')
  const fence = dev.vgemFenceAttach(handle, true) // vgem signals it by itself only after 10 s
  const sf = buf.exportSyncFile('rw')
  let handled = 0
  process.on('SIGUSR1', () => { handled++ })
  // A thread that sends this process SIGUSR1 every 40 ms until told to stop.
  const ctl = new Int32Array(new SharedArrayBuffer(12)) // [started, stop, sent]
  const w = new Worker(\`
    const { workerData: { ctl, pid } } = require('node:worker_threads')
    Atomics.store(ctl, 0, 1); Atomics.notify(ctl, 0)
    while (Atomics.wait(ctl, 1, 0, 40) === 'timed-out') { process.kill(pid, 'SIGUSR1'); Atomics.add(ctl, 2, 1) }
  \`, { eval: true, workerData: { ctl, pid: process.pid } })
  Atomics.wait(ctl, 0, 0, 60000)
  const fds0 = fds()
  const sent = () => Atomics.load(ctl, 2)
  const timed = async (f) => { const s0 = sent(), t0 = performance.now(); const r = await f(); return { r, ms: performance.now() - t0, sent: sent() - s0 } }

  const sync = await timed(() => sf.waitSync(2000))
  await new Promise((ok) => setTimeout(ok, 100))
  const handledAfterSync = handled
  const async = await timed(() => sf.wait(1500))
  setTimeout(() => dev.vgemFenceSignal(fence), 500)
  const signalled = await timed(() => sf.wait(20000))
  const after = sf.waitSync(0) && sf.isSignaled()
  const fds1 = fds()
  Atomics.store(ctl, 1, 1); Atomics.notify(ctl, 1)
  await new Promise((ok) => w.on('exit', ok))
  sf.close(); buf.close(); handle.close(); dev.close()
  result({ sync, handledAfterSync, async, signalled, after, handled, fds0, fds1 })
})`),
  )
  // A wait restarted with its full timeout after each signal would last
  // until the signals stop (here: past vgem's own 10 s, and then true).
  t.false(o.sync.r, 'waitSync(2000) on a pending fence: false (timed out), not an error')
  t.true(o.sync.ms >= 1995, `waitSync lasted its whole timeout despite the signals (${Math.round(o.sync.ms)} ms)`)
  t.true(o.sync.ms < 3500, `and not much longer: each retry waits only for what is left (${Math.round(o.sync.ms)} ms)`)
  t.true(o.sync.sent >= 5, `${o.sync.sent} signals were sent while waitSync blocked`)
  t.true(o.handledAfterSync >= 1, `the process's SIGUSR1 handler ran (${o.handledAfterSync} times)`)
  t.false(o.async.r, 'await wait(1500): false')
  t.true(o.async.ms >= 1490 && o.async.ms < 3000, `after its timeout (${Math.round(o.async.ms)} ms)`)
  t.true(o.async.sent >= 5, `${o.async.sent} signals were sent meanwhile`)
  t.true(o.signalled.r, 'await wait(20000): true once the fence is signalled 500 ms in')
  t.true(o.signalled.ms >= 450 && o.signalled.ms < 5000, `at about 500 ms (${Math.round(o.signalled.ms)} ms), with ${o.signalled.sent} signals meanwhile`)
  t.true(o.after, 'waitSync(0) and isSignaled() agree afterwards')
  t.is(o.fds1, o.fds0, 'no fd left by the waits')
})

vgemTest('a process blocked in waitSync on the parent’s pending vgem fence, sent SIGUSR1 again and again, keeps waiting and returns true once the parent signals the fence', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  using sf = f.buf.exportSyncFile('rw')
  const peer = new Peer(
    `
let handled = 0
process.on('SIGUSR1', () => { handled++ })
const sf = d.SyncFile.fromFd(3)
fs.writeSync(1, '\\nREADY\\n')
const t0 = performance.now()
const r = sf.waitSync(30000)
const ms = performance.now() - t0
setTimeout(() => result({ r, ms, handled }), 100)
`,
    [sf.fd],
  )
  t.teardown(() => void peer.child.kill('SIGKILL'))
  await peer.waitFor('READY')
  await untilInPoll(t, peer.child.pid!, 'the child')
  const start = performance.now()
  let sent = 0
  while (since(start) < 1000) {
    peer.child.kill('SIGUSR1')
    sent++
    await sleep(25)
  }
  t.true(inPoll(peer.child.pid!), `after ${sent} signals the child is still blocked in poll()`)
  f.signal()
  const o = JSON.parse(await peer.waitFor('RESULT ')) as { r: boolean; ms: number; handled: number }
  t.deepEqual(await peer.closed, { code: 0, signal: null }, peer.stderr)
  t.true(o.r, 'waitSync returned true: the fence signalled')
  t.true(o.ms >= 1000, `it waited through the signals (${Math.round(o.ms)} ms)`)
  t.true(o.handled >= 1, `the child's handler ran ${o.handled} times`)
  t.true(sf.waitSync(0), 'the parent sees the fence signalled too')
})

// ---------------------------------------------------------------------------
// 4. A peer killed while it holds a shared buffer or waits on a fence.

deviceTest('a child killed (SIGKILL) while it maps the parent’s udmabuf and holds CPU access: the parent’s buffer keeps its bytes, its fds and mappings are unchanged, and it maps, writes and exports as before', async (t) => {
  const fds0 = fdTable()
  const maps0 = dmabufMaps()
  {
    using buf = createUdmabuf(16 * PAGE)
    const data = pattern(16 * PAGE, 77)
    using m = buf.map('rw')
    {
      using _a = buf.beginCpuAccess('w')
      new Uint8Array(m.buffer).set(data)
    }
    buf.read(0, 1) // read() keeps a whole-buffer mapping until close: make it now
    const count0 = buf.info().fileCount!
    const fdsBefore = fdTable()
    const peer = new Peer(
      `
const b = d.DmaBuf.fromFd(3)
const m = b.map('rw')
const a = b.beginCpuAccess('rw') // never ended: the child dies holding it
const sf = b.exportSyncFile('rw')
fs.writeSync(1, '\\nREADY ' + Buffer.from(m.buffer, 0, 64).toString('hex') + '\\n')
setInterval(() => {}, 1 << 30)
`,
      [buf.fd],
    )
    t.teardown(() => void peer.child.kill('SIGKILL'))
    const hex = await peer.waitFor('READY ')
    t.is(hex, Buffer.from(data.subarray(0, 64)).toString('hex'), 'the child read the parent’s bytes through its own mapping')
    t.true(dmabufMaps(peer.child.pid!) >= 1, 'the child maps the buffer')
    const during = buf.info().fileCount!
    t.true(during >= count0 + 3, `the child holds the buffer: its fd 3, its duplicate and its mapping (file count ${count0} -> ${during})`)
    const exit = await peer.kill()
    t.is(exit.signal, 'SIGKILL')

    t.is(buf.info().fileCount, count0, 'the dead child’s fds and mapping are released')
    t.deepEqual(new Uint8Array(m.buffer), data, 'the parent’s mapping still reads its pattern')
    t.deepEqual(new Uint8Array(buf.read(0, 16 * PAGE)), data, 'and so does read()')
    {
      using _a = buf.beginCpuAccess('rw')
      new Uint8Array(m.buffer, PAGE, 5).set(Buffer.from('after'))
    }
    using m2 = buf.map('r', PAGE, PAGE)
    t.is(Buffer.from(m2.buffer, 0, 5).toString(), 'after', 'a new mapping sees a write made after the kill')
    using sf = buf.exportSyncFile('rw')
    t.true(sf.waitSync(0), 'the child’s never-ended CPU access left no fence behind')
    using dup = buf.dup()
    t.is(dup.size, 16 * PAGE)
    assertFdCount(t, fdsBefore, 2, 'the parent has exactly its own fds (plus the sync_file and dup just made)')
  }
  assertFdCount(t, fds0, 0, 'fd count back to the start')
  t.is(dmabufMaps(), maps0, 'dma-buf mapping count back to the start')
})

vgemTest('children killed while they wait on the parent’s pending vgem fence (one in waitSync, one in await wait()): the parent still signals it and its own wait resolves true', async (t) => {
  const fds0 = fdTable()
  {
    using dev = openVgem()
    using f = fencedVgem(dev)
    using sf = f.buf.exportSyncFile('rw')
    let settled = false
    const mine = sf.wait(60_000).finally(() => (settled = true))
    const blocking = new Peer(`const sf = d.SyncFile.fromFd(3); fs.writeSync(1, '\\nREADY\\n'); sf.waitSync(60000); result({ woke: true })`, [sf.fd])
    const awaiting = new Peer(
      `const sf = d.SyncFile.fromFd(3); const p = sf.wait(60000); fs.writeSync(1, '\\nREADY\\n'); p.then((r) => result({ woke: r }))`,
      [sf.fd],
    )
    t.teardown(() => void blocking.child.kill('SIGKILL'))
    t.teardown(() => void awaiting.child.kill('SIGKILL'))
    await Promise.all([blocking.waitFor('READY'), awaiting.waitFor('READY')])
    await untilInPoll(t, blocking.child.pid!, 'the waitSync child')
    await sleep(200)
    t.is((await blocking.kill()).signal, 'SIGKILL')
    t.is((await awaiting.kill()).signal, 'SIGKILL')
    t.false(settled, 'the parent’s wait is still pending after the kills')
    t.false(sf.isSignaled())
    const start = performance.now()
    f.signal()
    t.true(await mine, 'the parent’s wait resolves true once it signals the fence')
    t.true(since(start) < 5000)
    t.true(sf.waitSync(0))
    using m = f.buf.map('rw')
    new Uint8Array(m.buffer).fill(3)
    t.is(f.buf.read(4000, 1)[0], 3, 'the parent’s vgem buffer is still usable')
  }
  assertFdCount(t, fds0, 0, 'fd count back to the start')
})

// ---------------------------------------------------------------------------
// 5. udmabuf's size limit (module parameter size_limit_mb).

deviceTest('udmabuf size_limit_mb lowered to 8: 16 MiB allocations throw EINVAL naming the method, leave no memfd behind, keep the caller’s memfd, and succeed once the limit is restored', (t) => {
  const param = '/sys/module/udmabuf/parameters/size_limit_mb'
  if (!existsSync(param)) {
    t.fail(`${param} does not exist: this udmabuf has no size limit to test`)
    return
  }
  const original = readFileSync(param, 'utf8').trim()
  t.true(Number(original) >= 16, `size_limit_mb is ${original}: the test needs at least 16 to begin with`)
  const restore = (): void => writeFileSync(param, original)
  t.teardown(restore)
  const fds0 = fdTable()
  const maps0 = dmabufMaps()
  {
    using u = Udmabuf.open()
    // The caller's own 16 MiB memfd, made while the limit allows it.
    const { buffer, memfd } = u.allocWithMemfd(16 * MiB)
    buffer.close()
    t.teardown(() => closeSync(memfd))
    const data = pattern(64, 5)
    writeSync(memfd, data, 0, data.length, 8 * MiB)
    const fdsBefore = openFds()

    type Attempt = { err?: NodeJS.ErrnoException; fdsAfter: number }
    const calls: Array<[string, string, () => { close(): void }]> = [
      ['createUdmabuf', 'UDMABUF_CREATE', () => createUdmabuf(16 * MiB)],
      ['createUdmabuf', 'UDMABUF_CREATE', () => createUdmabuf(8 * MiB + 1)], // rounds up to 8 MiB + a page
      ['Udmabuf.alloc', 'UDMABUF_CREATE', () => u.alloc(16 * MiB)],
      [
        'Udmabuf.allocWithMemfd',
        'UDMABUF_CREATE',
        () => {
          const r = u.allocWithMemfd(16 * MiB)
          return { close: () => (r.buffer.close(), closeSync(r.memfd)) }
        },
      ],
      ['Udmabuf.create', 'UDMABUF_CREATE', () => u.create(memfd, 0, 16 * MiB)],
      ['Udmabuf.createList', 'UDMABUF_CREATE_LIST', () => u.createList([{ fd: memfd, offset: 0, size: 8 * MiB }, { fd: memfd, offset: 8 * MiB, size: 8 * MiB }])],
    ]
    const attempts: Attempt[] = []
    let atLimit = 0
    writeFileSync(param, '8')
    try {
      for (const [, , call] of calls) {
        let err: NodeJS.ErrnoException | undefined
        try {
          call().close()
        } catch (e) {
          err = e as NodeJS.ErrnoException
        }
        attempts.push({ err, fdsAfter: openFds() })
      }
      const at = createUdmabuf(8 * MiB) // exactly the limit
      atLimit = at.size
      at.close()
    } finally {
      restore()
    }
    calls.forEach(([method, syscall], i) => {
      const { err, fdsAfter } = attempts[i]
      if (!err) {
        t.fail(`${method} #${i} succeeded past the limit`)
        return
      }
      t.is(err.code, 'EINVAL', `${method}: the kernel refuses past size_limit_mb with EINVAL (${err.message})`)
      t.regex(err.message, osMessage('EINVAL', method))
      // It says why (it used to be a bare "Invalid argument").
      t.regex(err.message, /more than udmabuf's limit of 8 MiB \(\/sys\/module\/udmabuf\/parameters\/size_limit_mb/)
      // And names no fd of the library's own (it used to name the closed temporary memfd).
      t.false(/\(fd \d+\)$/.test(err.message) && method !== 'Udmabuf.create' && method !== 'Udmabuf.createList', err.message)
      t.is(err.syscall, syscall)
      t.true(err.errno! < 0)
      t.is(fdsAfter, fdsBefore, `${method} #${i} left no fd behind (its memfd closed)`)
    })
    t.is(atLimit, 8 * MiB, 'exactly size_limit_mb is allowed')

    // The caller's memfd survived every refusal.
    const back = Buffer.alloc(64)
    t.is(readSync(memfd, back, 0, 64, 8 * MiB), 64)
    t.deepEqual(new Uint8Array(back), data, 'the caller’s memfd is open and keeps its bytes')
    // With the limit restored, the same calls succeed.
    for (const [method, , call] of calls) {
      const b = call()
      t.pass(`${method} succeeds with size_limit_mb ${original}`)
      b.close()
    }
    using over = u.create(memfd, 0, 16 * MiB)
    using m = over.map('r', 8 * MiB, PAGE)
    t.deepEqual(new Uint8Array(m.buffer, 0, 64), data, 'a udmabuf over the caller’s memfd shows its bytes')
  }
  assertFdCount(t, fds0, 1, 'fd count back to the start (plus the caller’s memfd, closed at teardown)')
  t.is(dmabufMaps(), maps0, 'mapping count back to the start')
})
