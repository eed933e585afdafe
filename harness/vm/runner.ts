// Run QEMU once: console (stdout) teed to console.log line by line, results on a file chardev, and two
// watchdogs — no output for N s (hang) and an overall limit — plus a boot limit for reaching the guest
// init. The runner only reports what happened; verdicts are decided in results/.
import { createWriteStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { execa } from 'execa'
import { announce } from '../util/exec.js'
import { registerChild } from '../util/children.js'
import { InfraError } from '../errors.js'

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
  signal?: AbortSignal | undefined
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
  const consoleChunks: string[] = []

  child.stdout!.on('data', (b: Buffer) => {
    lastOutput = Date.now()
    firstConsoleMs ??= Date.now() - t0
    const s = b.toString('utf8')
    consoleChunks.push(s)
    out.write(s)
    pending += s
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const l of lines) o.onConsoleLine?.(l.replace(/\r$/, ''))
  })
  child.stderr!.on('data', (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n').filter(Boolean)) qemuErrors.push(l)
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
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 2000).unref()
    }
  }, 200)

  const r = await child
  clearInterval(timer)
  unregister()
  if (pending) {
    o.onConsoleLine?.(pending)
  }
  await new Promise<void>(res => out.end(res))
  const results = await readFile(o.resultsPath, 'utf8').catch(() => '')
  if (results.length && firstResultsMs === null) firstResultsMs = Date.now() - t0
  return {
    exitCode: r.exitCode ?? null,
    signal: (r.signal as string | undefined) ?? null,
    watchdog,
    console: consoleChunks.join(''),
    results,
    ms: Date.now() - t0,
    firstConsoleMs,
    firstResultsMs,
    qemuErrors,
  }
}
