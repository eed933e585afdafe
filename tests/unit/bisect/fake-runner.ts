// A synthetic series for the bisector's tests (syzkaller bisect_test.go style): prefixes are integers, behaviour comes from a case table.
import type { StepResult, StepRunner, SeriesMeta } from '../../../harness/bisect/types.js'

export interface FakeCase {
  name: string
  n: number
  /** cause: prefixes ≥ firstBad fail the test; fix: prefixes < firstBad fail. 0 or n+1 break the endpoints. */
  firstBad: number
  fix?: boolean
  brokenApply?: number[]
  brokenBuild?: number[]
  bootFail?: number[]
  /** the rig fails on these prefixes */
  infraAt?: number[]
  /** [a, b]: prefix b builds the same kernel image as prefix a */
  sameImage?: [number, number][]
  /** failing prefixes fail only on attempts where attempt % every === phase (a 1-in-`every` reproducer) */
  flaky?: { every: number; phase?: number }
  /** offer probeImage (build-only hash) */
  probe?: boolean
  /** throw (as a crashed rig process would) on this run call, 1-based */
  throwOnCall?: number
  /** newWarnings the runner reports per prefix */
  warnings?: Record<number, string[]>
  /** revert check: these patches too change the behaviour on their own (cause: break it; fix: fix it), so
   * leaving out only the culprit does not bring the old behaviour back */
  alsoBad?: number[]
  /** revert check: the series without these patches does not apply (later patches depend on them) */
  brokenWithout?: number[]
  /** revert check: the series without patch k builds the same image as prefix v */
  withoutSameAs?: Record<number, number>
  /** offer runWithout/probeWithout (the revert check) */
  revert?: boolean
  /** extra identity */
  identity?: string
  subjects?: string[]
}

export class FakeRunner implements StepRunner {
  readonly seriesInfo: SeriesMeta
  readonly identity: string | undefined
  readonly calls: { prefix: number; attempt: number }[] = []
  readonly probes: number[] = []
  readonly c: FakeCase
  probeImage?: (prefix: number) => Promise<string | undefined>
  runWithout?: (patch: number, attempt: number) => Promise<StepResult>
  probeWithout?: (patch: number) => Promise<string | undefined>
  readonly withoutCalls: { patch: number; attempt: number }[] = []

  constructor(c: FakeCase) {
    this.c = c
    this.seriesInfo = {
      length: c.n,
      subjects: c.subjects ?? Array.from({ length: c.n }, (_, i) => `patch ${i + 1} of ${c.name}`),
    }
    this.identity = c.identity
    if (c.revert) {
      const hash = (k: number) => (c.withoutSameAs?.[k] !== undefined ? this.hashOf(c.withoutSameAs[k]!) : `img-without-${k}`)
      this.runWithout = async (patch: number, attempt: number) => {
        this.withoutCalls.push({ patch, attempt })
        if (c.brokenWithout?.includes(patch)) return { outcome: 'skip', stage: 'apply', detail: `patch ${patch + 1} does not apply without ${patch}`, ms: 100 }
        // the patches that change the behaviour on their own, minus the one left out
        const left = [c.firstBad, ...(c.alsoBad ?? [])].filter(b => b !== patch && b >= 1 && b <= c.n).length > 0
        const shows = c.fix ? !left : left
        return { outcome: shows ? 'bad' : 'good', stage: 'test', imageHash: hash(patch), detail: shows ? 'map_sync.private failed' : 'all cases as expected', ms: 100 }
      }
      if (c.probe) this.probeWithout = async (patch: number) => (c.brokenWithout?.includes(patch) ? undefined : hash(patch))
    }
    if (c.probe) {
      this.probeImage = async (prefix: number) => {
        this.probes.push(prefix)
        return this.buildable(prefix) ? this.hashOf(prefix) : undefined
      }
    }
  }

  hashOf(prefix: number): string {
    let p = prefix
    // follow [a, b] links down to the first prefix of an identical-image group
    for (let changed = true; changed; ) {
      changed = false
      for (const [a, b] of this.c.sameImage ?? []) if (b === p) ((p = a), (changed = true))
    }
    return `img-${p}`
  }

  private buildable(prefix: number): boolean {
    return !this.c.brokenApply?.includes(prefix) && !this.c.brokenBuild?.includes(prefix)
  }

  fails(prefix: number): boolean {
    return this.c.fix ? prefix < this.c.firstBad : prefix >= this.c.firstBad
  }

  async run(prefix: number, attempt: number): Promise<StepResult> {
    this.calls.push({ prefix, attempt })
    if (this.c.throwOnCall === this.calls.length) throw new Error(`simulated crash of the rig at call ${this.calls.length}`)
    const ms = 100
    if (this.c.infraAt?.includes(prefix)) return { outcome: 'infra', stage: 'boot', detail: 'qemu-system-x86_64 not found', ms }
    if (this.c.brokenApply?.includes(prefix)) return { outcome: 'skip', stage: 'apply', detail: `patch ${prefix} does not apply`, ms }
    if (this.c.brokenBuild?.includes(prefix))
      return { outcome: 'skip', stage: 'build', detail: 'fs/dax.c:42: error: implicit declaration', ms, timings: { build: ms } }
    const imageHash = this.hashOf(prefix)
    if (this.c.bootFail?.includes(prefix)) return { outcome: 'skip', stage: 'boot', imageHash, detail: 'no output for 120 s', ms }
    const f = this.c.flaky
    const shows = this.fails(prefix) && (!f || attempt % f.every === (f.phase ?? 0))
    return {
      outcome: shows ? 'bad' : 'good',
      stage: 'test',
      imageHash,
      detail: shows ? 'map_sync.private failed' : 'all cases as expected',
      ms,
      timings: { build: 60, test: 40 },
      caseStatuses: { 'map_sync.private': shows ? 'fail' : 'pass', 'map_sync.shared': 'pass' },
      ...(this.c.warnings?.[prefix] ? { newWarnings: this.c.warnings[prefix] } : {}),
    }
  }
}
