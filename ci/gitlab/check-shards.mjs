#!/usr/bin/env node
// After a merge: every variant of the shard plan must be in the merged results (a shard whose job died
// before writing results.json, or whose artifacts are missing, must not pass as a smaller matrix).
// Usage: node ci/gitlab/check-shards.mjs out/plan/shards.json out/merged/results.json
import { readFileSync } from 'node:fs'

const [planFile, resultsFile] = process.argv.slice(2)
if (!planFile || !resultsFile) {
  process.stderr.write('usage: check-shards.mjs PLAN.json RESULTS.json\n')
  process.exit(2)
}
const plan = JSON.parse(readFileSync(planFile, 'utf8'))
const got = new Set(JSON.parse(readFileSync(resultsFile, 'utf8')).variants.map(v => v.variant))
const missing = []
for (const s of plan.shards ?? []) for (const v of s.variants) if (!got.has(v)) missing.push(`${v} (shard ${s.index}/${plan.shards.length})`)
if (missing.length) {
  process.stderr.write(`daxrig: the merged results lack ${missing.length} planned variant(s): ${missing.join(', ')}\n`)
  process.exit(1)
}
process.stdout.write(`all ${got.size} planned variant(s) are in the merged results\n`)
