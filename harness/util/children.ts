// Registry of live child processes (QEMU, make) so Ctrl-C / SIGTERM can stop them all, including
// process groups (make -j spawns a tree; execa 9 only kills the direct child).
export interface LiveChild {
  pid: number
  /** kill the whole process group (the child was spawned detached) */
  group: boolean
  name: string
}

const live = new Map<number, LiveChild>()
const cleanups = new Set<() => Promise<void> | void>()

export function registerChild(c: LiveChild): () => void {
  live.set(c.pid, c)
  return () => live.delete(c.pid)
}

/** Work to do on interrupt (flush logs, write partial results). */
export function onInterrupt(fn: () => Promise<void> | void): () => void {
  cleanups.add(fn)
  return () => cleanups.delete(fn)
}

export function liveChildren(): LiveChild[] {
  return [...live.values()]
}

function signalChild(c: LiveChild, sig: NodeJS.Signals): void {
  try {
    process.kill(c.group ? -c.pid : c.pid, sig)
  } catch {
    /* already gone */
  }
}

/** Stop every live child: SIGTERM, then SIGKILL after a grace period. */
export async function killAll(graceMs = 2000): Promise<void> {
  const kids = liveChildren()
  for (const c of kids) signalChild(c, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && kids.some(c => pidAlive(c.pid))) await new Promise(r => setTimeout(r, 50))
  for (const c of kids) if (pidAlive(c.pid)) signalChild(c, 'SIGKILL')
}

/** Is PID running? (EPERM: it is, as someone else's process.) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

let interrupted: NodeJS.Signals | null = null

/** The signal that is stopping this process, if any: work ending now was killed, not failed. */
export function isInterrupted(): NodeJS.Signals | null {
  return interrupted
}

let installed = false
/** Install SIGINT/SIGTERM handlers: stop children, run cleanups, exit 130/143. */
export function installSignalHandlers(): void {
  if (installed) return
  installed = true
  let stopping = false
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    // set before anything is killed, so whatever ends next knows why
    interrupted = sig
    process.stderr.write(`\ndaxrig: ${sig}: stopping ${live.size} child process(es), saving partial results\n`)
    void (async () => {
      await killAll()
      for (const fn of cleanups) await Promise.resolve(fn()).catch(() => undefined)
      process.exit(sig === 'SIGINT' ? 130 : 143)
    })()
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}
