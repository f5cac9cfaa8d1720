import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { writeCycle } from '../../src/store/cycle.js';
import {
  getBatch,
  markDelivered,
  NEXT_DUE_BATCH_SQL,
  nextDueBatch,
  outboxStatus,
  pruneFinished,
} from '../../src/store/outbox.js';
import type { Target } from '../../src/targets/types.js';
import {
  buildBatches,
  decodeBatchBody,
  splitBatchBody,
  type UploadBatchBody,
} from '../../src/upload/batch.js';
import { outboxCycleHook } from '../../src/upload/cycle-hook.js';
import { enqueueCycle, reports, snapshot, type TempStore, tempStore } from './support/fixtures.js';

const T0 = 1_800_000_000_000;
let temps: TempStore[] = [];
afterEach(() => {
  for (const temp of temps) temp.close();
  temps = [];
});
function open(): TempStore {
  const temp = tempStore();
  temps.push(temp);
  return temp;
}

const target = (i: number): Target => ({ host: `10.1.0.${i}`, port: 4028, key: `10.1.0.${i}:4028` });

describe('upload_outbox table', () => {
  it('is created by migration 0002 as a STRICT table', () => {
    const { store } = open();
    expect(store.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(2);
    const sql = (
      store.db.prepare(`SELECT sql FROM sqlite_schema WHERE name = 'upload_outbox'`).get() as { sql: string }
    ).sql;
    expect(sql).toMatch(/\) STRICT$/);
    expect(() =>
      store.db
        .prepare(
          `INSERT INTO upload_outbox (batch_id, site_id, created_at, body, miners, bytes, next_attempt_at) VALUES ('x', 's', 'soon', X'', 0, 0, 0)`,
        )
        .run(),
    ).toThrow(/cannot store TEXT value in INTEGER column/);
  });

  it('walks pending batches in order through the partial index, never scanning the table', () => {
    // The flush's own query: a table scan and sort for every batch took most of an hour to drain
    // the 40,000 batches an outage leaves.
    const { store } = open();
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN ${NEXT_DUE_BATCH_SQL}`)
      .all({ now: T0, far: T0 + 1, site: null, skip: '[]' }) as { detail: string }[];
    const onTable = plan.map((row) => row.detail).filter((detail) => /upload_outbox/.test(detail));
    expect(onTable.length).toBeGreaterThan(1);
    // The chosen batch's row by id; the choice itself from the pending queue index alone.
    expect(onTable[0]).toMatch(/USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    for (const detail of onTable.slice(1)) expect(detail).toMatch(/USING COVERING INDEX upload_outbox_queue/);
  });

  it("enqueues a cycle's batches inside the cycle transaction: both or neither", () => {
    const { store } = open();
    const outcomes = [
      { target: target(1), ok: true as const, snapshot: snapshot(1), elapsedMs: 10 },
      {
        target: target(2),
        ok: false as const,
        error: { kind: 'timeout' as const, message: 'no reply' },
        elapsedMs: 5000,
      },
    ];
    const summary = writeCycle(
      store,
      { site: 'farm-b', startedAt: T0, endedAt: T0 + 5_000, outcomes },
      { extraInTransaction: outboxCycleHook() },
    );
    const row = nextDueBatch(store.db, T0 + 5_000)!;
    expect(row).toMatchObject({
      siteId: 'farm-b',
      runId: summary.runId,
      miners: 2,
      state: 'pending',
      createdAt: T0 + 5_000,
    });
    const body = decodeBatchBody(row.body);
    expect(body.miners[0]).toMatchObject({
      host: '10.1.0.1',
      port: 4028,
      ok: true,
      make: 'Antminer',
      collected_at: new Date(T0).toISOString(),
    });
    expect(body.miners[0]!.miner_id).toEqual(expect.any(Number));
    expect(body.miners[1]).toMatchObject({
      host: '10.1.0.2',
      ok: false,
      error: { kind: 'timeout', message: 'no reply' },
    });
    expect(body.miners[1]).not.toHaveProperty('make');

    // A cycle that fails after its batches were built leaves neither rows nor batches.
    const failing = () => {
      throw new Error('disk full');
    };
    expect(() =>
      writeCycle(
        store,
        { site: 'farm-b', startedAt: T0 + 60_000, endedAt: T0 + 61_000, outcomes },
        { extraInTransaction: [outboxCycleHook(), failing] },
      ),
    ).toThrow();
    expect(outboxStatus(store.db).states.pending.batches).toBe(1);
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM collection_runs').get() as { n: number }).n).toBe(1);
  });

  it('keeps no body for a delivered batch: a week-long outage drained does not sit on disk another week', () => {
    const { store } = open();
    // A week of one-minute cycles queued while the collector was down (a few of them here).
    const batches = Array.from({ length: 20 }, (_, i) =>
      enqueueCycle(store, { miners: reports(50), now: T0 + i * 60_000 }),
    ).flat();
    const bodyBytes = () =>
      store.db.prepare('SELECT coalesce(sum(length(body)), 0) FROM upload_outbox').pluck().get() as number;
    expect(bodyBytes()).toBeGreaterThan(0);
    // The collector is back and takes them all, oldest first.
    for (let i = 0; i < batches.length; i++) {
      const next = nextDueBatch(store.db, T0 + 8 * 86_400_000);
      expect(next?.batchId).toBe(batches[i]!.batchId);
      markDelivered(store.db, next!.batchId, 200, T0 + 8 * 86_400_000);
    }
    // Kept as delivered (for --status and pruning a week later), but without the bodies it sent.
    expect(outboxStatus(store.db).states.delivered.batches).toBe(batches.length);
    expect(outboxStatus(store.db).states.delivered.miners).toBe(20 * 50);
    expect(bodyBytes()).toBe(0);
  });

  it('prunes only finished rows older than the cut-off', () => {
    const { store } = open();
    const [a, b] = enqueueCycle(store, { miners: reports(4), now: T0, limits: { maxMiners: 2 } });
    store.db
      .prepare(`UPDATE upload_outbox SET state = 'delivered', delivered_at = ? WHERE batch_id = ?`)
      .run(T0, a!.batchId);
    expect(pruneFinished(store.db, T0)).toBe(0);
    expect(pruneFinished(store.db, T0 + 1)).toBe(1);
    expect(getBatch(store.db, a!.batchId)).toBeNull();
    expect(getBatch(store.db, b!.batchId)?.state).toBe('pending');
  });
});

describe('buildBatches', () => {
  it('cuts a large cycle by miner count, in order, every miner exactly once', () => {
    const miners = reports(1203);
    const batches = buildBatches({ siteId: 's', miners, now: T0, limits: { maxMiners: 500 } });
    expect(batches.map((b) => b.miners)).toEqual([500, 500, 203]);
    const hosts = batches.flatMap((b) =>
      (JSON.parse(gunzipSync(b.body).toString()) as UploadBatchBody).miners.map((m) => m.host),
    );
    expect(hosts).toEqual(miners.map((m) => m.host));
    expect(new Set(batches.map((b) => b.batchId)).size).toBe(3);
    for (const batch of batches)
      expect(batch.batchId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('halves a batch until its compressed body fits maxBatchBytes', () => {
    const batches = buildBatches({
      siteId: 's',
      miners: reports(400),
      now: T0,
      limits: { maxMiners: 500, maxBatchBytes: 2048 },
    });
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.bytes).toBe(batch.body.length);
      expect(batch.bytes).toBeLessThanOrEqual(2048);
    }
    expect(batches.reduce((sum, b) => sum + b.miners, 0)).toBe(400);
  });

  it('makes no batch for an empty cycle and refuses silly limits', () => {
    expect(buildBatches({ siteId: 's', miners: [], now: T0 })).toEqual([]);
    expect(() =>
      buildBatches({ siteId: 's', miners: reports(1), now: T0, limits: { maxMiners: 0 } }),
    ).toThrow(expect.objectContaining({ kind: 'upload' }));
  });

  it('splits a stored body into two halves that name their parent and keep sent_at', () => {
    const [parent] = buildBatches({ siteId: 's', miners: reports(5), now: T0 });
    const [left, right] = splitBatchBody(parent!.body, T0, 7);
    const l = decodeBatchBody(left.body);
    const r = decodeBatchBody(right.body);
    expect([l.miners.length, r.miners.length]).toEqual([3, 2]);
    expect(l).toMatchObject({
      parent_batch_id: parent!.batchId,
      sent_at: new Date(T0).toISOString(),
      site_id: 's',
    });
    expect(left).toMatchObject({ parent: parent!.batchId, runId: 7, createdAt: T0 });
    expect(l.batch_id).not.toBe(r.batch_id);
    const [single] = buildBatches({ siteId: 's', miners: reports(1), now: T0 });
    expect(() => splitBatchBody(single!.body, T0, null)).toThrow(expect.objectContaining({ kind: 'upload' }));
  });
});
