// Glue between the VM runner and results/: parse the results channel, classify the console, decide.
import type { CaseOutcome, ConsoleFinding, RunVerdict, Variant } from './types.js'
import type { VmRun } from './vm/runner.js'
import { parseResultsChannel } from './results/ktap.js'
import { classifyConsole } from './results/classify.js'
import { computeVerdict } from './results/verdict.js'

export interface Evaluation {
  cases: CaseOutcome[]
  findings: ConsoleFinding[]
  verdict: RunVerdict
  summary: string
}

/** The expectations in force for a series prefix (undefined = the whole series). */
export function rulesFor(v: Variant, upto: number | undefined): Variant['expect'] {
  return v.expect.filter(r => r.from === undefined || upto === undefined || upto >= r.from)
}

export function evaluateRun(v: Variant, vm: VmRun, upto?: number): Evaluation {
  // QEMU that exits non-zero before the guest printed a byte never started a guest: the rig failed
  // (bad option, missing file), not the kernel. A bisection must abort on this, not skip.
  if (vm.exitCode !== 0 && vm.exitCode !== null && !vm.watchdog && vm.firstConsoleMs === null && !vm.results) {
    return { cases: [], findings: [], verdict: 'infra', summary: `QEMU failed to start (exit ${vm.exitCode}): ${vm.qemuErrors.slice(0, 2).join(' | ') || 'no message'}` }
  }
  const ch = parseResultsChannel(vm.results, { programs: v.tests.map(t => t.name) })
  const r = computeVerdict({
    variant: { expect: rulesFor(v, upto), allow: v.allow.filter(a => a.from === undefined || upto === undefined || upto >= a.from) },
    cases: ch.cases,
    findings: classifyConsole(vm.console),
    setup: ch.setup,
    // the boot watchdog (guest never reached its first results line) is a no-output hang as far as verdicts go
    end: { exitMarker: ch.exited, qemuExit: vm.exitCode, watchdog: vm.watchdog === 'boot' ? 'no-output' : vm.watchdog },
    resultsBegan: /^\s*(K?TAP version)/m.test(vm.results),
  })
  let summary = r.summary
  if (vm.watchdog === 'boot') summary = `boot hung: no results line within the boot limit (first console output ${vm.firstConsoleMs === null ? 'never came' : `after ${(vm.firstConsoleMs / 1000).toFixed(1)} s`})`
  if (vm.qemuErrors.length && r.verdict !== 'ok') summary += `; qemu: ${vm.qemuErrors.slice(0, 2).join(' | ')}`
  return { cases: r.outcomes, findings: r.findings, verdict: r.verdict, summary }
}
