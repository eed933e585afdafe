// The accelerator probe with fake QEMUs (the real one is exercised by every integration run): a KVM boot must
// reach the kernel banner within the watchdog, a hang after the decompressor or a QEMU that quits means TCG, the
// reason is one true line, and the answer is cached per host boot.
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probeAccel } from '../../../harness/vm/accel.js'
import { projectRoot } from '../../../harness/paths.js'

const fake = (n: string) => join(projectRoot(), 'tests', 'fixtures', 'fake-qemu', n)
const kvmOpens = existsSync('/dev/kvm')

async function probe(qemu: string, watchdog = 2) {
  process.env.DAXRIG_CACHE = await mkdtemp(join(tmpdir(), 'dx-accel-'))
  const t0 = Date.now()
  const c = await probeAccel(qemu, '/dev/null', watchdog)
  return { ...c, sec: (Date.now() - t0) / 1000 }
}

t.test('a guest that hangs after the decompressor: TCG, said so, within the watchdog', { skip: !kvmOpens && 'no /dev/kvm' }, async t => {
  // 4 s: long enough for the fake to start and print its decompressor line on a loaded host
  const c = await probe(fake('kvm-hang-after-decompressor.mjs'), 4)
  t.equal(c.accel, 'tcg')
  t.match(c.why, /printed no kernel line in 4 s \(last line: "Booting the kernel\."\): the guest hangs/)
  t.notMatch(c.why, /quit/, 'a hang is not reported as QEMU quitting')
  t.ok(c.sec < 7, `decided in ${c.sec.toFixed(1)} s`)
})

// The next two are decided by what QEMU does, not by the watchdog: a long one keeps them true on a loaded
// host, where starting the fake QEMU (a node process) alone can take seconds.
t.test('QEMU that quits (e.g. failed to set MSR): TCG with its message', { skip: !kvmOpens && 'no /dev/kvm' }, async t => {
  const c = await probe(fake('exit-nonzero.mjs'), 20)
  t.equal(c.accel, 'tcg')
  t.match(c.why, /QEMU with -accel kvm quit after [\d.]+ s: qemu-system-x86_64: -device nvdimm/)
  t.ok(c.sec < 20, `decided before the watchdog, in ${c.sec.toFixed(1)} s`)
})

t.test('a KVM guest that reaches the banner: KVM', { skip: !kvmOpens && 'no /dev/kvm' }, async t => {
  const c = await probe(fake('kvm-banner.mjs'), 20)
  t.equal(c.accel, 'kvm')
  t.match(c.why, /KVM boot reached the kernel banner in [\d.]+ s/)
})

t.test('the answer is cached per host boot', { skip: !kvmOpens && 'no /dev/kvm' }, async t => {
  const first = await probe(fake('kvm-hang-after-decompressor.mjs'))
  t.equal(first.cached, false)
  const saved = JSON.parse(await readFile(join(process.env.DAXRIG_CACHE!, 'accel.json'), 'utf8')) as { bootId: string; accel: string }
  t.equal(saved.bootId, (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim())
  t.equal(saved.accel, 'tcg')
  const again = await probeAccel(fake('kvm-banner.mjs'), '/dev/null', 2)
  t.equal(again.cached, true, 'no second probe in the same host boot')
  t.equal(again.accel, 'tcg')
})

t.test('no /dev/kvm: TCG without starting QEMU', { skip: kvmOpens && '/dev/kvm is present here' }, async t => {
  const c = await probe(fake('kvm-banner.mjs'))
  t.equal(c.accel, 'tcg')
  t.match(c.why, /\/dev\/kvm not usable/)
})
