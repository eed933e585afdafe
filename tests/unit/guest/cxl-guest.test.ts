// The guest side of machine.cxl: the CXL drivers in the initramfs (only for CXL machines), the cxl tool, the plan's
// setup_cxl step and mount, the names handed to the topology program, and the Kconfig needs of a kernel of one's own.
import t from 'tap'
import { loadOrder, parseModulesDep, wantedModules } from '../../../harness/guest/modules.js'
import { moduleGroups, planScript } from '../../../harness/guest/plan.js'
import { CXL_TOOL, guestTools } from '../../../harness/guest/userland.js'
import { neededOptions } from '../../../harness/kernel/local.js'
import type { CxlSpec } from '../../../harness/types.js'
import { fsDimm, fsSpec, machineSpec } from '../../helpers/fixtures.js'

const dev: CxlSpec = { sizeMiB: 512, labelKiB: 256, namespace: { name: 'cxl0', mode: 'fsdax', fs: fsSpec('ext4') } }
const cxlMachine = machineSpec({ cxl: [dev] })

// Debian 6.1's layout: cxl_core and cxl_port are built in, the rest are modules on libnvdimm
const DEP = `kernel/drivers/cxl/cxl_acpi.ko:
kernel/drivers/cxl/cxl_pci.ko:
kernel/drivers/cxl/cxl_mem.ko:
kernel/drivers/cxl/cxl_pmem.ko: kernel/drivers/nvdimm/libnvdimm.ko
kernel/drivers/nvdimm/libnvdimm.ko:
kernel/drivers/nvdimm/nd_pmem.ko: kernel/drivers/nvdimm/nd_btt.ko kernel/drivers/nvdimm/libnvdimm.ko
kernel/drivers/nvdimm/nd_btt.ko: kernel/drivers/nvdimm/libnvdimm.ko
kernel/drivers/acpi/nfit/nfit.ko: kernel/drivers/nvdimm/libnvdimm.ko
kernel/fs/ext4/ext4.ko:
`
const BUILTIN = 'kernel/drivers/cxl/core/cxl_core.ko\nkernel/drivers/cxl/cxl_port.ko\n'

t.test('a CXL machine loads cxl_acpi, cxl_pci, cxl_mem, cxl_pmem and nd_pmem, before the filesystems; no nfit', async t => {
  const { steps, missing } = loadOrder(parseModulesDep(DEP, BUILTIN), wantedModules(cxlMachine))
  t.same(missing, [])
  t.same(steps.map(s => s.name), ['cxl_acpi', 'cxl_pci', 'cxl_mem', 'libnvdimm', 'cxl_pmem', 'nd_btt', 'nd_pmem', 'ext4'])
  const groups = moduleGroups(steps)
  t.same(groups.pmem.map(s => s.name), ['cxl_acpi', 'cxl_pci', 'cxl_mem', 'libnvdimm', 'cxl_pmem', 'nd_btt', 'nd_pmem'], 'the CXL drivers load in the foreground, before setup')
  t.same(groups.chains.map(c => c.map(s => s.name)), [['ext4']])
  const plain = wantedModules(machineSpec({ nvdimms: [fsDimm('ext4')] })).map(w => w.name)
  t.notOk(plain.some(n => n.startsWith('cxl')), 'a machine without CXL loads no CXL driver')
})

t.test('the cxl tool is in the guest only on CXL machines', async t => {
  t.ok(guestTools(cxlMachine).includes(CXL_TOOL))
  t.notOk(guestTools(machineSpec()).includes(CXL_TOOL))
})

t.test('plan: setup_cxl with the namespace spec, the mount by namespace name, the expected size for topology', async t => {
  const v = {
    name: 'v',
    machine: cxlMachine,
    interfaces: { syscalls: {}, mmapFlags: {}, fcntl: {} },
    tests: [],
    timeouts: { perTestSec: 30 },
  } as unknown as Parameters<typeof planScript>[0]
  const p = planScript(v, [])
  t.match(p, /^in_background setup_cxl 0 cxl0:fsdax::::ext4:$/m)
  t.match(p, /^mount_fs cxl0 ext4 \/mnt\/ext4 dax$/m)
  t.match(p, /^export DAXRIG_EXT4=\/mnt\/ext4$/m)
  t.match(p, /^export DAXRIG_CXL0_SIZE_MIB=512 DAXRIG_CXL0_NAMESPACE=CXL0$/m)
  t.ok(p.indexOf('setup_cxl') < p.indexOf('join_setup') && p.indexOf('join_setup') < p.indexOf('mount_fs'))
})

t.test("a kernel of one's own must have the CXL drivers and libnvdimm for a CXL machine", async t => {
  const names = neededOptions(cxlMachine).map(n => n.option)
  for (const o of ['CXL_BUS', 'CXL_ACPI', 'CXL_PCI', 'CXL_MEM', 'CXL_PMEM', 'CXL_REGION', 'LIBNVDIMM', 'BLK_DEV_PMEM', 'FS_DAX']) t.ok(names.includes(o), o)
  t.notOk(names.includes('ACPI_NFIT'), 'no NVDIMM: no NFIT')
  const both = neededOptions(machineSpec({ nvdimms: [fsDimm('xfs')], cxl: [dev] })).map(n => n.option)
  t.equal(both.filter(o => o === 'LIBNVDIMM').length, 1, 'each option once')
})
