// Commands about the host rather than a kernel: doctor (what it has), setup (install what it lacks,
// prefetch kernels) and cache ls / prune.
import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline/promises'
import { EXIT, InputError } from '../errors.js'
import { cacheRoot, freeBytes } from '../cache/store.js'
import { chooseVictims, listEntries, lockHeld, parseAge, PRUNABLE, removeEntry } from '../cache/prune.js'
import { loadVariant } from '../config/variant.js'
import { loadMatrix, matricesDir } from '../config/selection.js'
import { parseSize } from '../config/sizes.js'
import { defaultBios, HOST_NEEDS, installPackages, missingNeeds, qemuVersion } from '../host.js'
import { getKernel } from '../kernel/index.js'
import { plainSink } from '../ui/render.js'
import { run } from '../util/exec.js'
import { qemuBinary, type Done } from './common.js'

interface SetupOpts {
  prefetch: boolean
  source: boolean
  yes?: boolean
  testTools?: boolean
}

interface PruneOpts {
  all?: boolean
  olderThan?: string
  maxSize?: string
}

async function cmdDoctor(): Promise<number> {
  const w = (s: string) => process.stdout.write(s + '\n')
  w(`node        ${process.version}`)
  w(`qemu        ${await qemuVersion(qemuBinary())}`)
  const acc = await readFile(join(cacheRoot(), 'accel.json'), 'utf8').then(s => JSON.parse(s) as { accel: string; why: string }, () => undefined)
  w(`accelerator ${acc ? `${acc.accel} (${acc.why})` : 'not probed yet (the first run probes it)'}`)
  w(`bios        ${defaultBios() ?? 'SeaBIOS (qboot.rom not found)'}`)
  const du = existsSync(cacheRoot()) ? (await run('du', ['-sh', cacheRoot()])).stdout.split('\t')[0] : '0'
  w(`cache       ${cacheRoot()} (${du}; ${((await freeBytes(cacheRoot())) / 2 ** 30).toFixed(1)} GiB free)`)
  for (const n of HOST_NEEDS) {
    const ok = n.bins.some(b => existsSync(b))
    w(`  ${ok ? 'ok     ' : 'MISSING'} ${n.pkg.padEnd(18)} ${n.why}${n.source ? ' (source kernels)' : ''}${n.optional ? ' (optional)' : ''}`)
  }
  const miss = missingNeeds({ source: true })
  if (miss.length) w(`run "daxrig setup" to install: ${miss.map(m => m.pkg).join(' ')}`)
  return miss.length ? EXIT.infra : EXIT.ok
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^(y|yes|)$/i.test((await rl.question(`${question} [Y/n] `)).trim())
  } finally {
    rl.close()
  }
}

async function cmdSetup(o: SetupOpts): Promise<number> {
  const log = plainSink({ verbose: false })
  const miss = missingNeeds({ source: o.source, optional: !!o.testTools }).map(n => n.pkg)
  // ask on a terminal; CI and --yes install straight away
  if (miss.length && !o.yes && process.stdin.isTTY && !process.env.CI && !(await confirm(`install ${miss.join(' ')} with apt-get?`))) {
    log({ type: 'log', level: 'warn', message: 'nothing installed' })
    return EXIT.infra
  }
  if (miss.length) await installPackages(miss, m => log({ type: 'log', level: 'info', message: m }))
  else log({ type: 'log', level: 'info', message: 'all host packages present' })
  if (o.prefetch) {
    for (const f of (await loadMatrix(join(matricesDir(), 'default.yaml'))).variantFiles) {
      const v = await loadVariant(f)
      if (v.kernel.kind !== 'prebuilt') continue
      const k = await getKernel(v, { events: log })
      log({ type: 'log', level: 'info', message: `kernel ready: ${k.description}` })
    }
  }
  return EXIT.ok
}

async function du(p: string): Promise<number> {
  const s = await stat(p).catch(() => undefined)
  if (!s) return 0
  if (!s.isDirectory()) return s.size
  let n = 0
  for (const e of await readdir(p)) n += await du(join(p, e))
  return n
}

async function cmdCacheLs(): Promise<number> {
  const root = cacheRoot()
  const entries = await listEntries(root)
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1).padStart(9)} MiB`
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ')
  for (const e of entries)
    process.stdout.write(`${mib(e.bytes)}  ${e.kind}/${e.key}  used ${day(e.lastUsed)}${e.busy ? ' (in use)' : ''}${e.what ? `  ${e.what}` : ''}\n`)
  // what prune leaves alone unless --all: half-written entries, downloads, ccache
  let rest = 0
  for (const k of (await readdir(root).catch(() => [] as string[])).sort()) {
    const kp = join(root, k)
    if (!(await stat(kp)).isDirectory()) continue
    if (!(PRUNABLE as readonly string[]).includes(k)) {
      const size = await du(kp)
      rest += size
      process.stdout.write(`${mib(size)}  ${k}/\n`)
      continue
    }
    for (const e of (await readdir(kp)).filter(e => e.startsWith('.tmp-'))) process.stdout.write(`${mib(await du(join(kp, e)))}  ${k}/${e} (half-written: prune removes it)\n`)
  }
  const total = entries.reduce((n, e) => n + e.bytes, 0) + rest
  process.stdout.write(`${mib(total)}  total in ${root}\n`)
  return EXIT.ok
}

async function cmdCachePrune(o: PruneOpts): Promise<number> {
  const root = cacheRoot()
  if (o.all) {
    await rm(root, { recursive: true, force: true })
    process.stdout.write(`removed ${root}\n`)
    return EXIT.ok
  }
  const olderThanMs = o.olderThan === undefined ? undefined : parseAge(o.olderThan)
  if (olderThanMs === null) throw new InputError(`--older-than ${o.olderThan}: expected a number with m, h, d or w (e.g. 30d)`)
  const maxBytes = o.maxSize === undefined ? undefined : parseSize(o.maxSize, 1)
  if (maxBytes === null) throw new InputError(`--max-size ${o.maxSize}: expected a size such as 50G or 500M`)
  let n = 0
  for (const k of await readdir(root).catch(() => [] as string[])) {
    const kp = join(root, k)
    if (!(await stat(kp)).isDirectory()) continue
    const names = await readdir(kp)
    for (const e of names) {
      if (!e.startsWith('.tmp-')) continue
      // `.tmp-<key prefix>-XXXX` is being written while a live daxrig holds `<key>.lock`
      const prefix = e.slice('.tmp-'.length).split('-')[0] ?? ''
      const locks = names.filter(l => l.endsWith('.lock') && prefix && l.startsWith(prefix))
      if ((await Promise.all(locks.map(l => lockHeld(join(kp, l))))).some(Boolean)) continue
      await rm(join(kp, e), { recursive: true, force: true })
      n++
    }
  }
  process.stdout.write(`removed ${n} half-written entr${n === 1 ? 'y' : 'ies'}\n`)
  if (olderThanMs === undefined && maxBytes === undefined) return EXIT.ok
  const victims = chooseVictims(await listEntries(root), { now: Date.now(), ...(olderThanMs !== undefined ? { olderThanMs } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}) })
  let freed = 0
  for (const v of victims) {
    await removeEntry(v)
    freed += v.bytes
    process.stdout.write(`removed ${v.kind}/${v.key} (${(v.bytes / 1024 / 1024).toFixed(1)} MiB, last used ${new Date(v.lastUsed).toISOString().slice(0, 10)})\n`)
  }
  process.stdout.write(`freed ${(freed / 1024 ** 3).toFixed(2)} GiB in ${victims.length} entr${victims.length === 1 ? 'y' : 'ies'}\n`)
  return EXIT.ok
}

export function addDoctor(program: Command, done: Done): void {
  program
    .command('doctor')
    .description('report what the host has')
    .action(async () => done(await cmdDoctor()))
}

export function addSetup(program: Command, done: Done): void {
  program
    .command('setup')
    .description('install missing host packages (apt) and prefetch the default kernels')
    .option('--yes', 'do not ask (default when not on a terminal)')
    .option('--no-prefetch', 'do not download the default kernels')
    .option('--no-source', 'skip the packages only needed to build kernels')
    .option('--test-tools', "also install what only the rig's own test suite uses (chromium for the report.html check)")
    .action(async (o: SetupOpts) => done(await cmdSetup(o)))
}

export function addCache(program: Command, done: Done): void {
  const cache = program.command('cache').description('inspect or prune the cache')
  cache
    .command('ls')
    .description('list cache entries with sizes')
    .action(async () => done(await cmdCacheLs()))
  cache
    .command('prune')
    .option('--all', 'remove everything, not just stale temp dirs and locks of dead processes')
    .option('--older-than <age>', 'also remove kernels, trees, images not used for this long (30d, 12h, 2w)')
    .option('--max-size <size>', 'also remove the least recently used entries until the cache fits (50G)')
    .description('remove half-written entries; with --older-than / --max-size, least recently used entries; with --all, everything')
    .action(async (o: PruneOpts) => done(await cmdCachePrune(o)))
}
