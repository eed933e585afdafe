// State file tests: an interrupted bisection resumes with fewer runs; a different bisection is refused or restarted.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bisect } from '../../../harness/bisect/bisect.js'
import { identityMismatch, loadState, STATE_SCHEMA, type BisectState } from '../../../harness/bisect/state.js'
import { InputError } from '../../../harness/errors.js'
import { FakeRunner, type FakeCase } from './fake-runner.js'

const base: FakeCase = { name: 'resume', n: 9, firstBad: 6, identity: 'vfio-pin-revert-6.1 --test vfio_pin.fsdax_pin' }

t.test('resume after the rig crashed mid-way', async t => {
  const dir = t.testdir()
  const statePath = join(dir, 'sub', 'bisect-state.json')

  const clean = new FakeRunner(base)
  const full = await bisect(clean, { tries: 2 })
  t.equal(full.firstBad, 6)
  t.equal(clean.calls.length, 10, '5 prefixes × 2 runs')

  // call 6 is the second run of prefix 4: its first run is already saved
  const crashing = new FakeRunner({ ...base, throwOnCall: 6 })
  await t.rejects(bisect(crashing, { tries: 2, statePath }), /simulated crash/)
  const saved = (await loadState(statePath)) as BisectState
  t.equal(saved.schema, STATE_SCHEMA)
  t.same(
    saved.prefixes.map(p => [p.prefix, p.verdict, p.attempts.length]),
    [
      [0, 'good', 2],
      [4, undefined, 1],
      [9, 'bad', 2],
    ],
  )

  const lines: string[] = []
  const resumed = new FakeRunner(base)
  const r = await bisect(resumed, { tries: 2, statePath, log: l => lines.push(l) })
  t.equal(r.status, 'found')
  t.equal(r.firstBad, 6)
  t.equal(resumed.calls.length, 10 - 5, 'only the runs not saved before the crash')
  t.ok(resumed.calls.length < clean.calls.length)
  t.same(resumed.calls[0], { prefix: 4, attempt: 1 }, 'prefix 4 continues with its second run')
  t.same(
    r.steps.map(s => [s.prefix, s.verdict, s.resumed ?? false]),
    [
      [0, 'good', true],
      [9, 'bad', true],
      [4, 'good', false],
      [6, 'bad', false],
      [5, 'good', false],
    ],
  )
  t.equal(r.runs, 5)
  t.equal(lines[0], 'step 1: prefix 0/9 → good, all 2 runs passed, from the state file (build 0.1 s, test 0.1 s)')
  t.same(await readdir(join(dir, 'sub')), ['bisect-state.json'], 'no temp files left behind')

  // a finished bisection resumed again needs no runner call at all
  const again = new FakeRunner(base)
  const r2 = await bisect(again, { tries: 2, statePath })
  t.equal(r2.firstBad, 6)
  t.equal(again.calls.length, 0)
  t.equal(r2.builds, 0)
})

t.test('infra runs are not saved: the resumed bisection tests that prefix again', async t => {
  const statePath = join(t.testdir(), 'state.json')
  const r1 = await bisect(new FakeRunner({ ...base, infraAt: [4] }), { tries: 1, statePath })
  t.equal(r1.status, 'infra')
  const saved = (await loadState(statePath)) as BisectState
  t.notOk(saved.prefixes.some(p => p.prefix === 4 && p.verdict !== undefined))
  const fixed = new FakeRunner(base)
  const r2 = await bisect(fixed, { tries: 1, statePath })
  t.equal(r2.firstBad, 6)
  t.equal(fixed.calls[0]?.prefix, 4)
  t.notOk(fixed.calls.some(c => c.prefix === 0 || c.prefix === 9), 'endpoints came from the state file')
})

t.test('a state file of a different bisection is refused, or ignored with restart', async t => {
  const statePath = join(t.testdir(), 'state.json')
  await bisect(new FakeRunner(base), { tries: 1, statePath })

  const otherTest = new FakeRunner({ ...base, identity: 'vfio-pin-revert-6.1 --test map_sync.private' })
  await t.rejects(bisect(otherTest, { tries: 1, statePath }), InputError)
  await t.rejects(bisect(otherTest, { tries: 1, statePath }), /belongs to a different bisection: the test identity differs/)

  const subjects = Array.from({ length: 9 }, (_, i) => `patch ${i + 1} of resume`)
  subjects[2] = 'dax: a reworded patch'
  await t.rejects(bisect(new FakeRunner({ ...base, subjects }), { tries: 1, statePath }), /patch 3 differs/)
  await t.rejects(bisect(new FakeRunner(base), { tries: 3, statePath }), /--tries 1 \(cap 3\), this uses --tries 3/)
  await t.rejects(bisect(new FakeRunner({ ...base, fix: true }), { tries: 1, fix: true, statePath }), /cause bisection/)

  const fresh = new FakeRunner({ ...otherTest.c, firstBad: 2 })
  const r = await bisect(fresh, { tries: 1, statePath, restart: true })
  t.equal(r.firstBad, 2)
  t.notOk(r.steps.some(s => s.resumed), 'nothing reused from the other bisection')
  const saved = JSON.parse(await readFile(statePath, 'utf8')) as BisectState
  t.equal(saved.identity.runner, otherTest.identity, 'the file now belongs to the new bisection')
})

t.test('a file that is not a state file is bad input', async t => {
  const dir = t.testdir({ 'junk.json': '{not json', 'other.json': '{"schema":"something-else"}' })
  await t.rejects(bisect(new FakeRunner(base), { tries: 1, statePath: join(dir, 'junk.json') }), InputError)
  await t.rejects(bisect(new FakeRunner(base), { tries: 1, statePath: join(dir, 'other.json') }), /not a daxrig-bisect-state\/1 file/)
  const r = await bisect(new FakeRunner(base), { tries: 1, statePath: join(dir, 'junk.json'), restart: true })
  t.equal(r.status, 'found', 'restart overwrites it')
})

t.test('identityMismatch', async t => {
  const id = { mode: 'cause' as const, tries: 1, maxRuns: 3, length: 2, subjects: ['a', 'b'] }
  t.equal(identityMismatch(id, { ...id }), undefined)
  t.equal(identityMismatch(id, { ...id, length: 3, subjects: ['a', 'b', 'c'] }), 'the series had 2 patches, now 3')
  t.equal(identityMismatch(id, { ...id, subjects: ['a', 'c'] }), 'patch 2 differs ("b" vs "c")')
  t.equal(identityMismatch(id, { ...id, runner: 'x' }), 'the test identity differs (none vs x)')
})
