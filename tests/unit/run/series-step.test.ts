// Bisect's judgement of one run reads the run's typed failure, never its summary's wording.
import t from 'tap'
import { judge, judgeExpected } from '../../../harness/run/series-step.js'
import type { VariantResult } from '../../../harness/types.js'

const run = (o: Partial<VariantResult>): VariantResult => ({
  variant: 'v',
  file: 'v.yaml',
  verdict: 'ok',
  summary: '',
  cases: [],
  findings: [],
  timings: {},
  artifacts: {},
  ...o,
})

t.test('an untestable run is skipped at the stage its failure names', async t => {
  const any = () => true
  const at = (stage: NonNullable<VariantResult['failure']>['stage']) =>
    judge(run({ verdict: 'untestable', summary: 'wording that says boot: but means nothing', failure: { kind: 'untestable', stage } }), any)
  t.match(at('apply'), { outcome: 'skip', stage: 'apply' })
  t.match(at('config'), { outcome: 'skip', stage: 'build' })
  t.match(at('build'), { outcome: 'skip', stage: 'build' })
  t.match(at('boot'), { outcome: 'skip', stage: 'boot' })
  t.match(judge(run({ verdict: 'untestable', summary: 'apply: old wording' }), any), { stage: 'build' }, 'no failure recorded: a build stage')
})

t.test('against expectations: the expected verdict is good, another is bad, infra is never a verdict', async t => {
  t.match(judgeExpected(run({ verdict: 'ok' })), { outcome: 'good' })
  t.match(judgeExpected(run({ verdict: 'regression' })), { outcome: 'bad' })
  t.match(judgeExpected(run({ verdict: 'regression', expectedVerdict: 'regression' })), { outcome: 'good' })
  t.match(judgeExpected(run({ verdict: 'infra', failure: { kind: 'infra', stage: 'boot' } })), { outcome: 'infra' })
})
