// Writes every report of a run into its out dir: results.json, junit.xml, kcidb.json, report.md, report.html.
import { writeFileAtomic } from '../util/atomic.js'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { RunSummary } from '../types.js'
import { junitXml } from './junit.js'
import { kcidbDocument } from './kcidb.js'
import { reportHtml, reportMarkdown } from './report.js'

export const REPORT_FILES = ['results.json', 'junit.xml', 'kcidb.json', 'report.md', 'report.html'] as const

/** results.json: the RunSummary itself (described by results.schema.json). */
export function resultsJson(summary: RunSummary): string {
  return `${JSON.stringify(summary, null, 2)}\n`
}

// Written beside and renamed, so a reader (CI uploading artifacts, `out/latest`) never sees half a report.

/** Writes all reports; returns their paths by file name. */
export async function writeReports(summary: RunSummary, outDir: string): Promise<Record<(typeof REPORT_FILES)[number], string>> {
  await mkdir(outDir, { recursive: true })
  const contents: Record<(typeof REPORT_FILES)[number], string> = {
    'results.json': resultsJson(summary),
    'junit.xml': junitXml(summary),
    'kcidb.json': `${JSON.stringify(kcidbDocument(summary), null, 2)}\n`,
    'report.md': reportMarkdown(summary),
    'report.html': reportHtml(summary),
  }
  const paths = {} as Record<(typeof REPORT_FILES)[number], string>
  for (const name of REPORT_FILES) {
    paths[name] = join(outDir, name)
    await writeFileAtomic(paths[name], contents[name])
  }
  return paths
}
