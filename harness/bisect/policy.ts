// Flaky-test policy for `--tries N`: turns repeated runs of one prefix into a verdict, and a bisection's evidence into a confidence figure.
import { InputError } from '../errors.js'
import type { StepOutcome, Verdict } from './types.js'

/**
 * The rule, for tries N:
 * - any infra run → `infra` at once (the rig failed; a bisection aborts rather than guess);
 * - any untestable run (apply/build/boot failed) → `skip`: those failures say nothing about the test;
 * - `badAt` failing runs → `bad`, as soon as they are seen. badAt is 1 for N = 1 and 2 otherwise, so with
 *   repeated runs one stray failure alone never makes a prefix bad (syzkaller #4888);
 * - N runs, none failed → `good`;
 * - otherwise (some failures, fewer than badAt) the prefix is weak: it is run again until it turns bad or
 *   `maxRuns` runs are done, and then it is reported `weak` (the bisector treats weak like skip).
 */
export interface TryPolicy {
  tries: number
  badAt: number
  maxRuns: number
}

export function makePolicy(tries: number, maxRuns?: number): TryPolicy {
  if (!Number.isInteger(tries) || tries < 1) throw new InputError(`--tries must be a positive integer, got ${tries}`)
  const cap = maxRuns ?? 3 * tries
  if (!Number.isInteger(cap) || cap < tries) throw new InputError(`the run cap (${cap}) must be an integer ≥ --tries (${tries})`)
  return { tries, badAt: tries === 1 ? 1 : 2, maxRuns: cap }
}

export function describePolicy(p: TryPolicy): string {
  if (p.tries === 1) return 'tries 1: one run; it passes → good, it fails → bad'
  return (
    `tries ${p.tries}: good if all ${p.tries} runs pass; bad once ${p.badAt} runs fail; ` +
    `fewer failures → weak, re-run up to ${p.maxRuns} runs, then reported weak (treated as skip)`
  )
}

export interface Tally {
  pass: number
  fail: number
  skip: number
  infra: number
  /** runs where the test ran: pass + fail */
  tested: number
}

export function tally(outcomes: readonly StepOutcome[]): Tally {
  const t = { pass: 0, fail: 0, skip: 0, infra: 0, tested: 0 }
  for (const o of outcomes) {
    if (o === 'good') t.pass++
    else if (o === 'bad') t.fail++
    else if (o === 'skip') t.skip++
    else t.infra++
  }
  t.tested = t.pass + t.fail
  return t
}

export type Decision = { done: true; verdict: Verdict; reason: string } | { done: false; reason: string }

/** Given the runs so far, either a final verdict or "run once more". Pure. */
export function decide(outcomes: readonly StepOutcome[], p: TryPolicy): Decision {
  const t = tally(outcomes)
  const done = (verdict: Verdict, reason: string): Decision => ({ done: true, verdict, reason })
  if (t.infra > 0) return done('infra', 'the rig failed')
  if (t.skip > 0) return done('skip', 'untestable')
  if (t.fail >= p.badAt) return done('bad', t.tested === 1 ? 'the run failed' : `${t.fail} of ${t.tested} runs failed`)
  if (t.tested < p.tries) return { done: false, reason: `${t.tested} of ${p.tries} runs done` }
  if (t.fail === 0) return done('good', t.tested === 1 ? 'the run passed' : `all ${t.tested} runs passed`)
  if (t.tested < p.maxRuns) return { done: false, reason: `weak: ${t.fail} of ${t.tested} runs failed, re-running` }
  return done('weak', `${t.fail} of ${t.tested} runs failed, fewer than ${p.badAt}`)
}

/** What one decided prefix contributes to the confidence figure. */
export interface Evidence {
  verdict: Verdict
  pass: number
  fail: number
  /** false when the verdict was reused from an identical image: it adds no new runs */
  fresh: boolean
}

/**
 * Chance that one run of a bad kernel shows the failure, estimated conservatively as the lowest failure ratio
 * seen on any prefix judged bad (syzkaller tracks its reproChance the same way). Undefined when nothing was bad.
 */
export function reproChance(evidence: readonly Evidence[]): number | undefined {
  let p: number | undefined
  for (const e of evidence) {
    if (!e.fresh || e.verdict !== 'bad' || e.pass + e.fail === 0) continue
    const r = e.fail / (e.pass + e.fail)
    p = p === undefined ? r : Math.min(p, r)
  }
  return p
}

/** Chance that a bad kernel would have failed at least once in `passes` runs: 1 − (1 − p)^passes. */
export function goodStepConfidence(passes: number, p: number): number {
  return 1 - Math.pow(1 - p, passes)
}

/**
 * Confidence = Π over freshly tested good prefixes of 1 − (1 − p)^passes, p = reproChance (syzkaller's formula).
 * Bad verdicts count as certain: they need the expected failure badAt times. Skipped, weak and reused prefixes add
 * no factor. It is the chance that no good verdict was a bad kernel that happened to pass; 0 if nothing reproduced.
 */
export function bisectConfidence(evidence: readonly Evidence[]): number {
  const p = reproChance(evidence)
  if (p === undefined) return 0
  let c = 1
  for (const e of evidence) if (e.fresh && e.verdict === 'good') c *= goodStepConfidence(e.pass, p)
  return c
}
