// Ctrl-C while an endpoint waits out a backoff on local exhaustion (EMFILE): the wait was not told
// of the interrupt, so the sweep's end waited for it (up to a second per wait, and with an injected
// sleep that ends only on its signal, for ever). The EMFILE comes from the injected lookup, so no
// descriptor is really exhausted and no name reaches the system resolver.
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildScanTargets, scan } from '../../src/scan/index.js';

describe('scan interrupted during an exhaustion backoff', () => {
  it('stops at once: nothing checked, interrupted', async () => {
    const controller = new AbortController();
    const lookup = ((_host: string, _options: unknown, callback: (...args: unknown[]) => void) =>
      callback(
        Object.assign(new Error('getaddrinfo EMFILE'), { code: 'EMFILE' }),
      )) as unknown as LookupFunction;
    let waits = 0;
    // A backoff that ends only when its signal says so; Ctrl-C comes during the first one.
    const sleep = (_ms: number, signal?: AbortSignal): Promise<void> =>
      new Promise((resolve) => {
        waits++;
        signal?.addEventListener('abort', () => resolve(), { once: true });
        setImmediate(() => controller.abort(new Error('SIGINT')));
      });
    const targets = await buildScanTargets(['rig-emfile.lan'], [4028]);
    const { summary } = await scan(targets, {
      ports: [4028],
      connectTimeoutMs: 1000,
      replyTimeoutMs: 1000,
      maxBytes: 1 << 20,
      concurrency: 1,
      retries: 0,
      keepNone: true,
      lookup,
      sleep,
      signal: controller.signal,
    });
    expect(waits).toBe(1);
    expect(summary).toMatchObject({ checked: 0, interrupted: true });
    expect(summary.backoffs).toBeGreaterThan(0);
  }, 5_000);
});
