// Text that comes from the guest or the console: splitting it into lines, taking printk's prefix off, and
// neutralising it before it reaches a terminal, a Markdown viewer, a browser or a test id.

/** Splits text into lines, dropping the \r that serial consoles add. */
export function splitLines(text: string): string[] {
  return text.split('\n').map(l => l.replace(/\r+$/, '').replace(/\r/g, ''))
}

// printk's prefix: `[    1.234567]`, then the caller id `[    T1]` when CONFIG_PRINTK_CALLER is set, then the
// space before the message (absent when the message is empty).
const PRINTK_RE = /^\[\s*(\d+\.\d+)\](?:\[\s*[TC]\d+\])? ?/

/** printk's prefix at the start of a console line, with the space after it; '' when the line has none. */
export function printkPrefix(line: string): string {
  return PRINTK_RE.exec(line)?.[0] ?? ''
}

/** Removes the printk timestamp (and caller id) from a console line. */
export function stripPrintk(line: string): string {
  return line.slice(printkPrefix(line).length)
}

/**
 * The message of a console line that carries a complete printk prefix (timestamp, caller id, space), the line
 * itself when it has no prefix, null when the prefix is cut short (`[    1.2]text`).
 */
export function printkMessage(line: string): string | null {
  const p = printkPrefix(line)
  if (p === '') return line
  return p.endsWith(' ') ? line.slice(p.length) : null
}

// CSI (`ESC [ ... final`, and its 8-bit form), OSC (`ESC ] ... BEL|ST`), DCS/SOS/PM/APC strings, two-byte escapes.
// eslint-disable-next-line no-control-regex
const ESCAPE_RE = /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[@-Z\\-_]?/g
// C0 controls but tab and newline, DEL, and the C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g
// C0 controls but tab and newline, and DEL: what a terminal acts on.
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f]/g
// every C0 control and DEL: nothing of the kind belongs in an id.
// eslint-disable-next-line no-control-regex
const ANY_CONTROL_RE = /[\x00-\x1f\x7f]/g

/** For files and reports: escape sequences removed, other control characters shown as U+FFFD. */
export function stripTerminal(text: string): string {
  return text.replace(ESCAPE_RE, '').replace(/\r/g, '').replace(CONTROL_RE, '\ufffd')
}

/** For the rig's own terminal output: escape sequences and control characters (but tab and newline) removed. */
export function sanitizeTerminal(text: string): string {
  return text.replace(ESCAPE_RE, '').replace(TERMINAL_CONTROL_RE, '')
}

/** Guest-chosen names become ids in reports and JSON: no escape sequences or control characters at all. */
export function cleanName(text: string): string {
  return text.replace(ESCAPE_RE, '').replace(ANY_CONTROL_RE, '')
}

/** Text safe inside HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return stripTerminal(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** Text safe inside a Markdown table cell or paragraph: no raw HTML, no cell breaks, no line breaks (intraword `_` is left alone: CommonMark does not emphasise it, and case ids are full of it). */
export function escapeMarkdownInline(text: string): string {
  return escapeHtml(text)
    .replace(/\|/g, '\\|')
    .replace(/([\\`*[\]])/g, '\\$1')
    .replace(/\n/g, ' ')
}

/** A fenced Markdown code block whose fence is longer than any backtick run inside, so the text cannot close it. */
export function markdownCodeBlock(text: string): string {
  const clean = stripTerminal(text)
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map(r => r.length))
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return `${fence}text\n${clean}\n${fence}`
}
