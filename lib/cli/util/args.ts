// Argument parsing shared by the commands.

import { UsageError } from './errors'

export interface Spec {
  flags: string[]
  values: string[]
  multi?: string[]
}

export type Args = { _: string[]; [k: string]: string | string[] | boolean | undefined }

/** Whether a command's arguments held -v/--verbose as an option (not as another option's value): main.ts reads it for errors. */
export const seen = { verbose: false }

export function parse(argv: string[], spec: Spec, command: string): Args {
  const a: Args = { _: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      // The end of the options: what follows is taken as it is.
      a._.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      a._.push(arg)
      continue
    }
    let [name, value] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    if (name === '-h') name = '--help'
    if (name === '-v') name = '--verbose'
    const key = name.replace(/^--/, '')
    if (spec.flags.includes(key) || key === 'help' || key === 'verbose') {
      if (value !== undefined) throw new UsageError(`${command}: --${key} takes no value`)
      a[key] = true
      if (key === 'verbose') seen.verbose = true
    } else if (spec.values.includes(key)) {
      if (value === undefined) {
        value = argv[++i]
        if (value === undefined) throw new UsageError(`${command}: --${key} needs a value`)
      }
      if (spec.multi?.includes(key)) a[key] = [...((a[key] as string[] | undefined) ?? []), value]
      else a[key] = value
    } else {
      throw new UsageError(`${command}: unknown option ${name} (see dmabuf ${command} --help)`)
    }
  }
  return a
}

export function positiveInt(command: string, name: string, v: string | undefined, dflt: number, max = 1e9): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${command}: --${name} must be a whole number from 1 to ${max}, not '${v}'`)
  return n
}

export function sizeArg(command: string, name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt
  const m = /^(\d+)\s*([kKmMgG]?)(i?B)?$/.exec(v)
  if (!m) throw new UsageError(`${command}: --${name} must be a size such as 4096, 64K or 8M, not '${v}'`)
  const n = Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2].toLowerCase()]
  if (n < 4096 || n % 4096 !== 0) throw new UsageError(`${command}: --${name} must be a multiple of 4096 bytes, not ${n}`)
  return n
}

