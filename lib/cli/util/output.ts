// Output: colours only on a terminal (and never with NO_COLOR), sizes, tables.

import { columnWidths } from './untrusted'

export const tty = process.stdout.isTTY === true && !process.env.NO_COLOR
const paint = (code: string) => (s: string): string => (tty ? `\x1b[${code}m${s}\x1b[0m` : s)
export const bold = paint('1')
export const dim = paint('2')
export const green = paint('32')
export const red = paint('31')
export const yellow = paint('33')

export function out(line = ''): void {
  process.stdout.write(line + '\n')
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`
}

export function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const visible = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, '').length
  // A loop, not Math.max(...rows): spreading ~120,000 rows overflows the stack.
  const w = columnWidths(head, rows, visible)
  const fmt = (r: string[], isHead = false): string =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(w[i] - visible(c))
        const cell = right[i] ? pad + c : c + pad
        return isHead ? bold(cell) : cell
      })
      .join('  ')
      .trimEnd()
  return [fmt(head, true), ...rows.map((r) => fmt(r))]
}
