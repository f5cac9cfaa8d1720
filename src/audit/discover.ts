// Which targets are miners, decided the way `hashctl scan` decides it: the scanner's first stage
// (connect and send `version` in one go, then `isMinerReply`, with its retry rule and reasons),
// behind the scanner's AdaptiveGate so a big range backs off at the open-file limit (EMFILE) instead
// of calling live hosts absent. Only that first stage is taken: it alone decides miner / open / none.
// The scanner's follow-ups only name the model, which the audit's own reads do anyway, and some of
// them are joins (`devdetails+summary`, `devdetails+stats`) that the read-only guard refuses. The
// request bytes come from `readOnlyRequest`, so nothing off the read list can be sent from here.
import type { LookupFunction } from 'node:net';
import { PollHold, type ReplyBudget } from '../cgminer/budget.js';
import { failureMessages } from '../cgminer/connection.js';
import { REPAIR_UNFINISHED } from '../cgminer/decode.js';
import { sleep as defaultSleep } from '../context.js';
import { HashctlError, MinerError } from '../errors.js';
import { AdaptiveGate } from '../scan/gate.js';
import { FIRST_STAGE_COMMAND, Identifier } from '../scan/identify.js';
import type { Target } from '../targets/types.js';
import { runPool } from '../util/pool.js';
import { outcomeFromReply, readOnlyRequest } from './readonly.js';
import type { ReadFailure, ReadOutcome } from './types.js';

/** The one command discovery sends. */
export const DISCOVERY_COMMAND = FIRST_STAGE_COMMAND;

export interface DiscoveredMiner {
  target: Target;
  /** The `version` reply (Whatsminer's E/14 included), or the zero-byte close of a named miner's api-allow. */
  version: ReadOutcome;
  /**
   * Where the decoded `version` is charged (../cgminer/budget.ts) until the miner's audit ends: the
   * audit charges its own reads there too and releases it.
   */
  hold?: PollHold;
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
  /** What the decoded replies kept may weigh together (the process's by default). */
  budget?: ReplyBudget;
  /** Name resolution (the system's by default). */
  lookup?: LookupFunction;
}

/** Probes every target once (plus retries) and yields each as it settles, in completion order. */
export async function* discover(
  targets: Iterable<Target> | AsyncIterable<Target>,
  options: DiscoverOptions,
): AsyncGenerator<Discovered> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const identifier = new Identifier({
    gate: new AdaptiveGate(concurrency),
    connectTimeoutMs: options.connectTimeoutMs,
    replyTimeoutMs: options.replyTimeoutMs,
    maxBytes: options.maxBytes,
    retries: options.retries,
    // Only the endpoints' elapsed_ms: a clock that a step of the wall clock cannot turn back.
    now: () => Math.floor(performance.now()),
    sleep: options.sleep ?? defaultSleep,
    random: options.random ?? Math.random,
    signal: options.signal,
    // The read-only guard builds every request: a command off the list throws before it is sent.
    requestBytes: (command) => readOnlyRequest(command),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });

  // Ctrl-C: the exchanges in flight end at once and no new one opens (as in scan).
  const stop = (): void => identifier.stop();
  options.signal?.addEventListener('abort', stop, { once: true });

  const probe = async (target: Target): Promise<Discovered | null> => {
    let first: Awaited<ReturnType<Identifier['firstStage']>>;
    const hold = new PollHold(options.budget);
    try {
      first = await identifier.firstStage(target, hold);
    } catch (error) {
      hold.release();
      if (error instanceof HashctlError && error.kind === 'interrupted') return null; // not checked
      throw error;
    }
    if (first.outcome === 'miner') {
      // A `version` taken whole at the deadline (no NUL, the socket left open): every audit read
      // after it would cost a deadline too, so the miner's poll starts stalled (PollState).
      if (first.version.repairs.includes(REPAIR_UNFINISHED))
        hold.stalled = new MinerError(
          'timeout',
          `${failureMessages.where(target.host, target.port)} sent no end of reply within ${options.replyTimeoutMs}ms`,
          { requestSent: true },
        );
      return { outcome: 'miner', target, version: outcomeFromReply(first.version), hold };
    }
    hold.release();
    const { outcome, kind, reason, error } = first;
    return {
      outcome,
      target,
      error: { kind, message: reason, code: error?.code ?? null, msg: error?.apiMessage ?? null },
    };
  };

  try {
    for await (const result of runPool(targets, concurrency, probe, { signal: options.signal }))
      if (result !== null) yield result;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}
