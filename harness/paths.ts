// Where the project's own files are, independent of the caller's cwd.
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..')
}
