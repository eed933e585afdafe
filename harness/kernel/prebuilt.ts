// Debian prebuilt kernels: fetched with apt into a private apt state (nothing installed on the host),
// unpacked with dpkg-deb, cached by (suite, package). A warm run touches no network.
import { mkdir, readdir, readFile, writeFile, rm, copyFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { InfraError, InputError } from '../errors.js'
import { cacheRoot, ensureEntry, fileSha256, requireFreeSpace, withLock } from '../cache/store.js'
import { run, runBuffer, runOk } from '../util/exec.js'
import type { KernelArtifact } from '../types.js'
import type { EventSink } from '../events.js'

/** Mirrors configured on the host (deb822 or one-line sources), so we use the same registry. */
export async function hostMirrors(): Promise<{ main: string; security: string }> {
  let main = 'http://deb.debian.org/debian'
  let security = 'http://deb.debian.org/debian-security'
  const texts: string[] = []
  for (const f of ['/etc/apt/sources.list']) texts.push(await readFile(f, 'utf8').catch(() => ''))
  const dir = await readdir('/etc/apt/sources.list.d').catch(() => [] as string[])
  for (const f of dir.filter(f => f.endsWith('.sources') || f.endsWith('.list')))
    texts.push(await readFile(join('/etc/apt/sources.list.d', f), 'utf8').catch(() => ''))
  for (const url of texts.join('\n').match(/https?:\/\/\S+/g) ?? []) {
    if (/debian-security\/?$/.test(url)) security = url.replace(/\/$/, '')
    else if (/\/debian\/?$/.test(url)) main = url.replace(/\/$/, '')
  }
  return { main, security }
}

/** sources.list lines for a suite. sid/unstable has no -updates or -security pockets. */
export function sourcesFor(suite: string, m: { main: string; security: string }): string {
  const key = '/usr/share/keyrings/debian-archive-keyring.gpg'
  const lines = [`deb [signed-by=${key}] ${m.main} ${suite} main`]
  if (!['sid', 'unstable', 'experimental'].includes(suite)) {
    lines.push(`deb [signed-by=${key}] ${m.main} ${suite}-updates main`)
    lines.push(`deb [signed-by=${key}] ${m.security} ${suite}-security main`)
  }
  return lines.join('\n') + '\n'
}

function aptDir(suite: string): string {
  return join(cacheRoot(), 'apt', suite)
}

function aptOpts(suite: string): string[] {
  const d = aptDir(suite)
  return [
    '-o', `Dir::Etc::SourceList=${join(d, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/nonexistent',
    '-o', `Dir::State=${join(d, 'state')}`,
    '-o', `Dir::State::status=${join(d, 'status')}`,
    '-o', `Dir::Cache=${join(d, 'cache')}`,
    '-o', 'Debug::NoLocking=1',
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Acquire::Retries=3',
  ]
}

/** Refresh the private index for a suite if it is missing or older than a day. */
async function ensureIndex(suite: string, events: EventSink, force = false): Promise<void> {
  const d = aptDir(suite)
  await withLock(join(cacheRoot(), 'apt', `${suite}.lock`), async () => {
    const stamp = join(d, 'updated')
    const fresh = existsSync(stamp) && Date.now() - Number(await readFile(stamp, 'utf8')) < 86_400_000
    if (fresh && !force) return
    await mkdir(join(d, 'state', 'lists', 'partial'), { recursive: true })
    await mkdir(join(d, 'cache', 'archives', 'partial'), { recursive: true })
    await writeFile(join(d, 'sources.list'), sourcesFor(suite, await hostMirrors()))
    await writeFile(join(d, 'status'), '')
    events({ type: 'log', level: 'info', message: `updating the apt index for ${suite}` })
    const r = await run('apt-get', [...aptOpts(suite), '-q', 'update'])
    if (r.exitCode !== 0 || /^E: /m.test(r.all)) {
      if (/does not have a Release file|404\s+Not Found/.test(r.all)) throw new InputError(`unknown Debian suite "${suite}"`, undefined, 'kernel.suite')
      throw new InfraError(`apt-get update for ${suite} failed: ${r.all.split('\n').filter(l => /^(E|W):/.test(l)).slice(0, 3).join(' | ')}`)
    }
    await writeFile(stamp, String(Date.now()))
  })
}

/** Download one package's .deb into `dir`; returns the file path and its version. */
export async function aptDownload(pkg: string, suite: string, dir: string, events: EventSink): Promise<{ deb: string; version: string }> {
  await ensureIndex(suite, events)
  let r = await run('apt-get', [...aptOpts(suite), '-q', 'download', pkg], { cwd: dir })
  if (/Unable to locate package|has no installation candidate/.test(r.all)) {
    await ensureIndex(suite, events, true) // a stale index can miss a new ABI bump
    r = await run('apt-get', [...aptOpts(suite), '-q', 'download', pkg], { cwd: dir })
    if (/Unable to locate package|has no installation candidate/.test(r.all))
      throw new InputError(`unknown package "${pkg}" in Debian ${suite} (try: apt-cache search ${pkg.startsWith('linux-source') ? '^linux-source-' : 'linux-image | grep unsigned'})`, undefined, 'kernel.package')
  }
  if (r.exitCode !== 0) throw new InfraError(`apt-get download ${pkg} failed: ${r.all.trim().split('\n').slice(-2).join(' | ')}`)
  const deb = (await readdir(dir)).find(f => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))
  if (!deb) throw new InfraError(`apt-get download ${pkg} produced no .deb`)
  const version = decodeURIComponent(deb.split('_')[1] ?? '')
  return { deb: join(dir, deb), version }
}

const LAYOUT = 2

/** The versioned linux-image-<release> package a metapackage (linux-image-amd64, linux-image-cloud-amd64…) depends on. */
export function imageDependency(depends: string): string | undefined {
  return depends
    .split(',')
    .map(d => d.trim().split(/\s+/)[0] ?? '')
    .find(d => /^linux-image-[0-9]/.test(d))
}

/**
 * A metapackage names whatever kernel the suite carries today (sid's ABI name changes with every upload):
 * resolve it through the private index to the versioned package, which is what the cache and the results record.
 */
export async function resolveImagePackage(pkg: string, suite: string, events: EventSink): Promise<string> {
  if (/^linux-image-[0-9]/.test(pkg)) return pkg
  if (!/^linux-image-[a-z]/.test(pkg)) throw new InputError(`"${pkg}" is not a Debian kernel image package (linux-image-…)`, undefined, 'kernel.package')
  await ensureIndex(suite, events)
  const show = async () => run('apt-cache', [...aptOpts(suite), 'show', '--no-all-versions', pkg])
  let r = await show()
  if (r.exitCode !== 0) {
    await ensureIndex(suite, events, true)
    r = await show()
  }
  if (r.exitCode !== 0) throw new InputError(`unknown package "${pkg}" in Debian ${suite} (try: apt-cache search linux-image)`, undefined, 'kernel.package')
  const dep = imageDependency(/^Depends:(.*)$/m.exec(r.stdout)?.[1] ?? '')
  if (!dep) throw new InputError(`"${pkg}" in Debian ${suite} depends on no linux-image-<release> package: name the kernel image package itself`, undefined, 'kernel.package')
  events({ type: 'log', level: 'info', message: `${pkg} (${suite}) is ${dep} today` })
  return dep
}

/** Fetch and unpack a Debian kernel image package; returns a bootable artifact with its module tree. */
export async function prebuiltKernel(named: string, suite: string, events: EventSink): Promise<KernelArtifact> {
  const pkg = await resolveImagePackage(named, suite, events)
  // bump LAYOUT when the entry's contents change, so old entries are not mistaken for new ones
  const key = `${suite}_${pkg}_${LAYOUT}`
  const dir = await ensureEntry('prebuilt', key, async tmp => {
    // a kernel image package unpacks to ~400 MB, plus the .deb and the extracted vmlinux
    await requireFreeSpace(tmp, 1024 ** 3, `downloading ${pkg}`)
    events({ type: 'progress', variant: '', phase: 'kernel', message: `downloading ${pkg} (${suite})` })
    const dl = join(tmp, 'dl')
    await mkdir(dl)
    const { deb, version } = await aptDownload(pkg, suite, dl, events)
    const root = join(tmp, 'root')
    await runOk('dpkg-deb', ['-x', deb, root])
    // sid splits a kernel into linux-image (a metapackage), linux-binary (vmlinuz), linux-base (config)
    // and linux-modules: fetch the same-version linux-* dependencies into the same root
    if (!(await findKernelFiles(root))) {
      for (const dep of await splitKernelDeps(deb)) {
        events({ type: 'progress', variant: '', phase: 'kernel', message: `downloading ${dep} (part of ${pkg})` })
        const { deb: d } = await aptDownload(dep, suite, dl, events)
        await runOk('dpkg-deb', ['-x', d, root])
      }
    }
    await rm(dl, { recursive: true, force: true })
    const found = await findKernelFiles(root)
    if (!found) throw new InfraError(`${pkg} (and its linux-* dependencies) hold no vmlinuz and config`)
    const { release, vmlinuz, config, modRoot } = found
    await runOk('depmod', ['-b', modRoot, release])
    await copyFile(vmlinuz, join(tmp, 'bzImage'))
    await copyFile(config, join(tmp, 'kernel.config'))
    const pvh = /^CONFIG_PVH=y$/m.test(await readFile(join(tmp, 'kernel.config'), 'utf8'))
    if (pvh) await extractVmlinux(join(tmp, 'bzImage'), join(tmp, 'vmlinux'))
    const meta = {
      package: pkg,
      suite,
      version,
      release,
      modulesRoot: relative(tmp, modRoot),
      imageHash: await fileSha256(join(tmp, 'bzImage')),
    }
    await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 2) + '\n')
  })
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as {
    version: string
    release: string
    modulesRoot: string
    imageHash: string
  }
  const art: KernelArtifact = {
    id: `prebuilt:${suite}:${pkg}:${meta.version}`,
    bzImage: join(dir, 'bzImage'),
    release: meta.release,
    configPath: join(dir, 'kernel.config'),
    modulesRoot: join(dir, meta.modulesRoot),
    imageHash: meta.imageHash,
    description: `Debian ${suite} ${pkg} ${meta.version}${pkg === named ? '' : ` (from ${named})`}`,
  }
  if (existsSync(join(dir, 'vmlinux'))) art.pvhImage = join(dir, 'vmlinux')
  return art
}

/** vmlinuz, config and module root of an unpacked kernel: boot/ (bookworm) or lib/modules/<rel>/ (sid). */
export async function findKernelFiles(root: string): Promise<{ release: string; vmlinuz: string; config: string; modRoot: string } | undefined> {
  const boot = await readdir(join(root, 'boot')).catch(() => [] as string[])
  const vz = boot.find(f => f.startsWith('vmlinuz-'))
  const cf = boot.find(f => f.startsWith('config-'))
  if (vz && cf) {
    const release = vz.slice('vmlinuz-'.length)
    // Debian kernels ship modules under lib/ or usr/lib/ (merged /usr)
    const modRoot = existsSync(join(root, 'lib', 'modules', release)) ? root : join(root, 'usr')
    return { release, vmlinuz: join(root, 'boot', vz), config: join(root, 'boot', cf), modRoot }
  }
  for (const base of [root, join(root, 'usr')]) {
    for (const release of await readdir(join(base, 'lib', 'modules')).catch(() => [] as string[])) {
      const dir = join(base, 'lib', 'modules', release)
      if (existsSync(join(dir, 'vmlinuz')) && existsSync(join(dir, 'config')))
        return { release, vmlinuz: join(dir, 'vmlinuz'), config: join(dir, 'config'), modRoot: base }
    }
  }
  return undefined
}

/** The same-version linux-* packages a split kernel metapackage depends on. */
async function splitKernelDeps(deb: string): Promise<string[]> {
  const r = await runOk('dpkg-deb', ['-f', deb, 'Depends'])
  return r.stdout
    .split(',')
    .map(d => d.trim())
    .filter(d => /^linux-(binary|base|modules)-\S+ \(= /.test(d))
    .map(d => d.split(' ')[0]!)
}

const MAGICS: { magic: Buffer; cmd: string[] }[] = [
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), cmd: ['xz', '-dc', '--single-stream'] },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), cmd: ['zstd', '-dc'] },
  { magic: Buffer.from([0x1f, 0x8b, 0x08]), cmd: ['gzip', '-dc'] },
]

/** Pull the ELF vmlinux out of a bzImage (what scripts/extract-vmlinux does), checking the result is ELF. */
export async function extractVmlinux(bzImage: string, out: string): Promise<boolean> {
  const img = await readFile(bzImage)
  for (const { magic, cmd } of MAGICS) {
    let at = img.indexOf(magic)
    while (at >= 0) {
      const { stdout: data } = await runBuffer(cmd[0]!, cmd.slice(1), img.subarray(at))
      if (data.length > 1024 * 1024 && data.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
        await writeFile(out, data)
        return true
      }
      at = img.indexOf(magic, at + 1)
    }
  }
  return false
}

