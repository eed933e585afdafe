// The content-addressed cache: entries appear whole or not at all, one lock holder at a time (in one
// process and across processes), and a lock left by a dead process does not block the next run.
import t, { type Test } from 'tap'
import { execa } from 'execa'
import { mkdtemp, readdir, readFile, writeFile, appendFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureEntry, entryPath, withLock, cacheRoot } from '../../../harness/cache/store.js'
import { InfraError } from '../../../harness/errors.js'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const storeModule = join(process.cwd(), 'harness', 'cache', 'store.ts')

async function freshCache(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'daxrig-store-'))
  const old = process.env.DAXRIG_CACHE
  process.env.DAXRIG_CACHE = dir
  t.teardown(async () => {
    if (old === undefined) delete process.env.DAXRIG_CACHE
    else process.env.DAXRIG_CACHE = old
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

/** A pid that belonged to a process which has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = execa('true')
  await child
  return child.pid!
}

/** Run a TypeScript snippet that imports the store in a separate node process (through tsx). */
function nodeTs(code: string, env: Record<string, string>) {
  return execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    reject: false,
    all: true,
  })
}

t.test('cacheRoot follows DAXRIG_CACHE', async t => {
  const dir = await freshCache(t)
  t.equal(cacheRoot(), dir)
  t.equal(entryPath('kernels', 'abc'), join(dir, 'kernels', 'abc'))
})

t.test('ensureEntry: a throwing make leaves no entry, no temp dir and no lock; the next call rebuilds', async t => {
  const dir = await freshCache(t)
  let calls = 0
  await t.rejects(
    ensureEntry('things', 'k1', async tmp => {
      calls++
      await writeFile(join(tmp, 'half'), 'half-written')
      throw new Error('make failed')
    }),
    /make failed/,
  )
  t.equal(calls, 1)
  t.notOk(existsSync(entryPath('things', 'k1')), 'no entry')
  t.same(await readdir(join(dir, 'things')), [], 'no .tmp-* dir and no lock left')

  const got = await ensureEntry('things', 'k1', async tmp => {
    calls++
    await writeFile(join(tmp, 'payload'), 'whole')
  })
  t.equal(calls, 2, 'the second call rebuilt it')
  t.equal(got, entryPath('things', 'k1'))
  t.equal(await readFile(join(got, 'payload'), 'utf8'), 'whole')
  t.ok(existsSync(join(got, '.complete')), 'marked complete')
  t.notOk(existsSync(join(got, 'half')), 'nothing of the failed attempt')
  t.same((await readdir(join(dir, 'things'))).sort(), ['k1'], 'only the entry: no temp dir, no lock')

  await ensureEntry('things', 'k1', async () => {
    calls++
  })
  t.equal(calls, 2, 'a complete entry is not rebuilt')
})

t.test('ensureEntry: an entry dir without .complete (a crash before the rename finished) is rebuilt', async t => {
  const dir = await freshCache(t)
  const final = entryPath('things', 'k2')
  await execa('mkdir', ['-p', final])
  await writeFile(join(final, 'stale'), 'x')
  const got = await ensureEntry('things', 'k2', async tmp => {
    await writeFile(join(tmp, 'payload'), 'new')
  })
  t.notOk(existsSync(join(got, 'stale')), 'the incomplete dir was replaced')
  t.equal(await readFile(join(got, 'payload'), 'utf8'), 'new')
  t.same((await readdir(join(dir, 'things'))).sort(), ['k2'])
})

t.test('ensureEntry: two concurrent callers for one key build it once', async t => {
  await freshCache(t)
  let calls = 0
  const make = async (tmp: string) => {
    calls++
    await sleep(300)
    await writeFile(join(tmp, 'payload'), 'once')
  }
  const [a, b] = await Promise.all([ensureEntry('things', 'k3', make), ensureEntry('things', 'k3', make)])
  t.equal(a, b)
  t.equal(calls, 1, 'make ran once; the second caller waited for the lock and found the entry')
})

t.test('withLock serialises two concurrent holders in one process', async t => {
  const dir = await freshCache(t)
  const lock = join(dir, 'x.lock')
  const log: string[] = []
  const holder = (name: string) =>
    withLock(lock, async () => {
      log.push(`${name}+`)
      await sleep(300)
      log.push(`${name}-`)
      return name
    })
  const r = await Promise.all([holder('a'), holder('b')])
  t.same(r, ['a', 'b'])
  t.ok(
    JSON.stringify(log) === JSON.stringify(['a+', 'a-', 'b+', 'b-']) || JSON.stringify(log) === JSON.stringify(['b+', 'b-', 'a+', 'a-']),
    `no overlap: ${log.join(' ')}`,
  )
  t.notOk(existsSync(lock), 'lock released')
})

t.test('withLock releases the lock when fn throws', async t => {
  const dir = await freshCache(t)
  const lock = join(dir, 'y.lock')
  await t.rejects(withLock(lock, async () => Promise.reject(new Error('boom'))), /boom/)
  t.notOk(existsSync(lock))
  t.equal(await withLock(lock, async () => 42), 42, 'usable again')
})

t.test('withLock serialises holders in two processes', async t => {
  const dir = await freshCache(t)
  const lock = join(dir, 'p.lock')
  const log = join(dir, 'log')
  const code = `
    import { withLock } from ${JSON.stringify(storeModule)}
    import { appendFile } from 'node:fs/promises'
    await withLock(${JSON.stringify(lock)}, async () => {
      await appendFile(${JSON.stringify(log)}, process.pid + ' +\\n')
      await new Promise(r => setTimeout(r, 700))
      await appendFile(${JSON.stringify(log)}, process.pid + ' -\\n')
    })
  `
  const [a, b] = await Promise.all([nodeTs(code, { DAXRIG_CACHE: dir }), nodeTs(code, { DAXRIG_CACHE: dir })])
  t.equal(a.exitCode, 0, 'holder a exited 0', { output: a.all })
  t.equal(b.exitCode, 0, 'holder b exited 0', { output: b.all })
  const lines = (await readFile(log, 'utf8')).trim().split('\n')
  t.equal(lines.length, 4)
  const [p1, s1] = lines[0]!.split(' ')
  const [p2, s2] = lines[1]!.split(' ')
  t.same([s1, s2, p1], ['+', '-', p2], `one holder at a time: ${lines.join(' | ')}`)
  t.notOk(existsSync(lock))
})

t.test('withLock breaks a stale lock left by a dead pid', async t => {
  const dir = await freshCache(t)
  const lock = join(dir, 'stale.lock')
  const pid = await deadPid()
  await writeFile(lock, `${pid} somehost\n`)
  const t0 = Date.now()
  const r = await withLock(lock, async () => (await readFile(lock, 'utf8')).split(' ')[0], 5000)
  t.equal(r, String(process.pid), 'the lock now names us')
  t.ok(Date.now() - t0 < 2000, 'taken without waiting for a timeout')
  t.notOk(existsSync(lock))
})

t.test('withLock waits for a live holder and times out with an InfraError', async t => {
  const dir = await freshCache(t)
  const lock = join(dir, 'live.lock')
  const sleeper = execa('sleep', ['30'], { reject: false })
  t.teardown(async () => {
    sleeper.kill('SIGKILL')
    await sleeper
  })
  await writeFile(lock, `${sleeper.pid} somehost\n`)
  const err = await withLock(lock, async () => 'never', 600).catch(e => e as Error)
  t.type(err, InfraError)
  t.match((err as Error).message, /timed out waiting for lock/)
  t.ok(existsSync(lock), "a live holder's lock is left alone")
})

t.test('a process killed inside make leaves no entry; the next run breaks its lock and builds', async t => {
  const dir = await freshCache(t)
  const ready = join(dir, 'ready')
  const code = `
    import { ensureEntry } from ${JSON.stringify(storeModule)}
    import { writeFile } from 'node:fs/promises'
    await ensureEntry('things', 'k4', async tmp => {
      await writeFile(tmp + '/half', 'half')
      await writeFile(${JSON.stringify(ready)}, 'x')
      await new Promise(r => setTimeout(r, 60_000))
    })
  `
  const child = nodeTs(code, { DAXRIG_CACHE: dir })
  for (let i = 0; i < 200 && !existsSync(ready); i++) await sleep(50)
  t.ok(existsSync(ready), 'the child is inside make')
  child.kill('SIGKILL')
  await child
  t.notOk(existsSync(entryPath('things', 'k4')), 'no entry from the killed run')
  t.ok(existsSync(join(dir, 'things', 'k4.lock')), 'its lock is left behind (the process could not clean up)')
  const got = await ensureEntry('things', 'k4', async tmp => {
    await appendFile(join(tmp, 'payload'), 'whole')
  })
  t.equal(await readFile(join(got, 'payload'), 'utf8'), 'whole', 'the next run built the entry')
  t.notOk(existsSync(join(got, 'half')))
  const left = (await readdir(join(dir, 'things'))).filter(f => f.startsWith('.tmp-'))
  t.comment(`temp dirs left by the SIGKILLed run (daxrig cache prune removes them): ${left.join(' ') || 'none'}`)
})
