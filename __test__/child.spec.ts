// Sharing a dma-buf with a child process (device tier): the parent passes
// its fd as the child's fd 3, and both map the same memory.

import { spawn } from 'node:child_process'

import { createUdmabuf, type DmaBuf } from 'dmabuf'

import { PAGE, deviceTest, pattern } from './helpers.js'

// The child loads the same native module by absolute path.
const index = require.resolve('dmabuf')

/** Runs `script` in a child node with `buf` as its fd 3; resolves with its stdout. */
function runChild(buf: DmaBuf, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', `const { DmaBuf } = require(${JSON.stringify(index)});\n${script}`], {
      stdio: ['ignore', 'pipe', 'inherit', buf.fd],
    })
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out)
      else reject(new Error(`child exited with ${code ?? signal}`))
    })
  })
}

deviceTest('a child process reads the bytes the parent wrote through its mapping', async (t) => {
  using buf = createUdmabuf(PAGE)
  const data = pattern(64, 41)
  {
    using m = buf.map()
    using _acc = buf.beginCpuAccess('w')
    new Uint8Array(m.buffer, 100, 64).set(data)
  }
  const out = await runChild(
    buf,
    `
    const buf = DmaBuf.fromFd(3)
    const m = buf.map('r')
    const acc = buf.beginCpuAccess('r')
    process.stdout.write(JSON.stringify({ size: buf.size, exporter: buf.info().exporter, hex: Buffer.from(m.buffer, 100, 64).toString('hex') }))
    acc.end()
    `,
  )
  const got = JSON.parse(out) as { size: number; exporter: string; hex: string }
  t.is(got.size, PAGE)
  t.is(got.exporter, 'udmabuf')
  t.is(got.hex, Buffer.from(data).toString('hex'))
})

deviceTest('the parent sees what a child wrote, through a mapping made before the child ran', async (t) => {
  using buf = createUdmabuf(PAGE)
  using m = buf.map('r')
  const data = pattern(32, 42)
  await runChild(
    buf,
    `
    const buf = DmaBuf.fromFd(3)
    const m = buf.map('rw', 0, ${PAGE})
    const acc = buf.beginCpuAccess('w')
    new Uint8Array(m.buffer, 2000, 32).set(Buffer.from(${JSON.stringify(Buffer.from(data).toString('hex'))}, 'hex'))
    acc.end()
    `,
  )
  using _acc = buf.beginCpuAccess('r')
  t.deepEqual(new Uint8Array(m.buffer, 2000, 32).slice(), data)
})
