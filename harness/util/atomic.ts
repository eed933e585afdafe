// The one way the rig replaces a file: written beside it and renamed, so a reader (CI uploading artifacts, a
// second daxrig, a resumed bisect) or a crash sees the old file or the new one, never half of one.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

let seq = 0

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  // unique per call: two writers in one process (a finishing run and its interrupt handler) never share a temp file
  const tmp = `${path}.tmp-${process.pid}-${seq++}`
  try {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
}
