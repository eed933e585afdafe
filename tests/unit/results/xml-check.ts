// A small XML reader for tests: checks well-formedness (balanced tags, quoted attributes, entities) and builds a tree.
export interface XmlNode {
  name: string
  attrs: Record<string, string>
  children: XmlNode[]
  text: string
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X')) return String.fromCodePoint(parseInt(e.slice(2), 16))
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)))
    const v = ENTITY[e]
    if (v === undefined) throw new Error(`unknown entity ${m}`)
    return v
  })
}

export function parseXml(xml: string): XmlNode {
  let i = 0
  const root: XmlNode = { name: '#document', attrs: {}, children: [], text: '' }
  const stack: XmlNode[] = [root]
  const top = (): XmlNode => stack[stack.length - 1] as XmlNode
  while (i < xml.length) {
    if (xml.startsWith('<?', i)) {
      i = xml.indexOf('?>', i) + 2
      continue
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i)
      if (end < 0) throw new Error('unterminated CDATA')
      top().text += xml.slice(i + 9, end)
      i = end + 3
      continue
    }
    if (xml.startsWith('</', i)) {
      const end = xml.indexOf('>', i)
      const name = xml.slice(i + 2, end).trim()
      const open = stack.pop()
      if (!open || open.name !== name) throw new Error(`mismatched </${name}> (open: ${open?.name})`)
      i = end + 1
      continue
    }
    if (xml[i] === '<') {
      const m = /^<([\w:.-]+)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/.exec(xml.slice(i))
      if (!m) throw new Error(`bad tag at ${i}: ${xml.slice(i, i + 40)}`)
      const attrs: Record<string, string> = {}
      for (const a of (m[2] ?? '').matchAll(/([\w:.-]+)="([^"]*)"/g)) attrs[a[1] ?? ''] = decode(a[2] ?? '')
      const node: XmlNode = { name: m[1] ?? '', attrs, children: [], text: '' }
      top().children.push(node)
      if (m[3] !== '/') stack.push(node)
      i += m[0].length
      continue
    }
    const next = xml.indexOf('<', i)
    const chunk = xml.slice(i, next < 0 ? xml.length : next)
    top().text += decode(chunk)
    i = next < 0 ? xml.length : next
  }
  if (stack.length !== 1) throw new Error(`unclosed <${top().name}>`)
  return root
}

export function findAll(n: XmlNode, name: string): XmlNode[] {
  return [...(n.name === name ? [n] : []), ...n.children.flatMap(c => findAll(c, name))]
}
