// What this kernel offers (crates/dmabuf/src/caps.rs).

import type * as Native from '../native'
import { native } from '../internal/native'

export type { Capabilities, DrmNodeInfo, IoctlSupport } from '../native'

/** Probes heaps, udmabuf, DRM nodes and the dma-buf ioctls of this kernel. */
export function capabilities(): Native.Capabilities {
  return native.capabilities()
}
