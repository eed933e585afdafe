// The VM runner and verdicts against fake QEMUs: hangs, early exits and replays, no kernel needed.
import t, { type Test } from 'tap'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runVm } from '../../../harness/vm/runner.js'
import { evaluateRun } from '../../../harness/run/evaluate.js'
import { loadVariant } from '../../../harness/config/variant.js'

const fake = (n: string) => join(process.cwd(), 'tests/fixtures/fake-qemu', n)
const variant = await loadVariant(join(process.cwd(), 'tests/variants/baseline-6.1.yaml'))

/** Set `vars` in process.env (runVm passes its own environment to QEMU) until the subtest ends. */
function setEnvFor(t: Test, vars: Record<string, string>): void {
  const saved = Object.fromEntries(Object.keys(vars).map(k => [k, process.env[k]]))
  Object.assign(process.env, vars)
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
}

async function runFake(t: Test, script: string, o: { bootSec?: number; noOutputSec?: number; totalSec?: number; env?: Record<string, string> } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-runner-'))
  const pidfile = join(dir, 'pid')
  setEnvFor(t, { FAKE_PIDFILE: pidfile, ...o.env })
  const vm = await runVm({
    qemu: fake(script),
    args: ['-chardev', 'stdio,id=con', '-chardev', `file,id=res,path=${join(dir, 'results.ktap')}`],
    consolePath: join(dir, 'console.log'),
    resultsPath: join(dir, 'results.ktap'),
    bootSec: o.bootSec ?? 30,
    noOutputSec: o.noOutputSec ?? 30,
    totalSec: o.totalSec ?? 60,
  })
  const pid = Number(await readFile(pidfile, 'utf8').catch(() => '0'))
  return { vm, dir, pid }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('a silent guest is a boot hang, and QEMU is killed', async t => {
  const { vm, pid } = await runFake(t, 'hang-silent.mjs', { bootSec: 1.5 })
  t.equal(vm.watchdog, 'boot')
  t.equal(vm.firstConsoleMs, null)
  t.ok(pid > 0 && !alive(pid), 'no orphan left')
  const ev = evaluateRun(variant, vm)
  t.equal(ev.verdict, 'boot-hang')
  t.match(ev.summary, /boot hung/)
})

t.test('a guest that starts its tests then goes silent is a test hang; unreported cases are never passes', async t => {
  const { vm, pid } = await runFake(t, 'print-then-hang.mjs', { noOutputSec: 1.5 })
  t.equal(vm.watchdog, 'no-output')
  t.ok(!alive(pid), 'no orphan left')
  t.match(vm.console, /Linux version/)
  const ev = evaluateRun(variant, vm)
  t.equal(ev.verdict, 'test-hang')
  t.notOk(ev.cases.some(c => c.status === 'pass' && c.id === 'map_sync.xfs_shared'), 'a case that never reported is not passed')
  t.ok(ev.cases.some(c => c.verdict !== 'as-expected'), 'something counts as failed')
})

t.test('the total watchdog fires even while output keeps coming', async t => {
  const { vm } = await runFake(t, 'replay.mjs', {
    totalSec: 1,
    env: { FAKE_CONSOLE: join(process.cwd(), 'tests/fixtures/runs/baseline-6.1/console.log'), FAKE_DELAY_MS: '100', FAKE_RESULTS: '' },
  })
  t.equal(vm.watchdog, 'total')
})

t.test('QEMU exiting non-zero before any output is an infra failure', async t => {
  const { vm } = await runFake(t, 'exit-nonzero.mjs')
  t.equal(vm.exitCode, 1)
  const ev = evaluateRun(variant, vm)
  t.equal(ev.verdict, 'infra')
  t.match(ev.summary, /nvdimm is not enabled/)
})

t.test('a QEMU message written in two pieces is one line of the reason', async t => {
  const { vm } = await runFake(t, 'exit-nonzero-split.mjs')
  t.same(vm.qemuErrors, ["qemu-system-x86_64: can't open backing store /nonexistent/dir/x for guest RAM: No such file or directory"])
  t.match(evaluateRun(variant, vm).summary, /QEMU failed to start \(exit 1\): qemu-system-x86_64: can't open backing store \/nonexistent/)
})

t.test('a replayed real run is judged ok; the same run without its exit marker is a crash', async t => {
  const env = {
    FAKE_CONSOLE: join(process.cwd(), 'tests/fixtures/runs/baseline-6.1/console.log'),
    FAKE_RESULTS: join(process.cwd(), 'tests/fixtures/runs/baseline-6.1/results.ktap'),
    FAKE_DELAY_MS: '0',
  }
  const { vm } = await runFake(t, 'replay.mjs', { env })
  t.equal(vm.watchdog, null)
  const ev = evaluateRun(variant, vm)
  t.equal(ev.verdict, 'ok', ev.summary)
  t.equal(ev.cases.length, 36)
  const cut = { ...vm, results: vm.results.replace(/# daxrig-exit: 0\n?/, '') }
  const ev2 = evaluateRun(variant, cut)
  t.equal(ev2.verdict, 'crash')
})

t.test('the FAKE_* variables do not outlive their subtest', async t => {
  t.same(Object.keys(process.env).filter(k => k.startsWith('FAKE_')), [])
})
