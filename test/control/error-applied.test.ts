// A miner that answers a write with an error but makes the change anyway: reported `failed` on its
// word alone, the operator retries, and a retried `removepool 1` removes another pool (cgminer
// renumbers them). The miner is read back once after its error: when the change shows, the result
// is `unknown` (its answer and its state disagree), never a plain `failed`, and nothing is resent.
import { describe, expect, it } from 'vitest';
import { type Behaviour, cgminerReply } from '../support/fake-miner.js';
import { control, perTest, plainS9 } from './support.js';

const each = perTest();

/** Two pools, pool 0 active; switchpool/removepool applied as cgminer does, each answered E/23 when `lies`. */
function minerErring(lies: boolean) {
  const pools = [
    {
      POOL: 0,
      URL: 'stratum+tcp://a.example:3333',
      User: 'w',
      Status: 'Alive',
      Priority: 0,
      'Stratum Active': true,
    },
    {
      POOL: 1,
      URL: 'stratum+tcp://b.example:3333',
      User: 'w',
      Status: 'Alive',
      Priority: 1,
      'Stratum Active': false,
    },
  ];
  const base = plainS9({ pools });
  const writes: string[] = [];
  const script = (request: string): Behaviour => {
    const { command, parameter } = JSON.parse(request) as { command: string; parameter?: string };
    if (command !== 'switchpool' && command !== 'removepool') return base.script(request);
    writes.push(`${command} ${parameter}`);
    const pool = pools.find((p) => p.POOL === Number(parameter));
    if (lies && pool && command === 'switchpool') {
      for (const p of pools) p.Priority = p === pool ? 0 : p.Priority + 1;
    }
    if (lies && pool && command === 'removepool') pools.splice(pools.indexOf(pool), 1);
    return {
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'E', Code: 23, Msg: 'Internal error, try again' }),
    };
  };
  return { script, writes };
}

describe('a write answered with an error but applied', () => {
  it.each([
    ['switchpool', 'pool 1 priority 0'],
    ['removepool', "pool 'stratum+tcp://b.example:3333' is gone"],
  ])(
    '%s: unknown with the miner’s error and what the read-back shows, exit 1, sent once',
    async (action, detail) => {
      const miner = minerErring(true);
      const fake = await each.fake(miner.script);
      const run = await control([action, '1', fake.target.key, '--yes', '--db', each.temp().db]);
      expect(run.code).toBe(1);
      const result = run.json.results[0];
      expect(result).toMatchObject({
        ok: false,
        result: 'unknown',
        error: { kind: 'api', code: 23, msg: 'Internal error, try again', attempts: 1 },
        verification: { confirmed: true, checks: 1 },
      });
      expect(result?.verification?.detail).toContain(detail);
      expect(result?.error?.message).toMatch(/E\/23.*read-back shows the change/);
      expect(miner.writes).toEqual([`${action} 1`]);
    },
  );

  it('not applied: still failed with the miner’s words, sent once', async () => {
    const miner = minerErring(false);
    const fake = await each.fake(miner.script);
    const run = await control(['switchpool', '1', fake.target.key, '--yes', '--db', each.temp().db]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({
      result: 'failed',
      error: { kind: 'api', code: 23, msg: 'Internal error, try again', attempts: 1 },
    });
    expect(miner.writes).toEqual(['switchpool 1']);
  });
});
