// Permission errors name the device node. Tests run as root in the VM, and
// root ignores file modes, so the failing open runs in a child process with
// the uid of nobody, against a node whose mode denies everyone.
//
// nobody may not be able to read the checkout (one cloned into /root, mode
// 0700), so the child loads a copy of the package that everyone may read
// (helpers.ts copyPackage).

import { spawnSync } from 'node:child_process'
import { chmodSync, rmSync, statSync } from 'node:fs'

import { copyPackage, deviceTest, heapTest } from './helpers.js'

const NOBODY = 65534

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
