// Premade NVDIMM media on a real kernel: the first run of a machine makes its media in the guest, the second
// makes a premade medium once (a boot of its own) and runs on a copy, the third runs on a copy, and
// DAXRIG_FRESH_MEDIA=1 goes back to the guest's ndctl and mkfs. Every run ends ok with the same case results,
// and no run writes into the cached medium. A private cache (sharing the downloaded kernels) so that "first"
// really is the first. About 1 minute.
import t from 'tap'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, symlink } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig } from './helpers.js'
import type { RunSummary } from '../../harness/types.js'

const shared = process.env.DAXRIG_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'daxrig')
const cache = await mkdtemp(join(tmpdir(), 'daxrig-media-cache-'))
for (const kind of ['prebuilt', 'apt', 'debs']) if (existsSync(join(shared, kind))) await symlink(join(shared, kind), join(cache, kind))
const env = { DAXRIG_CACHE: cache }
const VARIANT = 'mmap-prepare-6.1' // ext4 and xfs on one DIMM's worth each, and a devdax DIMM

async function runOnce(label: string, extra: Record<string, string> = {}) {
  const out = await mkdtemp(join(tmpdir(), `daxrig-media-${label}-`))
  const r = await daxrig(['run', VARIANT, '--out', out], { ...env, ...extra })
  const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8').catch(() => '{"variants":[]}')) as RunSummary
  const v = s.variants[0]
  return {
    r,
    verdict: v?.verdict,
    cases: (v?.cases ?? []).map(c => `${c.id}=${c.status}`).sort(),
    plan: await readFile(join(out, VARIANT, 'plan.sh'), 'utf8').catch(() => ''),
    console: await readFile(join(out, VARIANT, 'console.log'), 'utf8').catch(() => ''),
    cmdline: await readFile(join(out, VARIANT, 'qemu.cmdline'), 'utf8').catch(() => ''),
  }
}

async function mediumHashes(): Promise<string[]> {
  const dir = join(cache, 'media')
  const keys = (await readdir(dir)).filter(k => existsSync(join(dir, k, '.complete')))
  const out: string[] = []
  for (const k of keys)
    for (const f of (await readdir(join(dir, k))).filter(f => f.endsWith('.img')).sort())
      out.push(`${k}/${f}:${createHash('sha256').update(await readFile(join(dir, k, f))).digest('hex')}`)
  return out
}

const first = await runOnce('first')
const second = await runOnce('second')
const before = await mediumHashes()
const third = await runOnce('third')
const after = await mediumHashes()
const fresh = await runOnce('fresh', { DAXRIG_FRESH_MEDIA: '1' })

t.test('first use: the guest makes its media with ndctl and mkfs', async t => {
  t.equal(first.verdict, 'ok', first.r.out.slice(-3000))
  t.notMatch(first.plan, /PREMADE/)
  t.match(first.console, /mkfs\.ext4 \/dev\/pmem\d+ done/)
  t.match(first.cmdline, /truncate -s 512M/, 'replayed from empty files')
})

t.test('second use: a premade medium is made once, and the run uses a copy of it', async t => {
  t.equal(second.verdict, 'ok', second.r.out.slice(-3000))
  t.match(second.r.out, /premade NVDIMM media made once with ndctl and mkfs \(cache media\/[0-9a-f]{32}\)/)
  t.match(second.plan, /^PREMADE=1$/m)
  t.notMatch(second.console, /mkfs\.\w+ \/dev\/pmem\d+ done/, 'no mkfs in the run itself')
  t.match(second.console, /ext4 on \/dev\/pmem\d+ mounted -o dax/)
  t.match(second.cmdline, /cp --reflink=auto --sparse=always \S+\/media\/[0-9a-f]{32}\/nv0\.img/, 'the replay note copies the medium')
  t.equal(before.length, 3, 'one medium, a file per DIMM')
})

t.test('third use: a copy again; the cached medium is never written', async t => {
  t.equal(third.verdict, 'ok', third.r.out.slice(-3000))
  t.notMatch(third.r.out, /made once/)
  t.match(third.plan, /^PREMADE=1$/m)
  t.same(after, before, 'the medium is byte for byte what it was before the run')
})

t.test('DAXRIG_FRESH_MEDIA=1: the guest makes its media again', async t => {
  t.equal(fresh.verdict, 'ok', fresh.r.out.slice(-3000))
  t.notMatch(fresh.plan, /PREMADE/)
  t.match(fresh.console, /mkfs\.xfs \/dev\/pmem\d+ done/)
})

t.test('the same case results on fresh and on premade media', async t => {
  t.ok(first.cases.length > 20, `${first.cases.length} cases`)
  t.same(second.cases, first.cases)
  t.same(third.cases, first.cases)
  t.same(fresh.cases, first.cases)
})
