// DVB (crates/dmabuf/src/dvb.rs): a demux's buffers exported as DmaBufs
// (DMX_EXPBUF; kernels with CONFIG_DVB_MMAP), its filters, and the frontend
// properties that tune.

import type * as Native from '../native'
import { abortError, closedError, illegalConstructor, invalidThis, invalidType, invalidValue, outOfRange } from '../internal/errors'
import { Out } from '../internal/generated/slots'
import { closeOnce, live, own, token } from '../internal/lifetime'
import { args, native } from '../internal/native'
import { type Access, bool, optionalAccessBits, str, timeoutMs as timeoutMsOf, uint } from '../internal/validators'
import { abortable, liveSignal, waitId } from '../internal/waits'
import { DmaBuf } from './dma-buf'

const A = args

export type { DvbBufferInfo, DvbFrontendInfo } from '../native'

/** Where a PES filter sends what it passes (`enum dmx_output`): 'ts-demux-tap' puts whole TS packets in this demux's buffers. */
export type DvbPesOutput = 'decoder' | 'tap' | 'ts-tap' | 'ts-demux-tap'
const PES_OUTPUTS: readonly DvbPesOutput[] = ['decoder', 'tap', 'ts-tap', 'ts-demux-tap']

/** A section filter (`struct dmx_sct_filter_params`). */
export interface DvbSectionFilter {
  /** Packet id, 0..0x1fff. */
  pid: number
  /** Up to 16 bytes to match (the section's first bytes, without its two length bytes). */
  filter?: ArrayLike<number>
  /** Which bits of `filter` count (default: none, so every section of `pid` passes). */
  mask?: ArrayLike<number>
  /** Bits set here match on "not equal". */
  mode?: ArrayLike<number>
  /** Milliseconds the kernel waits for a section before an ETIMEDOUT (0: no limit). */
  timeoutMs?: number
  /** Drop sections whose CRC does not match (default true). */
  checkCrc?: boolean
  /** Stop after one section. */
  oneshot?: boolean
}

/** Numbers of `<linux/dvb/frontend.h>` and `<linux/dvb/dmx.h>` for `DvbFrontend` and `DvbDemux`. */
export const DVB = Object.freeze({
  /** DTV_* property commands for `DvbFrontend.setProperties` / `getProperties`. */
  DTV_TUNE: 1,
  DTV_CLEAR: 2,
  DTV_FREQUENCY: 3,
  DTV_MODULATION: 4,
  DTV_BANDWIDTH_HZ: 5,
  DTV_INVERSION: 6,
  DTV_SYMBOL_RATE: 8,
  DTV_INNER_FEC: 9,
  DTV_DELIVERY_SYSTEM: 17,
  DTV_API_VERSION: 35,
  /** Delivery systems (values of DTV_DELIVERY_SYSTEM). */
  SYS_DVBC_ANNEX_A: 1,
  SYS_DVBT: 3,
  SYS_DVBS: 5,
  SYS_DVBS2: 6,
  SYS_ISDBT: 8,
  SYS_DVBT2: 16,
  /** FE_READ_STATUS bits. */
  FE_HAS_SIGNAL: 0x01,
  FE_HAS_CARRIER: 0x02,
  FE_HAS_VITERBI: 0x04,
  FE_HAS_SYNC: 0x08,
  FE_HAS_LOCK: 0x10,
  FE_TIMEDOUT: 0x20,
  /** The PES filter PID that passes the whole transport stream. */
  PID_ALL: 0x2000,
  /** Bytes in a TS packet, and its first byte. */
  TS_PACKET_SIZE: 188,
  TS_SYNC_BYTE: 0x47,
  /** The kernel's limit on one demux buffer (4096 TS packets). */
  MAX_BUFFER_SIZE: 4096 * 188,
})


function filterBytes(method: string, name: string, v: unknown, out: Uint8Array, at: number): void {
  if (v === undefined) return
  if (typeof v !== 'object' || v === null || typeof (v as ArrayLike<number>).length !== 'number') {
    throw invalidType(method, name, 'an array of bytes', v)
  }
  const a = v as ArrayLike<unknown>
  if (a.length > 16) throw outOfRange(method, `${name}.length`, '<= 16', a.length)
  for (let i = 0; i < a.length; i++) out[at + i] = uint(method, `${name}[${i}]`, a[i], 255)
}


/**
 * An open DVB demux (`/dev/dvb/adapterN/demuxM`): one filter, and the
 * buffers its data goes to, exported as DmaBufs. Needs a kernel with
 * CONFIG_DVB_MMAP for the buffers (elsewhere they throw ENOTTY naming it).
 *
 * The first `queue()` starts streaming, which lasts until `close()`; a
 * buffer comes back when it is full (a section filter: when a section
 * ends), so give TS filters a multiple of 188 bytes.
 */
export class DvbDemux {
  #h: number
  #fd: number
  #pending = new Set<number>()

  static #is(x: unknown): x is DvbDemux {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('DvbDemux')
    this.#h = h
    this.#fd = A[Out.FD]
    own(this, h)
  }

  /** Opens a demux node read-write and non-blocking; ENOTTY when `path` is not a DVB demux. */
  static open(path: string): DvbDemux {
    return new DvbDemux(token, native.dvbDemuxOpen(str('DvbDemux.open', 'path', path)))
  }

  /** Paths of the demux nodes under /dev/dvb (empty when there are none). */
  static list(): string[] {
    return native.dvbListDemuxes()
  }

  static #open(self: unknown, method: string): number {
    if (!DvbDemux.#is(self)) throw invalidThis(method, 'DvbDemux')
    return live(self.#h, method, 'DvbDemux')
  }

  /** The fd number, or -1 once closed. */
  get fd(): number {
    if (!DvbDemux.#is(this)) throw invalidThis('DvbDemux.fd', 'DvbDemux')
    return this.#h < 0 ? -1 : this.#fd
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!DvbDemux.#is(this)) throw invalidThis('DvbDemux.closed', 'DvbDemux')
    return this.#h < 0
  }

  /** DMX_SET_PES_FILTER: packets of `pid` (DVB.PID_ALL: all) to `output` (default 'ts-demux-tap'); starts at once when `start` is true. */
  setPesFilter(pid: number, output?: DvbPesOutput, start?: boolean): void {
    const M = 'DvbDemux.setPesFilter'
    const h = DvbDemux.#open(this, M)
    const p = uint(M, 'pid', pid, 0x2000)
    let o = 3
    if (output !== undefined) {
      o = PES_OUTPUTS.indexOf(output)
      if (o < 0) {
        if (typeof output !== 'string') throw invalidType(M, 'output', "one of 'decoder', 'tap', 'ts-tap' or 'ts-demux-tap'", output)
        throw invalidValue(M, 'output', `must be 'decoder', 'tap', 'ts-tap' or 'ts-demux-tap'. Received ${JSON.stringify(output)}`)
      }
    }
    native.dvbDemuxSetPesFilter(h, p, o, bool(M, 'start', start, false))
  }

  /** DMX_SET_FILTER: the sections of `filter.pid` that match; starts at once when `start` is true. */
  setSectionFilter(filter: DvbSectionFilter, start?: boolean): void {
    const M = 'DvbDemux.setSectionFilter'
    const h = DvbDemux.#open(this, M)
    if (typeof filter !== 'object' || filter === null) throw invalidType(M, 'filter', 'an object { pid, filter?, mask?, mode? }', filter)
    const pid = uint(M, 'filter.pid', filter.pid, 0x1fff)
    const bytes = new Uint8Array(48)
    filterBytes(M, 'filter.filter', filter.filter, bytes, 0)
    filterBytes(M, 'filter.mask', filter.mask, bytes, 16)
    filterBytes(M, 'filter.mode', filter.mode, bytes, 32)
    const timeout = filter.timeoutMs === undefined ? 0 : uint(M, 'filter.timeoutMs', filter.timeoutMs, 2 ** 32 - 1)
    const flags = (bool(M, 'filter.checkCrc', filter.checkCrc, true) ? 1 : 0) | (bool(M, 'filter.oneshot', filter.oneshot, false) ? 2 : 0)
    native.dvbDemuxSetSectionFilter(h, pid, bytes, timeout, flags, bool(M, 'start', start, false))
  }

  /** DMX_START. */
  start(): void {
    native.dvbDemuxStart(DvbDemux.#open(this, 'DvbDemux.start'))
  }

  /** DMX_STOP (queued buffers stay queued). */
  stop(): void {
    native.dvbDemuxStop(DvbDemux.#open(this, 'DvbDemux.stop'))
  }

  /** DMX_SET_BUFFER_SIZE: the ring buffer of the read() path (not the exported buffers). */
  setBufferSize(size: number): void {
    const M = 'DvbDemux.setBufferSize'
    native.dvbDemuxSetBufferSize(DvbDemux.#open(this, M), uint(M, 'size', size, 2 ** 31 - 1))
  }

  /** DMX_REQBUFS: `count` buffers of `size` bytes; returns what the kernel granted (size at most DVB.MAX_BUFFER_SIZE). */
  requestBuffers(count: number, size: number): { count: number; size: number } {
    const M = 'DvbDemux.requestBuffers'
    const h = DvbDemux.#open(this, M)
    const [c, s] = native.dvbDemuxRequestBuffers(h, uint(M, 'count', count, 2 ** 32 - 1), uint(M, 'size', size, 2 ** 32 - 1))
    return { count: c, size: s }
  }

  /** DMX_QUERYBUF: buffer `index`'s size and mmap offset. */
  queryBuffer(index: number): Native.DvbBufferInfo {
    const M = 'DvbDemux.queryBuffer'
    return native.dvbDemuxQueryBuffer(DvbDemux.#open(this, M), uint(M, 'index', index, 2 ** 32 - 1))
  }

  /** DMX_EXPBUF: buffer `index` as a DmaBuf (read-only for 'r', the default; read-write otherwise). It outlives the demux. */
  exportBuffer(index: number, access?: Access): DmaBuf {
    const M = 'DvbDemux.exportBuffer'
    const h = DvbDemux.#open(this, M)
    const i = uint(M, 'index', index, 2 ** 32 - 1)
    return new DmaBuf(token, native.dvbDemuxExportBuffer(h, i, optionalAccessBits(M, 'access', access, 1)))
  }

  /** DMX_QBUF: hands buffer `index` to the demux to fill; the first one starts streaming. */
  queue(index: number): void {
    const M = 'DvbDemux.queue'
    native.dvbDemuxQueue(DvbDemux.#open(this, M), uint(M, 'index', index, 2 ** 32 - 1))
  }

  /** DMX_DQBUF without waiting: the next filled buffer, or null. */
  tryDequeue(): Native.DvbBufferInfo | null {
    return native.dvbDemuxTryDequeue(DvbDemux.#open(this, 'DvbDemux.tryDequeue'))
  }

  /**
   * Resolves the next filled buffer, or null when `timeoutMs` passes first;
   * rejects with an AbortError when `signal` aborts. No thread waits: the
   * demux fd sits in the event loop. Never throws: every error is a
   * rejection.
   */
  async dequeue(timeoutMs?: number, signal?: AbortSignal): Promise<Native.DvbBufferInfo | null> {
    const M = 'DvbDemux.dequeue'
    const h = DvbDemux.#open(this, M)
    const t = timeoutMsOf(M, timeoutMs)
    const s = liveSignal(M, signal)
    const id = waitId()
    this.#pending.add(id)
    try {
      const r = await abortable(M, s, id, native.dvbDemuxDequeue(h, t, id), (i) => native.dvbCancelDequeue(i))
      if (r === null && this.#h < 0) throw closedError(M, 'DvbDemux')
      return r
    } finally {
      this.#pending.delete(id)
    }
  }

  /** Closes the demux (its filter and streaming end; exported DmaBufs stay valid); pending dequeues reject with ERR_DMABUF_CLOSED. Calling it again does nothing. */
  close(): void {
    if (!DvbDemux.#is(this)) throw invalidThis('DvbDemux.close', 'DvbDemux')
    this.#h = closeOnce(this, this.#h)
    for (const id of this.#pending) native.dvbCancelDequeue(id)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

/** An open DVB frontend (`/dev/dvb/adapterN/frontendM`), read-write, for tuning. */
export class DvbFrontend {
  #h: number

  static #is(x: unknown): x is DvbFrontend {
    return typeof x === 'object' && x !== null && #h in x
  }

  /** @internal */
  constructor(key: symbol, h: number) {
    if (key !== token) throw illegalConstructor('DvbFrontend')
    this.#h = h
    own(this, h)
  }

  /** Opens a frontend node read-write (EBUSY while another holds it so); ENOTTY when `path` is not a DVB frontend. */
  static open(path: string): DvbFrontend {
    return new DvbFrontend(token, native.dvbFrontendOpen(str('DvbFrontend.open', 'path', path)))
  }

  /** Paths of the frontend nodes under /dev/dvb. */
  static list(): string[] {
    return native.dvbListFrontends()
  }

  static #open(self: unknown, method: string): number {
    if (!DvbFrontend.#is(self)) throw invalidThis(method, 'DvbFrontend')
    return live(self.#h, method, 'DvbFrontend')
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    if (!DvbFrontend.#is(this)) throw invalidThis('DvbFrontend.closed', 'DvbFrontend')
    return this.#h < 0
  }

  /** FE_GET_INFO: name, frequency range, capabilities. */
  info(): Native.DvbFrontendInfo {
    return native.dvbFrontendInfo(DvbFrontend.#open(this, 'DvbFrontend.info'))
  }

  /** FE_READ_STATUS: DVB.FE_HAS_* bits. */
  status(): number {
    return native.dvbFrontendStatus(DvbFrontend.#open(this, 'DvbFrontend.status'))
  }

  /** FE_SET_PROPERTY: `[command, value]` pairs (DVB.DTV_*), applied in order; 1 to 64 of them. */
  setProperties(props: Array<[number, number]>): void {
    const M = 'DvbFrontend.setProperties'
    const h = DvbFrontend.#open(this, M)
    if (!Array.isArray(props)) throw invalidType(M, 'props', 'an instance of Array', props)
    const n = props.length
    if (n < 1 || n > 64) throw outOfRange(M, 'props.length', '>= 1 and <= 64', n)
    const cmds = new Float64Array(n)
    const values = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const p: unknown = props[i]
      if (!Array.isArray(p) || p.length !== 2) throw invalidType(M, `props[${i}]`, 'a [command, value] pair', p)
      cmds[i] = uint(M, `props[${i}][0]`, p[0], 2 ** 32 - 1)
      values[i] = uint(M, `props[${i}][1]`, p[1], 2 ** 32 - 1)
    }
    native.dvbFrontendSetProperties(h, cmds, values)
  }

  /** FE_GET_PROPERTY: the value of each command (DVB.DTV_*), in order; 1 to 64 of them. */
  getProperties(commands: number[]): number[] {
    const M = 'DvbFrontend.getProperties'
    const h = DvbFrontend.#open(this, M)
    if (!Array.isArray(commands)) throw invalidType(M, 'commands', 'an instance of Array', commands)
    const n = commands.length
    if (n < 1 || n > 64) throw outOfRange(M, 'commands.length', '>= 1 and <= 64', n)
    const cmds = new Float64Array(n)
    for (let i = 0; i < n; i++) cmds[i] = uint(M, `commands[${i}]`, commands[i], 2 ** 32 - 1)
    return native.dvbFrontendGetProperties(h, cmds)
  }

  /** Tunes: DTV_CLEAR, the delivery system (DVB.SYS_*), the frequency, `extra` pairs, DTV_TUNE. Returns at once; see `waitForLock`. */
  tune(deliverySystem: number, frequency: number, extra?: Array<[number, number]>): void {
    const M = 'DvbFrontend.tune'
    DvbFrontend.#open(this, M)
    const sys = uint(M, 'deliverySystem', deliverySystem, 2 ** 32 - 1)
    const freq = uint(M, 'frequency', frequency, 2 ** 32 - 1)
    if (extra !== undefined && !Array.isArray(extra)) throw invalidType(M, 'extra', 'an instance of Array', extra)
    const more = extra ?? []
    if (more.length > 60) throw outOfRange(M, 'extra.length', '<= 60', more.length)
    this.setProperties([[DVB.DTV_CLEAR, 0], [DVB.DTV_DELIVERY_SYSTEM, sys], [DVB.DTV_FREQUENCY, freq], ...more, [DVB.DTV_TUNE, 0]])
  }

  /**
   * Resolves true once FE_READ_STATUS has FE_HAS_LOCK, false when
   * `timeoutMs` (default 5000) passes first; reads the status every 10 ms on
   * a timer (no thread waits). Rejects with an AbortError when `signal` aborts.
   */
  async waitForLock(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const M = 'DvbFrontend.waitForLock'
    DvbFrontend.#open(this, M)
    const t = timeoutMs === undefined ? 5000 : timeoutMsOf(M, timeoutMs)
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(M, 'signal', 'an instance of AbortSignal', signal)
    const end = t < 0 ? Infinity : Date.now() + t
    for (;;) {
      if (signal?.aborted) throw abortError(M, signal)
      if ((native.dvbFrontendStatus(live(this.#h, M, 'DvbFrontend')) & DVB.FE_HAS_LOCK) !== 0) return true
      if (Date.now() >= end) return false
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /** Closes the frontend. Calling it again does nothing. */
  close(): void {
    if (!DvbFrontend.#is(this)) throw invalidThis('DvbFrontend.close', 'DvbFrontend')
    this.#h = closeOnce(this, this.#h)
  }

  /** The same function as `close()` (installed below). */
  declare [Symbol.dispose]: () => void
}

for (const C of [DvbDemux, DvbFrontend]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name })
  const proto = C.prototype as unknown as Record<PropertyKey, unknown>
  Object.defineProperty(proto, Symbol.dispose, { value: proto.close, writable: true, configurable: true })
}
