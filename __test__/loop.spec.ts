// Waits on Node's own event loop (issue 18): `require` starts nothing; a
// pending wait keeps the process alive and an idle library does not; a
// loop over work that is always ready leaves timers and other waits their
// turn (a Channel backlog here and on the host, a vivid capture loop in the
// VM); close() and streamOff() end a dequeue that has no timeout; a worker
// that ends with an accept or a receive pending leaves nothing behind that
// touches the live side.
//
// Timing assertions compare against the time of one item measured in the
// same test, with wide margins, and count items where they can: the VM
// tier runs them on two busy cores under qemu TCG.

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Worker } from 'node:worker_threads'

import test, { type ExecutionContext } from 'ava'
import { Channel, Udmabuf, V4l2Device } from 'dmabuf'

import { deviceTest, inVm, since } from './helpers.js'

const root = resolve(__dirname, '..', '..')

type Body = (t: ExecutionContext) => void | Promise<void>
const hasVivid = (): boolean => existsSync('/dev/video0') && V4l2Device.list().some((n) => n.name === 'vivid-000-vid-cap')
const vividTest = (title: string, body: Body): void => (inVm || hasVivid() ? test.serial : test.serial.skip)(title, body)

/** Runs JavaScript for `ms` without yielding: one item's work. */
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}

/**
 * Runs `node -e code` (with `d` = the package); resolves its exit code,
 * output and run time. It is killed after 20 s, or `killAfterOutputMs`
 * after its first output (so a slow start on a busy machine does not count).
 */
function child(code: string, killAfterOutputMs?: number): Promise<{ code: number | null; out: string; ms: number }> {
  const script = `const d = require(${JSON.stringify(root)}); ${code}`
  const start = performance.now()
  const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  let kill = setTimeout(() => c.kill('SIGKILL'), 20_000)
  c.stdout.setEncoding('utf8').on('data', (s: string) => {
    if (out === '' && killAfterOutputMs !== undefined) {
      clearTimeout(kill)
      kill = setTimeout(() => c.kill('SIGKILL'), killAfterOutputMs)
    }
    out += s
  })
  return new Promise((ok) =>
    c.on('exit', (code) => {
      clearTimeout(kill)
      ok({ code, out, ms: since(start) })
    }),
  )
}

/** `p`, or a rejection naming `what` after `ms` (so a hang fails the test instead of timing it out). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, no) => (timer = setTimeout(() => no(new Error(`${what} did not settle within ${ms} ms`)), ms)))
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

test('require adds no thread and no fd (a fresh process)', async (t) => {
  const script = `const fs = require('fs');
    const count = () => [fs.readdirSync('/proc/self/task').length, fs.readdirSync('/proc/self/fd').length];
    const before = count(); require(${JSON.stringify(root)}); const after = count();
    console.log(JSON.stringify({ before, after }))`
  const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  c.stdout.setEncoding('utf8').on('data', (s: string) => (out += s))
  const code = await new Promise((ok) => c.on('exit', ok))
  t.is(code, 0)
  const { before, after } = JSON.parse(out) as { before: number[]; after: number[] }
  t.is(after[0], before[0], 'threads')
  t.is(after[1], before[1], 'fds')
})

test('an idle library keeps no process alive; a pending receive does, until it settles', async (t) => {
  // Used, then idle with its channel still open: the process ends by itself.
  const idle = await child(`(async () => { const [a, b] = d.Channel.pair(); await a.send({ n: 1 }); await b.receive(); console.log('idle') })()`)
  t.is(idle.code, 0)
  t.is(idle.out.trim(), 'idle')
  // The only thing left on the loop is an unref'd timer: without the pending
  // receive keeping the process alive it would exit before the timer fires.
  const pending = await child(`const [a, b] = d.Channel.pair();
    b.receive().then((m) => console.log('got', m.header.n));
    setTimeout(() => a.send({ n: 7 }), 300).unref();`)
  t.is(pending.code, 0)
  t.is(pending.out.trim(), 'got 7', 'the receive kept the process alive until the message came')
  t.true(pending.ms >= 300, `exited after ${pending.ms} ms`)
  // A receive that never completes keeps it alive until killed.
  const forever = await child(`const [a, b] = d.Channel.pair(); b.receive(); console.log('waiting')`, 1500)
  t.is(forever.code, null, 'still running when killed')
  t.is(forever.out.trim(), 'waiting')
})

/**
 * Receives `n` messages already waiting on `rx`, doing `itemMs` of work
 * per item. Each probe starts just before item `from` (a timer, a fence
 * wait); the result says how many items were done between its start and
 * when it came, and how long that took.
 */
async function backlog(rx: Channel, n: number, itemMs: number, probes: Record<string, [from: number, run: () => Promise<unknown>]>): Promise<{ at: Record<string, { items: number; ms: number; value: unknown }>; itemMs: number }> {
  let done = 0
  const at: Record<string, { items: number; ms: number; value: unknown }> = {}
  const all: Promise<void>[] = []
  let worst = 0
  for (let i = 0; i < n; i++) {
    for (const [name, [from, run]] of Object.entries(probes)) {
      if (from !== i) continue
      const start = performance.now()
      const first = done
      all.push(
        run().then((value) => {
          at[name] = { items: done - first, ms: since(start), value }
        }),
      )
    }
    const m = await rx.receive<{ i: number }>()
    if (m.header.i !== i) throw new Error(`message ${m.header.i} came as number ${i}`)
    const s = performance.now()
    busy(itemMs)
    worst = Math.max(worst, since(s))
    done++
  }
  await Promise.all(all)
  return { at, itemMs: worst }
}

/**
 * `n` small messages on their way on a new pair: as many as the socket
 * holds are waiting (about 200), the rest follow as room is made.
 */
function queued(n: number): [Channel, Channel, Promise<unknown>] {
  const [tx, rx] = Channel.pair()
  const sent = Promise.all(Array.from({ length: n }, (_, i) => tx.send({ i })))
  return [tx, rx, sent]
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms))

test.serial('a Channel backlog of 300 messages leaves a setTimeout its turn', async (t) => {
  const [tx, rx, sent] = queued(300)
  const r = await backlog(rx, 300, 5, { first: [0, () => sleep(10)], later: [20, () => sleep(10)] })
  for (const k of ['first', 'later']) t.log(`${k}: setTimeout(10) fired after ${r.at[k].ms.toFixed(1)} ms, ${r.at[k].items} items of up to ${r.itemMs.toFixed(1)} ms`)
  // Starved, a timer fires after all the items left (1.5 s of work). Fair:
  // after the item running at 10 ms, give or take one more on a busy machine.
  for (const k of ['first', 'later']) {
    t.true(r.at[k].items <= 2 + Math.ceil(10 / 5), `${k}: the timer fired after ${r.at[k].items} items`)
    t.true(r.at[k].ms <= 10 + 3 * r.itemMs + 200, `${k}: the timer fired after ${r.at[k].ms} ms`)
  }
  await sent
  tx.close()
  rx.close()
})

deviceTest('a Channel backlog leaves a fence wait its turn: wait(1000) on a signalled fence settles true within an item', async (t) => {
  using u = Udmabuf.open()
  using buf = u.alloc(4096)
  // A dma-buf with no fences exports a sync_file that is already signalled.
  using sf = buf.exportSyncFile('rw')
  const [tx, rx, sent] = queued(300)
  // Started at item 20, past the fast path's budget: the wait goes through
  // the event loop and must come back before the backlog is done.
  const r = await backlog(rx, 300, 5, { wait: [20, () => sf.wait(1000)], timer: [40, () => sleep(10)] })
  t.log(`wait(1000) settled after ${r.at.wait.ms.toFixed(1)} ms (${r.at.wait.items} items), setTimeout(10) after ${r.at.timer.ms.toFixed(1)} ms (${r.at.timer.items} items); items up to ${r.itemMs.toFixed(1)} ms`)
  t.is(r.at.wait.value, true)
  t.true(r.at.wait.items <= 2, `the fence wait settled after ${r.at.wait.items} items`)
  t.true(r.at.timer.items <= 4, `the timer fired after ${r.at.timer.items} items`)
  await sent
  tx.close()
  rx.close()
})

/** A worker running `code` (with `d` = the package, `port` = parentPort); resolves once it posts 'ready'. */
async function worker(code: string): Promise<Worker> {
  const w = new Worker(`const d = require(${JSON.stringify(root)}); const port = require('worker_threads').parentPort; ${code}`, { eval: true })
  await within(
    new Promise<void>((ok, no) => {
      w.once('error', no)
      w.on('message', (m) => m === 'ready' && ok())
    }),
    20_000,
    'the worker',
  )
  return w
}

test.serial('a worker that ends with an accept pending leaves the address free: listening again works and accepts the next client', async (t) => {
  const address = join(mkdtempSync(join(tmpdir(), 'dmabuf-loop-')), 'sock')
  for (let round = 0; round < 3; round++) {
    const w = await worker(`const l = d.Channel.listen(${JSON.stringify(address)});
      l.accept().then(() => port.postMessage('accepted'));
      port.postMessage('ready')`)
    let accepted = false
    w.on('message', (m) => (accepted ||= m === 'accepted'))
    await w.terminate()
    // EADDRINUSE while the dead worker's accept lived on.
    using l = Channel.listen(address)
    using c = Channel.connect(address)
    using s = await within(l.accept(), 10_000, 'accept')
    await c.send({ round })
    t.deepEqual((await within(s.receive(), 10_000, 'receive')).header, { round })
    t.false(accepted, 'the dead worker accepted nothing')
  }
})

test.serial('a worker that ends with a receive pending on a shared socket takes no message from the live side', async (t) => {
  let received = 0
  for (let round = 0; round < 5; round++) {
    const [a, b] = Channel.pair()
    // The worker shares the process's fd table: it receives on the same socket.
    const w = await worker(`const ch = d.Channel.fromFd(${b.fd});
      ch.receive().then((m) => port.postMessage(['stolen', m.header]), () => {});
      port.postMessage('ready')`)
    await w.terminate()
    for (let i = 0; i < 10; i++) await a.send({ round, i })
    for (let i = 0; i < 10; i++) {
      t.deepEqual((await within(b.receive(), 10_000, `message ${i} of round ${round}`)).header, { round, i })
      received++
    }
    a.close()
    b.close()
  }
  t.is(received, 50, 'every message came to the live side')
})

/** The vivid node whose sysfs name is `name`, opened. */
function vivid(name: string): V4l2Device {
  const n = V4l2Device.list().find((x) => x.name === name)
  if (!n) throw new Error(`this test needs the vivid node ${name} (VM tier: npm test)`)
  return V4l2Device.open(n.path)
}

vividTest('a vivid capture loop with frames always ready leaves a setTimeout and a fence wait their turn', async (t) => {
  using dev = vivid('vivid-000-vid-cap')
  dev.setInput(0)
  dev.setFormat({ width: 320, height: 180, pixelformat: 'YUYV' }, true)
  t.deepEqual(dev.setFrameInterval(1, 60), [1, 60])
  using u = Udmabuf.open()
  using buf = u.alloc(4096)
  using sf = buf.exportSyncFile('rw') // signalled: the buffer has no fences
  const n = dev.requestBuffers(4)
  for (let i = 0; i < n; i++) dev.queue(i)
  dev.streamOn()
  const itemMs = 40 // vivid makes a frame each 16.7 ms: the next one is always waiting
  const frames = 40
  let done = 0
  let worst = 0
  const at: Record<string, { items: number; ms: number; value: unknown }> = {}
  const probes: Promise<void>[] = []
  const probe = (name: string, run: () => Promise<unknown>): void => {
    const start = performance.now()
    const first = done
    probes.push(run().then((value) => void (at[name] = { items: done - first, ms: since(start), value })))
  }
  for (let i = 0; i < frames; i++) {
    if (i === 5) probe('timer', () => sleep(50))
    if (i === 15) probe('wait', () => sf.wait(1000))
    if (i === 25) probe('timer0', () => sleep(0))
    const b = await dev.dequeue(20_000)
    if (b === null) throw new Error('no frame within 20 s')
    const s = performance.now()
    busy(itemMs)
    worst = Math.max(worst, since(s))
    dev.queue(b.index)
    done++
  }
  await Promise.all(probes)
  dev.streamOff()
  dev.requestBuffers(0)
  for (const [k, v] of Object.entries(at)) t.log(`${k}: after ${v.ms.toFixed(1)} ms, ${v.items} frames of up to ${worst.toFixed(1)} ms`)
  // Starved (before issue 18), setTimeout(50) fired after 7 s of frames.
  t.true(at.timer.items <= Math.ceil(50 / itemMs) + 2, `setTimeout(50) fired after ${at.timer.items} frames`)
  t.true(at.timer.ms <= 50 + 3 * worst + 200, `setTimeout(50) fired after ${at.timer.ms} ms`)
  t.is(at.wait.value, true)
  t.true(at.wait.items <= 2, `wait(1000) on a signalled fence settled after ${at.wait.items} frames`)
  t.true(at.timer0.items <= 2, `setTimeout(0) fired after ${at.timer0.items} frames`)
})

vividTest('close() and streamOff() end a dequeue that has no timeout', async (t) => {
  for (const how of ['streamOff', 'close', 'queue close'] as const) {
    const dev = vivid('vivid-000-vid-cap')
    dev.setInput(0)
    dev.setFormat({ width: 320, height: 180, pixelformat: 'YUYV' }, true)
    let pending: Promise<unknown>
    let end: () => void
    let q: ReturnType<V4l2Device['dmabufQueue']> | undefined
    const u = Udmabuf.open()
    const bufs = [u.alloc(320 * 180 * 2 + 4096 - ((320 * 180 * 2) % 4096))]
    if (how === 'queue close') {
      q = dev.dmabufQueue(1)
      q.queue(bufs)
      q.streamOn()
      t.truthy(await q.dequeue(20_000))
      // Streaming with nothing queued: a dequeue waits for ever.
      pending = q.dequeue()
      end = () => q!.close()
    } else {
      dev.requestBuffers(1)
      dev.queue(0)
      dev.streamOn()
      t.truthy(await dev.dequeue(20_000))
      pending = dev.dequeue()
      end = how === 'close' ? () => dev.close() : () => dev.streamOff()
    }
    let settled = false
    const outcome = pending.then(
      (v) => ({ v, e: undefined }),
      (e: NodeJS.ErrnoException) => ({ v: undefined, e }),
    )
    void outcome.then(() => (settled = true))
    await sleep(200)
    t.false(settled, `${how}: the dequeue waits while nothing is queued`)
    end()
    const r = await within(outcome, 10_000, `${how}: the dequeue`)
    t.log(`${how}: ${r.e ? `rejected ${r.e.code}` : `resolved ${JSON.stringify(r.v)}`}`)
    if (how === 'streamOff') t.truthy(r.e, 'after STREAMOFF the queue reports an error, which the dequeue names')
    else t.is(r.e?.code, 'ERR_DMABUF_CLOSED', `${how}: the dequeue rejects as closed`)
    q?.close()
    dev.close()
    for (const b of bufs) b.close()
    u.close()
  }
})
