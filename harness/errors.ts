// Error taxonomy. Low layers throw these; only the CLI maps them to exit codes (the `git bisect run` contract).

export const EXIT = {
  ok: 0,
  regression: 1,
  badInput: 2,
  untestable: 125,
  infra: 128,
  sigint: 130,
  sigterm: 143,
} as const

/** Bad input: unknown name, invalid YAML, schema error, bad mbox, bad fragment. Exit 2. */
export class InputError extends Error {
  override name = 'InputError'
  /** where: `file:line` when known */
  readonly where: string | undefined
  /**
   * the input field at fault (`kernel.suite`, `kernel.package`), when a layer that does not know the file finds it
   * wrong: the caller that knows the file maps the field to its line
   */
  readonly field: string | undefined
  constructor(message: string, where?: string, field?: string) {
    super(where ? `${where}: ${message}` : message)
    this.where = where
    this.field = field
  }
}

/** The kernel under test cannot be tested: a patch does not apply, the build fails. Exit 125. */
export class UntestableError extends Error {
  override name = 'UntestableError'
  readonly stage: 'apply' | 'build' | 'boot' | 'config'
  /** short excerpt (compiler error lines, git am output) */
  readonly excerpt: string
  constructor(message: string, stage: 'apply' | 'build' | 'boot' | 'config', excerpt = '') {
    super(message)
    this.stage = stage
    this.excerpt = excerpt
  }
}

/** The rig itself failed: QEMU missing, disk full, cache unreadable, apt unreachable. Exit 128 (bisect aborts). */
export class InfraError extends Error {
  override name = 'InfraError'
  readonly hint: string
  constructor(message: string, hint = '') {
    super(hint ? `${message} (${hint})` : message)
    this.hint = hint
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof InputError) return EXIT.badInput
  if (err instanceof UntestableError) return EXIT.untestable
  return EXIT.infra
}
