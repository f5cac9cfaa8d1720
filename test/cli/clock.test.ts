// The context's monotonic clock counts whole milliseconds, as `now` does: the durations it times
// are written as `elapsed_ms` and `duration_ms`, and `"elapsed_ms": 33.191433` said nothing more
// than 33 while reading like a measurement to the microsecond.
import { describe, expect, it } from 'vitest';
import { memoryContext, processContext } from '../../src/context.js';

describe('the monotonic clock of a context', () => {
  it('is whole milliseconds and never goes back, in the process context and in tests', async () => {
    for (const ctx of [processContext(new AbortController().signal), memoryContext()]) {
      let last = -1;
      for (let i = 0; i < 50; i++) {
        const t = ctx.monotonic();
        expect(Number.isInteger(t)).toBe(true);
        expect(t).toBeGreaterThanOrEqual(last);
        last = t;
        if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  });

  it("is a test's own clock when the test hands in `now` and no monotonic one", () => {
    let t = 1_000;
    const ctx = memoryContext({ now: () => t });
    t = 5_000;
    expect(ctx.monotonic()).toBe(5_000);
    expect(memoryContext({ now: () => 1, monotonic: () => 2 }).monotonic()).toBe(2);
  });
});
