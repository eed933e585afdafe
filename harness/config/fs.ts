// A filesystem entry of a variant (`ext4`, or {type, name, reflink, dax}) and its resolution against the type and
// the namespace mode it sits on; shared by NVDIMM namespaces and CXL devices.
import { z } from 'zod'
import type { FsSpec, NamespaceMode } from '../types.js'
import { inputErrorAt, type LoadedYaml } from './yaml-errors.js'

const fsType = z.enum(['ext4', 'xfs'])

// `xfs` is short for {type: xfs}: one object schema, so a bad option gets its own message, not "Invalid input"
export const fsEntry = z.preprocess(
  f => (typeof f === 'string' ? { type: f } : f),
  z.strictObject({
    type: fsType,
    /** mount point /mnt/<name> and env DAXRIG_<NAME>; default the type. Unique per machine. */
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower-case letters, digits and "_"').optional(),
    /** xfs only: mkfs.xfs -m reflink=1. Default false. */
    reflink: z.boolean().optional(),
    /** mount -o dax (always, default on fsdax), -o dax=never (default elsewhere), -o dax=inode */
    dax: z.enum(['always', 'never', 'inode']).optional(),
  }),
)

/** A filesystem entry with its defaults; options checked against the type and the namespace mode. */
export function fsSpec(y: LoadedYaml, f: z.infer<typeof fsEntry>, path: (string | number)[], mode: NamespaceMode = 'fsdax'): FsSpec {
  if (f.reflink && f.type !== 'xfs') throw inputErrorAt(y, [...path, 'reflink'], `reflink is an xfs option, not ${f.type}`)
  // only an fsdax namespace can be mounted with DAX: elsewhere the filesystem is a page-cache one on pmem
  if (mode !== 'fsdax' && f.dax && f.dax !== 'never')
    throw inputErrorAt(y, [...path, 'dax'], `a ${mode} namespace has no DAX: use dax: never (the default there) or mode fsdax`)
  return { type: f.type, name: f.name ?? f.type, reflink: f.reflink ?? false, dax: f.dax ?? (mode === 'fsdax' ? 'always' : 'never') }
}
