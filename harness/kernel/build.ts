// Running kbuild: reproducible, ccache'd, in its own process group (so an interrupt kills the whole make tree), with progress.
import { createWriteStream } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { InfraError, UntestableError } from '../errors.js'
import { cacheRoot } from '../cache/store.js'
import { announce } from '../util/exec.js'
import { registerChild } from '../util/children.js'
import { execa } from 'execa'
import type { EventSink } from '../events.js'

/** Pinned so that unchanged inputs give byte-identical images (and ccache hits across trees). */
export const REPRODUCIBLE_ENV = {
  KBUILD_BUILD_TIMESTAMP: 'Thu Jan  1 00:00:00 UTC 2015',
  KBUILD_BUILD_USER: 'daxrig',
  KBUILD_BUILD_HOST: 'daxrig',
  KBUILD_BUILD_VERSION: '1',
} as const

export function ccacheDir(): string {
  return join(cacheRoot(), 'ccache')
}

/**
 * make arguments shared by config and build steps. The compiler must be the same in both, or kconfig
 * sees a different CC_VERSION_TEXT and regenerates the config. LOCALVERSION= (set, empty) keeps
 * setlocalversion from appending "+" for our git-managed source tree.
 */
export function makeArgs(src: string, out: string, targets: string[], jobs = cpus().length): string[] {
  return ['-C', src, `O=${out}`, `-j${jobs}`, 'ARCH=x86_64', 'CC=ccache gcc', 'HOSTCC=gcc', 'LOCALVERSION=', ...targets]
}

export function buildEnv(): Record<string, string> {
  return { ...REPRODUCIBLE_ENV, CCACHE_DIR: ccacheDir(), CCACHE_BASEDIR: cacheRoot(), LC_ALL: 'C' }
}

/**
 * The compiler's complaints, without the thousands of CC lines around them: each `error:` line with two
 * lines before (the "In function" context) and the caret lines after, plus make's own `***` stops.
 */
export function compilerErrors(log: string, max = 40): string {
  const lines = log.split('\n')
  const keep = new Set<number>()
  lines.forEach((l, i) => {
    if (/\berror:|\bfatal error:|undefined reference to|^make(\[\d+\])?: \*\*\*|^ld: /.test(l)) {
      for (let j = Math.max(0, i - 2); j <= Math.min(lines.length - 1, i + 3); j++) keep.add(j)
    }
  })
  const idx = [...keep].sort((a, b) => a - b)
  const out: string[] = []
  let prev = -2
  for (const i of idx) {
    // context lines that are other build steps are noise
    const l = lines[i] ?? ''
    if (/^\s+(CC|LD|AR|AS|CHK|UPD|HOSTCC|GEN|CALL|SYNC|OBJCOPY|VDSO\w*|MKPIGGY|ZOFFSET|RELOCS)\s/.test(l)) continue
    if (i !== prev + 1 && out.length) out.push('...')
    out.push(l)
    prev = i
  }
  return (out.length > max ? [...out.slice(0, max), `... (${out.length - max} more lines)`] : out).join('\n')
}

/** Counts `CC` lines in streamed make output; the only progress kbuild offers. */
export function countCompiles(chunk: string): number {
  return (chunk.match(/^\s+CC\s/gm) ?? []).length
}

const active = new Set<number>()
/** groups we killed ourselves: make then exits 2 ("Terminated"), which must not read as a broken kernel */
const aborted = new Set<number>()

/** Kill every running make process group (SIGINT/SIGTERM handlers call this). */
export function abortBuilds(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const pgid of active) {
    aborted.add(pgid)
    try {
      process.kill(-pgid, signal)
    } catch {
      // already gone
    }
  }
}

/**
 * make runs detached (its own process group), so a Ctrl-C on the terminal does not reach it. The make group
 * is always in the rig's child registry (the CLI's signal handler kills registered groups). When nobody
 * handles signals (library use, scripts), SIGINT/SIGTERM kill the make group here and are re-raised so the
 * default exit still happens; a plain exit kills it too, so no compile tree outlives the rig.
 */
function guardSignals(pid: number): () => void {
  const unregister = registerChild({ pid, group: true, name: 'make' })
  const onExit = (): void => abortBuilds('SIGKILL')
  process.once('exit', onExit)
  if (process.listenerCount('SIGINT') > 0 || process.listenerCount('SIGTERM') > 0)
    return () => {
      unregister()
      process.off('exit', onExit)
    }
  const onSignal = (sig: NodeJS.Signals): void => {
    abortBuilds('SIGTERM')
    release()
    process.kill(process.pid, sig)
  }
  const release = (): void => {
    unregister()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', onExit)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return release
}

export interface MakeResult {
  ms: number
  compiles: number
}

/**
 * Run make with output to `logFile`. A failure is UntestableError('build') carrying only the compiler's
 * error lines; the full log stays in `logFile`.
 */
export async function runMake(
  src: string,
  out: string,
  targets: string[],
  logFile: string,
  opts: { events?: EventSink; variant?: string; phase?: string; jobs?: number } = {},
): Promise<MakeResult> {
  const args = makeArgs(src, out, targets, opts.jobs)
  const env = buildEnv()
  announce(['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'make', ...args])
  const start = Date.now()
  const log = createWriteStream(logFile)
  let compiles = 0
  let text = ''
  const child = execa('make', args, { env, reject: false, all: true, detached: true, stdin: 'ignore', buffer: false })
  if (child.pid) active.add(child.pid)
  const releaseSignals = child.pid ? guardSignals(child.pid) : () => undefined
  const timer = setInterval(() => {
    opts.events?.({
      type: 'progress',
      variant: opts.variant ?? '',
      phase: opts.phase ?? 'build',
      message: `${Math.round((Date.now() - start) / 1000)}s, ${compiles} files compiled`,
    })
  }, 5000)
  child.all?.on('data', (d: Buffer) => {
    const s = d.toString()
    compiles += countCompiles(s)
    log.write(d)
    // keep only the tail in memory; the error lines come at the end
    text = (text + s).slice(-400_000)
  })
  const r = await child.catch(e => e as { exitCode?: number; signal?: string; code?: string; message?: string })
  clearInterval(timer)
  releaseSignals()
  if (child.pid) active.delete(child.pid)
  await new Promise<void>(res => log.end(() => res()))
  const ms = Date.now() - start
  if ((r as { code?: string }).code === 'ENOENT') throw new InfraError('make not found', 'apt-get install build-essential')
  // killed by us, by the CLI's handler (registry) or by the host (OOM): not the kernel's fault.
  // Exit 130/137/143 of a recipe is a shell whose command died of SIGINT/SIGKILL/SIGTERM.
  const interrupted =
    (child.pid !== undefined && aborted.delete(child.pid)) || /^make(\[\d+\])?: \*\*\* .*(Terminated|Interrupt|Killed|Error 1(?:30|37|43))$/m.test(text)
  if (r.signal || interrupted) throw new InfraError(`make was killed by ${r.signal ?? 'an abort'} after ${Math.round(ms / 1000)}s`, 'build interrupted')
  if (r.exitCode !== 0) {
    const excerpt = compilerErrors(text)
    throw new UntestableError(
      `kernel build failed (make ${targets.join(' ')}, exit ${r.exitCode}); full log: ${logFile}`,
      'build',
      excerpt || text.split('\n').slice(-20).join('\n'),
    )
  }
  return { ms, compiles }
}
