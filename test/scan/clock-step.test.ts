// scan's timings when the wall clock is stepped during a sweep (NTP on a laptop just woken, an
// operator fixing the time): they are measured on the monotonic clock. On the wall clock, a step
// back of an hour gave every endpoint found after it an elapsed_ms of minus an hour, and the
// summary an elapsed_ms of 0 (clamped) with every endpoint "checked in 0 ms".
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Service, startService } from './support/services.js';

let empty: Service;
let garbage: Service;

beforeAll(async () => {
  [empty, garbage] = await Promise.all([startService('empty'), startService('garbage')]);
});

afterAll(async () => {
  await Promise.all([empty.close(), garbage.close()]);
});

describe('scan across a wall-clock step', () => {
  it('times each endpoint and the sweep on the monotonic clock', async () => {
    let calls = 0;
    // The first reading is the sweep's start; the wall clock is stepped back an hour after it.
    const now = () => Date.now() - (calls++ > 0 ? 3_600_000 : 0);
    const ctx = memoryContext({ now, monotonic: () => performance.now() });
    const code = await runCli(
      ['--json', 'scan', '127.0.0.1', '--port', `${empty.port},${garbage.port}`, '--all'],
      ctx,
    );
    expect(code).toBe(0);
    const doc = JSON.parse(ctx.out()) as {
      results: { elapsed_ms: number }[];
      summary: { elapsed_ms: number };
    };
    expect(doc.results).toHaveLength(2);
    for (const result of doc.results) {
      expect(result.elapsed_ms).toBeGreaterThanOrEqual(0);
      expect(result.elapsed_ms).toBeLessThan(60_000);
    }
    expect(doc.summary.elapsed_ms).toBeGreaterThan(0);
    expect(doc.summary.elapsed_ms).toBeLessThan(60_000);
  });
});
