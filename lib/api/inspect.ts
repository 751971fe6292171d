// The /proc inspection (crates/dmabuf/src/inspect.rs).

import type * as Native from '../native'
import { invalidType } from '../internal/errors'
import { native } from '../internal/native'
import { handles, uint } from '../internal/validators'

export type { Inspection, InspectBuffer, InspectHolder, InspectProcess, InspectExporter, InspectUnreadable } from '../native'

/**
 * One pass over /proc: every dma-buf the caller may see, who holds it by
 * fd, who maps it, per-process totals with PSS, per-exporter totals, and
 * the processes that could not be read. `pids` limits the scan.
 */
export function inspect(options?: { pids?: number[] }): Native.Inspection {
  const M = 'inspect'
  if (options === undefined) return native.inspect(null)
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType(M, 'options', 'of type object', options)
  const p = (options as { pids?: unknown }).pids
  if (p === undefined) return native.inspect(null)
  const list = handles(M, 'options.pids', p, (v, i) => uint(M, `options.pids[${i}]`, v, 2 ** 32 - 1))
  return native.inspect(Array.from(list))
}
