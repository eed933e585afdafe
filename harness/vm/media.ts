// NVDIMM and CXL backing files: fresh and sparse for every boot (a reused file would come up already converted
// to fsdax/devdax, because the pfn info block lives in it), removed afterwards.
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MachineSpec } from '../types.js'
import { backingBytes } from './qemu-args.js'

/** Every backing file of a machine with its size: the DIMMs' in slot order, then each CXL device's capacity and LSA. */
export function mediaFiles(m: MachineSpec): { name: string; bytes: number }[] {
  return [
    ...m.nvdimms.map((d, i) => ({ name: `nv${i}.img`, bytes: backingBytes(d) })),
    ...m.cxl.flatMap((c, i) => [
      { name: `cxl${i}.img`, bytes: c.sizeMiB * 2 ** 20 },
      { name: `cxl${i}-lsa.img`, bytes: c.labelKiB * 1024 },
    ]),
  ]
}

/** The sizes of mediaFiles(m), in the same order (what the replay note recreates). */
export function mediaBytes(m: MachineSpec): number[] {
  return mediaFiles(m).map(f => f.bytes)
}

export async function withFreshMedia<T>(m: MachineSpec, fn: (paths: string[], dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(process.env.DAXRIG_MEDIA_DIR ?? tmpdir(), 'daxrig-nv-'))
  try {
    const files = mediaFiles(m)
    const paths = files.map(f => join(dir, f.name))
    for (const [i, p] of paths.entries()) {
      const fh = await open(p, 'w')
      await fh.truncate(files[i]!.bytes)
      await fh.close()
    }
    return await fn(paths, dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
