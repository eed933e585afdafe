#!/usr/bin/env node
// Writes a GitLab child pipeline (JSON, which is YAML) with one manual `daxrig bisect VARIANT --test ID` job
// per unexpected case of a source-kernel variant in a merged results.json. Prebuilt kernels have no series
// to bisect. With nothing to bisect the pipeline has one job that says so (a child pipeline needs a job).
// Usage: node ci/gitlab/bisect-jobs.mjs out/merged/results.json > bisect.gitlab-ci.yml
import { readFileSync, existsSync } from 'node:fs'
import { basename, relative } from 'node:path'

const MAX_JOBS = 20

export function variantRef(file, cwd = process.cwd()) {
  const name = basename(file).replace(/\.ya?ml$/, '')
  if (existsSync(`tests/variants/${name}.yaml`) && /\/tests\/variants\/[^/]+$/.test(file)) return name
  if (file.startsWith(cwd + '/')) return relative(cwd, file)
  const i = file.lastIndexOf('/tests/')
  return i >= 0 ? file.slice(i + 1) : name
}

export function bisectTargets(summary) {
  const out = []
  for (const v of summary.variants ?? []) {
    if (!v.kernel || String(v.kernel.id).startsWith('prebuilt:')) continue
    for (const c of v.cases ?? []) if (c.verdict === 'unexpected' || c.verdict === 'missing') out.push({ file: v.file, variant: v.variant, test: c.id })
  }
  return out.slice(0, MAX_JOBS)
}

export function childPipeline(summary, cwd = process.cwd()) {
  const jobs = {}
  const base = {
    stage: 'bisect',
    variables: { XDG_CACHE_HOME: '$CI_PROJECT_DIR/.cache', npm_config_cache: '$CI_PROJECT_DIR/.cache/npm' },
    before_script: ['if [ -z "${DAXRIG_SKIP_NPM_CI:-}" ]; then npm ci --no-audit --no-fund; fi'],
    cache: [
      { key: 'daxrig-prebuilt-v1', paths: ['.cache/daxrig/prebuilt/', '.cache/daxrig/apt/'], policy: 'pull' },
      { key: 'daxrig-bisect-v1', paths: ['.cache/daxrig/kernels/', '.cache/daxrig/kernel-requests/', '.cache/daxrig/trees/', '.cache/daxrig/ccache/'], policy: 'pull-push' },
    ],
    artifacts: { when: 'always', paths: ['out/bisect/'], expire_in: '4 weeks' },
    // 0: a culprit named; 1 would mean the bisection itself found no change; 125/128 are reported as they are
    retry: { max: 1, exit_codes: [128] },
  }
  for (const t of bisectTargets(summary)) {
    const id = `bisect ${t.variant} ${t.test}`.replace(/[^\w. -]/g, '_')
    jobs[id] = { ...base, when: 'manual', script: [`node bin/daxrig.js bisect ${shq(variantRef(t.file, cwd))} --test ${shq(t.test)} --out out/bisect`] }
  }
  if (!Object.keys(jobs).length)
    jobs['nothing to bisect'] = { stage: 'bisect', script: ['echo "no unexpected result of a source-kernel variant: prebuilt kernels have no series to bisect"'] }
  return { stages: ['bisect'], ...jobs }
}

function shq(s) {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2]
  if (!file) {
    process.stderr.write('usage: bisect-jobs.mjs RESULTS.json\n')
    process.exit(2)
  }
  // no merged results (the merge itself failed): still a valid child pipeline, with nothing to bisect
  const summary = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { variants: [] }
  process.stdout.write(`${JSON.stringify(childPipeline(summary), null, 2)}\n`)
}
