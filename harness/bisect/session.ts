// A bisection session (what is known so far) and the BisectResult each way of ending it gives: found, inconclusive,
// endpoints that disagree, a rig failure. bisect.ts drives the search; this module only shapes its answers.
import { bisectConfidence, describePolicy, type Evidence, type TryPolicy } from './policy.js'
import type { BisectIdentity, PrefixState } from './state.js'
import { endpointName, foundLine, inconclusiveLine } from './format.js'
import type { BisectMode, BisectResult, StepRecord, StepRunner, Verdict } from './types.js'

export interface Session {
  runner: StepRunner
  policy: TryPolicy
  mode: BisectMode
  length: number
  identity: BisectIdentity
  statePath: string | undefined
  known: Map<number, PrefixState>
  steps: StepRecord[]
  /** distinct kernels asked for: `p<prefix>`, and `w<patch>` for the series without one patch */
  built: Set<string>
  runs: number
  announce: (line: string) => void
}

export function bisectTerms(mode: BisectMode): { old: Verdict; new: Verdict } {
  return mode === 'fix' ? { old: 'bad', new: 'good' } : { old: 'good', new: 'bad' }
}

function evidence(steps: readonly StepRecord[]): Evidence[] {
  return steps.map(r => ({ verdict: r.verdict, pass: r.pass, fail: r.fail, fresh: r.reusedFrom === undefined }))
}

type Common = Pick<BisectResult, 'mode' | 'length' | 'steps' | 'builds' | 'runs' | 'policy' | 'confidence'>

function common(s: Session, withConfidence: boolean): Common {
  return {
    mode: s.mode,
    length: s.length,
    steps: s.steps,
    builds: s.built.size,
    runs: s.runs,
    policy: describePolicy(s.policy),
    confidence: withConfidence ? bisectConfidence(evidence(s.steps)) : 0,
  }
}

export function infraResult(s: Session, rec: StepRecord): BisectResult {
  const last = rec.attempts[rec.attempts.length - 1]
  const detail = `the rig failed at prefix ${rec.prefix}/${s.length}${last ? `: ${last.detail}` : ''}`
  return { ...common(s, false), status: 'infra', detail, line: `bisect: aborted: ${detail}` }
}

/** Why an endpoint that does not show the expected verdict stops the bisection, in the user's words. */
function endpointHint(s: Session, rec: StepRecord, expected: Verdict): string {
  const name = endpointName(rec.prefix, s.length)
  if (rec.verdict === 'skip') return `${name} is untestable (${rec.stage ?? 'run'} failed: ${rec.attempts.at(-1)?.detail ?? ''})`
  if (rec.verdict === 'weak') return `${name} is weak: ${rec.reason}`
  const isBase = rec.prefix === 0
  if (s.mode === 'cause')
    return isBase
      ? `${name} is already bad: the failure predates the series`
      : `${name} is good: the series does not break this test`
  return isBase
    ? `${name} is already good: there is nothing for the series to fix`
    : `${name} is still bad: the series does not fix this test (expected ${expected})`
}

export function endpointsResult(s: Session, rec: StepRecord, expected: Verdict): BisectResult {
  const detail = endpointHint(s, rec, expected)
  return {
    ...common(s, false),
    status: 'endpoints-disagree',
    endpoint: { prefix: rec.prefix, expected, got: rec.verdict, detail },
    detail,
    line: `bisect: endpoints disagree: ${detail}`,
  }
}

/** syzkaller's NoopChange: a culprit that built the same kernel as its parent cannot have changed it. */
export function noopWarning(culprit: number, culpritHash: string | undefined, parentHash: string | undefined): string | undefined {
  if (culpritHash === undefined || culpritHash !== parentHash) return undefined
  return `no-op: same kernel image as ${culprit - 1}, most likely wrong`
}

export function foundResult(s: Session, k: number): BisectResult {
  const subject = s.runner.seriesInfo.subjects[k - 1] ?? '(no subject)'
  const noop = noopWarning(k, s.known.get(k)?.imageHash, s.known.get(k - 1)?.imageHash)
  const line = foundLine(s.mode, k, s.length, s.runner.seriesInfo.subjects)
  return {
    ...common(s, true),
    status: 'found',
    firstBad: k,
    subject,
    ...(noop ? { noop } : {}),
    detail: `prefix ${k - 1} is ${bisectTerms(s.mode).old}, prefix ${k} is ${bisectTerms(s.mode).new}`,
    line,
  }
}

export function inconclusiveResult(s: Session, range: [number, number], skipped: number[]): BisectResult {
  return {
    ...common(s, true),
    status: 'inconclusive',
    range,
    skipped,
    detail: `only skipped prefixes left between ${range[0] - 1} and ${range[1]}`,
    line: inconclusiveLine(s.mode, range, s.length, skipped),
  }
}
