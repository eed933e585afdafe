// Commands that read without booting anything: list (variants, matrices, or a matrix's shard split) and
// parse (saved logs re-judged).
import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { EXIT, InputError } from '../errors.js'
import { loadVariant } from '../config/variant.js'
import { listNames, loadMatrix, matricesDir, variantsDir } from '../config/selection.js'
import { parseSaved } from '../results/parse-file.js'
import { readSummary } from '../run/batch.js'
import { formatShards, splitShards } from '../run/shards.js'
import { costsFor, TIMINGS_SCHEMA } from '../run/timings.js'
import type { Variant } from '../types.js'
import { loadAll, type Done } from './common.js'
import { intArg, option } from './options.js'

interface ListOpts {
  shards?: number
  timings?: string
  json?: string
}

async function cmdList(): Promise<number> {
  const lines: string[] = ['variants:']
  for (const n of await listNames(variantsDir())) {
    try {
      const v = await loadVariant(join(variantsDir(), `${n}.yaml`))
      const k = v.kernel.package ?? v.kernel.sourcePackage ?? (v.kernel.git ? `git ${v.kernel.git.ref}` : '?')
      lines.push(`  ${n.padEnd(28)} ${k.padEnd(40)} ${v.series.title ?? ''}`)
    } catch (e) {
      lines.push(`  ${n.padEnd(28)} INVALID: ${(e as Error).message}`)
    }
  }
  lines.push('matrices:')
  for (const n of await listNames(matricesDir())) {
    const m = await loadMatrix(join(matricesDir(), `${n}.yaml`))
    lines.push(`  ${n.padEnd(28)} ${m.variantFiles.length} variant(s)  ${m.description}`)
  }
  process.stdout.write(lines.join('\n') + '\n')
  return EXIT.ok
}

async function cmdListShards(names: string[], o: ListOpts & { shards: number }): Promise<number> {
  const variants = await loadAll(names)
  const costs = await costsFor(variants, o.timings)
  const cost = (v: Variant) => costs.get(v.name) ?? 1
  const shards = splitShards(variants, o.shards, cost)
  process.stdout.write(formatShards(shards, cost) + '\n')
  if (o.json) {
    // a shard plan: handed to every `run --shard I/N --timings FILE`, it gives each job the same split
    const plan = {
      schema: TIMINGS_SCHEMA,
      variants: Object.fromEntries(variants.map(v => [v.name, { runSec: 0, estimateSec: cost(v) }])),
      shards: shards.map(s => ({ index: s.index, estimateSec: s.estimateSec, variants: s.items.map(v => v.name) })),
    }
    await mkdir(dirname(resolve(o.json)), { recursive: true })
    await writeFile(o.json, `${JSON.stringify(plan, null, 2)}\n`)
  }
  return EXIT.ok
}

async function cmdParse(file: string, o: { variant?: string }): Promise<number> {
  const p = resolve(file)
  if (!existsSync(p)) throw new InputError(`no such file: ${p}`)
  const given = o.variant ? (await loadAll([o.variant]))[0] : undefined
  // a whole run directory: parse each variant's logs against its own variant file
  const targets: { dir: string; variant: Variant | undefined }[] = []
  if ((await stat(p)).isDirectory() && existsSync(join(p, 'results.json')) && !existsSync(join(p, 'results.ktap'))) {
    const s = await readSummary(p)
    for (const v of s.variants) {
      const vf = given ?? (existsSync(v.file) ? (await loadAll([v.file]))[0] : undefined)
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

export function addList(program: Command, done: Done): void {
  program
    .command('list')
    .argument('[names...]', 'with --shards: variants or matrices to split (default: tests/matrices/default.yaml)')
    .option('--shards <n>', 'print the balanced split into N shards with estimated times', intArg('--shards', 1, 1000))
    .addOption(option.timings("estimate from this results.json or shard plan (default: the cache's timings)"))
    .option('--json <file>', 'with --shards: also write the split as a shard plan (for run --timings)')
    .description('list variants and matrices; with --shards N, the split of a matrix into N shards')
    .action(async (names: string[], o: ListOpts) => {
      if (o.shards !== undefined) return done(await cmdListShards(names, { ...o, shards: o.shards }))
      if (names.length) throw new InputError('daxrig list takes names only with --shards N')
      done(await cmdList())
    })
}

export function addParse(program: Command, done: Done): void {
  program
    .command('parse')
    .argument('<file>', 'a saved results.ktap, console.log, or a run directory')
    .option('--variant <v>', 'variant (name or path) whose expectations to apply')
    .description('re-derive results and verdicts from saved logs; needs no kernel')
    .action(async (file: string, o: { variant?: string }) => done(await cmdParse(file, o)))
}
