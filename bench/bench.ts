// npm run bench: times the rig on this host. Medians of several runs; nothing here asserts a time.
//   floor   — a bare boot of the same kernel with a trivial init (busybox poweroff), the lower bound
//   warm-1  — `daxrig run baseline-6.1` with everything cached
//   warm    — the default matrix, warm
//   cold    — the default matrix with an empty cache (downloads, unpack, image build)
// Usage: npm run bench [-- --runs N] [-- --cold-runs N] [-- --only floor,warm-1]
import { execa } from 'execa'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectRoot } from '../harness/paths.js'
import { loadVariant } from '../harness/config/variant.js'
import { prebuiltKernel } from '../harness/kernel/prebuilt.js'
import { writeCpio } from '../harness/guest/cpio.js'
import { readFile } from 'node:fs/promises'
import { accelArgs, baseArgs } from '../harness/vm/qemu-args.js'
import { defaultBios } from '../harness/host.js'
import { nullSink } from '../harness/events.js'

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? (process.argv[i + 1] ?? def) : def
}
const RUNS = Number(arg('runs', '5'))
const COLD_RUNS = Number(arg('cold-runs', '3'))
const ONLY = arg('only', 'floor,warm-1,warm,cold').split(',')
const cli = join(projectRoot(), 'harness', 'cli.ts')
const tsx = join(projectRoot(), 'node_modules', '.bin', 'tsx')

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}

async function daxrig(args: string[], env: Record<string, string> = {}): Promise<void> {
  const r = await execa(tsx, [cli, ...args], { reject: false, env: { ...process.env, CI: 'true', ...env }, all: true })
  if (r.exitCode !== 0) throw new Error(`daxrig ${args.join(' ')} exited ${r.exitCode}:\n${String(r.all).split('\n').slice(-15).join('\n')}`)
}

async function floorRun(kernel: string): Promise<number> {
  const init = Buffer.from('#!/bin/busybox sh\n/bin/busybox poweroff -f\n')
  const cpio = writeCpio([
    { path: 'init', type: 'file', data: init, mode: 0o755 },
    { path: 'bin/busybox', type: 'file', data: await readFile('/bin/busybox'), mode: 0o755 },
    { path: 'dev/console', type: 'chardev', major: 5, minor: 1 },
  ])
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-floor-'))
  await writeFile(join(dir, 'floor.cpio'), cpio)
  const args = [...baseArgs({ bios: defaultBios() }), '-machine', 'q35', ...accelArgs('tcg', 2), '-m', '1024M', '-serial', 'stdio',
    '-kernel', kernel, '-initrd', join(dir, 'floor.cpio'), '-append', 'console=ttyS0,115200 panic=-1 rdinit=/init loglevel=6']
  const s = await timed(async () => {
    const r = await execa('qemu-system-x86_64', args, { reject: false, stdin: 'ignore' })
    if (!/reboot: Power down/.test(String(r.stdout))) throw new Error('floor boot did not power off')
  })
  await rm(dir, { recursive: true, force: true })
  return s
}

const out: Record<string, { runs: number[]; median: number }> = {}
const record = (name: string, runs: number[]) => {
  out[name] = { runs: runs.map(r => Number(r.toFixed(2))), median: Number(median(runs).toFixed(2)) }
  process.stderr.write(`${name.padEnd(8)} median ${median(runs).toFixed(2)} s  runs ${runs.map(r => r.toFixed(2)).join(' ')}\n`)
}

const v = await loadVariant(join(projectRoot(), 'tests', 'variants', 'baseline-6.1.yaml'))
const k = await prebuiltKernel(v.kernel.package!, v.kernel.suite, nullSink)
const outDir = await mkdtemp(join(tmpdir(), 'daxrig-bench-out-'))

if (ONLY.includes('floor')) {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await floorRun(k.pvhImage ?? k.bzImage))
  record('floor', runs)
}
if (ONLY.includes('warm-1')) {
  await daxrig(['run', 'baseline-6.1', '--accel', 'tcg', '--out', join(outDir, 'prime')]) // prime the cache
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await timed(() => daxrig(['run', 'baseline-6.1', '--accel', 'tcg', '--out', join(outDir, `w1-${i}`)])))
  record('warm-1', runs)
}
if (ONLY.includes('warm')) {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await timed(() => daxrig(['run', '--accel', 'tcg', '--out', join(outDir, `w-${i}`)])))
  record('warm', runs)
}
if (ONLY.includes('cold')) {
  const runs: number[] = []
  for (let i = 0; i < COLD_RUNS; i++) {
    const cache = await mkdtemp(join(tmpdir(), 'daxrig-bench-cache-'))
    runs.push(await timed(() => daxrig(['run', '--accel', 'tcg', '--out', join(outDir, `c-${i}`)], { DAXRIG_CACHE: cache })))
    await rm(cache, { recursive: true, force: true })
  }
  record('cold', runs)
}
const floor = out.floor?.median
const lines = Object.entries(out).map(([n, r]) => `| ${n} | ${r.median.toFixed(2)} s | ${floor ? (r.median / floor).toFixed(2) + '×' : '-'} | ${r.runs.join(', ')} |`)
const table = ['| case | median | ÷ floor | runs (s) |', '|---|---|---|---|', ...lines].join('\n')
await mkdir(join(projectRoot(), 'bench'), { recursive: true })
await writeFile(join(projectRoot(), 'bench', 'last.json'), JSON.stringify({ date: new Date().toISOString(), kernel: k.description, results: out }, null, 2) + '\n')
process.stdout.write(table + '\n')
await rm(outDir, { recursive: true, force: true })
