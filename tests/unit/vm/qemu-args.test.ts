import t from 'tap'
import {
  accelArgs,
  baseArgs,
  iommuArgs,
  kernelCmdline,
  machineArgs,
  memoryArgs,
  nvdimmArgs,
  qemuArgs,
  serialArgs,
} from '../../../harness/vm/qemu-args.js'
import { fsDimm, machineSpec } from '../../helpers/fixtures.js'

const machine = machineSpec({ nvdimms: [fsDimm('ext4'), fsDimm('xfs', { labelKiB: 128 })], nodaxFs: true })

t.test('machine: nvdimm=on needs q35 with ACPI; split irqchip only with a vIOMMU', async t => {
  t.same(machineArgs({ nvdimm: true, iommu: false }), ['-machine', 'q35,nvdimm=on'])
  t.same(machineArgs({ nvdimm: true, iommu: true }), ['-machine', 'q35,nvdimm=on,kernel-irqchip=split'])
  t.same(machineArgs({ nvdimm: false, iommu: false }), ['-machine', 'q35'])
})

t.test('accelerator: TCG multi-threaded, never -cpu host', async t => {
  t.same(accelArgs('tcg', 2), ['-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2'])
  t.same(accelArgs('kvm', 4), ['-accel', 'kvm', '-cpu', 'max', '-smp', '4'])
})

t.test('memory: slots = DIMMs + 1, maxmem = RAM + DIMMs', async t => {
  t.same(memoryArgs({ memoryMiB: 1024, nvdimms: machine.nvdimms }), ['-m', '1024M,slots=3,maxmem=2049M'])
  t.same(memoryArgs({ memoryMiB: 768, nvdimms: [] }), ['-m', '768M'])
})

t.test('nvdimm: shared file backend; label-size only when asked', async t => {
  t.same(nvdimmArgs({ index: 0, path: '/m/nv0.img', dimm: machine.nvdimms[0]! }), [
    '-object',
    'memory-backend-file,id=memnv0,share=on,mem-path=/m/nv0.img,size=512M',
    '-device',
    'nvdimm,id=nv0,memdev=memnv0',
  ])
  t.same(nvdimmArgs({ index: 1, path: '/m/nv1.img', dimm: machine.nvdimms[1]! }), [
    '-object',
    'memory-backend-file,id=memnv1,share=on,mem-path=/m/nv1.img,size=524416K',
    '-device',
    'nvdimm,id=nv1,memdev=memnv1,label-size=128K',
  ])
})

t.test('iommu and the vfio device', async t => {
  t.same(iommuArgs({ iommu: 'none' }), [])
  t.same(iommuArgs({ iommu: 'intel', vfioDevice: 'edu' }), ['-device', 'intel-iommu,intremap=on', '-device', 'edu'])
})

t.test('console and results on separate serial ports', async t => {
  t.same(serialArgs({ resultsPath: '/o/results.ktap' }), [
    '-chardev', 'stdio,id=con,signal=off', '-serial', 'chardev:con',
    '-chardev', 'file,id=res,path=/o/results.ktap', '-serial', 'chardev:res',
  ])
})

t.test('no network, no reboot, no default devices', async t => {
  t.same(baseArgs({}), ['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-nic', 'none'])
  t.same(baseArgs({ bios: '/q.rom' }).slice(-2), ['-bios', '/q.rom'])
})

t.test('kernel command line: panic=-1 always, intel_iommu=on with the vIOMMU', async t => {
  t.equal(kernelCmdline(machine), 'console=ttyS0,115200 panic=-1 rdinit=/init random.trust_cpu=on cryptomgr.notests loglevel=6')
  t.equal(
    kernelCmdline({ ...machine, iommu: 'intel', hugepages: 8, cmdline: ['foo=1'] }),
    'console=ttyS0,115200 panic=-1 rdinit=/init random.trust_cpu=on cryptomgr.notests loglevel=6 intel_iommu=on hugepagesz=2M foo=1',
  )
})

t.test('composition keeps every group once, in order', async t => {
  const a = qemuArgs({
    qemu: 'qemu-system-x86_64',
    accel: 'tcg',
    machine,
    kernel: '/k/vmlinux',
    initrd: '/i.cpio',
    nvdimmPaths: ['/m/a', '/m/b'],
    resultsPath: '/o/r',
  })
  t.equal(a.filter(x => x === '-device').length, 2)
  t.equal(a.filter(x => x === '-serial').length, 2)
  t.equal(a[a.indexOf('-kernel') + 1], '/k/vmlinux')
  t.ok(a.includes('-no-reboot'))
  t.match(a[a.indexOf('-append') + 1]!, /panic=-1/)
})

t.test('labelled DIMMs: the backing file is size + label, maxmem counts it; NUMA nodes for DIMMs off node 0', async t => {
  const { backingBytes, memoryArgs, numaArgs, nvdimmArgs } = await import('../../../harness/vm/qemu-args.js')
  const d = { sizeMiB: 1024, labelKiB: 128, mode: 'fsdax' as const, node: 1 }
  t.equal(backingBytes(d), 2 ** 30 + 128 * 1024, 'the region the guest sees is exactly 1G')
  t.same(memoryArgs({ memoryMiB: 1024, nvdimms: [d] }), ['-m', '1024M,slots=2,maxmem=2049M'])
  t.same(nvdimmArgs({ index: 0, path: '/x/nv0.img', dimm: d }), [
    '-object',
    'memory-backend-file,id=memnv0,share=on,mem-path=/x/nv0.img,size=1048704K',
    '-device',
    'nvdimm,id=nv0,memdev=memnv0,label-size=128K,node=1',
  ])
  t.same(numaArgs({ memoryMiB: 1024, cpus: 2, nvdimms: [d] }), [
    '-object', 'memory-backend-ram,id=ram0,size=1024M', '-numa', 'node,nodeid=0,cpus=0-1,memdev=ram0', '-numa', 'node,nodeid=1',
  ])
  t.same(numaArgs({ memoryMiB: 1024, cpus: 2, nvdimms: [{ ...d, node: 0 }] }), [], 'all on node 0: no NUMA options')
})
