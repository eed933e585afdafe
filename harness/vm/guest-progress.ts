// The guest's progress, read once from the console by the VM stage and handed on as typed events. Init logs
// `daxrig-init: [UPTIME] MESSAGE` on the console (images/init.sh log()); the kernel logs its power-down. The
// UI shows these events and the pipeline turns them into the guest-side timings (boot, setup, tests): nobody
// after the VM stage reads console text for progress.
//
// The console is not trusted like the results channel (a program can write to /dev/console): these events
// only feed progress and timings, never a verdict.

export type GuestEvent =
  /** init is up and starts the plan: kernel boot is over */
  | { kind: 'plan-start'; at: number; text: string }
  /** a test program starts: setup is over when the first one does */
  | { kind: 'running'; at: number; text: string; program: string }
  /** any other step init reports (namespaces, mkfs, mounts, a setup failure) */
  | { kind: 'step'; at: number; text: string }
  /** the kernel's "reboot: Power down": the guest is done */
  | { kind: 'power-down'; at: number; text: string }

const INIT_LINE = /daxrig-init: (\[([\d.]+)\] (.*))$/
const POWER_DOWN = /^\[\s*([\d.]+)\] reboot: Power down/

/** One console line → the guest event it reports, if any. */
export function guestEvent(line: string): GuestEvent | undefined {
  const m = INIT_LINE.exec(line)
  if (m) {
    const at = Number(m[2])
    const text = m[1]!
    const msg = m[3]!
    if (/^kernel .*plan starting$/.test(msg)) return { kind: 'plan-start', at, text }
    const run = /^running (\S+)$/.exec(msg)
    if (run) return { kind: 'running', at, text, program: run[1]! }
    return { kind: 'step', at, text }
  }
  const p = POWER_DOWN.exec(line)
  if (p) return { kind: 'power-down', at: Number(p[1]), text: 'reboot: Power down' }
  return undefined
}

/** The marks a run's guest reached, in guest-clock seconds since the kernel started. */
export interface GuestTimeline {
  planStart?: number
  /** each program's start, in order */
  programs: { name: string; at: number }[]
  powerDown?: number
}

export function emptyTimeline(): GuestTimeline {
  return { programs: [] }
}

/** Fold one event into a timeline (the first plan start and power-down count: a retried boot gets a new one). */
export function addToTimeline(t: GuestTimeline, e: GuestEvent): void {
  if (e.kind === 'plan-start') t.planStart ??= e.at
  else if (e.kind === 'running') t.programs.push({ name: e.program, at: e.at })
  else if (e.kind === 'power-down') t.powerDown ??= e.at
}

/**
 * Guest-side split of a run: kernel boot to init, setup (init to the first program), tests (first program to
 * power-down), in seconds. Only the parts whose two ends were seen.
 */
export function guestSplit(t: GuestTimeline): { 'guest boot'?: number; 'guest setup'?: number; 'guest tests'?: number } {
  const out: { 'guest boot'?: number; 'guest setup'?: number; 'guest tests'?: number } = {}
  const first = t.programs[0]?.at
  const round = (s: number) => Math.round(s * 1000) / 1000
  if (t.planStart !== undefined) out['guest boot'] = round(t.planStart)
  if (t.planStart !== undefined && first !== undefined) out['guest setup'] = round(first - t.planStart)
  if (first !== undefined && t.powerDown !== undefined) out['guest tests'] = round(t.powerDown - first)
  return out
}

/** Seconds each program ran: from its start to the next one's, the last to power-down. */
export function programSeconds(t: GuestTimeline): [string, number][] {
  return t.programs
    .map((p, i): [string, number] => [p.name, (t.programs[i + 1]?.at ?? t.powerDown ?? NaN) - p.at])
    .filter(([, s]) => Number.isFinite(s))
}
