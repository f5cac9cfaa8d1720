// A switchpool read back on a miner whose pools list a Status but no Priority: only the pool in use
// (the alive, enabled one) can show the switch, so a pool that reads Dead or Disabled after the write
// cannot show it however long the read-back waits. It is reported at once (`unknown`, one check),
// not after --verify-timeout. And the question and the dry run say when the named pool already
// reads Dead (or Disabled) before anything is sent.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Behaviour, cgminerReply } from '../support/fake-miner.js';
import { cli, control, perTest, plainS9 } from './support.js';

const each = perTest();

type Status = 'Alive' | 'Dead' | 'Disabled';

/**
 * A cgminer-like miner whose POOLS records carry no Priority: switchpool and enablepool are
 * answered S; switchpool changes nothing it lists (it has no priorities to show), enablepool makes
 * a Disabled pool read `enabledAs`.
 */
function noPriorityMiner(statuses: Status[], enabledAs: Status = 'Dead') {
  const pools = statuses.map((Status, i) => ({ URL: `stratum+tcp://p${i}:3333`, User: 'w', Status }));
  const writes: string[] = [];
  const reply = (bytes: string): Behaviour => ({ kind: 'reply', bytes });
  const write = (command: string, parameter: string | undefined): Behaviour => {
    if (command !== 'switchpool' && command !== 'enablepool') {
      writes.push(command);
      return reply(cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }));
    }
    writes.push(`${command}|${parameter}`);
    const pool = pools[Number(parameter)];
    if (command === 'enablepool' && pool?.Status === 'Disabled') pool.Status = enabledAs;
    return reply(cgminerReply('X', [], { STATUS: 'S', Code: 27, Msg: `${command} ${parameter}` }));
  };
  const { script } = plainS9({ pools: () => pools.map((p, i) => ({ POOL: i, ...p })), write });
  return { script, writes };
}

describe('switchpool on a miner that lists no priorities', () => {
  for (const status of ['Dead', 'Disabled'] as const) {
    it(`to a pool that reads ${status}: unknown at the first read-back, not after --verify-timeout`, async () => {
      const miner = noPriorityMiner(['Alive', status]);
      const fake = await each.fake(miner.script);
      const run = await control([
        'switchpool',
        '1',
        fake.target.key,
        '--yes',
        '--verify-timeout',
        '3s',
        '--db',
        each.temp().db,
      ]);
      const result = run.json.results[0];
      expect(result).toMatchObject({ ok: false, result: 'unknown', error: { kind: 'unverified' } });
      // One read-back: the old code read until the timeout (several checks) for the same `unknown`.
      expect(result?.verification?.checks).toBe(1);
      expect(result?.verification?.detail).toMatch(
        new RegExp(`pool 1 reads ${status}.*no priorities.*cannot show`),
      );
      expect(result?.verification?.detail).not.toMatch(/within/);
      expect(result?.verification?.pool).toEqual({ index: 1, status, in_use: false, active: 0 });
      expect(result?.verification?.warning).toMatch(
        new RegExp(`pool 1 is ${status} and not in use: the miner mines on pool 0`),
      );
      expect(run.code).toBe(1);
      expect(miner.writes).toEqual(['switchpool|1']);
    });
  }

  it('to the alive pool in use: still verified at once', async () => {
    const miner = noPriorityMiner(['Alive', 'Dead']);
    const fake = await each.fake(miner.script);
    const run = await control(['switchpool', '0', fake.target.key, '--yes', '--db', each.temp().db]);
    expect(run.json.results[0]).toMatchObject({ ok: true, result: 'verified' });
    expect(run.code).toBe(0);
  });
});

describe('the named pool already reads Dead or Disabled before the write', () => {
  it('--dry-run says so in one line on stderr (switchpool)', async () => {
    const fake = await each.fake(noPriorityMiner(['Alive', 'Dead']).script);
    const run = await cli(['control', 'switchpool', '1', fake.target.key, '--dry-run', '--timeout', '2s']);
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/^note: pool 1 already reads Dead on 1 of 1 miner\b.*$/m);
  });

  it('--dry-run of enablepool names a Dead pool, not a Disabled one (that is what it enables)', async () => {
    const dead = await each.fake(noPriorityMiner(['Alive', 'Dead']).script);
    const run = await cli(['control', 'enablepool', '1', dead.target.key, '--dry-run', '--timeout', '2s']);
    expect(run.err).toMatch(/^note: pool 1 already reads Dead on 1 of 1 miner\b/m);
    const disabled = await each.fake(noPriorityMiner(['Alive', 'Disabled']).script);
    const quiet = await cli([
      'control',
      'enablepool',
      '1',
      disabled.target.key,
      '--dry-run',
      '--timeout',
      '2s',
    ]);
    expect(quiet.err).not.toMatch(/already reads/);
  });

  it('the question on a terminal says so before [y/N], and "n" still sends nothing', async () => {
    const miner = noPriorityMiner(['Alive', 'Disabled']);
    const fake = await each.fake(miner.script);
    const ctx = memoryContext({ stdin: Object.assign(Readable.from(['n\n']), { isTTY: true }) });
    const code = await runCli(
      ['control', 'switchpool', '1', fake.target.key, '--timeout', '2s', '--db', each.temp().db],
      ctx,
    );
    expect(code).toBe(1);
    expect(ctx.err()).toMatch(
      /note: pool 1 already reads Disabled on 1 of 1 miner.*\nswitchpool 1 on 1 miner\? \[y\/N\]/,
    );
    expect(miner.writes).toEqual([]);
  });

  it('no line when the pool reads Alive', async () => {
    const fake = await each.fake(noPriorityMiner(['Alive', 'Alive']).script);
    const run = await cli(['control', 'switchpool', '1', fake.target.key, '--dry-run', '--timeout', '2s']);
    expect(run.err).not.toMatch(/already reads/);
  });
});
