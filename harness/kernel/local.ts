// A kernel built elsewhere (`kernel: {build: DIR}`, `daxrig run --kernel DIR`): an O= build directory, or an
// installed layout (boot/vmlinuz-* + boot/config-* + lib/modules/<release>). The rig reads it in place, never
// writes into it, and refuses one whose .config lacks what the variant's machine needs (exit 2, the options named)
// instead of booting it and failing in setup.
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { InputError } from '../errors.js'
import { fileSha256 } from '../cache/store.js'
import { findKernelFiles } from './prebuilt.js'
import type { KernelArtifact, MachineSpec } from '../types.js'
import { machineNamespaces } from '../config/machine.js'

/** A Kconfig option the machine needs, and whether a module (=m) will do. */
export interface Need {
  option: string
  why: string
  module: boolean
}

/** What the guest's setup relies on, for this machine (the options of kernel-config/ that matter to it). */
export function neededOptions(m: MachineSpec): Need[] {
  const n: Need[] = [
    { option: 'BLK_DEV_INITRD', why: 'the guest is an initramfs', module: false },
    { option: 'DEVTMPFS', why: 'init mounts devtmpfs', module: false },
    { option: 'SERIAL_8250', why: 'console and results channel are serial ports', module: false },
    { option: 'BINFMT_ELF', why: 'static test programs', module: false },
  ]
  const ns = machineNamespaces(m)
  const fsdax = ns.some(n => n.mode === 'fsdax')
  if (m.nvdimms.length) n.push({ option: 'ACPI_NFIT', why: 'emulated NVDIMMs are described by the ACPI NFIT', module: true })
  if (m.cxl.length)
    n.push(
      { option: 'CXL_BUS', why: 'machine.cxl: the CXL bus and ports', module: true },
      { option: 'CXL_ACPI', why: 'machine.cxl: the host bridge is described by the ACPI CEDT', module: true },
      { option: 'CXL_PCI', why: 'machine.cxl: the type-3 device', module: true },
      { option: 'CXL_MEM', why: 'machine.cxl: the memdev', module: true },
      { option: 'CXL_PMEM', why: 'machine.cxl: the pmem region as an NVDIMM region', module: true },
      { option: 'CXL_REGION', why: 'machine.cxl: cxl create-region', module: false },
    )
  if (m.nvdimms.length || m.cxl.length)
    n.push(
      { option: 'LIBNVDIMM', why: 'NVDIMM bus', module: true },
      { option: 'BLK_DEV_PMEM', why: '/dev/pmem namespaces', module: true },
      { option: 'ZONE_DEVICE', why: 'struct pages for fsdax/devdax namespaces', module: false },
    )
  if (fsdax) n.push({ option: 'NVDIMM_PFN', why: 'fsdax namespaces', module: false })
  if (ns.some(x => x.fs && x.fs.dax !== 'never')) n.push({ option: 'FS_DAX', why: 'filesystems mounted with DAX', module: false })
  if (ns.some(x => x.fs?.type === 'ext4') || m.nodaxFs) n.push({ option: 'EXT4_FS', why: 'ext4 filesystems', module: true })
  if (ns.some(x => x.fs?.type === 'xfs')) n.push({ option: 'XFS_FS', why: 'xfs filesystems', module: true })
  if (ns.some(x => x.mode === 'sector')) n.push({ option: 'BTT', why: 'sector (BTT) namespaces', module: false })
  if (m.nvdimms.some(d => (d.node ?? 0) > 0)) n.push({ option: 'NUMA', why: 'DIMMs on NUMA nodes of their own', module: false })
  if (ns.some(x => x.mode === 'devdax'))
    n.push(
      { option: 'NVDIMM_DAX', why: 'devdax namespaces', module: false },
      { option: 'DEV_DAX', why: '/dev/dax devices', module: true },
      { option: 'DEV_DAX_PMEM', why: 'devdax on pmem', module: true },
    )
  if (m.nodaxFs) n.push({ option: 'BLK_DEV_RAM', why: 'the non-DAX control filesystem on a ramdisk', module: true })
  if (m.hugepages) n.push({ option: 'HUGETLBFS', why: 'machine.hugepages', module: false })
  if (m.iommu === 'intel') n.push({ option: 'INTEL_IOMMU', why: 'machine.iommu: intel', module: false })
  if (m.vfioDevice)
    n.push(
      { option: 'VFIO', why: 'machine.vfio-device', module: true },
      { option: 'VFIO_IOMMU_TYPE1', why: 'machine.vfio-device', module: true },
      { option: 'VFIO_PCI', why: 'machine.vfio-device', module: true },
    )
  return n
}

/** The needs a .config does not meet: unset, or a module where the kernel has no modules to load. */
export function missingOptions(config: string, needs: Need[], hasModules: boolean): string[] {
  const value = (o: string) => new RegExp(`^CONFIG_${o}=(\\S+)$`, 'm').exec(config)?.[1]
  const out: string[] = []
  for (const n of needs) {
    const v = value(n.option)
    if (v === 'y') continue
    if (v === 'm' && n.module && hasModules) continue
    if (v === 'm') out.push(`CONFIG_${n.option}=m but ${n.module ? 'no modules are installed beside the kernel' : 'it must be built in'} (${n.why})`)
    else out.push(`CONFIG_${n.option} is not set (${n.why})`)
  }
  return out
}

interface Found {
  image: string
  config: string
  release: string
  modulesRoot?: string
}

async function findBuild(dir: string): Promise<Found | undefined> {
  // an O= build directory (or the source tree of an in-tree build)
  const bz = join(dir, 'arch', 'x86', 'boot', 'bzImage')
  if (existsSync(bz) && existsSync(join(dir, '.config'))) {
    const release = (await readFile(join(dir, 'include', 'config', 'kernel.release'), 'utf8').catch(() => '')).trim()
    if (!release) return undefined
    const f: Found = { image: bz, config: join(dir, '.config'), release }
    // `make modules_install INSTALL_MOD_PATH=DIR` puts them here
    if (existsSync(join(dir, 'lib', 'modules', release))) f.modulesRoot = dir
    return f
  }
  // an installed layout: a distribution's package unpacked, or make install + modules_install into DIR
  const k = await findKernelFiles(dir)
  if (!k) return undefined
  const f: Found = { image: k.vmlinuz, config: k.config, release: k.release }
  if (existsSync(join(k.modRoot, 'lib', 'modules', k.release))) f.modulesRoot = k.modRoot
  return f
}

/** The kernel in DIR, checked against the machine it is to boot. */
export async function localKernel(dirIn: string, machine: MachineSpec, where?: string): Promise<KernelArtifact> {
  const dir = resolve(dirIn)
  const f = await findBuild(dir)
  if (!f)
    throw new InputError(
      `no kernel in ${dir}: expected an O= build directory (arch/x86/boot/bzImage, .config, include/config/kernel.release) or boot/vmlinuz-* with boot/config-*`,
      where,
    )
  if (f.modulesRoot && !existsSync(join(f.modulesRoot, 'lib', 'modules', f.release, 'modules.dep')))
    throw new InputError(`${join(f.modulesRoot, 'lib', 'modules', f.release)} has no modules.dep: run depmod -b ${f.modulesRoot} ${f.release}`, where)
  const config = await readFile(f.config, 'utf8')
  const missing = missingOptions(config, neededOptions(machine), !!f.modulesRoot)
  if (missing.length) throw new InputError(`the kernel in ${dir} cannot run this machine: ${missing.join('; ')}`, where)
  const imageHash = await fileSha256(f.image)
  const art: KernelArtifact = {
    id: `local:${imageHash.slice(0, 16)}`,
    bzImage: f.image,
    release: f.release,
    configPath: f.config,
    imageHash,
    description: `kernel built elsewhere: ${dir} (${f.release})`,
  }
  if (f.modulesRoot) art.modulesRoot = f.modulesRoot
  return art
}
