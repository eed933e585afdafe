// Where shard estimates come from: the last run's durations (a results.json given with --timings, or the
// timings file in the rig's cache that every run and merge updates) and which kernels are cached here.
import { readFile, readdir, rename, writeFile, mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cacheRoot, withLock } from './cache/store.js'
import { InputError } from './errors.js'
import { costInputOf, estimateSeconds, type CostInput, type Timings, type VariantTiming } from './shards.js'
import type { RunSummary, Variant, VariantResult } from './types.js'

export const TIMINGS_SCHEMA = 'daxrig-timings/1'

export interface TimingsFile {
  schema: typeof TIMINGS_SCHEMA
  variants: Record<string, VariantTiming & { kernelId?: string; at?: string }>
  /** written by `daxrig list --shards N --json`: the split these estimates give */
  shards?: { index: number; estimateSec: number; variants: string[] }[]
}

export const cacheTimingsPath = () => join(cacheRoot(), 'timings.json')

/** What a finished variant says about its cost; nothing for one that said nothing about the kernel. */
export function timingOf(r: VariantResult): (VariantTiming & { kernelId?: string }) | undefined {
  if (['interrupted', 'infra', 'bad-input', 'untestable'].includes(r.verdict)) return undefined
  const t = r.timings
  const total = t.total
  if (total === undefined || !Number.isFinite(total)) return undefined
  const kernelSec = t.kernel ?? 0
  const out: VariantTiming & { kernelId?: string } = { runSec: Math.max(0, total - kernelSec), kernelSec }
  if (r.kernel?.id) out.kernelId = r.kernel.id
  return out
}

/** Timings from a results.json (one run or a merge) or a timings file / shard plan. */
export function timingsFrom(doc: unknown, file = 'timings'): Timings {
  const d = doc as Partial<RunSummary> & Partial<TimingsFile>
  const out: Timings = {}
  if (d && d.schema === 'daxrig-results/1' && Array.isArray(d.variants)) {
    for (const v of d.variants) {
      const t = timingOf(v)
      if (t) out[v.variant] = { runSec: t.runSec, ...(t.kernelSec !== undefined ? { kernelSec: t.kernelSec } : {}) }
    }
    return out
  }
  if (d && d.schema === TIMINGS_SCHEMA && d.variants && typeof d.variants === 'object') {
    for (const [name, t] of Object.entries(d.variants)) {
      const e: VariantTiming = { runSec: Number(t.runSec ?? 0) }
      if (t.kernelSec !== undefined) e.kernelSec = Number(t.kernelSec)
      if (t.estimateSec !== undefined) e.estimateSec = Number(t.estimateSec)
      out[name] = e
    }
    return out
  }
  throw new InputError(`${file}: not a results.json (daxrig-results/1) nor a timings file (${TIMINGS_SCHEMA})`, file)
}

export async function readTimingsFile(file: string): Promise<Timings> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    throw new InputError(`--timings: cannot read ${file}: ${(e as Error).message}`, file)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new InputError(`--timings: ${file} is not JSON: ${(e as Error).message}`, file)
  }
  return timingsFrom(doc, file)
}

async function readCacheFile(): Promise<TimingsFile> {
  const d = await readFile(cacheTimingsPath(), 'utf8').then(t => JSON.parse(t) as TimingsFile, () => undefined)
  return d && d.schema === TIMINGS_SCHEMA && d.variants ? d : { schema: TIMINGS_SCHEMA, variants: {} }
}

/** The cache's timings file (empty when there is none or it is unreadable: estimates fall back to shapes). */
export async function cacheTimings(): Promise<TimingsFile> {
  return readCacheFile()
}

/** Every run and merge records what its variants took; a broken cache never fails the run for it. */
export async function recordTimings(results: VariantResult[]): Promise<void> {
  const fresh = results.map(r => [r.variant, timingOf(r)] as const).filter(([, t]) => t)
  if (!fresh.length) return
  const file = cacheTimingsPath()
  try {
    await mkdir(cacheRoot(), { recursive: true })
    await withLock(`${file}.lock`, async () => {
      const d = await readCacheFile()
      const at = new Date().toISOString()
      for (const [name, t] of fresh) d.variants[name] = { ...t!, at }
      const tmp = `${file}.tmp-${process.pid}`
      await writeFile(tmp, `${JSON.stringify(d, null, 2)}\n`)
      await rename(tmp, file)
    }, 10_000)
  } catch {
    // estimates only: a read-only or full cache must not turn a good run into a failure
  }
}

/** Is the kernel this variant needs already in the rig's cache? (Best effort: it only changes estimates.) */
export async function kernelCached(v: Variant, last?: { kernelId?: string }): Promise<boolean> {
  const root = cacheRoot()
  if (v.kernel.kind === 'prebuilt') {
    const entries = await readdir(join(root, 'prebuilt')).catch(() => [] as string[])
    const pkg = v.kernel.package ?? ''
    return entries.some(e => e.startsWith(`${v.kernel.suite}_${pkg}`) && existsSync(join(root, 'prebuilt', e, '.complete')))
  }
  return !!last?.kernelId && existsSync(join(root, 'kernels', last.kernelId, '.complete'))
}

/**
 * The cost of each variant for `--shard` and `list --shards`. With a timings file given (`--timings`), that
 * file is the whole input: the local cache is not looked at, so every CI job handed the same file computes
 * the same split. Without one, the cache's timings file and the cache's kernels are used.
 */
export async function costsFor(vs: Variant[], timingsFile?: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  if (timingsFile) {
    const t = await readTimingsFile(timingsFile)
    for (const v of vs) out.set(v.name, estimateSeconds(costInputOf(v), t[v.name]))
    return out
  }
  const c = await cacheTimings()
  for (const v of vs) {
    const last = c.variants[v.name]
    const input: CostInput = costInputOf(v, await kernelCached(v, last))
    out.set(v.name, estimateSeconds(input, last))
  }
  return out
}
