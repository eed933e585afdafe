// The bench's plumbing: timing, medians, running the CLI the way users do (zx), reading a run's results.json,
// and recording figures into bench/last.json. The cases themselves are in bench.ts.
import { $, argv, fs, path } from 'zx'
import { projectRoot } from '../harness/paths.js'
import { guestSplit, programSeconds } from '../harness/vm/guest-progress.js'
import type { RunSummary, VariantResult } from '../harness/types.js'

$.verbose = false

export const RUNS = Number(argv.runs ?? 5)
export const COLD_RUNS = Number(argv['cold-runs'] ?? 3)
const DEFAULT_CASES = 'floor,warm-1,warm-1-fresh,warm,jobs2,cold,suites,topologies,ports,ports-cold,own-tree,src-repeat,src-rebuild,bisect-warm,bisect-cold'
export const ONLY = String(argv.only ?? DEFAULT_CASES).split(',')

/** the launcher users run, on the compiled dist/ that npm ci builds (an edited tree would otherwise time tsx) */
export const cli = path.join(projectRoot(), 'bin', 'daxrig.js')

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}

/** `daxrig ARGS` as CI runs it; anything but the expected exit codes fails the case with the output's tail. */
export async function daxrig(args: string[], o: { env?: Record<string, string>; okExits?: number[] } = {}): Promise<void> {
  const r = await $({ nothrow: true, env: { ...process.env, CI: 'true', ...o.env } })`${process.execPath} ${cli} ${args}`
  if (!(o.okExits ?? [0]).includes(r.exitCode ?? -1))
    throw new Error(`daxrig ${args.join(' ')} exited ${r.exitCode}:\n${r.toString().split('\n').slice(-15).join('\n')}`)
}

/** The variants of a run's results.json (written by every `daxrig run`). */
export async function runResults(outDir: string): Promise<VariantResult[]> {
  return ((await fs.readJson(path.join(outDir, 'results.json'))) as RunSummary).variants
}

/** Guest-side split of one variant's run (kernel boot to init, setup, tests), from the guest's progress marks. */
export async function splitOf(outDir: string, variant: string): Promise<{ init: number; setup: number; tests: number; end: number }> {
  const v = (await runResults(outDir)).find(r => r.variant === variant)
  const g = v?.guest
  const s = g ? guestSplit(g) : {}
  if (!g || s['guest boot'] === undefined || s['guest setup'] === undefined || s['guest tests'] === undefined || g.powerDown === undefined)
    throw new Error(`${outDir}: ${variant} has no complete guest timeline in results.json`)
  return { init: s['guest boot'], setup: s['guest setup'], tests: s['guest tests'], end: g.powerDown }
}

/** Seconds each program ran, per variant of a run. */
export async function programTimes(outDir: string): Promise<[string, number][]> {
  return (await runResults(outDir)).flatMap(v => (v.guest ? programSeconds(v.guest) : []))
}

export const out: Record<string, { runs: number[]; median: number }> = {}
export const failures: Record<string, string> = {}

/** Run one bench case; a failure is reported and recorded, and the other cases still run. */
export async function benchCase(name: string, fn: () => Promise<void>): Promise<void> {
  if (!ONLY.includes(name)) return
  try {
    await fn()
  } catch (e) {
    failures[name] = String((e as Error).message ?? e).split('\n').slice(0, 6).join('\n')
    process.stderr.write(`${name}: FAILED: ${failures[name]}\n`)
  }
}

export function record(name: string, runs: number[]): void {
  out[name] = { runs: runs.map(r => Number(r.toFixed(2))), median: Number(median(runs).toFixed(2)) }
  process.stderr.write(`${name.padEnd(8)} median ${median(runs).toFixed(2)} s  runs ${runs.map(r => r.toFixed(2)).join(' ')}\n`)
}

/** bench/last.json (cases not measured this time keep their dated figures) and the Markdown table on stdout. */
export async function writeLast(kernel: string): Promise<void> {
  const floor = out.floor?.median
  const lines = Object.entries(out).map(([n, r]) => `| ${n} | ${r.median.toFixed(2)} s | ${floor ? (r.median / floor).toFixed(2) + '×' : '-'} | ${r.runs.join(', ')} |`)
  const table = ['| case | median | ÷ floor | runs (s) |', '|---|---|---|---|', ...lines].join('\n')
  const lastFile = path.join(projectRoot(), 'bench', 'last.json')
  const previous = argv.only ? (((await fs.readJson(lastFile).catch(() => ({}))) as { results?: Record<string, unknown> }).results ?? {}) : {}
  const now = new Date().toISOString()
  const dated = Object.fromEntries(Object.entries(out).map(([n, r]) => [n, { ...r, date: now }]))
  const body = { date: now, kernel, results: { ...previous, ...dated }, ...(Object.keys(failures).length ? { failures } : {}) }
  await fs.writeFile(lastFile, JSON.stringify(body, null, 2) + '\n')
  process.stdout.write(table + '\n')
  if (Object.keys(failures).length) {
    process.stdout.write(`failed: ${Object.keys(failures).join(', ')}\n`)
    process.exitCode = 1
  }
}
