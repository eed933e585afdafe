// KTAP v1 / TAP 13-14 parser, with the semantics of the kernel's tools/testing/kunit/kunit_parser.py: the
// version line (found anywhere, the console prefix measured there), plans, nested subtests, the SKIP / todo /
// XFAIL directives, diagnostics. It knows nothing of daxrig's results channel (results/channel.ts reads that).
import { printkMessage, printkPrefix, splitLines } from './text.js'

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
  /** diagnostics after the last top-level result */
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
// kunit_parser stops here: whatever follows belongs to a dying or rebooting kernel, not to the test document.
const END_RE = /List of all partitions:|Kernel panic - not syncing|reboot: (?:System halted|Restarting system|Power down)|Linux version \d/
const RESULT_RE = /^(not ok|ok)\b(?:\s+(\d+))?(?:\s*-?\s*)?(.*)$/
const PLAN_RE = /^1\.\.(\d+)(?:\s*#\s*(.*))?$/
const DIRECTIVE_RE = /^(.*?)\s*(?<!\\)#\s*(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\b:?\s*(.*)$/i
const SUBTEST_RE = /^#\s*Subtest:\s*(.*)$/

/** `KTAP version 1` / `TAP version 14`, from the start of LINE (callers trim the indentation when it does not matter). */
export function isVersionLine(line: string): boolean {
  return /^K?TAP version \d+\s*$/.test(line)
}

/** N of a plan line `1..N`; null for any other line. */
export function planOf(content: string): number | null {
  const m = PLAN_RE.exec(content)
  return m ? Number(m[1]) : null
}

/**
 * Finds the first version line and returns the lines from there on with the console prefix removed, up to an
 * end marker (panic, reboot, a new boot banner) on a line of the document's own level.
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
    const text = strip(raw)
    // an indented line (deeper than the version line) is a test's own output, which may quote anything
    if (i > start && END_RE.test(raw) && (text === null || indentOf(text) === 0)) break
    if (text !== null) lines.push({ line: i + 1, text })
  }
  return { found: true, version, prefix, lines }
}

/**
 * Builds the function that removes the console prefix. A printk timestamp differs on every line, so it is
 * removed by pattern; any other prefix literally. Lines without the prefix are not part of the document.
 */
function prefixStripper(prefix: string): (line: string) => string | null {
  if (prefix !== '' && printkPrefix(prefix) === prefix && prefix.endsWith(' ')) {
    return line => (printkPrefix(line) === '' ? null : printkMessage(line))
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
    if (isVersionLine(content)) {
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
