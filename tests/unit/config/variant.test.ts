import t from 'tap'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadVariant } from '../../../harness/config/variant.js'
import { InputError } from '../../../harness/errors.js'
import { resolveTargets } from '../../../harness/config/selection.js'

const dir = await mkdtemp(join(tmpdir(), 'daxrig-variant-'))

async function load(name: string, text: string) {
  const f = join(dir, `${name}.yaml`)
  await writeFile(f, text)
  return { f, p: loadVariant(f) }
}

/**
 * A variant file on the 6.1 prebuilt kernel running map_sync: `nvdimm` is machine.nvdimm's value, inline
 * (`[{size: 512M}]`, on line 5) or as indented list lines (from line 6); `expect` adds expectation lines.
 * The error messages tested below name these line numbers.
 */
const variantYaml = (name: string, nvdimm: string, expect = '') => `name: ${name}
kernel:
  prebuilt: linux-image-6.1.0-56-amd64-unsigned
machine:
  nvdimm:${nvdimm.startsWith(' ') ? '\n' : ' '}${nvdimm}
tests: [map_sync]
expect:
  "map_sync.*": pass
${expect}`

const good = variantYaml('ok', '[{size: 512M, fs: [ext4, xfs]}]', '  "map_sync.devdax_*": {verdict: skip, reason: "no devdax"}\n')

t.test('a good variant resolves defaults and expands filesystems into DIMMs', async t => {
  const { p } = await load('ok', good)
  const v = await p
  t.equal(v.kernel.kind, 'prebuilt')
  t.equal(v.kernel.suite, 'bookworm')
  t.equal(v.machine.memoryMiB, 1024)
  t.same(v.machine.nvdimms.map(d => d.fs?.name), ['ext4', 'xfs'])
  t.same(v.machine.nvdimms[1]!.fs, { type: 'xfs', name: 'xfs', reflink: false, dax: 'always' })
  t.equal(v.machine.nvdimms.length, 2)
  t.match(v.tests[0]!.source, /tests\/guest\/map_sync\.c$/)
  t.equal(v.expect[1]!.reason, 'no devdax')
  t.equal(v.timeouts.perTestSec, 180)
})

const cases: [string, string, RegExp][] = [
  ['type error names line and field', good.replace('nvdimm: [{size: 512M', 'nvdimm: [{size: true'), /\.yaml:5: machine\.nvdimm\[0\]\.size: expected a size such as 512M/],
  ['unknown field', good.replace('tests: [map_sync]', 'tests: [map_sync]\nbogus: 1'), /\.yaml:7: bogus: unknown field "bogus"/],
  ['invalid YAML', 'name: [unclosed\n', /\.yaml:\d+: invalid YAML/],
  ['syscall 333 refused', good + 'interfaces:\n  syscalls: {daxctl: 333}\n', /interfaces\.syscalls\.daxctl: 333 is io_pgetevents/],
  ['syscall inside the base table', good + 'interfaces:\n  syscalls: {mmap3: 400}\n', /collides with an existing syscall: the 6\.1 table ends at 450/],
  ['unknown test', good.replace('tests: [map_sync]', 'tests: [no_such_test]'), /tests\[0\]: unknown test "no_such_test"/],
  ['xfs on a small DIMM', good.replace('size: 512M', 'size: 256M'), /machine\.nvdimm\[0\]\.size: xfs needs a DIMM of at least 512M/],
  ['vfio without iommu', good.replace('machine:\n', "machine:\n  vfio-device: edu\n"), /machine\.vfio-device: a VFIO device needs a vIOMMU/],
  ['both prebuilt and source', good.replace('  prebuilt:', '  source: linux-source-6.1\n  prebuilt:'), /kernel: give exactly one of/],
  ['fail without a reason', good.replace('"map_sync.*": pass', '"map_sync.*": {verdict: fail}'), /expect\.map_sync\.\*\.reason: a fail\/skip expectation needs a reason/],
  ['bad package name', good.replace('linux-image-6.1.0-56-amd64-unsigned', 'Linux Image!'), /kernel\.prebuilt: not a Debian package name/],
]

for (const [name, text, re] of cases) {
  t.test(name, async t => {
    const { p } = await load(name.replace(/ /g, '-').replace(/[^a-z0-9-]/gi, ''), text)
    const e = await p.then(() => undefined, (e: unknown) => e)
    t.ok(e instanceof InputError, 'an InputError (exit 2)')
    t.match((e as Error).message, re)
  })
}

t.test('unknown variant name gives one clear error', async t => {
  await t.rejects(resolveTargets(['no-such-variant']), /unknown variant or matrix "no-such-variant"/)
  await t.rejects(resolveTargets(['../etc']), /not a valid variant or matrix name|no such file/)
})

t.test('the default matrix resolves to variant files', async t => {
  const files = await resolveTargets([])
  t.ok(files.length >= 2)
  for (const f of files) t.match(f, /tests\/variants\/.*\.yaml$/)
})

const fsVariant = (nvdimm: string) => variantYaml('fsopts', nvdimm)

t.test('filesystem options: named xfs with reflink, xfs without DAX', async t => {
  const { p } = await load(
    'fsopts',
    fsVariant(`    - {size: 512M, fs: [xfs]}
    - {size: 512M, fs: [{type: xfs, name: xfs_reflink, reflink: true}]}
    - {size: 512M, fs: [{type: xfs, name: xfs_nodax, dax: never}, {type: ext4, name: ext4_inode, dax: inode}]}`),
  )
  const v = await p
  t.same(
    v.machine.nvdimms.map(d => d.fs),
    [
      { type: 'xfs', name: 'xfs', reflink: false, dax: 'always' },
      { type: 'xfs', name: 'xfs_reflink', reflink: true, dax: 'always' },
      { type: 'xfs', name: 'xfs_nodax', reflink: false, dax: 'never' },
      { type: 'ext4', name: 'ext4_inode', reflink: false, dax: 'inode' },
    ],
  )
})

t.test('filesystem options: bad combinations name their field', async t => {
  const cases: [string, RegExp][] = [
    ['    - {size: 512M, fs: [xfs, xfs]}', /fsopts\.yaml:6: machine\.nvdimm: two filesystems are called "xfs"/],
    ['    - {size: 512M, fs: [{type: ext4, reflink: true}]}', /machine\.nvdimm\[0\]\.fs\[0\]\.reflink: reflink is an xfs option, not ext4/],
    ['    - {size: 512M, fs: [{type: xfs, dax: sometimes}]}', /machine\.nvdimm\[0\]\.fs\[0\]\.dax: .*always/],
    ['    - {size: 512M, fs: [{type: xfs, name: Bad}]}', /machine\.nvdimm\[0\]\.fs\[0\]\.name: use lower-case/],
    ['    - {size: 256M, fs: [{type: xfs, name: small}]}', /machine\.nvdimm\[0\]\.size: xfs needs a DIMM of at least 512M/],
  ]
  for (const [nv, re] of cases) {
    const { p } = await load('fsopts', fsVariant(nv))
    await t.rejects(p, re, nv)
    await p.catch(e => t.ok(e instanceof InputError, 'an InputError (exit 2)'))
  }
})

t.test('kernel.build: a directory relative to the variant; exactly one kernel kind', async t => {
  const { p } = await load('built', `name: built
kernel:
  build: ../my-build
tests: [map_sync]
expect:
  "map_sync.*": pass
`)
  const v = await p
  t.equal(v.kernel.kind, 'build')
  t.equal(v.kernel.buildDir, join(dir, '..', 'my-build'))
  const both = await load('both', `name: both
kernel:
  build: ../my-build
  prebuilt: linux-image-6.1.0-56-amd64-unsigned
tests: [map_sync]
`)
  await t.rejects(both.p, /kernel: give exactly one of "prebuilt", "source" or "build"/)
})

t.test('labelled DIMMs: namespaces, the design example, NUMA nodes', async t => {
  // the design example plus a 2G DIMM on node 1; what differs is the devdax alignment and the sector fs
  const topo = (devdaxAlign: string, sectorFs: string) =>
    fsVariant(`    - {size: 1G, label: 128K, mode: fsdax, fs: [ext4]}
    - size: 2G
      label: 2M
      node: 1
      namespaces:
        - {name: fast, size: 512M, mode: fsdax, fs: {type: xfs, name: xfs2}, align: 2M, map: mem}
        - {size: 512M, mode: devdax, align: ${devdaxAlign}}
        - {size: 256M, mode: sector, fs: ${sectorFs}}
        - {mode: raw}`)
  const { p } = await load('topo', topo('1G', 'ext4'))
  await t.rejects(p, /namespaces\[1\]\.align: align 1G needs a namespace size that is a multiple of 1G/)
  const ok = await load('topo2', topo('2M', '{type: ext4, name: ext4b}'))
  const v = await ok.p
  const [a, b] = v.machine.nvdimms
  t.same(a!.namespaces, [{ name: 'd0n0', mode: 'fsdax', fs: { type: 'ext4', name: 'ext4', reflink: false, dax: 'always' } }], 'the design example: one namespace of the whole region')
  t.equal(b!.node, 1)
  t.same(
    b!.namespaces,
    [
      { name: 'fast', mode: 'fsdax', sizeMiB: 512, alignBytes: 2 ** 21, map: 'mem', fs: { type: 'xfs', name: 'xfs2', reflink: false, dax: 'always' } },
      { name: 'd1n1', mode: 'devdax', sizeMiB: 512, alignBytes: 2 ** 21 },
      { name: 'd1n2', mode: 'sector', sizeMiB: 256, fs: { type: 'ext4', name: 'ext4b', reflink: false, dax: 'never' } },
      { name: 'd1n3', mode: 'raw' },
    ],
    'a filesystem on a sector namespace is a page-cache one (dax: never)',
  )
})

t.test('labelled DIMMs: a filesystem name used twice across namespaces, dax on a sector namespace', async t => {
  const twice = await load('twice', fsVariant(`    - {size: 2G, label: 2M, namespaces: [{size: 512M, mode: fsdax, fs: ext4}, {size: 512M, mode: fsdax, fs: ext4}]}`))
  await t.rejects(twice.p, /two filesystems are called "ext4"/)
  const dax = await load('sectordax', fsVariant(`    - {size: 2G, label: 2M, namespaces: [{size: 512M, mode: sector, fs: {type: ext4, dax: always}}]}`))
  await t.rejects(dax.p, /namespaces\[0\]\.fs\.dax: a sector namespace has no DAX/)
  const last = await load('nosize', fsVariant(`    - {size: 2G, label: 2M, namespaces: [{mode: fsdax}, {size: 512M, mode: devdax}]}`))
  await t.rejects(last.p, /namespaces\[0\]\.size: only the last namespace may leave out its size/)
})
