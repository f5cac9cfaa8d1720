// How many sockets a scan holds open at once. The limit starts at the requested concurrency and
// drops when the system says it is out of file descriptors or local ports (EMFILE, ENFILE,
// EADDRNOTAVAIL, EAGAIN): the host that hit it waits and tries again, so an exhausted process slows
// down instead of reporting live hosts as absent. After a run of clean connections it creeps back up.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Error codes that mean "this machine is out of something", not "that host is not there". */
export const LOCAL_EXHAUSTION_CODES: ReadonlySet<string> = new Set([
  'EMFILE',
  'ENFILE',
  'EADDRNOTAVAIL',
  'EAGAIN',
  'ENOBUFS',
]);

/** Which address families this machine has an address of (IPv6 is often off in containers). */
export type LocalFamilies = () => ReadonlySet<4 | 6>;

let families: ReadonlySet<4 | 6> | null = null;
/** The machine's own families, read once: every interface's addresses, loopback included. */
export const machineFamilies: LocalFamilies = () => {
  if (families === null) {
    const found = new Set<4 | 6>();
    for (const list of Object.values(networkInterfaces()))
      for (const address of list ?? []) found.add(address.family === 'IPv6' ? 6 : 4);
    families = found;
  }
  return families;
};

/**
 * The errno code behind an error from src/cgminer (kept as `cause`), if it is a local exhaustion.
 * EADDRNOTAVAIL also answers a connect to an address family the machine has no address of (an
 * IPv6 target on a host without IPv6): that is an unreachable target, not a lack of local ports,
 * and waiting for ports to free up would stall the scan for nothing.
 */
export function exhaustionCode(
  error: unknown,
  host?: string,
  local: LocalFamilies = machineFamilies,
): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && LOCAL_EXHAUSTION_CODES.has(code)) {
      if (code === 'EADDRNOTAVAIL') {
        // The address the connect went to: a host name's is on the socket error (a name that
        // resolved to IPv6 on a host without IPv6 is as unreachable as `[::1]` typed out).
        const tried = (current as { address?: unknown }).address;
        const family = isIP(typeof tried === 'string' ? tried : (host ?? ''));
        if (family !== 0 && !local().has(family as 4 | 6)) return null;
      }
      return code;
    }
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

/** Callbacks in arrival order, taken from the front in O(1). */
class StartQueue {
  private items: (() => void)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(start: () => void): void {
    this.items.push(start);
  }

  shift(): () => void {
    const start = this.items[this.head] as () => void;
    this.items[this.head++] = noop;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return start;
  }
}

export class AdaptiveGate {
  private active = 0;
  private current: number;
  private cleanRun = 0;
  /** Starts waiting for a slot or for the next turn, oldest first; `resuming` before `waiting`. */
  private readonly waiting = new StartQueue();
  private readonly resuming = new StartQueue();
  private startsThisTurn = 0;
  private resetScheduled = false;
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

  /**
   * Calls `start` once a connection may open: a slot under the limit is free and this turn of the
   * event loop has starts left (at once when both hold and nobody waits). The slot is `start`'s until
   * it calls release(). `resuming`: the next connection of an endpoint already under way (a retry, a
   * follow-up), which goes before endpoints not yet started: finishing endpoints frees their slots,
   * and a sweep does not end with a wave of second requests behind all of its first ones.
   */
  enter(start: () => void, resuming = false): void {
    if (this.resuming.length === 0 && (resuming || this.waiting.length === 0) && this.mayStart()) {
      this.grant(start);
      return;
    }
    (resuming ? this.resuming : this.waiting).push(start);
  }

  /** release() for a slot that enter() granted. */
  release(): void {
    this.active--;
    this.drain();
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await new Promise<void>((resolve) => this.enter(resolve));
    try {
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
      this.drain();
    }
  }

  private mayStart(): boolean {
    return this.active < this.current && this.startsThisTurn < STARTS_PER_TURN;
  }

  private grant(start: () => void): void {
    this.active++;
    this.startsThisTurn++;
    // The share of starts is per turn: the next turn gets a fresh one.
    if (!this.resetScheduled) {
      this.resetScheduled = true;
      setImmediate(this.nextTurn);
    }
    start();
  }

  private readonly nextTurn = (): void => {
    this.resetScheduled = false;
    this.startsThisTurn = 0;
    this.drain();
  };

  /** Hands free slots to the longest waiting, resuming first, as far as this turn's share goes. */
  private drain(): void {
    while (this.mayStart()) {
      if (this.resuming.length > 0) this.grant(this.resuming.shift());
      else if (this.waiting.length > 0) this.grant(this.waiting.shift());
      else return;
    }
  }
}

function noop(): void {}
