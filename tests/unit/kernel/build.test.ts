// kbuild plumbing without a kernel: the error excerpt, progress counting, the pinned make command line.
import t from 'tap'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { UntestableError } from '../../../harness/errors.js'
import { abortBuilds, buildEnv, compilerErrors, countCompiles, makeArgs, REPRODUCIBLE_ENV, runMake } from '../../../harness/kernel/build.js'
import { projectRoot } from '../../../harness/paths.js'

const fx = join(projectRoot(), 'tests', 'fixtures', 'kernel')

t.test('compilerErrors keeps the error with its context and drops the CC noise', async t => {
  const log = await readFile(join(fx, 'build-fail.log'), 'utf8')
  const ex = compilerErrors(log)
  t.match(ex, /mm\/gup\.c: In function 'check_vma_flags':/)
  t.match(ex, /error: 'FOLL_LONGTERMX' undeclared/)
  t.match(ex, /\^~~~/)
  t.match(ex, /make\[3\]: \*\*\* \[scripts\/Makefile\.build:250: mm\/gup\.o\] Error 1/)
  t.notMatch(ex, /CC\s+mm\/filemap\.o/)
  t.notMatch(ex, /kernel\/fork\.o/)
  t.ok(ex.split('\n').length < log.split('\n').length)
})

t.test('compilerErrors caps a flood of errors', async t => {
  const log = Array.from({ length: 200 }, (_, i) => `f.c:${i}:1: error: e${i}`).join('\n')
  const ex = compilerErrors(log, 10).split('\n')
  t.equal(ex.length, 11)
  t.match(ex.at(-1), /more lines/)
  t.equal(compilerErrors('  CC x.o\n  LD y\n'), '')
})

t.test('countCompiles counts kbuild CC lines only', async t => {
  t.equal(countCompiles('  CC      mm/gup.o\n  CC      init/main.o\n  HOSTCC  scripts/x\n  LD      vmlinux\nCC not indented\n'), 2)
})

t.test('make runs with the pinned compiler, arch and an empty LOCALVERSION', async t => {
  const a = makeArgs('/src', '/out', ['bzImage'], 2)
  t.same(a, ['-C', '/src', 'O=/out', '-j2', 'ARCH=x86_64', 'CC=ccache gcc', 'HOSTCC=gcc', 'LOCALVERSION=', 'bzImage'])
  const env = buildEnv()
  for (const k of ['KBUILD_BUILD_TIMESTAMP', 'KBUILD_BUILD_USER', 'KBUILD_BUILD_HOST', 'KBUILD_BUILD_VERSION'] as const)
    t.equal(env[k], REPRODUCIBLE_ENV[k], `${k} pinned`)
  t.match(env.CCACHE_DIR, /ccache$/)
})

/** A stand-in source tree whose Makefile behaves like a failing or a hanging kbuild. */
async function fakeTree(body: string): Promise<{ src: string; out: string; log: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-make-'))
  await mkdir(join(dir, 'src'))
  await mkdir(join(dir, 'out'))
  await writeFile(join(dir, 'src', 'Makefile'), `bzImage:\n${body}\n`)
  return { src: join(dir, 'src'), out: join(dir, 'out'), log: join(dir, 'build.log'), done: () => rm(dir, { recursive: true, force: true }) }
}

t.test('a failing build is UntestableError(build) with only the error lines; the full log is kept', async t => {
  const f = await fakeTree(
    [
      '\t@for i in 1 2 3 4 5 6 7 8; do echo "  CC      mm/f$$i.o"; done',
      `\t@echo "mm/gup.c: In function 'check_vma_flags':"`,
      `\t@echo "mm/gup.c:1075:13: error: 'X' undeclared"`,
      '\t@exit 2',
    ].join('\n'),
  )
  t.teardown(f.done)
  const events: string[] = []
  const err = await runMake(f.src, f.out, ['bzImage'], f.log, { events: e => events.push(e.type) }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(err, UntestableError)
  const u = err as UntestableError
  t.equal(u.stage, 'build')
  t.match(u.excerpt, /error: 'X' undeclared/)
  t.notMatch(u.excerpt, /CC\s+mm\/f1\.o/)
  t.match(u.message, f.log)
  t.match(await readFile(f.log, 'utf8'), /CC\s+mm\/f8\.o/)
})

t.test('abortBuilds kills the whole make process group', async t => {
  const f = await fakeTree('\t@echo started; sleep 60 & sleep 60; wait')
  t.teardown(f.done)
  const started = Date.now()
  const p = runMake(f.src, f.out, ['bzImage'], f.log)
  await new Promise(r => setTimeout(r, 700))
  abortBuilds()
  await t.rejects(p, { name: 'InfraError', message: /make was killed .*build interrupted/ })
  t.ok(Date.now() - started < 20_000, 'did not wait for the sleeps')
  const left = await execa('pgrep', ['-f', `sleep 60`], { reject: false })
  const mine = left.stdout.split('\n').filter(Boolean)
  // other users of this host may run sleeps too; ours were in the make group that is now gone
  for (const pid of mine) {
    const cmd = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')
    t.notMatch(cmd, /KBUILD_BUILD_USER=daxrig/, `sleep ${pid} was not left behind by the build`)
  }
})

t.test('a make group killed from outside (the CLI handler, the OOM killer) is infra, not a broken kernel', async t => {
  const f = await fakeTree('\t@echo started; sleep 60')
  t.teardown(f.done)
  const p = runMake(f.src, f.out, ['bzImage'], f.log)
  await new Promise(r => setTimeout(r, 700))
  const sleeper = await execa('pgrep', ['-f', '^sleep 60$'], { reject: false })
  for (const pid of sleeper.stdout.split('\n').filter(Boolean)) {
    const env = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')
    if (env.includes('KBUILD_BUILD_USER=daxrig')) process.kill(Number(pid), 'SIGTERM')
  }
  await t.rejects(p, { name: 'InfraError', message: /build interrupted/ })
})
