// Get a bootable kernel for a variant: a Debian prebuilt image, or a tree built from source with the
// first K patches of its series.
import type { EventSink } from '../events.js'
import type { KernelArtifact, Variant } from '../types.js'
import { prebuiltKernel } from './prebuilt.js'

export async function getKernel(v: Variant, opts: { upto?: number | undefined; events: EventSink }): Promise<KernelArtifact> {
  if (v.kernel.kind === 'prebuilt') return prebuiltKernel(v.kernel.package!, v.kernel.suite, opts.events)
  const { buildSourceKernel } = await import('./source.js')
  const o: { upto?: number; events: EventSink; variantName: string } = { events: opts.events, variantName: v.name }
  if (opts.upto !== undefined) o.upto = opts.upto
  return buildSourceKernel(v, o)
}
