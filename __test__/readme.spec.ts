// Docs that run (issue 20): every ```ts block of the README, exactly as a user
// would paste it, compiled with the settings the README gives (`tsc --strict
// --module nodenext --target es2022` on an .mts file) and run on the tier's
// Node (20 on the host, 24 in the Debian VM tier) and on Node 22
// (target/pack/node22, fetched by scripts/pack/pack.sh). A block
// whose fence reads ```ts no_run is a fragment (it names values the reader
// supplies): it is left out, and the test logs it by line, never silently.
//
// The host tier compiles every runnable block (tsc under the VM's emulated CPU
// takes minutes) into target/readme-examples/, and runs those that need no
// device when this machine has none; the VM tier (DMABUF_VM=1, the host's tree
// shared read-only) runs every compiled example on both Nodes. Those that
// open a KMS card (Card.open) need vkms, which only the project's kernel has
// (the custom and ARM tiers, which run this file too); kms-pipeline.spec.ts
// runs them as well, so that the custom kernel's own files cover them.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { inVm, readmeExamples as examples } from './helpers.js'

const root = resolve(__dirname, '..', '..')
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const out = join(root, 'target', 'readme-examples')
const node22 = join(root, 'target', 'pack', 'node22')
/** The compiler settings the README gives for its TypeScript examples. */
const TSC_FLAGS = ['--strict', '--module', 'nodenext', '--target', 'es2022']

/** Whether an example touches a device (a dma-buf source): those run in the VM tier. */
const needsDevice = (source: string): boolean => /createUdmabuf|Udmabuf|Heap|DrmDevice|V4l2|DVB|Dvb|Vulkan|Channel|Card\.open/.test(source)
const hasDevices = existsSync('/dev/udmabuf')

test('the README has TypeScript examples, and the quick start is runnable', (t) => {
  const all = examples()
  t.true(all.length >= 3)
  t.true(all[0].runnable, 'the quick start is not marked no_run')
  for (const e of all.filter((x) => !x.runnable)) t.log(`README.md:${e.line}: marked no_run (a fragment), not compiled or run`)
})

if (!inVm) {
  test('every runnable README example compiles with the settings the README gives', (t) => {
    t.timeout(5 * 60_000)
    rmSync(out, { recursive: true, force: true })
    mkdirSync(join(out, 'node_modules'), { recursive: true })
    symlinkSync(root, join(out, 'node_modules', 'dmabuf'))
    for (const e of examples().filter((x) => x.runnable)) {
      const dir = join(out, `line-${e.line}`)
      mkdirSync(dir)
      writeFileSync(join(dir, 'example.mts'), e.source)
      const r = spawnSync(process.execPath, [tsc, ...TSC_FLAGS, join(dir, 'example.mts')], { cwd: dir, encoding: 'utf8' })
      t.is(r.status, 0, `README.md:${e.line}: tsc ${TSC_FLAGS.join(' ')}\n${r.stdout}${r.stderr}`)
      t.false(/\busing\b/.test(readFileSync(join(dir, 'example.mjs'), 'utf8').replace(/\/\/.*$/gm, '')), `README.md:${e.line}: no \`using\` left for Node 20 to choke on`)
    }
  })
}

test('every runnable README example runs on this tier\'s Node and on Node 22 (device examples: where the devices are)', (t) => {
  t.timeout(5 * 60_000)
  let ran = 0
  for (const e of examples().filter((x) => x.runnable)) {
    const js = join(out, `line-${e.line}`, 'example.mjs')
    if (!inVm && needsDevice(e.source) && !hasDevices) {
      t.log(`README.md:${e.line}: needs a device; runs in the VM tier`)
      continue
    }
    if (/\bDvb|\bDVB\b/.test(e.source) && !existsSync('/dev/dvb/adapter0')) {
      t.log(`README.md:${e.line}: needs vidtv; runs in the custom-kernel tier`)
      t.false(process.env.DMABUF_VM_KERNEL === 'custom', 'the custom kernel has vidtv')
      continue
    }
    if (/\b(Encoder|Decoder|M2mDevice)\b/.test(e.source) && !existsSync('/sys/module/vicodec')) {
      t.log(`README.md:${e.line}: needs vicodec; runs in the custom-kernel tier (codec.spec runs every codec example)`)
      t.false(process.env.DMABUF_VM_KERNEL === 'custom', 'the custom kernel has vicodec')
      continue
    }
    if (/\bUnixFdSrc\b/.test(e.source)) {
      t.log(`README.md:${e.line}: needs a GStreamer pipeline at its socket; gst.spec runs it (x86 VM tier)`)
      continue
    }
    if (/\bCard\.open\b/.test(e.source) && !existsSync('/sys/module/vkms')) {
      t.log(`README.md:${e.line}: needs vkms; runs in the custom-kernel tier (kms-pipeline.spec runs every Card.open example)`)
      t.false(process.env.DMABUF_VM_KERNEL === 'custom', 'the custom kernel has vkms')
      continue
    }
    t.true(existsSync(js), `README.md:${e.line}: compiled by the host tier first (${js})`)
    // node22 is the npm registry's x86-64 build: an ARM tier runs its own Node only.
    for (const node of process.arch === 'x64' ? [process.execPath, node22] : [process.execPath]) {
      t.true(existsSync(node), `${node} (scripts/pack/pack.sh fetches Node 22)`)
      const r = spawnSync(node, [js], { encoding: 'utf8', timeout: 60_000 })
      t.is(r.status, 0, `README.md:${e.line} on ${node}: ${r.stdout}${r.stderr}`)
      ran++
    }
  }
  if (inVm) t.true(ran > 0, 'the VM tier ran the examples')
  else t.pass()
})
