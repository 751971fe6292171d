// Who owns a native handle, and the garbage-collection backstop.

import { closedError } from './errors'
import { args, native } from './native'
import { Arg } from './generated/slots'

const A = args
const nativeClose = native.close

/** The key a class's constructor demands: objects come from this package's factories only. */
export const token = Symbol('dmabuf')

// ---------------------------------------------------------------------------
// Garbage collection is only a backstop: close() is the way.
//
// A FinalizationRegistry entry per object would make V8 keep every object
// (and its WeakCell) until a full mark-compact, even once closed and
// unregistered: measured, RSS grew ~25 MB per 100,000 objects in a loop that
// never yields. So objects are registered late: a new object waits in
// `young` (held strongly, with its handle in `youngH`) until the current
// job's microtasks run; close() before then takes it out again in O(1), and
// only objects still open at that point are registered. An object dropped
// without close() is then collected in due course and its handle closed.

const registry = new FinalizationRegistry<number>((h) => {
  A[Arg.HANDLE] = h
  nativeClose()
})

/** Where an object waits in `young`: its index, or -1 (registered) or -2 (closed). */
const SLOT = Symbol('dmabuf.slot')
type Tracked = object & { [SLOT]: number }
const young: Tracked[] = []
const youngH: number[] = []
let flushQueued = false

function flush(): void {
  flushQueued = false
  for (let i = 0; i < young.length; i++) {
    const o = young[i]
    o[SLOT] = -1
    registry.register(o, youngH[i], o)
  }
  young.length = 0
  youngH.length = 0
}

export function own(obj: object, h: number): void {
  const o = obj as Tracked
  o[SLOT] = young.length
  young.push(o)
  youngH.push(h)
  if (!flushQueued) {
    flushQueued = true
    queueMicrotask(flush)
  }
}

/** Stops tracking `obj` (it is being closed). */
export function forget(obj: object): void {
  const o = obj as Tracked
  const i = o[SLOT]
  if (i >= 0) {
    const last = young.pop()!
    const lastH = youngH.pop()!
    if (last !== o) {
      young[i] = last
      youngH[i] = lastH
      last[SLOT] = i
    }
  } else if (i === -1) {
    registry.unregister(o)
  }
  o[SLOT] = -2
}

/** `h` if it is live, else `ERR_DMABUF_CLOSED` naming the method. */
export function live(h: number, method: string, what: string): number {
  if (h < 0) throw closedError(method, what)
  return h
}

/** What close() does with a handle: releases it if still live; returns the closed marker to store. */
export function closeOnce(obj: object, h: number): number {
  if (h >= 0) disown(obj, h)
  return -1
}

export function disown(obj: object, h: number): void {
  forget(obj)
  closeHandle(h)
}

/** Closes a handle that no object holds. */
export function closeHandle(h: number): void {
  A[Arg.HANDLE] = h
  nativeClose()
}
