// The deadlines of a sweep's sockets. Every socket of a scan gets the same connect timeout and the same
// reply deadline, so deadlines of one span fall due in the order the sockets were opened: one FIFO and
// one timer per span stand in for a setTimeout/clearTimeout pair per socket and phase (a sweep opens
// thousands of sockets a second, and nearly all of them finish long before their deadline).

/** A clock in milliseconds that never goes backwards. */
export type MonotonicClock = () => number;

const monotonic: MonotonicClock = () => performance.now();

/** Compact the arrays once this many expired or cancelled slots sit before the head. */
const COMPACT_AFTER = 1024;

export class DeadlineQueue<T> {
  private items: (T | null)[] = [];
  private dueAt: number[] = [];
  /** Index of the oldest slot that may still be live. */
  private head = 0;
  /** Ticket of `items[0]`: tickets stay valid across compaction. */
  private base = 0;
  private live = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The timer went off: the expiry runs after the sockets' pending reads (see fireSoon). */
  private soon: NodeJS.Immediate | null = null;
  private firing = false;

  /**
   * @param spanMs how long after add() an item expires
   * @param expire called once for each item whose deadline passed without cancel()
   */
  constructor(
    readonly spanMs: number,
    private readonly expire: (item: T) => void,
    private readonly clock: MonotonicClock = monotonic,
  ) {
    if (!Number.isFinite(spanMs) || spanMs <= 0)
      throw new RangeError(`deadline span must be > 0, got ${spanMs}`);
  }

  /** Items added and neither expired nor cancelled. */
  get size(): number {
    return this.live;
  }

  /** The items still waiting for their deadline, oldest first (a copy). */
  pending(): T[] {
    const items: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T | null;
      if (item !== null) items.push(item);
    }
    return items;
  }

  /** Starts the deadline of `item` now; the ticket cancels it. */
  add(item: T): number {
    const ticket = this.base + this.items.length;
    this.items.push(item);
    this.dueAt.push(this.clock() + this.spanMs);
    this.live++;
    // An earlier item (due no later than this one) already holds the timer.
    if (this.timer === null && this.soon === null && !this.firing) this.arm();
    return ticket;
  }

  /** The item's deadline no longer matters. A ticket that already expired or was cancelled is ignored. */
  cancel(ticket: number): void {
    const index = ticket - this.base;
    if (index < this.head || index >= this.items.length || this.items[index] === null) return;
    this.items[index] = null;
    this.live--;
    if (this.live === 0 && !this.firing) this.reset();
  }

  /** Nothing is pending: drop the timer (so it cannot hold the process open) and the slots. */
  private reset(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.soon !== null) clearImmediate(this.soon);
    this.timer = null;
    this.soon = null;
    this.base += this.items.length;
    this.items = [];
    this.dueAt = [];
    this.head = 0;
  }

  private arm(): void {
    while (this.head < this.items.length && this.items[this.head] === null) this.head++;
    if (this.head >= this.items.length) return;
    const wait = Math.max(1, Math.ceil((this.dueAt[this.head] as number) - this.clock()));
    this.timer = setTimeout(this.fireSoon, wait);
  }

  /**
   * Timers run before the process reads its sockets: after a busy stretch (a thousand answers at
   * once, one hostile reply's decoding), an answer or a connection that came in time, still waiting
   * in the kernel, would be expired unread. One turn of the event loop later it has been read (and
   * its deadline cancelled), as the client's own deadlines do.
   */
  private readonly fireSoon = (): void => {
    this.timer = null;
    this.soon = setImmediate(this.fire);
  };

  private readonly fire = (): void => {
    this.soon = null;
    this.firing = true;
    try {
      const now = this.clock();
      while (this.head < this.items.length) {
        const item = this.items[this.head] as T | null;
        if (item !== null) {
          if ((this.dueAt[this.head] as number) > now) break;
          this.items[this.head] = null;
          this.live--;
          this.expire(item);
        }
        this.head++;
      }
    } finally {
      this.firing = false;
    }
    if (this.live === 0) {
      this.reset();
      return;
    }
    if (this.head > COMPACT_AFTER && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.dueAt.splice(0, this.head);
      this.base += this.head;
      this.head = 0;
    }
    this.arm();
  };
}
