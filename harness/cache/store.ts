// Content-addressed cache under $XDG_CACHE_HOME/daxrig (default ~/.cache/daxrig).
// Entries are directories made in a temp dir and renamed into place, so nothing is ever half-written.
import { createHash } from 'node:crypto'
import { mkdir, rename, rm, stat, writeFile, readFile, open, mkdtemp, utimes } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { InfraError } from '../errors.js'
import { pidAlive } from '../util/children.js'

export function cacheRoot(): string {
  if (process.env.DAXRIG_CACHE) return process.env.DAXRIG_CACHE
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(xdg, 'daxrig')
}

export function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256')
  for (const p of parts) {
    h.update(typeof p === 'string' ? Buffer.from(p) : p)
    h.update('\0')
  }
  return h.digest('hex')
}

/** Stable hash of a JSON-able value (keys sorted). */
export function hashValue(v: unknown): string {
  return sha256(stableJson(v))
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .sort()
      .filter(k => o[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

/** Record a use of a cache entry: its last use decides what `daxrig cache prune` removes first (cache/prune.ts). */
export async function markUsed(entry: string): Promise<void> {
  const f = join(entry, '.used')
  const now = new Date()
  await utimes(f, now, now).catch(() => writeFile(f, '').catch(() => undefined))
}

/** Path of a cache entry (a directory). */
export function entryPath(kind: string, key: string): string {
  return join(cacheRoot(), kind, key)
}

/**
 * Return the entry for (kind, key), creating it with `make(tmpDir)` if absent.
 * `make` fills a private temp dir; on success it is renamed into place atomically.
 * A lock per entry keeps two runs from building the same thing at once.
 */
export async function ensureEntry(kind: string, key: string, make: (dir: string) => Promise<void>): Promise<string> {
  const final = entryPath(kind, key)
  if (existsSync(join(final, '.complete'))) {
    await markUsed(final)
    return final
  }
  const parent = join(cacheRoot(), kind)
  await mkdir(parent, { recursive: true }).catch(e => {
    throw new InfraError(`cannot create cache dir ${parent}: ${(e as Error).message}`)
  })
  return withLock(join(parent, `${key}.lock`), async () => {
    if (existsSync(join(final, '.complete'))) return final
    const tmp = await mkdtemp(join(parent, `.tmp-${key.slice(0, 12)}-`))
    try {
      await make(tmp)
      await writeFile(join(tmp, '.complete'), new Date().toISOString() + '\n')
      await rm(final, { recursive: true, force: true })
      await rename(tmp, final)
    } catch (e) {
      await rm(tmp, { recursive: true, force: true })
      throw e
    }
    return final
  })
}

/** A simple lock file (O_EXCL) with stale-lock detection by pid. */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, waitMs = 3_600_000): Promise<T> {
  const start = Date.now()
  await mkdir(dirname(lockPath), { recursive: true })
  let announced = false
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx')
      await fh.writeFile(`${process.pid} ${hostname()}\n`)
      await fh.close()
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new InfraError(`cannot take lock ${lockPath}: ${(e as Error).message}`)
      const owner = await readFile(lockPath, 'utf8').catch(() => '')
      const pid = Number(owner.split(' ')[0])
      if (pid && !pidAlive(pid)) {
        await rm(lockPath, { force: true })
        continue
      }
      if (!announced) {
        process.stderr.write(`daxrig: waiting for lock ${lockPath} (held by pid ${pid})\n`)
        announced = true
      }
      if (Date.now() - start > waitMs) throw new InfraError(`timed out waiting for lock ${lockPath}`)
      await new Promise(r => setTimeout(r, 250))
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lockPath, { force: true })
  }
}


export async function fileSha256(path: string): Promise<string> {
  return sha256(await readFile(path))
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}

/** Free bytes on the file system holding `path` (or its nearest existing parent). */
export async function freeBytes(path: string): Promise<number> {
  const { statfs } = await import('node:fs/promises')
  let p = path
  for (;;) {
    try {
      const s = await statfs(p)
      return s.bavail * s.bsize
    } catch {
      const up = dirname(p)
      if (up === p) return Number.POSITIVE_INFINITY
      p = up
    }
  }
}

/** Stop with a clear message before a big download or build that cannot fit. */
export async function requireFreeSpace(path: string, bytes: number, what: string): Promise<void> {
  const free = await freeBytes(path)
  if (free < bytes)
    throw new InfraError(
      `not enough disk space for ${what}: ${(free / 2 ** 30).toFixed(1)} GiB free at ${path}, need ${(bytes / 2 ** 30).toFixed(1)} GiB`,
      'free some space or run daxrig cache prune --all',
    )
}
