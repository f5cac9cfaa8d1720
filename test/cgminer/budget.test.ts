// The budget of all replies in flight: a farm of endless replies must not hold the memory of every
// reply's own cap at once. Pure rules first, then real exchanges against servers on 127.0.0.1.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_REPLY_SHARE_BYTES, ReplyBudget } from '../../src/cgminer/budget.js';
import { type ExchangeResult, exchange } from '../../src/cgminer/connection.js';
import { MinerError } from '../../src/errors.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';
import { WatchedBudget } from '../support/watched-budget.js';

const SAMPLES = new URL('../../../shared/protocol/samples/', import.meta.url);
const REQUEST = new TextEncoder().encode('{"command":"stats"}');

describe('ReplyBudget', () => {
  it('gives every reply its bytes while the total stays within the budget', () => {
    const budget = new ReplyBudget(1000, 10);
    budget.open();
    budget.open();
    expect(budget.take(0, 600)).toBe(true);
    expect(budget.take(0, 400)).toBe(true);
    expect(budget.heldBytes).toBe(1000);
  });

  it('past the budget, refuses only a reply holding more than its share', () => {
    const budget = new ReplyBudget(1000, 10);
    budget.open();
    budget.open();
    expect(budget.take(0, 900)).toBe(true);
    // The other reply is within its share (1000 / 2): it gets its bytes, overdrawing the budget.
    expect(budget.take(0, 200)).toBe(true);
    // The first holds 900, more than its share: cut.
    expect(budget.take(900, 100)).toBe(false);
    expect(budget.heldBytes).toBe(1100);
  });

  it('never cuts a reply below the minimum share, however many are in flight', () => {
    const budget = new ReplyBudget(100, 50);
    for (let i = 0; i < 10; i++) budget.open();
    expect(budget.take(0, 100)).toBe(true);
    expect(budget.take(0, 40)).toBe(true);
    expect(budget.take(40, 10)).toBe(true);
    expect(budget.take(50, 1)).toBe(false);
  });

  it('never cuts a reply read alone: its own cap bounds it', () => {
    const budget = new ReplyBudget(100, 10);
    budget.open();
    expect(budget.take(0, 300)).toBe(true);
    expect(budget.take(300, 100)).toBe(true);
    budget.open();
    expect(budget.take(400, 1)).toBe(false);
  });

  it('gives back what a reply took when it closes', () => {
    const budget = new ReplyBudget(100, 10);
    budget.open();
    budget.take(0, 80);
    budget.close(80);
    budget.open();
    expect(budget.take(0, 100)).toBe(true);
    expect(budget.heldBytes).toBe(100);
  });
});

describe('exchange within a budget of all replies in flight', () => {
  let miners: FakeMiner[] = [];
  afterEach(async () => {
    await Promise.all(miners.map((m) => m.close()));
    miners = [];
  });

  const run = (miner: FakeMiner, budget: ReplyBudget, maxBytes: number) => {
    let kept = 0;
    const result = exchange({
      ...miner.target,
      request: REQUEST,
      connectTimeoutMs: 2000,
      timeoutMs: 5000,
      maxBytes,
      budget,
      onBytes: (bytes) => {
        kept = bytes.length;
      },
    }).then(
      (value: ExchangeResult) => ({ value, kept: () => kept }),
      (error: unknown) => ({ error, kept: () => kept }),
    );
    return result;
  };

  it('cuts endless replies at their share and still reads the real reply beside them', async () => {
    const stats = readFileSync(new URL('antminer-s19pro_2022-12__stats.json', SAMPLES));
    for (let i = 0; i < 4; i++) miners.push(await startFakeMiner({ kind: 'endless' }));
    // Still arriving while the endless ones are cut (so none of them is ever read alone).
    miners.push(await startFakeMiner({ kind: 'trickle', bytes: stats, chunkSize: 256, delayMs: 5 }));
    // Each reply may hold 8 MiB alone; together, 512 KiB.
    const budget = new WatchedBudget(512 * 1024, 16 * 1024);
    const maxBytes = 8 * 2 ** 20;
    const outcomes = await Promise.all(miners.map((m) => run(m, budget, maxBytes)));
    for (const outcome of outcomes.slice(0, 4)) {
      expect('error' in outcome).toBe(true);
      const error = (outcome as { error: unknown }).error as MinerError;
      expect(error).toBeInstanceOf(MinerError);
      expect(error.kind).toBe('too_large');
      expect(error.message).toMatch(/cut at \d+ bytes: the replies in flight hold over/);
    }
    // Together they never held more than the budget, give or take a read (64 KiB) each.
    expect(budget.peak).toBeGreaterThan(384 * 1024);
    expect(budget.peak).toBeLessThanOrEqual(512 * 1024 + 5 * 64 * 1024);
    const good = outcomes[4] as { value: ExchangeResult };
    expect(good.value.terminated).toBe(true);
    expect(good.value.bytes.length).toBe(stats.length + 1);
    expect(budget.heldBytes).toBe(0);
  });

  it('never cuts a real reply, the largest known (HonorKnight stats, 49 KB) included', async () => {
    const honorknight = readFileSync(new URL('honorknight__stats.json', SAMPLES));
    for (let i = 0; i < 4; i++) miners.push(await startFakeMiner({ kind: 'endless' }));
    miners.push(await startFakeMiner({ kind: 'trickle', bytes: honorknight, chunkSize: 4096, delayMs: 5 }));
    // A budget spent many times over: each reply still gets the minimum share (256 KiB).
    const budget = new ReplyBudget(16 * 1024);
    const outcomes = await Promise.all(miners.map((m) => run(m, budget, 8 * 2 ** 20)));
    for (const outcome of outcomes.slice(0, 4)) {
      expect(((outcome as { error: unknown }).error as MinerError).kind).toBe('too_large');
      // Cut on the read that would have taken it past its share (a read is at most 64 KiB).
      expect(outcome.kept()).toBeGreaterThan(MIN_REPLY_SHARE_BYTES - 64 * 1024);
    }
    const good = outcomes[4] as { value: ExchangeResult };
    expect(good.value.bytes.length).toBe(honorknight.length + 1);
    expect(MIN_REPLY_SHARE_BYTES).toBeGreaterThan(4 * honorknight.length);
  });

  it('lets a reply read alone grow past the budget to its own cap', async () => {
    const big = `{"STATUS":[{"STATUS":"S"}],"pad":"${'x'.repeat(300 * 1024)}","id":1}`;
    miners.push(await startFakeMiner({ kind: 'reply', bytes: big }));
    const budget = new ReplyBudget(64 * 1024, 16 * 1024);
    const outcome = await run(miners[0] as FakeMiner, budget, 1 << 20);
    expect('value' in outcome).toBe(true);
    expect((outcome as { value: ExchangeResult }).value.bytes.length).toBe(big.length + 1);
    expect(budget.heldBytes).toBe(0);
  });
});
