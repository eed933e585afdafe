// The codebase's shape, kept by a test: no import cycle in harness/, no harness file over 400 lines, and nothing in the
// repository that points outside it (documents a reader of the repository does not have, paths of one machine).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { dirname, join, relative, resolve } from 'node:path'
import { projectRoot } from '../../harness/paths.js'

const root = projectRoot()
const tracked = (...globs: string[]) => execFileSync('git', ['-C', root, 'ls-files', ...globs], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)

t.test('harness/ has no import cycle (type-only imports count too)', async t => {
  const files = tracked('harness/*.ts')
  const deps = new Map<string, string[]>()
  for (const f of files) {
    const src = readFileSync(join(root, f), 'utf8')
    const targets = [...src.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map(m =>
      relative(root, resolve(root, dirname(f), m[1]!)).replace(/\.js$/, '.ts'),
    )
    deps.set(f, targets.filter(d => files.includes(d)))
  }
  const cycles: string[] = []
  const done = new Set<string>()
  const path: string[] = []
  const visit = (n: string) => {
    if (path.includes(n)) return void cycles.push([...path.slice(path.indexOf(n)), n].join(' -> '))
    if (done.has(n)) return
    path.push(n)
    for (const d of deps.get(n) ?? []) visit(d)
    path.pop()
    done.add(n)
  }
  for (const f of files) visit(f)
  t.same(cycles, [])
})

t.test('no file in harness/ is over 400 lines', async t => {
  const long = tracked('harness/*.ts')
    .map(f => [f, readFileSync(join(root, f), 'utf8').split('\n').length - 1] as const)
    .filter(([, n]) => n > 400)
  t.same(long, [])
})

t.test('the repository cites nothing outside itself', async t => {
  // written with character classes, so that the pattern's own text is no citation and this file is checked too
  const outside = /kernel[-]facts|anchors[ ]§|anchors[.]md|forward[-]ports[.]md|[.][.]\/shared\/|\/work\/(main|shared|wt[-])/
  const hits = tracked()
    .filter(f => !/\.(png|gz|xz|img)$/.test(f))
    .flatMap(f => readFileSync(join(root, f), 'utf8').split('\n').flatMap((l, i) => (outside.test(l) ? [`${f}:${i + 1}`] : [])))
  t.same(hits, [])
})
