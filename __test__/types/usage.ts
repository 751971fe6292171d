// Compile-only checks of the shipped index.d.ts under strict settings
// (tsconfig.json beside this file). `good` must compile. In `bad`, every
// line under an expect-error marker must fail to compile, or tsc reports the
// marker as unused; types.spec.ts also removes the markers and checks that
// tsc then fails once per marker.
import { DmaBuf, Heap, SyncFile, createUdmabuf, listHeaps, capabilities, DrmDevice, Decoder, Encoder, M2mDevice, UnixFdSrc, UnixFdSink, parseCaps, printCaps, capsForFrame } from 'dmabuf'
import type { Caps, ClockTime, Frame, UnixFdBuffer, UnixFdBufferInfo, UnixFdMemory, UnixFdSinkConnection } from 'dmabuf'
import type { Access, DecodedFrame, DmaBufInfo, EncodedChunk, M2mDequeued, SyncFileInfo, V4l2Event } from 'dmabuf'

export async function good(fd: number, signal: AbortSignal): Promise<number> {
  using buf = listHeaps().includes('system') ? Heap.open('system').alloc(4096, 'rw') : createUdmabuf(4096)
  using other = DmaBuf.fromFd(fd)
  const access: Access = 'rw'
  using map = buf.map(access, 0, 4096)
  {
    using cpu = buf.beginCpuAccess('w')
    new Uint8Array(map.buffer).fill(cpu.active ? 1 : 0)
  }
  const info: DmaBufInfo = buf.info()
  const copy: Buffer = other.read(0, 16)
  other.write(0, new Uint8Array([1, 2, 3]))
  using fence: SyncFile = buf.exportSyncFile('r')
  const merged = fence.merge(SyncFile.fromFd(fd), 'both')
  const state: SyncFileInfo = merged.info()
  const done: boolean = await merged.wait(100, signal)
  const doneNow: boolean = merged.waitSync()
  const batch: SyncFile[] = DmaBuf.exportSyncFiles([buf, other], 'rw')
  DmaBuf.importSyncFileAll([buf, other], fence, 'w')
  const caps = capabilities()
  const drm = DrmDevice.openDriver('vgem', true)
  const { handle, pitch } = drm.createDumb(16, 16, 32)
  using exported = drm.export(handle, 'r')
  const ts: bigint = state.fences[0]?.timestampNs ?? 0n
  return info.size + copy.length + batch.length + caps.heaps.length + pitch + exported.size + Number(ts) + (done && doneNow ? 1 : 0)
}

export function bad(buf: DmaBuf, sf: SyncFile): void {
  // @ts-expect-error an access that is not 'r', 'w' or 'rw'
  buf.beginCpuAccess('x')
  // @ts-expect-error a missing argument
  buf.exportSyncFile()
  // @ts-expect-error a number where a SyncFile is expected
  buf.importSyncFile(3, 'r')
  // @ts-expect-error a string where a number is expected
  buf.read('0', 16)
  // @ts-expect-error fd is read-only
  buf.fd = 4
  // @ts-expect-error wait() resolves a boolean, not a number
  const n: Promise<number> = sf.wait(10)
  // @ts-expect-error map() takes an access string, not a boolean
  buf.map(true)
  void n
}

export async function codecs(frame: DmaBuf): Promise<number> {
  using enc = Encoder.open({ codedFormat: 'FWHT', width: 640, height: 360, pixelformat: 'YUYV', controls: { 'FWHT I-Frame QP Value': 1 } })
  await enc.encode(frame, 1)
  await enc.flush()
  const chunk: EncodedChunk | null = await enc.read(1000)
  chunk?.release()
  using dec = Decoder.open({ codedFormat: 'FWHT', pixelformat: 'YUYV' })
  await dec.decode(new Uint8Array(16), 1)
  const got: DecodedFrame | null = await dec.read()
  const width: number = got?.frame.width ?? 0
  using dev = M2mDevice.open(M2mDevice.list()[0].path)
  const role: 'encoder' | 'decoder' | 'converter' = dev.role
  const n: number = dev.output.requestBuffers(4, 'dmabuf')
  const i: number = dev.output.queueDmaBuf([frame], { bytesused: [frame.size], timestampUs: 7 })
  const back: M2mDequeued | null = await dev.capture.dequeue(100)
  const ev: V4l2Event | null = await dev.nextEvent(10)
  const kept = dev.setControls({ 'FWHT P-Frame QP Value': 2, 'Some 64-bit Control': 1n, 'Some String': 'x' })
  return width + n + i + (back?.info.index ?? 0) + (ev?.sequence ?? 0) + role.length + Object.keys(kept).length
}

export function badCodecs(dev: M2mDevice, enc: Encoder): void {
  // @ts-expect-error memory is 'mmap' or 'dmabuf'
  dev.output.requestBuffers(4, 'userptr')
  // @ts-expect-error encode() needs a timestamp
  void enc.encode([])
  // @ts-expect-error a control's value is a number, a bigint or a string
  dev.setControls({ 'FWHT I-Frame QP Value': true })
  // @ts-expect-error Encoder.open needs the coded format
  Encoder.open({ width: 640, height: 360, pixelformat: 'YUYV' })
  // @ts-expect-error output is read-only
  dev.output = dev.capture
}

export async function unixfd(buf: DmaBuf, signal: AbortSignal): Promise<number> {
  using src = UnixFdSrc.connect('@gst')
  const first: UnixFdBuffer | null = await src.read({ signal })
  const capsNow: string | null = src.caps
  let total = first === null ? 0 : first.bytes().length
  for await (const b of src) {
    using held = b
    const pts: ClockTime = held.pts
    const m: UnixFdMemory = held.memories[0]
    total += m.size + (pts === null ? 0 : Number(pts)) + (m.kind === 'dma-buf' ? 1 : 0)
  }
  const sink = UnixFdSink.listen('@node', { caps: 'video/x-raw,format=RGBA,width=4,height=4', maxInFlight: 2 })
  const conn: UnixFdSinkConnection = await sink.accept({ signal })
  const info: UnixFdBufferInfo = { pts: 0n, dts: null, flags: 0 }
  const id: bigint = await conn.send(buf, info)
  await conn.released(id)
  await conn.setCaps(sink.caps)
  await conn.end()
  conn.close()
  sink.close()
  const c: Caps = parseCaps(capsNow ?? 'video/x-raw')
  return total + conn.inFlight + printCaps(c).length + (src.ended ? 1 : 0)
}

export function badUnixfd(src: UnixFdSrc, conn: UnixFdSinkConnection, b: UnixFdBuffer, f: Frame): void {
  // @ts-expect-error listen() needs the caps
  UnixFdSink.listen('@x', {})
  // @ts-expect-error clock times are bigints, not numbers
  void conn.send([], { pts: 5 })
  // @ts-expect-error a buffer's id is read-only
  b.id = 1n
  // @ts-expect-error caps is read-only
  src.caps = 'x'
  // @ts-expect-error capsForFrame's framerate is a [num, den] pair
  capsForFrame(f, 30)
}
