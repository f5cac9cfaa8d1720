// Retry with exponential backoff and jitter. Pure arithmetic plus one small loop; the clock and
// randomness come in from the caller so tests need no fake timers.
import { HashctlError, MinerError } from '../errors.js';

export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 2,
  baseDelayMs: 100,
  maxDelayMs: 2000,
  factor: 2,
};

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential, capped, with "equal
 * jitter" (half fixed, half random) so that many miners failing together do not retry in step.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exponential = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * policy.factor ** Math.max(0, attempt - 1),
  );
  const jitter = Math.min(1, Math.max(0, random()));
  return Math.round(exponential / 2 + (exponential / 2) * jitter);
}

export interface RetryOptions {
  policy: RetryPolicy;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  signal?: AbortSignal;
  /**
   * A write is retried only while none of its bytes has left (connect refused or timed out);
   * once any byte was written it is never sent again.
   */
  write?: boolean;
}

/** True when another attempt is allowed after `error`. */
export function shouldRetry(error: unknown, write: boolean): boolean {
  if (!(error instanceof MinerError) || !error.retriable) return false;
  return !write || !error.requestSent;
}

/** Runs `fn(attempt)` until it succeeds or retrying is not allowed; sets `attempts` on the MinerError. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, sleep, random, signal, write = false } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (error instanceof MinerError) error.attempts = attempt;
      if (attempt > policy.retries || signal?.aborted || !shouldRetry(error, write)) throw error;
      await sleep(backoffDelay(attempt, policy, random), signal);
      if (signal?.aborted) throw error;
    }
  }
}

/** What a write stopped by Ctrl-C before any of it left throws (HashctlError kind `interrupted`). */
export function notSentInterrupted(): HashctlError {
  return new HashctlError('interrupted', 'interrupted before the request was sent: nothing sent');
}

/** A backoff that ends in notSentInterrupted() when `cancel` fires: the next attempt is never sent. */
export function cancellableSleep(
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  cancel: AbortSignal,
): (ms: number, signal?: AbortSignal) => Promise<void> {
  return async (ms, signal) => {
    await sleep(ms, signal ?? cancel);
    if (cancel.aborted) throw notSentInterrupted();
  };
}
