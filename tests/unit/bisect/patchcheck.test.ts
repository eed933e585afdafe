// Patchcheck tests: every prefix in order, stage columns, same-image flag, changed statuses, warnings, the table.
import t from 'tap'
import {
  formatPatchcheckTable,
  mergeStatuses,
  patchcheck,
  stagesPassed,
  statusChanges,
  type PatchcheckRow,
} from '../../../harness/bisect/patchcheck.js'
import { FakeRunner } from './fake-runner.js'

t.test('runs 0..N in order and fills every column', async t => {
  const runner = new FakeRunner({
    name: 'pc',
    n: 6,
    firstBad: 3,
    sameImage: [[1, 2]],
    brokenBuild: [4],
    brokenApply: [6],
    bootFail: [5],
    warnings: { 3: ['fs/dax.c:120: warning: unused variable ‘pfn’'] },
  })
  const lines: string[] = []
  const r = await patchcheck(runner, { tries: 1, log: l => lines.push(l) })
  t.equal(r.status, 'complete')
  t.same(runner.calls.map(c => c.prefix), [0, 1, 2, 3, 4, 5, 6])
  t.equal(r.runs, 7)
  const pick = (row: PatchcheckRow) => [row.patch, row.applies, row.builds, row.boots, row.verdict, row.sameImageAsPrevious]
  t.same(r.rows.map(pick), [
    [0, true, true, true, 'good', false],
    [1, true, true, true, 'good', false],
    [2, true, true, true, 'good', true],
    [3, true, true, true, 'bad', false],
    [4, true, false, undefined, 'skip', false],
    [5, true, true, false, 'skip', false],
    [6, false, undefined, undefined, 'skip', false],
  ])
  t.same(r.rows[3]?.changed, [{ id: 'map_sync.private', from: 'pass', to: 'fail' }])
  t.same(r.rows[3]?.newWarnings, ['fs/dax.c:120: warning: unused variable ‘pfn’'])
  t.same(r.rows[1]?.changed, [])
  t.equal(r.rows[0]?.subject, '(base)')
  t.equal(r.rows[4]?.detail, 'fs/dax.c:42: error: implicit declaration')
  t.equal(lines[4], 'patch 4/6 → skip: fs/dax.c:42: error: implicit declaration (build 0.1 s)')
})

t.test('an untestable prefix is skipped over when comparing statuses and images', async t => {
  // 2 does not build; 3 is compared with 1
  const runner = new FakeRunner({ name: 'pc', n: 3, firstBad: 3, brokenBuild: [2], sameImage: [[1, 3]] })
  const r = await patchcheck(runner, { tries: 1 })
  t.same(r.rows[3]?.changed, [{ id: 'map_sync.private', from: 'pass', to: 'fail' }])
  t.equal(r.rows[3]?.sameImageAsPrevious, true)
})

t.test('tries apply per prefix; flaky statuses are merged', async t => {
  const runner = new FakeRunner({ name: 'pc', n: 2, firstBad: 2, flaky: { every: 3 } })
  const r = await patchcheck(runner, { tries: 3 })
  t.equal(r.rows[2]?.verdict, 'bad')
  t.equal(r.rows[2]?.attempts.length, 4)
  t.same(r.rows[2]?.changed, [{ id: 'map_sync.private', from: 'pass', to: 'fail/pass' }])
})

t.test('infra stops the run and returns the rows so far', async t => {
  const runner = new FakeRunner({ name: 'pc', n: 5, firstBad: 9, infraAt: [2] })
  const r = await patchcheck(runner, { tries: 1 })
  t.equal(r.status, 'infra')
  t.equal(r.rows.length, 3)
  t.equal(r.detail, 'the rig failed at prefix 2/5: qemu-system-x86_64 not found')
  t.same(runner.calls.map(c => c.prefix), [0, 1, 2])
})

t.test('pure helpers', async t => {
  t.same(stagesPassed('bad', 'test'), { applies: true, builds: true, boots: true })
  t.same(stagesPassed('skip', 'boot'), { applies: true, builds: true, boots: false })
  t.same(stagesPassed('skip', undefined), {})
  t.same(mergeStatuses([undefined, undefined]), undefined)
  t.same(mergeStatuses([{ a: 'pass', b: 'fail' }, { a: 'pass', b: 'pass' }, { c: 'skip' }]), { a: 'pass', b: 'fail/pass', c: 'skip' })
  t.same(statusChanges({ a: 'pass', b: 'fail' }, { a: 'fail', c: 'pass' }), [
    { id: 'a', from: 'pass', to: 'fail' },
    { id: 'b', from: 'fail', to: '-' },
    { id: 'c', from: '-', to: 'pass' },
  ])
  t.same(statusChanges(undefined, { a: 'pass' }), [])
})

t.test('formatPatchcheckTable', async t => {
  const runner = new FakeRunner({
    name: 'pc',
    n: 3,
    firstBad: 2,
    sameImage: [[2, 3]],
    brokenBuild: [1],
    subjects: ['dax: a very long subject line that goes on and on past the column limit', 'mm: break it', 'doc: typo'],
    warnings: { 2: ['mm/memory.c:9: warning: x'] },
  })
  const r = await patchcheck(runner, { tries: 1 })
  const text = formatPatchcheckTable(r.rows)
  t.equal(
    text,
    [
      'patch  subject                                             apply  build  boot  verdict  image  new warnings               changed tests',
      '0      (base)                                              ok     ok     ok    good',
      '1      dax: a very long subject line that goes on and on…  ok     FAIL   -     skip',
      '2      mm: break it                                        ok     ok     ok    bad             mm/memory.c:9: warning: x  map_sync.private pass→fail',
      '3      doc: typo                                           ok     ok     ok    bad      same',
    ].join('\n'),
  )
  const lines = text.split('\n')
  const col = lines[0]?.indexOf('verdict')
  for (const l of lines.slice(1)) t.equal(l.indexOf(l.split(/\s{2,}/)[5] ?? ''), col, 'verdict column aligned')
})

t.test('formatPatchcheckTable: many changes are counted in the row and listed under the table', async t => {
  const row = (patch: number, changed: { id: string; from: string; to: string }[]) => ({
    patch, subject: `p${patch}`, applies: true, builds: true, boots: true, verdict: 'good' as const, reason: '', detail: '', attempts: [], sameImageAsPrevious: false, changed,
  })
  const many = [...Array(6).keys()].map(i => ({ id: `s.c${i}`, from: 'skip', to: i < 4 ? 'pass' : 'fail' }))
  const text = formatPatchcheckTable([row(0, []), row(1, many), row(2, [{ id: 's.c4', from: 'fail', to: 'pass' }])])
  const lines = text.split('\n')
  t.match(lines[2], /good\s+6 tests: 4 skip→pass, 2 skip→fail \(listed below\)$/)
  t.match(lines[3], /good\s+s\.c4 fail→pass$/)
  t.equal(lines[2]!.indexOf('good'), lines[3]!.indexOf('good'), 'rows stay aligned')
  t.equal(lines.at(-1), `patch 1 changed: ${many.map(c => `${c.id} ${c.from}→${c.to}`).join(', ')}`)
})
