// Console classifier: headers, excerpt boundaries, fingerprints, consequences, allow-lists.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import {
  allowMatches,
  applyAllowList,
  classifyConsole,
  fingerprintOf,
  normaliseFunc,
  EXCERPT_CAP,
} from '../../../harness/results/classify.js'
import { printkPrefix, stripPrintk } from '../../../harness/results/text.js'

const fixture = (name: string): string => readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/console', name), 'utf8')

t.test('stripPrintk and normaliseFunc', async t => {
  t.equal(stripPrintk('[    3.445910] Call Trace:'), 'Call Trace:')
  t.equal(stripPrintk('[    3.445910][    T1] Call Trace:'), 'Call Trace:')
  t.equal(stripPrintk('no stamp'), 'no stamp')
  t.equal(normaliseFunc('dax_wait_entry.isra.0'), 'dax_wait_entry')
  t.equal(normaliseFunc('__handle_sysrq.cold'), '__handle_sysrq')
  t.equal(normaliseFunc('foo.constprop.0.cold'), 'foo')
})

t.test('fingerprint: RIP first, generic and unreliable (?) frames dropped, at most 5', async t => {
  const fp = fingerprintOf([
    'RIP: 0010:check_vma_flags+0x125/0x1a0',
    'Call Trace:',
    ' <TASK>',
    ' ? __warn+0x7d/0xc0',
    ' dump_stack_lvl+0x44/0x5c',
    ' __get_user_pages+0x14b/0x5f0',
    ' asm_exc_invalid_op+0x16/0x20',
    ' a+0x1/0x2',
    ' b+0x1/0x2 [mod]',
    ' c+0x1/0x2',
    ' d+0x1/0x2',
    ' </TASK>',
  ])
  t.equal(fp, 'check_vma_flags|__get_user_pages|a|b|c')
  t.equal(fingerprintOf(['RIP: 0033:0x47b7a0', 'Call Trace:', ' x+0x1/0x2']), 'x', 'user RIP has no symbol')
})

t.test('the real 6.1 sysrq panic: one panic finding with a stable fingerprint, timestamps stripped', async t => {
  const f = classifyConsole(fixture('panic-mid-test.log'))
  t.equal(f.length, 1)
  t.equal(f[0]?.kind, 'panic')
  t.equal(f[0]?.title, 'kernel panic: sysrq triggered crash')
  t.equal(f[0]?.fingerprint, 'sysrq_handle_crash|__handle_sysrq|write_sysrq_trigger|proc_reg_write|vfs_write')
  t.notOk(f[0]?.excerpt.some(l => printkPrefix(l) !== ''), 'no printk timestamps in the excerpt')
  t.match(f[0]?.excerpt.at(-1) ?? '', /entry_SYSCALL_64_after_hwframe/)
})

t.test('oops + Fatal exception panic is one finding; excerpt runs to the end-trace line', async t => {
  const f = classifyConsole(fixture('debian-6.1-oops.log'))
  t.equal(f.length, 1)
  t.equal(f[0]?.kind, 'oops')
  t.equal(f[0]?.title, 'BUG: kernel NULL pointer dereference in dax_iomap_pte_fault')
  t.match(f[0]?.excerpt.at(-1) ?? '', /---\[ end trace/)
  t.ok(f[0]?.excerpt.some(l => l.startsWith('Oops: 0000')), 'the Oops line continues the BUG report')
})

t.test('a panic on its own (no earlier report) is a finding; Fatal exception after one is not', async t => {
  const f = classifyConsole('Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\n')
  t.same(f.map(x => [x.kind, x.title]), [['panic', 'kernel panic: Attempted to kill init! exitcode=0x0000000b']])
})

t.test('the real 6.12 sysrq-l NMI backtrace is not a crash', async t => {
  t.same(classifyConsole(fixture('printk-time-prefix.log')), [])
})

t.test('kernel BUG at, general protection fault, BUG: sleeping function, old-style WARNING', async t => {
  const bug = classifyConsole(['kernel BUG at fs/dax.c:1234!', 'invalid opcode: 0000 [#1] PREEMPT SMP NOPTI', 'RIP: 0010:dax_insert_entry+0x2f/0x40', '---[ end trace 0 ]---'].join('\n'))
  t.same(bug.map(x => [x.kind, x.title]), [['bug', 'kernel BUG in dax_insert_entry']])
  const gpf = classifyConsole(['general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP', 'RIP: 0010:list_del+0x1/0x2', '---[ end trace 0 ]---'].join('\n'))
  t.same(gpf.map(x => [x.kind, x.title]), [['oops', 'general protection fault in list_del']])
  const sleep = classifyConsole(['BUG: sleeping function called from invalid context at mm/gup.c:1', 'Call Trace:', ' foo+0x1/0x2', ' </TASK>'].join('\n'))
  t.same(sleep.map(x => [x.kind, x.title]), [['bug', 'BUG: sleeping function called from invalid context in foo']])
  const old = classifyConsole('WARNING: at mm/memory.c:123 vm_normal_page()\n---[ end trace ]---\n')
  t.same(old.map(x => [x.kind, x.title]), [['warning', 'WARNING in vm_normal_page']])
})

t.test('report lines quoted in KTAP diagnostics are not reports', async t => {
  t.same(classifyConsole('  # BUG: expected this to fail\nnot ok 1 BUG: in name\n'), [])
})

t.test('excerpts are capped', async t => {
  const long = ['WARNING: CPU: 0 PID: 1 at mm/x.c:1 f+0x1/0x2', ...Array.from({ length: 500 }, (_v, i) => `line ${i}`)].join('\n')
  t.equal(classifyConsole(long)[0]?.excerpt.length, EXCERPT_CAP)
})

t.test('two reports in a row are two findings with their own lines', async t => {
  const text = fixture('warning-call-trace.log') + fixture('hung-task.log')
  const f = classifyConsole(text)
  t.same(f.map(x => x.kind), ['warning', 'hung-task'])
  t.equal(f[1]?.line, fixture('warning-call-trace.log').split('\n').length, 'line numbers count from the start of the log')
})

t.test('allow-list: kind, fingerprint substring, title regex; reason recorded', async t => {
  const [w] = classifyConsole(fixture('warning-call-trace.log'))
  if (!w) throw new Error('no finding')
  t.ok(allowMatches('warning', w))
  t.ok(allowMatches('__gup_longterm_locked', w))
  t.ok(allowMatches('^WARNING in check_vma_flags$', w))
  t.notOk(allowMatches('panic', w))
  t.notOk(allowMatches('^WARNING in other$', w))
  t.notOk(allowMatches('(unbalanced', w), 'a bad regex is no match, not a throw')
  const out = applyAllowList([w], [{ match: 'check_vma_flags', reason: 'pre-series kernels warn here' }])
  t.equal(out[0]?.allowed, 'pre-series kernels warn here')
  t.equal(applyAllowList([w], [{ match: 'kasan', reason: 'x' }])[0]?.allowed, undefined)
})
