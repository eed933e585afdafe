// daxrig commands beyond run/list/doctor/setup/build: boot, parse, cache, merge (and the series
// commands check/bisect/patchcheck, registered from cli-series.ts).
import { newToken, unframe } from './results/channel.js'
import type { Command } from 'commander'
import { execa } from 'execa'
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { EXIT, InputError } from './errors.js'
import { cacheRoot } from './cache/store.js'
import { chooseVictims, listEntries, lockHeld, parseAge, PRUNABLE, removeEntry } from './cache/prune.js'
import { parseSize } from './config/sizes.js'
import { announce, setVerbose, shellQuote } from './util/exec.js'
import { getKernel } from './kernel/index.js'
import { buildImage } from './guest/initramfs.js'
import { qemuArgs, type Accel } from './vm/qemu-args.js'
import { withFreshMedia } from './vm/media.js'
import { defaultBios, requireHost } from './host.js'
import { plainSink } from './ui/render.js'
import { formatRunTable } from './ui/table.js'
import { countOutcomes, readSummary } from './run/batch.js'
import { writeRunReports } from './run/reports.js'
import type { RunSummary, Variant } from './types.js'
import type { EventSink } from './events.js'

export interface CliContext {
  addCommon: (c: Command) => Command
  loadAll: (names: string[]) => Promise<Variant[]>
  chooseAccel: (want: 'auto' | Accel, v: Variant, log: EventSink) => Promise<Accel>
  QEMU: string
}

type Setter = (p: () => Promise<number>) => () => void

export async function register(program: Command, set: Setter, ctx: CliContext): Promise<void> {
  const { registerSeries } = await import('./cli-series.js')
  registerSeries(program, set, ctx)
  program
    .command('boot')
    .argument('<variant>')
    .argument('[cmd...]', 'command to run in the guest after setup (after --)')
    .option('--upto <k>', 'apply only the first K patches', (s: string) => Number(s))
    .option('--accel <a>', 'auto | kvm | tcg', 'auto')
    .option('--verbose', 'print every external command')
    .description("boot the variant's guest: a shell on the console, or run one command and power off")
    .action((name: string, cmd: string[], o: { upto?: number; accel: 'auto' | Accel; verbose?: boolean }) =>
      set(() => cmdBoot(ctx, name, cmd, o))(),
    )
  program
    .command('parse')
    .argument('<file>', 'a saved results.ktap, console.log, or a run directory')
    .option('--variant <v>', 'variant (name or path) whose expectations to apply')
    .description('re-derive results and verdicts from saved logs; needs no kernel')
    .action((file: string, o: { variant?: string }) => set(() => cmdParse(ctx, file, o))())
  const cache = program.command('cache').description('inspect or prune the cache')
  cache.command('ls').description('list cache entries with sizes').action(set(cmdCacheLs))
  cache
    .command('prune')
    .option('--all', 'remove everything, not just stale temp dirs and locks of dead processes')
    .option('--older-than <age>', 'also remove kernels, trees, images not used for this long (30d, 12h, 2w)')
    .option('--max-size <size>', 'also remove the least recently used entries until the cache fits (50G)')
    .description('remove half-written entries; with --older-than / --max-size, least recently used entries; with --all, everything')
    .action((o: { all?: boolean; olderThan?: string; maxSize?: string }) => set(() => cmdCachePrune(o))())
  program
    .command('merge')
    .argument('<dirs...>', 'run directories (e.g. one per CI shard)')
    .requiredOption('--out <dir>', 'where to write the merged reports')
    .description("join shards' results into one report")
    .action((dirs: string[], o: { out: string }) => set(() => cmdMerge(dirs, o.out))())
}

async function cmdBoot(ctx: CliContext, name: string, cmd: string[], o: { upto?: number; accel: 'auto' | Accel; verbose?: boolean }): Promise<number> {
  setVerbose(!!o.verbose)
  const [v] = await ctx.loadAll([name])
  if (!v) throw new InputError(`unknown variant ${name}`)
  requireHost({ source: v.kernel.kind === 'source' })
  const log = plainSink({ verbose: false })
  const k = await getKernel(v, { upto: o.upto, events: log })
  const accel = await ctx.chooseAccel(o.accel, v, log)
  const image = await buildImage(k, v, cmd.length ? { kind: 'cmd', argv: cmd } : { kind: 'shell' })
  return withFreshMedia(v.machine, async (nvdimmPaths, media) => {
    const resultsPath = join(media, 'channel.log')
    const token = newToken()
    const args = qemuArgs({ qemu: ctx.QEMU, accel, machine: v.machine, kernel: k.pvhImage ?? k.bzImage, initrd: image.path, nvdimmPaths, resultsPath, bios: defaultBios(), interactive: !cmd.length, token })
    process.stderr.write(`$ ${shellQuote([ctx.QEMU, ...args])}\n`)
    announce([ctx.QEMU, ...args])
    const r = await execa(ctx.QEMU, args, { stdio: 'inherit', reject: false })
    const res = unframe(await readFile(resultsPath, 'utf8').catch(() => ''), token).text
    const m = /^# daxrig-exit: (\d+)/m.exec(res)
    if (!m) {
      process.stderr.write(`daxrig: the guest ended without an exit marker (QEMU exit ${r.exitCode})\n`)
      return EXIT.regression
    }
    return Number(m[1]) === 0 ? EXIT.ok : EXIT.regression
  })
}

async function cmdParse(ctx: CliContext, file: string, o: { variant?: string }): Promise<number> {
  const { parseSaved } = await import('./results/parse-file.js')
  const p = resolve(file)
  if (!existsSync(p)) throw new InputError(`no such file: ${p}`)
  const given = o.variant ? (await ctx.loadAll([o.variant]))[0] : undefined
  // a whole run directory: parse each variant's logs against its own variant file
  const targets: { dir: string; variant: Variant | undefined }[] = []
  if ((await stat(p)).isDirectory() && existsSync(join(p, 'results.json')) && !existsSync(join(p, 'results.ktap'))) {
    const s = await readSummary(p)
    for (const v of s.variants) {
      const vf = given ?? (existsSync(v.file) ? (await ctx.loadAll([v.file]))[0] : undefined)
      targets.push({ dir: join(p, v.variant), variant: vf })
    }
  } else targets.push({ dir: p, variant: given })
  const total = { passed: 0, failed: 0, skipped: 0 }
  for (const t of targets) {
    const r = await parseSaved(t.dir, t.variant)
    process.stdout.write(r.table + '\n')
    total.passed += r.counts.passed
    total.failed += r.counts.failed
    total.skipped += r.counts.skipped
  }
  process.stdout.write(`daxrig: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`)
  return total.failed ? EXIT.regression : EXIT.ok
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

async function cmdCachePrune(o: { all?: boolean; olderThan?: string; maxSize?: string }): Promise<number> {
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

async function cmdMerge(dirs: string[], out: string): Promise<number> {
  const parts: RunSummary[] = []
  for (const d of dirs) parts.push(await readSummary(resolve(d)))
  const names = new Set<string>()
  for (const p of parts) for (const v of p.variants) {
    if (names.has(v.variant)) throw new InputError(`variant ${v.variant} appears in more than one shard`)
    names.add(v.variant)
  }
  const variants = parts.flatMap(p => p.variants)
  const merged: RunSummary = {
    schema: 'daxrig-results/1',
    started: parts.map(p => p.started).sort()[0] ?? new Date().toISOString(),
    finished: parts.map(p => p.finished).sort().at(-1) ?? new Date().toISOString(),
    host: parts[0]?.host ?? { accel: '', qemu: '', node: process.version },
    variants,
    counts: countOutcomes(variants),
  }
  await mkdir(out, { recursive: true })
  await writeRunReports(merged, resolve(out), {})
  await writeFile(join(out, 'merged-from.txt'), dirs.map(d => resolve(d)).join('\n') + '\n')
  // a merge of CI shards is the whole run: the next pipeline's split uses its durations
  await (await import('./run/timings.js')).recordTimings(variants)
  process.stdout.write(formatRunTable(merged) + '\n')
  const c = merged.counts
  process.stdout.write(`daxrig: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`)
  return c.failed ? EXIT.regression : EXIT.ok
}
