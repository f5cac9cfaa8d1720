// Scan's endpoints keep their decoded replies (`version`, then the follow-ups) until each result is
// made, and charge them to the budget of decoded replies (src/cgminer/budget.ts): a thousand peers
// answering every request with 250 KB of empty objects grew a scan to 1.4 GB. Real servers on
// 127.0.126.x: one simulated miner per profile beside hostile peers, scanned at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollHold, type ReplyBudget } from '../../src/cgminer/budget.js';
import { buildScanTargets, type ScanOptions, type ScanResult, scan } from '../../src/scan/index.js';
import { type Farm, PROFILES, startFarm } from '../../src/sim/index.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';
import { WatchedBudget } from '../support/watched-budget.js';

const HOST = '127.0.126.20';
const STATUS = '"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.9"}]';
/** 60 KB of text, 1.3 MB of heap once parsed, whatever the command. */
const EMPTY_OBJECTS = `{${STATUS},"SUMMARY":[${Array.from({ length: 20_000 }, () => '{}').join(',')}],"id":1}`;
/** A `version` that names no model: scan asks the follow-ups (`devdetails+stats`, then each alone). */
const NAMELESS_VERSION =
  '{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"CGMiner":"4.11.1","API":"3.7"}],"id":1}';

const farms: Farm[] = [];
const peers: FakeMiner[] = [];
const real: { key: string; profile: string }[] = [];
let hostile: string[] = [];
let nameless = '';

beforeAll(async () => {
  for (const profile of PROFILES) {
    const farm = await startFarm({ profile: profile.name, host: HOST, basePort: 0, count: 1 });
    farms.push(farm);
    real.push({ key: farm.inventory()[0] as string, profile: profile.name });
  }
  for (let i = 0; i < 4; i++)
    peers.push(await startFakeMiner({ kind: 'reply', bytes: EMPTY_OBJECTS }, { host: HOST }));
  hostile = peers.map((p) => p.target.key);
  const follow = await startFakeMiner(
    (request) =>
      request.includes('"version"')
        ? { kind: 'reply', bytes: NAMELESS_VERSION }
        : { kind: 'reply', bytes: EMPTY_OBJECTS },
    { host: HOST },
  );
  peers.push(follow);
  nameless = follow.target.key;
});

afterAll(async () => {
  await Promise.all([...farms.map((f) => f.stop()), ...peers.map((p) => p.close())]);
});

async function scanAll(budget?: ReplyBudget): Promise<Map<string, ScanResult>> {
  const keys = [...real.map((r) => r.key), ...hostile, nameless];
  const targets = await buildScanTargets(keys, [4028]);
  const options: ScanOptions = {
    ports: [4028],
    connectTimeoutMs: 2000,
    replyTimeoutMs: 5000,
    maxBytes: 1 << 20,
    concurrency: 64,
    retries: 0,
    keepNone: true,
    ...(budget ? { budget } : {}),
  };
  const { results } = await scan(targets, options);
  return new Map(results.map((r) => [r.target, r]));
}

const identity = (r: ScanResult | undefined) =>
  r && { outcome: r.outcome, make: r.make, model: r.model, firmware: r.firmware, kind: r.kind };

describe('scan within a budget of decoded replies', () => {
  it('refuses the hostile replies, identifies every real miner as it would alone, and gives it all back', async () => {
    const alone = await scanAll();
    // Spent many times over by the hostile peers; the minimum share still holds any real endpoint.
    const budget = new WatchedBudget(512 * 1024, 256 * 1024);
    // Another holder in flight for the whole scan: no endpoint is ever read alone (one alone is
    // bounded by its reply's cap only).
    const other = new PollHold(budget);
    let found: Map<string, ScanResult>;
    try {
      found = await scanAll(budget);
    } finally {
      other.release();
    }
    for (const { key, profile } of real) {
      expect(identity(found.get(key)), profile).toEqual(identity(alone.get(key)));
      expect(found.get(key)?.outcome, profile).toBe('miner');
    }
    for (const key of hostile) {
      expect(found.get(key)).toMatchObject({ outcome: 'open', kind: 'too_large' });
      // What happened, not a cap the reply is far under.
      expect(found.get(key)?.reason).toMatch(/^reply refused: it decodes to \d+ values/);
    }
    // Named a CGMiner in `version`; the follow-ups it answered with empty objects were refused.
    expect(found.get(nameless)).toMatchObject({ outcome: 'miner', model: null });
    expect(found.get(nameless)?.round_trips).toBeGreaterThan(1);
    // The real miners' replies were charged, and everything was given back.
    expect(budget.peak).toBeGreaterThan(0);
    expect(budget.heldBytes).toBe(0);
  });
});
