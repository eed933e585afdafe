// A kernel built from linux-source-6.1 with the demo series (tests/patches/vfio-pin-demo): run it whole and
// as a prefix, check single steps with git-bisect exit codes, and bisect to the patch that drops the
// fsdax long-term-pin refusal. The first run may build cold (minutes); later ones rebuild one file.
import t from 'tap'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig, lastLine } from './helpers.js'
import type { RunSummary } from '../../harness/types.js'

const out = () => mkdtemp(join(tmpdir(), 'daxrig-src-'))

t.test('the whole series: fsdax MAP_DMA succeeds (known failure), controls pass', async t => {
  const dir = await out()
  const r = await daxrig(['run', 'vfio-pin-demo-6.1', '--out', dir])
  t.equal(r.code, 0, r.out.slice(-3000))
  const s = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunSummary
  const v = s.variants[0]!
  t.match(v.kernel?.description ?? '', /linux-source-6\.1/)
  const fsdax = v.cases.filter(c => c.id.startsWith('vfio_pin.vfio_map_fsdax'))
  t.ok(fsdax.length >= 2)
  for (const c of fsdax) t.equal(c.verdict, 'known-failure', `${c.id}: the pin went through`)
  t.equal(v.cases.find(c => c.id === 'vfio_pin.vfio_map_anon')?.status, 'pass', 'VFIO itself works')
  t.equal(v.cases.find(c => c.id === 'vfio_pin.vfio_setup')?.status, 'pass', 'a real vIOMMU domain')
})

t.test('prefix 2: the refusal is still there, every fsdax case passes', async t => {
  const dir = await out()
  const r = await daxrig(['run', 'vfio-pin-demo-6.1', '--upto', '2', '--out', dir])
  t.equal(r.code, 0, r.out.slice(-3000))
  const s = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunSummary
  for (const c of s.variants[0]!.cases.filter(c => c.id.startsWith('vfio_pin.vfio_map_fsdax'))) t.equal(c.status, 'pass', c.id)
})

t.test('check: git bisect run exit codes', async t => {
  const good = await daxrig(['check', 'vfio-pin-demo-6.1', '--test', 'vfio_pin.vfio_map_fsdax', '--upto', '2', '--out', await out()])
  t.equal(good.code, 0, good.out.slice(-1500))
  const bad = await daxrig(['check', 'vfio-pin-demo-6.1', '--test', 'vfio_pin.vfio_map_fsdax', '--upto', '3', '--out', await out()])
  t.equal(bad.code, 1, bad.out.slice(-1500))
  const unknown = await daxrig(['check', 'vfio-pin-demo-6.1', '--test', 'nosuch.case'])
  t.equal(unknown.code, 128, 'bad input under check aborts git bisect run instead of reading as "bad"')
  t.match(unknown.out, /not a verdict about the kernel \(exit 2\)/)
})

t.test('bisect names 3/5, and the series without 3/5 is good again', async t => {
  const dir = await out()
  const r = await daxrig(['bisect', 'vfio-pin-demo-6.1', '--test', 'vfio_pin.vfio_map_fsdax', '--out', dir])
  t.equal(r.code, 0, r.out.slice(-3000))
  t.match(r.stdout, /first bad patch: 3\/5 mm\/gup: allow long-term pins of fsdax mappings/)
  t.match(r.stdout, /^verified: the series without 3\/5 is good again/m, 'the revert check confirms the culprit')
  t.match(r.stdout, /\d+ builds?/)
  const res = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { verification?: { outcome: string; without: number } }
  t.match(res.verification, { outcome: 'confirmed', without: 3 }, 'results.json records the revert check')
})

t.test('patchcheck: one row per prefix, the verdict flips at 3', async t => {
  const r = await daxrig(['patchcheck', 'vfio-pin-demo-6.1', '--test', 'vfio_pin.vfio_map_fsdax', '--out', await out()])
  t.equal(r.code, 1, 'later prefixes are bad')
  t.match(r.stdout, /allow long-term pins of fsdax mappings/)
  t.notOk(/Error|rig failure/.test(lastLine(r.out)))
})
