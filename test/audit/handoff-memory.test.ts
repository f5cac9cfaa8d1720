// Discovery hands each miner it finds to the audit with its `version` reply. Once a miner is
// audited, nothing may keep that reply: its charge to the budget of decoded replies is released
// then, and a run over a /16 found tens of thousands of miners. Measured on the heap (after a full
// collection) as the audit goes: what the first miners' replies took comes back by the last.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/index.js';
import { ReplyBudget } from '../../src/cgminer/budget.js';
import type { Target } from '../../src/targets/types.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});

/** A `version` of 165 KB (about 0.6 MB once decoded): a real one is a few hundred bytes. */
const BIG_VERSION = `{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions","Description":"cgminer 4.11.1"}],"VERSION":[{"CGMiner":"4.11.1","API":"3.7","pad":[${Array.from({ length: 20_000 }, (_, i) => `"x${i}"`).join(',')}]}],"id":1}`;
const INVALID =
  '{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command","Description":"cgminer 4.11.1"}],"id":1}';

describe('the miners discovery hands to the audit', () => {
  it('are not held once audited: the heap they took comes back as the audit goes', async () => {
    const peers: FakeMiner[] = [];
    for (let i = 0; i < 60; i++) {
      const peer = await startFakeMiner((request) => ({
        kind: 'reply',
        bytes: request.includes('"version"') ? BIG_VERSION : INVALID,
      }));
      stops.push(() => peer.close());
      peers.push(peer);
    }
    const targets: Target[] = peers.map((peer) => peer.target);
    const heap: number[] = [];
    gc();
    const base = process.memoryUsage().heapUsed;
    let seen = 0;
    const report = await runAudit({
      targets,
      targetCount: targets.length,
      named: new Set(targets.map((target) => target.key)),
      policy: { allowedPools: null, workerPattern: null },
      services: false,
      checkDefaultCreds: false,
      timeoutMs: 5000,
      retries: 0,
      maxBytes: 1 << 22,
      concurrency: 2,
      discovery: { connectTimeoutMs: 5000, replyTimeoutMs: 5000, retries: 0, concurrency: 8 },
      // Room for every reply: what is measured is what the audit keeps, not what the budget refuses.
      decodedBudget: new ReplyBudget(1 << 30),
      onProgress: ({ audited }) => {
        if (audited === seen) return;
        seen = audited;
        gc();
        heap.push(process.memoryUsage().heapUsed - base);
      },
    });
    expect(report.miners).toHaveLength(60);
    expect(heap).toHaveLength(60);
    // While most are still to be audited, their replies are held (about 35 MB here); by the end,
    // not even a quarter of that is left.
    const early = Math.max(...heap.slice(0, 5));
    expect(early).toBeGreaterThan(10e6);
    expect(heap.at(-1)!).toBeLessThan(early / 4);
  });
});
