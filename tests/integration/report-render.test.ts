// report.html is self-contained and renders in a real browser: headless Chromium loads it from a file,
// the rendered DOM holds the variant × case matrix, and a screenshot is written. Skips without chromium
// (fails without it in CI). An integration test: it launches a browser, three times.
import t from 'tap'
import { execa } from 'execa'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeReports } from '../../harness/results/writers.js'
import { caseOutcome, runSummary, variantResult } from '../helpers/fixtures.js'
import { countColour, readPng } from '../helpers/png.js'

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(p => existsSync(p))
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']

const summary = runSummary({
  counts: { passed: 1, failed: 1, skipped: 1 },
  variants: [
    variantResult({
      variant: 'v-ok', summary: 'all as expected', timings: { total: 8.1 }, artifacts: { 'console.log': 'v-ok/console.log' },
      cases: [caseOutcome('map_sync.ext4_msv_sync'), caseOutcome('map_sync.devdax_msv_sync', { status: 'skip', detail: 'no devdax', expected: 'skip' })],
    }),
    variantResult({
      variant: 'v-bad', verdict: 'crash', summary: 'kernel crashed: <script>alert(1)</script> \u001b[31mred', timings: { total: 9 },
      cases: [caseOutcome('map_sync.ext4_msv_sync', { status: 'crashed', detail: 'guest died', verdict: 'unexpected' })],
      findings: [{ kind: 'oops', title: 'BUG: kernel NULL pointer dereference', fingerprint: 'check_vma_flags|__get_user_pages', excerpt: ['RIP: check_vma_flags+0x1/0x2'], line: 12 }],
    }),
  ],
})

// in CI the suite's setup installs chromium (setup --test-tools), so a missing browser there is a failure, not a skip
t.test('report.html renders the matrix in headless Chromium', { skip: chromium || process.env.CI ? false : 'chromium not installed (daxrig setup --test-tools)' }, async t => {
  if (!chromium) {
    t.fail('chromium is not installed: run daxrig setup --test-tools')
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-report-'))
  await writeReports(summary, dir)
  const html = await readFile(join(dir, 'report.html'), 'utf8')
  t.notMatch(html, /<script>alert/, 'guest markup is neutralised')
  t.notMatch(html, /\u001b/, 'terminal escapes are removed')
  t.notMatch(html, /<link |src="http/, 'self-contained: no external resources')
  const url = `file://${join(dir, 'report.html')}`
  const dom = await execa(chromium, [...flags, `--user-data-dir=${await mkdtemp(join(tmpdir(), 'chr-'))}`, '--dump-dom', url], { reject: false, timeout: 60_000 })
  t.match(dom.stdout, /map_sync\.ext4_msv_sync/, 'the rendered DOM lists the case')
  t.match(dom.stdout, /v-bad/, 'and the variants')
  t.match(dom.stdout, /check_vma_flags/, 'and the crash excerpt')
  const png = join(dir, 'report.png')
  await execa(chromium, [...flags, `--user-data-dir=${await mkdtemp(join(tmpdir(), 'chr-'))}`, '--window-size=1200,800', `--screenshot=${png}`, url], { reject: false, timeout: 60_000 })
  t.ok((await stat(png)).size > 10_000, 'a non-empty screenshot')
  // The matrix is painted: the same report without the failing variant has the legend's red and no more,
  // so the extra red pixels are the unexpected cell itself.
  const img = readPng(await readFile(png))
  t.equal(img.width, 1200, 'screenshot width')
  const okDir = await mkdtemp(join(tmpdir(), 'daxrig-report-ok-'))
  await writeReports({ ...summary, variants: [summary.variants[0]!] }, okDir)
  const okPng = join(okDir, 'report.png')
  await execa(chromium, [...flags, `--user-data-dir=${await mkdtemp(join(tmpdir(), 'chr-'))}`, '--window-size=1200,800', `--screenshot=${okPng}`, `file://${join(okDir, 'report.html')}`], { reject: false, timeout: 60_000 })
  const okImg = readPng(await readFile(okPng))
  const red = countColour(img, '#f8c4c4')
  const okRed = countColour(okImg, '#f8c4c4')
  t.ok(countColour(okImg, '#d8f5d8') > 500, 'green (as expected) cells are painted', { green: countColour(okImg, '#d8f5d8') })
  t.ok(red > okRed + 500, 'the unexpected cell is painted red (beyond the legend)', { red, okRed })
})
