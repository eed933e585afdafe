// The variants × test-cases matrix shared by the Markdown and HTML reports.
import type { CaseOutcome, RunSummary, VariantResult } from '../types.js'

export type CellKind = 'pass' | 'skip' | 'known' | 'unexpected' | 'missing' | 'unexpected-case'

export interface Matrix {
  /** every case id seen in any variant, in first-seen order */
  caseIds: string[]
  rows: { variant: VariantResult; cells: Map<string, CaseOutcome> }[]
}

/** How a cell is coloured: as-expected pass/skip, known failure, or the three ways of differing. */
export function cellKind(o: CaseOutcome): CellKind {
  switch (o.verdict) {
    case 'as-expected':
      return o.status === 'skip' ? 'skip' : 'pass'
    case 'known-failure':
      return 'known'
    default:
      return o.verdict
  }
}

export const CELL_LABEL: Record<CellKind, string> = {
  pass: 'pass',
  skip: 'skip',
  known: 'known failure',
  unexpected: 'unexpected',
  missing: 'missing',
  'unexpected-case': 'unexpected case',
}

/** Short text for a cell: the status, with the expectation when they differ. */
export function cellText(o: CaseOutcome): string {
  const k = cellKind(o)
  if (k === 'pass' || k === 'skip') return o.status
  if (k === 'known') return 'fail (known)'
  if (k === 'unexpected-case') return `${o.status} (no expectation)`
  if (k === 'missing') return `missing (expected ${o.expected})`
  return `${o.status} (expected ${o.expected})`
}

export function buildMatrix(summary: RunSummary): Matrix {
  const caseIds: string[] = []
  const seen = new Set<string>()
  const rows = summary.variants.map(variant => {
    const cells = new Map<string, CaseOutcome>()
    for (const o of variant.cases) {
      cells.set(o.id, o)
      if (!seen.has(o.id)) {
        seen.add(o.id)
        caseIds.push(o.id)
      }
    }
    return { variant, cells }
  })
  return { caseIds, rows }
}

/** `boot 6.1 s, tests 3.2 s`; timings are seconds. */
export function formatTimings(timings: Record<string, number>): string {
  return Object.entries(timings)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ')
}
