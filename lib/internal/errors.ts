// Errors shaped like Node's own: `code` is the errno name or an ERR_* code.

export interface NodeError extends Error {
  code: string
}

export function nodeError<E extends Error>(Ctor: new (message: string) => E, code: string, message: string): E & NodeError {
  const e = new Ctor(message) as E & NodeError
  e.code = code
  return e
}

/** An error as a failed system call gives it: `code` the errno name, `errno` negative, `syscall` the call (or ioctl) that would have failed. */
export function osError(code: string, errno: number, syscall: string, message: string): Error & NodeError & { errno: number; syscall: string } {
  const e = nodeError(Error, code, `${code}: ${message}`) as Error & NodeError & { errno: number; syscall: string }
  e.errno = -errno
  e.syscall = syscall
  return e
}

export function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (typeof v === 'function') return `function ${(v as { name?: string }).name || '(anonymous)'}`
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name
    return name ? `an instance of ${name}` : 'an object'
  }
  if (typeof v === 'string') return `type string (${JSON.stringify(v.length > 28 ? v.slice(0, 25) + '...' : v)})`
  if (typeof v === 'number') return `type number (${String(v)})`
  return `type ${typeof v} (${String(v)})`
}

export function invalidType(method: string, name: string, expected: string, got: unknown): TypeError {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `${method}: The "${name}" argument must be ${expected}. Received ${describe(got)}`)
}

export function invalidValue(method: string, name: string, message: string): TypeError {
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `${method}: The argument "${name}" ${message}`)
}

export function outOfRange(method: string, name: string, expected: string, got: unknown): RangeError {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `${method}: The value of "${name}" is out of range. It must be ${expected}. Received ${String(got)}`)
}

export function invalidThis(method: string, cls: string): TypeError {
  return nodeError(TypeError, 'ERR_INVALID_THIS', `${method}: Value of "this" must be of type ${cls}`)
}

export function illegalConstructor(cls: string): TypeError {
  return nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', `Illegal constructor: ${cls} objects come from factory functions (see the README)`)
}

export function closedError(method: string, cls: string): Error {
  return nodeError(Error, 'ERR_DMABUF_CLOSED', `${method}: the ${cls} is closed`)
}

export function abortError(method: string, signal: AbortSignal): Error {
  const e = nodeError(Error, 'ABORT_ERR', `${method}: The operation was aborted`) as Error & { cause?: unknown }
  e.name = 'AbortError'
  e.cause = signal.reason
  return e
}
