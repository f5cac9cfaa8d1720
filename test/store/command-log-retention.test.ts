// command_log (the audit trail of `control` and thermal protection) is pruned by collect's hourly
// maintenance: kept as long as the rollups (400 days, never less than --retain), in bounded chunks,
// and never so that a miner hashctl paused long ago and never resumed stops reading as paused.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandResult, commandLogStatements } from '../../src/store/command-log.js';
import { HOUR_MS, openStore, runMaintenance, type Store, writeCycle } from '../../src/store/index.js';
import { pausedBy } from '../../src/thermal/paused.js';
import { okOutcome, recordCommand, tempDir } from './helpers.js';

const DAY = 24 * HOUR_MS;
const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);

let dir: string;
let cleanup: () => void;
let store: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-cmdlog-'));
  store = openStore(path.join(dir, 'hashctl.db'));
  // A collect has run on this file (its site and retention known), as it does where maintenance runs.
  writeCycle(store, {
    site: 'default',
    startedAt: NOW - HOUR_MS,
    endedAt: NOW - HOUR_MS + 1,
    outcomes: [okOutcome(4000)],
  });
});
afterEach(() => {
  store.close();
  cleanup();
});

function record(
  port: number,
  ts: number,
  action: string,
  source = 'cli',
  result: Exclude<CommandResult, 'pending'> = 'verified',
) {
  recordCommand(store.db, { ts, action, port, source, result });
}

const rows = () => store.db.prepare('SELECT count(*) FROM command_log').pluck().get() as number;
const paused = (port: number) => pausedBy(commandLogStatements(store.db), '127.0.0.1', port);

/** Nightly pause and morning resume of 127.0.0.1:PORT from `fromDay` days ago to `toDay` days ago. */
function nightly(port: number, fromDay: number, toDay: number, source = 'cli') {
  for (let day = fromDay; day > toDay; day--) {
    record(port, NOW - day * DAY, 'pause', source);
    record(port, NOW - day * DAY + 8 * HOUR_MS, 'resume', source);
  }
}

describe('command_log retention', () => {
  it('deletes what is older than the rollups, keeps what is younger', () => {
    nightly(4001, 600, 380); // 220 nights, 20 of them within 400 days
    record(4002, NOW - 500 * DAY, 'restart');
    record(4002, NOW - 10 * DAY, 'restart');
    expect(rows()).toBe(442);
    const result = runMaintenance(store, { now: NOW, retainMs: 30 * DAY, site: 'default', force: true });
    expect(result.commandLogDeleted).toBe(401);
    const left = store.db.prepare('SELECT ts FROM command_log ORDER BY ts').pluck().all() as number[];
    expect(left).toHaveLength(41);
    expect(left.filter((ts) => ts < NOW - 400 * DAY)).toEqual([]);
    expect(paused(4001)).toBeNull();
    // A second pass finds nothing more.
    expect(
      runMaintenance(store, { now: NOW, retainMs: 30 * DAY, site: 'default', force: true }).commandLogDeleted,
    ).toBe(0);
  });

  it('a --retain longer than the rollups keeps the log as long', () => {
    nightly(4001, 600, 380);
    runMaintenance(store, { now: NOW, retainMs: 700 * DAY, site: 'default', force: true });
    expect(rows()).toBe(440);
  });

  it('a miner paused long ago and never resumed still reads as paused, and resumed ones as not', () => {
    // 4001: nightly for a year and more, then paused 450 days ago for good (decommissioned in place).
    nightly(4001, 900, 451);
    record(4001, NOW - 450 * DAY, 'pause');
    // 4002: paused by thermal protection, resumed by an operator, both long ago.
    record(4002, NOW - 460 * DAY, 'pause', 'thermal');
    record(4002, NOW - 459 * DAY, 'resume');
    // 4003: paused; a later pause was refused (never took effect); a restart since.
    record(4003, NOW - 470 * DAY, 'pause');
    record(4003, NOW - 440 * DAY, 'resume', 'cli', 'refused');
    record(4003, NOW - 430 * DAY, 'restart');
    // 4004: resumed by an operator, then paused again by protection: the pause is newer.
    record(4004, NOW - 600 * DAY, 'resume');
    record(4004, NOW - 500 * DAY, 'pause', 'thermal');
    const before = [4001, 4002, 4003, 4004].map(paused);
    expect(before.map((why) => why !== null)).toEqual([true, false, true, true]);

    const result = runMaintenance(store, { now: NOW, retainMs: 30 * DAY, site: 'default', force: true });
    expect(result.commandLogDeleted).toBeGreaterThan(800);
    expect([4001, 4002, 4003, 4004].map(paused)).toEqual(before);
    // What stays is the newest of each miner, source and action that took effect: bounded by the miners.
    expect(rows()).toBeLessThanOrEqual(10);
  });

  it('goes in bounded chunks, and a call that stops early leaves the rest to the next', () => {
    nightly(4001, 700, 450);
    record(4001, NOW - 449 * DAY, 'pause');
    const opts = {
      now: NOW,
      retainMs: 30 * DAY,
      site: 'default',
      force: true,
      commandLogChunkRows: 7,
      commandLogBudgetRows: 50,
    };
    const first = runMaintenance(store, opts);
    expect(first.unfinished).toBe(true);
    expect(first.commandLogDeleted).toBeGreaterThan(0);
    expect(first.commandLogDeleted).toBeLessThanOrEqual(56);
    let calls = 1;
    while (runMaintenance(store, opts).unfinished && calls < 100) calls++;
    expect(calls).toBeLessThan(100);
    expect(paused(4001)).not.toBeNull();
    expect(rows()).toBe(2); // the newest pause and the newest resume
  });

  it('goes on where the last call stopped: rows it keeps never fill every call', () => {
    // 30 miners paused long ago and never resumed (kept), then a miner's nightly log, all old.
    for (let port = 5000; port < 5030; port++) record(port, NOW - 900 * DAY + port, 'pause');
    nightly(4001, 800, 700);
    const opts = {
      retainMs: 30 * DAY,
      site: 'default',
      force: true,
      commandLogChunkRows: 5,
      commandLogBudgetRows: 10,
    };
    let calls = 0;
    let unfinished = true;
    for (; unfinished && calls < 100; calls++)
      unfinished = runMaintenance(store, { now: NOW + calls * 60_000, ...opts }).unfinished;
    expect(unfinished).toBe(false);
    expect(rows()).toBe(32); // the 30 pauses, 4001's newest pause and resume
    for (const port of [5000, 5029]) expect(paused(port)).not.toBeNull();
  });

  it('deletes nothing while retention is held for a clock that leapt ahead', () => {
    nightly(4001, 600, 500);
    runMaintenance(store, { now: NOW - 30 * DAY, retainMs: 30 * DAY, site: 'default', force: true });
    const count = rows();
    // 200 days ahead of the last maintenance: held.
    const result = runMaintenance(store, {
      now: NOW + 200 * DAY,
      retainMs: 30 * DAY,
      site: 'default',
      force: true,
    });
    expect(result.clockHold).not.toBeNull();
    expect(rows()).toBe(count);
  });
});
