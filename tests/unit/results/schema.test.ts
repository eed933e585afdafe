// results.json's zod schema: the checked-in results.schema.json is what it generates (CI fails when stale),
// and the verdict lists derived from it are the ones the rig uses.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  DeclarableRunVerdictSchema,
  FAILING_RUN_VERDICTS,
  RunSummarySchema,
  RunVerdictSchema,
  resultsJsonSchema,
} from '../../../harness/results/schema.js'

const file = join(dirname(fileURLToPath(import.meta.url)), '../../../harness/results/results.schema.json')

t.test('results.schema.json is generated from the zod schema and up to date', async t => {
  const current = readFileSync(file, 'utf8')
  t.equal(current, `${JSON.stringify(resultsJsonSchema(), null, 2)}\n`, 'stale: run `npm run schema` and commit harness/results/results.schema.json')
})

t.test('the JSON Schema keeps what results.json consumers rely on', async t => {
  const s = resultsJsonSchema() as { $id: string; additionalProperties: boolean; $defs: Record<string, { additionalProperties?: boolean; properties: Record<string, { enum?: string[] }> }> }
  t.equal(s.$id, 'https://daxrig.invalid/results.schema.json')
  t.equal(s.additionalProperties, false)
  t.same(Object.keys(s.$defs).sort(), ['caseOutcome', 'counts', 'finding', 'variantResult'])
  for (const [k, d] of Object.entries(s.$defs)) t.equal(d.additionalProperties, false, `${k} is closed`)
  t.same(s.$defs.variantResult!.properties.verdict!.enum, RunVerdictSchema.options)
  t.notMatch(JSON.stringify(s), /9007199254740991/, 'no artificial integer bound')
})

t.test('verdict lists come from the one enumeration', async t => {
  t.same(RunVerdictSchema.options, ['ok', 'regression', 'crash', 'boot-hang', 'test-hang', 'setup-failed', 'untestable', 'infra', 'bad-input', 'interrupted'])
  t.same(DeclarableRunVerdictSchema.options, ['ok', 'regression', 'crash', 'boot-hang', 'test-hang', 'setup-failed', 'untestable'])
  t.same([...FAILING_RUN_VERDICTS], ['regression', 'crash', 'boot-hang', 'test-hang', 'setup-failed'])
})

t.test('the zod schema accepts what the JSON Schema accepts, and rejects unknown fields', async t => {
  const ok = {
    schema: 'daxrig-results/1',
    started: 'a',
    finished: 'b',
    host: { accel: 'tcg', qemu: '7.2', node: 'v20' },
    counts: { passed: 1, failed: 0, skipped: 0 },
    variants: [{ variant: 'v', file: 'f', verdict: 'ok', summary: '', cases: [{ id: 'p.c', status: 'pass', detail: '', diagnostics: [], expected: 'pass', verdict: 'as-expected' }], findings: [], timings: { total: 1 }, artifacts: {} }],
  }
  t.ok(RunSummarySchema.safeParse(ok).success)
  t.notOk(RunSummarySchema.safeParse({ ...ok, extra: 1 }).success)
  t.notOk(RunSummarySchema.safeParse({ ...ok, variants: [{ ...ok.variants[0], verdict: 'fine' }] }).success)
})
