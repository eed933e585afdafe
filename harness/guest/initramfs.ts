// Assemble the guest initramfs: init + plan, busybox, ndctl/mkfs and their libraries, the kernel
// modules the machine needs, and the static test programs. Content-addressed in the cache.
import { readFile, writeFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ensureEntry, hashValue } from '../cache/store.js'
import { UntestableError } from '../errors.js'
import { projectRoot } from '../paths.js'
import { runBuffer } from '../util/exec.js'
import type { KernelArtifact, Variant } from '../types.js'
import { writeCpio, type CpioEntry } from './cpio.js'
import { loadOrder, parseModulesDep, wantedModules, type LoadStep } from './modules.js'
import { guestModulePath, planScript, type PlanOptions } from './plan.js'
import { BUSYBOX, busyboxEntries, findHost, guestTools, toolEntries } from './userland.js'
import { buildTest } from './testbin.js'

export interface GuestImage {
  path: string
  key: string
  plan: string
  modules: LoadStep[]
}

async function moduleSteps(k: KernelArtifact, v: Variant): Promise<LoadStep[]> {
  if (!k.modulesRoot) return [] // built by the rig: everything the machine needs is built in
  const dir = join(k.modulesRoot, 'lib', 'modules', k.release)
  const dep = await readFile(join(dir, 'modules.dep'), 'utf8')
  const builtin = await readFile(join(dir, 'modules.builtin'), 'utf8').catch(() => '')
  const { steps, missing } = loadOrder(parseModulesDep(dep, builtin), wantedModules(v.machine))
  if (missing.length)
    throw new UntestableError(`kernel ${k.release} has neither module nor built-in for: ${missing.join(', ')}`, 'config')
  return steps
}

async function moduleData(k: KernelArtifact, s: LoadStep): Promise<Buffer> {
  const file = join(k.modulesRoot!, 'lib', 'modules', k.release, s.path)
  // busybox insmod cannot be relied on for compressed modules: decompress on the host
  const dec = file.endsWith('.xz') ? 'xz' : file.endsWith('.zst') ? 'zstd' : undefined
  if (dec) {
    const r = await runBuffer(dec, ['-dc', file])
    if (r.exitCode !== 0) throw new UntestableError(`cannot decompress module ${file}`, 'config')
    return r.stdout
  }
  return readFile(file)
}

async function fileId(p: string): Promise<string> {
  const s = await stat(p)
  return `${p}:${s.size}:${s.mtimeMs}`
}

export async function buildImage(k: KernelArtifact, v: Variant, opts: PlanOptions = {}): Promise<GuestImage> {
  const modules = await moduleSteps(k, v)
  const plan = planScript(v, modules, opts)
  const init = await readFile(join(projectRoot(), 'images', 'init.sh'))
  const tests = await Promise.all(v.tests.map(async t => ({ name: t.name, bin: await buildTest(t.source) })))
  // the results-channel relay is a static program of the rig's own, built like the tests
  const relay = await buildTest(join(projectRoot(), 'images', 'relay.c'))
  const hostFiles = [findHost(BUSYBOX, 'busybox-static'), ...guestTools(v.machine).map(t => findHost(t.host, t.pkg))]
  const key = hashValue({
    v: 1,
    init: init.toString(),
    plan,
    kernel: k.id,
    modules: modules.map(m => m.path),
    tests: tests.map(t => t.bin),
    relay,
    host: await Promise.all(hostFiles.map(fileId)),
  })
  const dir = await ensureEntry('images', key.slice(0, 32), async tmp => {
    const entries: CpioEntry[] = [
      { path: 'init', type: 'file', data: init, mode: 0o755 },
      { path: 'etc/daxrig/plan.sh', type: 'file', data: Buffer.from(plan) },
      { path: 'dev/console', type: 'chardev', major: 5, minor: 1 },
      { path: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n') },
      { path: 'etc/group', type: 'file', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
      ...(await busyboxEntries()),
      ...(await toolEntries(v.machine)),
    ]
    for (const m of modules) entries.push({ path: guestModulePath(m), type: 'file', data: await moduleData(k, m) })
    for (const t of tests) entries.push({ path: `tests/${t.name}`, type: 'file', data: await readFile(t.bin), mode: 0o755 })
    entries.push({ path: 'bin/daxrig-relay', type: 'file', data: await readFile(relay), mode: 0o755 })
    await writeFile(join(tmp, 'initramfs.cpio'), writeCpio(entries))
    await writeFile(join(tmp, 'plan.sh'), plan)
  })
  return { path: join(dir, 'initramfs.cpio'), key, plan, modules }
}
