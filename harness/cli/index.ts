// daxrig command line: builds the commander program from the command modules and maps what happens to the
// exit-code contract (0 ok, 1 regression, 2 bad input, 125 untestable, 128 infra). Importing it runs nothing;
// bin/daxrig.js calls `entry`.
import { Command } from 'commander'
import { EXIT } from '../errors.js'
import { installSignalHandlers } from '../util/children.js'
import type { Done } from './common.js'
import { commanderExit, failure, forBisectRun } from './exit.js'
import { addList, addParse } from './inspect.js'
import { addCache, addDoctor, addSetup } from './host.js'
import { addBoot, addBuild, addMerge, addRun } from './run.js'
import { addBisect, addCheck, addPatchcheck } from './series.js'

/** The program; `done` receives the exit code of the command that ran. */
export function buildProgram(done: Done): Command {
  const program = new Command('daxrig')
    .description('test rig for Linux DAX / persistent-memory / mmap patch series')
    .exitOverride()
    .configureOutput({ writeErr: s => process.stderr.write(s) })
  // the order of `daxrig --help`
  for (const add of [addRun, addList, addDoctor, addSetup, addBuild, addCheck, addBisect, addPatchcheck, addBoot, addParse, addCache, addMerge])
    add(program, done)
  return program
}

/** Runs one command line (without node and the script); throws what the command threw. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok
  const program = buildProgram(c => {
    code = c
  })
  try {
    await program.parseAsync(argv, { from: 'user' })
    return code
  } catch (e) {
    const c = commanderExit(e)
    if (c !== undefined) return c
    throw e
  }
}

/** The process: signal handlers, EPIPE tolerance, error messages, and the exit code left in process.exitCode. */
export async function entry(argv: string[]): Promise<void> {
  installSignalHandlers()
  // `daxrig list | head`: a reader that goes away must not crash the rig; the work (and the out dir) carries on
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e
    })
  let code: number
  try {
    code = await main(argv)
  } catch (e) {
    const f = failure(e)
    code = f.code
    process.stderr.write(f.message)
  }
  process.exitCode = forBisectRun(argv, code)
}
