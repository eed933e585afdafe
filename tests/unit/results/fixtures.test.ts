// Every console fixture is parsed and classified and compared with the answer stored beside it (`name.expected.json`).
import t from 'tap'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { parseResultsChannel } from '../../../harness/results/channel.js'
import { classifyConsole } from '../../../harness/results/classify.js'

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/console')
const logs = readdirSync(dir).filter(f => f.endsWith('.log')).sort()

interface Expected {
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

t.test('every fixture has an expected answer', async t => {
  t.ok(logs.length >= 15, `${logs.length} fixtures`)
  for (const f of logs) t.ok(existsSync(join(dir, f.replace(/\.log$/, '.expected.json'))), f)
})

for (const f of logs) {
  t.test(f, async t => {
    const text = readFileSync(join(dir, f), 'utf8')
    const exp = JSON.parse(readFileSync(join(dir, f.replace(/\.log$/, '.expected.json')), 'utf8')) as Expected
    const r = parseResultsChannel(text, exp.programs ? { programs: exp.programs } : {})
    t.equal(r.doc.found, exp.ktap.found, 'version line found')
    t.equal(r.exited, exp.ktap.exited, 'exit marker')
    t.equal(r.exitCode, exp.ktap.exitCode, 'exit code')
    t.same(r.setup, exp.ktap.setup, 'setup status')
    t.same(r.doc.counts, exp.ktap.counts, 'counts')
    const cases = Object.fromEntries(r.cases.map(c => [c.id, c.detail ? `${c.status}: ${c.detail}` : c.status]))
    t.same(cases, exp.ktap.cases, 'cases')
    t.same(Object.keys(cases), Object.keys(exp.ktap.cases), 'case order')
    const findings = classifyConsole(text).map(x => ({ kind: x.kind, title: x.title, fingerprint: x.fingerprint, line: x.line }))
    t.same(findings, exp.findings, 'console findings')
  })
}
