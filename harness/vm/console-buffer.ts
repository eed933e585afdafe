// What the rig keeps in memory of a guest's console. The whole console always goes to console.log on disk;
// memory holds the first HEAD bytes, the last TAIL bytes, and from the part in between only the lines that can
// start a console finding (panic, oops, BUG, WARNING, KASAN, lockdep, hangs, stalls) with the lines after them,
// so a flood of printk output neither grows the rig without bound nor hides a crash from the classifier.

/** bytes kept from the start of the console */
export const HEAD_BYTES = 4 * 1024 * 1024
/** bytes kept from the end */
export const TAIL_BYTES = 8 * 1024 * 1024
/** lines kept after a line that can start a finding (a call trace and its register dump fit) */
const CONTEXT_LINES = 80

const FINDING_START =
  /Kernel panic|\bBUG[: ]|WARNING:|Oops|KASAN|UBSAN|kmemleak|possible (?:recursive|circular) locking|circular locking dependency|inconsistent lock state|lock held|INFO: task .* blocked|soft lockup|rcu.*(?:stall|detected)|Call Trace|RIP: |triple fault|reboot: |Linux version \d|Out of memory|Killed process/

export class ConsoleBuffer {
  private head = ''
  private tail: string[] = []
  private tailBytes = 0
  private middle: string[] = []
  private context = 0
  private dropped = 0

  /** Feed one complete line (without its newline). */
  push(line: string): void {
    const l = line + '\n'
    if (this.head.length + l.length <= HEAD_BYTES && !this.tail.length) {
      this.head += l
      return
    }
    this.tail.push(l)
    this.tailBytes += l.length
    while (this.tailBytes > TAIL_BYTES && this.tail.length > 1) {
      const out = this.tail.shift()!
      this.tailBytes -= out.length
      this.leaveTail(out)
    }
  }

  /** A line that falls out of the tail window: kept only if it can belong to a finding. */
  private leaveTail(l: string): void {
    if (FINDING_START.test(l)) this.context = CONTEXT_LINES
    if (this.context > 0) {
      this.context--
      this.middle.push(l)
    } else this.dropped += l.length
  }

  /** The text the classifier reads; a marker line says how much of the middle was not kept in memory. */
  text(): string {
    const gap = this.dropped ? `daxrig: ${this.dropped} bytes of console output not kept in memory (console.log has all of it)\n` : ''
    return this.head + this.middle.join('') + gap + this.tail.join('')
  }

  get droppedBytes(): number {
    return this.dropped
  }
}
