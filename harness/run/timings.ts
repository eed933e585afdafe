// Where shard estimates come from: the last run's durations (a results.json or shard plan given with
// --timings, or the timings file in the rig's cache that every unsharded run and every merge updates).
import { writeFileAtomic } from '../util/atomic.js'
import { readFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { cacheRoot, withLock } from '../cache/store.js'
import { InputError } from '../errors.js'
import { costInputOf, estimateSeconds, type Timings, type VariantTiming } from './shards.js'
import type { RunSummary, Variant, VariantResult } from '../types.js'

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

/** Unsharded runs and merges record what their variants took; a broken cache never fails the run for it. */
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
      await writeFileAtomic(file, `${JSON.stringify(d, null, 2)}\n`)
    }, 10_000)
  } catch {
    // estimates only: a read-only or full cache must not turn a good run into a failure
  }
}

/**
 * The cost of each variant for `run --shard` and `list --shards`: from a timings file given with --timings
 * (a results.json or a shard plan), else from the cache's timings file, else from each variant's shape.
 * Nothing else is looked at, not even which kernels are in the cache right now: shard 1 downloading or
 * building a kernel must not change the split that shard 2 computes a minute later. Whether a kernel was
 * cached shows in the timings instead (a source build that hit the cache took seconds, not minutes).
 */
export async function costsFor(vs: Variant[], timingsFile?: string): Promise<Map<string, number>> {
  const t = timingsFile ? await readTimingsFile(timingsFile) : (await cacheTimings()).variants
  return new Map(vs.map(v => [v.name, estimateSeconds(costInputOf(v), t[v.name])]))
}
