// Verdicts: compares parsed cases and console findings with a variant's expectations, per case and per run.
import type {
  CaseOutcome,
  CaseResult,
  ConsoleFinding,
  ExpectRule,
  OutcomeCounts,
  RunVerdict,
  SetupStatus,
  Variant,
  VmEnd,
} from '../types.js'
import { applyAllowList } from './classify.js'

/** Finding kinds that mean the kernel is broken: any one of them, unallowed, makes the run a `crash`. */
export const CRASH_KINDS: ReadonlySet<ConsoleFinding['kind']> = new Set([
  'panic', 'oops', 'bug', 'kasan', 'ubsan', 'lockdep', 'hung-task', 'soft-lockup', 'rcu-stall', 'triple-fault',
])

/** `*` matches any run of characters (dots included, so `*` matches every id), `?` exactly one. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

/**
 * How specific a pattern is: an exact id beats every glob; among globs the one with more literal
 * characters wins (`map_sync.fsdax_*` beats `map_sync.*` beats `*`).
 */
export function specificity(pattern: string): number {
  const literal = pattern.replace(/[*?]/g, '').length
  return /[*?]/.test(pattern) ? literal : 1_000_000 + literal
}

/**
 * The rule for a test id: the most specific matching pattern wins; between equally specific patterns the one
 * written first in the variant wins. Order in the file therefore only breaks ties.
 */
export function ruleFor(id: string, rules: ExpectRule[]): ExpectRule | undefined {
  let best: ExpectRule | undefined
  for (const r of rules) {
    if (!globToRegExp(r.pattern).test(id)) continue
    if (!best || specificity(r.pattern) > specificity(best.pattern)) best = r
  }
  return best
}

/** Per-case verdict. A crash, timeout or error never equals any expectation. */
export function caseVerdict(expected: ExpectRule['verdict'], status: CaseResult['status']): CaseOutcome['verdict'] {
  if (expected === 'pass') return status === 'pass' ? 'as-expected' : 'unexpected'
  if (expected === 'skip') return status === 'skip' ? 'as-expected' : 'unexpected'
  return status === 'fail' ? 'known-failure' : 'unexpected'
}

export interface VerdictInput {
  variant: Pick<Variant, 'expect' | 'allow'>
  cases: CaseResult[]
  findings: ConsoleFinding[]
  setup: SetupStatus | null
  end: VmEnd
  /** the results channel carried a KTAP version line: the guest reached its tests */
  resultsBegan: boolean
}

export interface VerdictResult {
  outcomes: CaseOutcome[]
  /** findings with `allowed` filled in from the variant's allow-list */
  findings: ConsoleFinding[]
  verdict: RunVerdict
  summary: string
  counts: OutcomeCounts
}

function programOf(id: string): string {
  const dot = id.indexOf('.')
  return dot < 0 ? id : id.slice(0, dot)
}

/** Results that stand for cases the guest never named: a whole program (`prog`) or a plan slot (`prog.#3`). */
function isStandIn(c: CaseResult): boolean {
  return !c.id.includes('.') || /\.#\d+$/.test(c.id)
}

function outcome(c: CaseResult, rule: ExpectRule | undefined): CaseOutcome {
  if (!rule) return { ...c, expected: 'unknown', verdict: 'unexpected-case' }
  const o: CaseOutcome = { ...c, expected: rule.verdict, verdict: caseVerdict(rule.verdict, c.status) }
  if (rule.reason !== undefined) o.reason = rule.reason
  return o
}

/**
 * An expectation no reported case matched. When a stand-in for its program exists (the program crashed,
 * timed out, was skipped whole) the expectation takes that status; when the guest died it is `crashed`;
 * otherwise it is `missing`. Either way it counts as failed unless a skip was expected and the program skipped.
 */
function missingOutcome(rule: ExpectRule, standIn: CaseResult | undefined, guestDied: boolean, setup: SetupStatus | null): CaseOutcome {
  const base = { id: rule.pattern, expected: rule.verdict, diagnostics: standIn?.diagnostics ?? [] }
  const withReason = (o: CaseOutcome): CaseOutcome => (rule.reason !== undefined ? { ...o, reason: rule.reason } : o)
  if (setup && !setup.ok) {
    return withReason({ ...base, status: 'error', detail: `setup failed at ${setup.step}: ${setup.message}`, verdict: 'missing' })
  }
  if (standIn && standIn.status !== 'pass') {
    const v = caseVerdict(rule.verdict, standIn.status)
    return withReason({ ...base, status: standIn.status, detail: standIn.detail, verdict: v === 'as-expected' ? v : 'unexpected' })
  }
  if (guestDied) return withReason({ ...base, status: 'crashed', detail: 'the guest died before reporting this case', verdict: 'unexpected' })
  return withReason({ ...base, status: 'error', detail: 'no reported case matches this expectation', verdict: 'missing' })
}

export function countOutcomes(outcomes: CaseOutcome[], badFindings: number): OutcomeCounts {
  const c: OutcomeCounts = { passed: 0, failed: badFindings, skipped: 0, known: 0 }
  for (const o of outcomes) {
    if (o.verdict === 'known-failure') c.known++
    else if (o.verdict !== 'as-expected') c.failed++
    else if (o.status === 'skip') c.skipped++
    else c.passed++
  }
  return c
}

/** Matches cases to expectations; stand-ins absorbed by a missing expectation of their program are not reported twice. */
export function caseOutcomes(cases: CaseResult[], rules: ExpectRule[], guestDied: boolean, setup: SetupStatus | null): CaseOutcome[] {
  const named = cases.filter(c => !isStandIn(c))
  const standIns = cases.filter(isStandIn)
  const absorbed = new Set<CaseResult>()
  const missing: CaseOutcome[] = []
  for (const rule of rules) {
    const re = globToRegExp(rule.pattern)
    if (cases.some(c => re.test(c.id) && !(isStandIn(c) && c.id.includes('.')))) continue
    const prog = programOf(rule.pattern)
    const mine = standIns.filter(s => programOf(s.id) === prog)
    for (const s of mine) absorbed.add(s)
    const worst = mine.find(s => s.status !== 'pass' && s.status !== 'skip') ?? mine[0]
    missing.push(missingOutcome(rule, worst, guestDied, setup))
  }
  const reported = [...named, ...standIns.filter(s => !absorbed.has(s))].sort((a, b) => cases.indexOf(a) - cases.indexOf(b))
  return [...reported.map(c => outcome(c, ruleFor(c.id, rules))), ...missing]
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function describe(o: CaseOutcome): string {
  if (o.verdict === 'unexpected-case') return `${o.id} (no expectation, got ${o.status})`
  if (o.verdict === 'missing') return `${o.id} (expected ${o.expected}, never reported)`
  return `${o.id} (expected ${o.expected}, got ${o.status})`
}

function listDiffs(outcomes: CaseOutcome[]): string {
  const bad = outcomes.filter(o => o.verdict === 'unexpected' || o.verdict === 'missing' || o.verdict === 'unexpected-case')
  const shown = bad.slice(0, 3).map(describe).join(', ')
  return bad.length > 3 ? `${shown}, +${bad.length - 3} more` : shown
}

/**
 * The run's verdict, in precedence order: an unallowed crash finding (`crash`, even when every case passed),
 * a watchdog (`boot-hang` before any result, `test-hang` after results began), a failed guest setup
 * (`setup-failed`), a missing exit marker (`crash`: the guest died), then `regression` when any outcome differs
 * from its expectation or an unallowed WARNING/kmemleak finding was seen (the kernel kept running, so it is a
 * wrong result rather than a crash), else `ok`.
 */
export function computeVerdict(input: VerdictInput): VerdictResult {
  const findings = applyAllowList(input.findings, input.variant.allow)
  const bad = findings.filter(f => f.allowed === undefined)
  const crashes = bad.filter(f => CRASH_KINDS.has(f.kind))
  const { end, setup } = input
  const guestDied = !end.exitMarker
  const outcomes = caseOutcomes(input.cases, input.variant.expect, guestDied, setup)
  const counts = countOutcomes(outcomes, bad.length)
  const began = input.resultsBegan
  const diffs = listDiffs(outcomes)
  const tail = counts.known > 0 ? ` (${plural(counts.known, 'known failure')})` : ''

  let verdict: RunVerdict
  let summary: string
  const first = crashes[0]
  if (first) {
    verdict = 'crash'
    const more = crashes.length > 1 ? ` (+${crashes.length - 1} more)` : ''
    summary = `kernel crashed: ${first.title} at console line ${first.line}${more}`
  } else if (end.watchdog) {
    verdict = began ? 'test-hang' : 'boot-hang'
    summary = began
      ? `tests hung: the ${end.watchdog === 'total' ? 'total-time' : 'no-output'} watchdog fired after results began`
      : `boot hung: the ${end.watchdog === 'total' ? 'total-time' : 'no-output'} watchdog fired before any result`
  } else if (setup && !setup.ok) {
    verdict = 'setup-failed'
    summary = `guest setup failed at ${setup.step}: ${setup.message}`
  } else if (guestDied) {
    verdict = 'crash'
    summary = `the guest died before its exit marker${end.qemuExit !== null ? ` (QEMU exit ${end.qemuExit})` : ''}`
  } else if (counts.failed > 0) {
    verdict = 'regression'
    const warn = bad.map(f => f.title)
    summary = [diffs && `${plural(counts.failed - bad.length, 'case')} differ from expectations: ${diffs}`, warn.length > 0 && `console: ${warn.join('; ')}`]
      .filter(Boolean)
      .join('; ')
  } else {
    verdict = 'ok'
    summary = `all ${plural(outcomes.length, 'case')} as expected${tail}`
  }
  if ((verdict === 'crash' || verdict === 'test-hang' || verdict === 'boot-hang') && diffs) summary += `; ${diffs}`
  return { outcomes, findings, verdict, summary, counts }
}

/** The last line a run prints (design.md). */
export function countsLine(counts: { passed: number; failed: number; skipped: number }): string {
  return `daxrig: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`
}
