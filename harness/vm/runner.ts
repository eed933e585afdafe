// Run QEMU once: console (stdout) teed to console.log line by line, results on a file chardev, and two
// watchdogs — no output for N s (hang) and an overall limit — plus a boot limit for reaching the guest
// init. The runner only reports what happened; verdicts are decided in results/.
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { execa } from 'execa'
import { announce, run } from '../util/exec.js'
import { ConsoleBuffer } from './console-buffer.js'
import { registerChild } from '../util/children.js'
import { InfraError } from '../errors.js'
import { addToTimeline, emptyTimeline, guestEvent, type GuestEvent, type GuestTimeline } from './guest-progress.js'

export type WatchdogKind = 'boot' | 'no-output' | 'total'

export interface VmRunOptions {
  qemu: string
  args: string[]
  consolePath: string
  resultsPath: string
  /** the guest must write its first results line (setup status) within this many seconds */
  bootSec: number
  /** no console or results output for this long → hang */
  noOutputSec: number
  totalSec: number
  onConsoleLine?: (line: string) => void
  /** the guest's progress as it happens (harness/vm/guest-progress.ts) */
  onGuest?: (e: GuestEvent) => void
  signal?: AbortSignal | undefined
  /** the framing token given to the guest on its command line (results/channel.ts) */
  token?: string
}

/** The watchdogs of a run from a variant's timeouts, scaled (debug kernels), the total optionally overridden. */
export function watchdogSecs(t: { bootSec: number; noOutputSec: number; totalSec: number }, scale: number, totalSec?: number): Pick<VmRunOptions, 'bootSec' | 'noOutputSec' | 'totalSec'> {
  return { bootSec: t.bootSec * scale, noOutputSec: t.noOutputSec * scale, totalSec: (totalSec ?? t.totalSec) * scale }
}

export interface VmRun {
  exitCode: number | null
  signal: string | null
  watchdog: WatchdogKind | null
  console: string
  results: string
  ms: number
  /** ms from start to the first console byte, and to the first results byte */
  firstConsoleMs: number | null
  firstResultsMs: number | null
  /** QEMU's own complaints (stderr lines that are not guest console) */
  qemuErrors: string[]
  token?: string
  /** the rig ended QEMU itself (a watchdog, an interrupt): a signal death is then no surprise */
  killedByRig: boolean
  /** the host's kernel log or cgroup says its OOM killer ended QEMU */
  hostOom: string | null
  /** console bytes not kept in memory (the flood cap of ConsoleBuffer); console.log has everything */
  consoleDroppedBytes: number
  /** the guest's progress marks (init up, each program, power-down) */
  guest: GuestTimeline
}

/** The results channel is read into memory up to this size; past it only KTAP and framing lines are kept. */
export const CHANNEL_CAP_BYTES = 64 * 1024 * 1024

async function readChannel(path: string): Promise<string> {
  const size = await stat(path).then(s => s.size, () => 0)
  if (size <= CHANNEL_CAP_BYTES) return readFile(path, 'utf8').catch(() => '')
  const kept: string[] = []
  let bytes = 0
  let pending = ''
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? ''
    for (const l of lines) {
      bytes += l.length + 1
      // past the cap: drop diagnostics, keep what decides results (version, plan, result and framing lines)
      if (bytes <= CHANNEL_CAP_BYTES || !/^\s/.test(l) || /^(?:K?TAP version|1\.\.|ok\b|not ok\b)/.test(l.trimStart())) kept.push(l)
    }
  }
  if (pending) kept.push(pending)
  return kept.join('\n')
}

/** Did the host's OOM killer end this pid? Its kernel log says so (root can read it). */
async function hostOomFor(pid: number): Promise<string | null> {
  const r = await run('dmesg', ['--ctime'])
  if (r.exitCode !== 0) return null
  const line = r.stdout
    .split('\n')
    .reverse()
    .find(l => new RegExp(`Killed process ${pid}\\b|oom-kill:.*\\bpid=${pid}\\b`).test(l))
  return line ? line.trim() : null
}

export async function runVm(o: VmRunOptions): Promise<VmRun> {
  const t0 = Date.now()
  announce([o.qemu, ...o.args])
  const out = createWriteStream(o.consolePath)
  const child = execa(o.qemu, o.args, {
    reject: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    cleanup: true,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
    forceKillAfterDelay: 2000,
  })
  if (!child.pid) {
    const r = await child
    throw new InfraError(`cannot start ${o.qemu}: ${(r as { message?: string }).message ?? 'spawn failed'}`, 'run daxrig doctor')
  }
  const unregister = registerChild({ pid: child.pid, group: false, name: 'qemu' })

  let lastOutput = Date.now()
  let firstConsoleMs: number | null = null
  let firstResultsMs: number | null = null
  let watchdog: WatchdogKind | null = null
  const qemuErrors: string[] = []
  let pending = ''
  const consoleBuf = new ConsoleBuffer()
  let killedByRig = false
  const guest = emptyTimeline()
  const consoleLine = (raw: string) => {
    const l = raw.replace(/\r$/, '')
    o.onConsoleLine?.(l)
    const e = guestEvent(l)
    if (e) {
      addToTimeline(guest, e)
      o.onGuest?.(e)
    }
  }
  o.signal?.addEventListener('abort', () => (killedByRig = true), { once: true })

  child.stdout!.on('data', (b: Buffer) => {
    lastOutput = Date.now()
    firstConsoleMs ??= Date.now() - t0
    const s = b.toString('utf8')
    // backpressure: a guest that prints faster than the disk takes it waits, instead of piling up in memory
    if (!out.write(s)) {
      child.stdout!.pause()
      out.once('drain', () => child.stdout!.resume())
    }
    pending += s
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const l of lines) {
      consoleBuf.push(l)
      consoleLine(l)
    }
  })
  // a line can arrive in two chunks (seen on a loaded host: "qemu-system-x86_64: " then the reason), so lines
  // are cut at newlines only, like the console's
  let errPending = ''
  child.stderr!.on('data', (b: Buffer) => {
    const lines = (errPending + b.toString('utf8')).split('\n')
    errPending = lines.pop() ?? ''
    for (const l of lines) if (l) qemuErrors.push(l)
  })

  let resultsSize = 0
  const timer = setInterval(() => {
    void stat(o.resultsPath).then(
      s => {
        if (s.size !== resultsSize) {
          resultsSize = s.size
          lastOutput = Date.now()
          firstResultsMs ??= Date.now() - t0
        }
      },
      () => undefined,
    )
    const now = Date.now()
    let fire: WatchdogKind | null = null
    if (now - t0 > o.totalSec * 1000) fire = 'total'
    else if (firstResultsMs === null && now - t0 > o.bootSec * 1000) fire = 'boot'
    else if (now - lastOutput > o.noOutputSec * 1000) fire = 'no-output'
    if (fire && !watchdog) {
      watchdog = fire
      killedByRig = true
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 2000).unref()
    }
  }, 200)

  const r = await child
  clearInterval(timer)
  unregister()
  if (errPending) qemuErrors.push(errPending)
  if (pending) {
    consoleBuf.push(pending)
    consoleLine(pending)
  }
  await new Promise<void>(res => out.end(res))
  const results = await readChannel(o.resultsPath)
  if (results.length && firstResultsMs === null) firstResultsMs = Date.now() - t0
  const signal = (r.signal as string | undefined) ?? null
  // QEMU exits 0 on SIGTERM/SIGINT/SIGHUP and says so on stderr: a polite kill from outside is still a kill
  const politeKill = qemuErrors.some(l => /terminating on signal \d+/.test(l))
  const hostOom = signal === 'SIGKILL' && !killedByRig ? await hostOomFor(child.pid) : null
  return {
    exitCode: r.exitCode ?? null,
    signal: signal ?? (politeKill && !killedByRig ? 'polite' : null),
    ...(o.token ? { token: o.token } : {}),
    killedByRig,
    hostOom,
    consoleDroppedBytes: consoleBuf.droppedBytes,
    guest,
    watchdog,
    console: consoleBuf.text(),
    results,
    ms: Date.now() - t0,
    firstConsoleMs,
    firstResultsMs,
    qemuErrors,
  }
}
