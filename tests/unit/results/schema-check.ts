// A minimal JSON Schema checker for the subset results.schema.json uses (type, const, enum, properties,
// required, additionalProperties, items, minimum, $ref to #/$defs): enough to hold the writer to its schema.
type Schema = Record<string, unknown>

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v)
    case 'array':
      return Array.isArray(v)
    case 'integer':
      return Number.isInteger(v)
    case 'number':
      return typeof v === 'number' && Number.isFinite(v)
    default:
      return typeof v === type
  }
}

export function validate(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/$defs/', '')
    const defs = root.$defs as Record<string, Schema>
    const target = defs[name]
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`]
    return validate(target, value, root, path)
  }
  const errs: string[] = []
  if ('const' in schema && schema.const !== value) errs.push(`${path}: expected ${JSON.stringify(schema.const)}`)
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errs.push(`${path}: ${JSON.stringify(value)} not in enum`)
  if (typeof schema.type === 'string' && !typeOk(schema.type, value)) return [...errs, `${path}: not ${schema.type}`]
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) errs.push(`${path}: below minimum`)
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errs.push(...validate(schema.items as Schema, v, root, `${path}[${i}]`)))
  if (typeOk('object', value)) {
    const o = value as Record<string, unknown>
    const props = (schema.properties ?? {}) as Record<string, Schema>
    for (const r of (schema.required ?? []) as string[]) if (!(r in o)) errs.push(`${path}: missing ${r}`)
    for (const [k, v] of Object.entries(o)) {
      const p = props[k]
      if (p) errs.push(...validate(p, v, root, `${path}.${k}`))
      else if (schema.additionalProperties === false) errs.push(`${path}: unexpected property ${k}`)
      else if (typeof schema.additionalProperties === 'object') errs.push(...validate(schema.additionalProperties as Schema, v, root, `${path}.${k}`))
    }
  }
  return errs
}
