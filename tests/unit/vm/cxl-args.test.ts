// The QEMU side of machine.cxl: the host bridge, root ports and type-3 device, the fixed memory window, SeaBIOS
// instead of qboot, the CPU without the hypervisor bit, pcie_ports=compat, and the backing files in the media list.
import t from 'tap'
import { existsSync, statSync } from 'node:fs'
import { accelArgs, cxlArgs, cxlPaths, firmware, kernelCmdline, machineArgs, qemuArgs } from '../../../harness/vm/qemu-args.js'
import { mediaBytes, mediaFiles, withFreshMedia } from '../../../harness/vm/media.js'
import type { CxlSpec } from '../../../harness/types.js'
import { fsDimm, fsSpec, machineSpec } from '../../helpers/fixtures.js'

const dev: CxlSpec = { sizeMiB: 512, labelKiB: 256, namespace: { name: 'cxl0', mode: 'fsdax', fs: fsSpec('ext4') } }
const cxlMachine = machineSpec({ cxl: [dev] })

t.test('machine: cxl=on and a fixed memory window on the host bridge, as large as the device', async t => {
  t.same(machineArgs({ nvdimm: false, iommu: false, cxl: [dev] }), ['-machine', 'q35,cxl=on,cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=512M'])
  t.same(machineArgs({ nvdimm: true, iommu: false, cxl: [] }), ['-machine', 'q35,nvdimm=on'], 'no CXL: nothing added')
})

t.test('devices: pxb-cxl, two root ports (6.1 programs no HDM decoder behind one), the type-3 device on the first', async t => {
  t.same(cxlArgs({ index: 0, paths: ['/m/cxl0.img', '/m/cxl0-lsa.img'], dev }), [
    '-object', 'memory-backend-file,id=cxl-mem0,share=on,mem-path=/m/cxl0.img,size=512M',
    '-object', 'memory-backend-file,id=cxl-lsa0,share=on,mem-path=/m/cxl0-lsa.img,size=256K',
    '-device', 'pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1',
    '-device', 'cxl-rp,port=0,bus=cxl.1,id=cxl-rp0,chassis=0,slot=2',
    '-device', 'cxl-type3,bus=cxl-rp0,memdev=cxl-mem0,lsa=cxl-lsa0,id=cxl-pmem0',
    '-device', 'cxl-rp,port=1,bus=cxl.1,id=cxl-rp0b,chassis=0,slot=3',
  ])
})

t.test('a CXL machine boots SeaBIOS, hides the hypervisor bit and asks for pcie_ports=compat; others do not', async t => {
  t.equal(firmware(cxlMachine, '/q/qboot.rom'), undefined)
  t.equal(firmware(machineSpec(), '/q/qboot.rom'), '/q/qboot.rom')
  t.same(accelArgs('tcg', 2, { cxl: true }), ['-accel', 'tcg,thread=multi', '-cpu', 'max,hypervisor=off', '-smp', '2'])
  t.same(accelArgs('tcg', 2), ['-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2'])
  t.match(kernelCmdline(cxlMachine), / pcie_ports=compat$/)
  t.notMatch(kernelCmdline(machineSpec()), /pcie_ports/)
})

t.test('media: the DIMMs first, then the device capacity and its LSA; qemuArgs picks them by position', async t => {
  const m = machineSpec({ nvdimms: [fsDimm('xfs')], cxl: [dev] })
  t.same(mediaFiles(m), [
    { name: 'nv0.img', bytes: 512 * 2 ** 20 },
    { name: 'cxl0.img', bytes: 512 * 2 ** 20 },
    { name: 'cxl0-lsa.img', bytes: 256 * 1024 },
  ])
  t.same(mediaBytes(m), [512 * 2 ** 20, 512 * 2 ** 20, 256 * 1024])
  t.same(cxlPaths(['/m/nv0.img', '/m/cxl0.img', '/m/cxl0-lsa.img'], m, 0), ['/m/cxl0.img', '/m/cxl0-lsa.img'])
  const a = qemuArgs({ qemu: 'q', accel: 'tcg', machine: m, kernel: '/k', initrd: '/i', nvdimmPaths: ['/m/nv0.img', '/m/cxl0.img', '/m/cxl0-lsa.img'], resultsPath: '/r', bios: '/q.rom' })
  t.notOk(a.includes('-bios'), 'SeaBIOS (no -bios)')
  t.ok(a.includes('memory-backend-file,id=memnv0,share=on,mem-path=/m/nv0.img,size=512M'))
  t.ok(a.includes('memory-backend-file,id=cxl-mem0,share=on,mem-path=/m/cxl0.img,size=512M'))
  t.ok(a.includes('memory-backend-file,id=cxl-lsa0,share=on,mem-path=/m/cxl0-lsa.img,size=256K'))
  const files = await withFreshMedia(m, async paths => paths.map(p => (existsSync(p) ? statSync(p).size : -1)))
  t.same(files, mediaBytes(m), 'fresh sparse files of those sizes')
})
