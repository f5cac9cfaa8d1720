// The collection loop with a scripted poller and clock: schedule, skipped slots, clean stop,
// failures as data, and the after-cycle hook. No sockets here (collect.e2e covers those).
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CollectLoopDeps,
  type CycleReport,
  collectLoop,
  nextSlot,
  pollOne,
} from '../../src/collect/index.js';
import { MinerError } from '../../src/errors.js';
import type { Snapshot } from '../../src/miners/types.js';
import { openStore, runMaintenance, type Store } from '../../src/store/index.js';
import type { Target } from '../../src/targets/types.js';
import { makeSnapshot, target, tempDir } from '../store/helpers.js';
import { enqueueCycle, reports as minerReports } from '../upload/support/fixtures.js';

describe('nextSlot', () => {
  it('keeps cycles on anchor + k × interval and skips the slots an overrun ate', () => {
    expect(nextSlot(1000, 60_000, 0, 1000 + 5_000)).toEqual({ slot: 1, at: 61_000, skipped: 0 });
    // Ran 2.5 intervals: slots 1 and 2 are gone, 3 is next.
    expect(nextSlot(1000, 60_000, 0, 1000 + 150_000)).toEqual({ slot: 3, at: 181_000, skipped: 2 });
    // Finishing exactly on a slot boundary starts that slot.
    expect(nextSlot(0, 10, 4, 60)).toEqual({ slot: 6, at: 60, skipped: 1 });
    expect(() => nextSlot(0, 0, 0, 0)).toThrow(RangeError);
  });
});

let dir: string;
let cleanup: () => void;
let store: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-loop-'));
  store = openStore(path.join(dir, 'loop.db'));
});
afterEach(() => {
  store.close();
  cleanup();
});

function scripted(options: { pollMs: (cycle: number) => number; stopAfter?: number }) {
  let clock = Date.UTC(2025, 0, 1);
  let cycle = 0;
  const controller = new AbortController();
  const reports: CycleReport[] = [];
  const notes: string[] = [];
  const sleeps: number[] = [];
  const targets = [target(4001), target(4002), target(4003)];
  const deps: CollectLoopDeps = {
    store,
    pollAll: (fn) =>
      (async function* () {
        clock += options.pollMs(cycle);
        for (const t of targets) yield await fn(t);
      })(),
    fetchSnapshot: async (t: Target) => {
      if (t.port === 4003) throw new MinerError('timeout', 'no answer in 5s');
      if (t.port === 4002 && cycle % 2 === 1) throw new MinerError('refused', 'connection refused');
      return makeSnapshot();
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    signal: controller.signal,
    onCycle: (report) => {
      reports.push(report);
      cycle++;
      if (options.stopAfter !== undefined && cycle >= options.stopAfter) controller.abort();
    },
    onNote: (message) => notes.push(message),
  };
  return { deps, reports, notes, sleeps, controller, startedAt: clock };
}

describe('collectLoop', () => {
  it('--once: one cycle, failures stored with their kind, not thrown', async () => {
    const { deps, reports } = scripted({ pollMs: () => 700 });
    const result = await collectLoop({ site: 'default', intervalMs: null, retainMs: 30 * 86_400_000 }, deps);
    expect(result.cycles).toBe(1);
    expect(reports[0]).toMatchObject({
      polled: 3,
      ok: 2,
      failed: 1,
      failedByKind: { timeout: 1 },
      durationMs: 700,
    });
    const kinds = store.db
      .prepare('SELECT error_kind FROM telemetry_history ORDER BY miner_id')
      .pluck()
      .all();
    expect(kinds).toEqual([null, null, 'timeout']);
  });

  it('--interval: drift-free slots, overruns skip slots with a note, SIGINT stops after the cycle', async () => {
    // Cycle 2 takes 130 s of a 60 s interval.
    const { deps, reports, notes, sleeps, startedAt } = scripted({
      pollMs: (cycle) => (cycle === 1 ? 130_000 : 2_000),
      stopAfter: 4,
    });
    const result = await collectLoop(
      { site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 },
      deps,
    );
    expect(result.cycles).toBe(4);
    expect(reports.map((r) => r.startedAt - startedAt)).toEqual([0, 60_000, 240_000, 300_000]);
    expect(sleeps).toEqual([58_000, 50_000, 58_000]);
    expect(notes).toEqual(['the cycle took longer than the 60s interval: skipped 2 slots']);
    expect(store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBe(4);
    // Every stored run has a history row for every miner.
    expect(
      store.db
        .prepare(
          'SELECT count(*) FROM collection_runs r WHERE (SELECT count(*) FROM telemetry_history h WHERE h.run_id = r.id) <> 3',
        )
        .pluck()
        .get(),
    ).toBe(0);
  });

  it('--interval: cycles that keep overrunning are said once (and hourly), then when they fit again', async () => {
    // A farm that takes 130 s to poll at --interval 60s for four cycles, then 2 s again.
    const { deps, notes } = scripted({ pollMs: (cycle) => (cycle < 4 ? 130_000 : 2_000), stopAfter: 6 });
    await collectLoop({ site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 }, deps);
    expect(notes).toEqual([
      'the cycle took longer than the 60s interval: skipped 2 slots',
      'cycles fit the 60s interval again, after 4 in a row that did not (8 slots skipped)',
    ]);
    // For a day: the first, then one line an hour, not one a cycle.
    const day = scripted({ pollMs: () => 130_000, stopAfter: 24 * 20 });
    await collectLoop({ site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 }, day.deps);
    expect(day.notes.length).toBeLessThanOrEqual(25);
    expect(day.notes[1]).toMatch(
      /^cycles still take longer than the 60s interval \(\d+ in a row, \d+ slots skipped; said again once an hour while it lasts\)$/,
    );
  });

  it('--interval: after a pause (SIGSTOP, a suspended host) runs one cycle, skips the rest, says why', async () => {
    const { deps, reports, notes, startedAt } = scripted({ pollMs: () => 2_000, stopAfter: 3 });
    // The process stopped for five minutes during the first sleep: the timer fires that late.
    let paused = false;
    const sleep = deps.sleep;
    const stopped: CollectLoopDeps = {
      ...deps,
      sleep: async (ms, signal) => {
        await sleep(ms + (paused ? 0 : 300_000), signal);
        paused = true;
      },
    };
    await collectLoop({ site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 }, stopped);
    // No burst of the missed cycles: the late one, then the schedule's next slot.
    expect(reports.map((r) => r.startedAt - startedAt)).toEqual([0, 360_000, 420_000]);
    expect(notes).toEqual([
      'collect did not run for 5m (stopped, or the host suspended): skipped 5 slots rather than catching up',
    ]);
  });

  it('--interval: keeps its cadence when the wall clock is stepped back or forward an hour', async () => {
    for (const step of [-3_600_000, 3_600_000]) {
      const { deps, reports, notes, sleeps } = scripted({ pollMs: () => 2_000, stopAfter: 3 });
      // The scripted clock only moves forward: it is the monotonic one; the wall clock jumps.
      const monotonic = deps.now;
      let shift = 0;
      const onCycle = deps.onCycle;
      const stepped: CollectLoopDeps = {
        ...deps,
        monotonic,
        now: () => monotonic() + shift,
        onCycle: (report) => {
          onCycle(report);
          shift = step;
        },
      };
      await collectLoop({ site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 }, stepped);
      expect(sleeps, `step ${step}`).toEqual([58_000, 58_000]);
      expect(notes, `step ${step}`).toEqual([]);
      // Stored with the wall clock's time, as it says.
      expect(reports[1]!.startedAt - reports[0]!.startedAt).toBe(60_000 + step);
    }
  });

  it('counts the hourly maintenance apart from the cycle: not in its duration, never as an overrun', async () => {
    // After an upgrade with a backlog the first retention and rollups pass took 6 s after a cycle
    // whose polls took 1 s: the run said "in 7s" and "the cycle took longer than the interval".
    const { deps, reports, notes } = scripted({ pollMs: () => 1_000, stopAfter: 3 });
    let passes = 0;
    const slow: CollectLoopDeps = {
      ...deps,
      maintain: (s, o) => {
        const result = runMaintenance(s, o);
        if (result.ran && passes++ === 0) deps.sleep(6_000);
        return result;
      },
    };
    await collectLoop({ site: 'default', intervalMs: 2_000, retainMs: 30 * 86_400_000 }, slow);
    expect(reports[0]).toMatchObject({ durationMs: 1_000, maintenanceMs: 6_000 });
    expect(reports[1]).toMatchObject({ durationMs: 1_000, maintenanceMs: 0 });
    expect(notes).toEqual(['retention and hourly rollups took 6s after the cycle (1s): skipped 3 slots']);
  });

  it('measures a cycle and each poll on the monotonic clock when the wall clock is stepped during the polls', async () => {
    // NTP stepping the clock while the miners are polled (a host that booted with its clock off):
    // a cycle of 700 ms said "in -3599300ms" (duration_ms in --json) or "in 1h0m", and each
    // miner's elapsed_ms was stored as an hour, or below zero.
    for (const step of [-3_600_000, 3_600_000]) {
      const { deps, reports } = scripted({ pollMs: () => 700 });
      const monotonic = deps.now;
      let shift = 0;
      const fetchSnapshot = deps.fetchSnapshot;
      const stepped: CollectLoopDeps = {
        ...deps,
        monotonic,
        now: () => monotonic() + shift,
        fetchSnapshot: async (t) => {
          shift = step;
          return fetchSnapshot(t);
        },
      };
      await collectLoop({ site: 'default', intervalMs: null, retainMs: 30 * 86_400_000 }, stepped);
      expect(reports[0]!.durationMs, `step ${step}`).toBe(700);
      const elapsed = store.db.prepare('SELECT elapsed_ms FROM telemetry_live').pluck().all() as number[];
      expect(elapsed, `step ${step}`).toEqual([0, 0, 0]);
    }
  });

  it('starts the after-cycle work without waiting for it, and waits for it before returning', async () => {
    const { deps, reports } = scripted({ pollMs: () => 1_000, stopAfter: 3 });
    const started: (number | null)[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    deps.afterCycle = async (_report, nextCycleAt) => {
      started.push(nextCycleAt);
      await gate;
      finished = true;
    };
    const loop = collectLoop({ site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 }, deps);
    // The loop runs all three cycles while the first flush is still waiting.
    for (let i = 0; i < 1000 && reports.length < 3; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(reports).toHaveLength(3);
    expect(finished).toBe(false);
    // One flush in flight at a time: later cycles did not start a second one while it ran.
    expect(started).toEqual([Date.UTC(2025, 0, 1) + 60_000]);
    release();
    const result = await loop;
    expect(result.cycles).toBe(3);
    expect(finished).toBe(true);
  });

  it('records a bug in a lower layer against the miner and reports it, without losing the cycle', async () => {
    const { deps, reports, notes } = scripted({ pollMs: () => 1_000 });
    const fetch = deps.fetchSnapshot;
    deps.fetchSnapshot = async (t) => {
      if (t.port === 4001) throw new TypeError('x is not a function');
      return fetch(t);
    };
    await collectLoop({ site: 'default', intervalMs: null, retainMs: 30 * 86_400_000 }, deps);
    expect(reports[0]).toMatchObject({ polled: 3, ok: 1, failedByKind: { protocol: 1, timeout: 1 } });
    expect(notes).toEqual([
      'internal error polling 1 miner (recorded as protocol errors; please report): x is not a function',
    ]);
  });

  it('a failing retention pass (a full disk) is a note; the cycle stays stored and the loop goes on', async () => {
    // Maintenance writes store_meta; make those writes fail as a full disk would.
    store.db.exec(
      "CREATE TEMP TRIGGER no_room BEFORE INSERT ON store_meta BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END",
    );
    const { deps, reports, notes } = scripted({ pollMs: () => 100, stopAfter: 70 });
    const result = await collectLoop(
      { site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 },
      deps,
    );
    expect(result.cycles).toBe(70);
    expect(reports.slice(0, 2).map((r) => r.maintenance)).toEqual([null, null]);
    // Retried every cycle; said when it began and again an hour on, not 70 times.
    expect(
      notes.filter((n) => n.startsWith('retention and rollups not done this time (the cycle was stored): ')),
    ).toHaveLength(2);
    expect(store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBe(70);
  });

  it('a stop (SIGINT/SIGTERM) during the cycle stores it and leaves retention and rollups to the next run', async () => {
    // Retention's share of a cycle can be long (up to 500,000 rows deleted after a --retain was
    // lowered or a collector came back after weeks): a stop waited it out, past a service
    // manager's stop timeout (docker's 10 s), and the SIGKILL that followed lost the exit status.
    const { deps, reports, startedAt, controller } = scripted({ pollMs: () => 100 });
    for (const days of [31, 32]) {
      enqueueCycle(store, { miners: minerReports(3), now: startedAt - days * 86_400_000 });
    }
    const fetch = deps.fetchSnapshot;
    deps.fetchSnapshot = async (t) => {
      controller.abort(); // the signal arrives while the cycle polls
      return fetch(t);
    };
    const result = await collectLoop(
      { site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 },
      deps,
    );
    expect(result).toMatchObject({ cycles: 1, interrupted: false });
    expect(reports[0]).toMatchObject({ polled: 3, maintenance: null });
    expect(store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBe(1);
    expect(store.db.prepare('SELECT count(*) FROM upload_outbox').pluck().get()).toBe(2);
    // The next run's first cycle does it.
    const next = scripted({ pollMs: () => 100 });
    await collectLoop({ site: 'default', intervalMs: null, retainMs: 30 * 86_400_000 }, next.deps);
    expect(next.reports[0]!.maintenance?.uploadDropped).toEqual({ batches: 2, miners: 6 });
    expect(store.db.prepare('SELECT count(*) FROM upload_outbox').pluck().get()).toBe(0);
  });

  it('says so when retention drops upload batches the collector never took', async () => {
    const { deps, reports, notes, startedAt } = scripted({ pollMs: () => 100 });
    // Two cycles' batches from 31 days ago, still pending: the collector has been gone since.
    for (const days of [31, 32]) {
      enqueueCycle(store, { miners: minerReports(3), now: startedAt - days * 86_400_000 });
    }
    await collectLoop({ site: 'default', intervalMs: null, retainMs: 30 * 86_400_000 }, deps);
    expect(reports[0]!.maintenance?.uploadDropped).toEqual({ batches: 2, miners: 6 });
    expect(notes).toContain(
      'upload: dropped 2 batches (6 miner snapshots) the collector had not taken within the 30d retention (--retain)',
    );
    expect(store.db.prepare('SELECT count(*) FROM upload_outbox').pluck().get()).toBe(0);
  });

  it('--interval: a cycle the full disk refused is a note; the loop stores the next once there is room', async () => {
    const { deps, reports, notes } = scripted({ pollMs: () => 100, stopAfter: 3 });
    let refusals = 0;
    // Every snapshot large enough that a cycle needs new pages.
    deps.fetchSnapshot = async () =>
      makeSnapshot({ errors: [{ code: 'x', message: 'x'.repeat(20_000) }] } as Partial<Snapshot>);
    const room = (pages: number) => store.db.pragma(`max_page_count = ${pages}`);
    const onCycle = deps.onCycle;
    deps.onCycle = (report) => {
      onCycle(report);
      // After the first cycle the disk is full (SQLite answers SQLITE_FULL, as for a real disk)...
      if (reports.length === 1) room(store.db.pragma('page_count', { simple: true }) as number);
    };
    const sleep = deps.sleep;
    deps.sleep = async (ms, signal) => {
      await sleep(ms, signal);
      if (reports.length === 1) refusals++;
      // ...for 65 cycles of a minute; then space is freed.
      if (refusals === 66) room(1_000_000);
    };
    const result = await collectLoop(
      { site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 },
      deps,
    );
    expect(result).toMatchObject({ cycles: 3, lastNotStored: false });
    // Said when it began, again an hour on, and when it ended: not once a cycle.
    const full = `disk full writing ${store.path}: nothing from this write was stored, earlier data is intact`;
    expect(notes).toEqual([
      `cycle not stored (the next ones try again; said again once an hour while it lasts): ${full}`,
      `still not storing cycles (61 in a row): ${full}`,
      'cycles stored again (65 before this one were not)',
    ]);
    expect(store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBe(3);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('--interval: a database file replaced or deleted under the loop stops it, instead of writing into the orphan', async () => {
    const fs = await import('node:fs');
    for (const replace of [true, false]) {
      const { deps, reports } = scripted({ pollMs: () => 100, stopAfter: 5 });
      const onCycle = deps.onCycle;
      deps.onCycle = (report) => {
        onCycle(report);
        if (reports.length !== 1) return;
        // After the first cycle, an operator restores a backup over the file (mv), or deletes it.
        if (replace) {
          fs.copyFileSync(store.path, `${store.path}.restore`);
          fs.renameSync(`${store.path}.restore`, store.path);
        } else fs.rmSync(store.path);
      };
      await expect(
        collectLoop({ site: 'default', intervalMs: 60_000, retainMs: 30 * 86_400_000 }, deps),
      ).rejects.toThrow(
        replace
          ? /was replaced while collect was running: this cycle was not stored/
          : /was deleted while collect/,
      );
      expect(reports).toHaveLength(1);
      store.close();
      fs.rmSync(store.path, { force: true });
      store = openStore(store.path);
    }
  });

  it('--once: a full disk fails the run (thrown)', async () => {
    const { deps } = scripted({ pollMs: () => 100 });
    deps.fetchSnapshot = async () =>
      makeSnapshot({ errors: [{ code: 'x', message: 'x'.repeat(20_000) }] } as Partial<Snapshot>);
    store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
    await expect(
      collectLoop({ site: 'default', intervalMs: null, retainMs: 30 * 86_400_000 }, deps),
    ).rejects.toThrow(/disk full writing/);
  });

  it('a failing after-cycle hook is a note, never an unhandled rejection', async () => {
    const { deps, notes } = scripted({ pollMs: () => 1_000 });
    deps.afterCycle = async () => {
      throw new Error('collector down');
    };
    await collectLoop({ site: 'default', intervalMs: null, retainMs: 30 * 86_400_000 }, deps);
    expect(notes).toEqual(['after-cycle work failed: collector down']);
  });
});

describe('pollOne', () => {
  it("stores a failure's message in visible form: a STATUS Msg cannot carry escapes into the store", async () => {
    const outcome = await pollOne(
      target(4001),
      async () => {
        throw new MinerError('api', 'miner answered E/14: \u001b[2J\u001b]0;pwned\u0007 \ud800');
      },
      () => 0,
    );
    expect(outcome).toMatchObject({
      ok: false,
      error: { kind: 'api', message: 'miner answered E/14: \\x1b[2J\\x1b]0;pwned\\x07 \\ud800' },
    });
  });
});
