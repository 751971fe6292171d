'use strict'
// Case 12 of bench/streaming.mjs (in the VM, on the custom kernel, with vivid
// and vicodec): vivid's frames encoded by vicodec's stateful FWHT encoder,
// through the public API, as an application would write it. vivid's MMAP
// capture buffers are exported once as DmaBufs; per frame a capture buffer
// is dequeued and its dma-buf queued on the encoder's OUTPUT queue (DMABUF
// memory); the encoder's CAPTURE queue is MMAP and each bitstream buffer goes
// straight back once dequeued (nothing is read, as fakesink reads nothing);
// when the encoder hands an OUTPUT buffer back, its dma-buf returns to
// vivid's capture queue. All four of vivid's buffers circulate, so several
// frames are in flight, as in GStreamer's pipeline.
//
//   node bench/js/m2m-encode.js setup            sets vivid up, prints the nodes and the format
//   node bench/js/m2m-encode.js run WARMUP FRAMES
//
// run prints {"frames","wall_ns","cpu_ns","fps","skipped"}: from the dequeue
// of encoded frame WARMUP to that of frame WARMUP+FRAMES (GStreamer's side
// is timed where the encoded frames reach fakesink), the wall time, this
// process's CPU time (process.cpuUsage(), all threads) and the frames vivid
// produced in that window with no buffer queued (its sequence numbers
// skipped): the encoder, not vivid, sets the pace.

const { V4l2Device, M2mDevice } = require('../../index.js')

// vicodec takes 640x360 to 4096x2160, but trixie's v4l2fwhtenc only
// negotiates 1280x720 (see bench/README.md, case 12): both sides use it.
const WIDTH = 1280
const HEIGHT = 720
const FOURCC = 'YU12' // I420 in GStreamer's words: vivid captures it, vicodec encodes it
const CAPTURE_BUFFERS = 4 // as many as v4l2src allocated in the same pipeline
const CODED_BUFFERS = 4

function node(name) {
  const n = V4l2Device.list().find((x) => x.name === name)
  if (!n) throw new Error(`no video node named ${name} (the custom kernel's VM has vivid and vicodec)`)
  return n.path
}

/** vivid-000's capture: input 0 (the test pattern), WIDTHxHEIGHT YU12, 60 fps. */
function setupVivid() {
  const path = node('vivid-000-vid-cap')
  const dev = V4l2Device.open(path)
  dev.setInput(0)
  const format = dev.setFormat({ width: WIDTH, height: HEIGHT, pixelformat: FOURCC }, true)
  const interval = dev.setFrameInterval(1, 60)
  return { dev, path, format, interval }
}

async function run(warmup, frames) {
  const cam = setupVivid()
  const cap = cam.dev
  const n = cap.requestBuffers(CAPTURE_BUFFERS)
  const bufs = Array.from({ length: n }, (_, i) => cap.exportBuffer(i, 0, 'rw'))
  const vividIndex = new Map(bufs.map((b, i) => [b, i]))

  const enc = M2mDevice.open(node('stateful-encoder'))
  const size = cam.format.planes[0].sizeimage
  enc.output.setFormat({ width: WIDTH, height: HEIGHT, pixelformat: FOURCC }, true)
  enc.output.requestBuffers(n, 'dmabuf')
  const coded = enc.capture.requestBuffers(CODED_BUFFERS, 'mmap')
  for (let i = 0; i < coded; i++) enc.capture.queue(i)
  for (let i = 0; i < n; i++) cap.queue(i)
  cap.streamOn()
  enc.output.streamOn()
  enc.capture.streamOn()

  const cpu = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) * 1000
  }
  const T = 10_000 // a stall (vicodec under TCG takes ~80 ms a frame at 1280x720)
  const must = (what) => (d) => {
    if (d === null) throw new Error(`${what} within ${T / 1000} s`)
    return d
  }
  let camQueued = n // buffers vivid holds to fill
  let codedQueued = coded // bitstream buffers the encoder holds
  let captured = 0 // vivid frames dequeued
  let encoded = 0 // bitstream buffers dequeued
  let lastSeq = 0
  let t0 = 0n
  let c0 = 0
  let seq0 = 0
  let cap0 = 0
  let result = null

  // The encoder is done reading a frame: its dma-buf goes back to vivid.
  const giveBack = (d) => {
    const i = vividIndex.get(d.buffers[0])
    if (i === undefined) throw new Error("the encoder gave back a dma-buf that is not one of vivid's")
    cap.queue(i)
    camQueued++
  }
  // An encoded frame: counted, and its buffer queued again at once.
  const take = (d) => {
    codedQueued--
    const k = encoded++
    if (k === warmup) {
      t0 = process.hrtime.bigint()
      c0 = cpu()
      seq0 = lastSeq
      cap0 = captured
    }
    if (k === warmup + frames) {
      const wall = Number(process.hrtime.bigint() - t0)
      result = { frames, wall_ns: wall, cpu_ns: cpu() - c0, fps: frames / (wall / 1e9), skipped: lastSeq - seq0 - (captured - cap0) }
      return
    }
    enc.capture.queue(d.info.index)
    codedQueued++
  }
  // One loop, as in v4l2loop.js: take what the encoder has finished without
  // waiting, and wait only for what the next step needs. A wait costs more
  // than a DQBUF that finds a buffer, and vicodec encodes inside the OUTPUT
  // QBUF, so after each frame both of its buffers are ready.
  while (result === null) {
    for (let d = enc.output.tryDequeue(); d !== null; d = enc.output.tryDequeue()) giveBack(d)
    for (let d = enc.capture.tryDequeue(); d !== null && result === null; d = enc.capture.tryDequeue()) take(d)
    if (result !== null) break
    if (camQueued === 0) {
      giveBack(must('the encoder gave no OUTPUT buffer back')(await enc.output.dequeue(T)))
      continue
    }
    if (codedQueued === 0) {
      take(must('the encoder gave no encoded frame')(await enc.capture.dequeue(T)))
      continue
    }
    const b = cap.tryDequeue() ?? must('vivid gave no frame')(await cap.dequeue(T))
    camQueued--
    captured++
    lastSeq = b.sequence
    enc.output.queueDmaBuf([bufs[b.index]], { bytesused: [b.planes[0].bytesused || size], timestampUs: captured })
  }

  enc.output.streamOff()
  enc.capture.streamOff()
  cap.streamOff()
  enc.close()
  for (const b of bufs) b.close()
  cap.close()
  return result
}

async function main() {
  const [role, warmup, frames] = process.argv.slice(2)
  // The role as the process's name (/proc/PID/comm), for profiling.
  process.title = `b-m2m-${role}`.slice(0, 15)
  if (role === 'setup') {
    const cam = setupVivid()
    cam.dev.close()
    const f = cam.format
    const out = {
      capture: cam.path,
      encoder: node('stateful-encoder'),
      width: f.width,
      height: f.height,
      pixelformat: f.pixelformat,
      gstFormat: 'I420',
      bytesperline: f.planes[0].bytesperline,
      sizeimage: f.planes[0].sizeimage,
      interval: cam.interval,
    }
    process.stderr.write(`m2m-encode setup: vivid ${out.capture}, encoder ${out.encoder}, ${out.width}x${out.height} ${out.pixelformat} (${out.sizeimage} bytes), frame interval ${out.interval.join('/')} s\n`)
    process.stdout.write(JSON.stringify(out) + '\n')
  } else if (role === 'run') {
    process.stdout.write(JSON.stringify(await run(Number(warmup), Number(frames))) + '\n')
  } else {
    throw new Error('usage: m2m-encode.js setup | run WARMUP FRAMES')
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
