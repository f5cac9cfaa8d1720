import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryContext } from '../../src/context.js';
import { getBatch } from '../../src/store/outbox.js';
import { flushOutbox } from '../../src/upload/flush.js';
import { startCollector } from './support/collector.js';
import { KEY, enqueueCycle, reports, tempStore } from './support/fixtures.js';

const child = fileURLToPath(new URL('./support/flush-child.ts', import.meta.url));
let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('a flush killed mid-send', () => {
  it('re-sends the same batch later, byte-identical under the same batch_id, so the receiver dedupes', async () => {
    let hang = true;
    const collector = await startCollector(() => (hang ? 'hang' : { status: 200 }));
    const temp = tempStore();
    cleanups.push(
      () => collector.close(),
      () => temp.close(),
    );
    const [batch] = enqueueCycle(temp.store, { miners: reports(3), now: Date.now() });

    const proc = spawn(process.execPath, ['--import', 'tsx', child, temp.path, collector.url], {
      env: { ...process.env, HASHCTL_COLLECTOR_KEY: KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.on('exit', (_code, signal) => resolve(signal)),
    );
    cleanups.push(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    await collector.waitFor(1); // the whole request has arrived; the collector never answers
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // The attempt was recorded before the send; the batch is still pending.
    expect(getBatch(temp.store.db, batch!.batchId)).toMatchObject({ state: 'pending', attempts: 1 });

    hang = false;
    const report = await flushOutbox(
      temp.store.db,
      {
        endpoint: collector.url,
        key: KEY,
        connectTimeoutMs: 2_000,
        totalTimeoutMs: 5_000,
        maxAttempts: 2,
        signal: new AbortController().signal,
      },
      memoryContext(),
    );
    expect(report).toMatchObject({ delivered: 1, pending: 0 });
    expect(collector.received).toHaveLength(2);
    const [first, second] = collector.received;
    expect(first!.headers['idempotency-key']).toBe(batch!.batchId);
    expect(second!.headers['idempotency-key']).toBe(batch!.batchId);
    expect(second!.raw.equals(first!.raw)).toBe(true);
    expect(collector.accepted.size).toBe(1);
    expect(getBatch(temp.store.db, batch!.batchId)).toMatchObject({ state: 'delivered', attempts: 2 });
  });
});
