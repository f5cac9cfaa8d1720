import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A hundred years: longer than any retention, window or wait a farm means. */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

/** The user's text in a message: whole when short, else its start (400 digits need not come back). */
function quoted(text: string): string {
  return text.length > 32 ? `'${text.slice(0, 32)}…'` : `'${text}'`;
}

/**
 * `500ms`, `2s`, `1.5m`, `1h`, `30d`; a bare number means seconds (hashctl.md §3).
 * Hand-written because `ms` reads a bare number as milliseconds, which the contract forbids.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  return atMost(text, flag, MAX_DURATION_MS, '36500d');
}

/** The text in milliseconds (Infinity for 400 digits), refused past `max` in the user's units. */
function atMost(text: string, flag: string, max: number, maxText: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match)
    throw new UsageError(
      `invalid ${flag} ${quoted(text)}: use a number with ms, s, m, h or d (a bare number is seconds)`,
    );
  // `M` is a month to many (`--since 1M`, `--retain 6M`): read as a minute, it kept six minutes of
  // history where half a year was meant. Only the lower-case `m` is a minute.
  if (match[2] === 'M')
    throw new UsageError(
      `invalid ${flag} ${quoted(text)}: 'M' is ambiguous: write ${match[1]}m for minutes, or days (${match[1]}M as ${Math.round(Number(match[1]) * 30)}d)`,
    );
  const value = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const ms = Math.round(value * (UNIT_MS[unit] ?? 1000));
  if (!(ms <= max)) throw new UsageError(`invalid ${flag} ${quoted(text)}: at most ${maxText}`);
  return ms;
}

/** The longest delay a Node timer can hold (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** parseDuration for a delay a timer will wait: at most MAX_TIMER_MS (a longer one would fire at once). */
export function parseTimerDuration(text: string, flag: string): number {
  return atMost(text, flag, MAX_TIMER_MS, '24d');
}

/**
 * A duration where zero makes the command useless (`--stale-after 0s` calls everything stale,
 * `--since 0` shows nothing, `--deadline 0s` sends nothing): refused, in the user's own words.
 */
export function parsePositiveDuration(text: string, flag: string, timer = false): number {
  const ms = timer ? parseTimerDuration(text, flag) : parseDuration(text, flag);
  if (ms <= 0) throw new UsageError(`invalid ${flag} ${quoted(text)}: must be more than 0`);
  return ms;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mib: 1 << 20,
  g: 1 << 30,
  gb: 1 << 30,
  gib: 1 << 30,
};

/** `8388608`, `512k`, `8MiB`, `1g`: binary multiples, at most `max`. */
export function parseBytes(text: string, flag = 'size', max = Number.MAX_SAFE_INTEGER): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const multiplier = match ? BYTE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || multiplier === undefined)
    throw new UsageError(`invalid ${flag} ${quoted(text)}: use bytes or a k/MiB/GiB suffix`);
  const bytes = Math.floor(Number(match[1]) * multiplier);
  if (bytes < 1) throw new UsageError(`invalid ${flag} ${quoted(text)}: must be at least 1 byte`);
  if (bytes > max) throw new UsageError(`invalid ${flag} ${quoted(text)}: at most ${formatBytes(max)}`);
  return bytes;
}

/** 268435456 → `256MiB`, 1536 → `1.5KiB`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size) return `${Math.round((bytes / size) * 10) / 10}${unit}`;
  }
  return `${bytes} bytes`;
}

export function parseIntFlag(text: string, flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(text))
    throw new UsageError(`invalid ${flag} ${quoted(text)}: expected a whole number`);
  const value = Number(text);
  if (value < min || value > max)
    throw new UsageError(`invalid ${flag} ${quoted(text)}: expected ${min} to ${max}`);
  return value;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

const SINCE_DATE =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/i;

/**
 * `--since` of the readers: a duration back from now (`24h`, `30d`), or a moment — an ISO 8601
 * date or date and time (`2026-11-01`, `2026-11-01T06:00`, `…T06:00+02:00`), UTC unless it names
 * its offset, as every time hashctl prints is. A moment is refused when it does not exist (Feb 30)
 * or is ahead of `now` (nothing was collected after now). `at` is the moment, null for a duration.
 */
export function parseSince(text: string, flag: string, now: number): { ms: number; at: number | null } {
  const date = SINCE_DATE.exec(text);
  if (!date) {
    if (/^\s*\d{4}-/.test(text))
      throw new UsageError(
        `invalid ${flag} ${quoted(text)}: use a duration (24h, 30d) or an ISO date (2026-11-01, 2026-11-01T06:00Z)`,
      );
    try {
      return { ms: parsePositiveDuration(text, flag), at: null };
    } catch (error) {
      if (error instanceof UsageError && /use a number/.test(error.message))
        throw new UsageError(
          `invalid ${flag} ${quoted(text)}: use a duration (a number with ms, s, m, h or d; a bare number is seconds) or an ISO date (2026-11-01, 2026-11-01T06:00Z)`,
        );
      throw error;
    }
  }
  const part = (i: number) => (date[i] === undefined ? 0 : Number(date[i]));
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map(part) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = date[7] === undefined ? 0 : Number(date[7].padEnd(3, '0'));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(local);
  if (year < 1970) throw new UsageError(`invalid ${flag} ${quoted(text)}: before 1970`);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  )
    throw new UsageError(`invalid ${flag} ${quoted(text)}: no such date and time`);
  const zone = date[8];
  let offsetMs = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59)
      throw new UsageError(`invalid ${flag} ${quoted(text)}: no such UTC offset`);
    offsetMs = (digits[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  const at = local - offsetMs;
  if (at >= now)
    throw new UsageError(
      `invalid ${flag} ${quoted(text)}: ${new Date(at).toISOString()} is not before now (${new Date(now).toISOString()})`,
    );
  return { ms: now - at, at };
}

/** `--since` as history and export take it (default 24h): the window, and its start when a date was given. */
export function sinceFlag(value: unknown, now: number): { sinceMs: number; sinceAt: number | null } {
  const { ms, at } = parseSince(String(value ?? '24h'), '--since', now);
  return { sinceMs: ms, sinceAt: at };
}
