// Hostile peers (issue 19): a peer controls nothing on the receiver's
// JavaScript thread. __test__/peers/hostile.py mounts a FUSE filesystem
// whose daemon answers what opening its one file needs and nothing else
// (fstat, fstatfs, lseek and close each wait on it for ever), and sends
// that file over a Channel, or sends what a Channel never would. Receiving
// it, refusing it (too many fds, a bad header), taking it with
// fdFromProcess and closing it must all return at once, with timers
// running throughout, and abort()/close() must end a pending receive.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, fstat, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'

import test, { type ExecutionContext } from 'ava'
import { Channel, PassedFd, createUdmabuf, fdFromProcess, inspect, type Listener } from 'dmabuf'

import { PAGE, inVm, since } from './helpers.js'

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

// ---------------------------------------------------------------------------
// Inspection that cannot be fooled: what a user writes into /proc (a file
// named /dmabuf:x, a mapping at a huge offset, a name with escape codes).

/** The command's helpers for what users control (lib/cli/util/untrusted.ts, compiled without declarations). */
interface Untrusted {
  printable(s: string): string
  columnWidths(head: readonly string[], rows: readonly (readonly string[])[], visible: (s: string) => number): number[]
  minOf(values: Iterable<number>, empty?: number): number
  addBytes(a: number, b: number): number
  sumBytes(values: Iterable<number>): number
  parsePid(s: string): number | undefined
  parseWatch(s: string): number | undefined
}
const ls = require(resolve(__dirname, '..', '..', 'cli', 'util', 'untrusted.js')) as Untrusted

/** Root (to mount the tmpfs the spoof needs) and a dma-buf exporter, or the VM. */
const spoofTest = inVm || (process.getuid?.() === 0 && existsSync('/dev/udmabuf')) ? test.serial : test.serial.skip

/**
 * The largest offset a mapping can have here: 2^62 on 64-bit machines; a
 * 32-bit kernel keeps the offset in pages in a 32-bit word, so 2^43 there
 * (2^44 - 4096 is its limit).
 */
const HUGE_OFFSET = process.arch === 'arm' || process.arch === 'ia32' ? 2n ** 43n : 2n ** 62n

spoofTest(`inspect() counts only what the kernel says is a dma-buf: a file named /dmabuf:x (held and mapped at offset 2^${HUGE_OFFSET.toString(2).length - 1}) is left out, totals stay true`, async (t) => {
  const peer = await started(t, false)
  for (let i = 0; i < 4; i++) await peer.do(`spoof fake${i} ${HUGE_OFFSET}`)
  await peer.do('comm \\x1b[31mevil\\x07')
  // A real buffer beside them, held and mapped by this process.
  using real = createUdmabuf(4 * PAGE)
  real.setName('real')
  using map = real.map('r')
  const s = inspect({ pids: [process.pid, peer.pid] })
  t.deepEqual(s.buffers.map((b) => b.name).filter((n) => n.startsWith('fake')), [], 'no fake buffer listed')
  t.false(s.processes.some((p) => p.pid === peer.pid), 'the spoofing process holds no dma-buf')
  t.true(s.unconfirmed >= 4, `the 4 fake mappings are counted as unconfirmed (${s.unconfirmed})`)
  const mine = s.buffers.find((b) => b.inode === real.info().inode)
  t.truthy(mine, 'the real buffer is listed')
  t.is(mine!.size, 4 * PAGE)
  t.is(mine!.holders.find((h) => h.pid === process.pid)?.mapped, 4 * PAGE)
  for (const e of s.exporters) t.true(e.bytes <= Number.MAX_SAFE_INTEGER)
  for (const p of s.processes) t.true(p.pss <= Number.MAX_SAFE_INTEGER && p.mappedBytes <= Number.MAX_SAFE_INTEGER)
  t.true(map.buffer.byteLength > 0)
  // Scanning only the spoofer: no dma-buf fd to learn the device from, so the scan makes one, and still finds nothing.
  const only = inspect({ pids: [peer.pid] })
  t.deepEqual(only.buffers, [])
  t.true(only.unconfirmed >= 4)
})

spoofTest('inspect() of a process that only maps a dma-buf (no fd anywhere in the scan) still finds the mapping', async (t) => {
  const root = resolve(__dirname, '..', '..')
  const code = `const d = require(${JSON.stringify(root)}); const b = d.createUdmabuf(2 * ${PAGE}); b.setName('mapped-only');
    globalThis.m = b.map('r'); b.close(); console.log('ready'); process.stdin.on('data', () => {}); process.stdin.on('end', () => process.exit(0))`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => child.stdin.end())
  await new Promise((ok) => child.stdout.once('data', ok))
  const s = inspect({ pids: [child.pid!] })
  const b = s.buffers.find((x) => x.name === 'mapped-only')
  t.truthy(b, `the mapped-only buffer is found (unconfirmed: ${s.unconfirmed})`)
  t.deepEqual(b!.holders.map((h) => [h.pid, h.fds.length, h.mapped]), [[child.pid!, 0, 2 * PAGE]])
  t.is(s.unconfirmed, 0)
})

test.serial('a process name with escape codes is raw in inspect() and escaped by printable()', async (t) => {
  const peer = await started(t, false)
  await peer.do('comm \\x1b[2J\\xe2\\x80\\xaeevil\\x07')
  // The peer needs a dma-buf to be listed: it maps nothing real, so look at its comm through /proc directly.
  const raw = readFileSync(`/proc/${peer.pid}/comm`, 'utf8').trimEnd()
  t.true(raw.includes('\x1b'), 'the kernel keeps the escape byte')
  const shown = ls.printable(raw)
  t.false(/[\x00-\x1f\x7f-\x9f]/.test(shown), `nothing a terminal acts on is left: ${JSON.stringify(shown)}`)
  t.is(shown, '\\x1b[2J\\u{202e}evil\\x07')
})

test('printable() escapes controls, C1, bidi and format characters and backslashes, and keeps the rest', (t) => {
  t.is(ls.printable('node'), 'node')
  t.is(ls.printable('kworker/0:1 ümlaut 日本'), 'kworker/0:1 ümlaut 日本')
  t.is(ls.printable('\x1b[31mred\x1b[0m'), '\\x1b[31mred\\x1b[0m')
  t.is(ls.printable('a\nb\tc\rd\x00e\x7f'), 'a\\x0ab\\x09c\\x0dd\\x00e\\x7f')
  t.is(ls.printable('\u009b2J'), '\\u{9b}2J')
  t.is(ls.printable('abc\u202edcb'), 'abc\\u{202e}dcb')
  t.is(ls.printable('zero\u200bwidth\ufeff'), 'zero\\u{200b}width\\u{feff}')
  t.is(ls.printable('back\\slash'), 'back\\\\slash')
})

test('130,000 rows: column widths, minimums and totals without a call that grows with the rows', (t) => {
  const rows: string[][] = []
  for (let i = 0; i < 130_000; i++) rows.push([String(i), 'x'.repeat(i % 37), 'udmabuf'])
  t.deepEqual(ls.columnWidths(['INODE', 'NAME', 'EXPORTER'], rows, (s) => s.length), [6, 36, 8])
  const pids = rows.map((_, i) => 130_000 - i)
  t.is(ls.minOf(pids), 1)
  t.is(ls.minOf([], -1), -1)
  t.is(ls.sumBytes(pids.map(() => 4096)), 130_000 * 4096)
  t.is(ls.sumBytes([2 ** 62, 2 ** 62, 2 ** 62, 2 ** 62]), Number.MAX_SAFE_INTEGER, 'saturates, never wraps')
  t.is(ls.addBytes(Number.MAX_SAFE_INTEGER, 1), Number.MAX_SAFE_INTEGER)
})

test('--pid and --watch accept only what they document', (t) => {
  for (const ok of ['1', '42', '4194304']) t.is(ls.parsePid(ok), Number(ok))
  for (const bad of ['0', '-1', '2147483648', '4194305', '0x10', ' 1 ', '1e3', '1.0', '01', '', '+5', 'NaN']) t.is(ls.parsePid(bad), undefined, bad)
  for (const ok of ['0.1', '0.5', '1', '2.', '.5', '86400']) t.is(ls.parseWatch(ok), Number(ok))
  for (const bad of ['1e-6', '0', '0.05', '-1', '1e3', '0x10', ' 1', 'Infinity', 'NaN', '86401', '']) t.is(ls.parseWatch(bad), undefined, bad)
})
