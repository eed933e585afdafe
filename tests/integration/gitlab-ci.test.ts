// The shipped GitLab pipeline (.gitlab-ci.yml including ci/gitlab/daxrig.gitlab-ci.yml) run for real by
// gitlab-ci-local with the shell executor, in a throwaway git clone of this working tree: prepare, three
// balanced shards booting real kernels, the merge. The merged results must equal an unsharded run of the same
// matrix, and a planted regression must fail the pipeline. The rig cache is the host's, so nothing is
// downloaded twice.
import t from 'tap'
import { execa } from 'execa'
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { daxrig, root } from './helpers.js'
import { kcidbValidator } from '../helpers/kcidb.js'
import type { RunSummary } from '../../harness/types.js'

const GCL = join(root, 'node_modules', '.bin', 'gitlab-ci-local')
const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
const git = (cwd: string, args: string[]) =>
  execa('git', args, { cwd, env: { GIT_AUTHOR_NAME: 'daxrig test', GIT_AUTHOR_EMAIL: 'test@localhost', GIT_COMMITTER_NAME: 'daxrig test', GIT_COMMITTER_EMAIL: 'test@localhost' } })

/** A clone of this repository with the working tree's uncommitted changes on top, committed (gitlab-ci-local reads git). */
async function throwawayClone(): Promise<{ repo: string; tmp: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'daxrig-gitlab-'))
  const repo = join(tmp, 'repo')
  await execa('git', ['clone', '-q', root, repo])
  const files = (await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root })).stdout.split('\0').filter(Boolean)
  for (const f of files) {
    if (existsSync(join(root, f))) {
      await mkdir(dirname(join(repo, f)), { recursive: true })
      await cp(join(root, f), join(repo, f), { force: true })
    } else await rm(join(repo, f), { force: true })
  }
  await git(repo, ['add', '-A'])
  await git(repo, ['commit', '-q', '--allow-empty', '-m', 'working tree under test'])
  // the jobs use this tree's node_modules (DAXRIG_SKIP_NPM_CI): no npm ci per job
  await symlink(join(root, 'node_modules'), join(repo, 'node_modules'))
  return { repo, tmp }
}

async function pipeline(repo: string, tmp: string, matrix: string) {
  await rm(join(repo, 'out'), { recursive: true, force: true })
  await rm(join(repo, '.gitlab-ci-local'), { recursive: true, force: true })
  const r = await execa(
    GCL,
    ['--shell-executor-no-image', '--concurrency', '1', '--home', join(tmp, 'gcl-home'),
      '--variable', `MATRIX=${matrix}`, '--variable', `XDG_CACHE_HOME=${cacheHome}`, '--variable', 'DAXRIG_SKIP_NPM_CI=1'],
    { cwd: repo, reject: false, all: true, stdin: 'ignore', timeout: 900_000 },
  )
  return { code: r.exitCode ?? -1, log: String(r.all ?? '') }
}

const readSummary = async (f: string) => JSON.parse(await readFile(f, 'utf8')) as RunSummary
/** what must be equal between a sharded and an unsharded run: variants, their verdicts, every case's outcome */
const outcome = (s: RunSummary) =>
  Object.fromEntries(
    [...s.variants]
      .sort((a, b) => a.variant.localeCompare(b.variant))
      .map(v => [v.variant, { verdict: v.verdict, cases: v.cases.map(c => `${c.id} ${c.status} ${c.verdict}`).sort() }]),
  )

t.test('gitlab-ci-local runs the shipped pipeline: prepare, 3 shards, merge = an unsharded run', async t => {
  const { repo, tmp } = await throwawayClone()
  const matrix = 'tests/fixtures/ci/small.yaml'
  const p = await pipeline(repo, tmp, matrix)
  t.equal(p.code, 0, 'the pipeline passed', { log: p.log.slice(-4000) })
  for (const job of ['daxrig-prepare', 'daxrig-test: \\[1/3\\]', 'daxrig-test: \\[2/3\\]', 'daxrig-test: \\[3/3\\]', 'daxrig-merge'])
    t.match(p.log, new RegExp(`PASS\\s+${job}`), `${job} ran and passed`)
  t.match(p.log, /daxrig-test: \[1\/3\] > .*shard 1\/3: \S+ \(estimated/, 'the shard job printed its split')

  // the plan and the shards: one variant each (three similar prebuilt variants, three shards)
  const plan = JSON.parse(await readFile(join(repo, 'out/plan/shards.json'), 'utf8')) as { shards: { variants: string[] }[] }
  t.same(plan.shards.map(s => s.variants.length), [1, 1, 1], 'balanced: one variant per shard')
  let passes = 0
  for (const i of [1, 2, 3]) {
    const s = await readSummary(join(repo, '.gitlab-ci-local/artifacts', (await shardArtifact(repo, i))!, `out/shard-${i}/results.json`))
    t.same(s.variants.map(v => v.variant), plan.shards[i - 1]!.variants, `shard ${i} ran what the plan says`)
    for (const v of s.variants) {
      // the VM really ran in the job
      const consoleLog = await readFile(join(repo, `out/shard-${i}`, v.variant, 'console.log'), 'utf8')
      t.match(consoleLog, /Linux version \S+/, `${v.variant}: a kernel booted in shard ${i}`)
      t.ok(v.cases.length >= 10, `${v.variant}: its cases reported`)
      passes += v.cases.filter(c => c.status === 'pass').length
    }
  }
  t.ok(passes >= 40, `real passes, not only skips (${passes})`)

  // the merge job's artifacts: the published reports
  const merged = join(repo, '.gitlab-ci-local/artifacts/daxrig-merge/out/merged')
  for (const f of ['results.json', 'junit.xml', 'report.html', 'report.md', 'kcidb.json', 'bisect.gitlab-ci.yml']) t.ok(existsSync(join(merged, f)), `merge artifact ${f}`)
  const m = await readSummary(join(merged, 'results.json'))
  t.same(m.variants.map(v => v.variant).sort(), ['baseline-6.1', 'baseline-6.12', 'daxfile-rfc-6.1'])
  const junit = await readFile(join(merged, 'junit.xml'), 'utf8')
  t.equal((junit.match(/<testsuite /g) ?? []).length, 3, 'junit.xml (the pipeline test report): a suite per variant')
  const kcheck = kcidbValidator()
  t.ok(kcheck(JSON.parse(await readFile(join(merged, 'kcidb.json'), 'utf8'))), 'merged kcidb.json validates (KCIDB v4.3)', { errors: kcheck.errors })

  // the same matrix unsharded, on the host
  const out = await mkdtemp(join(tmpdir(), 'daxrig-unsharded-'))
  const r = await daxrig(['run', matrix, '--out', out])
  t.equal(r.code, 0, 'the unsharded run passed', { log: r.out.slice(-2000) })
  t.same(outcome(m), outcome(await readSummary(join(out, 'results.json'))), 'merged shards = unsharded run (same cases, same verdicts)')
  await rm(tmp, { recursive: true, force: true })
})

t.test('gitlab-ci-local: a planted regression fails its shard, the merge (which still runs) and the pipeline', async t => {
  const { repo, tmp } = await throwawayClone()
  const p = await pipeline(repo, tmp, 'tests/fixtures/ci/planted.yaml')
  t.not(p.code, 0, 'the pipeline failed', { log: p.log.slice(-4000) })
  t.match(p.log, /pipeline finished in/, 'gitlab-ci-local ran the whole pipeline')
  t.match(p.log, /FAIL\s+daxrig-merge/, 'the merge job ran after a failed shard, and failed')
  t.match(p.log, /FAIL\s+daxrig-test: \[\d\/3\]/, 'the shard with the regression failed')
  t.match(p.log, /map_sync\.ext4_msv_sync: expected fail, got pass/)
  t.match(p.log, /PASS\s+daxrig-prepare/)
  t.match(p.log, /daxrig-merge +> all 2 planned variant\(s\) are in the merged results/, 'no shard lost its variants')
  t.match(p.log, /nothing to bisect/, 'the failure triggered the bisect child pipeline (prebuilt kernels: nothing to bisect)')
  const m = await readSummary(join(repo, '.gitlab-ci-local/artifacts/daxrig-merge/out/merged/results.json'))
  t.same(Object.fromEntries(m.variants.map(v => [v.variant, v.verdict])), { 'daxfile-rfc-6.1': 'ok', 'wrong-expectation': 'regression' })
  await rm(tmp, { recursive: true, force: true })
})

/** gitlab-ci-local names a parallel job's artifact dir `daxrig-test<hash><I><hash>`: the one holding out/shard-I */
async function shardArtifact(repo: string, i: number): Promise<string | undefined> {
  const { readdir } = await import('node:fs/promises')
  for (const d of await readdir(join(repo, '.gitlab-ci-local/artifacts'))) if (existsSync(join(repo, '.gitlab-ci-local/artifacts', d, `out/shard-${i}/results.json`))) return d
  return undefined
}
