// One connection of a scan: connect, write the request in one go as soon as the handshake is done,
// read one reply (to the NUL or EOF). The same steps as the client's `exchange` (src/cgminer/
// connection.ts), framed by its FrameReader, with the same error kinds; but driven by callbacks with
// no promise per socket, and with the deadlines of all sockets in two shared FIFOs (./deadlines.ts)
// instead of two timers per socket. A sweep opens thousands of sockets a second, most of them
// refused within a millisecond: what each socket costs beyond the kernel's work is what a sweep costs.
import { createConnection, type Socket } from 'node:net';
import { kindForSocketError } from '../cgminer/connection.js';
import { FrameReader } from '../cgminer/frame.js';
import { MinerError, type MinerErrorKind } from '../errors.js';
import { DeadlineQueue, type MonotonicClock } from './deadlines.js';

export interface ProberOptions {
  /** How long the TCP handshake may take. */
  connectTimeoutMs: number;
  /** After connecting: how long the reply may take (the whole exchange gets connect + reply). */
  replyTimeoutMs: number;
  /** Reply cap: one byte more and the socket is destroyed (`too_large`). */
  maxBytes: number;
  clock?: MonotonicClock;
}

/** Called exactly once per probe, never synchronously from start(): the error, or the reply's bytes. */
export type ProbeDone = (error: MinerError | null, bytes: Uint8Array | null) => void;

function where(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function describeSocketError(kind: MinerErrorKind, code: string | undefined, at: string): string {
  const suffix = code ? ` (${code})` : '';
  switch (kind) {
    case 'refused':
      return `connection refused by ${at}`;
    case 'reset':
      return `connection to ${at} was reset${suffix}`;
    case 'timeout':
      return `connection to ${at} timed out${suffix}`;
    default:
      return `${at} is unreachable${suffix}`;
  }
}

class Probe {
  socket: Socket | null = null;
  connected = false;
  requestSent = false;
  settled = false;
  connectTicket = -1;
  replyTicket = -1;
  readonly reader: FrameReader;

  constructor(
    private readonly prober: Prober,
    readonly host: string,
    readonly port: number,
    readonly request: Uint8Array,
    private readonly done: ProbeDone,
    maxBytes: number,
  ) {
    this.reader = new FrameReader(maxBytes);
  }

  succeed(bytes: Uint8Array): void {
    if (this.settle()) this.done(null, bytes);
  }

  fail(kind: MinerErrorKind, message: string, cause?: unknown): void {
    if (!this.settle()) return;
    const error = new MinerError(
      kind,
      message,
      cause === undefined ? { requestSent: this.requestSent } : { cause, requestSent: this.requestSent },
    );
    this.done(error, null);
  }

  /** First call wins: deadlines dropped, socket destroyed. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.prober.forget(this);
    this.socket?.destroy();
    this.socket = null;
    return true;
  }
}

export class Prober {
  private readonly connectDeadlines: DeadlineQueue<Probe>;
  private readonly replyDeadlines: DeadlineQueue<Probe>;

  constructor(private readonly options: ProberOptions) {
    const { connectTimeoutMs, replyTimeoutMs, clock } = options;
    this.connectDeadlines = new DeadlineQueue<Probe>(
      connectTimeoutMs,
      (probe) => {
        if (!probe.connected)
          probe.fail(
            'timeout',
            `no connection to ${where(probe.host, probe.port)} within ${connectTimeoutMs}ms`,
          );
      },
      clock,
    );
    const totalMs = connectTimeoutMs + replyTimeoutMs;
    this.replyDeadlines = new DeadlineQueue<Probe>(
      totalMs,
      (probe) => {
        const at = where(probe.host, probe.port);
        const length = probe.reader.length;
        probe.fail(
          'timeout',
          length === 0
            ? `no reply from ${at} within ${totalMs}ms`
            : `reply from ${at} incomplete after ${totalMs}ms (${length} bytes)`,
        );
      },
      clock,
    );
  }

  /** Sockets opened and not yet settled. */
  get inFlight(): number {
    return this.replyDeadlines.size;
  }

  /** Connects to host:port, sends `request` once connected, and calls `done` with the reply or why not. */
  start(host: string, port: number, request: Uint8Array, done: ProbeDone): void {
    const probe = new Probe(this, host, port, request, done, this.options.maxBytes);
    probe.connectTicket = this.connectDeadlines.add(probe);
    probe.replyTicket = this.replyDeadlines.add(probe);
    let socket: Socket;
    try {
      socket = createConnection({ host, port });
    } catch (error) {
      // Bad arguments throw at once; the caller still hears back on a later tick, like every probe.
      process.nextTick(() =>
        probe.fail(
          'unreachable',
          `cannot connect to ${where(host, port)}: ${(error as Error).message}`,
          error,
        ),
      );
      return;
    }
    probe.socket = socket;
    const maxBytes = this.options.maxBytes;
    socket.on('connect', () => {
      probe.connected = true;
      this.connectDeadlines.cancel(probe.connectTicket);
      // One write of the whole request: the server reads it with a single recv() (CGMINER-API.md §1).
      probe.requestSent = true;
      socket.write(probe.request);
    });
    socket.on('data', (chunk: Buffer) => {
      if (probe.settled) return;
      const state = probe.reader.push(chunk);
      if (state === 'complete') probe.succeed(probe.reader.bytes());
      else if (state === 'too_large')
        probe.fail('too_large', `reply from ${where(host, port)} is larger than ${maxBytes} bytes`);
    });
    socket.on('end', () => {
      if (probe.reader.length === 0)
        probe.fail('empty_reply', `${where(host, port)} closed the connection without a reply`);
      else probe.succeed(probe.reader.bytes());
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const kind = kindForSocketError(error.code, probe.connected);
      probe.fail(kind, describeSocketError(kind, error.code, where(host, port)), error);
    });
    socket.on('close', () => {
      probe.fail(
        probe.connected ? 'reset' : 'unreachable',
        `connection to ${where(host, port)} closed unexpectedly`,
      );
    });
  }

  /** Drops a settled probe's deadlines. */
  forget(probe: Probe): void {
    this.connectDeadlines.cancel(probe.connectTicket);
    this.replyDeadlines.cancel(probe.replyTicket);
  }
}
