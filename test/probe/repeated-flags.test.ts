// A list flag given twice means both lists: `probe --command summary --command stats` asks both,
// where the second used to replace the first without a word (the summary the user asked for lost).
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { cgminerReply, type FakeMiner, startFakeMiner } from '../support/fake-miner.js';
import { startHealthyFarm } from '../support/farm.js';

let miner: FakeMiner | null = null;
afterEach(async () => {
  await miner?.close();
  miner = null;
});

const commandOf = (request: string): string =>
  (JSON.parse(request.replace(/\0+$/, '')) as { command: string }).command;

describe('probe list flags given more than once', () => {
  it('--command twice sends every command named, each once', async () => {
    miner = await startFakeMiner((request) => {
      const command = commandOf(request);
      return { kind: 'reply', bytes: cgminerReply(command.toUpperCase(), [{ Elapsed: 1 }]) };
    });
    const ctx = memoryContext();
    const code = await runCli(
      ['probe', miner.target.key, '--command', 'summary', '--command', 'stats', '--json', '--retries', '0'],
      ctx,
    );
    expect(code).toBe(EXIT.ok);
    expect(miner.requests.map(commandOf).sort()).toEqual(['stats', 'summary']);
    const json = JSON.parse(ctx.out()) as { responses: Record<string, unknown> };
    expect(Object.keys(json.responses).sort()).toEqual(['stats', 'summary']);
  });

  it('--fields twice shows the fields of both', async () => {
    const farm = await startHealthyFarm(1, () => Date.parse('2026-11-02T12:00:00Z'));
    try {
      const ctx = memoryContext();
      const code = await runCli(
        ['probe', ...farm.inventory(), '--fields', 'target', '--fields', 'uptime,target', '--retries', '0'],
        ctx,
      );
      expect(code).toBe(EXIT.ok);
      expect(ctx.out().split('\n')[0]).toBe('target\tuptime_s');
    } finally {
      await farm.stop();
    }
  });

  it('an empty item in any of them is one line naming it, exit 2', async () => {
    const ctx = memoryContext();
    expect(await runCli(['probe', '127.0.0.1:1', '--fields', 'target,', '--fields', 'hashrate'], ctx)).toBe(
      EXIT.usage,
    );
    expect(ctx.err()).toBe(
      "hashctl: invalid --fields 'target,': give a comma-separated list without empty items\n",
    );
  });

  it('--param with one command named twice is still a single command', async () => {
    miner = await startFakeMiner({ kind: 'reply', bytes: cgminerReply('ASC', [{ ASC: 0 }]) });
    const ctx = memoryContext();
    const code = await runCli(
      ['probe', miner.target.key, '--command', 'asc', '--command', 'asc', '--param', '0', '--retries', '0'],
      ctx,
    );
    expect(ctx.err()).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(miner.requests).toHaveLength(1);
  });

  it('--fields with --json is exit 2 before any traffic (the selection was ignored in silence)', async () => {
    miner = await startFakeMiner({ kind: 'reply', bytes: cgminerReply('SUMMARY', [{ Elapsed: 1 }]) });
    const ctx = memoryContext();
    expect(await runCli(['probe', miner.target.key, '--fields', 'target,hashrate', '--json'], ctx)).toBe(
      EXIT.usage,
    );
    expect(ctx.err()).toBe(
      "hashctl: --fields chooses the table's columns; --json prints the whole snapshot (select its fields with jq)\n",
    );
    expect(ctx.out()).toBe('');
    expect(miner.requests).toHaveLength(0);
  });

  it('--wide with --fields is one line naming both, exit 2 (--fields used to win in silence)', async () => {
    const ctx = memoryContext();
    expect(await runCli(['probe', '127.0.0.1:1', '--wide', '--fields', 'target'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toBe('hashctl: --wide and --fields both choose the columns: give one\n');
  });
});
