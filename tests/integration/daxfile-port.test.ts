// The daxfile RFC forward-ported to linux-source-6.1 (tests/patches/daxfile-rfc-6.1, variant
// daxfile-rfc-port-6.1): the whole series must pass every dc_* case on ext4-dax, xfs-dax and a reflink xfs-dax with a kernel
// built from the series; every prefix must end as the variant expects (0-1 skip, 2 = the naive port failing
// the write cases, 3 = writes fixed while a clone on a filesystem without reflink still gets EOPNOTSUPP, 4 = all
// pass), patchcheck must show that table, and the naive-port case must be bad at 2 and good at 3.
// Cold, this builds several kernels (tens of minutes on 2 cores); warm, a few minutes.
import t from 'tap'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig } from './helpers.js'
import type { RunSummary } from '../../harness/types.js'

const V = 'daxfile-rfc-port-6.1'
const out = () => mkdtemp(join(tmpdir(), 'daxrig-dcport-'))
// every per-filesystem case of tests/guest/daxfile.c
const PER_FS = [
  'dc_get_unpriv', 'dc_nocap', 'dc_hole', 'dc_badalign', 'dc_misaligned', 'dc_clear_nondaxfile', 'dc_static_ok',
  'dc_idempotent', 'dc_unpriv_clear', 'dc_truncate', 'dc_pwrite_inplace', 'dc_mmap_write', 'dc_unlink', 'dc_rename',
  'dc_swapon_daxfile', 'dc_ficlone', 'dc_copy_range', 'dc_umount_busy', 'dc_swapon_busy', 'dc_clear',
]

t.test('the whole series: every dc_* case passes on ext4, xfs and reflink xfs', async t => {
  const dir = await out()
  const r = await daxrig(['run', V, '--out', dir])
  t.equal(r.code, 0, r.out.slice(-3000))
  const s = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunSummary
  const v = s.variants[0]!
  t.match(v.kernel?.description ?? '', /linux-source-6\.1/, 'a kernel built from the Debian source')
  t.match(v.kernel?.description ?? '', /patches 1\.\.4 of 4/, 'with the whole series applied')
  const status = (id: string) => v.cases.find(c => c.id === `daxfile.${id}`)?.status
  for (const id of ['dc_probe', 'dc_badflags', 'dc_nondax', 'dc_nonreg']) t.equal(status(id), 'pass', id)
  for (const fs of ['ext4', 'xfs', 'xfs_reflink']) for (const c of PER_FS) t.equal(status(`${c}_${fs}`), 'pass', `${c}_${fs}`)
  t.equal(v.cases.filter(c => c.id.startsWith('daxfile.dc_') && c.status !== 'pass').length, 0, 'no dc_* case skips or fails')
  t.equal(v.findings.length, 0, 'no console finding (BUG, WARNING, lockdep)')
})

// Every prefix as the variant expects: `run --upto K` judges prefix K against the expectations that hold
// there (`from: K`) and must end ok for K = 0..4.
t.test('every prefix ends ok against its own expectations', async t => {
  for (const k of [0, 1, 2, 3, 4]) {
    const dir = await out()
    const r = await daxrig(['run', V, '--upto', String(k), '--out', dir])
    t.equal(r.code, 0, `prefix ${k}: ${r.out.slice(-2000)}`)
    const v = (JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as RunSummary).variants[0]!
    const st = (id: string) => v.cases.find(c => c.id === `daxfile.${id}`)?.status
    if (k < 2) t.equal(st('dc_probe'), 'skip', `prefix ${k}: no daxctl yet`)
    else t.equal(st('dc_static_ok_xfs'), 'pass', `prefix ${k}: daxctl works on xfs`)
    if (k === 2) t.equal(st('dc_mmap_write_ext4'), 'fail', 'prefix 2: the naive port')
    if (k === 3) t.equal(st('dc_ficlone_ext4'), 'fail', 'prefix 3: a clone into a daxfile on ext4 gets EOPNOTSUPP')
  }
})

// patchcheck judges each prefix against its own expectations (from: K): every prefix is as expected, so it exits 0;
// the "changed" column still shows the raw statuses moving: 2/4 brings daxctl (and the naive-port failure), 3/4 the
// write fix, 4/4 the clone answer on the filesystems without reflink.
t.test('patchcheck: every prefix as expected; 2 is the naive port, 3 fixes it, 4 fixes the clone errno', async t => {
  const dir = await out()
  const r = await daxrig(['patchcheck', V, '--out', dir])
  t.equal(r.code, 0, r.out.slice(-3000))
  const res = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as {
    status: string
    rows: { patch: number; verdict: string; changed: { id: string; from: string; to: string }[] }[]
  }
  t.equal(res.status, 'complete')
  t.same(res.rows.map(x => [x.patch, x.verdict]), [[0, 'good'], [1, 'good'], [2, 'good'], [3, 'good'], [4, 'good']])
  const at = (k: number) => res.rows.find(x => x.patch === k)!.changed
  t.equal(at(1).length, 0, '1/4 (the iomap helper) changes no result')
  t.ok(at(2).some(c => c.id === 'daxfile.dc_mmap_write_ext4' && c.from === 'skip' && c.to === 'fail'), '2/4: naive port fails mmap write')
  t.ok(at(2).some(c => c.id === 'daxfile.dc_static_ok_xfs' && c.to === 'pass'), '2/4: daxctl works on xfs')
  t.ok(at(2).some(c => c.id === 'daxfile.dc_ficlone_ext4' && c.to === 'fail'), '2/4: a clone on ext4 gets EOPNOTSUPP')
  const moved = (k: number) => at(k).map(c => `${c.id} ${c.from}->${c.to}`).sort()
  t.same(moved(3), ['ext4', 'xfs', 'xfs_reflink'].flatMap(fs => [`daxfile.dc_mmap_write_${fs} fail->pass`, `daxfile.dc_pwrite_inplace_${fs} fail->pass`]).sort(), '3/4 fixes exactly the write cases')
  t.same(moved(4), ['daxfile.dc_ficlone_ext4 fail->pass', 'daxfile.dc_ficlone_xfs fail->pass'], '4/4 fixes exactly the clone cases without reflink')
  t.match(r.stdout, /let daxfiles be written in place/)
})

// At the base every dc_* case skips (no daxctl yet), so `bisect --fix` starts from the naive port (--bad 2) and must
// name 3/4; the revert check (the series without 3/4) confirms it. `check` gives the same answer with
// git bisect run exit codes: 125 (untestable) at the base.
t.test('bisect --fix --bad 2 names 3/4 for the naive-port case; check agrees', async t => {
  const id = 'daxfile.dc_mmap_write_ext4'
  const bad = await daxrig(['check', V, '--test', id, '--upto', '2', '--out', await out()])
  t.equal(bad.code, 1, bad.out.slice(-1500))
  const good = await daxrig(['check', V, '--test', id, '--upto', '3', '--out', await out()])
  t.equal(good.code, 0, good.out.slice(-1500))
  const base = await daxrig(['check', V, '--test', id, '--upto', '0', '--out', await out()])
  t.equal(base.code, 125, 'prefix 0 is untestable for this case (it skips: ENOSYS)')
  const refused = await daxrig(['bisect', V, '--fix', '--test', id, '--out', await out()])
  t.equal(refused.code, 1, 'from the base the endpoints disagree: it is untestable, not bad')
  t.match(refused.stdout, /endpoints disagree: .*untestable/)
  const fix = await daxrig(['bisect', V, '--fix', '--bad', '2', '--test', id, '--out', await out()])
  t.equal(fix.code, 0, fix.out.slice(-2000))
  t.match(fix.stdout, /first fixing patch: 3\/4 /)
  t.match(fix.stdout, /^verified: /m)
})
