// Neutralises guest and console text before it reaches a terminal, a Markdown viewer or a browser.

// CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ST`), DCS/SOS/PM/APC strings, and two-byte escapes.
const ANSI_RE = /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[@-Z\\-_]?/g
// Other C0/C1 controls (tab and newline stay): shown as U+FFFD so nothing reaches a terminal raw.
const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g

/** Removes terminal escape sequences and replaces the remaining control characters with U+FFFD. */
export function stripTerminal(text: string): string {
  return text.replace(ANSI_RE, '').replace(/\r/g, '').replace(CONTROL_RE, '\ufffd')
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
