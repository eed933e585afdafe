// Matrices (tests/matrices/*.yaml) and resolving command-line names to variant files.
import { readFile, readdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { z } from 'zod'
import { InputError } from '../errors.js'
import { projectRoot } from '../paths.js'
import { inputErrorAt, parseYamlFile, schemaError } from './yaml-errors.js'

const matrixSchema = z.strictObject({
  /** one line saying what the matrix is for */
  description: z.string().optional(),
  /** variant names (tests/variants/<name>.yaml) or paths relative to this file */
  variants: z.array(z.string().min(1)).min(1),
})

export const variantsDir = () => join(projectRoot(), 'tests', 'variants')
export const matricesDir = () => join(projectRoot(), 'tests', 'matrices')

export interface MatrixFile {
  name: string
  file: string
  description: string
  variantFiles: string[]
}

export async function loadMatrix(file: string): Promise<MatrixFile> {
  const y = parseYamlFile(file, await readFile(file, 'utf8'))
  const r = matrixSchema.safeParse(y.data ?? {})
  if (!r.success) throw schemaError(y, r.error.issues[0]! as Parameters<typeof schemaError>[1])
  const variantFiles = r.data.variants.map((v, i) => {
    const f = variantPath(v, dirname(file))
    if (!f) throw inputErrorAt(y, ['variants', i], `unknown variant "${v}"`)
    return f
  })
  return { name: basename(file, '.yaml'), file, description: r.data.description ?? '', variantFiles }
}

function variantPath(nameOrPath: string, relTo: string): string | undefined {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) {
    const p = resolve(relTo, nameOrPath)
    return existsSync(p) ? p : undefined
  }
  const p = join(variantsDir(), `${nameOrPath}.yaml`)
  return existsSync(p) ? p : undefined
}

/** Resolve `daxrig run` arguments (variant or matrix names, or paths) to variant files, in order, without duplicates. */
export async function resolveTargets(names: string[]): Promise<string[]> {
  const targets = names.length ? names : [join(matricesDir(), 'default.yaml')]
  const out: string[] = []
  for (const n of targets) {
    for (const f of await resolveOne(n)) if (!out.includes(f)) out.push(f)
  }
  return out
}

async function resolveOne(n: string): Promise<string[]> {
  if (n.endsWith('.yaml') || n.endsWith('.yml') || n.includes('/')) {
    const p = resolve(n)
    if (!existsSync(p)) throw new InputError(`no such file: ${p}`)
    // a matrix has a top-level `variants:` list; a variant has `tests:`
    const text = await readFile(p, 'utf8')
    return /^variants\s*:/m.test(text) ? (await loadMatrix(p)).variantFiles : [p]
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(n)) throw new InputError(`"${n}" is not a valid variant or matrix name`)
  const v = join(variantsDir(), `${n}.yaml`)
  const m = join(matricesDir(), `${n}.yaml`)
  if (existsSync(v)) return [v]
  if (existsSync(m)) return (await loadMatrix(m)).variantFiles
  const known = [...(await listNames(variantsDir())), ...(await listNames(matricesDir()))]
  const near = known.filter(k => k.includes(n) || n.includes(k)).slice(0, 3)
  throw new InputError(`unknown variant or matrix "${n}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; see daxrig list`)
}

export async function listNames(dir: string): Promise<string[]> {
  const files = await readdir(dir).catch(() => [] as string[])
  return files.filter(f => f.endsWith('.yaml')).map(f => basename(f, '.yaml')).sort()
}
