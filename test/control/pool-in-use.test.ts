// A pool action's read-back says what the user wanted, not only what the command changed: a
// switchpool to a Dead pool sets its priority (verified) while the miner keeps mining on another
// pool, so the result carries where the pool stands (`verification.pool`) and a warning.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Behaviour, cgminerReply } from '../support/fake-miner.js';
import { cli, control, perTest, plainS9 } from './support.js';

const each = perTest();

interface FakePool {
  URL: string;
  User: string;
  Status: 'Alive' | 'Dead' | 'Disabled';
  Priority: number;
  /** Whether the pool answers (an enabled pool reads Alive or Dead from this). */
  reachable: boolean;
}

/**
 * A cgminer (Antminer S9) that keeps its pools: switchpool puts pool N on top, enable/disable set its
 * status (an enabled unreachable pool reads Dead), addpool lists the new pool (Dead when its URL is
 * in `unreachable`). Every write is answered S.
 */
function poolMiner(initial: Omit<FakePool, 'Status'>[], unreachable: string[] = []) {
  const pools: FakePool[] = initial.map((p) => ({ ...p, Status: p.reachable ? 'Alive' : 'Dead' }));
  const writes: string[] = [];
  const reply = (bytes: string): Behaviour => ({ kind: 'reply', bytes });
  const ok = (code: number, msg: string) =>
    reply(cgminerReply('X', [], { STATUS: 'S', Code: code, Msg: msg }));
  const write = (command: string, parameter: string | undefined): Behaviour => {
    const n = Number(parameter);
    switch (command) {
      case 'switchpool': {
        writes.push(`${command}|${parameter}`);
        const chosen = pools[n];
        if (!chosen) return reply(cgminerReply('X', [], { STATUS: 'E', Code: 26, Msg: 'Invalid pool id' }));
        for (const p of pools) if (p !== chosen && p.Priority < chosen.Priority) p.Priority++;
        chosen.Priority = 0;
        if (chosen.Status === 'Disabled') chosen.Status = chosen.reachable ? 'Alive' : 'Dead';
        return ok(27, `Switching to pool ${n}`);
      }
      case 'enablepool':
      case 'disablepool': {
        writes.push(`${command}|${parameter}`);
        const pool = pools[n];
        if (!pool) return reply(cgminerReply('X', [], { STATUS: 'E', Code: 26, Msg: 'Invalid pool id' }));
        pool.Status = command === 'disablepool' ? 'Disabled' : pool.reachable ? 'Alive' : 'Dead';
        return ok(command === 'disablepool' ? 48 : 47, `${command} ${n}`);
      }
      case 'addpool': {
        writes.push(command);
        const [url = '', user = ''] = (parameter ?? '').split(',');
        const reachable = !unreachable.includes(url);
        pools.push({
          URL: url,
          User: user,
          Status: reachable ? 'Alive' : 'Dead',
          Priority: pools.length,
          reachable,
        });
        return ok(55, `Added pool ${pools.length - 1}: '${url}'`);
      }
      default:
        writes.push(command);
        return reply(cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }));
    }
  };
  const { script } = plainS9({
    pools: () => pools.map(({ reachable: _, ...p }, i) => ({ POOL: i, ...p, 'Stratum Active': true })),
    write,
  });
  return { script, writes, pools };
}

const TWO_POOLS = [
  { URL: 'stratum+tcp://a:3333', User: 'w', Priority: 0, reachable: true },
  { URL: 'stratum+tcp://b:3333', User: 'w', Priority: 1, reachable: false },
];

describe('switchpool', () => {
  it('to a Dead pool: verified (its priority changed) with a warning that the miner mines on another pool', async () => {
    const miner = poolMiner(TWO_POOLS);
    const fake = await each.fake(miner.script);
    const run = await control(['switchpool', '1', fake.target.key, '--yes', '--db', each.temp().db]);
    const result = run.json.results[0];
    expect(result).toMatchObject({ ok: true, result: 'verified' });
    expect(result?.verification?.detail).toBe('pool 1 priority 0');
    expect(result?.verification?.pool).toEqual({ index: 1, status: 'Dead', in_use: false, active: 0 });
    expect(result?.verification?.warning).toMatch(/pool 1 is Dead and not in use: the miner mines on pool 0/);
    // The write was done and holds (the miner moves once pool 1 is alive): not a failed target.
    expect(run.code).toBe(0);
    expect(miner.writes).toEqual(['switchpool|1']);
  });

  it('to a Dead pool, in the table: the detail says so and the summary counts the warning', async () => {
    const miner = poolMiner(TWO_POOLS);
    const fake = await each.fake(miner.script);
    const run = await cli([
      'control',
      'switchpool',
      '1',
      fake.target.key,
      '--yes',
      '--timeout',
      '2s',
      '--db',
      each.temp().db,
    ]);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/verified\t.*pool 1 priority 0; warning: pool 1 is Dead and not in use/);
    expect(run.err).toMatch(/switchpool 1: 1 verified \(1 with a warning/);
  });

  it('to an Alive pool: verified, in use, no warning', async () => {
    const miner = poolMiner([TWO_POOLS[0]!, { ...TWO_POOLS[1]!, reachable: true }]);
    const fake = await each.fake(miner.script);
    const run = await control(['switchpool', '1', fake.target.key, '--yes', '--db', each.temp().db]);
    const result = run.json.results[0];
    expect(result).toMatchObject({ ok: true, result: 'verified' });
    expect(result?.verification?.pool).toEqual({ index: 1, status: 'Alive', in_use: true, active: 1 });
    expect(result?.verification).not.toHaveProperty('warning');
    expect(run.code).toBe(0);
  });

  it('on the simulated LuxOS, whose pool 1 is Dead: verified with the warning', async () => {
    const farm = await each.farm({ basePort: 0, count: 1, profile: 'luxos' });
    const key = farm.inventory()[0] as string;
    const run = await control(['switchpool', '1', key, '--yes', '--db', each.temp().db]);
    const result = run.json.results[0];
    expect(result).toMatchObject({ ok: true, result: 'verified', dialect: 'luxos' });
    expect(result?.verification?.pool).toMatchObject({ index: 1, status: 'Dead', in_use: false, active: 0 });
    expect(result?.verification?.warning).toMatch(/not in use: the miner mines on pool 0/);
  });
});

describe('enablepool, disablepool, addpool', () => {
  it('enablepool of a pool that reads Dead: verified (enabled), with a warning that it is unusable', async () => {
    const miner = poolMiner(TWO_POOLS);
    miner.pools[1]!.Status = 'Disabled';
    const fake = await each.fake(miner.script);
    const run = await control(['enablepool', '1', fake.target.key, '--yes', '--db', each.temp().db]);
    const result = run.json.results[0];
    expect(result).toMatchObject({ ok: true, result: 'verified' });
    expect(result?.verification?.pool).toEqual({ index: 1, status: 'Dead', in_use: false, active: 0 });
    expect(result?.verification?.warning).toMatch(/pool 1 is Dead: unusable until it is alive/);
    expect(run.code).toBe(0);
  });

  it('enablepool of an Alive backup pool: no warning (not being in use is what a backup is)', async () => {
    const miner = poolMiner([TWO_POOLS[0]!, { ...TWO_POOLS[1]!, reachable: true }]);
    miner.pools[1]!.Status = 'Disabled';
    const fake = await each.fake(miner.script);
    const run = await control(['enablepool', '1', fake.target.key, '--yes', '--db', each.temp().db]);
    expect(run.json.results[0]?.verification?.pool).toEqual({
      index: 1,
      status: 'Alive',
      in_use: false,
      active: 0,
    });
    expect(run.json.results[0]?.verification).not.toHaveProperty('warning');
  });

  it('disablepool of the pool in use when the other is Dead: verified, with a warning that no pool is in use', async () => {
    const miner = poolMiner(TWO_POOLS);
    const fake = await each.fake(miner.script);
    const run = await control(['disablepool', '0', fake.target.key, '--yes', '--db', each.temp().db]);
    const result = run.json.results[0];
    expect(result).toMatchObject({ ok: true, result: 'verified' });
    expect(result?.verification?.pool).toEqual({ index: 0, status: 'Disabled', in_use: false, active: null });
    expect(result?.verification?.warning).toMatch(/no pool is in use/);
  });

  /** `control addpool URL w2` (password from a file) on `miner`, as JSON. */
  async function addpool(miner: ReturnType<typeof poolMiner>, url: string) {
    const fake = await each.fake(miner.script);
    const pw = path.join(each.temp().dir, 'pw');
    fs.writeFileSync(pw, 'x\n');
    return control([
      'addpool',
      url,
      'w2',
      fake.target.key,
      '--yes',
      '--password-file',
      pw,
      '--db',
      each.temp().db,
    ]);
  }

  it('addpool of an unreachable pool: verified as added, with a warning that it is Dead', async () => {
    const url = 'stratum+tcp://gone.example:3333';
    const run = await addpool(poolMiner(TWO_POOLS.slice(0, 1), [url]), url);
    const result = run.json.results[0];
    expect(result).toMatchObject({ ok: true, result: 'verified' });
    expect(result?.verification?.detail).toBe('pool listed as 1');
    expect(result?.verification?.pool).toEqual({ index: 1, status: 'Dead', in_use: false, active: 0 });
    expect(result?.verification?.warning).toMatch(
      /pool 1 is Dead: unusable until it is alive; the miner mines on pool 0/,
    );
    expect(run.code).toBe(0);
  });

  it('addpool of a reachable pool: verified, no warning', async () => {
    const run = await addpool(poolMiner(TWO_POOLS.slice(0, 1)), 'stratum+tcp://ok.example:3333');
    expect(run.json.results[0]?.verification?.pool).toEqual({
      index: 1,
      status: 'Alive',
      in_use: false,
      active: 0,
    });
    expect(run.json.results[0]?.verification).not.toHaveProperty('warning');
  });
});
