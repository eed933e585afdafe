// The bad-input corpus (tests/bad-input/cases.yaml): every case through the real CLI. Each must exit with
// its code, print ONE error line that names the file and line, the field, the option or the patch, and
// leave nothing half-written in the cache.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { daxrig, fixture, root } from './helpers.js'

interface Case {
  id: string
  args: string[]
  exit: number
  error: string
  cache?: 'private' | 'shared'
  slow?: boolean
}

const corpus = join(root, 'tests', 'bad-input')
const cases = parse(await readFile(join(corpus, 'cases.yaml'), 'utf8')) as Case[]
const sharedCache = process.env.DAXRIG_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'daxrig')
// a fake QEMU that refuses to start: a case the rig wrongly accepts fails in a second instead of booting
const refusingQemu = fixture('fake-qemu/exit-nonzero.mjs')

/** The error lines: `daxrig: error: …`, `daxrig: rig failure: …` or commander's `error: …`. */
const ERROR_LINE = /^(daxrig: (error|rig failure): |error: )/

/** Each error line with the indented lines that continue it (a multi-line message such as dropped Kconfig options). */
function errorBlocks(out: string): string[] {
  const lines = out.split('\n')
  const blocks: string[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!ERROR_LINE.test(lines[i]!)) continue
    const b = [lines[i]!]
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) b.push(lines[++i]!)
    blocks.push(b.join('\n'))
  }
  return blocks
}

/** Half-written cache entries: `.tmp-*` dirs (ensureEntry) and `*.tmp` (unpacked debs), two levels deep. */
async function leftovers(cache: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string, depth: number): Promise<void> => {
    const ents = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const e of ents) {
      const p = join(dir, e.name)
      if (e.name.startsWith('.tmp-') || (e.isDirectory() && e.name.endsWith('.tmp'))) {
        if (!(await heldByLiveRun(dir, e.name))) out.push(p)
      } else if (e.isDirectory() && depth > 0 && e.name !== 'ccache' && !['src', 'out', 'cfg'].includes(e.name)) await walk(p, depth - 1)
    }
  }
  await walk(cache, 2)
  return out
}

/** A `.tmp-<key12>-XXXX` dir whose `<key>.lock` names a live pid is someone else's build in flight, not a leftover. */
async function heldByLiveRun(dir: string, name: string): Promise<boolean> {
  const m = /^\.tmp-([0-9a-zA-Z_.+-]{1,12})-/.exec(name)
  if (!m) return false
  for (const f of (await readdir(dir).catch(() => [] as string[])).filter(f => f.endsWith('.lock') && f.startsWith(m[1]!))) {
    const pid = Number((await readFile(join(dir, f), 'utf8').catch(() => '')).split(' ')[0])
    try {
      if (pid) {
        process.kill(pid, 0)
        return true
      }
    } catch {
      /* dead */
    }
  }
  return false
}

const slowOk = process.env.DAXRIG_SLOW_TESTS === '1'

for (const c of cases) {
  const label = c.id
  t.test(label, { skip: c.slow && !slowOk ? 'slow: set DAXRIG_SLOW_TESTS=1' : false }, async t => {
    const dir = join(corpus, c.id)
    const args = c.args.map(a => a.replaceAll('{dir}', dir))
    const out = await mkdtemp(join(tmpdir(), 'daxrig-bad-'))
    if (args[0] === 'run') args.push('--out', out)
    const cache = c.cache === 'shared' ? sharedCache : await mkdtemp(join(tmpdir(), 'daxrig-bad-cache-'))
    const env: Record<string, string> = { DAXRIG_QEMU: refusingQemu }
    if (c.cache !== 'shared') env.DAXRIG_CACHE = cache
    const before = c.cache === 'shared' ? new Set(await leftovers(cache)) : new Set<string>()
    const r = await daxrig(args, env)
    const detail = `daxrig ${args.join(' ')}\n${r.out.slice(-2500)}`
    t.equal(r.code, c.exit, `exit ${c.exit}`, { output: detail })
    const blocks = errorBlocks(r.out)
    t.equal(blocks.length, 1, 'exactly one error line', { found: blocks })
    t.match(blocks[0] ?? '', new RegExp(c.error), 'the error names file/line/field', { output: detail })
    t.notMatch(r.out, /\n\s+at .*\.(ts|js):\d+/, 'no stack trace')
    // nothing half-written: a private cache holds no temp entries (and nothing at all for a case that fails in the loader)
    const left = (await leftovers(cache)).filter(p => !before.has(p))
    t.same(left, [], 'no .tmp-* entries left in the cache')
    if (c.cache !== 'shared') {
      const ents = existsSync(cache) ? await readdir(cache) : []
      t.same(ents.filter(e => e.endsWith('.lock')), [], 'no lock left at the top of the cache')
      await rm(cache, { recursive: true, force: true })
    }
    await rm(out, { recursive: true, force: true })
  })
}

// Two checks that are no bad input and so no corpus entry: a case there runs with the fake QEMU and must
// print an input error, these need a QEMU that is missing and a reader that goes away.
t.test('a missing host tool says "run daxrig setup" and exits 128', async t => {
  const r = await daxrig(['run', 'baseline-6.1'], { DAXRIG_QEMU: '/nonexistent/qemu-system-x86_64' })
  t.equal(r.code, 128)
  t.match(r.out, /run daxrig setup/)
})

t.test('a reader that goes away (daxrig doctor | head -1) ends the rig quietly', async t => {
  const child = spawn(process.execPath, [join(root, 'bin', 'daxrig.js'), 'doctor'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  // close our end after the first chunk, as head does
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise<number | null>(r => child.on('close', c => r(c)))
  t.equal(code, 0, 'exit 0')
  t.notMatch(stderr, /EPIPE|Unhandled/, 'no stack trace', { stderr })
})

t.test('the corpus: every case directory has a manifest entry and vice versa', async t => {
  const dirs = (await readdir(corpus, { withFileTypes: true })).filter(e => e.isDirectory()).map(e => e.name).sort()
  const ids = cases.map(c => c.id)
  for (const d of dirs) t.ok(ids.includes(d), `${d} is in cases.yaml`)
  t.equal(new Set(ids).size, ids.length, 'ids are unique')
})
