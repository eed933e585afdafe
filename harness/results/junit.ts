// JUnit XML for CI front-ends: one testsuite per variant, one testcase per case, plus the run and console checks.
import jrb from 'junit-report-builder'
import type { Builder, TestSuite } from 'junit-report-builder'
import type { CaseOutcome, RunSummary, VariantResult } from '../types.js'
import { stripTerminal } from './text.js'

function addCase(suite: TestSuite, v: VariantResult, o: CaseOutcome): void {
  const dot = o.id.indexOf('.')
  const program = dot < 0 ? o.id : o.id.slice(0, dot)
  const name = dot < 0 ? o.id : o.id.slice(dot + 1)
  const tc = suite.testCase().className(stripTerminal(`daxrig.${v.variant}.${program}`)).name(stripTerminal(name))
  tc.property('daxrig.status', o.status).property('daxrig.expected', o.expected).property('daxrig.verdict', o.verdict)
  const why = [o.reason && `reason: ${o.reason}`, o.detail].filter(Boolean).join('; ')
  const diag = o.diagnostics.join('\n')
  if (o.verdict === 'unexpected' || o.verdict === 'missing' || o.verdict === 'unexpected-case') {
    const message = o.verdict === 'unexpected-case' ? `no expectation for ${o.id} (got ${o.status})` : `expected ${o.expected}, got ${o.verdict === 'missing' ? 'no result' : o.status}`
    tc.failure(stripTerminal(why ? `${message}: ${why}` : message), o.verdict)
    if (diag) tc.stacktrace(stripTerminal(diag))
  } else if (o.status === 'skip') {
    tc.skipped()
    if (why) tc.standardOutput(stripTerminal(why))
  } else if (o.verdict === 'known-failure') {
    // A known failure is not a CI failure; it stays visible as a property and in system-out.
    tc.standardOutput(stripTerminal(`known failure${why ? `: ${why}` : ''}${diag ? `\n${diag}` : ''}`))
  }
}

function addRunChecks(suite: TestSuite, v: VariantResult): void {
  const run = suite.testCase().className(stripTerminal(`daxrig.${v.variant}`)).name('run')
  run.property('daxrig.verdict', v.verdict)
  if (v.verdict !== 'ok' && v.verdict !== 'regression') run.error(stripTerminal(v.summary), v.verdict)
  else run.standardOutput(stripTerminal(v.summary))
  const bad = v.findings.filter(f => f.allowed === undefined)
  const con = suite.testCase().className(stripTerminal(`daxrig.${v.variant}`)).name('console')
  if (bad.length > 0) {
    con.failure(stripTerminal(bad.map(f => f.title).join('; ')), bad[0]?.kind ?? 'console')
    con.stacktrace(stripTerminal(bad.map(f => f.excerpt.join('\n')).join('\n\n')))
  }
  const allowed = v.findings.filter(f => f.allowed !== undefined)
  if (allowed.length > 0) con.standardOutput(stripTerminal(allowed.map(f => `allowed: ${f.title} (${f.allowed})`).join('\n')))
}

// The package is CommonJS whose module.exports is a builder instance; its typings describe an ES default export.
const root = jrb as unknown as Builder

/** The whole run as a JUnit XML string. */
export function junitXml(summary: RunSummary): string {
  const b = root.newBuilder().name('daxrig')
  for (const v of summary.variants) {
    const suite = b.testSuite().name(stripTerminal(v.variant)).timestamp(summary.started)
    const total = Object.values(v.timings).reduce((a, t) => a + t, 0)
    if (total > 0) suite.time(total)
    suite.property('daxrig.file', v.file)
    if (v.kernel) suite.property('daxrig.kernel', `${v.kernel.release} (${v.kernel.description})`)
    addRunChecks(suite, v)
    for (const o of v.cases) addCase(suite, v, o)
  }
  return b.build()
}
