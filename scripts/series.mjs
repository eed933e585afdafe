#!/usr/bin/env -S node
// The project's kernel patch series, round trip between tests/patches/<NAME>/ and a git tree:
//
//   node scripts/series.mjs tree NAME DIR            a git tree at DIR: the pristine base, then one commit per patch
//   node scripts/series.mjs export NAME TREE [BASE]  tests/patches/NAME from TREE's commits BASE..HEAD
//   node scripts/series.mjs check NAME TREE [BASE]   export into a temporary directory and compare (exit 1 if they differ)
//
// NAME is one of the series below. The base is the rig's cached pristine tree of the series' source package
// (`daxrig run` of the series' variant with --upto 0 makes it). BASE defaults to TREE's root commit. The cover
// letter's subject (first line) and text come from scripts/covers/NAME.txt; git adds the shortlog and diffstat.
// Commit ids are zeroed and the cover takes the tip commit's author and date, so exporting the same commits (or
// the tree made from the files) gives the same files,
// and every patch must pass the tree's scripts/checkpatch.pl.
import { $, argv, fs, path, tmpdir } from 'zx'

$.verbose = true
$.quiet = false

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const SERIES = {
  // the five-patch demonstration series of the rig's own tests (bisect must name 3/5)
  // abbrev: the length of the blob ids on the index lines, as the files were first made
  'vfio-pin-demo': { pkg: 'linux-source-6.1', abbrev: 7 },
  // the two forward-ports (docs/seeds.md)
  'map-direct-v5-6.1': { pkg: 'linux-source-6.1', abbrev: 9 },
  'daxfile-rfc-6.1': {
    pkg: 'linux-source-6.1',
    abbrev: 9,
    // the two warnings its cover letter explains: new files under existing MAINTAINERS entries, and an upstream
    // commit id that a tree made from Debian's tarball has no history for
    allowWarnings: [/does MAINTAINERS need updating/, /Unknown commit id 'dc617f29dbe5'/],
  },
}

const [cmd, name, where, baseArg] = argv._.map(String)
const usage = () => {
  console.error('usage: node scripts/series.mjs tree NAME DIR | export NAME TREE [BASE] | check NAME TREE [BASE]')
  console.error(`series: ${Object.keys(SERIES).join(', ')}`)
  process.exit(2)
}
if (!cmd || !name || !where || !['tree', 'export', 'check'].includes(cmd)) usage()
const series = SERIES[name]
if (!series) {
  console.error(`unknown series "${name}"`)
  usage()
}
const patchDir = path.join(repo, 'tests', 'patches', name)
const patchFiles = async dir => (await fs.readdir(dir)).filter(f => f.endsWith('.patch')).sort()

/** The rig's pristine tree of the source package (its git HEAD is the unpacked tarball). */
async function pristineTree() {
  const trees = path.join(process.env.DAXRIG_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(process.env.HOME, '.cache'), 'daxrig'), 'trees')
  const found = (await fs.readdir(trees).catch(() => [])).filter(d => d.startsWith(`${series.pkg}_`) && fs.existsSync(path.join(trees, d, 'src', '.git'))).sort().pop()
  if (!found) throw new Error(`no cached ${series.pkg} tree under ${trees}: run a variant of this series with --upto 0 first`)
  return path.join(trees, found, 'src')
}

async function makeTree(dir) {
  await $`git clone -q ${await pristineTree()} ${dir}`
  const am = (await patchFiles(patchDir)).filter(f => !f.startsWith('0000-')).map(f => path.join(patchDir, f))
  await $`git -C ${dir} am -q --committer-date-is-author-date ${am}`
  console.log(`${dir}: ${am.length} commits of ${name} on the pristine ${series.pkg}`)
}

async function exportTo(tree, out) {
  const git = (...a) => $({ cwd: tree })`git ${a}`
  const base = baseArg ?? (await git('rev-list', '--max-parents=0', 'HEAD')).stdout.trim().split('\n')[0]
  const [who, mail, date] = (await git('log', '-1', '--format=%an%x00%ae%x00%aD')).stdout.trim().split('\0')
  const tmp = tmpdir()
  await $({ cwd: tree, env: { ...process.env, GIT_COMMITTER_NAME: who, GIT_COMMITTER_EMAIL: mail, GIT_COMMITTER_DATE: date } })`git format-patch -q --zero-commit --abbrev=${series.abbrev} --no-signature --cover-letter --subject-prefix=PATCH -o ${tmp} ${base}..HEAD`
  const [subject, ...body] = (await fs.readFile(path.join(repo, 'scripts', 'covers', `${name}.txt`), 'utf8')).split('\n')
  const coverPath = path.join(tmp, '0000-cover-letter.patch')
  let cover = await fs.readFile(coverPath, 'utf8')
  if (!cover.includes('*** SUBJECT HERE ***') || !cover.includes('*** BLURB HERE ***')) throw new Error('unexpected cover letter template from git')
  cover = cover
    .replace('*** SUBJECT HERE ***', subject.trim())
    .replace('*** BLURB HERE ***', body.join('\n').replace(/^\n+/, '').trimEnd())
    .replace(/^Date: .*$/m, `Date: ${date}`)
    // the cover has no commit of its own: its id would only say which tree it came from
    .replace(/^From [0-9a-f]{40} /, 'From 0000000000000000000000000000000000000000 ')
  await fs.writeFile(coverPath, cover)
  const patches = (await patchFiles(tmp)).filter(f => !f.startsWith('0000-')).map(f => path.join(tmp, f))
  if (await fs.pathExists(path.join(tree, 'scripts', 'checkpatch.pl'))) await checkpatch(tree, patches)
  await fs.remove(out)
  await fs.move(tmp, out)
  console.log(`${out}: ${patches.length} patches and a cover letter (base ${base.slice(0, 12)})`)
}

/** checkpatch.pl: no error, and no warning but the ones the series explains in its cover letter. */
async function checkpatch(tree, patches) {
  const r = await $({ cwd: tree, nothrow: true, quiet: true })`perl scripts/checkpatch.pl --no-tree -q ${patches}`
  const findings = r.stdout.split('\n').filter(l => /^(ERROR|WARNING|CHECK):/.test(l))
  const unexplained = findings.filter(l => !l.startsWith('WARNING:') || !(series.allowWarnings ?? []).some(re => re.test(l)))
  if (unexplained.length) {
    process.stdout.write(r.stdout)
    throw new Error(`checkpatch.pl: ${unexplained.length} finding(s) the series does not explain`)
  }
  console.log(`checkpatch.pl: ${findings.length ? `only the ${findings.length} explained warning(s)` : 'clean'}`)
}

if (cmd === 'tree') await makeTree(path.resolve(where))
if (cmd === 'export') await exportTo(path.resolve(where), patchDir)
if (cmd === 'check') {
  const out = path.join(tmpdir(), name)
  await exportTo(path.resolve(where), out)
  const d = await $({ nothrow: true })`diff -r ${patchDir} ${out}`
  if (d.exitCode !== 0) {
    console.error(`tests/patches/${name} differs from an export of ${where}`)
    process.exit(1)
  }
  console.log(`tests/patches/${name} is what ${where} exports`)
}
