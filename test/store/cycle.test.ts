import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import {
  liveStatements,
  type MinerOutcome,
  openStore,
  type Store,
  siteStatements,
  writeCycle,
} from '../../src/store/index.js';
import { LIVE_BY_SITE_SQL } from '../../src/store/live.js';
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

const count = (sql: string, ...params: unknown[]) =>
  store.db
    .prepare(sql)
    .pluck()
    .get(...params) as number;

describe('writeCycle', () => {
  it('stores the run, inventory, live rows and one history row per miner', () => {
    const summary = writeCycle(store, {
      site: 'north',
      startedAt: 1_700_000_000_000,
      endedAt: 1_700_000_001_500,
      outcomes: [
        okOutcome(4001),
        okOutcome(4002, { make: 'Whatsminer', model: 'M30S' }),
        failedOutcome(4003),
      ],
    });
    expect(summary).toMatchObject({ polled: 3, ok: 2, failed: 1 });
    expect(
      store.db.prepare('SELECT polled, ok, failed, started_at, ended_at FROM collection_runs').get(),
    ).toEqual({
      polled: 3,
      ok: 2,
      failed: 1,
      started_at: 1_700_000_000_000,
      ended_at: 1_700_000_001_500,
    });
    const miners = store.db.prepare('SELECT port, make, model, last_seen_at FROM miners ORDER BY port').all();
    expect(miners).toEqual([
      { port: 4001, make: 'Antminer', model: 'S19j Pro', last_seen_at: 1_700_000_000_000 },
      { port: 4002, make: 'Whatsminer', model: 'M30S', last_seen_at: 1_700_000_000_000 },
      { port: 4003, make: null, model: null, last_seen_at: null },
    ]);
    const history = store.db
      .prepare(
        `SELECT m.port, h.run_id, h.hashrate_hs, h.temp_chip_max_c, h.fan_min_rpm, h.boards_ok, h.chips, h.error_kind
         FROM telemetry_history h JOIN miners m ON m.id = h.miner_id ORDER BY m.port`,
      )
      .all();
    expect(history).toEqual([
      {
        port: 4001,
        run_id: summary.runId,
        hashrate_hs: 100e12,
        temp_chip_max_c: 77,
        fan_min_rpm: 5280,
        boards_ok: 3,
        chips: 378,
        error_kind: null,
      },
      {
        port: 4002,
        run_id: summary.runId,
        hashrate_hs: 100e12,
        temp_chip_max_c: 77,
        fan_min_rpm: 5280,
        boards_ok: 3,
        chips: 378,
        error_kind: null,
      },
      {
        port: 4003,
        run_id: summary.runId,
        hashrate_hs: null,
        temp_chip_max_c: null,
        fan_min_rpm: null,
        boards_ok: null,
        chips: null,
        error_kind: 'timeout',
      },
    ]);
    const siteId = store.prepared(siteStatements).find('north')!.id;
    const live = store.prepared(liveStatements).list(siteId);
    expect(live).toHaveLength(3);
    const failed = live.find((row) => row.port === 4003)!;
    expect(failed).toMatchObject({
      ok: 0,
      stale: 0,
      error_kind: 'timeout',
      last_ok_at: null,
      hashrate_hs: null,
      algorithm: null,
    });
    expect(live.filter((row) => row.ok === 1).map((row) => row.algorithm)).toEqual(['sha256d', 'sha256d']);
  });

  it('builds live rows whose fields are the query columns, name for name and value for value', () => {
    writeCycle(store, {
      site: 'north',
      startedAt: 1_700_000_000_000,
      endedAt: 1_700_000_001_500,
      outcomes: [okOutcome(4001), failedOutcome(4002, 'refused')],
    });
    const siteId = store.prepared(siteStatements).find('north')!.id;
    const built = store.prepared(liveStatements).list(siteId);
    const byName = store.db.prepare(LIVE_BY_SITE_SQL).all(siteId) as Record<string, unknown>[];
    expect(built.map((row) => Object.keys(row))).toEqual(byName.map((row) => Object.keys(row)));
    expect(built).toEqual(byName);
  });

  it('stores a cycle whose counts do not fit an integer column, with those figures unknown', () => {
    // Past 2^63 the STRICT INTEGER columns refuse the value, and with it the whole cycle.
    const broken = okOutcome(4001, {
      fans: [
        { index: 0, rpm: 1e19 },
        { index: 1, rpm: 1e300 },
      ],
      accepted: 1e20,
    });
    const summary = writeCycle(store, {
      site: 'default',
      startedAt: 1_700_000_000_000,
      endedAt: 1_700_000_001_000,
      outcomes: [broken, okOutcome(4002)],
    });
    expect(summary).toMatchObject({ polled: 2, ok: 2 });
    expect(
      store.db.prepare('SELECT fan_min_rpm, accepted FROM telemetry_history ORDER BY miner_id LIMIT 1').get(),
    ).toEqual({ fan_min_rpm: null, accepted: null });
    expect(count('SELECT count(*) FROM telemetry_live')).toBe(2);
  });

  it('forgets what it knew of a miner when another machine answers at its address', () => {
    const row = () =>
      store.db.prepare('SELECT make, model, firmware_name, nominal_hs FROM miners WHERE port = 4001').get();
    const cycle = (t: number, outcome: ReturnType<typeof okOutcome>) =>
      writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 10, outcomes: [outcome] });
    cycle(1_000, okOutcome(4001));
    // The same machine, a poll that did not name its model or rating: what was known stays.
    cycle(
      2_000,
      okOutcome(4001, { model: null, hashrate: { current_hs: 1, average_hs: null, nominal_hs: null } }),
    );
    expect(row()).toEqual({
      make: 'Antminer',
      model: 'S19j Pro',
      firmware_name: 'bmminer',
      nominal_hs: 104e12,
    });
    // A plain cgminer box now answers there: no S19j Pro model, no 104 TH/s rating to fall short of.
    cycle(
      3_000,
      okOutcome(4001, {
        make: 'unknown',
        model: null,
        firmware: { name: 'cgminer', version: '4.11.1' },
        hashrate: { current_hs: 0, average_hs: null, nominal_hs: null },
      }),
    );
    expect(row()).toEqual({ make: 'unknown', model: null, firmware_name: 'cgminer', nominal_hs: null });
    // Another model of the same make is another machine too.
    cycle(4_000, okOutcome(4001));
    cycle(
      5_000,
      okOutcome(4001, { model: 'S9', hashrate: { current_hs: 1, average_hs: null, nominal_hs: null } }),
    );
    expect(row()).toMatchObject({ make: 'Antminer', model: 'S9', nominal_hs: null });
  });

  it("records when another algorithm answers at a miner's address, and nothing else", () => {
    const cycle = (t: number, outcome: MinerOutcome) =>
      writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 10, outcomes: [outcome] }).runId;
    const changes = () =>
      store.db.prepare('SELECT miner_id, run_id, algorithm_before FROM telemetry_algorithm_changes').all();
    // Never read, then read: no algorithm was known before, nothing to record.
    cycle(1_000, failedOutcome(4001));
    cycle(2_000, okOutcome(4001, { model: 'L3+', algorithm: 'scrypt' }));
    // The same one again, and a failed poll (which keeps the last good algorithm): no change.
    cycle(3_000, okOutcome(4001, { model: 'L3+', algorithm: 'scrypt' }));
    cycle(4_000, failedOutcome(4001));
    expect(changes()).toEqual([]);
    // Swapped for an S19j Pro: its first run is where sha256d starts.
    const swapped = cycle(5_000, okOutcome(4001));
    cycle(6_000, okOutcome(4001));
    const minerId = store.db.prepare('SELECT id FROM miners WHERE port = 4001').pluck().get();
    expect(changes()).toEqual([{ miner_id: minerId, run_id: swapped, algorithm_before: 'scrypt' }]);
  });

  it('keeps the last good live row after a failure, marked stale with the time it was taken', () => {
    const t0 = 1_700_000_000_000;
    writeCycle(store, { site: 'default', startedAt: t0, endedAt: t0 + 10, outcomes: [okOutcome(4001)] });
    const second = writeCycle(store, {
      site: 'default',
      startedAt: t0 + 60_000,
      endedAt: t0 + 60_010,
      outcomes: [failedOutcome(4001, 'refused')],
    });
    const [row] = store.prepared(liveStatements).list(null);
    expect(row).toMatchObject({
      ok: 0,
      stale: 1,
      error_kind: 'refused',
      collected_at: t0 + 60_000,
      last_ok_at: t0,
      hashrate_hs: 100e12,
      run_id: second.runId,
    });
    // The inventory keeps what the last good poll said.
    expect(store.db.prepare('SELECT make, last_seen_at FROM miners').get()).toEqual({
      make: 'Antminer',
      last_seen_at: t0,
    });
    // A good poll clears the stale mark.
    writeCycle(store, {
      site: 'default',
      startedAt: t0 + 120_000,
      endedAt: t0 + 120_010,
      outcomes: [okOutcome(4001, { hashrate: { current_hs: 90e12, average_hs: null, nominal_hs: 104e12 } })],
    });
    const [fresh] = store.prepared(liveStatements).list(null);
    expect(fresh).toMatchObject({
      ok: 1,
      stale: 0,
      error_kind: null,
      last_ok_at: t0 + 120_000,
      hashrate_hs: 90e12,
    });
    const stored = JSON.parse(store.prepared(liveStatements).snapshotJson(fresh!.miner_id)!);
    expect(stored.hashrate.current_hs).toBe(90e12);
  });

  it('inside an outer transaction (collect with thermal tracking) joins it, with no savepoint of its own', () => {
    // A savepoint held open for the cycle made SQLite keep every statement's sub-journal: the
    // warm 5,000-miner cycle's upserts took 2.7 s instead of 0.3 s. Joining means an error inside
    // rolls back with the outer transaction, and nothing is undone on its own.
    store.db.exec('CREATE TABLE probe (n INTEGER NOT NULL) STRICT');
    store.transaction((db) => {
      try {
        store.transaction((inner) => {
          inner.prepare('INSERT INTO probe VALUES (1)').run();
          throw new Error('inner');
        });
      } catch {
        // the outer goes on: with a savepoint, the row above would be gone
      }
      db.prepare('INSERT INTO probe VALUES (2)').run();
    });
    expect(store.db.prepare('SELECT n FROM probe ORDER BY n').pluck().all()).toEqual([1, 2]);
    // And a failure that reaches the outer transaction still undoes the whole.
    expect(() =>
      store.transaction(() => {
        writeCycle(store, { site: 'default', startedAt: 1000, endedAt: 2000, outcomes: [okOutcome(4001)] });
        throw new Error('outer');
      }),
    ).toThrow('outer');
    expect(count('SELECT count(*) FROM telemetry_history')).toBe(0);
  });

  it('one site for a name written in NFC or NFD ("café"): a miner is not counted twice', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    writeCycle(store, { site: nfc, startedAt: 1000, endedAt: 1500, outcomes: [okOutcome(4001)] });
    writeCycle(store, { site: nfd, startedAt: 2000, endedAt: 2500, outcomes: [okOutcome(4001)] });
    expect(count('SELECT count(*) FROM sites')).toBe(1);
    expect(count('SELECT count(*) FROM miners')).toBe(1);
    expect(store.prepared(siteStatements).find(nfd)?.name).toBe(nfc);
  });

  it('runs the hooks inside the transaction, and a throwing hook leaves nothing of the cycle', () => {
    store.db.exec('CREATE TABLE outbox_probe (run_id INTEGER NOT NULL, miners INTEGER NOT NULL) STRICT');
    const summary = writeCycle(
      store,
      { site: 'default', startedAt: 1000, endedAt: 2000, outcomes: [okOutcome(4001), failedOutcome(4002)] },
      {
        extraInTransaction: (db, cycle) => {
          expect(db.inTransaction).toBe(true);
          db.prepare('INSERT INTO outbox_probe VALUES (?, ?)').run(cycle.runId, cycle.miners.length);
          expect(cycle.miners.map((m) => m.outcome.target.port)).toEqual([4001, 4002]);
        },
      },
    );
    expect(store.db.prepare('SELECT run_id, miners FROM outbox_probe').get()).toEqual({
      run_id: summary.runId,
      miners: 2,
    });

    const before = count('SELECT count(*) FROM telemetry_history');
    expect(() =>
      writeCycle(
        store,
        { site: 'default', startedAt: 3000, endedAt: 4000, outcomes: [okOutcome(4001), okOutcome(4003)] },
        {
          extraInTransaction: [
            (db) => void db.prepare('INSERT INTO outbox_probe VALUES (99, 1)').run(),
            () => {
              throw new Error('outbox full');
            },
          ],
        },
      ),
    ).toThrow('outbox full');
    expect(count('SELECT count(*) FROM telemetry_history')).toBe(before);
    expect(count('SELECT count(*) FROM collection_runs')).toBe(1);
    expect(count('SELECT count(*) FROM miners WHERE port = 4003')).toBe(0);
    expect(count('SELECT count(*) FROM outbox_probe WHERE run_id = 99')).toBe(0);
  });

  it('reports a full disk as one io error and loses nothing already stored', () => {
    writeCycle(store, { site: 'default', startedAt: 1000, endedAt: 2000, outcomes: [okOutcome(4001)] });
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    // max_page_count makes SQLite report SQLITE_FULL exactly as a full disk does.
    store.db.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 400 }, (_, i) =>
      okOutcome(5000 + i, { errors: [{ code: 1, message: 'x'.repeat(2000) }] }),
    );
    let caught: unknown;
    try {
      writeCycle(store, { site: 'default', startedAt: 3000, endedAt: 4000, outcomes: big });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).kind).toBe('io');
    expect((caught as StoreError).exitCode).toBe(1);
    expect((caught as StoreError).details).toMatchObject({ sqlite_code: 'SQLITE_FULL' });
    expect(count('SELECT count(*) FROM collection_runs')).toBe(1);
    expect(count('SELECT count(*) FROM telemetry_history')).toBe(1);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('reports a read-only database as one io error naming the file', () => {
    writeCycle(store, { site: 'default', startedAt: 1000, endedAt: 2000, outcomes: [okOutcome(4001)] });
    const readonly = openStore(store.path, { readonly: true });
    try {
      let caught: unknown;
      try {
        writeCycle(readonly, {
          site: 'default',
          startedAt: 3000,
          endedAt: 4000,
          outcomes: [okOutcome(4001)],
        });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreError);
      expect((caught as StoreError).kind).toBe('io');
      expect((caught as StoreError).message).toContain(store.path);
      expect((caught as StoreError).details).toMatchObject({ sqlite_code: 'SQLITE_READONLY' });
    } finally {
      readonly.close();
    }
    expect(count('SELECT count(*) FROM collection_runs')).toBe(1);
  });

  it('keeps a history row at or under 300 bytes on disk, indexes included', () => {
    const miners = 200;
    const cycles = 30;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const start = 1_700_000_000_000 + cycle * 60_000;
      const outcomes = Array.from({ length: miners }, (_, i) =>
        i % 10 === 0
          ? failedOutcome(4000 + i)
          : okOutcome(4000 + i, {
              hashrate: { current_hs: 100e12 + i * 1e9 + cycle * 7e8, average_hs: 99e12, nominal_hs: 104e12 },
              temp_max_chip_c: 70 + (i % 13) + cycle / 10,
              power_w: 3000 + i,
            }),
      );
      writeCycle(store, { site: 'default', startedAt: start, endedAt: start + 900, outcomes });
    }
    const bytes = count(
      `SELECT sum(pgsize) FROM dbstat WHERE name IN
         ('telemetry_history', 'telemetry_history_miner_ts', 'telemetry_history_site_ts')`,
    );
    const perRow = bytes / (miners * cycles);
    expect(count('SELECT count(*) FROM telemetry_history')).toBe(miners * cycles);
    expect(perRow).toBeGreaterThan(20);
    expect(perRow).toBeLessThanOrEqual(300);
  });
});
