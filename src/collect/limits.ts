// How many miners collect talks to at once: 1000 by default, never more than the client's
// connection limit, which comes from the open-file limit (each connection is a descriptor).
import { connectionLimit } from '../cgminer/limits.js';

export const DEFAULT_COLLECT_CONCURRENCY = 1000;

export interface ConcurrencyChoice {
  concurrency: number;
  /** Set when the request was lowered to fit the open-file limit. */
  cappedFrom: number | null;
}

export function chooseConcurrency(
  requested: number | null,
  limit: number = connectionLimit(),
): ConcurrencyChoice {
  const wanted = requested ?? DEFAULT_COLLECT_CONCURRENCY;
  const concurrency = Math.max(1, Math.min(wanted, limit));
  return { concurrency, cappedFrom: concurrency < wanted && requested !== null ? wanted : null };
}
