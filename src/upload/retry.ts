// Backoff arithmetic for the sender, pure so it can be tested without clocks (STYLE.md habit 5).

export interface BackoffPolicy {
  /** Delay before the second attempt. */
  initialMs: number;
  multiplier: number;
  /** ±fraction of the delay drawn at random, so many farms do not retry in lockstep. */
  jitter: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, multiplier: 2, jitter: 0.2, maxMs: 30_000 };

/** Delay after failed attempt number `attempt` (1-based); `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const base = policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1);
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.round(Math.min(policy.maxMs, Math.max(0, base + spread)));
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * null when absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse accepts many shapes; an HTTP date always names a weekday or month in letters.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return null;
  return Math.max(0, at - now);
}
