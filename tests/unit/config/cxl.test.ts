// machine.cxl: the CXL pmem device's schema, its defaults, and the specs the loader refuses (file:line: field).
import t from 'tap'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadVariant } from '../../../harness/config/variant.js'
import { InputError } from '../../../harness/errors.js'

const dir = await mkdtemp(join(tmpdir(), 'daxrig-cxl-'))

/** A variant whose machine.cxl is CXL (on line 7), after an NVDIMM list NVDIMM (line 6). */
const cxlYaml = (cxl: string, nvdimm = '[]') => `name: c
kernel:
  prebuilt: linux-image-6.1.0-56-amd64-unsigned
machine:
  nodax: false
  nvdimm: ${nvdimm}
  cxl: ${cxl}
tests: [topology]
expect:
  "topology.*": pass
`

async function load(name: string, cxl: string, nvdimm?: string) {
  const f = join(dir, `${name}.yaml`)
  await writeFile(f, cxlYaml(cxl, nvdimm))
  return loadVariant(f)
}

t.test('a CXL device resolves with its defaults: 512M, a 256K label area, one fsdax namespace cxl0', async t => {
  const v = await load('defaults', '[{}]')
  t.same(v.machine.cxl, [{ sizeMiB: 512, labelKiB: 256, namespace: { name: 'cxl0', mode: 'fsdax' } }])
  t.same(v.machine.nvdimms, [])
})

t.test('a CXL device with ext4, and a devdax one with a name of its own', async t => {
  const fs = await load('fs', '[{size: 1G, label: 128K, mode: fsdax, fs: [ext4]}]')
  t.same(fs.machine.cxl[0], {
    sizeMiB: 1024,
    labelKiB: 128,
    namespace: { name: 'cxl0', mode: 'fsdax', fs: { type: 'ext4', name: 'ext4', reflink: false, dax: 'always' } },
  })
  const dd = await load('dd', '[{size: 256M, mode: devdax, name: far}]')
  t.same(dd.machine.cxl[0]!.namespace, { name: 'far', mode: 'devdax' })
})

t.test('bad CXL specs: one InputError naming file, line and field', async t => {
  const cases: [string, string, string | undefined, RegExp][] = [
    ['two', '[{size: 256M}, {size: 256M}]', undefined, /two\.yaml:7: machine\.cxl\[1\]: one CXL type-3 device per machine/],
    ['notgranule', '[{size: 384M}]', undefined, /notgranule\.yaml:7: machine\.cxl\[0\]\.size: bad CXL size "384M" \(a multiple of 256M/],
    ['small', '[{size: 128M}]', undefined, /machine\.cxl\[0\]\.size: bad CXL size "128M"/],
    ['huge', '[{size: 32G}]', undefined, /machine\.cxl\[0\]\.size: CXL device of 32G exceeds the 16G limit/],
    ['nolabel', '[{label: 0}]', undefined, /machine\.cxl\[0\]\.label: label area "0" must be 128K to 16M/],
    ['ddfs', '[{mode: devdax, fs: [ext4]}]', undefined, /machine\.cxl\[0\]\.fs: a devdax namespace is a character device: it cannot hold a filesystem/],
    ['twofs', '[{size: 1G, fs: [ext4, xfs]}]', undefined, /machine\.cxl\[0\]\.fs\[1\]: a CXL device carries one namespace, so one filesystem/],
    ['smallxfs', '[{size: 256M, fs: [xfs]}]', undefined, /machine\.cxl\[0\]\.size: xfs needs a CXL device of at least 512M/],
    ['sector', '[{mode: sector}]', undefined, /machine\.cxl\[0\]\.mode: /],
    ['fsname', '[{fs: [ext4]}]', '[{size: 512M, fs: [ext4]}]', /fsname\.yaml:7: machine\.cxl: two filesystems are called "ext4"/],
    ['nsname', '[{name: d0n0}]', '[{size: 1G, label: 128K}]', /nsname\.yaml:7: machine\.cxl: two namespaces are called "d0n0"/],
  ]
  for (const [name, cxl, nvdimm, re] of cases) {
    const err = await load(name, cxl, nvdimm).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.type(err, InputError, name)
    t.match(String(err), re, name)
  }
})
