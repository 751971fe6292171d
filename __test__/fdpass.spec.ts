// Passing dma-bufs and sync_files between processes (device tier): Node to
// Node, Node to Rust (crates/dmabuf/examples/fdpass_peer.rs), a fence that
// really orders the two sides, 10,000 messages with no fd leaked on either
// side, and the documented errors (MSG_CTRUNC, a peer killed in the middle
// of a message, a closed channel) leaking nothing; pidfd_getfd from a child
// and refused to an unprivileged user.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import test from 'ava'
import { Channel, DmaBuf, SyncFile, createUdmabuf, fdFromProcess, type Message } from 'dmabuf'

import { PAGE, deviceTest, fencedVgem, noLeak, openFds, openVgem, pattern, vgemTest } from './helpers.js'

const root = resolve(__dirname, '..', '..')
// The ARM VM tiers run a cross-built one (scripts/vm-tier.sh sets the variable).
const rustPeer = process.env.DMABUF_RUST_PEER ? resolve(root, process.env.DMABUF_RUST_PEER) : join(root, 'target', 'debug', 'examples', 'fdpass_peer')

/** Starts `node -e code` with one end of a new channel as its fd 3; returns the other end. */
function nodePeer(code: string, type: 'stream' | 'seqpacket' = 'seqpacket'): { ch: Channel; child: ChildProcess; exited: Promise<number | null> } {
  const [mine, theirs] = Channel.pair(type)
  const script = `const d = require(${JSON.stringify(root)}); const fs = require('fs');
    const ch = d.Channel.fromFd(3); fs.closeSync(3);
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    (async () => { ${code} })().catch((e) => { console.error(e); process.exit(1) })`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
  theirs.close()
  const exited = new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)))
  return { ch: mine, child, exited }
}

function rust(): { ch: Channel; child: ChildProcess; exited: Promise<number | null> } {
  const [mine, theirs] = Channel.pair()
  const child = spawn(rustPeer, [], { stdio: ['ignore', 'inherit', 'inherit', theirs.fd] })
  theirs.close()
  const exited = new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)))
  return { ch: mine, child, exited }
}

function closeAll(m: Message): void {
  for (const f of m.fds) f.close()
}

test.serial('sends queued past a full stream socket go out whole and in order, through the reactor', async (t) => {
  await noLeak(t, async () => {
    const [a, b] = Channel.pair('stream')
    const extra = fdFromProcess(process.pid, 0) // any fd: a PassedFd
    // 30 headers of ~60 KiB are more than the socket holds: later sends wait
    // for room (EAGAIN) and some go in parts (the tail flushed when writable).
    const sends = Array.from({ length: 30 }, (_, i) => a.send({ i, pad: String(i % 10).repeat(60_000) }, [extra]))
    extra.close()
    for (let i = 0; i < 30; i++) {
      const m = await b.receive<{ i: number; pad: string }>()
      t.is(m.header.i, i)
      t.is(m.header.pad.length, 60_000)
      t.is(m.fds.length, 1)
      closeAll(m)
    }
    await Promise.all(sends)
    a.close()
    b.close()
  })
})

test('the Rust peer is built (cargo builds examples with the tests)', (t) => {
  t.true(existsSync(rustPeer), `${rustPeer} is missing: run cargo build -p dmabuf --example fdpass_peer`)
})

deviceTest('Node to Node: bytes written by one side are read by the other through the passed dma-buf', async (t) => {
  await noLeak(t, async () => {
    const peer = nodePeer(`
      const m = await ch.receive();
      const buf = m.fds[0];
      const got = Array.from(buf.read(0, 16));
      buf.write(16, Buffer.from([9, 8, 7, 6]));
      await ch.send({ got, size: buf.size, isDmaBuf: buf instanceof d.DmaBuf, inode: buf.info().inode });
      buf.close(); ch.close();`)
    using buf = createUdmabuf(2 * PAGE)
    buf.write(0, pattern(16, 3))
    await peer.ch.send({ hello: 1 }, [buf])
    const reply = await peer.ch.receive<{ got: number[]; size: number; isDmaBuf: boolean; inode: number }>()
    t.deepEqual(reply.header.got, Array.from(pattern(16, 3)))
    t.is(reply.header.size, 2 * PAGE)
    t.true(reply.header.isDmaBuf)
    t.is(reply.header.inode, buf.info().inode, 'the same buffer, not a copy')
    t.deepEqual(Array.from(buf.read(16, 4)), [9, 8, 7, 6])
    t.is(await peer.exited, 0)
    peer.ch.close()
  })
})

deviceTest('Node to Rust and back: bytes cross both ways through dma-bufs, and a Rust-made dma-buf arrives as a DmaBuf', async (t) => {
  await noLeak(t, async () => {
    const peer = rust()
    using buf = createUdmabuf(PAGE)
    buf.write(0, pattern(32, 5))
    await peer.ch.send({ op: 'read', len: 32 }, [buf])
    const r = await peer.ch.receive<{ bytes: number[] }>()
    t.deepEqual(r.header.bytes, Array.from(pattern(32, 5)))

    await peer.ch.send({ op: 'write', byte: 77, len: 8 }, [buf])
    t.deepEqual((await peer.ch.receive()).header, { op: 'written' })
    t.deepEqual(Array.from(buf.read(0, 9)), [77, 77, 77, 77, 77, 77, 77, 77, pattern(32, 5)[8]])

    await peer.ch.send({ op: 'alloc', byte: 42, len: 100 })
    const a = await peer.ch.receive()
    t.is(a.fds.length, 1)
    const theirs = a.fds[0]
    t.true(theirs instanceof DmaBuf)
    if (theirs instanceof DmaBuf) {
      t.is(theirs.info().exporter, 'udmabuf')
      t.deepEqual(Array.from(theirs.read(99, 2)), [42, 0])
    }
    closeAll(a)
    peer.ch.close()
    t.is(await peer.exited, 0)
  })
})

vgemTest('a fence sent along really orders the two sides: the consumer waits until the vgem fence is signalled', async (t) => {
  using dev = openVgem()
  using f = fencedVgem(dev)
  const peer = nodePeer(`
    const m = await ch.receive();
    const [buf, fence] = m.fds;
    await ch.send({ state: 'waiting', signaled: fence.isSignaled() });
    const t0 = Date.now();
    await fence.wait();
    const a = buf.beginCpuAccess('r'); const first = buf.read(0, 4); a.end();
    await ch.send({ state: 'done', after: Date.now() - t0, first: Array.from(first) });
    buf.close(); fence.close(); ch.close();`)
  using fence = f.buf.exportSyncFile('r')
  t.false(fence.isSignaled())
  await peer.ch.send({ frame: 1 }, [f.buf, fence])
  t.deepEqual((await peer.ch.receive()).header, { state: 'waiting', signaled: false })
  // Nothing more may come while the fence is unsignalled.
  const ac = new AbortController()
  const early = peer.ch.receive({ signal: ac.signal })
  const timer = setTimeout(() => ac.abort(), 400)
  const e = await t.throwsAsync(early)
  clearTimeout(timer)
  t.is((e as NodeJS.ErrnoException).code, 'ABORT_ERR', 'the consumer went on before the fence was signalled')
  f.signal()
  const done = await peer.ch.receive<{ state: string; after: number }>()
  t.is(done.header.state, 'done')
  t.true(done.header.after >= 300, `the consumer waited ${done.header.after} ms`)
  t.is(await peer.exited, 0)
  peer.ch.close()
})

deviceTest('10,000 messages with a dma-buf and a sync_file leak no fd on either side (Node and Rust peers)', async (t) => {
  t.timeout(10 * 60_000)
  using buf = createUdmabuf(PAGE)
  using sf = buf.exportSyncFile('r')
  for (const who of ['node', 'rust'] as const) {
    const before = openFds()
    const peer =
      who === 'rust'
        ? rust()
        : nodePeer(`
      const start = fds();
      for (;;) {
        let m; try { m = await ch.receive() } catch (e) { if (e.code === 'EPIPE') break; throw e }
        if (m.header.op === 'fds') { await ch.send({ fds: fds(), start }); continue }
        await ch.send(m.header, m.fds); for (const f of m.fds) f.close();
      }`)
    await peer.ch.send({ op: 'fds' })
    const first = (await peer.ch.receive<{ fds: number }>()).header.fds
    for (let i = 0; i < 10_000; i++) {
      await peer.ch.send({ op: 'echo', i }, [buf, sf])
      const m = await peer.ch.receive<{ i: number }>()
      if (m.header.i !== i || m.fds.length !== 2 || !(m.fds[0] instanceof DmaBuf) || !(m.fds[1] instanceof SyncFile)) {
        closeAll(m)
        t.fail(`${who}: message ${i} came back wrong`)
        break
      }
      closeAll(m)
    }
    await peer.ch.send({ op: 'fds' })
    const last = (await peer.ch.receive<{ fds: number }>()).header.fds
    t.is(last, first, `${who} peer: open fds before and after 10,000 messages`)
    peer.ch.close()
    t.is(await peer.exited, 0)
    t.is(openFds(), before, `${who}: this side's open fds`)
  }
})

deviceTest('MSG_CTRUNC: a receiver allowing fewer fds than were sent gets ETOOMANYREFS, the fds are closed and the channel goes on', async (t) => {
  for (const type of ['seqpacket', 'stream'] as const) {
    await noLeak(t, async () => {
      const [a, b] = Channel.pair(type)
      using buf = createUdmabuf(PAGE)
      await a.send({ n: 3 }, [buf, buf, buf])
      await a.send({ n: 0 })
      const e = (await t.throwsAsync(b.receive({ maxFds: 1 }))) as NodeJS.ErrnoException
      t.is(e.code, 'ETOOMANYREFS', e.message)
      t.regex(e.message, /were closed/)
      t.deepEqual((await b.receive({ maxFds: 1 })).header, { n: 0 })
      a.close()
      b.close()
    })
  }
})

deviceTest('a peer killed in the middle of a message gives ECONNRESET, a closed channel EPIPE; nothing leaks', async (t) => {
  await noLeak(t, async () => {
    // The child writes a message's length prefix and part of its header on the stream, then dies.
    const peer = nodePeer(`fs.writeSync(ch.fd, Buffer.from([100, 0, 0, 0, 123, 34])); process.kill(process.pid, 'SIGKILL')`, 'stream')
    await peer.exited
    const e = (await t.throwsAsync(peer.ch.receive())) as NodeJS.ErrnoException
    t.is(e.code, 'ECONNRESET', e.message)
    t.regex(e.message, /middle of a message/)
    peer.ch.close()

    const [a, b] = Channel.pair()
    using buf = createUdmabuf(PAGE)
    await a.send({ last: true }, [buf])
    a.close()
    const m = await b.receive()
    t.deepEqual(m.header, { last: true })
    closeAll(m)
    const closed = (await t.throwsAsync(b.receive())) as NodeJS.ErrnoException
    t.is(closed.code, 'EPIPE')
    const [c, dd] = Channel.pair('stream')
    dd.close()
    const sendErr = (await t.throwsAsync(c.send({ x: 1 }, [buf]))) as NodeJS.ErrnoException
    t.is(sendErr.code, 'EPIPE')
    c.close()
    b.close()
  })
})

deviceTest('a receive pending when the channel is closed rejects ERR_DMABUF_CLOSED; a listener passes fds too', async (t) => {
  await noLeak(t, async () => {
    const [a, b] = Channel.pair()
    const p = b.receive()
    b.close()
    t.is(((await t.throwsAsync(p)) as NodeJS.ErrnoException).code, 'ERR_DMABUF_CLOSED')
    a.close()

    const dir = mkdtempSync(join(tmpdir(), 'dmabuf-fdpass-'))
    try {
      const l = Channel.listen(join(dir, 's.sock'), { type: 'stream' })
      const accepted = l.accept()
      const c = Channel.connect(join(dir, 's.sock'), { type: 'stream' })
      const s = await accepted
      using buf = createUdmabuf(PAGE)
      buf.write(0, pattern(8, 9))
      await c.send('over a path', [buf])
      const m = await s.receive()
      t.is(m.header, 'over a path')
      t.deepEqual(Array.from((m.fds[0] as DmaBuf).read(0, 8)), Array.from(pattern(8, 9)))
      closeAll(m)
      for (const x of [c, s, l]) x.close()
      t.false(existsSync(join(dir, 's.sock')), 'the listener removed its socket file')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

deviceTest('DmaBuf.fromProcess takes a dma-buf out of a child through pidfd_getfd: the same buffer', async (t) => {
  await noLeak(t, async () => {
    const peer = nodePeer(`
      const buf = d.createUdmabuf(4096); buf.setName('from-child'); buf.write(0, Buffer.from('child bytes'));
      await ch.send({ fd: buf.fd, inode: buf.info().inode });
      try { await ch.receive() } catch {}
      buf.close();`)
    const { fd, inode } = (await peer.ch.receive<{ fd: number; inode: number }>()).header
    using buf = DmaBuf.fromProcess(peer.child.pid!, fd)
    t.is(buf.info().inode, inode)
    t.is(buf.info().name, 'from-child')
    t.is(Buffer.from(buf.read(0, 11)).toString(), 'child bytes')
    const e = t.throws(() => fdFromProcess(peer.child.pid!, 999)) as NodeJS.ErrnoException
    t.is(e.code, 'EBADF')
    peer.ch.close()
    t.is(await peer.exited, 0)
  })
})

deviceTest('pidfd_getfd as an unprivileged user on a root process is EPERM with the ptrace rule in the message', (t) => {
  // A copy of the package that nobody may read (the checkout may not be).
  const dir = mkdtempSync(join(tmpdir(), 'dmabuf-nobody-'))
  try {
    chmodSync(dir, 0o755)
    for (const f of readdirSync(root).filter((f) => /^(index|main|native)\.js$|\.node$|^package\.json$/.test(f))) {
      copyFileSync(join(root, f), join(dir, f))
      chmodSync(join(dir, f), 0o644)
    }
    // The modules index.js requires (compiled from lib/api and lib/internal).
    for (const d of ['api', 'internal']) {
      cpSync(join(root, d), join(dir, d), { recursive: true })
      chmodSync(join(dir, d), 0o755)
      for (const e of readdirSync(join(dir, d), { recursive: true, withFileTypes: true })) chmodSync(join(e.parentPath, e.name), e.isDirectory() ? 0o755 : 0o644)
    }
    const script = `const d = require(${JSON.stringify(dir)});
      try { d.DmaBuf.fromProcess(${process.pid}, 0); console.log('{}') }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, syscall: e.syscall })) }`
    const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: dir, encoding: 'utf8' })
    t.is(r.status, 0, r.stderr)
    const err = JSON.parse(r.stdout) as { code?: string; message?: string; syscall?: string }
    t.is(err.code, 'EPERM')
    t.is(err.syscall, 'pidfd_getfd')
    t.regex(err.message ?? '', /ptrace/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
