// Which machines may use a premade medium, and what the guest plans look like for making and for using one.
import t from 'tap'
import { premadeRefusal } from '../../../harness/run/media-cache.js'
import { planScript } from '../../../harness/guest/plan.js'
import type { Variant } from '../../../harness/types.js'
import { devdaxDimm, fsDimm, machineSpec } from '../../helpers/fixtures.js'

const variant = (machine = machineSpec({ nvdimms: [fsDimm('ext4'), fsDimm('xfs', { fs: { type: 'xfs', name: 'xfs', reflink: true, dax: 'always' } }), devdaxDimm()] })): Variant => ({
  name: 'unit',
  file: '/x/unit.yaml',
  series: {},
  kernel: { kind: 'prebuilt', package: 'linux-image-x', suite: 'bookworm', config: [] },
  machine,
  interfaces: { syscalls: {}, mmapFlags: {}, fcntl: {} },
  tests: [{ name: 'map_sync', source: '/x/map_sync.c' }],
  expect: [],
  allow: [],
  timeouts: { bootSec: 90, noOutputSec: 60, totalSec: 600, perTestSec: 120 },
})

t.test('label-less machines may use a premade medium; labelled ones, no DIMM and DAXRIG_FRESH_MEDIA=1 may not', async t => {
  t.equal(premadeRefusal(variant(), {}), undefined)
  t.equal(premadeRefusal(variant(), { DAXRIG_FRESH_MEDIA: '1' }), 'DAXRIG_FRESH_MEDIA=1')
  t.equal(premadeRefusal(variant(machineSpec()), {}), 'no NVDIMM')
  const labelled = fsDimm('ext4', { labelKiB: 2048, namespaces: [{ name: 'a', mode: 'fsdax' }] })
  t.equal(premadeRefusal(variant(machineSpec({ nvdimms: [fsDimm('ext4'), labelled] })), {}), 'a labelled DIMM')
})

t.test('the medium-making plan: the machine only, namespaces and mkfs, no mount, no test', async t => {
  const a = planScript(variant(), [], { action: { kind: 'media' } })
  const b = planScript({ ...variant(), name: 'other', timeouts: { ...variant().timeouts, perTestSec: 5 } }, [], { action: { kind: 'media' } })
  t.equal(a, b, 'two variants with the same DIMMs share one medium')
  t.match(a, /^in_background prepare_fs 0 ext4 0$/m)
  t.match(a, /^in_background prepare_fs 1 xfs 1$/m, 'xfs made with reflink as asked')
  t.match(a, /^in_background setup_devdax 2$/m)
  t.match(a, /join_setup\nmedia_ready\nfinish 0\n$/, 'ends after the join')
  t.notMatch(a, /mount_fs|run_tests|PREMADE/)
})

t.test('a plan on a premade medium finds what is there and makes nothing', async t => {
  const p = planScript(variant(), [], { premade: true })
  t.match(p, /^PREMADE=1$/m)
  t.ok(p.indexOf('PREMADE=1') < p.indexOf('prepare_fs 0'), 'set before any setup step')
  t.match(p, /^mount_fs 0 ext4 \/mnt\/ext4 dax$/m, 'still mounted as a fresh run mounts')
  t.match(p, /^run_tests map_sync$/m)
  const labelled = fsDimm('ext4', { labelKiB: 2048, namespaces: [{ name: 'a', mode: 'fsdax' }] })
  t.throws(() => planScript(variant(machineSpec({ nvdimms: [labelled] })), [], { premade: true }), /label-less/)
})
