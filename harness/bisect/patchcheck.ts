// Patchcheck (ktest PATCHCHECK, at runtime): build, boot and test every prefix 0..N of a series in order, and tabulate what changed.
import { InputError } from '../errors.js'
import type { EventSink } from '../events.js'
import { decide, makePolicy, type TryPolicy } from './policy.js'
import { formatTimings } from './format.js'
import { toAttempt } from './bisect.js'
import { alignColumns } from '../ui/table.js'
import type { AttemptRecord, StepResult, StepRunner, Verdict } from './types.js'

export interface PatchcheckOptions {
  tries: number
  maxRuns?: number
  events?: EventSink
  log?: (line: string) => void
  label?: string
}

export interface StatusChange {
  id: string
  /** `-` when the case did not appear */
  from: string
  to: string
}

export interface PatchcheckRow {
  /** prefix: 0 is the base (the reference row), k is "patches 1..k applied" */
  patch: number
  subject: string
  /** undefined = not reached (an earlier stage failed) or not known */
  applies?: boolean
  builds?: boolean
  boots?: boolean
  verdict: Verdict
  reason: string
  imageHash?: string
  /** the kernel image equals the previous prefix's: the patch changed nothing that was built */
  sameImageAsPrevious: boolean
  /** case statuses that differ from the nearest earlier prefix whose tests ran */
  changed: StatusChange[]
  newWarnings?: string[]
  /** detail of the last run: the error for untestable prefixes */
  detail: string
  attempts: AttemptRecord[]
}

export interface PatchcheckResult {
  status: 'complete' | 'infra'
  rows: PatchcheckRow[]
  /** infra: what failed */
  detail: string
  runs: number
}

/** Which stages passed, read from the stage an untestable run stopped at. */
export function stagesPassed(verdict: Verdict, stage: string | undefined): Pick<PatchcheckRow, 'applies' | 'builds' | 'boots'> {
  if (verdict === 'good' || verdict === 'bad' || verdict === 'weak') return { applies: true, builds: true, boots: true }
  switch (stage) {
    case 'apply':
      return { applies: false }
    case 'build':
      return { applies: true, builds: false }
    case 'boot':
      return { applies: true, builds: true, boots: false }
    case 'test':
      return { applies: true, builds: true, boots: true }
    default:
      return {}
  }
}

/** One status per case over several runs: the status, or `pass/fail` style when runs disagreed. */
export function mergeStatuses(runs: readonly (Record<string, string> | undefined)[]): Record<string, string> | undefined {
  const seen = new Map<string, string[]>()
  let any = false
  for (const r of runs) {
    if (!r) continue
    any = true
    for (const [id, st] of Object.entries(r)) {
      const l = seen.get(id) ?? []
      if (!l.includes(st)) l.push(st)
      seen.set(id, l)
    }
  }
  if (!any) return undefined
  return Object.fromEntries([...seen].map(([id, l]) => [id, l.join('/')]))
}

export function statusChanges(prev: Record<string, string> | undefined, cur: Record<string, string> | undefined): StatusChange[] {
  if (!prev || !cur) return []
  const ids = [...new Set([...Object.keys(prev), ...Object.keys(cur)])].sort()
  return ids
    .map(id => ({ id, from: prev[id] ?? '-', to: cur[id] ?? '-' }))
    .filter(c => c.from !== c.to)
}

interface PrefixRun {
  verdict: Verdict
  reason: string
  results: StepResult[]
}

async function runPrefix(runner: StepRunner, prefix: number, policy: TryPolicy, counter: { runs: number }): Promise<PrefixRun> {
  const results: StepResult[] = []
  for (;;) {
    const d = decide(
      results.map(r => r.outcome),
      policy,
    )
    if (d.done) return { verdict: d.verdict, reason: d.reason, results }
    counter.runs++
    results.push(await runner.run(prefix, results.length))
  }
}


/** Runs prefixes 0..N in order; stops at the first infra failure and returns the rows so far. */
export async function patchcheck(runner: StepRunner, opts: PatchcheckOptions): Promise<PatchcheckResult> {
  const n = runner.seriesInfo.length
  if (!Number.isInteger(n) || n < 1) throw new InputError('the series has no patches: nothing to check')
  const policy = makePolicy(opts.tries, opts.maxRuns)
  const counter = { runs: 0 }
  const rows: PatchcheckRow[] = []
  let prevHash: string | undefined
  let prevStatuses: Record<string, string> | undefined
  for (let k = 0; k <= n; k++) {
    const pr = await runPrefix(runner, k, policy, counter)
    const last = pr.results[pr.results.length - 1]
    const imageHash = pr.results.find(r => r.imageHash !== undefined)?.imageHash
    const statuses = mergeStatuses(pr.results.map(r => r.caseStatuses))
    const warnings = [...new Set(pr.results.flatMap(r => r.newWarnings ?? []))]
    const row: PatchcheckRow = {
      patch: k,
      subject: k === 0 ? '(base)' : (runner.seriesInfo.subjects[k - 1] ?? '(no subject)'),
      ...stagesPassed(pr.verdict, last?.stage),
      verdict: pr.verdict,
      reason: pr.reason,
      ...(imageHash !== undefined ? { imageHash } : {}),
      sameImageAsPrevious: k > 0 && imageHash !== undefined && imageHash === prevHash,
      changed: k > 0 ? statusChanges(prevStatuses, statuses) : [],
      ...(warnings.length ? { newWarnings: warnings } : {}),
      detail: last?.detail ?? '',
      attempts: pr.results.map(toAttempt),
    }
    rows.push(row)
    const line = formatPatchcheckLine(row, n)
    opts.events?.({ type: 'progress', variant: opts.label ?? 'patchcheck', phase: 'patchcheck', message: line })
    opts.log?.(line)
    if (pr.verdict === 'infra') {
      return { status: 'infra', rows, detail: `the rig failed at prefix ${k}/${n}: ${row.detail}`, runs: counter.runs }
    }
    // An untestable prefix has no image or statuses; compare the next one with the last prefix that had them.
    if (imageHash !== undefined) prevHash = imageHash
    if (statuses) prevStatuses = statuses
  }
  return { status: 'complete', rows, detail: '', runs: counter.runs }
}

export function formatPatchcheckLine(row: PatchcheckRow, length: number): string {
  return `patch ${row.patch}/${length} → ${row.verdict}${row.verdict === 'skip' ? `: ${row.detail}` : ''} (${formatTimings(row.attempts)})`
}

const SUBJECT_MAX = 50

function cell(v: boolean | undefined): string {
  return v === undefined ? '-' : v ? 'ok' : 'FAIL'
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}

const CHANGES_IN_CELL = 4

const changeList = (changed: PatchcheckRow['changed']): string => changed.map(c => `${c.id} ${c.from}→${c.to}`).join(', ')

/** A row's changes in a few words: every one when they are few, else a count per transition. */
function changesCell(changed: PatchcheckRow['changed']): string {
  if (changed.length <= CHANGES_IN_CELL) return changeList(changed)
  const byMove = new Map<string, number>()
  for (const c of changed) byMove.set(`${c.from}→${c.to}`, (byMove.get(`${c.from}→${c.to}`) ?? 0) + 1)
  return `${changed.length} tests: ${[...byMove].map(([m, n]) => `${n} ${m}`).join(', ')} (listed below)`
}

/**
 * Aligned text table, one row per prefix. The change list is the last column (not padded), and a row with many
 * changes shows counts there and its full list under the table, so one prefix that turns on 60 cases does not
 * push every other row's columns off the screen.
 */
export function formatPatchcheckTable(rows: readonly PatchcheckRow[]): string {
  const header = ['patch', 'subject', 'apply', 'build', 'boot', 'verdict', 'image', 'new warnings', 'changed tests']
  const body = rows.map(r => [
    String(r.patch),
    clip(r.subject, SUBJECT_MAX),
    cell(r.applies),
    cell(r.builds),
    cell(r.boots),
    r.verdict,
    r.sameImageAsPrevious ? 'same' : '',
    (r.newWarnings ?? []).join('; '),
    changesCell(r.changed),
  ])
  const lists = rows.filter(r => r.changed.length > CHANGES_IN_CELL).map(r => `patch ${r.patch} changed: ${changeList(r.changed)}`)
  return [alignColumns([header, ...body]), ...(lists.length ? ['', ...lists] : [])].join('\n')
}
