// Which targets are miners, decided the way `hashctl scan` decides it: the scanner's TCP +
// identification stage (connect and send `version` in one go, then `isMinerReply`), behind the
// scanner's AdaptiveGate so a big range backs off at the open-file limit (EMFILE) instead of calling
// live hosts absent. Only that first stage is taken: it alone decides miner / open / none. The
// scanner's follow-ups only name the model, which the audit's own reads do anyway, and some of them
// are joins (`devdetails+summary`, `devdetails+stats`) that the read-only guard refuses. The request
// bytes come from `readOnlyRequest`, so nothing off the read list can be sent from here.
// The scanner's Identifier has no hook for a guard; mirrored here: its retry rule, its exhaustion
// wait and its reasons (test/audit/discover.test.ts checks that both commands agree).
import { exchange } from '../cgminer/connection.js';
import { decodeReply } from '../cgminer/decode.js';
import type { DecodedReply } from '../cgminer/types.js';
import { sleep as defaultSleep } from '../context.js';
import { HashctlError, MinerError, type MinerErrorKind } from '../errors.js';
import { AdaptiveGate, exhaustionCode } from '../scan/gate.js';
import { isMinerReply } from '../scan/identify.js';
import type { Target } from '../targets/types.js';
import { runPool } from '../util/pool.js';
import { outcomeFromReply, readOnlyRequest } from './readonly.js';
import type { ReadFailure, ReadOutcome } from './types.js';

/** The one command discovery sends. */
export const DISCOVERY_COMMAND = 'version';

export interface DiscoveredMiner {
  target: Target;
  /** The `version` reply (Whatsminer's E/14 included), or the zero-byte close of a named miner's api-allow. */
  version: ReadOutcome;
}

/**
 * One endpoint, with the scanner's outcome. `open`: it accepted the connection but did not answer as
 * a CGMiner API (HTTP, garbage, an empty close, silence after connect…); `none`: refused or silent.
 * `error.message` is the reason in the scanner's words.
 */
export type Discovered =
  | ({ outcome: 'miner' } & DiscoveredMiner)
  | { outcome: 'open' | 'none'; target: Target; error: ReadFailure };

export interface DiscoverOptions {
  /** How long an address may stay silent before it is `none`. */
  connectTimeoutMs: number;
  /** After connecting, how long the `version` reply may take before the endpoint is `open`. */
  replyTimeoutMs: number;
  maxBytes: number;
  /** More connections for an endpoint that closed empty, reset or sent garbage (scan's --retries). */
  retries: number;
  /** Endpoints in flight at once; lowered on its own at the open-file limit. */
  concurrency: number;
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Failures after connecting that a second connection may cure (as the scanner). */
const RETRY_KINDS: ReadonlySet<MinerErrorKind> = new Set(['empty_reply', 'reset', 'parse']);
/** Backing off on local exhaustion this many times for one endpoint means the machine cannot go on. */
const MAX_EXHAUSTION_WAITS = 200;
const MAX_EXHAUSTION_DELAY_MS = 1000;

type Attempt = { reply: DecodedReply } | { error: MinerError };

function notMinerReason(reply: DecodedReply): string {
  if (reply.format === 'bare') return `not a CGMiner API reply: '${(reply.status.msg ?? '').slice(0, 40)}'`;
  const keys = Object.keys(reply.body).slice(0, 4).join(', ');
  return `JSON without a CGMiner STATUS (keys: ${keys || 'none'})`;
}

function failureReason(error: MinerError, options: DiscoverOptions): string {
  switch (error.kind) {
    case 'timeout':
      return error.requestSent
        ? `connected, but no reply within ${options.replyTimeoutMs}ms`
        : `no answer to connect within ${options.connectTimeoutMs}ms`;
    case 'refused':
      return 'connection refused';
    case 'empty_reply':
      return 'closed without a reply (empty reply: not a miner API, or api-allow excludes this host)';
    case 'reset':
      return error.requestSent ? 'connection reset after connect' : error.message;
    case 'parse':
      return `unparseable reply: ${error.message}`;
    case 'too_large':
      return `reply larger than the ${options.maxBytes}-byte cap`;
    default:
      return error.message;
  }
}

function failure(error: MinerError, options: DiscoverOptions): ReadFailure {
  return {
    kind: error.kind,
    message: failureReason(error, options),
    code: error.code,
    msg: error.apiMessage,
  };
}

/** Probes every target once (plus retries) and yields each as it settles, in completion order. */
export async function* discover(
  targets: Iterable<Target> | AsyncIterable<Target>,
  options: DiscoverOptions,
): AsyncGenerator<Discovered> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const gate = new AdaptiveGate(concurrency);
  const request = readOnlyRequest(DISCOVERY_COMMAND);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  /** One connection; waits out local exhaustion (EMFILE…) instead of failing the host. */
  const ask = async (target: Target): Promise<Attempt> => {
    for (let waits = 0; ; waits++) {
      let bytes: Uint8Array;
      try {
        const result = await gate.run(() =>
          exchange({
            host: target.host,
            port: target.port,
            request,
            connectTimeoutMs: options.connectTimeoutMs,
            timeoutMs: options.connectTimeoutMs + options.replyTimeoutMs,
            maxBytes: options.maxBytes,
            // No abort signal: exchanges in flight finish (each is bounded); the pool starts no more.
          }),
        );
        bytes = result.bytes;
      } catch (error) {
        const code = exhaustionCode(error);
        if (code === null) {
          if (error instanceof MinerError) return { error };
          throw error;
        }
        gate.exhausted();
        if (waits >= MAX_EXHAUSTION_WAITS) {
          throw new HashctlError(
            'io',
            `out of ${code === 'EMFILE' || code === 'ENFILE' ? 'file descriptors' : 'local ports'} (${code}) even at concurrency ${gate.limit}: raise ulimit -n or free some`,
            { cause: error },
          );
        }
        const base = Math.min(MAX_EXHAUSTION_DELAY_MS, 10 * 2 ** Math.min(waits, 10));
        await sleep(Math.round(base / 2 + (base / 2) * random()));
        continue;
      }
      gate.succeeded();
      try {
        return { reply: decodeReply(bytes, DISCOVERY_COMMAND) };
      } catch (error) {
        if (!(error instanceof MinerError)) throw error;
        error.requestSent = true; // bytes came back: something is listening
        return { error };
      }
    }
  };

  const probe = async (target: Target): Promise<Discovered> => {
    let attempt = await ask(target);
    for (let retry = 0; retry < options.retries && !options.signal?.aborted; retry++) {
      if (!('error' in attempt) || !attempt.error.requestSent || !RETRY_KINDS.has(attempt.error.kind)) break;
      attempt = await ask(target);
    }
    if ('error' in attempt) {
      const outcome = attempt.error.requestSent ? 'open' : 'none';
      return { outcome, target, error: failure(attempt.error, options) };
    }
    if (!isMinerReply(attempt.reply)) {
      const message = notMinerReason(attempt.reply);
      return { outcome: 'open', target, error: { kind: 'protocol', message, code: null, msg: null } };
    }
    return { outcome: 'miner', target, version: outcomeFromReply(attempt.reply) };
  };

  yield* runPool(targets, concurrency, probe, { signal: options.signal });
}
