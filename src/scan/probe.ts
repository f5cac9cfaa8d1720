// One connection of a scan: connect, write the request in one go as soon as the handshake is done,
// read one reply (to the NUL or EOF). The same steps as the client's `exchange` (src/cgminer/
// connection.ts), framed by its FrameReader, with the same error kinds; but driven by callbacks with
// no promise per socket, and with the deadlines of all sockets in two shared FIFOs (./deadlines.ts)
// instead of two timers per socket. A sweep opens thousands of sockets a second, most of them
// refused within a millisecond: what each socket costs beyond the kernel's work is what a sweep
// costs. So a probe is one object (the socket itself), its listeners are shared functions, and the
// MinerError of a failure is built only when someone asks for it.
import { isIP, type LookupFunction, Socket } from 'node:net';
import { processReplyBudget, type ReplyBudget } from '../cgminer/budget.js';
import { failureMessages, kindForSocketError } from '../cgminer/connection.js';
import { decodeUnfinished, isForeignBanner } from '../cgminer/decode.js';
import { FrameReader } from '../cgminer/frame.js';
import { MinerError, type MinerErrorKind } from '../errors.js';
import { DEFAULT_RESOLVE_MS } from '../targets/resolve.js';
import { DeadlineQueue, type MonotonicClock } from './deadlines.js';

export interface ProberOptions {
  /** How long the TCP handshake may take (for a host name, counted once its lookup has answered). */
  connectTimeoutMs: number;
  /**
   * How long a host name may take to resolve (default: DEFAULT_RESOLVE_MS, as the other name waits;
   * never less than the connect timeout). The lookup is not the handshake: a resolver that takes a
   * second must not make a miner that answers at once look silent.
   */
  lookupTimeoutMs?: number;
  /** After connecting: how long the reply may take, counted from the connect. */
  replyTimeoutMs: number;
  /** Reply cap: one byte more and the socket is destroyed (`too_large`). */
  maxBytes: number;
  /** What all replies in flight may hold together (default: the process's, as for the client). */
  budget?: ReplyBudget;
  clock?: MonotonicClock;
  /** How a host name becomes an address (default: the system resolver, as net.connect does). */
  lookup?: LookupFunction;
}

/** Called exactly once per probe, never synchronously from start(): why not, or the reply's bytes. */
/** `atDeadline`: the bytes were taken whole at the reply deadline (never ended by a NUL or a close). */
export type ProbeDone = (
  failure: ProbeFailure | null,
  bytes: Uint8Array | null,
  atDeadline?: boolean,
) => void;

type FailureDetail =
  | 'socket'
  | 'lookup_timeout'
  | 'connect_timeout'
  | 'reply_timeout'
  | 'too_large'
  | 'over_budget'
  | 'empty'
  | 'closed'
  | 'invalid'
  | 'stopped';

/**
 * Why a probe got no reply: the kind and whether the request went out are read on every failure;
 * the message and the MinerError (with the socket error as its cause) only when asked for.
 */
export class ProbeFailure {
  private built: MinerError | null = null;

  constructor(
    readonly kind: MinerErrorKind,
    readonly requestSent: boolean,
    private readonly detail: FailureDetail,
    private readonly host: string,
    private readonly port: number,
    /** The socket error (`socket`, `invalid`), or the milliseconds or bytes the message names. */
    readonly cause: NodeJS.ErrnoException | null,
    private readonly figure = 0,
    /** Bytes the peer had sent when the probe failed (part of a reply, a trickle). */
    readonly received = 0,
  ) {}

  /** A reply longer than --max-bytes (not one cut for the budget of all replies in flight). */
  get overCap(): boolean {
    return this.detail === 'too_large';
  }

  /** The errno code behind the failure (ECONNREFUSED, EMFILE…), if a socket error caused it. */
  get code(): string | undefined {
    return this.cause?.code;
  }

  get message(): string {
    const at = failureMessages.where(this.host, this.port);
    switch (this.detail) {
      case 'lookup_timeout':
        // The code getaddrinfo gives a resolver that timed out: the name was never connected to.
        return `${this.host} did not resolve within ${this.figure}ms (${this.cause?.code ?? 'EAI_AGAIN'})`;
      case 'connect_timeout':
        return failureMessages.connectTimeout(at, this.figure);
      case 'reply_timeout':
        return failureMessages.replyTimeout(at, this.figure, this.received);
      case 'too_large':
        return failureMessages.tooLarge(at, this.figure);
      case 'over_budget':
        return failureMessages.overBudget(at, this.received, this.figure);
      case 'empty':
        return failureMessages.empty(at);
      case 'closed':
        return failureMessages.closed(at);
      case 'invalid':
        return failureMessages.invalid(at, this.cause?.message ?? 'invalid address');
      case 'stopped':
        return `${at}: the scan stopped before it answered`;
      default:
        return failureMessages.socket(this.kind, this.cause?.code, at);
    }
  }

  /** The failure as the client reports it. */
  get error(): MinerError {
    if (this.built === null) {
      const options = { requestSent: this.requestSent };
      this.built = new MinerError(
        this.kind,
        this.message,
        this.cause === null ? options : { ...options, cause: this.cause },
      );
    }
    return this.built;
  }
}

/** One probe: the socket carries its own state, so a connection is one object plus Node's own. */
class ProbeSocket extends Socket {
  connected = false;
  requestSent = false;
  settled = false;
  lookupTicket = -1;
  connectTicket = -1;
  replyTicket = -1;
  reader: FrameReader | null = null;
  /** Bytes this reply took from the budget of all replies in flight. */
  taken = 0;

  constructor(
    readonly prober: Prober,
    readonly host: string,
    readonly port: number,
    readonly request: Uint8Array,
    readonly done: ProbeDone,
  ) {
    super();
  }

  /** Bytes received so far. */
  get received(): number {
    return this.reader === null ? 0 : this.reader.length;
  }

  succeed(bytes: Uint8Array, atDeadline = false): void {
    if (this.settle()) this.done(null, bytes, atDeadline);
  }

  fail(kind: MinerErrorKind, detail: FailureDetail, cause: NodeJS.ErrnoException | null, figure = 0): void {
    if (!this.settle()) return;
    this.done(
      new ProbeFailure(kind, this.requestSent, detail, this.host, this.port, cause, figure, this.received),
      null,
    );
  }

  /** First call wins: deadlines dropped, socket destroyed. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.prober.forget(this);
    this.prober.budget.close(this.taken);
    this.destroy();
    return true;
  }
}

// Listeners shared by every probe (`this` is the socket): no closures per connection.
/** A host name's lookup answered: from now on the connect timeout runs (a failed one errors next). */
function onLookup(this: ProbeSocket, error: Error | null): void {
  if (!this.settled && error === null) this.prober.resolved(this);
}

function onConnect(this: ProbeSocket): void {
  this.connected = true;
  this.prober.connected(this);
  // Read only once connected: a 'data' listener resumes the stream, which on a socket still
  // connecting queues a tick and one more 'connect' listener - wasted on the refused majority.
  this.on('data', onData);
  this.on('end', onEnd);
  // One write of the whole request: the server reads it with a single recv() (CGMINER-API.md §1).
  this.requestSent = true;
  this.write(this.request);
}

function onData(this: ProbeSocket, chunk: Buffer): void {
  if (this.settled) return;
  if (this.reader === null) this.reader = new FrameReader(this.prober.maxBytes);
  const { budget, maxBytes } = this.prober;
  if (this.reader.length + chunk.length <= maxBytes) {
    if (!budget.take(this.taken, chunk.length)) {
      this.fail('too_large', 'over_budget', null, budget.totalBytes);
      this.reader.clear();
      return;
    }
    this.taken += chunk.length;
  }
  const state = this.reader.push(chunk);
  if (state === 'complete') this.succeed(this.reader.bytes());
  else if (state === 'reading' && this.reader.length === chunk.length && isBannerLine(chunk))
    this.succeed(this.reader.bytes());
  else if (state === 'too_large') this.fail('too_large', 'too_large', null, maxBytes);
  // Settled either way: what a failure report keeps must not keep the bytes too.
  if (state !== 'reading') this.reader.clear();
}

function onEnd(this: ProbeSocket): void {
  if (this.reader === null || this.reader.length === 0) this.fail('empty_reply', 'empty', null);
  else this.succeed(this.reader.bytes());
}

function onError(this: ProbeSocket, error: NodeJS.ErrnoException): void {
  const kind = kindForSocketError(error.code, this.connected);
  // A whole reply and then a reset (firmware that closes with RST instead of FIN): the reply is
  // the answer, as the client takes it (decodeUnfinished), so probe and scan agree on the miner.
  const bytes = kind === 'reset' ? this.reader?.bytes() : undefined;
  if (bytes !== undefined && bytes.length > 0 && hasVerdict(bytes)) this.succeed(bytes);
  else this.fail(kind, 'socket', error);
}

function onClose(this: ProbeSocket): void {
  this.fail(this.connected ? 'reset' : 'unreachable', 'closed', null);
}

/**
 * Whether a first chunk is a whole line of another service's banner (SSH, SMTP, FTP, Redis): such a
 * peer has said what it is and waits for us forever, so the verdict need not wait for --reply-timeout.
 * A miner's reply starts with `{` or `STATUS=`, and none holds a line break before its end: the
 * banner test runs only for a chunk that could be one.
 */
function isBannerLine(chunk: Buffer): boolean {
  return chunk[0] !== 0x7b && chunk.includes(0x0a) && isForeignBanner(chunk);
}

/**
 * Whether bytes that never ended already say what the peer is (decodeUnfinished's rule, as the
 * client applies it): a whole reply, or a peer that is no CGMiner API (a banner waiting for us, our
 * request echoed back, a finished line of text). Handed on as the reply, the decoder then says which.
 */
function hasVerdict(bytes: Uint8Array): boolean {
  return decodeUnfinished(bytes, 'version') !== null;
}

export class Prober {
  readonly maxBytes: number;
  readonly budget: ReplyBudget;
  private readonly lookupDeadlines: DeadlineQueue<ProbeSocket>;
  private readonly connectDeadlines: DeadlineQueue<ProbeSocket>;
  private readonly replyDeadlines: DeadlineQueue<ProbeSocket>;
  private readonly lookup: LookupFunction | undefined;

  constructor(options: ProberOptions) {
    const { connectTimeoutMs, replyTimeoutMs, clock } = options;
    this.maxBytes = options.maxBytes;
    this.lookup = options.lookup;
    this.budget = options.budget ?? processReplyBudget;
    const lookupTimeoutMs = Math.max(options.lookupTimeoutMs ?? DEFAULT_RESOLVE_MS, connectTimeoutMs);
    this.lookupDeadlines = new DeadlineQueue<ProbeSocket>(
      lookupTimeoutMs,
      (probe) => {
        const cause: NodeJS.ErrnoException = Object.assign(
          new Error(`getaddrinfo EAI_AGAIN ${probe.host} (no answer within ${lookupTimeoutMs}ms)`),
          { code: 'EAI_AGAIN' },
        );
        probe.fail('unreachable', 'lookup_timeout', cause, lookupTimeoutMs);
      },
      clock,
    );
    this.connectDeadlines = new DeadlineQueue<ProbeSocket>(
      connectTimeoutMs,
      (probe) => {
        if (!probe.connected) probe.fail('timeout', 'connect_timeout', null, connectTimeoutMs);
      },
      clock,
    );
    // Counted from the connect, as --reply-timeout says: connects finish in any order, but each is
    // added when it happens, so the queue's order is still the order its deadlines fall in.
    this.replyDeadlines = new DeadlineQueue<ProbeSocket>(
      replyTimeoutMs,
      (probe) => {
        // A banner (SSH, SMTP) or an echo server waits for us forever: what it sent is the answer,
        // decoded as such. So is a whole reply that never ended (no NUL, no close): the client
        // decides the same at its deadline, and probe and scan must not disagree about one peer.
        const bytes = probe.reader?.bytes();
        if (bytes !== undefined && bytes.length > 0 && hasVerdict(bytes)) probe.succeed(bytes, true);
        else probe.fail('timeout', 'reply_timeout', null, replyTimeoutMs);
      },
      clock,
    );
  }

  /** Sockets opened and not yet settled. */
  get inFlight(): number {
    return this.lookupDeadlines.size + this.connectDeadlines.size + this.replyDeadlines.size;
  }

  /** Connects to host:port, sends `request` once connected, and calls `done` with the reply or why not. */
  start(host: string, port: number, request: Uint8Array, done: ProbeDone): void {
    const probe = new ProbeSocket(this, host, port, request, done);
    this.budget.open();
    // A host name is looked up first: its connect timeout starts once the lookup has answered.
    if (isIP(host) === 0) {
      probe.lookupTicket = this.lookupDeadlines.add(probe);
      probe.once('lookup', onLookup);
    } else probe.connectTicket = this.connectDeadlines.add(probe);
    probe.on('connect', onConnect);
    probe.on('error', onError);
    probe.on('close', onClose);
    try {
      probe.connect(this.lookup ? { host, port, lookup: this.lookup } : { host, port });
    } catch (error) {
      // Bad arguments throw at once; the caller still hears back on a later tick, like every probe.
      process.nextTick(() => probe.fail('unreachable', 'invalid', error as NodeJS.ErrnoException));
    }
  }

  /**
   * Ends every probe in flight now, as a `stopped` failure (Ctrl-C: a user should not wait out a
   * long --reply-timeout; the caller counts these endpoints as not checked).
   */
  stopAll(): void {
    for (const queue of [this.lookupDeadlines, this.connectDeadlines, this.replyDeadlines])
      for (const probe of queue.pending()) probe.fail('timeout', 'stopped', null);
  }

  /** The host name resolved: the lookup deadline gives way to the connect's, from now. */
  resolved(probe: ProbeSocket): void {
    this.lookupDeadlines.cancel(probe.lookupTicket);
    probe.connectTicket = this.connectDeadlines.add(probe);
  }

  /** The handshake is done: the connect deadline gives way to the reply's, from now. */
  connected(probe: ProbeSocket): void {
    this.connectDeadlines.cancel(probe.connectTicket);
    probe.replyTicket = this.replyDeadlines.add(probe);
  }

  /** Drops a settled probe's deadlines. */
  forget(probe: ProbeSocket): void {
    this.lookupDeadlines.cancel(probe.lookupTicket);
    this.connectDeadlines.cancel(probe.connectTicket);
    this.replyDeadlines.cancel(probe.replyTicket);
  }
}
