import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { getBatch } from '../../src/store/outbox.js';
import { flushOutbox } from '../../src/upload/flush.js';
import { startCollector } from './support/collector.js';
import { enqueueCycle, KEY, reports, tempStore } from './support/fixtures.js';

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
  it("--status never pairs an earlier attempt's answer with the attempt the kill cut short", async () => {
    // The first run gets a 503 from one collector; the next, against another, is killed mid-send:
    // the 503 is not that attempt's answer, and --status must not say it was.
    const busy = await startCollector(() => ({ status: 503, body: 'busy upstream' }));
    const silent = await startCollector(() => 'hang');
    const temp = tempStore();
    cleanups.push(
      () => busy.close(),
      () => silent.close(),
      () => temp.close(),
    );
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now() });
    const first = await flushOutbox(
      temp.store.db,
      {
        endpoint: busy.url,
        key: KEY,
        connectTimeoutMs: 2_000,
        totalTimeoutMs: 5_000,
        maxAttempts: 1,
        signal: new AbortController().signal,
      },
      memoryContext(),
    );
    expect(first).toMatchObject({ stop: 'retries_exhausted', pending: 1 });

    const proc = spawn(process.execPath, ['--import', 'tsx', child, temp.path, silent.url], {
      env: { ...process.env, HASHCTL_COLLECTOR_KEY: KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.on('exit', (_code, signal) => resolve(signal)),
    );
    cleanups.push(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    await silent.waitFor(1);
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const status = memoryContext();
    expect(await runCli(['upload', '--status', '--json', '--db', temp.path], status)).toBe(0);
    const lastError = (JSON.parse(status.out()) as { last_error: { status: number | null; reason: string } })
      .last_error;
    expect(lastError.status).toBeNull();
    expect(lastError.reason).toMatch(/^no answer recorded for the last attempt/);
    // What the attempt before it got is still there, said as such.
    expect(lastError.reason).toContain('the attempt before it got: HTTP 503: busy upstream');
  });
});

describe('a collector whose handshake stalls', () => {
  it('does not keep hashctl upload alive past --deadline until the connect timeout', async () => {
    const { createServer } = await import('node:net');
    // Accepts the TCP connection and never says a word: the TLS handshake never ends.
    const held: import('node:net').Socket[] = [];
    const server = createServer((socket) => {
      socket.on('error', () => {});
      held.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const temp = tempStore();
    cleanups.push(
      () => {
        for (const socket of held) socket.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
      () => temp.close(),
    );
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    const bin = fileURLToPath(new URL('../../bin/hashctl', import.meta.url));
    const args = ['upload', '--db', temp.path, '--endpoint', `https://127.0.0.1:${port}`];
    const proc = spawn(process.execPath, [bin, ...args, '--deadline', '1s', '--connect-timeout', '60s'], {
      env: { PATH: process.env.PATH ?? '', HASHCTL_COLLECTOR_KEY: KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Well before the 60 s connect timeout: the process ends when the command does.
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still running after 15 s: ${stderr}`)), 15_000);
      proc.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code).toBe(1);
    expect(
      getBatch(
        temp.store.db,
        temp.store.db.prepare('SELECT batch_id FROM upload_outbox').pluck().get() as string,
      ),
    ).toMatchObject({ state: 'pending' });
  }, 30_000);
});
