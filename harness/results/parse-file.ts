// `daxrig parse FILE`: re-derives cases, console findings and (with a variant) verdicts from a saved log or run dir.
import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { CaseOutcome, CaseResult, ConsoleFinding, RunVerdict, Variant } from '../types.js'
import { applyAllowList, classifyConsole } from './classify.js'
import { parseResultsChannel, type ResultsChannel } from './channel.js'
import { stripTerminal } from './text.js'
import { alignColumns } from '../ui/table.js'
import { computeVerdict } from './verdict.js'

export interface ParsedSaved {
  cases: CaseResult[]
  findings: ConsoleFinding[]
  channel: ResultsChannel
  /** present when a variant was given */
  outcomes?: CaseOutcome[]
  verdict?: RunVerdict
  summary: string
  table: string
  counts: { passed: number; failed: number; skipped: number }
  /** files actually read */
  sources: { results?: string; console?: string }
}

/**
 * Which files to read. A run dir gives both; a `console.log` or `results.ktap` also picks up its sibling of the
 * other kind. Any other file is read as both (a console log that carries KTAP itself).
 */
export function locateSources(path: string): { results?: string; console?: string } {
  const dir = statSync(path).isDirectory() ? path : dirname(path)
  const sibling = (name: string): string | undefined => (existsSync(join(dir, name)) ? join(dir, name) : undefined)
  if (statSync(path).isDirectory()) return dropUndefined({ results: sibling('results.ktap'), console: sibling('console.log') })
  const name = basename(path)
  if (name === 'console.log') return dropUndefined({ results: sibling('results.ktap') ?? path, console: path })
  if (name === 'results.ktap') return dropUndefined({ results: path, console: sibling('console.log') })
  return { results: path, console: path }
}

function dropUndefined(o: { results: string | undefined; console: string | undefined }): { results?: string; console?: string } {
  const r: { results?: string; console?: string } = {}
  if (o.results !== undefined) r.results = o.results
  if (o.console !== undefined) r.console = o.console
  return r
}

/** Column-aligned plain-text table; cells are stripped of terminal escapes first. */
export function formatTable(header: string[], rows: string[][]): string {
  return alignColumns([header, ...rows].map(r => r.map(c => stripTerminal(c).replace(/\n/g, ' '))))
}

function findingLines(findings: ConsoleFinding[]): string[] {
  return findings.map(f => `console line ${f.line}: ${f.kind}: ${f.title}${f.fingerprint ? ` [${f.fingerprint}]` : ''}${f.allowed !== undefined ? ` (allowed: ${f.allowed})` : ''}`)
}

/** Without a variant nothing is expected: failures, crashes and console findings all count as failed. */
function plainCounts(cases: CaseResult[], findings: ConsoleFinding[]): ParsedSaved['counts'] {
  const passed = cases.filter(c => c.status === 'pass').length
  const skipped = cases.filter(c => c.status === 'skip').length
  return { passed, skipped, failed: cases.length - passed - skipped + findings.filter(f => f.allowed === undefined).length }
}

export async function parseSaved(path: string, variant?: Variant): Promise<ParsedSaved> {
  const sources = locateSources(path)
  const resultsText = sources.results ? await readFile(sources.results, 'utf8') : ''
  const consoleText = sources.console ? await readFile(sources.console, 'utf8') : ''
  const opts = variant ? { programs: variant.tests.map(t => t.name) } : {}
  const channel = parseResultsChannel(resultsText, opts)
  const raw = classifyConsole(consoleText)
  const marker = channel.exited ? `exit marker: daxrig-exit ${channel.exitCode}` : 'no exit marker (the guest died or the log is cut short)'
  if (!variant) {
    const findings = applyAllowList(raw, [])
    const table = formatTable(['case', 'status', 'detail'], channel.cases.map(c => [c.id, c.status, c.detail]))
    const counts = plainCounts(channel.cases, findings)
    const summary = `${channel.cases.length} cases; ${marker}`
    return { cases: channel.cases, findings, channel, summary, counts, sources, table: [table, ...findingLines(findings), summary].join('\n') }
  }
  const r = computeVerdict({
    variant,
    cases: channel.cases,
    findings: raw,
    setup: channel.setup,
    // A saved log has no watchdog record and no QEMU exit code; the exit marker is the evidence left.
    end: { exitMarker: channel.exited, qemuExit: null, watchdog: null },
    resultsBegan: channel.began,
  })
  const table = formatTable(
    ['case', 'status', 'expected', 'verdict', 'detail'],
    r.outcomes.map(o => [o.id, o.status, o.expected, o.verdict, o.detail || o.reason || '']),
  )
  const summary = `${variant.name}: ${r.verdict}: ${r.summary}`
  return {
    cases: channel.cases,
    findings: r.findings,
    channel,
    outcomes: r.outcomes,
    verdict: r.verdict,
    summary,
    // a known failure matches its expectation: counted as passed, as `daxrig run` does
    counts: { passed: r.counts.passed + r.counts.known, failed: r.counts.failed, skipped: r.counts.skipped },
    sources,
    table: [table, ...findingLines(r.findings), summary].join('\n'),
  }
}
