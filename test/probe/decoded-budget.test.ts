// `probe --command` keeps each target's decoded replies until they are printed (at the end, with
// --json), charged to the budget of decoded replies (src/cgminer/budget.ts): a thousand peers
// answering 250 KB of empty objects grew `probe --command summary,stats --json` past 4 GB until it
// died. Real servers on 127.0.126.x: simulated miners beside hostile peers, probed at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollHold } from '../../src/cgminer/budget.js';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';
import { WatchedBudget } from '../support/watched-budget.js';

const HOST = '127.0.126.21';
const STATUS = '"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.9"}]';
/** 60 KB of text, 1.3 MB of heap once parsed, whatever the command. */
const EMPTY_OBJECTS = `{${STATUS},"SUMMARY":[${Array.from({ length: 20_000 }, () => '{}').join(',')}],"id":1}`;

const farms: Farm[] = [];
const peers: FakeMiner[] = [];
let real: string[] = [];
let hostile: string[] = [];

beforeAll(async () => {
  for (const profile of ['antminer-s19', 'antminer-s19', 'luxos', 'avalon']) {
    const farm = await startFarm({ profile, host: HOST, basePort: 0, count: 1 });
    farms.push(farm);
  }
  real = farms.map((farm) => farm.inventory()[0] as string);
  for (let i = 0; i < 4; i++)
    peers.push(await startFakeMiner({ kind: 'reply', bytes: EMPTY_OBJECTS }, { host: HOST }));
  hostile = peers.map((p) => p.target.key);
});

afterAll(async () => {
  await Promise.all([...farms.map((f) => f.stop()), ...peers.map((p) => p.close())]);
});

interface TargetResult {
  target: string;
  ok: boolean;
  responses: Record<string, Record<string, unknown>>;
  error?: { kind: string; message: string };
  errors?: Record<string, { kind: string; message: string }>;
}

/** Probes every target at once within a small budget that another holder keeps from being read alone. */
async function probeAll(args: string[]): Promise<{ code: number; out: string; budget: WatchedBudget }> {
  // Spent many times over by the hostile peers; the minimum share still holds any real target's replies.
  const budget = new WatchedBudget(512 * 1024, 256 * 1024);
  const other = new PollHold(budget);
  const ctx = memoryContext({ decodedBudget: budget });
  try {
    const code = await runCli(
      [
        ...args,
        'probe',
        ...real,
        ...hostile,
        '--command',
        'summary,stats',
        '--timeout',
        '5s',
        '--retries',
        '0',
      ],
      ctx,
    );
    return { code, out: ctx.out(), budget };
  } finally {
    other.release();
  }
}

describe('probe --command within a budget of decoded replies', () => {
  it('--json: prints the real miners whole, and each hostile peer as its too_large error', async () => {
    const { code, out, budget } = await probeAll(['--json']);
    expect(code).toBe(1);
    const { results } = JSON.parse(out) as { results: TargetResult[] };
    const byTarget = new Map(results.map((r) => [r.target, r]));
    for (const key of real) {
      const result = byTarget.get(key);
      expect(result?.ok, key).toBe(true);
      expect(Object.keys(result?.responses ?? {}), key).toEqual(['summary', 'stats']);
    }
    for (const key of hostile) {
      const result = byTarget.get(key);
      expect(result).toMatchObject({ ok: false, error: { kind: 'too_large' } });
      expect(result?.error?.message).toMatch(/^reply refused: it decodes to \d+ values/);
      expect(result?.errors?.stats?.kind).toBe('too_large');
      // What could not be held is not printed either.
      expect(result?.responses).toEqual({});
    }
    // The real miners' replies were charged while they waited to be printed, then given back.
    expect(budget.peak).toBeGreaterThan(0);
    expect(budget.heldBytes).toBe(0);
  });

  it('plain text: the same, each target given back once its lines are written', async () => {
    const { code, out, budget } = await probeAll([]);
    expect(code).toBe(1);
    const lines = out.split('\n').filter(Boolean);
    for (const key of real) {
      expect(
        lines.some((l) => l.startsWith(`${key}\tstats\t`)),
        key,
      ).toBe(true);
      expect(
        lines.some((l) => l.startsWith(`${key}\t`) && l.includes('\terror\t')),
        key,
      ).toBe(false);
    }
    for (const key of hostile) {
      const mine = lines.filter((l) => l.startsWith(`${key}\t`));
      expect(mine.map((l) => l.split('\t').slice(1, 5).join(' '))).toEqual([
        'summary error  too_large',
        'stats error  too_large',
      ]);
    }
    expect(budget.peak).toBeGreaterThan(0);
    expect(budget.heldBytes).toBe(0);
  });
});
