// Per-test setup shared by the upload tests: a real collector and a temp store, closed after each test.
import { afterEach } from 'vitest';
import { type Collector, type Handler, ok, startCollector } from './collector.js';
import { type TempStore, tempStore } from './fixtures.js';

/**
 * Call once at the top level of a test file: it registers the afterEach that closes, newest first,
 * what each call of the returned `setup` started.
 */
export function collectorPerTest(): (
  handler?: Handler,
) => Promise<{ collector: Collector; temp: TempStore }> {
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });
  return async (handler = ok) => {
    const collector = await startCollector(handler);
    const temp = tempStore();
    cleanups.push(
      () => collector.close(),
      () => temp.close(),
    );
    return { collector, temp };
  };
}
