// Ctrl-C mid-audit: the report that is still written (stdout or --out) says, in its own words, that
// it is partial; a reviewer who is handed the file never sees the terminal's last line.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { sarifProblems } from './support/sarif.js';
import { startScriptedMiner } from './support/scripted-miner.js';

let dir = '';
const stops: (() => Promise<void>)[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hashctl-audit-interrupt-'));
});
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Audits a healthy miner and one whose `version` never comes back, then presses Ctrl-C. */
async function interruptedAudit(format: string): Promise<{ code: number; report: string; out: string }> {
  const healthy = await startScriptedMiner({}, '127.0.91.12');
  stops.push(() => healthy.stop());
  const hung = await startScriptedMiner({ version: 'hang' }, '127.0.91.13');
  stops.push(() => hung.stop());
  const controller = new AbortController();
  const ctx = memoryContext({ signal: controller.signal });
  const file = join(dir, `report.${format}`);
  const running = runCli(
    [
      '--timeout',
      '30s',
      '--retries',
      '0',
      'audit',
      hung.target,
      healthy.target,
      '--format',
      format,
      '--out',
      file,
    ],
    ctx,
  );
  // Bounded: the healthy miner's last read, then a moment for its audit to be collected.
  for (let i = 0; i < 400 && !healthy.received.some((request) => request.command === 'check'); i++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  await new Promise((resolve) => setTimeout(resolve, 200));
  controller.abort();
  const code = await running;
  return { code, report: await readFile(file, 'utf8'), out: ctx.out() };
}

describe('Ctrl-C: the partial report is marked as partial', () => {
  it('json: summary.interrupted, with how many targets were tried', async () => {
    const { code, report } = await interruptedAudit('json');
    expect(code).toBe(130);
    expect(JSON.parse(report).summary).toMatchObject({ interrupted: true, targets: 2, tried: 1, miners: 1 });
  });

  it('markdown: says so first, before any table', async () => {
    const { code, report, out } = await interruptedAudit('markdown');
    expect(code).toBe(130);
    const lines = report.split('\n');
    expect(lines[2]).toMatch(/^> \*\*Interrupted \(Ctrl-C\): this report is partial\. 1 of 2 target/);
    expect(report).toContain('- Targets tried: 1 of 2;');
    expect(out).toContain('INTERRUPTED after 1 of 2 targets tried');
  });

  it('sarif: the run did not complete, and says why', async () => {
    const { code, report } = await interruptedAudit('sarif');
    expect(code).toBe(130);
    const sarif = JSON.parse(report);
    expect(sarifProblems(sarif)).toEqual([]);
    const [invocation] = sarif.runs[0].invocations;
    expect(invocation.executionSuccessful).toBe(false);
    expect(invocation.toolExecutionNotifications[0]).toMatchObject({
      level: 'error',
      message: { text: expect.stringMatching(/^Interrupted/) },
    });
  });
});

describe('a run that was not interrupted', () => {
  it('json says interrupted: false; sarif executionSuccessful: true', async () => {
    const healthy = await startScriptedMiner({}, '127.0.91.12');
    stops.push(() => healthy.stop());
    const ctx = memoryContext();
    expect(await runCli(['audit', healthy.target, '--format', 'json'], ctx)).toBe(0);
    expect(JSON.parse(ctx.out()).summary).toMatchObject({ interrupted: false, targets: 1, tried: 1 });
    const sarifCtx = memoryContext();
    expect(await runCli(['audit', healthy.target, '--format', 'sarif'], sarifCtx)).toBe(0);
    expect(JSON.parse(sarifCtx.out()).runs[0].invocations[0].executionSuccessful).toBe(true);
  });
});

describe('Ctrl-C before most targets had their turn', () => {
  it('says the untried ones in one line, not a line each', async () => {
    const hung: string[] = [];
    for (let i = 0; i < 6; i++) {
      // The same host on six ports: six targets, all of which hang.
      const miner = await startScriptedMiner({ version: 'hang' }, '127.0.0.1');
      stops.push(() => miner.stop());
      hung.push(miner.target);
    }
    const controller = new AbortController();
    let err = '';
    const ctx = memoryContext({
      signal: controller.signal,
      stderr: {
        write: (chunk) => {
          err += chunk;
          return true;
        },
        isTTY: false,
      },
    });
    const running = runCli(['--timeout', '30s', '--concurrency', '1', 'audit', ...hung], ctx);
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    expect(await running).toBe(130);
    const untried = err
      .split('\n')
      .filter((line) => line.startsWith('hashctl: ') && line.includes('not audited'));
    expect(untried).toHaveLength(1);
    expect(untried[0]).toMatch(
      /^hashctl: 6 targets not audited \(interrupted before their turn\): \S+, \S+, \S+ and 3 more \(the json and markdown reports list them\)$/,
    );
  });
});
