// A read-back confirms a write only from what the miner shows: a field the miner does not report is
// no evidence that the change happened (the write was answered S, the state may be unchanged).
import { describe, expect, it } from 'vitest';
import { type Behaviour, cgminerReply } from '../support/fake-miner.js';
import { control, perTest } from './support.js';

const each = perTest();

/**
 * A plain cgminer (Antminer S9) that answers every write S and never changes: its pools are `pools`
 * (as the test gives them) and its summary is `summary`.
 */
function unchangingMiner(pools: Record<string, unknown>[], summary: Record<string, unknown> = {}) {
  const writes: string[] = [];
  const script = (request: string): Behaviour => {
    const { command } = JSON.parse(request) as { command: string };
    const reply = (bytes: string): Behaviour => ({ kind: 'reply', bytes });
    if (command.includes('+'))
      return reply(cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }));
    switch (command) {
      case 'version':
        return reply(cgminerReply('VERSION', [{ CGMiner: '4.11.1', API: '3.7', Type: 'Antminer S9' }]));
      case 'summary':
        return reply(
          cgminerReply('SUMMARY', [
            { Elapsed: 5000, 'MHS av': 13_500_000, 'MHS 5s': 13_400_000, ...summary },
          ]),
        );
      case 'pools':
        return reply(cgminerReply('POOLS', pools));
      case 'devs':
      case 'stats':
        return reply(cgminerReply(command.toUpperCase(), []));
      default:
        writes.push(command);
        return reply(cgminerReply('X', [], { STATUS: 'S', Code: 47, Msg: `${command} done` }));
    }
  };
  return { script, writes };
}

describe('enablepool / disablepool read back', () => {
  // Pools listed without a Status: nothing says whether pool 1 is enabled.
  const pools = [
    { POOL: 0, URL: 'stratum+tcp://a:3333', User: 'w', Priority: 0 },
    { POOL: 1, URL: 'stratum+tcp://b:3333', User: 'w', Priority: 1 },
  ];

  for (const name of ['enablepool', 'disablepool']) {
    it(`${name}: a pool listed without a status is not verified (unknown, exit 1, sent once)`, async () => {
      const miner = unchangingMiner(pools);
      const fake = await each.fake(miner.script);
      const run = await control([
        name,
        '1',
        fake.target.key,
        '--yes',
        '--verify-timeout',
        '300ms',
        '--db',
        each.temp().db,
      ]);
      expect(run.json.results[0]).toMatchObject({ ok: false, result: 'unknown' });
      expect(run.json.results[0]?.verification?.detail).toMatch(/no status/);
      expect(run.code).toBe(1);
      expect(miner.writes).toEqual([name]);
    });
  }
});
