// One endpoint → one ScanResult. The TCP stage and the first identification request are one round
// trip: connect, send `{"command":"version"}` at once, read the reply. Only when `version` leaves
// the model (or Whatsminer firmware) unknown does a second request follow (CGMINER-API.md §11).
// Sockets, framing, decoding and detection are the client's own layers (src/cgminer, src/miners).
import { exchange } from '../cgminer/connection.js';
import { decodeReply, splitMultiReply } from '../cgminer/decode.js';
import { buildRequest } from '../cgminer/escape.js';
import type { DecodedReply } from '../cgminer/types.js';
import { HashctlError, MinerError, type MinerErrorKind } from '../errors.js';
import { detect, type Identity } from '../miners/detect.js';
import { Replies } from '../miners/replies.js';
import type { Target } from '../targets/types.js';
import { type AdaptiveGate, exhaustionCode } from './gate.js';
import type { ScanResult } from './types.js';

export interface IdentifyOptions {
  gate: AdaptiveGate;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  maxBytes: number;
  retries: number;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  /** Checked between requests of one endpoint; exchanges in flight are never cut short. */
  signal?: AbortSignal;
  /**
   * Turns a command into request bytes (default: `buildRequest`). A caller with a send policy passes
   * its guard here (the audit: `readOnlyRequest`), so a refused command throws before any byte is sent.
   */
  requestBytes?: (command: string) => Uint8Array;
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
  return CGMINER_STATUS.has(reply.status.status.toUpperCase());
}

type Attempt = { reply: DecodedReply } | { error: MinerError };

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
type ResultFields = Partial<ScanResult> & Pick<ScanResult, 'outcome' | 'round_trips'>;

/** Built field by field so that JSON keys come out in the documented order. */
function makeResult(target: Target, fields: ResultFields, elapsedMs: number): ScanResult {
  const result: ScanResult = {
    target: target.key,
    host: target.host,
    port: target.port,
    outcome: fields.outcome,
    make: fields.make ?? null,
    model: fields.model ?? null,
    firmware: fields.firmware ?? null,
    algorithm: fields.algorithm ?? null,
    round_trips: fields.round_trips,
    elapsed_ms: Math.max(0, Math.round(elapsedMs)),
  };
  if (fields.reason !== undefined) result.reason = fields.reason;
  if (fields.kind !== undefined) result.kind = fields.kind;
  return result;
}

export class Identifier {
  /** Request bytes per command, built once: a sweep sends the same `version` thousands of times. */
  private readonly requests = new Map<string, Uint8Array>();

  constructor(private readonly options: IdentifyOptions) {}

  private requestFor(command: string): Uint8Array {
    let bytes = this.requests.get(command);
    if (bytes === undefined) {
      bytes = (this.options.requestBytes ?? buildRequest)(command);
      this.requests.set(command, bytes);
    }
    return bytes;
  }

  /** Connects, asks, decodes; waits out local exhaustion (EMFILE…) instead of failing the host. */
  private async ask(target: Target, command: string): Promise<Attempt> {
    const { gate, connectTimeoutMs, replyTimeoutMs, maxBytes } = this.options;
    const request = this.requestFor(command);
    for (let waits = 0; ; waits++) {
      let bytes: Uint8Array;
      try {
        const result = await gate.run(() =>
          exchange({
            host: target.host,
            port: target.port,
            request,
            connectTimeoutMs,
            timeoutMs: connectTimeoutMs + replyTimeoutMs,
            maxBytes,
            // No abort signal: on SIGINT the exchanges in flight finish (each is bounded by its
            // deadlines) and the pool starts no new ones.
          }),
        );
        bytes = result.bytes;
      } catch (error) {
        const code = exhaustionCode(error);
        if (code !== null) {
          gate.exhausted();
          if (waits >= MAX_EXHAUSTION_WAITS) {
            throw new HashctlError(
              'io',
              `out of ${code === 'EMFILE' || code === 'ENFILE' ? 'file descriptors' : 'local ports'} (${code}) even at concurrency ${gate.limit}: raise ulimit -n or free some`,
              {
                cause: error,
              },
            );
          }
          await this.options.sleep(this.backoff(waits));
          continue;
        }
        if (error instanceof MinerError) return { error };
        throw error;
      }
      gate.succeeded();
      try {
        return { reply: decodeReply(bytes, command) };
      } catch (error) {
        if (!(error instanceof MinerError)) throw error;
        error.requestSent = true; // bytes came back: something is listening
        return { error };
      }
    }
  }

  private backoff(waits: number): number {
    const base = Math.min(MAX_EXHAUSTION_DELAY_MS, 10 * 2 ** Math.min(waits, 10));
    return Math.round(base / 2 + (base / 2) * this.options.random());
  }

  /** Connect and send `version` (retried as the scanner retries): alone it decides miner / open / none. */
  async firstStage(target: Target): Promise<FirstStage> {
    let roundTrips = 0;
    let first: Attempt;
    for (let attempt = 0; ; attempt++) {
      first = await this.ask(target, FIRST_STAGE_COMMAND);
      roundTrips++;
      const retry = 'error' in first && first.error.requestSent && RETRY_KINDS.has(first.error.kind);
      if (!retry || attempt >= this.options.retries || this.options.signal?.aborted) break;
    }

    if ('error' in first) {
      const { error } = first;
      const outcome = error.requestSent ? 'open' : 'none';
      return { outcome, roundTrips, kind: error.kind, reason: this.reason(error), error };
    }
    if (!isMinerReply(first.reply)) {
      const reason = notMinerReason(first.reply);
      return { outcome: 'open', roundTrips, kind: 'protocol', reason, error: null };
    }
    return { outcome: 'miner', version: first.reply, roundTrips };
  }

  async identify(target: Target): Promise<ScanResult> {
    const started = this.options.now();
    const finish = (fields: ResultFields): ScanResult =>
      makeResult(target, fields, this.options.now() - started);

    const first = await this.firstStage(target);
    let roundTrips = first.roundTrips;
    if (first.outcome !== 'miner') {
      const { outcome, kind, reason } = first;
      return finish({ outcome, round_trips: roundTrips, kind, reason });
    }
    const { version } = first;

    const replies: Record<string, DecodedReply | MinerError> = { version };
    let identity = detect(new Replies(replies));
    if (version.format !== 'bare' && !complete(identity)) {
      const plan = followUps(identity);
      let joined = false;
      let gaveUp = false;
      if (plan.join !== null && !this.options.signal?.aborted) {
        const more = await this.ask(target, plan.join.join('+'));
        roundTrips++;
        if ('reply' in more) {
          const members = splitMultiReply(more.reply);
          joined = Object.keys(members).length > 0;
          Object.assign(replies, members);
        } else {
          gaveUp = GIVE_UP_KINDS.has(more.error.kind);
        }
        identity = detect(new Replies(replies));
      }
      for (const command of joined || gaveUp ? [] : plan.singles) {
        if (complete(identity) || this.options.signal?.aborted) break;
        const more = await this.ask(target, command);
        roundTrips++;
        replies[command] = 'reply' in more ? more.reply : more.error;
        identity = detect(new Replies(replies));
        if ('error' in more && GIVE_UP_KINDS.has(more.error.kind)) break;
      }
    }
    const result = finish({
      outcome: 'miner',
      round_trips: roundTrips,
      make: identity.make,
      model: identity.model,
      firmware: identity.firmware,
      algorithm: identity.algorithm,
    });
    if (version.format === 'bare')
      result.reason = `the API answers but its miner process is down (${version.status.msg})`;
    return result;
  }

  private reason(error: MinerError): string {
    const { connectTimeoutMs, replyTimeoutMs } = this.options;
    switch (error.kind) {
      case 'timeout':
        return error.requestSent
          ? `connected, but no reply within ${replyTimeoutMs}ms`
          : `no answer to connect within ${connectTimeoutMs}ms`;
      case 'refused':
        return 'connection refused';
      case 'empty_reply':
        return 'closed without a reply (empty reply: not a miner API, or api-allow excludes this host)';
      case 'reset':
        return error.requestSent ? 'connection reset after connect' : error.message;
      case 'parse':
        return `unparseable reply: ${error.message}`;
      case 'too_large':
        return `reply larger than the ${this.options.maxBytes}-byte cap`;
      default:
        return error.message;
    }
  }
}

function notMinerReason(reply: DecodedReply): string {
  if (reply.format === 'bare') return `not a CGMiner API reply: '${(reply.status.msg ?? '').slice(0, 40)}'`;
  const keys = Object.keys(reply.body).slice(0, 4).join(', ');
  return `JSON without a CGMiner STATUS (keys: ${keys || 'none'})`;
}
