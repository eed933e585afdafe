// QEMU command line from small pure functions, one per device group; composed in qemuArgs() only.
import type { CxlSpec, MachineSpec, NvdimmSpec } from '../types.js'

export type Accel = 'kvm' | 'tcg'

export function machineArgs(o: { nvdimm: boolean; iommu: boolean; cxl?: CxlSpec[] }): string[] {
  // NVDIMMs need ACPI NFIT (so q35/pc, not microvm); split irqchip is what intel-iommu intremap needs
  const opts = ['q35']
  if (o.nvdimm) opts.push('nvdimm=on')
  if (o.iommu) opts.push('kernel-irqchip=split')
  // CXL: the CEDT describes the host bridge and a fixed memory window (CFMWS) that targets it; the guest's
  // region is placed in that window, so it is as large as the device
  o.cxl?.forEach((c, i) => opts.push('cxl=on', `cxl-fmw.${i}.targets.0=cxl.${i + 1}`, `cxl-fmw.${i}.size=${c.sizeMiB}M`))
  return ['-machine', opts.join(',')]
}

export function accelArgs(accel: Accel, cpus: number, o: { cxl?: boolean } = {}): string[] {
  // -cpu host aborts on these hosts (MSR 0x10a); max works under both accelerators. A CXL machine hides the
  // hypervisor bit: x86 Linux (6.2 on) refuses to commit a CXL region in a VM ("Failed to synchronize CPU cache
  // state": cpu_cache_has_invalidate_memregion() is false when X86_FEATURE_HYPERVISOR is set)
  const cpu = o.cxl ? 'max,hypervisor=off' : 'max'
  return accel === 'kvm'
    ? ['-accel', 'kvm', '-cpu', cpu, '-smp', String(cpus)]
    : ['-accel', 'tcg,thread=multi', '-cpu', cpu, '-smp', String(cpus)]
}

/**
 * Bytes of a DIMM's backing file: what the user asked for plus the label area, which QEMU keeps at the end of the
 * same backend. The region the guest sees is then exactly `size` (a multiple of 128M, so ndctl's alignment holds).
 */
export function backingBytes(d: NvdimmSpec): number {
  return d.sizeMiB * 1024 * 1024 + d.labelKiB * 1024
}

/** slots ≥ DIMMs + 1, maxmem ≥ RAM + all DIMMs with their label areas (QEMU docs/nvdimm.txt). */
export function memoryArgs(o: { memoryMiB: number; nvdimms: NvdimmSpec[] }): string[] {
  if (!o.nvdimms.length) return ['-m', `${o.memoryMiB}M`]
  // maxmem is counted in MiB: a label area rounds its DIMM up to the next MiB
  const dimmMiB = o.nvdimms.reduce((s, d) => s + Math.ceil(backingBytes(d) / 2 ** 20), 0)
  const slots = o.nvdimms.length + 1
  return ['-m', `${o.memoryMiB}M,slots=${slots},maxmem=${o.memoryMiB + dimmMiB}M`]
}

/**
 * NUMA as run_qemu lays it out: node 0 holds the CPUs and all RAM, every other node a DIMM only (memory-less).
 * Nothing when every DIMM is on node 0.
 */
export function numaArgs(o: { memoryMiB: number; cpus: number; nvdimms: NvdimmSpec[] }): string[] {
  const last = Math.max(0, ...o.nvdimms.map(d => d.node ?? 0))
  if (last === 0) return []
  const a = ['-object', `memory-backend-ram,id=ram0,size=${o.memoryMiB}M`, '-numa', `node,nodeid=0,cpus=0-${o.cpus - 1},memdev=ram0`]
  for (let n = 1; n <= last; n++) a.push('-numa', `node,nodeid=${n}`)
  return a
}

export function nvdimmArgs(o: { index: number; path: string; dimm: NvdimmSpec }): string[] {
  const id = `nv${o.index}`
  const dev = [`nvdimm`, `id=${id}`, `memdev=mem${id}`]
  if (o.dimm.labelKiB > 0) dev.push(`label-size=${o.dimm.labelKiB}K`)
  if (o.dimm.node) dev.push(`node=${o.dimm.node}`)
  return [
    '-object',
    `memory-backend-file,id=mem${id},share=on,mem-path=${o.path},size=${o.dimm.labelKiB ? `${backingBytes(o.dimm) / 1024}K` : `${o.dimm.sizeMiB}M`}`,
    '-device',
    dev.join(','),
  ]
}

/**
 * One CXL type-3 device backed by persistent memory: a pxb-cxl host bridge on pcie.0, two cxl-rp root ports on it,
 * the device on the first. QEMU 7.2's `memdev=` is persistent capacity (8.0 renamed it `persistent-memdev=`). The
 * capacity and the label storage area are shared file backends, fresh per boot like the DIMMs'. PATHS: the
 * capacity's file, then the LSA's.
 *
 * The second, empty root port is needed: Linux 6.1 gives a port with a single downstream port a passthrough decoder
 * and leaves its HDM decoder alone, but QEMU 7.2 routes the memory window only through the host bridge's committed
 * HDM decoder. With one root port the region commits, yet what the guest writes to it goes nowhere (mkfs succeeds,
 * mount finds no superblock: EINVAL). Two ports make the host bridge an interleave point that 6.1 programs.
 */
export function cxlArgs(o: { index: number; paths: [string, string]; dev: CxlSpec }): string[] {
  const i = o.index
  const bridge = `cxl.${i + 1}`
  return [
    '-object', `memory-backend-file,id=cxl-mem${i},share=on,mem-path=${o.paths[0]},size=${o.dev.sizeMiB}M`,
    '-object', `memory-backend-file,id=cxl-lsa${i},share=on,mem-path=${o.paths[1]},size=${o.dev.labelKiB}K`,
    '-device', `pxb-cxl,bus_nr=${12 + 10 * i},bus=pcie.0,id=${bridge}`,
    '-device', `cxl-rp,port=0,bus=${bridge},id=cxl-rp${i},chassis=0,slot=${2 * i + 2}`,
    '-device', `cxl-type3,bus=cxl-rp${i},memdev=cxl-mem${i},lsa=cxl-lsa${i},id=cxl-pmem${i}`,
    '-device', `cxl-rp,port=1,bus=${bridge},id=cxl-rp${i}b,chassis=0,slot=${2 * i + 3}`,
  ]
}

export function iommuArgs(o: { iommu: MachineSpec['iommu']; vfioDevice?: string | undefined }): string[] {
  const a: string[] = []
  if (o.iommu === 'intel') a.push('-device', 'intel-iommu,intremap=on')
  if (o.vfioDevice) a.push('-device', o.vfioDevice)
  return a
}

export function kernelArgs(o: { kernel: string; initrd: string; cmdline: string }): string[] {
  return ['-kernel', o.kernel, '-initrd', o.initrd, '-append', o.cmdline]
}

/** The console on QEMU's stdout (ttyS0), results on a file chardev (ttyS1): never mixed. */
export function serialArgs(o: { resultsPath: string; interactive?: boolean }): string[] {
  return [
    '-chardev',
    o.interactive ? 'stdio,id=con,signal=on' : 'stdio,id=con,signal=off',
    '-serial',
    'chardev:con',
    '-chardev',
    `file,id=res,path=${o.resultsPath}`,
    '-serial',
    'chardev:res',
  ]
}

/** No default devices, no network, no display; the guest powers off and QEMU must not reboot it. */
export function baseArgs(o: { bios?: string | undefined }): string[] {
  const a = ['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-nic', 'none']
  if (o.bios) a.push('-bios', o.bios)
  return a
}

export function kernelCmdline(m: MachineSpec, o: { debug?: boolean; token?: string | undefined } = {}): string {
  // random.trust_cpu=on: seed the CRNG from RDRAND (TCG's -cpu max has it). A tinyconfig-based kernel otherwise
  // waits ~5 s under TCG for entropy, and ndctl/mkfs block in getrandom() for their UUIDs until then.
  // cryptomgr.notests: no crypto self-tests. Debian's kernels run them for every algorithm at late init (0.4 s of
  // a TCG boot) and for each crypto module loaded; they test the crypto code, not what a daxrig guest runs. A
  // variant's `cmdline: [cryptomgr.notests=0]` comes later and turns them back on.
  const c = ['console=ttyS0,115200', 'panic=-1', 'rdinit=/init', 'random.trust_cpu=on', 'cryptomgr.notests']
  // loglevel 6 keeps NOTICE and above (the banner, WARN, oops) but drops the INFO flood that slows TCG boots
  c.push(o.debug ? 'ignore_loglevel' : 'loglevel=6')
  if (m.iommu === 'intel') c.push('intel_iommu=on')
  if (m.hugepages) c.push(`hugepagesz=2M`)
  // CXL: no _OSC request for native PCIe/CXL error handling. Granted it, 6.12's cxl_pci asks the device for
  // event-log interrupts, which QEMU 7.2's cxl-type3 does not give ("Failed to get interrupt for event Info
  // log"), and the probe fails: no memdev. Left to the platform (firmware first), the event logs are not set up.
  if (m.cxl.length) c.push('pcie_ports=compat')
  c.push(...m.cmdline)
  // the results channel's framing token (results/channel.ts); init hides it from the programs
  if (o.token) c.push(`daxrig.token=${o.token}`)
  return c.join(' ')
}

/** The backing files of CXL device INDEX in the media list: after the DIMMs', two per device (capacity, LSA). */
export function cxlPaths(paths: string[], m: MachineSpec, index: number): [string, string] {
  const at = m.nvdimms.length + 2 * index
  return [paths[at]!, paths[at + 1]!]
}

export interface QemuPlan {
  qemu: string
  accel: Accel
  machine: MachineSpec
  kernel: string
  initrd: string
  /** every backing file (harness/vm/media.ts): the DIMMs' in slot order, then each CXL device's capacity and LSA */
  nvdimmPaths: string[]
  resultsPath: string
  bios?: string | undefined
  interactive?: boolean
  debug?: boolean
  token?: string | undefined
}

/**
 * The firmware: the one the rig picked (qboot, faster), except on a CXL machine. qboot does not number the buses
 * behind a pxb-cxl host bridge's root ports nor give its ports memory windows (the kernel then finds bus 0d
 * unconfigured and no room for the ports' BARs: no endpoint, no memdev); SeaBIOS enumerates extra PCI roots.
 */
export function firmware(m: MachineSpec, bios: string | undefined): string | undefined {
  return m.cxl.length ? undefined : bios
}

export function qemuArgs(p: QemuPlan): string[] {
  const m = p.machine
  return [
    ...baseArgs({ bios: firmware(m, p.bios) }),
    ...machineArgs({ nvdimm: m.nvdimms.length > 0, iommu: m.iommu !== 'none', cxl: m.cxl }),
    ...accelArgs(p.accel, m.cpus, { cxl: m.cxl.length > 0 }),
    ...memoryArgs({ memoryMiB: m.memoryMiB, nvdimms: m.nvdimms }),
    ...numaArgs({ memoryMiB: m.memoryMiB, cpus: m.cpus, nvdimms: m.nvdimms }),
    ...m.nvdimms.flatMap((dimm, index) => nvdimmArgs({ index, path: p.nvdimmPaths[index]!, dimm })),
    ...m.cxl.flatMap((dev, index) => cxlArgs({ index, paths: cxlPaths(p.nvdimmPaths, m, index), dev })),
    ...iommuArgs({ iommu: m.iommu, vfioDevice: m.vfioDevice }),
    ...serialArgs({ resultsPath: p.resultsPath, interactive: p.interactive ?? false }),
    ...kernelArgs({ kernel: p.kernel, initrd: p.initrd, cmdline: kernelCmdline(m, { debug: p.debug ?? false, token: p.token }) }),
  ]
}
