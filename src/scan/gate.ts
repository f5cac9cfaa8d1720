// How many sockets a scan holds open at once. The limit starts at the requested concurrency and
// drops when the system says it is out of file descriptors or local ports (EMFILE, ENFILE,
// EADDRNOTAVAIL, EAGAIN): the host that hit it waits and tries again, so an exhausted process slows
// down instead of reporting live hosts as absent. After a run of clean connections it creeps back up.

/** Error codes that mean "this machine is out of something", not "that host is not there". */
export const LOCAL_EXHAUSTION_CODES: ReadonlySet<string> = new Set([
  'EMFILE',
  'ENFILE',
  'EADDRNOTAVAIL',
  'EAGAIN',
  'ENOBUFS',
]);

/** The errno code behind an error from src/cgminer (kept as `cause`), if it is a local exhaustion. */
export function exhaustionCode(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && LOCAL_EXHAUSTION_CODES.has(code)) return code;
    current = current.cause;
  }
  return null;
}

/** Clean connections needed before the limit grows by one again. */
const GROW_AFTER = 64;
/**
 * New connections started per turn of the event loop. Opening thousands of sockets in one burst keeps
 * the loop away from its poll phase for longer than a connect timeout, and libuv runs expired timers
 * before it looks at completed connects: live hosts would time out without ever having been slow.
 */
export const STARTS_PER_TURN = 128;

export class AdaptiveGate {
  private active = 0;
  private current: number;
  private cleanRun = 0;
  private readonly waiters: (() => void)[] = [];
  private head = 0;
  private startsThisTurn = 0;
  private resetScheduled = false;
  private readonly paced: (() => void)[] = [];
  private pacedHead = 0;
  /** Times the limit was lowered. */
  backoffs = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`gate limit must be a whole number ≥ 1, got ${max}`);
    this.current = max;
  }

  get limit(): number {
    return this.current;
  }

  get inUse(): number {
    return this.active;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      await this.pace();
      return await task();
    } finally {
      this.release();
    }
  }

  /** The system ran out: hold at most three quarters of what is open now (never below one). */
  exhausted(): void {
    this.backoffs++;
    this.cleanRun = 0;
    this.current = Math.max(1, Math.min(this.current, Math.floor(this.active * 0.75)));
  }

  /** A connection went through without exhausting anything. */
  succeeded(): void {
    if (this.current >= this.max) return;
    if (++this.cleanRun >= GROW_AFTER) {
      this.cleanRun = 0;
      this.current++;
      this.wakeWaiters();
    }
  }

  /** Waits for a later turn of the event loop once this turn has started its share of connections. */
  private pace(): Promise<void> | undefined {
    this.scheduleReset();
    if (this.startsThisTurn < STARTS_PER_TURN && this.pacedHead >= this.paced.length) {
      this.startsThisTurn++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.paced.push(resolve));
  }

  /** Next turn: a fresh share of starts, handed to the longest waiting first. */
  private scheduleReset(): void {
    if (this.resetScheduled) return;
    this.resetScheduled = true;
    setImmediate(() => {
      this.resetScheduled = false;
      this.startsThisTurn = 0;
      while (this.startsThisTurn < STARTS_PER_TURN && this.pacedHead < this.paced.length) {
        const resume = this.paced[this.pacedHead] as () => void;
        this.paced[this.pacedHead++] = noop;
        this.startsThisTurn++;
        resume();
      }
      if (this.pacedHead > 1024 && this.pacedHead * 2 > this.paced.length) {
        this.paced.splice(0, this.pacedHead);
        this.pacedHead = 0;
      }
      if (this.startsThisTurn > 0) this.scheduleReset();
    });
  }

  private acquire(): Promise<void> {
    if (this.active < this.current && this.head >= this.waiters.length) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiters.push(() => {
        this.active++;
        resolve();
      });
    });
  }

  private release(): void {
    this.active--;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    while (this.active < this.current && this.head < this.waiters.length) {
      const next = this.waiters[this.head] as () => void;
      this.waiters[this.head++] = noop;
      next();
    }
    if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
  }
}

function noop(): void {}
