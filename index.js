"use strict";
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.UnixFdSinkConnection = exports.UnixFdSink = exports.UnixFdSrc = exports.UnixFdBuffer = exports.KmsAtomic = exports.KmsPropertyBlob = exports.Framebuffer = exports.Card = exports.parseDrmFormat = exports.drmFormats = exports.drmFormatString = exports.drmModifierName = exports.drmFourccName = exports.drmFourcc = exports.Frame = exports.Decoder = exports.Encoder = exports.M2mQueue = exports.M2mDevice = exports.V4l2DmaBufQueue = exports.V4l2Device = exports.DvbFrontend = exports.DvbDemux = exports.DVB = exports.inspect = exports.Listener = exports.Channel = exports.fdFromProcess = exports.PassedFd = exports.MAX_QUEUED_FDS = exports.MAX_HEADER = exports.MAX_FDS = exports.VulkanFence = exports.VulkanSemaphore = exports.VulkanImage = exports.VulkanBuffer = exports.Vulkan = exports.DRM_FORMAT_MOD_INVALID = exports.DRM_FORMAT_MOD_LINEAR = exports.DrmDevice = exports.GemHandle = exports.capabilities = exports.listHeaps = exports.Heap = exports.createUdmabuf = exports.Udmabuf = exports.SyncFile = exports.Mapping = exports.CpuAccess = exports.DmaBuf = void 0;
exports.gstFormatName = exports.gstFormatFourcc = exports.capsLayout = exports.capsForFrame = exports.printCaps = exports.parseCaps = void 0;
var dma_buf_1 = require("./api/dma-buf");
Object.defineProperty(exports, "DmaBuf", { enumerable: true, get: function () { return dma_buf_1.DmaBuf; } });
Object.defineProperty(exports, "CpuAccess", { enumerable: true, get: function () { return dma_buf_1.CpuAccess; } });
Object.defineProperty(exports, "Mapping", { enumerable: true, get: function () { return dma_buf_1.Mapping; } });
var sync_file_1 = require("./api/sync-file");
Object.defineProperty(exports, "SyncFile", { enumerable: true, get: function () { return sync_file_1.SyncFile; } });
var udmabuf_1 = require("./api/udmabuf");
Object.defineProperty(exports, "Udmabuf", { enumerable: true, get: function () { return udmabuf_1.Udmabuf; } });
Object.defineProperty(exports, "createUdmabuf", { enumerable: true, get: function () { return udmabuf_1.createUdmabuf; } });
var heap_1 = require("./api/heap");
Object.defineProperty(exports, "Heap", { enumerable: true, get: function () { return heap_1.Heap; } });
Object.defineProperty(exports, "listHeaps", { enumerable: true, get: function () { return heap_1.listHeaps; } });
var capabilities_1 = require("./api/capabilities");
Object.defineProperty(exports, "capabilities", { enumerable: true, get: function () { return capabilities_1.capabilities; } });
var drm_1 = require("./api/drm");
Object.defineProperty(exports, "GemHandle", { enumerable: true, get: function () { return drm_1.GemHandle; } });
Object.defineProperty(exports, "DrmDevice", { enumerable: true, get: function () { return drm_1.DrmDevice; } });
var vulkan_1 = require("./api/vulkan");
Object.defineProperty(exports, "DRM_FORMAT_MOD_LINEAR", { enumerable: true, get: function () { return vulkan_1.DRM_FORMAT_MOD_LINEAR; } });
Object.defineProperty(exports, "DRM_FORMAT_MOD_INVALID", { enumerable: true, get: function () { return vulkan_1.DRM_FORMAT_MOD_INVALID; } });
Object.defineProperty(exports, "Vulkan", { enumerable: true, get: function () { return vulkan_1.Vulkan; } });
var vulkan_resources_1 = require("./api/vulkan-resources");
Object.defineProperty(exports, "VulkanBuffer", { enumerable: true, get: function () { return vulkan_resources_1.VulkanBuffer; } });
Object.defineProperty(exports, "VulkanImage", { enumerable: true, get: function () { return vulkan_resources_1.VulkanImage; } });
Object.defineProperty(exports, "VulkanSemaphore", { enumerable: true, get: function () { return vulkan_resources_1.VulkanSemaphore; } });
Object.defineProperty(exports, "VulkanFence", { enumerable: true, get: function () { return vulkan_resources_1.VulkanFence; } });
var channel_1 = require("./api/channel");
Object.defineProperty(exports, "MAX_FDS", { enumerable: true, get: function () { return channel_1.MAX_FDS; } });
Object.defineProperty(exports, "MAX_HEADER", { enumerable: true, get: function () { return channel_1.MAX_HEADER; } });
Object.defineProperty(exports, "MAX_QUEUED_FDS", { enumerable: true, get: function () { return channel_1.MAX_QUEUED_FDS; } });
Object.defineProperty(exports, "PassedFd", { enumerable: true, get: function () { return channel_1.PassedFd; } });
Object.defineProperty(exports, "fdFromProcess", { enumerable: true, get: function () { return channel_1.fdFromProcess; } });
Object.defineProperty(exports, "Channel", { enumerable: true, get: function () { return channel_1.Channel; } });
Object.defineProperty(exports, "Listener", { enumerable: true, get: function () { return channel_1.Listener; } });
var inspect_1 = require("./api/inspect");
Object.defineProperty(exports, "inspect", { enumerable: true, get: function () { return inspect_1.inspect; } });
var dvb_1 = require("./api/dvb");
Object.defineProperty(exports, "DVB", { enumerable: true, get: function () { return dvb_1.DVB; } });
Object.defineProperty(exports, "DvbDemux", { enumerable: true, get: function () { return dvb_1.DvbDemux; } });
Object.defineProperty(exports, "DvbFrontend", { enumerable: true, get: function () { return dvb_1.DvbFrontend; } });
var v4l2_1 = require("./api/v4l2");
Object.defineProperty(exports, "V4l2Device", { enumerable: true, get: function () { return v4l2_1.V4l2Device; } });
Object.defineProperty(exports, "V4l2DmaBufQueue", { enumerable: true, get: function () { return v4l2_1.V4l2DmaBufQueue; } });
var m2m_1 = require("./api/m2m");
Object.defineProperty(exports, "M2mDevice", { enumerable: true, get: function () { return m2m_1.M2mDevice; } });
Object.defineProperty(exports, "M2mQueue", { enumerable: true, get: function () { return m2m_1.M2mQueue; } });
Object.defineProperty(exports, "Encoder", { enumerable: true, get: function () { return m2m_1.Encoder; } });
Object.defineProperty(exports, "Decoder", { enumerable: true, get: function () { return m2m_1.Decoder; } });
var frame_1 = require("./api/frame");
Object.defineProperty(exports, "Frame", { enumerable: true, get: function () { return frame_1.Frame; } });
Object.defineProperty(exports, "drmFourcc", { enumerable: true, get: function () { return frame_1.drmFourcc; } });
Object.defineProperty(exports, "drmFourccName", { enumerable: true, get: function () { return frame_1.drmFourccName; } });
Object.defineProperty(exports, "drmModifierName", { enumerable: true, get: function () { return frame_1.drmModifierName; } });
Object.defineProperty(exports, "drmFormatString", { enumerable: true, get: function () { return frame_1.drmFormatString; } });
Object.defineProperty(exports, "drmFormats", { enumerable: true, get: function () { return frame_1.drmFormats; } });
Object.defineProperty(exports, "parseDrmFormat", { enumerable: true, get: function () { return frame_1.parseDrmFormat; } });
var kms_1 = require("./api/kms");
Object.defineProperty(exports, "Card", { enumerable: true, get: function () { return kms_1.Card; } });
Object.defineProperty(exports, "Framebuffer", { enumerable: true, get: function () { return kms_1.Framebuffer; } });
Object.defineProperty(exports, "KmsPropertyBlob", { enumerable: true, get: function () { return kms_1.KmsPropertyBlob; } });
Object.defineProperty(exports, "KmsAtomic", { enumerable: true, get: function () { return kms_1.KmsAtomic; } });
var unixfd_1 = require("./api/unixfd");
Object.defineProperty(exports, "UnixFdBuffer", { enumerable: true, get: function () { return unixfd_1.UnixFdBuffer; } });
Object.defineProperty(exports, "UnixFdSrc", { enumerable: true, get: function () { return unixfd_1.UnixFdSrc; } });
Object.defineProperty(exports, "UnixFdSink", { enumerable: true, get: function () { return unixfd_1.UnixFdSink; } });
Object.defineProperty(exports, "UnixFdSinkConnection", { enumerable: true, get: function () { return unixfd_1.UnixFdSinkConnection; } });
Object.defineProperty(exports, "parseCaps", { enumerable: true, get: function () { return unixfd_1.parseCaps; } });
Object.defineProperty(exports, "printCaps", { enumerable: true, get: function () { return unixfd_1.printCaps; } });
Object.defineProperty(exports, "capsForFrame", { enumerable: true, get: function () { return unixfd_1.capsForFrame; } });
Object.defineProperty(exports, "capsLayout", { enumerable: true, get: function () { return unixfd_1.capsLayout; } });
Object.defineProperty(exports, "gstFormatFourcc", { enumerable: true, get: function () { return unixfd_1.gstFormatFourcc; } });
Object.defineProperty(exports, "gstFormatName", { enumerable: true, get: function () { return unixfd_1.gstFormatName; } });
