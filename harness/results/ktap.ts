// KTAP v1 / TAP 13-14 parser (semantics of the kernel's tools/testing/kunit/kunit_parser.py) and the results-channel reader.
import type { CaseResult, CaseStatus, SetupStatus } from '../types.js'

export type KtapStatus = 'pass' | 'fail' | 'skip' | 'crashed' | 'timeout' | 'error' | 'no-tests'
export type KtapDirective = 'SKIP' | 'TODO' | 'XFAIL' | 'TIMEOUT' | 'ERROR'

export interface KtapTest {
  name: string
  number: number
  status: KtapStatus
  directive?: { kind: KtapDirective; reason: string }
  /** `# ...` lines printed before the result line (and TAP 13 YAML blocks after it) */
  diagnostics: string[]
  subtests: KtapTest[]
  /** the plan printed by this test's own KTAP document, if any */
  plan?: number
  /** line number (1-based) of the result line in the input; 0 for tests that never reported */
  line: number
  /** false for placeholders: a plan announced the test (or a subtest started) but no result line came */
  reported: boolean
}

export interface KtapDocument {
  /** a version line was found */
  found: boolean
  version: string
  /** console prefix measured at the version line (e.g. `[    1.234567] `) */
  prefix: string
  plan?: number
  tests: KtapTest[]
  /** diagnostics after the last top-level result (e.g. `# daxrig-exit: 0`) */
  trailing: string[]
  /** lines that are not KTAP, kept for the report: other CPUs' printk, program noise */
  noise: { line: number; text: string }[]
  bailOut?: string
  counts: { passed: number; failed: number; skipped: number; crashed: number; errors: number }
}

export interface TapLine {
  line: number
  text: string
}

const VERSION_RE = /(K?TAP) version (\d+)\s*$/
const PRINTK_PREFIX_RE = /^\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? /
// kunit_parser stops here: whatever follows belongs to a dying or rebooting kernel, not to the test document.
const END_RE = /List of all partitions:|Kernel panic - not syncing|reboot: (?:System halted|Restarting system|Power down)|Linux version \d/
const RESULT_RE = /^(not ok|ok)\b(?:\s+(\d+))?(?:\s*-?\s*)?(.*)$/
const PLAN_RE = /^1\.\.(\d+)(?:\s*#\s*(.*))?$/
const DIRECTIVE_RE = /^(.*?)\s*(?<!\\)#\s*(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\b:?\s*(.*)$/i
const SUBTEST_RE = /^#\s*Subtest:\s*(.*)$/

/** Splits text into lines, dropping the \r that serial consoles add. */
export function splitLines(text: string): string[] {
  return text.split('\n').map(l => l.replace(/\r+$/, '').replace(/\r/g, ''))
}

/**
 * Finds the first version line and returns the lines from there on with the console prefix removed,
 * up to an end marker (panic, reboot, a new boot banner).
 */
export function extractTapLines(text: string): { found: boolean; version: string; prefix: string; lines: TapLine[] } {
  const all = splitLines(text)
  const start = all.findIndex(l => VERSION_RE.test(l))
  if (start < 0) return { found: false, version: '', prefix: '', lines: [] }
  const first = all[start] ?? ''
  const m = VERSION_RE.exec(first)
  const at = m?.index ?? 0
  const prefix = first.slice(0, at)
  const version = m ? `${m[1]} version ${m[2]}` : ''
  const strip = prefixStripper(prefix)
  const lines: TapLine[] = []
  for (let i = start; i < all.length; i++) {
    const raw = all[i] ?? ''
    if (i > start && END_RE.test(raw)) break
    const text = strip(raw)
    if (text !== null) lines.push({ line: i + 1, text })
  }
  return { found: true, version, prefix, lines }
}

/**
 * Builds the function that removes the console prefix. A printk timestamp differs on every line, so it is
 * removed by pattern; any other prefix literally. Lines without the prefix are not part of the document.
 */
function prefixStripper(prefix: string): (line: string) => string | null {
  const stamp = PRINTK_PREFIX_RE.exec(prefix)
  if (stamp && stamp[0] === prefix) {
    return line => {
      const m = PRINTK_PREFIX_RE.exec(line)
      return m ? line.slice(m[0].length) : null
    }
  }
  if (prefix === '') return line => line
  return line => (line.startsWith(prefix) ? line.slice(prefix.length) : null)
}

/** Indentation in columns; a tab counts as one level on its own (8 columns) so tab-nested output compares consistently. */
export function indentOf(line: string): number {
  let cols = 0
  for (const ch of line) {
    if (ch === ' ') cols++
    else if (ch === '\t') cols = cols - (cols % 8) + 8
    else break
  }
  return cols
}

interface Frame {
  indent: number
  tests: KtapTest[]
  plan?: number
  pendingDiag: string[]
  name?: string
  /** a `# Subtest:` line printed at this frame's level names the next child frame */
  nextName?: string
}

export interface ResultLine {
  ok: boolean
  number: number | null
  name: string
  directive?: { kind: KtapDirective; reason: string }
}

/** Parses `ok 3 name # SKIP reason`; null when the line is not a result line. */
export function parseResultLine(content: string): ResultLine | null {
  const m = RESULT_RE.exec(content)
  if (!m) return null
  const ok = m[1] === 'ok'
  const number = m[2] !== undefined ? Number(m[2]) : null
  let rest = (m[3] ?? '').trim()
  if (rest.startsWith('- ')) rest = rest.slice(2)
  const d = DIRECTIVE_RE.exec(rest)
  if (!d) return { ok, number, name: rest.trim() }
  const kind = (d[2] ?? '').toUpperCase() as KtapDirective
  return { ok, number, name: (d[1] ?? '').trim(), directive: { kind, reason: (d[3] ?? '').trim() } }
}

/**
 * Status of a result line. XFAIL means the program saw the failure it was told to expect; daxrig keeps
 * expectations in the variant, so XFAIL reads as `fail` (a `fail` expectation then makes it a known failure).
 * A `# TODO` directive keeps the ok/not ok meaning.
 */
export function statusOf(r: ResultLine): KtapStatus {
  switch (r.directive?.kind) {
    case 'SKIP':
      return 'skip'
    case 'TIMEOUT':
      return 'timeout'
    case 'ERROR':
      return 'error'
    case 'XFAIL':
      return 'fail'
    default:
      return r.ok ? 'pass' : 'fail'
  }
}

function placeholder(name: string, number: number, subtests: KtapTest[] = [], plan?: number): KtapTest {
  const t: KtapTest = { name, number, status: 'crashed', diagnostics: [], subtests, line: 0, reported: false }
  if (plan !== undefined) t.plan = plan
  return t
}

/** Appends a never-reported test for every number the plan announced but no result line delivered. */
function fillPlan(tests: KtapTest[], plan: number | undefined): KtapTest[] {
  if (plan === undefined) return tests
  const seen = new Set(tests.map(t => t.number))
  const out = [...tests]
  for (let n = 1; n <= plan; n++) if (!seen.has(n)) out.push(placeholder('', n))
  return out.sort((a, b) => a.number - b.number)
}

/** Closes a frame whose parent result never arrived: its tests hang under a crashed placeholder. */
function closeOrphan(parent: Frame, child: Frame): void {
  const t = placeholder(child.name ?? '', parent.tests.length + 1, fillPlan(child.tests, child.plan), child.plan)
  t.diagnostics = child.pendingDiag
  parent.tests.push(t)
}

/** Parses a KTAP/TAP document out of a console log or a results-channel file. */
export function parseKtap(text: string): KtapDocument {
  const ex = extractTapLines(text)
  const noise: { line: number; text: string }[] = []
  const root: Frame = { indent: 0, tests: [], pendingDiag: [] }
  const stack: Frame[] = [root]
  let bailOut: string | undefined
  let yaml: KtapTest[] | null = null
  let versionSeen = false
  const top = (): Frame => stack[stack.length - 1] ?? root
  const frameFor = (indent: number): Frame => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i]
      if (f && f.indent <= indent) return f
    }
    return root
  }
  // Pops frames deeper than `indent`; returns the frame directly below the target so its tests become subtests.
  const push = (indent: number): void => {
    const parent = top()
    const f: Frame = { indent, tests: [], pendingDiag: [] }
    if (parent.nextName !== undefined) f.name = parent.nextName
    delete parent.nextName
    stack.push(f)
  }
  // A version (or plan) line opens a child document; one at the level of a finished child means that
  // child's result line never came.
  const openFrame = (indent: number, line: number, raw: string): void => {
    const orphan = popTo(indent)
    if (orphan) closeOrphan(top(), orphan)
    const t = top()
    if (t !== root && t.indent === indent) {
      if (t.tests.length === 0 && t.plan === undefined) return
      stack.pop()
      closeOrphan(top(), t)
    }
    if (indent > top().indent) push(indent)
    else noise.push({ line, text: raw })
  }
  const popTo = (indent: number): Frame | undefined => {
    let last: Frame | undefined
    while (stack.length > 1 && top().indent > indent) {
      const f = stack.pop() as Frame
      if (last) closeOrphan(f, last)
      last = f
    }
    return last
  }

  for (const { line, text: raw } of ex.lines) {
    const indent = indentOf(raw)
    const content = raw.trim()
    if (yaml) {
      if (content === '...') yaml = null
      else yaml.at(-1)?.diagnostics.push(content)
      continue
    }
    if (content === '') continue
    if (/^K?TAP version \d+$/.test(content)) {
      if (!versionSeen) {
        versionSeen = true
        root.indent = indent
      } else openFrame(indent, line, raw)
      continue
    }
    const sub = SUBTEST_RE.exec(content)
    if (sub) {
      const name = (sub[1] ?? '').trim()
      const t = top()
      // KTAP prints `# Subtest:` at the child's indentation (before or after the child's version line);
      // old kselftest prints it at the parent's, just before the child starts.
      if (indent > t.indent) stack.push({ indent, tests: [], pendingDiag: [], name })
      else if (t !== root && t.indent === indent && t.tests.length === 0 && t.name === undefined) t.name = name
      else frameFor(indent).nextName = name
      continue
    }
    const plan = PLAN_RE.exec(content)
    if (plan) {
      if (indent > top().indent) openFrame(indent, line, raw)
      else {
        const orphan = popTo(indent)
        if (orphan) closeOrphan(top(), orphan)
      }
      const f = top()
      if (f.tests.length === 0 && f.plan === undefined) f.plan = Number(plan[1])
      else noise.push({ line, text: raw })
      continue
    }
    const bail = /^Bail out!\s*(.*)$/.exec(content)
    if (bail) {
      bailOut = (bail[1] ?? '').trim()
      break
    }
    const result = parseResultLine(content)
    if (result) {
      if (indent > top().indent) push(indent)
      const child = popTo(indent)
      const f = top()
      const t: KtapTest = {
        name: result.name,
        number: result.number ?? f.tests.length + 1,
        status: statusOf(result),
        diagnostics: [...f.pendingDiag, ...(child?.pendingDiag ?? [])],
        subtests: child ? fillPlan(child.tests, child.plan) : [],
        line,
        reported: true,
      }
      if (result.directive) t.directive = result.directive
      if (child?.plan !== undefined) t.plan = child.plan
      if (t.name === '' && child?.name) t.name = child.name
      // kunit's NO_TESTS: a child document that planned nothing and ran nothing, with no directive to explain it.
      if (child?.plan === 0 && t.subtests.length === 0 && !t.directive && t.status === 'pass') t.status = 'no-tests'
      f.pendingDiag = []
      f.tests.push(t)
      continue
    }
    if (content === '---') {
      yaml = frameFor(indent).tests
      continue
    }
    if (content.startsWith('#')) {
      frameFor(indent).pendingDiag.push(content.replace(/^#\s?/, ''))
      continue
    }
    noise.push({ line, text: raw })
  }

  // The log ended with frames still open: the kernel died or the program was killed mid-document.
  const orphan = popTo(-1)
  if (orphan) closeOrphan(root, orphan)
  const tests = fillPlan(root.tests, root.plan)
  const doc: KtapDocument = {
    found: ex.found,
    version: ex.version,
    prefix: ex.prefix,
    tests,
    trailing: root.pendingDiag,
    noise,
    counts: countTests(tests),
  }
  if (root.plan !== undefined) doc.plan = root.plan
  if (bailOut !== undefined) {
    doc.bailOut = bailOut
    markUnreported(tests, 'crashed')
  }
  return doc
}

function markUnreported(tests: KtapTest[], status: KtapStatus): void {
  for (const t of tests) {
    if (!t.reported) t.status = status
    markUnreported(t.subtests, status)
  }
}

/** kunit's counts over the leaves of the tree. */
export function countTests(tests: KtapTest[]): KtapDocument['counts'] {
  const c = { passed: 0, failed: 0, skipped: 0, crashed: 0, errors: 0 }
  const walk = (ts: KtapTest[]): void => {
    for (const t of ts) {
      if (t.subtests.length > 0) {
        walk(t.subtests)
        continue
      }
      if (t.status === 'pass') c.passed++
      else if (t.status === 'fail') c.failed++
      else if (t.status === 'skip' || t.status === 'no-tests') c.skipped++
      else if (t.status === 'crashed' || t.status === 'timeout') c.crashed++
      else c.errors++
    }
  }
  walk(tests)
  return c
}

// ---------------------------------------------------------------------------------------------------------
// Results channel (docs/guest-protocol.md): top level = programs, their subtests = cases.

export interface ProgramResult {
  name: string
  status: KtapStatus
  detail: string
  reported: boolean
}

export interface ResultsChannel {
  doc: KtapDocument
  programs: ProgramResult[]
  cases: CaseResult[]
  setup: SetupStatus | null
  /** value of `# daxrig-exit: N`; null when the line never came (the guest died) */
  exitCode: number | null
  exited: boolean
}

const SETUP_RE = /^#\s*daxrig-setup:\s*(ok|FAIL)\b\s*(.*)$/i
const EXIT_RE = /^#\s*daxrig-exit:\s*(-?\d+)/

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
/** Guest-chosen names become ids in reports and JSON: no escape sequences or control characters. */
export function cleanName(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x1f\x7f]/g, '')
}

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
 * Turns the results-channel document into case results `program.case`. `programs` (the variant's test list,
 * in run order) names programs that never started. Unreported cases are `timeout` when their program's line
 * says `# TIMEOUT`, otherwise `crashed`. A program with no cases yields one result with the program's name as id.
 */
/**
 * The results channel split by init's own lines: init never indents, program output is always indented, so
 * every indented block belongs to the top-level result line that follows it. Each block is parsed as its own
 * KTAP document: whatever a program prints (a stray version line, a fake plan) stays inside its block.
 */
export function programBlocks(text: string): { tests: KtapTest[]; plan: number | undefined } {
  const tests: KtapTest[] = []
  let plan: number | undefined
  let block: string[] = []
  let lineNo = 0
  const take = (): { tests: KtapTest[]; plan?: number | undefined } => {
    if (!block.length) return { tests: [] }
    // dedent by the block's own depth (KTAP nests by 2 spaces, TAP 14 by 4); a program that printed no
    // version line still gets its result lines read
    const depth = Math.min(...block.filter(l => l.trim()).map(l => indentOf(l)))
    const lines = block.map(l => l.replace(/^\t/, '        ').slice(Number.isFinite(depth) ? depth : 0))
    if (!lines.some(l => /^(K?TAP) version \d+\s*$/.test(l))) lines.unshift('KTAP version 1')
    block = []
    const d = parseKtap(lines.join('\n'))
    return { tests: d.tests, plan: d.plan }
  }
  for (const raw of splitLines(text)) {
    lineNo++
    if (/^[ \t]/.test(raw)) {
      block.push(raw)
      continue
    }
    const content = raw.trim()
    const p = PLAN_RE.exec(content)
    if (p && plan === undefined) plan = Number(p[1])
    const r = parseResultLine(content)
    if (!r) continue
    const body = take()
    const t: KtapTest = { name: r.name, number: r.number ?? tests.length + 1, status: statusOf(r), diagnostics: [], subtests: body.tests, line: lineNo, reported: true }
    if (r.directive) t.directive = r.directive
    // a program whose own plan is 1..0 ran no test: no-tests (a skip), as KUnit reads it
    else if (body.plan === 0 && body.tests.length === 0) t.status = 'no-tests'
    tests.push(t)
  }
  // output after the last result line: a program that was running when the guest died
  if (block.length || (plan !== undefined && tests.length < plan)) {
    const subtests = take().tests
    tests.push({ name: '', number: tests.length + 1, status: 'crashed', diagnostics: [], subtests, line: 0, reported: false })
  }
  return { tests, plan }
}

export function parseResultsChannel(text: string, opts: { programs?: string[] } = {}): ResultsChannel {
  const doc = parseKtap(text)
  const blocks = programBlocks(text)
  let setup: SetupStatus | null = null
  let exitCode: number | null = null
  // The setup line precedes the version line, so markers are looked for in the whole text — but only at
  // the start of a line (after a printk prefix in a console log): program output is indented, so a program
  // cannot forge init's markers.
  for (const l of splitLines(text)) {
    const m = /^(?:\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? )?(#\s*daxrig-(?:setup|exit):.*)$/.exec(l)
    if (!m) continue
    const content = m[1]!
    const s = parseSetupLine(content)
    if (s) setup = s
    const e = EXIT_RE.exec(content)
    if (e) exitCode = Number(e[1])
  }
  const exited = exitCode !== null
  const programs: ProgramResult[] = []
  const cases: CaseResult[] = []
  // the rig's own channel has no console prefixes: use the per-program blocks; a console log falls back to
  // the generic parse
  const ownChannel = !/^\[\s*\d+\.\d+\]/m.test(text)
  for (const t of ownChannel ? blocks.tests : doc.tests) {
    const name = t.name || opts.programs?.[t.number - 1] || `#${t.number}`
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
  // Programs the variant asked for that the document never announced (plan missing or guest died early).
  for (const p of opts.programs ?? []) {
    if (programs.some(x => x.name === p)) continue
    if (setup && !setup.ok) continue
    programs.push({ name: p, status: 'crashed', detail: 'never started', reported: false })
    cases.push({ id: p, status: 'crashed', detail: exited ? 'never started' : 'guest died before the program ran', diagnostics: [] })
  }
  return { doc, programs, cases, setup, exitCode, exited }
}
