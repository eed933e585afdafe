// What the host needs (Debian packages and the binaries that prove them), for doctor, setup and the
// guard every command runs before touching QEMU.
import { existsSync } from 'node:fs'
import { InfraError } from './errors.js'
import { run } from './util/exec.js'

export interface HostNeed {
  pkg: string
  /** any of these paths present = installed */
  bins: string[]
  why: string
  /** needed only for kernels built from source */
  source?: boolean
  optional?: boolean
}

export const HOST_NEEDS: HostNeed[] = [
  { pkg: 'qemu-system-x86', bins: ['/usr/bin/qemu-system-x86_64'], why: 'runs the guest' },
  { pkg: 'qemu-utils', bins: ['/usr/bin/qemu-img'], why: 'disk image tools' },
  { pkg: 'busybox-static', bins: ['/bin/busybox', '/usr/bin/busybox'], why: 'guest userland' },
  { pkg: 'cpio', bins: ['/usr/bin/cpio', '/bin/cpio'], why: 'inspecting guest images' },
  { pkg: 'kmod', bins: ['/usr/sbin/depmod', '/sbin/depmod'], why: 'module dependency data' },
  { pkg: 'ndctl', bins: ['/usr/bin/ndctl'], why: 'NVDIMM namespaces in the guest' },
  { pkg: 'daxctl', bins: ['/usr/bin/daxctl'], why: 'device-dax tools' },
  { pkg: 'e2fsprogs', bins: ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4'], why: 'ext4 in the guest' },
  { pkg: 'xfsprogs', bins: ['/usr/sbin/mkfs.xfs', '/sbin/mkfs.xfs'], why: 'xfs in the guest' },
  { pkg: 'musl-tools', bins: ['/usr/bin/musl-gcc'], why: 'small static test programs' },
  { pkg: 'gcc', bins: ['/usr/bin/gcc'], why: 'C compiler' },
  { pkg: 'libc6-dev', bins: ['/usr/include/stdio.h'], why: 'C headers' },
  { pkg: 'linux-libc-dev', bins: ['/usr/include/linux/vfio.h'], why: 'Linux uapi headers for the tests' },
  { pkg: 'xz-utils', bins: ['/usr/bin/xz'], why: 'kernel and module decompression' },
  { pkg: 'zstd', bins: ['/usr/bin/zstd'], why: 'zstd-compressed kernels and modules' },
  { pkg: 'git', bins: ['/usr/bin/git'], why: 'patch series' },
  { pkg: 'make', bins: ['/usr/bin/make'], why: 'kernel builds', source: true },
  { pkg: 'flex', bins: ['/usr/bin/flex'], why: 'kernel builds', source: true },
  { pkg: 'bison', bins: ['/usr/bin/bison'], why: 'kernel builds', source: true },
  { pkg: 'bc', bins: ['/usr/bin/bc'], why: 'kernel builds', source: true },
  { pkg: 'libelf-dev', bins: ['/usr/include/libelf.h', '/usr/include/gelf.h'], why: 'objtool', source: true },
  { pkg: 'libssl-dev', bins: ['/usr/include/openssl/ssl.h'], why: 'kernel build tools', source: true },
  { pkg: 'ccache', bins: ['/usr/bin/ccache'], why: 'fast rebuilds', source: true },
  { pkg: 'rsync', bins: ['/usr/bin/rsync'], why: 'headers_install', source: true },
  { pkg: 'linux-source-6.1', bins: ['/usr/src/linux-source-6.1.tar.xz'], why: 'the 6.1 source tree', source: true },
  { pkg: 'chromium', bins: ['/usr/bin/chromium'], why: 'report.html screenshot test', optional: true },
]

export function missingNeeds(o: { source: boolean; optional?: boolean }): HostNeed[] {
  return HOST_NEEDS.filter(n => (o.source || !n.source) && (o.optional || !n.optional) && !n.bins.some(b => existsSync(b)))
}

/** Guard for commands that boot: one clear line and exit 128 if the host lacks a tool. */
export function requireHost(o: { source: boolean }): void {
  const qemu = process.env.DAXRIG_QEMU
  if (qemu && !existsSync(qemu)) throw new InfraError(`${qemu} (DAXRIG_QEMU) not found`, 'run daxrig setup')
  const miss = missingNeeds({ source: o.source })
  if (miss.length) throw new InfraError(`missing host packages: ${miss.map(m => m.pkg).join(' ')}`, 'run daxrig setup')
}

export async function installPackages(pkgs: string[], log: (s: string) => void): Promise<void> {
  if (!pkgs.length) return
  if (process.getuid?.() !== 0) throw new InfraError(`installing ${pkgs.join(' ')} needs root`, `sudo apt-get install ${pkgs.join(' ')}`)
  log(`installing: ${pkgs.join(' ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const upd = await run('apt-get', ['-q', 'update'], { env })
  if (upd.exitCode !== 0) throw new InfraError(`apt-get update failed: ${upd.all.trim().split('\n').slice(-2).join(' | ')}`)
  const r = await run('apt-get', ['-q', '-y', '--no-install-recommends', 'install', ...pkgs], { env })
  if (r.exitCode !== 0) throw new InfraError(`apt-get install failed: ${r.all.trim().split('\n').slice(-3).join(' | ')}`)
}

export async function qemuVersion(qemu: string): Promise<string> {
  // a wrapper that never answers must not hang the run
  const r = await run(qemu, ['--version'], { timeout: 10_000 }).catch(() => undefined)
  return r?.stdout.split('\n')[0]?.replace(/^QEMU emulator version /, '') ?? 'missing'
}

export function defaultBios(): string | undefined {
  // qboot (qemu-system-data) boots ~0.5 s faster than SeaBIOS under TCG
  const q = '/usr/share/qemu/qboot.rom'
  return existsSync(q) ? q : undefined
}
