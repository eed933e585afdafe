// Get a bootable kernel for a variant: a Debian prebuilt image, or a tree built from source with the
// first K patches of its series.
import type { EventSink } from '../events.js'
import type { KernelArtifact, Variant } from '../types.js'
import { prebuiltKernel } from './prebuilt.js'
import { localKernel } from './local.js'
import { buildSourceKernel } from './source.js'
import { InputError } from '../errors.js'

export interface KernelRequest {
  upto?: number | undefined
  /** leave this patch out of 1..upto (source kernels) */
  without?: number | undefined
  events: EventSink
}

export async function getKernel(v: Variant, opts: KernelRequest): Promise<KernelArtifact> {
  try {
    return await fetchOrBuild(v, opts)
  } catch (e) {
    // an unknown package or suite is only found at the registry: point back at the variant's line
    if (e instanceof InputError && !e.where && v.kernel.where) {
      const at = e.field === 'kernel.suite' ? v.kernel.where.suite : v.kernel.where.package
      const colon = at.lastIndexOf(': ')
      throw new InputError(`${at.slice(colon + 2)}: ${e.message}`, at.slice(0, colon), e.field)
    }
    throw e
  }
}

async function fetchOrBuild(v: Variant, opts: KernelRequest): Promise<KernelArtifact> {
  if (v.kernel.kind === 'prebuilt') return prebuiltKernel(v.kernel.package!, v.kernel.suite, opts.events)
  if (v.kernel.kind === 'build') return localKernel(v.kernel.buildDir!, v.machine)
  const o: { upto?: number; without?: number; events: EventSink; variantName: string } = { events: opts.events, variantName: v.name }
  if (opts.upto !== undefined) o.upto = opts.upto
  if (opts.without !== undefined) o.without = opts.without
  return buildSourceKernel(v, o)
}
