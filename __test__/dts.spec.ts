// The committed index.* and native.* against what the build makes of the sources.
//
// HOST TIER ONLY for the napi build comparison: it runs `napi build`, which
// writes target/ and a temporary output directory, and the VM shares the
// host's root read-only. Under DMABUF_VM=1 that test is not registered at
// all (a skip would fail the VM tier, and a VM run would only fail on the
// read-only target/). The export-list test below needs no writing and runs
// in both tiers, which also keeps this file from being empty in the VM.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import test from 'ava'
import * as dmabuf from 'dmabuf'

import { inVm } from './helpers.js'

const root = resolve(__dirname, '..', '..')
const read = (path: string): string => readFileSync(path, 'utf8')

if (!inVm) {
  test('native.* are what `napi build` generates, and index.* what tsc compiles, from the sources', (t) => {
    // Rust compilation can be slow on a cold cache.
    t.timeout(10 * 60_000)
    const out = mkdtempSync(join(tmpdir(), 'dmabuf-dts-'))
    try {
      // The package's own build:debug command, with only the output directories changed.
      const pkg = JSON.parse(read(join(root, 'package.json'))) as { scripts: Record<string, string> }
      const [napi, tsc] = pkg.scripts['build:debug'].split(' && ')
      const args = napi.split(/\s+/)
      t.is(args.shift(), 'napi')
      const dir = args.indexOf('--output-dir')
      t.true(dir >= 0, 'build:debug names an --output-dir')
      args[dir + 1] = out
      const cli = join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' })
      t.is(r.status, 0, `napi build failed:\n${r.stdout}\n${r.stderr}`)
      if (r.status !== 0) return
      t.is(read(join(out, 'native.d.ts')), read(join(root, 'native.d.ts')), 'native.d.ts is stale: run npm run build:debug')
      t.is(read(join(out, 'native.js')), read(join(root, 'native.js')), 'native.js is stale: run npm run build:debug')
      t.is(tsc, 'tsc -p tsconfig.json', 'build:debug compiles lib/ with tsc')
      const tscJs = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
      const c = spawnSync(process.execPath, [tscJs, '-p', 'tsconfig.json', '--outDir', out], { cwd: root, encoding: 'utf8' })
      t.is(c.status, 0, `tsc failed:\n${c.stdout}\n${c.stderr}`)
      t.is(read(join(out, 'index.d.ts')), read(join(root, 'index.d.ts')), 'index.d.ts is stale: run npm run build:debug')
      t.is(read(join(out, 'index.js')), read(join(root, 'index.js')), 'index.js is stale: run npm run build:debug')
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })
}

test('index.d.ts declares every value the native module exports, and no other', (t) => {
  const dts = read(join(root, 'index.d.ts'))
  const names = (re: RegExp): Set<string> => new Set([...dts.matchAll(re)].map((m) => m[1]))
  const values = names(/^export declare (?:class|function|const) (\w+)/gm)
  const types = names(/^export type (\w+)/gm)
  const exported = Object.keys(dmabuf).filter((k) => k !== 'default')
  t.true(values.size > 10)
  t.deepEqual([...values].filter((v) => !exported.includes(v)), [], 'declared but not exported')
  t.deepEqual(exported.filter((k) => !values.has(k) && !types.has(k)), [], 'exported but not declared')
})
