// Commands that run variants: run (a matrix, possibly one shard of it), merge (the shards' results into one
// report), build (a variant's kernel) and boot (a variant's guest, by hand).
import type { Command } from 'commander'
import { execa } from 'execa'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { EXIT, InputError } from '../errors.js'
import { defaultBios, requireHost } from '../host.js'
import { getKernel } from '../kernel/index.js'
import { buildImage } from '../guest/initramfs.js'
import { newToken, unframe } from '../results/channel.js'
import { countOutcomes, prepareOutDir, readSummary, runMatrix } from '../run/batch.js'
import { writeRunReports } from '../run/reports.js'
import { fmtSec, splitShards } from '../run/shards.js'
import { costsFor, recordTimings } from '../run/timings.js'
import { plainSink, isInteractive } from '../ui/render.js'
import { runLive } from '../ui/live.js'
import { formatRunTable } from '../ui/table.js'
import { announce, setVerbose, shellQuote } from '../util/exec.js'
import { qemuArgs } from '../vm/qemu-args.js'
import { withFreshMedia } from '../vm/media.js'
import type { RunSummary, Variant } from '../types.js'
import { chooseAccel, loadAll, loadOne, qemuBinary, type Done } from './common.js'
import { intArg, option, type AccelChoice, type ShardArg } from './options.js'

interface RunOpts {
  out?: string
  upto?: number
  jobs: number
  accel: AccelChoice
  timeout?: number
  junit?: string
  json?: string
  shard?: ShardArg
  timings?: string
  verbose?: boolean
  kernel?: string
}

/** `--kernel DIR`: every variant's machine and suites on a kernel built elsewhere (its series, if any, is not applied). */
export function onKernel(v: Variant, dir: string): Variant {
  // no `where`: an error about this kernel is about the option, not about a line of the variant file
  return { ...v, kernel: { kind: 'build', buildDir: resolve(dir), suite: v.kernel.suite, config: [] } }
}

async function cmdRun(names: string[], o: RunOpts): Promise<number> {
  setVerbose(!!o.verbose)
  const variants = (await loadAll(names)).map(v => (o.kernel ? onKernel(v, o.kernel) : v))
  requireHost({ source: variants.some(v => v.kernel.kind === 'source') })
  const live = isInteractive() && !o.verbose
  const plain = plainSink({ verbose: !!o.verbose })
  const outDir = await prepareOutDir(o.out)
  plain({ type: 'log', level: 'info', message: `daxrig run: ${variants.length} variant(s) → ${outDir}` })
  const accel = await chooseAccel(o.accel, variants[0]!, plain)
  const costs = o.shard ? await costsFor(variants, o.timings) : undefined
  if (o.shard && costs) {
    const mine = splitShards(variants, o.shard.count, v => costs.get(v.name) ?? 1)[o.shard.index - 1]!
    plain({ type: 'log', level: 'info', message: `shard ${o.shard.index}/${o.shard.count}: ${mine.items.map(v => v.name).join(', ') || '(no variant)'} (estimated ${fmtSec(mine.estimateSec)}${o.timings ? `, timings from ${o.timings}` : ''})` })
  }
  const { summary, exit } = await runMatrix(variants, {
    costs,
    outDir,
    jobs: o.jobs,
    accel,
    qemu: qemuBinary(),
    upto: o.upto,
    timeoutScale: 1,
    timeoutSec: o.timeout,
    bios: defaultBios(),
    shard: o.shard,
    junit: o.junit,
    json: o.json,
    sinkFor: () => plain,
    ...(live ? { runJobs: runLive } : {}),
  })
  // the next --shard split uses what this run took. A shard does not record: its sibling shards, run later
  // from the same cache, must compute the same split (the merge of the shards records the whole run)
  if (!o.shard) await recordTimings(summary.variants)
  process.stdout.write(formatRunTable(summary) + '\n')
  process.stdout.write(`reports: ${join(outDir, 'report.md')} ${join(outDir, 'report.html')}\n`)
  const c = countOutcomes(summary.variants)
  process.stdout.write(`daxrig: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`)
  return exit
}

async function cmdMerge(dirs: string[], out: string): Promise<number> {
  const parts: RunSummary[] = []
  for (const d of dirs) parts.push(await readSummary(resolve(d)))
  const names = new Set<string>()
  for (const p of parts) for (const v of p.variants) {
    if (names.has(v.variant)) throw new InputError(`variant ${v.variant} appears in more than one shard`)
    names.add(v.variant)
  }
  const variants = parts.flatMap(p => p.variants)
  const merged: RunSummary = {
    schema: 'daxrig-results/1',
    started: parts.map(p => p.started).sort()[0] ?? new Date().toISOString(),
    finished: parts.map(p => p.finished).sort().at(-1) ?? new Date().toISOString(),
    host: parts[0]?.host ?? { accel: '', qemu: '', node: process.version },
    variants,
    counts: countOutcomes(variants),
  }
  await mkdir(out, { recursive: true })
  await writeRunReports(merged, resolve(out), {})
  await writeFile(join(out, 'merged-from.txt'), dirs.map(d => resolve(d)).join('\n') + '\n')
  // a merge of CI shards is the whole run: the next pipeline's split uses its durations
  await recordTimings(variants)
  process.stdout.write(formatRunTable(merged) + '\n')
  const c = merged.counts
  process.stdout.write(`daxrig: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`)
  return c.failed ? EXIT.regression : EXIT.ok
}

async function cmdBuild(name: string, o: { upto?: number; verbose?: boolean }): Promise<number> {
  setVerbose(!!o.verbose)
  const v = await loadOne(name)
  requireHost({ source: v.kernel.kind === 'source' })
  const k = await getKernel(v, { upto: o.upto, events: plainSink({ verbose: !!o.verbose }) })
  process.stdout.write(`${k.pvhImage ?? k.bzImage}\n`)
  return EXIT.ok
}

async function cmdBoot(name: string, cmd: string[], o: { upto?: number; accel: AccelChoice; verbose?: boolean }): Promise<number> {
  setVerbose(!!o.verbose)
  const v = await loadOne(name)
  requireHost({ source: v.kernel.kind === 'source' })
  const log = plainSink({ verbose: false })
  const k = await getKernel(v, { upto: o.upto, events: log })
  const accel = await chooseAccel(o.accel, v, log)
  const image = await buildImage(k, v, { action: cmd.length ? { kind: 'cmd', argv: cmd } : { kind: 'shell' } })
  const qemu = qemuBinary()
  return withFreshMedia(v.machine, async (nvdimmPaths, media) => {
    const resultsPath = join(media, 'channel.log')
    const token = newToken()
    const args = qemuArgs({ qemu, accel, machine: v.machine, kernel: k.pvhImage ?? k.bzImage, initrd: image.path, nvdimmPaths, resultsPath, bios: defaultBios(), interactive: !cmd.length, token })
    process.stderr.write(`$ ${shellQuote([qemu, ...args])}\n`)
    announce([qemu, ...args])
    const r = await execa(qemu, args, { stdio: 'inherit', reject: false })
    const res = unframe(await readFile(resultsPath, 'utf8').catch(() => ''), token).text
    const m = /^# daxrig-exit: (\d+)/m.exec(res)
    if (!m) {
      process.stderr.write(`daxrig: the guest ended without an exit marker (QEMU exit ${r.exitCode})\n`)
      return EXIT.regression
    }
    return Number(m[1]) === 0 ? EXIT.ok : EXIT.regression
  })
}

export function addRun(program: Command, done: Done): void {
  program
    .command('run')
    .argument('[names...]', 'variants, matrices or paths (default: tests/matrices/default.yaml)')
    .addOption(option.out('output directory (default out/<timestamp>, with out/latest)'))
    .addOption(option.upto('apply only the first K patches of each series'))
    .option('--jobs <n>', 'VMs at once (limited by free memory)', intArg('--jobs', 1, 64), 1)
    .addOption(option.accel())
    .addOption(option.timeout('overall limit per VM in seconds (overrides the variant)'))
    .option('--junit <file>', 'also write JUnit XML here')
    .option('--json <file>', 'also write results.json here')
    .addOption(option.shard())
    .addOption(option.verbose('print every external command and the guest console'))
    .description('run variants or matrices and compare every result with its expectation')
    .option('--kernel <dir>', "run every variant's machine and suites on a kernel built elsewhere (an O= build dir, or boot/ + lib/modules/)")
    .addOption(option.timings("estimate --shard costs from this results.json or shard plan (default: the cache's timings)"))
    .action(async (names: string[], o: RunOpts) => done(await cmdRun(names, o)))
}

export function addMerge(program: Command, done: Done): void {
  program
    .command('merge')
    .argument('<dirs...>', 'run directories (e.g. one per CI shard)')
    .addOption(option.out('where to write the merged reports').makeOptionMandatory())
    .description("join shards' results into one report")
    .action(async (dirs: string[], o: { out: string }) => done(await cmdMerge(dirs, o.out)))
}

export function addBuild(program: Command, done: Done): void {
  program
    .command('build')
    .argument('<variant>')
    .addOption(option.upto('apply only the first K patches'))
    .addOption(option.verbose('print every external command'))
    .description("fetch or build the variant's kernel and print its path")
    .action(async (name: string, o: { upto?: number; verbose?: boolean }) => done(await cmdBuild(name, o)))
}

export function addBoot(program: Command, done: Done): void {
  program
    .command('boot')
    .argument('<variant>')
    .argument('[cmd...]', 'command to run in the guest after setup (after --)')
    .addOption(option.upto('apply only the first K patches'))
    .addOption(option.accel())
    .addOption(option.verbose('print every external command'))
    .description("boot the variant's guest: a shell on the console, or run one command and power off")
    .action(async (name: string, cmd: string[], o: { upto?: number; accel: AccelChoice; verbose?: boolean }) => done(await cmdBoot(name, cmd, o)))
}
