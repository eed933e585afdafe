// Terminal summary of a run: one row per variant with its per-phase timings, then every case that did
// not match its expectation, and the known failures apart.
import type { RunSummary } from '../types.js'
import { sanitizeTerminal } from './render.js'

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}

export function formatRunTable(s: RunSummary): string {
  const rows: string[][] = [['variant', 'verdict', 'cases', 'kernel', 'image', 'boot+test', 'total']]
  for (const v of s.variants) {
    const t = (k: string) => (v.timings[k] !== undefined ? `${v.timings[k]!.toFixed(1)}s` : '-')
    const ok = v.cases.filter(c => c.verdict === 'as-expected' || c.verdict === 'known-failure').length
    rows.push([v.variant, v.verdict.toUpperCase(), `${ok}/${v.cases.length}`, t('kernel'), t('image'), t('boot+test'), t('total')])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  const out = rows.map(r => r.map((c, i) => pad(c, widths[i]!)).join('  ').trimEnd())
  out.splice(1, 0, widths.map(w => '-'.repeat(w)).join('  '))
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
