// Builders for the typed values tests hand to the harness: each default is a minimal value that passes the
// harness's own checks, and a test overrides only the fields it is about, so the literal says what matters.
import type { CaseOutcome, FsSpec, FsType, MachineSpec, NvdimmSpec, RunSummary, VariantResult } from '../../harness/types.js'

/** A filesystem mounted with DAX, named after its type (as a variant's `fs: [ext4]` resolves). */
export const fsSpec = (type: FsType, over: Partial<FsSpec> = {}): FsSpec => ({ type, name: type, reflink: false, dax: 'always', ...over })

/** A label-less 512M fsdax DIMM carrying one filesystem. */
export const fsDimm = (type: FsType, over: Partial<NvdimmSpec> = {}): NvdimmSpec => ({ sizeMiB: 512, labelKiB: 0, mode: 'fsdax', fs: fsSpec(type), ...over })

/** A label-less 512M devdax DIMM. */
export const devdaxDimm = (over: Partial<NvdimmSpec> = {}): NvdimmSpec => ({ sizeMiB: 512, labelKiB: 0, mode: 'devdax', ...over })

/** The loader's defaults for a machine without DIMMs: 1G, 2 CPUs, no vIOMMU, no hugepages, no control fs. */
export const machineSpec = (over: Partial<MachineSpec> = {}): MachineSpec => ({
  memoryMiB: 1024,
  cpus: 2,
  nvdimms: [],
  cxl: [],
  iommu: 'none',
  hugepages: 0,
  nodaxFs: false,
  cmdline: [],
  ...over,
})

/** A case that passed as expected. */
export const caseOutcome = (id: string, over: Partial<CaseOutcome> = {}): CaseOutcome => ({
  id,
  status: 'pass',
  detail: '',
  diagnostics: [],
  expected: 'pass',
  verdict: 'as-expected',
  ...over,
})

/** A variant that ran ok with no cases, findings, timings or artifacts; `file` follows `variant`. */
export const variantResult = (over: Partial<VariantResult> = {}): VariantResult => {
  const variant = over.variant ?? 'v'
  return { variant, file: `/x/${variant}.yaml`, verdict: 'ok', summary: '', cases: [], findings: [], timings: {}, artifacts: {}, ...over }
}

/** A results.json of one TCG run a minute long, with no variants unless given. */
export const runSummary = (over: Partial<RunSummary> = {}): RunSummary => ({
  schema: 'daxrig-results/1',
  started: '2026-11-22T01:00:00Z',
  finished: '2026-11-22T01:01:00Z',
  host: { accel: 'tcg', qemu: '7.2.22', node: 'v20' },
  variants: [],
  counts: { passed: 0, failed: 0, skipped: 0 },
  ...over,
})
