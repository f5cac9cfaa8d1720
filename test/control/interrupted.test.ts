// Ctrl-C while control is still reading the miners: exit 130 and a line that says so, not a
// summary of "no miners" as if the targets had named none.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

let miner: FakeMiner | null = null;
let dir: string | null = null;
afterEach(async () => {
  await miner?.close();
  miner = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

async function interruptedRun(args: string[]): Promise<{ code: number; out: string; err: string }> {
  miner = await startFakeMiner({ kind: 'silent' });
  // A temp dir of its own: as root, '/nonexistent/…' is made, and the audit trail was written there.
  dir = mkdtempSync(join(tmpdir(), 'hashctl-control-interrupted-'));
  const controller = new AbortController();
  const ctx = memoryContext({
    stdin: Object.assign(Readable.from([]), { isTTY: false }),
    signal: controller.signal,
    env: { HASHCTL_DB: join(dir, 'farm.db') },
  });
  const running = runCli([...args, miner.target.key, '--timeout', '20s', '--retries', '0'], ctx);
  for (let i = 0; i < 500 && miner.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  const code = await running;
  return { code, out: ctx.out(), err: ctx.err() };
}

describe('Ctrl-C while control reads the miners', () => {
  it('restart: exit 130, the summary says no miner was reached and the line says what was left out', async () => {
    const run = await interruptedRun(['control', 'restart', '--yes']);
    expect(run.code).toBe(EXIT.interrupted);
    expect(run.err).not.toMatch(/: no miners\n/);
    expect(run.err).toContain('restart: no miner reached before the interrupt\n');
    expect(run.err).toContain(
      'hashctl: interrupted; miners not yet read or started were left out (nothing sent to them)\n',
    );
    expect(miner?.requests.every((r) => !r.includes('"restart"'))).toBe(true);
  });

  it('capabilities: exit 130 with the same line as every reading command', async () => {
    const run = await interruptedRun(['control', 'capabilities']);
    expect(run.code).toBe(EXIT.interrupted);
    expect(run.err).toBe('hashctl: interrupted; miners not yet read were skipped\n');
  });
});
