// Shared helpers for the ava suite.
//
// Two tiers run these files: the host (usually no dma-buf devices at all)
// and a qemu VM (scripts/vm/run.sh, DMABUF_VM=1) whose kernel has
// /dev/udmabuf, /dev/dma_heap/system and vgem. A device test is registered
// as a real test in the VM or wherever its device exists, and as an honest
// `test.skip` elsewhere. Inside the VM it is never skipped: a missing
// device makes it fail.

import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix, resolve } from 'node:path'
import { isMainThread } from 'node:worker_threads'

import test, { type ExecutionContext } from 'ava'
import { DrmDevice, capabilities, type DmaBuf, type GemHandle } from 'dmabuf'

export const inVm = process.env.DMABUF_VM === '1'

/** The CPU page size (dma-buf sizes and map offsets are multiples of it). */
export const PAGE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim())

type Body = (t: ExecutionContext) => void | Promise<void>

export const hasVgem = (): boolean => capabilities().drm.some((n) => n.driver === 'vgem')

function gated(present: () => boolean): (title: string, body: Body) => void {
  // Device tests run one at a time: many of them count this process's fds,
  // and a concurrent test opening or closing one would skew the count.
  return (title, body) => (inVm || present() ? test.serial : test.serial.skip)(title, body)
}

/** A test that needs /dev/udmabuf. */
export const deviceTest = gated(() => existsSync('/dev/udmabuf'))

/** A test that needs the system dma-heap. */
export const heapTest = gated(() => existsSync('/dev/dma_heap/system'))

/** A test that needs vgem (for fences and PRIME) and /dev/udmabuf. */
export const vgemTest = gated(() => existsSync('/dev/udmabuf') && existsSync('/dev/dri') && hasVgem())

/** Number of open fds of this process. */
export function openFds(): number {
  // readdirSync's own directory fd is open during both counts, so it cancels out.
  return readdirSync('/proc/self/fd').length
}

/**
 * Runs `fn` and asserts that this process has as many fds open afterwards
 * as before (after the returned promise settles, when `fn` is async). Only
 * meaningful when the test file has the process to itself (ava's
 * `workerThreads: false`) and the test is serial.
 */
export function noLeak(t: ExecutionContext, fn: () => void): void
export function noLeak(t: ExecutionContext, fn: () => Promise<void>): Promise<void>
export function noLeak(t: ExecutionContext, fn: () => void | Promise<void>): void | Promise<void> {
  if (!isMainThread) {
    t.fail('fd counting needs each test file in its own process: set "workerThreads": false in the ava config')
    return
  }
  const before = openFds()
  const check = (): void => {
    t.is(openFds(), before, 'open fd count changed')
  }
  const out = fn()
  if (out instanceof Promise) return out.then(check)
  check()
}

/** The error `fn` throws, failing the test if it does not throw. */
export function thrown(t: ExecutionContext, fn: () => unknown): NodeJS.ErrnoException {
  const err = t.throws(fn)
  if (!err) throw new Error('expected a throw')
  return err as NodeJS.ErrnoException
}

/** Asserts the shape of an error from a failed system call. */
export function assertOsError(t: ExecutionContext, err: NodeJS.ErrnoException, code: string, method: string): void {
  t.true(err instanceof Error)
  t.is(err.code, code)
  t.is(typeof err.errno, 'number')
  t.true(err.errno! < 0, `errno ${err.errno} should be negative, as in Node's fs errors`)
  t.is(typeof err.syscall, 'string')
  t.true(err.syscall!.length > 0)
  t.true(err.message.startsWith(`${code}:`), err.message)
  t.true(err.message.includes(method), `message should name ${method}: ${err.message}`)
}

/** A fresh pattern of `n` bytes that is unlikely to be in a buffer by chance. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + 1) & 0xff
  return out
}

/**
 * A vgem dumb buffer with an unsignalled fence (a writer's unless `write` is
 * false), exported as a DmaBuf. vgem signals it by itself after 10 s.
 */
export interface Fenced {
  dev: DrmDevice
  handle: GemHandle
  buf: DmaBuf
  fence: number
  /** Signals the fence (once; later calls do nothing). */
  signal(): void
  /** Signals if still needed, then closes everything. */
  close(): void
  [Symbol.dispose](): void
}

export function fencedVgem(dev: DrmDevice, write = true): Fenced {
  const { handle } = dev.createDumb(64, 64, 32)
  const buf = dev.export(handle, 'rw')
  const fence = dev.vgemFenceAttach(handle, write)
  let signalled = false
  const signal = (): void => {
    if (!signalled) dev.vgemFenceSignal(fence)
    signalled = true
  }
  const close = (): void => {
    signal()
    buf.close()
    handle.close()
  }
  return { dev, handle, buf, fence, signal, close, [Symbol.dispose]: close }
}

/** Milliseconds since `start` (from performance.now()). */
export const since = (start: number): number => performance.now() - start

/** vgem's primary node (dumb buffers need one). */
export const openVgem = (): DrmDevice => DrmDevice.openDriver('vgem', true)

/** A fenced block of README.md: its first line's number (1-based, the fence), its source, and whether it runs (not ```ts no_run). */
export interface ReadmeExample {
  line: number
  source: string
  runnable: boolean
}

/** Every ```ts / ```js block of the README (readme.spec.ts compiles them; kms-pipeline.spec.ts runs the vkms ones). */
export function readmeExamples(): ReadmeExample[] {
  const lines = readFileSync(join(resolve(__dirname, '..', '..'), 'README.md'), 'utf8').split('\n')
  const found: ReadmeExample[] = []
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(ts|js)(.*)$/.exec(lines[i])
    if (!m) continue
    const end = lines.indexOf('```', i + 1)
    found.push({ line: i + 1, source: lines.slice(i + 1, end).join('\n') + '\n', runnable: !/\bno_run\b/.test(m[2]) })
    i = end
  }
  return found
}

/** vkms's primary node, found without keeping it open (the VM may have other cards; `Card.open()` takes the first KMS one). */
export function vkmsPath(): string {
  for (const p of DrmDevice.list().filter((n) => n.includes('/card'))) {
    try {
      using d = DrmDevice.open(p)
      if (d.driverName() === 'vkms') return p
    } catch {
      // Not a node this process may open: not the one.
    }
  }
  throw new Error('this test needs vkms (CONFIG_DRM_VKMS, vkms.enable_writeback=1: the custom-kernel VM tier): no vkms card in /dev/dri')
}

// ---- a copy of the package for another user -------------------------------

const packageRoot = resolve(__dirname, '..', '..')

/** A regular expression for one path segment of a glob (`*`, `?`; the rest literal). */
function segmentRegExp(segment: string): RegExp {
  const body = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')
  return new RegExp(`^${body}$`)
}

/** A regular expression for a whole relative path matching `glob` (`**` spans folders). */
function globRegExp(glob: string): RegExp {
  const body = glob
    .split('/')
    .map((s) => (s === '**' ? '.*' : segmentRegExp(s).source.slice(1, -1)))
    .join('/')
  return new RegExp(`^${body}$`)
}

/** The relative paths under `dir` (relative to the root) that `segments` of a glob name. */
function expandGlob(dir: string, segments: string[]): string[] {
  if (segments.length === 0) return [dir]
  const [segment, ...rest] = segments
  const entries = (): string[] => {
    const names = readdirSync(join(packageRoot, dir)).filter((n) => n !== 'node_modules' && n !== '.git')
    return names.map((n) => posix.join(dir, n))
  }
  const isDir = (p: string): boolean => statSync(join(packageRoot, p)).isDirectory()
  if (segment === '**') {
    // Zero or more folders.
    return [...expandGlob(dir, rest), ...entries().filter(isDir).flatMap((p) => expandGlob(p, segments))]
  }
  if (!/[*?]/.test(segment)) {
    const p = posix.join(dir, segment)
    try {
      statSync(join(packageRoot, p))
    } catch {
      return [] // as npm does, an entry naming nothing adds nothing
    }
    return rest.length === 0 || isDir(p) ? expandGlob(p, rest) : []
  }
  const re = segmentRegExp(segment)
  return entries()
    .filter((p) => re.test(posix.basename(p)) && (rest.length === 0 || isDir(p)))
    .flatMap((p) => expandGlob(p, rest))
}

/** Every file under `path` (a file or a folder, relative to the root). */
function filesUnder(path: string): string[] {
  if (!statSync(join(packageRoot, path)).isDirectory()) return [path]
  return readdirSync(join(packageRoot, path)).flatMap((n) => filesUnder(posix.join(path, n)))
}

/**
 * The files the child needs, relative to the root: package.json, what its
 * `files` array names (files, folders and simple globs; `!` entries leave
 * things out) and every `*.node` at the root.
 */
function packageFiles(): string[] {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { files?: unknown }
  if (!Array.isArray(pkg.files)) throw new Error(`${packageRoot}/package.json has no "files" array to say what the package is`)
  const included = new Set<string>(['package.json'])
  const excluded: RegExp[] = []
  for (const entry of pkg.files as string[]) {
    const negated = entry.startsWith('!')
    const glob = posix.normalize(entry.slice(negated ? 1 : 0).replace(/^\.?\/+/, '')).replace(/\/+$/, '')
    if (negated) excluded.push(globRegExp(glob))
    else for (const p of expandGlob('', glob.split('/'))) for (const f of filesUnder(p)) included.add(f)
  }
  for (const name of readdirSync(packageRoot)) {
    if (name.endsWith('.node') && statSync(join(packageRoot, name)).isFile()) included.add(name)
  }
  // A `!` entry leaves out what it matches and everything under it.
  const left = (f: string): boolean =>
    excluded.some((re) => f.split('/').some((_, i, parts) => re.test(parts.slice(0, i + 1).join('/'))))
  return [...included].filter((f) => f === 'package.json' || !left(f)).sort()
}

/**
 * Copies the package into a new temporary folder that everyone may read,
 * for a child that runs as another user (nobody) and may not read the
 * checkout (a clone in a 0700 directory): what package.json's `files`
 * ships, package.json and the native modules built at the root (*.node).
 * Folders 0755, files 0644; returns the folder, which the caller removes.
 */
export function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-pkg-'))
  try {
    chmodSync(dir, 0o755)
    for (const f of packageFiles()) {
      const to = join(dir, f)
      // Each folder between `dir` and the file, made readable by everyone.
      const parents: string[] = []
      for (let d = dirname(to); d !== dir; d = dirname(d)) parents.unshift(d)
      for (const d of parents) {
        mkdirSync(d, { recursive: true })
        chmodSync(d, 0o755)
      }
      copyFileSync(join(packageRoot, f), to)
      chmodSync(to, 0o644)
    }
    return dir
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
}

/** The package's `dmabuf` command (cli.js at the checkout's root). */
export const cliPath = join(packageRoot, 'cli.js')

/** Runs `dmabuf ARGS...` with this Node and no colours, up to 5 minutes. */
export function runCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 5 * 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}
