// daxrig check / bisect / patchcheck: walking the prefixes of a variant's patch series.
import type { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EXIT, InputError } from './errors.js'
import { setVerbose } from './util/exec.js'
import { defaultBios, requireHost } from './host.js'
import { plainSink } from './ui/render.js'
import { prepareOutDir } from './run/batch.js'
import { seriesRunner } from './run/series-step.js'
import { bisect, bisectExitCode } from './bisect/bisect.js'
import { formatBisectSummary } from './bisect/format.js'
import { patchcheck, formatPatchcheckTable } from './bisect/patchcheck.js'
import type { CliContext } from './cli-extra.js'
import type { Accel } from './vm/qemu-args.js'

type Setter = (p: () => Promise<number>) => () => void

interface SeriesOpts {
  test?: string
  verify?: boolean
  upto?: number
  tries: number
  fix?: boolean
  restart?: boolean
  state?: string
  out?: string
  accel: 'auto' | Accel
  timeout?: number
  verbose?: boolean
  good?: number
  bad?: number
}

function positive(name: string) {
  return (s: string) => {
    const n = Number(s)
    if (!/^\d+$/.test(s) || n < 0) throw new InputError(`${name} must be a non-negative integer`)
    return n
  }
}

function common(c: Command): Command {
  return c
    .option('--out <dir>', 'output directory (default out/<timestamp>)')
    .option('--accel <a>', 'auto | kvm | tcg', 'auto')
    .option('--timeout <s>', 'overall limit per VM in seconds', positive('--timeout'))
    .option('--tries <n>', 'runs per prefix (flaky tests): good only if all pass, bad once 2 fail', positive('--tries'), 1)
    .option('--verbose', 'print every external command and the guest console')
}

async function setup(ctx: CliContext, name: string, o: SeriesOpts, walk: boolean | 'expectations' = true) {
  setVerbose(!!o.verbose)
  const [v] = await ctx.loadAll([name])
  if (!v) throw new InputError(`unknown variant ${name}`)
  if (!o.test && walk !== 'expectations') throw new InputError('--test ID is required (a case id program.case, a program name, or a glob)')
  if (o.tries < 1) throw new InputError('--tries must be at least 1')
  requireHost({ source: true })
  const log = plainSink({ verbose: !!o.verbose })
  const outDir = await prepareOutDir(o.out)
  const accel = await ctx.chooseAccel(o.accel, v, log)
  const runner = await seriesRunner(v, o.test, {
    outDir,
    events: log,
    accel,
    qemu: ctx.QEMU,
    timeoutScale: 1,
    timeoutSec: o.timeout,
    bios: defaultBios(),
    // check is one step: a source kernel without a series (a git tree at a ref) is prefix 0 of nothing
    needsSeries: walk !== false,
  })
  return { v, runner, outDir, log }
}

export function registerSeries(program: Command, set: Setter, ctx: CliContext): void {
  common(program.command('check').argument('<variant>'))
    .requiredOption('--test <id>', 'case id (program.case), program name, or glob')
    .option('--upto <k>', 'apply only the first K patches (default: all)', positive('--upto'))
    .description('one build+boot+test step with git bisect run exit codes: 0 good, 1 bad, 125 skip, 128 abort')
    .action((name: string, o: SeriesOpts) =>
      set(async () => {
        const { runner, outDir } = await setup(ctx, name, o, false)
        const prefix = o.upto ?? runner.seriesInfo.length
        if (prefix > runner.seriesInfo.length) throw new InputError(`--upto ${prefix}: the series has ${runner.seriesInfo.length} patches`)
        const r = await runner.run(prefix, 0)
        await writeFile(join(outDir, 'check.json'), JSON.stringify({ prefix, ...r }, null, 2) + '\n')
        process.stdout.write(`check: prefix ${prefix}/${runner.seriesInfo.length} → ${r.outcome} (${r.detail})\n`)
        return { good: EXIT.ok, bad: EXIT.regression, skip: EXIT.untestable, infra: EXIT.infra }[r.outcome]
      })(),
    )
  common(program.command('bisect').argument('<variant>'))
    .requiredOption('--test <id>', 'case id (program.case), program name, or glob')
    .option('--fix', 'find the first patch that makes the test pass (base bad, series good)')
    .option('--state <file>', 'state file (default <out>/bisect-state.json); an interrupted bisect resumes from it')
    .option('--restart', 'ignore a state file from a different bisection')
    .option('--no-verify', 'skip the revert check (the whole series without the culprit, which should behave like the base)')
    .option('--good <k>', 'a prefix known to pass (default: the base for a cause, the whole series with --fix)', positive('--good'))
    .option('--bad <k>', 'a prefix known to fail (default: the whole series for a cause, the base with --fix)', positive('--bad'))
    .description('find the first patch of the series that changes the test verdict')
    .action((name: string, o: SeriesOpts) =>
      set(async () => {
        const { v, runner, outDir } = await setup(ctx, name, o)
        const statePath = o.state ?? join(outDir, 'bisect-state.json')
        process.stdout.write(`bisect ${v.name} --test ${o.test}: ${runner.seriesInfo.length} patches, state in ${statePath}\n`)
        const r = await bisect(runner, {
          tries: o.tries,
          fix: !!o.fix,
          statePath,
          restart: !!o.restart,
          verify: o.verify !== false,
          good: o.good,
          bad: o.bad,
          label: v.name,
          log: line => process.stdout.write(line + '\n'),
        })
        await writeFile(join(outDir, 'results.json'), JSON.stringify({ schema: 'daxrig-bisect/1', variant: v.name, test: o.test, ...r }, null, 2) + '\n')
        for (const l of formatBisectSummary(r)) process.stdout.write(l + '\n')
        return bisectExitCode(r)
      })(),
    )
  common(program.command('patchcheck').argument('<variant>'))
    .option('--test <id>', "the test id whose raw verdict decides good/bad (default: each prefix's run against its own expectations)")
    .description('build, boot and test every prefix 0..N of the series; prints a table')
    .action((name: string, o: SeriesOpts) =>
      set(async () => {
        // without --test a prefix is judged against its own expectations (from: K): good when its run ends ok
        const { v, runner, outDir } = await setup(ctx, name, o, o.test ? true : 'expectations')
        const r = await patchcheck(runner, { tries: o.tries, label: v.name, log: line => process.stdout.write(line + '\n') })
        await writeFile(join(outDir, 'results.json'), JSON.stringify({ schema: 'daxrig-patchcheck/1', variant: v.name, ...r }, null, 2) + '\n')
        process.stdout.write(formatPatchcheckTable(r.rows) + '\n')
        if (r.status === 'infra') return EXIT.infra
        return r.rows.some(row => row.verdict !== 'good') ? EXIT.regression : EXIT.ok
      })(),
    )
}
