// Balanced shards (harness/run/shards.ts): deterministic, balanced, timings override the shape estimate.
import t from 'tap'
import { COST, estimateSeconds, splitShards, type CostInput } from '../../../harness/run/shards.js'
import { shardOf } from '../../../harness/run/batch.js'
import { timingsFrom } from '../../../harness/run/timings.js'
import { runSummary, variantResult } from '../../helpers/fixtures.js'

const pre = (name: string, programs = 3, dimms = 2): CostInput => ({ name, kind: 'prebuilt', programs, dimms, vfio: false, kernelCached: true })
const src = (name: string, kernelCached: boolean): CostInput => ({ name, kind: 'source', programs: 2, dimms: 2, vfio: true, kernelCached })
const names = <T extends { name: string }>(s: { items: T[] }[]) => s.map(x => x.items.map(i => i.name))

t.test('estimates: a source build is minutes unless cached, a prebuilt run seconds; more programs and DIMMs cost more', async t => {
  t.ok(estimateSeconds(src('s', false)) >= COST.build, 'an uncached source build')
  t.ok(estimateSeconds(src('s', true)) < 30, 'a cached one')
  t.ok(estimateSeconds(pre('p')) < 15)
  t.ok(estimateSeconds(pre('p', 6)) > estimateSeconds(pre('p', 3)))
  t.ok(estimateSeconds(pre('p', 3, 4)) > estimateSeconds(pre('p', 3, 2)))
  t.ok(estimateSeconds({ ...pre('p'), kernelCached: false }) > estimateSeconds(pre('p')), 'a download costs')
})

t.test('split: every variant in exactly one shard; the same on every call and for any input order', async t => {
  const vs = [pre('e', 1), pre('a', 5), pre('d', 2), src('c', false), pre('b', 3), pre('f', 3), pre('g', 3)]
  const cost = (v: CostInput) => estimateSeconds(v)
  const s = splitShards(vs, 3, cost)
  t.same(s.flatMap(x => x.items.map(i => i.name)).sort(), ['a', 'b', 'c', 'd', 'e', 'f', 'g'])
  t.same(names(splitShards([...vs].reverse(), 3, cost)), names(s), 'input order does not matter')
  t.same(names(splitShards(vs.map(v => ({ ...v })), 3, cost)), names(s), 'nor object identity')
  t.same(s[0]!.items.map(i => i.name), ['c'], 'the source build alone in the first shard')
  t.same(s.map(x => x.items.map(i => i.name)), [...s.map(x => [...x.items.map(i => i.name)].sort())], 'names sorted within a shard')
  t.same(splitShards(vs, 10, cost).filter(x => x.items.length === 0).length, 3, 'more shards than variants: empty shards, no error')
  t.throws(() => splitShards(vs, 0, cost), /--shards 0/)
})

t.test('split: longest first to the least-loaded shard balances a seeds-like matrix within 30 %', async t => {
  // the seed matrix's shape: 11 prebuilt variants of 7-15 s and one download
  const costs: Record<string, number> = { a: 7.5, b: 7.5, c: 7.5, d: 9, e: 9, f: 10, g: 10, h: 11.5, i: 11.5, j: 14.5, k: 41.5 }
  const s = splitShards(Object.keys(costs).map(name => ({ name })), 3, x => costs[x.name]!)
  const loads = s.map(x => x.estimateSec)
  t.ok(Math.max(...loads) <= 1.3 * Math.min(...loads), `loads ${loads.join(' / ')}`)
  // ties are broken by name: equal costs go a, b, c to shards 1, 2, 3
  const eq = splitShards(['c', 'a', 'b'].map(name => ({ name })), 3, () => 5)
  t.same(names(eq), [['a'], ['b'], ['c']])
})

t.test('timings override the shape estimate; a shard plan is used as it is', async t => {
  const v = pre('slow')
  t.equal(estimateSeconds(v, { runSec: 60 }), 60, 'a cached kernel adds nothing to the measured run')
  const { kernelCached: _, ...unknown } = v
  t.equal(estimateSeconds(unknown, { runSec: 60, kernelSec: 3 }), 63, 'unknown cache state: what the kernel took last time')
  t.equal(estimateSeconds(unknown), estimateSeconds(v), 'no timings: a prebuilt kernel costs no download (setup fetches it once)')
  t.ok(estimateSeconds({ ...unknown, kind: 'source' }) >= COST.build, 'but a source kernel costs a build')
  t.equal(estimateSeconds(src('s', false), { runSec: 20, kernelSec: 900 }), 920, 'a build measured slower than the default')
  t.equal(estimateSeconds(v, { runSec: 60, estimateSec: 12.34 }), 12.3)
  // measured times change the split: the variant that was slow last time goes alone
  const vs = [pre('a'), pre('b'), pre('c'), pre('d')]
  const before = splitShards(vs, 2, x => estimateSeconds(x))
  t.same(names(before), [['a', 'c'], ['b', 'd']])
  const timings = timingsFrom(runSummary({
    variants: [variantResult({ variant: 'd', timings: { kernel: 0, total: 120 } }), variantResult({ variant: 'a', verdict: 'interrupted', timings: { total: 1 } })],
  }))
  t.same(Object.keys(timings), ['d'], 'an interrupted variant says nothing about its cost')
  const after = splitShards(vs, 2, x => estimateSeconds(x, timings[x.name]))
  t.same(names(after), [['d'], ['a', 'b', 'c']])
  t.throws(() => timingsFrom({ schema: 'other' }, 'f.json'), /f\.json: not a results\.json/)
})

t.test('shardOf keeps its checks and messages and follows the split', async t => {
  const vs = ['e', 'a', 'd', 'c', 'b'].map(name => ({ name }))
  t.throws(() => shardOf(vs, 0, 2), /--shard 0\/2: expected I\/N with 1 ≤ I ≤ N/)
  t.throws(() => shardOf(vs, 3, 2), /--shard 3\/2/)
  t.same(shardOf(vs, 1, 2, v => (v.name === 'e' ? 100 : 1)).map(v => v.name), ['e'])
  t.same(shardOf(vs, 2, 2, v => (v.name === 'e' ? 100 : 1)).map(v => v.name), ['a', 'b', 'c', 'd'])
})
