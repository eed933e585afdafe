// Kconfig fragment parsing, merging and the survival check, on a real final .config of the rig's 6.1 kernel.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InputError } from '../../../harness/errors.js'
import {
  assertSurvived,
  droppedOptions,
  formatDropped,
  mergeRequests,
  parseConfig,
  parseFragment,
  readFragments,
} from '../../../harness/kernel/kconfig.js'
import { projectRoot } from '../../../harness/paths.js'

const fx = join(projectRoot(), 'tests', 'fixtures', 'kernel')
const frag = (n: string) => join(projectRoot(), 'kernel-config', `${n}.config`)
const finalText = () => readFile(join(fx, 'final-6.1-base-nvdimm-vfio.config'), 'utf8')

t.test('parseConfig: values, "is not set" as n, comments ignored', async t => {
  const c = parseConfig('# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=0x10\n')
  t.same([...c], [
    ['CONFIG_A', 'y'],
    ['CONFIG_B', 'n'],
    ['CONFIG_C', '"x y"'],
    ['CONFIG_D', '0x10'],
  ])
})

t.test('parseFragment rejects lines merge_config.sh would silently ignore', async t => {
  const file = join(fx, 'bad-syntax.config')
  const text = await readFile(file, 'utf8')
  t.throws(() => parseFragment(text, file), { name: 'InputError', message: /bad-syntax\.config:3: .*CONFIG_DAX = y/ })
  t.throws(() => parseFragment('CONFIG_X=\n', 'f'), InputError)
})

t.test('every shipped fragment has a header saying why and what it was tested with', async t => {
  for (const n of ['base', 'nvdimm', 'vfio', 'debug']) {
    const text = await readFile(frag(n), 'utf8')
    t.match(text.split('\n')[0], new RegExp(`^# ${n}\\.config — `), `${n} opens with its purpose`)
    t.match(text, /[Tt]ested with 6\.1\.192/, `${n} says what it was tested with`)
    t.ok(parseFragment(text, n).length > 3, `${n} parses`)
    for (const r of parseFragment(text, n)) t.not(r.value, 'm', `${r.option}: no modules in the guest`)
  }
})

t.test('mergeRequests: later fragment wins and the override is reported', async t => {
  const m = mergeRequests([
    { path: 'a.config', text: 'CONFIG_X=y\nCONFIG_Y=y\n' },
    { path: 'b.config', text: '# CONFIG_X is not set\nCONFIG_Y=y\n' },
  ])
  t.equal(m.requests.get('CONFIG_X')?.value, 'n')
  t.equal(m.requests.get('CONFIG_X')?.fragment, 'b.config')
  t.equal(m.overrides.length, 1, 'equal re-requests are not overrides')
  t.match(m.overrides[0], { option: 'CONFIG_X', from: { fragment: 'a.config' }, to: { fragment: 'b.config' } })
})

t.test('base+nvdimm+vfio all survive in the real 6.1 .config', async t => {
  const m = mergeRequests(await readFragments(['base', 'nvdimm', 'vfio'].map(frag)))
  const text = await finalText()
  t.same(droppedOptions(m.requests, parseConfig(text)), [])
  t.doesNotThrow(() => assertSurvived(m.requests, text))
  t.throws(() => assertSurvived(m.requests, text.replace('CONFIG_FS_DAX=y', '# CONFIG_FS_DAX is not set')), {
    name: 'InputError',
    message: /CONFIG_FS_DAX=y \(nvdimm\.config:\d+\)/,
  })
})

t.test('an impossible fragment fails the survival check, naming options and fragment', async t => {
  const impossible = join(fx, 'impossible.config')
  const m = mergeRequests(await readFragments([frag('base'), frag('nvdimm'), impossible]))
  const dropped = droppedOptions(m.requests, parseConfig(await finalText()))
  t.same(
    dropped.map(d => [d.option, d.wanted, d.got, d.fragment]),
    [
      // first-seen order: nvdimm.config asked for ZONE_DEVICE before impossible.config turned it off
      ['CONFIG_ZONE_DEVICE', 'n', 'y', impossible],
      ['CONFIG_DAXRIG_NO_SUCH_OPTION', 'y', 'n', impossible],
      ['CONFIG_KASAN', 'y', 'n', impossible],
    ],
  )
  const err = (() => {
    try {
      assertSurvived(m.requests, '')
    } catch (e) {
      return e
    }
    return undefined
  })()
  t.type(err, InputError)
  t.match(formatDropped(dropped), /CONFIG_KASAN=y \(impossible\.config:3\) is not set/)
  t.match(formatDropped(dropped), /CONFIG_ZONE_DEVICE=n \(impossible\.config:4\) is =y/)
})

t.test('debug.config does not survive on the fixture (it was not built with it)', async t => {
  const m = mergeRequests(await readFragments([frag('debug')]))
  const dropped = droppedOptions(m.requests, parseConfig(await finalText())).map(d => d.option)
  t.ok(dropped.includes('CONFIG_KASAN'))
  t.ok(dropped.includes('CONFIG_SLUB'))
})
