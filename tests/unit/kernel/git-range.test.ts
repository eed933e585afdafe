// Git ranges read exactly what `git format-patch` writes: a range whose last patch ends in a context line, in an
// added file or in a deleted file applies in full; renames and binary hunks apply; a range with merges is refused.
import t, { type Test } from 'tap'
import { execa } from 'execa'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applySeries, loadGitRange } from '../../../harness/kernel/series.js'
import { InputError } from '../../../harness/errors.js'

const ID = ['-c', 'user.name=t', '-c', 'user.email=t@localhost', '-c', 'commit.gpgsign=false']
const git = (dir: string, ...a: string[]) => execa('git', ['-C', dir, ...ID, ...a])

async function repo(): Promise<{ dir: string; base: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-range-'))
  await git(dir, 'init', '-q', '-b', 'main')
  await writeFile(join(dir, 'a.txt'), Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n') + '\n')
  await writeFile(join(dir, 'old.txt'), 'to be deleted\n')
  await writeFile(join(dir, 'moved.txt'), Array.from({ length: 10 }, (_, i) => `moved ${i}`).join('\n') + '\n')
  await git(dir, 'add', '-A')
  await git(dir, 'commit', '-q', '-m', 'base')
  return { dir, base: (await git(dir, 'rev-parse', 'HEAD')).stdout.trim() }
}

async function commit(dir: string, msg: string, change: () => Promise<unknown>): Promise<void> {
  await change()
  await git(dir, 'add', '-A')
  await git(dir, 'commit', '-q', '-m', msg)
}

/** Applies the whole range to a fresh checkout of its base and compares the result with the range's end. */
async function roundTrip(t: Test, dir: string, base: string): Promise<void> {
  const patches = await loadGitRange(dir, `${base}..HEAD`)
  const copy = await mkdtemp(join(tmpdir(), 'daxrig-range-apply-'))
  await execa('git', ['clone', '-q', dir, copy])
  await git(copy, 'checkout', '-q', base)
  await applySeries(copy, patches)
  const diff = await execa('git', ['-C', copy, 'diff', '--cached', '--stat', 'origin/main'])
  t.equal(diff.stdout, '', 'the applied series equals the range end')
  await rm(copy, { recursive: true, force: true })
}

const edit = (f: string, from: string, to: string) => async () => writeFile(f, (await readFile(f, 'utf8')).replace(from, to))

t.test('last patch ends in a context line (mid-file edit)', async t => {
  const { dir, base } = await repo()
  for (let i = 1; i <= 4; i++) await commit(dir, `change ${i}`, () => writeFile(join(dir, `f${i}.txt`), `${i}\n`))
  await commit(dir, 'edit the middle of a.txt', edit(join(dir, 'a.txt'), 'line 10\n', 'line ten\n'))
  await roundTrip(t, dir, base)
})

t.test('last patch adds a file', async t => {
  const { dir, base } = await repo()
  await commit(dir, 'edit', edit(join(dir, 'a.txt'), 'line 3\n', 'line three\n'))
  await commit(dir, 'add a file', () => writeFile(join(dir, 'new.txt'), 'new\nfile\n'))
  await roundTrip(t, dir, base)
})

t.test('last patch deletes a file', async t => {
  const { dir, base } = await repo()
  await commit(dir, 'edit', edit(join(dir, 'a.txt'), 'line 3\n', 'line three\n'))
  await commit(dir, 'delete a file', () => rm(join(dir, 'old.txt')))
  await roundTrip(t, dir, base)
})

t.test('renames and binary hunks', async t => {
  const { dir, base } = await repo()
  await commit(dir, 'rename', () => git(dir, 'mv', 'moved.txt', 'renamed.txt'))
  await commit(dir, 'binary', () => writeFile(join(dir, 'blob.bin'), Buffer.from([0, 1, 2, 255, 0, 7, 0])))
  const patches = await loadGitRange(dir, `${base}..HEAD`)
  t.same(patches.map(p => p.subject), ['rename', 'binary'])
  await roundTrip(t, dir, base)
  t.ok(existsSync(join(dir, 'renamed.txt')))
})

t.test('a range with a merge is refused with one clear line', async t => {
  const { dir, base } = await repo()
  await git(dir, 'checkout', '-q', '-b', 'side')
  await commit(dir, 'side', () => writeFile(join(dir, 'side.txt'), 's\n'))
  await git(dir, 'checkout', '-q', 'main')
  await commit(dir, 'main', () => writeFile(join(dir, 'main.txt'), 'm\n'))
  await git(dir, 'merge', '-q', '--no-edit', 'side')
  await t.rejects(loadGitRange(dir, `${base}..HEAD`), /contains merge commits .*: give a linear range/)
  await loadGitRange(dir, `${base}..HEAD`).catch(e => t.ok(e instanceof InputError))
})
