// DmaBuf.prototype.beginCpuAccess and the CpuAccess objects it returns.
//
// Evaluated once when the addon loads (lib.rs, napi_run_script); the script's
// value is a function that receives the DmaBuf class. Written in JavaScript
// because a native object per access is what made a begin+end pair cost
// ~17,700 instructions (napi_new_instance, napi_wrap with a finalizer,
// napi-rs's type tag, the finalizer run and the GC scavenge; see
// bench/PROFILE.md): a plain JS object is allocated inline by the JIT.
// The two ioctls stay native (DmaBuf.__cpuAccessStart/__cpuAccessEnd, which
// also record the open accesses so that DmaBuf.close() ends them).
(function install(DmaBuf) {
  'use strict'
  // DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE, by access string.
  const BITS = { __proto__: null, r: 1, w: 2, rw: 3 }
  const ACCESS = ['', 'r', 'w', 'rw']
  const proto = DmaBuf.prototype
  const nativeStart = proto.__cpuAccessStart
  const nativeEnd = proto.__cpuAccessEnd
  const token = Symbol('CpuAccess')

  function badAccess(access) {
    const shown = typeof access === 'string' ? JSON.stringify(access) : String(access)
    const err = new TypeError(`DmaBuf.beginCpuAccess: access must be 'r', 'w' or 'rw', got ${shown}`)
    err.code = 'ERR_INVALID_ARG_VALUE'
    return err
  }

  class CpuAccess {
    #buf
    #bits
    #open = true

    constructor(key, buf, bits) {
      if (key !== token) throw new TypeError('CpuAccess objects come from DmaBuf.beginCpuAccess()')
      this.#buf = buf
      this.#bits = bits
    }

    /** The access held: 'r', 'w' or 'rw'. */
    get access() {
      return ACCESS[this.#bits]
    }

    /** Whether the access is still open (false after end() or the DmaBuf's close()). */
    get active() {
      return this.#open && !this.#buf.closed
    }

    /** DMA_BUF_IOCTL_SYNC end. Calling it again, or after the DmaBuf was closed (which ended it), does nothing. */
    end() {
      if (!this.#open) return
      this.#open = false
      nativeEnd.call(this.#buf, this.#bits)
    }
  }
  Object.defineProperty(CpuAccess.prototype, Symbol.toStringTag, { value: 'CpuAccess' })
  if (typeof Symbol.dispose === 'symbol') {
    Object.defineProperty(CpuAccess.prototype, Symbol.dispose, { value: CpuAccess.prototype.end, writable: true, configurable: true })
  }

  Object.defineProperty(proto, 'beginCpuAccess', {
    value: function beginCpuAccess(access) {
      const bits = BITS[access]
      if (bits === undefined) throw badAccess(access)
      nativeStart.call(this, bits)
      return new CpuAccess(token, this, bits)
    },
    writable: true,
    configurable: true,
  })
  return CpuAccess
})
