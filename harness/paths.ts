// Where the project's own files are, independent of the caller's cwd and of running from dist/.
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export function projectRoot(): string {
  // harness/paths.ts, or dist/harness/paths.js when compiled
  const up = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  return basename(up) === 'dist' ? resolve(up, '..') : up
}
