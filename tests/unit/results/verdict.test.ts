// Verdicts: glob rules and precedence, per-case outcomes, missing/unexpected cases, run verdicts, counts.
import t from 'tap'
import type { CaseResult, ConsoleFinding, ExpectRule, VmEnd } from '../../../harness/types.js'
import { caseOutcomes, caseVerdict, computeVerdict, countsLine, globToRegExp, ruleFor } from '../../../harness/results/verdict.js'

const c = (id: string, status: CaseResult['status'], detail = ''): CaseResult => ({ id, status, detail, diagnostics: [] })
const rule = (pattern: string, verdict: ExpectRule['verdict'], reason?: string): ExpectRule => (reason ? { pattern, verdict, reason } : { pattern, verdict })
const clean: VmEnd = { exitMarker: true, qemuExit: 0, watchdog: null }
const finding = (kind: ConsoleFinding['kind'], title = `${kind} thing`): ConsoleFinding => ({ kind, title, fingerprint: 'f1|f2', excerpt: [title], line: 10 })
const run = (over: Partial<Parameters<typeof computeVerdict>[0]> & { expect?: ExpectRule[] }) =>
  computeVerdict({
    variant: { expect: over.expect ?? [rule('*', 'pass')], allow: over.variant?.allow ?? [] },
    cases: over.cases ?? [c('p.a', 'pass')],
    findings: over.findings ?? [],
    setup: over.setup === undefined ? { ok: true } : over.setup,
    end: over.end ?? clean,
    resultsBegan: over.resultsBegan ?? true,
  })

t.test('globs: * spans dots, ? is one character, regex characters are literal', async t => {
  t.ok(globToRegExp('*').test('map_sync.case'))
  t.ok(globToRegExp('map_sync.*').test('map_sync.a.b'))
  t.notOk(globToRegExp('map_sync.*').test('map_syncXa'))
  t.ok(globToRegExp('p.case_?').test('p.case_1'))
  t.notOk(globToRegExp('p.case_?').test('p.case_12'))
  t.notOk(globToRegExp('p.a+b').test('p.aab'))
})

t.test('most specific rule wins regardless of order; ties go to the first', async t => {
  const rules = [rule('*', 'pass'), rule('vfio_pin.*', 'skip'), rule('vfio_pin.fsdax_*', 'fail'), rule('vfio_pin.fsdax_pin', 'pass')]
  t.equal(ruleFor('vfio_pin.fsdax_pin', rules)?.verdict, 'pass')
  t.equal(ruleFor('vfio_pin.fsdax_other', rules)?.verdict, 'fail')
  t.equal(ruleFor('vfio_pin.anon', rules)?.verdict, 'skip')
  t.equal(ruleFor('map_sync.x', rules)?.verdict, 'pass')
  t.equal(ruleFor('a.b', [rule('a.?', 'fail'), rule('?.b', 'skip')])?.verdict, 'fail')
  t.equal(ruleFor('zzz', [rule('a.*', 'pass')]), undefined)
})

t.test('caseVerdict: crashed/timeout/error never equal any expectation', async t => {
  for (const s of ['crashed', 'timeout', 'error'] as const) {
    t.equal(caseVerdict('pass', s), 'unexpected')
    t.equal(caseVerdict('fail', s), 'unexpected')
    t.equal(caseVerdict('skip', s), 'unexpected')
  }
  t.equal(caseVerdict('fail', 'fail'), 'known-failure')
  t.equal(caseVerdict('fail', 'pass'), 'unexpected')
  t.equal(caseVerdict('skip', 'pass'), 'unexpected')
  t.equal(caseVerdict('pass', 'skip'), 'unexpected')
})

t.test('a case with no expectation is unexpected-case and counts failed', async t => {
  const r = run({ expect: [rule('p.a', 'pass')], cases: [c('p.a', 'pass'), c('p.new', 'pass')] })
  t.same(r.outcomes.map(o => [o.id, o.verdict, o.expected]), [['p.a', 'as-expected', 'pass'], ['p.new', 'unexpected-case', 'unknown']])
  t.equal(r.verdict, 'regression')
  t.same(r.counts, { passed: 1, failed: 1, skipped: 0, known: 0 })
})

t.test('an expectation that matches nothing is missing (failed) on a clean run', async t => {
  const r = run({ expect: [rule('p.a', 'pass'), rule('p.gone', 'pass')], cases: [c('p.a', 'pass')] })
  t.same(r.outcomes.map(o => [o.id, o.verdict, o.status]), [['p.a', 'as-expected', 'pass'], ['p.gone', 'missing', 'error']])
  t.equal(r.verdict, 'regression')
  t.match(r.summary, /p\.gone \(expected pass, never reported\)/)
})

t.test('known failures are not failed and are counted apart', async t => {
  const r = run({ expect: [rule('p.*', 'pass'), rule('p.b', 'fail', 'series reverted')], cases: [c('p.a', 'pass'), c('p.b', 'fail')] })
  t.equal(r.verdict, 'ok')
  t.same(r.counts, { passed: 1, failed: 0, skipped: 0, known: 1 })
  t.equal(r.outcomes[1]?.reason, 'series reverted')
  t.match(r.summary, /1 known failure/)
})

t.test('guest died: placeholders are absorbed by missing expectations, which are crashed failures', async t => {
  const r = run({
    expect: [rule('p.a', 'pass'), rule('p.b', 'pass'), rule('q.*', 'pass')],
    cases: [c('p.a', 'pass'), c('p.#2', 'crashed', 'guest died before the result'), c('q', 'crashed', 'guest died before the program ran')],
    end: { exitMarker: false, qemuExit: 0, watchdog: null },
  })
  t.same(r.outcomes.map(o => [o.id, o.status, o.verdict]), [['p.a', 'pass', 'as-expected'], ['p.b', 'crashed', 'unexpected'], ['q.*', 'crashed', 'unexpected']])
  t.equal(r.verdict, 'crash')
  t.equal(r.counts.failed, 2)
})

t.test('a whole program skipped satisfies its skip expectations', async t => {
  const r = run({ expect: [rule('devdax.*', 'skip')], cases: [c('devdax', 'skip', 'no devdax namespace')] })
  t.same(r.outcomes.map(o => [o.id, o.status, o.verdict]), [['devdax.*', 'skip', 'as-expected']])
  t.equal(r.verdict, 'ok')
  t.same(r.counts, { passed: 0, failed: 0, skipped: 1, known: 0 })
})

t.test('an unallowed crash finding makes the run crash even when every case passed', async t => {
  for (const kind of ['panic', 'oops', 'bug', 'kasan', 'ubsan', 'lockdep', 'hung-task', 'soft-lockup', 'rcu-stall'] as const) {
    const r = run({ findings: [finding(kind)] })
    t.equal(r.verdict, 'crash', kind)
    t.equal(r.counts.failed, 1, `${kind} counts as failed`)
    t.match(r.summary, new RegExp(`kernel crashed: ${kind} thing at console line 10`))
  }
})

t.test('an allowed finding changes nothing but is kept with its reason', async t => {
  const r = run({ findings: [finding('oops')], variant: { expect: [], allow: [{ match: 'oops', reason: 'known on 6.1' }] } })
  t.equal(r.verdict, 'ok')
  t.equal(r.findings[0]?.allowed, 'known on 6.1')
})

t.test('an unallowed WARNING is a regression, not a crash', async t => {
  const r = run({ findings: [finding('warning', 'WARNING in check_vma_flags')] })
  t.equal(r.verdict, 'regression')
  t.match(r.summary, /console: WARNING in check_vma_flags/)
  t.equal(r.counts.failed, 1)
})

t.test('watchdogs: boot-hang before results, test-hang after', async t => {
  t.equal(run({ cases: [], resultsBegan: false, end: { exitMarker: false, qemuExit: null, watchdog: 'no-output' } }).verdict, 'boot-hang')
  t.equal(run({ cases: [], resultsBegan: false, end: { exitMarker: false, qemuExit: null, watchdog: 'total' } }).verdict, 'boot-hang')
  const hang = run({ resultsBegan: true, cases: [c('p.a', 'pass'), c('p.#2', 'crashed')], end: { exitMarker: false, qemuExit: null, watchdog: 'total' } })
  t.equal(hang.verdict, 'test-hang')
  t.equal(run({ findings: [finding('hung-task')], end: { exitMarker: false, qemuExit: null, watchdog: 'total' } }).verdict, 'crash', 'a crash report explains the hang')
})

t.test('setup FAIL → setup-failed, expectations missing with the setup message', async t => {
  const r = run({ cases: [], resultsBegan: false, setup: { ok: false, step: 'mkfs.xfs', message: 'bad' }, expect: [rule('x.*', 'pass')] })
  t.equal(r.verdict, 'setup-failed')
  t.equal(r.summary, 'guest setup failed at mkfs.xfs: bad')
  t.same(r.outcomes.map(o => [o.id, o.verdict, o.detail]), [['x.*', 'missing', 'setup failed at mkfs.xfs: bad']])
})

t.test('no exit marker and no findings is still a crash', async t => {
  const r = run({ end: { exitMarker: false, qemuExit: 0, watchdog: null } })
  t.equal(r.verdict, 'crash')
  t.match(r.summary, /died before its exit marker \(QEMU exit 0\)/)
})

t.test('all as expected → ok; counts line format', async t => {
  const r = run({ expect: [rule('*', 'pass'), rule('p.s', 'skip')], cases: [c('p.a', 'pass'), c('p.s', 'skip')] })
  t.equal(r.verdict, 'ok')
  t.equal(countsLine(r.counts), 'daxrig: 1 passed, 0 failed, 1 skipped')
})

t.test('caseOutcomes keeps reported order, then missing ones', async t => {
  const o = caseOutcomes([c('b.x', 'pass'), c('a.y', 'pass')], [rule('a.*', 'pass'), rule('b.*', 'pass'), rule('c.z', 'pass')], false, { ok: true })
  t.same(o.map(x => x.id), ['b.x', 'a.y', 'c.z'])
})
