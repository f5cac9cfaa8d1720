// The readers against a collect that commits a cycle while they read: each view is read in one
// snapshot, so it shows one cycle whole, never one miner's figures beside another cycle's state.
// The commit is made by a second, writing connection at a set point of the reader's work (when it
// first asks for a given statement set), so the interleaving is the same on every run.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseExportOptions, runExport } from '../../src/commands/export.js';
import { parseLiveOptions, runLive } from '../../src/commands/live.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import type { Snapshot } from '../../src/miners/types.js';
import { liveStatements, openStore, rollupStatements, Store, writeCycle } from '../../src/store/index.js';
import { thermalStatements } from '../../src/store/thermal.js';
import type { Db } from '../../src/store/types.js';
import type { ThermalStatus } from '../../src/thermal/types.js';
import { okOutcome, tempDir } from '../store/helpers.js';

let dir: string;
let cleanup: () => void;
let dbPath: string;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-snapshot-'));
  dbPath = path.join(dir, 'farm.db');
});
afterEach(() => {
  vi.restoreAllMocks();
  cleanup();
});

const chip = (temp: number): Partial<Snapshot> => ({ temp_max_chip_c: temp });

/** One north cycle of miner 4001 at `at`, its thermal state stored in the same transaction, as collect does. */
function cycle(at: number, snapshot: Partial<Snapshot>, status: ThermalStatus): void {
  const store = openStore(dbPath);
  try {
    writeCycle(
      store,
      { site: 'north', startedAt: at, endedAt: at + 100, outcomes: [okOutcome(4001, snapshot)] },
      {
        extraInTransaction: (db: Db, written) => {
          for (const { minerId } of written.miners)
            thermalStatements(db).saveState({
              miner_id: minerId,
              site_id: written.siteId,
              status,
              metric: status === 'ok' ? null : 'chip',
              levels: {},
              since: at,
              updated_at: at,
            });
        },
      },
    );
  } finally {
    store.close();
  }
}

/** Runs `write` (a commit on its own connection) when a read-only store first asks for `build`. */
function commitWhenReaderAsksFor(build: (db: Db) => unknown, write: () => void): void {
  const prepared = Store.prototype.prepared;
  let done = false;
  vi.spyOn(Store.prototype, 'prepared').mockImplementation(function (this: Store, wanted) {
    if (!done && this.readonly && wanted === build) {
      done = true;
      write();
    }
    return prepared.call(this, wanted);
  } as Store['prepared']);
}

describe('hashctl live while collect commits a cycle', () => {
  it("shows each miner's figures with the thermal state of the same cycle", async () => {
    cycle(NOW - 120_000, chip(95), 'critical');
    // The next cycle finds it cooled: lands after live read the thermal states, before the rows.
    commitWhenReaderAsksFor(liveStatements, () => cycle(NOW - 60_000, chip(60), 'ok'));
    const ctx = memoryContext({ now: () => NOW, env: {} });
    expect(
      await runLive(await parseLiveOptions({ db: dbPath }, ctx), parseGlobals({ json: true }, ctx), ctx),
    ).toBe(0);
    const [miner] = JSON.parse(ctx.out()).miners as { temp_chip_max_c: number; thermal_status: string }[];
    // The cycle live started on, whole: not 60 °C "critical", nor (the other way) 95 °C "ok".
    expect([miner?.temp_chip_max_c, miner?.thermal_status]).toEqual([95, 'critical']);
    // And the next live sees the new cycle, whole.
    const next = memoryContext({ now: () => NOW, env: {} });
    await runLive(await parseLiveOptions({ db: dbPath }, next), parseGlobals({ json: true }, next), next);
    const [after] = JSON.parse(next.out()).miners as { temp_chip_max_c: number; thermal_status: string }[];
    expect([after?.temp_chip_max_c, after?.thermal_status]).toEqual([60, 'ok']);
  });
});

describe('hashctl export while collect commits a cycle', () => {
  it('exports the cycles stored when it began, each row with its algorithm', async () => {
    cycle(NOW - 120_000, chip(70), 'ok');
    // A cycle that adds an L3+ (scrypt) lands after export read the miners' algorithms, before it
    // streams the rows (across sites, or with `| less`, that is minutes).
    commitWhenReaderAsksFor(rollupStatements, () => {
      const store = openStore(dbPath);
      try {
        writeCycle(store, {
          site: 'north',
          startedAt: NOW - 60_000,
          endedAt: NOW - 59_000,
          outcomes: [
            okOutcome(4001),
            okOutcome(4009, { algorithm: 'scrypt', model: 'L3+', make: 'Antminer' }),
          ],
        });
      } finally {
        store.close();
      }
    });
    const ctx = memoryContext({ now: () => NOW, env: {} });
    const globals = parseGlobals({}, ctx);
    expect(
      await runExport(await parseExportOptions({ db: dbPath, format: 'ndjson' }, globals, ctx), globals, ctx),
    ).toBe(0);
    const rows = ctx
      .out()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { miner: string; algorithm: string | null; ts: string });
    // Never a scrypt miner's hashrate with no algorithm (read as SHA-256 by whoever sums it).
    expect(rows.filter((row) => row.algorithm === null)).toEqual([]);
    // The export is the file as it was when it began: the first cycle.
    expect(rows.map((row) => `${row.miner} ${row.algorithm}`)).toEqual(['127.0.0.1:4001 sha256d']);
  });
});
