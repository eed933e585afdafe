// `daxrig check` under `git bisect run`: only kernel verdicts use 0, 1 and 125; everything else aborts (≥ 128).
import t from 'tap'
import { forBisectRun } from '../../harness/cli/exit.js'
import { EXIT } from '../../harness/errors.js'

t.test('check maps every non-verdict to an abort', async t => {
  t.equal(forBisectRun(['check', 'v', '--test', 'x'], EXIT.ok), 0)
  t.equal(forBisectRun(['check', 'v', '--test', 'x'], EXIT.regression), 1)
  t.equal(forBisectRun(['check', 'v', '--test', 'x'], EXIT.untestable), 125)
  t.equal(forBisectRun(['check', 'v', '--test', 'x'], EXIT.badInput), 128, 'bad input must not read as "bad"')
  t.equal(forBisectRun(['--verbose', 'check', 'v'], EXIT.badInput), 128, 'options before the command')
  t.equal(forBisectRun(['check', 'v'], EXIT.infra), 128)
  t.equal(forBisectRun(['check', 'v'], 130), 130, 'SIGINT keeps its code')
  t.equal(forBisectRun(['check', 'v'], 143), 143, 'SIGTERM keeps its code')
})

t.test('other commands keep the contract as it is', async t => {
  t.equal(forBisectRun(['run', 'v'], EXIT.badInput), 2)
  t.equal(forBisectRun(['bisect', 'v'], EXIT.badInput), 2)
})
