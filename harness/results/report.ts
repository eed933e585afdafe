// Human reports: report.md and a self-contained report.html (variants × cases matrix, crash excerpts, timings, links).
import type { ConsoleFinding, RunSummary, VariantResult } from '../types.js'
import { buildMatrix, cellKind, cellText, CELL_LABEL, formatTimings, type CellKind } from './case-grid.js'
import { escapeHtml, escapeMarkdownInline, markdownCodeBlock } from './text.js'
import { countsLine } from './verdict.js'

const ARTIFACTS = ['console.log', 'results.ktap', 'qemu.cmdline', 'kernel.config'] as const

const MD_MARK: Record<CellKind, string> = {
  pass: '✅ pass',
  skip: '⏭ skip',
  known: '🟨 known',
  unexpected: '❌',
  missing: '❓ missing',
  'unexpected-case': '⚠️',
}

function mdLinks(v: VariantResult): string {
  return ARTIFACTS.filter(a => v.artifacts[a])
    .map(a => `[${a}](${encodeURI(v.artifacts[a] ?? '')})`)
    .join(' · ')
}

function mdFinding(f: ConsoleFinding): string {
  const head = `- **${escapeMarkdownInline(f.kind)}** ${escapeMarkdownInline(f.title)} (console line ${f.line})${f.allowed !== undefined ? ` — allowed: ${escapeMarkdownInline(f.allowed)}` : ''}`
  const fp = f.fingerprint ? `\n  fingerprint: \`${f.fingerprint.replace(/`/g, '')}\`` : ''
  return `${head}${fp}\n\n${markdownCodeBlock(f.excerpt.join('\n'))}\n`
}

export function reportMarkdown(summary: RunSummary): string {
  const m = buildMatrix(summary)
  const out: string[] = []
  out.push('# daxrig run', '')
  out.push(`${escapeMarkdownInline(summary.started)} → ${escapeMarkdownInline(summary.finished)} · ${escapeMarkdownInline(summary.host.node)} · QEMU ${escapeMarkdownInline(summary.host.qemu)} (${escapeMarkdownInline(summary.host.accel)})`, '')
  out.push(`**${countsLine(summary.counts)}**`, '')
  out.push('| variant | verdict | summary | kernel | timings | artifacts |', '|---|---|---|---|---|---|')
  for (const v of summary.variants) {
    const kernel = v.kernel ? `${v.kernel.release} (${v.kernel.description})` : ''
    out.push(`| ${escapeMarkdownInline(v.variant)} | **${v.verdict}** | ${escapeMarkdownInline(v.summary)} | ${escapeMarkdownInline(kernel)} | ${formatTimings(v.timings)} | ${mdLinks(v)} |`)
  }
  out.push('')
  if (m.caseIds.length > 0) {
    out.push('## Matrix', '')
    out.push(`| case | ${m.rows.map(r => escapeMarkdownInline(r.variant.variant)).join(' | ')} |`)
    out.push(`|---|${m.rows.map(() => '---').join('|')}|`)
    for (const id of m.caseIds) {
      const cells = m.rows.map(r => {
        const o = r.cells.get(id)
        if (!o) return ''
        const k = cellKind(o)
        return k === 'pass' || k === 'skip' || k === 'known' ? MD_MARK[k] : `${MD_MARK[k]} ${escapeMarkdownInline(cellText(o))}`
      })
      out.push(`| ${escapeMarkdownInline(id)} | ${cells.join(' | ')} |`)
    }
    out.push('')
  }
  for (const v of summary.variants) {
    const differ = v.cases.filter(o => ['unexpected', 'missing', 'unexpected-case'].includes(o.verdict))
    const known = v.cases.filter(o => o.verdict === 'known-failure')
    const notes = v.notes ?? []
    if (differ.length === 0 && known.length === 0 && v.findings.length === 0 && notes.length === 0) continue
    out.push(`## ${escapeMarkdownInline(v.variant)}: ${v.verdict}`, '')
    for (const o of differ) {
      out.push(`- ❌ ${escapeMarkdownInline(o.id)}: ${escapeMarkdownInline(cellText(o))}${o.detail ? ` — ${escapeMarkdownInline(o.detail)}` : ''}`)
    }
    if (known.length > 0) {
      out.push('', 'Known failures:', '')
      for (const o of known) out.push(`- 🟨 ${escapeMarkdownInline(o.id)}${o.reason ? ` — ${escapeMarkdownInline(o.reason)}` : ''}`)
    }
    if (v.findings.length > 0) out.push('', '### Console findings', '', ...v.findings.map(mdFinding))
    if (notes.length > 0) out.push('', 'Notes:', '', ...notes.map(n => `- ${escapeMarkdownInline(n)}`))
    out.push('')
  }
  out.push(countsLine(summary.counts), '')
  return out.join('\n')
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}
.pass{background:#d8f5d8}.skip{background:#eee;color:#666}.known{background:#fff2b3}
.unexpected{background:#f8c4c4;font-weight:bold}.missing{background:#f0c8f0;font-weight:bold}
.unexpected-case{background:#ffd8a8;font-weight:bold}
.v-ok{color:#176617}.v-regression,.v-crash,.v-boot-hang,.v-test-hang,.v-setup-failed{color:#b00;font-weight:bold}
.v-untestable,.v-infra,.v-bad-input{color:#8a5a00;font-weight:bold}
pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;overflow-x:auto;font-size:12px}
.legend span{display:inline-block;padding:1px 6px;margin-right:4px;border:1px solid #ccc}
`

function htmlLinks(v: VariantResult): string {
  return ARTIFACTS.filter(a => v.artifacts[a])
    .map(a => `<a href="${escapeHtml(encodeURI(v.artifacts[a] ?? ''))}">${a}</a>`)
    .join(' ')
}

function htmlFinding(f: ConsoleFinding): string {
  const allowed = f.allowed !== undefined ? ` <em>allowed: ${escapeHtml(f.allowed)}</em>` : ''
  return `<details${f.allowed === undefined ? ' open' : ''}><summary><b>${escapeHtml(f.kind)}</b> ${escapeHtml(f.title)} (console line ${f.line})${allowed}</summary>` +
    `<p>fingerprint: <code>${escapeHtml(f.fingerprint)}</code></p><pre>${escapeHtml(f.excerpt.join('\n'))}</pre></details>`
}

export function reportHtml(summary: RunSummary): string {
  const m = buildMatrix(summary)
  const rows = summary.variants
    .map(v => {
      const kernel = v.kernel ? `${escapeHtml(v.kernel.release)}<br><small>${escapeHtml(v.kernel.description)}</small>` : ''
      return `<tr><td>${escapeHtml(v.variant)}</td><td class="v-${escapeHtml(v.verdict)}">${escapeHtml(v.verdict)}</td><td>${escapeHtml(v.summary)}</td><td>${kernel}</td><td>${escapeHtml(formatTimings(v.timings))}</td><td>${htmlLinks(v)}</td></tr>`
    })
    .join('\n')
  const matrix = m.caseIds
    .map(id => {
      const cells = m.rows
        .map(r => {
          const o = r.cells.get(id)
          if (!o) return '<td></td>'
          const title = [o.reason, o.detail, ...o.diagnostics].filter(Boolean).join('\n')
          return `<td class="${cellKind(o)}" title="${escapeHtml(title)}">${escapeHtml(cellText(o))}</td>`
        })
        .join('')
      return `<tr><th>${escapeHtml(id)}</th>${cells}</tr>`
    })
    .join('\n')
  const legend = (Object.keys(CELL_LABEL) as CellKind[]).map(k => `<span class="${k}">${CELL_LABEL[k]}</span>`).join('')
  const details = summary.variants
    .filter(v => v.findings.length > 0)
    .map(v => `<h3>${escapeHtml(v.variant)}</h3>${v.findings.map(htmlFinding).join('\n')}`)
    .join('\n')
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>daxrig report</title><style>${CSS}</style></head>
<body>
<h1>daxrig run</h1>
<p>${escapeHtml(summary.started)} → ${escapeHtml(summary.finished)} · ${escapeHtml(summary.host.node)} · QEMU ${escapeHtml(summary.host.qemu)} (${escapeHtml(summary.host.accel)})</p>
<p><b>${escapeHtml(countsLine(summary.counts))}</b></p>
<table><tr><th>variant</th><th>verdict</th><th>summary</th><th>kernel</th><th>timings</th><th>artifacts</th></tr>
${rows}
</table>
<h2>Matrix</h2>
<p class="legend">${legend}</p>
<table class="matrix"><tr><th>case</th>${m.rows.map(r => `<th>${escapeHtml(r.variant.variant)}</th>`).join('')}</tr>
${matrix}
</table>
<h2>Console findings</h2>
${details || '<p>none</p>'}
</body></html>
`
}
