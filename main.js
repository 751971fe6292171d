'use strict'
// Entry point of the `dmabuf` package. DMA-BUF is a Linux kernel interface:
// say so plainly elsewhere, instead of the loader's "cannot find native
// binding". On Linux, hand over to the loader that `napi build` generates
// (index.js), which picks the per-platform package.
if (process.platform !== 'linux') {
  const err = new Error(
    `dmabuf: DMA-BUF is a Linux kernel interface, so this package works on Linux only (this is ${process.platform})`,
  )
  err.code = 'ERR_DMABUF_UNSUPPORTED_PLATFORM'
  throw err
}
module.exports = require('./index.js')
