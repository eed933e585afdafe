// Kernels from source: one git-managed build tree per base, a series prefix applied, fragments merged, built once per cache key.
import { writeFileAtomic } from '../util/atomic.js'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { existsSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { InfraError, InputError } from '../errors.js'
import { cacheRoot, ensureEntry, entryPath, fileSha256, hashValue, markUsed, requireFreeSpace, sha256, withLock } from '../cache/store.js'
import { runOk } from '../util/exec.js'
import { nullSink, type EventSink } from '../events.js'
import { ensureTree, resetTree, resolveBase, treesDir, type BaseSource } from './tree.js'
import type { KernelArtifact, Variant } from '../types.js'
import { assertSurvived, mergeRequests, readFragments } from './kconfig.js'
import { applySeries, loadSeries, type SeriesPatch } from './series.js'
import { compilerId, kernelKey, KERNEL_SCHEMA, requestKey } from './keys.js'
import { makeConfig, touchesKconfig } from './config-make.js'
import { runMake } from './build.js'

/** The uncommitted changes of a WORKTREE base, applied like a patch (a failure is the user's tree, not a kernel's). */
async function applyOverlay(src: string, diff: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-worktree-'))
  try {
    await writeFile(join(dir, 'worktree.diff'), diff)
    await runOk('git', ['-C', src, 'apply', '--index', '--whitespace=nowarn', join(dir, 'worktree.diff')], {}, out =>
      new InfraError(`the uncommitted changes of the work tree do not apply to its HEAD: ${out.trim().split('\n')[0] ?? ''}`),
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface BuildOptions {
  upto?: number
  /** leave this patch (1-based) out of 1..upto: the series with its culprit reverted */
  without?: number
  events?: EventSink
  variantName?: string
}

interface KernelMeta {
  schema: string
  key: string
  base: string
  description: string
  patches: { index: number; subject: string; identity: string; origin: string }[]
  seriesLength: number
  fragments: string[]
  compiler: string
  release: string
  imageHash: string
  buildMs: number
  compiles: number
  builtAt: string
}

function describe(base: BaseSource, patches: SeriesPatch[], upto: number, fragments: string[], without?: number): string {
  const frags = fragments.map(f => basename(f, '.config')).join('+')
  const series = !patches.length
    ? ''
    : upto
      ? ` + patches 1..${upto} of ${patches.length}${without ? ` without ${without}` : ''}`
      : ` (series of ${patches.length} not applied)`
  return `${base.description}${series}, config ${frags}`
}

async function artifactFrom(dir: string): Promise<KernelArtifact> {
  await markUsed(dir)
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as KernelMeta
  return {
    id: meta.key,
    bzImage: join(dir, 'bzImage'),
    release: meta.release,
    configPath: join(dir, '.config'),
    ...(existsSync(join(dir, 'build.log')) ? { buildLog: join(dir, 'build.log') } : {}),
    imageHash: meta.imageHash,
    description: meta.description,
  }
}


/** Copy only when different: rewriting an equal .config would still make kbuild re-run syncconfig. */
async function syncFile(from: string, to: string): Promise<void> {
  const a = await readFile(from)
  const b = await readFile(to).catch(() => undefined)
  if (!b || !a.equals(b)) await copyFile(from, to)
}

/**
 * Build (or find in the cache) the kernel of a source variant with the first `upto` patches of its series.
 * Errors: InputError (bad series, fragment, dropped options), UntestableError (apply, build), InfraError.
 */
export async function buildSourceKernel(v: Variant, opts: BuildOptions = {}): Promise<KernelArtifact> {
  const spec = v.kernel
  const events = opts.events ?? nullSink
  const variant = opts.variantName ?? v.name
  if (spec.kind !== 'source') throw new InputError(`variant ${v.name} has a prebuilt kernel, not a source one`, v.file)
  const patches = await loadSeries(spec, spec.git?.path)
  const upto = opts.upto ?? patches.length
  if (!Number.isInteger(upto) || upto < 0 || upto > patches.length)
    throw new InputError(`--upto ${upto} is outside the series (it has ${patches.length} patches)`, v.file)
  const without = opts.without
  if (without !== undefined && (!Number.isInteger(without) || without < 1 || without > upto))
    throw new InputError(`--without ${without} is not one of the patches 1..${upto}`, v.file)
  const fragments = await readFragments(spec.config)
  const merged = mergeRequests(fragments)
  for (const o of merged.overrides)
    events({ type: 'log', level: 'warn', message: `${o.option}: ${basename(o.to.fragment)}:${o.to.line} overrides ${basename(o.from.fragment)}:${o.from.line} (${o.from.value} → ${o.to.value})` })
  const base = await resolveBase(spec)
  const compiler = await compilerId()
  const applied = patches.slice(0, upto).filter(p => p.index !== without)
  const what = describe(base, patches, upto, spec.config, without)
  const identities = applied.map(p => p.identity)

  const reqFile = join(cacheRoot(), 'kernel-requests', `${requestKey({ base: base.id, patches: identities, fragments, compiler })}.json`)
  const known = await readFile(reqFile, 'utf8').then(t => (JSON.parse(t) as { key: string }).key, () => undefined)
  if (known && existsSync(join(entryPath('kernels', known), '.complete'))) {
    events({ type: 'log', level: 'info', message: `kernel ${known.slice(0, 12)} is cached (${what})` })
    return artifactFrom(entryPath('kernels', known))
  }

  const tree = await ensureTree(base, events, variant)
  const dir = await withLock(join(treesDir(), `${base.key}.use.lock`), async () => {
    events({ type: 'phase-start', variant, phase: 'apply', detail: `${applied.length}/${patches.length} patches${without ? ` (without ${without})` : ''}` })
    let t0 = Date.now()
    await resetTree(tree.src, tree.commit)
    if (base.overlay) await applyOverlay(tree.src, base.overlay)
    await applySeries(tree.src, patches, upto, without)
    events({ type: 'phase-end', variant, phase: 'apply', ms: Date.now() - t0 })

    events({ type: 'phase-start', variant, phase: 'config', detail: spec.config.map(f => basename(f)).join(' ') })
    t0 = Date.now()
    const cfgDir = join(tree.root, 'cfg')
    // The final .config depends only on the base, the fragments and Kconfig inputs: a prefix whose patches
    // touch none reuses the one generated before (saves ~8-10 s of tinyconfig + merge + olddefconfig).
    const kconfigPatches = applied.filter(p => p.files.some(touchesKconfig)).map(p => p.identity)
    const memo = join(tree.root, 'config-memo', `${hashValue({ base: base.id, fragments: fragments.map(f => sha256(f.text)), kconfigPatches })}.config`)
    let config = await readFile(memo, 'utf8').catch(() => '')
    if (config) {
      await mkdir(cfgDir, { recursive: true })
      await writeFile(join(cfgDir, '.config'), config)
    } else {
      config = await makeConfig(tree.src, cfgDir, spec.config, join(tree.root, 'config.log'))
      await mkdir(dirname(memo), { recursive: true })
      await writeFileAtomic(memo, config)
    }
    assertSurvived(merged.requests, config)
    events({ type: 'phase-end', variant, phase: 'config', ms: Date.now() - t0 })

    const key = kernelKey({ base: base.id, patches: identities, config, compiler })
    return ensureEntry('kernels', key, async tmp => {
      await requireFreeSpace(tree.root, 2 * 1024 ** 3, `building ${what}`)
      events({ type: 'phase-start', variant, phase: 'build', detail: `make bzImage (${what})` })
      const out = join(tree.root, 'out')
      await mkdir(out, { recursive: true })
      await syncFile(join(cfgDir, '.config'), join(out, '.config'))
      // the log lives outside the temp entry too, so a failed build leaves it for the user
      const logDir = join(cacheRoot(), 'build-logs')
      await mkdir(logDir, { recursive: true })
      const log = join(logDir, `${key}.log`)
      const r = await runMake(tree.src, out, ['bzImage'], log, { events, variant, phase: 'build' })
      const bz = join(out, 'arch', 'x86', 'boot', 'bzImage')
      await copyFile(bz, join(tmp, 'bzImage'))
      await copyFile(join(out, '.config'), join(tmp, '.config'))
      await copyFile(log, join(tmp, 'build.log'))
      const release = (await readFile(join(out, 'include', 'config', 'kernel.release'), 'utf8')).trim()
      const meta: KernelMeta = {
        schema: KERNEL_SCHEMA,
        key,
        base: base.id,
        description: what,
        patches: applied.map(p => ({ index: p.index, subject: p.subject, identity: p.identity, origin: p.origin })),
        seriesLength: patches.length,
        fragments: spec.config,
        compiler,
        release,
        imageHash: await fileSha256(join(tmp, 'bzImage')),
        buildMs: r.ms,
        compiles: r.compiles,
        builtAt: new Date().toISOString(),
      }
      await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2) + '\n')
      events({ type: 'phase-end', variant, phase: 'build', ms: r.ms, detail: `${r.compiles} files compiled` })
    })
  })
  await writeFileAtomic(reqFile, JSON.stringify({ key: basename(dir) }) + '\n')
  return artifactFrom(dir)
}
