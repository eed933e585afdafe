// kbuild plumbing without a kernel: the error excerpt, progress counting, the pinned make command line.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildEnv, compilerErrors, countCompiles, makeArgs, REPRODUCIBLE_ENV } from '../../../harness/kernel/build.js'
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
