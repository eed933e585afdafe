// Matrix-level logic: deterministic shards, the exit code of a whole run, the counts line, merging shards.
import t from 'tap'
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { countOutcomes, exitCodeOf, jobsThatFit, vmMemoryMiB, shardOf } from '../../../harness/run/batch.js'
import type { CaseOutcome, RunSummary, RunVerdict, VariantResult } from '../../../harness/types.js'
import { caseOutcome, runSummary, variantResult } from '../../helpers/fixtures.js'

const c = (id: string, status: CaseOutcome['status'], verdict: CaseOutcome['verdict']): CaseOutcome =>
  caseOutcome(id, { status, verdict, expected: verdict === 'known-failure' ? 'fail' : status === 'skip' ? 'skip' : 'pass' })
const vr = (name: string, verdict: RunVerdict, cases: CaseOutcome[] = [], extra: Partial<VariantResult> = {}): VariantResult =>
  variantResult({ variant: name, verdict, cases, ...extra })

t.test('shards: every variant in exactly one shard, independent of input order', async t => {
  const vs = ['e', 'a', 'd', 'c', 'b'].map(name => ({ name }))
  const shards = [1, 2, 3].map(i => shardOf(vs, i, 3).map(v => v.name))
  t.same(shards.flat().sort(), ['a', 'b', 'c', 'd', 'e'])
  t.same(shardOf([...vs].reverse(), 2, 3).map(v => v.name), shards[1])
  t.throws(() => shardOf(vs, 0, 2), /--shard 0\/2/)
  t.throws(() => shardOf(vs, 3, 2), /--shard 3\/2/)
})

t.test('exit code: infra > bad input > differs > untestable > ok; expect-run is honoured', async t => {
  t.equal(exitCodeOf([vr('a', 'ok')]), 0)
  t.equal(exitCodeOf([vr('a', 'ok'), vr('b', 'untestable')]), 125)
  t.equal(exitCodeOf([vr('a', 'regression'), vr('b', 'untestable')]), 1)
  t.equal(exitCodeOf([vr('a', 'crash'), vr('b', 'bad-input')]), 2)
  t.equal(exitCodeOf([vr('a', 'crash'), vr('b', 'infra')]), 128)
  t.equal(exitCodeOf([vr('a', 'crash', [], { expectedVerdict: 'crash' })]), 0, 'a canary that must crash')
  t.equal(exitCodeOf([vr('a', 'ok', [], { expectedVerdict: 'crash' })]), 1, 'and did not')
})

t.test('counts: known failures pass, expected skips skip, differences and failed variants fail', async t => {
  const r = countOutcomes([
    vr('a', 'regression', [c('p.x', 'pass', 'as-expected'), c('p.y', 'fail', 'known-failure'), c('p.z', 'skip', 'as-expected'), c('p.w', 'pass', 'unexpected')]),
    vr('b', 'boot-hang'),
    vr('c', 'crash', [c('q.x', 'pass', 'as-expected')]),
  ])
  t.same(r, { passed: 3, failed: 3, skipped: 1 })
})

t.test('jobs are limited by the memory one VM needs', async t => {
  const v = { machine: { memoryMiB: 1024, nvdimms: [{ sizeMiB: 512 }, { sizeMiB: 512 }], cxl: [] } } as never
  t.equal(jobsThatFit([v], 8, 24 * 1024), 8)
  t.equal(jobsThatFit([v], 8, 4 * 1024), 1)
  t.equal(jobsThatFit([v], 8, 100), 1, 'never below one')
  const cxl = { machine: { memoryMiB: 1024, nvdimms: [], cxl: [{ sizeMiB: 4096 }] } } as never
  t.equal(vmMemoryMiB(cxl), 1024 + 4096 + 256, 'a CXL device is mapped like a DIMM')
})

t.test('daxrig merge joins shards into one report and refuses a variant twice', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-merge-'))
  const summary = (vs: VariantResult[]): RunSummary => runSummary({ variants: vs, counts: countOutcomes(vs) })
  for (const [name, vs] of [['s1', [vr('a', 'ok', [c('p.x', 'pass', 'as-expected')])]], ['s2', [vr('b', 'regression', [c('p.x', 'fail', 'unexpected')])]], ['s3', [vr('a', 'ok')]]] as const) {
    await mkdir(join(dir, name))
    await writeFile(join(dir, name, 'results.json'), JSON.stringify(summary([...vs])))
  }
  const cli = join(process.cwd(), 'bin', 'daxrig.js')
  const r = await execa(process.execPath, [cli, 'merge', join(dir, 's1'), join(dir, 's2'), '--out', join(dir, 'm')], { reject: false, all: true })
  t.equal(r.exitCode, 1, 'a difference in one shard fails the merge')
  t.match(String(r.stdout), /daxrig: 1 passed, 1 failed, 0 skipped/)
  const m = JSON.parse(await readFile(join(dir, 'm', 'results.json'), 'utf8')) as RunSummary
  t.same(m.variants.map(v => v.variant), ['a', 'b'])
  const dup = await execa(process.execPath, [cli, 'merge', join(dir, 's1'), join(dir, 's3'), '--out', join(dir, 'm2')], { reject: false, all: true })
  t.equal(dup.exitCode, 2)
  t.match(String(dup.all), /variant a appears in more than one shard/)
})
