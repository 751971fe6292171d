// The `dmabuf` command's KMS parts on vkms (custom-kernel VM tier):
// `dmabuf info` lists vkms with its connector, CRTC and planes, XR24 and
// LINEAR among their IN_FORMATS, and its --json `kms` field says the same;
// listing takes DRM master from no one; `dmabuf demo --sink kms` shows N
// frames by atomic commits with out-fences, prints timings in a sane range,
// exits 0, and leaves the display as it found it with no framebuffer of its
// own behind (the kernel's debugfs list of framebuffers, read in a private
// mount namespace); a user who may not open the cards gets them listed as
// EACCES from info and one line naming them from the demo.

import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'

import test from 'ava'
import { Card } from 'dmabuf'

import { copyPackage, inVm, runCli as run } from './helpers.js'

const kmsTest = inVm || existsSync('/sys/module/vkms') ? test.serial : test.serial.skip

/** `run`, again while another file holds vkms's DRM master for a moment (EBUSY), up to a minute. */
function runUnlessBusy(...args: string[]): ReturnType<typeof run> {
  let r = run(...args)
  for (let k = 0; k < 20 && r.status !== 0 && /DRM master|EBUSY/.test(r.stderr); k++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_000)
    r = run(...args)
  }
  return r
}

interface Listing {
  path: string
  driver: string | null
  status: 'kms' | 'not-kms' | 'error'
  reason?: string
  connectors?: { id: number; name: string; type: string; status: string; modes: number; preferred: string | null }[]
  crtcs?: { id: number; index: number; mode: string | null; fbId: number }[]
  planes?: { id: number; type: string; possibleCrtcs: number[]; formats: { modifiers: string[]; formats: string[] }[] }[]
}

/** The ids of every framebuffer the kernel has (debugfs `dri/<minor>/framebuffer`), mounted in a mount namespace of its own. */
function framebufferIds(minor: number): number[] {
  const r = spawnSync('unshare', ['--mount', 'sh', '-c', `mount -t debugfs none /sys/kernel/debug && cat /sys/kernel/debug/dri/${minor}/framebuffer`], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`debugfs framebuffer list: ${r.stderr}`)
  return [...r.stdout.matchAll(/^framebuffer\[(\d+)\]:/gm)].map((m) => Number(m[1])).sort((a, b) => a - b)
}

kmsTest('dmabuf info lists vkms: its Virtual connector, CRTC and planes with XR24 (LINEAR); vgem is skipped in one line; --json says the same', (t) => {
  const r = run('info')
  t.is(r.status, 0, r.stderr)
  const section = r.stdout.slice(r.stdout.indexOf('kms displays:'), r.stdout.indexOf('v4l2 nodes:'))
  t.log(section)
  t.regex(section, /^kms displays:\n/)
  t.regex(section, /^ {2}\/dev\/dri\/card\d+ {2}vgem: not a KMS display \(no modesetting\): skipped$/m)
  t.regex(section, /^ {2}\/dev\/dri\/card\d+ {2}vkms$/m)
  t.regex(section, /^ {6}Virtual-1 {2}Virtual {2}connected {2}\d+ modes, preferred \d+x\d+@\d+$/m)
  t.regex(section, /^ {6}\d+ {2}primary {2}crtcs \d+/m)
  t.regex(section, /^ {6}\d+ {2}cursor {2}crtcs \d+/m)
  t.regex(section, /^ {8}LINEAR: .*\bXR24\b/m)

  const j = JSON.parse(run('info', '--json').stdout) as { kms: Listing[] }
  t.true(Array.isArray(j.kms))
  const vkms = j.kms.find((c) => c.driver === 'vkms')
  t.truthy(vkms, JSON.stringify(j.kms))
  t.is(vkms!.status, 'kms')
  t.regex(section, new RegExp(`^  ${vkms!.path}  vkms$`, 'm'))
  const vgem = j.kms.find((c) => c.driver === 'vgem')
  t.is(vgem?.status, 'not-kms')
  const conn = vkms!.connectors!.find((c) => c.type === 'Virtual')!
  t.is(conn.status, 'connected')
  t.true(conn.modes > 0)
  t.regex(section, new RegExp(`^      ${conn.name}  Virtual  connected  ${conn.modes} modes, preferred ${conn.preferred}$`, 'm'))
  t.is(vkms!.crtcs!.length, 1)
  for (const p of vkms!.planes!) {
    t.deepEqual(p.possibleCrtcs, [vkms!.crtcs![0].id])
    const linear = p.formats.find((g) => g.modifiers.includes('LINEAR'))
    t.truthy(linear, JSON.stringify(p))
    t.true(linear!.formats.includes('XR24'), JSON.stringify(p))
    t.regex(section, new RegExp(`^      ${p.id}  ${p.type}  crtcs ${p.possibleCrtcs.join(',')}`, 'm'))
    for (const g of p.formats) t.true(section.includes(`        ${g.modifiers.join(', ')}: ${g.formats.join(' ')}\n`), JSON.stringify(g))
  }
  t.deepEqual(vkms!.planes!.map((p) => p.type).sort(), ['cursor', 'primary'])
})

kmsTest('listing takes DRM master from no one: dmabuf info runs while this process holds vkms as master, and it still does', async (t) => {
  const path = JSON.parse(run('info', '--json').stdout).kms.find((c: Listing) => c.driver === 'vkms').path as string
  let card: Card | undefined
  for (let k = 0; !card; k++) {
    try {
      card = Card.open(path)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || k > 400) throw e
      await new Promise((ok) => setTimeout(ok, 50))
    }
  }
  try {
    t.true(card.isMaster)
    const r = run('info')
    t.is(r.status, 0, r.stderr)
    t.regex(r.stdout, new RegExp(`^  ${path}  vkms$`, 'm'))
    t.true(card.isMaster, 'dmabuf info took DRM master away')
    // And the demo, which needs master, says who has it instead of failing obscurely.
    const demo = run('demo', '--sink', 'kms', '--frames', '2')
    t.is(demo.status, 1, demo.stdout + demo.stderr)
    t.is(demo.stderr.trim().split('\n').length, 1, demo.stderr)
    t.regex(demo.stderr, new RegExp(`^dmabuf: demo: --sink kms: ${path} has another DRM master`))
  } finally {
    card.close()
  }
})

kmsTest('dmabuf demo --sink kms shows N frames by atomic commits with out-fences, times them sanely, exits 0 and leaves no framebuffer behind', (t) => {
  const listing = (): Listing => (JSON.parse(run('info', '--json').stdout) as { kms: Listing[] }).kms.find((c) => c.driver === 'vkms')!
  const before = listing()
  const minor = Number(/card(\d+)$/.exec(before.path)![1])
  const fbsBefore = framebufferIds(minor)
  // The list is the kernel's: the framebuffer the CRTC shows (the console's) is in it.
  if (before.crtcs![0].fbId) t.true(fbsBefore.includes(before.crtcs![0].fbId), JSON.stringify(fbsBefore))
  const frames = 40
  const r = runUnlessBusy('demo', '--sink', 'kms', '--frames', String(frames))
  t.log(r.stdout)
  t.is(r.status, 0, r.stdout + r.stderr)
  t.regex(r.stdout, new RegExp(`^dmabuf demo: ${frames} frames on ${before.path} \\(vkms\\), Virtual-1 in \\d+x\\d+@\\d+ \\(([0-9.]+) Hz by its timings\\), a ring of 3 \\w+ framebuffers, XR24 LINEAR`, 'm'))
  t.regex(r.stdout, new RegExp(`^kms: ${frames} frames shown, each by one nonblocking atomic commit with an out-fence$`, 'm'))
  const m = /^ {2}commit -> out-fence signalled: mean ([0-9.]+) ms, min ([0-9.]+) ms, max ([0-9.]+) ms$/m.exec(r.stdout)
  t.truthy(m, r.stdout)
  const [mean, min, max] = m!.slice(1).map(Number)
  // Each out-fence is seen after its commit (min > 0), and a flip takes about a frame (16.7 ms at 60 Hz), slower under TCG.
  t.true(min > 0 && min <= mean && mean <= max, `${min} ${mean} ${max}`)
  t.true(mean >= 1 && mean <= 200, `mean ${mean} ms`)
  const hz = /^ {2}mode \d+x\d+@\d+: ([0-9.]+) Hz refresh \(([0-9.]+) ms a frame\); the out-fences' vblank times ([0-9.]+) ms apart on average/m.exec(r.stdout)
  t.truthy(hz, r.stdout)
  t.true(Number(hz![1]) > 20 && Number(hz![1]) < 200, hz![1])
  // Flips come at vblanks: never closer than a frame period (less a little for the timer's rounding).
  t.true(Number(hz![3]) >= Number(hz![2]) * 0.9, `${hz![3]} ms between flips, ${hz![2]} ms a frame`)
  t.regex(r.stdout, new RegExp(`^ {2}each flip at a later vblank than the one before: ${frames - 1}/${frames - 1} ok$`, 'm'))
  t.regex(r.stdout, /^ {2}display (restored: framebuffer \d+ in \d+x\d+@\d+ again|cleared: the CRTC is off again); 3 framebuffers removed$/m)

  // As it was: the CRTC shows what it showed before (the console's framebuffer, or nothing), and no framebuffer of the demo is left.
  const after = listing()
  t.deepEqual(after.crtcs, before.crtcs)
  t.deepEqual(framebufferIds(minor), fbsBefore)
})

kmsTest('a user who may not open the card nodes: dmabuf info lists each as EACCES and exits 0; the demo names them, exit 1', (t) => {
  // nobody, without groups (the VM's nodes are root's, mode 0600), runs a
  // copy of the package: it may not read the checkout (a clone in a 0700
  // directory).
  const pkg = copyPackage()
  t.teardown(() => rmSync(pkg, { recursive: true, force: true }))
  const asNobody = (...args: string[]): ReturnType<typeof run> => {
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(pkg, 'cli.js'), ...args], { cwd: pkg, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 5 * 60_000 })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const cards = (JSON.parse(run('info', '--json').stdout) as { kms: Listing[] }).kms.map((c) => c.path)
  t.true(cards.length >= 2, JSON.stringify(cards))
  const r = asNobody('info')
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout, new RegExp(`^kms displays: none \\(${cards.length} card nodes could not be opened\\)$`, 'm'))
  for (const p of cards) t.regex(r.stdout, new RegExp(`^  ${p}  unknown driver: cannot open \\(EACCES\\): permission denied opening ${p}`, 'm'))
  const j = JSON.parse(asNobody('info', '--json').stdout) as { kms: { path: string; status: string; code?: string }[] }
  t.deepEqual(j.kms.map((c) => [c.path, c.status, c.code]), cards.map((p) => [p, 'error', 'EACCES']))
  const d = asNobody('demo', '--sink', 'kms', '--frames', '2')
  t.is(d.status, 1, d.stdout + d.stderr)
  t.is(d.stderr, `dmabuf: demo: --sink kms: ${cards.join(', ')} may not be opened by this user (EACCES): get read-write access to it (its group, often video), or run as root\n`)
})
