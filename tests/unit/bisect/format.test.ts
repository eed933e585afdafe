// Unit tests of the bisect progress and summary text.
import t from 'tap'
import {
  foundLine,
  formatBisectSummary,
  formatSeconds,
  formatStepLine,
  formatTimings,
  inconclusiveLine,
} from '../../../harness/bisect/format.js'
import type { BisectResult, StepRecord } from '../../../harness/bisect/types.js'

const rec = (over: Partial<StepRecord>): StepRecord => ({
  step: 3,
  prefix: 2,
  verdict: 'good',
  reason: 'the run passed',
  attempts: [{ attempt: 0, outcome: 'good', detail: '', ms: 20400, timings: { build: 12300, test: 8100 } }],
  pass: 1,
  fail: 0,
  ms: 20400,
  ...over,
})

t.test('formatSeconds and formatTimings', async t => {
  t.equal(formatSeconds(12345), '12.3 s')
  t.equal(formatTimings([{ attempt: 0, outcome: 'good', detail: '', ms: 1500 }]), '1.5 s', 'total when no split')
  t.equal(
    formatTimings([
      { attempt: 0, outcome: 'good', detail: '', ms: 0, timings: { build: 1000, boot: 500, test: 200 } },
      { attempt: 1, outcome: 'good', detail: '', ms: 0, timings: { boot: 500, test: 300 } },
    ]),
    'build 1.0 s, boot 1.0 s, test 0.5 s',
  )
})

t.test('formatStepLine', async t => {
  t.equal(formatStepLine(rec({}), 5), 'step 3: prefix 2/5 → good (build 12.3 s, test 8.1 s)')
  t.equal(
    formatStepLine(rec({ verdict: 'bad', reason: '2 of 4 runs failed', attempts: [
      { attempt: 0, outcome: 'bad', detail: '', ms: 1000 },
      { attempt: 1, outcome: 'good', detail: '', ms: 1000 },
      { attempt: 2, outcome: 'good', detail: '', ms: 1000 },
      { attempt: 3, outcome: 'bad', detail: '', ms: 1000 },
    ] }), 5),
    'step 3: prefix 2/5 → bad, 2 of 4 runs failed (4.0 s)',
  )
  t.equal(
    formatStepLine(
      rec({ verdict: 'skip', stage: 'build', attempts: [{ attempt: 0, outcome: 'skip', stage: 'build', detail: 'fs/dax.c:1: error', ms: 3000, timings: { build: 3000 } }] }),
      5,
    ),
    'step 3: prefix 2/5 → skip, build failed: fs/dax.c:1: error (build 3.0 s)',
  )
  t.equal(
    formatStepLine(rec({ verdict: 'bad', reusedFrom: 4, sameImageAs: 4, attempts: [] }), 5),
    'step 3: prefix 2/5 → bad (same kernel image as prefix 4, not re-tested)',
  )
  t.equal(formatStepLine(rec({ resumed: true }), 5), 'step 3: prefix 2/5 → good, from the state file (build 12.3 s, test 8.1 s)')
})

t.test('final lines', async t => {
  t.equal(foundLine('cause', 3, 5, ['a', 'b', 'dax: fix pins', 'd', 'e']), 'first bad patch: 3/5 dax: fix pins')
  t.equal(foundLine('fix', 3, 5, ['a', 'b', 'dax: fix pins']), 'first fixing patch: 3/5 dax: fix pins')
  t.equal(foundLine('cause', 2, 2, []), 'first bad patch: 2/2 (no subject)')
  t.equal(
    inconclusiveLine('cause', [3, 5], 6, [3, 4]),
    'first bad patch: one of 3..5/6 — between good prefix 2 and bad prefix 5: only skipped prefixes left (3, 4)',
  )
  t.equal(
    inconclusiveLine('fix', [3, 4], 6, [3]),
    'first fixing patch: one of 3..4/6 — between bad prefix 2 and good prefix 4: only skipped prefixes left (3)',
  )
})

t.test('formatBisectSummary', async t => {
  const r: BisectResult = {
    status: 'found',
    mode: 'cause',
    length: 5,
    firstBad: 3,
    subject: 'c',
    noop: 'no-op: same kernel image as 2, most likely wrong',
    steps: [rec({ prefix: 4, verdict: 'bad', reusedFrom: 5 }), rec({ prefix: 1, verdict: 'weak' })],
    builds: 4,
    runs: 6,
    confidence: 0.765625,
    policy: 'tries 3: …',
    detail: '',
    line: 'first bad patch: 3/5 c',
  }
  t.same(formatBisectSummary(r), [
    'first bad patch: 3/5 c',
    'confidence 0.77 (tries 3: …)',
    'warning: no-op: same kernel image as 2, most likely wrong',
    'reused verdicts of identical kernel images: 4←5',
    'weak (flaky) prefixes treated as skipped: 1',
    '4 builds, 6 test runs',
  ])
})
