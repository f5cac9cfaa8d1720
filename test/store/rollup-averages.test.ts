// `history` over hours retention kept only as rollups must say what the raw polls said: each
// metric's min/avg/max and its count of polls with a value, whether an hour is raw rows or its
// rollup. Real SQLite files; collect's own order (a cycle, then the hourly maintenance).
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSeries } from '../../src/collect/read.js';
import { type HistoryMetric, seriesStats } from '../../src/collect/series.js';
import { HOUR_MS, openStore, runMaintenance, type Store, writeCycle } from '../../src/store/index.js';
import { failedOutcome, okOutcome, tempDir } from './helpers.js';

let cleanup: () => void;
let store: Store;
let file: string;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  file = path.join(dir, 'hashctl.db');
  store = openStore(file);
});
afterEach(() => {
  store.close();
  cleanup();
});

const DAY = 24 * HOUR_MS;
const T0 = Date.UTC(2025, 3, 1, 0, 0, 0);
const minerId = () => store.db.prepare('SELECT id FROM miners WHERE port = 4001').pluck().get() as number;

interface Poll {
  hashrate: number | null;
  temp: number | null;
  fan: number | null;
}

/**
 * Two days of polls every 5 minutes, maintenance after each with a one-day retention. Within an
 * hour the chip runs 60 → 82 °C and the slowest fan 4000 → 5100 rpm; some polls fail, some answer
 * without a hashrate (unit unknown), some without chip sensors (the board's reading stands in),
 * some without fans.
 */
function collect(): Poll[] {
  const polls: Poll[] = [];
  for (let t = T0; t < T0 + 2 * DAY; t += 5 * 60_000) {
    const step = (t - T0) / (5 * 60_000);
    const minute = (t % HOUR_MS) / 60_000;
    if (step % 7 === 3) {
      polls.push({ hashrate: null, temp: null, fan: null });
      writeCycle(store, {
        site: 'default',
        startedAt: t,
        endedAt: t + 1000,
        outcomes: [failedOutcome(4001)],
      });
    } else {
      const hashrate = step % 5 === 1 ? null : 100e12 + minute * 1e11;
      const chip = step % 4 === 2 ? null : 60 + minute * 0.4;
      const board = 50 + minute * 0.2;
      const fan = step % 6 === 5 ? null : 4000 + minute * 20;
      polls.push({ hashrate, temp: chip ?? board, fan });
      const outcome = okOutcome(4001, {
        hashrate: { current_hs: hashrate, average_hs: null, nominal_hs: null },
        temp_max_chip_c: chip,
        temp_max_board_c: board,
        boards: [],
        fans: fan === null ? [] : [{ index: 0, rpm: fan }],
      });
      writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 1000, outcomes: [outcome] });
    }
    runMaintenance(store, { now: t + 2000, retainMs: DAY, site: 'default' });
  }
  return polls;
}

function expected(values: (number | null)[]) {
  const known = values.filter((v): v is number => v !== null);
  return {
    min: Math.min(...known),
    max: Math.max(...known),
    avg: known.reduce((a, b) => a + b, 0) / known.length,
    samples: known.length,
  };
}

describe('history across the raw/rollup boundary', () => {
  it('gives each metric the min, average, max and poll count of the raw polls', () => {
    const polls = collect();
    const metrics: [HistoryMetric, keyof Poll, number][] = [
      ['hashrate', 'hashrate', -6],
      ['temp', 'temp', 6],
      ['fans', 'fan', 6],
    ];
    for (const [metric, key, digits] of metrics) {
      const points = readSeries(store, minerId(), metric, T0);
      expect(points.some((p) => p.source === 'hourly')).toBe(true);
      const stats = seriesStats(points);
      const want = expected(polls.map((p) => p[key]));
      expect([metric, stats.samples, stats.min, stats.max]).toEqual([
        metric,
        want.samples,
        want.min,
        want.max,
      ]);
      expect(stats.avg).toBeCloseTo(want.avg, digits);
    }
  });

  it('counts the polls without a value as the raw rows did, whether an hour is raw or rolled up', () => {
    const polls = collect();
    for (const [metric, key] of [
      ['hashrate', 'hashrate'],
      ['temp', 'temp'],
      ['fans', 'fan'],
    ] as [HistoryMetric, keyof Poll][]) {
      const points = readSeries(store, minerId(), metric, T0);
      expect(points.some((p) => p.source === 'hourly')).toBe(true);
      // "N without a value": failed polls and polls without the figure, one each, in rolled-up
      // hours too (an hour of 12 polls, 3 failed, was 0 gaps once rolled up; an offline hour 1).
      expect([metric, seriesStats(points).gaps]).toEqual([
        metric,
        polls.filter((p) => p[key] === null).length,
      ]);
    }
  });

  it('polls added into a rolled-up hour whose raw rows are gone weigh by the polls with a value', () => {
    const polls = collect();
    // The clock set back into the first hour (its raw rows deleted): one more poll, hot and slow.
    const t = T0 + 30 * 60_000;
    const late = { hashrate: 90e12, temp: 95, fan: 3000 };
    writeCycle(store, {
      site: 'default',
      startedAt: t,
      endedAt: t + 1000,
      outcomes: [
        okOutcome(4001, {
          hashrate: { current_hs: late.hashrate, average_hs: null, nominal_hs: null },
          temp_max_chip_c: late.temp,
          temp_max_board_c: 70,
          boards: [],
          fans: [{ index: 0, rpm: late.fan }],
        }),
      ],
    });
    // The next maintenance deletes that raw row, as it is past retention (its poll is in the rollup).
    runMaintenance(store, { now: T0 + 2 * DAY, retainMs: DAY, site: 'default', force: true });
    const firstHour = polls.slice(0, 12);
    firstHour.push(late);
    for (const [metric, key, digits] of [
      ['hashrate', 'hashrate', -6],
      ['temp', 'temp', 6],
      ['fans', 'fan', 6],
    ] as [HistoryMetric, keyof Poll, number][]) {
      const hour = readSeries(store, minerId(), metric, T0).find((p) => p.ts === T0);
      const want = expected(firstHour.map((p) => p[key]));
      expect([metric, hour?.source, hour?.polls, hour?.min, hour?.max]).toEqual([
        metric,
        'hourly',
        want.samples,
        want.min,
        want.max,
      ]);
      expect(hour?.value).toBeCloseTo(want.avg, digits);
    }
  });

  it('a poll stamped, after the clock was set back, into hours retention thinned hides none of them', () => {
    const polls = collect();
    // The clock set back a day and a half, into the first hour (its raw rows long deleted): one poll,
    // stored with collect's own maintenance after it, on that clock.
    const t = T0 + 30 * 60_000;
    writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 1000, outcomes: [failedOutcome(4001)] });
    runMaintenance(store, { now: t + 2000, retainMs: DAY, site: 'default' });
    const points = readSeries(store, minerId(), 'hashrate', T0);
    // Every poll once: the first day's hours as rollups (the late poll in its hour's), then raw rows.
    expect(seriesStats(points).samples + seriesStats(points).gaps).toBe(polls.length + 1);
    expect(points.filter((p) => p.source === 'hourly')).toHaveLength(23);
    // Its hour: 12 polls, 2 failed and 3 without a hashrate, and the late failed one.
    expect(points.find((p) => p.ts === T0)).toMatchObject({ source: 'hourly', polls: 7, missing: 6 });
  });

  it('an hour retention has begun to delete is its rollup, not the raw rows left of it', () => {
    // A backlog deleted a few rows a call (a lowered --retain): the call stops inside an hour.
    for (let t = T0; t < T0 + 3 * HOUR_MS; t += 5 * 60_000) {
      writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 1000, outcomes: [okOutcome(4001)] });
    }
    const now = T0 + 3 * HOUR_MS + 60_000;
    runMaintenance(store, {
      now,
      retainMs: HOUR_MS,
      site: 'default',
      deleteChunkRows: 5,
      deleteBudgetRows: 14,
    });
    expect(store.db.prepare('SELECT count(*) FROM telemetry_history').pluck().get()).toBe(36 - 15);
    const points = readSeries(store, minerId(), 'hashrate', T0);
    expect(seriesStats(points).samples).toBe(36);
    // The second hour, three of its polls deleted: its rollup, once, and none of its raw rows.
    expect(points.filter((p) => p.ts >= T0 + HOUR_MS && p.ts < T0 + 2 * HOUR_MS)).toEqual([
      expect.objectContaining({ ts: T0 + HOUR_MS, source: 'hourly', polls: 12 }),
    ]);
  });

  it('an hour rolled up before the averages were kept reads as it did, and a late poll keeps it so', () => {
    collect();
    // What a file from before migration 9 holds: each hour's peaks, no averages or counts.
    store.db.exec(`UPDATE telemetry_hourly SET hashrate_samples = NULL, temp_avg_c = NULL, temp_min_c = NULL,
      temp_max_c = NULL, temp_samples = NULL, fan_avg_rpm = NULL, fan_max_rpm = NULL, fan_samples = NULL,
      power_samples = NULL`);
    const t = T0 + 30 * 60_000;
    writeCycle(store, {
      site: 'default',
      startedAt: t,
      endedAt: t + 1000,
      outcomes: [okOutcome(4001, { temp_max_chip_c: 95, boards: [], fans: [{ index: 0, rpm: 3000 }] })],
    });
    runMaintenance(store, { now: T0 + 2 * DAY, retainMs: DAY, site: 'default', force: true });
    const row = store.db
      .prepare(`SELECT ok_samples, temp_chip_max_c, fan_min_rpm, temp_avg_c, temp_samples FROM telemetry_hourly
        WHERE miner_id = ? AND hour_start = ?`)
      .get(minerId(), T0) as Record<string, number | null>;
    expect(row).toEqual({
      ok_samples: 11,
      temp_chip_max_c: 95,
      fan_min_rpm: 3000,
      temp_avg_c: null,
      temp_samples: null,
    });
    const temp = readSeries(store, minerId(), 'temp', T0).find((p) => p.ts === T0);
    expect(temp).toEqual({ ts: T0, value: 95, source: 'hourly', polls: 11, missing: 2 });
    const fans = readSeries(store, minerId(), 'fans', T0).find((p) => p.ts === T0);
    expect(fans).toEqual({ ts: T0, value: 3000, source: 'hourly', polls: 11, missing: 2 });
  });
});
