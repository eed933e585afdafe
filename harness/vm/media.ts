// NVDIMM and CXL backing files: fresh for every boot (a reused file would come up already converted to
// fsdax/devdax, because the pfn info block lives in it, and would hold the last run's files), removed
// afterwards. Fresh is either sparse and empty (the guest makes namespaces and filesystems with ndctl and mkfs)
// or a copy of a premade medium from the cache (harness/run/media-cache.ts), made with the same tools once.
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InfraError } from '../errors.js'
import type { MachineSpec } from '../types.js'
import { run } from '../util/exec.js'
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

/** Empty sparse backing files in DIR, named and sized by mediaFiles(m); their paths. */
export async function makeEmptyMedia(m: MachineSpec, dir: string): Promise<string[]> {
  const files = mediaFiles(m)
  const paths = files.map(f => join(dir, f.name))
  for (const [i, p] of paths.entries()) {
    const fh = await open(p, 'w')
    await fh.truncate(files[i]!.bytes)
    await fh.close()
  }
  return paths
}

/** cp keeps holes (and shares blocks where the file system can): a 512M medium holds a few MB of data. */
export function copyArgs(from: string, to: string): string[] {
  return ['--reflink=auto', '--sparse=always', from, to]
}

/** Fresh backing files for one boot, in a directory of their own: empty, or copies of PREMADE (one per file). */
export async function withFreshMedia<T>(m: MachineSpec, fn: (paths: string[], dir: string) => Promise<T>, premade?: string[]): Promise<T> {
  const dir = await mkdtemp(join(process.env.DAXRIG_MEDIA_DIR ?? tmpdir(), 'daxrig-nv-'))
  try {
    let paths: string[]
    if (premade) {
      paths = mediaFiles(m).map(f => join(dir, f.name))
      for (const [i, p] of paths.entries()) {
        const r = await run('cp', copyArgs(premade[i]!, p))
        if (r.exitCode !== 0) throw new InfraError(`cannot copy the premade medium ${premade[i]}: ${r.all.trim()}`)
      }
    } else paths = await makeEmptyMedia(m, dir)
    return await fn(paths, dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
