// Kconfig fragments as data: parse, merge (later fragment wins, as merge_config.sh does) and the survival check.
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { InputError } from '../errors.js'

/** One `CONFIG_X=v` or `# CONFIG_X is not set` line of a fragment. */
export interface ConfigRequest {
  /** symbol with the CONFIG_ prefix */
  option: string
  /** `y`, `m`, `n`, a number or a quoted string exactly as written; `is not set` reads as `n` */
  value: string
  /** fragment file the request came from */
  fragment: string
  line: number
}

export interface Fragment {
  path: string
  text: string
}

export interface MergedRequests {
  /** the final request per option, in first-seen order */
  requests: Map<string, ConfigRequest>
  /** options two fragments disagree on: the later one wins, the earlier one is reported */
  overrides: { option: string; from: ConfigRequest; to: ConfigRequest }[]
}

export interface DroppedOption {
  option: string
  wanted: string
  /** value in the final .config; `n` when the option is absent */
  got: string
  fragment: string
  line: number
}

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/
const UNSET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/

/** Values of a full .config (or any fragment), absent options omitted, `is not set` as `n`. */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    const s = SET.exec(line)
    if (s?.[1] && s[2] !== undefined) out.set(s[1], s[2])
    else {
      const u = UNSET.exec(line)
      if (u?.[1]) out.set(u[1], 'n')
    }
  }
  return out
}

/**
 * The requests of one fragment. Anything that is not a request, a comment or a blank line is bad input
 * (a typo such as `CONFIG_FOO = y` would otherwise be silently ignored by merge_config.sh).
 */
export function parseFragment(text: string, fragment: string): ConfigRequest[] {
  const out: ConfigRequest[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    const s = SET.exec(line)
    if (s?.[1] && s[2] !== undefined) {
      if (s[2] === '') throw new InputError(`empty value for ${s[1]}`, `${fragment}:${i + 1}`)
      out.push({ option: s[1], value: s[2], fragment, line: i + 1 })
      return
    }
    const u = UNSET.exec(line)
    if (u?.[1]) {
      out.push({ option: u[1], value: 'n', fragment, line: i + 1 })
      return
    }
    if (line === '' || line.startsWith('#')) return
    throw new InputError(`not a Kconfig line: "${line}" (expected CONFIG_X=value or "# CONFIG_X is not set")`, `${fragment}:${i + 1}`)
  })
  return out
}

/** Merge fragments in order; a later request for the same option replaces the earlier one. */
export function mergeRequests(fragments: Fragment[]): MergedRequests {
  const requests = new Map<string, ConfigRequest>()
  const overrides: MergedRequests['overrides'] = []
  for (const f of fragments) {
    for (const r of parseFragment(f.text, f.path)) {
      const prev = requests.get(r.option)
      if (prev && prev.value !== r.value) overrides.push({ option: r.option, from: prev, to: r })
      requests.set(r.option, r)
    }
  }
  return { requests, overrides }
}

/** Requested options whose value in the final .config differs (unmet dependencies, a renamed or removed symbol). */
export function droppedOptions(requests: Map<string, ConfigRequest>, finalConfig: Map<string, string>): DroppedOption[] {
  const out: DroppedOption[] = []
  for (const r of requests.values()) {
    const got = finalConfig.get(r.option) ?? 'n'
    if (got !== r.value) out.push({ option: r.option, wanted: r.value, got, fragment: r.fragment, line: r.line })
  }
  return out
}

/** The message of a failed survival check: one line per dropped option, with the fragment that asked for it. */
export function formatDropped(dropped: DroppedOption[]): string {
  const lines = dropped.map(
    d => `  ${d.option}=${d.wanted} (${basename(d.fragment)}:${d.line}) is ${d.got === 'n' ? 'not set' : `=${d.got}`} in the final .config`,
  )
  return `${dropped.length} requested Kconfig option${dropped.length === 1 ? '' : 's'} did not survive olddefconfig (unmet dependencies or unknown symbols):\n${lines.join('\n')}`
}

/** Throw the survival InputError (exit 2) when any request was dropped. */
export function assertSurvived(requests: Map<string, ConfigRequest>, finalConfigText: string): void {
  const dropped = droppedOptions(requests, parseConfig(finalConfigText))
  if (dropped.length) throw new InputError(formatDropped(dropped))
}

export async function readFragments(paths: string[]): Promise<Fragment[]> {
  return Promise.all(
    paths.map(async path => {
      const text = await readFile(path, 'utf8').catch(e => {
        throw new InputError(`cannot read Kconfig fragment: ${(e as Error).message}`, path)
      })
      return { path, text }
    }),
  )
}
