// Passing fds between processes (crates/dmabuf/src/fdpass.rs): Channel,
// Listener, PassedFd and fdFromProcess.

import { describe, illegalConstructor, invalidThis, invalidType, invalidValue, nodeError, outOfRange, closedError, abortError } from '../internal/errors'
import { Out } from '../internal/generated/slots'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { PassedKind, takeFd } from '../internal/pidfd'
import { str, uint } from '../internal/validators'
import { abortable, waitId } from '../internal/waits'
import type * as Native from '../native'
import { DmaBuf } from './dma-buf'
import { Frame } from './frame'
import { SyncFile } from './sync-file'

const A = args


/** The kind of Unix socket a Channel uses. */
export type SocketType = 'stream' | 'seqpacket'

/** The most fds one message may carry (the kernel's SCM_MAX_FD). */
export const MAX_FDS = 253
/** The largest header, in bytes of its JSON text. */
export const MAX_HEADER = 65536
/**
 * The most fd copies that sends waiting behind another `send()` of the same
 * Channel may hold together (each keeps a copy of its fds until it goes). A
 * send that would pass it rejects with ENOBUFS; await earlier sends first.
 */
export const MAX_QUEUED_FDS = 1024

/** What a message may carry. */
export type Passable = DmaBuf | SyncFile | PassedFd

/** A received message: the header as the sender gave it, and the fds, owned by the receiver. */
export interface Message<H = unknown> {
  header: H
  fds: Passable[]
}

/** An fd that arrived in a message (or from another process) and is neither a dma-buf nor a sync_file. */
export class PassedFd {
  #h: number
  #fd: number

  static #is(x: unknown): x is PassedFd {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number) {
    if (key !== token) throw illegalConstructor('PassedFd')
    this.#h = h
    this.#fd = fd
    own(this, h)
  }

  /** @internal */
  static handleOf(x: PassedFd): number {
    return live(x.#h, 'Channel.send', 'PassedFd')
  }

  /** The fd number (usable with `fs` while open), or -1 once closed. */
  get fd(): number {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.fd', 'PassedFd')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.closed', 'PassedFd')
    return this.#h < 0
  }

  /** A new PassedFd with its own fd for the same open file. */
  dup(): PassedFd {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.dup', 'PassedFd')
    const h = native.passedFdDup(live(this.#h, 'PassedFd.dup', 'PassedFd'))
    return new PassedFd(token, h, A[Out.FD])
  }

  /** Closes the fd. Calling it again does nothing. */
  close(): void {
    if (!PassedFd.#is(this)) throw invalidThis('PassedFd.close', 'PassedFd')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** Wraps what the native layer stored: kind 0 a DmaBuf, 1 a SyncFile, 2 a PassedFd. */
function passed(kind: number, h: number, fd: number, size: number): Passable {
  if (kind === PassedKind.DMA_BUF) {
    A[Out.FD] = fd
    A[Out.BUF_SIZE] = size
    return new DmaBuf(token, h)
  }
  if (kind === PassedKind.SYNC_FILE) return new SyncFile(token, h, fd)
  return new PassedFd(token, h, fd)
}

/**
 * pidfd_open + pidfd_getfd: a duplicate, in this process, of fd `fd` of
 * process `pid` (which keeps its own), as a DmaBuf, a SyncFile or a
 * PassedFd. The kernel allows it where ptrace would be: EPERM otherwise,
 * ESRCH for no such process, EBADF for no such fd, ENOSYS before Linux 5.6.
 */
export function fdFromProcess(pid: number, fd: number): Passable {
  const h = takeFd('fdFromProcess', pid, fd)
  return passed(A[Out.PASSED_KIND], h, A[Out.FD], A[Out.PASSED_SIZE])
}


function socketType(method: string, options: unknown): boolean {
  if (options === undefined) return true
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(method, 'options', 'of type object', options)
  const t = (options as { type?: unknown }).type
  if (t === undefined || t === 'seqpacket') return true
  if (t === 'stream') return false
  throw invalidValue(method, 'options.type', `must be 'stream' or 'seqpacket'. Received ${describe(t)}`)
}

/** @internal An options object's `signal`, checked. */
export function signalOf(method: string, options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(method, 'options', 'of type object', options)
  const s = (options as { signal?: unknown }).signal
  if (s !== undefined && !(s instanceof AbortSignal)) throw invalidType(method, 'options.signal', 'an instance of AbortSignal', s)
  return s
}

/** @internal A socket address (a path or @name), checked. */
export function address(method: string, a: unknown): string {
  const s = str(method, 'address', a)
  if (s.length === 0 || s.includes('\0')) throw invalidValue(method, 'address', 'must be a path or @name without NUL bytes')
  return s
}

/**
 * Runs a native operation `start(id)` that resolves null when cancelled;
 * `pending` gets the id while it runs (close() cancels them).
 */
/** A received message as receive() gives it: the header parsed, the fds wrapped. */
function message<H>(M: string, r: NonNullable<ReturnType<typeof native.chanTryRecv>>): Message<H> {
  const fds = r.handles.map((fh, i) => passed(r.kinds[i], fh, r.fds[i], r.sizes[i]))
  if (r.header.startsWith('DMFR')) {
    // No JSON text starts so: the peer sent a frame (sendFrame, Rust's Frame::send).
    for (const f of fds) f.close()
    throw nodeError(Error, 'ERR_DMABUF_BAD_HEADER', `${M}: the message is a frame (a binary DMFR header), which receiveFrame() takes, not JSON; its ${fds.length} fds were closed`)
  }
  let header: H
  try {
    header = JSON.parse(r.header) as H
  } catch {
    for (const f of fds) f.close()
    throw nodeError(Error, 'ERR_DMABUF_BAD_HEADER', `${M}: the message's header is not JSON; its ${fds.length} fds were closed`)
  }
  return { header, fds }
}

/** A received frame message as receiveFrame() gives it: the planes' dma-bufs wrapped, the frame made (and checked again). */
function frameOf(r: Native.StoredFrame): Frame {
  const bufs = r.handles.map((fh, i) => {
    A[Out.FD] = r.fds[i]
    A[Out.BUF_SIZE] = r.sizes[i]
    return new DmaBuf(token, fh)
  })
  try {
    return new Frame({ width: r.width, height: r.height, fourcc: r.fourcc, modifier: r.modifier, planes: bufs.map((buf, i) => ({ buf, offset: r.offsets[i], pitch: r.pitches[i] })) })
  } catch (e) {
    for (const b of bufs) b.close()
    throw e
  }
}

/**
 * A message's header as it goes out: JSON text (send) or a frame's binary
 * header (sendFrame). A plain value, not closures: send() stays free of
 * allocations beyond its own.
 */
type Wire = string | Buffer

/** One sendmsg without waiting (chanTrySend's answer: 1 sent, 2 a stream tail left, 0 wait). */
function trySendWire(h: number, wire: Wire, handles: Float64Array): number {
  return typeof wire === 'string' ? native.chanTrySend(h, wire, handles) : native.chanTrySendFrame(h, wire, handles)
}

/** The send that waits for room on the event loop. */
function sendWire(h: number, wire: Wire, handles: Float64Array, id: number): Promise<boolean | null> {
  return typeof wire === 'string' ? native.chanSend(h, wire, handles, id) : native.chanSendFrame(h, wire, handles, id)
}


/** @internal */
export async function cancellable<T>(method: string, pending: Set<number>, signal: AbortSignal | undefined, closed: () => boolean, start: (id: number) => Promise<T | null>, what = 'Channel'): Promise<T> {
  if (signal?.aborted) throw abortError(method, signal)
  const id = waitId()
  pending.add(id)
  try {
    const r = await abortable(method, signal, id, start(id), (i) => native.chanCancel(i))
    if (r === null) throw closedError(method, closed() ? what : 'operation')
    return r
  } finally {
    pending.delete(id)
  }
}

/**
 * A Unix socket that carries messages with fds: a JSON header and up to
 * MAX_FDS dma-bufs, sync_files or other fds (SCM_RIGHTS). Received fds are
 * close-on-exec and owned by the receiver. send() and receive() are
 * Promises driven by the event loop; calls of each kind run in the order
 * they were made.
 *
 * Both always return a Promise: every error, argument errors included,
 * rejects it (as Node's promise APIs do), none is thrown.
 * Errors of receive(): EPIPE (the peer closed the channel), ECONNRESET (it
 * died in the middle of a message), ETOOMANYREFS (more fds than `maxFds`:
 * those that arrived are closed, the channel goes on), EMSGSIZE (a header
 * over MAX_HEADER), ERR_DMABUF_BAD_HEADER (not JSON, or a frame, which
 * receiveFrame() takes; its fds are closed). Frames go as sendFrame() and
 * receiveFrame(): the Rust `Frame::send` message, the same errors plus
 * EPROTO for a message that is no frame.
 * Of send(): EPIPE (the peer closed the channel), or ECONNRESET where the
 * kernel gives it: a seqpacket peer that closed with messages unread;
 * ERR_OUT_OF_RANGE (a header over MAX_HEADER bytes of JSON, or more than
 * MAX_FDS fds).
 */
export class Channel {
  #h: number
  #fd: number
  #seq: boolean
  #sendTail: Promise<unknown> = Promise.resolve()
  #recvTail: Promise<unknown> = Promise.resolve()
  // Sends and receives called and not yet settled: at 0 a call may go at
  // once (nothing is queued before it), without a trip through #sendTail.
  #sending = 0
  #receiving = 0
  // fd copies held by sends queued behind another (at most MAX_QUEUED_FDS).
  #queuedFds = 0
  #pending = new Set<number>()

  static #is(x: unknown): x is Channel {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number, seq: boolean) {
    if (key !== token) throw illegalConstructor('Channel')
    this.#h = h
    this.#fd = fd
    this.#seq = seq
    own(this, h)
  }

  /**
   * socketpair(AF_UNIX): two connected channels (seqpacket unless
   * `type` is 'stream'). Hand one's `fd` to a child through
   * `child_process.spawn`'s `stdio` array and close it here.
   */
  static pair(type?: SocketType): [Channel, Channel] {
    const seq = socketType('Channel.pair', type === undefined ? undefined : { type })
    const [a, b] = native.chanPair(seq)
    const fa = A[Out.FD]
    const fb = A[Out.PAIR_FD]
    return [new Channel(token, a, fa, seq), new Channel(token, b, fb, seq)]
  }

  /** socket + connect to a Channel.listen() at `address` (a path, or `@name` for the abstract namespace). */
  static connect(address_: string, options?: { type?: SocketType }): Channel {
    const M = 'Channel.connect'
    const a = address(M, address_)
    const seq = socketType(M, options)
    const h = native.chanConnect(a, seq)
    return new Channel(token, h, A[Out.FD], seq)
  }

  /** socket + bind + listen at `address` (a path, removed on close, or `@name`). */
  static listen(address_: string, options?: { type?: SocketType }): Listener {
    const M = 'Channel.listen'
    const a = address(M, address_)
    const seq = socketType(M, options)
    const h = native.listenerBind(a, seq)
    return new Listener(token, h, A[Out.FD], a, seq)
  }

  /** Wraps a connected Unix socket fd (an inherited one: `Channel.fromFd(3)`); the fd is duplicated, the caller keeps its own. */
  static fromFd(fd: number): Channel {
    const h = native.chanFromFd(uint('Channel.fromFd', 'fd', fd, 2 ** 31 - 1))
    return new Channel(token, h, A[Out.FD], A[Out.SEQPACKET] === 1)
  }

  static #open(self: unknown, method: string): Channel {
    if (!Channel.#is(self)) throw invalidThis(method, 'Channel')
    live(self.#h, method, 'Channel')
    return self
  }

  /** The socket's fd number, or -1 once closed. */
  get fd(): number {
    if (!Channel.#is(this)) throw invalidThis('Channel.fd', 'Channel')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** 'seqpacket' or 'stream'. */
  get type(): SocketType {
    if (!Channel.#is(this)) throw invalidThis('Channel.type', 'Channel')
    return this.#seq ? 'seqpacket' : 'stream'
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!Channel.#is(this)) throw invalidThis('Channel.closed', 'Channel')
    return this.#h < 0
  }

  /**
   * Sends `header` (anything JSON.stringify takes, up to MAX_HEADER bytes)
   * with `fds` attached. The fds are duplicated at once, so they may be
   * closed as soon as this returns; the receiver gets its own.
   */
  send(header: unknown, fds?: Passable[], options?: { signal?: AbortSignal }): Promise<void> {
    // Argument errors reject too, as Node's promise APIs do: never a synchronous throw.
    try {
      return Channel.#send(this, header, fds, options)
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }

  static #send(that: unknown, header: unknown, fds: Passable[] | undefined, options: { signal?: AbortSignal } | undefined): Promise<void> {
    const M = 'Channel.send'
    const self = Channel.#open(that, M)
    const signal = signalOf(M, options)
    let text: string | undefined
    try {
      text = JSON.stringify(header)
    } catch (e) {
      throw invalidValue(M, 'header', `must be JSON-serializable: ${(e as Error).message}`)
    }
    if (text === undefined) text = 'null'
    if (Buffer.byteLength(text) > MAX_HEADER) throw outOfRange(M, 'header', `at most ${MAX_HEADER} bytes as JSON`, Buffer.byteLength(text))
    const list = fds === undefined ? [] : fds
    if (!Array.isArray(list)) throw invalidType(M, 'fds', 'an instance of Array', fds)
    if (list.length > MAX_FDS) throw outOfRange(M, 'fds.length', `<= ${MAX_FDS}`, list.length)
    return self.#dispatch(M, text, list, signal)
  }

  /** Sends now when nothing is queued, else queues the message behind the sends before it (holding copies of its fds). */
  #dispatch(M: string, wire: Wire, list: Passable[], signal: AbortSignal | undefined): Promise<void> {
    const self = this
    if (self.#sending === 0) return self.#sendNow(M, wire, list, signal)
    // A queued send holds a copy of each fd until it goes: bounded, so that
    // a loop that never awaits its sends gets told instead of using up the
    // process's fds.
    if (list.length > 0 && self.#queuedFds + list.length > MAX_QUEUED_FDS) {
      throw nodeError(Error, 'ENOBUFS', `${M}: ${self.#sending} sends are waiting with ${self.#queuedFds} fd copies, and ${list.length} more would pass the limit of ${MAX_QUEUED_FDS}; await earlier sends before sending more`)
    }
    const copies: Passable[] = []
    try {
      for (let i = 0; i < list.length; i++) {
        const x: unknown = list[i]
        if (!(x instanceof DmaBuf || x instanceof SyncFile || x instanceof PassedFd)) throw invalidType(M, `fds[${i}]`, 'a DmaBuf, SyncFile or PassedFd', x)
        try {
          copies.push(x.dup())
        } catch (e) {
          const code = (e as { code?: string }).code ?? 'ERR_DMABUF'
          throw nodeError(Error, code, `${M}: cannot hold a copy of fds[${i}] for a send queued behind ${self.#sending} others: ${(e as Error).message}`)
        }
      }
    } catch (e) {
      for (const c of copies) c.close()
      throw e
    }
    self.#sending++
    self.#queuedFds += copies.length
    const run = self.#sendTail.then(async () => {
      try {
        const handles = new Float64Array(copies.length)
        for (let i = 0; i < copies.length; i++) {
          const c = copies[i]
          handles[i] = c instanceof DmaBuf ? DmaBuf.handleOf(c, M, 'fds') : c instanceof SyncFile ? SyncFile.handleOf(c, M, 'fds') : PassedFd.handleOf(c)
        }
        const h = live(self.#h, M, 'Channel')
        if (signal?.aborted) throw abortError(M, signal)
        // Fast path: the socket has room (almost always), no trip through the event loop (taken only while the loop turned recently).
        const went = trySendWire(h, wire, handles)
        if (went === 2) await cancellable(M, self.#pending, signal, () => self.#h < 0, (id) => native.chanFlush(h, id))
        else if (went === 0) await cancellable(M, self.#pending, signal, () => self.#h < 0, (id) => sendWire(h, wire, handles, id))
      } finally {
        self.#sending--
        self.#queuedFds -= copies.length
        for (const c of copies) c.close()
      }
    })
    self.#sendTail = run.catch(() => undefined)
    return run
  }

  /**
   * Sends `frame` as one message, the same the Rust `Frame::send` sends: a
   * binary header (`DMFR`, version, plane count, width, height, fourcc,
   * modifier, each plane's offset and pitch; made by the Rust
   * `Frame::header_of`) with one dma-buf fd per plane attached. The frame
   * stays the caller's (its fds are duplicated when the send has to wait),
   * so it may be closed as soon as this returns. The peer takes it with
   * receiveFrame() or `Frame::recv`. Queued with send() in call order.
   */
  sendFrame(frame: Frame, options?: { signal?: AbortSignal }): Promise<void> {
    try {
      const M = 'Channel.sendFrame'
      const self = Channel.#open(this, M)
      const signal = signalOf(M, options)
      if (!Frame.isFrame(frame)) throw invalidType(M, 'frame', 'an instance of Frame', frame)
      const list = frame.planes.map((p, i) => {
        DmaBuf.handleOf(p.buf, M, `frame.planes[${i}].buf`)
        return p.buf
      })
      const header = native.frameHeader(frame.width, frame.height, frame.fourcc, frame.modifier, frame.planes.map((p) => p.offset), frame.planes.map((p) => p.pitch))
      return self.#dispatch(M, header, list, signal)
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }

  /**
   * send() with nothing queued before it: the message goes now, with the
   * caller's fds and no copies of them (`chanTrySend` sends them before
   * returning; `chanSend` duplicates them before returning when it has to
   * wait), so one fd costs no dup, close or object here.
   */
  #sendNow(M: string, wire: Wire, list: Passable[], signal: AbortSignal | undefined): Promise<void> {
    const handles = new Float64Array(list.length)
    for (let i = 0; i < list.length; i++) {
      const x: unknown = list[i]
      if (x instanceof DmaBuf) handles[i] = DmaBuf.handleOf(x, M, 'fds')
      else if (x instanceof SyncFile) handles[i] = SyncFile.handleOf(x, M, 'fds')
      else if (x instanceof PassedFd) handles[i] = PassedFd.handleOf(x)
      else throw invalidType(M, `fds[${i}]`, 'a DmaBuf, SyncFile or PassedFd', x)
    }
    let went: number
    try {
      if (signal?.aborted) throw abortError(M, signal)
      // Fast path: the socket has room (almost always), no trip through the event loop (taken only while the loop turned recently).
      went = trySendWire(this.#h, wire, handles)
    } catch (e) {
      return Promise.reject(e)
    }
    if (went === 1) return Promise.resolve()
    const h = this.#h
    this.#sending++
    const run = (async () => {
      try {
        if (went === 2) await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native.chanFlush(h, id))
        else await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => sendWire(h, wire, handles, id))
      } finally {
        this.#sending--
      }
    })()
    this.#sendTail = run.catch(() => undefined)
    return run
  }

  /**
   * Receives the next message. At most `maxFds` fds (default MAX_FDS, 253,
   * the kernel's limit per message, so by default nothing a peer can send is
   * dropped) are accepted: a message with more is an ETOOMANYREFS error that
   * gives the limit and how many arrived; those fds are closed, the message
   * dropped, and the channel goes on with the next one.
   */
  receive<H = unknown>(options?: { maxFds?: number; signal?: AbortSignal }): Promise<Message<H>> {
    try {
      return Channel.#receive<H>(this, options)
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }

  static #receive<H>(that: unknown, options: { maxFds?: number; signal?: AbortSignal } | undefined): Promise<Message<H>> {
    const M = 'Channel.receive'
    const self = Channel.#open(that, M)
    const signal = signalOf(M, options)
    const mf = (options as { maxFds?: unknown } | undefined)?.maxFds
    const maxFds = mf === undefined ? MAX_FDS : uint(M, 'options.maxFds', mf, MAX_FDS)
    return self.#take(M, signal, maxFds) as Promise<Message<H>>
  }

  /**
   * Receives the next message as a Frame: one that sendFrame() (or the
   * Rust `Frame::send`) sent, its binary header and one dma-buf per plane
   * checked by the Rust `Frame::from_message` and then as `new Frame`
   * checks. The frame owns the dma-bufs that came. Any other message (a
   * JSON one, a bad plane count, fds that differ from it or are no
   * dma-bufs) is an EPROTO error naming what is wrong: its fds are closed,
   * the channel goes on with the next message. Queued with receive() in
   * call order.
   */
  receiveFrame(options?: { signal?: AbortSignal }): Promise<Frame> {
    try {
      const M = 'Channel.receiveFrame'
      const self = Channel.#open(this, M)
      const signal = signalOf(M, options)
      return self.#take(M, signal, -1) as Promise<Frame>
    } catch (e) {
      return Promise.reject(e as Error)
    }
  }

  /**
   * Receives now when nothing is queued and a message is there, else queues
   * behind the receives before it: a Message of at most `maxFds` fds, or a
   * Frame when `maxFds` is -1 (receiveFrame).
   */
  #take(M: string, signal: AbortSignal | undefined, maxFds: number): Promise<Message<unknown> | Frame> {
    const tryRecv = (h: number): Message<unknown> | Frame | null => {
      if (maxFds < 0) {
        const r = native.chanTryRecvFrame(h)
        return r === null ? null : frameOf(r)
      }
      const r = native.chanTryRecv(h, maxFds)
      return r === null ? null : message(M, r)
    }
    const recv = async (h: number): Promise<Message<unknown> | Frame> => {
      if (maxFds < 0) return frameOf(await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native.chanRecvFrame(h, id)))
      return message(M, await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native.chanRecv(h, maxFds, id)))
    }
    const self = this
    // Whether this call already found the socket empty (then it waits without a second recvmsg).
    let tried = false
    if (self.#receiving === 0) {
      // Nothing queued before it: a message already there settles it now, without a trip through #recvTail.
      try {
        if (signal?.aborted) throw abortError(M, signal)
        const r = tryRecv(self.#h)
        if (r !== null) return Promise.resolve(r)
      } catch (e) {
        return Promise.reject(e)
      }
      tried = true
    }
    self.#receiving++
    const run = self.#recvTail.then(async () => {
      try {
        const h = live(self.#h, M, 'Channel')
        if (signal?.aborted) throw abortError(M, signal)
        // Fast path: a message is already there; otherwise wait on the event loop.
        return (tried ? null : tryRecv(h)) ?? (await recv(h))
      } finally {
        self.#receiving--
      }
    })
    self.#recvTail = run.catch(() => undefined)
    return run
  }

  /** Closes the socket; pending sends and receives reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
  close(): void {
    if (!Channel.#is(this)) throw invalidThis('Channel.close', 'Channel')
    if (this.#h >= 0) native.chanUnlinger(this.#h)
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.chanCancel(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** A listening Unix socket (Channel.listen). */
export class Listener {
  #h: number
  #fd: number
  #address: string
  #seq: boolean
  #pending = new Set<number>()

  static #is(x: unknown): x is Listener {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number, fd: number, address_: string, seq: boolean) {
    if (key !== token) throw illegalConstructor('Listener')
    this.#h = h
    this.#fd = fd
    this.#address = address_
    this.#seq = seq
    own(this, h)
  }

  /** The socket's fd number, or -1 once closed. */
  get fd(): number {
    if (!Listener.#is(this)) throw invalidThis('Listener.fd', 'Listener')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** The address it listens on. */
  get address(): string {
    if (!Listener.#is(this)) throw invalidThis('Listener.address', 'Listener')
    return this.#address
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!Listener.#is(this)) throw invalidThis('Listener.closed', 'Listener')
    return this.#h < 0
  }

  /** accept4: the next connection, as a Channel. */
  async accept(options?: { signal?: AbortSignal }): Promise<Channel> {
    const M = 'Listener.accept'
    if (!Listener.#is(this)) throw invalidThis(M, 'Listener')
    const h = live(this.#h, M, 'Listener')
    const signal = signalOf(M, options)
    const r = await cancellable(M, this.#pending, signal, () => this.#h < 0, (id) => native.listenerAccept(h, id), 'Listener')
    return new Channel(token, r[0], r[1], this.#seq)
  }

  /** Closes the socket (and removes its path); pending accepts reject. */
  close(): void {
    if (!Listener.#is(this)) throw invalidThis('Listener.close', 'Listener')
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.chanCancel(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [PassedFd, Channel, Listener]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
