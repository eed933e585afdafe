// Which cache entries prune removes: older than the limit, then least recently used until the rest fits; never busy ones.
import t from 'tap'
import { chooseVictims, parseAge, type CacheEntry } from '../../../harness/cache/prune.js'

const GiB = 1024 ** 3
const day = 86_400_000
const now = 100 * day
const e = (key: string, gib: number, usedDaysAgo: number, busy = false): CacheEntry => ({ kind: 'kernels', key, path: `/c/kernels/${key}`, bytes: gib * GiB, lastUsed: now - usedDaysAgo * day, busy })
const keys = (v: CacheEntry[]) => v.map(x => x.key).sort()

t.test('--older-than removes what was not used for that long', async t => {
  const all = [e('new', 1, 1), e('old', 1, 40), e('older', 1, 90)]
  t.same(keys(chooseVictims(all, { now, olderThanMs: 30 * day })), ['old', 'older'])
})

t.test('--max-size removes least recently used first until the rest fits', async t => {
  const all = [e('a', 4, 1), e('b', 4, 5), e('c', 4, 10), e('d', 4, 20)]
  t.same(keys(chooseVictims(all, { now, maxBytes: 9 * GiB })), ['c', 'd'])
  t.same(keys(chooseVictims(all, { now, maxBytes: 100 * GiB })), [])
})

t.test('entries in use are never removed, even when the rest cannot fit', async t => {
  const all = [e('busy-old', 10, 90, true), e('x', 1, 2)]
  t.same(keys(chooseVictims(all, { now, olderThanMs: day, maxBytes: 0 })), ['x'])
})

t.test('ages', async t => {
  t.equal(parseAge('30d'), 30 * day)
  t.equal(parseAge('12h'), 12 * 3_600_000)
  t.equal(parseAge('2w'), 14 * day)
  t.equal(parseAge('soon'), null)
})
