// Durations on the command line: zero where it would make the command useless, and values past what
// a timer can hold, are exit 2 in the user's own words, before any traffic or file.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { UsageError } from '../../src/errors.js';
import { parseSince } from '../../src/util/duration.js';

async function usage(args: string[]): Promise<{ code: number; err: string }> {
  const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: 'k' } });
  const code = await runCli(args, ctx);
  return { code, err: ctx.err() };
}

describe('durations', () => {
  it('refuses a capital M, a month to many, rather than reading it as a minute', async () => {
    const { parseDuration } = await import('../../src/util/duration.js');
    expect(() => parseDuration('6M', '--retain')).toThrow(
      "invalid --retain '6M': 'M' is ambiguous: write 6m for minutes, or days (6M as 180d)",
    );
    expect(parseDuration('6m', '--retain')).toBe(360_000);
    expect(parseDuration('2H', '--since')).toBe(7_200_000);
    expect(parseDuration('1MS', '--timeout')).toBe(1);
    const { code, err } = await usage([
      'history',
      '127.0.0.1:4028',
      '--db',
      '/nonexistent/h.db',
      '--since',
      '1M',
    ]);
    expect(code).toBe(2);
    expect(err).toMatch(/invalid --since '1M': 'M' is ambiguous/);
  });

  it('refuses zero where it makes the command useless', async () => {
    const db = '/nonexistent/hashctl.db';
    for (const [args, flag] of [
      [['live', '--db', db, '--stale-after', '0s'], '--stale-after'],
      [['history', '127.0.0.1:4028', '--db', db, '--since', '0'], '--since'],
      [['export', '--db', db, '--since', '0s'], '--since'],
      [['upload', '--db', db, '--endpoint', 'https://127.0.0.1:1', '--deadline', '0s'], '--deadline'],
      [
        ['upload', '--db', db, '--endpoint', 'https://127.0.0.1:1', '--connect-timeout', '0ms'],
        '--connect-timeout',
      ],
      [['thermal', 'check', '--from-db', '--db', db, '--stale-after', '0m'], '--stale-after'],
    ] as const) {
      const { code, err } = await usage([...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(new RegExp(`invalid ${flag} '[^']+': must be more than 0`));
    }
  });

  it('refuses what no timer can wait, with the limit in days, not a raw number of milliseconds', async () => {
    for (const args of [
      ['probe', '127.0.0.1:1', '--timeout', '99999d'],
      ['scan', '127.0.0.1:1', '--timeout', '25d'],
    ]) {
      const { code, err } = await usage(args);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(/invalid --timeout '\d+d': at most 24d/);
      expect(err).not.toMatch(/\d{9,}/);
    }
    const bytes = await usage(['probe', '127.0.0.1:1', '--max-bytes', '1GiB']);
    expect(bytes.code).toBe(2);
    expect(bytes.err).toMatch(/invalid --max-bytes '1GiB': at most 256MiB/);
    const reply = await usage(['scan', '127.0.0.1:1', '--reply-timeout', '30d']);
    expect(reply.code).toBe(2);
    expect(reply.err).toMatch(/invalid --reply-timeout '30d': at most 24d/);
  });

  it('refuses a zero --timeout by its flag and its text, in every command that talks to miners', async () => {
    for (const args of [
      ['probe', '127.0.0.1:1', '--timeout', '0'],
      ['audit', '127.0.0.1:1', '--timeout', '0.4ms'],
      ['thermal', 'check', '127.0.0.1:1', '--timeout', '0s'],
      ['scan', '127.0.0.1:1', '--timeout', '0ms'],
    ]) {
      const { code, err } = await usage(args);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(/^hashctl: invalid --timeout '[^']+': must be more than 0\n$/);
    }
  });

  it('refuses a duration too long for any date with its limit, quoting only the start of it', async () => {
    const digits = '9'.repeat(400);
    for (const [args, limit] of [
      [['live', '--db', '/nonexistent/hashctl.db', '--stale-after', digits], '36500d'],
      [['history', '127.0.0.1:4028', '--db', '/nonexistent/hashctl.db', '--since', '36501d'], '36500d'],
      [['probe', '127.0.0.1:1', '--timeout', digits], '24d'],
    ] as const) {
      const { code, err } = await usage([...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(
        new RegExp(`^hashctl: invalid --[a-z-]+ '[^']+': at most ${limit}\\n$`),
      );
      expect(err.length, args.join(' ')).toBeLessThan(120);
    }
  });
});

describe('parseSince (--since of live readers)', () => {
  const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
  it('takes a duration back from now, or an ISO date or date and time, UTC unless it says', () => {
    expect(parseSince('24h', '--since', NOW)).toEqual({ ms: 86_400_000, at: null });
    expect(parseSince('2026-11-28', '--since', NOW)).toEqual({
      ms: 36 * 3_600_000,
      at: Date.UTC(2026, 10, 28),
    });
    expect(parseSince('2026-11-29T06:30Z', '--since', NOW).at).toBe(Date.UTC(2026, 10, 29, 6, 30));
    expect(parseSince('2026-11-29T06:30', '--since', NOW).at).toBe(Date.UTC(2026, 10, 29, 6, 30));
    expect(parseSince('2026-11-29 08:30:15.5+02:00', '--since', NOW).at).toBe(
      Date.UTC(2026, 10, 29, 6, 30, 15, 500),
    );
  });

  it('refuses a date that does not exist, one not before now, and words that are neither', () => {
    expect(() => parseSince('2026-02-30', '--since', NOW)).toThrow(/no such date/);
    expect(() => parseSince('2026-11-29T24:00Z', '--since', NOW)).toThrow(/no such date/);
    expect(() => parseSince('2026-11-30', '--since', NOW)).toThrow(/is not before now/);
    expect(() => parseSince('1969-12-31', '--since', NOW)).toThrow(/before 1970/);
    expect(() => parseSince('yesterday', '--since', NOW)).toThrow(UsageError);
    expect(() => parseSince('yesterday', '--since', NOW)).toThrow(/or an ISO date/);
    expect(() => parseSince('0', '--since', NOW)).toThrow(/more than 0/);
  });
});
