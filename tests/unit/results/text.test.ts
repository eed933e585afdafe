// Guest and console text: printk prefixes, the three sanitizers, and the one column aligner.
import t from 'tap'
import { cleanName, printkMessage, printkPrefix, sanitizeTerminal, splitLines, stripPrintk, stripTerminal } from '../../../harness/results/text.js'
import { alignColumns } from '../../../harness/ui/table.js'

t.test('printk prefix: timestamp, caller id, the space before the message', async t => {
  t.equal(printkPrefix('[    3.445910] Call Trace:'), '[    3.445910] ')
  t.equal(printkPrefix('[    3.445910][    T1] Call Trace:'), '[    3.445910][    T1] ')
  t.equal(printkPrefix('[  123.000001]'), '[  123.000001]', 'an empty message has no space')
  t.equal(printkPrefix('no stamp [ 1.0] here'), '')
  t.equal(stripPrintk('[    1.000000]   ok 1 a'), '  ok 1 a', 'the message keeps its own indentation')
  t.equal(printkMessage('[    1.000000] # daxrig-exit: 0'), '# daxrig-exit: 0')
  t.equal(printkMessage('# daxrig-exit: 0'), '# daxrig-exit: 0')
  t.equal(printkMessage('[    1.000000]# daxrig-exit: 0'), null, 'a prefix cut short is no message')
})

t.test('splitLines drops the serial port\'s carriage returns', async t => {
  t.same(splitLines('a\r\nb\r\r\nc'), ['a', 'b', 'c'])
})

t.test('sanitizers: files mark controls, the terminal drops them, ids drop everything', async t => {
  const s = 'a\x1b[31mred\x1b[0m\x1b]0;title\x07\tb\x01\n'
  t.equal(stripTerminal(s), 'ared\tb\ufffd\n')
  t.equal(sanitizeTerminal(s), 'ared\tb\n')
  t.equal(cleanName(s), 'aredb')
  t.equal(cleanName('\x1b[32mgreen\x1b[0m'), 'green')
  t.equal(sanitizeTerminal('x\x9b2Jy'), 'xy', 'the 8-bit CSI too')
})

t.test('alignColumns: padded but for the last column, optional rule', async t => {
  t.equal(alignColumns([['a', 'bb', 'c'], ['xxx', 'y', 'long last cell'], ['', '', '']]), 'a    bb  c\nxxx  y   long last cell\n')
  t.equal(alignColumns([['h1', 'h2'], ['v', 'value']], { rule: true }), 'h1  h2\n--  -----\nv   value')
})
