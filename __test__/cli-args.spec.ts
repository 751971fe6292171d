// The `dmabuf` command's own argument handling, which is TypeScript alone
// and touches no device: usage errors are one line and exit 2 (a stack
// trace only with --verbose), every subcommand has --help, -v/--verbose goes
// anywhere on the line, `--` ends the options. It runs in the host tier and
// the x86 VM tiers; the ARM tiers leave this file out (scripts/vm-tier.sh):
// what it checks is the same code on every CPU, and its two dozen Node
// starts cost the armv7 guest minutes.

import test from 'ava'

import { runCli as run } from './helpers.js'

test('every subcommand has --help; bad usage is one line on stderr and exit 2', (t) => {
  for (const c of ['info', 'ls', 'demo']) {
    const r = run(c, '--help')
    t.is(r.status, 0)
    t.regex(r.stdout, new RegExp(`^Usage: dmabuf ${c}`))
  }
  for (const args of [['nope'], ['ls', '--sort', 'color'], ['ls', '--bogus'], ['demo', '--frames', '0'], ['ls', '--watch', '-1'], ['demo', '--sink', 'hdmi'], ['demo', '--sink', 'kms', '--size', '8M'], ['demo', '--sink', 'kms', '--source', 'v4l2'], ['demo', '--sink', 'kms', '--ring', '1']]) {
    const r = run(...args)
    t.is(r.status, 2, args.join(' '))
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
    t.regex(r.stderr, /^dmabuf: /)
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace without --verbose')
  }
  t.is(run().status, 2)
})

test('global options go anywhere on the line: -v/--verbose before or after the command', (t) => {
  const before = run('-v', 'info', '--json')
  t.is(before.status, 0, before.stderr)
  t.deepEqual(Object.keys(JSON.parse(before.stdout)), Object.keys(JSON.parse(run('info', '--json', '--verbose').stdout)))
  const bogus = run('--verbose', 'bogus')
  t.is(bogus.status, 2)
  t.regex(bogus.stderr, /^dmabuf: unknown command 'bogus'/)
  t.regex(bogus.stderr, /\n\s+at /, '--verbose adds the stack trace')
  const quiet = run('bogus')
  t.is(quiet.stderr.trim().split('\n').length, 1, quiet.stderr)
})

test("-v after a command is an option only where it is not another option's value; `--` ends the options", (t) => {
  // `--exporter -v` filters on an exporter named "-v": none, so an empty table and exit 0.
  const value = run('ls', '--exporter', '-v', '--by', 'exporter')
  t.is(value.status, 0, value.stderr)
  t.notRegex(value.stderr, /\n\s+at /)
  const after = run('ls', '--bogus-option', '--verbose')
  t.is(after.status, 2)
  t.is(after.stderr.trim().split('\n').length, 1, 'a usage error is one line (it is found before the --verbose)')
  const ended = run('ls', '--', '--json')
  t.is(ended.status, 2)
  t.regex(ended.stderr, /^dmabuf: ls: unexpected argument '--json'/, 'after --, --json is an argument, not the option')
})
