// KernelCI KCIDB (I/O schema v4.3) export: one checkout per run, one build per variant, one test per case.
// tests/fixtures/kcidb/v4.3.schema.json is the schema it must hold to. `*_url` fields must be absolute URIs:
// they are filled only when DAXRIG_ARTIFACTS_URL says where the run's out dir is published (a CI job's
// artifacts); the relative paths are always in `misc`.
import type { CaseOutcome, CaseStatus, RunSummary, VariantResult } from '../types.js'

export type KcidbStatus = 'PASS' | 'FAIL' | 'ERROR' | 'MISS' | 'SKIP' | 'DONE'

export interface KcidbDocument {
  version: { major: 4; minor: number }
  checkouts: Record<string, unknown>[]
  builds: Record<string, unknown>[]
  tests: Record<string, unknown>[]
}

const ORIGIN = 'daxrig'

export interface KcidbOptions {
  /** absolute URL of the run's out dir once published, e.g. a CI job's artifact browser; no trailing slash needed */
  artifactsUrl?: string | undefined
}

/** A file of the out dir as an absolute URL, or nothing when the out dir has no published location. */
function urlOf(rel: string | undefined, o: KcidbOptions): string | undefined {
  if (!rel || !o.artifactsUrl || !/^[a-z][a-z0-9+.-]*:\/\//i.test(o.artifactsUrl)) return undefined
  return `${o.artifactsUrl.replace(/\/+$/, '')}/${rel.split('/').map(encodeURIComponent).join('/')}`
}

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

function build(summary: RunSummary, v: VariantResult, o: KcidbOptions): Record<string, unknown> {
  const b: Record<string, unknown> = {
    id: `${runId(summary)}:${v.variant}`,
    checkout_id: runId(summary),
    origin: ORIGIN,
    architecture: 'x86_64',
    start_time: summary.started,
    valid: v.verdict !== 'untestable' && v.verdict !== 'infra' && v.verdict !== 'bad-input',
    comment: v.variant,
    misc: { variant_file: v.file, verdict: v.verdict, summary: v.summary, ...(v.artifacts['kernel.config'] ? { config_path: v.artifacts['kernel.config'] } : {}) },
  }
  if (v.kernel) {
    b.config_name = v.kernel.description
    b.misc = { ...(b.misc as object), kernel_release: v.kernel.release, kernel_id: v.kernel.id, image_hash: v.kernel.imageHash }
  }
  const config = urlOf(v.artifacts['kernel.config'], o)
  if (config) b.config_url = config
  if (v.timings.kernel !== undefined) b.duration = v.timings.kernel
  return b
}

function caseTest(summary: RunSummary, v: VariantResult, o: CaseOutcome, opts: KcidbOptions): Record<string, unknown> {
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
    misc: { expected: o.expected, verdict: o.verdict, detail: o.detail, ...(o.reason !== undefined ? { reason: o.reason } : {}), ...(v.artifacts['results.ktap'] ? { log_path: v.artifacts['results.ktap'] } : {}) },
  }
  const log = urlOf(v.artifacts['results.ktap'], opts)
  if (log) t.log_url = log
  return t
}

/** The run's boot/console check as its own test, so crashes show in KCIDB even when every case passed. */
function bootTest(summary: RunSummary, v: VariantResult, o: KcidbOptions): Record<string, unknown> {
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
    // KCIDB allows no nulls: an allowed finding names its reason, any other has no `allowed` key
    misc: {
      verdict: v.verdict,
      findings: v.findings.map(f => ({ kind: f.kind, title: f.title, fingerprint: f.fingerprint, line: f.line, ...(f.allowed !== undefined ? { allowed: f.allowed } : {}) })),
      ...(v.artifacts['console.log'] ? { log_path: v.artifacts['console.log'] } : {}),
    },
  }
  if (v.timings['boot+test'] !== undefined) t.duration = v.timings['boot+test']
  const log = urlOf(v.artifacts['console.log'], o)
  if (log) t.log_url = log
  return t
}

export function kcidbDocument(summary: RunSummary, o: KcidbOptions = { artifactsUrl: process.env.DAXRIG_ARTIFACTS_URL }): KcidbDocument {
  return {
    version: { major: 4, minor: 3 },
    checkouts: [{ id: runId(summary), origin: ORIGIN, start_time: summary.started, valid: true, comment: `daxrig run on ${summary.host.node}` }],
    builds: summary.variants.map(v => build(summary, v, o)),
    tests: summary.variants.flatMap(v => [bootTest(summary, v, o), ...v.cases.map(c => caseTest(summary, v, c, o))]),
  }
}
