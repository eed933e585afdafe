// What the command modules share: the QEMU binary, loading variants, choosing the accelerator, and how an
// action hands its exit code back to `main`.
import { resolveTargets } from '../config/selection.js'
import { loadVariant } from '../config/variant.js'
import { InputError } from '../errors.js'
import { getKernel } from '../kernel/index.js'
import { probeAccel } from '../vm/accel.js'
import type { Accel } from '../vm/qemu-args.js'
import type { EventSink } from '../events.js'
import type { Variant } from '../types.js'
import type { AccelChoice } from './options.js'

/**
 * Called by an action with its exit code (0 ok, 1 regression, 125 untestable, 128 infra). commander's
 * parseAsync awaits the action but drops what it returns; errors it throws reach `main` through parseAsync.
 */
export type Done = (code: number) => void

/** The QEMU binary: DAXRIG_QEMU, or qemu-system-x86_64 from PATH. */
export function qemuBinary(): string {
  return process.env.DAXRIG_QEMU ?? 'qemu-system-x86_64'
}

/** Variants named on the command line: variant names, matrix names, or paths to either. */
export async function loadAll(names: string[]): Promise<Variant[]> {
  const files = await resolveTargets(names)
  const out: Variant[] = []
  for (const f of files) out.push(await loadVariant(f))
  return out
}

/** The variant of a command that takes one (the first, when the name is a matrix). */
export async function loadOne(name: string): Promise<Variant> {
  const [v] = await loadAll([name])
  if (!v) throw new InputError(`unknown variant ${name}`)
  return v
}

/** `--accel auto` probes the host with the variant's kernel (the answer is cached for this host boot). */
export async function chooseAccel(want: AccelChoice, v: Variant, log: EventSink): Promise<Accel> {
  if (want !== 'auto') return want
  const k = await getKernel(v, { events: log })
  const c = await probeAccel(qemuBinary(), k.bzImage)
  log({ type: 'log', level: 'info', message: `accelerator: ${c.accel} (${c.why}${c.cached ? ', cached for this host boot' : ''})` })
  return c.accel
}
