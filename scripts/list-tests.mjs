// Reads `cargo test --no-run --message-format=json` on stdin and writes the
// test executables it built, one a line, to OUT:
//   node scripts/list-tests.mjs OUT [FROM TO]
// FROM TO: each path starting with FROM starts with TO instead (a build in a
// chroot, scripts/cross/build.sh, names the repository /repo; the VM needs
// its host path). scripts/test.sh and scripts/cross/build.sh write the lists
// scripts/vm-tier.sh runs.
import { writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

const [out, from, to] = process.argv.slice(2)
const found = []
createInterface({ input: process.stdin })
  .on('line', (line) => {
    let m
    try {
      m = JSON.parse(line)
    } catch {
      return // cargo's own progress lines
    }
    if (m.reason !== 'compiler-artifact' || !m.profile?.test || !m.executable) return
    found.push(from !== undefined && m.executable.startsWith(from) ? to + m.executable.slice(from.length) : m.executable)
  })
  .on('close', () => writeFileSync(out, found.join('\n') + '\n'))
