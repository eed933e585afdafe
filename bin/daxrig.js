#!/usr/bin/env node
// Launcher: runs the compiled CLI from dist/ when it is current (built by `npm ci`), otherwise registers
// tsx (resolved from this package, not the caller's cwd) and runs the TypeScript sources.
import { readFileSync } from 'node:fs'
import { newestSource } from './freshness.js'

const root = new URL('..', import.meta.url)
let compiled = false
try {
  const built = Number(readFileSync(new URL('dist/.built', root), 'utf8'))
  compiled = built >= newestSource(new URL('harness', root).pathname)
} catch {
  compiled = false
}
let cli
if (compiled) {
  cli = await import('../dist/harness/cli/index.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  cli = await import('../harness/cli/index.ts')
}
await cli.entry(process.argv.slice(2))
