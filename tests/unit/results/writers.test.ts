// Report writers: results.json against its schema, junit.xml read back, KCIDB shape, Markdown/HTML neutralisation.
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunSummary } from '../../../harness/types.js'
import { writeReports } from '../../../harness/results/writers.js'
import { kcidbDocument, kcidbStatus } from '../../../harness/results/kcidb.js'
import { reportHtml, reportMarkdown } from '../../../harness/results/report.js'
import { escapeHtml, markdownCodeBlock, stripTerminal } from '../../../harness/results/text.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse as parseJunit } from 'junit2json'
import { caseOutcome, runSummary, variantResult } from '../../helpers/fixtures.js'

// ---- test helpers: a real JSON Schema validator (ajv, draft 2020-12) and a real JUnit XML parser (junit2json) ----
const ajv = new Ajv2020({ allErrors: true, strict: false })

function validate(schema: Record<string, unknown>, value: unknown): string[] {
  const check = ajv.compile(schema)
  if (check(value)) return []
  return (check.errors ?? []).map(e => `$${e.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}: ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` ${String(e.params.additionalProperty)}` : ''}`)
}

interface JCase {
  classname?: string
  name?: string
  failure?: { message?: string; type?: string; inner?: string }[]
  error?: { message?: string; type?: string; inner?: string }[]
  skipped?: unknown[]
  'system-out'?: string[]
}
interface JSuite {
  name?: string
  failures?: number
  testcase?: JCase[]
}

// ---- tests ----
const here = dirname(fileURLToPath(import.meta.url))
const schema = JSON.parse(readFileSync(join(here, '../../../harness/results/results.schema.json'), 'utf8')) as Record<string, unknown>
const EVIL = '\x1b[31mred\x1b[0m <script>alert(1)</script> & \x07bell'

function summary(): RunSummary {
  return runSummary({
    started: '2026-01-02T03:04:05.000Z',
    finished: '2026-01-02T03:05:00.000Z',
    host: { accel: 'tcg', qemu: '7.2.0', node: 'v20.20.2' },
    counts: { passed: 2, failed: 3, skipped: 1 },
    variants: [
      {
        variant: 'map-sync-6.1',
        file: '/x/tests/variants/map-sync-6.1.yaml',
        verdict: 'crash',
        summary: `kernel crashed: BUG: kernel NULL pointer dereference in dax_iomap_pte_fault ${EVIL}`,
        kernel: { id: 'k1', release: '6.1.0-56-amd64', description: 'prebuilt linux-image-6.1.0-56-amd64-unsigned', imageHash: 'abc' },
        cases: [
          caseOutcome('map_sync.a'),
          caseOutcome('map_sync.b', { status: 'fail', detail: EVIL, diagnostics: [EVIL], verdict: 'unexpected' }),
          caseOutcome('map_sync.c', { status: 'skip', detail: 'no devdax', expected: 'skip' }),
          caseOutcome('map_sync.d', { status: 'fail', detail: 'flags', expected: 'fail', reason: 'series reverted', verdict: 'known-failure' }),
          caseOutcome('vfio_pin.*', { status: 'crashed', detail: 'guest died', verdict: 'unexpected' }),
          caseOutcome('extra.new', { expected: 'unknown', verdict: 'unexpected-case' }),
        ],
        findings: [
          { kind: 'oops', title: 'BUG: kernel NULL pointer dereference in dax_iomap_pte_fault', fingerprint: 'dax_iomap_pte_fault|ext4_dax_huge_fault', excerpt: ['BUG: kernel NULL pointer dereference', EVIL, '```', 'RIP: 0010:dax_iomap_pte_fault+0x2b6/0x8f0'], line: 369 },
          { kind: 'warning', title: 'WARNING in check_vma_flags', fingerprint: 'check_vma_flags', excerpt: ['WARNING: ...'], line: 12, allowed: 'pre-series' },
        ],
        timings: { boot: 6.1, tests: 3.25 },
        artifacts: { 'console.log': 'map-sync-6.1/console.log', 'results.ktap': 'map-sync-6.1/results.ktap', 'qemu.cmdline': 'map-sync-6.1/qemu.cmdline' },
      },
      variantResult({ variant: 'vfio-6.12', file: '/x/tests/variants/vfio-6.12.yaml', summary: 'all 1 case as expected', cases: [caseOutcome('map_sync.a')] }),
    ],
  })
}

t.test('sanitize: escapes gone, controls visible, HTML escaped', async t => {
  t.equal(stripTerminal('\x1b[31mred\x1b[0m'), 'red')
  t.equal(stripTerminal('a\x1b]0;title\x07b'), 'ab')
  t.equal(stripTerminal('x\x07y'), 'x\ufffdy')
  t.equal(escapeHtml('<b a="1">&</b>'), '&lt;b a=&quot;1&quot;&gt;&amp;&lt;/b&gt;')
  const block = markdownCodeBlock('a\n```\nb')
  t.ok(block.startsWith('````text\n') && block.endsWith('\n````'), 'fence longer than any backtick run')
})

t.test('writeReports writes every file; results.json matches its schema', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'daxrig-reports-'))
  const paths = await writeReports(summary(), dir)
  t.same(readdirSync(dir).sort(), ['junit.xml', 'kcidb.json', 'report.html', 'report.md', 'results.json'])
  t.equal(paths['report.html'], join(dir, 'report.html'))
  const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as unknown
  t.same(validate(schema, json), [])
  t.same(json, summary(), 'results.json is the summary itself')
  t.notOk(readFileSync(join(dir, 'results.json'), 'utf8').includes('\x1b'), 'no raw ESC byte even in JSON')
})

t.test('the schema check can fail', async t => {
  const bad = summary() as unknown as { variants: { verdict: string; cases: { status: string }[] }[]; extra?: number }
  const v0 = bad.variants[0]
  if (!v0 || !v0.cases[0]) throw new Error('fixture')
  v0.verdict = 'fine'
  v0.cases[0].status = 'passed'
  bad.extra = 1
  const errs = validate(schema, bad)
  t.ok(errs.some(e => e.includes('$.variants[0].verdict')))
  t.ok(errs.some(e => e.includes('$.variants[0].cases[0].status')))
  t.ok(errs.some(e => /must NOT have additional properties extra/.test(e)), 'an unknown top-level field is refused')
})

t.test('junit.xml is well-formed and carries suites, failures, skips and known failures', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'daxrig-reports-'))
  await writeReports(summary(), dir)
  const xml = readFileSync(join(dir, 'junit.xml'), 'utf8')
  t.notOk(xml.includes('\x1b'), 'no ESC')
  t.notOk(xml.includes('[31m'), 'no escape-sequence residue')
  const doc = (await parseJunit(xml)) as { testsuite?: JSuite[] } | undefined
  const suites = doc?.testsuite ?? []
  t.same(suites.map(s => s.name), ['map-sync-6.1', 'vfio-6.12'])
  const byName = new Map((suites[0]?.testcase ?? []).map(c => [`${c.classname}/${c.name}`, c]))
  const get = (n: string): JCase => byName.get(n) ?? {}
  t.equal(get('daxrig.map-sync-6.1.map_sync/b').failure?.length, 1, 'unexpected → failure')
  t.equal(get('daxrig.map-sync-6.1.map_sync/c').skipped?.length, 1, 'skip → skipped')
  const known = get('daxrig.map-sync-6.1.map_sync/d')
  t.equal(known.failure, undefined, 'known failure is not a failure')
  t.match(known['system-out']?.[0] ?? '', /known failure: reason: series reverted/)
  t.equal(get('daxrig.map-sync-6.1.extra/new').failure?.length, 1, 'unexpected case → failure')
  t.equal(get('daxrig.map-sync-6.1/run').error?.[0]?.type, 'crash')
  t.match(get('daxrig.map-sync-6.1/console').failure?.[0]?.message ?? '', /dax_iomap_pte_fault/)
  t.match(get('daxrig.map-sync-6.1.map_sync/b').failure?.[0]?.message ?? '', /<script>/, 'markup survives as escaped text')
  t.equal(suites[0]?.failures, 4)
  await t.rejects(parseJunit(xml.replace('</testsuites>', '')), 'the parser refuses a truncated document (so it can fail)')
})

t.test('KCIDB: origin, prefixed ids, statuses, waived known failures', async t => {
  const k = kcidbDocument(summary())
  t.equal(k.version.major, 4)
  const all = [...k.checkouts, ...k.builds, ...k.tests]
  t.ok(all.every(o => o.origin === 'daxrig' && String(o.id).startsWith('daxrig:')))
  t.equal(k.builds.length, 2)
  const tests = new Map(k.tests.map(x => [x.path, x]))
  t.equal(tests.get('daxrig.map_sync.b')?.status, 'FAIL')
  t.equal(tests.get('daxrig.map_sync.d')?.waived, true)
  t.equal(tests.get('daxrig.vfio_pin._')?.status, 'ERROR')
  t.equal(k.tests.find(x => x.id === 'daxrig:20260102T030405000Z:map-sync-6.1:boot')?.status, 'FAIL')
  t.equal(kcidbStatus(caseOutcome('a', { status: 'error', verdict: 'missing' })), 'MISS')
  t.ok(k.tests.every(x => String(x.build_id).startsWith('daxrig:')))
})

t.test('report.md: matrix, links, timings; no raw ESC and HTML only inside code fences', async t => {
  const md = reportMarkdown(summary())
  t.notOk(md.includes('\x1b'))
  t.notOk(md.includes('\x07'))
  const outsideFences = md.split(/^(`{3,})text$[\s\S]*?^\1$/m).join('')
  t.notOk(outsideFences.includes('<script>'), 'no live markup outside code blocks')
  t.match(md, /&lt;script&gt;/)
  t.match(md, /\| map_sync\.b \| ❌ fail \(expected pass\) \| {2}\|/)
  t.match(md, /🟨 known/)
  t.match(md, /❓|❌ crashed/)
  t.match(md, /\[console\.log\]\(map-sync-6\.1\/console\.log\)/)
  t.match(md, /boot 6\.1 s, tests 3\.3 s/)
  t.match(md, /daxrig: 2 passed, 3 failed, 1 skipped\n$/)
  t.match(md, /allowed: pre-series/)
})

t.test('report.html: self-contained, coloured cells, escaped guest text, artifact links', async t => {
  const html = reportHtml(summary())
  t.notOk(html.includes('\x1b'))
  t.notOk(html.includes('<script'), 'no script element at all')
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  t.notOk(/<link|src=/.test(html), 'no external resources')
  t.match(html, /<td class="unexpected"[^>]*>fail \(expected pass\)<\/td>/)
  t.match(html, /<td class="known"/)
  t.match(html, /<td class="skip"/)
  t.match(html, /<td class="pass"/)
  t.match(html, /<td class="unexpected-case"/)
  t.match(html, /<a href="map-sync-6\.1\/qemu\.cmdline">qemu\.cmdline<\/a>/)
  t.match(html, /<pre>BUG: kernel NULL pointer dereference\nred &lt;script&gt;/)
  t.match(html, /\.unexpected\{background/)
})
