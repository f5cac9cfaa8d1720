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
  const isAsync = Symbol.asyncIterator in items;
  const iterator: Iterator<T> | AsyncIterator<T> = isAsync
    ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (items as Iterable<T>)[Symbol.iterator]();
  const { signal } = options;
  const finished: Settled<R>[] = [];
  let finishedHead = 0;
  let running = 0;
  let exhausted = false;
  let wake: (() => void) | null = null;
  // An async source is pulled without waiting on it: a slow next() (discovery waiting on a hung
  // miner) must not hold back the results that finish meanwhile. At most one pull is in flight.
  let pulling = false;
  // Set by the pull's callbacks (`as`: so the checks below are not narrowed to this null).
  let pulled = null as { ok: true; step: IteratorResult<T> } | { ok: false; error: unknown } | null;

  const resume = (): void => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const settle = (result: Settled<R>): void => {
    running--;
    finished.push(result);
    resume();
  };
  const start = (item: T): void => {
    running++;
    // Through a microtask so that a synchronous throw in fn becomes a settled error too.
    Promise.resolve()
      .then(() => fn(item))
      .then(
        (value) => settle({ ok: true, value }),
        (error: unknown) => settle({ ok: false, error }),
      );
  };
  const onStep = (step: IteratorResult<T>): void => {
    pulled = { ok: true, step };
    resume();
  };
  const onPullError = (error: unknown): void => {
    pulled = { ok: false, error };
    resume();
  };

  try {
    for (;;) {
      if (pulled !== null) {
        const taken = pulled;
        pulled = null;
        pulling = false;
        if (!taken.ok) throw taken.error;
        if (taken.step.done) exhausted = true;
        // Pulled before an abort: not started, as nothing is once aborted.
        else if (!signal?.aborted) start(taken.step.value);
      }
      // Results not yet taken by the consumer count against the limit too, so a fast `fn` cannot
      // run ahead through the whole source while nobody reads.
      while (
        !exhausted &&
        !pulling &&
        running + (finished.length - finishedHead) < limit &&
        !signal?.aborted
      ) {
        if (isAsync) {
          pulling = true;
          Promise.resolve((iterator as AsyncIterator<T>).next()).then(onStep, onPullError);
          break;
        }
        const step = (iterator as Iterator<T>).next();
        if (step.done) {
          exhausted = true;
          break;
        }
        start(step.value);
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
      if (running === 0 && !pulling) return;
      if (pulled !== null) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
