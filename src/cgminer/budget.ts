// Memory held by replies still being read, across every exchange of the process. Each reply has its
// cap (--max-bytes, 8 MiB by default), but a thousand miners streaming endless replies at once would
// hold 8 GB before any cap is reached: past the budget, a reply holding more than its share of it is
// cut (`too_large`). Real replies stay under 50 KB (CGMINER-API.md §12 #23), and no reply is cut
// for the budget below MIN_REPLY_SHARE_BYTES, five times that.
//
// The same rule bounds what decoded replies weigh while their poll runs (a poll keeps each reply
// until its snapshot is built, one round trip or fourteen later): a reply's few bytes can decode to
// far more heap (`{},` is 3 bytes and a 64-byte object), so a thousand miners answering 250 KB of
// empty objects held 4.5 GB and crashed the process. Past DECODED_BUDGET_BYTES, a poll holding more
// than its share has its next reply refused (`too_large`); no poll is refused below
// MIN_POLL_SHARE_BYTES, three times what the heaviest real poll weighs (a HonorKnight's).

import type { MinerError } from '../errors.js';

/** What the process's replies in flight may hold together (a reply read alone is bounded by its cap only). */
export const REPLY_BUDGET_BYTES = 64 * 1024 * 1024;
/** A reply is never cut for the budget below this, however many are in flight (a join of a HonorKnight's replies fits). */
export const MIN_REPLY_SHARE_BYTES = 256 * 1024;

/** What the decoded replies of the polls in flight may weigh together (see decodedWeight). */
export const DECODED_BUDGET_BYTES = 64 * 1024 * 1024;
/** A poll is never refused a reply for the budget below this, however many are in flight. */
export const MIN_POLL_SHARE_BYTES = 1024 * 1024;
/** Heap one decoded value takes at most: an empty object, measured on Node 20 (a number takes 8). */
const BYTES_PER_VALUE = 64;
/** Values any reply may decode to, whatever --max-bytes: 23 times the heaviest real one (HonorKnight's stats, 2,829). */
export const MIN_REPLY_VALUES = 65_536;

/**
 * Values one reply within `maxBytes` may decode to (past them it is `too_large`): what twice
 * --max-bytes of heap holds, 262,144 at the default 8 MiB, and never fewer than MIN_REPLY_VALUES.
 * Its bytes alone do not bound a reply: `0,` is two bytes and a value, so 8 MiB can hold millions,
 * and building, holding and printing them cost seconds and hundreds of megabytes past --timeout.
 */
export function maxReplyValues(maxBytes: number): number {
  return Math.max(MIN_REPLY_VALUES, Math.floor((2 * maxBytes) / BYTES_PER_VALUE));
}
/** JSON holds at most a value per two characters (`1,1,1`): what a reply of N characters may weigh at most. */
export const MAX_WEIGHT_PER_CHAR = BYTES_PER_VALUE / 2 + 1;

/**
 * What a decoded reply weighs on the heap, from the number of values it holds (objects, arrays,
 * members and elements) and the characters of its text (the strings are at most those): an
 * estimate from above, close for real replies (HonorKnight's 49 KB `stats`, 2,829 values, weighs
 * 230 KB) and for hostile ones alike.
 */
export function decodedWeight(values: number, chars: number): number {
  return values * BYTES_PER_VALUE + chars;
}

/** A budget shared by holders in flight (replies being read, or polls holding decoded replies). */
export class ReplyBudget {
  private held = 0;
  private readers = 0;

  constructor(
    readonly totalBytes: number = REPLY_BUDGET_BYTES,
    readonly minShareBytes: number = MIN_REPLY_SHARE_BYTES,
  ) {}

  /** A reply starts being read. */
  open(): void {
    this.readers++;
  }

  /** A reply is done (whatever its outcome), releasing the `bytes` it had taken. */
  close(bytes: number): void {
    this.readers--;
    this.held -= bytes;
  }

  /**
   * Asks for `bytes` more for a reply that holds `holding`. False: the budget is spent and this reply
   * holds more than its share, so it must be cut. A reply within its share always gets its bytes
   * (the budget is then overdrawn by at most a read per reply), and so does a reply read alone (its
   * own cap bounds it: `probe --max-bytes 100MiB` of one miner is what the user asked for).
   */
  take(holding: number, bytes: number): boolean {
    const after = this.held + bytes;
    if (after > this.totalBytes && this.readers > 1 && holding + bytes > this.share()) return false;
    this.held = after;
    return true;
  }

  /** What a holder of `holding` may still take now without being refused (Infinity: no limit). */
  room(holding: number): number {
    if (this.readers <= 1) return Number.POSITIVE_INFINITY;
    return Math.max(this.totalBytes - this.held, this.share() - holding);
  }

  /** Bytes the replies in flight hold now. */
  get heldBytes(): number {
    return this.held;
  }

  private share(): number {
    return Math.max(this.minShareBytes, this.totalBytes / this.readers);
  }
}

/** The process's budget, shared by every client (tests pass their own through ExchangeOptions). */
export const processReplyBudget = new ReplyBudget();

/** The process's budget for decoded replies, shared by every poll (tests pass their own). */
export const processDecodedBudget = new ReplyBudget(DECODED_BUDGET_BYTES, MIN_POLL_SHARE_BYTES);

/**
 * The decoded replies one poll holds, charged to a shared budget from the first reply until
 * `release()` (when its snapshot is built, whatever the outcome).
 */
export class PollHold {
  private held = 0;
  private released = false;
  /** The poll's read that ran to its deadline, if one did: its later reads are not sent (PollState). */
  stalled: MinerError | null = null;

  constructor(readonly budget: ReplyBudget = processDecodedBudget) {
    budget.open();
  }

  /** Charges a decoded reply of `weight`; false: the poll must do without it (too_large). */
  take(weight: number): boolean {
    if (this.released) return true;
    if (!this.budget.take(this.held, weight)) return false;
    this.held += weight;
    return true;
  }

  /** What this poll may still take now without being refused. */
  room(): number {
    return this.released ? Number.POSITIVE_INFINITY : this.budget.room(this.held);
  }

  /** What this poll holds now. */
  get heldBytes(): number {
    return this.held;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.close(this.held);
    this.held = 0;
  }
}
