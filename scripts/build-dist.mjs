#!/usr/bin/env node
// Compile harness/ to dist/ (run by `npm ci` through the prepare script): the CLI then starts in ~0.5 s
// instead of ~1 s through tsx. dist/.built records the newest source mtime it was built from; the launcher
// falls back to tsx whenever a source file is newer, so an edited tree never runs stale code.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newestSource } from '../bin/freshness.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stamp = newestSource(join(root, 'harness'))
// from scratch: a module that was moved or removed must not stay importable from dist/ (tsc only adds files)
rmSync(join(root, 'dist'), { recursive: true, force: true })
try {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  writeFileSync(join(root, 'dist', '.built'), String(stamp))
} catch {
  // not fatal: the launcher runs the TypeScript sources through tsx
  process.stderr.write('daxrig: dist/ not built; the CLI will run through tsx\n')
}
