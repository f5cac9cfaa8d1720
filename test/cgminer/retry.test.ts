// Backoff arithmetic and the retry loop, with the clock and randomness handed in.
import { describe, expect, it } from 'vitest';
import {
  connectionLimitFor,
  defaultConcurrency,
  parseOpenFileLimit,
  readOpenFileLimit,
} from '../../src/cgminer/limits.js';
import { backoffDelay, type RetryPolicy, withRetry } from '../../src/cgminer/retry.js';
import { MinerError } from '../../src/errors.js';

const policy: RetryPolicy = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000, factor: 2 };

describe('backoffDelay', () => {
  it('grows exponentially, capped, with jitter between half and all of the step', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(150);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
    expect(backoffDelay(10, policy, () => 0)).toBe(500);
  });
});

function recorder() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

describe('withRetry', () => {
  it('retries retriable errors of a read and records attempts', async () => {
    const { sleeps, sleep } = recorder();
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        throw new MinerError('timeout', 't', { requestSent: true });
      },
      { policy, sleep, random: () => 0 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect((error as MinerError).attempts).toBe(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('returns the first success', async () => {
    const { sleep } = recorder();
    let calls = 0;
    const value = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 2) throw new MinerError('reset', 'r');
        return 'done';
      },
      { policy, sleep, random: () => 0 },
    );
    expect([value, calls]).toEqual(['done', 2]);
  });

  it('does not retry kinds that are not retriable', async () => {
    const { sleep } = recorder();
    for (const kind of ['api', 'denied', 'protocol', 'too_large', 'unreachable'] as const) {
      let calls = 0;
      await withRetry(
        async () => {
          calls++;
          throw new MinerError(kind, kind);
        },
        { policy, sleep, random: () => 0 },
      ).catch(() => undefined);
      expect(calls).toBe(1);
    }
  });

  it('never re-sends a write once a byte has left, but retries one that never left', async () => {
    const { sleep } = recorder();
    let sent = 0;
    await withRetry(
      async () => {
        sent++;
        throw new MinerError('empty_reply', 'e', { requestSent: true });
      },
      { policy, sleep, random: () => 0, write: true },
    ).catch(() => undefined);
    expect(sent).toBe(1);
    let refused = 0;
    await withRetry(
      async () => {
        refused++;
        throw new MinerError('refused', 'r', { requestSent: false });
      },
      { policy, sleep, random: () => 0, write: true },
    ).catch(() => undefined);
    expect(refused).toBe(4);
  });

  it('stops retrying once aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    await withRetry(
      async () => {
        calls++;
        controller.abort();
        throw new MinerError('timeout', 't');
      },
      { policy, sleep: async () => undefined, random: () => 0, signal: controller.signal },
    ).catch(() => undefined);
    expect(calls).toBe(1);
  });
});

describe('limits', () => {
  const limits = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax open files            ${soft}                 4096                 files     \n`;

  it('reads the soft open-file limit', () => {
    expect(parseOpenFileLimit(limits('1024'))).toBe(1024);
    expect(parseOpenFileLimit(limits('unlimited'))).toBe(Number.POSITIVE_INFINITY);
    expect(parseOpenFileLimit('garbage')).toBeNull();
    expect(readOpenFileLimit(() => limits('256'))).toBe(256);
    expect(
      readOpenFileLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeNull();
  });

  it('keeps a margin and falls back sanely', () => {
    expect(connectionLimitFor(1024)).toBe(720);
    expect(connectionLimitFor(256)).toBe(144);
    expect(connectionLimitFor(20)).toBe(1);
    // A small limit keeps a smaller margin, not a single socket.
    expect(connectionLimitFor(64)).toBe(30);
    expect(connectionLimitFor(128)).toBe(72);
    expect(connectionLimitFor(32)).toBe(6);
    expect(connectionLimitFor(Number.POSITIVE_INFINITY)).toBe(4096);
    expect(connectionLimitFor(null)).toBe(200);
    expect(defaultConcurrency(() => limits('1024'))).toBe(512);
    expect(defaultConcurrency(() => limits('256'))).toBe(144);
  });
});
