'use strict'
// Case 10 of bench/streaming.mjs (in the VM, with vivid): capture -> output
// at 1280x720 RGB24, through the public API, as an application would write
// it: capture MMAP buffers exported once as DmaBufs; per frame dequeue a
// capture buffer and queue its dma-buf on the output as DMABUF; what the
// output has shown goes back to the capture queue. No hashing, no reading.
//
//   node bench/js/v4l2loop.js setup            selects vivid-000's inputs/outputs, prints the nodes
//   node bench/js/v4l2loop.js run WARMUP FRAMES
//
// run prints {"frames","wall_ns","cpu_ns","fps","skipped"}: from the dequeue
// of capture frame WARMUP to that of frame WARMUP+FRAMES, the wall time, this
// process's CPU time (process.cpuUsage(), all threads) and the capture
// sequence numbers skipped (frames vivid dropped because no buffer was queued).

const { V4l2Device } = require('../../index.js')

const WIDTH = 1280
const HEIGHT = 720

function open(name) {
  const n = V4l2Device.list().find((x) => x.name === name)
  if (!n) throw new Error(`no ${name} (load vivid: the project's VM does)`)
  return { dev: V4l2Device.open(n.path), path: n.path }
}

function setup() {
  const src = open('vivid-000-vid-cap')
  const out = open('vivid-000-vid-out')
  src.dev.setInput(0) // webcam: the test pattern generator
  out.dev.setOutput(1) // HDMI 000-0
  const want = { width: WIDTH, height: HEIGHT, pixelformat: 'RGB3' }
  src.dev.setFormat(want, true)
  src.dev.setFrameInterval(1, 60)
  out.dev.setFormat({ ...want, colorspace: 8 /* sRGB */ }, true)
  return { src, out }
}

async function run(warmup, frames) {
  const { src, out } = setup()
  const cap = src.dev
  const n = cap.requestBuffers(6)
  const bufs = Array.from({ length: n }, (_, i) => cap.exportBuffer(i, 0, 'rw'))
  const oq = out.dev.dmabufQueue(n)
  for (let i = 0; i < n; i++) cap.queue(i)
  cap.streamOn()
  let outOn = false
  const cpu = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) * 1000
  }
  let t0 = 0n
  let c0 = 0
  let seq0 = 0
  let result = null
  let capQueued = n
  // What the output has shown goes back to the capture queue.
  const recycle = (d) => {
    cap.queue(bufs.indexOf(d.buffers[0]))
    capQueued++
  }
  for (let i = 0; i <= warmup + frames; i++) {
    // Every buffer at the output (it runs slower than capture): wait for one back.
    while (capQueued === 0) {
      const d = await oq.dequeue(5000)
      if (d === null) throw new Error('the output gave no buffer back within 5 s')
      recycle(d)
    }
    const b = await cap.dequeue(5000)
    if (b === null) throw new Error(`capture frame ${i} did not come within 5 s`)
    capQueued--
    if (i === warmup) {
      t0 = process.hrtime.bigint()
      c0 = cpu()
      seq0 = b.sequence
    }
    if (i === warmup + frames) {
      const wall = Number(process.hrtime.bigint() - t0)
      result = { frames, wall_ns: wall, cpu_ns: cpu() - c0, fps: frames / (wall / 1e9), skipped: b.sequence - seq0 - frames }
      cap.queue(b.index)
      break
    }
    oq.queue([bufs[b.index]], [b.planes[0].bytesused])
    if (!outOn) {
      oq.streamOn()
      outOn = true
    }
    for (let d = oq.tryDequeue(); d !== null; d = oq.tryDequeue()) recycle(d)
  }
  oq.streamOff()
  cap.streamOff()
  oq.close()
  for (const b of bufs) b.close()
  cap.close()
  out.dev.close()
  return result
}

async function main() {
  const [role, warmup, frames] = process.argv.slice(2)
  // The role as the process's name (/proc/PID/comm), for bench/profile/streaming.sh.
  process.title = `b-${role}`.slice(0, 15)
  if (role === 'setup') {
    const { src, out } = setup()
    src.dev.close()
    out.dev.close()
    process.stdout.write(JSON.stringify({ capture: src.path, output: out.path, width: WIDTH, height: HEIGHT }) + '\n')
  } else {
    process.stdout.write(JSON.stringify(await run(Number(warmup), Number(frames))) + '\n')
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
