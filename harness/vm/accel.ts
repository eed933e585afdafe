// Accelerator probe. /dev/kvm opening proves nothing on these hosts (guests hang after the decompressor),
// so KVM is used only if a short boot reaches the kernel's first lines. Cached per host boot.
import { open, readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { cacheRoot } from '../cache/store.js'
import { announce } from '../util/exec.js'
import { baseArgs, type Accel } from './qemu-args.js'

export interface AccelChoice {
  accel: Accel
  why: string
  cached: boolean
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim()
}

// A working KVM prints the kernel banner well under a second after QEMU starts (no decompression to speak of);
// 4 s leaves a wide margin for a loaded host, and a wrong "no" only costs speed (TCG), never a verdict.
export async function probeAccel(qemu: string, kernel: string, watchdogSec = 4): Promise<AccelChoice> {
  const file = join(cacheRoot(), 'accel.json')
  const id = await bootId()
  const cached = await readFile(file, 'utf8').then(s => JSON.parse(s) as { bootId: string; accel: Accel; why: string }, () => undefined)
  if (cached && cached.bootId === id) return { accel: cached.accel, why: cached.why, cached: true }
  const choice = await probeOnce(qemu, kernel, watchdogSec)
  await mkdir(cacheRoot(), { recursive: true })
  await writeFile(file, JSON.stringify({ bootId: id, ...choice }) + '\n')
  return { ...choice, cached: false }
}

async function probeOnce(qemu: string, kernel: string, watchdogSec: number): Promise<{ accel: Accel; why: string }> {
  try {
    const fh = await open('/dev/kvm', 'r+')
    await fh.close()
  } catch (e) {
    return { accel: 'tcg', why: `/dev/kvm not usable (${(e as NodeJS.ErrnoException).code ?? 'error'})` }
  }
  // a run's QEMU base (no devices, no network, no reboot) with only a console: does KVM get a kernel to print?
  const args = [...baseArgs({}), '-accel', 'kvm', '-cpu', 'max', '-m', '256M',
    '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 earlyprintk=serial']
  announce([qemu, ...args])
  const t0 = Date.now()
  const child = execa(qemu, args, { reject: false, stdin: 'ignore', buffer: false, forceKillAfterDelay: 1000 })
  let seen = ''
  let errText = ''
  child.stderr?.on('data', (b: Buffer) => {
    errText += b.toString()
  })
  let exited = false
  const ok = await new Promise<boolean>(resolve => {
    const timer = setTimeout(() => resolve(false), watchdogSec * 1000)
    child.stdout?.on('data', (b: Buffer) => {
      seen += b.toString()
      if (/Linux version|\[\s+0\.0+\]/.test(seen)) {
        clearTimeout(timer)
        resolve(true)
      }
    })
    void child.then(() => {
      exited = true
      clearTimeout(timer)
      resolve(/Linux version|\[\s+0\.0+\]/.test(seen))
    })
  })
  // read before the kill: the kill makes the child exit too, and a hung guest must not read as "QEMU quit"
  const quit = exited
  child.kill('SIGKILL')
  await child
  const s = ((Date.now() - t0) / 1000).toFixed(1)
  if (ok) return { accel: 'kvm', why: `KVM boot reached the kernel banner in ${s} s` }
  if (quit) {
    const msg = errText.trim().split('\n')[0] ?? ''
    return { accel: 'tcg', why: `/dev/kvm opens but QEMU with -accel kvm quit after ${s} s${msg ? `: ${msg}` : ''}` }
  }
  const last = seen.trim().split('\n').at(-1)?.trim()
  return {
    accel: 'tcg',
    why: `/dev/kvm opens but a KVM boot printed no kernel line in ${watchdogSec} s${last ? ` (last line: "${last.slice(0, 60)}")` : ''}: the guest hangs`,
  }
}
