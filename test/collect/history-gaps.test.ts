// history: stretches without a value (the miner offline) or without polls (the collector stopped)
// are marked under the chart, not drawn as hours at the last hashrate and left unsaid.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chartColumns } from '../../src/collect/series.js';
import { parseHistoryOptions, runHistory } from '../../src/commands/history.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { HOUR_MS, openStore, runMaintenance, writeCycle } from '../../src/store/index.js';
import { failedOutcome, okOutcome, tempDir } from '../store/helpers.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
let dir: string;
let cleanup: () => void;
let dbPath: string;

beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-gaps-'));
  dbPath = path.join(dir, 'farm.db');
  const store = openStore(dbPath);
  try {
    // 12 hours of 5-minute cycles: offline 9h..6h ago, the collector stopped 4h..2h ago.
    for (let t = NOW - 12 * HOUR_MS; t < NOW; t += 5 * 60_000) {
      const ago = (NOW - t) / HOUR_MS;
      if (ago <= 4 && ago > 2) continue;
      const offline = ago <= 9 && ago > 6;
      writeCycle(store, {
        site: 'north',
        startedAt: t,
        endedAt: t + 100,
        outcomes: [offline ? failedOutcome(4001) : okOutcome(4001)],
      });
    }
  } finally {
    store.close();
  }
});
afterEach(() => cleanup());

async function chart(since: string, columns: number): Promise<string> {
  const ctx = memoryContext({ now: () => NOW, env: {} });
  (ctx.stdout as { columns?: number }).columns = columns;
  const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since }, ctx);
  expect(await runHistory(opts, parseGlobals({}, ctx), ctx)).toBe(0);
  return ctx.out();
}

describe('history chart gaps', () => {
  it('marks the offline hours and the hours nobody polled under the line', async () => {
    // 12 h on 72 columns: 10 minutes a column.
    const out = await chart('12h', 72 + 14);
    const lines = out.split('\n');
    const marks = lines.find((line) => /^ {12}[ ×·]*[×·]/.test(line));
    expect(marks, out).toBeDefined();
    const row = marks!.slice(12);
    // Offline 9h..6h ago: about 18 columns around 3h..6h into the chart; unpolled 8h..10h in.
    const offline = [...row].flatMap((c, i) => (c === '×' ? [i] : []));
    const unpolled = [...row].flatMap((c, i) => (c === '·' ? [i] : []));
    expect(offline.length).toBeGreaterThanOrEqual(15);
    expect(Math.min(...offline)).toBeGreaterThanOrEqual(17);
    expect(Math.max(...offline)).toBeLessThanOrEqual(37);
    expect(unpolled.length).toBeGreaterThanOrEqual(9);
    expect(Math.min(...unpolled)).toBeGreaterThanOrEqual(47);
    expect(Math.max(...unpolled)).toBeLessThanOrEqual(61);
    expect(out).toMatch(/× no value \(offline or no reading\), · not polled/);
  });

  it('marks nothing for a series polled throughout, and each failed poll of a short one', async () => {
    expect(await chart('1h', 200)).not.toMatch(/[×·]/);
    // 24 polls on a wide terminal: one column each; the offline ones marked.
    const columns = chartColumns(
      Array.from({ length: 24 }, (_, i) => ({
        ts: i * 60_000,
        value: i >= 10 && i < 14 ? null : 5,
        source: 'raw' as const,
      })),
      200,
    );
    expect(columns.values).toHaveLength(24);
    expect(columns.marks.flatMap((m, i) => (m === 'no_value' ? [i] : []))).toEqual([10, 11, 12, 13]);
  });

  it('gives a stretch without polls its columns even when every point would fit', () => {
    // Three polls a minute apart, then one ten hours later: not four evenly spaced columns.
    const points = [0, 60_000, 120_000, 10 * HOUR_MS].map((ts) => ({
      ts,
      value: 1,
      source: 'raw' as const,
    }));
    const { values, marks } = chartColumns(points, 50);
    expect(values).toHaveLength(50);
    expect(marks.filter((m) => m === 'not_polled').length).toBeGreaterThanOrEqual(45);
  });
});

describe('history chart of rolled-up hours before raw polls', () => {
  it('gives each hour the same width, whether it is one rollup or its polls', () => {
    // A day of hourly rollups at 100, then a day of polls every 30 minutes at 200: 72 points,
    // which fit 100 columns one each, but a day is a day.
    const hourly = Array.from({ length: 24 }, (_, h) => ({
      ts: h * HOUR_MS,
      value: 100,
      source: 'hourly' as const,
      polls: 2,
    }));
    const raw = Array.from({ length: 48 }, (_, i) => ({
      ts: 24 * HOUR_MS + i * 30 * 60_000,
      value: 200,
      source: 'raw' as const,
    }));
    const { values, marks } = chartColumns([...hourly, ...raw], 100);
    const firstDay = values.filter((v) => v === 100).length;
    const secondDay = values.filter((v) => v === 200).length;
    expect(Math.abs(firstDay - secondDay)).toBeLessThanOrEqual(2);
    expect(marks.every((m) => m === '')).toBe(true);
  });
});

describe('history of a miner that never gave a value', () => {
  it('counts its polls, one or many, rolled up or not', async () => {
    const store = openStore(dbPath);
    try {
      // 4009: one failed poll. 4010: offline for the two hours before the last one, 5-minute cycles.
      writeCycle(store, {
        site: 'south',
        startedAt: NOW - 60_000,
        endedAt: NOW - 59_000,
        outcomes: [failedOutcome(4009)],
      });
      for (let t = NOW - 3 * HOUR_MS; t < NOW - HOUR_MS; t += 5 * 60_000)
        writeCycle(store, { site: 'south', startedAt: t, endedAt: t + 100, outcomes: [failedOutcome(4010)] });
      // An hour's retention: those two hours are rollups now.
      runMaintenance(store, { now: NOW, retainMs: HOUR_MS, site: 'south', force: true });
    } finally {
      store.close();
    }
    const said = async (miner: string) => {
      const ctx = memoryContext({ now: () => NOW, env: {} });
      const opts = await parseHistoryOptions(miner, { db: dbPath, since: '4h' }, ctx);
      expect(await runHistory(opts, parseGlobals({}, ctx), ctx)).toBe(0);
      return ctx.out();
    };
    expect(await said('127.0.0.1:4009')).toMatch(/: no data \(1 poll without a value\)\n$/);
    expect(await said('127.0.0.1:4010')).toMatch(/: no data \(24 polls without a value\)\n$/);
  });
});
