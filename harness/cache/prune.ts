// Keeping the cache bounded: every use of an entry touches its `.used` file (store.ts markUsed), and `daxrig cache prune
// --older-than D --max-size S` removes the entries used least recently first (kernels, trees, prebuilt
// kernels, images, test binaries), never one a running daxrig holds a lock on.
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../util/exec.js'
import { pidAlive } from '../util/children.js'

/** The kinds of entry prune may remove; downloads' apt state and ccache are left to their own limits. */
export const PRUNABLE = ['kernels', 'trees', 'prebuilt', 'images', 'testbin', 'media'] as const

export interface CacheEntry {
  kind: string
  key: string
  path: string
  bytes: number
  /** ms since the epoch */
  lastUsed: number
  /** a running daxrig holds its lock */
  busy: boolean
  /** trees: what the tree is of (base.json) */
  what?: string
}

/** Which entries to remove: older than `olderThanMs`, then least recently used until the rest fits `maxBytes`. */
export function chooseVictims(entries: CacheEntry[], o: { now: number; olderThanMs?: number; maxBytes?: number }): CacheEntry[] {
  const free = entries.filter(e => !e.busy).sort((a, b) => a.lastUsed - b.lastUsed || a.path.localeCompare(b.path))
  const out = new Set<CacheEntry>()
  if (o.olderThanMs !== undefined) for (const e of free) if (o.now - e.lastUsed > o.olderThanMs) out.add(e)
  if (o.maxBytes !== undefined) {
    let total = entries.filter(e => !out.has(e)).reduce((n, e) => n + e.bytes, 0)
    for (const e of free) {
      if (total <= o.maxBytes) break
      if (out.has(e)) continue
      out.add(e)
      total -= e.bytes
    }
  }
  return [...out]
}

async function bytesOf(path: string): Promise<number> {
  // du is much faster than walking a 70,000-file kernel tree from Node
  const r = await run('du', ['-sk', path])
  return r.exitCode === 0 ? Number(r.stdout.split('\t')[0]) * 1024 : 0
}

/** A lock file whose pid is alive. */
export async function lockHeld(lock: string): Promise<boolean> {
  if (!existsSync(lock)) return false
  const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim())
  return !!pid && pidAlive(pid)
}

/** Every complete entry of the prunable kinds, with its size and last use. */
export async function listEntries(root: string): Promise<CacheEntry[]> {
  const out: CacheEntry[] = []
  for (const kind of PRUNABLE) {
    const dir = join(root, kind)
    for (const key of (await readdir(dir).catch(() => [] as string[])).sort()) {
      const path = join(dir, key)
      if (!existsSync(join(path, '.complete'))) continue
      const used = await stat(join(path, '.used')).catch(() => stat(join(path, '.complete')))
      const busy = (await lockHeld(join(dir, `${key}.lock`))) || (await lockHeld(join(dir, `${key}.use.lock`)))
      const e: CacheEntry = { kind, key, path, bytes: await bytesOf(path), lastUsed: used.mtimeMs, busy }
      if (kind === 'trees') {
        const b = await readFile(join(path, 'base.json'), 'utf8').then(t => JSON.parse(t) as { description?: string; origin?: string }, () => undefined)
        const what = b?.origin ? `${b.origin} (${b.description ?? ''})` : b?.description
        if (what) e.what = what
      }
      out.push(e)
    }
  }
  return out
}

export async function removeEntry(e: CacheEntry): Promise<void> {
  await rm(e.path, { recursive: true, force: true })
}

/** `30d`, `12h`, `2w`, `90m` → ms; null when unreadable. */
export function parseAge(s: string): number | null {
  const m = /^(\d+)\s*([mhdw])$/.exec(s.trim())
  if (!m) return null
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w']
}
