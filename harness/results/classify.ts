// Console classifier: finds kernel crash reports (panic, oops, BUG, WARNING, KASAN, ...) in a whole console log.
import type { ConsoleFinding, Variant } from '../types.js'
import { splitLines, stripPrintk } from './text.js'

type Kind = ConsoleFinding['kind']

/** Lines of excerpt kept per finding: enough for the header, registers and a call trace. */
export const EXCERPT_CAP = 80
/** Frames in a fingerprint (NIPA uses the first 5 function names). */
export const FINGERPRINT_FRAMES = 5

// A frame: ` func+0x1/0x2`, ` ? func+0x1/0x2 [mod]`, ` [<ffffffff81000000>] func+0x1/0x2` (pre-4.x kernels and kmemleak).
const FRAME_RE = /^\s*(?:\[<[0-9a-f]+>\]\s*)?(\?\s+)?([A-Za-z_.$][\w.$]*)\+0x[0-9a-f]+\/0x[0-9a-f]+/
const KERNEL_RIP_RE = /\b(?:RIP|PC is at|pc :|EIP): (?:\d{4}:)?(?:\[<[0-9a-f]+>\]\s*)?([A-Za-z_.$][\w.$]*)\+0x[0-9a-f]+\/0x[0-9a-f]+/
const END_MARK_RE = /---\[ end (?:trace|Kernel panic)/
const SEPARATOR_RE = /^={20,}\s*$/
const TRACE_START_RE = /Call Trace:|^\s*backtrace(?: \(crc [0-9a-f]+\))?:/

/**
 * Frames that every report of a kind shares (the reporting machinery, exception entry, scheduler, allocator
 * for leaks): dropping them makes the fingerprint name the code that misbehaved.
 */
const GENERIC_FRAMES = new Set([
  'dump_stack', 'dump_stack_lvl', 'show_stack', 'show_trace_log_lvl', 'panic', 'vpanic', '__warn', 'warn_slowpath_fmt',
  'warn_slowpath_null', 'report_bug', 'handle_bug', 'exc_invalid_op', 'do_error_trap', 'do_trap', 'do_invalid_op',
  'invalid_op', '__die', '__die_body', 'die', 'die_addr', 'oops_end', 'no_context', 'page_fault_oops', '__bad_area_nosemaphore',
  'bad_area_nosemaphore', 'do_user_addr_fault', 'kernelmode_fixup_or_oops', 'exc_page_fault', 'do_page_fault',
  'page_fault', 'exc_general_protection', 'general_protection', 'print_report', 'print_address_description',
  'kasan_report', 'kasan_check_range', 'check_memory_region', '__kasan_check_read', '__kasan_check_write',
  'printk', '_printk', 'vprintk', 'vprintk_emit', 'vprintk_default', 'ubsan_epilogue',
  'lock_acquire', '__lock_acquire', 'validate_chain', 'check_prev_add', 'check_prevs_add', 'check_noncircular',
  'print_circular_bug', 'check_deadlock', 'print_deadlock_bug', 'mark_lock', 'lockdep_rcu_suspicious',
  '__schedule', 'schedule', 'schedule_timeout', 'schedule_preempt_disabled', 'io_schedule', 'io_schedule_timeout',
  'rwsem_down_write_slowpath', 'rwsem_down_read_slowpath', 'down_write', 'down_read', 'down_write_killable',
  'down_read_killable', 'mutex_lock', '__mutex_lock', '__mutex_lock_slowpath', 'mutex_lock_nested', 'wait_for_completion',
  'folio_wait_bit_common', '__folio_lock', 'percpu_rwsem_wait', 'percpu_down_write',
  'watchdog_timer_fn', '__hrtimer_run_queues', 'hrtimer_interrupt', '__sysvec_apic_timer_interrupt',
  'sysvec_apic_timer_interrupt', 'irq_exit_rcu', '__irq_exit_rcu', '__do_softirq', 'handle_softirqs',
  'rcu_dump_cpu_stacks', 'rcu_sched_clock_irq', 'print_cpu_stall', 'check_cpu_stall', 'rcu_pending',
  'update_process_times', 'tick_sched_handle', 'tick_sched_timer', 'tick_nohz_handler', 'nmi_cpu_backtrace',
  'nmi_trigger_cpumask_backtrace', 'arch_trigger_cpumask_backtrace',
  'do_syscall_64', 'entry_SYSCALL_64_after_hwframe', 'ret_from_fork', 'ret_from_fork_asm', 'kthread',
  'kmemleak_alloc', 'slab_post_alloc_hook', 'kmem_cache_alloc', 'kmem_cache_alloc_lru', 'kmem_cache_alloc_noprof',
  'kmalloc_trace', 'kmalloc_trace_noprof', '__kmalloc', '__kmalloc_noprof', 'kmalloc', 'kzalloc', '__kmalloc_node',
  'kmalloc_node_trace', '__kmalloc_cache_noprof', 'slab_alloc_node', '__kmem_cache_alloc_node',
])
const GENERIC_PREFIX_RE = /^(?:asm_exc_|asm_sysvec_|__asan_|__ubsan_handle_|__kasan_|kasan_|__pfx_)/

interface Header {
  re: RegExp
  kind: Kind
  /** reports that end with `---[ end trace ]---` keep collecting after their call trace (registers follow) */
  endMarker: boolean
  title: (m: RegExpExecArray, func: string | undefined) => string
}

const inFunc = (base: string, func: string | undefined): string => (func ? `${base} in ${func}` : base)

// Order matters: the first matching header wins, so specific `BUG:` forms precede the generic one.
const HEADERS: Header[] = [
  { re: /BUG: KASAN: ([\w-]+) in ([\w.$]+)/, kind: 'kasan', endMarker: false, title: m => `KASAN: ${m[1]} in ${normaliseFunc(m[2] ?? '')}` },
  { re: /BUG: KFENCE: ([\w-]+) in ([\w.$]+)/, kind: 'kasan', endMarker: false, title: m => `KFENCE: ${m[1]} in ${normaliseFunc(m[2] ?? '')}` },
  { re: /UBSAN: (.+?) in (\S+?)(?::\d+)*\s*$/, kind: 'ubsan', endMarker: false, title: m => `UBSAN: ${m[1]} in ${m[2]}` },
  { re: /BUG: soft lockup - CPU#\d+ stuck/, kind: 'soft-lockup', endMarker: false, title: (_m, f) => inFunc('BUG: soft lockup', f) },
  { re: /Watchdog detected hard LOCKUP on cpu/, kind: 'soft-lockup', endMarker: false, title: (_m, f) => inFunc('hard LOCKUP', f) },
  { re: /INFO: task (\S+):\d+ blocked for more than \d+ seconds/, kind: 'hung-task', endMarker: false, title: (_m, f) => inFunc('INFO: task hung', f) },
  { re: /INFO: rcu_\w+ (?:self-)?detected stalls?|rcu: INFO: rcu_\w+ (?:self-)?detected stalls?/, kind: 'rcu-stall', endMarker: false, title: (_m, f) => inFunc('INFO: rcu detected stall', f) },
  { re: /unreferenced object 0x[0-9a-f]+ \(size \d+\)/, kind: 'kmemleak', endMarker: false, title: (_m, f) => inFunc('memory leak', f) },
  { re: /BUG: (?:unable to handle (?:kernel )?(page fault|NULL pointer dereference|paging request)|kernel (NULL pointer dereference))/, kind: 'oops', endMarker: true, title: (m, f) => inFunc(`BUG: ${m[1] === 'page fault' || m[1] === 'paging request' ? 'unable to handle kernel paging request' : 'kernel NULL pointer dereference'}`, f) },
  { re: /general protection fault(?:, probably for non-canonical address| ?:|\s*$)/, kind: 'oops', endMarker: true, title: (_m, f) => inFunc('general protection fault', f) },
  { re: /kernel BUG at (\S+?)!?$/, kind: 'bug', endMarker: true, title: (m, f) => (f ? `kernel BUG in ${f}` : `kernel BUG at ${m[1]}`) },
  { re: /BUG: (.+?)(?: in \S+)?\s*$/, kind: 'bug', endMarker: false, title: (m, f) => inFunc(`BUG: ${(m[1] ?? '').replace(/[:,].*$/, '').replace(/ at \S+$/, '')}`, f) },
  { re: /WARNING: (?:CPU: \d+ PID: \d+ |)at \S+ ([\w.$]+)(?:\+0x|\(\))/, kind: 'warning', endMarker: true, title: m => `WARNING in ${normaliseFunc(m[1] ?? '')}` },
  { re: /WARNING: CPU: \d+ PID: \d+ at /, kind: 'warning', endMarker: true, title: (_m, f) => inFunc('WARNING', f) },
  // Lockdep reports all open with `WARNING: <what was detected>` framed by `====` lines.
  { re: /WARNING: (possible circular locking dependency|possible recursive locking|inconsistent lock state|suspicious RCU usage|bad unlock balance|lock held when returning to user space|possible irq lock inversion|[\w-]+-safe -> [\w-]+-unsafe lock order|held lock freed|nested lock was not taken)/, kind: 'lockdep', endMarker: false, title: (m, f) => inFunc(`lockdep: ${m[1]}`, f) },
  { re: /Oops: (?:[\w ]+: )?[0-9a-f]{4} \[#\d+\]|Oops\[#\d+\]|Oops: \d+ \[#\d+\]/, kind: 'oops', endMarker: true, title: (_m, f) => inFunc('Oops', f) },
  { re: /Kernel panic - not syncing: (.*)$/, kind: 'panic', endMarker: false, title: m => `kernel panic: ${(m[1] ?? '').trim()}` },
]

// A panic that follows a report is its consequence (panic_on_oops, panic_on_warn, hung_task_panic, ...), not a second crash.
const CONSEQUENCE_RE = /Kernel panic - not syncing: (?:Fatal exception|Fatal Machine check|.*panic_on_warn|.*panic_on_oops|hung_task: blocked tasks|softlockup: hung tasks|[Hh]ard LOCKUP|RCU Stall|.*kasan\.fault=panic|panic_on_taint)/
// Oops/die lines that continue a report already open (`kernel BUG at` is followed by `Oops: invalid opcode`).
const CONTINUATION_RE = /Oops: |Oops\[#|invalid opcode: /

/** `foo.isra.0` / `foo.cold` / `foo.constprop.3` → `foo`: compiler clones move between builds. */
export function normaliseFunc(name: string): string {
  return name.replace(/\.(?:isra|constprop|part|cold|llvm|lto_priv)(?:\.\d+)*.*$/, '').replace(/\.\d+$/, '')
}

export function isGenericFrame(func: string): boolean {
  return GENERIC_FRAMES.has(func) || GENERIC_PREFIX_RE.test(func)
}

/** Reliable frames (no `?`) of the first call trace in a report, normalised. */
export function traceFrames(excerpt: string[]): string[] {
  const frames: string[] = []
  let inTrace = false
  for (const line of excerpt) {
    if (TRACE_START_RE.test(line)) {
      if (inTrace && frames.length > 0) break
      inTrace = true
      continue
    }
    if (!inTrace) continue
    const m = FRAME_RE.exec(line)
    if (m && !m[1]) frames.push(normaliseFunc(m[2] ?? ''))
  }
  return frames
}

/** Function of the kernel-mode RIP line; user-mode RIPs (`RIP: 0033:0x47b7a0`) carry no symbol and are ignored. */
export function ripFunc(excerpt: string[]): string | undefined {
  for (const line of excerpt) {
    const m = KERNEL_RIP_RE.exec(line)
    if (m) return normaliseFunc(m[1] ?? '')
  }
  return undefined
}

/** First FINGERPRINT_FRAMES non-generic functions: the faulting function, then the call trace. */
export function fingerprintOf(excerpt: string[]): string {
  const out: string[] = []
  for (const f of [ripFunc(excerpt), ...traceFrames(excerpt)]) {
    if (!f || isGenericFrame(f) || out.at(-1) === f) continue
    out.push(f)
    if (out.length === FINGERPRINT_FRAMES) break
  }
  return out.join('|')
}

function isTraceLine(line: string): boolean {
  return FRAME_RE.test(line) || /^\s*<\/?(?:TASK|IRQ|NMI|SOFTIRQ|EOE)>\s*$/.test(line)
}

interface Open {
  header: Header
  match: RegExpExecArray
  line: number
  excerpt: string[]
  inTrace: boolean
  sawTrace: boolean
}

function matchHeader(text: string): { header: Header; match: RegExpExecArray } | null {
  // KTAP lines and diagnostics echoed to the console may quote a report; they are not one.
  if (/^\s*(?:#|ok\b|not ok\b)/.test(text)) return null
  for (const header of HEADERS) {
    const match = header.re.exec(text)
    if (match) return { header, match }
  }
  return null
}

function finish(o: Open): ConsoleFinding {
  const fingerprint = fingerprintOf(o.excerpt)
  const first = fingerprint.split('|')[0] || undefined
  return {
    kind: o.header.kind,
    title: o.header.title(o.match, first),
    fingerprint,
    excerpt: o.excerpt,
    line: o.line,
  }
}

/** Whether the report ends with this line (already appended to its excerpt). */
function endsAt(o: Open, text: string): boolean {
  if (END_MARK_RE.test(text)) return true
  if (o.excerpt.length >= EXCERPT_CAP) return true
  if ((o.header.kind === 'kasan' || o.header.kind === 'ubsan') && o.sawTrace && SEPARATOR_RE.test(text)) return true
  if (o.header.endMarker) return false
  return o.inTrace && /^\s*<\/TASK>\s*$/.test(text)
}

/**
 * Classifies a whole console log. Each report runs from its header through the end of its call trace
 * (or its `---[ end trace ]---` line), capped at EXCERPT_CAP lines. A second `Linux version` banner means
 * the machine reset under `-no-reboot`'s nose (a triple fault).
 */
export function classifyConsole(text: string): ConsoleFinding[] {
  const lines = splitLines(text).map(stripPrintk)
  const findings: ConsoleFinding[] = []
  let open: Open | null = null
  let banners = 0
  const close = (): void => {
    if (open) findings.push(finish(open))
    open = null
  }
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? ''
    if (/^Linux version \d/.test(text) && banners++ > 0) {
      close()
      findings.push({
        kind: 'triple-fault',
        title: 'kernel restarted without a shutdown (triple fault)',
        fingerprint: '',
        excerpt: lines.slice(Math.max(0, i - 15), i + 1),
        line: i + 1,
      })
      continue
    }
    const current = open as Open | null
    if (current && (CONSEQUENCE_RE.test(text) || (CONTINUATION_RE.test(text) && current.header.kind !== 'warning'))) {
      current.excerpt.push(text)
      if (CONSEQUENCE_RE.test(text)) current.inTrace = false
      if (endsAt(current, text)) close()
      continue
    }
    if (!current && CONSEQUENCE_RE.test(text) && findings.length > 0 && findings.at(-1)?.kind !== 'triple-fault') continue
    const h = matchHeader(text)
    if (h) {
      close()
      open = { header: h.header, match: h.match, line: i + 1, excerpt: [text], inTrace: false, sawTrace: false }
      continue
    }
    if (!current) continue
    if (current.inTrace && !isTraceLine(text) && !TRACE_START_RE.test(text)) {
      current.inTrace = false
      // A trace without <TASK> markers (old kernels, kmemleak) ends at the first line that is not a frame.
      if (!current.header.endMarker) {
        close()
        continue
      }
    }
    current.excerpt.push(text)
    if (TRACE_START_RE.test(text)) {
      current.inTrace = true
      current.sawTrace = true
    }
    if (endsAt(current, text)) close()
  }
  close()
  return findings
}

/**
 * Marks findings the variant allows. `match` is a finding kind (`warning`), a substring of the fingerprint
 * (`dax_iomap_pte_fault`), or a regular expression tested against the title (`^WARNING in check_vma_flags$`).
 */
export function applyAllowList(findings: ConsoleFinding[], allow: Variant['allow']): ConsoleFinding[] {
  return findings.map(f => {
    const rule = allow.find(a => allowMatches(a.match, f))
    if (!rule) return f
    return { ...f, allowed: rule.reason }
  })
}

export function allowMatches(match: string, f: ConsoleFinding): boolean {
  if (match === f.kind) return true
  if (f.fingerprint !== '' && f.fingerprint.includes(match)) return true
  if (f.title.includes(match)) return true
  try {
    return new RegExp(match).test(f.title)
  } catch {
    return false
  }
}
