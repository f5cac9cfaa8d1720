// The store's per-cycle write path (openStore + writeCycle: run row, inventory, live upsert and
// history in one transaction) against a bare better-sqlite3 loop inserting the same history rows,
// with the same pragmas, one transaction per cycle. Real files in a temp dir.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MinerOutcome } from '../src/store/index.js';
import { benchSnapshot } from './lib/snapshot.js';
import { compareSamples } from './lib/stats.js';
import type { BenchOutcome } from './lib/types.js';

export interface StoreBenchOptions {
  /** Miners per cycle (default 500). */
  miners?: number;
  /** Timed cycles per side (default 20). */
  cycles?: number;
}

export const QUICK_OPTIONS: StoreBenchOptions = { miners: 200, cycles: 8 };

const HISTORY_COLUMNS = `run_id INTEGER NOT NULL, miner_id INTEGER NOT NULL, site_id INTEGER NOT NULL, ts INTEGER NOT NULL,
  hashrate_hs REAL, temp_chip_max_c REAL, temp_board_max_c REAL, fan_min_rpm INTEGER, boards_ok INTEGER,
  boards_total INTEGER, chips INTEGER, chips_expected INTEGER, power_w REAL, accepted INTEGER, rejected INTEGER,
  error_kind TEXT, thermal_status TEXT`;

export async function benchStore(options: StoreBenchOptions = {}): Promise<BenchOutcome[]> {
  const minerCount = options.miners ?? 500;
  const cycles = options.cycles ?? 20;
  const store = await import('../src/store/index.js');
  const { loadSqlite } = await import('../src/store/native.js');
  const Database = loadSqlite();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-bench-store-'));
  try {
    const outcomesFor = (cycle: number): MinerOutcome[] =>
      Array.from({ length: minerCount }, (_, i) => ({
        target: { host: '127.0.0.1', port: 10_000 + i, key: `127.0.0.1:${10_000 + i}` },
        ok: true as const,
        snapshot: benchSnapshot(cycle * minerCount + i),
        elapsedMs: 10,
      }));
    const inputs = Array.from({ length: cycles + 1 }, (_, cycle) => outcomesFor(cycle));

    const opened = store.openStore(path.join(dir, 'store.db'));
    const bare = new Database(path.join(dir, 'bare.db'));
    try {
      bare.pragma('journal_mode = WAL');
      bare.pragma('synchronous = NORMAL');
      bare.exec(`CREATE TABLE history (id INTEGER PRIMARY KEY, ${HISTORY_COLUMNS}) STRICT;
        CREATE INDEX history_miner_ts ON history (miner_id, ts);
        CREATE INDEX history_site_ts ON history (site_id, ts);`);
      const insert =
        bare.prepare(`INSERT INTO history (run_id, miner_id, site_id, ts, hashrate_hs, temp_chip_max_c,
        temp_board_max_c, fan_min_rpm, boards_ok, boards_total, chips, chips_expected, power_w, accepted, rejected,
        error_kind, thermal_status) VALUES (@run_id, @miner_id, @site_id, @ts, @hashrate_hs, @temp_chip_max_c,
        @temp_board_max_c, @fan_min_rpm, @boards_ok, @boards_total, @chips, @chips_expected, @power_w, @accepted,
        @rejected, NULL, NULL)`);
      // The baseline gets its rows ready-made: only the inserts are timed.
      const bareRows = inputs.map((outcomes, cycle) =>
        outcomes.map((outcome, minerId) => {
          const metrics = outcome.ok ? store.compactMetrics(outcome.snapshot) : null;
          const { nominal_hs: _nominal, ...row } = metrics ?? {};
          return {
            run_id: cycle + 1,
            miner_id: minerId + 1,
            site_id: 1,
            ts: 1_700_000_000_000 + cycle * 60_000,
            ...row,
          };
        }),
      );
      const writeBare = bare.transaction((rows: (typeof bareRows)[number]) => {
        for (const row of rows) insert.run(row);
      });
      const writeStore = (cycle: number) => {
        const startedAt = 1_700_000_000_000 + cycle * 60_000;
        store.writeCycle(opened, {
          site: 'bench',
          startedAt,
          endedAt: startedAt + 5_000,
          outcomes: inputs[cycle]!,
        });
      };

      // Cycle 0 untimed on both sides: the store creates its inventory and live rows then.
      writeStore(0);
      writeBare(bareRows[0]!);
      const storeSamples: number[] = [];
      const bareSamples: number[] = [];
      for (let cycle = 1; cycle <= cycles; cycle++) {
        let started = performance.now();
        writeStore(cycle);
        storeSamples.push(performance.now() - started);
        started = performance.now();
        writeBare(bareRows[cycle]!);
        bareSamples.push(performance.now() - started);
      }
      const stored = opened.db.prepare('SELECT count(*) AS n FROM telemetry_history').get() as { n: number };
      if (stored.n !== (cycles + 1) * minerCount) {
        throw new Error(`store wrote ${stored.n} history rows, expected ${(cycles + 1) * minerCount}`);
      }
      return [
        compareSamples(
          {
            bench: 'store',
            subject: `writeCycle, ${minerCount} miners`,
            unit: 'ms/cycle',
            better: 'lower',
            notes: `${cycles} cycles; baseline inserts the same history rows only`,
          },
          storeSamples,
          { subject: 'bare better-sqlite3 insert loop', samples: bareSamples },
        ),
      ];
    } finally {
      opened.close();
      bare.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
