// Plain-text tables for the terminal: one column aligner for every table the rig prints, and the run summary.
import type { RunSummary } from '../types.js'
import { sanitizeTerminal } from '../results/text.js'

/**
 * Rows (the first is the header) as columns two spaces apart. The last column is not padded, so a long last
 * cell does not widen the others; with `rule`, a line of dashes under the header.
 */
export function alignColumns(rows: readonly (readonly string[])[], o: { rule?: boolean } = {}): string {
  const header = rows[0] ?? []
  const widths = header.map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  const out = rows.map(r => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
  if (o.rule) out.splice(1, 0, widths.map(w => '-'.repeat(w)).join('  '))
  return out.join('\n')
}

export function formatRunTable(s: RunSummary): string {
  const rows: string[][] = [['variant', 'verdict', 'cases', 'kernel', 'image', 'boot+test', 'total']]
  for (const v of s.variants) {
    const t = (k: string) => (v.timings[k] !== undefined ? `${v.timings[k]!.toFixed(1)}s` : '-')
    const ok = v.cases.filter(c => c.verdict === 'as-expected' || c.verdict === 'known-failure').length
    rows.push([v.variant, v.verdict.toUpperCase(), `${ok}/${v.cases.length}`, t('kernel'), t('image'), t('boot+test'), t('total')])
  }
  const out = [alignColumns(rows, { rule: true })]
  for (const v of s.variants) {
    const bad = v.cases.filter(c => c.verdict !== 'as-expected' && c.verdict !== 'known-failure')
    const known = v.cases.filter(c => c.verdict === 'known-failure')
    if (v.verdict !== 'ok') out.push('', `${v.variant}: ${sanitizeTerminal(v.summary)}`)
    for (const c of bad)
      out.push(`  ✗ ${c.id}: expected ${c.expected}, got ${c.status}${c.detail ? ` (${sanitizeTerminal(c.detail).slice(0, 160)})` : ''}`)
    for (const c of known) out.push(`  · ${c.id}: known failure${c.reason ? ` — ${sanitizeTerminal(c.reason)}` : ''}`)
    for (const f of v.findings.filter(f => f.allowed === undefined)) out.push(`  ! console: ${sanitizeTerminal(f.title)} [${f.fingerprint}]`)
  }
  return out.join('\n')
}
