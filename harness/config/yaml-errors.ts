// Map YAML nodes and schema paths back to `file:line` so every input error names file, line and field.
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml'
import { InputError } from '../errors.js'

export interface LoadedYaml {
  file: string
  doc: Document
  data: unknown
  lines: LineCounter
}

export function parseYamlFile(file: string, text: string): LoadedYaml {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const first = doc.errors[0]
  if (first) {
    // linePos is only filled with prettyErrors; the LineCounter maps the error offset itself
    const line = lines.linePos(first.pos[0]).line
    throw new InputError(`invalid YAML: ${first.message.split('\n')[0]}`, `${file}:${line}`)
  }
  return { file, doc, data: doc.toJS(), lines }
}

/** Line of the node at `path` (or of its nearest existing parent). */
export function lineOf(y: LoadedYaml, path: readonly (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = y.doc.getIn(path.slice(0, n), true)
    if (isNode(node) && node.range) return y.lines.linePos(node.range[0]).line
    if (n === 0) break
  }
  return 1
}

/** Line of a key inside the map at `path` (an unknown field is reported where its key is written). */
export function lineOfKey(y: LoadedYaml, path: readonly (string | number)[], key: string): number {
  const parent = y.doc.getIn(path, true)
  if (isMap(parent)) {
    const pair = parent.items.find(p => isScalar(p.key) && p.key.value === key)
    const r = pair && isNode(pair.key) ? pair.key.range : undefined
    if (r) return y.lines.linePos(r[0]).line
  }
  return lineOf(y, [...path, key])
}

/** The InputError for a zod issue: unknown keys are placed on the key's own line. */
export function schemaError(y: LoadedYaml, issue: { code: string; path: PropertyKey[]; message: string; keys?: string[] }): InputError {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
  if (issue.code === 'unrecognized_keys' && issue.keys?.[0]) {
    const key = issue.keys[0]
    return new InputError(`${fieldName([...path, key])}: unknown field "${key}"`, `${y.file}:${lineOfKey(y, path, key)}`)
  }
  return inputErrorAt(y, path, issue.message)
}

export function fieldName(path: readonly (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(top level)'
}

export function inputErrorAt(y: LoadedYaml, path: readonly (string | number)[], message: string): InputError {
  return new InputError(`${fieldName(path)}: ${message}`, `${y.file}:${lineOf(y, path)}`)
}
