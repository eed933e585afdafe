// Renderers for the runner's event stream: plain timestamped lines (CI, pipes) or a live task list
// (listr2) on a terminal. Neither decides anything; they only show events.
import type { EventSink, RigEvent } from '../events.js'
import { sanitizeTerminal } from '../results/text.js'

export function isInteractive(): boolean {
  return !!process.stderr.isTTY && !process.env.CI
}

/** Plain lines on stderr: one per phase start/end and per variant result. */
export function plainSink(o: { verbose: boolean; stream?: NodeJS.WritableStream }): EventSink {
  const w = o.stream ?? process.stderr
  const t0 = Date.now()
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`
  return (e: RigEvent) => {
    switch (e.type) {
      case 'phase-start':
        w.write(`${stamp()} ${e.variant}: ${e.phase}${e.detail ? ` (${e.detail})` : ''}\n`)
        break
      case 'phase-end':
        w.write(`${stamp()} ${e.variant}: ${e.phase} done in ${(e.ms / 1000).toFixed(1)} s\n`)
        break
      case 'progress':
        w.write(`${stamp()} ${e.variant ? e.variant + ': ' : ''}${e.message}\n`)
        break
      case 'console':
        if (o.verbose) w.write(`${e.variant} | ${sanitizeTerminal(e.line)}\n`)
        break
      case 'guest':
        // with --verbose the console line itself was shown already
        if (!o.verbose && e.event.kind !== 'power-down') w.write(`${stamp()} ${e.variant}: guest: ${sanitizeTerminal(e.event.text)}\n`)
        break
      case 'variant-end':
        w.write(`${stamp()} ${e.variant}: ${e.verdict.toUpperCase()} — ${e.summary} (${(e.ms / 1000).toFixed(1)} s)\n`)
        break
      case 'log':
        w.write(`${stamp()} ${e.level === 'info' ? '' : e.level + ': '}${e.message}\n`)
        break
    }
  }
}
