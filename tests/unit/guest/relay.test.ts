// images/relay.c, the guest side of the results channel: built like a test program, run on the host with
// pipes (tcdrain on a non-tty returns at once). It must indent every line, end an unterminated last line,
// keep long lines whole, and pass bytes through untouched; --drain alone writes nothing.
import t from 'tap'
import { execa } from 'execa'
import { join } from 'node:path'
import { projectRoot } from '../../../harness/paths.js'
import { buildTest } from '../../../harness/guest/testbin.js'

const relay = await buildTest(join(projectRoot(), 'images', 'relay.c'))
const through = async (input: string) => (await execa(relay, [], { input, stripFinalNewline: false })).stdout

t.test('indents every line by two spaces', async t => {
  t.equal(await through('KTAP version 1\n1..1\nok 1 a\n'), '  KTAP version 1\n  1..1\n  ok 1 a\n')
  t.equal(await through('\n\n'), '  \n  \n', 'empty lines too')
})

t.test('an unterminated last line ends with a newline (init writes its own result line next)', async t => {
  t.equal(await through('ok 1 a\nok 2 b'), '  ok 1 a\n  ok 2 b\n')
  t.equal(await through(''), '', 'no input, no output')
})

t.test('a line longer than the read buffer stays one line', async t => {
  const long = 'x'.repeat(10_000)
  t.equal(await through(`${long}\nok 1 a\n`), `  ${long}\n  ok 1 a\n`)
})

t.test('bytes pass through untouched (escapes and markers are the parser\'s business)', async t => {
  t.equal(await through('\u001b[31mred\u001b[0m\r\n# daxrig-exit: 0\n'), '  \u001b[31mred\u001b[0m\r\n  # daxrig-exit: 0\n')
})

t.test('--drain writes nothing and succeeds on a pipe', async t => {
  const r = await execa(relay, ['--drain'], { input: 'ignored\n' })
  t.equal(r.exitCode, 0)
  t.equal(r.stdout, '')
})
