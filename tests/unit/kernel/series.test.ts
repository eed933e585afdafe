// Series reading, ordering, identity and apply, on small fixtures (no kernel tree).
import t from 'tap'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { InputError, UntestableError } from '../../../harness/errors.js'
import {
  applySeries,
  failingFile,
  loadMbox,
  loadPatchDir,
  loadSeries,
  parseDiff,
  parseSubject,
  patchIdentity,
  seriesLength,
} from '../../../harness/kernel/series.js'
import { projectRoot } from '../../../harness/paths.js'

const fx = join(projectRoot(), 'tests', 'fixtures', 'kernel')
const patches = join(projectRoot(), 'tests', 'patches')

const git = (cwd: string, ...args: string[]) =>
  execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd })

/** A git repo holding the tiny fixture tree, committed. */
async function tinyRepo(t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-tree-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(join(fx, 'tiny-tree'), dir, { recursive: true })
  await git(dir, 'init', '-q')
  await git(dir, 'add', '-A')
  await git(dir, 'commit', '-qm', 'base')
  return dir
}

t.test('parseSubject reads version, number and title', async t => {
  t.match(parseSubject('[PATCH v2 3/5] mm: foo'), { version: 2, k: 3, n: 5, title: 'mm: foo', isReply: false })
  t.match(parseSubject('[RFC PATCH v10 00/12] big series'), { version: 10, k: 0, n: 12, title: 'big series' })
  t.match(parseSubject('[PATCH] one-off fix'), { version: 1, title: 'one-off fix' })
  t.equal(parseSubject('[PATCH] x').k, undefined)
  t.match(parseSubject('Re: [PATCH v2 2/3] lib: x'), { isReply: true, k: 2 })
  t.match(parseSubject('[PATCH net-next v3 1/2] [fixup] net: y'), { version: 3, k: 1, n: 2, title: 'net: y' })
})

t.test('mbox: cover letter and replies skipped, patches ordered by k/N although shuffled in the file', async t => {
  const s = await loadMbox(join(fx, 'series-v2-shuffled.mbox'))
  t.same(
    s.map(p => [p.index, p.subject]),
    [
      [1, 'mm: rename line ten'],
      [2, 'lib: spell out five'],
      [3, 'mm: add line 41'],
    ],
  )
  t.same(s[1]?.files, ['lib/b.c'])
  t.match(s[0]?.raw ?? '', /Subject: \[PATCH v2 1\/3\]/)
  t.match(s[2]?.diff ?? '', /^\+line 41$/m)
})

t.test('mbox holding v1 and v2 of a series: the newest version is used', async t => {
  const s = await loadMbox(join(fx, 'series-v1-and-v2.mbox'))
  t.equal(s.length, 3)
  for (const p of s) t.match(p.raw, /\[PATCH v2 \d\/3\]/)
})

t.test('bad mboxes are InputError naming the file', async t => {
  for (const [name, why] of [
    ['series-truncated.mbox', /truncated/],
    ['garbage.mbox', /no patches|not a mailbox/],
    ['series-cover-only.mbox', /no patches/],
    ['series-incomplete.mbox', /missing 2\/3/],
  ] as const) {
    const file = join(fx, name)
    const err = await loadMbox(file).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.type(err, InputError, name)
    t.match((err as Error).message, file, `${name} names the file`)
    t.match((err as Error).message, why, `${name}: ${String(why)}`)
  }
})

t.test('a directory of format-patch files: sorted, cover letter skipped', async t => {
  const s = await loadPatchDir(join(patches, 'vfio-pin-demo'))
  t.equal(s.length, 5)
  t.same(s.map(p => p.index), [1, 2, 3, 4, 5])
  t.equal(s[2]?.subject, 'mm/gup: allow long-term pins of fsdax mappings')
  t.same(s[2]?.files, ['mm/gup.c'])
  t.match(s[2]?.diff ?? '', /^-\tif \(\(gup_flags & FOLL_LONGTERM\) && vma_is_fsdax\(vma\)\)$/m)
  t.equal(new Set(s.map(p => p.identity)).size, 5, 'identities differ')
  t.equal(await seriesLength({ kind: 'source', suite: 'bookworm', config: [], series: { dir: join(patches, 'vfio-pin-demo') } }), 5)
})

t.test('loadSeries: no series is empty; a missing mbox is InputError', async t => {
  t.same(await loadSeries({ kind: 'source', suite: 'bookworm', config: [] }), [])
  await t.rejects(loadSeries({ kind: 'source', suite: 'bookworm', config: [], series: { mbox: join(fx, 'nope.mbox') } }), InputError)
  await t.rejects(loadSeries({ kind: 'source', suite: 'bookworm', config: [], series: { gitRange: 'a..b' } }), InputError)
})

const drifted = (ctxA: string, ctxB: string, at: number, index: string) => `diff --git a/mm/x.c b/mm/x.c
index ${index} 100644
--- a/mm/x.c
+++ b/mm/x.c
@@ -${at},5 +${at},5 @@ static int f(void)
 ${ctxA}
 \tint a;
-\treturn -EOPNOTSUPP;
+\treturn 0;
 ${ctxB}
 }
`

t.test('patch identity ignores context, offsets and index lines', async t => {
  const a = patchIdentity(drifted('{', '\t/* x */', 10, '1111111..2222222'))
  const b = patchIdentity(drifted('{ /* moved */', '\t/* y */', 1075, '3333333..4444444'))
  t.equal(a, b)
  const changed = drifted('{', '\t/* x */', 10, '1111111..2222222').replace('+\treturn 0;', '+\treturn 1;')
  t.not(patchIdentity(changed), a, 'a different change has a different identity')
  const renamed = drifted('{', '\t/* x */', 10, '1111111..2222222').replaceAll('mm/x.c', 'mm/y.c')
  t.not(patchIdentity(renamed), a, 'the same change to another file is another patch')
  t.equal(patchIdentity(drifted('{', '}', 10, 'a..b') + '-- \n2.39.2\n'), patchIdentity(drifted('{', '}', 10, 'a..b')), 'signature is not a removed line')
})

t.test('parseDiff: files, truncation, plain diffs', async t => {
  const p = parseDiff(drifted('{', '}', 10, 'a..b'))
  t.same(p.files, ['mm/x.c'])
  t.equal(p.problem, undefined)
  const cut = drifted('{', '}', 10, 'a..b').split('\n').slice(0, 8).join('\n')
  t.match(parseDiff(cut).problem, /truncated/)
  const lastLineMissing = drifted('{', '}', 10, 'a..b').replace(/ \}\n$/, '')
  t.match(parseDiff(lastLineMissing).problem, /truncated/, 'one missing context line at the very end is caught')
  t.match(parseDiff('just text\n').problem, /no diff hunks/)
  const plain = '--- a/lib/q.c\n+++ b/lib/q.c\n@@ -1 +1 @@\n-x\n+y\n--- /dev/null\n+++ b/lib/new.c\n@@ -0,0 +1 @@\n+z\n'
  t.same(parseDiff(plain).files, ['lib/q.c', 'lib/new.c'])
  const created = 'diff --git a/n.c b/n.c\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/n.c\n@@ -0,0 +1 @@\n+z\n'
  t.same(parseDiff(created).files, ['n.c'])
  t.match(parseDiff(created).essential, ['diff --git a/n.c b/n.c', 'new file mode 100644'])
})

t.test('failingFile finds the file in git apply output', async t => {
  t.equal(failingFile('error: patch failed: drivers/vfio/vfio_iommu_type1.c:338\nerror: drivers/vfio/vfio_iommu_type1.c: patch does not apply\n'), 'drivers/vfio/vfio_iommu_type1.c')
  t.equal(failingFile('error: fs/iomap.c: does not exist in index\n'), 'fs/iomap.c')
  t.equal(failingFile('nothing useful'), undefined)
})

t.test('a series applies to its base; the first K only with upto', async t => {
  const tree = await tinyRepo(t)
  const s = await loadMbox(join(fx, 'series-v2-shuffled.mbox'))
  await applySeries(tree, s, 2)
  const a = await readFile(join(tree, 'mm', 'a.c'), 'utf8')
  t.match(a, /^line ten$/m)
  t.notMatch(a, /line 41/, 'patch 3 not applied with upto 2')
  t.match(await readFile(join(tree, 'lib', 'b.c'), 'utf8'), /^item five$/m)
  const staged = await git(tree, 'diff', '--cached', '--name-only')
  t.same(staged.stdout.split('\n').sort(), ['lib/b.c', 'mm/a.c'], 'applied to the index too')
})

t.test('the 2018 vfio patch does not apply to 6.1 code: UntestableError naming patch, subject and file', async t => {
  const tree = await tinyRepo(t)
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-p-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(join(patches, 'vfio-v5-12-12-2018.patch'), join(dir, '0001.patch'))
  const s = await loadPatchDir(dir)
  t.equal(s.length, 1)
  const err = await applySeries(tree, s).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(err, UntestableError)
  const u = err as UntestableError
  t.equal(u.stage, 'apply')
  t.match(u.message, 'patch 1/1')
  t.match(u.message, 'vfio: disable filesystem-dax page pinning')
  t.match(u.message, 'drivers/vfio/vfio_iommu_type1.c')
  t.match(u.excerpt, /patch failed|does not apply/)
})

t.test('a patch to a file the tree lacks fails with that file named', async t => {
  const tree = await tinyRepo(t)
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-p-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'x.patch'), 'Subject: [PATCH] touch a missing file\n\n---\n' + drifted('{', '}', 3, 'a..b'))
  const s = await loadPatchDir(dir)
  await t.rejects(applySeries(tree, s), { name: 'UntestableError', message: /patch 1\/1 "touch a missing file".*mm\/x\.c/ })
})

t.test('a git range A..B in the variant tree becomes a numbered series', async t => {
  const tree = await tinyRepo(t)
  await git(tree, 'tag', 'base')
  await writeFile(join(tree, 'mm', 'a.c'), (await readFile(join(tree, 'mm', 'a.c'), 'utf8')).replace('line 3\n', 'line three\n'))
  await git(tree, 'commit', '-qam', 'mm: three')
  await writeFile(join(tree, 'lib', 'b.c'), (await readFile(join(tree, 'lib', 'b.c'), 'utf8')) + 'item 21\n')
  await git(tree, 'commit', '-qam', 'lib: add item 21')
  const spec = { kind: 'source' as const, suite: 'bookworm', config: [], git: { path: tree, ref: 'base' }, series: { gitRange: 'base..HEAD' } }
  const s = await loadSeries(spec)
  t.same(s.map(p => [p.index, p.subject, p.files]), [
    [1, 'mm: three', ['mm/a.c']],
    [2, 'lib: add item 21', ['lib/b.c']],
  ])
  t.equal(s[1]?.origin, 'base..HEAD#2')
  await t.rejects(loadSeries({ ...spec, series: { gitRange: 'HEAD..HEAD' } }), { name: 'InputError', message: /no commits/ })
  await t.rejects(loadSeries({ ...spec, series: { gitRange: 'nope..HEAD' } }), InputError)
})
