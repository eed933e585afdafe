#!/usr/bin/env node
// Regenerate tests/patches/daxfile-rfc-6.1/ (the daxfile RFC forward-ported to linux-source-6.1) from a git
// tree whose base commit is the pristine Debian linux-source-6.1 tree and whose commits above it are the port.
//
//   node scripts/daxfile-port-series.mjs TREE [BASE] [OUTDIR]
//
// TREE    a kernel git tree (e.g. ~/.cache/daxrig/trees/scratch-dc/src), HEAD = the last patch
// BASE    the pristine commit (default: the root commit of TREE)
// OUTDIR  default tests/patches/daxfile-rfc-6.1 in this repository (replaced as a whole)
//
// The cover letter's subject and text come from scripts/daxfile-port-cover.txt (first line "Subject: ...",
// then the body); git fills in the shortlog and diffstat. Dates and identity are the commits' own (the cover takes the last commit's).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const [tree, baseArg, outArg] = process.argv.slice(2)
if (!tree) {
  console.error('usage: node scripts/daxfile-port-series.mjs TREE [BASE] [OUTDIR]')
  process.exit(2)
}
const git = (...args) => execFileSync('git', ['-C', tree, ...args], { encoding: 'utf8', env: gitEnv }).trim()
let gitEnv = process.env
const base = baseArg ?? git('rev-list', '--max-parents=0', 'HEAD').split('\n')[0]
const out = resolve(outArg ?? join(repo, 'tests/patches/daxfile-rfc-6.1'))

// the cover letter carries the last commit's author and date, not whoever runs the script now
const [name, email, date] = git('log', '-1', '--format=%an%x00%ae%x00%aD').split('\0')
gitEnv = { ...process.env, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email, GIT_COMMITTER_DATE: date }
const tmp = mkdtempSync(join(tmpdir(), 'daxfile-series-'))
git('format-patch', '-q', '--cover-letter', '--no-signature', '--subject-prefix=PATCH', '-o', tmp, `${base}..HEAD`)

const [subjectLine, ...body] = readFileSync(join(repo, 'scripts/daxfile-port-cover.txt'), 'utf8').split('\n')
const subject = subjectLine.replace(/^Subject:\s*/, '')
const coverPath = join(tmp, '0000-cover-letter.patch')
let cover = readFileSync(coverPath, 'utf8')
if (!cover.includes('*** SUBJECT HERE ***') || !cover.includes('*** BLURB HERE ***')) throw new Error('unexpected cover letter template')
cover = cover.replace('*** SUBJECT HERE ***', subject).replace('*** BLURB HERE ***', body.join('\n').replace(/^\n+/, '').trimEnd())
// the placeholder commit id on the first line makes the cover independent of the tree it came from
cover = cover.replace(/^From [0-9a-f]{40} /, 'From 0000000000000000000000000000000000000000 ')
writeFileSync(coverPath, cover)

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
for (const f of readdirSync(tmp).sort()) renameSync(join(tmp, f), join(out, f))
rmSync(tmp, { recursive: true, force: true })
console.log(`${readdirSync(out).length - 1} patches + cover letter in ${out} (base ${base.slice(0, 12)})`)
