// daxrig command line: parses arguments, maps errors to the exit-code contract, and renders progress.
// Everything else lives in the modules it calls.
import { Command, InvalidArgumentError } from 'commander'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { EXIT, exitCodeFor, InfraError, InputError } from './errors.js'
import { loadVariant } from './config/variant.js'
import { listNames, loadMatrix, matricesDir, resolveTargets, variantsDir } from './config/selection.js'
import { setVerbose } from './util/exec.js'
import { installSignalHandlers } from './util/children.js'
import { defaultBios, HOST_NEEDS, installPackages, missingNeeds, qemuVersion, requireHost } from './host.js'
import { probeAccel } from './vm/accel.js'
import type { Accel } from './vm/qemu-args.js'
import { getKernel } from './kernel/index.js'
import { plainSink, isInteractive } from './ui/render.js'
import { runLive } from './ui/live.js'
import { countOutcomes, prepareOutDir, runMatrix } from './run/batch.js'
import { formatRunTable } from './ui/table.js'
import { cacheRoot } from './cache/store.js'
import type { Variant } from './types.js'
import type { EventSink } from './events.js'

const QEMU = process.env.DAXRIG_QEMU ?? 'qemu-system-x86_64'

function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (s: string): number => {
    const n = Number(s)
    if (!/^\d+$/.test(s) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`)
    return n
  }
}

function shardArg(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s)
  if (!m) throw new InvalidArgumentError('expected I/N, e.g. 1/3')
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || index < 1 || index > count) throw new InvalidArgumentError(`shard ${s}: need 1 ≤ I ≤ N`)
  return { index, count }
}

interface CommonOpts {
  out?: string
  upto?: number
  jobs: number
  accel: 'auto' | Accel
  timeout?: number
  junit?: string
  json?: string
  shard?: { index: number; count: number }
  timings?: string
  verbose?: boolean
  kernel?: string
}

function addCommon(c: Command): Command {
  return c
    .option('--out <dir>', 'output directory (default out/<timestamp>, with out/latest)')
    .option('--upto <k>', 'apply only the first K patches of each series', intArg('--upto', 0))
    .option('--jobs <n>', 'VMs at once (limited by free memory)', intArg('--jobs', 1, 64), 1)
    .option('--accel <a>', 'auto | kvm | tcg', (s: string) => {
      if (!['auto', 'kvm', 'tcg'].includes(s)) throw new InvalidArgumentError('expected auto, kvm or tcg')
      return s
    }, 'auto')
    .option('--timeout <s>', 'overall limit per VM in seconds (overrides the variant)', intArg('--timeout', 1))
    .option('--junit <file>', 'also write JUnit XML here')
    .option('--json <file>', 'also write results.json here')
    .option('--shard <i/n>', 'run only shard I of N (deterministic split)', shardArg)
    .option('--verbose', 'print every external command and the guest console')
}

async function loadAll(names: string[]): Promise<Variant[]> {
  const files = await resolveTargets(names)
  const out: Variant[] = []
  for (const f of files) out.push(await loadVariant(f))
  return out
}

async function chooseAccel(want: CommonOpts['accel'], v: Variant, log: EventSink): Promise<Accel> {
  if (want !== 'auto') return want
  const k = await getKernel(v, { events: log })
  const c = await probeAccel(QEMU, k.bzImage)
  log({ type: 'log', level: 'info', message: `accelerator: ${c.accel} (${c.why}${c.cached ? ', cached for this host boot' : ''})` })
  return c.accel
}

/** `--kernel DIR`: every variant's machine and suites on a kernel built elsewhere (its series, if any, is not applied). */
export function onKernel(v: Variant, dir: string): Variant {
  // no `where`: an error about this kernel is about the option, not about a line of the variant file
  return { ...v, kernel: { kind: 'build', buildDir: resolve(dir), suite: v.kernel.suite, config: [] } }
}

async function cmdRun(names: string[], o: CommonOpts): Promise<number> {
  setVerbose(!!o.verbose)
  const variants = (await loadAll(names)).map(v => (o.kernel ? onKernel(v, o.kernel) : v))
  requireHost({ source: variants.some(v => v.kernel.kind === 'source') })
  const live = isInteractive() && !o.verbose
  const plain = plainSink({ verbose: !!o.verbose })
  const outDir = await prepareOutDir(o.out)
  plain({ type: 'log', level: 'info', message: `daxrig run: ${variants.length} variant(s) → ${outDir}` })
  const accel = await chooseAccel(o.accel, variants[0]!, plain)
  const { costsFor, recordTimings } = await import('./run/timings.js')
  const costs = o.shard ? await costsFor(variants, o.timings) : undefined
  if (o.shard && costs) {
    const { splitShards, fmtSec } = await import('./run/shards.js')
    const mine = splitShards(variants, o.shard.count, v => costs.get(v.name) ?? 1)[o.shard.index - 1]!
    plain({ type: 'log', level: 'info', message: `shard ${o.shard.index}/${o.shard.count}: ${mine.items.map(v => v.name).join(', ') || '(no variant)'} (estimated ${fmtSec(mine.estimateSec)}${o.timings ? `, timings from ${o.timings}` : ''})` })
  }
  const { summary, exit } = await runMatrix(variants, {
    costs,
    outDir,
    jobs: o.jobs,
    accel,
    qemu: QEMU,
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

async function cmdListShards(names: string[], o: { shards: number; timings?: string; json?: string }): Promise<number> {
  const variants = await loadAll(names)
  const { costsFor, TIMINGS_SCHEMA } = await import('./run/timings.js')
  const { splitShards, formatShards } = await import('./run/shards.js')
  const costs = await costsFor(variants, o.timings)
  const cost = (v: Variant) => costs.get(v.name) ?? 1
  const shards = splitShards(variants, o.shards, cost)
  process.stdout.write(formatShards(shards, cost) + '\n')
  if (o.json) {
    // a shard plan: handed to every `run --shard I/N --timings FILE`, it gives each job the same split
    const { writeFile, mkdir } = await import('node:fs/promises')
    const { dirname } = await import('node:path')
    const plan = {
      schema: TIMINGS_SCHEMA,
      variants: Object.fromEntries(variants.map(v => [v.name, { runSec: 0, estimateSec: cost(v) }])),
      shards: shards.map(s => ({ index: s.index, estimateSec: s.estimateSec, variants: s.items.map(v => v.name) })),
    }
    await mkdir(dirname(resolve(o.json)), { recursive: true })
    await writeFile(o.json, `${JSON.stringify(plan, null, 2)}\n`)
  }
  return EXIT.ok
}

async function cmdList(): Promise<number> {
  const lines: string[] = ['variants:']
  for (const n of await listNames(variantsDir())) {
    try {
      const v = await loadVariant(join(variantsDir(), `${n}.yaml`))
      const k = v.kernel.package ?? v.kernel.sourcePackage ?? (v.kernel.git ? `git ${v.kernel.git.ref}` : '?')
      lines.push(`  ${n.padEnd(28)} ${k.padEnd(40)} ${v.series.title ?? ''}`)
    } catch (e) {
      lines.push(`  ${n.padEnd(28)} INVALID: ${(e as Error).message}`)
    }
  }
  lines.push('matrices:')
  for (const n of await listNames(matricesDir())) {
    const m = await loadMatrix(join(matricesDir(), `${n}.yaml`))
    lines.push(`  ${n.padEnd(28)} ${m.variantFiles.length} variant(s)  ${m.description}`)
  }
  process.stdout.write(lines.join('\n') + '\n')
  return EXIT.ok
}

async function cmdDoctor(): Promise<number> {
  const w = (s: string) => process.stdout.write(s + '\n')
  w(`node        ${process.version}`)
  w(`qemu        ${await qemuVersion(QEMU)}`)
  const acc = await readFile(join(cacheRoot(), 'accel.json'), 'utf8').then(s => JSON.parse(s) as { accel: string; why: string }, () => undefined)
  w(`accelerator ${acc ? `${acc.accel} (${acc.why})` : 'not probed yet (the first run probes it)'}`)
  w(`bios        ${defaultBios() ?? 'SeaBIOS (qboot.rom not found)'}`)
  const { freeBytes } = await import('./cache/store.js')
  const { run } = await import('./util/exec.js')
  const du = existsSync(cacheRoot()) ? (await run('du', ['-sh', cacheRoot()])).stdout.split('\t')[0] : '0'
  w(`cache       ${cacheRoot()} (${du}; ${((await freeBytes(cacheRoot())) / 2 ** 30).toFixed(1)} GiB free)`)
  for (const n of HOST_NEEDS) {
    const ok = n.bins.some(b => existsSync(b))
    w(`  ${ok ? 'ok     ' : 'MISSING'} ${n.pkg.padEnd(18)} ${n.why}${n.source ? ' (source kernels)' : ''}${n.optional ? ' (optional)' : ''}`)
  }
  const miss = missingNeeds({ source: true })
  if (miss.length) w(`run "daxrig setup" to install: ${miss.map(m => m.pkg).join(' ')}`)
  return miss.length ? EXIT.infra : EXIT.ok
}

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises')
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^(y|yes|)$/i.test((await rl.question(`${question} [Y/n] `)).trim())
  } finally {
    rl.close()
  }
}

async function cmdSetup(o: { prefetch: boolean; source: boolean; yes?: boolean; testTools?: boolean }): Promise<number> {
  const log = plainSink({ verbose: false })
  const miss = missingNeeds({ source: o.source, optional: !!o.testTools }).map(n => n.pkg)
  // ask on a terminal; CI and --yes install straight away
  if (miss.length && !o.yes && process.stdin.isTTY && !process.env.CI && !(await confirm(`install ${miss.join(' ')} with apt-get?`))) {
    log({ type: 'log', level: 'warn', message: 'nothing installed' })
    return EXIT.infra
  }
  if (miss.length) await installPackages(miss, m => log({ type: 'log', level: 'info', message: m }))
  else log({ type: 'log', level: 'info', message: 'all host packages present' })
  if (o.prefetch) {
    for (const f of (await loadMatrix(join(matricesDir(), 'default.yaml'))).variantFiles) {
      const v = await loadVariant(f)
      if (v.kernel.kind !== 'prebuilt') continue
      const k = await getKernel(v, { events: log })
      log({ type: 'log', level: 'info', message: `kernel ready: ${k.description}` })
    }
  }
  return EXIT.ok
}

async function cmdBuild(name: string, o: { upto?: number; verbose?: boolean }): Promise<number> {
  setVerbose(!!o.verbose)
  const [v] = await loadAll([name])
  if (!v) throw new InputError(`unknown variant ${name}`)
  requireHost({ source: v.kernel.kind === 'source' })
  const k = await getKernel(v, { upto: o.upto, events: plainSink({ verbose: !!o.verbose }) })
  process.stdout.write(`${k.pvhImage ?? k.bzImage}\n`)
  return EXIT.ok
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('daxrig')
    .description('test rig for Linux DAX / persistent-memory / mmap patch series')
    .exitOverride()
    .configureOutput({ writeErr: s => process.stderr.write(s) })
  let result: Promise<number> = Promise.resolve(EXIT.ok)
  const set = (p: () => Promise<number>) => () => {
    result = p()
  }

  addCommon(program.command('run').argument('[names...]', 'variants, matrices or paths (default: tests/matrices/default.yaml)'))
    .description('run variants or matrices and compare every result with its expectation')
    .option('--kernel <dir>', "run every variant's machine and suites on a kernel built elsewhere (an O= build dir, or boot/ + lib/modules/)")
    .option('--timings <file>', "estimate --shard costs from this results.json or shard plan (default: the cache's timings)")
    .action((names: string[], o: CommonOpts) => set(() => cmdRun(names, o))())
  program
    .command('list')
    .argument('[names...]', 'with --shards: variants or matrices to split (default: tests/matrices/default.yaml)')
    .option('--shards <n>', 'print the balanced split into N shards with estimated times', intArg('--shards', 1, 1000))
    .option('--timings <file>', "estimate from this results.json or shard plan (default: the cache's timings)")
    .option('--json <file>', 'with --shards: also write the split as a shard plan (for run --timings)')
    .description('list variants and matrices; with --shards N, the split of a matrix into N shards')
    .action((names: string[], o: { shards?: number; timings?: string; json?: string }) =>
      set(() => (o.shards !== undefined ? cmdListShards(names, { ...o, shards: o.shards }) : names.length ? Promise.reject(new InputError('daxrig list takes names only with --shards N')) : cmdList()))(),
    )
  program.command('doctor').description('report what the host has').action(set(cmdDoctor))
  program
    .command('setup')
    .description('install missing host packages (apt) and prefetch the default kernels')
    .option('--yes', 'do not ask (default when not on a terminal)')
    .option('--no-prefetch', 'do not download the default kernels')
    .option('--no-source', 'skip the packages only needed to build kernels')
    .option('--test-tools', "also install what only the rig's own test suite uses (chromium for the report.html check)")
    .action((o: { prefetch: boolean; source: boolean; yes?: boolean; testTools?: boolean }) => set(() => cmdSetup(o))())
  program
    .command('build')
    .argument('<variant>')
    .option('--upto <k>', 'apply only the first K patches', intArg('--upto', 0))
    .option('--verbose', 'print every external command')
    .description("fetch or build the variant's kernel and print its path")
    .action((name: string, o: { upto?: number; verbose?: boolean }) => set(() => cmdBuild(name, o))())
  const extra = await import('./cli-extra.js')
  await extra.register(program, set, { addCommon, loadAll, chooseAccel, QEMU })

  try {
    await program.parseAsync(argv, { from: 'user' })
    return await result
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number }
    if (ce.code?.startsWith('commander.')) {
      if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' || ce.code === 'commander.help') return EXIT.ok
      return EXIT.badInput
    }
    throw e
  }
}

async function entry(): Promise<void> {
  installSignalHandlers()
  // `daxrig list | head`: a reader that goes away must not crash the rig; the work (and the out dir) carries on
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e
    })
  let code: number
  try {
    code = await main(process.argv.slice(2))
  } catch (e) {
    code = exitCodeFor(e)
    const msg = e instanceof Error ? e.message : String(e)
    const kind = e instanceof InputError ? 'error' : e instanceof InfraError ? 'rig failure' : 'error'
    process.stderr.write(`daxrig: ${kind}: ${msg}\n`)
    if (!(e instanceof InputError || e instanceof InfraError) && process.env.DAXRIG_DEBUG) process.stderr.write(String((e as Error).stack) + '\n')
  }
  process.exitCode = forBisectRun(process.argv.slice(2), code)
}

/**
 * Under `daxrig check` (what `git bisect run` calls) only verdicts about the kernel use 0, 1 and 125: git counts
 * every code from 1 to 127 but 125 as "bad", so bad input (2) would blame a commit. Anything else aborts the
 * bisection with 128 or above (interrupts keep 130/143).
 */
export function forBisectRun(argv: string[], code: number): number {
  if (argv.find(a => !a.startsWith('-')) !== 'check') return code
  if (code === EXIT.ok || code === EXIT.regression || code === EXIT.untestable || code >= 128) return code
  process.stderr.write(`daxrig check: not a verdict about the kernel (exit ${code}): exiting ${EXIT.infra} so that git bisect run stops instead of marking this commit bad\n`)
  return EXIT.infra
}

if (resolve(process.argv[1] ?? '') === resolve(new URL(import.meta.url).pathname) || process.argv[1]?.endsWith('daxrig.js') || process.argv[1]?.endsWith('/daxrig')) {
  await entry()
}
