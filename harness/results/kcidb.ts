// KernelCI KCIDB (schema v4) export: one checkout per run, one build per variant, one test per case.
import type { CaseOutcome, CaseStatus, RunSummary, VariantResult } from '../types.js'

export type KcidbStatus = 'PASS' | 'FAIL' | 'ERROR' | 'MISS' | 'SKIP' | 'DONE'

export interface KcidbDocument {
  version: { major: 4; minor: number }
  checkouts: Record<string, unknown>[]
  builds: Record<string, unknown>[]
  tests: Record<string, unknown>[]
}

const ORIGIN = 'daxrig'

/** KCIDB ids are `<origin>:<origin-local id>`; the run's start time makes them unique per run. */
export function runId(summary: RunSummary): string {
  return `${ORIGIN}:${summary.started.replace(/[^0-9TZ]/g, '')}`
}

/** KCIDB has no crash or timeout status: a test that could not complete is an ERROR. */
export function kcidbStatus(o: CaseOutcome): KcidbStatus {
  if (o.verdict === 'missing') return 'MISS'
  const map: Record<CaseStatus, KcidbStatus> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', crashed: 'ERROR', timeout: 'ERROR', error: 'ERROR' }
  return map[o.status]
}

function build(summary: RunSummary, v: VariantResult): Record<string, unknown> {
  const b: Record<string, unknown> = {
    id: `${runId(summary)}:${v.variant}`,
    checkout_id: runId(summary),
    origin: ORIGIN,
    architecture: 'x86_64',
    start_time: summary.started,
    valid: v.verdict !== 'untestable' && v.verdict !== 'infra' && v.verdict !== 'bad-input',
    comment: v.variant,
    misc: { variant_file: v.file, verdict: v.verdict, summary: v.summary },
  }
  if (v.kernel) {
    b.config_name = v.kernel.description
    b.misc = { ...(b.misc as object), kernel_release: v.kernel.release, kernel_id: v.kernel.id, image_hash: v.kernel.imageHash }
  }
  if (v.artifacts['kernel.config']) b.config_url = v.artifacts['kernel.config']
  return b
}

function caseTest(summary: RunSummary, v: VariantResult, o: CaseOutcome): Record<string, unknown> {
  const t: Record<string, unknown> = {
    id: `${runId(summary)}:${v.variant}:${o.id}`,
    build_id: `${runId(summary)}:${v.variant}`,
    origin: ORIGIN,
    path: `daxrig.${o.id.replace(/[^\w.]/g, '_')}`,
    status: kcidbStatus(o),
    // Known failures are recorded but waived: the variant says this kernel fails the case.
    waived: o.verdict === 'known-failure',
    start_time: summary.started,
    environment: { comment: `QEMU ${summary.host.qemu} (${summary.host.accel})` },
    misc: { expected: o.expected, verdict: o.verdict, detail: o.detail, ...(o.reason !== undefined ? { reason: o.reason } : {}) },
  }
  if (v.artifacts['results.ktap']) t.log_url = v.artifacts['results.ktap']
  return t
}

/** The run's boot/console check as its own test, so crashes show in KCIDB even when every case passed. */
function bootTest(summary: RunSummary, v: VariantResult): Record<string, unknown> {
  const bad = v.findings.filter(f => f.allowed === undefined)
  const status: KcidbStatus = v.verdict === 'ok' || v.verdict === 'regression' ? (bad.length > 0 ? 'FAIL' : 'PASS') : 'FAIL'
  const t: Record<string, unknown> = {
    id: `${runId(summary)}:${v.variant}:boot`,
    build_id: `${runId(summary)}:${v.variant}`,
    origin: ORIGIN,
    path: 'boot',
    status,
    waived: false,
    start_time: summary.started,
    comment: v.summary,
    misc: { verdict: v.verdict, findings: v.findings.map(f => ({ kind: f.kind, title: f.title, fingerprint: f.fingerprint, line: f.line, allowed: f.allowed ?? null })) },
  }
  if (v.artifacts['console.log']) t.log_url = v.artifacts['console.log']
  return t
}

export function kcidbDocument(summary: RunSummary): KcidbDocument {
  return {
    version: { major: 4, minor: 3 },
    checkouts: [{ id: runId(summary), origin: ORIGIN, start_time: summary.started, valid: true, comment: `daxrig run on ${summary.host.node}` }],
    builds: summary.variants.map(v => build(summary, v)),
    tests: summary.variants.flatMap(v => [bootTest(summary, v), ...v.cases.map(o => caseTest(summary, v, o))]),
  }
}
