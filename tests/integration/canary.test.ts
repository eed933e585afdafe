// Rig canaries (tests/guest/canary/*.c, tests/variants/canary-*.yaml): programs that fail, hang, panic or print
// garbage on purpose. Each canary variant must end with its declared classification (daxrig exit 0) and the
// per-case statuses in results.json must be exactly the ones below. About 1 minute on TCG.
import t from 'tap'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig } from './helpers.js'
import type { RunSummary, VariantResult } from '../../harness/types.js'

interface Run {
  code: number
  out: string
  v: VariantResult
  dir: string
}

async function runCanary(name: string): Promise<Run> {
  const out = await mkdtemp(join(tmpdir(), `daxrig-${name}-`))
  const r = await daxrig(['run', name, '--out', out])
  const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary
  return { code: r.code, out: r.out, v: s.variants[0]!, dir: join(out, name) }
}

const statuses = (v: VariantResult) => Object.fromEntries(v.cases.map(c => [c.id, c.status]))
const ktap = (r: Run) => readFile(join(r.dir, 'results.ktap'), 'utf8')

t.test('canary-programs: not_ok fails exactly one case, no_plan is read like kunit_parser', async t => {
  const r = await runCanary('canary-programs')
  t.equal(r.code, 0, r.out.slice(-2000))
  t.equal(r.v.verdict, 'ok', r.v.summary)
  t.same(statuses(r.v), { 'not_ok.fine': 'pass', 'not_ok.broken': 'fail', 'no_plan.x': 'pass', 'no_plan.y': 'pass', 'no_plan.z': 'pass' })
  t.same(r.v.cases.filter(c => c.verdict === 'known-failure').map(c => c.id), ['not_ok.broken'])
  t.match(r.v.cases.find(c => c.id === 'not_ok.broken')?.detail, /fails on purpose/, 'the diagnostic before "not ok" is the detail')
  t.match(await ktap(r), /^not ok 1 not_ok$/m, 'init: exit 1 → program not ok')
})

t.test('canary-exit-nonzero: exit 3 after only ok lines is never a pass', async t => {
  const r = await runCanary('canary-exit-nonzero')
  t.match(await ktap(r), /^not ok 1 exit_nonzero # ERROR exit=3$/m, 'init reports the exit status')
  t.equal(r.v.verdict, 'regression', r.v.summary)
  t.equal(r.code, 0, 'daxrig run exits 0 when the canary is classified right')
  t.ok(r.v.cases.some(c => c.status === 'error' && /exit=3/.test(c.detail)), 'a result carries ERROR exit=3')
})

t.test('canary-garbage: hostile output neither crashes the rig nor ends ok', async t => {
  const r = await runCanary('canary-garbage')
  t.equal(r.code, 0, r.out.slice(-2000))
  t.equal(r.v.verdict, 'regression', r.v.summary)
  t.match(await ktap(r), /^# daxrig-exit: 0$/m, 'the guest finished normally')
  t.match(await ktap(r), /^ {2}ok 3 trailing_partial\nok 1 garbage$/m, 'init ends the unterminated last line before its own result')
  const html = await readFile(join(r.dir, '..', 'report.html'), 'utf8')
  t.notMatch(html, /<script>alert\('daxrig'\)/, 'report.html escapes program output')
  t.notMatch(html, /\x1b/, 'report.html has no escape sequences')
  t.notOk(r.v.cases.some(c => /[\x00-\x1f]/.test(c.id)), 'no control characters in case ids')
  t.notOk(r.v.cases.some(c => c.status === 'crashed'), 'no case is "crashed" although the guest exited normally')
})

t.test('canary-hang: the no-output watchdog fires after results began → test-hang', async t => {
  const r = await runCanary('canary-hang')
  t.equal(r.code, 0, r.out.slice(-2000))
  t.equal(r.v.verdict, 'test-hang', r.v.summary)
  t.equal(r.v.expectedVerdict, 'test-hang')
  t.equal(statuses(r.v)['hang.before_hang'], 'pass')
  t.same(r.v.cases.filter(c => c.id !== 'hang.before_hang' && c.status === 'pass').map(c => c.id), [], 'nothing after the hang passes')
  t.notMatch(await ktap(r), /# daxrig-exit:/, 'QEMU was stopped before the guest finished')
})

t.test('canary-hang-per-test: the per-program timeout kills hang, the guest finishes → regression', async t => {
  const r = await runCanary('canary-hang-per-test')
  t.equal(r.code, 0, r.out.slice(-2000))
  t.equal(r.v.verdict, 'regression', r.v.summary)
  t.same(statuses(r.v), { 'hang.before_hang': 'pass', 'hang.#2': 'timeout' })
  t.match(await ktap(r), /^not ok 1 hang # TIMEOUT after 5s$/m)
  t.match(await ktap(r), /^# daxrig-exit: 0$/m)
})

t.test('canary-panic: sysrq-c → crash', async t => {
  const r = await runCanary('canary-panic')
  t.equal(r.code, 0, r.out.slice(-2000))
  t.equal(r.v.verdict, 'crash', r.v.summary)
  t.ok(r.v.findings.some(f => f.kind === 'panic' && /sysrq triggered crash/.test(f.title)), 'the panic is a console finding')
  t.notMatch(await ktap(r), /# daxrig-exit:/, 'no exit marker')
  // the relay sends each line before the program can go on (tcdrain + kt_sync), so the result printed just
  // before the panic is on the host and the crash is blamed on the case after it
  t.same(statuses(r.v), { 'panic.before_panic': 'pass', 'panic.#2': 'crashed' }, 'the line printed before the panic arrived; the next case crashed')
})
