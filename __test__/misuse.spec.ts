// Misuse of the fd-passing API and what a careless or hostile peer does
// (issue 19, item 5), none of it needing a dma-buf device: these run on the
// host and in both VM tiers.

import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test from 'ava'
import { Channel, MAX_QUEUED_FDS, fdFromProcess, type PassedFd } from 'dmabuf'

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dmabuf-misuse-'))
}

test('Listener.close() leaves a socket file that another server has bound since', async (t) => {
  const dir = tempDir()
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 's.sock')
  const first = Channel.listen(path)
  unlinkSync(path)
  using second = Channel.listen(path)
  first.close()
  t.true(existsSync(path), 'the other server keeps its file')
  using client = Channel.connect(path)
  using served = await second.accept()
  await client.send('hello')
  t.is((await served.receive()).header, 'hello', 'its clients still reach it')
  second.close()
  t.false(existsSync(path), 'a listener removes its own file')
})

test('a pending accept() rejected by close() names the Listener, and accept() after close() too', async (t) => {
  const l = Channel.listen(`@dmabuf-misuse-${process.pid}`)
  const pending = l.accept()
  l.close()
  const e = await t.throwsAsync(pending)
  t.is((e as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED')
  t.regex(e!.message, /Listener\.accept: the Listener is closed/)
  const after = await t.throwsAsync(l.accept())
  t.regex(after!.message, /Listener\.accept: the Listener is closed/)
})

test("listen('@') is refused: an abstract name needs a byte after the '@'", (t) => {
  const e = t.throws(() => Channel.listen('@'))
  t.is((e as NodeJS.ErrnoException).code, 'EINVAL', e!.message)
})

test('Channel.fromFd refuses a listening socket (EINVAL) and leaves the fd open', (t) => {
  using l = Channel.listen(`@dmabuf-misuse-l-${process.pid}`)
  const e = t.throws(() => Channel.fromFd(l.fd))
  t.is((e as NodeJS.ErrnoException).code, 'EINVAL', e!.message)
  t.false(l.closed)
})

test('Channel.pair(): the end given to a child is a blocking socket, so blocking reads in the child work', async (t) => {
  const [mine, theirs] = Channel.pair('stream')
  // The child reads with a blocking readSync (EAGAIN if the socket were non-blocking) and exits with what it read.
  const child = spawn(process.execPath, ['-e', `const fs = require('fs'); const b = Buffer.alloc(64);
    try { const n = fs.readSync(3, b, 0, 64, null); console.log('read ' + n) } catch (e) { console.log(e.code) }`], { stdio: ['ignore', 'pipe', 'inherit', theirs.fd] })
  theirs.close()
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  // Give the child time to block in its read before anything arrives.
  await new Promise((ok) => setTimeout(ok, 500))
  await mine.send({ hi: 1 })
  await new Promise((ok) => child.on('exit', ok))
  mine.close()
  t.regex(out, /^read \d+/, out)
})

test('a 0-byte seqpacket packet (which Channel never sends) rejects that receive with EPROTO; the channel goes on', async (t) => {
  const [mine, theirs] = Channel.pair()
  // A peer process writes a 0-byte packet on its end, then a real message, with plain write(2).
  const child = spawn(process.execPath, ['-e', `const fs = require('fs'); fs.writeSync(3, Buffer.alloc(0));
    const h = Buffer.from(JSON.stringify('after')); const p = Buffer.alloc(4); p.writeUInt32LE(h.length); fs.writeSync(3, Buffer.concat([p, h]))`], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
  theirs.close()
  await new Promise((ok) => child.on('exit', ok))
  const e = await t.throwsAsync(mine.receive())
  t.is((e as NodeJS.ErrnoException).code, 'EPROTO', e!.message)
  t.is((await mine.receive()).header, 'after', 'the next message arrives')
  const end = await t.throwsAsync(mine.receive())
  t.is((end as NodeJS.ErrnoException).code, 'EPIPE', 'the hang-up is the end')
  mine.close()
})

test.serial(`unawaited sends hold at most MAX_QUEUED_FDS (${MAX_QUEUED_FDS}) fd copies: past that send() rejects with ENOBUFS, nothing throws, and no fd leaks`, async (t) => {
  const fd = openSync('/dev/null', 'r')
  const passed = fdFromProcess(process.pid, fd) as PassedFd
  closeSync(fd)
  const before = countFds()
  const [a, b] = Channel.pair()
  const sends: Promise<void>[] = []
  // Nobody receives: the socket fills, later sends queue behind it with copies.
  let refused: NodeJS.ErrnoException | undefined
  for (let i = 0; i < 4000 && !refused; i++) {
    const p = a.send({ i, pad: 'x'.repeat(1024) }, [passed])
    sends.push(p)
    p.catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOBUFS') refused ??= e
    })
    if (i % 64 === 63) await new Promise((ok) => setImmediate(ok))
  }
  await new Promise((ok) => setImmediate(ok))
  t.truthy(refused, 'a send past the limit was refused')
  t.regex(refused!.message, /^Channel\.send: \d+ sends are waiting with \d+ fd copies/)
  t.true(countFds() - before <= MAX_QUEUED_FDS + 300, `fds held: ${countFds() - before}`)
  // Closing ends the queued sends; their copies go.
  a.close()
  b.close()
  await Promise.allSettled(sends)
  t.is(countFds(), before, 'every copy was closed')
  passed.close()
})

test('fdFromProcess(0) and fdFromProcess(<a thread id>) are refused saying why, named by the method called', async (t) => {
  const e0 = t.throws(() => fdFromProcess(0, 0))
  t.is((e0 as NodeJS.ErrnoException).code, 'EINVAL', e0!.message)
  t.regex(e0!.message, /no process can have pid 0.*fdFromProcess/)
  // A thread that is not its process's leader: a worker thread's tid.
  const { Worker } = await import('node:worker_threads')
  const w = new Worker(`const { parentPort } = require('worker_threads'); const fs = require('fs');
    parentPort.postMessage(Number(fs.readlinkSync('/proc/thread-self').split('/').pop())); setTimeout(() => {}, 2000)`, { eval: true })
  const tid = await new Promise<number>((ok) => w.once('message', ok))
  try {
    const e = t.throws(() => fdFromProcess(tid, 0))
    // The kernel's code: EINVAL, or ENOENT on kernels that know thread pidfds (6.9+).
    t.true(['EINVAL', 'ENOENT'].includes((e as NodeJS.ErrnoException).code!), e!.message)
    t.regex(e!.message, /is a thread of another process, not a process.*fdFromProcess/)
  } finally {
    await w.terminate()
  }
})

function countFds(): number {
  return readdirSync('/proc/self/fd').length
}
