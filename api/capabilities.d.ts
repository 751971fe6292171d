import type * as Native from '../native';
export type { Capabilities, DrmNodeInfo, IoctlSupport } from '../native';
/** Probes heaps, udmabuf, DRM nodes and the dma-buf ioctls of this kernel. */
export declare function capabilities(): Native.Capabilities;
