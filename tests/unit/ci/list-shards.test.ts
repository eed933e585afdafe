// `daxrig list --shards N`: the split a shard run will use, with estimates; --timings overrides; --json plan.
import t from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { daxrig } from '../../integration/helpers.js'
import { runSummary, variantResult } from '../../helpers/fixtures.js'

const shardLines = (out: string) => out.split('\n').filter(l => l.startsWith('shard '))
const namesOf = (line: string) => [...line.matchAll(/([a-z0-9.-]+) \(\d/g)].map(m => m[1]!)

t.test('list --shards 3 seeds: every seed variant once, an estimate per shard; the same twice', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-shards-'))
  const seeds = (parse(await readFile(join(process.cwd(), 'tests', 'matrices', 'seeds.yaml'), 'utf8')) as { variants: string[] }).variants
  // an empty cache: estimates from the variants' shapes only, whatever this machine ran before
  const env = { XDG_CACHE_HOME: dir, DAXRIG_CACHE: '' }
  const a = await daxrig(['list', '--shards', '3', 'seeds'], env)
  t.equal(a.code, 0, a.out)
  const lines = shardLines(a.stdout)
  t.equal(lines.length, 3)
  t.same(lines.flatMap(namesOf).sort(), [...seeds].sort(), 'every seed variant')
  t.equal(new Set(lines.flatMap(namesOf)).size, seeds.length, 'each once')
  // the two forward-ports are source builds (minutes, cold): each gets a shard of its own
  for (const port of seeds.filter(v => v.includes('-port-')))
    t.ok(lines.some(l => new RegExp(`1 variant\\(s\\): ${port.replace(/[.]/g, '\\.')} `).test(l)), `${port} alone on its shard`)
  t.equal((await daxrig(['list', '--shards', '3', 'seeds'], env)).stdout, a.stdout, 'deterministic')

  // what CI sees after one run: every kernel cached, measured times: the shards come out even
  const warm = runSummary({
    variants: seeds.map(v => variantResult({ variant: v, timings: { kernel: 0, total: v.includes('-port-') ? 14 : v.startsWith('vfio') ? 12 : 9 } })),
  })
  await writeFile(join(dir, 'warm.json'), JSON.stringify(warm))
  const w = await daxrig(['list', '--shards', '3', 'seeds', '--timings', join(dir, 'warm.json')], env)
  const est = shardLines(w.stdout).map(l => Number(/~\s*([\d.]+)s/.exec(l)?.[1]))
  t.ok(est.every(Number.isFinite) && Math.max(...est) <= 1.3 * Math.min(...est), `estimates within 30 %: ${est.join(' / ')}`)

  // measured timings move a variant: one that took 20 minutes last time gets a shard of its own
  const results = runSummary({ variants: [variantResult({ variant: 'vfio-pin-6.1', timings: { kernel: 0, total: 1200 } })] })
  await writeFile(join(dir, 'last.json'), JSON.stringify(results))
  const b = await daxrig(['list', '--shards', '3', 'seeds', '--timings', join(dir, 'last.json'), '--json', join(dir, 'plan.json')], env)
  t.equal(b.code, 0, b.out)
  t.ok(shardLines(b.stdout).some(l => /1 variant\(s\): vfio-pin-6\.1 \(20m00s\)/.test(l)), b.stdout)
  const plan = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8')) as { schema: string; shards: { variants: string[] }[] }
  t.equal(plan.schema, 'daxrig-timings/1')
  t.same(plan.shards.map(s => s.variants), shardLines(b.stdout).map(namesOf), 'the plan is the printed split')
  // a plan read back gives the same split
  const c = await daxrig(['list', '--shards', '3', 'seeds', '--timings', join(dir, 'plan.json')], env)
  t.same(shardLines(c.stdout), shardLines(b.stdout))

  t.equal((await daxrig(['list', 'seeds'], env)).code, 2, 'names without --shards: bad input')
  t.equal((await daxrig(['list', '--shards', '0'], env)).code, 2)
  const bad = await daxrig(['list', '--shards', '2', '--timings', join(dir, 'nope.json')], env)
  t.equal(bad.code, 2)
  t.match(bad.out, /--timings: cannot read/)
})
