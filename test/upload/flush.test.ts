import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { memoryContext } from '../../src/context.js';
import { openStore } from '../../src/store/index.js';
import {
  CUT_BY_DEADLINE,
  deferBatch,
  dropUndeliveredBefore,
  getBatch,
  outboxStatus,
  recordAttempt,
  requeueQuarantined,
  UNANSWERED_ATTEMPT,
} from '../../src/store/outbox.js';
import type { UploadBatchBody } from '../../src/upload/batch.js';
import { parseEndpoint } from '../../src/upload/endpoint.js';
import {
  DOWN_RETRY_GAP_MS,
  type FlushOptions,
  flushOutbox,
  MIN_FLUSH_BUDGET_MS,
  uploadAfterCycle,
} from '../../src/upload/flush.js';
import type { Answer, Collector } from './support/collector.js';
import { enqueueCycle, KEY, reports, type TempStore } from './support/fixtures.js';
import { collectorPerTest } from './support/setup.js';

const T0 = 1_800_000_000_000;
const setup = collectorPerTest();

/** A clock the test moves, and a sleep that records what was asked and advances the clock. */
function testContext(start = T0) {
  let now = start;
  const sleeps: number[] = [];
  const ctx = memoryContext({
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
  });
  return { ctx, sleeps, advance: (ms: number) => (now += ms), at: () => now };
}

function options(collector: Collector, extra: Partial<FlushOptions> = {}): FlushOptions {
  return {
    endpoint: collector.url,
    key: KEY,
    connectTimeoutMs: 2_000,
    totalTimeoutMs: 5_000,
    maxAttempts: 3,
    signal: new AbortController().signal,
    ...extra,
  };
}

describe('the flush after a cycle', () => {
  it('gets its minimum time even when the next cycle is due at once (a cycle longer than the interval)', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(3), now: T0 });
    const { ctx } = testContext();
    const settings = {
      endpoint: parseEndpoint(collector.url),
      key: KEY,
      keySource: 'test',
      connectTimeoutMs: 2_000,
      totalTimeoutMs: 5_000,
      maxAttempts: 3,
    };
    // --interval 1s, the cycle took 1.2 s: the next one is already due.
    const report = await uploadAfterCycle(temp.store, settings, { nextCycleAt: T0 - 200 }, ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 1 });
    expect(collector.received).toHaveLength(1);
    expect(MIN_FLUSH_BUDGET_MS).toBeGreaterThan(5_000);
  });

  it('gives at least one request its whole timeout: a collector slower than the minimum budget still gets batches', async () => {
    // A collector that answers in 15.5 s (its contract: within 60 s) behind a loop at a short
    // interval: each flush got 15 s, cut the oldest batch before its answer, and nothing was ever
    // delivered, flush after flush, though the flush runs beside the next cycle anyway.
    const { temp } = await setup();
    const sockets = new Set<import('node:net').Socket>();
    const timers = new Set<NodeJS.Timeout>();
    const slow = createHttpServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const timer = setTimeout(() => response.writeHead(200).end('{"ok":true}'), 15_500);
        timers.add(timer);
      });
    });
    slow.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const { port } = slow.address() as import('node:net').AddressInfo;
    try {
      enqueueCycle(temp.store, { miners: reports(2), now: Date.now() });
      const settings = {
        endpoint: parseEndpoint(`http://127.0.0.1:${port}`),
        key: KEY,
        keySource: 'test',
        connectTimeoutMs: 2_000,
        totalTimeoutMs: 20_000,
        maxAttempts: 1,
      };
      expect(settings.totalTimeoutMs).toBeGreaterThan(MIN_FLUSH_BUDGET_MS);
      // --interval 1s: the next cycle is due at once.
      const report = await uploadAfterCycle(
        temp.store,
        settings,
        { nextCycleAt: Date.now() },
        memoryContext(),
      );
      expect(report).toMatchObject({ stop: 'done', delivered: 1, pending: 0 });
    } finally {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it("says a collector that never answers within a whole request timeout as its failure, not as the flush's deadline", async () => {
    // The flush's minimum is one request's timeout from when it was planned; the request starts a
    // few ms later, so it got a little less, and its timing out was stored as 'cut by the flush's
    // deadline (not a failure)': --status and the loop's notes said a dead collector was healthy.
    const { collector, temp } = await setup(() => 'hang');
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    const settings = {
      endpoint: parseEndpoint(collector.url),
      key: KEY,
      keySource: 'test',
      connectTimeoutMs: 2_000,
      totalTimeoutMs: MIN_FLUSH_BUDGET_MS + 200,
      maxAttempts: 1,
    };
    const report = await uploadAfterCycle(temp.store, settings, { nextCycleAt: Date.now() }, memoryContext());
    expect(report).toMatchObject({ stop: 'retries_exhausted', pending: 1 });
    expect(getBatch(temp.store.db, batch!.batchId)?.lastError).toBe(
      `no answer within ${settings.totalTimeoutMs} ms`,
    );
  });

  it("collect --once: a request gets the run's budget at most, and a collector silent that long has failed, not been cut", async () => {
    // --once gives the flush a fixed budget (cron's minute), shorter than the 60 s request timeout:
    // each request was cut by the budget, and --status said a dead collector's batches were "cut
    // by the flush's deadline (not a failure)", run after run. A short budget stands in for 40 s.
    const { collector, temp } = await setup(() => 'hang');
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    const settings = {
      endpoint: parseEndpoint(collector.url),
      key: KEY,
      keySource: 'test',
      connectTimeoutMs: 10_000,
      totalTimeoutMs: 60_000,
      maxAttempts: 4,
    };
    const report = await uploadAfterCycle(temp.store, settings, { budgetMs: 2_500 }, memoryContext());
    // One request, of the budget less the second kept to reach it; no shorter retry cut after it.
    expect(report).toMatchObject({ stop: 'deadline', attempts: 1, pending: 1 });
    expect(report.reason).toContain('last answer: no answer within 1500 ms');
    expect(getBatch(temp.store.db, batch!.batchId)?.lastError).toBe('no answer within 1500 ms');
  });

  it('a loop tries a collector found down once per gap, not after every cycle; cron and upload always try', async () => {
    let down = true;
    const { collector, temp } = await setup(() => (down ? 'destroy' : { status: 200 }));
    const clock = testContext();
    const settings = {
      endpoint: parseEndpoint(collector.url),
      key: KEY,
      keySource: 'test',
      connectTimeoutMs: 2_000,
      totalTimeoutMs: 5_000,
      maxAttempts: 2,
    };
    // --interval 1s: a cycle (and its flush) every second, for the gap (30 s) and a bit more.
    const sent: number[] = [];
    const flushes = 35;
    for (let cycle = 0; cycle < flushes; cycle++) {
      enqueueCycle(temp.store, { miners: reports(1, cycle), now: clock.at() });
      const before = collector.received.length;
      const report = await uploadAfterCycle(
        temp.store,
        settings,
        { nextCycleAt: clock.at() + 1_000 },
        clock.ctx,
      );
      expect(report.delivered).toBe(0);
      sent.push(collector.received.length - before);
      clock.advance(1_000);
    }
    // The first flush finds it down (its one batch, twice); the next try is a gap later (two
    // batches, once each), not every second.
    expect(sent[0]).toBe(2);
    expect(sent.filter((n) => n > 0)).toEqual([2, 2]);
    // `upload` (and --once) are not held back: they try at once, and deliver once it is back.
    down = false;
    const report = await uploadAfterCycle(temp.store, settings, { budgetMs: 30_000 }, clock.ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: flushes, pending: 0 });
    expect(DOWN_RETRY_GAP_MS).toBeLessThan(flushes * 1_000);
  });
});

describe('flushOutbox against a real collector', () => {
  it('does not count a batch that retention dropped while its request was out as quarantined or split', async () => {
    // collect's retention (--retain) runs beside a flush (the next cycle of --interval, or another
    // process): it may drop the batch in flight. The answer then changes nothing, and counted, a
    // 400 made `upload` exit 1 saying the collector refused a batch --status does not show.
    let temp: TempStore | undefined;
    const answers: Answer[] = [{ status: 400, body: 'bad' }, { status: 413 }];
    const started = await setup((_request, index) => {
      dropUndeliveredBefore(temp!.store.db, Number.MAX_SAFE_INTEGER);
      return answers[index] ?? { status: 200 };
    });
    temp = started.temp;
    const { ctx } = testContext();
    for (const [index, miners] of [
      [0, 1],
      [1, 2],
    ] as const) {
      enqueueCycle(temp.store, { miners: reports(miners), now: T0 });
      const report = await flushOutbox(temp.store.db, options(started.collector), ctx);
      expect(report, `answer ${index}`).toMatchObject({ quarantined: 0, split: 0, pending: 0 });
      const status = outboxStatus(temp.store.db);
      expect(status.states.pending.batches + status.states.quarantined.batches).toBe(0);
    }
  });

  it('posts gzip JSON with the contract headers and marks the batch delivered', async () => {
    const { collector, temp } = await setup();
    const [batch] = enqueueCycle(temp.store, { miners: reports(3), now: T0 });
    const { ctx } = testContext();
    const report = await flushOutbox(temp.store.db, options(collector), ctx);
    expect(report).toMatchObject({
      stop: 'done',
      delivered: 1,
      deliveredMiners: 3,
      pending: 0,
      reason: null,
    });
    expect(collector.received).toHaveLength(1);
    const request = collector.received[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/api/collector/upload');
    expect(request.headers['content-encoding']).toBe('gzip');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-collector-key']).toBe(KEY);
    expect(request.headers['idempotency-key']).toBe(batch!.batchId);
    expect(request.headers['user-agent']).toMatch(/^hashctl\//);
    expect(request.body?.batch_id).toBe(batch!.batchId);
    expect(request.body?.site_id).toBe('farm-a');
    expect(request.raw.equals(batch!.body)).toBe(true);
    expect(getBatch(temp.store.db, batch!.batchId)?.state).toBe('delivered');
  });

  it('survives an outage over several cycles and then delivers every batch, each counted once', async () => {
    let down = true;
    const { collector, temp } = await setup((_request, index) =>
      down ? (index % 2 ? 'destroy' : { status: 503 }) : { status: 200 },
    );
    const clock = testContext();
    const enqueued: string[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      enqueued.push(
        ...enqueueCycle(temp.store, {
          miners: reports(5, cycle * 5),
          now: clock.at(),
          limits: { maxMiners: 2 },
        }).map((b) => b.batchId),
      );
      const report = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 2 }), clock.ctx);
      expect(report.stop).toBe('retries_exhausted');
      expect(report.delivered).toBe(0);
      expect(report.pending).toBe(enqueued.length);
      clock.advance(60_000);
    }
    expect(enqueued).toHaveLength(12);
    down = false;
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 12, deliveredMiners: 20, pending: 0 });
    expect([...collector.accepted.keys()].sort()).toEqual([...enqueued].sort());
    // Every resend of a batch carried the same bytes under the same Idempotency-Key.
    const bodies = new Map<string, Buffer>();
    for (const request of collector.received) {
      const id = String(request.headers['idempotency-key']);
      const seen = bodies.get(id);
      if (seen) expect(request.raw.equals(seen)).toBe(true);
      else bodies.set(id, request.raw);
    }
    // Delivered in the order they were collected: cycle by cycle (within one, the smallest first).
    const cycleOf = (id: string | undefined) => Math.floor(enqueued.indexOf(id ?? '') / 3);
    const deliveredOrder = collector.received.slice(-12).map((r) => cycleOf(r.body?.batch_id));
    expect(deliveredOrder).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('honours Retry-After in seconds on 503 and as an HTTP date on 429', async () => {
    const { collector, temp } = await setup((_request, index): Answer => {
      if (index === 0) return { status: 503, headers: { 'retry-after': '7' } };
      if (index === 1)
        return {
          status: 429,
          headers: {
            date: new Date(T0 + 7_000).toUTCString(),
            'retry-after': new Date(T0 + 7_000 + 12_000).toUTCString(),
          },
        };
      return { status: 201 };
    });
    enqueueCycle(temp.store, { miners: reports(2), now: T0 });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 1, attempts: 3 });
    expect(clock.sleeps).toEqual([7_000, 12_000]);
  });

  it("reads a Retry-After date on the collector's clock: a host minutes ahead or behind waits what was asked", async () => {
    // The collector's clock is 10 minutes behind this host's, then 10 minutes ahead: its Date says so.
    const skews = [-600_000, 600_000];
    const { collector, temp } = await setup((_request, index) => {
      const server = T0 + (skews[index] ?? 0);
      if (index < skews.length)
        return {
          status: index === 0 ? 429 : 503,
          headers: {
            date: new Date(server).toUTCString(),
            'retry-after': new Date(server + 12_000).toUTCString(),
          },
        };
      return { status: 200 };
    });
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 1, attempts: 3 });
    expect(clock.sleeps).toEqual([12_000, 12_000]);
  });

  it('a next attempt stamped by a clock that leapt a month ahead is due now, once the clock is back', async () => {
    const { collector, temp } = await setup();
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    // What a run on a clock 30 days ahead left: a Retry-After wait counted from the wrong "now".
    deferBatch(temp.store.db, batch!.batchId, T0 + 30 * 86_400_000 + 60_000);
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report).toMatchObject({ delivered: 1, pending: 0 });
  });

  it('tries each batch once, not its full backoff, while the collector stays down; back up, all go', async () => {
    // Down for three flushes: the first finds out with its full attempts; the next ones (a loop's
    // cycles, cron's runs) try each batch once, and still notice at once when it is back.
    let down = true;
    const { collector, temp } = await setup((_request, index) =>
      down ? (index % 2 ? 'destroy' : { status: 503 }) : { status: 200 },
    );
    const clock = testContext();
    const sentPerFlush: number[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      if (cycle === 3) down = false;
      enqueueCycle(temp.store, { miners: reports(2, cycle * 2), now: clock.at(), limits: { maxMiners: 1 } });
      const before = collector.received.length;
      const report = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 4 }), clock.ctx);
      sentPerFlush.push(collector.received.length - before);
      if (!down) expect(report).toMatchObject({ stop: 'done', delivered: 8, pending: 0 });
      clock.advance(60_000);
    }
    // Two batches given up on in a row: 4 + 4, then one try each, then all eight delivered.
    expect(sentPerFlush).toEqual([8, 2, 2, 8]);
    // A batch the collector then fails on alone gets its full attempts again (it is up).
    down = true;
    enqueueCycle(temp.store, { miners: reports(1, 50), now: clock.at() });
    const before = collector.received.length;
    await flushOutbox(temp.store.db, options(collector, { maxAttempts: 4 }), clock.ctx);
    expect(collector.received.length - before).toBe(4);
  });

  it('a collector found down that comes back pacing with Retry-After gets its batches at the pace it asks', async () => {
    // The issue's own check: two cycles while nothing listens, then a collector that answers 503
    // with Retry-After: 1 twice before taking batches. The run tried each batch once (the collector
    // was down the flush before), gave both up on their first 503 and exited 1 with both pending.
    let phase: 'down' | 'pacing' = 'down';
    let paced = 0;
    const { collector, temp } = await setup((): Answer => {
      if (phase === 'down') return 'destroy';
      paced++;
      return paced <= 2 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 };
    });
    const clock = testContext();
    for (let cycle = 0; cycle < 2; cycle++) {
      enqueueCycle(temp.store, { miners: reports(2, cycle * 2), now: clock.at() });
      const report = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 4 }), clock.ctx);
      expect(report.delivered).toBe(0);
      clock.advance(60_000);
    }
    phase = 'pacing';
    clock.sleeps.length = 0;
    const report = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 4 }), clock.ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 2, pending: 0 });
    expect(collector.accepted.size).toBe(2);
    expect(clock.sleeps).toEqual([1_000, 1_000]);
  });

  it('a batch the collector always fails on does not hold back the newer ones: it rests, they go', async () => {
    let poison = '';
    const { collector, temp } = await setup((request) =>
      request.body?.batch_id === poison ? { status: 500, body: 'boom' } : { status: 200 },
    );
    const batches = enqueueCycle(temp.store, { miners: reports(3), now: T0, limits: { maxMiners: 1 } });
    poison = batches[0]!.batchId;
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 2 }), clock.ctx);
    expect(report).toMatchObject({ delivered: 2, pending: 1, stop: 'retries_exhausted' });
    expect(report.reason).toMatch(
      /did not take batch .* \(newer batches went on\); it is tried again in 1 min/,
    );
    expect([...collector.accepted.keys()]).toEqual(batches.slice(1).map((b) => b.batchId));
    // Resting: the next flush a moment later sends nothing, and says which batch waits and why
    // (the collector's own failure, not a Retry-After it never sent); a minute later it is tried again.
    const sent = collector.received.length;
    const resting = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 2 }), clock.ctx);
    expect(collector.received).toHaveLength(sent);
    expect(resting).toMatchObject({ stop: 'done', pending: 1 });
    expect(resting.reason).toContain(poison);
    expect(resting.reason).toContain('HTTP 500: boom');
    expect(resting.reason).not.toMatch(/asked/);
    clock.advance(61_000);
    await flushOutbox(temp.store.db, options(collector, { maxAttempts: 2 }), clock.ctx);
    expect(collector.received.length).toBe(sent + 2);
  });

  it('a batch given up on stays set aside while the next one is refused: it is not tried again in that run', async () => {
    let poison = '';
    let refused = '';
    const { collector, temp } = await setup((request) => {
      if (request.body?.batch_id === poison) return { status: 500, body: 'boom' };
      if (request.body?.batch_id === refused) return { status: 400, body: 'bad schema' };
      return { status: 200 };
    });
    const batches = enqueueCycle(temp.store, { miners: reports(3), now: T0, limits: { maxMiners: 1 } });
    poison = batches[0]!.batchId;
    refused = batches[1]!.batchId;
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { maxAttempts: 2 }),
      testContext().ctx,
    );
    expect(report).toMatchObject({ delivered: 1, quarantined: 1, pending: 1 });
    expect(collector.received.filter((r) => r.body?.batch_id === poison)).toHaveLength(2);
    expect(report.reason).toMatch(/newer batches went on/);
  });

  it('without Retry-After backs off exponentially, then leaves the batch pending for the next run', async () => {
    const { collector, temp } = await setup(() => ({ status: 502, body: 'bad gateway' }));
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 4 }), clock.ctx);
    expect(report.stop).toBe('retries_exhausted');
    expect(report.pending).toBe(1);
    expect(clock.sleeps).toEqual([500, 1_000, 2_000]); // random 0.5 = no jitter
    const row = getBatch(temp.store.db, batch!.batchId)!;
    expect(row).toMatchObject({ state: 'pending', attempts: 4, lastStatus: 502 });
    expect(row.lastError).toContain('HTTP 502: bad gateway');
  });

  it('holds a batch an hour at most, whatever Retry-After asks, and says so in words', async () => {
    const { collector, temp } = await setup(() => ({
      status: 503,
      headers: { 'retry-after': '100000000000000000000000' },
    }));
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report).toMatchObject({ stop: 'deferred', nextAttemptAt: T0 + 3_600_000 });
    expect(report.reason).toBe(
      'the collector asked to wait more than 1 h (the batch is tried again in 1 h) (HTTP 503)',
    );
  });

  it('sends no other batch in the flush once the collector asked for a wait it does not sleep through', async () => {
    // The last attempt of the first batch gets a 503 with Retry-After: the next batch waits too.
    const { collector, temp } = await setup(() => ({ status: 503, headers: { 'retry-after': '30' } }));
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 2 });
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 1 });
    const clock = testContext();
    // (A wait the flush sleeps through, up to maxRetryAfterMs, is waited out before the next batch.)
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { maxAttempts: 1, maxRetryAfterMs: 10_000 }),
      clock.ctx,
    );
    expect(report).toMatchObject({ stop: 'deferred', attempts: 1, pending: 2, waitUntil: T0 + 30_000 });
    expect(collector.received).toHaveLength(1);
    // A flush given that wait (collect's next cycle) sends nothing before it is over.
    clock.advance(10_000);
    const next = await flushOutbox(
      temp.store.db,
      options(collector, { maxAttempts: 1, maxRetryAfterMs: 10_000, notBefore: report.waitUntil ?? 0 }),
      clock.ctx,
    );
    expect(next).toMatchObject({ stop: 'deferred', attempts: 0, waitUntil: T0 + 30_000 });
    expect(collector.received).toHaveLength(1);
  });

  it('sleeps through a short Retry-After on a batch it gave up on, then sends the next batch (a drain goes on)', async () => {
    // A flaky collector after an outage: one batch unlucky on every attempt, the last answer a
    // 503 with Retry-After: 2. The flush stopped there with thousands pending ("nothing sent
    // before" two seconds later), where the same 503 without Retry-After went on to the next batch.
    const { collector, temp } = await setup((_r, index) =>
      index < 3 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 200 },
    );
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 3 });
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 2 });
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 1 });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(clock.sleeps).toEqual([2_000, 2_000, 2_000]);
    expect(report).toMatchObject({ delivered: 2, pending: 1 });
    expect(collector.accepted.size).toBe(2);
  });

  it('does not sleep through a Retry-After when no batch is left to send after it (the run just ends)', async () => {
    // The only batch (or the last of a drain) gets 503 with Retry-After: 20 on every attempt. The
    // wait before its next attempt is slept through; after its last one, nothing else is due: a
    // cron run sat 20 s (up to a minute) doing nothing, and collect's flush held the upload lock.
    const { collector, temp } = await setup(() => ({ status: 503, headers: { 'retry-after': '20' } }));
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector, { maxAttempts: 2 }), clock.ctx);
    expect(clock.sleeps).toEqual([20_000]);
    expect(collector.received).toHaveLength(2);
    // The wait still holds for the collector: the next flush (collect's) is told when it ends.
    expect(report).toMatchObject({ stop: 'retries_exhausted', pending: 1, waitUntil: T0 + 40_000 });
    expect(report.nextAttemptAt).toBe(T0 + 40_000);
  });

  it('defers a batch to a later run when Retry-After is longer than this run waits', async () => {
    const { collector, temp } = await setup((_r, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '600' } } : { status: 200 },
    );
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const clock = testContext();
    const first = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(first).toMatchObject({ stop: 'deferred', pending: 1, nextAttemptAt: T0 + 600_000 });
    expect(clock.sleeps).toEqual([]);
    clock.advance(60_000);
    const early = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(early).toMatchObject({ stop: 'deferred', attempts: 0, pending: 1 });
    expect(early.reason).toContain('asked (Retry-After) to be sent nothing before');
    clock.advance(600_000);
    const later = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(later).toMatchObject({ delivered: 1, pending: 0 });
    expect(collector.received).toHaveLength(2);
  });

  it('says the next attempt is when the Retry-After ends, not a newer batch that is due but must wait too', async () => {
    // Two batches, the first answered 429 with Retry-After: 600. The second is due by its own row,
    // but nothing goes before the collector's wait ends: next_attempt_at said a time already past.
    const { collector, temp } = await setup((_r, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '600' } } : { status: 200 },
    );
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 2 });
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 1 });
    const clock = testContext();
    const first = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(first).toMatchObject({ stop: 'deferred', pending: 2, nextAttemptAt: T0 + 600_000 });
    clock.advance(60_000);
    const second = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(second).toMatchObject({ stop: 'deferred', attempts: 0, nextAttemptAt: T0 + 600_000 });
  });

  it("holds a Retry-After for the collector across runs: cron's next upload sends no other batch before it", async () => {
    const { collector, temp } = await setup((_r, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '600' } } : { status: 200 },
    );
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 2 });
    enqueueCycle(temp.store, { miners: reports(1), now: T0 - 1 });
    const clock = testContext();
    const first = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(first).toMatchObject({ stop: 'deferred', pending: 2 });
    expect(collector.received).toHaveLength(1);
    // A new process a minute later (no notBefore handed over): the second batch is due, the wait is not over.
    clock.advance(60_000);
    const second = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(second).toMatchObject({ stop: 'deferred', attempts: 0, pending: 2, waitUntil: T0 + 600_000 });
    expect(collector.received).toHaveLength(1);
    clock.advance(600_000);
    const after = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(after).toMatchObject({ stop: 'done', delivered: 2, pending: 0 });
  });

  it('on 401 stops at once and keeps every batch pending', async () => {
    const { collector, temp } = await setup(() => ({ status: 401, body: `unknown key ${KEY}` }));
    enqueueCycle(temp.store, { miners: reports(6), now: T0, limits: { maxMiners: 2 } });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report).toMatchObject({
      stop: 'key_refused',
      pending: 3,
      delivered: 0,
      quarantined: 0,
      lastStatus: 401,
    });
    expect(report.reason).toMatch(/refused the key/);
    expect(collector.received).toHaveLength(1);
    expect(outboxStatus(temp.store.db).states.pending.batches).toBe(3);
    // The server echoed the key; nothing we stored or report carries it.
    expect(JSON.stringify(report)).not.toContain(KEY);
    expect(outboxStatus(temp.store.db).lastError?.error).toContain('[redacted]');
    temp.store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(temp.path).includes(KEY)).toBe(false);
  });

  it('on 403 does the same', async () => {
    const { collector, temp } = await setup(() => ({ status: 403 }));
    enqueueCycle(temp.store, { miners: reports(2), now: T0 });
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report).toMatchObject({ stop: 'key_refused', pending: 1 });
  });

  it('on a 403 to one batch only (a firewall refusing its content) quarantines it, and the others go', async () => {
    // The oldest batch carries what a web application firewall blocks: 403 to it, every time.
    let poisoned = '';
    const { collector, temp } = await setup((request) =>
      request.body?.batch_id === poisoned ? { status: 403, body: 'Request blocked' } : { status: 200 },
    );
    const [first] = enqueueCycle(temp.store, { miners: reports(2), now: T0 - 2 });
    enqueueCycle(temp.store, { miners: reports(2), now: T0 - 1 });
    poisoned = first!.batchId;
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 1, quarantined: 1, pending: 0 });
    expect(getBatch(temp.store.db, poisoned)).toMatchObject({ state: 'quarantined', lastStatus: 403 });
    expect(getBatch(temp.store.db, poisoned)?.lastError).toMatch(
      /HTTP 403 to this batch only.*Request blocked/,
    );

    // A 403 to every batch is the key: two requests tell, everything is kept pending.
    const refused = await setup(() => ({ status: 403 }));
    enqueueCycle(refused.temp.store, { miners: reports(6), now: T0, limits: { maxMiners: 2 } });
    const all = await flushOutbox(refused.temp.store.db, options(refused.collector), testContext().ctx);
    expect(all).toMatchObject({ stop: 'key_refused', pending: 3, quarantined: 0, lastStatus: 403 });
    expect(refused.collector.received).toHaveLength(2);
  });

  it('a collector that refuses even one miner as too large stops the flush: nothing quarantined, all kept', async () => {
    const { collector, temp } = await setup(() => ({ status: 413 }));
    enqueueCycle(temp.store, { miners: reports(8), now: T0, limits: { maxMiners: 8 } });
    enqueueCycle(temp.store, { miners: reports(8, 8), now: T0 + 1, limits: { maxMiners: 8 } });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report).toMatchObject({ stop: 'endpoint', quarantined: 0 });
    expect(report.reason).toMatch(/refuses even a one-miner batch as too large \(HTTP 413\)/);
    // Halves go smallest first (depth first) down to one miner, and a second one-miner batch
    // refused too shows that the collector refuses everything: 5 requests, not 2 × (2 × 8 − 1)
    // with 16 miners quarantined, nor a split of every batch level by level.
    expect(collector.received.map((r) => r.body?.miners.length)).toEqual([8, 4, 2, 1, 1]);
    const status = outboxStatus(temp.store.db);
    expect(status.states.quarantined.batches).toBe(0);
    expect(status.states.pending.miners).toBe(16);
    // The next run asks with the two one-miner batches first: no further split, nothing new stored.
    const pendingBefore = status.states.pending.batches;
    const again = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(again).toMatchObject({ stop: 'endpoint', split: 0, attempts: 2 });
    expect(outboxStatus(temp.store.db).states.pending.batches).toBe(pendingBefore);
  });

  it('quarantines one miner the collector refuses as too large while it takes the others', async () => {
    let huge = '';
    const { collector, temp } = await setup((request) =>
      request.body?.miners.some((miner) => miner.host === huge) ? { status: 413 } : { status: 200 },
    );
    const miners = reports(4);
    huge = miners[1]!.host;
    enqueueCycle(temp.store, { miners, now: T0 });
    enqueueCycle(temp.store, { miners: reports(2, 4), now: T0 + 1 });
    const clock = testContext(T0 + 1);
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report).toMatchObject({ stop: 'done', quarantined: 1, pending: 0, deliveredMiners: 5 });
    const status = outboxStatus(temp.store.db);
    expect(status.quarantined).toEqual([
      expect.objectContaining({ miners: 1, lastStatus: 413, lastError: expect.stringContaining('HTTP 413') }),
    ]);
    // Sent once: a quarantined batch is not tried again in a loop.
    const again = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(again.attempts).toBe(0);
  });

  it('a miner refused as too large last in a flush that took bigger batches is quarantined, not said to be every size', async () => {
    let huge = '';
    const { collector, temp } = await setup((request) =>
      request.body?.miners.some((miner) => miner.host === huge) ? { status: 413 } : { status: 200 },
    );
    const miners = reports(4);
    huge = miners[3]!.host;
    let next = 0;
    const newBatchId = (): string => `b-${String(++next).padStart(4, '0')}`;
    enqueueCycle(temp.store, { miners, now: T0, newBatchId });
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { newBatchId }),
      testContext(T0 + 1).ctx,
    );
    // 4 refused → 2 taken, 2 refused → 1 taken, the one refused last: bodies larger than it were
    // taken in this very flush, so the collector does not refuse every size.
    expect(collector.received.map((r) => r.body?.miners.length)).toEqual([4, 2, 2, 1, 1]);
    expect(report).toMatchObject({ stop: 'done', quarantined: 1, pending: 0, deliveredMiners: 3 });
    expect(report.reason).toBeNull();
  });

  it('on 413 splits the batch into halves until they fit, every miner delivered once', async () => {
    const { collector, temp } = await setup((request) =>
      (request.body?.miners.length ?? 0) > 3 ? { status: 413 } : { status: 200 },
    );
    const [parent] = enqueueCycle(temp.store, { miners: reports(10), now: T0, runId: null });
    let next = 0;
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { newBatchId: () => `split-${++next}` }),
      testContext().ctx,
    );
    expect(report).toMatchObject({ stop: 'done', pending: 0, deliveredMiners: 10 });
    expect(report.split).toBe(3); // 10 → 5+5 → (3+2)+(3+2)
    const delivered = collector.received.filter((r) => (r.body?.miners.length ?? 0) <= 3).map((r) => r.body!);
    const hosts = delivered.flatMap((body) => body.miners.map((m) => m.host));
    expect(hosts.sort()).toEqual(
      reports(10)
        .map((m) => m.host)
        .sort(),
    );
    for (const body of delivered) expect(body.parent_batch_id).toMatch(/^split-/);
    expect(getBatch(temp.store.db, parent!.batchId)).toMatchObject({ state: 'superseded' });
    expect(getBatch(temp.store.db, 'split-1')).toMatchObject({
      state: 'superseded',
      parent: parent!.batchId,
    });
    expect(getBatch(temp.store.db, 'split-3')).toMatchObject({ state: 'delivered', parent: 'split-1' });
  });

  it('on 413 quarantines a stored batch it cannot split, and the newer batches still go', async () => {
    // A damaged row: its count says three miners, its body is not gzip JSON. Thrown, the split
    // ended every run on this batch, and nothing queued after it was ever sent.
    const { collector, temp } = await setup((request) =>
      request.body === null ? { status: 413 } : { status: 200 },
    );
    const [damaged] = enqueueCycle(temp.store, { miners: reports(3), now: T0 - 120_000 });
    enqueueCycle(temp.store, { miners: reports(2), now: T0 - 60_000 });
    temp.store.db
      .prepare(`UPDATE upload_outbox SET body = X'1f8b0800' WHERE batch_id = ?`)
      .run(damaged!.batchId);
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 1, quarantined: 1, split: 0, pending: 0 });
    expect(getBatch(temp.store.db, damaged!.batchId)).toMatchObject({
      state: 'quarantined',
      lastStatus: 413,
      lastError: 'HTTP 413 (cannot split: a stored upload batch is not readable gzip JSON)',
    });
  });

  it("says a database that cannot record the answer as the store's error, naming the file; the batch stays pending", async () => {
    // Another process takes the write lock while the batch is in flight and keeps it past the busy
    // timeout (a full disk fails the same write): an untyped SqliteError was an internal error.
    let blocker: Database.Database | undefined;
    const { collector, temp } = await setup(() => {
      blocker = new Database(temp.path);
      blocker.exec('BEGIN IMMEDIATE');
      return { status: 200 };
    });
    const [batch] = enqueueCycle(temp.store, { miners: reports(2), now: T0 });
    const store = openStore(temp.path, { busyTimeoutMs: 50 });
    try {
      const flushed = flushOutbox(store.db, options(collector), testContext().ctx);
      await expect(flushed).rejects.toThrow(
        expect.objectContaining({
          kind: 'store',
          message: `database ${temp.path} stayed busy (another process is writing it); try again`,
        }),
      );
      blocker?.exec('ROLLBACK');
      expect(getBatch(store.db, batch!.batchId)).toMatchObject({ state: 'pending' });
    } finally {
      blocker?.close();
      store.close();
    }
  });

  it('on 400 quarantines that batch with the reason, delivers the others, and never loops on it', async () => {
    let poison = '';
    const { collector, temp } = await setup((request) =>
      request.body?.batch_id === poison
        ? { status: 400, body: JSON.stringify({ error: 'miners[0].port: expected integer' }) }
        : { status: 200 },
    );
    const batches = enqueueCycle(temp.store, { miners: reports(6), now: T0, limits: { maxMiners: 2 } });
    poison = batches[1]!.batchId;
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report).toMatchObject({ stop: 'done', delivered: 2, quarantined: 1, pending: 0 });
    const status = outboxStatus(temp.store.db);
    expect(status.quarantined).toEqual([
      expect.objectContaining({
        batchId: poison,
        lastStatus: 400,
        lastError: expect.stringContaining('expected integer'),
      }),
    ]);
    const again = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(again.attempts).toBe(0);
    expect(collector.received.filter((r) => r.body?.batch_id === poison)).toHaveLength(1);
    expect(requeueQuarantined(temp.store.db, clock.at())).toBe(1);
    expect(getBatch(temp.store.db, poison)?.state).toBe('pending');
  });

  it('times out on a collector that never answers and keeps the batch', async () => {
    const { collector, temp } = await setup(() => 'hang');
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { totalTimeoutMs: 300, maxAttempts: 1 }),
      testContext().ctx,
    );
    expect(report).toMatchObject({ stop: 'retries_exhausted', pending: 1 });
    expect(report.reason).toContain('no answer within 300 ms');
  });

  it("never takes a stray answer sent between requests as the next batch's answer", async () => {
    // A raw collector: the first connection gets its 200 and then, unasked, a second 200; every
    // later request is never answered. Only the first batch was taken.
    const sockets: Socket[] = [];
    let connections = 0;
    const server = createServer((socket) => {
      sockets.push(socket);
      const first = ++connections === 1;
      let answered = false;
      socket.on('data', () => {
        if (!first || answered) return;
        answered = true;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 5);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const { temp } = await setup();
      const [one, two] = enqueueCycle(temp.store, { miners: reports(4), now: T0, limits: { maxMiners: 2 } });
      const report = await flushOutbox(
        temp.store.db,
        options({ url: `http://127.0.0.1:${port}` } as Collector, {
          totalTimeoutMs: 400,
          maxAttempts: 1,
        }),
        testContext().ctx,
      );
      expect(report).toMatchObject({ delivered: 1, pending: 1 });
      expect(getBatch(temp.store.db, one!.batchId)?.state).toBe('delivered');
      expect(getBatch(temp.store.db, two!.batchId)?.state).toBe('pending');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reads only a capped excerpt of a huge error body', async () => {
    const { collector, temp } = await setup(() => ({ status: 422, body: Buffer.alloc(8 << 20, 'x') }));
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report.quarantined).toBe(1);
    const error = getBatch(temp.store.db, batch!.batchId)!.lastError!;
    expect(error.startsWith('HTTP 422: xxx')).toBe(true);
    expect(error.length).toBeLessThan(300);
  });

  it("keeps the collector's words readable and inert: a gzip body inflated, escape codes made visible", async () => {
    const bodies = [
      { headers: { 'content-encoding': 'gzip' }, body: gzipSync('{"error":"bad schema"}') },
      { body: 'x \u001b[31mRED\u001b[0m \u202eevil\u009b end' },
      { headers: { 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all') },
    ];
    const { collector, temp } = await setup((_request, index) => ({ status: 422, ...bodies[index]! }));
    const batches = enqueueCycle(temp.store, { miners: reports(3), now: T0, limits: { maxMiners: 1 } });
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report.quarantined).toBe(3);
    expect(batches.map((b) => getBatch(temp.store.db, b.batchId)!.lastError)).toEqual([
      'HTTP 422: {"error":"bad schema"}',
      'HTTP 422: x \\x1b[31mRED\\x1b[0m \\u202eevil\\x9b end',
      'HTTP 422: (gzip body not readable)',
    ]);
  });

  it('stops, quarantining nothing, on a collector that refuses the gzip every batch is sent in (415)', async () => {
    const { collector, temp } = await setup(() => ({
      status: 415,
      headers: { 'accept-encoding': 'identity', 'content-type': 'text/plain' },
      body: 'Unsupported Content-Encoding: gzip',
    }));
    const batches = enqueueCycle(temp.store, { miners: reports(4), now: T0, limits: { maxMiners: 1 } });
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report).toMatchObject({ stop: 'endpoint', quarantined: 0, pending: 4, attempts: 1 });
    expect(report.reason).toContain('HTTP 415: Unsupported Content-Encoding: gzip');
    expect(collector.received).toHaveLength(1);
    expect(batches.map((b) => getBatch(temp.store.db, b.batchId)!.state)).toEqual(Array(4).fill('pending'));
  });

  it('stops on a wrong route (404) without quarantining anything', async () => {
    const { collector, temp } = await setup(() => ({ status: 404, body: 'not found' }));
    enqueueCycle(temp.store, { miners: reports(4), now: T0, limits: { maxMiners: 2 } });
    const report = await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    expect(report).toMatchObject({ stop: 'endpoint', quarantined: 0, pending: 2 });
    expect(collector.received).toHaveLength(1);
  });

  it('keeps a refused connection pending (nothing listens on the port)', async () => {
    const { collector, temp } = await setup();
    const url = collector.url;
    await collector.close();
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const report = await flushOutbox(
      temp.store.db,
      { ...options(collector, { maxAttempts: 2 }), endpoint: url },
      testContext().ctx,
    );
    expect(report).toMatchObject({ stop: 'retries_exhausted', pending: 1 });
    expect(report.reason).toContain('ECONNREFUSED');
  });

  it('stops before the deadline and sends nothing once it has passed', async () => {
    const { collector, temp } = await setup(() => ({ status: 503 }));
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const clock = testContext();
    const report = await flushOutbox(temp.store.db, options(collector, { deadlineMs: T0 + 700 }), clock.ctx);
    // First attempt, a 500 ms backoff, second attempt; the next backoff (1 s) would cross the deadline.
    expect(report).toMatchObject({ stop: 'deadline', attempts: 2, pending: 1 });
    const none = await flushOutbox(temp.store.db, options(collector, { deadlineMs: clock.at() }), clock.ctx);
    expect(none).toMatchObject({ stop: 'deadline', attempts: 0 });
    expect(collector.received).toHaveLength(2);
  });

  it('keeps its deadline when the wall clock is stepped back during the flush', async () => {
    // NTP stepping the clock back an hour during a backoff: the deadline, on the wall clock, moved
    // an hour away, and `upload --deadline` (or the flush between two cycles) went on retrying
    // batch after batch for that hour.
    const { collector, temp } = await setup(() => ({ status: 503 }));
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    let wall = T0;
    let steady = 0;
    const ctx = memoryContext({
      now: () => wall,
      monotonic: () => steady,
      sleep: async (ms: number) => {
        steady += ms;
        wall += ms - 3_600_000;
      },
      random: () => 0.5,
    });
    const report = await flushOutbox(temp.store.db, options(collector, { deadlineMs: T0 + 700 }), ctx);
    // First attempt, a 500 ms backoff, second attempt; the next backoff (1 s) would cross the deadline.
    expect(report).toMatchObject({ stop: 'deadline', attempts: 2, pending: 1 });
    expect(collector.received).toHaveLength(2);
  });

  it("does not take a request its own deadline cut for the collector's failure", async () => {
    // Cut after the few ms the flush had left: 'no answer within 3 ms' was kept as the batch's
    // last answer and said as the collector's, though the collector was never given the time.
    const { collector, temp } = await setup(() => 'hang');
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: Date.now() - 1_000 });
    const ctx = memoryContext();
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { deadlineMs: Date.now() + 300 }),
      ctx,
    );
    expect(report).toMatchObject({ stop: 'deadline', attempts: 1, pending: 1 });
    expect(report.reason).toMatch(
      /^the flush ran out of the time it was given with a batch in flight \(no answer in the \d+ ms that were left\); it waits for the next flush$/,
    );
    // Stored as an attempt its own deadline cut, never as the collector's answer.
    expect(getBatch(temp.store.db, batch!.batchId)).toMatchObject({
      state: 'pending',
      lastStatus: null,
      lastError: CUT_BY_DEADLINE,
    });
  });

  it('knows a request its deadline cut by the request timing out, not by a clock read after it', async () => {
    // A busy event loop fires the request's timer a little before the clock read after it says the
    // deadline is due (frozen here): the cut was then stored and said as the collector's failure,
    // 'no answer within 300 ms', and --status showed a healthy drain as a failing one.
    const { collector, temp } = await setup(() => 'hang');
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: Date.now() - 1_000 });
    const ctx = memoryContext({ monotonic: () => 0 });
    const report = await flushOutbox(
      temp.store.db,
      options(collector, { deadlineMs: Date.now() + 300 }),
      ctx,
    );
    expect(report).toMatchObject({ stop: 'deadline', attempts: 1, pending: 1 });
    expect(getBatch(temp.store.db, batch!.batchId)).toMatchObject({
      lastStatus: null,
      lastError: CUT_BY_DEADLINE,
    });
  });

  it("keeps a batch's last error one line long through flush after flush its deadline cuts", async () => {
    // A collector that takes the connection and never answers, behind a loop whose flushes have
    // less time than a request: every flush cuts the same oldest batch. Each new attempt wrapped the
    // cut one ('no answer recorded…; the attempt before it got: cut by…; the attempt before it got:
    // cut by…'), and the stored error grew by a sentence per flush, for as long as it lasted.
    const { collector, temp } = await setup((_request, index) =>
      index === 0 ? { status: 503, body: 'overloaded' } : 'hang',
    );
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now: Date.now() - 1_000 });
    await flushOutbox(temp.store.db, options(collector, { maxAttempts: 1 }), memoryContext());
    const errors: (string | null)[] = [];
    for (let flush = 0; flush < 3; flush++) {
      const ctx = memoryContext({ monotonic: () => 0 });
      const report = await flushOutbox(
        temp.store.db,
        options(collector, { deadlineMs: Date.now() + 200 }),
        ctx,
      );
      expect(report).toMatchObject({ stop: 'deadline', attempts: 1 });
      errors.push(getBatch(temp.store.db, batch!.batchId)!.lastError);
    }
    expect(errors[0]).toBe(`${CUT_BY_DEADLINE}; the attempt before it got: HTTP 503: overloaded`);
    expect(errors).toEqual([errors[0], errors[0], errors[0]]);
    // Between a new attempt and its answer, --status says what the last answer was, once.
    recordAttempt(temp.store.db, batch!.batchId, Date.now());
    expect(getBatch(temp.store.db, batch!.batchId)!.lastError).toBe(
      `${UNANSWERED_ATTEMPT}; the attempt before it got: HTTP 503: overloaded`,
    );
  });

  it('prunes delivered rows after the retention', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(1), now: T0 });
    const clock = testContext();
    await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(outboxStatus(temp.store.db).states.delivered.batches).toBe(1);
    clock.advance(8 * 86_400_000);
    const report = await flushOutbox(temp.store.db, options(collector), clock.ctx);
    expect(report.pruned).toBe(1);
    expect(outboxStatus(temp.store.db).states.delivered.batches).toBe(0);
  });

  it('sends the stored body byte for byte (gzip of the sealed JSON)', async () => {
    const { collector, temp } = await setup();
    const [batch] = enqueueCycle(temp.store, { miners: reports(2), now: T0 });
    await flushOutbox(temp.store.db, options(collector), testContext().ctx);
    const sent = JSON.parse(gunzipSync(collector.received[0]!.raw).toString()) as UploadBatchBody;
    expect(sent.sent_at).toBe(new Date(T0).toISOString());
    expect(sent.miners).toHaveLength(2);
    expect(collector.received[0]!.raw.equals(batch!.body)).toBe(true);
  });
});
