// The `machine.cxl:` section: a CXL type-3 device backed by persistent memory (QEMU's cxl-type3 behind a pxb-cxl
// host bridge and a cxl-rp root port). Schema plus the checks that need more than one field, each naming its field.
import { z } from 'zod'
import type { CxlSpec, NamespaceSpec } from '../types.js'
import { fsEntry, fsSpec } from './fs.js'
import { parseSize, sizeSchema as size } from './sizes.js'
import { inputErrorAt, type LoadedYaml } from './yaml-errors.js'

export const cxlSchema = z.strictObject({
  /** persistent capacity, the region the guest makes: a multiple of 256M. Default 512M. */
  size: size.default('512M'),
  /** label storage area (LSA): QEMU 7.2's cxl-type3 always has one, and the namespace's labels live in it */
  label: size.default('256K'),
  /** the namespace made in the region */
  mode: z.enum(['fsdax', 'devdax']).default('fsdax'),
  /** fsdax only: the filesystem made on the namespace (at most one: the device holds one namespace) */
  fs: z.array(fsEntry).default([]),
  /** env DAXRIG_NS_<NAME> (the namespace's device); default cxl<index> */
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower-case letters, digits and "_"').optional(),
})

type CxlYaml = z.infer<typeof cxlSchema>

/** Host-managed decoders commit in units of 256M: a region (and so a device's capacity) is a multiple of it. */
export const CXL_GRANULE_MIB = 256
const CXL_MAX_MIB = 16 * 1024

export function resolveCxl(y: LoadedYaml, list: CxlYaml[]): CxlSpec[] {
  return list.map((c, i) => {
    const at = (...rest: (string | number)[]) => ['machine', 'cxl', i, ...rest]
    // one host bridge, one device, one fixed memory window: that is the topology the guest's setup knows
    if (i > 0) throw inputErrorAt(y, at(), 'one CXL type-3 device per machine: leave out the others (or put them on NVDIMMs)')
    const sizeMiB = parseSize(c.size, 2 ** 20)
    if (sizeMiB === null || sizeMiB < CXL_GRANULE_MIB || sizeMiB % CXL_GRANULE_MIB !== 0)
      throw inputErrorAt(y, at('size'), `bad CXL size "${c.size}" (a multiple of ${CXL_GRANULE_MIB}M, the decoders' granularity: 256M, 512M, 1G …)`)
    if (sizeMiB > CXL_MAX_MIB) throw inputErrorAt(y, at('size'), `CXL device of ${c.size} exceeds the 16G limit (its backing file is mapped into QEMU)`)
    const labelKiB = parseSize(c.label, 1024)
    if (labelKiB === null || !Number.isInteger(labelKiB) || labelKiB < 128 || labelKiB > 16 * 1024 || labelKiB % 4 !== 0)
      throw inputErrorAt(y, at('label'), `label area "${c.label}" must be 128K to 16M in 4K steps, e.g. 256K (a CXL pmem device always has one)`)
    if (c.fs.length && c.mode !== 'fsdax') throw inputErrorAt(y, at('fs'), `a ${c.mode} namespace is a character device: it cannot hold a filesystem (use mode fsdax)`)
    if (c.fs.length > 1) throw inputErrorAt(y, at('fs', 1), 'a CXL device carries one namespace, so one filesystem: put the others on NVDIMMs')
    const ns: NamespaceSpec = { name: c.name ?? `cxl${i}`, mode: c.mode }
    if (c.fs[0]) {
      ns.fs = fsSpec(y, c.fs[0], at('fs', 0))
      if (ns.fs.type === 'xfs' && sizeMiB < 512) throw inputErrorAt(y, at('size'), 'xfs needs a CXL device of at least 512M (mkfs.xfs refuses < 300 MB after the fsdax memmap)')
    }
    return { sizeMiB, labelKiB, namespace: ns }
  })
}
