// The fault corpus: faults of the host, of QEMU and of test programs, each run for real, each with the verdict and
// exit code it deserves. A fault outside the kernel under test is `infra` (exit 128), never `crash`; a program's
// end is its end; the results channel cannot be forged. About 2 minutes on TCG with warm kernels.
import t from 'tap'
import { execa } from 'execa'
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig } from './helpers.js'
import type { RunSummary, VariantResult } from '../../harness/types.js'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function qemuPidFor(dir: string, waitMs = 60_000): Promise<number> {
  const end = Date.now() + waitMs
  while (Date.now() < end) {
    const r = await execa('pgrep', ['-f', `qemu-system-x86_64 .*${dir}/`], { reject: false })
    const pid = Number(r.stdout.trim().split('\n')[0])
    if (pid) return pid
    await sleep(50)
  }
  throw new Error(`no QEMU for ${dir} within ${waitMs} ms`)
}

async function waitForText(file: string, re: RegExp, waitMs = 60_000): Promise<void> {
  const end = Date.now() + waitMs
  while (Date.now() < end) {
    if (re.test(await readFile(file, 'utf8').catch(() => ''))) return
    await sleep(50)
  }
  throw new Error(`${file} never matched ${re}`)
}

async function results(out: string): Promise<VariantResult> {
  const s = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary
  return s.variants[0]!
}

/** `daxrig run VARIANT` with `kill -SIG` of its QEMU once `when` says so. */
async function runAndKill(variant: string, signal: 'SIGKILL' | 'SIGTERM', when: 'boot' | 'mid-test') {
  const out = await mkdtemp(join(tmpdir(), `daxrig-kill-${when}-`))
  const run = daxrig(['run', variant, '--out', out])
  const pid = await qemuPidFor(out)
  if (when === 'mid-test') await waitForText(join(out, variant, 'channel.log'), /daxrig-setup: ok/)
  else await sleep(300)
  process.kill(pid, signal)
  const r = await run
  return { r, v: await results(out), dir: join(out, variant) }
}

for (const [signal, when] of [['SIGKILL', 'mid-test'], ['SIGKILL', 'boot'], ['SIGTERM', 'mid-test'], ['SIGTERM', 'boot']] as const) {
  t.test(`QEMU killed from outside with ${signal} at ${when}: infra, exit 128, never crash, no retry`, async t => {
    const { r, v, dir } = await runAndKill('baseline-6.1', signal, when)
    t.equal(r.code, 128, r.out.slice(-1500))
    t.equal(v.verdict, 'infra', v.summary)
    t.match(v.summary, signal === 'SIGKILL' ? /killed by SIGKILL, which daxrig did not send/ : /stopped from outside the rig: .*terminating on signal 15|killed by SIGTERM, which daxrig did not send/)
    t.notOk(existsSync(join(dir, 'console-attempt1.log')), 'not retried as a boot crash')
    t.notMatch(r.out, /booting once more/)
  })
}

t.test('QEMU that cannot start (a bad -object): infra, exit 128, QEMU stderr in the reason', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-badqemu-'))
  const wrapper = join(dir, 'qemu-bad-object')
  // the real QEMU, with a memory backend whose file cannot exist
  await writeFile(wrapper, '#!/bin/sh\nexec qemu-system-x86_64 "$@" -object memory-backend-file,id=daxrig-bad,mem-path=/nonexistent/dir/x,size=1M\n')
  await chmod(wrapper, 0o755)
  const out = join(dir, 'out')
  const r = await daxrig(['run', 'baseline-6.1', '--out', out], { DAXRIG_QEMU: wrapper })
  const v = await results(out)
  t.equal(r.code, 128, r.out.slice(-1500))
  t.equal(v.verdict, 'infra', v.summary)
  t.match(v.summary, /QEMU failed to start \(exit 1\): .*nonexistent/)
})

async function runFault(name: string) {
  const out = await mkdtemp(join(tmpdir(), `daxrig-${name}-`))
  const r = await daxrig(['run', name, '--out', out])
  return { r, v: await results(out), ktap: await readFile(join(out, name, 'results.ktap'), 'utf8') }
}

t.test('a program that leaves a daemon holding its stdout: ok, promptly, with a note', async t => {
  const { r, v } = await runFault('fault-daemon')
  t.equal(r.code, 0, r.out.slice(-1500))
  t.equal(v.verdict, 'ok', v.summary)
  t.same(v.cases.map(c => [c.id, c.status]), [['daemon.first', 'pass'], ['daemon.second', 'pass']])
  t.match(v.notes?.join('\n'), /daemon left \d+ process(es)? behind/)
  t.ok((v.timings['boot+test'] ?? 99) < 25, `boot+test ${v.timings['boot+test']} s: about a normal run, far from the 30 s per-test timeout`)
})

t.test('a program killed by the guest OOM killer reads as OOM, not as a timeout', async t => {
  const { r, v, ktap } = await runFault('fault-oom')
  t.equal(r.code, 0, 'the variant declares expect-run regression')
  t.equal(v.verdict, 'regression', v.summary)
  t.match(ktap, /^not ok 1 oom # ERROR signal=9$/m, 'the relay reports the signal, not TIMEOUT')
  t.notOk(v.cases.some(c => c.status === 'timeout'), 'no case is a timeout')
  t.match(v.cases.map(c => c.detail).join('\n'), /killed by the guest's OOM killer \(console: .*Killed process \d+ \(oom\)/)
})

t.test('forged framing written straight to the port changes nothing', async t => {
  const { r, v, ktap } = await runFault('fault-forge')
  t.equal(r.code, 0, r.out.slice(-1500))
  t.equal(v.verdict, 'ok', v.summary)
  t.same(v.cases.map(c => [c.id, c.status]), [['forge.real', 'pass']], 'only the real case; "ok 2 forged" and "ok 9" are not cases')
  t.notMatch(ktap, /forged|not_a_program/, 'results.ktap holds none of the forged lines')
  t.match(v.notes?.join('\n'), /4 lines on the results channel outside any program's block ignored as noise/)
  t.match(ktap, /^# daxrig-setup: ok$/m)
  t.equal(ktap.match(/^# daxrig-exit:/gm)?.length, 1, 'one exit marker: init\'s')
})

t.test('a guest that reboots itself mid-plan: crash, the case before it passed', async t => {
  const { r, v } = await runFault('fault-reboot')
  t.equal(r.code, 0, 'the variant declares expect-run crash')
  t.equal(v.verdict, 'crash', v.summary)
  t.equal(v.cases.find(c => c.id === 'reboot.before_reboot')?.status, 'pass')
})

t.test('a console flood of 20,000 printk lines: ok', async t => {
  const { r, v } = await runFault('fault-flood')
  t.equal(r.code, 0, r.out.slice(-1500))
  t.equal(v.verdict, 'ok', v.summary)
})

t.test('bisect over a step whose QEMU is killed names no culprit and aborts with 128', async t => {
  const out = await mkdtemp(join(tmpdir(), 'daxrig-bisect-kill-'))
  const run = daxrig(['bisect', 'vfio-pin-demo-6.1', '--test', 'vfio_pin.vfio_map_fsdax', '--out', out])
  process.kill(await qemuPidFor(out, 900_000), 'SIGKILL')
  const r = await run
  t.equal(r.code, 128, r.out.slice(-1500))
  t.notMatch(r.out, /first (bad|good) patch/)
  t.match(r.out, /aborted/)
})

