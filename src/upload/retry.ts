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

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const CLOCK = String.raw`(\d{2}):(\d{2}):(\d{2})`;
/** A two-digit year more than 50 years ahead of `now` is of the past century (RFC 9110 §5.6.7). */
function fullYear(twoDigits: number, now: number): number {
  const year = 2000 + twoDigits;
  return year > new Date(now).getUTCFullYear() + 50 ? year - 100 : year;
}

/** The three HTTP-date forms of RFC 9110 §5.6.7: IMF-fixdate, obsolete RFC 850, asctime. */
const HTTP_DATES: {
  pattern: RegExp;
  fields: (m: RegExpExecArray, now: number) => [string, string, string, string];
}[] = [
  {
    pattern: new RegExp(
      String.raw`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (${MONTHS}) (\d{4}) ${CLOCK} GMT$`,
    ),
    fields: (m) => [m[3] ?? '', m[2] ?? '', m[1] ?? '', `${m[4]}:${m[5]}:${m[6]}`],
  },
  {
    pattern: new RegExp(
      String.raw`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-(${MONTHS})-(\d{2}) ${CLOCK} GMT$`,
    ),
    fields: (m, now) => [
      String(fullYear(Number(m[3]), now)),
      m[2] ?? '',
      m[1] ?? '',
      `${m[4]}:${m[5]}:${m[6]}`,
    ],
  },
  {
    pattern: new RegExp(
      String.raw`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTHS}) ( \d|\d{2}) ${CLOCK} (\d{4})$`,
    ),
    fields: (m) => [m[6] ?? '', m[1] ?? '', (m[2] ?? '').trim().padStart(2, '0'), `${m[3]}:${m[4]}:${m[5]}`],
  },
];

/** An HTTP-date as epoch milliseconds, or null: Date.parse alone accepts almost any text. */
function parseHttpDate(text: string, now: number): number | null {
  for (const { pattern, fields } of HTTP_DATES) {
    const match = pattern.exec(text);
    if (!match) continue;
    const [year, month, day, clock] = fields(match, now);
    const at = Date.parse(`${day} ${month} ${year} ${clock} GMT`);
    // Date.parse rolls 31 Feb over into March; a date that does not round-trip is not a date.
    if (!Number.isFinite(at) || new Date(at).getUTCDate() !== Number(day)) return null;
    return at;
  }
  return null;
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * null when absent or unreadable, so the caller falls back to its own backoff.
 *
 * An HTTP date is the collector's clock: it is measured from the answer's own `Date` (`serverDate`)
 * when that is readable, not from this host's clock. A farm host minutes ahead read "retry in 30 s"
 * as a time already past and retried a rate-limiting collector at once; one behind deferred a batch
 * by its own error.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
  serverDate?: string | string[],
): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = parseHttpDate(text, now);
  if (at === null) return null;
  const dateText = (Array.isArray(serverDate) ? serverDate[0] : serverDate)?.trim();
  const reference = (dateText ? parseHttpDate(dateText, now) : null) ?? now;
  return Math.max(0, at - reference);
}
