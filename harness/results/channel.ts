// The results channel (docs/guest-protocol.md), read in two steps.
//
// Framing (unframe): which lines init wrote, which a program wrote. Init starts each of its own lines with the
// run's token (chosen by the host, given on the kernel command line, hidden from programs); a program's output
// reaches the port only through the relay, indented. Any other line is noise: bytes a program wrote to the port
// directly, or a kernel echoing an older run. Noise can neither end a program, nor close the document, nor fake
// the exit marker.
//
// Reading (parseResultsChannel): init's lines are the top level of a KTAP document, one result line per
// program, plus its `# daxrig-...` markers; everything a program printed is indented and belongs to the
// program result that follows it. Each such block goes through the one KTAP parser (ktap.ts) as a document
// of its own, so whatever a program prints (a stray version line, a fake plan, a fake marker) stays inside it.
import { randomBytes } from 'node:crypto'
import type { CaseResult, CaseStatus, SetupStatus } from '../types.js'
import {
  countTests,
  extractTapLines,
  indentOf,
  isVersionLine,
  parseKtap,
  parseResultLine,
  planOf,
  statusOf,
  type KtapDocument,
  type KtapStatus,
  type KtapTest,
  type TapLine,
} from './ktap.js'
import { cleanName, printkMessage, splitLines } from './text.js'

export interface Unframed {
  /** the channel as plain KTAP: init's lines without the token, program blocks as sent, noise removed */
  text: string
  /** lines that were neither init's nor inside a program's block, as received (control characters kept) */
  noise: string[]
  /** programs that left processes running when they exited (`# daxrig-left: PROG N`) */
  leftBehind: { program: string; count: number }[]
}

/** A fresh token per boot: 16 hex digits, nothing a test prints by chance. */
export function newToken(): string {
  return `dxr${randomBytes(8).toString('hex')}`
}

const LEFT_RE = /^#\s*daxrig-left:\s*(\S+)\s+(\d+)\s*$/

/**
 * Splits a raw channel by the token. Without a token (a results.ktap written by the rig, an old run, a console
 * log) every line is taken as it is.
 */
export function unframe(raw: string, token: string | undefined): Unframed {
  const out: string[] = []
  const noise: string[] = []
  const leftBehind: Unframed['leftBehind'] = []
  const mark = token ? `${token} ` : ''
  const lines = splitLines(raw)
  if (lines.at(-1) === '') lines.pop()
  for (const line of lines) {
    if (!token) {
      out.push(line)
      continue
    }
    if (line.startsWith(mark)) {
      const content = line.slice(mark.length)
      const left = LEFT_RE.exec(content)
      if (left) leftBehind.push({ program: left[1]!, count: Number(left[2]) })
      out.push(content)
    } else if (/^[ \t]/.test(line)) out.push(line)
    else if (line.trim()) noise.push(line)
  }
  return { text: out.length ? out.join('\n') + '\n' : '', noise, leftBehind }
}

/** Notes for the report: what the channel showed that is not a case result. */
export function channelNotes(u: Unframed): string[] {
  const notes = u.leftBehind.map(l => `${l.program} left ${l.count} process${l.count === 1 ? '' : 'es'} behind (killed when it exited)`)
  if (u.noise.length) {
    const first = JSON.stringify(u.noise[0]!.slice(0, 80))
    notes.push(`${u.noise.length} line${u.noise.length === 1 ? '' : 's'} on the results channel outside any program's block ignored as noise (first: ${first})`)
  }
  return notes
}

// ---------------------------------------------------------------------------------------------------------
// Reading: top level = programs, their subtests = cases.

export interface ProgramResult {
  name: string
  status: KtapStatus
  detail: string
  reported: boolean
}

export interface ResultsChannel {
  /** the channel as one KTAP document: a test per program (init's result lines), the program's cases under it */
  doc: KtapDocument
  /** the version line came: the guest got as far as its tests */
  began: boolean
  programs: ProgramResult[]
  cases: CaseResult[]
  setup: SetupStatus | null
  /** value of `# daxrig-exit: N`; null when the line never came (the guest died) */
  exitCode: number | null
  exited: boolean
}

const SETUP_RE = /^#\s*daxrig-setup:\s*(ok|FAIL)\b\s*(.*)$/i
const EXIT_RE = /^#\s*daxrig-exit:\s*(-?\d+)/
const MARKER_RE = /^#\s*daxrig-(?:setup|exit):/

/** Reads `# daxrig-setup: ok` / `# daxrig-setup: FAIL <step>: <message>`. */
export function parseSetupLine(content: string): SetupStatus | null {
  const m = SETUP_RE.exec(content.trim())
  if (!m) return null
  if ((m[1] ?? '').toLowerCase() === 'ok') return { ok: true }
  const rest = (m[2] ?? '').trim()
  const colon = rest.indexOf(':')
  const step = colon >= 0 ? rest.slice(0, colon).trim() : rest
  const message = colon >= 0 ? rest.slice(colon + 1).trim() : ''
  return { ok: false, step, message }
}

/**
 * Init's setup and exit markers. The setup line precedes the version line, so they are looked for in the whole
 * text, but only at the start of a line (after a printk prefix in a console log): program output is indented,
 * so a program cannot forge them.
 */
function readMarkers(text: string): { setup: SetupStatus | null; exitCode: number | null } {
  let setup: SetupStatus | null = null
  let exitCode: number | null = null
  for (const l of splitLines(text)) {
    const content = printkMessage(l)
    if (content === null || !MARKER_RE.test(content)) continue
    const s = parseSetupLine(content)
    if (s) setup = s
    const e = EXIT_RE.exec(content)
    if (e) exitCode = Number(e[1])
  }
  return { setup, exitCode }
}

/**
 * A program's block parsed as its own KTAP document, dedented by its own depth (KTAP nests by 2 spaces, TAP 14
 * by 4, and the relay indents every line by 2; a line indented by one column is a console's call trace, not
 * nesting, and does not count); a program that printed no version line still gets its result lines read.
 */
function parseBlock(block: string[]): { tests: KtapTest[]; plan?: number | undefined } {
  if (!block.length) return { tests: [] }
  const indents = block.filter(l => l.trim()).map(l => indentOf(l))
  const nested = indents.filter(i => i >= 2)
  const depth = Math.min(...(nested.length ? nested : indents))
  const cut = Number.isFinite(depth) ? depth : 0
  const lines = block.map(l => {
    const expanded = l.replace(/^\t/, '        ')
    return expanded.slice(Math.min(cut, expanded.length - expanded.trimStart().length))
  })
  if (!lines.some(isVersionLine)) lines.unshift('KTAP version 1')
  const d = parseKtap(lines.join('\n'))
  return { tests: d.tests, plan: d.plan }
}

type TopLevel = Pick<KtapDocument, 'tests' | 'plan' | 'trailing' | 'noise'>

/**
 * Init's level of the document: one result line per program, and every indented block belongs to the result
 * line that follows it. Output after the last result line is the program that was running when the guest died.
 */
function readTopLevel(lines: TapLine[]): TopLevel {
  const tests: KtapTest[] = []
  const noise: KtapDocument['noise'] = []
  let plan: number | undefined
  let block: string[] = []
  let diagnostics: string[] = []
  for (const { line, text } of lines) {
    if (/^[ \t]/.test(text)) {
      block.push(text)
      continue
    }
    const content = text.trim()
    if (content === '' || isVersionLine(content)) continue
    const p = planOf(content)
    if (p !== null) {
      plan ??= p
      continue
    }
    const r = parseResultLine(content)
    if (r) {
      const body = parseBlock(block)
      block = []
      diagnostics = []
      const t: KtapTest = { name: r.name, number: r.number ?? tests.length + 1, status: statusOf(r), diagnostics: [], subtests: body.tests, line, reported: true }
      if (r.directive) t.directive = r.directive
      // a program whose own plan is 1..0 ran no test: no-tests (a skip), as KUnit reads it
      else if (body.plan === 0 && body.tests.length === 0) t.status = 'no-tests'
      tests.push(t)
      continue
    }
    // init's own diagnostics (`# daxrig-left: ...`) are notes, not the next program's
    if (content.startsWith('#')) diagnostics.push(content.replace(/^#\s?/, ''))
    else noise.push({ line, text })
  }
  // a complete plan followed by output without KTAP in it: a console's call trace, not a running program
  const body = parseBlock(block)
  const unfinished = plan !== undefined && tests.length < plan
  if (unfinished || (block.length > 0 && (plan === undefined || body.tests.length > 0 || body.plan !== undefined))) {
    tests.push(placeholder('', tests.length + 1, body.tests))
  }
  const top: TopLevel = { tests, trailing: diagnostics, noise }
  if (plan !== undefined) top.plan = plan
  return top
}

function placeholder(name: string, number: number, subtests: KtapTest[] = []): KtapTest {
  return { name, number, status: 'crashed', diagnostics: [], subtests, line: 0, reported: false }
}

/**
 * The programs that never started: numbers the plan announced past the one that was running, then programs of
 * the variant's list the document never named. None when the setup failed (no program was meant to run).
 */
function neverStarted(top: TopLevel, programs: string[], setup: SetupStatus | null): KtapTest[] {
  if (setup && !setup.ok) return []
  const out: KtapTest[] = []
  const names = new Set(top.tests.map(t => programName(t, programs)))
  // init numbers its programs in run order, so the plan's missing ones are the last
  for (let n = top.tests.length + 1; n <= (top.plan ?? 0); n++) {
    const t = placeholder(programs[n - 1] ?? '', n)
    out.push(t)
    names.add(programName(t, programs))
  }
  let next = Math.max(top.plan ?? 0, ...top.tests.map(t => t.number)) + 1
  for (const p of programs) if (!names.has(p)) out.push(placeholder(p, next++))
  return out
}

/** A top-level test's program: its own name, else the variant's program at that number, else `#N`. */
function programName(t: KtapTest, programs: string[]): string {
  return t.name || programs[t.number - 1] || `#${t.number}`
}

function caseStatus(s: KtapStatus): CaseStatus {
  return s === 'no-tests' ? 'skip' : s
}

function detailOf(t: KtapTest): string {
  if (t.directive) return t.directive.reason ? `${t.directive.kind}: ${t.directive.reason}`.replace(/^SKIP: /, '') : t.directive.kind
  if (!t.reported) return 'never reported'
  if (t.status === 'fail') return t.diagnostics.at(-1) ?? ''
  return ''
}

/** Flattens a program's cases into ids; deeper KTAP levels join with dots. Unnamed placeholders read `#N`. */
function flattenCases(prefix: string, tests: KtapTest[], unreported: CaseStatus, why: string): CaseResult[] {
  const out: CaseResult[] = []
  for (const t of tests) {
    const id = `${prefix}.${cleanName(t.name) || `#${t.number}`}`
    const leaves = flattenCases(id, t.subtests, unreported, why)
    const leafFailed = leaves.some(c => c.status !== 'pass' && c.status !== 'skip')
    out.push(...leaves)
    // A parent that failed with no failing leaf would otherwise vanish from the results.
    if (t.subtests.length > 0 && (leafFailed || t.status === 'pass' || t.status === 'skip')) continue
    const status = t.reported ? caseStatus(t.status) : unreported
    const detail = t.reported ? detailOf(t) : why
    out.push({ id, status, detail, diagnostics: t.diagnostics })
  }
  return out
}

/**
 * Reads the results channel into case results `program.case`. `programs` (the variant's test list, in run
 * order) names programs that never started. Unreported cases are `timeout` when their program's line says
 * `# TIMEOUT`, otherwise `crashed` (or `error` when the program ended normally without them). A program with
 * no cases yields one result with the program's name as id.
 */
export function parseResultsChannel(text: string, opts: { programs?: string[] } = {}): ResultsChannel {
  const ex = extractTapLines(text)
  const { setup, exitCode } = readMarkers(text)
  const exited = exitCode !== null
  const top = readTopLevel(ex.lines)
  const idle = neverStarted(top, opts.programs ?? [], setup)
  const tests = [...top.tests, ...idle]
  const doc: KtapDocument = { found: ex.found, version: ex.version, prefix: ex.prefix, ...top, tests, counts: countTests(tests) }
  const programs: ProgramResult[] = []
  const cases: CaseResult[] = []
  for (const t of tests) {
    const name = programName(t, opts.programs ?? [])
    if (idle.includes(t)) {
      programs.push({ name, status: 'crashed', detail: 'never started', reported: false })
      cases.push({ id: name, status: 'crashed', detail: exited ? 'never started' : 'guest died before the program ran', diagnostics: [] })
      continue
    }
    const status = t.status
    const why =
      t.directive?.kind === 'TIMEOUT'
        ? 'program timed out'
        : t.reported
          ? `planned but never reported; the program ended: ${detailOf(t) || t.status}`
          : 'guest died before the result'
    // a planned case that never reported: `crashed` when the program or the guest died, `error` when the
    // program ended normally without it (a broken test, not a dead kernel); never a pass either way
    const diedOfSignal = t.directive?.kind === 'ERROR' && /signal/.test(t.directive.reason)
    const unreported: CaseStatus =
      t.directive?.kind === 'TIMEOUT' ? 'timeout' : t.reported && exited && !diedOfSignal ? 'error' : 'crashed'
    programs.push({ name, status, detail: t.reported ? detailOf(t) : why, reported: t.reported })
    if (t.subtests.length === 0) {
      cases.push({ id: name, status: t.reported ? caseStatus(status) : unreported, detail: t.reported ? detailOf(t) : why, diagnostics: t.diagnostics })
      continue
    }
    const own = flattenCases(name, t.subtests, unreported, why)
    cases.push(...own)
    // init marks a program that exited with a status other than 0/1, died of a signal, or was killed by
    // the per-test timeout; when every case it printed looks fine, its end is a result of its own
    const d = t.directive?.kind
    if (t.reported && (d === 'ERROR' || d === 'TIMEOUT') && own.every(c => c.status === 'pass' || c.status === 'skip')) {
      const status: CaseStatus = d === 'ERROR' ? 'error' : 'timeout'
      cases.push({ id: `${name}.exit_status`, status, detail: `program ended abnormally: ${d}${t.directive?.reason ? ` ${t.directive.reason}` : ''}`, diagnostics: [] })
    }
  }
  return { doc, began: doc.found, programs, cases, setup, exitCode, exited }
}
