/** A new wait id (a u32, as the native cancel functions take it). */
export declare function waitId(): number;
/** `signal` checked: undefined or an AbortSignal (else ERR_INVALID_ARG_TYPE) that has not aborted (else an AbortError). */
export declare function liveSignal(M: string, signal: unknown): AbortSignal | undefined;
/**
 * Awaits `pending`, a native wait started with `id` that resolves null once
 * `cancel(id)` ran: `signal` aborting runs it, and the wait then rejects
 * with an AbortError. Any other value (null on a timeout too) as it came.
 */
export declare function abortable<T>(M: string, signal: AbortSignal | undefined, id: number, pending: Promise<T | null>, cancel: (id: number) => void): Promise<T | null>;
/** A ref'd timer of `ms` (it keeps the process alive), or an AbortError as soon as `signal` aborts. */
export declare function sleep(M: string, ms: number, signal: AbortSignal | undefined): Promise<void>;
