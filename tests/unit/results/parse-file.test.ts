// `daxrig parse`: a run dir, a console.log alone, a results.ktap alone, with and without a variant.
import t from 'tap'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Variant } from '../../../harness/types.js'
import { formatTable, locateSources, parseSaved } from '../../../harness/results/parse-file.js'
import { machineSpec } from '../../helpers/fixtures.js'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/console')

function runDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'daxrig-parse-'))
  copyFileSync(join(fixtures, 'debian-6.1-oops.log'), join(dir, 'console.log'))
  copyFileSync(join(fixtures, 'crlf-results-cut-by-panic.log'), join(dir, 'results.ktap'))
  return dir
}

function variant(over: Partial<Variant> = {}): Variant {
  return {
    name: 'map-sync-6.1',
    file: '/x/map-sync-6.1.yaml',
    series: {},
    kernel: { kind: 'prebuilt', package: 'linux-image-6.1.0-56-amd64-unsigned', suite: 'bookworm', config: [] },
    machine: machineSpec({ memoryMiB: 512 }),
    interfaces: { syscalls: {}, mmapFlags: {}, fcntl: {} },
    tests: [{ name: 'map_sync', source: '/x/map_sync.c' }, { name: 'vfio_pin', source: '/x/vfio_pin.c' }],
    expect: [
      { pattern: 'map_sync.*', verdict: 'pass' },
      { pattern: 'map_sync.map_sync_flag', verdict: 'fail', reason: 'no MAP_SYNC before the series' },
      { pattern: 'map_sync.map_sync_devdax', verdict: 'skip' },
      { pattern: 'vfio_pin.*', verdict: 'pass' },
    ],
    allow: [],
    timeouts: { bootSec: 60, noOutputSec: 60, totalSec: 600, perTestSec: 60 },
    ...over,
  }
}

t.test('locateSources: run dir, console.log with sibling, results.ktap with sibling, other file', async t => {
  const dir = runDir()
  t.same(locateSources(dir), { results: join(dir, 'results.ktap'), console: join(dir, 'console.log') })
  t.same(locateSources(join(dir, 'console.log')), { results: join(dir, 'results.ktap'), console: join(dir, 'console.log') })
  t.same(locateSources(join(dir, 'results.ktap')), { results: join(dir, 'results.ktap'), console: join(dir, 'console.log') })
  const f = join(fixtures, 'nested-ktap.log')
  t.same(locateSources(f), { results: f, console: f })
})

t.test('without a variant: statuses, findings, plain counts', async t => {
  const r = await parseSaved(runDir())
  t.equal(r.outcomes, undefined)
  t.same(r.findings.map(f => f.title), ['BUG: kernel NULL pointer dereference in dax_iomap_pte_fault'])
  t.same(r.counts, { passed: 2, failed: 4, skipped: 1 }, '1 fail + 2 crashed + 1 console finding')
  t.match(r.table, /^case\s+status\s+detail$/m)
  t.match(r.table, /map_sync\.map_sync_flag\s+fail\s+vm_flags=0x8000075 expected VM_SYNC/)
  t.match(r.table, /console line 369: oops: BUG: kernel NULL pointer dereference in dax_iomap_pte_fault \[dax_iomap_pte_fault\|/)
  t.match(r.table, /no exit marker/)
})

t.test('with a variant: verdicts and crash', async t => {
  const r = await parseSaved(runDir(), variant())
  t.equal(r.verdict, 'crash')
  const o = new Map(r.outcomes?.map(x => [x.id, x.verdict]))
  t.equal(o.get('map_sync.map_sync_flag'), 'known-failure')
  t.equal(o.get('map_sync.mmap_private'), 'as-expected')
  t.equal(o.get('vfio_pin.#2'), 'unexpected')
    // one known failure counts as passed, as in `daxrig run`
    t.same(r.counts, { passed: 3, failed: 3, skipped: 1 })
  t.match(r.table, /^case\s+status\s+expected\s+verdict\s+detail$/m)
  t.match(r.table, /map-sync-6\.1: crash: kernel crashed: BUG: kernel NULL pointer dereference in dax_iomap_pte_fault at console line 369/)
})

t.test('with a variant that allows the oops, the run is still a crash: the guest never finished', async t => {
  const r = await parseSaved(runDir(), variant({ allow: [{ match: 'dax_iomap_pte_fault', reason: 'known' }] }))
  t.equal(r.verdict, 'crash')
  t.equal(r.findings[0]?.allowed, 'known')
  t.match(r.summary, /died before its exit marker/)
})

t.test('a clean saved results channel with a variant is ok', async t => {
  const v = variant({
    tests: [{ name: 'dax_fault', source: '/x' }, { name: 'dax_truncate', source: '/y' }],
    expect: [{ pattern: '*', verdict: 'pass' }, { pattern: 'dax_truncate.truncate_race', verdict: 'skip' }],
  })
  const r = await parseSaved(join(fixtures, 'crlf-results-complete.log'), v)
  t.equal(r.verdict, 'ok')
  t.same(r.counts, { passed: 3, failed: 0, skipped: 1 })
})

t.test('formatTable aligns columns and strips terminal escapes', async t => {
  t.equal(formatTable(['a', 'bb'], [['xxx', '\x1b[31my\x1b[0m']]), 'a    bb\nxxx  y')
})
