// Run a list of variants (a matrix) with up to N VMs at once, write the run's reports, and compute the
// exit code of the whole run.
import { mkdir, rm, symlink, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { freemem } from 'node:os'
import { join, resolve } from 'node:path'
import pLimit from 'p-limit'
import type { EventSink } from '../events.js'
import { EXIT, InputError } from '../errors.js'
import { runVariant, type RunOptions } from './pipeline.js'
import type { RunSummary, Variant, VariantResult } from '../types.js'
import { FAILING_RUN_VERDICTS } from '../results/schema.js'
import { isInterrupted, onInterrupt } from '../util/children.js'
import { qemuVersion } from '../host.js'
import { writeRunReports } from './reports.js'
import { splitShards } from './shards.js'

export interface MatrixOptions extends Omit<RunOptions, 'outDir'> {
  outDir: string
  jobs: number
  shard?: { index: number; count: number } | undefined
  /** estimated seconds per variant name, for a balanced --shard split (harness/run/timings.ts costsFor) */
  costs?: Map<string, number> | undefined
  junit?: string | undefined
  json?: string | undefined
  /** one sink per variant (a live task list gives each its own) or one for all */
  sinkFor: (v: Variant) => EventSink
  /** run jobs through this instead of directly (the live renderer) */
  runJobs?: <T>(jobs: { name: string; run: (sink: EventSink) => Promise<T> }[], concurrency: number) => Promise<T[]>
}

/**
 * Deterministic shard I of N (1-based), balanced by estimated cost (harness/run/shards.ts): the same variants
 * and costs give the same split everywhere. Without costs every variant counts the same.
 */
export function shardOf<T extends { name: string }>(vs: T[], index: number, count: number, cost: (v: T) => number = () => 1): T[] {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count)
    throw new InputError(`--shard ${index}/${count}: expected I/N with 1 ≤ I ≤ N`)
  return splitShards(vs, count, cost)[index - 1]!.items
}

/** Guest RAM plus NVDIMM and CXL backing (mapped, so it counts) per VM, and how many fit in free memory. */
export function vmMemoryMiB(v: Variant): number {
  const media = v.machine.nvdimms.reduce((s, d) => s + d.sizeMiB, 0) + v.machine.cxl.reduce((s, c) => s + c.sizeMiB, 0)
  return v.machine.memoryMiB + media + 256
}

export function jobsThatFit(vs: Variant[], jobs: number, freeMiB = freemem() / 1024 / 1024): number {
  const biggest = Math.max(...vs.map(vmMemoryMiB), 1)
  return Math.max(1, Math.min(jobs, Math.floor((freeMiB * 0.8) / biggest)))
}

export async function prepareOutDir(out: string | undefined): Promise<string> {
  if (out) {
    await mkdir(out, { recursive: true })
    return resolve(out)
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')
  const dir = resolve('out', stamp)
  await mkdir(dir, { recursive: true })
  const latest = resolve('out', 'latest')
  await rm(latest, { force: true })
  await symlink(stamp, latest).catch(() => undefined)
  return dir
}

/** A variant met its run expectation: `ok` normally, or the verdict it declares with `expect-run`. */
export function runAsExpected(r: VariantResult): boolean {
  return r.verdict === (r.expectedVerdict ?? 'ok')
}

export function exitCodeOf(results: VariantResult[]): number {
  const v = results.map(r => r.verdict)
  if (results.every(runAsExpected)) return EXIT.ok
  const missed = results.filter(r => !runAsExpected(r) && r.expectedVerdict !== undefined)
  if (missed.length && !v.includes('infra') && !v.includes('bad-input')) return EXIT.regression
  if (v.includes('infra')) return EXIT.infra
  if (v.includes('bad-input')) return EXIT.badInput
  if (v.some(x => FAILING_RUN_VERDICTS.has(x))) return EXIT.regression
  if (v.includes('untestable')) return EXIT.untestable
  return EXIT.ok
}

export function countOutcomes(results: VariantResult[]): RunSummary['counts'] {
  let passed = 0
  let failed = 0
  let skipped = 0
  for (const r of results) {
    if (r.expectedVerdict !== undefined && r.expectedVerdict !== 'ok') {
      // judged as a whole: the canary's run verdict is the one result that counts
      if (runAsExpected(r)) passed++
      else failed++
      continue
    }
    for (const c of r.cases) {
      // a known failure matches its expectation: it is reported apart but does not fail the run
      if (c.verdict !== 'as-expected' && c.verdict !== 'known-failure') failed++
      else if (c.status === 'skip') skipped++
      else passed++
    }
    // a variant that failed without a failing case (untestable, boot hang, console crash) counts once
    if (r.verdict !== 'ok' && !r.cases.some(c => c.verdict !== 'as-expected' && c.verdict !== 'known-failure')) failed++
  }
  return { passed, failed, skipped }
}

export async function runMatrix(variants: Variant[], o: MatrixOptions): Promise<{ summary: RunSummary; exit: number }> {
  const costs = o.costs
  const selected = o.shard ? shardOf(variants, o.shard.index, o.shard.count, costs ? v => costs.get(v.name) ?? 1 : undefined) : variants
  const started = new Date().toISOString()
  const jobs = jobsThatFit(selected, o.jobs)
  const results: (VariantResult | undefined)[] = new Array(selected.length)
  const summary = (): RunSummary => {
    const done = results.filter((r): r is VariantResult => !!r)
    const sig = isInterrupted()
    return {
      ...(sig ? { interrupted: true, interruptedBy: sig } : {}),
      schema: 'daxrig-results/1',
      started,
      finished: new Date().toISOString(),
      host: { accel: o.accel, qemu: '', node: process.version },
      variants: done,
      counts: countOutcomes(done),
    }
  }
  const qemu = await qemuVersion(o.qemu)
  // Report writes go through one chain: the interrupt handler awaits the chain before it exits, so a
  // Ctrl-C can never end the process between a finished variant and its results.json.
  let writing: Promise<void> = Promise.resolve()
  const write = (): Promise<RunSummary> => {
    const s = summary()
    s.host.qemu = qemu
    const done = writing.then(() => writeRunReports(s, o.outDir, { junit: o.junit, json: o.json }))
    writing = done.catch(() => undefined)
    return done.then(() => s)
  }
  // an interrupted run still leaves a readable results.json with what finished
  const off = onInterrupt(async () => {
    await write()
  })
  const work = selected.map((v, i) => ({
    name: v.name,
    run: async (sink: EventSink) => {
      const r = await runVariant(v, { ...o, outDir: o.outDir }, sink)
      results[i] = r
      return r
    },
  }))
  let s: RunSummary
  try {
    if (o.runJobs) await o.runJobs(work, jobs)
    else {
      const limit = pLimit(jobs)
      await Promise.all(work.map((w, i) => limit(() => w.run(o.sinkFor(selected[i]!)))))
    }
    s = await write()
  } finally {
    off()
  }
  return { summary: s, exit: exitCodeOf(s.variants) }
}

export async function readSummary(dir: string): Promise<RunSummary> {
  const f = existsSync(join(dir, 'results.json')) ? join(dir, 'results.json') : dir
  try {
    return JSON.parse(await readFile(f, 'utf8')) as RunSummary
  } catch (e) {
    throw new InputError(`cannot read results: ${(e as Error).message}`, f)
  }
}

