// NVDIMM backing files: fresh and sparse for every boot (a reused file would come up already converted
// to fsdax/devdax, because the pfn info block lives in it), removed afterwards.
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MachineSpec } from '../types.js'
import { backingBytes } from './qemu-args.js'

export async function withFreshMedia<T>(m: MachineSpec, fn: (paths: string[], dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(process.env.DAXRIG_MEDIA_DIR ?? tmpdir(), 'daxrig-nv-'))
  try {
    const paths = m.nvdimms.map((_, i) => join(dir, `nv${i}.img`))
    for (const [i, p] of paths.entries()) {
      const fh = await open(p, 'w')
      await fh.truncate(backingBytes(m.nvdimms[i]!))
      await fh.close()
    }
    return await fn(paths, dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
