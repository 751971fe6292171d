// `dmabuf info`: what this system offers (capabilities() and the command's own probes).

import { existsSync } from 'node:fs'
import * as d from '../../index'
import { parse } from '../util/args'
import { UsageError } from '../util/errors'
import { listKms, type KmsCardListing } from '../util/kms'
import { bold, dim, green, out, red, table, yellow } from '../util/output'

export const help = `Usage: dmabuf info [--json]

Prints the kernel, dma-heaps, udmabuf, DRM nodes and their drivers, the KMS
displays (each card with modesetting: its connectors, CRTCs and planes with
their formats and IN_FORMATS modifiers; cards are opened without taking DRM
master, and one that will not open is reported), the V4L2
video nodes (single- or multi-planar, whether they export their buffers and
import dma-bufs), the memory-to-memory devices (codecs and converters: their
role and the formats each queue takes, coded ones marked), the DVB demuxes and whether their buffers export, the Vulkan
devices (dma-buf export and import, SYNC_FD; "none" without Vulkan), which
dma-buf and sync_file ioctls the kernel implements, whether pidfd_getfd
works, and whatever else capabilities() reports.

Options:
  --json   the same as JSON (capabilities() plus the probes of this command:
           syncFileIoctls, pidfdGetfd, vulkan, kms, m2m)`

interface SyncProbe {
  SYNC_IOC_FILE_INFO: boolean | null
  SYNC_IOC_MERGE: boolean | null
}

function probeSyncFile(): SyncProbe {
  const r: SyncProbe = { SYNC_IOC_FILE_INFO: null, SYNC_IOC_MERGE: null }
  let buf: d.DmaBuf | undefined
  try {
    buf = d.listHeaps().includes('system') ? d.Heap.open('system').alloc(4096) : d.createUdmabuf(4096)
  } catch {
    return r
  }
  try {
    const sf = buf.exportSyncFile('r')
    try {
      const has = (f: () => void): boolean => {
        try {
          f()
          return true
        } catch (e) {
          return (e as { code?: string }).code !== 'ENOTTY'
        }
      }
      r.SYNC_IOC_FILE_INFO = has(() => sf.info())
      r.SYNC_IOC_MERGE = has(() => sf.merge(sf).close())
    } finally {
      sf.close()
    }
  } catch {
    // No sync_file export on this kernel: the sync_file ioctls cannot be tried.
  } finally {
    buf.close()
  }
  return r
}

/** Why there is no /dev/dma_heap and what to use instead (the core's own sentence, from Heap.open's error); null when it exists. */
function heapsMissing(): string | null {
  if (existsSync('/dev/dma_heap')) return null
  try {
    d.Heap.open('system').close()
    return null
  } catch (e) {
    return (e as Error).message.replace(/^E[A-Z]+: /, '').replace(/, Heap\.open$/, '')
  }
}

function probePidfd(): boolean | string {
  try {
    d.fdFromProcess(process.pid, 0).close()
    return true
  } catch (e) {
    const code = (e as { code?: string }).code
    return code === 'ENOSYS' ? false : `unknown (${String(code)})`
  }
}

const IOCTL_NAMES: Record<string, string> = {
  sync: 'DMA_BUF_IOCTL_SYNC',
  setName: 'DMA_BUF_SET_NAME',
  exportSyncFile: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE',
  importSyncFile: 'DMA_BUF_IOCTL_IMPORT_SYNC_FILE',
}

/** Prints any value capabilities() returns, so that fields added later show up without a change here. */
function show(key: string, v: unknown, indent: string): void {
  const label = /^[a-z][A-Za-z0-9]*$/.test(key) ? key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : key
  if (v === null || v === undefined) out(`${indent}${label}: ${dim('unknown')}`)
  else if (typeof v === 'boolean') out(`${indent}${label}: ${v ? green('yes') : yellow('no')}`)
  else if (Array.isArray(v)) {
    if (v.length === 0) out(`${indent}${label}: ${dim('none')}`)
    else if (v.every((x) => typeof x !== 'object' || x === null)) out(`${indent}${label}: ${v.join(', ')}`)
    else {
      out(`${indent}${label}:`)
      for (const x of v) {
        const o = x as Record<string, unknown>
        const parts = Object.entries(o).map(([k, y]) => (k === 'path' ? String(y) : `${k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} ${y === null || y === undefined ? dim('unknown') : typeof y === 'object' ? JSON.stringify(y) : String(y)}`))
        out(`${indent}  ${parts.join(', ')}`)
      }
    }
  } else if (typeof v === 'object') {
    out(`${indent}${label}:`)
    for (const [k, y] of Object.entries(v as Record<string, unknown>)) show(IOCTL_NAMES[k] ?? k, y, indent + '  ')
  } else out(`${indent}${label}: ${String(v)}`)
}

interface VulkanProbe {
  /** `Vulkan.available()`: a loader and a device with VK_KHR_external_memory_fd. */
  available: boolean
  /** Every physical device, opened by index, with its `capabilities()` (or why it would not open). */
  devices: ({ index: number } & (d.VulkanCapabilities | { error: string }))[]
  /** Why there are none, when there are none. */
  reason?: string
}

/** Opens each Vulkan physical device in turn; never throws (no loader, no device: an empty list and the reason). */
function probeVulkan(): VulkanProbe {
  const r: VulkanProbe = { available: false, devices: [] }
  try {
    r.available = d.Vulkan.available()
  } catch (e) {
    r.reason = (e as Error).message
    return r
  }
  for (let index = 0; index < 64; index++) {
    try {
      const v = d.Vulkan.open({ device: index })
      try {
        r.devices.push({ index, ...v.capabilities() })
      } finally {
        v.close()
      }
    } catch (e) {
      const err = e as Error & { code?: string }
      // Past the last device (or no loader at all): ENODEV/ENOENT end the list.
      if (err.code === 'ENODEV' || err.code === 'ENOENT') {
        if (index === 0) r.reason = err.message.replace(/^E[A-Z]+: /, '').replace(/, Vulkan\.open$/, '')
        break
      }
      r.devices.push({ index, error: err.message })
      if (!r.available && index === 0) break
    }
  }
  return r
}

const yesNo = (v: boolean | null | undefined): string => (v === null || v === undefined ? dim('unknown') : v ? green('yes') : yellow('no'))

function infoKms(cards: KmsCardListing[]): void {
  const shown = cards.filter((c) => c.status === 'kms')
  const closed = cards.filter((c) => c.status === 'error').length
  const why = !cards.length ? 'no /dev/dri/card* node' : closed ? `${closed} card node${closed === 1 ? '' : 's'} could not be opened` : 'no card node has KMS modesetting'
  out(`${bold('kms displays')}:${shown.length ? '' : ` ${dim('none')} (${why})`}`)
  for (const c of cards) {
    if (c.status === 'not-kms') {
      out(`  ${c.path}  ${c.driver ?? dim('unknown driver')}: ${dim('not a KMS display (no modesetting): skipped')}`)
      continue
    }
    if (c.status === 'error') {
      out(`  ${c.path}  ${c.driver ?? dim('unknown driver')}: ${red(`cannot open (${String(c.code)})`)}: ${String(c.reason)}`)
      continue
    }
    out(`  ${c.path}  ${String(c.driver)}`)
    out(`    connectors:${c.connectors!.length ? '' : ' ' + dim('none')}`)
    for (const k of c.connectors!) out(`      ${k.name}  ${k.type}  ${k.status === 'connected' ? green(k.status) : yellow(k.status)}  ${k.modes} mode${k.modes === 1 ? '' : 's'}${k.preferred ? `, preferred ${k.preferred}` : ''}`)
    out(`    crtcs:${c.crtcs!.length ? '' : ' ' + dim('none')}`)
    for (const k of c.crtcs!) out(`      ${k.id}  index ${k.index}  ${k.mode ? `${k.mode}, framebuffer ${k.fbId || dim('none')}` : dim('off')}`)
    out(`    planes:${c.planes!.length ? '' : ' ' + dim('none')}`)
    for (const p of c.planes!) {
      out(`      ${p.id}  ${p.type}  crtcs ${p.possibleCrtcs.join(',') || dim('none')}${p.crtcId ? `  on crtc ${p.crtcId}` : ''}`)
      for (const g of p.formats) out(`        ${g.modifiers.length ? g.modifiers.join(', ') : dim('no IN_FORMATS')}: ${g.formats.join(' ')}`)
    }
  }
}

function infoV4l2(nodes: d.V4l2Node[]): void {
  out(`${bold('v4l2 nodes')}:${nodes.length ? '' : ' ' + dim('none')}`)
  if (!nodes.length) return
  const kind = (t: string): [string, string] => [t.replace('-mplane', ''), t.endsWith('-mplane') ? 'multi-planar' : 'single-planar']
  const rows = nodes.map((n) => [n.path, n.name || '-', n.driver, ...kind(n.bufType), yesNo(n.canExport), yesNo(n.canImport)])
  for (const l of table(['PATH', 'NAME', 'DRIVER', 'QUEUE', 'PLANES', 'EXPORTS (MMAP)', 'IMPORTS (DMABUF)'], rows, [false, false, false, false, false, false, false])) out(`  ${l}`)
}

/** The memory-to-memory devices (M2mDevice.list()), or why none could be listed. */
function listM2m(): d.M2mNode[] | { error: string } {
  try {
    return d.M2mDevice.list()
  } catch (e) {
    return { error: (e as Error).message }
  }
}

function infoM2m(m: d.M2mNode[] | { error: string }): void {
  if (!Array.isArray(m)) {
    out(`${bold('m2m devices (codecs, converters)')}: ${red('cannot list')}: ${m.error}`)
    return
  }
  out(`${bold('m2m devices (codecs, converters)')}:${m.length ? '' : ' ' + dim('none')}`)
  // Coded formats first and marked: they are what a codec is chosen by.
  const fmts = (fs: d.V4l2FormatDesc[]): string =>
    [...fs.filter((f) => f.compressed).map((f) => `${f.pixelformat} (coded)`), ...fs.filter((f) => !f.compressed).map((f) => f.pixelformat)].join(' ') || dim('none')
  for (const n of m) {
    out(`  ${n.path}  ${n.name || '-'}  ${n.driver}  ${n.role}`)
    out(`    in  (OUTPUT):  ${fmts(n.outputFormats)}`)
    out(`    out (CAPTURE): ${fmts(n.captureFormats)}`)
  }
}

function infoDvb(demuxes: string[], canExport: boolean | undefined): void {
  out(`${bold('dvb demuxes')}:${demuxes.length ? '' : ' ' + dim('none')}`)
  for (const p of demuxes) out(`  ${p}`)
  if (demuxes.length) out(`  buffer export (DMX_REQBUFS + DMX_EXPBUF, CONFIG_DVB_MMAP): ${yesNo(canExport)}`)
}

function infoVulkan(v: VulkanProbe): void {
  if (!v.devices.length) {
    out(`${bold('vulkan devices')}: ${dim('none')}${v.reason ? dim(` (${v.reason})`) : ''}`)
    return
  }
  out(`${bold('vulkan devices')}:`)
  const dir = (s: d.VulkanHandleSupport): string => `export ${yesNo(s.export.includes('dma-buf'))}, import ${yesNo(s.import.includes('dma-buf'))}`
  for (const dev of v.devices) {
    if ('error' in dev) {
      out(`  ${dev.index}: ${red('cannot open')}: ${dev.error}`)
      continue
    }
    out(`  ${dev.index}: ${dev.deviceName} (Vulkan ${dev.apiVersion})`)
    out(`     dma-buf buffers: ${dir(dev.buffer)}; images: ${dir(dev.image)}`)
    out(`     SYNC_FD semaphores: export ${yesNo(dev.semaphore.export)}, import ${yesNo(dev.semaphore.import)}; fences: export ${yesNo(dev.fence.export)}, import ${yesNo(dev.fence.import)}`)
    if (dev.missingExtensions.length) out(`     ${dim(`missing: ${dev.missingExtensions.join(', ')}`)}`)
  }
}

export function info(argv: string[]): number {
  const a = parse(argv, { flags: ['json'], values: [] }, 'info')
  if (a.help) return showHelp()
  if (a._.length) throw new UsageError(`info: unexpected argument '${a._[0]}'`)
  const caps = d.capabilities() as unknown as Record<string, unknown>
  const extra = { heapsMissing: heapsMissing(), syncFileIoctls: probeSyncFile(), pidfdGetfd: probePidfd(), vulkan: probeVulkan(), kms: listKms(), m2m: listM2m() }
  if (a.json) {
    out(JSON.stringify({ ...caps, ...extra }, null, 2))
    return 0
  }
  const { kernel, ioctls, v4l2, dvbDemuxes, dvbExport, ...rest } = caps
  out(`${bold('kernel')}: ${String(kernel)}`)
  for (const [k, v] of Object.entries(rest)) {
    if (k === 'heaps' && Array.isArray(v) && v.length === 0 && extra.heapsMissing) {
      out(`${bold('heaps')}: ${dim('none')} (${extra.heapsMissing})`)
    } else if (k === 'drm' && Array.isArray(v)) {
      out(`${bold('drm nodes')}:${v.length ? '' : ' ' + dim('none')}`)
      for (const n of v as { path: string; driver: string | null }[]) out(`  ${n.path}  ${n.driver ?? dim('(cannot open)')}`)
    } else show(k, v, '')
  }
  infoKms(extra.kms)
  infoV4l2((v4l2 ?? []) as d.V4l2Node[])
  infoM2m(extra.m2m)
  infoDvb((dvbDemuxes ?? []) as string[], dvbExport as boolean | undefined)
  infoVulkan(extra.vulkan)
  out(bold('dma-buf ioctls') + (Object.values((ioctls ?? {}) as object).every((x) => x === null || x === undefined) ? dim(' (no dma-buf could be made to try them)') : '') + ':')
  const io = (ioctls ?? {}) as Record<string, unknown>
  for (const k of new Set([...Object.keys(IOCTL_NAMES), ...Object.keys(io)])) show(IOCTL_NAMES[k] ?? k, io[k], '  ')
  out(bold('sync_file ioctls') + ':')
  for (const [k, v] of Object.entries(extra.syncFileIoctls)) show(k, v, '  ')
  show('pidfd_getfd (DmaBuf.fromProcess)', extra.pidfdGetfd === true ? true : extra.pidfdGetfd === false ? false : null, '')
  return 0
}

function showHelp(): number {
  out(help)
  return 0
}
