import type * as Native from '../native';
export type { Inspection, InspectBuffer, InspectHolder, InspectProcess, InspectExporter, InspectUnreadable } from '../native';
/**
 * One pass over /proc: every dma-buf the caller may see, who holds it by
 * fd, who maps it, per-process totals with PSS, per-exporter totals, and
 * the processes that could not be read. `pids` limits the scan.
 */
export declare function inspect(options?: {
    pids?: number[];
}): Native.Inspection;
