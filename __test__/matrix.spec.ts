// The generated bad-input matrix (hardening issue): every public function,
// constructor, method, getter and parameter of the package, against
// hostile values, each case run in a child process (in batches: a crash is
// counted, then the batch goes on after it), with the fds counted before
// and after every case. Every case must end in a Node-style error (a code
// such as ENOTTY, ERR_INVALID_ARG_TYPE, ABORT_ERR) or in an accepted value
// the table marks as valid; prints
//   matrix: N cases, C crashes, L leaks, U unclear
// The table lists the public surface; a test fails when the package grows a
// public method, getter or function that the table does not list.

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

import test from 'ava'
import * as dmabuf from 'dmabuf'

import { vgemTest } from './helpers.js'

const root = resolve(__dirname, '..', '..')

/** What a parameter takes; each kind has its own hostile values (in the child script). */
type Kind =
  | 'fd' | 'uint' | 'optUint' | 'size' | 'u32' | 'access' | 'optAccess' | 'string' | 'optString' | 'heapName' | 'path'
  | 'optPath' | 'optBool' | 'bytes' | 'timeout' | 'signal' | 'DmaBuf' | 'SyncFile' | 'GemHandle' | 'DmaBufs' | 'ranges'
  | 'memfd'
  // GStreamer's unixfd protocol
  | 'ufSinkOpts' | 'capsString' | 'capsObj' | 'optFramerate' | 'ufMemories' | 'ufInfo' | 'ufId'
  | 'format' | 'optUints' | 'int'
  | 'pid' | 'optPesOutput' | 'sectionFilter' | 'dvbProps' | 'optDvbProps' | 'u32s'
  | 'vkOpenOptions' | 'vkFormat' | 'vkBufferOptions' | 'vkImportOptions' | 'vkImageOptions' | 'vkImageImport' | 'vkSubmit'
  | 'VulkanBuffer' | 'VulkanBuffer2' | 'VulkanImage' | 'optSyncFile' | 'vkFrame' | 'vkFrameOptions'
  // fdpass and inspect
  | 'header' | 'passables' | 'sendOpts' | 'recvOpts' | 'chanFrame' | 'sockType' | 'sockOpts' | 'listenAddress' | 'connectAddress' | 'inspectOpts'
  // frames
  | 'fourccName' | 'modifier' | 'drmFormat' | 'frameInit' | 'v4l2FrameFormat' | 'v4l2FrameBuffer' | 'frameBufs'
  // kms
  | 'cardOpts' | 'kmsMode' | 'Frame' | 'optKmsPlane' | 'propName' | 'kmsValue' | 'commitOpts'
  // memory-to-memory devices and codecs
  | 'm2mMemory' | 'm2mQueueOpts' | 'ctlIds' | 'ctlValues' | 'encoderOpts' | 'decoderOpts' | 'encodeFrame' | 'timestampUs'

/**
 * The public surface. `Class.name` is static, `Class#name` a method on an
 * instance, `Class#.name` a getter, `name` a module function, `new Class`
 * a public constructor.
 */
const SURFACE: Record<string, Kind[]> = {
  'DmaBuf.fromFd': ['fd'],
  'DmaBuf.exportSyncFiles': ['DmaBufs', 'access'],
  'DmaBuf.importSyncFileAll': ['DmaBufs', 'SyncFile', 'access'],
  'DmaBuf#.fd': [], 'DmaBuf#.size': [], 'DmaBuf#.closed': [],
  'DmaBuf#info': [], 'DmaBuf#setName': ['string'], 'DmaBuf#dup': [], 'DmaBuf#close': [],
  'DmaBuf#beginCpuAccess': ['access'], 'DmaBuf#map': ['optAccess', 'optUint', 'optUint'],
  'DmaBuf#read': ['uint', 'uint'], 'DmaBuf#write': ['uint', 'bytes'],
  'DmaBuf#exportSyncFile': ['access'], 'DmaBuf#importSyncFile': ['SyncFile', 'access'],
  'CpuAccess#.access': [], 'CpuAccess#.active': [], 'CpuAccess#end': [],
  'Mapping#.buffer': [], 'Mapping#.offset': [], 'Mapping#.length': [], 'Mapping#.access': [], 'Mapping#.mapped': [],
  'Mapping#unmap': [],
  'SyncFile.fromFd': ['fd'],
  'SyncFile#.fd': [], 'SyncFile#.closed': [], 'SyncFile#close': [], 'SyncFile#dup': [], 'SyncFile#info': [],
  'SyncFile#merge': ['SyncFile', 'optString'], 'SyncFile#isSignaled': [], 'SyncFile#waitSync': ['timeout'],
  'SyncFile#wait': ['timeout', 'signal'],
  'Udmabuf.open': ['optPath'],
  'Udmabuf#alloc': ['size'], 'Udmabuf#allocWithMemfd': ['size'], 'Udmabuf#create': ['memfd', 'uint', 'size'],
  'Udmabuf#createList': ['ranges'], 'Udmabuf#close': [],
  'Heap.open': ['heapName'], 'Heap#.name': [], 'Heap#alloc': ['size', 'optAccess'], 'Heap#close': [],
  'GemHandle#.handle': [], 'GemHandle#close': [],
  'DrmDevice.open': ['path'], 'DrmDevice.openDriver': ['string', 'optBool'], 'DrmDevice.list': [],
  'DrmDevice#driverName': [], 'DrmDevice#createDumb': ['u32', 'u32', 'u32'], 'DrmDevice#export': ['GemHandle', 'optAccess'],
  'DrmDevice#import': ['DmaBuf'], 'DrmDevice#handleUsers': ['u32'], 'DrmDevice#vgemFenceAttach': ['GemHandle', 'optBool'],
  'DrmDevice#vgemFenceSignal': ['u32'], 'DrmDevice#close': [],
  createUdmabuf: ['size'], listHeaps: [], capabilities: [],
  'Vulkan.available': [], 'Vulkan.open': ['vkOpenOptions'],
  'Vulkan#.deviceName': [], 'Vulkan#.closed': [], 'Vulkan#capabilities': [], 'Vulkan#modifiers': ['vkFormat'],
  'Vulkan#createBuffer': ['size', 'vkBufferOptions'], 'Vulkan#exportBuffer': ['size', 'vkBufferOptions'],
  'Vulkan#importBuffer': ['DmaBuf', 'vkImportOptions'], 'Vulkan#createImage': ['vkImageOptions'],
  'Vulkan#importImage': ['DmaBuf', 'vkImageImport'], 'Vulkan#importFrame': ['vkFrame', 'vkFrameOptions'], 'Vulkan#fill': ['VulkanBuffer', 'u32', 'optUint', 'optUint'],
  'Vulkan#copy': ['VulkanBuffer', 'VulkanBuffer2', 'optUint', 'optUint', 'optUint'],
  'Vulkan#copyBufferToImage': ['VulkanBuffer', 'VulkanImage'], 'Vulkan#createSemaphore': [], 'Vulkan#createFence': [],
  'Vulkan#submit': ['vkSubmit'], 'Vulkan#close': [],
  'VulkanBuffer#.size': [], 'VulkanBuffer#.hostVisible': [], 'VulkanBuffer#.closed': [], 'VulkanBuffer#exportDmaBuf': [],
  'VulkanBuffer#close': [],
  'VulkanImage#.width': [], 'VulkanImage#.height': [], 'VulkanImage#.format': [], 'VulkanImage#.closed': [],
  'VulkanImage#layout': [], 'VulkanImage#exportDmaBuf': [], 'VulkanImage#toFrame': [], 'VulkanImage#close': [],
  'VulkanSemaphore#.closed': [], 'VulkanSemaphore#exportSyncFile': [], 'VulkanSemaphore#importSyncFile': ['optSyncFile'],
  'VulkanSemaphore#close': [],
  'VulkanFence#.closed': [], 'VulkanFence#exportSyncFile': [], 'VulkanFence#importSyncFile': ['optSyncFile'],
  'VulkanFence#wait': ['timeout', 'signal'], 'VulkanFence#waitSync': ['timeout'], 'VulkanFence#reset': [], 'VulkanFence#close': [],
  // fdpass and inspect
  'DmaBuf.fromProcess': ['uint', 'fd'], fdFromProcess: ['uint', 'fd'], inspect: ['inspectOpts'],
  'Channel.pair': ['sockType'], 'Channel.connect': ['connectAddress', 'sockOpts'], 'Channel.listen': ['listenAddress', 'sockOpts'],
  'Channel.fromFd': ['fd'],
  'Channel#.fd': [], 'Channel#.type': [], 'Channel#.closed': [], 'Channel#send': ['header', 'passables', 'sendOpts'],
  'Channel#receive': ['recvOpts'], 'Channel#close': [],
  'Channel#sendFrame': ['chanFrame', 'sendOpts'], 'Channel#receiveFrame': ['sendOpts'],
  'Listener#.fd': [], 'Listener#.address': [], 'Listener#.closed': [], 'Listener#accept': ['sendOpts'], 'Listener#close': [],
  'PassedFd#.fd': [], 'PassedFd#.closed': [], 'PassedFd#dup': [], 'PassedFd#close': [],
  MAX_FDS: [], MAX_HEADER: [], MAX_QUEUED_FDS: [],
  'V4l2Device.open': ['path'], 'V4l2Device.list': [], 'V4l2Device#.bufType': [], 'V4l2Device#capabilities': [],
  'V4l2Device#format': [], 'V4l2Device#setFormat': ['format', 'optBool'], 'V4l2Device#tryFormat': ['format'],
  'V4l2Device#setFrameInterval': ['u32', 'u32'], 'V4l2Device#requestBuffers': ['u32'], 'V4l2Device#queryBuffer': ['u32'],
  'V4l2Device#exportBuffer': ['u32', 'optUint', 'optAccess'], 'V4l2Device#queue': ['u32', 'optUints'],
  'V4l2Device#tryDequeue': [], 'V4l2Device#dequeue': ['timeout', 'signal'], 'V4l2Device#streamOn': [],
  'V4l2Device#streamOff': [], 'V4l2Device#getControl': ['u32'], 'V4l2Device#setControl': ['u32', 'int'],
  'V4l2Device#findControl': ['string'], 'V4l2Device#setInput': ['u32'], 'V4l2Device#setOutput': ['u32'],
  'V4l2Device#dmabufQueue': ['u32'], 'V4l2Device#close': [],
  'V4l2DmaBufQueue#queue': ['DmaBufs', 'optUints', 'optUints'], 'V4l2DmaBufQueue#tryDequeue': [],
  'V4l2DmaBufQueue#dequeue': ['timeout', 'signal'], 'V4l2DmaBufQueue#.queued': [], 'V4l2DmaBufQueue#streamOn': [],
  'V4l2DmaBufQueue#streamOff': [], 'V4l2DmaBufQueue#close': [],
  'DvbDemux.open': ['path'], 'DvbDemux.list': [], 'DvbDemux#.fd': [], 'DvbDemux#.closed': [],
  'DvbDemux#setPesFilter': ['pid', 'optPesOutput', 'optBool'], 'DvbDemux#setSectionFilter': ['sectionFilter', 'optBool'],
  'DvbDemux#start': [], 'DvbDemux#stop': [], 'DvbDemux#setBufferSize': ['u32'], 'DvbDemux#requestBuffers': ['u32', 'u32'],
  'DvbDemux#queryBuffer': ['u32'], 'DvbDemux#exportBuffer': ['u32', 'optAccess'], 'DvbDemux#queue': ['u32'],
  'DvbDemux#tryDequeue': [], 'DvbDemux#dequeue': ['timeout', 'signal'], 'DvbDemux#close': [],
  'DvbFrontend.open': ['path'], 'DvbFrontend.list': [], 'DvbFrontend#.closed': [], 'DvbFrontend#info': [],
  'DvbFrontend#status': [], 'DvbFrontend#setProperties': ['dvbProps'], 'DvbFrontend#getProperties': ['u32s'],
  'DvbFrontend#tune': ['u32', 'u32', 'optDvbProps'], 'DvbFrontend#waitForLock': ['timeout', 'signal'], 'DvbFrontend#close': [],
  // frames (a fourcc code is any u32: the 'u32' kind's hostile values are all out of its range)
  drmFourcc: ['fourccName'], drmFourccName: ['u32'], drmModifierName: ['modifier'], parseDrmFormat: ['drmFormat'],
  drmFormatString: ['u32', 'modifier'], drmFormats: [],
  'new Frame': ['frameInit'], 'Frame.fromV4l2': ['v4l2FrameFormat', 'v4l2FrameBuffer', 'frameBufs'],
  'Frame#.formatName': [], 'Frame#.drmFormat': [], 'Frame#close': [],
  // kms (instances need vkms: the custom-kernel tier; elsewhere only Card.open runs)
  'Card.open': ['optPath', 'cardOpts'], 'Card#.closed': [], 'Card#.path': [], 'Card#.isMaster': [], 'Card#driverName': [],
  'Card#connectors': [], 'Card#crtcs': [], 'Card#planes': [], 'Card#properties': ['u32'], 'Card#createModeBlob': ['kmsMode'],
  'Card#addFramebuffer': ['Frame', 'optKmsPlane'], 'Card#enableWriteback': [], 'Card#atomic': [],
  'Card#nextEvents': ['timeout', 'signal'], 'Card#close': [],
  'Framebuffer#.id': [], 'Framebuffer#.closed': [], 'Framebuffer#close': [],
  'KmsPropertyBlob#.id': [], 'KmsPropertyBlob#.closed': [], 'KmsPropertyBlob#close': [],
  'KmsAtomic#set': ['u32', 'propName', 'kmsValue'], 'KmsAtomic#inFence': ['u32', 'SyncFile'], 'KmsAtomic#outFence': ['u32'],
  'KmsAtomic#writebackOutFence': ['u32'], 'KmsAtomic#test': ['commitOpts'], 'KmsAtomic#commit': ['commitOpts'],
  // memory-to-memory devices (instances need vicodec: the custom-kernel and ARM tiers)
  'M2mDevice.open': ['path'], 'M2mDevice.list': [], 'M2mDevice#.output': [], 'M2mDevice#.capture': [], 'M2mDevice#.role': [],
  'M2mDevice#.state': [], 'M2mDevice#status': [], 'M2mDevice#capabilities': [], 'M2mDevice#visibleRect': [], 'M2mDevice#controls': [],
  'M2mDevice#menu': ['u32'], 'M2mDevice#getControls': ['ctlIds'], 'M2mDevice#setControls': ['ctlValues'], 'M2mDevice#tryControls': ['ctlValues'],
  'M2mDevice#nextEvent': ['timeout', 'signal'], 'M2mDevice#tryNextEvent': [], 'M2mDevice#drain': [], 'M2mDevice#start': [],
  'M2mDevice#reset': [], 'M2mDevice#close': [],
  'M2mQueue#.name': [], 'M2mQueue#formats': [], 'M2mQueue#format': [], 'M2mQueue#setFormat': ['format', 'optBool'],
  'M2mQueue#tryFormat': ['format'], 'M2mQueue#requestBuffers': ['u32', 'm2mMemory'], 'M2mQueue#exportBuffer': ['u32'],
  'M2mQueue#queue': ['u32', 'm2mQueueOpts'], 'M2mQueue#queueDmaBuf': ['DmaBufs', 'm2mQueueOpts'], 'M2mQueue#tryDequeue': [],
  'M2mQueue#dequeue': ['timeout', 'signal'], 'M2mQueue#streamOn': [], 'M2mQueue#streamOff': [], 'M2mQueue#.queued': [],
  'M2mQueue#.streaming': [],
  'Encoder.open': ['encoderOpts'], 'Encoder#.device': [], 'Encoder#.format': [], 'Encoder#.codedFormat': [],
  'Encoder#encode': ['encodeFrame', 'timestampUs'], 'Encoder#read': ['timeout', 'signal'], 'Encoder#flush': [], 'Encoder#close': [],
  'Decoder.open': ['decoderOpts'], 'Decoder#.device': [], 'Decoder#.format': [], 'Decoder#decode': ['bytes', 'timestampUs'],
  'Decoder#read': ['timeout', 'signal'], 'Decoder#flush': [], 'Decoder#close': [],
  // GStreamer's unixfd protocol (instances: a UnixFdSink on an abstract socket, a UnixFdSrc connected to it,
  // the accepted connection and one buffer received over it, made per case)
  'UnixFdSrc.connect': ['connectAddress'], 'UnixFdSrc#.caps': [], 'UnixFdSrc#.ended': [], 'UnixFdSrc#.fd': [], 'UnixFdSrc#.closed': [],
  'UnixFdSrc#read': ['sendOpts'], 'UnixFdSrc#close': [],
  'UnixFdSink.listen': ['listenAddress', 'ufSinkOpts'], 'UnixFdSink#.address': [], 'UnixFdSink#.caps': [], 'UnixFdSink#.fd': [],
  'UnixFdSink#.closed': [], 'UnixFdSink#accept': ['sendOpts'], 'UnixFdSink#close': [],
  'UnixFdSinkConnection#.inFlight': [], 'UnixFdSinkConnection#.closed': [], 'UnixFdSinkConnection#.fd': [],
  'UnixFdSinkConnection#setCaps': ['capsString'], 'UnixFdSinkConnection#send': ['ufMemories', 'ufInfo'],
  'UnixFdSinkConnection#released': ['ufId'], 'UnixFdSinkConnection#end': [], 'UnixFdSinkConnection#close': [],
  'UnixFdBuffer#.released': [], 'UnixFdBuffer#bytes': [], 'UnixFdBuffer#map': ['optUint'], 'UnixFdBuffer#frame': [], 'UnixFdBuffer#release': [],
  parseCaps: ['capsString'], printCaps: ['capsObj'], capsForFrame: ['chanFrame', 'optFramerate'], capsLayout: ['capsString'],
  gstFormatFourcc: ['string'], gstFormatName: ['u32'],
}

const CLASSES = ['DmaBuf', 'CpuAccess', 'Mapping', 'SyncFile', 'Udmabuf', 'Heap', 'GemHandle', 'DrmDevice',
  'Vulkan', 'VulkanBuffer', 'VulkanImage', 'VulkanSemaphore', 'VulkanFence', 'Channel', 'Listener', 'PassedFd',
  'V4l2Device', 'V4l2DmaBufQueue', 'DvbDemux', 'DvbFrontend', 'Frame', 'Card', 'Framebuffer', 'KmsPropertyBlob',
  'KmsAtomic', 'M2mDevice', 'M2mQueue', 'Encoder', 'Decoder', 'UnixFdSrc', 'UnixFdSink', 'UnixFdSinkConnection', 'UnixFdBuffer'] as const
/** The DVB classes' instances need a demux (the custom-kernel tier); elsewhere only their statics run. */
const DVB_DEMUX = '/dev/dvb/adapter0/demux0'
/** The KMS classes' instances need vkms (the custom-kernel tier), likewise. */
const VKMS = '/sys/module/vkms'
const KMS_INSTANCE = /^(Card|Framebuffer|KmsPropertyBlob|KmsAtomic)#/
/** The M2M classes' instances need vicodec (the custom-kernel tier; see below for ARM), likewise. */
const M2M_INSTANCE = /^(M2mDevice|M2mQueue|Encoder|Decoder)#/
const hasVicodec = (): boolean => dmabuf.V4l2Device.list().some((n) => n.name === 'stateful-encoder')

test('the matrix lists every public function, static, method and getter of the package', (t) => {
  const seen: string[] = []
  const mod = dmabuf as unknown as Record<string, unknown>
  for (const [name, value] of Object.entries(mod)) {
    if (typeof value !== 'function') {
      // Constants are listed too (they take nothing).
      if (typeof value === 'number') seen.push(name)
      continue
    }
    if ((CLASSES as readonly string[]).includes(name)) {
      // A constructor is public unless it refuses every caller (the factories' classes).
      try {
        Reflect.construct(value, [])
        seen.push(`new ${name}`)
      } catch (e) {
        if (!String((e as Error).message).startsWith('Illegal constructor')) seen.push(`new ${name}`)
      }
      for (const key of Object.getOwnPropertyNames(value)) {
        if (['length', 'name', 'prototype'].includes(key)) continue
        // Internal helpers between the classes (marked @internal: not in index.d.ts) are not part of the API.
        if (key === 'handleOf' || key === 'handleOrClosed' || key === 'isFrame') continue
        seen.push(`${name}.${key}`)
      }
      const proto = (value as { prototype: object }).prototype
      for (const key of Object.getOwnPropertyNames(proto)) {
        if (key === 'constructor') continue
        const d = Object.getOwnPropertyDescriptor(proto, key)!
        seen.push(d.get ? `${name}#.${key}` : `${name}#${key}`)
      }
    } else {
      seen.push(name)
    }
  }
  t.deepEqual(seen.filter((k) => !(k in SURFACE)), [], 'public but not in the matrix')
  t.deepEqual(Object.keys(SURFACE).filter((k) => !seen.includes(k)), [], 'in the matrix but not public')
})

/** The child: makes fresh receivers for each case, runs it, cleans up, prints one JSON line per case. */
const CHILD = String.raw`
const d = require(process.env.DMABUF_ROOT)
const fs = require('fs'), net = require('net'), os = require('os'), path = require('path')
const fds = () => fs.readdirSync('/proc/self/fd').length
const PAGE = 4096
const RGBA16 = 'video/x-raw, format=(string)RGBA, width=(int)16, height=(int)16'
const NODE_CODE = /^(E[A-Z0-9]+|ERR_[A-Z0-9_]+|ABORT_ERR)$/

// Non-dma-buf fds of every kind, made once (they stay open for the whole batch).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmabuf-matrix-'))
const regular = fs.openSync(path.join(tmp, 'f'), 'w+')
const dir = fs.openSync(tmp, 'r')
const devnull = fs.openSync('/dev/null', 'r')
const u0 = d.Udmabuf.open()
const memfdHolder = u0.allocWithMemfd(PAGE)
const memfd = memfdHolder.memfd
memfdHolder.buffer.close()
// A number no fd has here, and none will get during the batch.
const closedFd = 987
try { fs.fstatSync(closedFd); throw new Error('fd 987 is open') } catch (e) { if (e.code !== 'EBADF') throw e }

function wrongTypes(optional) {
  const v = ['7', {}, null, 1n, Symbol('s'), [], () => 1, true, new Date(0), Object.create(null)]
  return optional ? v : [...v, undefined]
}
const numbers = [NaN, Infinity, -Infinity, -1, 1.5, -0.5, 2 ** 32, 2 ** 53, 2 ** 64, Number.MAX_VALUE, -(2 ** 31)]
const strings = ['', 'a\0b', '\uD800', 'x'.repeat(10000), '../x', 'é'.repeat(40)]
function hostile(kind, r) {
  const closedBuf = r.closedBuf, closedSf = r.closedSf
  switch (kind) {
    case 'fd': return [...wrongTypes(false), ...numbers, 0, 1, 2, closedFd, regular, dir, devnull, memfd, 2 ** 31, -2]
    case 'memfd': return [...wrongTypes(false), ...numbers, 0, 1, 2, closedFd, regular, dir, devnull, r.buf.fd, 2 ** 31, -2]
    case 'uint': return [...wrongTypes(false), ...numbers, 2 ** 31]
    case 'optUint': return [...wrongTypes(true), ...numbers]
    case 'size': return [...wrongTypes(false), ...numbers, 0, 2 ** 40, 2 ** 53 - 1]
    case 'u32': return [...wrongTypes(false), ...numbers, 2 ** 32 + 32, 32.7]
    case 'access': return [...wrongTypes(false), 'read', 'R', 'rw ', '', 'x', 'wr', 'r\0']
    case 'optAccess': return [...wrongTypes(true), 'read', 'R', '', 'x']
    case 'string': return [...wrongTypes(false), ...strings]
    case 'optString': return [...wrongTypes(true), ...strings]
    case 'heapName': return [...wrongTypes(false), ...strings, '.', '..', '/', 'system/..', 'nope']
    case 'path': return [...wrongTypes(false), ...strings, '/dev/null', '/', '/proc/self/fd/0', '/nonexistent', tmp]
    case 'optPath': return [...wrongTypes(true), ...strings, '/dev/null', '/', '/dev/dma_heap/system', '/nonexistent', tmp]
    case 'optBool': return [...wrongTypes(true).filter((v) => v !== true), 1, 'true']
    case 'bytes': return [...wrongTypes(false), new Uint16Array(2), new ArrayBuffer(4), Buffer.alloc(2 * PAGE), new DataView(new ArrayBuffer(2))]
    case 'timeout': return [...wrongTypes(true), NaN, -Infinity, -1, -0.5, 1e22, Number.MAX_VALUE, Infinity, 2 ** 64]
    case 'signal': return [...wrongTypes(true), { aborted: false }, { aborted: true }, AbortSignal.abort(), new EventTarget()]
    case 'DmaBuf': return [...wrongTypes(false), closedBuf, r.sf, r.map, r.heap, new Proxy({}, {})]
    case 'SyncFile': return [...wrongTypes(false), closedSf, r.buf, r.map, new Proxy({}, {})]
    case 'GemHandle': return [...wrongTypes(false), r.closedGem, r.buf, r.sf, r.otherGem]
    case 'DmaBufs': {
      const sparse = []; sparse.length = 2 ** 32 - 1
      const holes = []; holes.length = 3
      const long = new Array(5000).fill(r.buf)
      // (An empty batch is valid: it does nothing.)
      return [...wrongTypes(false).filter((v) => !Array.isArray(v)), sparse, holes, long, [r.buf, closedBuf], [r.sf], [r.buf, {}], [null], { length: 1, 0: r.buf }, new Set([r.buf])]
    }
    case 'ranges': {
      const sparse = []; sparse.length = 2 ** 32 - 1
      const holes = []; holes.length = 2
      return [...wrongTypes(false), sparse, holes, [{}], [{ fd: memfd, offset: 1, size: PAGE }], [{ fd: regular, offset: 0, size: PAGE }],
        [{ fd: memfd, offset: 0, size: 2 ** 53 }], [{ fd: closedFd, offset: 0, size: PAGE }], [null], new Array(5000).fill({ fd: memfd, offset: 0, size: PAGE })]
    }
    // Vulkan (crates/dmabuf/src/vulkan.rs): options objects reject everything but a plain object.
    case 'vkOpenOptions': return [...notObject(true), { device: -1 }, { device: 1.5 }, { device: 2 ** 32 }, { device: 99 }, { device: 'nope' }, { device: {} }, { device: null }]
    case 'vkFormat': return [...wrongTypes(false), ...strings, 'YUYV', 'ar24', 'NV12 ', 'AR24\0']
    case 'vkBufferOptions': return [...notObject(true), { export: 'x' }, { export: 1 }, { export: null }, { hostVisible: 1 }, { hostVisible: 'true' }, { hostVisible: false }]
    case 'vkImportOptions': return [...notObject(true), { size: -1 }, { size: 1.5 }, { size: 2 ** 53 }, { size: 100 * PAGE }, { size: 0 }, { hostVisible: 'yes' }, { hostVisible: false }]
    case 'vkImageOptions': {
      const b = { width: 16, height: 16, format: 'AB24' }
      return [...wrongTypes(false), { ...b, format: 'YUYV' }, { ...b, width: 0 }, { ...b, height: 2 ** 32 }, { ...b, width: 1 << 20 }, { ...b, modifiers: [1] },
        { ...b, modifiers: [-1n] }, { ...b, modifiers: [2n ** 64n] }, { ...b, modifiers: [0x0100000000000001n] }, { ...b, modifiers: 'x' },
        { ...b, modifiers: new Array(100).fill(0n) }, { ...b, modifiers: [] }, { ...b, modifiers: [d.DRM_FORMAT_MOD_INVALID] }, { ...b, hostVisible: 0 }]
    }
    case 'vkImageImport': {
      const b = { width: 16, height: 16, format: 'AB24', modifier: 0n, planes: [{ offset: 0, pitch: 64 }] }
      return [...wrongTypes(false), { ...b, modifier: 0 }, { ...b, modifier: -1n }, { ...b, modifier: d.DRM_FORMAT_MOD_INVALID }, { ...b, planes: [] },
        { ...b, planes: [{ offset: 0, pitch: -1 }] }, { ...b, planes: [null] }, { ...b, planes: new Array(5).fill({ offset: 0, pitch: 64 }) },
        { ...b, planes: [{ offset: 2 ** 53, pitch: 64 }] }, { ...b, planes: [{ offset: 0, pitch: 8 }] }, { ...b, planes: [{ offset: 0, pitch: 4096 }] },
        { ...b, width: 1 << 20 }, { ...b, planes: 'x' }, { ...b, format: 'nope' }]
    }
    // Frames Vulkan.importFrame refuses: no Vulkan format (YUYV), planes in
    // two dma-bufs, an offset splitting a texel, a closed frame.
    case 'vkFrame': return [...wrongTypes(false), r.buf, new Proxy({}, {}), Object.create(d.Frame.prototype), ...r.vkFrames]
    case 'vkFrameOptions': return [...notObject(true), { hostVisible: 1 }, { hostVisible: 'yes' }, { hostVisible: false }]
    case 'vkSubmit': {
      const v = r.v
      return [...wrongTypes(false).filter((x) => !isPlain(x)), { wait: 'x' }, { wait: [{}] }, { signal: [v.closedSem] }, { fence: {} }, { fence: v.closedFence },
        { wait: new Array(5000).fill(v.sem) }, { signal: [v.buf] }, { wait: [null] }]
    }
    case 'VulkanBuffer': case 'VulkanBuffer2': return [...wrongTypes(false), r.v.closedBuf, r.buf, r.v.img, new Proxy({}, {})]
    case 'VulkanImage': return [...wrongTypes(false), r.v.closedImg, r.v.buf, r.buf]
    case 'optSyncFile': return [...wrongTypes(false).filter((x) => x !== null), closedSf, r.buf, r.map, new Proxy({}, {})]
    case 'header': { const cyc = {}; cyc.self = cyc; return [1n, cyc, 'x'.repeat(70000), { toJSON() { throw new Error('no') } }] }
    case 'passables': { const sparse = []; sparse.length = 3; return [...wrongTypes(true).filter((v) => !Array.isArray(v)), [closedBuf], [r.map], [{}], [null], sparse, new Array(254).fill(r.buf), [closedSf], { length: 1, 0: r.buf }] }
    case 'sendOpts': return [...wrongTypes(true).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)), 7, { signal: {} }, { signal: AbortSignal.abort() }, { signal: 'x' }]
    case 'chanFrame': {
      // A closed frame (its DmaBufs closed with it), and objects that only look like one.
      const closedFrame = new d.Frame({ width: 16, height: 16, fourcc: 'XR24', planes: [{ buf: r.u.alloc(PAGE), pitch: 64 }] }); closedFrame.close()
      return [...wrongTypes(false), closedFrame, r.buf, new Proxy({}, {}), Object.create(d.Frame.prototype),
        { width: 16, height: 16, fourcc: 0x34325258, modifier: 0n, planes: [{ buf: r.buf, offset: 0, pitch: 64 }] }]
    }
    case 'ufSinkOpts': return [...notObject(false), {}, { caps: 1 }, { caps: 'not caps' }, { caps: 'video/x-raw\0' }, { caps: RGBA16, maxInFlight: 0 },
      { caps: RGBA16, maxInFlight: -1 }, { caps: RGBA16, maxInFlight: 1.5 }, { caps: RGBA16, maxInFlight: 2 ** 32 }, { caps: RGBA16, maxInFlight: '4' }]
    case 'capsString': return [...wrongTypes(false), ...strings, 'video', 'video/x-raw, =1', 'video/x-raw, width=(int)x', '7/x', ',,,']
    case 'capsObj': return [...notObject(false), {}, { media: 1 }, { media: 'x' }, { media: 'video/x-raw', features: 'x' }, { media: 'video/x-raw', fields: { 'a b': 1 } },
      { media: 'video/x-raw', fields: { width: 1n } }, { media: 'video/x-raw', fields: { framerate: [1] } }, { media: 'video/x-raw', fields: { framerate: [1, 0] } },
      { media: 'video/x-raw', fields: { framerate: [2 ** 31, 1] } }, { media: 'video/x-raw', fields: { format: 1n } }]
    case 'optFramerate': return [...wrongTypes(true).filter((v) => !Array.isArray(v)), [1], [1, 2, 3], [-1, 1], [1.5, 1], [1, 0], [2 ** 32, 1], ['30', '1']]
    case 'ufMemories': {
      const sparse = []; sparse.length = 3
      return [...wrongTypes(false).filter((v) => !Array.isArray(v)), [], [closedBuf], [r.sf], [{}], [null], sparse, new Array(17).fill(r.buf), [r.buf, r.pfd], { length: 1, 0: r.buf }, closedBuf, [r.map]]
    }
    case 'ufInfo': return [null, 7, 'x', { pts: 1 }, { pts: -1n }, { pts: 2n ** 64n }, { dts: '1' }, { duration: 1.5 }, { flags: -1 }, { flags: 2 ** 32 }, { offset: 2n ** 64n - 1n }, { signal: {} }, { signal: AbortSignal.abort() }]
    case 'ufId': return [...wrongTypes(false).filter((v) => typeof v !== 'bigint'), 1, -1n, 2n ** 64n, Object(1n)]
    case 'recvOpts': return [null, 7, 'x', { maxFds: -1 }, { maxFds: 254 }, { maxFds: 1.5 }, { maxFds: '1' }, { signal: {} }, { signal: AbortSignal.abort() }]
    case 'sockType': return [...wrongTypes(true), 'dgram', 'STREAM', '']
    case 'sockOpts': return [null, 7, 'x', { type: 'dgram' }, { type: 1 }]
    case 'listenAddress': return [...wrongTypes(false), '', 'a\0b', 'x'.repeat(200), '/nonexistent/dir/sock', tmp, '/proc/self/fd/0', '@' + 'x'.repeat(200)]
    case 'connectAddress': return [...wrongTypes(false), '', 'a\0b', 'x'.repeat(200), '/nonexistent/sock', tmp, '/dev/null', '@dmabuf-matrix-nobody-listens']
    case 'format': return [...wrongTypes(false), { width: 640, height: 360, pixelformat: 'YUYVX' }, { width: -1, height: 360, pixelformat: 'YUYV' },
      { width: 640, height: 360, pixelformat: 'YUYV', planes: [null] }, { width: 640, height: 360, pixelformat: 'YUYV', planes: new Array(9).fill({}) },
      { width: 640, height: 2 ** 32, pixelformat: 'YUYV' }, { width: 640, height: 360, pixelformat: 'YU\0V' }, { width: 640, height: 360, pixelformat: 'YUYV', field: 1.5 }]
    case 'optUints': return [...wrongTypes(true).filter((v) => !Array.isArray(v)), [-1], [1.5], [NaN], ['1'], new Array(9).fill(0), [2 ** 32]]
    case 'int': return [...wrongTypes(false), NaN, Infinity, -Infinity, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 31) - 1]
    case 'pid': return [...wrongTypes(false), ...numbers, 0x2001, 0x10000]
    case 'optPesOutput': return [...wrongTypes(true), '', 'x', 'TS', 'ts-demux-tap ']
    case 'sectionFilter': return [...wrongTypes(false), {}, { pid: -1 }, { pid: 0x2000 }, { pid: 0, filter: 5 }, { pid: 0, filter: new Array(17).fill(0) },
      { pid: 0, mask: [256] }, { pid: 0, mode: [-1] }, { pid: 0, timeoutMs: -1 }, { pid: 0, checkCrc: 'yes' }, { pid: 0, oneshot: 1 }]
    case 'dvbProps': return [...wrongTypes(false), new Array(65).fill([2, 0]), [[1]], [[1, 2, 3]], [[-1, 0]], [[2, 2 ** 32]], [null], [{ 0: 2, 1: 0, length: 2 }]]
    case 'optDvbProps': return [...wrongTypes(true).filter((v) => !Array.isArray(v)), new Array(61).fill([2, 0]), [[1]], [null], [[2, NaN]]]
    case 'u32s': return [...wrongTypes(false), [-1], [1.5], [2 ** 32], new Array(65).fill(3), [null], ['3']]
    case 'inspectOpts': return [null, 7, 'x', { pids: 'x' }, { pids: [-1] }, { pids: [1.5] }, { pids: [2 ** 33] }, { pids: new Array(5000).fill(1) }]
    // Frames (crates/dmabuf/src/frame/, lib/api/frame.ts). A name is a table name or 1 to 4 printable ASCII characters.
    case 'fourccName': return [...wrongTypes(false).filter((v) => typeof v !== 'string'), '', 'a\0b', '\uD800', 'x'.repeat(10000), 'é'.repeat(40), 'é', 'XRGB88888', 'NV12 x', 'NV1\n', '\t']
    case 'modifier': return [...wrongTypes(false).filter((v) => typeof v !== 'bigint'), 0, 1, 2 ** 53, -1n, -(2n ** 63n), 2n ** 64n, 2n ** 128n, '0', '0x0', Object(0n)]
    // GStreamer's drm-format: exactly four characters, then nothing or ':0x' and 1 to 16 hex digits.
    case 'drmFormat': return [...wrongTypes(false), ...strings.filter((x) => x !== '../x'), 'NV1', 'NV12:', 'NV12:0x', 'NV12:0xZZ', 'NV12:0x1ffffffffffffffff',
      'NV12:1', 'NV12:-0x1', ':0x0', 'NV12:0x0:0x0', 'NV12: 0x0', 'XRGB8888', 'NV12:0x' + '0'.repeat(17)]
    case 'frameInit': {
      // Valid but for one thing each: XR24 16x16, one plane of pitch 64 in a two-page udmabuf.
      const buf = r.buf
      const p = { buf, pitch: 64 }
      const b = { width: 16, height: 16, fourcc: 'XR24', planes: [p] }
      const without = (k) => { const o = { ...b }; delete o[k]; return o }
      const sparse = []; sparse.length = 2 ** 32 - 1
      const hole = []; hole.length = 1
      const throwingElement = []; Object.defineProperty(throwingElement, 0, { get() { throw new Error('element') }, enumerable: true })
      const longProxy = new Proxy([p], { get: (t, k) => (k === 'length' ? 2 ** 32 - 1 : t[k]) })
      const oddLength = new Proxy([p], { get: (t, k) => (k === 'length' ? 'x' : t[k]) })
      return [...wrongTypes(false), new Proxy({}, {}), new Proxy(b, { get() { throw new Error('trap') } }),
        { ...b, get height() { throw new Error('getter') } }, without('width'), without('height'), without('fourcc'), without('planes'),
        { ...b, width: -1 }, { ...b, width: 1.5 }, { ...b, width: 2 ** 32 }, { ...b, width: NaN }, { ...b, width: '16' }, { ...b, width: 0 }, { ...b, height: 0 },
        { ...b, height: 2 ** 32 - 1 }, { ...b, width: 2 ** 32 - 1 },
        { ...b, fourcc: '' }, { ...b, fourcc: 'XRGB88888' }, { ...b, fourcc: -1 }, { ...b, fourcc: 2 ** 32 }, { ...b, fourcc: 1n }, { ...b, fourcc: 'NV12' },
        { ...b, modifier: 0 }, { ...b, modifier: -1n }, { ...b, modifier: 2n ** 64n }, { ...b, modifier: '0' }, { ...b, modifier: null },
        { ...b, planes: 'x' }, { ...b, planes: { length: 1, 0: p } }, { ...b, planes: [] }, { ...b, planes: sparse }, { ...b, planes: hole }, { ...b, planes: [null] },
        { ...b, planes: [7] }, { ...b, planes: new Array(5).fill(p) }, { ...b, planes: [p, p] }, { ...b, planes: throwingElement }, { ...b, planes: longProxy },
        { ...b, planes: oddLength }, { ...b, planes: new Proxy([p], { get() { throw new Error('trap') } }) },
        { ...b, planes: [{ pitch: 64 }] }, { ...b, planes: [{ buf: closedBuf, pitch: 64 }] }, { ...b, planes: [{ buf: r.sf, pitch: 64 }] },
        { ...b, planes: [{ buf: {}, pitch: 64 }] }, { ...b, planes: [{ buf: new Proxy({}, {}), pitch: 64 }] }, { ...b, planes: [{ buf: r.map, pitch: 64 }] },
        { ...b, planes: [{ buf, pitch: 8 }] }, { ...b, planes: [{ buf, pitch: 4096 }] }, { ...b, planes: [{ buf, pitch: 2 ** 32 - 1 }] }, { ...b, planes: [{ buf, pitch: 2 ** 32 }] },
        { ...b, planes: [{ buf, pitch: -64 }] }, { ...b, planes: [{ buf }] }, { ...b, planes: [{ buf, pitch: 64, offset: 2 * PAGE }] },
        { ...b, planes: [{ buf, pitch: 64, offset: 2 * PAGE - 64 }] }, { ...b, planes: [{ buf, pitch: 64, offset: 2 ** 32 - 1 }] },
        { ...b, planes: [{ buf, pitch: 64, offset: -1 }] }, { ...b, planes: [{ buf, pitch: 64, offset: 1.5 }] }, { ...b, planes: [{ buf, pitch: 64, offset: 2 ** 53 }] },
        { ...b, planes: [{ get buf() { throw new Error('getter') }, pitch: 64 }] },
        // A getter that closes the plane's buffer after it was checked: the fd is read after every field.
        { ...b, planes: [{ buf, get pitch() { buf.close(); return 64 } }] },
        { ...b, fourcc: 'NV12', planes: [{ buf, pitch: 16 }] }, { ...b, fourcc: 'NV12', planes: [{ buf, pitch: 16 }, { buf, pitch: 16, offset: 2 * PAGE }] }]
    }
    // Frame.fromV4l2: a 16x16 YUYV format, its buffer and the one DmaBuf (two pages) it lies in.
    case 'v4l2FrameFormat': {
      const f = v4l2Format()
      const sparse = []; sparse.length = 2 ** 32 - 1
      const hole = []; hole.length = 1
      return [...wrongTypes(false), new Proxy({}, {}), new Proxy(f, { get() { throw new Error('trap') } }), { ...f, get width() { throw new Error('getter') } },
        { ...f, planes: 'x' }, { ...f, planes: [] }, { ...f, planes: [null] }, { ...f, planes: sparse }, { ...f, planes: hole }, { ...f, planes: new Array(9).fill(f.planes[0]) },
        { ...f, planes: [f.planes[0], f.planes[0]] }, { ...f, planes: [{}] }, { ...f, planes: [{ bytesperline: -1 }] }, { ...f, planes: [{ bytesperline: 8 }] },
        { ...f, planes: [{ bytesperline: 2 ** 32 }] }, { ...f, planes: [{ bytesperline: 2 ** 31 }] }, { ...f, planes: [{ bytesperline: 1.5 }] },
        { ...f, pixelformat: 'NOPE' }, { ...f, pixelformat: 'YU\0V' }, { ...f, pixelformat: 'YUYVX' }, { ...f, pixelformat: '' }, { ...f, pixelformat: 5 },
        { ...f, pixelformat: 'MJPG' }, { ...f, width: -1 }, { ...f, width: 2 ** 32 }, { ...f, width: 1.5 }, { ...f, width: 0 }, { ...f, height: 2 ** 32 - 1 }, { ...f, height: 2 * PAGE }]
    }
    case 'v4l2FrameBuffer': {
      const b = v4l2Buffer()
      return [...wrongTypes(false), new Proxy({}, {}), new Proxy(b, { get() { throw new Error('trap') } }), { ...b, planes: 'x' }, { ...b, planes: [] }, { ...b, planes: [null] },
        { ...b, planes: [{}] }, { ...b, planes: [{ dataOffset: -1 }] }, { ...b, planes: [{ dataOffset: 1.5 }] }, { ...b, planes: [{ dataOffset: 2 * PAGE }] },
        { ...b, planes: [{ dataOffset: 2 ** 32 }] }, { ...b, planes: [{ dataOffset: 2 ** 32 - 1 }] }, { ...b, planes: [b.planes[0], b.planes[0]] },
        { ...b, planes: [{ get dataOffset() { throw new Error('getter') } }] }]
    }
    case 'frameBufs': {
      const hole = []; hole.length = 1
      return [...wrongTypes(false), [closedBuf], [r.sf], [{}], [null], hole, { length: 1, 0: r.buf }, new Set([r.buf]), [r.buf, r.buf], [r.map], [new Proxy({}, {})]]
    }
  }
  if (/^(m2mMemory|m2mQueueOpts|ctlIds|ctlValues|encoderOpts|decoderOpts|encodeFrame|timestampUs)$/.test(kind)) {
    // Memory-to-memory devices (lib/api/m2m.ts): every value here is invalid where it is given.
    const QP = 'FWHT I-Frame QP Value'
    const enc = { codedFormat: 'FWHT', width: 640, height: 360, pixelformat: 'YUYV' }
    switch (kind) {
      case 'm2mMemory': return [...wrongTypes(true), 'MMAP', 'userptr', '', 'dmabuf ', 'mmap\0']
      case 'm2mQueueOpts': return [...notObject(true), { bytesused: 'x' }, { bytesused: [-1] }, { dataOffset: [1.5] }, { bytesused: new Array(9).fill(0) },
        { timestampUs: -1 }, { timestampUs: 1.5 }, { timestampUs: '1' }, { timestampUs: 2 ** 53 }, { timestampUs: NaN }, { timestampUs: 1n }]
      case 'ctlIds': return [...wrongTypes(false).filter((v) => !Array.isArray(v)), [-1], [1.5], [2 ** 32], ['No Such Control'], [null], [{}], [1n], [0x009809ff]]
      case 'ctlValues': return [...notObject(false), { 'No Such Control': 1 }, { [QP]: 1.5 }, { [QP]: {} }, { [QP]: null }, { [QP]: 2n ** 64n },
        { [QP]: 2 ** 31 }, { '4294967296': 1 }, { [QP]: 'x' }]
      case 'encoderOpts': return [...notObject(false), { codedFormat: 'FWHT' }, { ...enc, codedFormat: 'NOPE' }, { ...enc, codedFormat: 'FWHTX' },
        { ...enc, pixelformat: 'NOPE' }, { ...enc, width: 2 ** 32 }, { ...enc, width: -1 }, { ...enc, inputSlots: 0 }, { ...enc, inputSlots: 33 },
        { ...enc, outputBuffers: 1.5 }, { ...enc, path: '/dev/null' }, { ...enc, path: 7 }, { ...enc, controls: 'x' }, { ...enc, controls: { 'No Such Control': 1 } }]
      case 'decoderOpts': return [...notObject(false), {}, { codedFormat: 'NOPE' }, { codedFormat: 'FWHT', inputBuffers: 0 }, { codedFormat: 'FWHT', frameBuffers: 1.5 },
        { codedFormat: 'FWHT', pixelformat: 5 }, { codedFormat: 'FWHT', path: '/dev/null' }, { codedFormat: 'FWHT', width: -1 }, { codedFormat: 'FWHT', height: 2 ** 32 }]
      case 'encodeFrame': return [...wrongTypes(false), closedBuf, r.sf, [closedBuf], [{}], [r.buf, r.buf, r.buf, r.buf, r.buf, r.buf, r.buf, r.buf, r.buf],
        new Proxy({}, {}), Object.create(d.Frame.prototype), r.map]
      case 'timestampUs': return [...wrongTypes(false), -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -0.5]
    }
  }
  if (kind === 'cardOpts' || kind === 'kmsMode' || kind === 'Frame' || kind === 'optKmsPlane' || kind === 'propName' || kind === 'kmsValue' || kind === 'commitOpts') {
    // KMS (lib/api/kms.ts). Values made from a card only where vkms is (the
    // instance cases run only there; the counts probe runs everywhere).
    const k = hasVkms ? r.k : null
    switch (kind) {
      case 'cardOpts': return [null, 7, 'x', 1n, { master: 1 }, { master: 'yes' }, { master: null }, { writeback: 1 }, { get master() { throw new Error('getter') } }]
      case 'kmsMode': {
        const m = kmsMode()
        return [...wrongTypes(false), {}, { ...m, name: 7 }, { ...m, hdisplay: 70000 }, { ...m, clock: -1 }, { ...m, clock: 1.5 }, { ...m, vtotal: undefined },
          { ...m, type: 2 ** 32 }, { ...m, get flags() { throw new Error('getter') } }, new Proxy(m, { get() { throw new Error('trap') } })]
      }
      case 'Frame': return [...wrongTypes(false), r.buf, new Proxy({}, {}), Object.create(d.Frame.prototype), ...(k ? [k.closedFrame, k.tiledFrame] : [])]
      case 'optKmsPlane': return [null, '7', {}, { id: -1 }, { id: 'x' }, 2 ** 32, -1, 1.5, 99999, 1n, true]
      case 'propName': return [...wrongTypes(false).filter((v) => typeof v !== 'string'), '', 'a\0b', 'x'.repeat(32), 'é'.repeat(40)]
      case 'kmsValue': return [...wrongTypes(false).filter((v) => typeof v !== 'bigint'), NaN, 1.5, 2 ** 53, -(2 ** 53), Infinity, 2n ** 64n, -(2n ** 63n) - 1n,
        r.buf, r.sf, new Proxy({}, {}), ...(k ? [k.closedFb, k.closedBlob] : [])]
      case 'commitOpts': return [null, 7, 'x', 1n, { allowModeset: 1 }, { nonblock: 'yes' }, { flipEvent: 1 }, { flipEvent: -1n }, { flipEvent: 2n ** 64n },
        { flipEvent: null }, { get nonblock() { throw new Error('getter') } }]
    }
  }
  throw new Error('unknown kind ' + kind)
}
const hasVkms = fs.existsSync('/sys/module/vkms')
function kmsMode() { return { name: '16x16', clock: 1000, hdisplay: 16, hsyncStart: 17, hsyncEnd: 18, htotal: 20, hskew: 0, vdisplay: 16, vsyncStart: 17, vsyncEnd: 18, vtotal: 20, vscan: 0, vrefresh: 60, flags: 0, type: 0, preferred: false } }
let shared = null
function v4l2Format() { return { width: 16, height: 16, pixelformat: 'YUYV', field: 1, colorspace: 0, planes: [{ bytesperline: 32, sizeimage: 512 }] } }
function v4l2Buffer() { return { index: 0, flags: 0, field: 1, sequence: 0, timestampUs: 0, planes: [{ length: 512, bytesused: 512, dataOffset: 0 }] } }
function sharedVulkan() { return shared || (shared = d.Vulkan.open({ device: 'llvmpipe' })) }
function isPlain(x) { return typeof x === 'object' && x !== null && !Array.isArray(x) }
function notObject(optional) { return wrongTypes(optional).filter((x) => !isPlain(x)) }
let listenSerial = 0
function valid(kind, r) {
  switch (kind) {
    case 'fd': return r.buf.fd
    case 'memfd': return memfd
    case 'uint': return 0
    case 'optUint': return undefined
    case 'size': return PAGE
    case 'u32': return 16
    case 'access': case 'optAccess': return 'r'
    case 'string': case 'optString': return 'name'
    case 'heapName': return 'system'
    case 'path': case 'optPath': return '/dev/udmabuf'
    case 'optBool': return true
    case 'bytes': return new Uint8Array(4)
    case 'timeout': return 0
    case 'signal': return undefined
    case 'DmaBuf': return r.buf
    case 'SyncFile': return r.sf
    case 'GemHandle': return r.gem
    case 'DmaBufs': return [r.buf]
    case 'ranges': return [{ fd: memfd, offset: 0, size: PAGE }]
    case 'vkOpenOptions': case 'vkBufferOptions': case 'vkImportOptions': return undefined
    case 'vkFormat': return 'AB24'
    case 'vkImageOptions': return { width: 16, height: 16, format: 'AB24' }
    case 'vkImageImport': return { width: 16, height: 16, format: 'AB24', modifier: 0n, planes: [{ offset: 0, pitch: 64 }] }
    case 'vkFrame': return r.frame
    case 'vkFrameOptions': return undefined
    case 'vkSubmit': return {}
    case 'VulkanBuffer': return r.v.buf
    case 'VulkanBuffer2': return r.v.buf2
    case 'VulkanImage': return r.v.img
    case 'optSyncFile': return r.sf
    case 'header': return { a: 1 }
    case 'passables': return [r.buf]
    case 'sendOpts': case 'recvOpts': case 'sockOpts': case 'inspectOpts': return undefined
    case 'chanFrame': return r.frame
    case 'sockType': return 'seqpacket'
    case 'listenAddress': return '@dmabuf-matrix-' + process.pid + '-' + (listenSerial++)
    case 'connectAddress': return r.lis.address
    case 'format': return { width: 640, height: 360, pixelformat: 'YUYV' }
    case 'optUints': return undefined
    case 'int': return 0
    case 'pid': return 0
    case 'optPesOutput': return 'ts-demux-tap'
    case 'sectionFilter': return { pid: 0 }
    case 'dvbProps': return [[2, 0]]
    case 'optDvbProps': return undefined
    case 'u32s': return [3]
    case 'fourccName': return 'NV12'
    case 'modifier': return 0n
    case 'drmFormat': return 'NV12:0x0100000000000002'
    case 'frameInit': return { width: 16, height: 16, fourcc: 'XR24', planes: [{ buf: r.buf.dup(), pitch: 64 }] }
    case 'v4l2FrameFormat': return v4l2Format()
    case 'v4l2FrameBuffer': return v4l2Buffer()
    case 'frameBufs': return [r.buf]
    case 'cardOpts': return undefined
    case 'kmsMode': return kmsMode()
    case 'Frame': return r.k.frame
    case 'optKmsPlane': return undefined
    case 'propName': return 'FB_ID'
    case 'kmsValue': return 0
    case 'commitOpts': return undefined
    case 'm2mMemory': return 'mmap'
    case 'm2mQueueOpts': return undefined
    case 'ctlIds': return ['FWHT I-Frame QP Value']
    case 'ctlValues': return { 'FWHT I-Frame QP Value': 20 }
    case 'encoderOpts': return { codedFormat: 'FWHT', width: 640, height: 360, pixelformat: 'YUYV' }
    case 'decoderOpts': return { codedFormat: 'FWHT' }
    case 'encodeFrame': return r.buf
    case 'timestampUs': return 1
    case 'ufSinkOpts': return { caps: RGBA16 }
    case 'capsString': return RGBA16
    case 'capsObj': return { media: 'video/x-raw', features: [], fields: { format: 'RGBA', width: 16, height: 16 } }
    case 'optFramerate': return undefined
    case 'ufMemories': return r.buf
    case 'ufInfo': return undefined
    case 'ufId': return 1n
  }
}
// vicodec's nodes, found once per child (by sysfs name, without opening
// every node as M2mDevice.list() does), and how the M2M receivers are made.
let m2mPaths = null
const m2mPath = (name) => {
  m2mPaths ??= Object.fromEntries(d.V4l2Device.list().map((n) => [n.name, n.path]))
  return m2mPaths[name]
}
const m2mOpen = {
  dev: () => d.M2mDevice.open(m2mPath('stateful-encoder')),
  enc: () => d.Encoder.open({ codedFormat: 'FWHT', width: 640, height: 360, pixelformat: 'YUYV', path: m2mPath('stateful-encoder') }),
  dec: () => d.Decoder.open({ codedFormat: 'FWHT', path: m2mPath('stateful-decoder') }),
}
function receivers() {
  const u = d.Udmabuf.open()
  const buf = u.alloc(2 * PAGE)
  const closedBuf = u.alloc(PAGE); closedBuf.close()
  const sf = buf.exportSyncFile('r')
  const closedSf = buf.exportSyncFile('r'); closedSf.close()
  const map = buf.map('rw')
  const cpu = buf.beginCpuAccess('r')
  const heap = d.Heap.open('system')
  const drm = d.DrmDevice.openDriver('vgem', true)
  const dumb = drm.createDumb(16, 16, 32)
  const gem = dumb.handle
  const closedGem = drm.createDumb(16, 16, 32).handle; closedGem.close()
  const drm2 = d.DrmDevice.openDriver('vgem', true)
  const otherGem = drm2.createDumb(16, 16, 32).handle
  const [ch, ch2] = d.Channel.pair()
  const lis = d.Channel.listen('@dmabuf-matrix-l-' + process.pid + '-' + (listenSerial++))
  const pfd = d.fdFromProcess(process.pid, devnull)
  // By name, not number: the custom kernel's vicodec and vim2m register
  // their nodes before vivid's.
  const vivid = (name) => {
    const n = d.V4l2Device.list().find((x) => x.name === name)
    if (!n) throw new Error('matrix: no V4L2 node named ' + name + ' (vivid)')
    return n.path
  }
  const v4l2 = d.V4l2Device.open(vivid('vivid-000-vid-cap'))
  const vout = d.V4l2Device.open(vivid('vivid-000-vid-out'))
  const vq = vout.dmabufQueue(2)
  // A frame of its own udmabuf: closing the frame closes it.
  const frame = new d.Frame({ width: 16, height: 16, fourcc: 'XR24', planes: [{ buf: u.alloc(PAGE), pitch: 64 }] })
  const all = [u, buf, sf, map, cpu, heap, gem, otherGem, drm, drm2, ch, ch2, lis, pfd, vq, vout, v4l2, frame]
  let demux, fe
  if (fs.existsSync('/dev/dvb/adapter0/demux0')) {
    demux = d.DvbDemux.open('/dev/dvb/adapter0/demux0')
    demux.requestBuffers(2, 188 * 16)
    fe = d.DvbFrontend.open('/dev/dvb/adapter0/frontend0')
    all.push(demux, fe)
  }
  // Frames that Vulkan.importFrame refuses, only for the cases that use them.
  let vkFrames = null
  const badFrames = () => {
    if (vkFrames) return vkFrames
    const frame = (o) => { const f = new d.Frame(o); all.push(f); return f }
    const closed = frame({ width: 16, height: 16, fourcc: 'XR24', planes: [{ buf: u.alloc(PAGE), pitch: 64 }] }); closed.close()
    vkFrames = [
      frame({ width: 16, height: 16, fourcc: 'YUYV', planes: [{ buf: u.alloc(PAGE), pitch: 32 }] }),
      frame({ width: 16, height: 16, fourcc: 'NV12', planes: [{ buf: u.alloc(PAGE), pitch: 16 }, { buf: u.alloc(PAGE), pitch: 16 }] }),
      frame({ width: 8, height: 8, fourcc: 'XR24', planes: [{ buf: u.alloc(PAGE), offset: 2, pitch: 64 }] }),
      closed,
    ]
    return vkFrames
  }
  // Vulkan objects only for the cases that use them, made from one lavapipe
  // device per child (opening one costs ~0.2 s under TCG, the first ~1.4 s),
  // opened before the first case's fds are counted (see the end).
  let v = null
  const vulkan = () => {
    if (v) return v
    const vk = sharedVulkan()
    const vbuf = vk.createBuffer(PAGE), buf2 = vk.createBuffer(PAGE)
    const closedVkBuf = vk.createBuffer(PAGE); closedVkBuf.close()
    const img = vk.createImage({ width: 16, height: 16, format: 'AB24' })
    const closedImg = vk.createImage({ width: 16, height: 16, format: 'AB24' }); closedImg.close()
    // A semaphore with a pending signal and a signalled fence: both may be exported and waited on.
    const sem = vk.createSemaphore(); vk.submit({ signal: [sem] })
    const closedSem = vk.createSemaphore(); closedSem.close()
    const fence = vk.createFence(); vk.submit({ fence })
    const closedFence = vk.createFence(); closedFence.close()
    v = { vk, buf: vbuf, buf2, closedBuf: closedVkBuf, img, closedImg, sem, closedSem, fence, closedFence }
    all.push(vbuf, buf2, img, sem, fence)
    return v
  }
  // A vkms card (without master: the kms spec may hold it), its objects
  // and frames, only for the cases that use them.
  let k = null
  const kms = () => {
    if (k) return k
    const card = d.Card.open(undefined, { master: false })
    all.push(card)
    const xr24 = () => { const f = new d.Frame({ width: 16, height: 16, fourcc: 'XR24', planes: [{ buf: u.alloc(PAGE), pitch: 64 }] }); all.push(f); return f }
    const frame = xr24()
    const closedFrame = xr24(); closedFrame.close()
    // An Intel X-tiled modifier, which vkms lacks: ADDFB2 refuses it (EINVAL).
    const tiledFrame = new d.Frame({ width: 16, height: 16, fourcc: 'XR24', modifier: 0x0100000000000001n, planes: [{ buf: u.alloc(PAGE), pitch: 64 }] }); all.push(tiledFrame)
    const fb = card.addFramebuffer(frame)
    const closedFb = card.addFramebuffer(frame); closedFb.close()
    const blob = card.createModeBlob(kmsMode())
    const closedBlob = card.createModeBlob(kmsMode()); closedBlob.close()
    all.push(fb, blob)
    k = { card, frame, closedFrame, tiledFrame, fb, closedFb, blob, closedBlob, atomic: card.atomic() }
    return k
  }
  // vicodec's encoder and decoder, only for the cases that use them (an
  // M2mDevice in Initialization, an Encoder and a Decoder streaming).
  // Each made on first use only: a case needs one of them, and under the
  // ARM tiers' TCG an encoder's setup is not cheap.
  const made = {}
  const once = (k, make) => { if (!made[k]) { made[k] = make(); all.push(made[k]) } return made[k] }
  const m = {
    get dev() { return once('dev', m2mOpen.dev) },
    get enc() { return once('enc', m2mOpen.enc) },
    get dec() { return once('dec', m2mOpen.dec) },
  }
  // The unixfd instances: a sink, a source connected to it, the accepted connection, one received buffer.
  const uf = {}
  const ufReady = async () => {
    uf.sink = d.UnixFdSink.listen('@dmabuf-matrix-uf-' + process.pid + '-' + (listenSerial++), { caps: RGBA16 })
    uf.src = d.UnixFdSrc.connect(uf.sink.address)
    uf.conn = await uf.sink.accept()
    await uf.conn.send(buf)
    uf.buf = await uf.src.read()
    all.push({ close() { uf.buf.release(); uf.src.close(); uf.conn.close(); uf.sink.close() } })
  }
  return { uf, ufReady, u, buf, closedBuf, sf, closedSf, map, cpu, heap, drm, drm2, gem, closedGem, otherGem, ch, ch2, lis, pfd, v4l2, vq, demux, fe, frame, get v() { return vulkan() }, get vkFrames() { return badFrames() }, get k() { return kms() }, m, extra: all, dispose() { for (const o of all) (o.close || o.unmap || o.end).call(o) } }
}
function target(name, r) {
  if (name.startsWith('new ')) { const C = d[name.slice(4)]; return { self: undefined, fn: (...a) => new C(...a) } }
  const [cls, rest] = name.includes('#') ? name.split('#') : [null, null]
  if (cls === null) {
    const [c, m] = name.includes('.') ? name.split('.') : [null, name]
    if (c === null && typeof d[m] === 'number') return { self: undefined, fn: () => d[m] }
    return c === null ? { self: undefined, fn: d[m] } : { self: d[c], fn: d[c][m] }
  }
  if (cls.startsWith('Vulkan')) {
    // close() gets a device of its own: the shared one must stay open.
    if (cls === 'Vulkan' && rest === 'close') { const own = d.Vulkan.open({ device: 'llvmpipe' }); r.extra.push(own); return { self: own, fn: own.close } }
    const vi = { Vulkan: r.v.vk, VulkanBuffer: r.v.buf, VulkanImage: r.v.img, VulkanSemaphore: r.v.sem, VulkanFence: r.v.fence }[cls]
    if (rest.startsWith('.')) return { self: vi, fn: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(vi), rest.slice(1)).get }
    return { self: vi, fn: vi[rest] }
  }
  if (/^(Card|Framebuffer|KmsPropertyBlob|KmsAtomic)$/.test(cls)) {
    // close() gets a card of its own: the shared one must stay open for the others.
    if (cls === 'Card' && rest === 'close') { const own = d.Card.open(undefined, { master: false }); r.extra.push(own); return { self: own, fn: own.close } }
    const ki = { Card: r.k.card, Framebuffer: r.k.fb, KmsPropertyBlob: r.k.blob, KmsAtomic: r.k.atomic }[cls]
    if (rest.startsWith('.')) return { self: ki, fn: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(ki), rest.slice(1)).get }
    return { self: ki, fn: ki[rest] }
  }
  if (/^(M2mDevice|M2mQueue|Encoder|Decoder)$/.test(cls)) {
    // close() gets a device of its own: the shared ones stay open for the others.
    if (rest === 'close') {
      const own = cls === 'Encoder' ? m2mOpen.enc() : cls === 'Decoder' ? m2mOpen.dec() : m2mOpen.dev()
      r.extra.push(own)
      return { self: own, fn: own.close }
    }
    const mi = { M2mDevice: r.m.dev, M2mQueue: r.m.dev.output, Encoder: r.m.enc, Decoder: r.m.dec }[cls]
    if (rest.startsWith('.')) return { self: mi, fn: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(mi), rest.slice(1)).get }
    return { self: mi, fn: mi[rest] }
  }
  if (/^UnixFd(Src|Sink|SinkConnection|Buffer)$/.test(cls)) {
    const ui = { UnixFdSrc: r.uf.src, UnixFdSink: r.uf.sink, UnixFdSinkConnection: r.uf.conn, UnixFdBuffer: r.uf.buf }[cls]
    if (rest.startsWith('.')) return { self: ui, fn: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(ui), rest.slice(1)).get }
    return { self: ui, fn: ui[rest] }
  }
  const inst = { DmaBuf: r.buf, CpuAccess: r.cpu, Mapping: r.map, SyncFile: r.sf, Udmabuf: r.u, Heap: r.heap, GemHandle: r.gem, DrmDevice: r.drm, Channel: r.ch, Listener: r.lis, PassedFd: r.pfd, V4l2Device: r.v4l2, V4l2DmaBufQueue: r.vq, DvbDemux: r.demux, DvbFrontend: r.fe, Frame: r.frame }[cls]
  if (rest.startsWith('.')) return { self: inst, fn: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(inst), rest.slice(1)).get }
  return { self: inst, fn: inst[rest] }
}
function release(v, seen = new Set()) {
  if (v === null || typeof v !== 'object' || seen.has(v)) return
  seen.add(v)
  if (Array.isArray(v)) { for (const x of v) release(x, seen); return }
  if (v instanceof Map) { for (const x of v.values()) release(x, seen); return }
  if (v instanceof d.Card || v instanceof d.Framebuffer || v instanceof d.KmsPropertyBlob) { v.close(); return }
  if (v instanceof d.M2mDevice || v instanceof d.Encoder || v instanceof d.Decoder) { v.close(); return }
  if (v instanceof d.UnixFdBuffer) { v.release(); return }
  if (v instanceof d.UnixFdSrc || v instanceof d.UnixFdSink || v instanceof d.UnixFdSinkConnection) { v.close(); return }
  // A queue, a device or a format reached through an instance belongs to it.
  if (v instanceof d.M2mQueue) return
  if (v instanceof d.Vulkan || v instanceof d.VulkanBuffer || v instanceof d.VulkanImage || v instanceof d.VulkanSemaphore || v instanceof d.VulkanFence) { v.close(); return }
  if (v instanceof d.DmaBuf || v instanceof d.SyncFile || v instanceof d.Heap || v instanceof d.Udmabuf || v instanceof d.DrmDevice || v instanceof d.GemHandle || v instanceof d.Channel || v instanceof d.Listener || v instanceof d.PassedFd || v instanceof d.V4l2Device || v instanceof d.V4l2DmaBufQueue || v instanceof d.DvbDemux || v instanceof d.DvbFrontend || v instanceof d.Frame) v.close()
  else if (v instanceof d.Mapping) v.unmap()
  else if (v instanceof d.CpuAccess) v.end()
  else {
    if (typeof v.memfd === 'number') fs.closeSync(v.memfd)
    for (const x of Object.values(v)) release(x, seen)
  }
}
const wrongThis = [undefined, null, 42, {}, new (class Other {})()]

async function run(c) {
  const before = fds()
  const r = receivers()
  let outcome
  try {
    if (/^UnixFd(Src|Sink|SinkConnection|Buffer)#/.test(c.name)) await r.ufReady()
    const { self, fn } = target(c.name, r)
    let thisArg = self, args
    if (c.param === -1) { thisArg = wrongThis[c.value]; args = c.kinds.map((k) => valid(k, r)) }
    else { args = c.kinds.map((k, i) => (i === c.param ? hostile(k, r)[c.value] : valid(k, r))); while (args.length && args[args.length - 1] === undefined && c.param !== args.length - 1) args.pop() }
    let v = fn.apply(thisArg, args)
    if (v instanceof Promise) v.catch(() => {})
    if (v instanceof Promise) v = await Promise.race([v, new Promise((ok) => setTimeout(() => ok('pending'), 50))])
    const returned = v === undefined ? 'undefined' : typeof v
    release(v)
    outcome = { ok: true, returned }
  } catch (e) {
    outcome = { code: e && e.code, nodeStyle: !!(e instanceof Error && NODE_CODE.test(String(e.code)) && /^(new )?[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?: |^E[A-Z0-9]+: |^Illegal constructor/.test(e.message)), message: e && String(e.message).slice(0, 160) }
  }
  r.dispose()
  const after = fds()
  return { ...outcome, leaked: after - before }
}

;(async () => {
  if (process.env.DMABUF_MATRIX_COUNTS) {
    const r = receivers()
    const kinds = JSON.parse(process.env.DMABUF_MATRIX_COUNTS)
    process.stdout.write(JSON.stringify(Object.fromEntries(kinds.map((k) => [k, hostile(k, r).length]))) + '\n')
    r.dispose()
    fs.rmSync(tmp, { recursive: true, force: true })
    return
  }
  const cases = JSON.parse(fs.readFileSync(0, 'utf8'))
  if (cases.some((c) => c.name.startsWith('Vulkan') || c.kinds.some((k) => /^(vk|Vulkan|optSyncFile)/.test(k)))) sharedVulkan()
  for (const c of cases) {
    process.stdout.write(JSON.stringify({ start: c.id }) + '\n')
    const r = await run(c)
    process.stdout.write(JSON.stringify({ id: c.id, ...r }) + '\n')
  }
  fs.rmSync(tmp, { recursive: true, force: true })
})()
`

/**
 * Cases a hostile value legitimately passes: they must return, leak nothing,
 * and are counted apart. Keyed by method and parameter kind; the values are
 * the ones the kind's list holds that are valid there.
 */
function accepted(name: string, kind: Kind, result: { ok?: boolean; returned?: string }): boolean {
  if (!result.ok) return false
  // Timeouts beyond any clock mean "for ever" (here: a signalled fence answers at once).
  if (kind === 'timeout' || kind === 'signal') return true
  // Names are labels: any string works (truncated, NUL-cut or replaced, as documented).
  if (kind === 'optString' || (kind === 'string' && name === 'DmaBuf#setName')) return true
  // The batch copies at most the buffer's size; a typed array view of any kind is bytes.
  if (kind === 'bytes') return true
  // The matrix child's stdio are the Unix socketpairs Node makes for pipes: a channel may wrap them.
  if (name === 'Channel.fromFd' && kind === 'fd') return true
  // A lookup by name: a string outside GStreamer's format table answers undefined, as documented.
  if (name === 'gstFormatFourcc' && kind === 'string') return result.returned === 'undefined'
  // An offset/length inside the buffer, or a fd that is a dma-buf, is valid.
  return false
}

vgemTest('bad-input matrix: every case ends in a Node-style error or a documented acceptance, nothing crashes, nothing leaks', (t) => {
  // The armv7 guest (TCG) takes over 10 minutes for the 5,036 cases.
  t.timeout(30 * 60_000)
  type Case = { id: number; name: string; kinds: Kind[]; param: number; value: number }
  // How many hostile values each kind has: the child's lists decide.
  const kinds = [...new Set(Object.values(SURFACE).flat())]
  const probe = spawnSync(process.execPath, ['-e', CHILD], {
    env: { ...process.env, DMABUF_ROOT: root, DMABUF_MATRIX_COUNTS: JSON.stringify(kinds) },
    encoding: 'utf8',
  })
  t.is(probe.status, 0, probe.stderr)
  const counts = JSON.parse(probe.stdout) as Record<Kind, number>
  const countHostile = (k: Kind): number => counts[k]
  const vicodec = hasVicodec()
  const cases: Case[] = []
  for (const [name, kinds] of Object.entries(SURFACE)) {
    if (/^Dvb(Demux|Frontend)#/.test(name) && !existsSync(DVB_DEMUX)) continue
    if (KMS_INSTANCE.test(name) && !existsSync(VKMS)) continue
    // The M2M instance cases run on x86 only (the custom tier): their
    // checks are TypeScript's and the binding's, the same on every CPU, and
    // under the ARM tiers' TCG they would take the matrix past 20 minutes
    // on armv7; codec.spec runs the devices themselves on ARM too.
    if (M2M_INSTANCE.test(name) && (!vicodec || process.arch !== 'x64')) continue
    const isStaticOrFn = !name.includes('#')
    // Wrong receivers, for methods and getters (statics ignore `this`).
    if (!isStaticOrFn) for (let v = 0; v < 5; v++) cases.push({ id: cases.length, name, kinds, param: -1, value: v })
    kinds.forEach((kind, param) => {
      for (let v = 0; v < countHostile(kind); v++) cases.push({ id: cases.length, name, kinds, param, value: v })
    })
  }
  const results = new Map<number, Record<string, unknown>>()
  let crashes = 0
  let next = 0
  const BATCH = 400
  while (next < cases.length) {
    const batch = cases.slice(next, next + BATCH)
    const r = spawnSync(process.execPath, ['-e', CHILD], {
      input: JSON.stringify(batch),
      env: { ...process.env, DMABUF_ROOT: root },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 10 * 60_000,
    })
    let last = -1
    for (const line of r.stdout.split('\n')) {
      if (!line) continue
      const m = JSON.parse(line) as Record<string, unknown>
      if (typeof m.start === 'number') last = m.start
      else results.set(m.id as number, m)
    }
    if (r.status === 0) {
      next += batch.length
      continue
    }
    // The child died in case `last`: count it, and go on after it.
    crashes++
    results.set(last, { crashed: true, signal: r.signal, status: r.status, stderr: r.stderr.slice(-500) })
    next = last + 1
  }
  let leaks = 0
  let unclear = 0
  let errors = 0
  let acceptedN = 0
  const bad: string[] = []
  for (const c of cases) {
    const res = results.get(c.id)
    const label = `${c.name} ${c.param < 0 ? 'this' : `arg ${c.param} (${c.kinds[c.param]})`} #${c.value}`
    if (!res) {
      unclear++
      bad.push(`${label}: no result`)
      continue
    }
    if (res.crashed) {
      bad.push(`${label}: CRASH ${JSON.stringify(res)}`)
      continue
    }
    if ((res.leaked as number) !== 0) {
      leaks++
      bad.push(`${label}: leaked ${String(res.leaked)} fds`)
    }
    if (res.ok) {
      if (c.param >= 0 && accepted(c.name, c.kinds[c.param], res)) acceptedN++
      else {
        unclear++
        bad.push(`${label}: accepted a hostile value`)
      }
    } else if (res.nodeStyle) errors++
    else {
      unclear++
      bad.push(`${label}: ${String(res.code)}: ${String(res.message)}`)
    }
  }
  const line = `matrix: ${cases.length} cases, ${crashes} crashes, ${leaks} leaks, ${unclear} unclear`
  console.log(line)
  console.log(`matrix: ${errors} Node-style errors, ${acceptedN} documented acceptances`)
  t.log(line)
  if (bad.length) t.log(bad.slice(0, 60).join('\n'))
  t.true(cases.length >= 1000, `${cases.length} cases`)
  t.is(crashes, 0)
  t.is(leaks, 0)
  t.is(unclear, 0)
})
