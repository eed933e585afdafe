// Cache keys of source-built kernels: what identifies a built image, and a cheaper key for a request that lets a
// repeated run return before any tree work.
import { basename } from 'node:path'
import { hashValue, sha256 } from '../cache/store.js'
import { runOk } from '../util/exec.js'
import type { Fragment } from './kconfig.js'

/** Bumped when the layout of a built-kernel entry or the way it is built changes. */
export const KERNEL_SCHEMA = 'daxrig-kernel/1'

/** Identity inputs of a built kernel; everything that can change the image. */
export interface KernelKeyInput {
  base: string
  patches: string[]
  config: string
  compiler: string
}

/** The cache key of a built kernel: base + per-patch content identities + final .config + compiler. */
export function kernelKey(k: KernelKeyInput): string {
  return hashValue({ schema: KERNEL_SCHEMA, base: k.base, patches: k.patches, config: sha256(k.config), compiler: k.compiler })
}

/**
 * The key of a request before any tree work: fragment texts stand in for the final .config, which they
 * determine for a given base and series. Lets a repeated request return without touching the tree.
 */
export function requestKey(k: { base: string; patches: string[]; fragments: Fragment[]; compiler: string }): string {
  return hashValue({
    schema: KERNEL_SCHEMA,
    base: k.base,
    patches: k.patches,
    fragments: k.fragments.map(f => ({ name: basename(f.path), sha: sha256(f.text) })),
    compiler: k.compiler,
  })
}

let compilerLine: string | undefined
export async function compilerId(): Promise<string> {
  compilerLine ??= (await runOk('gcc', ['--version'])).stdout.split('\n')[0]?.trim() ?? 'gcc'
  return compilerLine
}
