// The audit keeps a miner's replies only while that miner is audited, charged to the budget of
// decoded replies (src/cgminer/budget.ts): a thousand peers answering 250 KB of `{}` to every read
// once ran it out of heap, and a /16 of real miners kept every reply to the end of the run.
import { afterEach, describe, expect, it } from 'vitest';
import { type AuditOptions, runAudit } from '../../src/audit/index.js';
import { PollHold, ReplyBudget } from '../../src/cgminer/budget.js';
import { startFarm } from '../../src/sim/index.js';
import type { Target } from '../../src/targets/types.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

const VERSION =
  '{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions","Description":"cgminer 4.11.1"}],"VERSION":[{"CGMiner":"4.11.1","API":"3.7"}],"id":1}';
/** 60 KB of text, 1.3 MB of heap once parsed: the answer to every read but `version`. */
const EMPTY_OBJECTS = `{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}],"SUMMARY":[${Array.from({ length: 20_000 }, () => '{}').join(',')}],"id":1}`;

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});

const toTarget = (key: string): Target => {
  const at = key.lastIndexOf(':');
  return { host: key.slice(0, at), port: Number(key.slice(at + 1)), key };
};

function options(targets: Target[], decodedBudget: ReplyBudget): AuditOptions {
  return {
    targets,
    targetCount: targets.length,
    named: new Set(targets.map((t) => t.key)),
    policy: { allowedPools: null, workerPattern: null },
    services: false,
    checkDefaultCreds: false,
    timeoutMs: 3000,
    retries: 0,
    maxBytes: 1 << 20,
    concurrency: 16,
    discovery: { connectTimeoutMs: 2000, replyTimeoutMs: 3000, retries: 0, concurrency: 16 },
    decodedBudget,
  };
}

describe('audit within a budget of decoded replies', () => {
  it('refuses the replies a peer cannot be allowed to hold and audits the real miners in full', async () => {
    const farm = await startFarm({ profile: 'mix', count: 6, seed: 3, host: '127.0.0.1', basePort: 0 });
    stops.push(() => farm.stop());
    const hostile: FakeMiner[] = [];
    for (let i = 0; i < 3; i++) {
      const peer = await startFakeMiner((request) => ({
        kind: 'reply',
        bytes: request.includes('"version"') ? VERSION : EMPTY_OBJECTS,
      }));
      stops.push(() => peer.close());
      hostile.push(peer);
    }
    // One more answers `version` itself with them: refused at discovery, before any audit read.
    const loud = await startFakeMiner({ kind: 'reply', bytes: EMPTY_OBJECTS });
    stops.push(() => loud.close());
    const loudTarget = toTarget(`${loud.target.host}:${loud.target.port}`);
    const real = farm.inventory().map(toTarget);
    const peers = hostile.map((p) => toTarget(`${p.target.host}:${p.target.port}`));
    // Spent from the start; each miner still gets the minimum share (1 MiB), and never reads alone.
    const budget = new ReplyBudget(64 * 1024);
    const other = new PollHold(budget);
    let report: Awaited<ReturnType<typeof runAudit>>;
    try {
      report = await runAudit(options([...real, ...peers, loudTarget], budget));
    } finally {
      other.release();
    }
    expect(budget.heldBytes).toBe(0);

    const partial = new Map(report.failures.filter((f) => f.partial).map((f) => [f.target, f]));
    for (const peer of peers) {
      expect(partial.get(peer.key)?.kind, peer.key).toBe('too_large');
      expect(partial.get(peer.key)?.message).toMatch(/reply refused: it decodes to \d+ values/);
    }
    for (const target of real) expect(partial.has(target.key), target.key).toBe(false);
    const notAudited = report.failures.find((f) => f.target === loudTarget.key);
    expect(notAudited).toMatchObject({ kind: 'too_large' });
    expect(notAudited?.partial).toBeUndefined();
    expect(notAudited?.message).toMatch(/reply refused: it decodes to \d+ values/);
    // The real miners were judged on their replies, though the report no longer holds them.
    const judged = new Set(report.findings.map((f) => f.target));
    for (const target of real) expect(judged.has(target.key), target.key).toBe(true);
    expect(report.miners.map((m) => m.target).sort()).toEqual([...real, ...peers].map((t) => t.key).sort());
  });

  it('finds the same, miner by miner as each is read, at any concurrency', async () => {
    const farm = await startFarm({ profile: 'mix', count: 8, seed: 5, host: '127.0.0.1', basePort: 0 });
    stops.push(() => farm.stop());
    const targets = farm.inventory().map(toTarget);
    const first = await runAudit(options(targets, new ReplyBudget()));
    const second = await runAudit({ ...options(targets, new ReplyBudget()), concurrency: 1 });
    expect(first.findings.length).toBeGreaterThan(targets.length);
    expect(second.findings).toEqual(first.findings);
  });
});
