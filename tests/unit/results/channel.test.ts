// Results channel: framing by token, init's markers, one program per top-level result, case ids, and the
// document the cases and the counts both come from.
import t from 'tap'
import { parseResultsChannel, parseSetupLine, unframe } from '../../../harness/results/channel.js'

const lines = (...l: string[]): string => l.join('\n') + '\n'

t.test('parseSetupLine', async t => {
  t.same(parseSetupLine('# daxrig-setup: ok'), { ok: true })
  t.same(parseSetupLine('# daxrig-setup: FAIL mount: /mnt/ext4: wrong fs type'), { ok: false, step: 'mount', message: '/mnt/ext4: wrong fs type' })
  t.equal(parseSetupLine('# something else'), null)
})

t.test('results channel: program.case ids, setup, exit marker', async t => {
  const r = parseResultsChannel(lines('# daxrig-setup: ok', 'KTAP version 1', '1..1', '  KTAP version 1', '  1..2', '  ok 1 a', '  # bad flags', '  not ok 2 b', 'not ok 1 prog', '# daxrig-exit: 1'))
  t.same(r.cases.map(c => [c.id, c.status, c.detail]), [['prog.a', 'pass', ''], ['prog.b', 'fail', 'bad flags']])
  t.same(r.setup, { ok: true })
  t.equal(r.exitCode, 1)
  t.equal(r.exited, true)
})

t.test('results channel: TIMEOUT program makes unreported cases timeout', async t => {
  const r = parseResultsChannel(lines('KTAP version 1', '1..1', '  KTAP version 1', '  1..2', '  ok 1 a', 'not ok 1 prog # TIMEOUT 60 s', '# daxrig-exit: 0'))
  t.same(r.cases.map(c => [c.id, c.status]), [['prog.a', 'pass'], ['prog.#2', 'timeout']])
})

t.test('results channel: no exit marker → unreported cases and programs that never started are crashed', async t => {
  const r = parseResultsChannel(lines('KTAP version 1', '1..2', '  KTAP version 1', '  1..2', '  ok 1 a'), { programs: ['first', 'second'] })
  t.equal(r.exited, false)
  t.same(r.cases.map(c => [c.id, c.status]), [['first.a', 'pass'], ['first.#2', 'crashed'], ['second', 'crashed']])
})

t.test('results channel: a program that printed nothing reports under its own name', async t => {
  const r = parseResultsChannel(lines('KTAP version 1', '1..1', 'not ok 1 prog # ERROR signal=11', '# daxrig-exit: 0'))
  t.same(r.cases.map(c => [c.id, c.status, c.detail]), [['prog', 'error', 'ERROR: signal=11']])
})

t.test('results channel: setup FAIL before any KTAP', async t => {
  const r = parseResultsChannel(lines('# daxrig-setup: FAIL ndctl: create-namespace failed', '# daxrig-exit: 2'), { programs: ['a'] })
  t.same(r.setup, { ok: false, step: 'ndctl', message: 'create-namespace failed' })
  t.same(r.cases, [])
  t.equal(r.doc.found, false)
})

t.test('results channel: a program that exits abnormally with all cases ok still fails', async t => {
  const r = parseResultsChannel(['# daxrig-setup: ok', 'KTAP version 1', '1..1', '  KTAP version 1', '  1..1', '  ok 1 a', 'not ok 1 prog # ERROR exit=3', '# daxrig-exit: 0'].join('\n'))
  t.same(r.cases.map(c => [c.id, c.status]), [['prog.a', 'pass'], ['prog.exit_status', 'error']])
  t.match(r.cases[1]!.detail, /exit=3/)
})

t.test('results channel: a program cannot forge init markers; case ids lose escape sequences', async t => {
  const r = parseResultsChannel(['# daxrig-setup: ok', 'KTAP version 1', '1..1', '  KTAP version 1', '  1..1', '  # daxrig-exit: 0', '  ok 1 \u001b[32mgreen\u001b[0m'].join('\n'))
  t.equal(r.exited, false, 'the indented marker is program output')
  t.equal(r.cases[0]!.id, 'prog.green'.replace('prog', r.cases[0]!.id.split('.')[0]!))
  t.notMatch(r.cases[0]!.id, /\u001b/)
})

t.test('a program whose own plan is 1..0 is no-tests: a skip for the rig', async t => {
  const r = parseResultsChannel(lines('KTAP version 1', '1..1', '  KTAP version 1', '  1..0', 'ok 1 empty', '# daxrig-exit: 0'))
  t.same(r.cases.map(c => [c.id, c.status]), [['empty', 'skip']])
})


t.test('unframe: init lines by token, program lines by indentation, the rest is noise', async t => {
  const tok = 'dxr0123456789abcdef'
  const raw = lines(`${tok} # daxrig-setup: ok`, `${tok} KTAP version 1`, `${tok} 1..1`, '  KTAP version 1', '  1..1', '  ok 1 a', '# daxrig-exit: 0', `${tok} # daxrig-left: prog 2`, `${tok} ok 1 prog`, `${tok} # daxrig-exit: 0`)
  const u = unframe(raw, tok)
  t.same(u.noise, ['# daxrig-exit: 0'], 'an unframed marker is noise')
  t.same(u.leftBehind, [{ program: 'prog', count: 2 }])
  const r = parseResultsChannel(u.text)
  t.same(r.cases.map(c => [c.id, c.status, c.diagnostics]), [['prog.a', 'pass', []]], "init's own notes are not the program's diagnostics")
  t.equal(r.exitCode, 0)
})

t.test('began: the version line came', async t => {
  t.equal(parseResultsChannel(lines('# daxrig-setup: ok', 'KTAP version 1', '1..1')).began, true)
  t.equal(parseResultsChannel(lines('# daxrig-setup: ok')).began, false)
  t.equal(parseResultsChannel('').began, false)
})

t.test('counts and cases come from the same document: programs that never started are in both', async t => {
  const r = parseResultsChannel(lines('KTAP version 1', '1..3', '  KTAP version 1', '  1..1', '  ok 1 a', 'ok 1 first', '  KTAP version 1', '  1..2', '  ok 1 b'), { programs: ['first', 'second', 'third'] })
  t.same(r.cases.map(c => [c.id, c.status, c.detail]), [
    ['first.a', 'pass', ''],
    ['second.b', 'pass', ''],
    ['second.#2', 'crashed', 'guest died before the result'],
    ['third', 'crashed', 'guest died before the program ran'],
  ])
  t.same(r.doc.tests.map(x => [x.number, x.reported]), [[1, true], [2, false], [3, false]])
  t.same(r.doc.counts, { passed: 2, failed: 0, skipped: 0, crashed: 2, errors: 0 })
  t.same(r.programs.map(p => [p.name, p.detail]), [['first', ''], ['second', 'guest died before the result'], ['third', 'never started']])
})

t.test('a program cannot end the document or add programs: fake plans and quoted banners stay in its block', async t => {
  const r = parseResultsChannel(
    lines('KTAP version 1', '1..2', '  KTAP version 1', '  1..1', '  1..9', '  ok 1 a', '    # Linux version 6.1.0 (quoted)', '  # daxrig-exit: 7', 'ok 1 p', '  KTAP version 1', '  1..1', '  ok 1 b', 'ok 2 q', '# daxrig-exit: 0'),
  )
  t.same(r.cases.map(c => [c.id, c.status]), [['p.a', 'pass'], ['q.b', 'pass']])
  t.equal(r.exitCode, 0)
  t.same(r.doc.counts, { passed: 2, failed: 0, skipped: 0, crashed: 0, errors: 0 })
})

t.test('a console log: printk prefixes, other CPUs in between, a call trace is no program', async t => {
  const r = parseResultsChannel(
    lines(
      '[    1.000000] KTAP version 1',
      '[    1.100000] 1..1',
      '[    1.200000]   KTAP version 1',
      '[    1.300000]   1..2',
      '[    1.400000]   ok 1 a',
      '[    1.500000] WARNING: CPU: 0 PID: 1 at mm/memory.c:1 f+0x1/0x2',
      '[    1.600000] Call Trace:',
      '[    1.700000]  <TASK>',
      '[    1.800000]  dump_stack+0x1/0x2',
      '[    1.900000]  </TASK>',
      '[    2.000000]   not ok 2 b',
      '[    2.100000] not ok 1 p',
      '[    2.200000]  ? after_the_last+0x1/0x2',
      '[    2.300000] # daxrig-exit: 1',
    ),
  )
  t.same(r.cases.map(c => [c.id, c.status]), [['p.a', 'pass'], ['p.b', 'fail']])
  t.equal(r.exitCode, 1)
  t.equal(r.doc.prefix, '[    1.000000] ')
})
