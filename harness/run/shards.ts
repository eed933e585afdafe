// Balanced shards: estimate what each variant costs and split a matrix so that every shard takes about as
// long. Pure: the same variants, timings and cache facts give the same split on every machine, which is
// what lets N CI jobs each compute their own shard without talking to each other.
import { InputError } from '../errors.js'
import type { Variant } from '../types.js'

/** What the estimate needs to know about one variant (everything else about it does not change its cost). */
export interface CostInput {
  name: string
  kind: Variant['kernel']['kind']
  /** guest programs it runs */
  programs: number
  /** emulated DIMMs (each gets a namespace, most a mkfs and a mount) */
  dimms: number
  /** a vIOMMU and a VFIO device: a slower boot */
  vfio: boolean
  /** its kernel is in the rig's cache already (no download, no build); unknown counts as not cached */
  kernelCached?: boolean
}

/** What the last run of a variant took, in seconds (from a results.json or the cache's timings file). */
export interface VariantTiming {
  /** image + boot + tests: everything but getting the kernel */
  runSec: number
  /** getting the kernel: a download, a build, or ~0 when it was cached */
  kernelSec?: number
  /** a fixed estimate (a shard plan written by `daxrig list --shards N --json`): used as it is */
  estimateSec?: number
}

export type Timings = Record<string, VariantTiming>

/** Seconds under TCG on 2 cores; measured on the seed matrix, rounded (docs/ci.md). */
export const COST = {
  boot: 4,
  perProgram: 1.5,
  perDimm: 1,
  vfio: 1.5,
  /** a prebuilt kernel not in the cache: apt download and unpack */
  download: 30,
  /** a source kernel not in the cache: a cold tinyconfig-based build with -j2 */
  build: 450,
  /** a source kernel in the cache: series load, config check, cache lookup */
  cachedBuild: 2,
} as const

export function costInputOf(v: Variant, kernelCached?: boolean): CostInput {
  const c: CostInput = {
    name: v.name,
    kind: v.kernel.kind,
    programs: v.tests.length,
    // a CXL device's setup (region, then namespace) costs about what a DIMM's does
    dimms: v.machine.nvdimms.length + v.machine.cxl.length,
    vfio: v.machine.iommu !== 'none' || !!v.machine.vfioDevice,
  }
  if (kernelCached !== undefined) c.kernelCached = kernelCached
  return c
}

const round1 = (x: number) => Math.round(x * 10) / 10

/**
 * Getting the kernel. Known cached: nothing (prebuilt) or a lookup (source). Known missing: a download, or
 * a build of minutes. Unknown (what `run --shard` sees: timings only): what it took last time, else a build
 * for a source kernel and nothing for a prebuilt one.
 */
function kernelCost(v: CostInput, t?: VariantTiming): number {
  if (v.kernelCached === true) return v.kind === 'source' ? COST.cachedBuild : 0
  if (v.kernelCached === false) return v.kind === 'source' ? Math.max(COST.build, t?.kernelSec ?? 0) : COST.download
  if (t?.kernelSec !== undefined && Number.isFinite(t.kernelSec)) return t.kernelSec
  // a prebuilt download happens once per machine (`daxrig setup` does it ahead): it is no cost of a run
  return v.kind === 'source' ? COST.build : 0
}

/** Estimated seconds for one variant: the last run's time when there is one, else its shape. */
export function estimateSeconds(v: CostInput, t?: VariantTiming): number {
  if (t?.estimateSec !== undefined && Number.isFinite(t.estimateSec)) return round1(t.estimateSec)
  const run =
    t && Number.isFinite(t.runSec) && t.runSec > 0
      ? t.runSec
      : COST.boot + COST.perProgram * v.programs + COST.perDimm * v.dimms + (v.vfio ? COST.vfio : 0)
  return round1(run + kernelCost(v, t))
}

export interface Shard<T> {
  /** 1-based, as in `--shard I/N` */
  index: number
  items: T[]
  estimateSec: number
}

/**
 * Greedy longest-first split: the costliest variant goes first, each to the least-loaded shard (the lowest
 * index among equals); equal costs are taken in name order. Within a shard, variants are in name order, so the
 * split does not depend on the order of the input either.
 */
export function splitShards<T extends { name: string }>(items: T[], count: number, cost: (x: T) => number): Shard<T>[] {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`--shards ${count}: expected a whole number ≥ 1`)
  const costs = new Map(items.map(x => [x, cost(x)]))
  const order = [...items].sort((a, b) => costs.get(b)! - costs.get(a)! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const load = new Array<number>(count).fill(0)
  const owner = new Map<T, number>()
  for (const x of order) {
    let best = 0
    for (let i = 1; i < count; i++) if (load[i]! < load[best]!) best = i
    owner.set(x, best)
    load[best] = round1(load[best]! + costs.get(x)!)
  }
  const byName = [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return load.map((l, i) => ({ index: i + 1, items: byName.filter(x => owner.get(x) === i), estimateSec: l }))
}

/** Human-readable split, one shard a line (`daxrig list --shards N`). */
export function formatShards<T extends { name: string }>(shards: Shard<T>[], cost: (x: T) => number): string {
  const total = shards.reduce((s, x) => s + x.estimateSec, 0)
  const lines = shards.map(s => {
    const names = s.items.map(x => `${x.name} (${fmtSec(cost(x))})`).join(', ')
    return `shard ${s.index}/${shards.length}  ~${fmtSec(s.estimateSec).padStart(7)}  ${s.items.length} variant(s): ${names || '(empty)'}`
  })
  const longest = Math.max(0, ...shards.map(s => s.estimateSec))
  lines.push(`total ~${fmtSec(total)} of work; the longest shard ~${fmtSec(longest)}`)
  return lines.join('\n')
}

export function fmtSec(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`
}
