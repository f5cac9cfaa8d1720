// The outbox's queries read state, miners, bytes, next_attempt_at and last_error from indexes:
// those columns sit after `body`, and reading them from the table walked every stored body
// (`upload --status` on a week's backlog of 20,000 batches: 0.7–1.5 s). Asserted by query plan.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { loadSqlite } from '../../src/store/native.js';
import * as outbox from '../../src/store/outbox.js';
import type { PreparedBatch } from '../../src/upload/batch.js';
import { queryPlan, tempDir } from './helpers.js';

const batch = (n: number, site = 'default', createdAt = 1_000 + n): PreparedBatch => ({
  batchId: `b-${site}-${n}`,
  siteId: site,
  runId: null,
  createdAt,
  body: Buffer.alloc(20_000, n),
  miners: n,
  bytes: 20_000,
  parent: null,
});

let store: Store;
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('hashctl-outbox-plans-'));
  store = openStore(path.join(dir, 'plans.db'));
  store.transaction((db) =>
    outbox.enqueueBatches(
      db,
      [1, 2, 3, 4].map((n) => batch(n)),
    ),
  );
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
  ['after ANALYZE', true],
])('outbox query plans (%s)', (_name, analyze) => {
  beforeAll(() => {
    if (analyze) store.db.exec('ANALYZE');
  });

  it('--status counts by state from a covering index, in its order', () => {
    const detail = plan(outbox.OUTBOX_COUNTS_SQL, null, null);
    expect(detail).toMatch(/USING COVERING INDEX upload_outbox_state/);
    expect(detail).not.toMatch(/TEMP B-TREE/);
  });

  it('counts, earliest next attempt and the sites read covering indexes only', () => {
    expect(plan(outbox.COUNT_PENDING_SQL, null, null)).toMatch(
      /SEARCH upload_outbox USING COVERING INDEX upload_outbox_state \(state=\?\)/,
    );
    expect(plan(outbox.NEXT_ATTEMPT_SQL, 'default', 'default')).toMatch(
      /USING COVERING INDEX upload_outbox_queue/,
    );
  });

  it('the flush picks its next batch from the queue index, reading one row by id', () => {
    const detail = plan(outbox.NEXT_DUE_BATCH_SQL, { now: 1, far: 2, site: null, skip: '[]' });
    expect(detail).toMatch(/^SEARCH upload_outbox USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    // Every other read of upload_outbox is a covering one.
    const reads = detail.split('\n').filter((line) => / upload_outbox /.test(line));
    expect(reads.slice(1).length).toBeGreaterThan(0);
    for (const line of reads.slice(1)) expect(line).toMatch(/USING COVERING INDEX upload_outbox_queue/);
    const waiting = plan(outbox.NEXT_WAITING_SQL, null, null).split('\n');
    expect(waiting[0]).toMatch(/USING INTEGER PRIMARY KEY/);
    expect(waiting.join('\n')).toMatch(/USING COVERING INDEX upload_outbox_queue/);
  });

  it('the last failure and the quarantined list read rows only for what they return', () => {
    const last = plan(outbox.LAST_FAILURE_SQL, null, null);
    expect(last).toMatch(/^SEARCH upload_outbox USING INTEGER PRIMARY KEY/);
    expect(last).toMatch(/USING INDEX upload_outbox_failed/);
    expect(last).not.toMatch(/TEMP B-TREE/);
    const quarantined = plan(outbox.QUARANTINED_SQL, null, null, 50);
    expect(quarantined).toMatch(/SEARCH o USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(quarantined).not.toMatch(/SCAN (upload_outbox|o)\b/);
    expect(quarantined).toMatch(/USING COVERING INDEX upload_outbox_state \(state=\?\)/);
  });

  it('retention counts what it drops from the covering index', () => {
    expect(
      plan(
        `SELECT COUNT(*) AS batches, COALESCE(SUM(miners), 0) AS miners FROM upload_outbox
          WHERE state IN ('pending', 'quarantined') AND created_at < ? AND site_id = ?`,
        5,
        'x',
      ),
    ).toMatch(/USING COVERING INDEX upload_outbox_state \(state=\? AND site_id=\? AND created_at<\?\)/);
  });
});

describe('migration 10 (outbox indexes)', () => {
  it('upgrades a file of schema 9 with batches queued, and the outbox reads as before', () => {
    const file = path.join(dir, 'v9.db');
    const old = openStore(file, { targetVersion: 9 });
    old.transaction((db) => {
      outbox.enqueueBatches(db, [batch(1, 'a', 10), batch(2, 'a', 10), batch(3, 'b', 20), batch(4, 'b', 30)]);
    });
    old.db
      .prepare(
        `UPDATE upload_outbox SET state = 'quarantined', last_error = 'HTTP 400', last_attempt_at = 5 WHERE batch_id = 'b-b-4'`,
      )
      .run();
    old.db
      .prepare(
        `UPDATE upload_outbox SET last_error = 'HTTP 503', last_attempt_at = 7, next_attempt_at = 99 WHERE batch_id = 'b-a-2'`,
      )
      .run();
    old.close();
    const Database = loadSqlite();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(9);
    raw.close();

    const store = openStore(file);
    try {
      const indexes = store.db
        .prepare(
          `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'upload_outbox' AND sql IS NOT NULL`,
        )
        .pluck()
        .all();
      expect(indexes).toEqual(
        expect.arrayContaining(['upload_outbox_state', 'upload_outbox_queue', 'upload_outbox_failed']),
      );
      expect(indexes).not.toContain('upload_outbox_pending');
      const status = outbox.outboxStatus(store.db);
      expect(status.states.pending).toMatchObject({
        batches: 3,
        miners: 6,
        bytes: 60_000,
        oldestCreatedAt: 10,
      });
      expect(status.states.quarantined).toMatchObject({ batches: 1, miners: 4 });
      expect(status.nextAttemptAt).toBe(10);
      expect(status.lastError).toEqual({ batchId: 'b-a-2', status: null, error: 'HTTP 503', at: 7 });
      expect(status.quarantined.map((q) => q.batchId)).toEqual(['b-b-4']);
      expect(outbox.outboxStatus(store.db, 50, 'b').lastError?.batchId).toBe('b-b-4');
      expect(outbox.countPending(store.db, 'a')).toBe(2);
      expect(outbox.pendingSites(store.db)).toEqual(['a', 'b']);
      expect(outbox.outboxSites(store.db)).toEqual(['a', 'b']);
      expect(outbox.nextWaitingBatch(store.db)?.batchId).toBe('b-a-1');
      // Same cycle: the smallest first; a batch deferred past `now` is skipped.
      expect(outbox.nextDueBatch(store.db, 50)?.batchId).toBe('b-a-1');
      expect(outbox.nextDueBatch(store.db, 50, null, ['b-a-1'])?.batchId).toBe('b-b-3');
      expect(outbox.nextDueBatch(store.db, 50, 'b')?.batchId).toBe('b-b-3');
      expect(outbox.nextDueBatch(store.db, 50, null, ['b-a-1'])?.body.length).toBe(20_000);
    } finally {
      store.close();
    }
  });
});
