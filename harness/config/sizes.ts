// Size strings in variant files: 512M, 1G, 128K, or a plain number of bytes.
import { z } from 'zod'

export const sizeSchema = z.union([z.string(), z.number()], { error: 'expected a size such as 512M, 1G or 128K' })

export function parseSize(s: string | number, unitBytes: number): number | null {
  if (typeof s === 'number') return Number.isInteger(s) && s >= 0 ? s / unitBytes : null
  const m = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(s.trim())
  if (!m) return null
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T']
  return (Number(m[1]) * mult) / unitBytes
}
