// Unit tests of the --tries policy and the confidence formula.
import t from 'tap'
import {
  bisectConfidence,
  decide,
  describePolicy,
  goodStepConfidence,
  makePolicy,
  reproChance,
  tally,
} from '../../../harness/bisect/policy.js'
import { InputError } from '../../../harness/errors.js'
import type { StepOutcome } from '../../../harness/bisect/types.js'

const seq = (s: string): StepOutcome[] =>
  [...s].map(c => ({ G: 'good', B: 'bad', S: 'skip', I: 'infra' })[c] as StepOutcome)

t.test('makePolicy', async t => {
  t.same(makePolicy(1), { tries: 1, badAt: 1, maxRuns: 3 })
  t.same(makePolicy(3), { tries: 3, badAt: 2, maxRuns: 9 })
  t.same(makePolicy(3, 5), { tries: 3, badAt: 2, maxRuns: 5 })
  t.throws(() => makePolicy(0), InputError)
  t.throws(() => makePolicy(1.5), InputError)
  t.throws(() => makePolicy(3, 2), InputError)
})

t.test('tally', async t => {
  t.same(tally(seq('GGBSI')), { pass: 2, fail: 1, skip: 1, infra: 1, tested: 3 })
})

t.test('decide with tries 1', async t => {
  const p = makePolicy(1)
  t.same(decide([], p), { done: false, reason: '0 of 1 runs done' })
  t.match(decide(seq('G'), p), { done: true, verdict: 'good' })
  t.match(decide(seq('B'), p), { done: true, verdict: 'bad', reason: 'the run failed' })
  t.match(decide(seq('S'), p), { done: true, verdict: 'skip' })
  t.match(decide(seq('I'), p), { done: true, verdict: 'infra' })
})

t.test('decide with tries 3: the stated rule', async t => {
  const p = makePolicy(3)
  const v = (s: string) => {
    const d = decide(seq(s), p)
    return d.done ? d.verdict : 'more'
  }
  t.equal(v('GG'), 'more', 'good needs all 3 runs')
  t.equal(v('GGG'), 'good')
  t.equal(v('BB'), 'bad', 'two failures decide at once')
  t.equal(v('GBGB'), 'bad')
  t.equal(v('B'), 'more', 'one failure alone is not bad')
  t.equal(v('BGG'), 'more', 'one failure in 3 is weak: run again')
  t.equal(v('BGGGGGGG'), 'more', '8 runs < cap 9')
  t.equal(v('BGGGGGGGG'), 'weak', 'cap reached with one failure')
  t.equal(v('BGGB'), 'bad', 'a weak prefix turns bad at the second failure')
  t.equal(v('GS'), 'skip', 'an untestable run makes the prefix untestable')
  t.equal(v('GBI'), 'infra', 'infra wins over everything')
  const weak = decide(seq('BGGGGGGGG'), p)
  t.match(weak, { reason: '1 of 9 runs failed, fewer than 2' })
})

t.test('decide with tries 2 and a custom cap', async t => {
  const p = makePolicy(2, 4)
  t.match(decide(seq('GB'), p), { done: false })
  t.match(decide(seq('GBGG'), p), { done: true, verdict: 'weak' })
  t.match(decide(seq('GBGB'), p), { done: true, verdict: 'bad', reason: '2 of 4 runs failed' })
})

t.test('describePolicy states the rule', async t => {
  t.equal(describePolicy(makePolicy(1)), 'tries 1: one run; it passes → good, it fails → bad')
  t.equal(
    describePolicy(makePolicy(3)),
    'tries 3: good if all 3 runs pass; bad once 2 runs fail; fewer failures → weak, re-run up to 9 runs, then reported weak (treated as skip)',
  )
})

t.test('confidence', async t => {
  t.equal(goodStepConfidence(3, 0.5), 0.875)
  t.equal(goodStepConfidence(1, 1), 1)
  t.equal(
    reproChance([
      { verdict: 'bad', pass: 2, fail: 2, fresh: true },
      { verdict: 'bad', pass: 4, fail: 2, fresh: true },
      { verdict: 'bad', pass: 9, fail: 1, fresh: false },
      { verdict: 'good', pass: 3, fail: 0, fresh: true },
    ]),
    1 / 3,
    'lowest ratio over fresh bad steps',
  )
  t.equal(reproChance([{ verdict: 'good', pass: 3, fail: 0, fresh: true }]), undefined)
  t.equal(bisectConfidence([{ verdict: 'good', pass: 3, fail: 0, fresh: true }]), 0, 'nothing reproduced: no confidence')
  t.equal(
    bisectConfidence([
      { verdict: 'bad', pass: 2, fail: 2, fresh: true },
      { verdict: 'good', pass: 3, fail: 0, fresh: true },
      { verdict: 'good', pass: 3, fail: 0, fresh: true },
      { verdict: 'good', pass: 3, fail: 0, fresh: false },
      { verdict: 'skip', pass: 0, fail: 0, fresh: true },
    ]),
    0.875 * 0.875,
    'product over fresh good steps only',
  )
  t.equal(
    bisectConfidence([
      { verdict: 'bad', pass: 0, fail: 1, fresh: true },
      { verdict: 'good', pass: 1, fail: 0, fresh: true },
    ]),
    1,
    'a deterministic test gives confidence 1',
  )
})
