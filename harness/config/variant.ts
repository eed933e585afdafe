// Variant files (tests/variants/*.yaml): schema, defaults, path resolution, and the ABI-number policy.
import { readFile } from 'node:fs/promises'
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { z } from 'zod'
import { InputError } from '../errors.js'
import type { ExpectRule, Variant } from '../types.js'
import { machineSchema, resolveMachine } from './machine.js'
import { inputErrorAt, lineOf, parseYamlFile, schemaError, type LoadedYaml } from './yaml-errors.js'
import { projectRoot } from '../paths.js'
import { DeclarableRunVerdictSchema, ExpectationSchema } from '../results/schema.js'

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lower-case letters, digits, ".", "_" and "-"')
const pkgName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'not a Debian package name')

const expectValue = z.union([
  ExpectationSchema,
  z.strictObject({
    verdict: ExpectationSchema,
    reason: z.string().optional(),
    /** applies only when at least the first `from` patches of the series are applied (source kernels) */
    from: z.number().int().min(1).optional(),
  }),
])

const sourceSchema = z.union([
  pkgName,
  z.strictObject({ git: z.string(), ref: z.string().default('HEAD') }),
])

export const variantSchema = z.strictObject({
  name,
  series: z
    .strictObject({
      title: z.string().optional(),
      'message-id': z.string().optional(),
      upstream: z.string().optional(),
      notes: z.string().optional(),
    })
    .prefault({}),
  kernel: z
    .strictObject({
      prebuilt: pkgName.optional(),
      source: sourceSchema.optional(),
      /** a kernel built elsewhere: an O= build directory, or boot/vmlinuz-* + boot/config-* (+ lib/modules) */
      build: z.string().min(1).optional(),
      /** Debian suite to fetch from. Default bookworm. */
      suite: z.string().regex(/^[a-z-]+$/).default('bookworm'),
      patches: z.union([z.string(), z.strictObject({ 'git-range': z.string().regex(/^\S+\.\.\S+$/, 'expected A..B') })]).optional(),
      /** Kconfig fragments in kernel-config/ (source kernels only). Default [base, nvdimm]. */
      config: z.array(z.string()).default(['base', 'nvdimm']),
    }),
  machine: machineSchema,
  interfaces: z
    .strictObject({
      syscalls: z.record(z.string().regex(/^[a-z0-9_]+$/), z.number().int().positive()).default({}),
      'mmap-flags': z.record(z.string().regex(/^[A-Za-z0-9_]+$/), z.number().int().positive()).default({}),
      fcntl: z.record(z.string().regex(/^[A-Za-z0-9_]+$/), z.number().int().positive()).default({}),
    })
    .prefault({}),
  tests: z.array(z.string().min(1)).min(1),
  /**
   * The verdict this run must end with (default ok). Canaries that panic or hang on purpose say
   * `crash` / `test-hang`; such a variant is judged as a whole, its cases are informative.
   */
  'expect-run': z
    .strictObject({
      verdict: DeclarableRunVerdictSchema,
      reason: z.string().min(1),
    })
    .optional(),
  expect: z.record(z.string(), expectValue).default({}),
  /** console findings allowed: a kind, a fingerprint substring or a title regex; `from` as in expect */
  allow: z.array(z.strictObject({ match: z.string(), reason: z.string().min(1), from: z.number().int().min(1).optional() })).default([]),
  timeouts: z
    .strictObject({
      boot: z.number().positive().default(90),
      'no-output': z.number().positive().default(60),
      total: z.number().positive().default(600),
      'per-test': z.number().positive().default(180),
    })
    .prefault({}),
})

export type VariantYaml = z.infer<typeof variantSchema>

/** The last x86_64 syscall number of known bases: an unmerged syscall must sit above it. */
const LAST_SYSCALL: Record<string, number> = { '6.1': 450, '6.12': 462 }

/** Kernel X.Y of a Debian package name (linux-image-6.1.0-56-amd64-unsigned, linux-source-6.12). */
export function kernelSeries(pkg: string | undefined): string | undefined {
  const m = /^linux-(?:image|source)-(\d+\.\d+)/.exec(pkg ?? '')
  return m?.[1]
}

export async function loadVariant(file: string): Promise<Variant> {
  const abs = resolve(file)
  let text: string
  try {
    text = await readFile(abs, 'utf8')
  } catch {
    throw new InputError(`no such variant file`, abs)
  }
  const y = parseYamlFile(abs, text)
  const parsed = variantSchema.safeParse(y.data ?? {})
  if (!parsed.success) throw schemaError(y, parsed.error.issues[0]! as Parameters<typeof schemaError>[1])
  return resolveVariant(y, parsed.data)
}

function resolveVariant(y: LoadedYaml, v: VariantYaml): Variant {
  const dir = dirname(y.file)
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(dir, p))
  const k = v.kernel
  if ([k.prebuilt, k.source, k.build].filter(Boolean).length !== 1) throw inputErrorAt(y, ['kernel'], 'give exactly one of "prebuilt", "source" or "build"')
  if (!k.source && k.patches) throw inputErrorAt(y, ['kernel', 'patches'], `patches need a source kernel, not a ${k.prebuilt ? 'prebuilt' : 'ready-built'} one`)

  let series: Variant['kernel']['series']
  if (typeof k.patches === 'string') {
    const p = rel(k.patches)
    if (!existsSync(p)) throw inputErrorAt(y, ['kernel', 'patches'], `no such file or directory: ${p}`)
    series = statSync(p).isDirectory() ? { dir: p } : { mbox: p }
  } else if (k.patches) series = { gitRange: k.patches['git-range'] }

  const config = k.config.map((c, i) => {
    const p = c.includes('/') ? rel(c) : join(projectRoot(), 'kernel-config', `${c}.config`)
    if (k.source && !existsSync(p)) throw inputErrorAt(y, ['kernel', 'config', i], `no such Kconfig fragment: ${p}`)
    return p
  })

  const base = kernelSeries(k.prebuilt ?? (typeof k.source === 'string' ? k.source : undefined))
  checkNumbers(y, v, base)

  const tests = v.tests.map((t, i) => {
    const source = t.endsWith('.c') ? rel(t) : join(projectRoot(), 'tests', 'guest', `${t}.c`)
    if (!existsSync(source)) throw inputErrorAt(y, ['tests', i], `unknown test "${t}" (no ${source})`)
    return { name: basename(source, '.c'), source }
  })
  const dup = tests.find((t, i) => tests.findIndex(u => u.name === t.name) !== i)
  if (dup) throw inputErrorAt(y, ['tests'], `test "${dup.name}" listed twice`)

  const expect: ExpectRule[] = Object.entries(v.expect).map(([pattern, val]) => {
    const line = lineOfKey(y, ['expect', pattern])
    const prog = pattern.split('.')[0]!
    if (!/[*?]/.test(prog) && !tests.some(t => t.name === prog))
      throw inputErrorAt(y, ['expect', pattern], `expectation for "${prog}", which is not in tests`)
    if (typeof val === 'string' && val !== 'pass')
      throw inputErrorAt(y, ['expect', pattern], `"${val}" needs a reason: write {verdict: ${val}, reason: "…"}`)
    const rule: ExpectRule = typeof val === 'string' ? { pattern, verdict: val, line } : { pattern, verdict: val.verdict, line }
    if (typeof val !== 'string' && val.reason) rule.reason = val.reason
    if (typeof val !== 'string' && val.from !== undefined) {
      if (!k.patches) throw inputErrorAt(y, ['expect', pattern, 'from'], '"from" needs a patch series (kernel.patches)')
      rule.from = val.from
    }
    if (rule.verdict !== 'pass' && !rule.reason && typeof val !== 'string')
      throw inputErrorAt(y, ['expect', pattern, 'reason'], 'a fail/skip expectation needs a reason')
    return rule
  })

  const machine = resolveMachine(y, v.machine)
  const git = typeof k.source === 'object' ? { path: rel(k.source.git), ref: k.source.ref } : undefined
  const kernel: Variant['kernel'] = {
    kind: k.prebuilt ? 'prebuilt' : k.build ? 'build' : 'source',
    suite: k.suite,
    config,
    // so errors found later (unknown package, unknown suite) still name file, line and field
    where: {
      package: `${y.file}:${lineOf(y, ['kernel', k.prebuilt ? 'prebuilt' : 'source'])}: kernel.${k.prebuilt ? 'prebuilt' : 'source'}`,
      suite: `${y.file}:${lineOf(y, ['kernel', 'suite'])}: kernel.suite`,
    },
  }
  if (k.prebuilt) kernel.package = k.prebuilt
  if (k.build) {
    kernel.buildDir = rel(k.build)
    kernel.where = { package: `${y.file}:${lineOf(y, ['kernel', 'build'])}: kernel.build`, suite: kernel.where!.suite }
  }
  if (typeof k.source === 'string') kernel.sourcePackage = k.source
  if (git) kernel.git = git
  if (series) kernel.series = series

  const info: Variant['series'] = {}
  if (v.series.title) info.title = v.series.title
  if (v.series['message-id']) info.messageId = v.series['message-id']
  if (v.series.upstream) info.upstream = v.series.upstream
  if (v.series.notes) info.notes = v.series.notes

  return {
    name: v.name,
    file: y.file,
    series: info,
    kernel,
    machine,
    interfaces: { syscalls: v.interfaces.syscalls, mmapFlags: v.interfaces['mmap-flags'], fcntl: v.interfaces.fcntl },
    tests,
    expect,
    ...(v['expect-run'] ? { expectRun: { verdict: v['expect-run'].verdict, reason: v['expect-run'].reason } } : {}),
    allow: v.allow.map((a, i) => {
      if (a.from !== undefined && !k.patches) throw inputErrorAt(y, ['allow', i, 'from'], '"from" needs a patch series (kernel.patches)')
      return a.from !== undefined ? { match: a.match, reason: a.reason, from: a.from } : { match: a.match, reason: a.reason }
    }),
    timeouts: {
      bootSec: v.timeouts.boot,
      noOutputSec: v.timeouts['no-output'],
      totalSec: v.timeouts.total,
      perTestSec: v.timeouts['per-test'],
    },
  }
}

function lineOfKey(y: LoadedYaml, path: string[]): number {
  // expect keys may contain dots and stars; getIn with the raw key works because keys are scalars
  const node = y.doc.getIn(path, true) as { range?: [number, number, number] } | undefined
  return node?.range ? y.lines.linePos(node.range[0]).line : 1
}

function checkNumbers(y: LoadedYaml, v: VariantYaml, base: string | undefined): void {
  for (const [name, nr] of Object.entries(v.interfaces.syscalls)) {
    // 333 is io_pgetevents on x86_64 since 4.18 (385 on i386); both historic series claimed it.
    if (nr === 333 || nr === 385)
      throw inputErrorAt(y, ['interfaces', 'syscalls', name], `${nr} is io_pgetevents on kernels since 4.18; pick a number above the base's syscall table`)
    const last = base ? LAST_SYSCALL[base] : undefined
    if (last !== undefined && nr <= last)
      throw inputErrorAt(y, ['interfaces', 'syscalls', name], `${nr} collides with an existing syscall: the ${base} table ends at ${last}`)
  }
  for (const [name, bit] of Object.entries(v.interfaces['mmap-flags'])) {
    if ((bit & (bit - 1)) !== 0) throw inputErrorAt(y, ['interfaces', 'mmap-flags', name], `${bit} is not a single bit`)
  }
}
