// Permission errors name the device node. Tests run as root in the VM, and
// root ignores file modes, so the failing open runs in a child process with
// the uid of nobody, against a node whose mode denies everyone.
//
// nobody may not be able to read the checkout (one cloned into /root, mode
// 0700), so the child loads a copy of the package made in a fresh temporary
// directory that everyone may read: what package.json's `files` ships, plus
// package.json and the native modules built at the root (*.node).

import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix, resolve } from 'node:path'

import { deviceTest, heapTest } from './helpers.js'

const root = resolve(__dirname, '..', '..')
const NOBODY = 65534

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
    const names = readdirSync(join(root, dir)).filter((n) => n !== 'node_modules' && n !== '.git')
    return names.map((n) => posix.join(dir, n))
  }
  const isDir = (p: string): boolean => statSync(join(root, p)).isDirectory()
  if (segment === '**') {
    // Zero or more folders.
    return [...expandGlob(dir, rest), ...entries().filter(isDir).flatMap((p) => expandGlob(p, segments))]
  }
  if (!/[*?]/.test(segment)) {
    const p = posix.join(dir, segment)
    try {
      statSync(join(root, p))
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
  if (!statSync(join(root, path)).isDirectory()) return [path]
  return readdirSync(join(root, path)).flatMap((n) => filesUnder(posix.join(path, n)))
}

/**
 * The files the child needs, relative to the root: package.json, what its
 * `files` array names (files, folders and simple globs; `!` entries leave
 * things out) and every `*.node` at the root.
 */
function packageFiles(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files?: unknown }
  if (!Array.isArray(pkg.files)) throw new Error(`${root}/package.json has no "files" array to say what the package is`)
  const included = new Set<string>(['package.json'])
  const excluded: RegExp[] = []
  for (const entry of pkg.files as string[]) {
    const negated = entry.startsWith('!')
    const glob = posix.normalize(entry.slice(negated ? 1 : 0).replace(/^\.?\/+/, '')).replace(/\/+$/, '')
    if (negated) excluded.push(globRegExp(glob))
    else for (const p of expandGlob('', glob.split('/'))) for (const f of filesUnder(p)) included.add(f)
  }
  for (const name of readdirSync(root)) {
    if (name.endsWith('.node') && statSync(join(root, name)).isFile()) included.add(name)
  }
  // A `!` entry leaves out what it matches and everything under it.
  const left = (f: string): boolean =>
    excluded.some((re) => f.split('/').some((_, i, parts) => re.test(parts.slice(0, i + 1).join('/'))))
  return [...included].filter((f) => f === 'package.json' || !left(f)).sort()
}

/**
 * Copies the package into a new temporary folder that everyone may read
 * (folders 0755, files 0644) and returns the folder; the caller removes it.
 */
function copyPackage(): string {
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
      copyFileSync(join(root, f), to)
      chmodSync(to, 0o644)
    }
    return dir
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
}

/** Runs `code` in a child Node as `nobody` and returns the error it threw (as JSON). */
function errorAsNobody(code: string): { code?: string; message?: string; syscall?: string } {
  const pkg = copyPackage()
  try {
    const script = `
    const d = require(${JSON.stringify(pkg)});
    try { ${code}; console.log(JSON.stringify({})) }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, syscall: e.syscall })) }`
    const r = spawnSync(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY, cwd: pkg, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`child failed: ${r.error ?? r.stderr}`)
    return JSON.parse(r.stdout)
  } finally {
    rmSync(pkg, { recursive: true, force: true })
  }
}

/** Runs `fn` with `path`'s mode set to `mode`, restoring it afterwards. */
function withMode<T>(path: string, mode: number, fn: () => T): T {
  const before = statSync(path).mode & 0o7777
  chmodSync(path, mode)
  try {
    return fn()
  } finally {
    chmodSync(path, before)
  }
}

heapTest('opening a heap node this user may not open gives EACCES naming the node', (t) => {
  const err = withMode('/dev/dma_heap/system', 0o600, () => errorAsNobody(`d.Heap.open('system')`))
  t.is(err.code, 'EACCES')
  t.is(err.syscall, 'open')
  t.regex(err.message ?? '', /permission denied opening \/dev\/dma_heap\/system/)
  t.regex(err.message ?? '', /Heap\.open/)
})

deviceTest('opening /dev/udmabuf without permission gives EACCES naming the node', (t) => {
  const err = withMode('/dev/udmabuf', 0o600, () => errorAsNobody(`d.createUdmabuf(4096)`))
  t.is(err.code, 'EACCES')
  t.regex(err.message ?? '', /permission denied opening \/dev\/udmabuf/)
})

heapTest('a world-readable heap node lets an ordinary user allocate', (t) => {
  // The other side of the two tests above: the mode, not the user, was the cause.
  const err = withMode('/dev/dma_heap/system', 0o644, () => errorAsNobody(`d.Heap.open('system').alloc(4096).close()`))
  t.deepEqual(err, {})
})
