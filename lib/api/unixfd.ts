// GStreamer's unixfd protocol (crates/dmabuf/src/unixfd/, binding
// crates/dmabuf-node/src/unixfd.rs): UnixFdSrc (the role of unixfdsrc),
// UnixFdSink and UnixFdSinkConnection (the role of unixfdsink), and the
// buffers that cross. A connection is a Channel handle in unixfd framing;
// its sends are queued in call order and never block the JavaScript
// thread (one try, then a wait on the event loop).

import { fstatSync, readSync } from 'node:fs'

import { abortError, closedError, illegalConstructor, invalidThis, invalidType, invalidValue, nodeError, osError, outOfRange } from '../internal/errors'
import { Out } from '../internal/generated/slots'
import { closeHandle, closeOnce, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { PassedKind } from '../internal/pidfd'
import { str, U32, uint } from '../internal/validators'
import type * as Native from '../native'
import { PassedFd, address, cancellable, signalOf } from './channel'
import { DmaBuf, Mapping } from './dma-buf'
import { Frame, frameBuffers } from './frame'
import { SyncFile } from './sync-file'
import { capsLayout, parseCaps } from './unixfd-caps'

export { type Caps, type CapsValue, type CapsLayout, parseCaps, printCaps, capsForFrame, capsLayout, gstFormatFourcc, gstFormatName } from './unixfd-caps'

const A = args

/** Nanoseconds; null is GStreamer's GST_CLOCK_TIME_NONE. */
export type ClockTime = bigint | null

/** What a sender may give about a buffer (all optional: none by default, flags 0). */
export interface UnixFdBufferInfo {
  pts?: ClockTime
  dts?: ClockTime
  duration?: ClockTime
  offset?: bigint | null
  offsetEnd?: bigint | null
  flags?: number
}

/** One memory of a received buffer: `size` bytes at `offset` of a dma-buf or of another fd (a memfd). */
export interface UnixFdMemory {
  readonly kind: 'dma-buf' | 'fd'
  readonly dmaBuf: DmaBuf | null
  readonly fd: PassedFd | null
  readonly offset: number
  readonly size: number
}

const U64_MAX = 2n ** 64n - 1n

/**
 * One unixfd connection: the Channel handle (owned here, so the garbage
 * collector closes it only once neither the class using it nor a buffer
 * still to release holds it), and its sends in call order.
 */
class Conn {
  h: number
  readonly fd: number
  readonly pending = new Set<number>()
  #tail: Promise<unknown> = Promise.resolve()
  #sending = 0

  constructor(h: number, fd: number) {
    this.h = h
    this.fd = fd
    own(this, h)
  }

  get closed(): boolean {
    return this.h < 0
  }

  /**
   * Sends an encoded command with the fds of `objs` (read when it goes: a
   * send queued behind others looks them up then). Now when nothing is
   * queued and the socket has room, else on the event loop.
   */
  send(M: string, what: string, bytes: Uint8Array, objs: readonly (DmaBuf | PassedFd)[], release: boolean, signal?: AbortSignal): Promise<void> {
    const handlesOf = (): Float64Array => {
      const hs = new Float64Array(objs.length)
      for (let i = 0; i < objs.length; i++) {
        const o = objs[i]
        hs[i] = o instanceof DmaBuf ? DmaBuf.handleOf(o, M, 'memories', i) : PassedFd.handleOf(o)
      }
      return hs
    }
    const go = async (h: number, hs: Float64Array, went: number): Promise<void> => {
      if (went === 2) await cancellable(M, this.pending, signal, () => this.closed, (id) => native.chanFlush(h, id), what)
      else if (went === 0) await cancellable(M, this.pending, signal, () => this.closed, (id) => native.unixfdSend(h, bytes, hs, release, id), what)
    }
    if (this.#sending === 0) {
      let went: number
      let hs: Float64Array
      try {
        const h = live(this.h, M, what)
        if (signal?.aborted) throw abortError(M, signal)
        hs = handlesOf()
        went = native.unixfdTrySend(h, bytes, hs, release)
      } catch (e) {
        return Promise.reject(e as Error)
      }
      if (went === 1) return Promise.resolve()
      return this.#queue(() => go(this.h, hs, went))
    }
    return this.#queue(async () => {
      const h = live(this.h, M, what)
      if (signal?.aborted) throw abortError(M, signal)
      const hs = handlesOf()
      await go(h, hs, native.unixfdTrySend(h, bytes, hs, release))
    })
  }

  #queue(run: () => Promise<void>): Promise<void> {
    this.#sending++
    const p = this.#tail.then(run).finally(() => {
      this.#sending--
    })
    this.#tail = p.catch(() => undefined)
    return p
  }

  /** Cancels every pending wait and closes the socket. */
  close(): void {
    if (this.h >= 0) native.chanUnlinger(this.h)
    this.h = closeOnce(this, this.h)
    for (const id of this.pending) native.chanCancel(id)
  }
}

/** Sends RELEASE_BUFFER `id` unless the connection is closed; a sink that has gone makes it a no-op. */
function sendRelease(conn: Conn, id: bigint): void {
  if (conn.closed) return
  let bytes: Buffer
  try {
    bytes = native.unixfdRelease(id)
  } catch {
    return
  }
  conn.send('UnixFdBuffer.release', 'UnixFdSrc', bytes, [], true).catch(() => undefined)
}

/** The backstop: a buffer collected unreleased is released (its fds close through their own backstops). */
const releaseRegistry = new FinalizationRegistry<{ conn: Conn; id: bigint }>(({ conn, id }) => {
  sendRelease(conn, id)
})

const big = (v: bigint | undefined | null): bigint | null => (v === undefined || v === null ? null : v)

/**
 * A buffer received from a unixfdsink: its timestamps, flags and memories
 * (each a dma-buf or a memfd, owned by this object). release() (or
 * `using`) closes them and tells the sink, exactly once; a buffer collected
 * unreleased is released by the garbage collector, eventually.
 */
export class UnixFdBuffer implements Disposable {
  readonly id: bigint
  readonly pts: ClockTime
  readonly dts: ClockTime
  readonly duration: ClockTime
  readonly offset: bigint | null
  readonly offsetEnd: bigint | null
  readonly flags: number
  readonly memories: readonly UnixFdMemory[]
  /** The caps in force when it arrived. */
  readonly caps: string
  #conn: Conn | null
  #maps: (Mapping | undefined)[] = []

  static #is(x: unknown): x is UnixFdBuffer {
    return typeof x === 'object' && x !== null && #conn in x
  }

  /** @internal */
  constructor(key: symbol, conn: Conn, c: Native.UnixFdCommand, caps: string, memories: UnixFdMemory[]) {
    if (key !== token) throw illegalConstructor('UnixFdBuffer')
    this.id = c.id!
    this.pts = big(c.pts)
    this.dts = big(c.dts)
    this.duration = big(c.duration)
    this.offset = big(c.offset)
    this.offsetEnd = big(c.offsetEnd)
    this.flags = c.flags
    this.memories = Object.freeze(memories)
    this.caps = caps
    this.#conn = conn
    releaseRegistry.register(this, { conn, id: this.id }, this)
  }

  /** Whether release() was called. */
  get released(): boolean {
    if (!UnixFdBuffer.#is(this)) throw invalidThis('UnixFdBuffer.released', 'UnixFdBuffer')
    return this.#conn === null
  }

  static #open(self: unknown, M: string): UnixFdBuffer {
    if (!UnixFdBuffer.#is(self)) throw invalidThis(M, 'UnixFdBuffer')
    if (self.#conn === null) throw closedError(M, 'UnixFdBuffer (released)')
    return self
  }

  /**
   * A copy of the buffer's content, its memories one after the other
   * (dma-bufs read under CPU read access, other fds with pread).
   */
  bytes(): Uint8Array {
    const self = UnixFdBuffer.#open(this, 'UnixFdBuffer.bytes')
    const total = self.memories.reduce((n, m) => n + m.size, 0)
    const out = new Uint8Array(total)
    let at = 0
    for (const m of self.memories) {
      if (m.dmaBuf !== null) {
        out.set(m.dmaBuf.read(m.offset, m.size), at)
      } else {
        let done = 0
        while (done < m.size) {
          const n = readSync(m.fd!.fd, out, at + done, m.size - done, m.offset + done)
          if (n === 0) throw nodeError(Error, 'ERR_DMABUF_SHORT_READ', `UnixFdBuffer.bytes: fd ${m.fd!.fd} ends ${m.size - done} bytes before the memory's end (offset ${m.offset}, size ${m.size})`)
          done += n
        }
      }
      at += m.size
    }
    return out
  }

  /**
   * The memory at `index` (default 0) with no copy, when it is a memfd
   * sealed against shrinking (`F_SEAL_SHRINK`, as GStreamer's shm allocator
   * seals its memfds): a Uint8Array of its `size` bytes (fcntl F_GET_SEALS,
   * fstat, mmap MAP_PRIVATE). It shows what the sender wrote; writes to it
   * stay in this process (copy-on-write). Mapped once per memory: later
   * calls view the same mapping. release() unmaps it, and every view of it
   * then reads as empty. EINVAL for any other fd (a memfd without the seal
   * could be truncated under the mapping, which would raise SIGBUS): read
   * those with bytes(); ERR_INVALID_STATE for a dma-buf memory (map its
   * `dmaBuf` inside beginCpuAccess).
   */
  map(index?: number): Uint8Array {
    const M = 'UnixFdBuffer.map'
    const self = UnixFdBuffer.#open(this, M)
    const i = index === undefined ? 0 : uint(M, 'index', index, U32)
    if (i >= self.memories.length) throw outOfRange(M, 'index', `< ${self.memories.length} (the buffer's memories)`, i)
    const m = self.memories[i]
    if (m.fd === null) throw nodeError(Error, 'ERR_INVALID_STATE', `${M}: memory ${i} is a dma-buf: map its dmaBuf inside beginCpuAccess() instead`)
    if (m.fd.fd < 0) throw closedError(M, `PassedFd of memory ${i}`)
    let map = self.#maps[i]
    if (map === undefined) {
      map = new Mapping(token, native.unixfdMapMemory(PassedFd.handleOf(m.fd), m.offset, m.size))
      self.#maps[i] = map
    }
    return new Uint8Array(map.buffer, m.offset - map.offset, m.size)
  }

  /**
   * A Frame over the memories, laid out as the caps say (capsLayout:
   * GStreamer's default strides; all planes in one memory, or spread over
   * several, as GStreamer counts offsets across them). The Frame holds
   * duplicates of the dma-bufs: close it on its own; release() does not.
   * ERR_INVALID_STATE for caps that are not raw video it can lay out,
   * memories that are not dma-bufs, or too few bytes.
   */
  frame(): Frame {
    const M = 'UnixFdBuffer.frame'
    const self = UnixFdBuffer.#open(this, M)
    const l = capsLayout(self.caps, M)
    const mems = self.memories
    if (mems.some((m) => m.dmaBuf === null)) throw nodeError(Error, 'ERR_INVALID_STATE', `${M}: the memories are not dma-bufs (a Frame is made of dma-bufs; read them with bytes())`)
    const total = mems.reduce((n, m) => n + m.size, 0)
    if (total < l.size) throw nodeError(Error, 'ERR_INVALID_STATE', `${M}: the buffer has ${total} bytes; its caps need ${l.size}`)
    const dups = new Map<number, DmaBuf>()
    try {
      const planes = l.planes.map((p) => {
        let start = 0
        let k = 0
        while (k < mems.length - 1 && p.offset >= start + mems[k].size) start += mems[k++].size
        let buf = dups.get(k)
        if (buf === undefined) {
          buf = mems[k].dmaBuf!.dup()
          dups.set(k, buf)
        }
        return { buf, offset: mems[k].offset + p.offset - start, pitch: p.pitch }
      })
      return new Frame({ width: l.width, height: l.height, fourcc: l.fourcc, modifier: l.modifier, planes })
    } catch (e) {
      for (const d of dups.values()) d.close()
      throw e
    }
  }

  /** Unmaps what map() mapped, closes every fd it holds and sends RELEASE_BUFFER, once; later calls do nothing. */
  release(): void {
    if (!UnixFdBuffer.#is(this)) throw invalidThis('UnixFdBuffer.release', 'UnixFdBuffer')
    const conn = this.#conn
    if (conn === null) return
    this.#conn = null
    releaseRegistry.unregister(this)
    for (const map of this.#maps) map?.unmap()
    for (const m of this.memories) {
      m.dmaBuf?.close()
      m.fd?.close()
    }
    sendRelease(conn, this.id)
  }

  /** The same as release(). */
  [Symbol.dispose](): void {
    this.release()
  }
}

/** The memories of a received NEW_BUFFER, wrapped; a sync_file among them is EPROTO (all closed). */
function memoriesOf(M: string, c: Native.UnixFdCommand): UnixFdMemory[] {
  const out: UnixFdMemory[] = []
  if (c.kinds.includes(PassedKind.SYNC_FILE)) {
    for (let i = 0; i < c.handles.length; i++) closeHandle(c.handles[i])
    throw osError('EPROTO', 71, 'recvmsg', `${M}: buffer ${c.id} came with a sync_file among its memories; its ${c.handles.length} fds were closed`)
  }
  for (let i = 0; i < c.handles.length; i++) {
    if (c.kinds[i] === PassedKind.DMA_BUF) {
      A[Out.FD] = c.fds[i]
      A[Out.BUF_SIZE] = c.bufSizes[i]
      out.push(Object.freeze({ kind: 'dma-buf' as const, dmaBuf: new DmaBuf(token, c.handles[i]), fd: null, offset: c.offsets[i], size: c.sizes[i] }))
    } else {
      out.push(Object.freeze({ kind: 'fd' as const, dmaBuf: null, fd: new PassedFd(token, c.handles[i], c.fds[i]), offset: c.offsets[i], size: c.sizes[i] }))
    }
  }
  return out
}

/** One command: at once when one is there (and nothing is queued before), else on the event loop. */
async function recvCommand(M: string, conn: Conn, signal: AbortSignal | undefined, what: string): Promise<Native.UnixFdCommand> {
  const h = live(conn.h, M, what)
  if (signal?.aborted) throw abortError(M, signal)
  return native.unixfdTryRecv(h) ?? (await cancellable(M, conn.pending, signal, () => conn.closed, (id) => native.unixfdRecv(h, id), what))
}

/**
 * The role of GStreamer's unixfdsrc: connects to a unixfdsink and reads
 * its buffers. CAPS commands update `caps`; read() gives the next buffer,
 * or null after EOS.
 */
export class UnixFdSrc {
  #conn: Conn
  #caps: string | null = null
  #ended = false
  #tail: Promise<unknown> = Promise.resolve()

  static #is(x: unknown): x is UnixFdSrc {
    return typeof x === 'object' && x !== null && #conn in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number) {
    if (key !== token) throw illegalConstructor('UnixFdSrc')
    this.#conn = new Conn(h, fd)
  }

  /** socket + connect to a unixfdsink at `address` (a path, or `@name` for an abstract socket). */
  static connect(address_: string): UnixFdSrc {
    const h = native.unixfdConnect(address('UnixFdSrc.connect', address_))
    return new UnixFdSrc(token, h, A[Out.FD])
  }

  /** The latest caps received, or null before any. */
  get caps(): string | null {
    if (!UnixFdSrc.#is(this)) throw invalidThis('UnixFdSrc.caps', 'UnixFdSrc')
    return this.#caps
  }

  /** Whether EOS arrived. */
  get ended(): boolean {
    if (!UnixFdSrc.#is(this)) throw invalidThis('UnixFdSrc.ended', 'UnixFdSrc')
    return this.#ended
  }

  /** The socket's fd number, or -1 once closed. */
  get fd(): number {
    if (!UnixFdSrc.#is(this)) throw invalidThis('UnixFdSrc.fd', 'UnixFdSrc')
    return this.#conn.closed ? -1 : this.#conn.fd
  }

  /** Whether close() was called. */
  get closed(): boolean {
    if (!UnixFdSrc.#is(this)) throw invalidThis('UnixFdSrc.closed', 'UnixFdSrc')
    return this.#conn.closed
  }

  /**
   * The next buffer, or null after EOS. Reads run in call order. Rejects
   * with EPIPE (the sink closed the connection) or ECONNRESET (it went in
   * the middle of a command), EPROTO (a command that is not one, or a
   * buffer whose fds do not match its memories: those fds are closed, and
   * the next read goes on), ERR_DMABUF_CLOSED after close().
   */
  read(options?: { signal?: AbortSignal }): Promise<UnixFdBuffer | null> {
    const M = 'UnixFdSrc.read'
    try {
      if (!UnixFdSrc.#is(this)) throw invalidThis(M, 'UnixFdSrc')
      const signal = signalOf(M, options)
      live(this.#conn.h, M, 'UnixFdSrc')
      const run = this.#tail.then(() => this.#next(M, signal))
      // The tail keeps the order, not the buffer (which the collector may then release).
      this.#tail = run.then(
        () => undefined,
        () => undefined,
      )
      return run
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }

  async #next(M: string, signal: AbortSignal | undefined): Promise<UnixFdBuffer | null> {
    for (;;) {
      if (this.#ended) return null
      const c = await recvCommand(M, this.#conn, signal, 'UnixFdSrc')
      switch (c.kind) {
        case 'caps':
          this.#caps = c.caps ?? ''
          break
        case 'eos':
          this.#ended = true
          return null
        case 'buffer': {
          let memories: UnixFdMemory[]
          try {
            memories = memoriesOf(M, c)
          } catch (e) {
            // Refused (its fds closed): the sink still gets the buffer back.
            sendRelease(this.#conn, c.id!)
            throw e
          }
          return new UnixFdBuffer(token, this.#conn, c, this.#caps ?? '', memories)
        }
        default:
          // RELEASE_BUFFER is the source's own command; unknown types are skipped, as unixfdsrc does.
          for (const h of c.handles) closeHandle(h)
      }
    }
  }

  /** Reads buffers until EOS. */
  async *[Symbol.asyncIterator](): AsyncIterator<UnixFdBuffer> {
    for (;;) {
      const b = await this.read()
      if (b === null) return
      yield b
    }
  }

  /** Closes the socket; a pending read rejects with ERR_DMABUF_CLOSED. Buffers already read stay valid; their release() sends nothing. Calling it again does nothing. */
  close(): void {
    if (!UnixFdSrc.#is(this)) throw invalidThis('UnixFdSrc.close', 'UnixFdSrc')
    this.#conn.close()
  }

  /** The same as close(). */
  [Symbol.dispose](): void {
    this.close()
  }
}

/**
 * The role of GStreamer's unixfdsink: listens where unixfdsrc elements
 * (or UnixFdSrc) connect; accept() gives each connection.
 */
export class UnixFdSink {
  #h: number
  #fd: number
  #address: string
  #caps: string
  #maxInFlight: number
  #pending = new Set<number>()

  static #is(x: unknown): x is UnixFdSink {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number, address_: string, caps: string, maxInFlight: number) {
    if (key !== token) throw illegalConstructor('UnixFdSink')
    this.#h = h
    this.#fd = fd
    this.#address = address_
    this.#caps = caps
    this.#maxInFlight = maxInFlight
    own(this, h)
  }

  /** socket + bind + listen at `address` (a path, removed on close, or `@name`). `caps` go first to each connection; `maxInFlight` (default 4) bounds the buffers a connection may hold unreleased. */
  static listen(address_: string, options: { caps: string; maxInFlight?: number }): UnixFdSink {
    const M = 'UnixFdSink.listen'
    const a = address(M, address_)
    if (typeof options !== 'object' || options === null) throw invalidType(M, 'options', 'of type object', options)
    const caps = str(M, 'options.caps', options.caps)
    if (caps.includes('\0')) throw invalidValue(M, 'options.caps', 'must not contain NUL bytes')
    checkCaps(M, 'options.caps', caps)
    const mif = options.maxInFlight === undefined ? 4 : uint(M, 'options.maxInFlight', options.maxInFlight, U32)
    if (mif < 1) throw outOfRange(M, 'options.maxInFlight', '>= 1', mif)
    const h = native.listenerBind(a, false)
    return new UnixFdSink(token, h, A[Out.FD], a, caps, mif)
  }

  /** The address it listens on. */
  get address(): string {
    if (!UnixFdSink.#is(this)) throw invalidThis('UnixFdSink.address', 'UnixFdSink')
    return this.#address
  }

  /** The caps each new connection gets first. */
  get caps(): string {
    if (!UnixFdSink.#is(this)) throw invalidThis('UnixFdSink.caps', 'UnixFdSink')
    return this.#caps
  }

  /** The listening socket's fd, or -1 once closed. */
  get fd(): number {
    if (!UnixFdSink.#is(this)) throw invalidThis('UnixFdSink.fd', 'UnixFdSink')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** Whether close() was called. */
  get closed(): boolean {
    if (!UnixFdSink.#is(this)) throw invalidThis('UnixFdSink.closed', 'UnixFdSink')
    return this.#h < 0
  }

  /** accept4: the next connection, its caps already sent. */
  async accept(options?: { signal?: AbortSignal }): Promise<UnixFdSinkConnection> {
    const M = 'UnixFdSink.accept'
    if (!UnixFdSink.#is(this)) throw invalidThis(M, 'UnixFdSink')
    const h = live(this.#h, M, 'UnixFdSink')
    const signal = signalOf(M, options)
    const r = await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native.unixfdAccept(h, id), 'UnixFdSink')
    const c = new UnixFdSinkConnection(token, new Conn(r[0], r[1]), this.#maxInFlight)
    try {
      await c.setCaps(this.#caps)
    } catch (e) {
      c.close()
      throw e
    }
    return c
  }

  /** Closes the socket (and removes its path); a pending accept rejects. Connections stay open. */
  close(): void {
    if (!UnixFdSink.#is(this)) throw invalidThis('UnixFdSink.close', 'UnixFdSink')
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.chanCancel(id)
  }

  /** The same as close(). */
  [Symbol.dispose](): void {
    this.close()
  }
}

type Memories = DmaBuf | Frame | readonly (DmaBuf | PassedFd)[]

/** One connected source: buffers go out, releases come back. */
export class UnixFdSinkConnection {
  #conn: Conn
  #max: number
  #nextId = 1n
  #inFlight = new Set<bigint>()
  #waiters = new Map<bigint, (() => void)[]>()
  #room: (() => void)[] = []
  #drained: (() => void)[] = []
  #pumping = false
  /** Why the source is gone (its error), once it is. */
  #gone: Error | null = null

  static #is(x: unknown): x is UnixFdSinkConnection {
    return typeof x === 'object' && x !== null && #conn in x
  }

  /** @internal */
  constructor(key: symbol, conn: Conn, maxInFlight: number) {
    if (key !== token) throw illegalConstructor('UnixFdSinkConnection')
    this.#conn = conn
    this.#max = maxInFlight
  }

  static #open(self: unknown, M: string): UnixFdSinkConnection {
    if (!UnixFdSinkConnection.#is(self)) throw invalidThis(M, 'UnixFdSinkConnection')
    live(self.#conn.h, M, 'UnixFdSinkConnection')
    if (self.#gone !== null) throw self.#goneError(M)
    return self
  }

  #goneError(M: string): Error {
    const g = this.#gone as (Error & { code?: string; errno?: number; syscall?: string }) | null
    const code = g?.code ?? 'EPIPE'
    const e = osError(code.startsWith('E') ? code : 'EPIPE', g?.errno !== undefined ? -g.errno : 32, g?.syscall ?? 'recvmsg', `${M}: the source has gone (${g?.message ?? 'it hung up'})`)
    return e
  }

  /** How many buffers the source holds unreleased. */
  get inFlight(): number {
    if (!UnixFdSinkConnection.#is(this)) throw invalidThis('UnixFdSinkConnection.inFlight', 'UnixFdSinkConnection')
    return this.#inFlight.size
  }

  /** Whether close() was called. */
  get closed(): boolean {
    if (!UnixFdSinkConnection.#is(this)) throw invalidThis('UnixFdSinkConnection.closed', 'UnixFdSinkConnection')
    return this.#conn.closed
  }

  /** The socket's fd, or -1 once closed. */
  get fd(): number {
    if (!UnixFdSinkConnection.#is(this)) throw invalidThis('UnixFdSinkConnection.fd', 'UnixFdSinkConnection')
    return this.#conn.closed ? -1 : this.#conn.fd
  }

  /** Sends CAPS: the caps of the buffers sent after it. */
  setCaps(caps: string): Promise<void> {
    const M = 'UnixFdSinkConnection.setCaps'
    try {
      const self = UnixFdSinkConnection.#open(this, M)
      const s = str(M, 'caps', caps)
      if (s.includes('\0')) throw invalidValue(M, 'caps', 'must not contain NUL bytes')
      checkCaps(M, 'caps', s)
      return self.#conn.send(M, 'UnixFdSinkConnection', native.unixfdCaps(s), [], false).catch((e: unknown) => {
        throw self.#failed(M, e)
      })
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }

  /** A send error: EPIPE/ECONNRESET mark the source gone (and free what it held). */
  #failed(M: string, e: unknown): unknown {
    const code = (e as { code?: string }).code
    if ((code === 'EPIPE' || code === 'ECONNRESET') && this.#gone === null) {
      this.#gone = e as Error
      this.#freeAll()
      return this.#goneError(M)
    }
    return e
  }

  /** Everything in flight counts as released: the source is gone or the connection closed. */
  #freeAll(): void {
    this.#inFlight.clear()
    for (const ws of this.#waiters.values()) for (const w of ws) w()
    this.#waiters.clear()
    for (const w of this.#room.splice(0)) w()
    for (const w of this.#drained.splice(0)) w()
  }

  /**
   * Sends a buffer: one DmaBuf, a Frame (one memory per distinct dma-buf
   * of its planes, in plane order), or a list of DmaBufs or of PassedFds
   * (memfds), each memory its whole object (a PassedFd's size from fstat).
   * Waits while maxInFlight buffers are unreleased. Resolves with the
   * buffer's id once sent; the kernel gives the source its own fds, the
   * caller keeps its objects (reuse them once released(id) resolves).
   */
  send(memories: Memories, info?: UnixFdBufferInfo & { signal?: AbortSignal }): Promise<bigint> {
    const M = 'UnixFdSinkConnection.send'
    try {
      const self = UnixFdSinkConnection.#open(this, M)
      const signal = signalOf(M, info)
      const objs = memoryList(M, memories)
      const dma = objs[0] instanceof DmaBuf
      const sizes = objs.map((o, i) => {
        if ((o instanceof DmaBuf) !== dma) throw invalidValue(M, 'memories', 'must be all DmaBufs or all PassedFds (one buffer has one memory type)')
        if (o instanceof DmaBuf) {
          DmaBuf.handleOf(o, M, 'memories', i)
          return o.size
        }
        PassedFd.handleOf(o)
        return fstatSync(o.fd).size
      })
      const fields = bufferInfo(M, info)
      return self.#send(M, objs, sizes, dma, fields, signal)
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }

  async #send(M: string, objs: (DmaBuf | PassedFd)[], sizes: number[], dma: boolean, fields: Omit<Native.UnixFdBufferOut, 'id' | 'memoryType' | 'sizes' | 'offsets'>, signal: AbortSignal | undefined): Promise<bigint> {
    while (this.#inFlight.size >= this.#max) {
      this.#pump()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const i = this.#room.indexOf(wake)
          if (i >= 0) this.#room.splice(i, 1)
          reject(abortError(M, signal!))
        }
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        if (signal?.aborted) {
          reject(abortError(M, signal))
          return
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        this.#room.push(wake)
      })
      live(this.#conn.h, M, 'UnixFdSinkConnection')
      if (this.#gone !== null) throw this.#goneError(M)
    }
    const id = this.#nextId++
    const bytes = native.unixfdBuffer({ ...fields, id, memoryType: dma ? 1 : 0, sizes, offsets: sizes.map(() => 0) })
    this.#inFlight.add(id)
    try {
      await this.#conn.send(M, 'UnixFdSinkConnection', bytes, objs, false, signal)
    } catch (e) {
      this.#inFlight.delete(id)
      this.#wake(id)
      throw this.#failed(M, e)
    }
    this.#pump()
    return id
  }

  /** Resolves once the source released buffer `id` (at once for an id not in flight), or the connection ended. */
  released(id: bigint): Promise<void> {
    const M = 'UnixFdSinkConnection.released'
    if (!UnixFdSinkConnection.#is(this)) return Promise.reject(invalidThis(M, 'UnixFdSinkConnection'))
    if (typeof id !== 'bigint') return Promise.reject(invalidType(M, 'id', 'of type bigint', id))
    if (id < 1n || id >= 2n ** 64n) return Promise.reject(outOfRange(M, 'id', '>= 1n and < 2n ** 64n (an id send() gave)', id))
    if (!this.#inFlight.has(id)) return Promise.resolve()
    return new Promise((resolve) => {
      const ws = this.#waiters.get(id)
      if (ws === undefined) this.#waiters.set(id, [resolve])
      else ws.push(resolve)
      this.#pump()
    })
  }

  #wake(id: bigint): void {
    const ws = this.#waiters.get(id)
    this.#waiters.delete(id)
    if (ws !== undefined) for (const w of ws) w()
    for (const w of this.#room.splice(0)) w()
    if (this.#inFlight.size === 0) for (const w of this.#drained.splice(0)) w()
  }

  /** Reads the source's releases while buffers are in flight (the wait keeps the process alive only then). */
  #pump(): void {
    if (this.#pumping || this.#conn.closed || this.#gone !== null || this.#inFlight.size === 0) return
    this.#pumping = true
    void (async () => {
      const M = 'UnixFdSinkConnection.released'
      try {
        while (this.#inFlight.size > 0 && !this.#conn.closed && this.#gone === null) {
          const c = await recvCommand(M, this.#conn, undefined, 'UnixFdSinkConnection')
          for (const h of c.handles) closeHandle(h)
          if (c.kind === 'release' && c.id !== undefined && this.#inFlight.delete(c.id)) this.#wake(c.id)
        }
      } catch (e) {
        if (!this.#conn.closed && this.#gone === null) {
          this.#gone = e as Error
          this.#freeAll()
        }
      } finally {
        this.#pumping = false
      }
    })()
  }

  /** Sends EOS, then waits until every buffer is released or the source hung up. */
  async end(): Promise<void> {
    const M = 'UnixFdSinkConnection.end'
    const self = UnixFdSinkConnection.#open(this, M)
    try {
      await self.#conn.send(M, 'UnixFdSinkConnection', native.unixfdEos(), [], false)
    } catch (e) {
      throw self.#failed(M, e)
    }
    if (self.#inFlight.size === 0) return
    await new Promise<void>((resolve) => {
      self.#drained.push(resolve)
      self.#pump()
    })
  }

  /** Closes the connection: later sends reject, pending released() promises resolve. Calling it again does nothing. */
  close(): void {
    if (!UnixFdSinkConnection.#is(this)) throw invalidThis('UnixFdSinkConnection.close', 'UnixFdSinkConnection')
    this.#conn.close()
    this.#freeAll()
  }

  /** The same as close(). */
  [Symbol.dispose](): void {
    this.close()
  }
}

/** The objects whose fds a send carries. */
/** Caps that parseCaps reads, else ERR_INVALID_ARG_VALUE naming `M` and `name` (a unixfdsrc would refuse them). */
function checkCaps(M: string, name: string, caps: string): void {
  try {
    parseCaps(caps)
  } catch (e) {
    throw invalidValue(M, name, `must be caps GStreamer can read: ${(e as Error).message}`)
  }
}

function memoryList(M: string, memories: unknown): (DmaBuf | PassedFd)[] {
  if (memories instanceof DmaBuf) return [memories]
  if (Frame.isFrame(memories)) {
    // Checked before frameBuffers reads each one's inode, so that a closed plane is named as the caller's argument.
    memories.planes.forEach((p, i) => DmaBuf.handleOf(p.buf, M, 'memories.planes', i))
    return frameBuffers(memories)
  }
  if (!Array.isArray(memories)) throw invalidType(M, 'memories', 'a DmaBuf, a Frame or an Array of DmaBufs or PassedFds', memories)
  if (memories.length < 1 || memories.length > 16) throw outOfRange(M, 'memories.length', '>= 1 and <= 16', memories.length)
  // An index loop, not map(): map() skips a sparse array's holes.
  const out: (DmaBuf | PassedFd)[] = []
  for (let i = 0; i < memories.length; i++) {
    const m: unknown = memories[i]
    if (m instanceof DmaBuf || m instanceof PassedFd) out.push(m)
    else if (m instanceof SyncFile) throw invalidValue(M, `memories[${i}]`, 'is a SyncFile, which is no memory')
    else throw invalidType(M, `memories[${i}]`, 'a DmaBuf or a PassedFd', m)
  }
  return out
}

function u64Arg(M: string, name: string, v: unknown): bigint | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'bigint') throw invalidType(M, name, 'of type bigint or null', v)
  if (v < 0n || v >= U64_MAX) throw outOfRange(M, name, `>= 0n and < 2n ** 64n - 1n (all bits set is "none": pass null)`, v)
  return v
}

function bufferInfo(M: string, info: unknown): Omit<Native.UnixFdBufferOut, 'id' | 'memoryType' | 'sizes' | 'offsets'> {
  if (info === undefined) return { flags: 0 }
  if (typeof info !== 'object' || info === null) throw invalidType(M, 'info', 'of type object', info)
  const i = info as UnixFdBufferInfo
  const flags = i.flags === undefined ? 0 : uint(M, 'info.flags', i.flags, U32)
  const out: Omit<Native.UnixFdBufferOut, 'id' | 'memoryType' | 'sizes' | 'offsets'> = { flags }
  const put = (k: 'pts' | 'dts' | 'duration' | 'offset' | 'offsetEnd'): void => {
    const v = u64Arg(M, `info.${k}`, i[k])
    if (v !== null) out[k] = v
  }
  put('pts')
  put('dts')
  put('duration')
  put('offset')
  put('offsetEnd')
  return out
}

for (const C of [UnixFdBuffer, UnixFdSrc, UnixFdSink, UnixFdSinkConnection]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
}
