// The shapes of results.json, written once: each zod schema below is the source of its TypeScript type
// (z.infer, re-exported from types.ts) and of results.schema.json (z.toJSONSchema, `npm run schema`).
// Enumerations are z.enum: their lists (`.options`) are the ones the rest of the code uses.
import { z } from 'zod'
import type { GuestTimeline } from '../vm/guest-progress.js'

/** What a variant expects of a case. */
export const ExpectationSchema = z.enum(['pass', 'fail', 'skip'])

/** Status of one test case after KTAP parsing. */
export const CaseStatusSchema = z.enum(['pass', 'fail', 'skip', 'crashed', 'timeout', 'error'])

/** A case's status against its expectation. */
export const CaseVerdictSchema = z.enum(['as-expected', 'unexpected', 'known-failure', 'missing', 'unexpected-case'])

/** Outcome of one VM run of one variant; `interrupted`: stopped by SIGINT/SIGTERM, says nothing about the kernel. */
export const RunVerdictSchema = z.enum(['ok', 'regression', 'crash', 'boot-hang', 'test-hang', 'setup-failed', 'untestable', 'infra', 'bad-input', 'interrupted'])

/** The verdicts a variant may declare with `expect-run`: the ones that say something about the kernel. */
export const DeclarableRunVerdictSchema = RunVerdictSchema.exclude(['infra', 'bad-input', 'interrupted'])

/** The verdicts that fail a run as a regression (exit 1) when no variant expected them. */
export const FAILING_RUN_VERDICTS: ReadonlySet<RunVerdict> = new Set(
  RunVerdictSchema.extract(['regression', 'crash', 'boot-hang', 'test-hang', 'setup-failed']).options,
)

export const FindingKindSchema = z.enum(['panic', 'oops', 'bug', 'warning', 'kasan', 'ubsan', 'lockdep', 'hung-task', 'soft-lockup', 'rcu-stall', 'kmemleak', 'triple-fault'])

export const CaseResultSchema = z.strictObject({
  /** `program.case` */
  id: z.string().describe('program.case'),
  status: CaseStatusSchema,
  /** skip reason, failure diagnostics */
  detail: z.string(),
  diagnostics: z.array(z.string()),
})

export const CaseOutcomeSchema = CaseResultSchema.extend({
  expected: z.enum([...ExpectationSchema.options, 'unknown']),
  reason: z.string().exactOptional(),
  verdict: CaseVerdictSchema,
}).meta({ id: 'caseOutcome' })

export const ConsoleFindingSchema = z
  .strictObject({
    kind: FindingKindSchema,
    title: z.string(),
    /** first few frames of the call trace, joined: stable across runs */
    fingerprint: z.string(),
    excerpt: z.array(z.string()),
    line: z.number().int().min(1),
    allowed: z.string().exactOptional(),
  })
  .meta({ id: 'finding' })

/**
 * Why a run has no test verdict. `kind` is the class of failure (the exit-code family); `stage` is where it
 * happened: a patch that does not apply, a config or build that fails, the image, the boot. Consumers (bisect,
 * patchcheck, reports) read these fields, never the summary's wording.
 */
export const RunFailureSchema = z.strictObject({
  kind: z.enum(['bad-input', 'untestable', 'infra', 'interrupted']),
  stage: z.enum(['variant', 'kernel', 'apply', 'config', 'build', 'image', 'boot']),
})

/** The marks a run's guest reached, in guest-clock seconds since the kernel started. */
export const GuestTimelineSchema = z.strictObject({
  planStart: z.number().min(0).exactOptional(),
  /** each program's start, in order */
  programs: z.array(z.strictObject({ name: z.string(), at: z.number().min(0) })),
  powerDown: z.number().min(0).exactOptional(),
})

// The VM stage declares GuestTimeline itself; this fails to compile when the two drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
export const GUEST_TIMELINE_MATCHES: Same<z.infer<typeof GuestTimelineSchema>, GuestTimeline> = true

export const VariantResultSchema = z
  .strictObject({
    variant: z.string(),
    file: z.string(),
    verdict: RunVerdictSchema,
    /** set when the variant declares `expect-run`: the verdict it must end with */
    expectedVerdict: RunVerdictSchema.describe('set when the variant declares expect-run: the verdict it must end with').exactOptional(),
    /** one line explaining the verdict */
    summary: z.string(),
    kernel: z
      .strictObject({
        id: z.string(),
        release: z.string(),
        description: z.string(),
        imageHash: z.string(),
        buildLog: z.string().describe("the build's full log in the rig's cache (source kernels)").exactOptional(),
      })
      .exactOptional(),
    /** set when the run stopped before its tests could be judged: what kind of failure, at which stage */
    failure: RunFailureSchema.describe('set when the run stopped before its tests could be judged: the class of failure and the stage').exactOptional(),
    /** what the guest reported of its progress (guest clock), for timings; absent when no VM ran */
    guest: GuestTimelineSchema.describe("the guest's progress marks in guest-clock seconds: init up, each program's start, power-down").exactOptional(),
    cases: z.array(CaseOutcomeSchema),
    findings: z.array(ConsoleFindingSchema),
    timings: z.record(z.string(), z.number().min(0)),
    /** relative to the run's out dir */
    artifacts: z.record(z.string(), z.string()),
    /** what the run showed that is not a verdict (processes a program left behind, channel noise, a console flood) */
    notes: z.array(z.string()).describe('what the run showed that is not a verdict: processes left behind, channel noise, a console flood').exactOptional(),
  })
  .meta({ id: 'variantResult' })

const count = z.number().int().min(0)

export const RunCountsSchema = z
  .strictObject({
    passed: count,
    failed: count,
    skipped: count,
    known: count.describe('expected failures seen failing (not counted as failed)').exactOptional(),
  })
  .meta({ id: 'counts', description: 'the `daxrig: N passed, N failed, N skipped` line; failed counts results that differ from the expectation' })

export const RunSummarySchema = z
  .strictObject({
    schema: z.literal('daxrig-results/1'),
    started: z.string().describe('ISO 8601 time the run started'),
    finished: z.string().describe('ISO 8601 time the run finished'),
    host: z.strictObject({ accel: z.string(), qemu: z.string(), node: z.string() }),
    variants: z.array(VariantResultSchema),
    counts: RunCountsSchema,
    /** the run was stopped by a signal: the results are partial */
    interrupted: z.literal(true).describe('set when the run was stopped by SIGINT/SIGTERM: the results are partial').exactOptional(),
    interruptedBy: z.string().describe('the signal: SIGINT or SIGTERM').exactOptional(),
  })
  .meta({ $id: 'https://daxrig.invalid/results.schema.json', title: 'daxrig results.json (RunSummary, harness/results/schema.ts)' })

export type Expectation = z.infer<typeof ExpectationSchema>
export type CaseStatus = z.infer<typeof CaseStatusSchema>
export type CaseVerdict = z.infer<typeof CaseVerdictSchema>
export type RunVerdict = z.infer<typeof RunVerdictSchema>
export type CaseResult = z.infer<typeof CaseResultSchema>
export type CaseOutcome = z.infer<typeof CaseOutcomeSchema>
export type ConsoleFinding = z.infer<typeof ConsoleFindingSchema>
export type RunFailure = z.infer<typeof RunFailureSchema>
export type VariantResult = z.infer<typeof VariantResultSchema>
export type RunSummary = z.infer<typeof RunSummarySchema>

/** results.schema.json as generated from RunSummarySchema (scripts/gen-schema.mjs writes it, a unit test compares). */
export function resultsJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RunSummarySchema, {
    // zod bounds every integer to the safe range; results.json's counts and line numbers need no upper bound
    override: ({ jsonSchema }) => {
      if (jsonSchema.type === 'integer' && jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum
    },
  }) as Record<string, unknown>
}
