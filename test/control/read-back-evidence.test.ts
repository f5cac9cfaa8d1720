// A read-back confirms a write only from what the miner shows: a field the miner does not report is
// no evidence that the change happened (the write was answered S, the state may be unchanged).
import { describe, expect, it } from 'vitest';
import { control, perTest, plainS9 } from './support.js';

const each = perTest();

/** A plain S9 that answers every write S and never changes: `pools` and `summary` as the test gives. */
function unchangingMiner(pools: Record<string, unknown>[], summary: Record<string, unknown> = {}) {
  return plainS9({ pools, summary });
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
