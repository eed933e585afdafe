// Persistent-memory topologies on real kernels: a labelled DIMM as the design shows it, a 2M-labelled DIMM with
// fsdax + devdax + sector namespaces (Debian 6.1 and 6.12), a DIMM on its own NUMA node, and CXL pmem (fsdax with ext4 on
// 6.1 and 6.12, devdax beside an NVDIMM on 6.12).
// The topology program reports what the guest made of each namespace, node and CXL region; every variant must end
// ok. About 2 minutes.
import t from 'tap'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig } from './helpers.js'
import type { RunSummary, VariantResult } from '../../harness/types.js'

const out = await mkdtemp(join(tmpdir(), 'daxrig-topologies-'))
const r = await daxrig(['run', 'topologies', '--out', out])
const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary
const byName = (n: string): VariantResult => s.variants.find(v => v.variant === n)!
const status = (v: VariantResult, id: string) => v.cases.find(c => c.id === id)?.status
const ktap = (n: string) => readFile(join(out, n, 'results.ktap'), 'utf8')

t.test('the topologies matrix ends ok', async t => {
  t.equal(r.code, 0, r.out.slice(-3000))
  t.same(s.variants.map(v => [v.variant, v.verdict]), [
    ['topo-label-6.1', 'ok'],
    ['topo-label-6.12', 'ok'],
    ['topo-namespaces-6.1', 'ok'],
    ['topo-namespaces-6.12', 'ok'],
    ['topo-numa-6.1', 'ok'],
    ['topo-cxl-6.1', 'ok'],
    ['topo-cxl-6.12', 'ok'],
    ['topo-cxl-devdax-6.12', 'ok'],
  ])
})

for (const k of ['6.1', '6.12']) {
  t.test(`${k}: a 1G DIMM with a 128K label area carries an fsdax namespace of the whole region, ext4 mounted -o dax`, async t => {
    const v = byName(`topo-label-${k}`)
    t.equal(status(v, 'topology.ns_d0n0'), 'pass')
    t.equal(status(v, 'map_sync.ext4_statx_dax'), 'pass', 'DAX is really on')
    t.match(await ktap(`topo-label-${k}`), /# \/dev\/pmem0: fsdax, 100[0-9] MiB, queue\/dax 1/, 'the namespace spans the 1G region (less its memmap)')
  })
  t.test(`${k}: fsdax + devdax + sector namespaces on one 2M-labelled DIMM`, async t => {
    const v = byName(`topo-namespaces-${k}`)
    for (const id of ['topology.ns_fsdax', 'topology.ns_devdax', 'topology.ns_btt', 'map_sync.ext4_statx_dax', 'map_sync.devdax_msv_sync'])
      t.equal(status(v, id), 'pass', id)
    const text = await ktap(`topo-namespaces-${k}`)
    t.match(text, /# \/dev\/dax0\.\d+: devdax, align 2097152/)
    t.match(text, /# \/dev\/pmem0\.\d+s: sector, 25\d MiB, queue\/dax 0/, 'the BTT device has no DAX')
  })
}

t.test('a DIMM on NUMA node 1: its region reports target_node 1', async t => {
  const v = byName('topo-numa-6.1')
  t.equal(status(v, 'topology.node_dimm0'), 'pass')
  t.match(await ktap('topo-numa-6.1'), /# region0 \(nmem0\): numa_node 0, target_node 1, expected 1/)
})

for (const k of ['6.1', '6.12']) {
  t.test(`${k}: CXL pmem: a committed 512M region made with the cxl tool, an fsdax namespace on the CXL nvdimm bridge, ext4 -o dax`, async t => {
    const v = byName(`topo-cxl-${k}`)
    for (const id of ['topology.cxl0', 'topology.ns_cxl0', 'map_sync.ext4_statx_dax', 'map_sync.ext4_msv_sync', 'map_sync.ext4_sync_store'])
      t.equal(status(v, id), 'pass', id)
    const text = await ktap(`topo-cxl-${k}`)
    t.match(text, /# cxl0: region\d+ of mem\d+, 512 MiB \(memdev pmem 512 MiB\), commit 1, mode (pmem|n\/a); \/dev\/pmem\d+ at \S*\/nvdimm-bridge\d+\/ndbus\d+\/region\d+\//)
    t.match(text, /# \/dev\/pmem\d+: fsdax, 50\d MiB, queue\/dax 1/, 'the namespace spans the region, less its memmap')
    if (k === '6.12') t.match(text, /mode pmem;/, '6.12 reports the region mode')
    t.match(await readFile(join(out, `topo-cxl-${k}`, 'qemu.cmdline'), 'utf8'), /-device cxl-type3,bus=cxl-rp0,memdev=cxl-mem0,lsa=cxl-lsa0/)
  })
}

t.test('6.12: a devdax namespace on CXL pmem beside an NFIT DIMM with xfs: each on its own nvdimm bus', async t => {
  const v = byName('topo-cxl-devdax-6.12')
  for (const id of ['topology.cxl0', 'topology.ns_far', 'devdax.devdax_map_ok']) t.equal(status(v, id), 'pass', id)
  const text = await ktap('topo-cxl-devdax-6.12')
  t.match(text, /# cxl0: region\d+ of mem0, 256 MiB \(memdev pmem 256 MiB\), commit 1, mode pmem; (\/dev\/dax\d+\.\d+) at \S*\/nvdimm-bridge\d+\/ndbus\d+\/region\d+\/dax/)
  t.match(text, /# \/dev\/dax\d+\.\d+: devdax, align 2097152/)
})
