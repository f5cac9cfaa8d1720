// Memory held by replies still being read, across every exchange of the process. Each reply has its
// cap (--max-bytes, 8 MiB by default), but a thousand miners streaming endless replies at once would
// hold 8 GB before any cap is reached: past the budget, a reply holding more than its share of it is
// cut (`too_large`). Real replies stay under 50 KB (CGMINER-API.md §12 #23), and no reply is cut
// for the budget below MIN_REPLY_SHARE_BYTES, five times that.

/** What the process's replies in flight may hold together (a reply read alone is bounded by its cap only). */
export const REPLY_BUDGET_BYTES = 64 * 1024 * 1024;
/** A reply is never cut for the budget below this, however many are in flight (a join of a HonorKnight's replies fits). */
export const MIN_REPLY_SHARE_BYTES = 256 * 1024;

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
