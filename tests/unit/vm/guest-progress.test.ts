// The VM stage reads the guest's progress from the console once; the UI and the timings use the events.
import t from 'tap'
import { addToTimeline, emptyTimeline, guestEvent, guestSplit, programSeconds } from '../../../harness/vm/guest-progress.js'

const lines = [
  '[    0.812] Run /init as init process',
  'daxrig-init: [1.50] kernel 6.1.0-56-amd64, plan starting',
  'daxrig-init: [1.90] setup ext4 on namespace0.0',
  'daxrig-init: [3.25] running map_sync',
  'garbage daxrig-init: nonsense',
  'daxrig-init: [4.00] running topology',
  '[    4.75] reboot: Power down',
]

t.test('console lines become typed events, other lines none', async t => {
  const ev = lines.map(guestEvent)
  t.equal(ev[0], undefined)
  t.match(ev[1], { kind: 'plan-start', at: 1.5, text: '[1.50] kernel 6.1.0-56-amd64, plan starting' })
  t.match(ev[2], { kind: 'step', at: 1.9 })
  t.match(ev[3], { kind: 'running', at: 3.25, program: 'map_sync' })
  t.equal(ev[4], undefined, 'an init line without its uptime is not an event')
  t.match(ev[6], { kind: 'power-down', at: 4.75 })
})

t.test('the timeline gives the guest split and per-program seconds', async t => {
  const tl = emptyTimeline()
  for (const l of lines) {
    const e = guestEvent(l)
    if (e) addToTimeline(tl, e)
  }
  t.same(guestSplit(tl), { 'guest boot': 1.5, 'guest setup': 1.75, 'guest tests': 1.5 })
  t.same(programSeconds(tl), [['map_sync', 0.75], ['topology', 0.75]])
})

t.test('a guest that never reached its programs has no setup or tests figure', async t => {
  const tl = emptyTimeline()
  addToTimeline(tl, guestEvent(lines[1]!)!)
  t.same(guestSplit(tl), { 'guest boot': 1.5 })
  t.same(programSeconds(tl), [])
})
