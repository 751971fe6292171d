// The command's dispatcher: global options, the help table, one module per
// command (lib/cli/commands/*), and how errors reach the terminal.

import * as demo from './commands/demo'
import * as info from './commands/info'
import * as ls from './commands/ls'
import { CliError, EXIT_FAIL, EXIT_USAGE, UsageError } from './util/errors'
import { seen } from './util/args'
import { out } from './util/output'

const HELP = `dmabuf: Linux DMA-BUF from the command line

Usage: dmabuf <command> [options]

Commands:
  info    what this system offers: kernel, heaps, udmabuf, DRM, KMS displays,
          V4L2, DVB, Vulkan, ioctls
  ls      every dma-buf on the system, who holds it and who maps it
  demo    a zero-copy pipeline between two processes, against a socket copy;
          --sink kms: frames on a display, timed by their out-fences

Options:
  -h, --help     help (also after a command: dmabuf ls --help)
  -v, --verbose  stack traces with errors
  --version      the package's version

Exit codes: 0 success, 1 failure, 2 bad usage, 3 no dma-buf exporter here.`

/** Each command: its entry and its help (`dmabuf <command> --help`, `dmabuf help <command>`). */
const COMMANDS: Record<string, { run: (argv: string[]) => number | Promise<number>; help: string }> = {
  info: { run: info.info, help: info.help },
  ls: { run: ls.ls, help: ls.help },
  demo: { run: demo.demo, help: demo.help },
}

/**
 * Global options, valid anywhere on the line: before the command they are
 * taken out here; after it the command's parser takes them as options
 * (and not where they are another option's value: `--exporter -v`).
 */
const GLOBAL = new Set(['-v', '--verbose'])

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
      out(HELP)
      return EXIT_USAGE
    case '-h':
    case '--help':
    case 'help': {
      const sub = rest.length ? COMMANDS[rest[0]] : undefined
      out(sub ? sub.help : HELP)
      return 0
    }
    case '--version':
      out((require('../package.json') as { version: string }).version)
      return 0
    default: {
      const c = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
      if (!c) throw new UsageError(`unknown command '${command}' (dmabuf --help lists them)`)
      return c.run(rest)
    }
  }
}

/**
 * Runs the command line `argv` (without node and the script) and sets the
 * exit code. Errors are one line (`dmabuf: ...`); `-v`/`--verbose`, anywhere
 * on the line, adds the stack trace.
 */
export function run(argv: string[]): void {
  let lead = 0
  while (lead < argv.length && GLOBAL.has(argv[lead])) lead++
  // `dmabuf info | head`: a reader that stops early ends the command quietly, as it would end cat.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw e
  })
  dispatch(argv.slice(lead)).then(
    (code) => {
      process.exitCode = code
    },
    (e: unknown) => {
      const err = e as Error & { code?: string; exitCode?: number }
      const message = err instanceof UsageError || err instanceof CliError ? err.message : `${err.code ? `${err.code}: ` : ''}${err.message?.replace(/^E[A-Z0-9]+: /, '') ?? String(e)}`
      process.stderr.write(`dmabuf: ${message}\n`)
      if ((lead > 0 || seen.verbose) && err.stack) process.stderr.write(err.stack + '\n')
      process.exitCode = err instanceof UsageError ? EXIT_USAGE : (err.exitCode ?? EXIT_FAIL)
    },
  )
}
