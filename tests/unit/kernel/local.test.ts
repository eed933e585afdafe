// What a kernel built elsewhere must have for a machine: the options the guest's setup relies on.
import t from 'tap'
import { missingOptions, neededOptions } from '../../../harness/kernel/local.js'
import type { MachineSpec } from '../../../harness/types.js'
import { devdaxDimm, fsDimm, machineSpec } from '../../helpers/fixtures.js'

const machine = (over: Partial<MachineSpec> = {}): MachineSpec => machineSpec({ nvdimms: [fsDimm('ext4'), devdaxDimm()], ...over })

const full = ['BLK_DEV_INITRD', 'DEVTMPFS', 'SERIAL_8250', 'BINFMT_ELF', 'ZONE_DEVICE', 'NVDIMM_PFN', 'FS_DAX', 'NVDIMM_DAX']
  .map(o => `CONFIG_${o}=y`)
  .concat(['ACPI_NFIT', 'LIBNVDIMM', 'BLK_DEV_PMEM', 'EXT4_FS', 'DEV_DAX', 'DEV_DAX_PMEM'].map(o => `CONFIG_${o}=m`))
  .join('\n')

t.test('a Debian-like config with modules meets an fsdax+devdax machine', async t => {
  t.same(missingOptions(full, neededOptions(machine()), true), [])
})

t.test('modules without a module tree, and options that must be built in', async t => {
  t.match(missingOptions(full, neededOptions(machine()), false).join('\n'), /CONFIG_EXT4_FS=m but no modules are installed/)
  const noDax = full.replace('CONFIG_FS_DAX=y', '# CONFIG_FS_DAX is not set')
  t.same(missingOptions(noDax, neededOptions(machine()), true), ['CONFIG_FS_DAX is not set (filesystems mounted with DAX)'])
  const zoneModule = full.replace('CONFIG_ZONE_DEVICE=y', 'CONFIG_ZONE_DEVICE=m')
  t.match(missingOptions(zoneModule, neededOptions(machine()), true).join('\n'), /CONFIG_ZONE_DEVICE=m but it must be built in/)
})

t.test('the machine decides what is needed', async t => {
  const names = (m: MachineSpec) => neededOptions(m).map(n => n.option)
  t.notOk(names(machine({ nvdimms: [] })).includes('FS_DAX'))
  t.ok(names(machine({ vfioDevice: 'edu', iommu: 'intel' })).includes('VFIO_PCI'))
  t.ok(names(machine({ iommu: 'intel' })).includes('INTEL_IOMMU'))
  t.ok(names(machine({ nodaxFs: true })).includes('BLK_DEV_RAM'))
})
