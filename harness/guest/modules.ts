// Kernel modules for a prebuilt kernel: which ones the machine needs, and their dependency closure in
// load order, read from the depmod'ed module tree (modules.dep / modules.builtin).
import { machineNamespaces } from '../config/machine.js'
import type { MachineSpec } from '../types.js'

export interface ModuleDb {
  /** module name (underscored) → path relative to lib/modules/<release> */
  paths: Map<string, string>
  /** module name → direct and indirect deps as listed in modules.dep */
  deps: Map<string, string[]>
  builtin: Set<string>
}

export function modName(path: string): string {
  const base = path.split('/').pop() ?? path
  return base.replace(/\.ko(\.xz|\.zst|\.gz)?$/, '').replace(/-/g, '_')
}

export function parseModulesDep(dep: string, builtin: string): ModuleDb {
  const paths = new Map<string, string>()
  const deps = new Map<string, string[]>()
  for (const line of dep.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line.trim())
    if (!m) continue
    const name = modName(m[1]!)
    paths.set(name, m[1]!)
    deps.set(name, m[2]!.split(/\s+/).filter(Boolean).map(modName))
  }
  const b = new Set(builtin.split('\n').filter(Boolean).map(modName))
  return { paths, deps, builtin: b }
}

export interface WantedModule {
  name: string
  params?: string[]
  /** optional: skipped silently if the kernel has neither module nor built-in */
  optional?: boolean
}

/** The modules a machine needs, in the order the guest must load them. */
export function wantedModules(m: MachineSpec): WantedModule[] {
  // A crc32c provider first: libcrc32c (ext4/xfs) fails with "unknown symbol" otherwise, and
  // module dependency data does not cover crypto algorithms.
  const w: WantedModule[] = [{ name: 'crc32c_generic', optional: true }, { name: 'crc32c_intel', optional: true }]
  if (m.nvdimms.length) w.push({ name: 'nfit' }, { name: 'nd_pmem' })
  // CXL pmem: the CEDT's host bridge (cxl_acpi), its ports (cxl_port, built in on Debian), the device's mailbox
  // (cxl_pci), the memdev (cxl_mem) and the bridge to libnvdimm that turns a pmem region into an nd region (cxl_pmem)
  if (m.cxl.length)
    w.push({ name: 'cxl_acpi' }, { name: 'cxl_port', optional: true }, { name: 'cxl_pci' }, { name: 'cxl_mem' }, { name: 'cxl_pmem' }, { name: 'nd_pmem' })
  const ns = machineNamespaces(m)
  if (ns.some(n => n.mode === 'devdax')) w.push({ name: 'dax_pmem' }, { name: 'device_dax' })
  const fs = new Set(ns.map(n => n.fs?.type))
  if (fs.has('ext4') || m.nodaxFs) w.push({ name: 'ext4' })
  if (fs.has('xfs')) w.push({ name: 'xfs' })
  // 64 MiB ramdisk for the non-DAX control filesystem
  if (m.nodaxFs) w.push({ name: 'brd', params: ['rd_nr=1', 'rd_size=65536'] })
  if (m.vfioDevice) w.push({ name: 'vfio' }, { name: 'vfio_iommu_type1' }, { name: 'vfio_pci' })
  return w
}

export interface LoadStep {
  name: string
  path: string
  params: string[]
  /** the wanted modules this one is loaded for (itself, or those that depend on it) */
  roots: string[]
}

/**
 * Dependency closure in load order (deps before users), skipping built-ins.
 * Throws with the module's name when a required module is neither built in nor present.
 */
export function loadOrder(db: ModuleDb, wanted: WantedModule[]): { steps: LoadStep[]; missing: string[] } {
  const steps: LoadStep[] = []
  const seen = new Set<string>()
  const missing: string[] = []
  const visit = (name: string, params: string[]) => {
    if (seen.has(name) || db.builtin.has(name)) return
    seen.add(name)
    const path = db.paths.get(name)
    if (!path) return
    // modules.dep lists deps so that loading them from last to first works
    for (const d of [...(db.deps.get(name) ?? [])].reverse()) visit(d, [])
    steps.push({ name, path, params, roots: [] })
  }
  for (const w of wanted) {
    if (db.builtin.has(w.name)) continue
    if (!db.paths.has(w.name)) {
      if (!w.optional) missing.push(w.name)
      continue
    }
    visit(w.name, w.params ?? [])
  }
  // modules.dep lists every dependency, direct and indirect: a wanted module's closure is itself and its line
  for (const s of steps)
    s.roots = wanted.filter(w => w.name === s.name || (db.deps.get(w.name) ?? []).includes(s.name)).map(w => w.name)
  return { steps, missing }
}
