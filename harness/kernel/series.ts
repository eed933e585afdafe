// Patch series: read an mbox, a directory of patches or a git range into ordered patches; identify and apply them.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { InputError, UntestableError } from '../errors.js'
import { sha256 } from '../cache/store.js'
import { run, runOk } from '../util/exec.js'
import type { KernelSpec } from '../types.js'

export interface SeriesPatch {
  /** 1-based position in the series after ordering */
  index: number
  /** subject without the [PATCH ...] prefix */
  subject: string
  /** sha256 over the patch's +/- and mode lines only: context or offset drift does not change it */
  identity: string
  /** paths the patch touches (new names) */
  files: string[]
  /** the whole message as read (headers, body, diff) */
  raw: string
  /** the diff part, what gets applied */
  diff: string
  /** where it came from: `series.mbox#3`, `dir/0003-x.patch` */
  origin: string
}

/** `[PATCH v2 3/5]`, `[RFC PATCH 0/4]`, `[PATCH]` → version, number, total (number/total absent when unnumbered). */
export interface SubjectTag {
  version: number
  k?: number
  n?: number
  /** subject with the bracketed prefixes and Re:/Fwd: removed */
  title: string
  isReply: boolean
}

export function parseSubject(subject: string): SubjectTag {
  let s = subject.trim()
  let isReply = false
  let version = 1
  let k: number | undefined
  let n: number | undefined
  for (;;) {
    const re = /^(re|fwd?|aw):\s*/i.exec(s)
    if (re) {
      isReply = true
      s = s.slice(re[0].length)
      continue
    }
    const br = /^\[([^\]]*)\]\s*/.exec(s)
    if (!br) break
    const tag = br[1] ?? ''
    const v = /\bv(\d+)\b/i.exec(tag)
    if (v?.[1]) version = Number(v[1])
    const num = /\b(\d+)\/(\d+)\b/.exec(tag)
    if (num?.[1] && num[2]) {
      k = Number(num[1])
      n = Number(num[2])
    }
    s = s.slice(br[0].length)
  }
  const out: SubjectTag = { version, title: s.trim(), isReply }
  if (k !== undefined) out.k = k
  if (n !== undefined) out.n = n
  return out
}

interface DiffFile {
  oldPath?: string
  newPath?: string
}

export interface ParsedDiff {
  files: string[]
  /** lines that define what the patch does: +/- lines of hunks, file headers, mode/rename lines */
  essential: string[]
  /** why the diff is not a usable patch (truncated hunk, no hunks at all) */
  problem?: string
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/
const META = /^(old mode|new mode|deleted file mode|new file mode|rename from|rename to|copy from|copy to|similarity index|dissimilarity index) ?(.*)$/

/**
 * Walk a unified diff, counting hunk lines against their headers, so a truncated patch is caught before
 * git sees it and trailing text (a `-- ` signature, a list footer) is never mistaken for a removed line.
 */
export function parseDiff(diff: string): ParsedDiff {
  const lines = diff.split('\n')
  const files: DiffFile[] = []
  const essential: string[] = []
  let hunks = 0
  let oldLeft = 0
  let newLeft = 0
  let hunkAt = 0
  let binary = false
  let gitHeaderOpen = false
  let problem: string | undefined
  const finishHunk = (i: number): void => {
    if ((oldLeft > 0 || newLeft > 0) && !problem)
      problem = `hunk at line ${hunkAt} ends early at line ${i + 1} (${oldLeft} old and ${newLeft} new lines missing): truncated or damaged patch`
    oldLeft = 0
    newLeft = 0
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (oldLeft > 0 || newLeft > 0) {
      const c = line[0]
      // the '' after the text's final newline is not a (whitespace-damaged) context line
      if (i === lines.length - 1 && line === '') break
      if (line === '' || c === ' ') {
        oldLeft--
        newLeft--
      } else if (c === '-') {
        oldLeft--
        essential.push(line)
      } else if (c === '+') {
        newLeft--
        essential.push(line)
      } else if (c === '\\') {
        // "\ No newline at end of file" belongs to the previous line
        essential.push(line)
      } else finishHunk(i)
      if (oldLeft < 0 || newLeft < 0) {
        if (!problem) problem = `hunk at line ${hunkAt} has more lines than its header says`
        oldLeft = 0
        newLeft = 0
      }
      if (oldLeft > 0 || newLeft > 0 || c === '\\') continue
      // a "\ No newline" marker may follow the hunk's last line
      if (lines[i + 1]?.startsWith('\\')) essential.push(lines[++i] ?? '')
      continue
    }
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git a\/(.+?) b\/(.+)$/.exec(line)
      files.push(m?.[1] && m[2] ? { oldPath: m[1], newPath: m[2] } : {})
      essential.push(line)
      binary = false
      gitHeaderOpen = true
      continue
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const strip = (p: string): string | undefined => {
        const path = p.slice(4).replace(/\t.*$/, '')
        return path === '/dev/null' ? undefined : path.replace(/^[ab]\//, '')
      }
      const entry: DiffFile = {}
      const o = strip(line)
      const n = strip(lines[i + 1] ?? '')
      if (o) entry.oldPath = o
      if (n) entry.newPath = n
      // after `diff --git` the ---/+++ pair refines the same file (and says which side is /dev/null)
      if (gitHeaderOpen) files[files.length - 1] = entry
      else files.push(entry)
      gitHeaderOpen = false
      essential.push(line, lines[i + 1] ?? '')
      i++
      continue
    }
    const h = HUNK.exec(line)
    if (h) {
      hunks++
      hunkAt = i + 1
      oldLeft = h[2] === undefined ? 1 : Number(h[2])
      newLeft = h[4] === undefined ? 1 : Number(h[4])
      continue
    }
    if (META.test(line)) {
      // similarity changes with context; the rename itself does not
      if (!/^(similarity|dissimilarity) index/.test(line)) essential.push(line)
      continue
    }
    if (line === 'GIT binary patch') {
      binary = true
      hunks++
      continue
    }
    if (binary && line !== '') essential.push(line)
  }
  finishHunk(lines.length)
  if (!hunks && !essential.some(l => META.test(l)) && !problem) problem = 'no diff hunks found'
  const out: ParsedDiff = {
    files: [...new Set(files.map(f => f.newPath ?? f.oldPath).filter((p): p is string => !!p))],
    essential,
  }
  if (problem) out.problem = problem
  return out
}

/** KernelCI-style content identity: context lines, hunk offsets and index lines are left out. */
export function patchIdentity(diff: string): string {
  return sha256(parseDiff(diff).essential.join('\n'))
}

interface Message {
  subject: string
  raw: string
  diff: string
  origin: string
}

/** Split a mailbox with git mailsplit; each file in the result is one message. */
async function mailsplit(file: string, dir: string, single: boolean): Promise<string[]> {
  const args = ['mailsplit', ...(single ? ['-b'] : []), `-o${dir}`, file]
  const r = await run('git', args)
  if (r.exitCode !== 0) throw new InputError(`not a mailbox: ${r.all.trim().split('\n')[0] ?? ''}`, file)
  return (await readdir(dir)).filter(f => /^\d+$/.test(f)).sort()
}

/** Subject (kept with its [PATCH] tag) and the diff of one message, via git mailinfo. */
async function mailinfo(msgFile: string, dir: string, origin: string): Promise<Message> {
  const msg = join(dir, 'msg')
  const patch = join(dir, 'patch')
  const r = await runOk('git', ['mailinfo', '-k', msg, patch], { stdin: { file: msgFile } }, out =>
    new InputError(`git mailinfo cannot read this message: ${out.trim().split('\n')[0] ?? ''}`, origin),
  )
  const subject = /^Subject: (.*)$/m.exec(r.stdout)?.[1] ?? ''
  return { subject, raw: await readFile(msgFile, 'utf8'), diff: await readFile(patch, 'utf8').catch(() => ''), origin }
}

async function readMessages(file: string, single: boolean, label: string): Promise<Message[]> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-mbox-'))
  try {
    const parts = await mailsplit(file, dir, single)
    const out: Message[] = []
    for (const p of parts) out.push(await mailinfo(join(dir, p), dir, single ? label : `${label}#${Number(p)}`))
    return out
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Order the messages of a series: drop the cover letter (0/N), replies and diff-less mail, keep the newest
 * version when several are mixed, sort by k/N and insist that 1..N are all there (unless the source holds
 * exactly one patch: testing one patch taken from a thread is ordinary).
 */
export function orderSeries(messages: Message[], source: string, numbered: boolean): SeriesPatch[] {
  const withTags = messages.map(m => ({ m, tag: parseSubject(m.subject) }))
  let cands = withTags.filter(x => !x.tag.isReply && x.tag.k !== 0 && x.m.diff.trim() !== '')
  if (!cands.length) throw new InputError('no patches found (only a cover letter, replies or mail without a diff)', source)
  if (numbered) {
    const newest = Math.max(...cands.map(x => x.tag.version))
    cands = cands.filter(x => x.tag.version === newest)
    const counted = cands.filter(x => x.tag.k !== undefined)
    // one patch picked out of a thread ("[PATCH v5 12/12]" saved on its own) is a one-patch series;
    // with two or more numbered patches a gap really is a broken download
    if (counted.length > 1) {
      const n = counted[0]?.tag.n ?? counted.length
      const seen = new Map<number, string>()
      for (const x of counted) {
        if (x.tag.n !== n) throw new InputError(`patch "${x.m.subject}" says ${x.tag.k}/${x.tag.n}, others say N=${n}`, x.m.origin)
        const k = x.tag.k ?? 0
        if (seen.has(k)) throw new InputError(`two patches numbered ${k}/${n}: "${seen.get(k)}" and "${x.m.subject}"`, source)
        seen.set(k, x.m.subject)
      }
      const missing = Array.from({ length: n }, (_, i) => i + 1).filter(k => !seen.has(k))
      if (missing.length) throw new InputError(`series v${newest} is incomplete: missing ${missing.map(k => `${k}/${n}`).join(', ')}`, source)
      cands = [...counted].sort((a, b) => (a.tag.k ?? 0) - (b.tag.k ?? 0))
    }
  }
  return cands.map((x, i) => {
    const parsed = parseDiff(x.m.diff)
    if (parsed.problem) throw new InputError(`patch "${x.m.subject}": ${parsed.problem}`, x.m.origin)
    return {
      index: i + 1,
      subject: x.tag.title || x.m.subject || basename(x.m.origin),
      identity: sha256(parsed.essential.join('\n')),
      files: parsed.files,
      raw: x.m.raw,
      diff: x.m.diff,
      origin: x.m.origin,
    }
  })
}

export async function loadMbox(file: string): Promise<SeriesPatch[]> {
  return orderSeries(await readMessages(file, false, file), file, true)
}

/** A directory of *.patch / *.diff files, applied in file-name order (format-patch numbers them). */
export async function loadPatchDir(dir: string): Promise<SeriesPatch[]> {
  const names = (await readdir(dir).catch(e => {
    throw new InputError(`cannot read patch directory: ${(e as Error).message}`, dir)
  }))
    .filter(f => /\.(patch|diff)$/.test(f))
    .sort()
  if (!names.length) throw new InputError('no *.patch or *.diff files', dir)
  const msgs: Message[] = []
  for (const name of names) {
    const file = join(dir, name)
    const got = await readMessages(file, true, file)
    if (got.length !== 1) throw new InputError(`expected one patch per file, found ${got.length} messages`, file)
    msgs.push(...got)
  }
  return orderSeries(msgs, dir, false)
}

/** A git range A..B in a tree, exported as a numbered series. */
export async function loadGitRange(tree: string, range: string): Promise<SeriesPatch[]> {
  if (!/^[^\s.][^\s]*\.\.[^\s.]+$/.test(range)) throw new InputError(`not a git range A..B: "${range}"`)
  // format-patch writes one diff per commit: a merge has none of its own, so a range with merges cannot be a series
  const merges = await run('git', ['-C', tree, 'rev-list', '--merges', range])
  if (merges.exitCode === 0 && merges.stdout.trim())
    throw new InputError(`git range ${range} in ${tree} contains merge commits (${merges.stdout.trim().split('\n').map(c => c.slice(0, 12)).join(', ')}): give a linear range, e.g. one rebased onto its base`)
  // keep the final newline: without it the last hunk of the last patch ends mid-line and no longer applies
  const r = await runOk('git', ['-C', tree, 'format-patch', '--stdout', '--numbered', '--no-signature', '--binary', range], { stripFinalNewline: false }, out =>
    new InputError(`git format-patch ${range} failed in ${tree}: ${out.trim().split('\n')[0] ?? ''}`),
  )
  if (!r.stdout.trim()) throw new InputError(`git range ${range} in ${tree} has no commits`)
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-range-'))
  try {
    const file = join(dir, 'range.mbox')
    await writeFile(file, r.stdout)
    const patches = await loadMbox(file)
    return patches.map(p => ({ ...p, origin: `${range}#${p.index}` }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The series of a kernel spec (empty when it has none). `gitTree` is where a git range lives. */
export async function loadSeries(spec: KernelSpec, gitTree?: string): Promise<SeriesPatch[]> {
  const s = spec.series
  if (!s) return []
  if (s.mbox) {
    const st = await stat(s.mbox).catch(() => undefined)
    if (!st?.isFile()) throw new InputError('no such mbox', s.mbox)
    return loadMbox(s.mbox)
  }
  if (s.dir) return loadPatchDir(s.dir)
  if (s.gitRange) {
    const tree = gitTree ?? spec.git?.path
    if (!tree) throw new InputError(`git range ${s.gitRange} needs a git tree (kernel.source: {git: PATH, ref: REF})`)
    return loadGitRange(tree, s.gitRange)
  }
  return []
}

export async function seriesLength(spec: KernelSpec, gitTree?: string): Promise<number> {
  return (await loadSeries(spec, gitTree)).length
}

/** The file git names in a failed apply: `error: patch failed: F:L`, `error: F: does not exist in index`, … */
export function failingFile(gitOutput: string): string | undefined {
  for (const re of [/^error: patch failed: (.+):\d+$/m, /^error: (.+?): (?:does not exist in index|No such file or directory|already exists in (?:index|working directory)|patch does not apply|does not match index)$/m])
    {
      const m = re.exec(gitOutput)
      if (m?.[1]) return m[1]
    }
  return undefined
}

/**
 * Apply patches 1..upto (leaving out patch `without`, when given) to a clean git work tree (index and files),
 * stopping with UntestableError at the first failure.
 */
export async function applySeries(tree: string, patches: SeriesPatch[], upto = patches.length, without?: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-apply-'))
  try {
    for (const p of patches.slice(0, upto).filter(p => p.index !== without)) {
      const file = join(dir, `${String(p.index).padStart(4, '0')}.patch`)
      await writeFile(file, p.diff)
      const r = await run('git', ['-C', tree, 'apply', '--index', '--whitespace=nowarn', file])
      if (r.exitCode !== 0) {
        const where = failingFile(r.all) ?? p.files[0] ?? '?'
        throw new UntestableError(
          `patch ${p.index}/${patches.length} "${p.subject}" does not apply${without ? ` without ${without}/${patches.length}` : ''}: ${where} (${p.origin})`,
          'apply',
          r.all.trim().split('\n').slice(0, 12).join('\n'),
        )
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
