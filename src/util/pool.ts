// Bounded concurrency over a lazy source: at most `limit` calls of `fn` in flight, the source pulled
// only when a slot frees up (a /8 of targets is never materialized), results yielded as they finish.

export interface PoolOptions {
  /** Once aborted, no new item is started; the calls in flight finish and are still yielded. */
  signal?: AbortSignal;
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Runs `fn` over `items` with at most `limit` in flight and yields each result as it completes
 * (completion order, not input order). If `fn` rejects, the generator throws that error once the
 * result is reached; callers that want per-item errors catch inside `fn`.
 */
export async function* runPool<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
  options: PoolOptions = {},
): AsyncGenerator<R> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`pool limit must be a whole number ≥ 1, got ${limit}`);
  const iterator: Iterator<T> | AsyncIterator<T> =
    Symbol.asyncIterator in items
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  const { signal } = options;
  const finished: Settled<R>[] = [];
  let finishedHead = 0;
  let running = 0;
  let exhausted = false;
  let wake: (() => void) | null = null;

  const settle = (result: Settled<R>): void => {
    running--;
    finished.push(result);
    const resume = wake;
    wake = null;
    resume?.();
  };

  try {
    for (;;) {
      // Results not yet taken by the consumer count against the limit too, so a fast `fn` cannot
      // run ahead through the whole source while nobody reads.
      while (!exhausted && running + (finished.length - finishedHead) < limit && !signal?.aborted) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          break;
        }
        running++;
        const item = step.value;
        // Through a microtask so that a synchronous throw in fn becomes a settled error too.
        Promise.resolve()
          .then(() => fn(item))
          .then(
            (value) => settle({ ok: true, value }),
            (error: unknown) => settle({ ok: false, error }),
          );
      }
      if (finishedHead < finished.length) {
        const result = finished[finishedHead] as Settled<R>;
        finished[finishedHead++] = undefined as unknown as Settled<R>;
        if (finishedHead > 1024 && finishedHead * 2 > finished.length) {
          finished.splice(0, finishedHead);
          finishedHead = 0;
        }
        if (!result.ok) throw result.error;
        yield result.value;
        continue;
      }
      if (running === 0) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
