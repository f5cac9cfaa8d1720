import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSeries } from '../../src/collect/read.js';
import { seriesStats } from '../../src/collect/series.js';
import {
  HOUR_MS,
  liveStatements,
  openStore,
  rollupStatements,
  runMaintenance,
  Store,
  writeCycle,
} from '../../src/store/index.js';
import { markDelivered, markQuarantined } from '../../src/store/outbox.js';
import { thermalStatements } from '../../src/store/thermal.js';
import { enqueueCycle, reports } from '../upload/support/fixtures.js';
import { failedOutcome, okOutcome, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let store: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  store = openStore(path.join(dir, 'hashctl.db'));
});
afterEach(() => {
  store.close();
  cleanup();
});

const DAY = 24 * HOUR_MS;
const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);

/** Cycles every 20 minutes for `hours` hours from `from`, miner 4001 with a varying hashrate. */
function fill(from: number, hours: number): void {
  for (let t = from; t < from + hours * HOUR_MS; t += 20 * 60_000) {
    const step = (t - from) / (20 * 60_000);
    const outcome =
      step % 3 === 2
        ? failedOutcome(4001)
        : okOutcome(4001, {
            hashrate: { current_hs: 100e12 + step * 1e12, average_hs: null, nominal_hs: null },
          });
    writeCycle(store, {
      site: 'default',
      startedAt: t,
      endedAt: t + 1000,
      outcomes: [outcome, okOutcome(4002)],
    });
  }
}

const count = (sql: string) => store.db.prepare(sql).pluck().get() as number;

describe('runMaintenance', () => {
  it('rolls up whole hours, then deletes raw rows and runs past retention', () => {
    fill(T0, 3 * 24); // three days, 3 cycles an hour
    expect(count('SELECT count(*) FROM telemetry_history')).toBe(3 * 24 * 3 * 2);
    const now = T0 + 3 * DAY + 30 * 60_000;
    const result = runMaintenance(store, { now, retainMs: DAY });
    expect(result.ran).toBe(true);
    expect(result.hoursRolled).toBe(72);
    // Two miners × 72 hours of rollups.
    expect(count('SELECT count(*) FROM telemetry_hourly')).toBe(144);
    const minerId = store.db.prepare('SELECT id FROM miners WHERE port = 4001').pluck().get() as number;
    const [first] = store.prepared(rollupStatements).forMiner(minerId, T0, T0 + HOUR_MS);
    // Hour 0: steps 0, 1 good (100, 101 TH/s), step 2 failed.
    expect(first).toMatchObject({
      hour_start: T0,
      samples: 3,
      ok_samples: 2,
      hashrate_min_hs: 100e12,
      hashrate_max_hs: 101e12,
      hashrate_avg_hs: 100.5e12,
    });
    // Raw rows older than a day are gone, whole hours at a time; the last day stays whole.
    const cutoff = now - DAY - 30 * 60_000;
    expect(count(`SELECT count(*) FROM telemetry_history WHERE ts < ${cutoff}`)).toBe(0);
    // Kept: the whole hour the cutoff falls into and the 23 after it, for two miners.
    expect(count(`SELECT count(*) FROM telemetry_history WHERE ts >= ${cutoff}`)).toBe(24 * 3 * 2);
    expect(result.historyDeleted).toBe(3 * 24 * 3 * 2 - 24 * 3 * 2);
    expect(count(`SELECT count(*) FROM collection_runs WHERE started_at < ${cutoff}`)).toBe(0);
    // Every remaining history row still belongs to a stored run.
    expect(
      count('SELECT count(*) FROM telemetry_history WHERE run_id NOT IN (SELECT id FROM collection_runs)'),
    ).toBe(0);
  });

  it('does the work at most once per hour unless forced, and never deletes rows not rolled up', () => {
    fill(T0, 2);
    const now = T0 + 2 * HOUR_MS + 60_000;
    expect(runMaintenance(store, { now, retainMs: 1 }).ran).toBe(true);
    fill(T0 + 2 * HOUR_MS, 1);
    // Same wall-clock hour: nothing happens.
    expect(runMaintenance(store, { now: now + 5 * 60_000, retainMs: 1 }).ran).toBe(false);
    // The current (unfinished) hour is never rolled, so its raw rows survive even a tiny retention.
    const forced = runMaintenance(store, { now: now + 5 * 60_000, retainMs: 1, force: true });
    expect(forced.ran).toBe(true);
    expect(count(`SELECT count(*) FROM telemetry_history WHERE ts >= ${T0 + 2 * HOUR_MS}`)).toBe(6);
    expect(count(`SELECT count(*) FROM telemetry_history WHERE ts < ${T0 + 2 * HOUR_MS}`)).toBe(0);
    expect(count('SELECT count(*) FROM telemetry_hourly')).toBe(4);
  });

  it('keeps a change of algorithm only while raw rows from before it are left, so a flapping miner does not grow the file', () => {
    // A miner whose model (and so algorithm) reads unknown every other cycle, for two days.
    for (let i = 0; i < 2 * 24 * 3; i++) {
      const t = T0 + i * 20 * 60_000;
      const outcome = okOutcome(4001, i % 2 === 0 ? {} : { model: null, algorithm: 'unknown' });
      writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 1000, outcomes: [outcome] });
    }
    const changes = () => count('SELECT count(*) FROM telemetry_algorithm_changes');
    expect(changes()).toBe(2 * 24 * 3 - 1);
    runMaintenance(store, { now: T0 + 2 * DAY, retainMs: DAY, site: 'default' });
    // The first day's rows are gone, and the changes only they needed.
    const oldestRun = count('SELECT min(run_id) FROM telemetry_history');
    expect(count(`SELECT count(*) FROM telemetry_algorithm_changes WHERE run_id <= ${oldestRun}`)).toBe(0);
    expect(changes()).toBe(24 * 3 - 1);
  });

  it('drops rollups past their own, longer, retention', () => {
    fill(T0, 2);
    runMaintenance(store, { now: T0 + 3 * HOUR_MS, retainMs: HOUR_MS });
    expect(count('SELECT count(*) FROM telemetry_hourly')).toBe(4);
    // Ten days without a run read as a clock leap: held for one retention (1 h), then applied.
    runMaintenance(store, { now: T0 + 10 * DAY, retainMs: HOUR_MS, rollupRetainMs: 5 * DAY });
    expect(count('SELECT count(*) FROM telemetry_hourly')).toBe(4);
    runMaintenance(store, { now: T0 + 10 * DAY + 2 * HOUR_MS, retainMs: HOUR_MS, rollupRetainMs: 5 * DAY });
    expect(count('SELECT count(*) FROM telemetry_hourly')).toBe(0);
  });

  it('drops thermal events with the rollups of their hours, so a flaky miner does not grow the file for ever', () => {
    // A healthy miner that misses a poll now and then: ok → unknown → ok, two events each time.
    const thermal = store.prepared(thermalStatements);
    const event = (ts: number, from: 'ok' | 'unknown', to: 'ok' | 'unknown') => {
      const minerId = store.db.prepare('SELECT id FROM miners WHERE port = 4001').pluck().get() as number;
      thermal.insertEvent({
        miner_id: minerId,
        site_id: 1,
        ts,
        from_state: from,
        to_state: to,
        metric: 'readings',
        value: null,
        limit_value: null,
        detail: to === 'unknown' ? 'unreachable: timeout' : 'all readings within limits',
      });
    };
    const retain = { retainMs: DAY, rollupRetainMs: 5 * DAY, site: 'default' };
    for (let day = 0; day < 8; day++) {
      fill(T0 + day * DAY, 1);
      event(T0 + day * DAY + 20 * 60_000, 'ok', 'unknown');
      event(T0 + day * DAY + 40 * 60_000, 'unknown', 'ok');
      runMaintenance(store, { now: T0 + day * DAY + 2 * HOUR_MS, ...retain });
    }
    // Kept as long as the hourly rollups: the last five days' events, no older ones.
    const now = T0 + 7 * DAY + 2 * HOUR_MS;
    expect(count(`SELECT count(*) FROM thermal_events WHERE ts < ${now - 5 * DAY}`)).toBe(0);
    expect(count('SELECT count(*) FROM thermal_events')).toBe(5 * 2);
    expect(count('SELECT min(hour_start) FROM telemetry_hourly')).toBe(T0 + 3 * DAY);
  });

  it('retires miners no longer polled: gone from live with their raw history, from the inventory with their last rollup', () => {
    // A thousand miners churned through the targets: a block of them each day, then taken out.
    const retain = { retainMs: DAY, rollupRetainMs: 3 * DAY, site: 'default' };
    const steady = okOutcome(4001);
    for (let day = 0; day < 10; day++) {
      for (let hour = 0; hour < 24; hour += 6) {
        const t = T0 + day * DAY + hour * HOUR_MS;
        const churned = Array.from({ length: 100 }, (_, i) => okOutcome(10_000 + day * 100 + i));
        writeCycle(store, {
          site: 'default',
          startedAt: t,
          endedAt: t + 1000,
          outcomes: [steady, ...churned],
        });
        runMaintenance(store, { now: t + 60_000, ...retain });
      }
    }
    const now = T0 + 9 * DAY + 18 * HOUR_MS + 60_000;
    // live: the miners polled within the retention (today's block), not all 1,001.
    const live = store.prepared(liveStatements).list(null);
    expect(live.length).toBe(1 + 100);
    expect(live.every((row) => row.collected_at >= now - DAY)).toBe(true);
    // The inventory keeps a miner while a rollup (or anything else) still names it.
    expect(count('SELECT count(*) FROM miners')).toBe(1 + 3 * 100);
    expect(
      count(
        'SELECT count(*) FROM miners m WHERE NOT EXISTS (SELECT 1 FROM telemetry_hourly h WHERE h.miner_id = m.id)',
      ),
    ).toBe(0);
    // The steady miner lost nothing: every hour of its three days of rollups, and its raw day.
    const steadyId = count('SELECT id FROM miners WHERE port = 4001');
    expect(count(`SELECT count(*) FROM telemetry_hourly WHERE miner_id = ${steadyId}`)).toBeGreaterThan(0);
    expect(count(`SELECT count(*) FROM telemetry_history WHERE miner_id = ${steadyId}`)).toBe(5);
  });

  it('deletes whole hours only: history counts every poll once, across the raw/rollup boundary', () => {
    // Every 5 minutes for two days; the first cycle of each hour runs the hourly maintenance, as
    // collect does, with a one-day retention. The peak is the first poll of the hour the last
    // maintenance's cutoff (a day before it, plus seconds) falls into.
    const polls: number[] = [];
    for (let t = T0; t < T0 + 2 * DAY; t += 5 * 60_000) {
      const hashrate = t === T0 + DAY - HOUR_MS ? 150e12 : 100e12 + (t % HOUR_MS) / 1e3;
      polls.push(hashrate);
      writeCycle(store, {
        site: 'default',
        startedAt: t,
        endedAt: t + 1000,
        outcomes: [
          okOutcome(4001, { hashrate: { current_hs: hashrate, average_hs: null, nominal_hs: null } }),
        ],
      });
      runMaintenance(store, { now: t + 2000, retainMs: DAY, site: 'default' });
    }
    const minerId = count('SELECT id FROM miners WHERE port = 4001');
    const points = readSeries(store, minerId, 'hashrate', T0);
    expect(points.some((p) => p.source === 'hourly')).toBe(true);
    const stats = seriesStats(points);
    // Not one poll lost in the hour retention reached into, nor counted twice.
    expect(stats.samples).toBe(polls.length);
    expect(stats.max).toBe(Math.max(...polls));
    expect(stats.avg).toBeCloseTo(polls.reduce((a, b) => a + b, 0) / polls.length, -3);
    // The raw rows kept begin on an hour: no hour is half raw rows, half gone.
    expect(count('SELECT min(ts) FROM telemetry_history') % HOUR_MS).toBe(0);
  });

  it('deletes a large backlog over several calls, so the collector keeps polling meanwhile', () => {
    // Three days kept at --retain 30d, then the operator restarts collect with --retain 1h.
    fill(T0, 3 * 24);
    const now = T0 + 3 * DAY + 60_000;
    const rows = () => count('SELECT count(*) FROM telemetry_history');
    const total = rows();
    const budget = { retainMs: HOUR_MS, site: 'default', deleteChunkRows: 10, deleteBudgetRows: 60 };
    const first = runMaintenance(store, { now, ...budget });
    // One call stops after about its budget (whole transactions), and says there is more.
    expect(first.unfinished).toBe(true);
    expect(first.historyDeleted).toBeGreaterThanOrEqual(60);
    expect(first.historyDeleted).toBeLessThan(60 + 20);
    expect(rows()).toBe(total - first.historyDeleted);
    // Every row left still has its run: no run goes before its cycle's rows.
    const orphans = () =>
      count('SELECT count(*) FROM telemetry_history WHERE run_id NOT IN (SELECT id FROM collection_runs)');
    expect(orphans()).toBe(0);
    // The next cycles' calls go on within the same hour, until the backlog is gone.
    let calls = 1;
    for (let result = first; result.unfinished && calls < 100; calls++) {
      result = runMaintenance(store, { now: now + calls * 60_000, ...budget });
      expect(result.ran).toBe(true);
      expect(orphans()).toBe(0);
    }
    expect(calls).toBeGreaterThan(2);
    expect(count(`SELECT count(*) FROM telemetry_history WHERE ts < ${T0 + 3 * DAY - HOUR_MS}`)).toBe(0);
    expect(count(`SELECT count(*) FROM collection_runs WHERE started_at < ${T0 + 3 * DAY - HOUR_MS}`)).toBe(
      0,
    );
    // Done: the hour's maintenance is marked, and the next call in this hour does nothing.
    expect(runMaintenance(store, { now: now + 59 * 60_000 - 1000, ...budget }).ran).toBe(false);
  });

  it('deletes whole cycles with their runs in each transaction: a kill between two leaves whole cycles', () => {
    fill(T0, 24); // 72 cycles of 2 miners
    const rows = () => count('SELECT count(*) FROM telemetry_history');
    const before = rows();
    /** Dies (as a kill would) right after the first transaction that deleted history rows commits. */
    class KilledAfterFirstDelete extends Store {
      override transaction<T>(fn: (db: Store['db']) => T): T {
        const result = super.transaction(fn);
        if (rows() < before) throw new Error('killed');
        return result;
      }
    }
    const killed = new KilledAfterFirstDelete(store.db, store.path, false);
    // Five rows a chunk: never a multiple of a cycle's two.
    expect(() => runMaintenance(killed, { now: T0 + 2 * DAY, retainMs: DAY, deleteChunkRows: 5 })).toThrow(
      'killed',
    );
    expect(rows()).toBeLessThan(before);
    expect(rows()).toBeGreaterThan(0);
    const partial = store.db
      .prepare(
        `SELECT r.id, r.polled, (SELECT count(*) FROM telemetry_history h WHERE h.run_id = r.id) AS stored
         FROM collection_runs r WHERE stored <> r.polled`,
      )
      .all();
    expect(partial).toEqual([]);
    expect(
      count('SELECT count(*) FROM telemetry_history WHERE run_id NOT IN (SELECT id FROM collection_runs)'),
    ).toBe(0);
    // The next maintenance finishes the job.
    const result = runMaintenance(store, {
      now: T0 + 2 * DAY,
      retainMs: DAY,
      deleteChunkRows: 5,
      force: true,
    });
    expect(rows()).toBe(0);
    expect(count('SELECT count(*) FROM collection_runs')).toBe(0);
    expect(result.historyDeleted).toBeGreaterThan(0);
  });

  it('rolls an hour up again when cycles land in it after the clock ran ahead and came back', () => {
    const cycle = (t: number) =>
      writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 100, outcomes: [okOutcome(4001)] });
    cycle(T0 + 10 * 60_000);
    // The clock runs two days ahead: that cycle's maintenance rolls everything up to then.
    cycle(T0 + 2 * DAY);
    runMaintenance(store, { now: T0 + 2 * DAY + 60_000 });
    // Back to the right time: two more cycles in the first hour, already rolled up once.
    cycle(T0 + 20 * 60_000);
    cycle(T0 + 30 * 60_000);
    // Months later retention deletes them: not before they are in the hour's rollup. (The first
    // run after a month without one holds its deletions for a retention, as for a clock leap.)
    runMaintenance(store, { now: T0 + 31 * DAY, retainMs: 30 * DAY, force: true });
    runMaintenance(store, { now: T0 + 61 * DAY - HOUR_MS, retainMs: 30 * DAY, force: true });
    runMaintenance(store, { now: T0 + 61 * DAY + HOUR_MS, retainMs: 30 * DAY, force: true });
    expect(count(`SELECT count(*) FROM telemetry_history WHERE ts < ${T0 + HOUR_MS}`)).toBe(0);
    expect(count(`SELECT samples FROM telemetry_hourly WHERE hour_start = ${T0}`)).toBe(3);
  });

  it('adds a cycle the clock set back into an hour retention already thinned, instead of recomputing that hour from what is left', () => {
    const RETAIN = HOUR_MS;
    fill(T0, 3); // 00:00 … 02:40, every 20 minutes, miners 4001 and 4002
    // At 03:05 hours 0–2 are rolled up (3 polls each) and raw rows before 02:05 are deleted.
    runMaintenance(store, { now: T0 + 3 * HOUR_MS + 5 * 60_000, retainMs: RETAIN });
    const samples = (hour: number) =>
      count(
        `SELECT samples FROM telemetry_hourly h JOIN miners m ON m.id = h.miner_id
         WHERE m.port = 4002 AND hour_start = ${T0 + hour * HOUR_MS}`,
      );
    expect([samples(0), samples(1), samples(2)]).toEqual([3, 3, 3]);
    // The clock is stepped back two hours (an RTC kept in local time): cycles land at 01:30 and
    // 02:30, in hours already rolled up whose raw rows retention has removed wholly or in part.
    const faster = { hashrate: { current_hs: 104e12, average_hs: null, nominal_hs: null } };
    const back = (t: number) =>
      writeCycle(store, {
        site: 'default',
        startedAt: t,
        endedAt: t + 1000,
        outcomes: [okOutcome(4002, faster)],
      });
    back(T0 + HOUR_MS + 30 * 60_000);
    back(T0 + 2 * HOUR_MS + 30 * 60_000);
    // Later maintenance, at the back-set clock and once it is right again: no poll is lost.
    runMaintenance(store, { now: T0 + HOUR_MS + 35 * 60_000, retainMs: RETAIN, force: true });
    runMaintenance(store, { now: T0 + 4 * HOUR_MS + 5 * 60_000, retainMs: RETAIN, force: true });
    expect([samples(0), samples(1), samples(2)]).toEqual([3, 4, 4]);
    // Three polls at 100 TH/s and the one added at 104: each poll weighs the same.
    const hour1 = store.db
      .prepare(
        `SELECT ok_samples, hashrate_avg_hs, hashrate_min_hs, hashrate_max_hs FROM telemetry_hourly h
         JOIN miners m ON m.id = h.miner_id WHERE m.port = 4002 AND hour_start = ${T0 + HOUR_MS}`,
      )
      .get();
    expect(hour1).toEqual({
      ok_samples: 4,
      hashrate_avg_hs: 101e12,
      hashrate_min_hs: 100e12,
      hashrate_max_hs: 104e12,
    });
  });

  it('holds every deletion while the clock has leapt ahead, until it comes back or a retention has passed', () => {
    fill(T0, 2);
    enqueueCycle(store, { miners: reports(3), now: T0 + HOUR_MS });
    const pending = () =>
      store.db.prepare("SELECT count(*) FROM upload_outbox WHERE state = 'pending'").pluck().get();
    const rows = () => store.db.prepare('SELECT count(*) FROM telemetry_history').pluck().get();
    const retainMs = 30 * DAY;
    expect(runMaintenance(store, { now: T0 + 2 * HOUR_MS, retainMs }).clockHold).toBeNull();
    const before = rows();

    // One cycle on a clock 31 days ahead: without the hold, every batch and raw row would go.
    const leap = T0 + 2 * HOUR_MS + 31 * DAY;
    const held = runMaintenance(store, { now: leap, retainMs });
    expect(held.clockHold).toEqual({ since: leap, previous: T0 + 2 * HOUR_MS, until: leap + retainMs });
    expect([held.historyDeleted, held.uploadDropped.batches]).toEqual([0, 0]);
    expect([rows(), pending()]).toEqual([before, 1]);
    // Still ahead an hour later (the hold is remembered, not re-detected from the last run).
    expect(runMaintenance(store, { now: leap + HOUR_MS, retainMs }).clockHold?.since).toBe(leap);
    expect([rows(), pending()]).toEqual([before, 1]);

    // The clock comes back: the hold ends, and retention goes on from the true time.
    const back = runMaintenance(store, { now: T0 + 3 * HOUR_MS, retainMs });
    expect(back.clockHold).toBeNull();
    expect([rows(), pending()]).toEqual([before, 1]);

    // A leap that was right (the host was off for a month): held for one retention, then applied.
    const off = T0 + 3 * HOUR_MS + 40 * DAY;
    expect(runMaintenance(store, { now: off, retainMs }).clockHold?.since).toBe(off);
    expect(runMaintenance(store, { now: off + retainMs - HOUR_MS, retainMs }).clockHold?.since).toBe(off);
    expect(pending()).toBe(1);
    const after = runMaintenance(store, { now: off + retainMs + HOUR_MS, retainMs });
    expect(after.clockHold).toBeNull();
    expect(after.uploadDropped.batches).toBe(1);
    expect(rows()).toBe(0);
  });

  it('a cycle on a clock that booted in 1970 does not make the next true time look like a leap', () => {
    // Days of cycles, maintenance after each hour, a 1-day retention.
    const retainMs = DAY;
    for (let hour = 0; hour < 48; hour++) {
      fill(T0 + hour * HOUR_MS, 1);
      runMaintenance(store, { now: T0 + (hour + 1) * HOUR_MS, retainMs, site: 'default' });
    }
    // The host reboots with no RTC: one cycle, and its maintenance, stamped minutes after 1970.
    const epoch = 90_000;
    writeCycle(store, {
      site: 'default',
      startedAt: epoch,
      endedAt: epoch + 1000,
      outcomes: [okOutcome(4001)],
    });
    const early = runMaintenance(store, { now: epoch + 1000, retainMs, site: 'default' });
    expect(early.clockHold).toBeNull();
    // Its rows reach their hour's rollup (older than every retention, they go at the next pass).
    expect(count('SELECT sum(samples) FROM telemetry_hourly WHERE hour_start = 0')).toBe(1);
    // NTP sets the clock right an hour later: that is no leap ahead of the last true maintenance,
    // so retention goes on (a month-long hold would grow the file by a retention and say, every
    // hour, that the clock reads 55 years past 1970).
    const back = T0 + 49 * HOUR_MS + 60_000;
    fill(T0 + 48 * HOUR_MS, 1);
    const after = runMaintenance(store, { now: back, retainMs, site: 'default' });
    expect(after.clockHold).toBeNull();
    expect(after.historyDeleted).toBeGreaterThan(0);
    expect(count(`SELECT count(*) FROM telemetry_history WHERE ts < ${back - retainMs - 60_000}`)).toBe(0);
  });

  it('a cycle stamped 1970 before any deletion does not make the next pass walk every hour since 1970', () => {
    // A young file (nothing past retention yet), rolled up through the current hour.
    fill(T0, 2);
    runMaintenance(store, { now: T0 + 2 * HOUR_MS + 60_000, site: 'default' });
    // The host reboots with no RTC: one cycle, and its maintenance, minutes after 1970.
    const epoch = 90_000;
    writeCycle(store, {
      site: 'default',
      startedAt: epoch,
      endedAt: epoch + 1000,
      outcomes: [okOutcome(4001)],
    });
    runMaintenance(store, { now: epoch + 1000, site: 'default' });
    // NTP sets the clock right: the pass rolls the 1970 hour and the true ones, not 480,000 hours
    // of nothing between them in 6-hour transactions (80,000 of them, seconds between two cycles).
    fill(T0 + 2 * HOUR_MS, 1);
    let transactions = 0;
    const transaction = store.transaction.bind(store);
    store.transaction = ((fn) => {
      transactions++;
      return transaction(fn);
    }) as Store['transaction'];
    const after = runMaintenance(store, { now: T0 + 3 * HOUR_MS + 60_000, site: 'default' });
    expect(after.ran).toBe(true);
    expect(transactions).toBeLessThan(50);
    expect(after.hoursRolled).toBeLessThan(24);
    // Every true poll is in its hour's rollup (the 1970 hour is past every retention, its rollup too).
    expect(count(`SELECT sum(samples) FROM telemetry_hourly WHERE hour_start >= ${T0}`)).toBe(3 * 3 * 2);
    // The marker is back at the true hour: a cycle now is in no rolled hour.
    expect(count("SELECT CAST(value AS INTEGER) FROM store_meta WHERE key LIKE 'rollup_through:%'")).toBe(
      T0 + 3 * HOUR_MS,
    );
  });

  it("keeps each site's raw history and batches for its own collector's --retain, not the one that ran maintenance", () => {
    const cycle = (site: string, t: number) =>
      writeCycle(store, {
        site,
        startedAt: t,
        endedAt: t + 1000,
        outcomes: [okOutcome(4001)],
      });
    for (let t = T0; t < T0 + 3 * DAY; t += HOUR_MS) {
      cycle('north', t);
      cycle('south', t);
      cycle('east', t);
    }
    const northBatch = enqueueCycle(store, { siteId: 'north', miners: reports(2), now: T0 });
    const southBatch = enqueueCycle(store, { siteId: 'south', miners: reports(3), now: T0 });
    const now = T0 + 3 * DAY;
    // North's collector keeps a year; its run this hour did maintenance already.
    runMaintenance(store, { now, retainMs: 365 * DAY, site: 'north' });
    // South's collector, --retain 1d, does the next hour's maintenance for the whole file.
    const result = runMaintenance(store, { now: now + HOUR_MS, retainMs: DAY, site: 'south' });
    const rows = (site: string) =>
      count(
        `SELECT count(*) FROM telemetry_history h JOIN sites s ON s.id = h.site_id WHERE s.name = '${site}'`,
      );
    expect(rows('south')).toBe(23); // from T0 + 49h, a day before the run at 73h
    // North keeps its year; east, whose collector never said its retention, loses nothing.
    expect(rows('north')).toBe(72);
    expect(rows('east')).toBe(72);
    expect(result.uploadDropped).toEqual({ batches: 1, miners: 3 });
    const left = store.db.prepare('SELECT batch_id FROM upload_outbox').pluck().all();
    expect(left).toEqual([northBatch[0]!.batchId]);
    expect(southBatch[0]!.batchId).not.toBe(northBatch[0]!.batchId);
  });

  it('drops upload batches the collector has not taken within the retention, and no others', () => {
    const old = enqueueCycle(store, { miners: reports(3), now: T0 });
    const refused = enqueueCycle(store, { miners: reports(2), now: T0 + HOUR_MS });
    const delivered = enqueueCycle(store, { miners: reports(4), now: T0 + 2 * HOUR_MS });
    const recent = enqueueCycle(store, { miners: reports(5), now: T0 + 40 * DAY });
    markQuarantined(store.db, refused[0]!.batchId, { status: 422, error: 'schema' });
    markDelivered(store.db, delivered[0]!.batchId, 200, T0 + 3 * HOUR_MS);
    const result = runMaintenance(store, { now: T0 + 40 * DAY + 60_000, retainMs: 30 * DAY });
    expect(result.uploadDropped).toEqual({ batches: 2, miners: 5 });
    const left = store.db
      .prepare('SELECT batch_id AS id, state FROM upload_outbox ORDER BY created_at')
      .all() as { id: string; state: string }[];
    // Delivered rows are the flush's to prune; a batch inside the retention stays pending.
    expect(left).toEqual([
      { id: delivered[0]!.batchId, state: 'delivered' },
      { id: recent[0]!.batchId, state: 'pending' },
    ]);
    expect(old[0]!.batchId).not.toBe(recent[0]!.batchId);
    // Nothing left to drop: the next maintenance says so.
    const again = runMaintenance(store, { now: T0 + 40 * DAY + 2 * HOUR_MS, retainMs: 30 * DAY });
    expect(again.uploadDropped).toEqual({ batches: 0, miners: 0 });
  });

  it('drops a backlog of untaken batches a chunk per transaction and a budget per call', () => {
    // A --retain lowered (or a clock hold ended) leaves weeks of batches past it at once: each body
    // is read to free it, and dropping them all in one statement held the file between two cycles.
    for (let i = 0; i < 12; i++) enqueueCycle(store, { miners: reports(2), now: T0 + i * HOUR_MS });
    const total = count('SELECT count(*) FROM upload_outbox');
    const opts = { retainMs: DAY, uploadDropChunkBatches: 2, uploadDropBudgetBatches: 5 };
    const first = runMaintenance(store, { now: T0 + 30 * DAY, ...opts });
    expect(first.uploadDropped.batches).toBe(5);
    expect(first.unfinished).toBe(true);
    expect(count('SELECT count(*) FROM upload_outbox')).toBe(total - 5);
    // The next cycles' calls go on, even within the same hour, until none is left.
    let dropped = first.uploadDropped.batches;
    for (let call = 0; call < 20 && dropped < total; call++)
      dropped += runMaintenance(store, { now: T0 + 30 * DAY + 60_000, ...opts }).uploadDropped.batches;
    expect(dropped).toBe(total);
    expect(count('SELECT count(*) FROM upload_outbox')).toBe(0);
  });
});
