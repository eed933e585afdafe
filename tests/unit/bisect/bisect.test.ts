// Bisector tests on a synthetic series: every culprit position, skips, infra, flaky tests, identical images, --fix, endpoints.
import t from 'tap'
import { bisect, bisectExitCode, pickNext } from '../../../harness/bisect/bisect.js'
import { noopWarning } from '../../../harness/bisect/session.js'
import type { RigEvent } from '../../../harness/events.js'
import { InputError } from '../../../harness/errors.js'
import { FakeRunner, type FakeCase } from './fake-runner.js'

const maxBuilds = (n: number) => Math.ceil(Math.log2(n + 1)) + 2

t.test('pickNext: midpoint, then nearest testable neighbour', async t => {
  t.equal(pickNext(0, 8, new Set()), 4)
  t.equal(pickNext(0, 8, new Set([4])), 3)
  t.equal(pickNext(0, 8, new Set([3, 4])), 5)
  t.equal(pickNext(0, 8, new Set([3, 4, 5])), 2)
  t.equal(pickNext(2, 5, new Set([3, 4])), undefined)
  t.equal(pickNext(4, 5, new Set()), undefined, 'adjacent: nothing left to test')
})

t.test('finds the first bad patch at every position for N = 1..9', async t => {
  for (let n = 1; n <= 9; n++) {
    for (let k = 1; k <= n; k++) {
      const runner = new FakeRunner({ name: `n${n}k${k}`, n, firstBad: k })
      const r = await bisect(runner, { tries: 1 })
      t.equal(r.status, 'found', `n=${n} k=${k} status`)
      t.equal(r.firstBad, k, `n=${n} k=${k} culprit`)
      t.equal(r.line, `first bad patch: ${k}/${n} patch ${k} of n${n}k${k}`)
      t.equal(r.builds, runner.calls.length, 'one build per run with tries 1')
      t.ok(r.builds <= maxBuilds(n), `n=${n} k=${k}: ${r.builds} builds ≤ ${maxBuilds(n)}`)
      t.equal(r.confidence, 1, 'deterministic test')
      t.notOk(r.noop)
    }
  }
})

t.test('--fix finds the first fixing patch at every position for N = 1..9', async t => {
  for (let n = 1; n <= 9; n++) {
    for (let k = 1; k <= n; k++) {
      const runner = new FakeRunner({ name: `fix${n}`, n, firstBad: k, fix: true })
      const r = await bisect(runner, { tries: 1, fix: true })
      t.equal(r.firstBad, k, `n=${n} fix at ${k}`)
      t.equal(r.mode, 'fix')
      t.match(r.line, new RegExp(`^first fixing patch: ${k}/${n} `))
      t.ok(r.builds <= maxBuilds(n))
    }
  }
})

t.test('first bad at every position with tries 3 and a deterministic test', async t => {
  for (let k = 1; k <= 7; k++) {
    const runner = new FakeRunner({ name: 't3', n: 7, firstBad: k })
    const r = await bisect(runner, { tries: 3 })
    t.equal(r.firstBad, k)
    for (const s of r.steps) t.equal(s.attempts.length, s.verdict === 'good' ? 3 : 2, `prefix ${s.prefix}: good needs 3 runs, bad stops at 2 failures`)
  }
})

interface Row extends FakeCase {
  tries?: number
  fixMode?: boolean
  want: {
    status: string
    firstBad?: number
    range?: [number, number]
    skipped?: number[]
    endpoint?: { prefix: number; got: string }
    runs?: number
    line?: RegExp
  }
}

const table: Row[] = [
  {
    name: 'broken build at the midpoint: its neighbour is tested',
    n: 8,
    firstBad: 7,
    brokenBuild: [4],
    want: { status: 'found', firstBad: 7 },
  },
  {
    name: 'broken apply and boot failures are skipped too',
    n: 9,
    firstBad: 6,
    brokenApply: [7],
    bootFail: [4],
    want: { status: 'found', firstBad: 6 },
  },
  {
    name: 'only skipped prefixes left: inconclusive range',
    n: 6,
    firstBad: 4,
    brokenBuild: [3, 4],
    want: {
      status: 'inconclusive',
      range: [3, 5],
      skipped: [3, 4],
      line: /^first bad patch: one of 3\.\.5\/6 — between good prefix 2 and bad prefix 5: only skipped prefixes left \(3, 4\)$/,
    },
  },
  {
    name: 'culprit itself untestable',
    n: 8,
    firstBad: 4,
    brokenBuild: [4],
    want: { status: 'inconclusive', range: [4, 5], skipped: [4] },
  },
  {
    name: 'infra in the middle aborts at once',
    n: 8,
    firstBad: 6,
    infraAt: [4],
    want: { status: 'infra', runs: 3, line: /^bisect: aborted: the rig failed at prefix 4\/8: qemu-system-x86_64 not found$/ },
  },
  {
    name: 'infra on the base aborts, never skips',
    n: 8,
    firstBad: 6,
    infraAt: [0],
    want: { status: 'infra', runs: 1 },
  },
  {
    name: 'infra on a weak re-run aborts',
    n: 4,
    firstBad: 2,
    infraAt: [2],
    tries: 3,
    want: { status: 'infra' },
  },
  {
    name: 'base already bad',
    n: 5,
    firstBad: 0,
    want: {
      status: 'endpoints-disagree',
      endpoint: { prefix: 0, got: 'bad' },
      runs: 1,
      line: /^bisect: endpoints disagree: base \(prefix 0\) is already bad: the failure predates the series$/,
    },
  },
  {
    name: 'full series good',
    n: 5,
    firstBad: 6,
    want: {
      status: 'endpoints-disagree',
      endpoint: { prefix: 5, got: 'good' },
      runs: 2,
      line: /full series \(prefix 5\/5\) is good: the series does not break this test/,
    },
  },
  {
    name: 'base untestable',
    n: 5,
    firstBad: 3,
    brokenBuild: [0],
    want: { status: 'endpoints-disagree', endpoint: { prefix: 0, got: 'skip' }, line: /base \(prefix 0\) is untestable \(build failed: fs\/dax\.c/ },
  },
  {
    name: '--fix: base already good',
    n: 5,
    firstBad: 0,
    fix: true,
    fixMode: true,
    want: { status: 'endpoints-disagree', endpoint: { prefix: 0, got: 'good' }, line: /already good: there is nothing for the series to fix/ },
  },
  {
    name: '--fix: full series still bad',
    n: 5,
    firstBad: 6,
    fix: true,
    fixMode: true,
    want: { status: 'endpoints-disagree', endpoint: { prefix: 5, got: 'bad' }, line: /still bad: the series does not fix this test/ },
  },
  {
    name: '--fix with a broken build',
    n: 9,
    firstBad: 3,
    fix: true,
    fixMode: true,
    brokenBuild: [4, 5],
    want: { status: 'found', firstBad: 3 },
  },
  {
    name: '--fix inconclusive',
    n: 6,
    firstBad: 3,
    fix: true,
    fixMode: true,
    brokenBuild: [2, 3],
    want: { status: 'inconclusive', range: [2, 4], skipped: [2, 3], line: /^first fixing patch: one of 2\.\.4\/6 — between bad prefix 1 and good prefix 4: only skipped prefixes left \(2, 3\)$/ },
  },
  {
    name: 'flaky reproducer, weak at the full series: endpoints disagree with got weak',
    n: 6,
    firstBad: 3,
    tries: 3,
    flaky: { every: 100, phase: 1 },
    want: { status: 'endpoints-disagree', endpoint: { prefix: 6, got: 'weak' }, line: /full series \(prefix 6\/6\) is weak: 1 of 9 runs failed/ },
  },
]

for (const row of table) {
  t.test(row.name, async t => {
    const runner = new FakeRunner(row)
    const r = await bisect(runner, { tries: row.tries ?? 1, ...(row.fixMode ? { fix: true } : {}) })
    t.equal(r.status, row.want.status, 'status')
    if (row.want.firstBad !== undefined) t.equal(r.firstBad, row.want.firstBad, 'culprit')
    if (row.want.range) t.same(r.range, row.want.range, 'range')
    if (row.want.skipped) t.same(r.skipped, row.want.skipped, 'skipped')
    if (row.want.endpoint) t.match(r.endpoint, row.want.endpoint, 'endpoint')
    if (row.want.runs !== undefined) t.equal(r.runs, row.want.runs, 'runs')
    if (row.want.line) t.match(r.line, row.want.line, 'line')
    if (r.status !== 'found') t.equal(r.firstBad, undefined, 'no culprit claimed')
    if (r.status === 'infra') {
      const last = r.steps.at(-1)
      t.equal(last?.verdict, 'infra')
      t.equal(last?.stage, 'boot')
      t.equal(r.confidence, 0)
    }
    // skipped prefixes were never treated as good or bad
    for (const s of r.steps) if (row.brokenBuild?.includes(s.prefix)) t.match(s, { verdict: 'skip', stage: 'build' })
  })
}

t.test('flaky reproducer, tries 3, fails 1 run in 3', async t => {
  const runner = new FakeRunner({ name: 'flaky', n: 8, firstBad: 5, flaky: { every: 3 } })
  const r = await bisect(runner, { tries: 3 })
  t.equal(r.status, 'found')
  t.equal(r.firstBad, 5)
  for (const s of r.steps) {
    if (s.prefix >= 5) {
      t.equal(s.verdict, 'bad')
      t.same(
        s.attempts.map(a => a.outcome),
        ['bad', 'good', 'good', 'bad'],
        'one failure in three is weak: re-run until the second failure',
      )
      t.equal(s.reason, '2 of 4 runs failed')
    } else t.same(s.attempts.map(a => a.outcome), ['good', 'good', 'good'])
  }
  // steps: 0 good, 8 bad, 4 good, 6 bad, 5 bad. reproChance = 2/4; two good steps of 3 runs each.
  t.same(r.steps.map(s => s.prefix), [0, 8, 4, 6, 5])
  t.equal(r.confidence, (1 - 0.5 ** 3) ** 2)
})

t.test('flaky reproducer failing on the third run: p = 1/3', async t => {
  const runner = new FakeRunner({ name: 'flaky', n: 4, firstBad: 2, flaky: { every: 3, phase: 2 } })
  const r = await bisect(runner, { tries: 3 })
  t.equal(r.firstBad, 2)
  const bad = r.steps.find(s => s.prefix === 4)
  t.equal(bad?.attempts.length, 6)
  const goods = r.steps.filter(s => s.verdict === 'good').length
  t.ok(Math.abs(r.confidence - (1 - (2 / 3) ** 3) ** goods) < 1e-12)
})

t.test('a weak prefix in the middle is treated as skip', async t => {
  // prefix 4 fails once in 9 runs (weak); the others are deterministic
  const runner = new FakeRunner({ name: 'weak', n: 8, firstBad: 6 })
  const orig = runner.run.bind(runner)
  runner.run = async (prefix, attempt) => {
    const r = await orig(prefix, attempt)
    return prefix === 4 && attempt === 0 ? { ...r, outcome: 'bad' } : r
  }
  const r = await bisect(runner, { tries: 3 })
  const s4 = r.steps.find(s => s.prefix === 4)
  t.equal(s4?.verdict, 'weak')
  t.equal(s4?.attempts.length, 9, 're-run up to the cap')
  t.same(r.steps.map(s => s.prefix), [0, 8, 4, 3, 5, 6])
  t.equal(r.status, 'found')
  t.equal(r.firstBad, 6, 'neighbours decided it')
  t.notOk(r.steps.some(s => s.prefix === 4 && s.verdict !== 'weak'))
})

t.test('identical images: verdict reused without a run (probe)', async t => {
  const runner = new FakeRunner({ name: 'same', n: 8, firstBad: 3, sameImage: [[3, 4]], probe: true })
  const r = await bisect(runner, { tries: 1 })
  t.equal(r.status, 'found')
  t.equal(r.firstBad, 3)
  t.same(r.steps.map(s => s.prefix), [0, 8, 4, 2, 3])
  const s3 = r.steps.find(s => s.prefix === 3)
  t.match(s3, { verdict: 'bad', reusedFrom: 4, sameImageAs: 4, attempts: [] })
  t.notOk(runner.calls.some(c => c.prefix === 3), 'prefix 3 was not tested')
  t.equal(r.runs, 4)
  t.equal(r.builds, 5, 'prefix 3 was built (probed) but not booted')
  t.notOk(r.noop, 'culprit image differs from its parent')
})

t.test('identical images without a probe: reused after one agreeing run', async t => {
  const runner = new FakeRunner({ name: 'same', n: 8, firstBad: 7, sameImage: [[7, 8]] })
  const r = await bisect(runner, { tries: 3 })
  t.equal(r.firstBad, 7)
  const s7 = r.steps.find(s => s.prefix === 7)
  t.match(s7, { verdict: 'bad', reusedFrom: 8 })
  t.equal(s7?.attempts.length, 1, 'one run instead of two')
})

t.test('no-op culprit: same image as its parent is flagged', async t => {
  const runner = new FakeRunner({ name: 'noop', n: 8, firstBad: 3, sameImage: [[2, 3]] })
  const r = await bisect(runner, { tries: 1 })
  t.equal(r.status, 'found')
  t.equal(r.firstBad, 3)
  t.equal(r.noop, 'no-op: same kernel image as 2, most likely wrong')
  t.match(r.steps.find(s => s.prefix === 3), { sameImageAs: 2, verdict: 'bad' })
  t.equal(r.steps.find(s => s.prefix === 3)?.reusedFrom, undefined, 'the run disagreed with the twin: not reused')
})

t.test('with a probe an identical image cannot be a culprit: the verdict is carried to the next different image', async t => {
  const runner = new FakeRunner({ name: 'noop', n: 8, firstBad: 3, sameImage: [[2, 3]], probe: true })
  const r = await bisect(runner, { tries: 1 })
  t.equal(r.firstBad, 4)
  t.match(r.steps.find(s => s.prefix === 3), { reusedFrom: 2, verdict: 'good' })
  t.notOk(r.noop)
})

t.test('noopWarning', async t => {
  t.equal(noopWarning(5, 'a', 'a'), 'no-op: same kernel image as 4, most likely wrong')
  t.equal(noopWarning(5, 'a', 'b'), undefined)
  t.equal(noopWarning(5, undefined, undefined), undefined, 'unknown hashes are not equal')
})

t.test('progress lines go to log and events', async t => {
  const lines: string[] = []
  const events: RigEvent[] = []
  const runner = new FakeRunner({ name: 'log', n: 4, firstBad: 2 })
  await bisect(runner, { tries: 1, log: l => lines.push(l), events: e => events.push(e), label: 'v1' })
  t.same(lines, [
    'step 1: prefix 0/4 → good (build 0.1 s, test 0.0 s)',
    'step 2: prefix 4/4 → bad (build 0.1 s, test 0.0 s)',
    'step 3: prefix 2/4 → bad (build 0.1 s, test 0.0 s)',
    'step 4: prefix 1/4 → good (build 0.1 s, test 0.0 s)',
  ])
  t.same(events[0], { type: 'progress', variant: 'v1', phase: 'bisect', message: lines[0] })
  t.equal(events.length, 4)
})

t.test('bad input', async t => {
  await t.rejects(bisect(new FakeRunner({ name: 'empty', n: 0, firstBad: 1 }), { tries: 1 }), InputError)
  await t.rejects(bisect(new FakeRunner({ name: 'x', n: 3, firstBad: 1 }), { tries: 0 }), InputError)
})

t.test('a runner that throws propagates the error', async t => {
  const runner = new FakeRunner({ name: 'throw', n: 4, firstBad: 2, throwOnCall: 2 })
  await t.rejects(bisect(runner, { tries: 1 }), /simulated crash of the rig at call 2/)
})

t.test('bisectExitCode', async t => {
  t.equal(bisectExitCode({ status: 'found' }), 0)
  t.equal(bisectExitCode({ status: 'inconclusive' }), 1)
  t.equal(bisectExitCode({ status: 'endpoints-disagree' }), 1)
  t.equal(bisectExitCode({ status: 'infra' }), 128)
})

t.test('revert check: the series without the culprit behaves like the base again', async t => {
  for (let n = 2; n <= 6; n++) {
    for (let k = 1; k <= n; k++) {
      const runner = new FakeRunner({ name: `rv${n}${k}`, n, firstBad: k, revert: true })
      const r = await bisect(runner, { tries: 1 })
      t.equal(r.firstBad, k)
      t.equal(r.verification?.outcome, 'confirmed', `n=${n} k=${k}`)
      t.equal(r.verification?.verdict, 'good')
      if (k === n) {
        t.same(runner.withoutCalls, [], 'without the last patch = prefix n-1: nothing to run')
        t.equal(r.verification?.sameImageAs, n - 1)
      } else t.same(runner.withoutCalls, [{ patch: k, attempt: 0 }], 'one run of the series without the culprit')
      t.match(r.verification?.line, new RegExp(`^verified: the series without ${k}/${n} is good again`))
      t.equal(bisectExitCode(r), 0)
    }
  }
})

t.test('revert check refutes a culprit when another patch breaks the test too', async t => {
  // 3 breaks it first, 5 breaks it again on its own: without 3 the series is still bad
  const runner = new FakeRunner({ name: 'two-causes', n: 6, firstBad: 3, alsoBad: [5], revert: true })
  const r = await bisect(runner, { tries: 1 })
  t.equal(r.firstBad, 3, 'the first bad patch is still 3')
  t.equal(r.verification?.outcome, 'refuted')
  t.match(r.verification?.line, /^not confirmed: the series without 3\/6 is still bad .*another patch also breaks the test/)
  t.equal(bisectExitCode(r), 0, 'the culprit stands; the check is reported beside it')
})

t.test('revert check: later patches that need the culprit make it unknown, not refuted', async t => {
  const runner = new FakeRunner({ name: 'dependent', n: 5, firstBad: 2, brokenWithout: [2], revert: true })
  const r = await bisect(runner, { tries: 1 })
  t.equal(r.verification?.outcome, 'unknown')
  t.equal(r.verification?.verdict, 'skip')
  t.match(r.verification?.line, /^not verified: the series without 2\/5 is untestable \(apply failed: .*\); later patches may depend on 2\/5/)
})

t.test('revert check with --fix: without the fixing patch the test is bad again', async t => {
  const runner = new FakeRunner({ name: 'fix-revert', n: 5, firstBad: 2, fix: true, revert: true })
  const r = await bisect(runner, { tries: 1, fix: true })
  t.equal(r.verification?.outcome, 'confirmed')
  t.match(r.verification?.line, /^verified: the series without 2\/5 is bad again/)
})

t.test('revert check: an image equal to a tested prefix takes its verdict without a boot', async t => {
  // the series without 3 builds what prefix 2 built (3 was the only patch that reached the image)
  const runner = new FakeRunner({ name: 'same', n: 5, firstBad: 3, probe: true, revert: true, withoutSameAs: { 3: 2 } })
  const r = await bisect(runner, { tries: 1 })
  t.equal(r.verification?.outcome, 'confirmed')
  t.equal(r.verification?.sameImageAs, 2)
  t.same(runner.withoutCalls, [], 'no run: the kernel is the one prefix 2 tested')
  t.match(r.verification?.line, /same kernel image as prefix 2/)
})

t.test('revert check under tries 3 runs the same policy, and --no-verify skips it', async t => {
  const runner = new FakeRunner({ name: 'tries', n: 4, firstBad: 2, revert: true })
  const r = await bisect(runner, { tries: 3 })
  t.equal(r.verification?.outcome, 'confirmed')
  t.equal(runner.withoutCalls.length, 3, 'good needs all 3 runs to pass')
  const quiet = new FakeRunner({ name: 'tries', n: 4, firstBad: 2, revert: true })
  const q = await bisect(quiet, { tries: 1, verify: false })
  t.equal(q.verification, undefined)
  t.same(quiet.withoutCalls, [])
})

t.test('endpoints given as prefixes: a base that cannot run the test is stepped over', async t => {
  // the interface arrives with patch 2: prefixes 0 and 1 are untestable for the test (a build failure stands in)
  const runner = new FakeRunner({ name: 'late', n: 6, firstBad: 4, brokenBuild: [0, 1] })
  const fromBase = await bisect(runner, { tries: 1 })
  t.equal(fromBase.status, 'endpoints-disagree', 'the base is untestable')
  const r = await bisect(new FakeRunner({ name: 'late', n: 6, firstBad: 4, brokenBuild: [0, 1] }), { tries: 1, good: 2 })
  t.equal(r.status, 'found')
  t.equal(r.firstBad, 4)
  const fix = await bisect(new FakeRunner({ name: 'latefix', n: 5, firstBad: 5, fix: true, brokenBuild: [0, 1] }), { tries: 1, fix: true, bad: 2 })
  t.equal(fix.status, 'found')
  t.equal(fix.firstBad, 5)
  await t.rejects(bisect(new FakeRunner({ name: 'x', n: 3, firstBad: 2 }), { tries: 1, good: 3, bad: 1 }), InputError, 'good must come before bad')
  await t.rejects(bisect(new FakeRunner({ name: 'x', n: 3, firstBad: 2 }), { tries: 1, bad: 9 }), /need 0 ≤ good < bad ≤ 3/)
})
