// Live task list on a terminal (listr2): one task per variant, its title showing the current phase.
import { Listr } from 'listr2'
import type { EventSink, RigEvent } from '../events.js'
import { sanitizeTerminal } from '../results/text.js'

export interface LiveJob<T> {
  name: string
  run: (sink: EventSink) => Promise<T>
}

export async function runLive<T>(jobs: LiveJob<T>[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length)
  const list = new Listr(
    jobs.map((j, i) => ({
      title: j.name,
      task: async (_ctx: unknown, task: { title: string; output: string }) => {
        const t0 = Date.now()
        let phase = 'starting'
        const sink: EventSink = (e: RigEvent) => {
          if (e.type === 'phase-start') phase = e.phase
          if (e.type === 'progress') task.output = sanitizeTerminal(e.message)
          if (e.type === 'guest' && e.event.kind !== 'power-down') task.output = `guest: ${sanitizeTerminal(e.event.text)}`
          if (e.type === 'phase-start' || e.type === 'phase-end') task.title = `${j.name} — ${phase} (${((Date.now() - t0) / 1000).toFixed(0)} s)`
          if (e.type === 'variant-end') task.title = `${j.name} — ${e.verdict} (${(e.ms / 1000).toFixed(1)} s)`
        }
        results[i] = await j.run(sink)
      },
    })),
    { concurrent: concurrency, exitOnError: false, rendererOptions: { collapseSubtasks: false } },
  )
  await list.run()
  return results
}
