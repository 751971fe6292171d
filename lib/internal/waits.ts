// Native waits that JavaScript may cancel, and AbortSignal handling.

import { abortError, invalidType } from './errors'

/** Ids of native waits that JavaScript may cancel (each family's cancel function ends only its own). */
let nextWait = 1

/** A new wait id (a u32, as the native cancel functions take it). */
export function waitId(): number {
  return nextWait++ >>> 0
}

/** `signal` checked: undefined or an AbortSignal (else ERR_INVALID_ARG_TYPE) that has not aborted (else an AbortError). */
export function liveSignal(M: string, signal: unknown): AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(M, 'signal', 'an instance of AbortSignal', signal)
  if (signal?.aborted) throw abortError(M, signal)
  return signal
}

/**
 * Awaits `pending`, a native wait started with `id` that resolves null once
 * `cancel(id)` ran: `signal` aborting runs it, and the wait then rejects
 * with an AbortError. Any other value (null on a timeout too) as it came.
 */
export async function abortable<T>(M: string, signal: AbortSignal | undefined, id: number, pending: Promise<T | null>, cancel: (id: number) => void): Promise<T | null> {
  if (signal === undefined) return await pending
  const onAbort = (): void => cancel(id)
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const r = await pending
    if (r === null && signal.aborted) throw abortError(M, signal)
    return r
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** A ref'd timer of `ms` (it keeps the process alive), or an AbortError as soon as `signal` aborts. */
export function sleep(M: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(M, signal))
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortError(M, signal!))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
