// One variant, end to end: variant → kernel → image → VM → console → results. Data flows one way;
// each stage's output is saved in the variant's out dir as it is produced.
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventSink } from '../events.js'
import { exitCodeFor, InfraError, InputError, UntestableError } from '../errors.js'
import { getKernel } from '../kernel/index.js'
import { buildImage } from '../guest/initramfs.js'
import { qemuArgs, type Accel } from '../vm/qemu-args.js'
import { runVm, watchdogSecs, type VmRun } from '../vm/runner.js'
import { copyArgs, mediaBytes, withFreshMedia } from '../vm/media.js'
import { shellQuote, commandLog } from '../util/exec.js'
import { isInterrupted } from '../util/children.js'
import { evaluateRun } from './evaluate.js'
import { newToken } from '../results/channel.js'
import { premadeMedia, type Premade } from './media-cache.js'
import type { KernelArtifact, RunFailure, RunVerdict, Variant, VariantResult } from '../types.js'

export interface RunOptions {
  outDir: string
  accel: Accel
  qemu: string
  upto?: number | undefined
  /** leave this patch out of the series (bisect's revert check) */
  without?: number | undefined
  /** multiply every timeout (e.g. for debug kernels) */
  timeoutScale: number
  /** override the variant's total timeout */
  timeoutSec?: number | undefined
  bios?: string | undefined
  signal?: AbortSignal | undefined
}

export function safeName(s: string): string {
  // names reach the file system: keep them to a harmless alphabet
  return s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 100) || '_'
}

export async function runVariant(v: Variant, o: RunOptions, events: EventSink): Promise<VariantResult> {
  const vdir = join(o.outDir, safeName(v.name))
  await mkdir(vdir, { recursive: true })
  const timings: Record<string, number> = {}
  const rel = (f: string) => `${safeName(v.name)}/${f}`
  const result: VariantResult = {
    variant: v.name,
    file: v.file,
    verdict: 'infra',
    ...(v.expectRun ? { expectedVerdict: v.expectRun.verdict } : {}),
    summary: '',
    cases: [],
    findings: [],
    timings,
    artifacts: {},
  }
  let current = 'kernel'
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    current = name
    const t = Date.now()
    events({ type: 'phase-start', variant: v.name, phase: name })
    try {
      return await fn()
    } finally {
      timings[name] = (Date.now() - t) / 1000
      events({ type: 'phase-end', variant: v.name, phase: name, ms: Date.now() - t })
    }
  }
  const t0 = Date.now()
  try {
    const kernel = await phase('kernel', () => getKernel(v, { upto: o.upto, without: o.without, events }))
    result.kernel = { id: kernel.id, release: kernel.release, description: kernel.description, imageHash: kernel.imageHash }
    if (kernel.buildLog) result.kernel.buildLog = kernel.buildLog
    await copyFile(kernel.configPath, join(vdir, 'kernel.config'))
    result.artifacts['kernel.config'] = rel('kernel.config')
    const premade = await phase('media', () => premadeMedia(kernel, v, o, events))
    const image = await phase('image', () => buildImage(kernel, v, { premade: !!premade }))
    await writeFile(join(vdir, 'plan.sh'), image.plan)
    let vm = await phase('boot+test', () => boot(v, o, kernel, image.path, vdir, events, premade))
    // A kernel crash before the guest's init reported anything is retried once (NIPA retries VM starts
    // too): TCG occasionally oopses at boot (seen: "Oops: int3" in sched_clock_cpu on 6.12, ~1 in 35).
    // A crash that happens again is the kernel's; the first console is kept either way.
    let retried = ''
    if (!isInterrupted()) {
      const first = evaluateRun(v, vm, o.upto)
      if (first.verdict === 'crash' && !first.reachedInit) {
        retried = first.summary
        await rename(join(vdir, 'console.log'), join(vdir, 'console-attempt1.log'))
        result.artifacts['console-attempt1.log'] = rel('console-attempt1.log')
        events({ type: 'log', level: 'warn', message: `${v.name}: ${first.summary} before init; booting once more` })
        vm = await phase('boot+test (retry)', () => boot(v, o, kernel, image.path, vdir, events, premade))
      }
    }
    for (const f of ['console.log', 'channel.log', 'results.ktap', 'qemu.cmdline', 'plan.sh']) result.artifacts[f] = rel(f)
    const sig = isInterrupted()
    if (sig) throw new Interrupted(sig)
    const ev = evaluateRun(v, vm, o.upto)
    await writeFile(join(vdir, 'results.ktap'), ev.ktap)
    result.cases = ev.cases
    result.guest = vm.guest
    result.findings = ev.findings
    result.verdict = ev.verdict
    if (ev.notes.length) result.notes = ev.notes
    result.summary = retried ? `${ev.summary} (first boot crashed before init and was retried: ${retried})` : ev.summary
  } catch (e) {
    // a build or VM killed by Ctrl-C is not the kernel's fault
    const sig = isInterrupted()
    const { verdict, summary } = sig ? { verdict: 'interrupted' as const, summary: `interrupted by ${sig}` } : errorVerdict(e)
    result.verdict = verdict
    result.summary = summary
    result.failure = failureOf(e, sig ? 'interrupted' : undefined, current)
    if (e instanceof UntestableError && e.excerpt) {
      await writeFile(join(vdir, 'error.log'), e.excerpt)
      result.artifacts['error.log'] = rel('error.log')
    }
    if (!sig && !(e instanceof InputError || e instanceof UntestableError || e instanceof InfraError)) {
      await writeFile(join(vdir, 'error.log'), String((e as Error).stack ?? e))
      result.artifacts['error.log'] = rel('error.log')
    }
  } finally {
    timings.total = (Date.now() - t0) / 1000
    await writeFile(join(vdir, 'commands.log'), commandLog().join('\n') + '\n')
  }
  events({ type: 'variant-end', variant: v.name, verdict: result.verdict, summary: result.summary, ms: Date.now() - t0 })
  return result
}

class Interrupted extends Error {}

/**
 * Comment lines above the saved QEMU command: its NVDIMM backing files are removed after the run, so replaying it
 * needs fresh ones first (fresh, as every run gets: a used file would come up already converted): empty ones, or
 * new copies of the premade medium the run used.
 */
export function replayNote(dir: string, bytes: number[], paths: string[], premade?: string[]): string {
  if (!paths.length) return '# the command daxrig ran (copy-pasteable)\n'
  const size = (b: number) => (b % 2 ** 20 === 0 ? `${b / 2 ** 20}M` : `${b / 1024}K`)
  const make = paths
    .map((p, i) => (premade ? shellQuote(['cp', ...copyArgs(premade[i]!, p)]) : `truncate -s ${size(bytes[i]!)} ${shellQuote([p])}`))
    .join(' && ')
  return [
    '# the command daxrig ran (copy-pasteable); its NVDIMM backing files were removed after the run, so first:',
    `#   mkdir -p ${shellQuote([dir])} && ${make}`,
    '',
  ].join('\n')
}

/** The typed failure of a run that threw in pipeline phase PHASE. */
export function failureOf(e: unknown, interrupted: 'interrupted' | undefined, phase: string): RunFailure {
  const stage: RunFailure['stage'] =
    e instanceof UntestableError ? e.stage : e instanceof InputError ? (phase === 'kernel' ? 'kernel' : 'variant') : phase === 'image' ? 'image' : phase.startsWith('boot') ? 'boot' : 'kernel'
  const kind: RunFailure['kind'] = interrupted ?? (e instanceof InputError ? 'bad-input' : e instanceof UntestableError ? 'untestable' : 'infra')
  return { kind, stage }
}

export function errorVerdict(e: unknown): { verdict: RunVerdict; summary: string; exit: number } {
  const exit = exitCodeFor(e)
  const msg = e instanceof Error ? e.message : String(e)
  if (e instanceof InputError) return { verdict: 'bad-input', summary: msg, exit }
  if (e instanceof UntestableError) return { verdict: 'untestable', summary: `${e.stage}: ${msg}`, exit }
  return { verdict: 'infra', summary: msg, exit }
}

async function boot(v: Variant, o: RunOptions, k: KernelArtifact, initrd: string, vdir: string, events: EventSink, premade?: Premade): Promise<VmRun> {
  return withFreshMedia(v.machine, async (nvdimmPaths, mediaDir) => {
    // the raw channel (with init's framing token); results.ktap is written from it after the run
    const resultsPath = join(vdir, 'channel.log')
    await rm(resultsPath, { force: true })
    const token = newToken()
    const args = qemuArgs({
      token,
      qemu: o.qemu,
      accel: o.accel,
      machine: v.machine,
      kernel: k.pvhImage ?? k.bzImage,
      initrd,
      nvdimmPaths,
      resultsPath,
      bios: o.bios,
    })
    await writeFile(join(vdir, 'qemu.cmdline'), replayNote(mediaDir, mediaBytes(v.machine), nvdimmPaths, premade?.files) + shellQuote([o.qemu, ...args]) + '\n')
    return runVm({
      qemu: o.qemu,
      args,
      consolePath: join(vdir, 'console.log'),
      resultsPath,
      ...watchdogSecs(v.timeouts, o.timeoutScale, o.timeoutSec),
      onConsoleLine: line => events({ type: 'console', variant: v.name, line }),
      onGuest: event => events({ type: 'guest', variant: v.name, event }),
      signal: o.signal,
      token,
    })
  }, premade?.files)
}
