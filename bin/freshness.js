// Newest mtime (ms) of the .ts files under a directory: decides whether dist/ is current.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export function newestSource(dir) {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (e.name.endsWith('.ts') || e.name.endsWith('.json')) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}
