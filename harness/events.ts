// The runner's typed event stream. Renderers (live task list on a TTY, plain lines in CI) consume it;
// tests assert on events, not on terminal text.
import type { RunVerdict } from './types.js'
import type { GuestEvent } from './vm/guest-progress.js'

export type RigEvent =
  | { type: 'phase-start'; variant: string; phase: string; detail?: string }
  | { type: 'phase-end'; variant: string; phase: string; ms: number; detail?: string }
  | { type: 'progress'; variant: string; phase: string; message: string }
  | { type: 'console'; variant: string; line: string }
  /** the guest's own progress, parsed once by the VM stage */
  | { type: 'guest'; variant: string; event: GuestEvent }
  | { type: 'variant-end'; variant: string; verdict: RunVerdict; summary: string; ms: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }

export type EventSink = (e: RigEvent) => void

export const nullSink: EventSink = () => {}
