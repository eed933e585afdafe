// kcidb.json against the KCIDB I/O schema v4.3 (tests/fixtures/kcidb, see its README for version and origin).
import t from 'tap'
import { kcidbDocument } from '../../../harness/results/kcidb.js'
import type { RunSummary, VariantResult } from '../../../harness/types.js'
import { kcidbValidator } from '../../helpers/kcidb.js'
import { caseOutcome, runSummary, variantResult } from '../../helpers/fixtures.js'

const vr = (name: string, extra: Partial<VariantResult> = {}, drop: (keyof VariantResult)[] = []): VariantResult => {
  const v = variantResult({
  variant: name,
  file: `/x/tests/variants/${name}.yaml`,
  summary: 'all as expected',
  kernel: { id: 'prebuilt:bookworm:linux-image-6.1.0-56-amd64-unsigned:6.1.192-2', release: '6.1.0-56-amd64', description: 'Debian bookworm linux-image-6.1.0-56-amd64-unsigned', imageHash: 'ab' },
  cases: [
    caseOutcome('map_sync.ext4_msv_sync'),
    caseOutcome('map_sync.devdax_x', { status: 'skip', detail: 'no devdax', expected: 'skip' }),
    caseOutcome('vfio_pin.io uring/fixed', { status: 'fail', detail: 'EFAULT', expected: 'fail', reason: 'known on 6.1', verdict: 'known-failure' }),
    caseOutcome('mm_users.gone', { status: 'error', verdict: 'missing' }),
  ],
  findings: [
    { kind: 'warning', title: 'WARNING: at mm/gup.c', fingerprint: 'a|b', excerpt: [], line: 12 },
    { kind: 'lockdep', title: 'lockdep', fingerprint: 'c', excerpt: [], line: 40, allowed: 'known splat' },
  ],
  timings: { kernel: 0.1, image: 0.5, 'boot+test': 7, total: 7.6 },
  artifacts: { 'console.log': `${name}/console.log`, 'results.ktap': `${name}/results.ktap`, 'kernel.config': `${name}/kernel.config` },
  ...extra,
  })
  for (const k of drop) delete v[k]
  return v
}

const summary = (): RunSummary => runSummary({
  started: '2026-12-01T23:00:00.000Z',
  finished: '2026-12-01T23:01:00.000Z',
  host: { accel: 'tcg', qemu: '7.2.22', node: 'v20.20.2' },
  variants: [vr('baseline-6.1'), vr('broken', { verdict: 'untestable', cases: [], findings: [], timings: { total: 1 } }, ['kernel'])],
  counts: { passed: 1, failed: 1, skipped: 1 },
})

t.test('kcidb.json validates against the KCIDB I/O schema v4.3', async t => {
  const check = kcidbValidator()
  const doc = kcidbDocument(summary(), {})
  t.ok(check(doc), 'valid without a published location', { errors: check.errors })
  t.notOk(JSON.stringify(doc).includes('null'), 'no nulls anywhere (KCIDB allows none)')
  t.notOk(doc.tests.some(x => 'log_url' in x), 'no log_url without an absolute base')
  const published = kcidbDocument(summary(), { artifactsUrl: 'https://ci.example.org/jobs/7/artifacts/raw/out/merged' })
  t.ok(check(published), 'valid with artifact URLs', { errors: check.errors })
  t.equal(published.tests.find(x => x.path === 'boot')?.log_url, 'https://ci.example.org/jobs/7/artifacts/raw/out/merged/baseline-6.1/console.log')
  t.equal(published.builds[0]?.config_url, 'https://ci.example.org/jobs/7/artifacts/raw/out/merged/baseline-6.1/kernel.config')
  // a relative path is not a URI: the validator must catch what kcidb.ts used to write
  const old = structuredClone(doc)
  old.tests[0]!.log_url = 'baseline-6.1/console.log'
  t.notOk(check(old), 'the schema refuses a relative log_url (so this test can fail)')
  const extra = structuredClone(doc)
  extra.builds[0]!.variant = 'x'
  t.notOk(check(extra), 'and an unknown property')
})
