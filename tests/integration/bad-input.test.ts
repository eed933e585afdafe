// Bad input gets one clear line and exit 2; a missing host tool gets "run daxrig setup" and exit 128.
import t from 'tap'
import { daxrig, fixture } from './helpers.js'

const errLine = (out: string) => out.split('\n').filter(l => l.startsWith('daxrig: '))

t.test('unknown variant name', async t => {
  const r = await daxrig(['run', 'no-such-variant'])
  t.equal(r.code, 2)
  t.match(errLine(r.out).join('\n'), /unknown variant or matrix "no-such-variant"/)
  t.equal(errLine(r.out).length, 1, 'one line')
})

t.test('YAML type error names file, line and field', async t => {
  const r = await daxrig(['run', fixture('variants/type-error.yaml')])
  t.equal(r.code, 2)
  t.match(r.out, /type-error\.yaml:5: machine\.cpus: /)
})

t.test('unknown Debian package name', async t => {
  const r = await daxrig(['run', fixture('variants/unknown-package.yaml'), '--accel', 'tcg'])
  t.equal(r.code, 2, r.out)
  t.match(r.out, /unknown package "linux-image-9\.9\.9-99-amd64-unsigned"/)
})

t.test('nonsense option values', async t => {
  t.equal((await daxrig(['run', '--jobs', '0'])).code, 2)
  t.equal((await daxrig(['run', '--shard', '3/2'])).code, 2)
  t.equal((await daxrig(['run', '--accel', 'warp'])).code, 2)
})

t.test('a missing host tool says "run daxrig setup" and exits 128', async t => {
  const r = await daxrig(['run', 'baseline-6.1'], { DAXRIG_QEMU: '/nonexistent/qemu-system-x86_64' })
  t.equal(r.code, 128)
  t.match(r.out, /run daxrig setup/)
})

t.test('a reader that goes away (daxrig doctor | head -1) ends the rig quietly', async t => {
  const { spawn } = await import('node:child_process')
  const { join } = await import('node:path')
  const child = spawn(process.execPath, [join(process.cwd(), 'bin', 'daxrig.js'), 'doctor'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  // close our end after the first chunk, as head does
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise<number | null>(r => child.on('close', c => r(c)))
  t.equal(code, 0, 'exit 0')
  t.notMatch(stderr, /EPIPE|Unhandled/, 'no stack trace', { stderr })
})
