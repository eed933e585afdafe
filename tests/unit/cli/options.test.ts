// The shared option parsers, and that every command taking an option checks it the same way.
import t from 'tap'
import { Command } from 'commander'
import { ACCELS, intArg, option, shardArg } from '../../../harness/cli/options.js'
import { buildProgram, main } from '../../../harness/cli/index.js'
import { EXIT } from '../../../harness/errors.js'

const rejects = (f: () => unknown) => {
  try {
    f()
    return false
  } catch (e) {
    return (e as { code?: string }).code === 'commander.invalidArgument'
  }
}

t.test('intArg: decimal integers within the bounds', async t => {
  const tries = intArg('--tries', 1)
  t.equal(tries('1'), 1)
  t.equal(tries('12'), 12)
  t.ok(rejects(() => tries('0')), '0 where the minimum is 1')
  for (const bad of ['', 'abc', '1.5', '-1', '1e3', ' 2', '0x10', '2x']) t.ok(rejects(() => tries(bad)), JSON.stringify(bad))
  t.equal(intArg('--upto', 0)('0'), 0, '0 where it means something (the base)')
  const jobs = intArg('--jobs', 1, 64)
  t.equal(jobs('64'), 64)
  t.ok(rejects(() => jobs('65')))
  t.throws(() => jobs('65'), /--jobs must be an integer from 1 to 64/, 'the message names the option and the range')
  t.throws(() => tries('0'), /--tries must be an integer ≥ 1/)
})

t.test('shardArg: I/N with 1 ≤ I ≤ N', async t => {
  t.same(shardArg('1/3'), { index: 1, count: 3 })
  t.same(shardArg('3/3'), { index: 3, count: 3 })
  for (const bad of ['0/3', '4/3', '1/0', '0/0', '1', '1/', '/3', 'a/b', '1/3/5', '-1/3', '1.0/3']) t.ok(rejects(() => shardArg(bad)), bad)
})

t.test('--accel: auto, kvm or tcg, default auto', async t => {
  t.same(ACCELS, ['auto', 'kvm', 'tcg'])
  const parse = async (args: string[]) => {
    const c = new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }).addOption(option.accel())
    await c.parseAsync(args, { from: 'user' })
    return c.opts<{ accel: string }>().accel
  }
  t.equal(await parse([]), 'auto')
  for (const a of ACCELS) t.equal(await parse(['--accel', a]), a)
  await t.rejects(parse(['--accel', 'hvf']), { code: 'commander.invalidArgument' })
  await t.rejects(parse(['--accel', 'KVM']), { code: 'commander.invalidArgument' })
})

// every command, with the subcommands of `cache`
function commands(c: Command): Command[] {
  return c.commands.flatMap(s => [s, ...commands(s)])
}
const program = buildProgram(() => undefined)

t.test('the commands, in the order of daxrig --help', async t => {
  t.same(program.commands.map(c => c.name()), ['run', 'list', 'doctor', 'setup', 'build', 'check', 'bisect', 'patchcheck', 'boot', 'parse', 'cache', 'merge'])
})

t.test('every command that takes --accel checks it the same way', async t => {
  const takers = commands(program).filter(c => c.options.some(o => o.long === '--accel'))
  t.same(takers.map(c => c.name()).sort(), ['bisect', 'boot', 'check', 'patchcheck', 'run'])
  for (const c of takers) {
    const o = c.options.find(o => o.long === '--accel')!
    t.same(o.argChoices, ACCELS, c.name())
    t.equal(o.defaultValue, 'auto', c.name())
  }
})

t.test('every numeric option rejects a non-integer before the command runs', async t => {
  let checked = 0
  for (const c of commands(program)) {
    for (const o of c.options.filter(o => o.parseArg && !o.argChoices)) {
      const path = c.parent && c.parent !== program ? [c.parent.name(), c.name()] : [c.name()]
      const args = [...path, ...c.registeredArguments.filter(a => a.required).map(() => 'v'), o.long!, '1.5']
      const { value, stderr } = await capturingStderr(() => main(args))
      t.equal(value, EXIT.badInput, args.join(' '))
      t.match(stderr, `option '${o.flags}' argument '1.5' is invalid`, 'rejected by the option parser, naming the option')
      checked++
    }
  }
  t.ok(checked >= 10, `${checked} options checked`)
})

async function capturingStderr<T>(f: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const write = process.stderr.write.bind(process.stderr)
  let stderr = ''
  process.stderr.write = ((s: string | Uint8Array) => {
    stderr += String(s)
    return true
  }) as typeof process.stderr.write
  try {
    return { value: await f(), stderr }
  } finally {
    process.stderr.write = write
  }
}
