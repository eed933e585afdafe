// Every console fixture is parsed and classified and compared with the answer stored beside it (`name.expected.json`).
// Update mode: `DAXRIG_UPDATE_FIXTURES=1 npx tap tests/unit/results/fixtures.test.ts` (npm run test:update-fixtures)
// rewrites each answer from what the parser and classifier say now, and writes one for a new `.log`; the
// diff of tests/fixtures/console is then the change in behaviour, to review before committing it.
import t from 'tap'
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { basename, dirname, join } from 'node:path'
import { parseResultsChannel } from '../../../harness/results/channel.js'
import { classifyConsole } from '../../../harness/results/classify.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/console')
const logs = readdirSync(dir).filter(f => f.endsWith('.log')).sort()
const update = process.env.DAXRIG_UPDATE_FIXTURES === '1'

interface Expected {
  /** the programs the variant declared (kept as written: it is an input, not an answer) */
  programs?: string[]
  ktap: {
    found: boolean
    exited: boolean
    exitCode: number | null
    setup: unknown
    counts: Record<string, number>
    cases: Record<string, string>
  }
  findings: { kind: string; title: string; fingerprint: string; line: number }[]
}

const expectedPath = (log: string) => join(dir, log.replace(/\.log$/, '.expected.json'))

/** What the parser and the classifier make of one fixture today, in the stored answer's shape. */
function answer(text: string, programs: string[] | undefined): Expected {
  const r = parseResultsChannel(text, programs ? { programs } : {})
  return {
    ...(programs ? { programs } : {}),
    ktap: {
      found: r.doc.found,
      exited: r.exited,
      exitCode: r.exitCode,
      setup: r.setup,
      counts: r.doc.counts,
      cases: Object.fromEntries(r.cases.map(c => [c.id, c.detail ? `${c.status}: ${c.detail}` : c.status])),
    },
    findings: classifyConsole(text).map(x => ({ kind: x.kind, title: x.title, fingerprint: x.fingerprint, line: x.line })),
  }
}

if (update) {
  t.test('update mode: rewrite the expected answers', async t => {
    for (const f of logs) {
      const file = expectedPath(f)
      const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined
      const programs = old === undefined ? undefined : (JSON.parse(old) as Expected).programs
      const now = `${JSON.stringify(answer(readFileSync(join(dir, f), 'utf8'), programs), null, 2)}\n`
      if (now === old) continue
      writeFileSync(file, now)
      t.comment(`${old === undefined ? 'wrote' : 'updated'} tests/fixtures/console/${basename(file)}`)
    }
    t.pass('answers written')
  })
}

t.test('every fixture has an expected answer', async t => {
  t.ok(logs.length >= 15, `${logs.length} fixtures`)
  for (const f of logs) t.ok(existsSync(expectedPath(f)), f)
})

for (const f of logs) {
  t.test(f, async t => {
    const exp = JSON.parse(readFileSync(expectedPath(f), 'utf8')) as Expected
    const got = answer(readFileSync(join(dir, f), 'utf8'), exp.programs)
    t.equal(got.ktap.found, exp.ktap.found, 'version line found')
    t.equal(got.ktap.exited, exp.ktap.exited, 'exit marker')
    t.equal(got.ktap.exitCode, exp.ktap.exitCode, 'exit code')
    t.same(got.ktap.setup, exp.ktap.setup, 'setup status')
    t.same(got.ktap.counts, exp.ktap.counts, 'counts')
    t.same(got.ktap.cases, exp.ktap.cases, 'cases')
    t.same(Object.keys(got.ktap.cases), Object.keys(exp.ktap.cases), 'case order')
    t.same(got.findings, exp.findings, 'console findings')
  })
}
