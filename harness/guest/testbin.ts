// Compile guest test programs into static binaries, cached by source content + compiler.
import { readFile, copyFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { InfraError, InputError } from '../errors.js'
import { ensureEntry, sha256 } from '../cache/store.js'
import { run } from '../util/exec.js'

let compilerId: Promise<{ cc: string; id: string }> | undefined

/** musl-gcc gives small static binaries; gcc -static (glibc) is the fallback. */
export function compiler(): Promise<{ cc: string; id: string }> {
  compilerId ??= (async () => {
    for (const cc of ['musl-gcc', 'gcc']) {
      const r = await run(cc, ['--version']).catch(() => undefined)
      if (r && r.exitCode === 0) return { cc, id: `${cc} ${r.stdout.split('\n')[0]}` }
    }
    throw new InfraError('no C compiler (musl-gcc or gcc)', 'run daxrig setup')
  })()
  return compilerId
}

export const CFLAGS = ['-static', '-O2', '-Wall', '-Werror', '-std=gnu11']

/** Build one program; returns the path of the cached static binary. */
export async function buildTest(source: string): Promise<string> {
  if (!existsSync(source)) throw new InputError(`no such test source ${source}`)
  const { cc, id } = await compiler()
  const src = await readFile(source)
  // the local headers it includes (ktap.h, ../ktap.h) are part of what it is
  const headers = [...src.toString().matchAll(/^#\s*include\s+"([^"]+)"/gm)].map(m => join(dirname(source), m[1]!))
  const hdrs = await Promise.all(headers.map(h => readFile(h).catch(() => Buffer.alloc(0))))
  const key = sha256(src, ...hdrs, id, CFLAGS.join(' '))
  const name = source.split('/').pop()!.replace(/\.c$/, '')
  const dir = await ensureEntry('testbin', `${name}-${key.slice(0, 24)}`, async tmp => {
    const out = join(tmp, name)
    const r = await run(cc, [...CFLAGS, '-I', dirname(source), '-o', out, source])
    if (r.exitCode !== 0)
      throw new InputError(`test program does not compile:\n${r.all.split('\n').filter(l => /error|warning/.test(l)).slice(0, 8).join('\n')}`, source)
    await copyFile(source, join(tmp, `${name}.c`))
  })
  return join(dir, name)
}
