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

  constructor(c: FakeCase) {
    this.c = c
    this.seriesInfo = {
      length: c.n,
      subjects: c.subjects ?? Array.from({ length: c.n }, (_, i) => `patch ${i + 1} of ${c.name}`),
    }
    this.identity = c.identity
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
