'use strict'
// Case 12 of bench/streaming.mjs (in the VM, on the custom kernel, with vivid
// and vicodec): vivid's frames encoded by vicodec's stateful FWHT encoder,
// through the public API, as an application would write it. vivid's MMAP
// capture buffers are exported once as DmaBufs; per frame a capture buffer
// is dequeued and its dma-buf queued on the encoder's OUTPUT queue (DMABUF
// memory); the encoder's CAPTURE queue is MMAP and each bitstream buffer goes
// straight back once dequeued (nothing is read, as fakesink reads nothing);
// when the encoder hands an OUTPUT buffer back, its dma-buf returns to
// vivid's capture queue. Three loops run side by side on the event loop, so
// several frames are in flight, as in GStreamer's pipeline.
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
  const stop = new AbortController()
  const { signal } = stop
  const T = 10_000 // a stall (vicodec under TCG takes ~80 ms a frame at 1280x720)
  let captured = 0 // vivid frames dequeued
  let lastSeq = 0
  let t0 = 0n
  let c0 = 0
  let seq0 = 0
  let cap0 = 0
  let result = null

  // vivid -> encoder OUTPUT: every frame vivid fills goes to the encoder.
  const feed = async () => {
    for (;;) {
      const b = await cap.dequeue(T, signal)
      if (b === null) throw new Error(`vivid gave no frame within ${T / 1000} s`)
      captured++
      lastSeq = b.sequence
      enc.output.queueDmaBuf([bufs[b.index]], { bytesused: [b.planes[0].bytesused || size], timestampUs: captured })
    }
  }
  // encoder OUTPUT -> vivid: the encoder is done reading a frame's dma-buf.
  const giveBack = async () => {
    for (;;) {
      const d = await enc.output.dequeue(T, signal)
      if (d === null) throw new Error(`the encoder gave no OUTPUT buffer back within ${T / 1000} s`)
      const i = vividIndex.get(d.buffers[0])
      if (i === undefined) throw new Error('the encoder gave back a dma-buf that is not one of vivid\'s')
      cap.queue(i)
    }
  }
  // encoder CAPTURE: count the bitstream buffers and queue them again at once.
  const drain = async () => {
    for (let k = 0; ; k++) {
      const d = await enc.capture.dequeue(T, signal)
      if (d === null) throw new Error(`the encoder gave no encoded frame within ${T / 1000} s`)
      if (k === warmup) {
        t0 = process.hrtime.bigint()
        c0 = cpu()
        seq0 = lastSeq
        cap0 = captured
      }
      if (k === warmup + frames) {
        const wall = Number(process.hrtime.bigint() - t0)
        result = { frames, wall_ns: wall, cpu_ns: cpu() - c0, fps: frames / (wall / 1e9), skipped: lastSeq - seq0 - (captured - cap0) }
        stop.abort()
        return
      }
      enc.capture.queue(d.info.index)
    }
  }
  const loops = [feed(), giveBack(), drain()].map((p) =>
    p.catch((e) => {
      if (e?.name === 'AbortError' && signal.aborted) return
      stop.abort()
      throw e
    }),
  )
  const settled = await Promise.allSettled(loops)
  const failed = settled.find((s) => s.status === 'rejected')

  enc.output.streamOff()
  enc.capture.streamOff()
  cap.streamOff()
  enc.close()
  for (const b of bufs) b.close()
  cap.close()
  if (failed) throw failed.reason
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
