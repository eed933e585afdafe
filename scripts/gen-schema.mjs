#!/usr/bin/env node
// Writes harness/results/results.schema.json from the zod schema of results.json (harness/results/schema.ts).
// Run through tsx: `npm run schema`; `npm run schema -- --check` only says whether the checked-in file is stale.
// tests/unit/results/schema.test.ts fails when it is, so CI catches a schema change without a regenerated file.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resultsJsonSchema } from '../harness/results/schema.ts'

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'harness', 'results', 'results.schema.json')
const text = `${JSON.stringify(resultsJsonSchema(), null, 2)}\n`
if (process.argv.includes('--check')) {
  const current = readFileSync(file, 'utf8')
  if (current !== text) {
    process.stderr.write(`${file} is stale: run npm run schema\n`)
    process.exit(1)
  }
} else writeFileSync(file, text)
