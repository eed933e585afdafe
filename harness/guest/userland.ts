// Host tools copied into the guest: busybox-static for the shell userland, and the dynamic ndctl/mkfs
// binaries together with the shared libraries `ldd` says they need.
import { readFile, realpath } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { InfraError } from '../errors.js'
import { run } from '../util/exec.js'
import type { MachineSpec } from '../types.js'
import type { CpioEntry } from './cpio.js'

/** Host binaries the guest needs, by guest path. */
export const GUEST_TOOLS: { guest: string; host: string[]; pkg: string }[] = [
  { guest: '/usr/sbin/ndctl', host: ['/usr/bin/ndctl', '/bin/ndctl'], pkg: 'ndctl' },
  { guest: '/usr/sbin/mkfs.ext4', host: ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4'], pkg: 'e2fsprogs' },
  { guest: '/usr/sbin/mkfs.xfs', host: ['/usr/sbin/mkfs.xfs', '/sbin/mkfs.xfs'], pkg: 'xfsprogs' },
]

/** ndctl's `cxl` (same Debian package): only a machine with a CXL device carries it and its libraries. */
export const CXL_TOOL = { guest: '/usr/sbin/cxl', host: ['/usr/bin/cxl', '/bin/cxl'], pkg: 'ndctl' }

/** The host binaries this machine's guest needs. */
export function guestTools(m: MachineSpec): typeof GUEST_TOOLS {
  return m.cxl.length ? [...GUEST_TOOLS, CXL_TOOL] : GUEST_TOOLS
}

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox']

export function findHost(cands: string[], pkg: string): string {
  const f = cands.find(c => existsSync(c))
  if (!f) throw new InfraError(`${cands[0]} not found (Debian package ${pkg})`, 'run daxrig setup')
  return f
}

/** Parse `ldd` output into the library paths it resolved (interpreter included). */
export function parseLdd(out: string): string[] {
  const libs: string[] = []
  for (const line of out.split('\n')) {
    const arrow = /=>\s*(\/\S+)/.exec(line)
    const bare = /^\s*(\/\S+)\s+\(0x/.exec(line)
    const p = arrow?.[1] ?? bare?.[1]
    if (p && !libs.includes(p)) libs.push(p)
  }
  return libs
}

export async function busyboxEntries(): Promise<CpioEntry[]> {
  const bb = findHost(BUSYBOX, 'busybox-static')
  const ldd = await run('ldd', [bb])
  if (!/not a dynamic executable|statically linked/.test(ldd.all))
    throw new InfraError(`${bb} is dynamically linked; the guest needs busybox-static`, 'run daxrig setup')
  const list = await run(bb, ['--list-full'])
  if (list.exitCode !== 0) throw new InfraError(`${bb} --list-full failed`)
  const entries: CpioEntry[] = [{ path: 'bin/busybox', type: 'file', data: await readFile(bb), mode: 0o755 }]
  for (const applet of list.stdout.split('\n').filter(Boolean)) {
    if (applet === 'bin/busybox' || applet === 'init' || applet.endsWith('/init')) continue
    // real tools win over busybox applets of the same name
    if (GUEST_TOOLS.some(t => t.guest.slice(1) === applet)) continue
    entries.push({ path: applet, type: 'symlink', target: '/bin/busybox' })
  }
  return entries
}

export async function toolEntries(m: MachineSpec): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = []
  const libs = new Set<string>()
  for (const t of guestTools(m)) {
    const host = findHost(t.host, t.pkg)
    entries.push({ path: t.guest, type: 'file', data: await readFile(await realpath(host)), mode: 0o755 })
    const ldd = await run('ldd', [host])
    if (ldd.exitCode !== 0 && !/not a dynamic/.test(ldd.all)) throw new InfraError(`ldd ${host} failed: ${ldd.all.trim()}`)
    for (const l of parseLdd(ldd.stdout)) libs.add(l)
  }
  for (const l of [...libs].sort()) {
    entries.push({ path: l, type: 'file', data: await readFile(await realpath(l)), mode: 0o755 })
  }
  if (existsSync('/etc/mke2fs.conf')) entries.push({ path: 'etc/mke2fs.conf', type: 'file', data: await readFile('/etc/mke2fs.conf') })
  return entries
}
