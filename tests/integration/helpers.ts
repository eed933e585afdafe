// Run the real daxrig CLI (through its bin launcher) as a user would.
import { execa } from 'execa'
import { join } from 'node:path'

export const root = process.cwd()
export const fixture = (p: string) => join(root, 'tests', 'fixtures', p)

export async function daxrig(args: string[], env: Record<string, string> = {}) {
  const r = await execa(process.execPath, [join(root, 'bin', 'daxrig.js'), ...args], {
    reject: false,
    all: true,
    stdin: 'ignore',
    env: { ...process.env, CI: 'true', ...env },
  })
  return { code: r.exitCode ?? -1, out: String(r.all ?? ''), stdout: String(r.stdout ?? '') }
}

export function lastLine(s: string): string {
  return s.trim().split('\n').at(-1) ?? ''
}
