// A user's own tree: the demo series as five commits in a throwaway clone of the 6.1 tree, bisected with a real
// `git bisect run … daxrig check`. The rig keeps one tree for the repository, builds each step incrementally, and a
// cached commit still runs after the repository is deleted. A broken variant makes git bisect run abort.
// Several minutes on a cold cache (one ccache'd full build), about 2 on a warm one.
import t from 'tap'
import { execa } from 'execa'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig, root } from './helpers.js'
import { ensureTree, resolveBase } from '../../harness/kernel/tree.js'
import { repoTreeKey } from '../../harness/kernel/tree.js'
import { cacheRoot } from '../../harness/cache/store.js'
import type { RunSummary } from '../../harness/types.js'

const ID = ['-c', 'user.name=daxrig test', '-c', 'user.email=test@localhost', '-c', 'commit.gpgsign=false']
// A fixed place and fixed commit dates: every run makes the same commits in a repository at the same path, so the
// rig's tree for it and the kernels of those commits are reused from the cache (a warm CI run builds nothing).
const work = join(tmpdir(), 'daxrig-own-tree')
await rm(work, { recursive: true, force: true })
await mkdir(work, { recursive: true })
t.teardown(() => rm(work, { recursive: true, force: true }))
const repo = join(work, 'linux')
const DATES = { GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' }
const git = (...a: string[]) => execa('git', ['-C', repo, ...ID, ...a], { env: DATES })

const variantText = (ref: string) => `name: own-tree
kernel:
  source: {git: ./linux, ref: ${ref}}
  config: [base, nvdimm, vfio]
machine:
  memory: 1G
  cpus: 2
  nvdimm:
    - {size: 512M, mode: fsdax, fs: [ext4, xfs]}
    - {size: 512M, mode: devdax}
  iommu: intel
  vfio-device: edu
tests: [vfio_pin]
expect:
  "vfio_pin.*": pass
  "vfio_pin.vfio_map_fsdax*": {verdict: fail, reason: "the series' 3rd commit lets fsdax pins through"}
  "vfio_pin.uring_reg_pagecache_*": {verdict: fail, reason: "6.1: io_uring refuses file-backed buffers"}
  "vfio_pin.uring_reg_devdax": {verdict: fail, reason: "6.1: io_uring refuses device-dax buffers"}
allow:
  - {match: dax_disassociate_entry, reason: "with fsdax pins allowed, unmounting a file whose DAX pages are pinned WARNs"}
`

t.before(async () => {
  // the 6.1 tree the rig unpacks anyway, cloned (hardlinked objects) and given the demo series as commits
  const base = await ensureTree(await resolveBase({ kind: 'source', sourcePackage: 'linux-source-6.1', suite: 'bookworm', config: [] }))
  await execa('git', ['clone', '-q', base.src, repo])
  const demo = join(root, 'tests', 'patches', 'vfio-pin-demo')
  const patches = (await readdir(demo)).filter(f => /^000[1-9].*\.patch$/.test(f)).sort()
  await git('am', '-q', ...patches.map(p => join(demo, p)))
  await writeFile(join(work, 'own-tree.yaml'), variantText('HEAD'))
  await writeFile(join(work, 'broken.yaml'), variantText('HEAD').replace('tests: [vfio_pin]', 'tests: [no_such_program]'))
})

t.test('git bisect run … daxrig check names the third commit; one tree, incremental steps', async t => {
  const commits = (await git('rev-list', '--reverse', 'HEAD~5..HEAD')).stdout.trim().split('\n')
  await git('bisect', 'start', 'HEAD', 'HEAD~5')
  const r = await execa('git', ['-C', repo, ...ID, 'bisect', 'run', process.execPath, join(root, 'bin', 'daxrig.js'), 'check', join(work, 'own-tree.yaml'), '--test', 'vfio_pin.vfio_map_fsdax'], {
    reject: false,
    all: true,
    env: { ...process.env, CI: 'true' },
  })
  await git('bisect', 'reset')
  t.equal(r.exitCode, 0, String(r.all).slice(-3000))
  t.match(String(r.stdout), new RegExp(`^${commits[2]} is the first bad commit`, 'm'), 'the commit that drops the refusal')
  const trees = (await readdir(join(cacheRoot(), 'trees'))).filter(d => d === repoTreeKey(repo))
  t.equal(trees.length, 1, 'one cached tree for the repository')
  t.notOk(existsSync(join(cacheRoot(), 'trees', repoTreeKey(repo), 'src', '.git', 'objects', 'info', 'alternates')), 'no borrowed objects')
  // each kernel built for one of the commits records how many files it compiled: steps after the first are small
  const metas = []
  for (const k of await readdir(join(cacheRoot(), 'kernels'))) {
    const m = await readFile(join(cacheRoot(), 'kernels', k, 'meta.json'), 'utf8').then(JSON.parse, () => undefined)
    if (m && commits.some(c => m.base === `git ${c}`)) metas.push(m as { compiles: number; builtAt: string })
  }
  t.ok(metas.length >= 2, `${metas.length} kernels of this repository`)
  const later = metas.sort((a, b) => a.builtAt.localeCompare(b.builtAt)).slice(1)
  for (const m of later) t.ok(m.compiles < 100, `an incremental step compiled ${m.compiles} files`)
})

t.test('a broken variant makes git bisect run abort instead of blaming a commit', async t => {
  await git('bisect', 'start', 'HEAD', 'HEAD~5')
  const r = await execa('git', ['-C', repo, ...ID, 'bisect', 'run', process.execPath, join(root, 'bin', 'daxrig.js'), 'check', join(work, 'broken.yaml'), '--test', 'vfio_pin.vfio_map_fsdax'], {
    reject: false,
    all: true,
    env: { ...process.env, CI: 'true' },
  })
  await git('bisect', 'reset')
  t.not(r.exitCode, 0)
  t.notMatch(String(r.all), /is the first bad commit/)
  t.match(String(r.all), /not a verdict about the kernel/)
})

t.test('the series as a git range whose last patch ends in a context line: every prefix builds, patchcheck exits 0', async t => {
  const last = (await git('format-patch', '-1', '--stdout', '--no-signature', 'HEAD')).stdout.replace(/\n+$/, '').split('\n')
  t.match(last.at(-1), /^ /, 'the range\'s last patch ends in a context line')
  const range = variantText('HEAD~5')
    .replace('name: own-tree', 'name: own-tree-range')
    .replace('  config: [base, nvdimm, vfio]', '  patches: {git-range: HEAD~5..HEAD}\n  config: [base, nvdimm, vfio]')
    .replace('{verdict: fail, reason: "the series\' 3rd commit lets fsdax pins through"}', '{verdict: fail, from: 3, reason: "3/5 lets fsdax pins through"}')
    .replace('- {match: dax_disassociate_entry, reason:', '- {match: dax_disassociate_entry, from: 3, reason:')
  await writeFile(join(work, 'own-tree-range.yaml'), range)
  const out = join(work, 'out-range')
  const r = await daxrig(['patchcheck', join(work, 'own-tree-range.yaml'), '--out', out])
  t.equal(r.code, 0, r.out.slice(-3000))
  const res = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { rows: { patch: number; verdict: string; builds?: boolean }[] }
  t.same(res.rows.map(x => [x.patch, x.verdict, x.builds]), [0, 1, 2, 3, 4, 5].map(k => [k, 'good', true]), 'every prefix applies, builds and is as expected')
})

t.test('the repository deleted: a cached commit still runs; HEAD gives one clear line', async t => {
  const third = (await git('rev-list', '--reverse', 'HEAD~5..HEAD')).stdout.trim().split('\n')[2]!
  await rm(repo, { recursive: true, force: true })
  await writeFile(join(work, 'cached.yaml'), variantText(third))
  const out = join(work, 'out-cached')
  const r = await daxrig(['run', join(work, 'cached.yaml'), '--out', out])
  t.equal(r.code, 0, r.out.slice(-2000))
  const v = (JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary).variants[0]!
  t.equal(v.verdict, 'ok', v.summary)
  t.match(v.kernel?.description, third.slice(0, 12))
  const gone = await daxrig(['run', join(work, 'own-tree.yaml'), '--out', join(work, 'out-gone')])
  t.equal(gone.code, 2, gone.out.slice(-1000))
  t.match(gone.out, /is gone \(moved or deleted\), so "HEAD" cannot be resolved/)
  t.notMatch(gone.out, /rig failure/)
})
