// A collector with a body-size limit (a reverse proxy's client_max_body_size): hashctl learns it
// from its 413s and splits batches before sending them, instead of sending every oversized batch
// whole, being refused and splitting it again in every flush of every run.
import { describe, expect, it } from 'vitest';
import { memoryContext } from '../../src/context.js';
import type { Snapshot } from '../../src/miners/types.js';
import { writeCycle } from '../../src/store/cycle.js';
import { getBatch, nextDueBatch, outboxStatus, recordAttempt } from '../../src/store/outbox.js';
import type { Target } from '../../src/targets/types.js';
import { buildBatches, decodeBatchBody, type MinerReport } from '../../src/upload/batch.js';
import { outboxCycleHook } from '../../src/upload/cycle-hook.js';
import { parseEndpoint } from '../../src/upload/endpoint.js';
import { type FlushOptions, flushOutbox } from '../../src/upload/flush.js';
import {
  readSizeLimit,
  SIZE_LIMIT_REPROBE_MS,
  sizeLimitKey,
  writeSizeLimit,
} from '../../src/upload/size-limit.js';
import type { Collector, Handler } from './support/collector.js';
import { enqueueCycle, KEY, reports, snapshot } from './support/fixtures.js';
import { collectorPerTest } from './support/setup.js';

const T0 = 1_800_000_000_000;
const setup = collectorPerTest();

function clock(start = T0) {
  let now = start;
  const ctx = memoryContext({
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    random: () => 0.5,
  });
  return { ctx, advance: (ms: number) => (now += ms), at: () => now };
}

function options(collector: Collector, extra: Partial<FlushOptions> = {}): FlushOptions {
  return {
    endpoint: collector.url,
    key: KEY,
    newBatchId,
    connectTimeoutMs: 2_000,
    totalTimeoutMs: 5_000,
    maxAttempts: 3,
    signal: new AbortController().signal,
    ...extra,
  };
}

/** 160 hex digits that gzip cannot squeeze, different for every `i` (miners alike compress to nothing). */
function noise(i: number): string {
  let state = (i + 1) >>> 0;
  let out = '';
  for (let k = 0; k < 20; k++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    state ^= state >>> 13;
    out += state.toString(16).padStart(8, '0');
  }
  return out;
}

/** The fixtures' miners, each with a pool worker name of its own that gzip cannot squeeze. */
function miners(count: number, start = 0): MinerReport[] {
  return reports(count, start).map((report, k) =>
    report.snapshot
      ? { ...report, snapshot: variedSnapshot(start + k) }
      : { ...report, error: { kind: 'timeout', message: `no reply ${noise(start + k)}` } },
  );
}

function variedSnapshot(i: number): Snapshot {
  const base = snapshot(i);
  return { ...base, pools: base.pools.map((pool) => ({ ...pool, user: `farm.${noise(i)}` })) };
}

/** Compressed size of a batch of `count` miners (all about the same size). */
function bytesOf(count: number): number {
  return buildBatches({ siteId: 'farm-a', miners: miners(count), now: T0 }).reduce((a, b) => a + b.bytes, 0);
}

/** A collector refusing (413) every body over `limit.bytes` gzip'd bytes, as a proxy in front does. */
function limited(limit: { bytes: number }): { handler: Handler; refused: () => number } {
  let refused = 0;
  return {
    handler: (request) => {
      if (request.raw.length > limit.bytes) {
        refused++;
        return { status: 413, body: 'Request Entity Too Large' };
      }
      return { status: 200, body: '{"ok":true}' };
    },
    refused: () => refused,
  };
}

let ids = 0;
/** Batch ids of one length and one order in every run: sizes and the send order stay the same. */
const newBatchId = (): string => `batch-${String(++ids).padStart(6, '0')}`;

function enqueueCycles(
  temp: { store: Parameters<typeof enqueueCycle>[0] },
  count: number,
  from: number,
  at: number,
) {
  for (let i = 0; i < count; i++)
    enqueueCycle(temp.store, { miners: miners(10, (from + i) * 10), now: at - count + i, newBatchId });
}

const sizes = (collector: Collector): (number | undefined)[] =>
  collector.received.map((r) => r.body?.miners.length);

describe('a collector with a body-size limit', () => {
  it('is refused once per discovered limit, not once per oversized batch in every flush', async () => {
    // Ten miners are over the limit, five are under it.
    const limit = { bytes: Math.floor((bytesOf(10) + bytesOf(5)) / 2) };
    const collector413 = limited(limit);
    const { collector, temp } = await setup(collector413.handler);
    enqueueCycles(temp, 20, 0, T0);
    const time = clock();
    const report = await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(report).toMatchObject({ stop: 'done', pending: 0, deliveredMiners: 200, split: 20 });
    // The old code: 20 refusals and 60 requests; now one refusal, then halves only.
    expect(collector413.refused()).toBe(1);
    expect(collector.received).toHaveLength(41);
    const accepted = [...collector.accepted.values()];
    expect(accepted.reduce((a, b) => a + b, 0)).toBe(200);
    expect(new Set(accepted)).toEqual(new Set([5]));
    // Halves split before sending keep the design's form: new ids, parent_batch_id the original's.
    for (const request of collector.received.slice(1)) expect(request.body?.parent_batch_id).toBeTruthy();

    // The next run (cron, a new process) knows the limit from the database: no refusal at all.
    enqueueCycles(temp, 5, 20, time.advance(60_000));
    const next = await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(next).toMatchObject({ stop: 'done', pending: 0, deliveredMiners: 50 });
    expect(collector413.refused()).toBe(1);
    expect(sizes(collector).slice(41)).toEqual(Array(10).fill(5));
  });

  it('says why a batch was split without being sent, and splits what is still too large again', async () => {
    // Only three miners fit: 10 → 5 → (3 + 2), the first refusal teaches 10, the second 5.
    const limit = { bytes: Math.floor((bytesOf(3) + bytesOf(5)) / 2) };
    const collector413 = limited(limit);
    const { collector, temp } = await setup(collector413.handler);
    enqueueCycles(temp, 7, 0, T0);
    let next = 0;
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { newBatchId: () => `half-${++next}` }),
      clock().ctx,
    );
    expect(report).toMatchObject({ stop: 'done', pending: 0, deliveredMiners: 70 });
    expect(collector413.refused()).toBe(2);
    expect(Math.max(...[...collector.accepted.values()])).toBeLessThanOrEqual(3);
    const status = outboxStatus(temp.store.db);
    expect(status.states.pending.batches).toBe(0);
    // Sent whole: only the first batch; the others were halved before sending.
    expect(collector.received.filter((r) => r.body?.parent_batch_id === undefined)).toHaveLength(1);
    // A batch halved before sending says so, naming the size refused, and was never answered.
    const superseded = temp.store.db
      .prepare(
        `SELECT last_status, last_error FROM upload_outbox WHERE state = 'superseded' AND last_error LIKE 'split before sending%'`,
      )
      .all() as { last_status: number | null; last_error: string }[];
    expect(superseded.length).toBeGreaterThan(0);
    for (const row of superseded) {
      expect(row.last_status).toBeNull();
      expect(row.last_error).toMatch(
        /^split before sending: the collector refused \d+ bytes \(HTTP 413\): split into /,
      );
    }
  });

  it('re-probes a full batch once a day: a raised limit gets full batches again', async () => {
    const limit = { bytes: Math.floor((bytesOf(10) + bytesOf(5)) / 2) };
    const collector413 = limited(limit);
    const { collector, temp } = await setup(collector413.handler);
    enqueueCycles(temp, 2, 0, T0);
    const time = clock();
    await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(collector413.refused()).toBe(1);
    limit.bytes = 1 << 20; // the collector's operator raises the limit

    // Within the day: still split before sending (nothing refused, nothing probed).
    enqueueCycles(temp, 2, 2, time.advance(3_600_000));
    let seen = collector.received.length;
    await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(sizes(collector).slice(seen)).toEqual([5, 5, 5, 5]);

    // A day after the refusal: the first batch goes whole, is taken, and the limit is forgotten.
    enqueueCycles(temp, 3, 4, time.advance(SIZE_LIMIT_REPROBE_MS));
    seen = collector.received.length;
    const report = await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(report).toMatchObject({ stop: 'done', pending: 0, split: 0 });
    expect(sizes(collector).slice(seen)).toEqual([10, 10, 10]);
    expect(readSizeLimit(temp.store.db, collector.url)).toMatchObject({ refusedBytes: null });
    expect(collector413.refused()).toBe(1);
  });

  it('a limit still in force costs one refusal a day, and a lowered one is learnt within two', async () => {
    const limit = { bytes: Math.floor((bytesOf(10) + bytesOf(5)) / 2) };
    const collector413 = limited(limit);
    const { collector, temp } = await setup(collector413.handler);
    enqueueCycles(temp, 3, 0, T0);
    const time = clock();
    await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(collector413.refused()).toBe(1);

    enqueueCycles(temp, 3, 3, time.advance(SIZE_LIMIT_REPROBE_MS + 1));
    const probed = await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(probed).toMatchObject({ stop: 'done', pending: 0, deliveredMiners: 30 });
    expect(collector413.refused()).toBe(2);

    // Lowered under five miners: a refusal of a size already taken only unlearns what was taken,
    // the next one teaches the new limit, then halves of three and two go without refusals.
    limit.bytes = Math.floor((bytesOf(3) + bytesOf(5)) / 2);
    enqueueCycles(temp, 6, 6, time.advance(60_000));
    const lowered = await flushOutbox(temp.store.db, options(collector), time.ctx);
    expect(lowered).toMatchObject({ stop: 'done', pending: 0, deliveredMiners: 60 });
    expect(collector413.refused()).toBe(4);
    expect(Math.max(...sizes(collector).slice(-10).map(Number))).toBeLessThanOrEqual(3);
  });

  it('one miner refused for its content does not cut every later batch small', async () => {
    // A collector that takes any size but refuses (413) one miner's snapshot, as a filter would;
    // wherever that miner sits in its batch (each position splits and orders differently).
    for (const position of [0, 3, 6, 9]) {
      let odd = '';
      const { collector, temp } = await setup((request) =>
        request.body?.miners.some((miner) => miner.host === odd) ? { status: 413 } : { status: 200 },
      );
      const first = miners(10);
      odd = first[position]!.host;
      enqueueCycle(temp.store, { miners: first, now: T0 - 20, newBatchId });
      const time = clock();
      const report = await flushOutbox(temp.store.db, options(collector), time.ctx);
      expect(report).toMatchObject({ stop: 'done', quarantined: 1, deliveredMiners: 9 });
      enqueueCycles(temp, 3, 1, time.advance(60_000));
      const seen = collector.received.length;
      const next = await flushOutbox(temp.store.db, options(collector), time.ctx);
      expect(next).toMatchObject({ stop: 'done', pending: 0, deliveredMiners: 30 });
      expect({ position, sizes: sizes(collector).slice(seen) }).toEqual({ position, sizes: [10, 10, 10] });
    }
  });

  it('sends whole, under its own batch_id, a batch an earlier attempt may have delivered: never split unsent', async () => {
    // A run killed between the collector's 200 and recording it: the batch is still pending, and the
    // collector has it. A limit learnt since (a larger batch refused) put it in the top quarter of
    // the gap, and it was split before sending: two new batch_ids the collector cannot dedupe, every
    // miner of it stored twice, under a parent_batch_id the schema says was never accepted.
    const has = new Set<string>();
    const { collector, temp } = await setup((request) => {
      const id = request.body?.batch_id ?? '';
      if (has.has(id)) return { status: 409 };
      has.add(id);
      return { status: 200 };
    });
    const [batch] = enqueueCycle(temp.store, { miners: miners(10), now: T0, newBatchId });
    has.add(batch!.batchId);
    recordAttempt(temp.store.db, batch!.batchId, T0);
    const url = parseEndpoint(collector.url).url;
    writeSizeLimit(temp.store.db, url, {
      acceptedBytes: Math.floor(batch!.bytes / 2),
      refusedBytes: batch!.bytes + 100,
      refusedAt: T0,
    });
    const report = await flushOutbox(temp.store.db, options(collector), clock(T0 + 60_000).ctx);
    expect(collector.received.map((r) => r.body?.batch_id)).toEqual([batch!.batchId]);
    expect(report).toMatchObject({ stop: 'done', delivered: 1, duplicates: 1, split: 0 });
  });

  it('a damaged stored value is read as nothing learnt, and 409 duplicates teach nothing', async () => {
    const { collector, temp } = await setup(() => ({ status: 409 }));
    temp.store.db
      .prepare('INSERT INTO store_meta (key, value) VALUES (?, ?)')
      .run(sizeLimitKey(collector.url), '{not json');
    expect(readSizeLimit(temp.store.db, collector.url)).toEqual({
      acceptedBytes: 0,
      refusedBytes: null,
      refusedAt: null,
    });
    enqueueCycles(temp, 1, 0, T0);
    const report = await flushOutbox(temp.store.db, options(collector), clock().ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 1, duplicates: 1 });
    expect(readSizeLimit(temp.store.db, collector.url).acceptedBytes).toBe(0);
  });
});

describe("collect's batches under a learnt limit", () => {
  const target = (i: number): Target => ({ host: `10.1.0.${i}`, port: 4028, key: `10.1.0.${i}:4028` });
  const outcomes = Array.from({ length: 10 }, (_, i) => ({
    target: target(i + 1),
    ok: true as const,
    snapshot: variedSnapshot(i),
    elapsedMs: 10,
  }));

  it('are sealed under the size the endpoint refused, once, instead of split after every cycle', async () => {
    const { collector, temp } = await setup();
    const url = collector.url;
    const whole = writeCycle(
      temp.store,
      { site: 'farm-a', startedAt: T0, endedAt: T0 + 1_000, outcomes },
      { extraInTransaction: outboxCycleHook({ endpointUrl: url }) },
    );
    const first = nextDueBatch(temp.store.db, T0 + 1_000)!;
    expect(first).toMatchObject({ miners: 10, runId: whole.runId });
    const refused = Math.floor(first.bytes * 0.8);
    expect(refused).toBeGreaterThan(1_100); // over batch.ts's floor of 1 KiB
    writeSizeLimit(temp.store.db, url, {
      acceptedBytes: 0,
      refusedBytes: refused,
      refusedAt: T0 + 2_000,
    });

    writeCycle(
      temp.store,
      { site: 'farm-a', startedAt: T0 + 60_000, endedAt: T0 + 61_000, outcomes },
      { extraInTransaction: outboxCycleHook({ endpointUrl: url }) },
    );
    const rows = temp.store.db
      .prepare('SELECT batch_id, miners, bytes, parent FROM upload_outbox WHERE created_at = ?')
      .all(T0 + 61_000) as { batch_id: string; miners: number; bytes: number; parent: string | null }[];
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.reduce((a, r) => a + r.miners, 0)).toBe(10);
    for (const row of rows) {
      expect(row.bytes).toBeLessThan(refused);
      expect(row.parent).toBeNull();
      expect(decodeBatchBody(getBatch(temp.store.db, row.batch_id)!.body).parent_batch_id).toBeUndefined();
    }

    // Another endpoint's limit, or one learnt over a day ago, leaves the batches whole.
    for (const [hook, at] of [
      [outboxCycleHook({ endpointUrl: 'http://127.0.0.1:9/other' }), T0 + 120_000],
      [outboxCycleHook({ endpointUrl: url }), T0 + 2_000 + SIZE_LIMIT_REPROBE_MS],
    ] as const) {
      writeCycle(
        temp.store,
        { site: 'farm-a', startedAt: at - 1_000, endedAt: at, outcomes },
        { extraInTransaction: hook },
      );
      const count = temp.store.db.prepare('SELECT miners FROM upload_outbox WHERE created_at = ?').all(at);
      expect(count).toEqual([{ miners: 10 }]);
    }
  });
});
