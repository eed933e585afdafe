import t from 'tap'
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listCpio, writeCpio } from '../../../harness/guest/cpio.js'
import { loadOrder, parseModulesDep, wantedModules } from '../../../harness/guest/modules.js'
import { planScript } from '../../../harness/guest/plan.js'
import type { KernelArtifact, Variant } from '../../../harness/types.js'
import { devdaxDimm, fsDimm, fsSpec, machineSpec } from '../../helpers/fixtures.js'

const machine = machineSpec({ nvdimms: [fsDimm('ext4'), fsDimm('xfs'), devdaxDimm()], iommu: 'intel', vfioDevice: 'edu', nodaxFs: true })

const DEP = `kernel/drivers/acpi/nfit/nfit.ko: kernel/drivers/nvdimm/libnvdimm.ko
kernel/drivers/nvdimm/nd_pmem.ko: kernel/drivers/nvdimm/nd_btt.ko kernel/drivers/nvdimm/libnvdimm.ko
kernel/drivers/nvdimm/nd_btt.ko: kernel/drivers/nvdimm/libnvdimm.ko
kernel/drivers/nvdimm/libnvdimm.ko:
kernel/drivers/dax/pmem/dax_pmem.ko: kernel/drivers/dax/device_dax.ko kernel/drivers/nvdimm/libnvdimm.ko
kernel/drivers/dax/device_dax.ko:
kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko kernel/lib/crc16.ko
kernel/fs/jbd2/jbd2.ko:
kernel/fs/mbcache.ko:
kernel/lib/crc16.ko:
kernel/fs/xfs/xfs.ko: kernel/lib/libcrc32c.ko
kernel/lib/libcrc32c.ko:
kernel/crypto/crc32c_generic.ko:
kernel/drivers/block/brd.ko:
kernel/drivers/vfio/vfio.ko:
kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/pci/vfio-pci-core.ko: kernel/drivers/vfio/vfio.ko
`

t.test('cpio: round trip, parents first, deterministic', async t => {
  const entries = [
    { path: '/bin/busybox', type: 'file' as const, data: Buffer.from('x'.repeat(5)), mode: 0o755 },
    { path: 'bin/sh', type: 'symlink' as const, target: '/bin/busybox' },
    { path: 'dev/console', type: 'chardev' as const, major: 5, minor: 1 },
  ]
  const a = writeCpio(entries)
  t.same(a, writeCpio([...entries].reverse()), 'same entries → same bytes')
  t.equal(a.length % 512, 0)
  const rows = listCpio(a)
  t.same(rows.map(r => r.path), ['bin', 'bin/busybox', 'bin/sh', 'dev', 'dev/console'])
  t.equal(rows.find(r => r.path === 'bin/busybox')!.size, 5)
  t.equal(rows.find(r => r.path === 'bin/sh')!.target, '/bin/busybox')
  t.equal(rows.find(r => r.path === 'dev/console')!.mode & 0o170000, 0o020000)
})

t.test('modules: crc32c first, deps before users, built-ins skipped, missing named', async t => {
  const db = parseModulesDep(DEP, 'kernel/drivers/dax/device_dax.ko\n')
  const { steps, missing } = loadOrder(db, wantedModules(machine))
  const names = steps.map(s => s.name)
  t.equal(names[0], 'crc32c_generic')
  t.ok(names.indexOf('libnvdimm') < names.indexOf('nfit'))
  t.ok(names.indexOf('nd_btt') < names.indexOf('nd_pmem'))
  t.ok(names.indexOf('libcrc32c') < names.indexOf('xfs'))
  t.ok(names.indexOf('vfio_pci_core') < names.indexOf('vfio_pci'))
  t.notOk(names.includes('device_dax'), 'built-in is not loaded')
  t.equal(new Set(names).size, names.length, 'each module once')
  t.same(steps.find(s => s.name === 'brd')!.params, ['rd_nr=1', 'rd_size=65536'])
  t.same(missing, [], 'crc32c_intel is optional')
  t.same(steps.find(s => s.name === 'libnvdimm')!.roots, ['nfit', 'nd_pmem', 'dax_pmem'], 'a shared dependency names every module it is loaded for')
  t.same(steps.find(s => s.name === 'jbd2')!.roots, ['ext4'])
  t.same(steps.find(s => s.name === 'xfs')!.roots, ['xfs'])
  const none = loadOrder(parseModulesDep('kernel/fs/ext4/ext4.ko:\n', ''), [{ name: 'xfs' }])
  t.same(none.missing, ['xfs'])
})

const variant: Variant = {
  name: 'unit',
  file: '/x/unit.yaml',
  series: {},
  kernel: { kind: 'prebuilt', package: 'linux-image-x', suite: 'bookworm', config: [] },
  machine,
  interfaces: { syscalls: { mmap3: 463 }, mmapFlags: { MAP_DIRECT: 0x800000 }, fcntl: { F_MAP_DIRECT: 1039 } },
  tests: [{ name: 'map_sync', source: join(process.cwd(), 'tests/guest/map_sync.c') }],
  expect: [],
  allow: [],
  timeouts: { bootSec: 90, noOutputSec: 60, totalSec: 600, perTestSec: 120 },
}

t.test('plan: setup steps follow the machine, numbers come from the variant', async t => {
  const mods = [
    { name: 'crc32c_generic', path: 'a', params: [], roots: ['crc32c_generic'] },
    { name: 'libnvdimm', path: 'x/libnvdimm.ko', params: [], roots: ['nfit', 'nd_pmem'] },
    { name: 'nfit', path: 'x/nfit.ko', params: [], roots: ['nfit'] },
    { name: 'nd_pmem', path: 'x/nd_pmem.ko', params: [], roots: ['nd_pmem'] },
    { name: 'jbd2', path: 'x/jbd2.ko', params: [], roots: ['ext4'] },
    { name: 'ext4', path: 'x/ext4.ko', params: [], roots: ['ext4'] },
    { name: 'brd', path: 'x/brd.ko', params: ['rd_nr=1', 'rd_size=65536'], roots: ['brd'] },
    { name: 'vfio', path: 'x/vfio.ko', params: [], roots: ['vfio', 'vfio_pci'] },
    { name: 'vfio_pci', path: 'x/vfio_pci.ko', params: [], roots: ['vfio_pci'] },
  ]
  const p = planScript(variant, mods)
  const lines = p.split('\n')
  const at = (re: RegExp) => lines.findIndex(l => re.test(l))
  t.match(p, /^load_modules \/modules\/crc32c_generic\.ko$/m, 'the crc32c provider first')
  t.match(p, /^load_modules \/modules\/libnvdimm\.ko \/modules\/nfit\.ko \/modules\/nd_pmem\.ko$/m, 'pmem drivers in the foreground')
  t.match(p, /^in_background load_modules \/modules\/jbd2\.ko \/modules\/ext4\.ko$/m, 'each chain on its own')
  t.match(p, /^in_background load_modules \/modules\/brd\.ko,rd_nr=1,rd_size=65536$/m)
  t.match(p, /^in_background load_modules \/modules\/vfio\.ko \/modules\/vfio_pci\.ko$/m, 'roots sharing a module are one chain')
  t.ok(at(/crc32c_generic/) < at(/jbd2/), 'chains start after the crc32c provider (libcrc32c needs it)')
  t.ok(at(/jbd2/) < at(/nfit/), 'and before the NVDIMM drivers, so they overlap them')
  t.match(p, /^in_background prepare_fs 0 ext4 0$/m)
  t.match(p, /^in_background prepare_fs 1 xfs 0$/m)
  t.match(p, /^in_background setup_devdax 2$/m)
  t.ok(p.indexOf('join_setup') < p.indexOf('mount_fs 0 ext4 /mnt/ext4'), 'mounts after the join')
  t.ok(p.indexOf('join_setup') < p.indexOf('setup_nodax'), 'brd is loaded before the nodax fs')
  t.match(p, /^setup_nodax \/mnt\/nodax$/m)
  t.match(p, /^setup_vfio 1234 11e8$/m)
  t.match(p, /^export DAXRIG_NR_MMAP3=463$/m)
  t.match(p, /^export DAXRIG_MMAP_MAP_DIRECT=8388608$/m)
  t.match(p, /^export DAXRIG_FCNTL_F_MAP_DIRECT=1039$/m)
  t.match(p, /^DAXRIG_PER_TEST_TIMEOUT=120$/m)
  t.ok(p.indexOf('daxrig-setup: ok') < p.indexOf('run_tests map_sync'), 'setup status before the tests')
  t.match(planScript(variant, [], { action: { kind: 'cmd', argv: ['echo', "it's"] } }), /sh -c 'echo it'\\''s'/)
})

t.test('image: the cpio holds init, plan, userland, libraries, modules and tests', async t => {
  process.env.DAXRIG_CACHE = await mkdtemp(join(tmpdir(), 'daxrig-cache-'))
  const { buildImage } = await import('../../../harness/guest/initramfs.js')
  const root = await mkdtemp(join(tmpdir(), 'daxrig-kmod-'))
  const kdir = join(root, 'lib/modules/9.9.9-test')
  for (const line of DEP.trim().split('\n')) {
    const f = join(kdir, line.split(':')[0]!)
    await mkdir(join(f, '..'), { recursive: true })
    await writeFile(f, f.endsWith('.xz') ? await xz(`module ${f}`) : `module ${f}`)
  }
  await writeFile(join(kdir, 'modules.dep'), DEP)
  await writeFile(join(kdir, 'modules.builtin'), '')
  const k: KernelArtifact = {
    id: 'test', bzImage: '/dev/null', release: '9.9.9-test', configPath: '/dev/null', modulesRoot: root, imageHash: 'x', description: 'fixture',
  }
  const img = await buildImage(k, variant)
  const rows = listCpio(await readFile(img.path))
  const paths = new Set(rows.map(r => r.path))
  for (const p of ['init', 'etc/daxrig/plan.sh', 'bin/busybox', 'bin/sh', 'usr/sbin/ndctl', 'usr/sbin/mkfs.ext4', 'usr/sbin/mkfs.xfs',
    'modules/nd_pmem.ko', 'modules/ext4.ko', 'modules/vfio_pci.ko', 'modules/brd.ko', 'tests/map_sync', 'bin/daxrig-relay', 'dev/console', 'etc/passwd'])
    t.ok(paths.has(p), `has ${p}`)
  t.ok([...paths].some(p => /^lib(64)?\/.*ld-linux-x86-64\.so\.2$/.test(p)), 'the dynamic loader for ndctl/mkfs')
  t.ok([...paths].some(p => /libndctl\.so/.test(p)), 'libndctl')
  const ext4 = rows.find(r => r.path === 'modules/ext4.ko')!
  t.ok(ext4.size > 0, '.ko.xz decompressed on the host')
  const again = await buildImage(k, variant)
  t.equal(again.path, img.path, 'same inputs → same cached image')
})

async function xz(s: string): Promise<Buffer> {
  const { runBuffer } = await import('../../../harness/util/exec.js')
  return (await runBuffer('xz', ['-c'], Buffer.from(s))).stdout
}

t.test('a labelled DIMM becomes one setup_labelled step, its filesystems are mounted by namespace name', async t => {
  const { planScript, namespaceArg } = await import('../../../harness/guest/plan.js')
  t.equal(namespaceArg({ name: 'fast', mode: 'fsdax', sizeMiB: 512, alignBytes: 2 ** 21, map: 'mem', fs: fsSpec('xfs', { reflink: true }) }), 'fast:fsdax:512:2M:mem:xfs:1')
  t.equal(namespaceArg({ name: 'd0n1', mode: 'raw' }), 'd0n1:raw:::::')
  const v = {
    name: 'v',
    machine: machineSpec({
      nvdimms: [{ sizeMiB: 2048, labelKiB: 2048, mode: 'fsdax', node: 1, namespaces: [{ name: 'a', mode: 'fsdax', sizeMiB: 512, fs: fsSpec('ext4') }, { name: 'b', mode: 'devdax' }] }],
    }),
    interfaces: { syscalls: {}, mmapFlags: {}, fcntl: {} },
    tests: [],
    timeouts: { perTestSec: 30 },
  } as unknown as Parameters<typeof planScript>[0]
  const p = planScript(v, [])
  t.match(p, /^in_background setup_labelled 0 a:fsdax:512:::ext4: b:devdax:::::$/m)
  t.match(p, /^mount_fs a ext4 \/mnt\/ext4 dax$/m)
  t.match(p, /^export DAXRIG_DIMM0_NODE=1$/m)
})
