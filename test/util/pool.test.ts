// runPool: bounded concurrency over a lazy source, results as they finish.
import { describe, expect, it } from 'vitest';
import { runPool } from '../../src/util/pool.js';

const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect<R>(generator: AsyncGenerator<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const value of generator) out.push(value);
  return out;
}

describe('runPool', () => {
  it('never has more than `limit` calls in flight and runs every item once', async () => {
    let active = 0;
    let peak = 0;
    const results = await collect(
      runPool([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, async (n) => {
        active++;
        peak = Math.max(peak, active);
        await tick(n % 3);
        active--;
        return n * 2;
      }),
    );
    expect(peak).toBe(3);
    expect(results.sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
  });

  it('yields in completion order', async () => {
    const results = await collect(
      runPool([30, 1], 2, async (ms) => {
        await tick(ms);
        return ms;
      }),
    );
    expect(results).toEqual([1, 30]);
  });

  it('pulls the source lazily: an endless generator is fine', async () => {
    let pulled = 0;
    function* endless(): Generator<number> {
      for (let i = 0; ; i++) {
        pulled++;
        yield i;
      }
    }
    const seen: number[] = [];
    for await (const value of runPool(endless(), 4, async (n) => n)) {
      seen.push(value);
      if (seen.length === 10) break;
    }
    expect(seen).toHaveLength(10);
    expect(pulled).toBeLessThanOrEqual(10 + 4);
  });

  it('accepts an async source', async () => {
    async function* source(): AsyncGenerator<string> {
      yield 'a';
      await tick();
      yield 'b';
    }
    expect((await collect(runPool(source(), 5, async (s) => s.toUpperCase()))).sort()).toEqual(['A', 'B']);
  });

  it('yields a finished result while a slow async source is still waiting for its next item', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* source(): AsyncGenerator<number> {
      yield 1;
      await gate; // discovery waiting on a hung miner
      yield 2;
    }
    const pool = runPool(source(), 4, async (n) => n * 10);
    let first: IteratorResult<number> | undefined;
    void pool.next().then((result) => {
      first = result;
    });
    for (let i = 0; i < 50 && first === undefined; i++) await new Promise((resolve) => setImmediate(resolve));
    const early = first;
    release();
    expect(early).toEqual({ value: 10, done: false });
    expect(await collect(pool)).toEqual([20]);
  });

  it('an async source: an item pulled while the abort came is not started; a failing source throws', async () => {
    const controller = new AbortController();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* source(): AsyncGenerator<number> {
      yield 1;
      await gate;
      yield 2;
      yield 3;
    }
    const started: number[] = [];
    const pool = runPool(
      source(),
      4,
      async (n) => {
        started.push(n);
        return n;
      },
      { signal: controller.signal },
    );
    expect(await pool.next()).toEqual({ value: 1, done: false });
    controller.abort();
    release();
    expect(await collect(pool)).toEqual([]);
    expect(started).toEqual([1]);
    async function* broken(): AsyncGenerator<number> {
      yield 1;
      throw new Error('discovery failed');
    }
    await expect(collect(runPool(broken(), 2, async (n) => n))).rejects.toThrow('discovery failed');
  });

  it('starts nothing new once aborted, and still yields what was in flight', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const results = await collect(
      runPool(
        [1, 2, 3, 4, 5, 6],
        2,
        async (n) => {
          started.push(n);
          if (n === 2) controller.abort();
          await tick();
          return n;
        },
        { signal: controller.signal },
      ),
    );
    expect(started).toEqual([1, 2]);
    expect(results.sort()).toEqual([1, 2]);
  });

  it('throws what fn threw, synchronous throws included', async () => {
    const failing = runPool([1], 1, (() => {
      throw new Error('boom');
    }) as (n: number) => Promise<number>);
    await expect(collect(failing)).rejects.toThrow('boom');
  });

  it('refuses a limit below 1', async () => {
    await expect(collect(runPool([1], 0, async (n) => n))).rejects.toThrow(RangeError);
  });
});
