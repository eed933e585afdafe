// KTAP parser: version detection, prefixes, nesting, directives, plans, crashes.
import t from 'tap'
import { extractTapLines, indentOf, isVersionLine, parseKtap, parseResultLine, planOf } from '../../../harness/results/ktap.js'

const lines = (...l: string[]): string => l.join('\n') + '\n'

t.test('parseResultLine: numbers, dashes, directives', async t => {
  t.same(parseResultLine('ok 1 map_sync'), { ok: true, number: 1, name: 'map_sync' })
  t.same(parseResultLine('not ok 12 - pin # SKIP no vfio'), { ok: false, number: 12, name: 'pin', directive: { kind: 'SKIP', reason: 'no vfio' } })
  t.same(parseResultLine('ok 3 x # skip lower case'), { ok: true, number: 3, name: 'x', directive: { kind: 'SKIP', reason: 'lower case' } })
  t.same(parseResultLine('not ok 2 p # TIMEOUT 60 s')?.directive, { kind: 'TIMEOUT', reason: '60 s' })
  t.same(parseResultLine('not ok 2 p # ERROR exit=3')?.directive, { kind: 'ERROR', reason: 'exit=3' })
  t.same(parseResultLine('ok 2 p # XFAIL')?.directive, { kind: 'XFAIL', reason: '' })
  t.equal(parseResultLine('okay then'), null)
  t.equal(parseResultLine('# ok 1 in a comment'), null)
})

t.test('isVersionLine and planOf', async t => {
  t.ok(isVersionLine('KTAP version 1'))
  t.ok(isVersionLine('TAP version 14'))
  t.notOk(isVersionLine('  KTAP version 1'), 'indentation is the caller\'s business')
  t.notOk(isVersionLine('KTAP version one'))
  t.equal(planOf('1..4'), 4)
  t.equal(planOf('1..0 # SKIP nothing to do'), 0)
  t.equal(planOf('1..'), null)
  t.equal(planOf('ok 1 a'), null)
})

t.test('indentOf: spaces and tabs', async t => {
  t.equal(indentOf('ok'), 0)
  t.equal(indentOf('  ok'), 2)
  t.equal(indentOf('    ok'), 4)
  t.equal(indentOf('\tok'), 8)
  t.equal(indentOf('\t\tok'), 16)
})

t.test('version line found anywhere; prefix measured there and stripped', async t => {
  const ex = extractTapLines(lines('boot noise', 'guest: KTAP version 1', 'guest: 1..1', 'other line', 'guest: ok 1 a'))
  t.equal(ex.found, true)
  t.equal(ex.prefix, 'guest: ')
  t.same(ex.lines.map(l => l.text), ['KTAP version 1', '1..1', 'ok 1 a'])
  t.same(ex.lines.map(l => l.line), [2, 3, 5])
  t.equal(extractTapLines('nothing here\n').found, false)
  t.equal(extractTapLines('TAP version 13\nok 1 a\n').version, 'TAP version 13')
})

t.test('printk prefixes differ per line and are stripped by pattern', async t => {
  const doc = parseKtap(lines('[    1.000000] KTAP version 1', '[    1.100000] 1..2', '[    1.200000] ok 1 a', '[   12.300000] not ok 2 b'))
  t.same(doc.tests.map(x => [x.name, x.status]), [['a', 'pass'], ['b', 'fail']])
  t.equal(doc.prefix, '[    1.000000] ')
})

t.test('CRLF from the serial port is stripped', async t => {
  const doc = parseKtap('KTAP version 1\r\n1..1\r\nok 1 a # SKIP why\r\n')
  t.equal(doc.tests[0]?.name, 'a')
  t.same(doc.tests[0]?.directive, { kind: 'SKIP', reason: 'why' })
})

t.test('nesting by 2 spaces, 4 spaces and tabs', async t => {
  for (const ind of ['  ', '    ', '\t']) {
    const doc = parseKtap(lines('KTAP version 1', '1..1', `${ind}KTAP version 1`, `${ind}1..2`, `${ind}ok 1 x`, `${ind}not ok 2 y`, 'not ok 1 parent'))
    t.equal(doc.tests.length, 1, JSON.stringify(ind))
    t.same(doc.tests[0]?.subtests.map(s => [s.name, s.status]), [['x', 'pass'], ['y', 'fail']], JSON.stringify(ind))
    t.equal(doc.tests[0]?.plan, 2)
  }
})

t.test('TAP 14 `# Subtest:` names a child whose parent line has no name', async t => {
  const doc = parseKtap(lines('TAP version 14', '1..1', '    # Subtest: inner', '    1..1', '    ok 1 leaf', 'ok 1'))
  t.equal(doc.tests[0]?.name, 'inner')
  t.equal(doc.tests[0]?.subtests[0]?.name, 'leaf')
})

t.test('diagnostics attach to the following result only', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..2', '# first', '# second', 'not ok 1 a', 'ok 2 b', '# trailing'))
  t.same(doc.tests[0]?.diagnostics, ['first', 'second'])
  t.same(doc.tests[1]?.diagnostics, [])
  t.same(doc.trailing, ['trailing'])
})

t.test('a plan that is not fulfilled leaves crashed tests, never passed ones', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..3', 'ok 1 a'))
  t.same(doc.tests.map(x => [x.number, x.status, x.reported]), [[1, 'pass', true], [2, 'crashed', false], [3, 'crashed', false]])
  t.same(doc.counts, { passed: 1, failed: 0, skipped: 0, crashed: 2, errors: 0 })
})

t.test('output cut inside a subtest: the open subtest is crashed with its partial results', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..1', '  KTAP version 1', '  1..2', '  ok 1 a'))
  const top = doc.tests[0]
  t.equal(top?.status, 'crashed')
  t.same(top?.subtests.map(s => s.status), ['pass', 'crashed'])
})

t.test('parsing stops at a panic, a reboot or a new boot banner', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..2', 'ok 1 a', 'Kernel panic - not syncing: Fatal exception', 'ok 2 b'))
  t.same(doc.tests.map(x => x.status), ['pass', 'crashed'])
  const doc2 = parseKtap(lines('KTAP version 1', '1..2', 'ok 1 a', 'reboot: System halted', 'ok 2 b'))
  t.same(doc2.tests.map(x => x.status), ['pass', 'crashed'])
})

t.test('Bail out! makes the rest crashed', async t => {
  const doc = parseKtap(lines('TAP version 13', '1..2', 'ok 1 a', 'Bail out! no memory', 'ok 2 b'))
  t.equal(doc.bailOut, 'no memory')
  t.same(doc.tests.map(x => x.status), ['pass', 'crashed'])
})

t.test('unknown lines between test lines are tolerated and kept', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..2', 'random: crng init done', 'ok 1 a', '  some program chatter', 'ok 2 b'))
  t.same(doc.tests.map(x => x.status), ['pass', 'pass'])
  t.same(doc.noise.map(n => n.text), ['random: crng init done', '  some program chatter'])
})

t.test('TAP 13 YAML blocks become diagnostics of the result before them', async t => {
  const doc = parseKtap(lines('TAP version 13', '1..1', 'not ok 1 a', '  ---', '  message: bad', '  ...'))
  t.same(doc.tests[0]?.diagnostics, ['message: bad'])
})

t.test('a child document whose parent line never came is closed as crashed', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..2', '  KTAP version 1', '  1..1', '  ok 1 a', '  KTAP version 1', '  1..1', '  ok 1 b', 'ok 2 second'))
  t.equal(doc.tests.length, 2)
  t.same([doc.tests[0]?.status, doc.tests[0]?.subtests[0]?.name], ['crashed', 'a'])
  t.same([doc.tests[1]?.name, doc.tests[1]?.subtests[0]?.name], ['second', 'b'])
})

t.test('a child with an empty plan and no directive is no-tests', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..1', '  KTAP version 1', '  1..0', 'ok 1 empty'))
  t.equal(doc.tests[0]?.status, 'no-tests')
})

t.test('an indented line never ends the document: a test may quote a panic or a boot banner', async t => {
  const doc = parseKtap(lines('KTAP version 1', '1..1', '  KTAP version 1', '  1..2', '  # Linux version 6.1.0', '  ok 1 a', '  ok 2 b', 'ok 1 p'))
  t.same(doc.tests[0]?.subtests.map(s => s.status), ['pass', 'pass'])
  t.equal(doc.tests[0]?.status, 'pass')
})
