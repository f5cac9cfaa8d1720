// `live` on a file with sites but no live row: retention retired the miners of a collect that
// ran, or nothing was ever collected (only `thermal check --db` wrote the file). Two different
// answers, told apart by what retention leaves behind, on real SQLite files.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import type { Farm } from '../../src/sim/index.js';
import { startFarm } from '../../src/sim/index.js';
import { HOUR_MS, openStore, runMaintenance, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from '../store/helpers.js';

let dir: string;
let cleanup: () => void;
let farm: Farm | null = null;

beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-live-empty-'));
});

afterEach(async () => {
  await farm?.stop();
  farm = null;
  cleanup();
});

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const ctx = memoryContext();
  const code = await runCli(args, ctx);
  return { code, err: ctx.err() };
}

async function thermalCheckInto(db: string, site: string[] = []): Promise<void> {
  farm = await startFarm({
    profile: 'antminer-s19',
    count: 2,
    seed: 7,
    host: '127.0.127.1',
    basePort: 0,
    ambientC: 20,
    deadBoards: 0,
    failedFans: 0,
  });
  const checked = await cli([
    'thermal',
    'check',
    ...farm.inventory(),
    '--db',
    db,
    ...site,
    '--timeout',
    '2s',
    '--retries',
    '0',
  ]);
  expect(checked.code, checked.err).toBe(EXIT.ok);
}

describe('hashctl live on a file no collect has stored into', () => {
  it('says nothing was collected yet, not that retention took the miners, after thermal check --db', async () => {
    const db = path.join(dir, 'farm.db');
    await thermalCheckInto(db);
    const live = await cli(['live', '--db', db]);
    expect(live.code).toBe(EXIT.failed);
    expect(live.err).toMatch(
      /nothing collected into .*farm\.db yet: only `thermal check` \(--db, --protect\) has written/,
    );
    expect(live.err).toMatch(/hashctl collect/);
    expect(live.err).not.toMatch(/retention|still running/);
  });

  it('says so of one site thermal check wrote, beside a site collect keeps', async () => {
    const db = path.join(dir, 'farm.db');
    const now = Date.now();
    const store = openStore(db);
    try {
      writeCycle(store, {
        site: 'north',
        startedAt: now - 60_000,
        endedAt: now,
        outcomes: [okOutcome(4001)],
      });
    } finally {
      store.close();
    }
    await thermalCheckInto(db, ['--site', 'hall-b']);
    const live = await cli(['live', '--db', db, '--site', 'hall-b']);
    expect(live.code).toBe(EXIT.failed);
    expect(live.err).toMatch(/nothing collected into site hall-b of .*farm\.db yet/);
    expect(live.err).not.toMatch(/retention/);
    // The collected site is listed as ever.
    expect((await cli(['live', '--db', db, '--site', 'north', '--json'])).code).toBe(EXIT.ok);
  });

  it('still says retention took them once retention deleted the runs, the raw history and the rollups too', async () => {
    const db = path.join(dir, 'farm.db');
    const now = Date.now();
    const old = now - 500 * 24 * HOUR_MS;
    const store = openStore(db);
    try {
      writeCycle(store, { site: 'default', startedAt: old, endedAt: old + 100, outcomes: [okOutcome(4001)] });
      runMaintenance(store, { now: old + HOUR_MS, retainMs: 24 * HOUR_MS, site: 'default' });
      // A year and more later (the collector ran twice a day meanwhile: no clock leap), everything
      // it stored is gone, rollups included; the collect's own --retain is what stays.
      for (let t = old + 12 * HOUR_MS; t <= now; t += 12 * HOUR_MS)
        runMaintenance(store, { now: t, retainMs: 24 * HOUR_MS, site: 'default' });
      const left = (table: string) =>
        store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      expect([left('collection_runs'), left('telemetry_history'), left('telemetry_hourly')]).toEqual([
        0, 0, 0,
      ]);
      expect(left('telemetry_live')).toBe(0);
    } finally {
      store.close();
    }
    // Then a thermal check writes into the same file: the miners still left with retention.
    await thermalCheckInto(db);
    const live = await cli(['live', '--db', db]);
    expect(live.code).toBe(EXIT.failed);
    expect(live.err).toMatch(/was polled within its collect's --retain/);
  });

  it('still says retention took them while their rollups stand (a file from before --retain was remembered)', async () => {
    const db = path.join(dir, 'farm.db');
    const now = Date.now();
    const old = now - 3 * 24 * HOUR_MS;
    const store = openStore(db);
    try {
      writeCycle(store, { site: 'default', startedAt: old, endedAt: old + 100, outcomes: [okOutcome(4001)] });
      for (let t = old + HOUR_MS; t <= now; t += HOUR_MS)
        runMaintenance(store, { now: t, retainMs: 24 * HOUR_MS, site: 'default' });
      store.db.prepare("DELETE FROM store_meta WHERE key LIKE 'retain_ms:%'").run();
      expect(store.db.prepare('SELECT count(*) FROM telemetry_hourly').pluck().get()).toBe(1);
    } finally {
      store.close();
    }
    const live = await cli(['live', '--db', db]);
    expect(live.code).toBe(EXIT.failed);
    expect(live.err).toMatch(/was polled within its collect's --retain/);
  });
});
