// A deterministic newc (SVR4, no CRC) cpio writer: same entries in, same bytes out (mtime 0, sorted,
// sequential inodes), and device nodes without needing root.

export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; data: Buffer; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'chardev'; major: number; minor: number; mode?: number }

const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
const S_IFCHR = 0o020000

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0')
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4
}

function header(ino: number, mode: number, size: number, nameLen: number, rmaj = 0, rmin = 0): string {
  return (
    '070701' +
    [ino, mode, 0, 0, 1, 0, size, 0, 0, rmaj, rmin, nameLen, 0].map(hex8).join('')
  )
}

/** Normalise to a relative path without leading slash ("bin/sh"). */
export function normPath(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '')
}

/** Add the parent directories every entry needs, then sort so parents come first. */
export function withParents(entries: CpioEntry[]): CpioEntry[] {
  const byPath = new Map<string, CpioEntry>()
  for (const e of entries) byPath.set(normPath(e.path), { ...e, path: normPath(e.path) } as CpioEntry)
  for (const p of [...byPath.keys()]) {
    const parts = p.split('/')
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/')
      if (!byPath.has(d)) byPath.set(d, { path: d, type: 'dir' })
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

export function writeCpio(entries: CpioEntry[]): Buffer {
  const chunks: Buffer[] = []
  let ino = 1
  const push = (hdr: string, name: string, data: Buffer) => {
    const nameBuf = Buffer.from(name + '\0')
    const h = Buffer.from(hdr)
    chunks.push(h, nameBuf, Buffer.alloc(pad4(h.length + nameBuf.length)))
    chunks.push(data, Buffer.alloc(pad4(data.length)))
  }
  for (const e of withParents(entries)) {
    const name = e.path
    const nameLen = Buffer.byteLength(name) + 1
    switch (e.type) {
      case 'dir':
        push(header(ino++, S_IFDIR | (e.mode ?? 0o755), 0, nameLen), name, Buffer.alloc(0))
        break
      case 'file':
        push(header(ino++, S_IFREG | (e.mode ?? 0o644), e.data.length, nameLen), name, e.data)
        break
      case 'symlink': {
        const t = Buffer.from(e.target)
        push(header(ino++, S_IFLNK | 0o777, t.length, nameLen), name, t)
        break
      }
      case 'chardev':
        push(header(ino++, S_IFCHR | (e.mode ?? 0o600), 0, nameLen, e.major, e.minor), name, Buffer.alloc(0))
        break
    }
  }
  push(header(0, 0, 0, 'TRAILER!!!'.length + 1), 'TRAILER!!!', Buffer.alloc(0))
  const out = Buffer.concat(chunks)
  // the kernel reads initramfs in 512-byte blocks
  return Buffer.concat([out, Buffer.alloc((512 - (out.length % 512)) % 512)])
}

/** Parse a newc archive back into (path, type, size) rows: used by tests and `daxrig doctor`. */
export function listCpio(buf: Buffer): { path: string; mode: number; size: number; target?: string }[] {
  const rows: { path: string; mode: number; size: number; target?: string }[] = []
  let off = 0
  while (off + 110 <= buf.length) {
    const magic = buf.toString('ascii', off, off + 6)
    if (magic !== '070701') break
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16)
    const mode = field(1)
    const size = field(6)
    const nameLen = field(11)
    const nameStart = off + 110
    const name = buf.toString('utf8', nameStart, nameStart + nameLen - 1)
    const dataStart = nameStart + nameLen + pad4(110 + nameLen)
    if (name === 'TRAILER!!!') break
    const row: { path: string; mode: number; size: number; target?: string } = { path: name, mode, size }
    if ((mode & 0o170000) === S_IFLNK) row.target = buf.toString('utf8', dataStart, dataStart + size)
    rows.push(row)
    off = dataStart + size + pad4(size)
  }
  return rows
}
