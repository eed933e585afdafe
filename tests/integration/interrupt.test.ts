// Ctrl-C and SIGTERM while a VM runs (a fake QEMU that prints, then hangs) and while a kernel builds:
// exit 130 / 143, no QEMU or make/cc1 left, partial results written (results.json with interrupted: true,
// the console of the variant), nothing half-written in the cache.
import t from 'tap'
import { execa } from 'execa'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixture, root } from './helpers.js'

const sharedCache = process.env.DAXRIG_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'daxrig')

/** Running, not a zombie: a killed child of the rig is reparented to PID 1, which may reap it late. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** pid → [ppid, pgid, comm] of every process, from /proc. */
function processTable(): Map<number, { ppid: number; pgid: number; comm: string }> {
  const out = new Map<number, { ppid: number; pgid: number; comm: string }>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8')
      // comm may hold spaces and parentheses: split after the last ')'
      const close = s.lastIndexOf(')')
      const comm = s.slice(s.indexOf('(') + 1, close)
      const f = s.slice(close + 2).split(' ')
      if (f[0] === 'Z') continue // zombies are dead; only their exit status is left
      out.set(Number(d), { ppid: Number(f[1]), pgid: Number(f[2]), comm })
    } catch {
      /* gone */
    }
  }
  return out
}

/** Every descendant of `pid` (children, grandchildren, …) with its process group and name. */
function descendants(pid: number): { pid: number; pgid: number; comm: string }[] {
  const table = processTable()
  const out: { pid: number; pgid: number; comm: string }[] = []
  const todo = [pid]
  while (todo.length) {
    const p = todo.pop()!
    for (const [c, info] of table) if (info.ppid === p) {
      out.push({ pid: c, pgid: info.pgid, comm: info.comm })
      todo.push(c)
    }
  }
  return out
}

/** Members of a process group that are still alive (zombies of a reaped tree do not count). */
function groupMembers(pgid: number): { pid: number; comm: string }[] {
  return [...processTable()].filter(([, i]) => i.pgid === pgid).map(([pid, i]) => ({ pid, comm: i.comm }))
}

function spawnDaxrig(args: string[], env: Record<string, string>) {
  return execa(process.execPath, [join(root, 'bin', 'daxrig.js'), ...args], {
    reject: false,
    all: true,
    stdin: 'ignore',
    env: { ...process.env, CI: 'true', ...env },
  })
}

interface Started {
  child: ReturnType<typeof spawnDaxrig>
  text: () => string
  waitFor: (re: RegExp, ms: number) => Promise<boolean>
}

function start(args: string[], env: Record<string, string>): Started {
  const child = spawnDaxrig(args, env)
  let text = ''
  child.all.on('data', (b: Buffer) => {
    text += b.toString()
  })
  const waitFor = async (re: RegExp, ms: number): Promise<boolean> => {
    const end = Date.now() + ms
    while (Date.now() < end) {
      if (re.test(text)) return true
      if (child.exitCode !== null) return re.test(text)
      await new Promise(r => setTimeout(r, 100))
    }
    return false
  }
  return { child, text: () => text, waitFor }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (!alive(pid)) return true
    await new Promise(r => setTimeout(r, 100))
  }
  return !alive(pid)
}

const VM_CASES: { sig: 'SIGINT' | 'SIGTERM'; code: number; fake: string }[] = [
  { sig: 'SIGINT', code: 130, fake: 'print-then-hang.mjs' },
  { sig: 'SIGTERM', code: 143, fake: 'print-then-hang.mjs' },
  // a QEMU that ignores SIGTERM: the rig must escalate to SIGKILL and still exit 130
  { sig: 'SIGINT', code: 130, fake: 'hang-ignore-sigterm.mjs' },
]

for (const { sig, code, fake } of VM_CASES) {
  t.test(`${sig} while the VM runs (${fake}) → exit ${code}, QEMU stopped, partial results`, async t => {
    const out = await mkdtemp(join(tmpdir(), 'daxrig-int-'))
    const pidfile = join(out, 'qemu.pid')
    // --accel tcg: no accelerator probe (it would run the fake too); the kernel and image come from the warm cache
    const run = start(['run', 'baseline-6.1', '--accel', 'tcg', '--out', out], {
      DAXRIG_QEMU: fixture(`fake-qemu/${fake}`),
      FAKE_PIDFILE: pidfile,
    })
    t.ok(await run.waitFor(/baseline-6\.1: boot\+test/, 120_000), 'the VM phase started', { output: run.text() })
    t.ok(await run.waitFor(/guest: \[1\.00\] running map_sync/, 30_000), 'the guest printed', { output: run.text() })
    const qemuPid = Number(await readFile(pidfile, 'utf8').catch(() => '0'))
    t.ok(qemuPid > 0 && alive(qemuPid), 'fake QEMU is running')
    run.child.kill(sig)
    const r = await run.child
    t.equal(r.exitCode, code, `exit ${code}`, { output: run.text().slice(-2000) })
    t.match(run.text(), new RegExp(`daxrig: ${sig}: stopping`), 'says it is stopping')
    t.ok(await waitGone(qemuPid, 1000), `fake QEMU ${qemuPid} is gone`)
    // partial results: results.json parses, says interrupted, and the variant's console is there
    const results = await readFile(join(out, 'results.json'), 'utf8').catch(() => '')
    t.ok(results, 'results.json exists')
    let parsed: { interrupted?: boolean; variants?: { variant: string; verdict: string }[] } = {}
    t.doesNotThrow(() => (parsed = JSON.parse(results) as typeof parsed), 'results.json is valid JSON')
    t.equal(parsed.interrupted, true, 'interrupted: true')
    t.ok(Array.isArray(parsed.variants), 'variants is a list')
    // the user stopped the guest: that is no verdict on the kernel
    const judged = (parsed.variants ?? []).filter(v => ['crash', 'test-hang', 'boot-hang', 'regression'].includes(v.verdict))
    t.same(judged, [], 'the interrupted variant is not judged a crash or hang')
    const con = await readFile(join(out, 'baseline-6.1', 'console.log'), 'utf8').catch(() => '')
    t.match(con, /Linux version 6\.1\.0-fake/, 'console.log of the variant holds what the guest printed')
    await rm(out, { recursive: true, force: true })
  })
}

// A real kernel build interrupted: a source variant whose only patch adds a comment (with a fresh nonce, so
// the kernel key is new each time) to kernel/panic.c on the shared linux-source-6.1 tree, with the fragments
// the demo variant uses, so the out/ tree's .config is unchanged and make only has one file and the link to
// do. make starts ~10 s after the run (reset + apply + olddefconfig); it needs the tree unpacked already.
t.test('SIGINT during a kernel build → exit 130, no make/cc1 left, no half-written kernel entry', async t => {
  const treeRoot = join(sharedCache, 'trees')
  const tree = existsSync(treeRoot) ? (await readdir(treeRoot)).find(d => d.startsWith('linux-source-6.1_') && !d.endsWith('.lock')) : undefined
  if (!tree || !existsSync(join(treeRoot, tree, '.complete'))) {
    t.comment('skipped: the linux-source-6.1 tree is not unpacked in the shared cache (run the source-kernel tests first)')
    return
  }
  const src = join(treeRoot, tree, 'src')
  const base = (await execa('git', ['-C', src, 'show', 'HEAD:kernel/panic.c'])).stdout + '\n'
  const anchor = base.split('\n').findIndex(l => l.startsWith('int panic_on_oops'))
  t.ok(anchor > 0, 'found the anchor line in kernel/panic.c')
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-intbuild-'))
  const nonce = `${Date.now()}-${process.pid}`
  const changed = base.split('\n')
  changed.splice(anchor, 0, `/* daxrig interrupt test ${nonce} */`)
  await writeFile(join(dir, 'a.c'), base)
  await writeFile(join(dir, 'b.c'), changed.join('\n'))
  const d = await execa('diff', ['-u', '--label', 'a/kernel/panic.c', '--label', 'b/kernel/panic.c', join(dir, 'a.c'), join(dir, 'b.c')], { reject: false })
  await writeFile(
    join(dir, 'touch-panic.patch'),
    [
      'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
      'From: daxrig tests <daxrig@localhost>',
      'Date: Mon, 6 Jan 2025 10:00:00 +0000',
      'Subject: [PATCH] panic: a comment, so that make has one file to compile',
      '',
      'Made by tests/integration/interrupt.test.ts to interrupt a real kernel build.',
      '---',
      'diff --git a/kernel/panic.c b/kernel/panic.c',
      d.stdout,
      '-- ',
      '2.39.5',
      '',
    ].join('\n'),
  )
  await writeFile(
    join(dir, 'variant.yaml'),
    [
      'name: interrupt-build',
      'kernel:',
      '  source: linux-source-6.1',
      '  patches: touch-panic.patch',
      '  config: [base, nvdimm, vfio]',
      'tests: [map_sync]',
      'expect:',
      '  "map_sync.*": pass',
      '',
    ].join('\n'),
  )
  const out = join(dir, 'out')
  const run = start(['run', join(dir, 'variant.yaml'), '--accel', 'tcg', '--out', out], { DAXRIG_QEMU: fixture('fake-qemu/exit-nonzero.mjs') })
  const started = await run.waitFor(/interrupt-build: build \(make bzImage/, 240_000)
  t.ok(started, 'the build started', { output: run.text().slice(-2000) })
  if (!started) {
    run.child.kill('SIGKILL')
    await run.child
    return
  }
  // let make fan out (make → sh → ccache → gcc → cc1 / ld)
  let kids: { pid: number; pgid: number; comm: string }[] = []
  for (let i = 0; i < 50; i++) {
    kids = descendants(run.child.pid!)
    if (kids.some(k => k.comm === 'make') && kids.length >= 3) break
    await new Promise(r => setTimeout(r, 100))
  }
  const make = kids.find(k => k.comm === 'make')
  t.ok(make, 'make is running under daxrig', { kids })
  t.comment(`interrupting with ${kids.length} descendants: ${[...new Set(kids.map(k => k.comm))].join(' ')}`)
  run.child.kill('SIGINT')
  const r = await run.child
  t.equal(r.exitCode, 130, 'exit 130', { output: run.text().slice(-2000) })
  await new Promise(res => setTimeout(res, 500))
  const left = kids.filter(k => alive(k.pid) && processTable().get(k.pid)?.comm === k.comm)
  t.same(left, [], 'no process of the build left (make, sh, ccache, gcc, cc1, ld)')
  if (make) {
    // the contract: make is stopped when daxrig exits. Measure how long its group really lives on.
    const late = groupMembers(make.pgid)
    const t0 = Date.now()
    while (groupMembers(make.pgid).length && Date.now() - t0 < 15_000) await new Promise(res => setTimeout(res, 100))
    t.comment(`make's process group emptied ${Date.now() - t0 + 500} ms after daxrig exited`)
    t.same(late, [], "make's process group is empty 0.5 s after daxrig exited")
  }
  // partial results and no half-written cache entry
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8').catch(() => '{}')) as { interrupted?: boolean }
  t.equal(results.interrupted, true, 'results.json says interrupted')
  const kernels = join(sharedCache, 'kernels')
  const tmps = (await readdir(kernels).catch(() => [] as string[])).filter(f => f.startsWith('.tmp-'))
  const ours: string[] = []
  for (const f of tmps) {
    // a .tmp- dir is ours when no live process holds its lock (someone else's build holds a live lock)
    const lock = (await readdir(kernels)).find(l => l.endsWith('.lock') && l.startsWith(f.slice(5, 17)))
    const pid = lock ? Number((await readFile(join(kernels, lock), 'utf8').catch(() => '')).split(' ')[0]) : 0
    if (!pid || !alive(pid)) ours.push(f)
  }
  t.same(ours, [], 'no half-written .tmp-* kernel entry left')
  const locks = (await readdir(kernels).catch(() => [] as string[])).filter(f => f.endsWith('.lock'))
  const deadLocks: string[] = []
  for (const l of locks) {
    const pid = Number((await readFile(join(kernels, l), 'utf8').catch(() => '')).split(' ')[0])
    if (pid === run.child.pid) deadLocks.push(l)
  }
  for (const l of (await readdir(treeRoot)).filter(f => f.endsWith('.lock'))) {
    const pid = Number((await readFile(join(treeRoot, l), 'utf8').catch(() => '')).split(' ')[0])
    if (pid === run.child.pid) deadLocks.push(l)
  }
  t.same(deadLocks, [], 'the interrupted run released its locks')
  await rm(dir, { recursive: true, force: true })
})
