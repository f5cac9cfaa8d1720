// Polls in flight share a budget of decoded replies (src/cgminer/budget.ts): a thousand miners
// answering 250 KB of empty objects once held 4.5 GB and crashed collect. Real servers on 127.0.0.1:
// simulated miners beside hostile peers, polled at once through one client.
import { afterEach, describe, expect, it } from 'vitest';
import { PollHold, ReplyBudget } from '../../src/cgminer/budget.js';
import { createClient } from '../../src/cgminer/client.js';
import { MinerError } from '../../src/errors.js';
import { createDialectCache, fetchSnapshot } from '../../src/miners/fetch.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import type { Target } from '../../src/targets/types.js';
import { type FakeMiner, minerOutcome, startFakeMiner } from '../support/fake-miner.js';
import { WatchedBudget } from '../support/watched-budget.js';

const STATUS = '"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}]';
/** 60 KB of text, 1.3 MB of heap once parsed, whatever the command. */
const EMPTY_OBJECTS = `{${STATUS},"SUMMARY":[${Array.from({ length: 20_000 }, () => '{}').join(',')}],"id":1}`;

const toTarget = (key: string): Target => {
  const at = key.lastIndexOf(':');
  return { host: key.slice(0, at), port: Number(key.slice(at + 1)), key };
};

let farms: Farm[] = [];
let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all([...farms.map((f) => f.stop()), ...miners.map((m) => m.close())]);
  farms = [];
  miners = [];
});

async function startSimulated(profile: string, count: number): Promise<Target[]> {
  const farm = await startFarm({ profile, count, host: '127.0.0.1', basePort: 0 });
  farms.push(farm);
  return farm.inventory().map(toTarget);
}

async function startHostile(count: number, reply = EMPTY_OBJECTS): Promise<Target[]> {
  for (let i = 0; i < count; i++) miners.push(await startFakeMiner({ kind: 'reply', bytes: reply }));
  return miners.slice(-count).map((m) => toTarget(`${m.target.host}:${m.target.port}`));
}

const outcome = minerOutcome;

describe('polls in flight within a budget of decoded replies', () => {
  it('refuses the hostile replies and reads the real miners beside them, then gives it all back', async () => {
    const real = [
      ...(await startSimulated('antminer-s19', 2)),
      ...(await startSimulated('whatsminer', 1)),
      ...(await startSimulated('luxos', 1)),
    ];
    const hostile = await startHostile(4);
    const client = createClient({ timeoutMs: 5000, maxBytes: 1 << 20, retries: 0 });
    // Budget spent many times over by four such polls; the minimum share still holds any real poll.
    const budget = new ReplyBudget(512 * 1024, 256 * 1024);
    // Another poll in flight for the whole test, so that no poll is ever read alone (a poll alone
    // is bounded by its replies' caps only).
    const other = new PollHold(budget);
    const cache = createDialectCache();
    try {
      const results = await Promise.all(
        [...real, ...hostile].map((target) => outcome(fetchSnapshot(client, target, { budget, cache }))),
      );
      expect(results.slice(0, real.length)).toEqual(real.map(() => 'ok'));
      for (const result of results.slice(real.length)) {
        expect(result).toBeInstanceOf(MinerError);
        expect((result as MinerError).kind).toBe('too_large');
        expect((result as MinerError).message).toMatch(/^reply refused: it decodes to \d+ values/);
      }
      // A second cycle, the dialects known: the same.
      const again = await Promise.all(
        [...real, ...hostile].map((target) => outcome(fetchSnapshot(client, target, { budget, cache }))),
      );
      expect(again.map((r) => (r === 'ok' ? r : r.kind))).toEqual([
        ...real.map(() => 'ok'),
        ...hostile.map(() => 'too_large'),
      ]);
    } finally {
      other.release();
    }
    expect(budget.heldBytes).toBe(0);
  });

  it('charges each poll for what it holds until its snapshot is built', async () => {
    const [target] = await startSimulated('antminer-s19', 1);
    const client = createClient({ timeoutMs: 5000, maxBytes: 1 << 20, retries: 0 });
    const budget = new WatchedBudget(512 * 1024, 256 * 1024);
    const { snapshot } = await fetchSnapshot(client, target as Target, { budget });
    expect(snapshot.make).toBe('Antminer');
    // version, summary, stats and pools of an S19: a few thousand values, far under the minimum share.
    expect(budget.peak).toBeGreaterThan(10 * 1024);
    expect(budget.peak).toBeLessThan(256 * 1024);
    expect(budget.heldBytes).toBe(0);
  });

  it('gives back what a failed poll held', async () => {
    // Answers version, then closes every other request: the poll fails after holding a reply.
    const version = `{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"CGMiner":"4.11.1","API":"3.7"}],"id":1}`;
    miners.push(
      await startFakeMiner((request) =>
        request.includes('"version"') ? { kind: 'reply', bytes: version } : { kind: 'close' },
      ),
    );
    const miner = miners[0] as FakeMiner;
    const client = createClient({ timeoutMs: 2000, maxBytes: 1 << 20, retries: 0 });
    const budget = new WatchedBudget(512 * 1024, 256 * 1024);
    const result = await outcome(
      fetchSnapshot(client, toTarget(`${miner.target.host}:${miner.target.port}`), { budget }),
    );
    expect(result).toBeInstanceOf(MinerError);
    expect(budget.peak).toBeGreaterThan(0);
    expect(budget.heldBytes).toBe(0);
  });
});
