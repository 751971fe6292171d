// The committed generated and compiled files against what the build makes
// of the sources: native.* (napi build), lib/internal/generated/slots.ts
// (scripts/gen-slots.mjs) and every file tsc emits (index.*, cli.js, api/,
// internal/). They are compared with the *committed* version (git's index,
// `git show :path`), not with the working tree: `npm test` rebuilds first,
// so the working tree always matches a fresh build and would prove nothing.
// A source changed without its rebuilt output staged fails here.
//
// HOST TIER ONLY for the build comparisons: they run `napi build` and tsc,
// which write target/ and a temporary output directory, and the VM shares
// the host's root read-only. Under DMABUF_VM=1 they are not registered at
// all (a skip would fail the VM tier, and a VM run would only fail on the
// read-only target/). The export-list test below needs no writing and runs
// in both tiers, which also keeps this file from being empty in the VM.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'

import test from 'ava'
import * as dmabuf from 'dmabuf'

import { inVm } from './helpers.js'

const root = resolve(__dirname, '..', '..')
const read = (path: string): string => readFileSync(path, 'utf8')

/** The committed (staged) text of `path`, relative to the repository root; null when git has none. */
function committed(path: string): string | null {
  const r = spawnSync('git', ['show', `:${path}`], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  return r.status === 0 ? r.stdout : null
}

/** Every file under `dir`, as paths relative to it. */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort()
}

/** The build:debug script's commands, split at `&&`. */
function buildSteps(): string[] {
  const pkg = JSON.parse(read(join(root, 'package.json'))) as { scripts: Record<string, string> }
  return pkg.scripts['build:debug'].split(' && ')
}

if (!inVm) {
  test('native.* are what `napi build` generates from the sources, as committed', (t) => {
    // Rust compilation can be slow on a cold cache.
    t.timeout(10 * 60_000)
    const out = mkdtempSync(join(tmpdir(), 'dmabuf-dts-'))
    try {
      // The package's own native build (build:debug runs build:native first), with only the output directory changed.
      const pkg = JSON.parse(read(join(root, 'package.json'))) as { scripts: Record<string, string> }
      t.is(buildSteps()[0], 'npm run --silent build:native', 'build:debug starts with build:native')
      const args = pkg.scripts['build:native'].split(/\s+/)
      t.is(args.shift(), 'napi')
      const dir = args.indexOf('--output-dir')
      t.true(dir >= 0, 'build:native names an --output-dir')
      args[dir + 1] = out
      const cli = join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' })
      t.is(r.status, 0, `napi build failed:\n${r.stdout}\n${r.stderr}`)
      if (r.status !== 0) return
      for (const f of ['native.d.ts', 'native.js']) {
        t.is<string | null, string | null>(read(join(out, f)), committed(f), `${f} is stale: run npm run build:debug and commit it`)
      }
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })

  test('lib/internal/generated/slots.ts is what scripts/gen-slots.mjs makes of fast.rs, as committed', (t) => {
    t.true(buildSteps().includes('node scripts/gen-slots.mjs'), 'build:debug runs the generator')
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'gen-slots.mjs'), '--stdout'], { cwd: root, encoding: 'utf8' })
    t.is(r.status, 0, r.stderr)
    t.is<string | null, string | null>(r.stdout, committed('lib/internal/generated/slots.ts'), 'lib/internal/generated/slots.ts is stale: run npm run build:debug and commit it')
  })

  test('every file tsc emits (index.*, cli.js, api/, internal/) is committed as tsc compiles it', (t) => {
    t.timeout(3 * 60_000)
    const projects = ['tsconfig.json', 'tsconfig.cli.json']
    t.deepEqual(buildSteps().slice(-2), projects.map((p) => `tsc -p ${p}`), 'build:debug compiles lib/ (the library, then the command) with tsc')
    const out = mkdtempSync(join(tmpdir(), 'dmabuf-tsc-'))
    try {
      const tscJs = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
      for (const p of projects) {
        const c = spawnSync(process.execPath, [tscJs, '-p', p, '--outDir', out], { cwd: root, encoding: 'utf8' })
        t.is(c.status, 0, `tsc -p ${p} failed:\n${c.stdout}\n${c.stderr}`)
      }
      const emitted = walk(out)
      t.false(emitted.includes('cli.d.ts'), 'the command gets no declarations (nothing imports it)')
      for (const f of ['index.js', 'index.d.ts', 'cli.js', 'cli/main.js', 'api/dma-buf.js', 'internal/native.js']) t.true(emitted.includes(f), `tsc emits ${f}`)
      for (const f of emitted) t.is<string | null, string | null>(read(join(out, f)), committed(f), `${f} is stale: run npm run build:debug and commit it`)
      // Nothing compiled from a source that is gone: api/, internal/ and cli/ hold only what tsc emits.
      const tracked = spawnSync('git', ['ls-files', 'api', 'internal', 'cli'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
      t.deepEqual(tracked.filter((f) => !emitted.includes(f)), [], 'committed in api/, internal/ or cli/ but no longer compiled')
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
}

test('index.d.ts declares every value the module exports, and no other', (t) => {
  // index.d.ts only re-exports (`export { type T, Value } from './api/...'`);
  // tsc has checked that each name is declared where it points.
  const dts = read(join(root, 'index.d.ts'))
  const listed = [...dts.matchAll(/^export \{([^}]*)\} from '\.\/api\/[\w-]+';$/gm)].flatMap((m) => m[1].split(',').map((n) => n.trim()).filter(Boolean))
  const values = new Set(listed.filter((n) => !n.startsWith('type ')))
  const types = new Set(listed.filter((n) => n.startsWith('type ')).map((n) => n.slice(5)))
  t.is(dts.replace(/^export \{[^}]*\} from '\.\/api\/[\w-]+';\n/gm, '').trim(), '', 'index.d.ts holds re-exports only')
  const exported = Object.keys(dmabuf).filter((k) => k !== 'default')
  t.true(values.size > 10)
  t.deepEqual([...values].filter((v) => !exported.includes(v)), [], 'declared but not exported')
  t.deepEqual(exported.filter((k) => !values.has(k) && !types.has(k)), [], 'exported but not declared')
})
