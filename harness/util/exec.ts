// Every external command goes through here: printable (copy-pasteable) and logged in --verbose.
import { execa, type Options } from 'execa'
import { InfraError } from '../errors.js'

let verbose = false
const logLines: string[] = []

export function setVerbose(v: boolean): void {
  verbose = v
}

/** Shell-quote argv for display only; commands are never built from this string. */
export function shellQuote(argv: readonly string[]): string {
  return argv
    .map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ')
}

/** Commands run so far in this process (saved with a run as commands.log). */
export function commandLog(): readonly string[] {
  return logLines
}

export function announce(argv: readonly string[], cwd?: string): void {
  const line = (cwd ? `(cd ${shellQuote([cwd])} && ` : '') + shellQuote(argv) + (cwd ? ')' : '')
  logLines.push(line)
  if (verbose) process.stderr.write(`$ ${line}\n`)
}

/** Run a command to completion, capturing output; throws InfraError if the binary is missing. */
export async function run(
  file: string,
  args: readonly string[],
  opts: Options = {},
): Promise<{ stdout: string; stderr: string; exitCode: number; all: string }> {
  announce([file, ...args], typeof opts.cwd === 'string' ? opts.cwd : undefined)
  try {
    const r = await execa(file, args, { reject: false, all: true, stdin: 'ignore', ...opts })
    if ((r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.message ?? '')) && r.exitCode === undefined) {
      throw new InfraError(`${file} not found`, 'run daxrig setup')
    }
    return {
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      exitCode: r.exitCode ?? -1,
      all: String(r.all ?? ''),
    }
  } catch (e) {
    if (e instanceof InfraError) throw e
    const err = e as { code?: string; message?: string }
    if (err.code === 'ENOENT') throw new InfraError(`${file} not found`, 'run daxrig setup')
    throw new InfraError(`could not run ${file}: ${err.message ?? String(e)}`)
  }
}

/** Like run() but throws `mk(output)` on a non-zero exit. */
export async function runOk(
  file: string,
  args: readonly string[],
  opts: Options = {},
  mk: (out: string, code: number) => Error = (out, code) =>
    new InfraError(`${shellQuote([file, ...args])} failed (exit ${code}): ${out.trim().split('\n').slice(-5).join(' | ')}`),
): Promise<{ stdout: string; stderr: string; all: string }> {
  const r = await run(file, args, opts)
  if (r.exitCode !== 0) throw mk(r.all, r.exitCode)
  return r
}

/** Run a command whose stdout is binary (decompressors); returns stdout as a Buffer. */
export async function runBuffer(file: string, args: readonly string[], input?: Buffer): Promise<{ stdout: Buffer; exitCode: number }> {
  announce([file, ...args])
  try {
    const r = await execa(file, args, {
      reject: false,
      encoding: 'buffer',
      stripFinalNewline: false,
      maxBuffer: 1024 * 1024 * 1024,
      ...(input ? { input } : { stdin: 'ignore' as const }),
    })
    return { stdout: Buffer.from(r.stdout as Uint8Array), exitCode: r.exitCode ?? -1 }
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new InfraError(`${file} not found`, 'run daxrig setup')
    throw new InfraError(`could not run ${file}: ${(e as Error).message}`)
  }
}
