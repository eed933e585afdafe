// Concurrent runs on one cache: two runs of the same variant at once, two runs racing to fill an empty
// cache (the entry lock must make one wait), and --jobs 2 giving the same results as --jobs 1.
// Boots real kernels (two TCG guests at once in the first and last tests).
import t from 'tap'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig } from './helpers.js'
import type { RunSummary } from '../../harness/types.js'

const outDir = () => mkdtemp(join(tmpdir(), 'daxrig-conc-'))

/** variant → sorted "id status" lines: what must not depend on concurrency. */
async function caseResults(dir: string): Promise<Record<string, string[]>> {
  const s = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunSummary
  const out: Record<string, string[]> = {}
  for (const v of s.variants) out[v.variant] = v.cases.map(c => `${c.id} ${c.status}`).sort()
  return out
}

/** `.tmp-*` and `*.tmp` entries two levels under the cache root (ensureEntry temp dirs, half-unpacked debs). */
async function halfWritten(cache: string): Promise<string[]> {
  const out: string[] = []
  for (const kind of await readdir(cache).catch(() => [] as string[])) {
    if (kind.startsWith('.tmp-')) out.push(kind)
    for (const e of await readdir(join(cache, kind)).catch(() => [] as string[]))
      if (e.startsWith('.tmp-') || e.endsWith('.tmp')) out.push(`${kind}/${e}`)
  }
  return out
}

t.test('two runs of baseline-6.1 at once on the same (warm) cache: both pass with identical case results', async t => {
  // warm the cache first (kernel, image, test binaries, accelerator probe) so the two runs race only on reads and locks
  const warm = await daxrig(['build', 'baseline-6.1'])
  t.equal(warm.code, 0, 'warm exits 0', { output: warm.out.slice(-1000) })
  const [a, b] = [await outDir(), await outDir()]
  const t0 = Date.now()
  const [ra, rb] = await Promise.all([daxrig(['run', 'baseline-6.1', '--out', a]), daxrig(['run', 'baseline-6.1', '--out', b])])
  t.comment(`two concurrent runs: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  t.equal(ra.code, 0, 'ra exits 0', { output: ra.out.slice(-2000) })
  t.equal(rb.code, 0, 'rb exits 0', { output: rb.out.slice(-2000) })
  const [ca, cb] = [await caseResults(a), await caseResults(b)]
  t.ok((ca['baseline-6.1'] ?? []).length >= 30, 'cases reported')
  t.same(ca, cb, 'identical case ids and statuses')
  await rm(a, { recursive: true, force: true })
  await rm(b, { recursive: true, force: true })
})

t.test('two runs racing to fill an EMPTY cache for a prebuilt kernel: one waits, one entry, nothing half-written', async t => {
  const cache = await mkdtemp(join(tmpdir(), 'daxrig-conc-cache-'))
  const env = { DAXRIG_CACHE: cache }
  const t0 = Date.now()
  const [ra, rb] = await Promise.all([daxrig(['build', 'baseline-6.1'], env), daxrig(['build', 'baseline-6.1'], env)])
  t.comment(`two concurrent cold fetches: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  t.equal(ra.code, 0, 'ra exits 0', { output: ra.out.slice(-2000) })
  t.equal(rb.code, 0, 'rb exits 0', { output: rb.out.slice(-2000) })
  t.equal(ra.stdout.trim().split('\n').at(-1), rb.stdout.trim().split('\n').at(-1), 'both print the same kernel path')
  t.ok(existsSync(ra.stdout.trim().split('\n').at(-1) ?? ''), 'the kernel is there')
  t.match(ra.out + rb.out, /waiting for lock/, 'one run waited for the other')
  const downloads = [ra.out, rb.out].filter(o => /downloading linux-image-/.test(o)).length
  t.equal(downloads, 1, 'the package was downloaded once')
  const entries = (await readdir(join(cache, 'prebuilt'))).filter(e => !e.endsWith('.lock'))
  t.same(entries, ['bookworm_linux-image-6.1.0-56-amd64-unsigned_2'], 'one cache entry')
  t.same(await halfWritten(cache), [], 'no .tmp-* left')
  const locks = (await readdir(join(cache, 'prebuilt'))).filter(e => e.endsWith('.lock'))
  t.same(locks, [], 'no lock left')
  await rm(cache, { recursive: true, force: true })
})

t.test('--jobs 2 on the default matrix gives the same case results as --jobs 1', async t => {
  const [one, two] = [await outDir(), await outDir()]
  let t0 = Date.now()
  const r1 = await daxrig(['run', '--jobs', '1', '--out', one])
  const wall1 = (Date.now() - t0) / 1000
  t0 = Date.now()
  const r2 = await daxrig(['run', '--jobs', '2', '--out', two])
  const wall2 = (Date.now() - t0) / 1000
  t.comment(`default matrix wall time: --jobs 1 ${wall1.toFixed(1)} s, --jobs 2 ${wall2.toFixed(1)} s`)
  t.equal(r1.code, 0, 'r1 exits 0', { output: r1.out.slice(-2000) })
  t.equal(r2.code, 0, 'r2 exits 0', { output: r2.out.slice(-2000) })
  const [c1, c2] = [await caseResults(one), await caseResults(two)]
  t.same(Object.keys(c1).sort(), ['baseline-6.1', 'baseline-6.12'])
  t.same(c2, c1, 'same case ids and statuses per variant')
  await rm(one, { recursive: true, force: true })
  await rm(two, { recursive: true, force: true })
})
