// history across a machine swap: an L3+ (scrypt) replaced by an S19 (sha256d) at the same address.
// Their hashrates are not one series: the chart, min/avg/max and --json show the S19's only, and
// say from when; temperatures and fans, physical figures of the address, stay whole.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHistoryOptions, runHistory } from '../../src/commands/history.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { HOUR_MS, openStore, runMaintenance, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from '../store/helpers.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const SWAP = NOW - 3 * HOUR_MS;
const L3 = {
  model: 'L3+',
  algorithm: 'scrypt',
  hashrate: { current_hs: 504e6, average_hs: null, nominal_hs: null },
};
const S19 = { algorithm: 'sha256d', hashrate: { current_hs: 95e12, average_hs: null, nominal_hs: null } };

let dir: string;
let cleanup: () => void;
let dbPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-swap-'));
  dbPath = path.join(dir, 'farm.db');
});
afterEach(() => cleanup());

function fill(from: number, to: number, overrides: typeof L3 | typeof S19): void {
  const store = openStore(dbPath);
  try {
    for (let t = from; t < to; t += 10 * 60_000)
      writeCycle(store, {
        site: 'north',
        startedAt: t,
        endedAt: t + 100,
        outcomes: [okOutcome(4001, overrides)],
      });
  } finally {
    store.close();
  }
}

interface HistoryJson {
  samples: number;
  min: number;
  max: number;
  machine_since: string | null;
  earlier_algorithm: string | null;
  points: { ts: string; value: number; source: string }[];
}

async function history(args: Record<string, string>, now = NOW): Promise<HistoryJson> {
  const ctx = memoryContext({ now: () => now, env: {} });
  const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '24h', ...args }, ctx);
  expect(await runHistory(opts, parseGlobals({ json: true }, ctx), ctx)).toBe(0);
  return JSON.parse(ctx.out()) as HistoryJson;
}

describe('history across a machine swap', () => {
  it('charts the hashrate of the machine there now only, and says from when and what hashed before', async () => {
    fill(NOW - 12 * HOUR_MS, SWAP, L3);
    fill(SWAP, NOW, S19);
    const json = await history({});
    expect([json.min, json.max]).toEqual([95e12, 95e12]);
    expect(json.samples).toBe(18);
    expect(json.machine_since).toBe(new Date(SWAP).toISOString());
    expect(json.earlier_algorithm).toBe('scrypt');
    expect(json.points[0]!.ts).toBe(new Date(SWAP).toISOString());
    // Temperatures are the address's: the whole window.
    const temp = await history({ metric: 'temp' });
    expect(temp.samples).toBe(72);
    expect(temp.machine_since).toBeNull();
    // The chart's footer says it too.
    const ctx = memoryContext({ now: () => NOW, env: {} });
    const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '24h' }, ctx);
    expect(await runHistory(opts, parseGlobals({}, ctx), ctx)).toBe(0);
    expect(ctx.out()).toMatch(
      /min 95\.\d+ TH\/s .*\(18 samples, from 2025-06-01T09:00Z only: another machine hashed scrypt here before\)/,
    );
  });

  it('keeps telling the machines apart once the raw rows from before the swap are hourly rollups', async () => {
    fill(NOW - 3 * 24 * HOUR_MS, SWAP - 24 * HOUR_MS, L3);
    fill(SWAP - 24 * HOUR_MS, NOW, S19);
    const store = openStore(dbPath);
    try {
      // A one-day retention: the L3+'s rows, and every run before the swap, are gone.
      runMaintenance(store, { now: NOW, retainMs: 24 * HOUR_MS, site: 'north', force: true });
      expect(
        store.db.prepare('SELECT count(*) FROM telemetry_history WHERE hashrate_hs < 1e9').pluck().get(),
      ).toBe(0);
    } finally {
      store.close();
    }
    const json = await history({ since: '3d' });
    expect(json.points.every((p) => p.value === 95e12)).toBe(true);
    expect(json.earlier_algorithm).toBe('scrypt');
  });

  it('does not hide the polls after a swap stamped ahead of now (a clock that ran ahead, set back since)', async () => {
    fill(NOW - 12 * HOUR_MS, NOW - 6 * HOUR_MS, L3);
    fill(NOW + 24 * HOUR_MS, NOW + 25 * HOUR_MS, S19);
    fill(NOW - 6 * HOUR_MS, NOW, S19);
    const json = await history({});
    expect(json.machine_since).toBeNull();
    expect(json.points.some((p) => p.value === 95e12)).toBe(true);
  });

  it("is no swap when a miner's algorithm reads 'unknown' now and then", async () => {
    const store = openStore(dbPath);
    try {
      for (let i = 0; i < 36; i++) {
        const t = NOW - 6 * HOUR_MS + i * 10 * 60_000;
        const outcome = okOutcome(4001, i % 2 === 1 ? { model: null, algorithm: 'unknown' } : S19);
        writeCycle(store, { site: 'north', startedAt: t, endedAt: t + 100, outcomes: [outcome] });
      }
    } finally {
      store.close();
    }
    const json = await history({});
    expect(json.machine_since).toBeNull();
    expect(json.samples).toBe(36);
  });
});
