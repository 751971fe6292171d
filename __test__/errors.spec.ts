// Bad inputs: what fromFd and the device openers do with fds and nodes that
// are not what they expect. These need no device and run on any host.

import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync, constants } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test, { type ExecutionContext } from 'ava'
import { DmaBuf, Heap, SyncFile, Udmabuf, createUdmabuf } from 'dmabuf'

import { assertOsError, noLeak, thrown } from './helpers.js'

// Every test here counts fds or frees an fd number, so none may overlap.
const serial = test.serial

const dir = mkdtempSync(join(tmpdir(), 'dmabuf-test-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

/** Opens a fd of each kind that is not a dma-buf, hands it to `fn`, closes it. */
type Kind = { name: string; open: () => Promise<{ fd: number; close: () => Promise<void> | void }> }

const kinds: Kind[] = [
  {
    name: 'a regular file',
    open: async () => {
      const fd = openSync(__filename, 'r')
      return { fd, close: () => closeSync(fd) }
    },
  },
  {
    // Node has no memfd_create; a file in /tmp (tmpfs in the VM) is the nearest.
    name: 'a file in /tmp',
    open: async () => {
      const path = join(dir, 'plain')
      writeFileSync(path, 'not a dma-buf')
      const fd = openSync(path, 'r+')
      return { fd, close: () => closeSync(fd) }
    },
  },
  {
    name: 'a FIFO',
    open: async () => {
      const path = join(dir, `fifo-${process.hrtime.bigint()}`)
      execFileSync('mkfifo', [path])
      // O_RDWR: opening a FIFO read-only would block until a writer appears.
      const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK)
      return { fd, close: () => closeSync(fd) }
    },
  },
  {
    name: 'a unix socket',
    open: async () => {
      const server = net.createServer()
      const path = join(dir, `sock-${process.hrtime.bigint()}`)
      await new Promise<void>((resolve) => server.listen(path, resolve))
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd
      return { fd, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
    },
  },
]

async function withFd(kind: Kind, fn: (fd: number) => void): Promise<void> {
  const { fd, close } = await kind.open()
  try {
    fn(fd)
  } finally {
    await close()
  }
}

for (const kind of kinds) {
  serial(`DmaBuf.fromFd on ${kind.name} throws ENOTTY, leaks nothing, leaves the caller's fd open`, async (t) => {
    await withFd(kind, (fd) => {
      const before = fstatSync(fd).ino
      noLeak(t, () => {
        const err = thrown(t, () => DmaBuf.fromFd(fd))
        assertOsError(t, err, 'ENOTTY', 'DmaBuf.fromFd')
        t.regex(err.message, /not a dma-buf/)
        // The error reports the caller's fd number, not the library's duplicate.
        t.is((err as { fd?: number }).fd, fd)
      })
      t.is(fstatSync(fd).ino, before, "the caller's fd is still open and still the same file")
    })
  })

  // The core reports "not a sync_file" as EINVAL, the kernel's own answer
  // when a sync_file ioctl (e.g. IMPORT_SYNC_FILE) is handed another fd.
  serial(`SyncFile.fromFd on ${kind.name} throws EINVAL, leaks nothing, leaves the caller's fd open`, async (t) => {
    await withFd(kind, (fd) => {
      noLeak(t, () => {
        const err = thrown(t, () => SyncFile.fromFd(fd))
        assertOsError(t, err, 'EINVAL', 'SyncFile.fromFd')
        t.regex(err.message, /not a sync_file/)
      })
      t.notThrows(() => fstatSync(fd))
    })
  })
}

function closedFdNumber(): number {
  const fd = openSync(__filename, 'r')
  closeSync(fd)
  return fd
}

serial('DmaBuf.fromFd on a closed fd number throws EBADF', (t) => {
  noLeak(t, () => {
    const err = thrown(t, () => DmaBuf.fromFd(closedFdNumber()))
    assertOsError(t, err, 'EBADF', 'DmaBuf.fromFd')
  })
})

serial('SyncFile.fromFd on a closed fd number throws EBADF', (t) => {
  noLeak(t, () => {
    const err = thrown(t, () => SyncFile.fromFd(closedFdNumber()))
    assertOsError(t, err, 'EBADF', 'SyncFile.fromFd')
  })
})

function assertRangeError(t: ExecutionContext, fn: () => unknown, method: string): void {
  const err = thrown(t, fn)
  t.true(err instanceof RangeError)
  t.is(err.code, 'ERR_OUT_OF_RANGE')
  t.true(err.message.includes(method), err.message)
}

for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
  serial(`fromFd(${bad}) throws RangeError ERR_OUT_OF_RANGE`, (t) => {
    noLeak(t, () => {
      assertRangeError(t, () => DmaBuf.fromFd(bad), 'DmaBuf.fromFd')
      assertRangeError(t, () => SyncFile.fromFd(bad), 'SyncFile.fromFd')
    })
  })
}

// Where a node is absent (a bare host) the openers explain what is missing;
// where it exists (the VM) they must succeed.
serial('createUdmabuf and Udmabuf.open: ENOENT with a CONFIG_UDMABUF hint, or success where the device exists', (t) => {
  noLeak(t, () => {
    if (existsSync('/dev/udmabuf')) {
      const buf = createUdmabuf(1)
      t.false(buf.closed)
      buf.close()
      const dev = Udmabuf.open()
      dev.close()
      return
    }
    for (const [fn, method] of [
      [() => createUdmabuf(4096), 'createUdmabuf'],
      [() => Udmabuf.open(), 'Udmabuf.open'],
    ] as const) {
      const err = thrown(t, fn)
      assertOsError(t, err, 'ENOENT', method)
      t.regex(err.message, /CONFIG_UDMABUF/)
    }
  })
})

serial('Heap.open: ENOENT with a hint, naming the heaps that do exist', (t) => {
  noLeak(t, () => {
    if (!existsSync('/dev/dma_heap')) {
      const err = thrown(t, () => Heap.open('system'))
      assertOsError(t, err, 'ENOENT', 'Heap.open')
      t.regex(err.message, /CONFIG_DMABUF_HEAPS/)
      return
    }
    const err = thrown(t, () => Heap.open('no-such-heap'))
    assertOsError(t, err, 'ENOENT', 'Heap.open')
    t.regex(err.message, /no-such-heap/)
    if (existsSync('/dev/dma_heap/system')) {
      t.regex(err.message, /available: .*system/)
      const heap = Heap.open('system')
      t.is(heap.name, 'system')
      heap.close()
    }
  })
})

serial('Udmabuf.open(path) on a missing node names ENOENT', (t) => {
  noLeak(t, () => {
    const err = thrown(t, () => Udmabuf.open(join(dir, 'no-such-device')))
    assertOsError(t, err, 'ENOENT', 'Udmabuf.open')
  })
})
