// Glue between the VM runner and results/: parse the results channel, classify the console, decide.
import type { CaseOutcome, ConsoleFinding, RunVerdict, Variant } from '../types.js'
import type { VmRun } from '../vm/runner.js'
import { channelNotes, parseResultsChannel, unframe } from '../results/channel.js'
import { classifyConsole } from '../results/classify.js'
import { computeVerdict } from '../results/verdict.js'

export interface Evaluation {
  cases: CaseOutcome[]
  findings: ConsoleFinding[]
  verdict: RunVerdict
  summary: string
  /** what the run showed that is not a verdict: processes left behind, channel noise, a capped console */
  notes: string[]
  /** the results channel as plain KTAP (the framing token removed, noise dropped): results.ktap */
  ktap: string
  /** init reported its setup: the kernel got as far as userspace */
  reachedInit: boolean
}

/** The expectations in force for a series prefix (undefined = the whole series). */
export function rulesFor(v: Variant, upto: number | undefined): Variant['expect'] {
  return v.expect.filter(r => r.from === undefined || upto === undefined || upto >= r.from)
}

/**
 * How QEMU ended when that, not the guest, decides the run: killed by a signal the rig did not send (the host's
 * OOM killer, a CI runner's cleanup, a user), or QEMU's own error exit (a bad option, a backing file it cannot
 * open). None of these says anything about the kernel under test, so they are `infra`, never `crash`.
 */
export function qemuFault(vm: VmRun): string | null {
  if (vm.killedByRig || vm.watchdog) return null
  const said = vm.qemuErrors.slice(0, 2).join(' | ')
  if (vm.hostOom) return `QEMU was killed by the host's OOM killer (${vm.hostOom})`
  if (vm.signal === 'polite') return `QEMU was stopped from outside the rig: ${vm.qemuErrors.find(l => /terminating on signal/.test(l)) ?? 'a signal'}`
  if (vm.signal) return `QEMU was killed by ${vm.signal}, which daxrig did not send (the host's OOM killer, a CI runner's cleanup or a user)`
  if (vm.exitCode !== 0 && vm.exitCode !== null) {
    if (vm.firstConsoleMs === null && !vm.results) return `QEMU failed to start (exit ${vm.exitCode}): ${said || 'no message'}`
    return `QEMU exited with status ${vm.exitCode} (its own error, not the guest's): ${said || 'no message'}`
  }
  return null
}

/** A program that died of SIGKILL while the console shows the guest's OOM killer taking it: say so. */
function markOomKills(cases: CaseOutcomeInput[], programs: { name: string; detail: string }[], console: string): void {
  for (const p of programs) {
    if (!/signal=9\b/.test(p.detail)) continue
    const comm = p.name.split('/').pop()!.slice(0, 15)
    const esc = comm.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const oom = new RegExp(`(?:Out of memory|Memory cgroup out of memory): Killed process \\d+ \\(${esc}\\)|oom-kill:.*task=${esc},`).exec(console)
    if (!oom) continue
    for (const c of cases) {
      if ((c.id === p.name || c.id.startsWith(`${p.name}.`)) && c.status !== 'pass' && c.status !== 'skip')
        c.detail = `killed by the guest's OOM killer (console: ${oom[0]})`
    }
  }
}

type CaseOutcomeInput = { id: string; status: string; detail: string }

export function evaluateRun(v: Variant, vm: VmRun, upto?: number): Evaluation {
  const u = unframe(vm.results, vm.token)
  const notes = channelNotes(u)
  if (vm.consoleDroppedBytes) notes.push(`console flood: ${vm.consoleDroppedBytes} bytes kept on disk only (console.log), lines that can start a finding were kept`)
  const fault = qemuFault(vm)
  if (fault) return { cases: [], findings: [], verdict: 'infra', summary: fault, notes, ktap: u.text, reachedInit: false }
  const ch = parseResultsChannel(u.text, { programs: v.tests.map(t => t.name) })
  markOomKills(ch.cases, ch.programs, vm.console)
  const r = computeVerdict({
    variant: { expect: rulesFor(v, upto), allow: v.allow.filter(a => a.from === undefined || upto === undefined || upto >= a.from) },
    cases: ch.cases,
    findings: classifyConsole(vm.console),
    setup: ch.setup,
    // the boot watchdog (guest never reached its first results line) is a no-output hang as far as verdicts go
    end: { exitMarker: ch.exited, qemuExit: vm.exitCode, watchdog: vm.watchdog === 'boot' ? 'no-output' : vm.watchdog },
    resultsBegan: ch.began,
  })
  let summary = r.summary
  if (vm.watchdog === 'boot') summary = `boot hung: no results line within the boot limit (first console output ${vm.firstConsoleMs === null ? 'never came' : `after ${(vm.firstConsoleMs / 1000).toFixed(1)} s`})`
  if (vm.qemuErrors.length && r.verdict !== 'ok') summary += `; qemu: ${vm.qemuErrors.slice(0, 2).join(' | ')}`
  return { cases: r.outcomes, findings: r.findings, verdict: r.verdict, summary, notes, ktap: u.text, reachedInit: ch.setup !== null }
}
