// Binary search over the prefixes of a patch series for the first patch that breaks a test (or, with fix, repairs it).
import { EXIT, InputError } from '../errors.js'
import type { EventSink } from '../events.js'
import { decide, makePolicy, type TryPolicy } from './policy.js'
import { identityMismatch, identityOf, loadState, saveState, STATE_SCHEMA, type PrefixState } from './state.js'
import { formatStepLine, formatTimings, verificationLine } from './format.js'
import type { AttemptRecord, BisectMode, BisectResult, StepRecord, StepResult, StepRunner, Verdict, Verification } from './types.js'
import { bisectTerms, endpointsResult, foundResult, inconclusiveResult, infraResult, type Session } from './session.js'

export interface BisectOptions {
  /** runs per prefix; see policy.ts for the rule */
  tries: number
  /** cap on runs of a weak prefix (default 3 × tries) */
  maxRuns?: number
  /** look for the first patch that makes the test good (base bad, full series good) */
  fix?: boolean
  /**
   * The endpoints as prefixes, in git bisect's words: `good` is a prefix known to pass, `bad` one known to fail
   * (defaults: the base and the whole series, in the order the mode needs). A series whose base cannot run the
   * test at all (the interface arrives with patch 2) starts from the first prefix that can.
   */
  good?: number | undefined
  bad?: number | undefined
  /**
   * JSON state file, rewritten after every run. A bisection with the same identity (series subjects, runner identity,
   * mode, tries) resumes from it; a different one is refused (InputError naming the difference) unless `restart`.
   */
  statePath?: string
  /** with a state file from a different bisection: ignore it and start over (it is overwritten) */
  restart?: boolean
  events?: EventSink
  /** receives one progress line per step */
  log?: (line: string) => void
  /** variant name used in events */
  label?: string
  /**
   * After a culprit is found, test the whole series without it (default true, when the runner can): leaving the
   * culprit out should bring back the old behaviour. The answer is reported; it does not change the culprit.
   */
  verify?: boolean
}

/**
 * Next prefix to test strictly between the last old-behaving prefix `lo` and the first new-behaving `hi`:
 * the midpoint, or when it is untestable the nearest testable neighbour (lower first), as `git bisect skip` does.
 */
export function pickNext(lo: number, hi: number, skipped: ReadonlySet<number>): number | undefined {
  const mid = Math.floor((lo + hi) / 2)
  for (let d = 0; d < hi - lo; d++) {
    for (const c of [mid - d, mid + d]) if (c > lo && c < hi && !skipped.has(c)) return c
  }
  return undefined
}

/**
 * Exit status of `daxrig bisect`: 0 when a culprit was named; 1 when none could be (endpoints disagree, or only
 * skipped prefixes are left); 128 when the rig failed, so scripts can tell "retry later" from "no answer".
 */
export function bisectExitCode(r: Pick<BisectResult, 'status'>): number {
  if (r.status === 'found') return EXIT.ok
  if (r.status === 'infra') return EXIT.infra
  return EXIT.regression
}

/** Verdicts a bisection looks for: the behaviour before the culprit and after it. */

export async function bisect(runner: StepRunner, opts: BisectOptions): Promise<BisectResult> {
  const length = runner.seriesInfo.length
  if (!Number.isInteger(length) || length < 1) throw new InputError('the series has no patches: nothing to bisect')
  const mode: BisectMode = opts.fix ? 'fix' : 'cause'
  const s = await openSession(runner, makePolicy(opts.tries, opts.maxRuns), mode, opts)
  const terms = bisectTerms(mode)

  // old behaviour at `lo`, new behaviour at `hi`: cause = good → bad, fix = bad → good
  const given = opts.fix ? { lo: opts.bad, hi: opts.good } : { lo: opts.good, hi: opts.bad }
  const lo0 = given.lo ?? 0
  const hi0 = given.hi ?? length
  if (![lo0, hi0].every(k => Number.isInteger(k) && k >= 0 && k <= length) || lo0 >= hi0)
    throw new InputError(
      `endpoints ${opts.fix ? `--bad ${lo0} --good ${hi0}` : `--good ${lo0} --bad ${hi0}`}: need 0 ≤ ${opts.fix ? 'bad < good' : 'good < bad'} ≤ ${length} (the series has ${length} patches)`,
    )
  for (const [prefix, expected] of [
    [lo0, terms.old],
    [hi0, terms.new],
  ] as const) {
    const rec = await evaluate(s, prefix)
    if (rec.verdict === 'infra') return infraResult(s, rec)
    if (rec.verdict !== expected) return endpointsResult(s, rec, expected)
  }

  let lo = lo0
  let hi = hi0
  const skipped = new Set<number>()
  for (let m = pickNext(lo, hi, skipped); m !== undefined; m = pickNext(lo, hi, skipped)) {
    const rec = await evaluate(s, m)
    if (rec.verdict === 'infra') return infraResult(s, rec)
    if (rec.verdict === terms.old) lo = m
    else if (rec.verdict === terms.new) hi = m
    else skipped.add(m)
  }
  if (hi - lo === 1) {
    // the revert check runs first, so the result's build and run counts include it
    const verification = opts.verify === false ? undefined : await verifyCulprit(s, hi)
    return { ...foundResult(s, hi), ...(verification ? { verification } : {}) }
  }
  const inRange = [...skipped].filter(k => k > lo && k < hi).sort((a, b) => a - b)
  return inconclusiveResult(s, [lo + 1, hi], inRange)
}

async function openSession(runner: StepRunner, policy: TryPolicy, mode: BisectMode, opts: BisectOptions): Promise<Session> {
  const identity = identityOf(runner, policy, mode)
  const known = new Map<number, PrefixState>()
  if (opts.statePath) {
    // with restart a malformed file is as good as none: it will be overwritten
    const saved = await loadState(opts.statePath).catch(e => {
      if (opts.restart && e instanceof InputError) return undefined
      throw e
    })
    const why = saved ? identityMismatch(saved.identity, identity) : undefined
    if (why && !opts.restart)
      throw new InputError(`belongs to a different bisection: ${why}; remove it or pass --restart to start over`, opts.statePath)
    if (saved && !why)
      for (const p of saved.prefixes) if (p.verdict !== 'infra') known.set(p.prefix, p)
  }
  const label = opts.label ?? 'bisect'
  return {
    runner,
    policy,
    mode,
    length: runner.seriesInfo.length,
    identity,
    statePath: opts.statePath,
    known,
    steps: [],
    built: new Set(),
    runs: 0,
    announce: line => {
      opts.events?.({ type: 'progress', variant: label, phase: 'bisect', message: line })
      opts.log?.(line)
    },
  }
}

async function persist(s: Session): Promise<void> {
  if (!s.statePath) return
  const prefixes = [...s.known.values()].sort((a, b) => a.prefix - b.prefix)
  await saveState(s.statePath, { schema: STATE_SCHEMA, identity: s.identity, prefixes, updated: new Date().toISOString() })
}

/** One run as recorded in steps and state files (shared with patchcheck). */
export function toAttempt(r: StepResult, attempt: number): AttemptRecord {
  return {
    attempt,
    outcome: r.outcome,
    detail: r.detail,
    ms: r.ms,
    ...(r.stage !== undefined ? { stage: r.stage } : {}),
    ...(r.imageHash !== undefined ? { imageHash: r.imageHash } : {}),
    ...(r.timings !== undefined ? { timings: r.timings } : {}),
  }
}

/** Another prefix that built the same image; one with a reusable verdict is preferred. */
function sameImage(known: ReadonlyMap<number, PrefixState>, st: PrefixState): PrefixState | undefined {
  if (st.imageHash === undefined) return undefined
  let any: PrefixState | undefined
  for (const o of known.values()) {
    if (o.prefix === st.prefix || o.imageHash !== st.imageHash) continue
    if (reusable(o.verdict)) return o
    any ??= o
  }
  return any
}

/** Verdicts that describe the kernel image itself; weak is not, another sample of it is worth having. */
function reusable(v: Verdict | undefined): v is 'good' | 'bad' | 'skip' {
  return v === 'good' || v === 'bad' || v === 'skip'
}

function reuse(st: PrefixState, twin: PrefixState, why: string): void {
  st.verdict = twin.verdict as Verdict
  st.reusedFrom = twin.prefix
  st.sameImageAs = twin.prefix
  st.reason = `same kernel image as prefix ${twin.prefix}${why}`
}

/**
 * Decide one prefix: from the state file if it was decided before, by reusing the verdict of an identical image,
 * or by running it until the policy decides. Persists after every run; infra runs are not persisted.
 */
async function evaluate(s: Session, prefix: number): Promise<StepRecord> {
  const st: PrefixState = s.known.get(prefix) ?? { prefix, attempts: [] }
  s.known.set(prefix, st)
  if (st.verdict !== undefined) return record(s, st, true)

  if (st.imageHash === undefined && s.runner.probeImage) {
    s.built.add(`p${prefix}`)
    const h = await s.runner.probeImage(prefix)
    if (h !== undefined) st.imageHash = h
  }
  if (st.attempts.length === 0) {
    const twin = sameImage(s.known, st)
    if (twin && reusable(twin.verdict)) {
      reuse(st, twin, '')
      await persist(s)
      return record(s, st, false)
    }
    if (twin) st.sameImageAs = twin.prefix
  }

  for (;;) {
    const d = decide(
      st.attempts.map(a => a.outcome),
      s.policy,
    )
    if (d.done) {
      st.verdict = d.verdict
      st.reason = d.reason
      break
    }
    const attempt = st.attempts.length
    s.built.add(`p${prefix}`)
    s.runs++
    const res = await s.runner.run(prefix, attempt)
    const a = toAttempt(res, attempt)
    if (res.outcome === 'infra') return record(s, { ...st, attempts: [...st.attempts, a], verdict: 'infra', reason: 'the rig failed' }, false)
    st.attempts.push(a)
    if (st.imageHash === undefined && res.imageHash !== undefined) {
      // Without a probe the image hash arrives with the first run: reuse only when that run agrees with the twin,
      // otherwise the same kernel behaved differently (a flaky test) and this prefix is tested in full.
      st.imageHash = res.imageHash
      const twin = sameImage(s.known, st)
      if (twin) st.sameImageAs = twin.prefix
      if (twin && reusable(twin.verdict) && twin.verdict === res.outcome) {
        reuse(st, twin, `, and its first run agreed`)
        break
      }
    }
    await persist(s)
  }
  await persist(s)
  return record(s, st, false)
}

function record(s: Session, st: PrefixState, resumed: boolean): StepRecord {
  const pass = st.attempts.filter(a => a.outcome === 'good').length
  const fail = st.attempts.filter(a => a.outcome === 'bad').length
  const failing = [...st.attempts].reverse().find(a => a.outcome === 'skip' || a.outcome === 'infra')
  const verdict = st.verdict ?? 'infra'
  const rec: StepRecord = {
    step: s.steps.length + 1,
    prefix: st.prefix,
    verdict,
    reason: st.reason ?? '',
    attempts: st.attempts,
    pass,
    fail,
    ms: st.attempts.reduce((n, a) => n + a.ms, 0),
    ...(st.imageHash !== undefined ? { imageHash: st.imageHash } : {}),
    ...((verdict === 'skip' || verdict === 'infra') && failing?.stage !== undefined ? { stage: failing.stage } : {}),
    ...(st.reusedFrom !== undefined ? { reusedFrom: st.reusedFrom } : {}),
    ...(st.sameImageAs !== undefined ? { sameImageAs: st.sameImageAs } : {}),
    ...(resumed ? { resumed: true } : {}),
  }
  s.steps.push(rec)
  s.announce(formatStepLine(rec, s.length))
  return rec
}

/**
 * The revert check: the whole series without the culprit k should behave like prefix k-1.
 * An image equal to a tested prefix's takes that verdict; otherwise it is run under the same policy.
 */
async function verifyCulprit(s: Session, k: number): Promise<Verification | undefined> {
  const r = s.runner
  if (!r.runWithout) return undefined
  const terms = bisectTerms(s.mode)
  const attempts: AttemptRecord[] = []
  let verdict: Verdict | undefined
  let reason = ''
  let imageHash: string | undefined
  let twin: PrefixState | undefined
  if (k === s.length) {
    // leaving out the last patch gives prefix k-1, which the bisection already decided
    twin = s.known.get(k - 1)
    imageHash = twin?.imageHash
  } else if (r.probeWithout) {
    s.built.add(`w${k}`)
    imageHash = await r.probeWithout(k)
    if (imageHash !== undefined) twin = [...s.known.values()].find(o => o.imageHash === imageHash && reusable(o.verdict))
  }
  if (twin && reusable(twin.verdict)) {
    verdict = twin.verdict
    reason = `same kernel image as prefix ${twin.prefix}`
  }
  while (verdict === undefined) {
    const d = decide(attempts.map(a => a.outcome), s.policy)
    if (d.done) {
      verdict = d.verdict
      reason = d.reason
      break
    }
    s.built.add(`w${k}`)
    s.runs++
    const res = await r.runWithout(k, attempts.length)
    attempts.push(toAttempt(res, attempts.length))
    imageHash ??= res.imageHash
    if (res.outcome === 'infra') verdict = 'infra'
  }
  if (attempts.length && (verdict === 'skip' || verdict === 'infra')) reason = `${attempts.at(-1)?.stage ?? 'run'} failed: ${attempts.at(-1)?.detail ?? ''}`
  const outcome = verdict === terms.old ? 'confirmed' : verdict === terms.new ? 'refuted' : 'unknown'
  const v: Verification = {
    without: k,
    verdict,
    outcome,
    reason,
    attempts,
    ...(imageHash !== undefined ? { imageHash } : {}),
    ...(twin && reusable(twin.verdict) ? { sameImageAs: twin.prefix } : {}),
    line: '',
  }
  v.line = verificationLine(s.mode, v, s.length)
  const took = attempts.length ? `, ${formatTimings(attempts)}` : ''
  s.announce(`revert check: the series without ${k}/${s.length} → ${verdict}${reason ? ` (${reason}${took})` : ''}`)
  return v
}
