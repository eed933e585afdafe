// The framing of the results channel (docs/guest-protocol.md): which lines init wrote, which a program wrote.
// Init starts each of its own lines with the run's token (chosen by the host, given on the kernel command
// line, hidden from programs); a program's output reaches the port only through the relay, indented. Any
// other line is noise: bytes a program wrote to the port directly, or a kernel echoing an older run. Noise can
// neither end a program, nor close the document, nor fake the exit marker.
import { randomBytes } from 'node:crypto'
import { splitLines } from './ktap.js'

export interface Unframed {
  /** the channel as plain KTAP: init's lines without the token, program blocks as sent, noise removed */
  text: string
  /** lines that were neither init's nor inside a program's block, as received (control characters kept) */
  noise: string[]
  /** programs that left processes running when they exited (`# daxrig-left: PROG N`) */
  leftBehind: { program: string; count: number }[]
}

/** A fresh token per boot: 16 hex digits, nothing a test prints by chance. */
export function newToken(): string {
  return `dxr${randomBytes(8).toString('hex')}`
}

const LEFT_RE = /^#\s*daxrig-left:\s*(\S+)\s+(\d+)\s*$/

/**
 * Splits a raw channel by the token. Without a token (a results.ktap written by the rig, an old run, a console
 * log) every line is taken as it is.
 */
export function unframe(raw: string, token: string | undefined): Unframed {
  const out: string[] = []
  const noise: string[] = []
  const leftBehind: Unframed['leftBehind'] = []
  const mark = token ? `${token} ` : ''
  const lines = splitLines(raw)
  if (lines.at(-1) === '') lines.pop()
  for (const line of lines) {
    if (!token) {
      out.push(line)
      continue
    }
    if (line.startsWith(mark)) {
      const content = line.slice(mark.length)
      const left = LEFT_RE.exec(content)
      if (left) leftBehind.push({ program: left[1]!, count: Number(left[2]) })
      out.push(content)
    } else if (/^[ \t]/.test(line)) out.push(line)
    else if (line.trim()) noise.push(line)
  }
  return { text: out.length ? out.join('\n') + '\n' : '', noise, leftBehind }
}

/** Notes for the report: what the channel showed that is not a case result. */
export function channelNotes(u: Unframed): string[] {
  const notes = u.leftBehind.map(l => `${l.program} left ${l.count} process${l.count === 1 ? '' : 'es'} behind (killed when it exited)`)
  if (u.noise.length) {
    const first = JSON.stringify(u.noise[0]!.slice(0, 80))
    notes.push(`${u.noise.length} line${u.noise.length === 1 ? '' : 's'} on the results channel outside any program's block ignored as noise (first: ${first})`)
  }
  return notes
}
