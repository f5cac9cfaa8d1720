// One endpoint → one ScanResult. The TCP stage and the first identification request are one round
// trip: connect, send `{"command":"version"}` at once, read the reply. Only when `version` leaves
// the model (or Whatsminer firmware) unknown does a second request follow (CGMINER-API.md §11).
// Framing, decoding and detection are the client's own layers (src/cgminer, src/miners); the socket
// is scan's own callback-driven Prober (./probe.ts), which shares the client's FrameReader and error
// kinds: a sweep opens tens of thousands of connections, and a promise per exchange costs too much.
import type { LookupFunction } from 'node:net';
import { PollHold, type ReplyBudget } from '../cgminer/budget.js';
import { clipMessage } from '../cgminer/client.js';
import { decodeReply, REPAIR_UNFINISHED, splitMultiReply } from '../cgminer/decode.js';
import { buildRequest } from '../cgminer/escape.js';
import type { DecodedReply, ReplyHold } from '../cgminer/types.js';
import { HashctlError, MinerError, type MinerErrorKind } from '../errors.js';
import { detect, type Identity } from '../miners/detect.js';
import { Replies } from '../miners/replies.js';
import { terminalSafe } from '../output/terminal.js';
import type { Target } from '../targets/types.js';
import { type AdaptiveGate, exhaustionCode, type LocalFamilies } from './gate.js';
import { ReplyMemo } from './memo.js';
import { ProbeFailure, Prober } from './probe.js';
import type { ScanResult } from './types.js';

export interface IdentifyOptions {
  gate: AdaptiveGate;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  /** How long a host name may take to resolve before its connect timeout starts (default 5 s). */
  lookupTimeoutMs?: number;
  maxBytes: number;
  retries: number;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  /**
   * Checked before a retry or a follow-up of one endpoint; exchanges in flight are never cut short.
   * Queued first connections are stopped by the scan calling stop() on abort.
   */
  signal?: AbortSignal;
  /**
   * Turns a command into request bytes (default: `buildRequest`). A caller with a send policy passes
   * its guard here (the audit: `readOnlyRequest`), so a refused command throws before any byte is sent.
   */
  requestBytes?: (command: string) => Uint8Array;
  /** The address families this machine has (default: its interfaces'), to read EADDRNOTAVAIL by. */
  localFamilies?: LocalFamilies;
  /** Name resolution (default: the system's). */
  lookup?: LookupFunction;
  /**
   * What the decoded replies the endpoints in flight keep may weigh together (the process's by
   * default, shared with the polls: ../cgminer/budget.ts). Each endpoint keeps its `version` and
   * follow-up replies until its result is made; past its share a reply is refused (`too_large`).
   */
  budget?: ReplyBudget;
}

/** STATUS letters of a CGMiner envelope: what separates a miner API from JSON that merely parses. */
const CGMINER_STATUS = new Set(['S', 'I', 'W', 'E', 'F']);
/** Failures after connecting that a second connection may cure (a miner mid-restart, a lost segment). */
const RETRY_KINDS: ReadonlySet<MinerErrorKind> = new Set(['empty_reply', 'reset', 'parse']);
/** Backing off on local exhaustion this many times for one endpoint means the machine cannot go on. */
const MAX_EXHAUSTION_WAITS = 200;
const MAX_EXHAUSTION_DELAY_MS = 1000;

/**
 * What to ask when `version` did not name the model (CGMINER-API.md §11 steps 2-4): first a joined
 * `a+b` where the firmware family answers joins (one round trip for model and firmware), then the
 * single commands if the join is not understood.
 */
interface FollowUpPlan {
  join: string[] | null;
  singles: string[];
}

function followUps(identity: Identity): FollowUpPlan {
  switch (identity.family) {
    case 'whatsminer':
      // devdetails names the model, summary the firmware; get_version is the native fallback.
      return { join: ['devdetails', 'summary'], singles: ['devdetails', 'get_version'] };
    case 'braiins':
      return { join: null, singles: ['devdetails'] };
    case 'generic':
      return { join: ['devdetails', 'stats'], singles: ['devdetails', 'stats'] };
    default:
      return { join: null, singles: ['stats'] };
  }
}

/** After these a second request to the same endpoint is not worth its deadline. */
const GIVE_UP_KINDS: ReadonlySet<MinerErrorKind> = new Set([
  'timeout',
  'refused',
  'reset',
  'unreachable',
  'empty_reply',
]);

/** A reply taken whole at its deadline, never ended by a NUL or a close: the next would be too. */
function unfinished(reply: DecodedReply): boolean {
  return reply.repairs.includes(REPAIR_UNFINISHED);
}

function complete(identity: Identity): boolean {
  if (identity.model === null) return false;
  // Whatsminer's firmware is only in get_version (or summary); the rest name it in `version`.
  return identity.family !== 'whatsminer' || identity.firmware.version !== null;
}

/**
 * Whether a decoded reply is a CGMiner API talking. An echo server's `{"command":"version"}` parses
 * as JSON too, so a STATUS with a CGMiner letter is required; `Socket connect failed…` is the API of
 * a Whatsminer whose miner process is down (CGMINER-API.md §1) and counts as a miner.
 */
export function isMinerReply(reply: DecodedReply): boolean {
  if (reply.format === 'bare') return /^Socket connect failed/i.test(reply.status.msg ?? '');
  const { status, code, msg, description, when } = reply.status;
  // A verdict letter alone (`{"STATUS":"S","result":"ok"}`, any JSON-RPC service's) is no envelope:
  // every CGMiner fork's STATUS carries a Code, Msg, Description or When beside it.
  return (
    CGMINER_STATUS.has(status.toUpperCase()) &&
    (code !== null || msg !== null || description !== null || when !== null)
  );
}

/** A connection's outcome: the decoded reply, or why there is none (a ProbeFailure when no bytes came). */
type Attempt = { reply: DecodedReply } | { error: MinerError | ProbeFailure };
type Decode = (bytes: Uint8Array, command: string) => DecodedReply;

function asMinerError(error: MinerError | ProbeFailure): MinerError {
  return error instanceof ProbeFailure ? error.error : error;
}

/** The first stage's one request: stock firmware names itself in it. */
export const FIRST_STAGE_COMMAND = 'version';

/**
 * The verdict of the first stage (connect + `version`, with retries): `miner` with the `version`
 * reply, or why not. `error` is the exchange's failure; null when a reply came but is not a CGMiner API.
 */
export type FirstStage =
  | { outcome: 'miner'; version: DecodedReply; roundTrips: number }
  | {
      outcome: 'open' | 'none';
      roundTrips: number;
      kind: MinerErrorKind;
      reason: string;
      error: MinerError | null;
    };
/** A first stage that failed to connect or to get a reply. */
class NoMinerStage {
  readonly kind: MinerErrorKind;

  constructor(
    readonly outcome: 'open' | 'none',
    readonly roundTrips: number,
    private readonly failure: MinerError | ProbeFailure,
    readonly reason: string,
  ) {
    this.kind = failure.kind;
  }

  /** Built when read: a sweep's thousands of refused addresses need no Error each. */
  get error(): MinerError {
    return asMinerError(this.failure);
  }
}

type ResultFields = Partial<ScanResult> & Pick<ScanResult, 'outcome' | 'round_trips'>;

/**
 * A peer's words as a result shows them: clipped as the client clips a STATUS message (a hostile
 * `Type` of 100 KB is not a model for the table, --json and the --out inventory), and visible.
 */
const safe = (text: string | null) => (text === null ? null : terminalSafe(clipMessage(text), true));

/** Built field by field so that JSON keys come out in the documented order. */
function makeResult(target: Target, fields: ResultFields, elapsedMs: number): ScanResult {
  const result: ScanResult = {
    target: target.key,
    host: target.host,
    port: target.port,
    outcome: fields.outcome,
    // Shown in tables and written to inventories: what the miner said, made terminal-safe.
    make: safe(fields.make ?? null),
    model: safe(fields.model ?? null),
    firmware: fields.firmware
      ? { name: safe(fields.firmware.name), version: safe(fields.firmware.version) }
      : null,
    algorithm: fields.algorithm ?? null,
    round_trips: fields.round_trips,
    elapsed_ms: Math.max(0, Math.round(elapsedMs)),
  };
  // What the peer sent is quoted in it (a banner, an HTTP status line): as safe as the model.
  if (fields.reason !== undefined) result.reason = safe(fields.reason) as string;
  if (fields.kind !== undefined) result.kind = fields.kind;
  return result;
}

/**
 * What ends a whole scan rather than one endpoint: the machine stays out of file descriptors however
 * far the gate backs off, or the request guard refuses a command. Passed where a result would go.
 */
export class ScanFailure {
  constructor(readonly error: unknown) {}
}

/** An endpoint given up by stop() before its connection opened: no traffic, and no result. */
export class ScanStopped extends ScanFailure {
  constructor() {
    super(new HashctlError('interrupted', 'the scan stopped before this endpoint was checked'));
  }
}

export class Identifier {
  /** Request bytes per command, built once: a sweep sends the same `version` thousands of times. */
  private readonly requests = new Map<string, Uint8Array>();
  private readonly prober: Prober;
  /** For identify only: firstStage() hands each caller its own `version` reply, `When` included. */
  private readonly memo = new ReplyMemo();

  /** Set by stop(): connections waiting at the gate and exhaustion retries end without traffic. */
  private stopped = false;

  constructor(private readonly options: IdentifyOptions) {
    this.prober = new Prober({
      connectTimeoutMs: options.connectTimeoutMs,
      replyTimeoutMs: options.replyTimeoutMs,
      maxBytes: options.maxBytes,
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(options.lookupTimeoutMs !== undefined ? { lookupTimeoutMs: options.lookupTimeoutMs } : {}),
    });
  }

  private requestFor(command: string): Uint8Array {
    let bytes = this.requests.get(command);
    if (bytes === undefined) {
      bytes = (this.options.requestBytes ?? buildRequest)(command);
      this.requests.set(command, bytes);
    }
    return bytes;
  }

  /**
   * One connection behind the gate: connect, ask, decode. Waits out local exhaustion (EMFILE…) and
   * connects again instead of failing the host. `done` is called once, never synchronously.
   * `resuming`: not the endpoint's first connection, so it goes ahead of endpoints not yet started.
   */
  private attempt(
    target: Target,
    command: string,
    done: (attempt: Attempt | ScanFailure) => void,
    resuming: boolean,
    decode: Decode = decodeReply,
    waits = 0,
  ): void {
    let request: Uint8Array;
    try {
      request = this.requestFor(command);
    } catch (error) {
      process.nextTick(done, new ScanFailure(error));
      return;
    }
    const { gate } = this.options;
    gate.enter(() => {
      if (this.stopped) {
        // In a later tick: a queue of stopped entries must not release one another recursively.
        process.nextTick(() => {
          gate.release();
          done(new ScanStopped());
        });
        return;
      }
      // No abort signal per exchange: on SIGINT, stop() ends the exchanges in flight at once and
      // keeps the scan from opening new ones.
      this.prober.start(target.host, target.port, request, (failure, bytes, atDeadline) => {
        if (this.stopped) {
          // Cut short by stop() (or answered as it came): this endpoint was not checked.
          gate.release();
          done(new ScanStopped());
          return;
        }
        const code =
          failure === null ? null : exhaustionCode(failure.cause, target.host, this.options.localFamilies);
        // Lowered before the slot is given back, so that slot does not open another doomed connect.
        if (code !== null) gate.exhausted();
        gate.release();
        if (failure !== null) {
          if (code === null) {
            done({ error: failure });
            return;
          }
          if (waits >= MAX_EXHAUSTION_WAITS) {
            const what = code === 'EMFILE' || code === 'ENFILE' ? 'file descriptors' : 'local ports';
            done(
              new ScanFailure(
                new HashctlError(
                  'io',
                  `out of ${what} (${code}) even at concurrency ${gate.limit}: raise ulimit -n or free some`,
                  { cause: failure.error },
                ),
              ),
            );
            return;
          }
          // Told of Ctrl-C: an interrupted sweep does not wait out the backoff (up to a second).
          const { signal } = this.options;
          this.options.sleep(this.backoff(waits), signal).then(
            () =>
              this.stopped || signal?.aborted === true
                ? done(new ScanStopped())
                : this.attempt(target, command, done, true, decode, waits + 1),
            (sleepError: unknown) => done(new ScanFailure(sleepError)),
          );
          return;
        }
        gate.succeeded();
        let attempt: Attempt;
        try {
          const reply = decode(bytes as Uint8Array, command);
          // Marked as the client marks it (a copy: the decoded reply may be shared by the memo), so
          // that a caller reading on (audit) knows each later read would also run to the deadline.
          attempt = {
            reply: atDeadline ? { ...reply, repairs: [...reply.repairs, REPAIR_UNFINISHED] } : reply,
          };
        } catch (decodeError) {
          if (!(decodeError instanceof MinerError)) {
            done(new ScanFailure(decodeError));
            return;
          }
          decodeError.requestSent = true; // bytes came back: something is listening
          attempt = { error: decodeError };
        }
        done(attempt);
      });
    }, resuming);
  }

  /**
   * Opens no connection from now on, and ends the exchanges in flight: endpoints waiting at the
   * gate, between exhaustion retries or cut short all end as ScanStopped (not checked). For a scan
   * that failed or was interrupted, whose caller has stopped listening.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.prober.stopAll();
  }

  private ask(target: Target, command: string, decode: Decode): Promise<Attempt> {
    return new Promise((resolve, reject) =>
      this.attempt(
        target,
        command,
        (attempt) => (attempt instanceof ScanFailure ? reject(attempt.error) : resolve(attempt)),
        true,
        decode,
      ),
    );
  }

  private backoff(waits: number): number {
    const base = Math.min(MAX_EXHAUSTION_DELAY_MS, 10 * 2 ** Math.min(waits, 10));
    return Math.round(base / 2 + (base / 2) * this.options.random());
  }

  /**
   * The first stage in callback form: connect and send `version`, with the scanner's retries for an
   * endpoint that connected but closed empty, reset or sent garbage.
   */
  private firstStageEach(
    target: Target,
    done: (stage: FirstStage | ScanFailure) => void,
    decode: Decode = decodeReply,
    roundTrips = 0,
  ): void {
    this.attempt(
      target,
      FIRST_STAGE_COMMAND,
      (first) => {
        if (first instanceof ScanFailure) {
          done(first);
          return;
        }
        const trips = roundTrips + 1;
        if ('error' in first) {
          const { error } = first;
          // A reset comes only from a peer that accepted the connection (a refusal is ECONNREFUSED),
          // whether it arrived before our request left or after: the port is open either way, not
          // "none" or "open" by the luck of which event was handled first.
          const reached = error.requestSent || error.kind === 'reset';
          const retry = reached && RETRY_KINDS.has(error.kind);
          if (retry && trips <= this.options.retries && !this.options.signal?.aborted) {
            this.firstStageEach(target, done, decode, trips);
            return;
          }
          done(new NoMinerStage(reached ? 'open' : 'none', trips, error, this.reason(error)));
          return;
        }
        if (!isMinerReply(first.reply)) {
          const reason = notMinerReason(first.reply);
          done({ outcome: 'open', roundTrips: trips, kind: 'protocol', reason, error: null });
          return;
        }
        done({ outcome: 'miner', version: first.reply, roundTrips: trips });
      },
      roundTrips > 0,
      decode,
    );
  }

  /** Connect and send `version` (retried as the scanner retries): alone it decides miner / open / none. */
  firstStage(target: Target, hold?: ReplyHold): Promise<FirstStage> {
    // `hold`: where the `version` reply is charged while the caller keeps it (audit's discovery).
    const decode: Decode =
      hold === undefined ? decodeReply : (bytes, command) => decodeReply(bytes, command, { hold });
    return new Promise((resolve, reject) =>
      this.firstStageEach(
        target,
        (stage) => (stage instanceof ScanFailure ? reject(stage.error) : resolve(stage)),
        decode,
      ),
    );
  }

  /**
   * One endpoint to one result, in callback form (a sweep runs thousands at once: no promise per
   * endpoint unless a follow-up is needed). `done` is called once, never synchronously. The replies
   * the endpoint decodes are charged to its hold until then: a thousand peers answering `version`
   * (and each follow-up) with 250 KB of empty objects decode to gigabytes, kept at once.
   */
  identifyEach(target: Target, reported: (result: ScanResult | ScanFailure) => void): void {
    const started = this.options.now();
    const elapsed = () => this.options.now() - started;
    const hold = new PollHold(this.options.budget);
    const decode: Decode = (bytes, command) => this.memo.decode(bytes, command, hold);
    const done = (result: ScanResult | ScanFailure): void => {
      hold.release();
      reported(result);
    };
    this.firstStageEach(
      target,
      (first) => {
        if (first instanceof ScanFailure) {
          done(first);
          return;
        }
        // This runs in a socket's or a timer's callback: a throw here (a bug in detection, say)
        // must end this endpoint as a failure, not escape as an uncaught exception.
        let result: ScanResult | ScanFailure | null;
        try {
          result = this.afterFirstStage(target, first, elapsed, decode, done);
        } catch (error) {
          result = new ScanFailure(error);
        }
        if (result !== null) done(result);
      },
      decode,
    );
  }

  /** The result the first stage decides, or null when a follow-up will call `done` itself. */
  private afterFirstStage(
    target: Target,
    first: FirstStage,
    elapsed: () => number,
    decode: Decode,
    done: (result: ScanResult | ScanFailure) => void,
  ): ScanResult | null {
    if (first.outcome !== 'miner') {
      const { outcome, roundTrips, kind, reason } = first;
      return makeResult(target, { outcome, round_trips: roundTrips, kind, reason }, elapsed());
    }
    const { version } = first;
    const identity = this.memo.identify(version);
    // A `version` taken whole at the reply deadline (no NUL, no close): each follow-up would wait
    // out the deadline too. The endpoint is a miner, named as far as `version` goes.
    if (version.format === 'bare' || complete(identity) || unfinished(version)) {
      return this.minerResult(target, version, identity, first.roundTrips, elapsed());
    }
    const settle = (make: () => ScanResult | ScanFailure): void => {
      let result: ScanResult | ScanFailure;
      try {
        result = make();
      } catch (error) {
        result = new ScanFailure(error);
      }
      done(result);
    };
    // No prototype: the follow-up's members are merged in under the miner's names (`__proto__`).
    const replies = Object.create(null) as Record<string, DecodedReply | MinerError>;
    replies.version = version;
    this.followUp(target, replies, identity, first.roundTrips, decode).then(
      ({ identity: named, roundTrips }) =>
        settle(() => this.minerResult(target, version, named, roundTrips, elapsed())),
      // Stopped (SIGINT) before a follow-up could connect: the miner was found, as far as known.
      (error: unknown) =>
        settle(() =>
          this.stopped
            ? this.minerResult(target, version, identity, first.roundTrips, elapsed())
            : new ScanFailure(error),
        ),
    );
    return null;
  }

  async identify(target: Target): Promise<ScanResult> {
    return new Promise((resolve, reject) =>
      this.identifyEach(target, (result) =>
        result instanceof ScanFailure ? reject(result.error) : resolve(result),
      ),
    );
  }

  /** When `version` did not name the model (or Whatsminer firmware): the follow-ups of §11. */
  private async followUp(
    target: Target,
    replies: Record<string, DecodedReply | MinerError>,
    identity: Identity,
    roundTrips: number,
    decode: Decode,
  ): Promise<{ identity: Identity; roundTrips: number }> {
    const plan = followUps(identity);
    let joined = false;
    let gaveUp = false;
    if (plan.join !== null && !this.options.signal?.aborted) {
      const more = await this.ask(target, plan.join.join('+'), decode);
      roundTrips++;
      if ('reply' in more) {
        const members = splitMultiReply(more.reply);
        joined = Object.keys(members).length > 0;
        Object.assign(replies, members);
        gaveUp = unfinished(more.reply);
      } else {
        gaveUp = GIVE_UP_KINDS.has(more.error.kind);
      }
      identity = detect(new Replies(replies));
    }
    for (const command of joined || gaveUp ? [] : plan.singles) {
      if (complete(identity) || this.options.signal?.aborted) break;
      const more = await this.ask(target, command, decode);
      roundTrips++;
      replies[command] = 'reply' in more ? more.reply : asMinerError(more.error);
      identity = detect(new Replies(replies));
      if ('error' in more ? GIVE_UP_KINDS.has(more.error.kind) : unfinished(more.reply)) break;
    }
    return { identity, roundTrips };
  }

  private minerResult(
    target: Target,
    version: DecodedReply,
    identity: Identity,
    roundTrips: number,
    elapsedMs: number,
  ): ScanResult {
    const result = makeResult(
      target,
      {
        outcome: 'miner',
        round_trips: roundTrips,
        make: identity.make,
        model: identity.model,
        // A copy: the identity may be the memo's, shared with other endpoints.
        firmware: { ...identity.firmware },
        algorithm: identity.algorithm,
      },
      elapsedMs,
    );
    if (version.format === 'bare')
      result.reason = `the API answers but its miner process is down (${version.status.msg})`;
    return result;
  }

  private reason(error: MinerError | ProbeFailure): string {
    const { connectTimeoutMs, replyTimeoutMs } = this.options;
    switch (error.kind) {
      case 'timeout': {
        if (!error.requestSent) return `no answer to connect within ${connectTimeoutMs}ms`;
        // Bytes came, but not a whole reply: "no reply" would send the user looking for a dead port.
        const received = error instanceof ProbeFailure ? error.received : 0;
        return received > 0
          ? `connected, but the reply was incomplete after ${replyTimeoutMs}ms (${received} bytes)`
          : `connected, but no reply within ${replyTimeoutMs}ms`;
      }
      case 'refused':
        return 'connection refused';
      case 'empty_reply':
        return 'closed without a reply (empty reply: not a miner API, or api-allow excludes this host)';
      case 'reset':
        // Only a peer that accepted can reset (a refusal is ECONNREFUSED), so the reason is the same
        // whether the reset came before our request left or after: one peer, one line.
        return 'connection reset after connect';
      case 'parse':
        return `unparseable reply: ${error.message}`;
      case 'too_large':
        // Past the cap; or cut, or refused once decoded, for the budget of all replies in flight.
        return error instanceof ProbeFailure && error.overCap
          ? `reply larger than the ${this.options.maxBytes}-byte cap`
          : error.message;
      default:
        return error.message;
    }
  }
}

function notMinerReason(reply: DecodedReply): string {
  if (reply.format === 'bare') return `not a CGMiner API reply: '${(reply.status.msg ?? '').slice(0, 40)}'`;
  const keys = Object.keys(reply.body).slice(0, 4).join(', ');
  // A verdict letter with nothing of an envelope beside it (isMinerReply) is said as such.
  if (/^[SIWEF]$/i.test(reply.status.status))
    return `STATUS '${reply.status.status}' without the Code, Msg or When every CGMiner envelope has (keys: ${keys})`;
  // A STATUS that is no CGMiner verdict for `version` (`BYE`, what cgminer says to `quit`) is quoted,
  // not called missing.
  if (reply.status.status !== '')
    return `STATUS '${terminalSafe(clipMessage(reply.status.status), true).slice(0, 40)}' is no CGMiner answer to 'version' (keys: ${keys})`;
  return `JSON without a CGMiner STATUS (keys: ${keys || 'none'})`;
}
