// Hostile peers (issue 19): a peer controls nothing on the receiver's
// JavaScript thread. __test__/peers/hostile.py mounts a FUSE filesystem
// whose daemon answers what opening its one file needs and nothing else
// (fstat, fstatfs, lseek and close each wait on it for ever), and sends
// that file over a Channel, or sends what a Channel never would. Receiving
// it, refusing it (too many fds, a bad header), taking it with
// fdFromProcess and closing it must all return at once, with timers
// running throughout, and abort()/close() must end a pending receive.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, fstat, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

import test, { type ExecutionContext } from 'ava'
import { Channel, PassedFd, fdFromProcess, type Listener } from 'dmabuf'

import { inVm, since } from './helpers.js'

const script = resolve(__dirname, '..', 'peers', 'hostile.py')
/** Debian's own python3 (a user's PATH may lead to a shim that needs their HOME). */
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'

/** Whether this machine lets this process mount FUSE (root and /dev/fuse; the VM always must). */
function fuseMountable(): boolean {
  if (!existsSync('/dev/fuse') || process.getuid?.() !== 0) return false
  return spawnSync(python, ['-c', 'import ctypes'], { stdio: 'ignore' }).status === 0
}
const fuseTest = inVm || fuseMountable() ? test.serial : test.serial.skip

/** The peer: a child running hostile.py, one command a line, one answer a line. */
class Peer {
  readonly child: ChildProcessWithoutNullStreams
  readonly dir: string
  #lines: string[] = []
  #waiters: Array<(l: string) => void> = []
  pid = 0

  constructor(fuse = true) {
    this.dir = mkdtempSync(join(tmpdir(), 'dmabuf-hostile-'))
    if (fuse) mkdirSync(join(this.dir, 'mnt'))
    this.child = spawn(python, fuse ? [script, join(this.dir, 'mnt')] : [script], { stdio: ['pipe', 'pipe', 'pipe'] })
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      const w = this.#waiters.shift()
      if (w) w(l)
      else this.#lines.push(l)
    })
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(d))
  }

  next(): Promise<string> {
    const l = this.#lines.shift()
    if (l !== undefined) return Promise.resolve(l)
    return new Promise((ok) => this.#waiters.push(ok))
  }

  async do(cmd: string): Promise<string> {
    this.child.stdin.write(cmd + '\n')
    const r = await this.next()
    if (!r.startsWith('ok')) throw new Error(`hostile.py ${cmd}: ${r}`)
    return r.slice(3)
  }

  async end(): Promise<void> {
    const gone = new Promise((ok) => this.child.once('exit', ok))
    this.child.stdin.end('quit\n')
    await gone
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Starts the peer (its mount made before `ready`), a listener, and the peer connected to it. */
async function started(t: ExecutionContext, fuse = true): Promise<Peer> {
  const peer = new Peer(fuse)
  t.teardown(() => peer.end())
  const ready = await peer.next()
  if (!ready.startsWith('ready ')) throw new Error(`hostile.py did not start: ${ready}`)
  peer.pid = Number(ready.split(' ')[1])
  return peer
}

async function connected(t: ExecutionContext, type: 'stream' | 'seqpacket' = 'seqpacket'): Promise<{ peer: Peer; ch: Channel; lis: Listener }> {
  const peer = await started(t)
  const lis = Channel.listen(join(peer.dir, 'sock'), { type })
  t.teardown(() => lis.close())
  const accepted = lis.accept()
  await peer.do(`connect ${join(peer.dir, 'sock')} ${type}`)
  const ch = await accepted
  t.teardown(() => ch.close())
  return { peer, ch, lis }
}

/** Counts how late a 5 ms interval fires: the longest the JavaScript thread was held. */
function watchdog(): { stop(): number } {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 5)
  return {
    stop() {
      clearInterval(timer)
      return Math.max(worst, performance.now() - last)
    },
  }
}

/** Resolves `p`, or fails after `ms` (the old code never returned). */
async function within<T>(t: ExecutionContext, ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, no) => { timer = setTimeout(() => no(new Error(`${what}: not settled after ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Proves the daemon is hostile: fstat on the file (in libuv's pool) does not come back. */
async function fstatHangs(t: ExecutionContext, fd: number): Promise<void> {
  const answered = await new Promise<boolean>((ok) => {
    const timer = setTimeout(() => ok(false), 300)
    fstat(fd, () => { clearTimeout(timer); ok(true) })
  })
  t.false(answered, 'fstat on the FUSE file came back: the daemon was meant never to answer')
}

fuseTest('a FUSE file whose daemon never answers arrives as a PassedFd at once, and closing it returns at once', async (t) => {
  const { peer, ch } = await connected(t)
  const dog = watchdog()
  const got = ch.receive()
  await peer.do('send 1 {"file":"fuse"}')
  const m = await within(t, 5000, 'receive', got)
  t.deepEqual(m.header, { file: 'fuse' })
  t.is(m.fds.length, 1)
  const f = m.fds[0]
  t.true(f instanceof PassedFd, 'neither a dma-buf nor a sync_file')
  const fd = f.fd
  await fstatHangs(t, fd)
  const start = performance.now()
  f.close()
  t.true(since(start) < 200, `close() took ${since(start)} ms (FUSE_FLUSH is never answered)`)
  t.true(f.closed)
  const worst = dog.stop()
  t.true(worst < 1000, `the JavaScript thread was held for ${worst} ms`)
})

fuseTest('more FUSE fds than maxFds: ETOOMANYREFS at once, the fds closed without waiting, the channel goes on', async (t) => {
  const { peer, ch } = await connected(t)
  const dog = watchdog()
  const first = ch.receive({ maxFds: 1 })
  await peer.do('send 3 {"n":3}')
  const err = await within(t, 5000, 'receive', first.then(() => null, (e: NodeJS.ErrnoException) => e))
  t.is(err?.code, 'ETOOMANYREFS')
  await peer.do('send 0 {"n":0}')
  const next = await within(t, 5000, 'receive', ch.receive())
  t.deepEqual(next.header, { n: 0 })
  t.true(dog.stop() < 1000)
})

fuseTest('a bad header with a FUSE fd: ERR_DMABUF_BAD_HEADER at once, its fd closed without waiting', async (t) => {
  const { peer, ch } = await connected(t)
  const dog = watchdog()
  const got = ch.receive()
  await peer.do('send 2 not json')
  const err = await within(t, 5000, 'receive', got.then(() => null, (e: NodeJS.ErrnoException) => e))
  t.is(err?.code, 'ERR_DMABUF_BAD_HEADER')
  t.true(dog.stop() < 1000)
})

fuseTest('a stream peer that stops in the middle of a message with a FUSE fd: the channel closes at once', async (t) => {
  const { peer, ch } = await connected(t, 'stream')
  const dog = watchdog()
  const got = ch.receive()
  // The prefix announces 100 bytes; 3 come, with the fd; then the peer goes.
  await peer.do('raw 64000000010203 1')
  await new Promise((ok) => setTimeout(ok, 50))
  const start = performance.now()
  ch.close()
  t.true(since(start) < 200, `Channel.close() took ${since(start)} ms`)
  const err = await within(t, 5000, 'receive', got.then(() => null, (e: NodeJS.ErrnoException) => e))
  t.is(err?.code, 'ERR_DMABUF_CLOSED')
  t.true(dog.stop() < 1000)
})

fuseTest('abort() and close() end a receive while a peer sends FUSE files', async (t) => {
  const { peer, ch } = await connected(t)
  const dog = watchdog()
  const ac = new AbortController()
  const aborted = ch.receive({ signal: ac.signal })
  setTimeout(() => ac.abort(), 20)
  const e1 = await within(t, 5000, 'aborted receive', aborted.then(() => null, (e: Error) => e))
  t.is(e1?.name, 'AbortError')
  // The next receive gets the message the peer sends now; close() then ends the one after.
  const got = ch.receive()
  await peer.do('send 1 {"k":1}')
  const m = await within(t, 5000, 'receive', got)
  for (const f of m.fds) f.close()
  const pending = ch.receive()
  const settled = pending.then(() => null, (e: NodeJS.ErrnoException) => e)
  await new Promise((ok) => setTimeout(ok, 20))
  ch.close()
  const e2 = await within(t, 5000, 'closed receive', settled)
  t.is(e2?.code, 'ERR_DMABUF_CLOSED', 'the receive must not resolve after close()')
  t.true(dog.stop() < 1000)
})

fuseTest('fdFromProcess of a FUSE file whose daemon never answers: a PassedFd at once', async (t) => {
  const { peer } = await connected(t)
  const fd = Number(await peer.do('fd'))
  const dog = watchdog()
  const start = performance.now()
  const f = fdFromProcess(peer.pid, fd)
  t.true(f instanceof PassedFd)
  f.close()
  t.true(since(start) < 200, `took ${since(start)} ms`)
  t.true(dog.stop() < 1000)
})
