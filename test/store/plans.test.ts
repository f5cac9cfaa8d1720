// The hot queries use their indexes (EXPLAIN QUERY PLAN), so they stay fast on a year of data.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_SQL, SERIES_SQL } from '../../src/store/history.js';
import { openStore, type Store, writeCycle } from '../../src/store/index.js';
import { LIVE_BY_SITE_SQL } from '../../src/store/live.js';
import { okOutcome, queryPlan, tempDir } from './helpers.js';

let store: Store;
let cleanup: () => void;
beforeAll(() => {
  const temp = tempDir('hashctl-plans-');
  cleanup = temp.cleanup;
  store = openStore(path.join(temp.dir, 'plans.db'));
  for (let i = 0; i < 5; i++) {
    writeCycle(store, {
      site: 'default',
      startedAt: i * 60_000,
      endedAt: i * 60_000 + 1,
      outcomes: [okOutcome(4001), okOutcome(4002)],
    });
  }
});
afterAll(() => {
  store.close();
  cleanup();
});

function plan(sql: string, ...params: unknown[]): string {
  return queryPlan(store.db, sql, ...params);
}

describe.each([
  ['fresh statistics-free database', false],
  ['after ANALYZE of a tiny table', true],
])('query plans (%s)', (_name, analyze) => {
  beforeAll(() => {
    if (analyze) store.db.exec('ANALYZE');
  });

  it('history of one miner reads the (miner, ts) index alone, already in order', () => {
    const detail = plan(SERIES_SQL, 1, 0);
    // COVERING: the series is read from the index's pages, never from the table's.
    expect(detail).toMatch(
      /SEARCH telemetry_history USING COVERING INDEX telemetry_history_miner_ts \(miner_id=\? AND ts>\?\)/,
    );
    expect(detail).not.toMatch(/TEMP B-TREE/);
  });

  it('export of a site reads the (site, ts) index without sorting the range', () => {
    const detail = plan(EXPORT_SQL, { site_id: 1, after: 0, through: 120_000, last_id: 10 });
    expect(detail).toMatch(
      /SEARCH h USING INDEX telemetry_history_site_ts \(site_id=\? AND ts>\? AND ts<\?\)/,
    );
    expect(detail).not.toMatch(/TEMP B-TREE/);
  });

  it('live of a site reads the unique (site, miner) index', () => {
    // With statistics of a two-row table a scan is the right plan; the index matters on big farms.
    if (!analyze)
      expect(plan(LIVE_BY_SITE_SQL, 1)).toMatch(
        /SEARCH l USING (COVERING )?INDEX telemetry_live_site_miner \(site_id=\?\)/,
      );
    const unique = store.db
      .prepare<[], { name: string; unique: number }>(
        'SELECT name, "unique" FROM pragma_index_list(\'telemetry_live\')',
      )
      .all()
      .find((index) => index.name === 'telemetry_live_site_miner');
    expect(unique?.unique).toBe(1);
  });

  it('retention and rollups read the (site, ts) index', () => {
    expect(plan('SELECT id FROM telemetry_history WHERE site_id = ? AND ts < ? LIMIT 10', 1, 0)).toMatch(
      /USING (COVERING )?INDEX telemetry_history_site_ts \(site_id=\? AND ts<\?\)/,
    );
    expect(
      plan(
        'SELECT miner_id, count(*) FROM telemetry_history WHERE site_id = ? AND ts >= ? AND ts < ? GROUP BY miner_id',
        1,
        0,
        1,
      ),
    ).toMatch(/INDEX telemetry_history_site_ts \(site_id=\? AND ts>\? AND ts<\?\)/);
  });
});
