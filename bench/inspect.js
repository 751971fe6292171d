#!/usr/bin/env node
'use strict'
// How long one inspection of /proc takes with many dma-bufs on the system
// (the figure: 10,000). A helper process (with its fd limit raised)
// allocates N udmabufs of one page, half of them also mapped; this process
// then times inspect() (the Rust scan through the binding) and `dmabuf ls`.
//
//   node bench/inspect.js [N]        (needs /dev/udmabuf: in the VM,
//   bash scripts/vm/run.sh node bench/inspect.js 10000)

const { spawn, spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')
const n = Number(process.argv[2] || 10000)
const d = require(root)

const holder = `
  const d = require(${JSON.stringify(root)})
  const u = d.Udmabuf.open()
  const keep = []
  for (let i = 0; i < ${n}; i++) {
    const b = u.alloc(4096)
    if (i % 2 === 0) keep.push(b.map('r'))
    keep.push(b)
  }
  process.stdout.write('ready\\n')
  setInterval(() => {}, 1 << 30)`

const child = spawn('bash', ['-c', `ulimit -n ${n + 1000} && exec "$0" -e "$1"`, process.execPath, holder], { stdio: ['ignore', 'pipe', 'inherit'] })
child.stdout.once('data', () => {
  const times = []
  const cpu = []
  let found = 0
  for (let i = 0; i < 7; i++) {
    const t0 = process.hrtime.bigint()
    const c0 = process.cpuUsage()
    const s = d.inspect()
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    found = s.processes.find((p) => p.pid === child.pid)?.buffers ?? 0
  }
  times.sort((x, y) => x - y)
  cpu.sort((x, y) => x - y)
  const t0 = process.hrtime.bigint()
  const ls = spawnSync(process.execPath, [path.join(root, 'cli.js'), 'ls', '--by', 'exporter'], { encoding: 'utf8' })
  const lsMs = Number(process.hrtime.bigint() - t0) / 1e6
  console.log(`buffers held by the helper: ${found} (asked for ${n}, half of them mapped too)`)
  console.log(`inspect(), whole /proc: median ${times[3].toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[6].toFixed(1)} ms over 7 runs; CPU time (user + system) median ${cpu[3].toFixed(1)} ms`)
  console.log(`dmabuf ls --by exporter, whole command (node start-up included): ${lsMs.toFixed(0)} ms`)
  console.log(ls.stdout.trim())
  child.kill()
  if (found !== n) process.exitCode = 1
})
