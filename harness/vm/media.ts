// NVDIMM backing files: fresh for every boot (a reused file would come up already converted to fsdax/devdax,
// because the pfn info block lives in it, and would hold the last run's files), removed afterwards. Fresh is
// either sparse and empty (the guest makes namespaces and filesystems with ndctl and mkfs) or a copy of a
// premade medium from the cache (harness/run/media-cache.ts), made with the same tools once.
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InfraError } from '../errors.js'
import type { MachineSpec } from '../types.js'
import { run } from '../util/exec.js'
import { backingBytes } from './qemu-args.js'

/** Empty sparse backing files of the machine's DIMM sizes. */
export async function makeEmptyMedia(m: MachineSpec, paths: string[]): Promise<void> {
  for (const [i, p] of paths.entries()) {
    const fh = await open(p, 'w')
    await fh.truncate(backingBytes(m.nvdimms[i]!))
    await fh.close()
  }
}

/** cp keeps holes (and shares blocks where the file system can): a 512M medium holds a few MB of data. */
export function copyArgs(from: string, to: string): string[] {
  return ['--reflink=auto', '--sparse=always', from, to]
}

export async function withFreshMedia<T>(m: MachineSpec, fn: (paths: string[], dir: string) => Promise<T>, premade?: string[]): Promise<T> {
  const dir = await mkdtemp(join(process.env.DAXRIG_MEDIA_DIR ?? tmpdir(), 'daxrig-nv-'))
  try {
    const paths = m.nvdimms.map((_, i) => join(dir, `nv${i}.img`))
    if (premade) {
      for (const [i, p] of paths.entries()) {
        const r = await run('cp', copyArgs(premade[i]!, p))
        if (r.exitCode !== 0) throw new InfraError(`cannot copy the premade medium ${premade[i]}: ${r.all.trim()}`)
      }
    } else await makeEmptyMedia(m, paths)
    return await fn(paths, dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
