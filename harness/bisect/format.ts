// Pure text for the CLI: bisect progress lines, the final line, the summary block.
import type { AttemptRecord, BisectMode, BisectResult, StepRecord, StepStage, Verification } from './types.js'

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

const STAGE_ORDER: StepStage[] = ['apply', 'build', 'boot', 'test']

/** Per-stage time summed over the attempts: `build 12.3 s, test 8.1 s`; the total when the runner gave no split. */
export function formatTimings(attempts: readonly AttemptRecord[]): string {
  const sums = new Map<StepStage, number>()
  for (const a of attempts) for (const s of STAGE_ORDER) {
    const v = a.timings?.[s]
    if (v !== undefined) sums.set(s, (sums.get(s) ?? 0) + v)
  }
  if (sums.size === 0) {
    const total = attempts.reduce((n, a) => n + a.ms, 0)
    return formatSeconds(total)
  }
  return STAGE_ORDER.filter(s => sums.has(s))
    .map(s => `${s} ${formatSeconds(sums.get(s) ?? 0)}`)
    .join(', ')
}

/** `step 3: prefix 2/5 → good (build 12.3 s, test 8.1 s)`, with the reason when it is not a plain single run. */
export function formatStepLine(rec: StepRecord, length: number): string {
  const head = `step ${rec.step}: prefix ${rec.prefix}/${length} → ${rec.verdict}`
  if (rec.reusedFrom !== undefined) return `${head} (same kernel image as prefix ${rec.reusedFrom}, not re-tested)`
  const parts: string[] = []
  if (rec.verdict === 'skip' || rec.verdict === 'infra') {
    const last = rec.attempts[rec.attempts.length - 1]
    parts.push(`${rec.stage ?? 'run'} failed${last?.detail ? `: ${last.detail}` : ''}`)
  } else if (rec.attempts.length > 1 || rec.verdict === 'weak') parts.push(rec.reason)
  if (rec.sameImageAs !== undefined) parts.push(`same kernel image as prefix ${rec.sameImageAs}`)
  if (rec.resumed) parts.push('from the state file')
  const extra = parts.length ? `, ${parts.join(', ')}` : ''
  return `${head}${extra} (${formatTimings(rec.attempts)})`
}

function subjectOf(subjects: readonly string[], k: number): string {
  return subjects[k - 1] ?? '(no subject)'
}

export function culpritLabel(mode: BisectMode): string {
  return mode === 'fix' ? 'first fixing patch' : 'first bad patch'
}

export function foundLine(mode: BisectMode, k: number, length: number, subjects: readonly string[]): string {
  return `${culpritLabel(mode)}: ${k}/${length} ${subjectOf(subjects, k)}`
}

export function inconclusiveLine(mode: BisectMode, range: [number, number], length: number, skipped: readonly number[]): string {
  const [oldName, newName] = mode === 'fix' ? ['bad', 'good'] : ['good', 'bad']
  return (
    `${culpritLabel(mode)}: one of ${range[0]}..${range[1]}/${length} — between ${oldName} prefix ${range[0] - 1} and ` +
    `${newName} prefix ${range[1]}: only skipped prefixes left (${skipped.join(', ')})`
  )
}

export function endpointName(prefix: number, length: number): string {
  return prefix === 0 ? 'base (prefix 0)' : `full series (prefix ${prefix}/${length})`
}

/** The revert check in one line: what the series without the culprit did, and what that says about it. */
export function verificationLine(mode: BisectMode, v: Pick<Verification, 'without' | 'verdict' | 'outcome' | 'reason'>, length: number): string {
  const what = `the series without ${v.without}/${length}`
  const [oldV, newV, verb] = mode === 'fix' ? ['bad', 'good', 'fixes'] : ['good', 'bad', 'breaks']
  const why = v.reason ? ` (${v.reason})` : ''
  if (v.outcome === 'confirmed') return `verified: ${what} is ${oldV} again${why}: leaving ${v.without}/${length} out restores the old behaviour`
  if (v.outcome === 'refuted')
    return `not confirmed: ${what} is still ${newV}${why}: another patch also ${verb} the test, or ${v.without}/${length} only exposes it`
  if (v.verdict === 'skip') return `not verified: ${what} is untestable${why}; later patches may depend on ${v.without}/${length}`
  return `not verified: ${what} is ${v.verdict}${why}`
}

/** Lines to print after a bisection: the final line, then confidence and warnings. */
export function formatBisectSummary(r: BisectResult): string[] {
  const out = [r.line]
  if (r.verification) out.push(r.verification.line)
  if (r.status === 'found' || r.status === 'inconclusive') out.push(`confidence ${r.confidence.toFixed(2)} (${r.policy})`)
  if (r.noop) out.push(`warning: ${r.noop}`)
  const reused = r.steps.filter(s => s.reusedFrom !== undefined)
  if (reused.length) out.push(`reused verdicts of identical kernel images: ${reused.map(s => `${s.prefix}←${s.reusedFrom}`).join(', ')}`)
  const weak = r.steps.filter(s => s.verdict === 'weak')
  if (weak.length) out.push(`weak (flaky) prefixes treated as skipped: ${weak.map(s => s.prefix).join(', ')}`)
  out.push(`${r.builds} builds, ${r.runs} test runs`)
  return out
}
