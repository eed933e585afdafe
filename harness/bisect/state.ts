// Bisection state file: per-prefix runs saved after every run (temp file + rename), so an interrupted bisection resumes.
import { writeFileAtomic } from '../util/atomic.js'
import { readFile } from 'node:fs/promises'
import { InfraError, InputError } from '../errors.js'
import type { AttemptRecord, BisectMode, StepRunner, Verdict } from './types.js'
import type { TryPolicy } from './policy.js'

export const STATE_SCHEMA = 'daxrig-bisect-state/1'

/** Everything that must match for recorded runs to be valid in a new bisection. */
export interface BisectIdentity {
  mode: BisectMode
  tries: number
  maxRuns: number
  length: number
  subjects: string[]
  /** the runner's identity (variant, test id, patch hashes), when it gives one */
  runner?: string
}

/** What is known about one prefix. Infra runs are never stored: a resumed bisection runs that prefix again. */
export interface PrefixState {
  prefix: number
  attempts: AttemptRecord[]
  /** present once the policy decided (or the verdict was reused) */
  verdict?: Verdict
  reason?: string
  imageHash?: string
  reusedFrom?: number
  sameImageAs?: number
}

export interface BisectState {
  schema: typeof STATE_SCHEMA
  identity: BisectIdentity
  prefixes: PrefixState[]
  updated: string
}

export function identityOf(runner: StepRunner, policy: TryPolicy, mode: BisectMode): BisectIdentity {
  return {
    mode,
    tries: policy.tries,
    maxRuns: policy.maxRuns,
    length: runner.seriesInfo.length,
    subjects: [...runner.seriesInfo.subjects],
    ...(runner.identity !== undefined ? { runner: runner.identity } : {}),
  }
}

/** Why two identities differ, in words, or undefined when they are the same bisection. */
export function identityMismatch(saved: BisectIdentity, now: BisectIdentity): string | undefined {
  if (saved.runner !== now.runner) return `the test identity differs (${saved.runner ?? 'none'} vs ${now.runner ?? 'none'})`
  if (saved.mode !== now.mode) return `it was a ${saved.mode} bisection, this is a ${now.mode} bisection`
  if (saved.length !== now.length) return `the series had ${saved.length} patches, now ${now.length}`
  const k = saved.subjects.findIndex((s, i) => s !== now.subjects[i])
  if (k >= 0) return `patch ${k + 1} differs ("${saved.subjects[k]}" vs "${now.subjects[k] ?? ''}")`
  if (saved.subjects.length !== now.subjects.length) return `the subject lists differ in length`
  if (saved.tries !== now.tries || saved.maxRuns !== now.maxRuns)
    return `it used --tries ${saved.tries} (cap ${saved.maxRuns}), this uses --tries ${now.tries} (cap ${now.maxRuns})`
  return undefined
}

/** Read a state file; undefined when there is none. A file that is not a state file is bad input, not a crash. */
export async function loadState(path: string): Promise<BisectState | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InfraError(`cannot read bisect state ${path}: ${(e as Error).message}`)
  }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new InputError(`not JSON: ${(e as Error).message}; remove it or pass --restart`, path)
  }
  if (!isState(v)) throw new InputError(`not a ${STATE_SCHEMA} file; remove it or pass --restart`, path)
  return v
}

function isState(v: unknown): v is BisectState {
  if (!v || typeof v !== 'object') return false
  const o = v as Record<string, unknown>
  const id = o.identity as Record<string, unknown> | undefined
  return (
    o.schema === STATE_SCHEMA &&
    !!id &&
    typeof id.length === 'number' &&
    Array.isArray(id.subjects) &&
    Array.isArray(o.prefixes) &&
    o.prefixes.every(p => p && typeof p === 'object' && typeof p.prefix === 'number' && Array.isArray(p.attempts))
  )
}

/** Write atomically: a reader (or a crash) sees the old file or the new one, never half of one. */
export async function saveState(path: string, state: BisectState): Promise<void> {
  try {
    await writeFileAtomic(path, JSON.stringify(state, null, 2) + '\n')
  } catch (e) {
    throw new InfraError(`cannot write bisect state ${path}: ${(e as Error).message}`)
  }
}
