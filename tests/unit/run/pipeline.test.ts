// Small pure pieces of the per-variant pipeline: names that reach the file system, the replay note above qemu.cmdline.
import t from 'tap'
import { InfraError, InputError, UntestableError } from '../../../harness/errors.js'
import { failureOf, replayNote, safeName } from '../../../harness/run/pipeline.js'

t.test('the replay note recreates every backing file at its size, then the command follows', async t => {
  const note = replayNote('/tmp/daxrig-nv-Ab1', [512 * 2 ** 20, 1024 * 2 ** 20 + 2 * 2 ** 20], ['/tmp/daxrig-nv-Ab1/nv0.img', '/tmp/daxrig-nv-Ab1/nv1.img'])
  t.equal(
    note,
    '# the command daxrig ran (copy-pasteable); its NVDIMM backing files were removed after the run, so first:\n' +
      '#   mkdir -p /tmp/daxrig-nv-Ab1 && truncate -s 512M /tmp/daxrig-nv-Ab1/nv0.img && truncate -s 1026M /tmp/daxrig-nv-Ab1/nv1.img\n',
  )
  t.ok(note.split('\n').filter(Boolean).every(l => l.startsWith('#')), 'only comments: the file still runs as a shell script')
  t.equal(replayNote('/tmp/x', [], []), '# the command daxrig ran (copy-pasteable)\n', 'no NVDIMM, nothing to recreate')
  const copied = replayNote('/tmp/d', [512 * 2 ** 20], ['/tmp/d/nv0.img'], ['/c/media/k/nv0.img'])
  t.match(copied, /^#   mkdir -p \/tmp\/d && cp --reflink=auto --sparse=always \/c\/media\/k\/nv0\.img \/tmp\/d\/nv0\.img$/m, 'a premade medium: a new copy of it')
})

t.test('guest-chosen names cannot escape the out dir', async t => {
  t.equal(safeName('../../etc/passwd'), '__.._etc_passwd', 'no slash, no leading dot')
  t.equal(safeName('baseline-6.1'), 'baseline-6.1')
  t.equal(safeName(''), '_')
  t.notMatch(safeName('a/b\u001b[31m'), /[/\u001b]/)
})

t.test('a run that throws carries its typed failure: the error class and the stage it stopped at', async t => {
  t.same(failureOf(new UntestableError('patch 2 does not apply', 'apply'), undefined, 'kernel'), { kind: 'untestable', stage: 'apply' })
  t.same(failureOf(new UntestableError('make failed', 'build'), undefined, 'kernel'), { kind: 'untestable', stage: 'build' })
  t.same(failureOf(new InputError('no such package'), undefined, 'kernel'), { kind: 'bad-input', stage: 'kernel' })
  t.same(failureOf(new InfraError('qemu died'), undefined, 'boot+test'), { kind: 'infra', stage: 'boot' })
  t.same(failureOf(new InfraError('cpio failed'), undefined, 'image'), { kind: 'infra', stage: 'image' })
  t.same(failureOf(new Error('killed'), 'interrupted', 'kernel'), { kind: 'interrupted', stage: 'kernel' })
})
