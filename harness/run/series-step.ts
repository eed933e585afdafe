// The kernel side of bisect/patchcheck: a StepRunner that builds prefix K of a variant's series, boots
// it and judges the selected test cases. Good = every selected case passed; bad = one failed, crashed or
// timed out. The raw result is judged, not the variant's expectations: they describe one point of the
// series, while a bisection walks all of them.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventSink } from '../events.js'
import { InputError, UntestableError } from '../errors.js'
import { getKernel } from '../kernel/index.js'
import { loadSeries, type SeriesPatch } from '../kernel/series.js'
import { runVariant, type RunOptions } from './pipeline.js'
import { globToRegExp } from '../results/verdict.js'
import type { StepResult, StepRunner, StepStage } from '../bisect/types.js'
import type { CaseOutcome, RunFailure, Variant, VariantResult } from '../types.js'
import { hashValue } from '../cache/store.js'

/** ID is a case id (`program.case`), a program name, or a glob. */
export function testMatcher(id: string): (caseId: string) => boolean {
  if (/[*?]/.test(id)) {
    const re = globToRegExp(id)
    return c => re.test(c)
  }
  return id.includes('.') ? c => c === id : c => c === id || c.startsWith(`${id}.`)
}

export function checkTestId(v: Variant, id: string): void {
  const prog = id.split('.')[0]!
  if (!/[*?]/.test(prog) && !v.tests.some(t => t.name === prog))
    throw new InputError(`--test ${id}: program "${prog}" is not in variant ${v.name} (tests: ${v.tests.map(t => t.name).join(', ')})`)
}

/**
 * Judge one run against the variant's expectations for its prefix (patchcheck without --test): good when the run
 * ends as expected, bad when a result differs (regression, crash, hang), skip when it could not be tested.
 */
export function judgeExpected(r: VariantResult): Pick<StepResult, 'outcome' | 'stage' | 'detail'> {
  if (r.verdict === 'infra' || r.verdict === 'bad-input' || r.verdict === 'interrupted') return { outcome: 'infra', detail: r.summary }
  if (r.verdict === 'untestable' || r.verdict === 'boot-hang' || r.verdict === 'setup-failed') return judge(r, () => false)
  const expected = r.expectedVerdict ?? 'ok'
  if (r.verdict === expected) return { outcome: 'good', stage: 'test', detail: r.summary }
  return { outcome: 'bad', stage: 'test', detail: r.summary }
}

/** The bisect stage an untestable run stopped at: a patch that does not apply, a build (or config), a boot. */
function stepStage(f: RunFailure | undefined): StepStage {
  if (f?.stage === 'apply') return 'apply'
  if (f?.stage === 'boot' || f?.stage === 'image') return 'boot'
  return 'build'
}

/** Judge one run for the selected cases. */
export function judge(r: VariantResult, match: (id: string) => boolean): Pick<StepResult, 'outcome' | 'stage' | 'detail'> {
  if (r.verdict === 'infra' || r.verdict === 'bad-input') return { outcome: 'infra', detail: r.summary }
  if (r.verdict === 'untestable') return { outcome: 'skip', stage: stepStage(r.failure), detail: r.summary }
  if (r.verdict === 'boot-hang' || r.verdict === 'setup-failed') return { outcome: 'skip', stage: 'boot', detail: r.summary }
  const sel = r.cases.filter(c => match(c.id))
  if (!sel.length) return { outcome: 'skip', stage: 'test', detail: `no case matching the test id was reported (${r.summary})` }
  const bad = sel.filter((c: CaseOutcome) => c.status === 'fail' || c.status === 'crashed' || c.status === 'timeout' || c.status === 'error')
  if (bad.length) return { outcome: 'bad', stage: 'test', detail: bad.map(c => `${c.id} ${c.status}`).slice(0, 4).join(', ') }
  if (sel.every(c => c.status === 'skip')) return { outcome: 'skip', stage: 'test', detail: `every selected case skipped: ${sel[0]!.detail}` }
  return { outcome: 'good', stage: 'test', detail: `${sel.filter(c => c.status === 'pass').length} selected case(s) passed` }
}

/** Warnings the build log shows in files the newest patch touches (an incremental build recompiles exactly those). */
async function warningsIn(buildLog: string, files: string[]): Promise<string[]> {
  const log = await readFile(buildLog, 'utf8').catch(() => '')
  return log
    .split('\n')
    .filter(l => /: warning: /.test(l) && files.some(f => l.startsWith(`${f}:`) || l.includes(`/${f}:`)))
    .slice(0, 20)
}

export async function seriesRunner(
  v: Variant,
  /** undefined: judge each prefix against its own expectations */
  testId: string | undefined,
  o: Omit<RunOptions, 'upto' | 'outDir'> & { outDir: string; events: EventSink; needsSeries?: boolean },
): Promise<StepRunner & { patches: SeriesPatch[] }> {
  if (v.kernel.kind !== 'source') throw new InputError(`variant ${v.name} has a prebuilt kernel: check, bisect and patchcheck need kernel.source`, v.file)
  if (o.needsSeries !== false && !v.kernel.series) throw new InputError(`variant ${v.name} has no patch series to walk (needs kernel.source and kernel.patches)`, v.file)
  if (testId !== undefined) checkTestId(v, testId)
  const patches = await loadSeries(v.kernel, v.kernel.git?.path)
  const match = testId === undefined ? undefined : testMatcher(testId)
  // one selection of patches: the first `upto`, optionally without one of them (the revert check)
  const probe = async (upto: number, without?: number) => {
    try {
      return (await getKernel(v, { upto, without, events: o.events })).imageHash
    } catch (e) {
      if (e instanceof UntestableError) return undefined
      throw e
    }
  }
  const step = async (upto: number, without: number | undefined, dir: string): Promise<StepResult> => {
    const t0 = Date.now()
    const r = await runVariant(v, { ...o, upto, without, outDir: join(o.outDir, dir) }, o.events)
    const j = match ? judge(r, match) : judgeExpected(r)
    const res: StepResult = { ...j, ms: Date.now() - t0, caseStatuses: Object.fromEntries(r.cases.map(c => [c.id, c.status])) }
    if (r.kernel?.imageHash) res.imageHash = r.kernel.imageHash
    res.timings = { build: (r.timings.kernel ?? 0) * 1000, test: (r.timings['boot+test'] ?? 0) * 1000 }
    const patch = without === undefined ? patches[upto - 1] : undefined
    if (patch && r.kernel?.buildLog) {
      const w = await warningsIn(r.kernel.buildLog, patch.files)
      if (w.length) res.newWarnings = w
    }
    return res
  }
  return {
    patches,
    seriesInfo: { length: patches.length, subjects: patches.map(p => p.subject) },
    identity: hashValue({ variant: v.name, test: testId ?? '(expectations)', kernel: v.kernel, patches: patches.map(p => p.identity) }),
    probeImage: (prefix: number) => probe(prefix),
    run: (prefix: number, attempt: number) => step(prefix, undefined, `prefix-${prefix}-run-${attempt}`),
    probeWithout: (patch: number) => probe(patches.length, patch),
    runWithout: (patch: number, attempt: number) => step(patches.length, patch, `without-${patch}-run-${attempt}`),
  }
}
