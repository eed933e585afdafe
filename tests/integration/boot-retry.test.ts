// A kernel crash before the guest's init reports anything is retried once: a one-off boot flake gives the
// second boot's verdict (and says so), a crash that happens again stays a crash. Fake QEMU, real pipeline.
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig, fixture } from './helpers.js'
import type { RunSummary } from '../../harness/types.js'

const fake = fixture('fake-qemu/crash-at-boot.mjs')
const recorded = { FAKE_CONSOLE: fixture('runs/baseline-6.1/console.log'), FAKE_RESULTS: fixture('runs/baseline-6.1/results.ktap') }

t.test('a crash before init on the first boot only: retried, judged on the second boot', async t => {
  const out = await mkdtemp(join(tmpdir(), 'daxrig-retry-'))
  const r = await daxrig(['run', 'baseline-6.1', '--accel', 'tcg', '--out', out], { DAXRIG_QEMU: fake, FAKE_STATE: join(out, 'state'), ...recorded })
  t.equal(r.code, 0, r.out.slice(-2000))
  const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary
  t.equal(s.variants[0]!.verdict, 'ok')
  t.match(s.variants[0]!.summary, /first boot crashed before init and was retried/)
  t.ok(existsSync(join(out, 'baseline-6.1', 'console-attempt1.log')), 'the first console is kept')
  t.match(await readFile(join(out, 'baseline-6.1', 'console-attempt1.log'), 'utf8'), /Oops: int3/)
})

t.test('a crash before init on every boot stays a crash', async t => {
  const out = await mkdtemp(join(tmpdir(), 'daxrig-retry-'))
  const r = await daxrig(['run', 'baseline-6.1', '--accel', 'tcg', '--out', out], { DAXRIG_QEMU: fake })
  t.equal(r.code, 1)
  const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary
  t.equal(s.variants[0]!.verdict, 'crash')
  t.match(s.variants[0]!.summary, /Oops|crash/i)
})
