// From what happened to the process exit code: commander's own errors, the rig's errors, and the narrower
// contract of `daxrig check` under `git bisect run`.
import { EXIT, exitCodeFor, InfraError, InputError } from '../errors.js'

/** commander's errors (help shown, unknown option, bad argument...): 0 for help, 2 for the rest; others undefined. */
export function commanderExit(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | undefined)?.code
  if (typeof code !== 'string' || !code.startsWith('commander.')) return undefined
  return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? EXIT.ok : EXIT.badInput
}

/** A failure the commands threw: its exit code and the line for stderr (the stack too under DAXRIG_DEBUG). */
export function failure(e: unknown): { code: number; message: string } {
  const msg = e instanceof Error ? e.message : String(e)
  const kind = e instanceof InfraError ? 'rig failure' : 'error'
  let message = `daxrig: ${kind}: ${msg}\n`
  if (!(e instanceof InputError || e instanceof InfraError) && process.env.DAXRIG_DEBUG) message += String((e as Error).stack) + '\n'
  return { code: exitCodeFor(e), message }
}

/**
 * Under `daxrig check` (what `git bisect run` calls) only verdicts about the kernel use 0, 1 and 125: git counts
 * every code from 1 to 127 but 125 as "bad", so bad input (2) would blame a commit. Anything else aborts the
 * bisection with 128 or above (interrupts keep 130/143).
 */
export function forBisectRun(argv: string[], code: number): number {
  if (argv.find(a => !a.startsWith('-')) !== 'check') return code
  if (code === EXIT.ok || code === EXIT.regression || code === EXIT.untestable || code >= 128) return code
  process.stderr.write(`daxrig check: not a verdict about the kernel (exit ${code}): exiting ${EXIT.infra} so that git bisect run stops instead of marking this commit bad\n`)
  return EXIT.infra
}
