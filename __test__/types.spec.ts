// The shipped index.d.ts, used the way a TypeScript user would (strict):
// correct usage compiles, wrong usage does not. A host-tier file: it needs
// no device, and tsc under the VM's emulated CPU takes minutes, so
// scripts/vm-tier.sh leaves it out.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(__dirname, '..', '..')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const typesDir = join(root, '__test__', 'types')

test('correct usage compiles and every marked misuse fails to compile', (t) => {
  // An unused expect-error marker is itself an error, so exit 0 proves both.
  const r = spawnSync(process.execPath, [tsc, '-p', typesDir], { encoding: 'utf8' })
  t.is(r.status, 0, r.stdout + r.stderr)
})

test('without the markers, tsc reports one error per misuse', (t) => {
  const source = readFileSync(join(typesDir, 'usage.ts'), 'utf8')
  const marker = /^\s*\/\/ @ts-expect-error.*$/gm
  const expected = source.match(marker)?.length ?? 0
  t.true(expected >= 7)
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-types-'))
  try {
    writeFileSync(join(dir, 'usage.ts'), source.replace(marker, '// (marker removed)'))
    const config = JSON.parse(readFileSync(join(typesDir, 'tsconfig.json'), 'utf8'))
    config.compilerOptions.baseUrl = dir
    config.compilerOptions.paths = { dmabuf: [join(root, 'index.d.ts')] }
    config.compilerOptions.typeRoots = [join(root, 'node_modules', '@types')]
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config))
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' })
    t.not(r.status, 0)
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l))
    t.is(errors.length, expected, r.stdout)
    t.true(errors.every((l) => /usage\.ts\(\d+,\d+\)/.test(l)), r.stdout)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("the README's TypeScript examples type-check against index.d.ts (strict)", (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1])
  t.true(blocks.length >= 2, 'the README has TypeScript examples')
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-readme-'))
  try {
    const files: string[] = []
    blocks.forEach((code, i) => {
      // The API summary is declarations, not code: check it as an ambient
      // declaration file against nothing but itself.
      const isSummary = /^type Access = /m.test(code)
      if (isSummary) return
      const name = `example${i}.mts` // an ES module: the examples use top-level await
      // What an example takes for granted: an fd number from elsewhere.
      writeFileSync(join(dir, name), `declare const someFd: number\n${code}\nexport {}\n`)
      files.push(name)
    })
    t.true(files.length >= 2)
    const config = JSON.parse(readFileSync(join(typesDir, 'tsconfig.json'), 'utf8'))
    config.compilerOptions.baseUrl = dir
    config.compilerOptions.paths = { dmabuf: [join(root, 'index.d.ts')] }
    config.compilerOptions.typeRoots = [join(root, 'node_modules', '@types')]
    config.compilerOptions.noUnusedLocals = false
    config.files = files
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config))
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' })
    t.is(r.status, 0, r.stdout + r.stderr)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
