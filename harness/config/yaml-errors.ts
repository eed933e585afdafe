// Map YAML nodes and schema paths back to `file:line` so every input error names file, line and field.
import { LineCounter, parseDocument, isNode, type Document } from 'yaml'
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
    const pos = first.linePos?.[0]
    throw new InputError(`invalid YAML: ${first.message.split('\n')[0]}`, `${file}:${pos?.line ?? 1}`)
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

export function fieldName(path: readonly (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(top level)'
}

export function inputErrorAt(y: LoadedYaml, path: readonly (string | number)[], message: string): InputError {
  return new InputError(`${fieldName(path)}: ${message}`, `${y.file}:${lineOf(y, path)}`)
}
