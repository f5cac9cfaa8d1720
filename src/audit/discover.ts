// Which targets have a miner API on them. For now every expanded target gets one `version` request
// with a short timeout; this is the one place to switch to the `scan` module once it exists.
import type { Target } from '../targets/types.js';
import { runPool } from '../util/pool.js';
import type { AuditReader } from './readonly.js';
import type { ReadFailure, ReadOutcome } from './types.js';

export interface DiscoveredMiner {
  target: Target;
  /** The `version` reply (or the failure that still proves an API is there, e.g. api-allow's empty close). */
  version: ReadOutcome;
}

export interface SilentTarget {
  target: Target;
  error: ReadFailure;
}

export interface DiscoverOptions {
  /** A reader built on a client with a short timeout and no retries. */
  reader: AuditReader;
  concurrency: number;
  signal?: AbortSignal;
}

/**
 * Failures that still mean "a CGMiner API is listening": it closed on us with zero bytes (api-allow),
 * reset the connection (upstream's rejection as seen by some clients, §15), or answered something.
 */
const ANSWERED_KINDS = new Set(['empty_reply', 'reset', 'api', 'denied', 'parse', 'too_large']);

export function answered(outcome: ReadOutcome): boolean {
  return outcome.ok || ANSWERED_KINDS.has(outcome.error.kind);
}

export type Discovered = { miner: DiscoveredMiner } | { silent: SilentTarget };

/** Sends `version` to every target; yields each one as it settles, as a miner or as silent. */
export async function* discover(
  targets: Iterable<Target> | AsyncIterable<Target>,
  options: DiscoverOptions,
): AsyncGenerator<Discovered> {
  const probe = async (target: Target) => ({ target, version: await options.reader.read(target, 'version') });
  for await (const { target, version } of runPool(targets, options.concurrency, probe, {
    signal: options.signal,
  })) {
    if (version.ok || answered(version)) yield { miner: { target, version } };
    else yield { silent: { target, error: version.error } };
  }
}
