// Where source kernels are built: one git-managed tree per base in the cache. A Debian linux-source package
// is unpacked once into its own tree; a user's git repository gets one tree for all its commits (moving to
// another commit is a checkout there and an incremental make), with objects the cache owns (a local clone
// hardlinks or copies them; nothing is borrowed through alternates).
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { existsSync, realpathSync } from 'node:fs'
import { basename, join } from 'node:path'
import { InfraError, InputError } from '../errors.js'
import { cacheRoot, ensureEntry, entryPath, requireFreeSpace, sha256, withLock } from '../cache/store.js'
import { run, runOk } from '../util/exec.js'
import { aptDownload } from './prebuilt.js'
import { nullSink, type EventSink } from '../events.js'
import type { KernelSpec } from '../types.js'

/** Fixed identity and dates for the commits the rig makes, so the base commit of a tarball is reproducible. */
const GIT_ID = ['-c', 'user.name=daxrig', '-c', 'user.email=daxrig@localhost', '-c', 'gc.auto=0', '-c', 'core.autocrlf=false']
const GIT_DATES = { GIT_AUTHOR_DATE: '2015-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2015-01-01T00:00:00Z' }

export interface BaseSource {
  /** human and cache identity of the base commit: `linux-source-6.1 6.1.192-2`, `git <sha>` */
  id: string
  /** directory name under <cache>/trees: one per Debian source version, one per user repository */
  key: string
  description: string
  /** fills `dir` with a git work tree of the base */
  populate: (dir: string) => Promise<void>
  /** the commit to build; undefined = the tree's own base commit (a linux-source tree) */
  commit?: string
  /** makes sure `commit` is in the tree (fetching it from the user's repository when it is new) */
  prepare?: (src: string) => Promise<void>
}

export function treesDir(): string {
  return join(cacheRoot(), 'trees')
}

async function gitCommitAll(dir: string, message: string): Promise<void> {
  // -f: the tarball ships files its own .gitignore matches; all of them must be tracked so patches can touch them
  await runOk('git', ['-C', dir, ...GIT_ID, 'add', '-A', '-f'])
  await runOk('git', ['-C', dir, ...GIT_ID, 'commit', '-q', '--no-verify', '-m', message], { env: GIT_DATES })
}

/** Where the tarball of an installed linux-source package is, or download the .deb into the cache. */
async function debianTarball(pkg: string, suite = 'bookworm'): Promise<{ tarball: string; version: string }> {
  const installed = await run('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg])
  const [status, version] = installed.stdout.split('\t')
  const local = `/usr/src/${pkg}.tar.xz`
  if (installed.exitCode === 0 && status?.endsWith(' installed') && version && existsSync(local)) return { tarball: local, version }
  const dir = join(cacheRoot(), 'debs', pkg)
  await mkdir(dir, { recursive: true })
  return withLock(join(dir, '.lock'), async () => {
    const tarballIn = async (unpacked: string) => {
      const src = join(dir, unpacked, 'usr', 'src')
      const tar = (await readdir(src).catch(() => [] as string[])).find(f => /^linux-source-.*\.tar\.(xz|bz2|gz)$/.test(f))
      return tar ? join(src, tar) : undefined
    }
    // the unpacked tarball is all we keep; the .deb is deleted once extracted
    for (const d of (await readdir(dir)).filter(f => f.startsWith('unpacked-')).sort().reverse()) {
      const tarball = await tarballIn(d)
      if (tarball) return { tarball, version: d.slice('unpacked-'.length) }
    }
    // the rig's private apt state for the variant's suite: an unknown package is bad input, not a rig failure
    await requireFreeSpace(dir, 2 * 1024 ** 3, `downloading ${pkg}`)
    const { deb: debPath } = await aptDownload(pkg, suite, dir, nullSink)
    const deb = basename(debPath)
    const version = (await runOk('dpkg-deb', ['-f', join(dir, deb), 'Version'])).stdout.trim()
    const unpacked = `unpacked-${version}`
    const tmp = join(dir, `${unpacked}.tmp`)
    await rm(tmp, { recursive: true, force: true })
    await runOk('dpkg-deb', ['-x', join(dir, deb), tmp])
    await rename(tmp, join(dir, unpacked))
    await rm(join(dir, deb), { force: true })
    const tarball = await tarballIn(unpacked)
    if (!tarball) throw new InfraError(`${deb} holds no linux-source tarball`)
    return { tarball, version }
  })
}

/** The cache's tree for a user's repository: keyed by where the repository is, not by commit. */
export function repoTreeKey(path: string): string {
  let real = path
  try {
    real = realpathSync(path)
  } catch {
    // a repository that is gone keeps the key it had under its old path
  }
  return `git-repo-${sha256(real).slice(0, 16)}`
}

/** A ref in the user's repository; when the repository is gone, a commit id still resolves in the cached tree. */
async function resolveCommit(path: string, ref: string): Promise<string> {
  const revParse = (dir: string) => run('git', ['-C', dir, 'rev-parse', '--verify', '-q', '--end-of-options', `${ref}^{commit}`])
  if (existsSync(path)) {
    const r = await revParse(path)
    if (r.exitCode !== 0) throw new InputError(`git ref "${ref}" not found in ${path}`)
    return r.stdout.trim()
  }
  const cached = join(entryPath('trees', repoTreeKey(path)), 'src')
  if (/^[0-9a-f]{7,40}$/.test(ref) && existsSync(cached)) {
    const r = await revParse(cached)
    if (r.exitCode === 0) return r.stdout.trim()
  }
  throw new InputError(
    `the git repository ${path} is gone (moved or deleted), so "${ref}" cannot be resolved: restore it, point kernel.source.git at its new place, or name a commit id the cache already has`,
  )
}

/** Identify the base of a source spec (cheap: no unpacking). */
export async function resolveBase(spec: KernelSpec): Promise<BaseSource> {
  if (spec.sourcePackage) {
    const pkg = spec.sourcePackage
    if (!/^linux-source-\d+\.\d+$/.test(pkg)) throw new InputError(`not a Debian kernel source package: ${pkg} (expected linux-source-X.Y)`)
    const { tarball, version } = await debianTarball(pkg, spec.suite)
    const id = `${pkg} ${version}`
    return {
      id,
      key: `${pkg}_${version}`.replace(/[^\w.+-]/g, '_'),
      description: id,
      populate: async dir => {
        await runOk('tar', ['-xf', tarball, '-C', dir, '--strip-components=1'])
        await runOk('git', ['-C', dir, 'init', '-q'])
        await gitCommitAll(dir, `${id} (from ${tarball})`)
      },
    }
  }
  if (spec.git) {
    const { path, ref } = spec.git
    const commit = await resolveCommit(path, ref)
    return {
      id: `git ${commit}`,
      key: repoTreeKey(path),
      description: `${basename(path)} ${ref} (${commit.slice(0, 12)})`,
      commit,
      // a local clone hardlinks (or copies) the objects: the tree owns them, whatever happens to the repository
      populate: async dir => {
        await runOk('git', ['clone', '-q', '--no-checkout', path, dir])
        await runOk('git', ['-C', dir, 'checkout', '-q', '--detach', commit])
      },
      prepare: async src => {
        const has = async () => (await run('git', ['-C', src, 'cat-file', '-e', `${commit}^{commit}`])).exitCode === 0
        if (await has()) return
        if (!existsSync(path))
          throw new InputError(`commit ${commit.slice(0, 12)} is not in the cached tree of ${path}, and ${path} is gone: restore the repository (or run daxrig cache prune to drop its tree)`)
        // every ref and the repository's HEAD (a detached HEAD under git bisect is reachable only from there)
        await runOk('git', ['-C', src, 'fetch', '-q', '--no-tags', path, '+refs/*:refs/daxrig/user/*', '+HEAD:refs/daxrig/user-HEAD'])
        if (!(await has())) throw new InputError(`commit ${commit.slice(0, 12)} is not reachable from any ref or HEAD of ${path}`)
      },
    }
  }
  throw new InputError('a source kernel needs a Debian linux-source package or a git tree + ref')
}

export interface Tree {
  /** the tree's cache entry: src/ (the git work tree), cfg/, out/ (the O= build dir) */
  root: string
  src: string
  /** the commit requests of this base build on */
  commit: string
}

/** The base's tree, made once in the cache (temp dir, then rename), holding the request's commit. */
export async function ensureTree(base: BaseSource, events: EventSink = nullSink, variant = ''): Promise<Tree> {
  const root = entryPath('trees', base.key)
  if (!existsSync(join(root, '.complete'))) {
    events({ type: 'phase-start', variant, phase: 'unpack', detail: base.description })
    const t0 = Date.now()
    await ensureEntry('trees', base.key, async tmp => {
      // an unpacked tree with its git objects takes ~3 GB, a first build ~2 GB more
      await requireFreeSpace(tmp, 5 * 1024 ** 3, `unpacking ${base.description}`)
      await mkdir(join(tmp, 'src'))
      await base.populate(join(tmp, 'src'))
      await writeFile(join(tmp, 'base.json'), JSON.stringify({ id: base.id, description: base.description }, null, 2) + '\n')
    })
    events({ type: 'phase-end', variant, phase: 'unpack', ms: Date.now() - t0 })
  }
  const src = join(root, 'src')
  await base.prepare?.(src)
  const commit = base.commit ?? (await runOk('git', ['-C', src, 'rev-parse', 'HEAD'])).stdout.trim()
  return { root, src, commit }
}

/** To the request's commit, clean: only files that differ from the last build are rewritten, so make rebuilds only those. */
export async function resetTree(src: string, commit: string): Promise<void> {
  await runOk('git', ['-C', src, 'reset', '-q', '--hard', commit])
  await runOk('git', ['-C', src, 'clean', '-q', '-f', '-d'])
}
