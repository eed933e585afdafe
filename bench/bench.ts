// npm run bench: times the rig on this host. Medians of several runs; nothing here asserts a time.
//   floor   — a bare boot of the same kernel with a trivial init (busybox poweroff), the lower bound
//   warm-1  — `daxrig run baseline-6.1` with everything cached (its premade medium too)
//   warm-1-fresh — the same with DAXRIG_FRESH_MEDIA=1: the guest makes namespaces and filesystems every run
//   warm    — the default matrix, warm
//   cold    — the default matrix with an empty cache (downloads, unpack, image build)
//   jobs2   — the default matrix, warm, with --jobs 2 (two VMs at once on the 2 cores)
//   suites  — `daxrig run seeds`, warm: each guest suite's own time in one guest, from the guest's timestamps
//             (from "running <suite>" to the next suite or to power-down); samples = every guest that ran it
//   src-repeat   — `daxrig run vfio-pin-demo-6.1` again: a source kernel already built (must build nothing)
//   src-rebuild  — the demo series plus a fresh one-file patch: rebuild one file, boot, run vfio_pin
//   bisect-warm  — `daxrig bisect vfio-pin-demo-6.1 --test vfio_pin.vfio_map_fsdax`, every prefix cached
//   bisect-cold  — the same after removing the demo's prefix kernels (build tree and ccache stay warm)
//   topologies   — per topology variant (label-less baseline, a labelled DIMM, three namespaces on one DIMM, NUMA, CXL):
//                  the warm run and its guest setup (ndctl, mkfs, mounts) from the guest's timestamps
//   own-tree     — a user's repository (the 6.1 tree + the demo series as commits, a fresh nonce per bench run):
//                  one `daxrig check` per commit in the order git bisect visits them, each timed (build + boot +
//                  test) with the cache's growth (kernels and trees) per step
//   ports        — the warm patchcheck of each forward-port (every prefix cached: boots and tests only)
//   ports-cold   — `daxrig run` of each forward-port with its whole-series kernel removed from the cache: the build
//                  in the warm base tree (ccache warm, so mostly the files the reset series touches) + boot + test
//   src-cold     — the demo variant's base kernel (prefix 0) from an empty cache and an empty ccache: unpack
//                  linux-source-6.1, merge the fragments, build, boot, test. Not in the default list (~8 min a run):
//                  npm run bench -- --only src-cold --cold-runs 3
// warm-1 also splits each run by the guest's own timestamps: kernel boot to init, guest setup (modules,
// ndctl, mkfs, mount), the tests, and what is left for the rig (start-up, image lookup, QEMU start/exit).
// Usage: npm run bench [-- --runs N] [-- --cold-runs N] [-- --only floor,warm-1]
import { $, fs, path, tmpdir } from 'zx'
import { projectRoot } from '../harness/paths.js'
import { loadVariant } from '../harness/config/variant.js'
import { prebuiltKernel } from '../harness/kernel/prebuilt.js'
import { writeCpio } from '../harness/guest/cpio.js'
import { accelArgs, baseArgs, kernelArgs, kernelCmdline } from '../harness/vm/qemu-args.js'
import { defaultBios } from '../harness/host.js'
import { nullSink } from '../harness/events.js'
import { cacheRoot } from '../harness/cache/store.js'
import { ensureTree, resolveBase } from '../harness/kernel/tree.js'
import { loadSeries } from '../harness/kernel/series.js'
import { benchCase, COLD_RUNS, daxrig, out, programTimes, record, RUNS, splitOf, timed, writeLast } from './lib.js'

const { join } = path
const { mkdtemp, rm, writeFile, mkdir, readdir, readFile } = fs
await $({ stdio: 'inherit' })`${process.execPath} ${join(projectRoot(), 'scripts', 'build-dist.mjs')}`

/** A bare boot of the kernel with a trivial init: the same QEMU base, machine, accelerator and kernel command line as a run. */
async function floorRun(kernel: string, machine: Parameters<typeof kernelCmdline>[0]): Promise<number> {
  const init = Buffer.from('#!/bin/busybox sh\n/bin/busybox poweroff -f\n')
  const cpio = writeCpio([
    { path: 'init', type: 'file', data: init, mode: 0o755 },
    { path: 'bin/busybox', type: 'file', data: await readFile('/bin/busybox'), mode: 0o755 },
    { path: 'dev/console', type: 'chardev', major: 5, minor: 1 },
  ])
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-floor-'))
  await writeFile(join(dir, 'floor.cpio'), cpio)
  const args = [...baseArgs({ bios: defaultBios() }), '-machine', 'q35', ...accelArgs('tcg', 2), '-m', '1024M', '-serial', 'stdio',
    ...kernelArgs({ kernel, initrd: join(dir, 'floor.cpio'), cmdline: kernelCmdline({ ...machine, iommu: 'none', hugepages: 0, cmdline: [] }) })]
  const s = await timed(async () => {
    const r = await $({ nothrow: true, stdio: ['ignore', 'pipe', 'pipe'] })`qemu-system-x86_64 ${args}`
    if (!/reboot: Power down/.test(r.stdout)) throw new Error('floor boot did not power off')
  })
  await rm(dir, { recursive: true, force: true })
  return s
}

const v = await loadVariant(join(projectRoot(), 'tests', 'variants', 'baseline-6.1.yaml'))
const k = await prebuiltKernel(v.kernel.package!, v.kernel.suite, nullSink)
const outDir = await mkdtemp(join(tmpdir(), 'daxrig-bench-out-'))
const outOf = (name: string) => join(outDir, name)

await benchCase('floor', async () => {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await floorRun(k.pvhImage ?? k.bzImage, v.machine))
  record('floor', runs)
})
/** Prime the cache for a variant: twice, since the second use of a machine makes its premade medium. */
async function prime(name: string): Promise<void> {
  for (const i of [1, 2]) await daxrig(['run', name, '--accel', 'tcg', '--out', join(outDir, `prime-${name}-${i}`)])
}
/** warm-1 and warm-1-fresh: baseline-6.1 warm, on premade media (the default) and with DAXRIG_FRESH_MEDIA=1. */
async function warmOne(label: string, env: Record<string, string>): Promise<void> {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await timed(() => daxrig(['run', 'baseline-6.1', '--accel', 'tcg', '--out', join(outDir, `${label}-${i}`)], { env })))
  record(label, runs)
  const parts = await Promise.all(runs.map((_, i) => splitOf(outOf(`${label}-${i}`), 'baseline-6.1')))
  const split = (k: 'init' | 'setup' | 'tests') => parts.map(p => p[k])
  record(`${label} kernel boot to init`, split('init'))
  record(`${label} guest setup`, split('setup'))
  record(`${label} tests`, split('tests'))
  record(`${label} rig (total − guest)`, runs.map((r, i) => r - parts[i]!.end))
  if (out.floor) record(`${label} − floor − setup − tests`, runs.map((r, i) => r - out.floor!.median - parts[i]!.setup - parts[i]!.tests))
}
await benchCase('warm-1', async () => {
  await prime('baseline-6.1')
  await warmOne('warm-1', {})
})
await benchCase('warm-1-fresh', async () => {
  await prime('baseline-6.1')
  await warmOne('warm-1-fresh', { DAXRIG_FRESH_MEDIA: '1' })
})
await benchCase('warm', async () => {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await timed(() => daxrig(['run', '--accel', 'tcg', '--out', join(outDir, `w-${i}`)])))
  record('warm', runs)
})
await benchCase('jobs2', async () => {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await timed(() => daxrig(['run', '--jobs', '2', '--accel', 'tcg', '--out', join(outDir, `j2-${i}`)])))
  record('jobs2', runs)
})
await benchCase('topologies', async () => {
  for (const name of ['baseline-6.1', 'topo-label-6.1', 'topo-namespaces-6.1', 'topo-numa-6.1', 'topo-cxl-6.1']) {
    await prime(name)
    const runs: number[] = []
    for (let i = 0; i < RUNS; i++) runs.push(await timed(() => daxrig(['run', name, '--accel', 'tcg', '--out', join(outDir, `t-${name}-${i}`)])))
    const parts = await Promise.all(runs.map((_, i) => splitOf(outOf(`t-${name}-${i}`), name)))
    record(`topology ${name}`, runs)
    record(`topology ${name} guest setup`, parts.map(p => p.setup))
  }
})
await benchCase('ports', async () => {
  for (const name of ['map-direct-v5-port-6.1', 'daxfile-rfc-port-6.1']) {
    await daxrig(['patchcheck', name, '--accel', 'tcg', '--out', join(outDir, `pc-${name}-prime`)])
    const runs: number[] = []
    for (let i = 0; i < Math.min(RUNS, 3); i++) runs.push(await timed(() => daxrig(['patchcheck', name, '--accel', 'tcg', '--out', join(outDir, `pc-${name}-${i}`)])))
    record(`patchcheck ${name} (warm)`, runs)
  }
})
await benchCase('ports-cold', async () => {
  for (const name of ['map-direct-v5-port-6.1', 'daxfile-rfc-port-6.1']) {
    await daxrig(['run', name, '--accel', 'tcg', '--out', join(outDir, `rc-${name}-prime`)])
    const runs: number[] = []
    for (let i = 0; i < Math.min(COLD_RUNS, 3); i++) {
      await forgetSeriesKernels(name, 'whole')
      runs.push(await timed(() => daxrig(['run', name, '--accel', 'tcg', '--out', join(outDir, `rc-${name}-${i}`)])))
    }
    record(`run ${name}, series kernel not cached (tree + ccache warm)`, runs)
  }
})
await benchCase('own-tree', async () => {
  const base = await ensureTree(await resolveBase({ kind: 'source', sourcePackage: 'linux-source-6.1', suite: 'bookworm', config: [] }))
  // a fixed path: the rig keeps one tree per repository, so later bench runs reuse it as a user's desk would
  const repo = join(tmpdir(), 'daxrig-bench-own-tree')
  await rm(repo, { recursive: true, force: true })
  await $`git clone -q ${base.src} ${repo}`
  const git = (...a: string[]) => $`git -C ${repo} -c user.name=daxrig\ bench -c user.email=bench@localhost ${a}`
  const panic = join(repo, 'kernel', 'panic.c')
  await writeFile(panic, `/* daxrig bench ${Date.now()} */\n${await readFile(panic, 'utf8')}`)
  await git('commit', '-qam', 'bench: a nonce, so this run builds its own kernels')
  const demoDir = join(projectRoot(), 'tests', 'patches', 'vfio-pin-demo')
  await git('am', '-q', ...(await readdir(demoDir)).filter((f: string) => /^000[1-9]/.test(f)).sort().map((f: string) => join(demoDir, f)))
  const commits = (await git('rev-list', '--reverse', 'HEAD~6..HEAD')).stdout.trim().split('\n')
  const variant = (await readFile(join(projectRoot(), 'tests', 'variants', 'vfio-pin-demo-6.1.yaml'), 'utf8'))
    .replace(/^name: .*$/m, 'name: bench-own-tree')
    .replace(/^ {2}source: .*$/m, `  source: {git: ${repo}, ref: HEAD}`)
    .replace(/^ {2}patches: .*\n/m, '')
    .replace(/, from: 3/g, '')
    .replace(/^ {4}from: 3\n/m, '')
  const file = join(outDir, 'bench-own-tree.yaml')
  await writeFile(file, variant)
  const cacheKiB = async () => {
    const r = await $({ nothrow: true })`du -sk ${join(cacheRoot(), 'kernels')} ${join(cacheRoot(), 'trees')}`
    return r.stdout.split('\n').reduce((n, l) => n + Number(l.split('\t')[0] || 0), 0)
  }
  const steps: number[] = []
  const growth: number[] = []
  // git bisect over 6 commits (good = the nonce, bad = the last): the middle, then halves
  for (const c of [commits[3], commits[1], commits[2], commits[5]]) {
    await git('checkout', '-q', c!)
    const before = await cacheKiB()
    // git bisect run's answers: 0 good, 1 bad; anything else fails the case
    steps.push(await timed(() => daxrig(['check', file, '--test', 'vfio_pin.vfio_map_fsdax', '--out', join(outDir, `ot-${c}`)], { okExits: [0, 1] })))
    growth.push((await cacheKiB() - before) / 1024)
  }
  record('own-tree step (build+boot+test)', steps)
  record('own-tree step cache growth (MiB)', growth)
})
await benchCase('suites', async () => {
  const per = new Map<string, number[]>()
  const walls: number[] = []
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const dir = join(outDir, `s-${i}`)
    walls.push(await timed(() => daxrig(['run', 'seeds', '--accel', 'tcg', '--out', dir])))
    // one sample per guest that ran the suite (variants differ in kernel and machine)
    for (const [suite, sec] of await programTimes(dir)) per.set(suite, [...(per.get(suite) ?? []), sec])
  }
  record('seeds matrix', walls)
  for (const [suite, runs] of [...per].sort()) record(`suite ${suite} (one guest)`, runs)
})
await benchCase('cold', async () => {
  const runs: number[] = []
  for (let i = 0; i < COLD_RUNS; i++) {
    const cache = await mkdtemp(join(tmpdir(), 'daxrig-bench-cache-'))
    runs.push(await timed(() => daxrig(['run', '--accel', 'tcg', '--out', join(outDir, `c-${i}`)], { env: { DAXRIG_CACHE: cache } })))
    await rm(cache, { recursive: true, force: true })
  }
  record('cold', runs)
})
const demo = 'vfio-pin-demo-6.1'
await benchCase('src-repeat', async () => {
  await daxrig(['run', demo, '--accel', 'tcg', '--out', join(outDir, 'sr-prime')])
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) runs.push(await timed(() => daxrig(['run', demo, '--accel', 'tcg', '--out', join(outDir, `sr-${i}`)])))
  record('src-repeat', runs)
})
await benchCase('src-rebuild', async () => {
  const runs: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const v = await onePatchVariant(`${Date.now()}-${i}`)
    runs.push(await timed(() => daxrig(['run', v, '--accel', 'tcg', '--out', join(outDir, `rb-${i}`)])))
  }
  record('src-rebuild', runs)
})
await benchCase('src-cold', async () => {
  const runs: number[] = []
  for (let i = 0; i < COLD_RUNS; i++) {
    const cache = await mkdtemp(join(tmpdir(), 'daxrig-bench-cache-'))
    // an empty rig cache holds no tree, no kernels and an empty ccache (the rig keeps ccache in its cache)
    runs.push(await timed(() => daxrig(['run', demo, '--upto', '0', '--accel', 'tcg', '--out', join(outDir, `sc-${i}`)], { env: { DAXRIG_CACHE: cache } })))
    await rm(cache, { recursive: true, force: true })
  }
  record('src-cold', runs)
})
await benchCase('bisect-warm', async () => {
  const runs: number[] = []
  for (let i = 0; i < Math.min(RUNS, 3); i++)
    runs.push(await timed(() => daxrig(['bisect', demo, '--test', 'vfio_pin.vfio_map_fsdax', '--accel', 'tcg', '--out', join(outDir, `bw-${i}`)])))
  record('bisect-warm', runs)
})
await benchCase('bisect-cold', async () => {
  const runs: number[] = []
  for (let i = 0; i < Math.min(COLD_RUNS, 2); i++) {
    await forgetDemoPrefixes()
    runs.push(await timed(() => daxrig(['bisect', demo, '--test', 'vfio_pin.vfio_map_fsdax', '--accel', 'tcg', '--out', join(outDir, `bc-${i}`)])))
  }
  record('bisect-cold', runs)
})

/** The demo variant with one more patch: a comment with a fresh nonce in kernel/panic.c (one file to rebuild). */
async function onePatchVariant(nonce: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-bench-rb-'))
  const patches = join(dir, 'patches')
  await mkdir(patches)
  const demoDir = join(projectRoot(), 'tests', 'patches', 'vfio-pin-demo')
  for (const f of await readdir(demoDir)) await writeFile(join(patches, f), await readFile(join(demoDir, f)))
  // the demo's build tree, whatever version of linux-source-6.1 the suite has today
  const demoVariant = await loadVariant(join(projectRoot(), 'tests', 'variants', `${demo}.yaml`))
  const tree = (await ensureTree(await resolveBase(demoVariant.kernel))).src
  const base = (await $`git -C ${tree} show HEAD:kernel/panic.c`).stdout
  const lines = base.split('\n')
  const at = lines.findIndex(l => l.startsWith('int panic_on_oops'))
  lines.splice(at, 0, `/* daxrig bench ${nonce} */`)
  await writeFile(join(dir, 'a.c'), base)
  await writeFile(join(dir, 'b.c'), lines.join('\n'))
  const d = await $({ nothrow: true })`diff -u --label a/kernel/panic.c --label b/kernel/panic.c ${join(dir, 'a.c')} ${join(dir, 'b.c')}`
  const header = ['From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001', 'From: daxrig bench <bench@daxrig.invalid>',
    'Date: Mon, 6 Jan 2025 10:00:00 +0000', 'Subject: [PATCH 6/6] panic: a comment for the rebuild benchmark', '', '---', 'diff --git a/kernel/panic.c b/kernel/panic.c']
  await writeFile(join(patches, '0006-bench.patch'), [...header, d.stdout, '-- ', '2.39.5', ''].join('\n'))
  // the demo's 5 patches are numbered n/5: renumber them as n/6 so the series stays complete
  for (const f of await readdir(patches)) {
    const p = join(patches, f)
    await writeFile(p, (await readFile(p, 'utf8')).replace(/^Subject: \[PATCH (\d+)\/5\]/m, 'Subject: [PATCH $1/6]'))
  }
  const variant = (await readFile(join(projectRoot(), 'tests', 'variants', `${demo}.yaml`), 'utf8'))
    .replace(/^name: .*$/m, 'name: bench-rebuild')
    .replace(/patches: .*$/m, `patches: ${patches}`)
  const file = join(dir, 'bench-rebuild.yaml')
  await writeFile(file, variant)
  return file
}

/**
 * Remove cached kernels of VARIANT's series: 'prefixes' every one that holds its first patch (all prefixes but the
 * base), 'whole' only those that hold its last patch (what `daxrig run` builds). Matched by the patches'
 * identities, so another series with as many patches (the MAP_DIRECT port has 5, like the demo) stays.
 */
async function forgetSeriesKernels(variant: string, which: 'prefixes' | 'whole'): Promise<void> {
  const v = await loadVariant(join(projectRoot(), 'tests', 'variants', `${variant}.yaml`))
  if (v.kernel.kind !== 'source') throw new Error(`${variant} has no source kernel`)
  const series = await loadSeries(v.kernel)
  const marker = (which === 'prefixes' ? series[0] : series.at(-1))?.identity
  if (!marker) throw new Error(`${variant} has no patches`)
  const kernels = join(cacheRoot(), 'kernels')
  for (const k of await readdir(kernels)) {
    const meta = await readFile(join(kernels, k, 'meta.json'), 'utf8').catch(() => '')
    const patches = meta ? ((JSON.parse(meta) as { patches?: { identity: string }[] }).patches ?? []) : []
    if (patches.some(p => p.identity === marker)) await rm(join(kernels, k), { recursive: true, force: true })
  }
}
const forgetDemoPrefixes = () => forgetSeriesKernels(demo, 'prefixes')

await mkdir(join(projectRoot(), 'bench'), { recursive: true })
await writeLast(k.description)
await rm(outDir, { recursive: true, force: true })
