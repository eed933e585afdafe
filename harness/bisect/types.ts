// Types of the in-series bisector and patchcheck: the StepRunner contract the kernel side implements, and the records both produce.

/** What one build+boot+test of a prefix showed. `skip` = untestable (apply/build/boot failed); `infra` = the rig failed. */
export type StepOutcome = 'good' | 'bad' | 'skip' | 'infra'

export type StepStage = 'apply' | 'build' | 'boot' | 'test'

/** The result of one `run(prefix, attempt)`. */
export interface StepResult {
  /**
   * `good`: the test behaved as the variant expects; `bad`: it did not (the expected failure, not any failure);
   * `skip`: untestable; `infra`: the rig failed (never turned into skip).
   */
  outcome: StepOutcome
  /** where it stopped: the failing stage for skip/infra, `test` when the test ran */
  stage?: StepStage
  /** sha256 of the kernel image; equal hashes mean the same kernel was built */
  imageHash?: string
  /** one line: why (compiler error, "map_sync.private failed", "QEMU not found") */
  detail: string
  /** wall time of the whole run */
  ms: number
  /** per-stage wall times, for progress lines */
  timings?: Partial<Record<StepStage, number>>
  /** status of every test case seen (`program.case` → pass|fail|skip|crashed|…), for patchcheck's change column */
  caseStatuses?: Record<string, string>
  /** compiler warnings in files the newest patch touches that the previous prefix did not have */
  newWarnings?: string[]
}

/** The series under test. `subjects[k-1]` is the subject of patch k (1-based); prefix 0 is the base. */
export interface SeriesMeta {
  length: number
  subjects: string[]
}

/**
 * Builds, boots and tests the base plus the first `prefix` patches. Prefix 0 = base, `seriesInfo.length` = whole series.
 * `attempt` counts runs of the same prefix from 0, so a runner can keep one build and boot again.
 * Throwing aborts the bisection (state already saved stays resumable); return `infra` for a rig failure you can describe.
 */
export interface StepRunner {
  readonly seriesInfo: SeriesMeta
  /**
   * What is being bisected beyond the subjects: variant, test id, base, patch content hashes, config.
   * A state file is only resumed by a bisection with the same identity.
   */
  readonly identity?: string | undefined
  run(prefix: number, attempt: number): Promise<StepResult>
  /**
   * Optional: build (or take from the cache) the prefix's kernel and return its image hash without booting it,
   * so a prefix whose kernel equals an already-tested one is not tested again. `undefined` when it cannot be built
   * (the following `run` reports why).
   */
  probeImage?(prefix: number): Promise<string | undefined>
  /**
   * Optional, for the revert check after a bisection: the whole series without patch `patch` (1-based), run like
   * `run`. If leaving the culprit out restores the old behaviour, the culprit is confirmed.
   */
  runWithout?(patch: number, attempt: number): Promise<StepResult>
  /** Optional: the image hash of the series without `patch`, built but not booted (as probeImage). */
  probeWithout?(patch: number): Promise<string | undefined>
}

/** Verdict on one prefix after the flaky-test policy: `weak` = failed sometimes, too rarely to call it bad. */
export type Verdict = 'good' | 'bad' | 'skip' | 'weak' | 'infra'

/** One run of one prefix, as recorded in steps and in the state file. */
export type AttemptRecord = Pick<StepResult, 'outcome' | 'stage' | 'imageHash' | 'detail' | 'ms' | 'timings'> & { attempt: number }

/** What the bisector concluded about one prefix. */
export interface StepRecord {
  /** 1-based order in which prefixes were looked at */
  step: number
  prefix: number
  verdict: Verdict
  /** the policy's explanation ("2 of 4 runs failed") or why the verdict was reused */
  reason: string
  attempts: AttemptRecord[]
  pass: number
  fail: number
  imageHash?: string
  /** the stage that made it untestable (skip) or failed the rig (infra) */
  stage?: StepStage
  /** the verdict was copied from this prefix because both built the same kernel image */
  reusedFrom?: number
  /** the image equals that of this earlier-tested prefix (reused or not) */
  sameImageAs?: number
  /** taken from the state file of an interrupted bisection; no runner call */
  resumed?: boolean
  /** wall time of this step's runs */
  ms: number
}

export type BisectMode = 'cause' | 'fix'

/** The revert check: the whole series with the culprit left out, which should behave like the base. */
export interface Verification {
  /** the culprit that was left out */
  without: number
  verdict: Verdict
  /** confirmed: the old behaviour is back; refuted: it is not; unknown: untestable, weak, or the rig failed */
  outcome: 'confirmed' | 'refuted' | 'unknown'
  reason: string
  attempts: AttemptRecord[]
  imageHash?: string
  /** the image equals that of this tested prefix, whose verdict was reused */
  sameImageAs?: number
  line: string
}

export type BisectStatus = 'found' | 'inconclusive' | 'endpoints-disagree' | 'infra'

export interface BisectResult {
  status: BisectStatus
  mode: BisectMode
  /** series length N */
  length: number
  /** found: the first prefix showing the new behaviour (bad, or good with --fix) = the culprit patch number */
  firstBad?: number
  subject?: string
  /** inconclusive: the culprit is one of the patches range[0]..range[1] (inclusive); all between were skipped */
  range?: [number, number]
  /** inconclusive: the untestable prefixes inside the range */
  skipped?: number[]
  /** endpoints-disagree: the endpoint that did not show what a bisection needs */
  endpoint?: { prefix: number; expected: Verdict; got: Verdict; detail: string }
  /** set when the culprit's kernel image equals its parent's */
  noop?: string
  /** found: the revert check, unless switched off or the runner cannot leave a patch out */
  verification?: Verification
  steps: StepRecord[]
  /** distinct prefixes the runner was asked to build in this session */
  builds: number
  /** calls of runner.run in this session */
  runs: number
  /** see policy.ts `bisectConfidence` */
  confidence: number
  /** the stated flaky-test rule */
  policy: string
  /** one line: why this status */
  detail: string
  /** the final line to print: `first bad patch: K/N <subject>` */
  line: string
}
