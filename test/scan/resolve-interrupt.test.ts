// Ctrl-C (or systemd's SIGTERM) while scan resolves the names it was given, on a resolver that does
// not answer: scan waited out its whole resolve deadline (5 s) before it stopped, where control
// stops the wait at once. The deadline's timer is faked here and never fires: the old code never
// finished; the lookup never answers either, and no name reaches the system resolver.
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('scan interrupted while resolving names', () => {
  it('stops at once, exit 130, nothing checked', async () => {
    const controller = new AbortController();
    const asked: string[] = [];
    // A resolver gone quiet: never calls back. Ctrl-C comes while it is asked.
    const lookup = ((hostname: string) => {
      asked.push(hostname);
      setImmediate(() => controller.abort(new Error('SIGINT')));
    }) as unknown as LookupFunction;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const stdin = Object.assign(Readable.from([]), { isTTY: false });
    const ctx = memoryContext({ stdin, lookup, signal: controller.signal });
    const code = await runCli(['scan', 'rig-quiet.example', '127.0.0.1', '--port', '1', '--json'], ctx);
    expect(asked).toEqual(['rig-quiet.example']);
    expect(code).toBe(130);
    const doc = JSON.parse(ctx.out()) as { summary: { checked: number; interrupted: boolean } };
    expect(doc.summary.checked).toBe(0);
    expect(doc.summary.interrupted).toBe(true);
  }, 10_000);
});
