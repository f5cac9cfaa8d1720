// A drift-free schedule: cycle k starts at anchor + k × interval, whatever the cycles cost. A cycle
// that overruns its slot skips the slots it missed rather than starting late ones back to back.

export interface NextSlot {
  /** Index of the next slot (anchor + slot × interval). */
  slot: number;
  /** When it starts, on the schedule's clock (ms). */
  at: number;
  /** Slots passed over because the previous cycle ran into them. */
  skipped: number;
}

/** The first slot after `currentSlot` that has not started yet at `now`. */
export function nextSlot(anchor: number, intervalMs: number, currentSlot: number, now: number): NextSlot {
  if (!(intervalMs > 0)) throw new RangeError('interval must be positive');
  const due = currentSlot + 1;
  // The slot whose start is at or after now; never earlier than the one right after the current.
  const slot = Math.max(due, Math.ceil((now - anchor) / intervalMs));
  return { slot, at: anchor + slot * intervalMs, skipped: slot - due };
}
