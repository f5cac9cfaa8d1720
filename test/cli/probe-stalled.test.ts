// `probe --command a,b,c` of a miner whose first read runs to its deadline (silent, dripping, or a
// reply it never ends) sends no more reads: each would cost another deadline and its retries, so
// four commands of a hung miner took four timeouts (8.2 s at `--timeout 2s --retries 0`; a minute
// at the defaults), where the snapshot probe, collect and audit stop after the first. Counted at
// the server, not timed.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { cgminerReply, type FakeMiner, type Script, startFakeMiner } from '../support/fake-miner.js';

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

interface Result {
  ok: boolean;
  responses: Record<string, unknown>;
  error?: { kind: string; attempts: number };
  errors?: Record<string, { kind: string; message: string; attempts: number }>;
}

async function probe(behaviour: Script): Promise<{ miner: FakeMiner; code: number; result: Result }> {
  const miner = await startFakeMiner(behaviour);
  miners.push(miner);
  const ctx = memoryContext();
  const args = ['probe', miner.target.key, '--command', 'summary,pools,stats', '--json'];
  const code = await runCli([...args, '--timeout', '300ms', '--retries', '0'], ctx);
  expect(ctx.err()).toBe('');
  return { miner, code, result: JSON.parse(ctx.out()) as Result };
}

describe('probe --command of a miner whose read ran to its deadline', () => {
  it('asks nothing more of a silent miner: one connection, the rest not sent', async () => {
    const { miner, code, result } = await probe({ kind: 'silent' });
    expect(code).toBe(1);
    expect(miner.connections).toBe(1);
    expect(result.error).toMatchObject({ kind: 'timeout', attempts: 1 });
    for (const command of ['pools', 'stats']) {
      expect(result.errors?.[command]).toMatchObject({ kind: 'timeout', attempts: 0 });
      expect(result.errors?.[command]?.message).toMatch(/^not sent: an earlier read of this poll/);
    }
  });

  it('keeps the reply a miner never ended, and asks it nothing more', async () => {
    const reply = cgminerReply('SUMMARY', [{ Elapsed: 12 }]);
    const { miner, result } = await probe({ kind: 'reply', bytes: reply, nul: false, close: false });
    expect(miner.connections).toBe(1);
    expect(result.responses.summary).toMatchObject({ SUMMARY: [{ Elapsed: 12 }] });
    expect(result.errors?.pools).toMatchObject({ kind: 'timeout', attempts: 0 });
  });

  it('still asks every command of a miner that answers them', async () => {
    const { miner, code } = await probe((request) => {
      const command = (JSON.parse(request) as { command: string }).command;
      return { kind: 'reply', bytes: cgminerReply(command.toUpperCase(), [{ x: 1 }]) };
    });
    expect(code).toBe(0);
    expect(miner.connections).toBe(3);
  });
});
