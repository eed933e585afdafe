// The options several commands share, each defined once: its flag, its parser and its default. A command
// adds the ones it takes, in the order its help lists them; where the wording differs between commands
// (what --upto counts, what --verbose adds) the command passes its own description.
import { InvalidArgumentError, Option } from 'commander'
import type { Accel } from '../vm/qemu-args.js'

/** `--accel`: an accelerator, or `auto` (probed once per host boot). */
export type AccelChoice = 'auto' | Accel
// a record over the union, so that an accelerator added to Accel does not compile until it is offered here
const ACCEL_CHOICES: Record<AccelChoice, true> = { auto: true, kvm: true, tcg: true }
export const ACCELS = Object.keys(ACCEL_CHOICES) as AccelChoice[]

/** `--shard I/N`: the I-th (from 1) of N deterministic parts. */
export interface ShardArg {
  index: number
  count: number
}

/** A parser for a decimal integer option within [min, max]; commander reports the rejection with the flag. */
export function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (s: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`
  return (s: string): number => {
    const n = Number(s)
    if (!/^\d+$/.test(s) || n < min || n > max) throw new InvalidArgumentError(`${name} must be ${range}`)
    return n
  }
}

export function shardArg(s: string): ShardArg {
  const m = /^(\d+)\/(\d+)$/.exec(s)
  if (!m) throw new InvalidArgumentError('expected I/N, e.g. 1/3')
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || index < 1 || index > count) throw new InvalidArgumentError(`shard ${s}: need 1 ≤ I ≤ N`)
  return { index, count }
}

export const option = {
  out: (help: string) => new Option('--out <dir>', help),
  /** 0 is the base (no patch applied); no upper bound here, the series length is known only later. */
  upto: (help: string) => new Option('--upto <k>', help).argParser(intArg('--upto', 0)),
  accel: () => new Option('--accel <a>', 'accelerator').choices(ACCELS).default('auto'),
  /** 0 would time every VM out at once. */
  timeout: (help: string) => new Option('--timeout <s>', help).argParser(intArg('--timeout', 1)),
  tries: () =>
    new Option('--tries <n>', 'runs per prefix (flaky tests): good only if all pass, bad once 2 fail').argParser(intArg('--tries', 1)).default(1),
  /** a prefix of the series: 0 is the base. */
  prefix: (flag: '--good <k>' | '--bad <k>', help: string) => new Option(flag, help).argParser(intArg(flag.split(' ')[0]!, 0)),
  shard: () => new Option('--shard <i/n>', 'run only shard I of N (deterministic split)').argParser(shardArg),
  timings: (help: string) => new Option('--timings <file>', help),
  verbose: (help: string) => new Option('--verbose', help),
}
