// A kernel built elsewhere: Debian's 6.1 kernel unpacked into a directory of its own (boot/ + lib/modules/, as a
// distribution's debug build or `make install` + `modules_install` leave it), run with `daxrig run --kernel DIR`.
// The same kernel with FS_DAX switched off in its .config is refused before any boot, naming the option.
import t from 'tap'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { daxrig } from './helpers.js'
import { prebuiltKernel } from '../../harness/kernel/prebuilt.js'
import { nullSink } from '../../harness/events.js'
import type { RunSummary } from '../../harness/types.js'

const work = await mkdtemp(join(tmpdir(), 'daxrig-own-build-'))
t.teardown(() => rm(work, { recursive: true, force: true }))
const kdir = join(work, 'kernel')

t.before(async () => {
  const k = await prebuiltKernel('linux-image-6.1.0-56-amd64-unsigned', 'bookworm', nullSink)
  await cp(join(k.modulesRoot!, 'lib', 'modules'), join(kdir, 'lib', 'modules'), { recursive: true })
  await cp(k.bzImage, join(kdir, 'boot', `vmlinuz-${k.release}`))
  await cp(k.configPath, join(kdir, 'boot', `config-${k.release}`))
})

t.test('daxrig run --kernel DIR baseline-6.1 on a kernel the rig did not build: ok', async t => {
  const out = join(work, 'out-ok')
  const r = await daxrig(['run', '--kernel', kdir, 'baseline-6.1', '--out', out])
  t.equal(r.code, 0, r.out.slice(-2000))
  const v = (JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as RunSummary).variants[0]!
  t.equal(v.verdict, 'ok', v.summary)
  t.match(v.kernel?.description, /kernel built elsewhere: .*kernel \(6\.1\.0-56-amd64\)/)
  t.ok(v.cases.filter(c => c.status === 'pass').length >= 30, 'the map_sync suite ran')
})

t.test('the same kernel without FS_DAX: exit 2 naming the option, no boot', async t => {
  const boot = join(kdir, 'boot')
  const cfg = join(boot, (await readdir(boot)).find(f => f.startsWith('config-'))!)
  await writeFile(cfg, (await readFile(cfg, 'utf8')).replace(/^CONFIG_FS_DAX=y$/m, '# CONFIG_FS_DAX is not set'))
  const r = await daxrig(['run', '--kernel', kdir, 'baseline-6.1', '--out', join(work, 'out-nodax')])
  t.equal(r.code, 2, r.out.slice(-2000))
  t.match(r.out, /cannot run this machine: CONFIG_FS_DAX is not set \(filesystems mounted with DAX\)/)
  t.notMatch(r.out, /boot\+test/, 'refused before booting')
})
