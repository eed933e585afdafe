// A validator for kcidb.json: the KCIDB I/O schema v4.3 (tests/fixtures/kcidb/README.md) with real formats.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { projectRoot } from '../../harness/paths.js'

export function kcidbValidator() {
  const schema = JSON.parse(readFileSync(join(projectRoot(), 'tests/fixtures/kcidb/v4.3.schema.json'), 'utf8')) as object
  const ajv = new Ajv2020({ allErrors: true, strict: true })
  ;(addFormats as unknown as (a: Ajv2020) => void)(ajv)
  return ajv.compile(schema)
}
