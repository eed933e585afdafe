// Write a run's reports into its out dir (results.json, junit.xml, report.md, report.html, kcidb.json),
// plus copies where --json / --junit asked for them.
import { copyFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { RunSummary } from '../types.js'
import { writeReports } from '../results/writers.js'

export async function writeRunReports(s: RunSummary, outDir: string, o: { junit?: string | undefined; json?: string | undefined }): Promise<void> {
  await writeReports(s, outDir)
  if (o.json) await copyFile(join(outDir, 'results.json'), resolve(o.json))
  if (o.junit) await copyFile(join(outDir, 'junit.xml'), resolve(o.junit))
}
