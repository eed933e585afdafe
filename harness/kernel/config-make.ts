// Making a kernel's .config: tinyconfig, the variant's fragments merged by the kernel's own merge_config.sh, then
// olddefconfig, in a scratch O= directory of the build tree.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InfraError } from '../errors.js'
import { runOk } from '../util/exec.js'
import { buildEnv, makeArgs } from './build.js'

/** Files whose change can change the generated .config. */
export function touchesKconfig(path: string): boolean {
  return /(^|\/)Kconfig[^/]*$|(^|\/)configs\/|^scripts\/kconfig\/|^arch\/[^/]+\/Makefile$|^Makefile$/.test(path)
}

/** tinyconfig + fragments (merge_config.sh -m) + olddefconfig in a scratch O= dir; returns the final .config. */
export async function makeConfig(src: string, cfgDir: string, fragments: string[], logFile: string): Promise<string> {
  await mkdir(cfgDir, { recursive: true })
  const env = buildEnv()
  const mk = (targets: string[]) =>
    runOk('make', makeArgs(src, cfgDir, targets, 1), { env }, (out, code) =>
      new InfraError(`make ${targets.join(' ')} failed (exit ${code}): ${out.trim().split('\n').slice(-3).join(' | ')}`),
    )
  const log: string[] = []
  log.push((await mk(['tinyconfig'])).all)
  const merge = await runOk(
    join(src, 'scripts', 'kconfig', 'merge_config.sh'),
    ['-m', '-O', cfgDir, join(cfgDir, '.config'), ...fragments],
    { env: { ...env, ARCH: 'x86_64' }, cwd: src },
    (out, code) => new InfraError(`merge_config.sh failed (exit ${code}): ${out.trim().split('\n').slice(-3).join(' | ')}`),
  )
  log.push(merge.all)
  log.push((await mk(['olddefconfig'])).all)
  await writeFile(logFile, log.join('\n'))
  return readFile(join(cfgDir, '.config'), 'utf8')
}
