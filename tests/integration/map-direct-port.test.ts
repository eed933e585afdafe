// The MAP_DIRECT v5 forward-port (tests/patches/map-direct-v5-6.1) on a kernel built from linux-source-6.1:
// the whole series passes every md_* case, patchcheck agrees with the per-prefix expectations, and a bisect
// over the series with a deliberately broken sixth patch (tests/patches/map-direct-v5-6.1-broken) names it
// and verifies it with the revert check. Kernels are cached by content: on a warm cache only the boots run
// (the broken prefix is built once).
import t from 'tap'
import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig, root } from './helpers.js'
import type { RunSummary } from '../../harness/types.js'

const out = () => mkdtemp(join(tmpdir(), 'daxrig-md-'))
const series = join(root, 'tests', 'patches', 'map-direct-v5-6.1')
const broken = join(root, 'tests', 'patches', 'map-direct-v5-6.1-broken')
const cache = () => process.env.DAXRIG_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'daxrig')
const patchesIn = async (dir: string) => (await readdir(dir)).filter(f => f.endsWith('.patch') && !f.startsWith('0000-')).sort()

t.test('the whole series: every md_* case passes, the kernel is built from the 5 patches', async t => {
  const dir = await out()
  const r = await daxrig(['run', 'map-direct-v5-port-6.1', '--out', dir])
  t.equal(r.code, 0, r.out.slice(-3000))
  const s = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunSummary
  const v = s.variants[0]!
  t.equal(v.verdict, 'ok')
  const k = v.kernel
  t.ok(k, 'results.json names the kernel')
  t.match(k?.description ?? '', /^linux-source-6\.1 .* \+ patches 1\.\.5 of 5, config base\+nvdimm\+vfio$/)
  // the kernel's cache entry lists the patches it was built from: the series, in order
  const meta = JSON.parse(await readFile(join(cache(), 'kernels', k!.id, 'meta.json'), 'utf8')) as {
    key: string
    patches: { index: number; subject: string }[]
    imageHash: string
  }
  t.equal(meta.key, k!.id)
  t.equal(meta.imageHash, k!.imageHash)
  const files = await patchesIn(series)
  t.equal(files.length, 5)
  t.same(meta.patches.map(p => p.index), [1, 2, 3, 4, 5])
  t.match(meta.patches.map(p => p.subject), [/VM_DIRECT/, /S_IOMAP_SEALED/, /mmap3/, /MAP_DIRECT/, /F_MAP_DIRECT/])
  const md = v.cases.filter(c => c.id.startsWith('map_direct.md_'))
  t.equal(md.length, 29, 'all map_direct cases ran')
  for (const c of md) t.equal(c.status, 'pass', `${c.id}: ${c.detail ?? ''}`)
  for (const id of ['md_seal_reflink', 'md_nondax', 'md_dedupe', 'md_reflink_sigbus'])
    t.equal(md.find(c => c.id === `map_direct.${id}`)?.status, 'pass', `${id} ran on its own filesystem`)
  // map_sync is untouched by the series
  const ms = v.cases.filter(c => c.id.startsWith('map_sync.') && !c.id.startsWith('map_sync.devdax_'))
  t.ok(ms.length >= 30)
  for (const c of ms) t.equal(c.status, 'pass', c.id)
})

t.test('patchcheck: every prefix behaves as the per-prefix expectations say', async t => {
  const r = await daxrig(['patchcheck', 'map-direct-v5-port-6.1', '--out', await out()])
  t.equal(r.code, 0, r.out.slice(-4000))
  t.notMatch(r.stdout, /→ bad/, 'no prefix fails a case')
  for (const s of ['mm: add VM_DIRECT', 'introduce S_IOMAP_SEALED', 'introduce mmap3', 'introduce MAP_DIRECT', 'add F_MAP_DIRECT'])
    t.match(r.stdout, s)
})

t.test('bisect names the broken sixth patch, and the series without it is good again', async t => {
  // the series plus the broken patch, in a directory of its own, with a variant pointing at it
  const work = await out()
  const dir = join(work, 'series')
  await import('node:fs/promises').then(f => f.mkdir(dir))
  for (const f of (await readdir(series)).filter(f => f.endsWith('.patch'))) await copyFile(join(series, f), join(dir, f))
  const extra = await patchesIn(broken)
  t.equal(extra.length, 1)
  await copyFile(join(broken, extra[0]!), join(dir, extra[0]!))
  const base = await readFile(join(root, 'tests', 'variants', 'map-direct-v5-port-6.1.yaml'), 'utf8')
  const yaml = base
    .replace(/^name: .*$/m, 'name: map-direct-v5-port-6.1-broken')
    .replace(/^  patches: .*$/m, `  patches: ${dir}`)
    .replace(/^  "map_sync\.\*": pass$/m, '  "map_sync.*": pass\n  "map_sync.xfs_*": {verdict: fail, from: 6, reason: "6/6 drops MAP_SYNC from xfs"}')
  t.not(yaml, base)
  const variant = join(work, 'map-direct-v5-port-6.1-broken.yaml')
  await writeFile(variant, yaml)
  const res = join(work, 'bisect')
  const r = await daxrig(['bisect', variant, '--test', 'map_sync.xfs_msv_sync', '--out', res])
  t.equal(r.code, 0, r.out.slice(-3000))
  t.match(r.stdout, /first bad patch: 6\/6 xfs: MAP_DIRECT without MAP_SYNC and without the seal/)
  t.match(r.stdout, /^verified: the series without 6\/6 is good again/m, 'the revert check confirms the culprit')
  const j = JSON.parse(await readFile(join(res, 'results.json'), 'utf8')) as { verification?: { outcome: string; without: number } }
  t.match(j.verification, { outcome: 'confirmed', without: 6 })

  // The same kernel (cached by the bisect) shows what the map_direct cases catch when the seal is missing:
  // every case that depends on it fails, the others still pass.
  const run = join(work, 'run')
  const w = await daxrig(['run', variant, '--out', run])
  t.equal(w.code, 1, 'the broken series is a regression')
  const s = JSON.parse(await readFile(join(run, 'results.json'), 'utf8')) as RunSummary
  const failed = s.variants[0]!.cases.filter(c => c.status === 'fail').map(c => c.id).sort()
  const sealCases = [
    'md_seal_truncate', 'md_seal_fallocate', 'md_seal_extend_write', 'md_seal_punch', 'md_seal_reflink', 'md_hole_sigbus',
    'md_seal_second_map', 'md_seal_partial_munmap', 'md_seal_fork', 'md_seal_mremap', 'md_seal_exit', 'md_falloc_sigbus',
    'md_hole_write', 'md_swapext', 'md_dedupe', 'md_plain_mmap_noseal',
  ].map(c => `map_direct.${c}`)
  for (const id of sealCases) t.ok(failed.includes(id), `${id} fails without the seal`)
  t.ok(failed.includes('map_sync.xfs_msv_sync'), 'MAP_SYNC on xfs is refused again')
  for (const id of ['md_ok', 'md_reflink_sigbus', 'md_nondax', 'md_fcntl_grant', 'md_fcntl_prot_read', 'md_private'])
    t.equal(s.variants[0]!.cases.find(c => c.id === `map_direct.${id}`)?.status, 'pass', `${id} does not need the seal`)
  t.notOk(failed.some(id => id.startsWith('map_sync.') && !id.startsWith('map_sync.xfs_')), 'only xfs map_sync cases change')
})
