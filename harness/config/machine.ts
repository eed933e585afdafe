// The `machine:` section of a variant: RAM, CPUs, NVDIMMs (label-less, or labelled with namespaces), NUMA nodes,
// filesystems, a CXL pmem device (config/cxl.ts), vIOMMU and VFIO. Schema plus the checks that need more than one field, each naming its field.
import { z } from 'zod'
import type { FsSpec, MachineSpec, NamespaceSpec, NvdimmSpec } from '../types.js'
import { cxlSchema, resolveCxl } from './cxl.js'
import { fsEntry, fsSpec } from './fs.js'
import { parseSize, sizeSchema as size } from './sizes.js'
import { inputErrorAt, type LoadedYaml } from './yaml-errors.js'

const namespaceSchema = z.strictObject({
  /** raw size carved from the region (a multiple of 16M); the last namespace may leave it out: the rest */
  size: size.optional(),
  mode: z.enum(['fsdax', 'devdax', 'sector', 'raw']),
  /** env DAXRIG_NS_<NAME> (the device); default d<dimm>n<index> */
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower-case letters, digits and "_"').optional(),
  fs: fsEntry.optional(),
  /** fsdax/devdax page size of the mapping */
  align: z.enum(['4K', '2M', '1G']).optional(),
  /** fsdax/devdax: struct pages in RAM (mem) or on the device (dev, default) */
  map: z.enum(['mem', 'dev']).optional(),
})

const nvdimmSchema = z.strictObject({
  /** what the guest gets: the region size (the label area is added to the backing file). Default 512M. */
  size: size.default('512M'),
  /** label area (128K, 256K, 2M …); 0 (default) = label-less DIMM, one namespace over the whole DIMM */
  label: size.default(0),
  /** label-less DIMMs (or a labelled one without `namespaces`): the namespace mode. Default fsdax. */
  mode: z.enum(['fsdax', 'devdax', 'raw']).default('fsdax'),
  /** filesystems, each on its own DIMM of `size` */
  fs: z.array(fsEntry).default([]),
  /** labelled DIMMs: several namespaces from the region, made in order with ndctl */
  namespaces: z.array(namespaceSchema).min(1).max(16).optional(),
  /** NUMA node of the DIMM (0 = with the CPUs and RAM; ≥ 1 = a memory-less node of its own, as run_qemu does) */
  node: z.number().int().min(0).max(7).default(0),
})

export const machineSchema = z
  .strictObject({
    memory: size.default('1G'),
    cpus: z.number().int().min(1).max(8).default(2),
    nvdimm: z.array(nvdimmSchema).default([{ size: '512M', label: 0, mode: 'fsdax', fs: [{ type: 'ext4' }], node: 0 }]),
    /** a CXL type-3 device backed by persistent memory (at most one) */
    cxl: z.array(cxlSchema).default([]),
    iommu: z.enum(['none', 'intel']).default('none'),
    'vfio-device': z.enum(['edu', 'e1000e', 'pci-testdev']).optional(),
    hugepages: z.number().int().min(0).max(512).default(0),
    /** a non-DAX ext4 (brd ramdisk) for page-cache control cases. Default true. */
    nodax: z.boolean().default(true),
    cmdline: z.array(z.string()).default([]),
  })
  .prefault({})

type MachineYaml = z.infer<typeof machineSchema>
type Path = (string | number)[]

/** ndctl carves namespaces from a region in multiples of its alignment (16M for the NFIT regions QEMU makes). */
const REGION_ALIGN_MIB = 16
const ALIGN_BYTES: Record<string, number> = { '4K': 4096, '2M': 2 ** 21, '1G': 2 ** 30 }

function namespaces(y: LoadedYaml, d: MachineYaml['nvdimm'][number], i: number, sizeMiB: number): NamespaceSpec[] {
  const at = (j: number, ...rest: string[]): Path => ['machine', 'nvdimm', i, 'namespaces', j, ...rest]
  const list = d.namespaces ?? [{ mode: d.mode, ...(d.fs[0] ? { fs: d.fs[0] } : {}) }]
  let used = 0
  return list.map((n, j) => {
    let nsMiB: number | undefined
    if (n.size !== undefined) {
      const mib = parseSize(n.size, 2 ** 20)
      if (mib === null || mib <= 0 || !Number.isInteger(mib / REGION_ALIGN_MIB))
        throw inputErrorAt(y, at(j, 'size'), `bad namespace size "${n.size}" (a multiple of ${REGION_ALIGN_MIB}M, the region's alignment)`)
      nsMiB = mib
    } else if (j < list.length - 1) throw inputErrorAt(y, at(j, 'size'), 'only the last namespace may leave out its size (it takes the rest of the region)')
    used += nsMiB ?? REGION_ALIGN_MIB
    if (used > sizeMiB)
      throw inputErrorAt(y, at(j), `the namespaces need ${used}M${nsMiB === undefined ? ' or more' : ''} but the DIMM has ${sizeMiB}M: make the DIMM larger or the namespaces smaller`)
    if ((n.align || n.map) && (n.mode === 'sector' || n.mode === 'raw'))
      throw inputErrorAt(y, at(j, n.align ? 'align' : 'map'), `${n.align ? 'align' : 'map'} is for fsdax and devdax namespaces, not ${n.mode}`)
    if (n.align === '1G' && nsMiB !== undefined && nsMiB % 1024 !== 0)
      throw inputErrorAt(y, at(j, 'align'), `align 1G needs a namespace size that is a multiple of 1G (${n.size} is not)`)
    if (n.fs && n.mode === 'devdax') throw inputErrorAt(y, at(j, 'fs'), 'a devdax namespace is a character device: it cannot hold a filesystem')
    const ns: NamespaceSpec = { name: n.name ?? `d${i}n${j}`, mode: n.mode }
    if (nsMiB !== undefined) ns.sizeMiB = nsMiB
    if (n.align) ns.alignBytes = ALIGN_BYTES[n.align]!
    if (n.map) ns.map = n.map
    if (n.fs) {
      ns.fs = fsSpec(y, n.fs, d.namespaces ? at(j, 'fs') : ['machine', 'nvdimm', i, 'fs', 0], n.mode)
      const room = nsMiB ?? sizeMiB - used + REGION_ALIGN_MIB
      if (ns.fs.type === 'xfs' && room < 512)
        throw inputErrorAt(y, at(j, 'size'), 'xfs needs a namespace of at least 512M (mkfs.xfs refuses < 300 MB after the fsdax memmap)')
    }
    return ns
  })
}

/** The first name given twice, and the section of its second use: the DIMMs' names come before the CXL device's. */
function repeated(dimm: string[], cxl: string[]): { name: string; at: Path } | undefined {
  const all = [...dimm, ...cxl]
  const j = all.findIndex((n, i) => all.indexOf(n) !== i)
  return j < 0 ? undefined : { name: all[j]!, at: ['machine', j < dimm.length ? 'nvdimm' : 'cxl'] }
}

export function resolveMachine(y: LoadedYaml, m: MachineYaml): MachineSpec {
  const memoryMiB = parseSize(m.memory, 1024 * 1024)
  if (memoryMiB === null || memoryMiB < 256 || !Number.isInteger(memoryMiB))
    throw inputErrorAt(y, ['machine', 'memory'], `bad memory size "${m.memory}" (e.g. 1G, 768M; at least 256M)`)
  const nvdimms: NvdimmSpec[] = []
  m.nvdimm.forEach((d, i) => {
    const sizeMiB = parseSize(d.size, 1024 * 1024)
    if (sizeMiB === null || sizeMiB < 128 || sizeMiB % 128 !== 0)
      throw inputErrorAt(y, ['machine', 'nvdimm', i, 'size'], `bad NVDIMM size "${d.size}" (a multiple of 128M)`)
    // the backing file is mapped into QEMU and maxmem grows with it: keep guests within what a CI host holds
    if (sizeMiB > 16 * 1024)
      throw inputErrorAt(y, ['machine', 'nvdimm', i, 'size'], `NVDIMM of ${d.size} exceeds the 16G limit (its backing file is mapped into QEMU; maxmem = RAM + all DIMMs)`)
    const labelKiB = parseSize(d.label, 1024)
    if (labelKiB === null || !Number.isInteger(labelKiB)) throw inputErrorAt(y, ['machine', 'nvdimm', i, 'label'], `bad label size "${d.label}"`)
    // QEMU refuses label areas under 128K; ndctl needs room for two index blocks and the labels
    if (labelKiB !== 0 && (labelKiB < 128 || labelKiB > 16 * 1024 || labelKiB % 4 !== 0))
      throw inputErrorAt(y, ['machine', 'nvdimm', i, 'label'], `label area "${d.label}" must be 0 (label-less) or 128K to 16M in 4K steps, e.g. 128K, 256K or 2M`)
    if (d.mode !== 'fsdax' && d.fs.length) throw inputErrorAt(y, ['machine', 'nvdimm', i, 'fs'], `a filesystem needs mode fsdax, not ${d.mode}`)
    if (d.namespaces && (d.fs.length || d.mode !== 'fsdax'))
      throw inputErrorAt(y, ['machine', 'nvdimm', i, 'namespaces'], 'give either mode/fs (one namespace) or namespaces, not both')
    if (d.namespaces && !labelKiB)
      throw inputErrorAt(y, ['machine', 'nvdimm', i, 'namespaces'], 'a label-less DIMM holds exactly one namespace: give it a label area (label: 128K) for several')
    const fss: (FsSpec | undefined)[] = d.fs.length ? d.fs.map((f, j) => fsSpec(y, f, ['machine', 'nvdimm', i, 'fs', j])) : [undefined]
    if (fss.some(f => f?.type === 'xfs') && sizeMiB < 512)
      throw inputErrorAt(y, ['machine', 'nvdimm', i, 'size'], 'xfs needs a DIMM of at least 512M (mkfs.xfs refuses < 300 MB after the fsdax memmap)')
    // one DIMM per filesystem of `fs:`; a labelled DIMM's namespaces (or its one) are made from the region
    const copies = d.namespaces ? [undefined] : fss
    for (const fs of copies) {
      const index = nvdimms.length
      const spec: NvdimmSpec = { sizeMiB, labelKiB, mode: d.mode, node: d.node }
      if (fs) spec.fs = fs
      if (labelKiB) spec.namespaces = namespaces(y, fs ? { ...d, fs: [fs] } : d, index, sizeMiB).map(n => (fs && !d.namespaces ? { ...n, fs } : n))
      nvdimms.push(spec)
    }
  })
  const cxl = resolveCxl(y, m.cxl)
  const dimmFs = nvdimms.flatMap(d => (d.namespaces ? d.namespaces.flatMap(n => (n.fs ? [n.fs.name] : [])) : d.fs ? [d.fs.name] : []))
  const fs = repeated(dimmFs, cxl.flatMap(c => (c.namespace.fs ? [c.namespace.fs.name] : [])))
  if (fs) throw inputErrorAt(y, fs.at, `two filesystems are called "${fs.name}": give the second one its own name ({type: ..., name: ...})`)
  if (m.nodax && [...dimmFs, ...cxl.map(c => c.namespace.fs?.name)].includes('nodax'))
    throw inputErrorAt(y, ['machine', dimmFs.includes('nodax') ? 'nvdimm' : 'cxl'], '"nodax" is the brd control filesystem (machine.nodax); pick another name')
  const ns = repeated(nvdimms.flatMap(d => (d.namespaces ?? []).map(n => n.name)), cxl.map(c => c.namespace.name))
  if (ns) throw inputErrorAt(y, ns.at, `two namespaces are called "${ns.name}"`)
  if (m['vfio-device'] && m.iommu === 'none')
    throw inputErrorAt(y, ['machine', 'vfio-device'], 'a VFIO device needs a vIOMMU: set machine.iommu: intel')
  if (m.hugepages * 2 > memoryMiB / 2) throw inputErrorAt(y, ['machine', 'hugepages'], `${m.hugepages} x 2M hugepages do not fit in ${memoryMiB}M`)
  const spec: MachineSpec = {
    memoryMiB,
    cpus: m.cpus,
    nvdimms,
    cxl,
    iommu: m.iommu,
    hugepages: m.hugepages,
    nodaxFs: m.nodax,
    cmdline: m.cmdline,
  }
  if (m['vfio-device']) spec.vfioDevice = m['vfio-device']
  return spec
}

/** Every namespace of a machine's DIMM: a labelled DIMM's list, or the one namespace of a label-less DIMM. */
export function namespacesOf(d: NvdimmSpec, index: number): NamespaceSpec[] {
  if (d.namespaces) return d.namespaces
  const ns: NamespaceSpec = { name: `d${index}n0`, mode: d.mode }
  if (d.fs) ns.fs = d.fs
  return [ns]
}

/** Every namespace the guest makes: the DIMMs' (in slot order), then the CXL devices'. */
export function machineNamespaces(m: MachineSpec): NamespaceSpec[] {
  return [...m.nvdimms.flatMap((d, i) => namespacesOf(d, i)), ...m.cxl.map(c => c.namespace)]
}
