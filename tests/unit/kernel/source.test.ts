// Source-kernel plumbing that needs no kernel build: cache keys, base identity, the tree cache, input checks.
import t from 'tap'
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { InputError } from '../../../harness/errors.js'
import { buildSourceKernel } from '../../../harness/kernel/source.js'
import { ensureTree, resolveBase } from '../../../harness/kernel/tree.js'
import { kernelKey, requestKey } from '../../../harness/kernel/keys.js'
import { projectRoot } from '../../../harness/paths.js'
import type { Variant } from '../../../harness/types.js'

const fx = join(projectRoot(), 'tests', 'fixtures', 'kernel')

const cache = await mkdtemp(join(tmpdir(), 'daxrig-cache-'))
process.env.DAXRIG_CACHE = cache
t.teardown(() => rm(cache, { recursive: true, force: true }))

async function tinyRepo(t: { teardown: (fn: () => unknown) => void }): Promise<{ dir: string; commit: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-tree-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(join(fx, 'tiny-tree'), dir, { recursive: true })
  const g = (...a: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: dir })
  await g('init', '-q')
  await g('add', '-A')
  await g('commit', '-qm', 'base')
  await g('tag', 'v0')
  return { dir, commit: (await g('rev-parse', 'HEAD')).stdout.trim() }
}

const key = { base: 'linux-source-6.1 6.1.192-2', patches: ['p1', 'p2'], config: 'CONFIG_A=y\n', compiler: 'gcc (Debian 12.2.0-14) 12.2.0' }

t.test('kernelKey: stable, and every input changes it', async t => {
  t.equal(kernelKey(key), kernelKey({ ...key }))
  t.match(kernelKey(key), /^[0-9a-f]{64}$/)
  const variants = [
    { ...key, base: 'linux-source-6.1 6.1.192-3' },
    { ...key, patches: ['p1'] },
    { ...key, patches: ['p2', 'p1'] },
    { ...key, config: 'CONFIG_A=y\nCONFIG_B=y\n' },
    { ...key, compiler: 'gcc (Debian 13.1.0) 13.1.0' },
  ]
  const keys = new Set([kernelKey(key), ...variants.map(kernelKey)])
  t.equal(keys.size, 6)
})

t.test('requestKey depends on fragment contents, not on where they live', async t => {
  const r = { base: 'b', patches: [], compiler: 'c' }
  const a = requestKey({ ...r, fragments: [{ path: '/x/base.config', text: 'CONFIG_A=y\n' }] })
  t.equal(a, requestKey({ ...r, fragments: [{ path: '/y/base.config', text: 'CONFIG_A=y\n' }] }))
  t.not(a, requestKey({ ...r, fragments: [{ path: '/x/base.config', text: 'CONFIG_A=n\n' }] }))
  t.not(a, requestKey({ ...r, fragments: [{ path: '/x/other.config', text: 'CONFIG_A=y\n' }] }))
})

t.test('resolveBase: a git ref is identified by its commit; unknown refs and packages are bad input', async t => {
  const { dir, commit } = await tinyRepo(t)
  const b = await resolveBase({ kind: 'source', suite: 'bookworm', config: [], git: { path: dir, ref: 'v0' } })
  t.equal(b.id, `git ${commit}`)
  t.match(b.key, /^git-repo-[0-9a-f]{16}$/, 'the tree is keyed by the repository, not by the commit')
  await t.rejects(resolveBase({ kind: 'source', suite: 'bookworm', config: [], git: { path: dir, ref: 'no-such-ref' } }), InputError)
  await t.rejects(resolveBase({ kind: 'source', suite: 'bookworm', config: [], sourcePackage: 'linux-image-6.1.0-56-amd64' }), InputError)
  await t.rejects(resolveBase({ kind: 'source', suite: 'bookworm', config: [] }), InputError)
})

t.test('ensureTree makes the base tree once, atomically, in the cache', async t => {
  const { dir, commit } = await tinyRepo(t)
  const base = await resolveBase({ kind: 'source', suite: 'bookworm', config: [], git: { path: dir, ref: 'v0' } })
  const events: string[] = []
  const a = await ensureTree(base, e => events.push(e.type))
  t.equal(a.root, join(cache, 'trees', base.key))
  t.equal(a.commit, commit)
  t.ok(existsSync(join(a.root, '.complete')))
  t.match(await readFile(join(a.src, 'mm', 'a.c'), 'utf8'), /^line 10$/m)
  t.same(events, ['phase-start', 'phase-end'])
  const again: string[] = []
  const b = await ensureTree(base, e => again.push(e.type))
  t.equal(b.root, a.root)
  t.same(again, [], 'second call reuses the tree')
})

function variant(kernel: Partial<Variant['kernel']>): Variant {
  return {
    name: 'v',
    file: '/tmp/v.yaml',
    kernel: { kind: 'source', suite: 'bookworm', config: [], ...kernel },
  } as unknown as Variant
}

t.test('buildSourceKernel refuses bad requests before touching any tree', async t => {
  const demo = join(projectRoot(), 'tests', 'patches', 'vfio-pin-demo')
  await t.rejects(buildSourceKernel(variant({ kind: 'prebuilt', package: 'linux-image-x' })), InputError)
  await t.rejects(buildSourceKernel(variant({ sourcePackage: 'linux-source-6.1', series: { dir: demo } }), { upto: 6 }), {
    name: 'InputError',
    message: /--upto 6 is outside the series \(it has 5 patches\)/,
  })
  await t.rejects(
    buildSourceKernel(variant({ sourcePackage: 'linux-source-6.1', series: { mbox: join(fx, 'series-truncated.mbox') } })),
    { name: 'InputError', message: /series-truncated\.mbox/ },
  )
  await t.rejects(
    buildSourceKernel(variant({ sourcePackage: 'linux-source-6.1', config: [join(fx, 'bad-syntax.config')] })),
    { name: 'InputError', message: /bad-syntax\.config:3/ },
  )
  t.notOk(existsSync(join(cache, 'trees', 'linux-source-6.1_6.1.192-2')), 'no tree was unpacked')
})

t.test('config memo: only Kconfig inputs force a new .config', async t => {
  const { touchesKconfig } = await import('../../../harness/kernel/config-make.js')
  for (const p of ['mm/Kconfig', 'drivers/nvdimm/Kconfig', 'arch/x86/Kconfig.debug', 'kernel/configs/tiny.config', 'arch/x86/configs/tiny.config', 'scripts/kconfig/conf.c', 'Makefile', 'arch/x86/Makefile'])
    t.ok(touchesKconfig(p), p)
  for (const p of ['mm/gup.c', 'init/main.c', 'Documentation/core-api/pin_user_pages.rst', 'drivers/infiniband/core/umem.c', 'mm/Makefile'])
    t.notOk(touchesKconfig(p), p)
})

t.test('one tree per repository: a second commit is fetched into the same tree; the cache owns its objects', async t => {
  const { dir, commit } = await tinyRepo(t)
  const g = (...a: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: dir })
  const spec = (ref: string) => ({ kind: 'source' as const, suite: 'bookworm', config: [], git: { path: dir, ref } })
  const a = await ensureTree(await resolveBase(spec('v0')))
  await execa('sh', ['-c', 'echo changed >> mm/a.c'], { cwd: dir })
  await g('commit', '-qam', 'second')
  const second = (await g('rev-parse', 'HEAD')).stdout.trim()
  const b = await ensureTree(await resolveBase(spec('HEAD')))
  t.equal(b.root, a.root, 'same tree for both commits')
  t.equal(b.commit, second)
  t.not(second, commit)
  t.notOk(existsSync(join(b.src, '.git', 'objects', 'info', 'alternates')), 'no borrowed objects')
  // the repository goes away: a commit the tree has still resolves; HEAD cannot, and says why in one line
  await rm(dir, { recursive: true, force: true })
  const c = await ensureTree(await resolveBase(spec(second)))
  t.equal(c.commit, second, 'a cached commit still builds after its repository is gone')
  await t.rejects(resolveBase(spec('HEAD')), { name: 'InputError', message: /is gone \(moved or deleted\), so "HEAD" cannot be resolved/ })
})

t.test('ref WORKTREE: HEAD plus staged, unstaged and untracked changes, read without writing to the repository', async t => {
  const { worktreeDiff } = await import('../../../harness/kernel/tree.js')
  const { dir, commit } = await tinyRepo(t)
  const g = (...a: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: dir })
  const spec = { kind: 'source' as const, suite: 'bookworm', config: [], git: { path: dir, ref: 'WORKTREE' } }
  const clean = await resolveBase(spec)
  t.equal(clean.id, `git ${commit}`, 'a clean work tree is just HEAD')
  await execa('sh', ['-c', 'echo unstaged >> mm/a.c && echo staged > staged.txt && git add staged.txt && printf "new\\n" > untracked.c && echo x > ignored.o && echo "*.o" > .git/info/exclude'], { cwd: dir })
  const objectsBefore = (await g('count-objects', '-v')).stdout
  const indexBefore = (await g('ls-files', '-s')).stdout
  const b = await resolveBase(spec)
  t.match(b.id, new RegExp(`^git ${commit} \\+ uncommitted changes [0-9a-f]{12}$`))
  t.ok(b.overlay)
  t.equal((await g('count-objects', '-v')).stdout, objectsBefore, 'no object written')
  t.equal((await g('ls-files', '-s')).stdout, indexBefore, 'index untouched')
  // the diff on a clean checkout of HEAD gives the work tree's files
  const copy = await mkdtemp(join(tmpdir(), 'daxrig-wt-'))
  t.teardown(() => rm(copy, { recursive: true, force: true }))
  await execa('git', ['clone', '-q', dir, copy])
  const { writeFile } = await import('node:fs/promises')
  await writeFile(join(copy, 'wt.diff'), await worktreeDiff(dir))
  await execa('git', ['-C', copy, 'apply', '--index', 'wt.diff'])
  t.match(await readFile(join(copy, 'mm', 'a.c'), 'utf8'), /unstaged\n$/)
  t.equal(await readFile(join(copy, 'staged.txt'), 'utf8'), 'staged\n')
  t.equal(await readFile(join(copy, 'untracked.c'), 'utf8'), 'new\n')
  t.notOk(existsSync(join(copy, 'ignored.o')), 'ignored files stay out')
  const again = await resolveBase(spec)
  t.equal(again.id, b.id, 'same changes, same identity (cached by content)')
})
