// Boots the real Debian kernels with the seeds matrix (tests/matrices/seeds.yaml): every seed series' variant
// must end as expected, and every SKIP must say which interface or machine part is missing.
// About 2 minutes on TCG (10 variants, one VM at a time).
import t from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { daxrig, lastLine, root } from './helpers.js'
import type { CaseOutcome, RunSummary, VariantResult } from '../../harness/types.js'

/** Words a skip's detail (printed by the guest program) must contain: the interface that is missing. */
const MISSING_INTERFACE: Record<string, RegExp> = {
  map_direct: /\b(mmap3|MAP_DIRECT|F_MAP_DIRECT)\b.*\bnot (in this kernel|declared by the variant)\b/,
  daxfile: /\bdaxctl\b.*\bnot (in this kernel|declared by the variant)\b/,
  'map_sync.devdax_': /\bdevice-dax\b.*\bDAXRIG_DEVDAX unset\b/,
  'mm_users.kcov_mmap': /\bkcov not in this kernel\b.*\bCONFIG_KCOV\b/,
}

function interfaceRule(id: string): RegExp | undefined {
  const key = Object.keys(MISSING_INTERFACE)
    .filter(k => id.startsWith(k.includes('.') ? k : `${k}.`))
    .sort((a, b) => b.length - a.length)[0]
  return key ? MISSING_INTERFACE[key] : undefined
}

const byId = (v: VariantResult, id: string): CaseOutcome | undefined => v.cases.find(c => c.id === id)

t.test('daxrig run seeds: every seed variant as expected on the prebuilt kernels', async t => {
  const matrix = parse(await readFile(join(root, 'tests', 'matrices', 'seeds.yaml'), 'utf8')) as { variants: string[] }
  const out = await mkdtemp(join(tmpdir(), 'daxrig-seeds-'))
  const r = await daxrig(['run', 'seeds', '--out', out])
  t.equal(r.code, 0, r.out.slice(-3000))
  t.match(lastLine(r.stdout), /^daxrig: \d+ passed, 0 failed, \d+ skipped$/)
  const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary
  t.same(s.variants.map(v => v.variant), matrix.variants, 'every seed variant ran, in matrix order')

  for (const v of s.variants) {
    t.test(v.variant, async t => {
      t.equal(v.verdict, 'ok', v.summary)
      t.notOk(v.expectedVerdict, 'seed variants are judged per case, not as a whole')
      t.ok(v.cases.length > 0, 'reported cases')
      for (const c of v.cases) t.ok(c.verdict === 'as-expected' || c.verdict === 'known-failure', `${c.id}: ${c.verdict}`)
      for (const c of v.cases.filter(c => c.status === 'skip')) {
        t.ok(c.detail.trim().length > 0, `${c.id}: the guest gave a skip reason`)
        t.ok(c.reason && c.reason.length > 0, `${c.id}: the expectation carries a reason`)
        const want = interfaceRule(c.id)
        t.ok(want, `${c.id}: a skip in a seed variant is one of the known missing interfaces (got "${c.detail}")`)
        if (want) t.match(c.detail, want, `${c.id}: the skip names the missing interface`)
      }
    })
  }

  const get = (name: string) => s.variants.find(v => v.variant === name)!
  t.test('004 vfio pin fix is in the stock kernels: fsdax pins refused on both', async t => {
    for (const name of ['vfio-pin-6.1', 'vfio-pin-6.12', 'device-map-regression-6.12']) {
      const fsdax = get(name).cases.filter(c => /^vfio_pin\.(vfio_map_fsdax|uring_reg_fsdax)/.test(c.id))
      t.equal(fsdax.length, 8, `${name}: 8 fsdax cases`)
      for (const c of fsdax) t.equal(c.status, 'pass', `${name} ${c.id}`)
    }
    const known = get('vfio-pin-6.1').cases.filter(c => c.verdict === 'known-failure').map(c => c.id).sort()
    t.same(known, ['vfio_pin.uring_reg_devdax', 'vfio_pin.uring_reg_pagecache_private', 'vfio_pin.uring_reg_pagecache_shared'])
    t.same(get('vfio-pin-6.12').cases.filter(c => c.status !== 'pass').map(c => c.id), [], '6.12: every case passes')
  })

  t.test('000 MAP_DIRECT: stock kernels skip, the as-posted number must fail', async t => {
    for (const name of ['map-direct-v5-6.1', 'map-direct-v5-6.12']) {
      const md = get(name).cases.filter(c => c.id.startsWith('map_direct.'))
      t.equal(md.length, 29)
      t.equal(byId(get(name), 'map_direct.md_legacy_mmap_bit')?.status, 'pass', `${name}: 0x800000 aliases no mmap bit`)
      t.equal(md.filter(c => c.status === 'skip').length, 28, `${name}: the rest skip`)
    }
    const legacy = byId(get('map-direct-v5-as-posted-6.1'), 'map_direct.md_legacy_mmap_bit')
    t.equal(legacy?.status, 'fail')
    t.equal(legacy?.verdict, 'known-failure')
    t.match(legacy?.reason, /MAP_DIRECT as posted aliases MAP_SYNC/)
  })

  t.test('001 daxfile: all 64 cases skip on both stock kernels and pass on the port', async t => {
    for (const name of ['daxfile-rfc-6.1', 'daxfile-rfc-6.12']) {
      const dc = get(name).cases
      t.equal(dc.length, 64, '4 global cases + 20 per DAX filesystem (ext4, xfs, reflink xfs)')
      t.same(dc.filter(c => c.status !== 'skip').map(c => c.id), [], name)
    }
    const port = get('daxfile-rfc-port-6.1').cases
    t.equal(port.length, 64, 'the port runs the same 64 cases')
    t.same(port.filter(c => c.status !== 'pass').map(c => c.id), [], 'on the forward-port every dc_* case passes')
  })

  t.test('003 mmap_prepare: identical results on 6.1 and 6.12; 002 device_map = those baselines', async t => {
    const statuses = (v: VariantResult) => Object.fromEntries(v.cases.map(c => [c.id, c.status]))
    const a = statuses(get('mmap-prepare-6.1'))
    t.same(statuses(get('mmap-prepare-6.12')), a)
    t.same(statuses(get('mmap-prepare-sid')), a, 'sid 7.x (with mmap_prepare) gives the same results')
    const dm = statuses(get('device-map-regression-6.12'))
    for (const [id, st] of Object.entries(a)) t.equal(dm[id], st, `device-map ${id} = mmap-prepare`)
    for (const [id, st] of Object.entries(statuses(get('vfio-pin-6.12')))) t.equal(dm[id], st, `device-map ${id} = vfio-pin-6.12`)
  })

  // Every program can fail: its saved results, re-judged against its variant with one expectation
  // deliberately wrong, must exit 1 and name that case (no extra boot needed: `daxrig parse`).
  t.test('every program catches a wrong expectation', async t => {
    const picks: [string, string, 'pass' | 'fail' | 'skip'][] = [
      ['mmap-prepare-6.1', 'map_sync.ext4_msv_sync', 'fail'],
      ['vfio-pin-6.12', 'vfio_pin.vfio_map_fsdax', 'fail'],
      ['mmap-prepare-6.1', 'devdax.devdax_private', 'fail'],
      ['mmap-prepare-6.1', 'mm_users.memfd_sealed_write_map', 'fail'],
      ['map-direct-v5-6.1', 'map_direct.md_probe', 'pass'],
      ['daxfile-rfc-6.1', 'daxfile.dc_probe', 'pass'],
    ]
    const dir = await mkdtemp(join(tmpdir(), 'daxrig-flip-'))
    for (const [variant, id, wrong] of picks) {
      const doc = parse(await readFile(join(root, 'tests', 'variants', `${variant}.yaml`), 'utf8')) as { expect: Record<string, unknown> }
      doc.expect[id] = wrong === 'pass' ? 'pass' : { verdict: wrong, reason: 'deliberately wrong: the rig must catch it' }
      const file = join(dir, `${variant}-${id}.yaml`)
      await writeFile(file, stringify(doc))
      const r = await daxrig(['parse', join(out, variant), '--variant', file])
      t.equal(r.code, 1, `${id}: a wrong expectation fails`)
      t.match(r.stdout, new RegExp(`${id.replace('.', '\\.')}\\s.*unexpected`), `${id} is named`)
    }
  })
})
