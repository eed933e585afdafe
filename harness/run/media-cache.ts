// Premade NVDIMM media. A label-less machine's guest setup is mostly ndctl converting each namespace and mkfs
// formatting it, the same every run. So the second time a machine (its DIMMs, on one kernel, with one set of
// guest tools and init) is run, the rig boots it once more with a plan that only makes the media, keeps the
// backing files in the cache (media/<key>), and from then on every run gets its own copy of them: the kernel
// finds the namespaces by their info blocks, and the filesystems are as mkfs left them. Fresh state stays:
// each boot has new files, which are removed after the run.
// Why not the first time: a machine seen once (a bisect step, a test's private cache) would pay a boot more
// for nothing. Why not labelled DIMMs: their namespaces are carved and named in order by setup_labelled, and
// finding them again by name is not worth the risk of a guest setup that differs from the fresh one.
// A medium that cannot be made is not an error: the run makes its media itself, as without a cache.
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cacheRoot, ensureEntry, entryPath, markUsed } from '../cache/store.js'
import type { EventSink } from '../events.js'
import { buildImage } from '../guest/initramfs.js'
import { unframe, newToken } from '../results/channel.js'
import type { KernelArtifact, Variant } from '../types.js'
import { makeEmptyMedia, mediaFiles } from '../vm/media.js'
import { qemuArgs } from '../vm/qemu-args.js'
import { runVm, watchdogSecs } from '../vm/runner.js'
import { isInterrupted } from '../util/children.js'
import type { Accel } from '../vm/qemu-args.js'

/** What the medium-making boot needs of the run's options. */
export interface MediumBoot {
  qemu: string
  accel: Accel
  bios?: string | undefined
  timeoutScale: number
  signal?: AbortSignal | undefined
}

/** Why a run makes its own media; undefined when a premade medium may serve. */
export function premadeRefusal(v: Variant, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DAXRIG_FRESH_MEDIA === '1') return 'DAXRIG_FRESH_MEDIA=1'
  if (!v.machine.nvdimms.length) return 'no NVDIMM'
  if (v.machine.nvdimms.some(d => d.namespaces)) return 'a labelled DIMM'
  if (v.machine.cxl.length) return 'a CXL device' // its region is made with the cxl tool at every boot
  return undefined
}

/** The variant as far as the medium goes: its machine, no tests. */
function mediumVariant(v: Variant): Variant {
  return { ...v, name: 'media', tests: [], expect: [], allow: [] }
}

export interface Premade {
  /** the medium's backing files, one per DIMM, in the cache (copy them, never write them) */
  files: string[]
  key: string
  /** made by this call (the boot that made it is in the cache entry's console.log) */
  made: boolean
}

/**
 * The premade medium for this variant's machine on kernel K: from the cache, made now (second use), or undefined
 * (first use, refused, or making it failed; a failure is logged and the run makes its own media).
 */
export async function premadeMedia(k: KernelArtifact, v: Variant, o: MediumBoot, events: EventSink): Promise<Premade | undefined> {
  if (premadeRefusal(v)) return undefined
  const image = await buildImage(k, mediumVariant(v), { action: { kind: 'media' } })
  const key = image.key.slice(0, 32)
  const files = mediaFiles(v.machine).map(f => join(entryPath('media', key), f.name))
  if (existsSync(join(entryPath('media', key), '.complete'))) {
    await markUsed(entryPath('media', key))
    return { files, key, made: false }
  }
  const seen = join(cacheRoot(), 'media', `${key}.seen`)
  if (!existsSync(seen)) {
    await mkdir(join(cacheRoot(), 'media'), { recursive: true })
    await writeFile(seen, '')
    return undefined
  }
  try {
    await ensureEntry('media', key, dir => makeMedium(k, v, o, image.path, dir))
    events({ type: 'log', level: 'info', message: `${v.name}: premade NVDIMM media made once with ndctl and mkfs (cache media/${key})` })
    return { files, key, made: true }
  } catch (e) {
    if (isInterrupted()) throw e
    events({ type: 'log', level: 'warn', message: `${v.name}: could not premake the NVDIMM media (${(e as Error).message}); the guest makes them` })
    return undefined
  }
}

/** Boot the medium-making plan on empty backing files in DIR; they stay there when the guest said it is done. */
async function makeMedium(k: KernelArtifact, v: Variant, o: MediumBoot, initrd: string, dir: string): Promise<void> {
  const paths = await makeEmptyMedia(v.machine, dir)
  const resultsPath = join(dir, 'channel.log')
  const token = newToken()
  const args = qemuArgs({ token, qemu: o.qemu, accel: o.accel, machine: v.machine, kernel: k.pvhImage ?? k.bzImage, initrd, nvdimmPaths: paths, resultsPath, bios: o.bios })
  const vm = await runVm({
    qemu: o.qemu,
    args,
    consolePath: join(dir, 'console.log'),
    resultsPath,
    ...watchdogSecs(v.timeouts, o.timeoutScale),
    signal: o.signal,
    token,
  })
  const lines = unframe(vm.results, token).text
  if (!/^# daxrig-media: ok$/m.test(lines) || !/^# daxrig-exit: 0$/m.test(lines)) {
    const why = /^# daxrig-setup: FAIL (.*)$/m.exec(lines)?.[1] ?? (vm.watchdog ? `${vm.watchdog} watchdog` : `QEMU exit ${vm.exitCode}`)
    throw new Error(why)
  }
  await rm(resultsPath, { force: true })
}
