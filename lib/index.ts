// The public API of the `dmabuf` package: classes in TypeScript over the
// thin native layer (crates/dmabuf-node, loaded through native.js). This
// file only re-exports; each kernel interface has its module under api/
// (named as crates/dmabuf's modules), over the shared pieces in internal/:
//
//   internal/  errors, validators, lifetime (handles and the GC backstop),
//              waits (AbortSignal), native (the loader and the argument
//              array), generated/slots (its layout, generated from Rust)
//   api/       dma-buf, sync-file, heap, udmabuf, drm, capabilities, vulkan
//              (+ vulkan-resources), channel (fd passing), inspect, dvb, v4l2,
//              frame, kms, unixfd (+ unixfd-caps)
//
// Every object holds a *handle* to a kernel object that lives in the native
// layer's per-thread table (a stale or forged handle is refused there, never
// mistaken for another object). Compiled by `tsc -p tsconfig.json` into
// index.js and index.d.ts at the package root, and api/ and internal/ beside
// them.

export { type Access, type DmaBufInfo, DmaBuf, CpuAccess, Mapping } from './api/dma-buf'
export { type SyncFileInfo, type FenceInfo, SyncFile } from './api/sync-file'
export { type MemfdRange, Udmabuf, createUdmabuf } from './api/udmabuf'
export { Heap, listHeaps } from './api/heap'
export { type Capabilities, type DrmNodeInfo, type IoctlSupport, capabilities } from './api/capabilities'
export { GemHandle, DrmDevice } from './api/drm'
export {
  type VulkanHandleType,
  type VulkanFormat,
  type VulkanCapabilities,
  type VulkanHandleSupport,
  type VulkanSyncFdSupport,
  type VulkanModifier,
  type VulkanImageLayout,
  type VulkanPlane,
  type VulkanOpenOptions,
  type VulkanBufferOptions,
  type VulkanImportOptions,
  type VulkanImageOptions,
  type VulkanImageImport,
  DRM_FORMAT_MOD_LINEAR,
  DRM_FORMAT_MOD_INVALID,
  Vulkan,
} from './api/vulkan'
export { VulkanBuffer, VulkanImage, VulkanSemaphore, VulkanFence } from './api/vulkan-resources'
export { type SocketType, type Passable, type Message, MAX_FDS, MAX_HEADER, MAX_QUEUED_FDS, PassedFd, fdFromProcess, Channel, Listener } from './api/channel'
export {
  type Inspection,
  type InspectBuffer,
  type InspectHolder,
  type InspectProcess,
  type InspectExporter,
  type InspectUnreadable,
  inspect,
} from './api/inspect'
export { type DvbBufferInfo, type DvbFrontendInfo, type DvbPesOutput, type DvbSectionFilter, DVB, DvbDemux, DvbFrontend } from './api/dvb'
export {
  type V4l2Caps,
  type V4l2Format,
  type V4l2PlaneFormat,
  type V4l2BufferInfo,
  type V4l2PlaneInfo,
  type V4l2ControlInfo,
  type V4l2Node,
  type V4l2BufType,
  type V4l2FormatRequest,
  type V4l2Dequeued,
  V4l2Device,
  V4l2DmaBufQueue,
} from './api/v4l2'
export {
  type M2mNode,
  type M2mStatus,
  type M2mQueueName,
  type M2mMemory,
  type M2mQueueOptions,
  type M2mDequeued,
  type V4l2FormatDesc,
  type V4l2Event,
  type V4l2Rect,
  type V4l2MenuItem,
  type V4l2ControlValue,
  type EncoderOptions,
  type EncodedChunk,
  type DecoderOptions,
  type DecodedFrame,
  M2mDevice,
  M2mQueue,
  Encoder,
  Decoder,
} from './api/m2m'
export {
  type FrameFormatInfo,
  type FrameOptions,
  type FramePlane,
  Frame,
  drmFourcc,
  drmFourccName,
  drmModifierName,
  drmFormatString,
  drmFormats,
  parseDrmFormat,
} from './api/frame'
export {
  type CardOpenOptions,
  type KmsCommitOptions,
  type KmsValue,
  type KmsMode,
  type KmsConnector,
  type KmsCrtc,
  type KmsPlane,
  type KmsProperty,
  type KmsEvent,
  Card,
  Framebuffer,
  KmsPropertyBlob,
  KmsAtomic,
} from './api/kms'
export {
  type ClockTime,
  type UnixFdBufferInfo,
  type UnixFdMemory,
  type Caps,
  type CapsValue,
  type CapsLayout,
  UnixFdBuffer,
  UnixFdSrc,
  UnixFdSink,
  UnixFdSinkConnection,
  parseCaps,
  printCaps,
  capsForFrame,
  capsLayout,
  gstFormatFourcc,
  gstFormatName,
} from './api/unixfd'
