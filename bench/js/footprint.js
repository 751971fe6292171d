'use strict'
// Case 11 of bench/streaming.mjs: what the library adds to a process that
// loads it (threads and fds), and what one pending wait adds. Counts
// /proc/self/task and /proc/self/fd, after letting the event loop turn (so
// that anything started lazily has started). Prints one JSON line.

const fs = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')

const count = () => ({ threads: fs.readdirSync('/proc/self/task').length, fds: fs.readdirSync('/proc/self/fd').length })
const diff = (a, b) => ({ threads: b.threads - a.threads, fds: b.fds - a.fds })

async function main() {
  await sleep(50)
  const before = count()
  const lib = require('../../index.js')
  await sleep(50)
  const loaded = count()
  // One pending wait: a receive() on one end of a pair (the pair's two
  // sockets are counted before the wait starts, so only the wait's cost shows).
  const [a, b] = lib.Channel.pair()
  await sleep(20)
  const paired = count()
  const pending = a.receive().catch((e) => e)
  await sleep(50)
  const waiting = count()
  await b.send({ done: true })
  await pending
  await sleep(20)
  const settled = count()
  a.close()
  b.close()
  await sleep(20)
  const closed = count()
  process.stdout.write(
    JSON.stringify({
      before,
      require: diff(before, loaded),
      pendingWait: diff(paired, waiting),
      afterWait: diff(paired, settled),
      afterClose: diff(before, closed),
    }) + '\n',
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
