// check / bisect / patchcheck: walking the prefixes of a variant's patch series.
import type { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EXIT, InputError } from '../errors.js'
import { defaultBios, requireHost } from '../host.js'
import { bisect, bisectExitCode } from '../bisect/bisect.js'
import { formatBisectSummary } from '../bisect/format.js'
import { patchcheck, formatPatchcheckTable } from '../bisect/patchcheck.js'
import { prepareOutDir } from '../run/batch.js'
import { seriesRunner } from '../run/series-step.js'
import { plainSink } from '../ui/render.js'
import { setVerbose } from '../util/exec.js'
import { chooseAccel, loadOne, qemuBinary, type Done } from './common.js'
import { option, type AccelChoice } from './options.js'

interface SeriesOpts {
  test?: string
  verify?: boolean
  upto?: number
  tries: number
  fix?: boolean
  restart?: boolean
  state?: string
  out?: string
  accel: AccelChoice
  timeout?: number
  verbose?: boolean
  good?: number
  bad?: number
}

/** The options every series command takes, first in its help. */
function seriesCommand(program: Command, name: string): Command {
  return program
    .command(name)
    .argument('<variant>')
    .addOption(option.out('output directory (default out/<timestamp>)'))
    .addOption(option.accel())
    .addOption(option.timeout('overall limit per VM in seconds'))
    .addOption(option.tries())
    .addOption(option.verbose('print every external command and the guest console'))
}

const TEST_HELP = 'case id (program.case), program name, or glob'

/**
 * The runner of one series command. `walk`: true for a walk judged by --test, 'expectations' for a walk
 * judged by each prefix's expectations (no --test), false for check's single step.
 */
async function setup(name: string, o: SeriesOpts, walk: boolean | 'expectations' = true) {
  setVerbose(!!o.verbose)
  const v = await loadOne(name)
  if (!o.test && walk !== 'expectations') throw new InputError('--test ID is required (a case id program.case, a program name, or a glob)')
  requireHost({ source: true })
  const log = plainSink({ verbose: !!o.verbose })
  const outDir = await prepareOutDir(o.out)
  const accel = await chooseAccel(o.accel, v, log)
  const runner = await seriesRunner(v, o.test, {
    outDir,
    events: log,
    accel,
    qemu: qemuBinary(),
    timeoutScale: 1,
    timeoutSec: o.timeout,
    bios: defaultBios(),
    // check is one step: a source kernel without a series (a git tree at a ref) is prefix 0 of nothing
    needsSeries: walk !== false,
  })
  return { v, runner, outDir, log }
}

async function cmdCheck(name: string, o: SeriesOpts): Promise<number> {
  const { runner, outDir } = await setup(name, o, false)
  const prefix = o.upto ?? runner.seriesInfo.length
  if (prefix > runner.seriesInfo.length) throw new InputError(`--upto ${prefix}: the series has ${runner.seriesInfo.length} patches`)
  const r = await runner.run(prefix, 0)
  await writeFile(join(outDir, 'check.json'), JSON.stringify({ prefix, ...r }, null, 2) + '\n')
  process.stdout.write(`check: prefix ${prefix}/${runner.seriesInfo.length} → ${r.outcome} (${r.detail})\n`)
  return { good: EXIT.ok, bad: EXIT.regression, skip: EXIT.untestable, infra: EXIT.infra }[r.outcome]
}

async function cmdBisect(name: string, o: SeriesOpts): Promise<number> {
  const { v, runner, outDir } = await setup(name, o)
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
}

async function cmdPatchcheck(name: string, o: SeriesOpts): Promise<number> {
  // without --test a prefix is judged against its own expectations (from: K): good when its run ends ok
  const { v, runner, outDir } = await setup(name, o, o.test ? true : 'expectations')
  const r = await patchcheck(runner, { tries: o.tries, label: v.name, log: line => process.stdout.write(line + '\n') })
  await writeFile(join(outDir, 'results.json'), JSON.stringify({ schema: 'daxrig-patchcheck/1', variant: v.name, ...r }, null, 2) + '\n')
  process.stdout.write(formatPatchcheckTable(r.rows) + '\n')
  if (r.status === 'infra') return EXIT.infra
  return r.rows.some(row => row.verdict !== 'good') ? EXIT.regression : EXIT.ok
}

export function addCheck(program: Command, done: Done): void {
  seriesCommand(program, 'check')
    .requiredOption('--test <id>', TEST_HELP)
    .addOption(option.upto('apply only the first K patches (default: all)'))
    .description('one build+boot+test step with git bisect run exit codes: 0 good, 1 bad, 125 skip, 128 abort')
    .action(async (name: string, o: SeriesOpts) => done(await cmdCheck(name, o)))
}

export function addBisect(program: Command, done: Done): void {
  seriesCommand(program, 'bisect')
    .requiredOption('--test <id>', TEST_HELP)
    .option('--fix', 'find the first patch that makes the test pass (base bad, series good)')
    .option('--state <file>', 'state file (default <out>/bisect-state.json); an interrupted bisect resumes from it')
    .option('--restart', 'ignore a state file from a different bisection')
    .option('--no-verify', 'skip the revert check (the whole series without the culprit, which should behave like the base)')
    .addOption(option.prefix('--good <k>', 'a prefix known to pass (default: the base for a cause, the whole series with --fix)'))
    .addOption(option.prefix('--bad <k>', 'a prefix known to fail (default: the whole series for a cause, the base with --fix)'))
    .description('find the first patch of the series that changes the test verdict')
    .action(async (name: string, o: SeriesOpts) => done(await cmdBisect(name, o)))
}

export function addPatchcheck(program: Command, done: Done): void {
  seriesCommand(program, 'patchcheck')
    .option('--test <id>', "the test id whose raw verdict decides good/bad (default: each prefix's run against its own expectations)")
    .description('build, boot and test every prefix 0..N of the series; prints a table')
    .action(async (name: string, o: SeriesOpts) => done(await cmdPatchcheck(name, o)))
}
