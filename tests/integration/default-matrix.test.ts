// Boots the real Debian kernels: the default matrix must pass for real, and a wrong expectation must fail.
import t from 'tap'
import { mkdtemp, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig, fixture, lastLine } from './helpers.js'
import type { RunSummary } from '../../harness/types.js'
import { projectRoot } from '../../harness/paths.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse as parseJunit } from 'junit2json'
import { kcidbValidator } from '../helpers/kcidb.js'

t.test('daxrig run (default matrix) passes on the Debian 6.1 and 6.12 kernels', async t => {
  const out = await mkdtemp(join(tmpdir(), 'daxrig-it-'))
  const r = await daxrig(['run', '--out', out])
  t.equal(r.code, 0, r.out.slice(-3000))
  t.match(lastLine(r.stdout), /^daxrig: \d+ passed, 0 failed, \d+ skipped$/)
  const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary
  t.same(s.variants.map(v => v.variant).sort(), ['baseline-6.1', 'baseline-6.12'])
  for (const v of s.variants) {
    t.equal(v.verdict, 'ok', `${v.variant}: ${v.summary}`)
    t.ok(v.cases.length >= 30, `${v.variant} reported its cases`)
    t.ok(v.cases.filter(c => c.status === 'pass').length >= 20, `${v.variant}: real passes, not only skips`)
    // the VM really ran: a kernel banner on the console and the guest's exit marker on the results channel
    const dir = join(out, v.variant)
    t.match(await readFile(join(dir, 'console.log'), 'utf8'), /Linux version \S+/)
    t.match(await readFile(join(dir, 'console.log'), 'utf8'), /mounted -o dax/)
    t.match(await readFile(join(dir, 'results.ktap'), 'utf8'), /# daxrig-exit: 0/)
    t.match(await readFile(join(dir, 'qemu.cmdline'), 'utf8'), /^qemu-system-x86_64 .*-device nvdimm/m)
    // empty files, or (a machine run before: harness/run/media-cache.ts) fresh copies of its premade medium
    t.match(
      await readFile(join(dir, 'qemu.cmdline'), 'utf8'),
      /^#   mkdir -p \S+ && (truncate -s 512M \S+nv0\.img|cp --reflink=auto --sparse=always \S+\/media\/[0-9a-f]{32}\/nv0\.img \S+nv0\.img)/m,
      'how to recreate the backing files to replay it',
    )
    t.ok(existsSync(join(dir, 'kernel.config')))
  }
  for (const f of ['results.json', 'junit.xml', 'report.md', 'report.html']) t.ok(existsSync(join(out, f)), f)
  // what a real run wrote: results.json holds to its schema, junit.xml reads back with a JUnit parser
  const schema = JSON.parse(await readFile(join(projectRoot(), 'harness', 'results', 'results.schema.json'), 'utf8')) as object
  const check = new Ajv2020({ allErrors: true, strict: false }).compile(schema)
  t.ok(check(s), 'results.json validates against results.schema.json', { errors: check.errors })
  // kcidb.json of a real run holds to the KCIDB I/O schema it declares (v4.3), ready for kcidb-submit
  const kcidb = JSON.parse(await readFile(join(out, 'kcidb.json'), 'utf8')) as { tests: unknown[] }
  const kcheck = kcidbValidator()
  t.ok(kcheck(kcidb), 'kcidb.json validates against the KCIDB I/O schema v4.3', { errors: kcheck.errors })
  t.ok(kcidb.tests.length >= 60, 'kcidb.json: a test per case and a boot test per variant')
  const junit = (await parseJunit(await readFile(join(out, 'junit.xml'), 'utf8'))) as { testsuite?: { name?: string; failures?: number; testcase?: unknown[] }[] }
  t.same((junit.testsuite ?? []).map(x => x.name).sort(), ['baseline-6.1', 'baseline-6.12'], 'junit.xml: one suite per variant')
  t.ok((junit.testsuite ?? []).every(x => (x.testcase?.length ?? 0) >= 30 && !x.failures), 'junit.xml: every case, no failure')
})

t.test('a deliberately wrong expectation makes daxrig run exit 1 and names the test', async t => {
  const out = await mkdtemp(join(tmpdir(), 'daxrig-it-'))
  const r = await daxrig(['run', fixture('variants/wrong-expectation.yaml'), '--out', out])
  t.equal(r.code, 1, r.out.slice(-2000))
  t.match(r.stdout, /map_sync\.ext4_msv_sync: expected fail, got pass/)
  t.match(lastLine(r.stdout), /^daxrig: \d+ passed, 1 failed, \d+ skipped$/)
})
