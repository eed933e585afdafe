#!/usr/bin/env node
// Launcher: registers tsx (resolved from this package, not the caller's cwd) and runs the TypeScript CLI.
import { register } from 'tsx/esm/api'
register()
await import('../harness/cli.ts')
