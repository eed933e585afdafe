// Guest test programs: every tests/guest/*.c and tests/guest/canary/*.c compiles with
// `musl-gcc -static -O2 -Wall -Werror`, the result is a static ELF (no PT_INTERP), and the
// programs that are safe on the host print well-formed KTAP there. With no DAXRIG_* variables
// every kernel-facing case must SKIP with a reason (this proves the skip paths), and the case ids
// must stay the ones variants' expectations refer to.
import t from 'tap'
import { execa } from 'execa'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const guestDir = join(root, 'tests', 'guest')
const canaryDir = join(guestDir, 'canary')

// Case ids are part of the contract (test id = <program>.<case>): renaming one breaks variants.
const fsCases = (p: string, store: boolean): string[] => [
  `${p}_statx_dax`,
  ...['shared', 'msv', 'msv_sync', 'shared_sync', 'private_sync', 'msv_unknown_bit', 'shared_unknown_bit'].map(s => `${p}_${s}`),
  ...(store ? [`${p}_sync_store`] : []),
]
const CASE_IDS: Record<string, string[]> = {
  // one case per namespace and NUMA node the variant asked for: none without DAXRIG_NS_* / DAXRIG_DIMM*_NODE
  topology: [],
  map_sync: [...fsCases('ext4', true), ...fsCases('xfs', true), ...fsCases('nodax', false), ...fsCases('tmpfs', false), 'devdax_msv_sync', 'devdax_sync_store'],
  vfio_pin: [
    'vfio_setup', 'vfio_map_anon', 'vfio_map_tmpfs', 'vfio_map_fsdax', 'vfio_map_fsdax_ro', 'vfio_map_fsdax_xfs',
    'vfio_map_fsdax_xfs_ro', 'vfio_map_devdax', 'uring_reg_anon', 'uring_reg_tmpfs', 'uring_reg_memfd',
    'uring_reg_fsdax_shared', 'uring_reg_fsdax_private', 'uring_reg_fsdax_xfs_shared', 'uring_reg_fsdax_xfs_private',
    'uring_reg_pagecache_shared', 'uring_reg_pagecache_private', 'uring_reg_devdax', 'uring_reg_anon_shared',
  ],
  devdax: ['devdax_map_ok', 'devdax_len_4k', 'devdax_len_unaligned', 'devdax_off_4k', 'devdax_private', 'devdax_msv_sync', 'devdax_msv_unknown_bit', 'devdax_mremap_shrink'],
  mm_users: [
    'memfd_map_write', 'memfd_sealed_write_map', 'memfd_sealed_ro_map', 'shmem_anon_shared', 'hugetlb_map_write', 'hugetlb_off_4k',
    'devmem_map_ro', 'devmem_madv_dontneed', 'devmem_mremap_grow', 'devmem_mremap_shrink', 'devmem_ram_16m', 'devmem_private',
    'devzero_shared', 'devzero_private', 'relay_blktrace_mmap', 'kcov_mmap',
  ],
  map_direct: [
    'md_probe', 'md_ok', 'md_noprot_write', 'md_private', 'md_anon', 'md_nocap', 'md_fcntl_grant', 'md_seal_truncate',
    'md_seal_fallocate', 'md_seal_extend_write', 'md_seal_punch', 'md_seal_reflink', 'md_hole_sigbus', 'md_nondax',
    'md_other_fs', 'md_mmap3_unknown_bit', 'md_seal_second_map', 'md_seal_partial_munmap', 'md_seal_fork',
    'md_seal_mremap', 'md_seal_exit', 'md_falloc_sigbus', 'md_hole_write', 'md_swapext', 'md_dedupe',
    'md_reflink_sigbus', 'md_fcntl_prot_read', 'md_plain_mmap_noseal', 'md_legacy_mmap_bit',
  ],
  daxfile: [
    'dc_probe', 'dc_badflags', 'dc_nondax', 'dc_nonreg',
    ...['ext4', 'xfs', 'xfs_reflink'].flatMap((fs) =>
      [
        'dc_get_unpriv', 'dc_nocap', 'dc_hole', 'dc_badalign', 'dc_misaligned', 'dc_clear_nondaxfile', 'dc_static_ok',
        'dc_idempotent', 'dc_unpriv_clear', 'dc_truncate', 'dc_pwrite_inplace', 'dc_mmap_write', 'dc_unlink',
        'dc_rename', 'dc_swapon_daxfile', 'dc_ficlone', 'dc_copy_range', 'dc_umount_busy', 'dc_swapon_busy', 'dc_clear',
      ].map((c) => `${c}_${fs}`),
    ),
  ],
}

// On the host with no DAXRIG_* variables, these programs must SKIP every case.
const ALL_SKIP = new Set(['map_sync', 'devdax', 'map_direct', 'daxfile', 'topology'])
// These touch only anonymous memory, memfd, /dev/zero or read-only /dev/mem on the host: safe to run,
// but their controls may legitimately pass, skip or (RLIMIT_MEMLOCK for io_uring) fail there.
const STRUCTURE_ONLY = new Set(['vfio_pin', 'mm_users'])

interface Ktap {
  errors: string[]
  plan: number
  results: { ok: boolean; n: number; name: string; skip?: string }[]
}

/** A strict reader for one program's KTAP v1 output (the subset docs/guest-protocol.md allows). */
function parseKtap(out: string): Ktap {
  const lines = out.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const k: Ktap = { errors: [], plan: -1, results: [] }
  if (lines[0] !== 'KTAP version 1') k.errors.push(`line 1 is not "KTAP version 1": ${JSON.stringify(lines[0])}`)
  const plan = /^1\.\.(\d+)$/.exec(lines[1] ?? '')
  if (!plan) k.errors.push(`line 2 is not a plan: ${JSON.stringify(lines[1])}`)
  else k.plan = Number(plan[1])
  for (const [i, line] of lines.slice(2).entries()) {
    if (line.startsWith('# ')) continue
    const m = /^(not ok|ok) (\d+) ([a-z0-9_]+)(?: # (.*))?$/.exec(line)
    if (!m) {
      k.errors.push(`line ${i + 3} is neither a result nor a diagnostic: ${JSON.stringify(line)}`)
      continue
    }
    const r: Ktap['results'][number] = { ok: m[1] === 'ok', n: Number(m[2]), name: m[3]! }
    if (m[4] !== undefined) {
      const skip = /^SKIP (\S.*)$/.exec(m[4])
      if (!skip) k.errors.push(`line ${i + 3}: directive other than "SKIP <reason>": ${JSON.stringify(line)}`)
      else r.skip = skip[1]!
    }
    k.results.push(r)
  }
  if (k.plan >= 0 && k.results.length !== k.plan) k.errors.push(`plan says ${k.plan}, ${k.results.length} results printed`)
  k.results.forEach((r, i) => {
    if (r.n !== i + 1) k.errors.push(`result ${i + 1} is numbered ${r.n}`)
  })
  const names = k.results.map(r => r.name)
  const dup = names.filter((n, i) => names.indexOf(n) !== i)
  if (dup.length) k.errors.push(`duplicate case names: ${dup.join(', ')}`)
  return k
}

/** No PT_INTERP program header = statically linked (also true for static-pie). */
async function elfCheck(path: string): Promise<string | undefined> {
  const b = await readFile(path)
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF file'
  if (b[4] !== 2) return 'not ELF64'
  if (b[5] !== 1) return 'not little-endian'
  if (b.readUInt16LE(18) !== 62) return `e_machine ${b.readUInt16LE(18)} is not x86_64`
  const phoff = Number(b.readBigUInt64LE(32))
  const phentsize = b.readUInt16LE(54)
  const phnum = b.readUInt16LE(56)
  for (let i = 0; i < phnum; i++) {
    const type = b.readUInt32LE(phoff + i * phentsize)
    if (type === 3) return 'has a PT_INTERP header: dynamically linked'
  }
  return undefined
}

/** The host environment without any DAXRIG_* variable. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('DAXRIG_')) env[k] = v
  return env
}

async function hasCompiler(cc: string): Promise<boolean> {
  const r = await execa(cc, ['--version'], { reject: false }).catch(() => undefined)
  return !!r && r.exitCode === 0
}

const HOST_SAFE_CANARIES = new Set(['exit_nonzero', 'not_ok', 'no_plan', 'garbage'])

const programs = (await readdir(guestDir)).filter(f => f.endsWith('.c')).sort()
const canaries = (await readdir(canaryDir).catch(() => [] as string[])).filter(f => f.endsWith('.c')).sort()

t.test('the program set is the one the case-id contract describes', async t => {
  t.same(programs.map(p => p.replace(/\.c$/, '')).sort(), Object.keys(CASE_IDS).sort())
  t.same(canaries, ['daemon.c', 'exit_nonzero.c', 'flood.c', 'forge.c', 'garbage.c', 'hang.c', 'no_plan.c', 'not_ok.c', 'oom.c', 'panic.c', 'reboot.c'])
})

const musl = await hasCompiler('musl-gcc')
if (!musl) {
  // in CI the suite's setup installs musl-tools, so a missing compiler there is a failure, not a skip
  if (process.env.CI) t.fail('musl-gcc is not installed: run daxrig setup (apt install musl-tools)')
  else t.test('compile guest programs', { skip: 'musl-gcc is not installed (apt install musl-tools)' }, async () => {})
} else {
  const out = await mkdtemp(join(tmpdir(), 'daxrig-guest-'))
  t.teardown(() => rm(out, { recursive: true, force: true }))

  const build = async (dir: string, file: string): Promise<{ bin: string; stderr: string; exitCode: number | undefined }> => {
    const bin = join(out, file.replace(/\.c$/, ''))
    const r = await execa('musl-gcc', ['-static', '-O2', '-Wall', '-Werror', '-o', bin, join(dir, file)], { reject: false, all: true })
    return { bin, stderr: r.all ?? '', exitCode: r.exitCode }
  }

  for (const file of programs) {
    const name = file.replace(/\.c$/, '')
    t.test(`guest program ${name}`, async t => {
      const b = await build(guestDir, file)
      t.equal(b.exitCode, 0, `musl-gcc -static -O2 -Wall -Werror ${file}`, { stderr: b.stderr })
      if (b.exitCode !== 0) return
      t.equal(await elfCheck(b.bin), undefined, 'static x86_64 ELF')

      if (!ALL_SKIP.has(name) && !STRUCTURE_ONLY.has(name)) return
      const r = await execa(b.bin, [], { reject: false, env: cleanEnv(), extendEnv: false, timeout: 60_000, cwd: out })
      const k = parseKtap(r.stdout)
      t.same(k.errors, [], 'well-formed KTAP v1', { stdout: r.stdout })
      t.same(k.results.map(x => x.name), CASE_IDS[name], 'stable case ids, in order')
      if (ALL_SKIP.has(name)) {
        t.equal(r.exitCode, 0, 'exit 0 when every case skips')
        const notSkipped = k.results.filter(x => !x.ok || x.skip === undefined).map(x => x.name)
        t.same(notSkipped, [], 'every case SKIPs without the DAXRIG_* environment')
        const reasons = k.results.filter(x => x.skip !== undefined && !/(not declared by the variant|in this machine)/.test(x.skip)).map(x => `${x.name}: ${x.skip}`)
        t.same(reasons, [], 'skip reasons name the missing interface or machine part')
      } else {
        t.ok(r.exitCode === 0 || r.exitCode === 1, `exit status 0 or 1 (got ${r.exitCode}${r.signal ? ', ' + r.signal : ''})`)
        t.equal(r.exitCode === 1, k.results.some(x => !x.ok), 'exit 1 iff some case failed')
        const vfio = k.results.filter(x => x.name.startsWith('vfio_'))
        for (const v of vfio) t.ok(v.skip !== undefined, `${v.name} skips without DAXRIG_VFIO_GROUP`)
      }
    })
  }

  t.test('map_sync cases are grouped per filesystem with the expected skip reasons', async t => {
    const bin = join(out, 'map_sync')
    const r = await execa(bin, [], { reject: false, env: cleanEnv(), extendEnv: false, timeout: 60_000, cwd: out })
    const k = parseKtap(r.stdout)
    const reason = (n: string) => k.results.find(x => x.name === n)?.skip ?? ''
    t.match(reason('ext4_msv_sync'), /no ext4-dax mount in this machine/)
    t.match(reason('xfs_statx_dax'), /no xfs-dax mount in this machine/)
    t.match(reason('nodax_private_sync'), /no non-DAX ext4 mount in this machine/)
    t.match(reason('tmpfs_msv_unknown_bit'), /no tmpfs directory in this machine/)
    t.match(reason('devdax_msv_sync'), /no device-dax node in this machine/)
  })

  t.test('map_sync on a host tmpfs follows the tmpfs column of docs/kernel-behaviour.md §1', async t => {
    const { stdout: fstype } = await execa('stat', ['-f', '-c', '%T', '/dev/shm'], { reject: false })
    if (fstype.trim() !== 'tmpfs') {
      t.comment('/dev/shm is not a tmpfs on this host: nothing to check')
      return
    }
    const dir = await mkdtemp(join('/dev/shm', 'daxrig-guest-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const env = { ...cleanEnv(), DAXRIG_TMPFS: dir }
    const r = await execa(join(out, 'map_sync'), [], { reject: false, env, extendEnv: false, timeout: 60_000, cwd: dir })
    const k = parseKtap(r.stdout)
    t.same(k.errors, [])
    const tmpfs = k.results.filter(x => x.name.startsWith('tmpfs_'))
    t.equal(tmpfs.length, 8)
    t.same(tmpfs.filter(x => !x.ok || x.skip !== undefined).map(x => x.name), [], 'every tmpfs case runs and passes', { stdout: r.stdout })
    t.equal(r.exitCode, 0)
  })

  t.test('topology fails when a namespace is not what the variant asked for', async t => {
    const env = { ...cleanEnv(), DAXRIG_NS_FAKE: '/dev/null', DAXRIG_NS_FAKE_MODE: 'devdax', DAXRIG_NS_GONE: '/dev/daxrig-no-such', DAXRIG_NS_GONE_MODE: 'fsdax' }
    const r = await execa(join(out, 'topology'), [], { reject: false, env, extendEnv: false, timeout: 60_000, cwd: out })
    const k = parseKtap(r.stdout)
    t.same(k.errors, [])
    t.same(k.results.map(x => [x.name, x.ok]).sort(), [['ns_fake', false], ['ns_gone', false]], 'a character device that is no dax device, a missing node', { stdout: r.stdout })
    t.equal(r.exitCode, 1)
  })

  for (const file of canaries) {
    const name = file.replace(/\.c$/, '')
    t.test(`canary ${name}`, async t => {
      const b = await build(canaryDir, file)
      t.equal(b.exitCode, 0, `musl-gcc -static -O2 -Wall -Werror canary/${file}`, { stderr: b.stderr })
      if (b.exitCode !== 0) return
      t.equal(await elfCheck(b.bin), undefined, 'static x86_64 ELF')
      // only these are safe on the host: the others hang, panic, reboot, eat memory, flood the kernel log,
      // write to a serial port or leave a daemon behind, which is what they do to a guest on purpose
      if (!HOST_SAFE_CANARIES.has(name)) return
      const r = await execa(b.bin, [], { reject: false, timeout: 10_000, encoding: 'buffer' })
      const stdout = Buffer.from(r.stdout as Uint8Array).toString('latin1')
      if (name === 'exit_nonzero') {
        t.equal(r.exitCode, 3)
        const k = parseKtap(stdout)
        t.same(k.errors, [])
        t.ok(k.results.every(x => x.ok), 'every case ok, yet exit 3')
      } else if (name === 'not_ok') {
        t.equal(r.exitCode, 1)
        t.ok(parseKtap(stdout).results.some(x => !x.ok), 'has a not ok case')
      } else if (name === 'no_plan') {
        t.equal(r.exitCode, 0)
        t.notMatch(stdout, /KTAP version|^1\.\./m, 'no version line and no plan')
      } else if (name === 'garbage') {
        t.equal(r.exitCode, 0)
        t.match(stdout, /<script>/)
        t.match(stdout, /\x1b\[/)
        t.ok(parseKtap(stdout).errors.length > 0, 'is not well-formed KTAP')
      }
    })
  }
}
